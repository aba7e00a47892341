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

  function markAll(root) {
    root.querySelectorAll("input[data-forecast]").forEach((input) => {
      if (input.closest("table[data-commit-grid]")) mark(input);
    });
  }

  document.addEventListener("DOMContentLoaded", () => markAll(document));
  // Rows arrive in batches as the planner scrolls: mark those too.
  document.addEventListener("htmx:load", (event) => markAll(event.detail.elt));
})();
