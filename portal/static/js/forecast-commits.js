// The commit grid (table[data-commit-grid]): while the planner types, a cell whose
// quantity is below its forecast is marked at once, and so is its row's reason,
// which the server then asks for. The server decides; this only shows it early.
// No inline script: the CSP forbids it.
(function () {
  function mark(input) {
    const typed = input.value.trim();
    const below = /^\d+$/.test(typed) && Number(typed) < Number(input.dataset.forecast);
    input.closest("td").classList.toggle("is-below", below);
    const row = input.closest("tr");
    const anyBelow = row.querySelector("td.is-below") !== null;
    row.classList.toggle("needs-reason", anyBelow);
  }

  document.addEventListener("input", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.matches("table[data-commit-grid] input[data-forecast]")) {
      mark(input);
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("table[data-commit-grid] input[data-forecast]").forEach(mark);
  });
})();
