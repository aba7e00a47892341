// Spreadsheet keys for the forecast grid (table[data-grid]): arrows move between
// cells, as in a spreadsheet while typing (the cells hold short numbers, so the
// caret need not move inside them), Enter moves down, Tab keeps the browser's order (along
// the row). Leaving a changed cell fires "change", which htmx saves. No inline
// script: the CSP forbids it.
(function () {
  function cellInput(row, column) {
    const cell = row && row.children[column];
    return cell ? cell.querySelector("input[data-cell]") : null;
  }

  function neighbour(input, key) {
    const cell = input.closest("td");
    const row = cell.parentElement;
    const column = Array.prototype.indexOf.call(row.children, cell);
    switch (key) {
      case "ArrowUp":
        return cellInput(row.previousElementSibling, column);
      case "ArrowDown":
      case "Enter":
        return cellInput(row.nextElementSibling, column);
      case "ArrowLeft":
        return cellInput(row, column - 1);
      case "ArrowRight":
        return cellInput(row, column + 1);
      default:
        return null;
    }
  }

  // The grid comes in batches of rows: the last loaded row is followed by a row
  // (tr[data-more-rows]) whose link htmx follows when it is scrolled into view. Moving
  // down from the last loaded row asks for that batch at once and moves into it when
  // it has arrived (htmx drops a second request while the first is under way).
  let waiting = null;

  function loadBelow(input) {
    const cell = input.closest("td");
    const row = cell.parentElement;
    const next = row.nextElementSibling;
    if (!next || !next.matches("tr[data-more-rows]") || !window.htmx) return false;
    waiting = { input, row, column: Array.prototype.indexOf.call(row.children, cell) };
    window.htmx.trigger(next.querySelector("a[data-more]"), "more-rows");
    return true;
  }

  document.addEventListener("htmx:afterSettle", () => {
    if (!waiting) return;
    const { input, row, column } = waiting;
    const target = cellInput(row.nextElementSibling, column);
    if (!target) return;
    waiting = null;
    // Only if the person is still where they asked from (not clicked elsewhere meanwhile).
    if (document.activeElement === input) target.focus();
  });

  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches("table[data-grid] input[data-cell]")) return;
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const target = neighbour(input, event.key);
    if (event.key === "Enter") event.preventDefault();
    if (target) {
      event.preventDefault();
      target.focus();
    } else if ((event.key === "ArrowDown" || event.key === "Enter") && loadBelow(input)) {
      event.preventDefault();
    }
  });

  // A cell entered by keyboard or click has its number selected, ready to overwrite.
  document.addEventListener("focusin", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.matches("table[data-grid] input[data-cell]")) {
      input.select();
    }
  });
})();
