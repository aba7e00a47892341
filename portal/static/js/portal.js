// Keyboard help for the quick order pad: Enter moves to the next field instead
// of submitting, so a buyer types SKU, Enter, quantity, Enter, next SKU...
// On the last field Enter submits. No inline script: the CSP forbids it.
document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (event.key !== "Enter" || !(input instanceof HTMLInputElement)) return;
  const pad = input.closest("[data-enter-moves-on]");
  if (!pad) return;
  const fields = Array.from(pad.querySelectorAll("input:not([type=hidden])"));
  const next = fields[fields.indexOf(input) + 1];
  if (next) {
    event.preventDefault();
    // Let htmx see the change of this field (row totals) before focus moves on.
    input.dispatchEvent(new Event("change", { bubbles: true }));
    next.focus();
    next.select();
  }
});

// Buttons that print the page (order confirmations); the print stylesheet
// leaves out navigation, buttons and forms.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});
