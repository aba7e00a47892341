// Menus of the top bar (WAI-ARIA APG "disclosure navigation"): a button with
// aria-expanded shows or hides its list (aria-controls). The button's own click
// (Enter and Space included) toggles it; Escape closes it and gives the focus
// back to the button; a click outside, or the focus leaving it, closes it. The
// user menu (<details class="usermenu">) closes the same ways. Listeners sit on
// the document, so a page swapped in by htmx needs nothing of its own.
document.documentElement.classList.remove("no-js");

function setMenuOpen(button, open) {
  button.setAttribute("aria-expanded", String(open));
  document.getElementById(button.getAttribute("aria-controls")).hidden = !open;
}

function closeMenus(except) {
  for (const button of document.querySelectorAll("[data-menu][aria-expanded=true]")) {
    if (!except || !button.parentElement.contains(except)) setMenuOpen(button, false);
  }
  for (const details of document.querySelectorAll("details.usermenu[open]")) {
    if (!except || !details.contains(except)) details.open = false;
  }
}

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  closeMenus(target);
  const button = target && target.closest("[data-menu]");
  if (button) setMenuOpen(button, button.getAttribute("aria-expanded") !== "true");
});

// Escape closes the innermost open menu around the focus (a group inside the phone's
// folded navigation first, the navigation itself at the next Escape) and gives the
// focus to its button; with the focus in none, it closes them all.
const MENUS = ".navgroup, details.usermenu, .mainnav";

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const target = event.target instanceof Element ? event.target : null;
  for (let menu = target && target.closest(MENUS); menu; menu = menu.parentElement?.closest(MENUS)) {
    const button = menu.querySelector(":scope > [data-menu], :scope > summary");
    if (!button) continue;
    if (menu.open) {
      menu.open = false;
    } else if (button.getAttribute("aria-expanded") === "true") {
      setMenuOpen(button, false);
    } else {
      continue;
    }
    event.preventDefault();
    button.focus();
    return;
  }
  closeMenus(null);
});

document.addEventListener("focusout", (event) => {
  const group = event.target instanceof Element && event.target.closest(".navgroup, details.usermenu");
  // relatedTarget is null when the focus leaves for nothing (a click on the page),
  // which the click above handles; a Tab past the last link closes the menu.
  if (group && event.relatedTarget && !group.contains(event.relatedTarget)) {
    closeMenus(event.relatedTarget);
  }
});

// Comboboxes (WAI-ARIA APG "list autocomplete"): an input with role=combobox
// whose listbox htmx fills with suggestions. Arrows move the active option
// (aria-activedescendant, so focus stays in the input), Enter or a click takes
// it, Escape or leaving the field closes the list.
function comboList(input) {
  return document.getElementById(input.getAttribute("aria-controls"));
}

function setComboOpen(input, open) {
  const list = comboList(input);
  const show = open && list.querySelector("[role=option]") !== null;
  list.hidden = !show;
  input.setAttribute("aria-expanded", String(show));
  if (!show) setActiveOption(input, null);
}

function setActiveOption(input, option) {
  for (const other of comboList(input).querySelectorAll("[role=option]")) {
    other.setAttribute("aria-selected", String(other === option));
  }
  if (option) {
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

function takeOption(input, option) {
  input.value = option.dataset.value;
  setComboOpen(input, false);
  // The row recalculates its line total from the chosen SKU.
  input.dispatchEvent(new Event("change", { bubbles: true }));
  input.dispatchEvent(new CustomEvent("combobox-take", { bubbles: true }));
}

document.addEventListener("htmx:afterSwap", (event) => {
  const list = event.detail.target;
  if (list.getAttribute("role") !== "listbox") return;
  const input = document.querySelector(`[aria-controls="${list.id}"]`);
  list.querySelectorAll("[role=option]").forEach((option, n) => {
    option.id = `${list.id}-${n}`;
  });
  setComboOpen(input, document.activeElement === input);
});

document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.getAttribute("role") !== "combobox") return;
  const list = comboList(input);
  const options = Array.from(list.querySelectorAll("[role=option]"));
  const active = list.querySelector("[aria-selected=true]");
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (!options.length) return;
    event.preventDefault();
    setComboOpen(input, true);
    const step = event.key === "ArrowDown" ? 1 : -1;
    const next = active ? options.indexOf(active) + step : step > 0 ? 0 : options.length - 1;
    setActiveOption(input, options[(next + options.length) % options.length]);
  } else if (event.key === "Escape" && !list.hidden) {
    event.preventDefault();
    setComboOpen(input, false);
  } else if (event.key === "Enter" && active && !list.hidden) {
    // Take the option; the pad's Enter handler below then moves on.
    takeOption(input, active);
  }
});

document.addEventListener("mousedown", (event) => {
  const option = event.target instanceof Element && event.target.closest("[role=option]");
  if (!option) return;
  event.preventDefault(); // keep focus in the input
  const input = document.querySelector(`[aria-controls="${option.parentElement.id}"]`);
  takeOption(input, option);
});

document.addEventListener("focusout", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.getAttribute("role") === "combobox") {
    setComboOpen(input, false);
  }
});

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

// "Add a product" fields (data-append-to="<id of a list field>"): a chosen
// suggestion, or a SKU typed and confirmed with Enter, is added to the list
// field (one per line, once) and the field is cleared for the next one. Enter
// here never sends the form; leaving the field adds nothing half-typed.
function appendToList(input) {
  const list = document.getElementById(input.dataset.appendTo);
  const value = input.value.trim();
  if (!list || !value) return;
  const lines = list.value.split(/[\n,]/).map((line) => line.trim()).filter(Boolean);
  if (!lines.includes(value)) list.value = [...lines, value].join("\n");
  input.value = "";
}

document.addEventListener("combobox-take", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.dataset.appendTo) {
    appendToList(event.target);
  }
});

document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (event.key !== "Enter" || !(input instanceof HTMLInputElement) || !input.dataset.appendTo) {
    return;
  }
  event.preventDefault();
  appendToList(input); // an option taken above has already emptied the field
});
