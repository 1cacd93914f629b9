// The file browser's behaviour around htmx: dialogs, row menus, selection
// and the bulk bar, and dates in the reader's time zone. Everything is
// wired by event delegation on the document, because htmx replaces the
// page's middle (#browser) when the user opens a folder.

// ---- Dialogs -------------------------------------------------------------
// #modal and #drawer are native <dialog>s. htmx swaps a form or panel into
// their body; we open the dialog once htmx has settled it (its hx-post is
// wired then, so a quick Enter cannot submit the form natively). Escape
// closes natively; focus goes back to the control that opened it.

const openers = new WeakMap(); // dialog → the control that opened it
let opener = null; // the control whose request will open a dialog

document.addEventListener("htmx:beforeRequest", (e) => {
  const dialog = e.detail.target?.closest?.("dialog");
  if (dialog && !dialog.open) opener = e.detail.elt;
});

document.addEventListener("htmx:afterSettle", (e) => {
  const dialog = e.detail.target?.closest?.("dialog");
  if (!dialog || !dialog.contains(e.target)) return;
  if (!dialog.open) {
    closeMenus();
    openers.set(dialog, opener);
    dialog.showModal();
  }
  focusFirst(dialog);
});

function focusFirst(dialog) {
  const field = dialog.querySelector("[autofocus], input:not([type=hidden]), button[type=submit]");
  if (!field) return;
  field.focus();
  // Renaming a file: select the name without its extension, as file managers do.
  if (field.matches("input[type=text]") && dialog.querySelector("[data-rename=file]")) {
    const dot = field.value.lastIndexOf(".");
    field.setSelectionRange(0, dot > 0 ? dot : field.value.length);
  }
}

function closeDialogs() {
  for (const d of document.querySelectorAll("dialog[open]")) d.close();
}

// A successful change answers with HX-Trigger: close-dialog.
document.addEventListener("close-dialog", closeDialogs);

document.addEventListener("click", (e) => {
  if (e.target.closest("[data-close-dialog]")) {
    e.target.closest("dialog")?.close();
    return;
  }
  // A click on the backdrop (the dialog element itself, outside its box) closes it.
  if (e.target instanceof HTMLDialogElement && e.target.open) {
    const r = e.target.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) e.target.close();
  }
});

// "close" fires for Escape, buttons and close-dialog alike: focus goes
// back to the opener. The event is queued, so the dialog may already be
// open again with new content by the time it arrives; then it is stale.
document.addEventListener("close", (e) => {
  const dialog = e.target;
  if (!(dialog instanceof HTMLDialogElement) || dialog.open) return;
  const back = openers.get(dialog);
  if (back?.isConnected) back.focus();
}, true);

// A new confirmation replaces the previous one instead of stacking over
// the page (each still fades on its own; see app.js).
document.addEventListener("htmx:afterSwap", (e) => {
  if (e.detail.target?.id !== "flash") return;
  const toasts = [...e.detail.target.querySelectorAll("[data-action-toast]")];
  for (const t of toasts.slice(0, -1)) t.remove();
});

// ---- Row menus -----------------------------------------------------------
// <details data-menu>: one open at a time, closed by an outside click, by
// choosing an item, or by Escape (app.js). Near the bottom of the window a
// menu opens upwards.

function closeMenus(except) {
  for (const m of document.querySelectorAll("details[data-menu][open]")) {
    if (m !== except) m.removeAttribute("open");
  }
}

document.addEventListener("toggle", (e) => {
  const menu = e.target;
  if (!(menu instanceof HTMLDetailsElement) || !menu.matches("[data-menu]") || !menu.open) return;
  closeMenus(menu);
  const list = menu.querySelector(".menu");
  if (!list) return;
  list.classList.remove("menu-up");
  if (list.getBoundingClientRect().bottom > window.innerHeight - 8) list.classList.add("menu-up");
}, true);

document.addEventListener("click", (e) => {
  const menu = e.target.closest("details[data-menu]");
  if (!menu) {
    closeMenus();
  } else if (e.target.closest(".menu-item")) {
    menu.removeAttribute("open");
  }
});

// ---- Selection and the bulk bar -----------------------------------------

function listing() {
  return document.getElementById("listing");
}

function boxes(root = listing()) {
  return root ? [...root.querySelectorAll("input[data-select]")] : [];
}

// updateBulkBar shows how many entries are selected, and the bulk bar
// instead of the column header while any are.
function updateBulkBar() {
  const root = listing();
  if (!root) return;
  const all = boxes(root);
  const n = all.filter((b) => b.checked).length;
  const bar = root.querySelector("[data-bulkbar]");
  if (bar) bar.hidden = n === 0;
  const count = root.querySelector("[data-selcount]");
  if (count) count.textContent = `${n} selected`;
  const head = root.querySelector("[data-select-all]");
  if (head) {
    head.checked = n > 0 && n === all.length;
    head.indeterminate = n > 0 && n < all.length;
  }
}

function setAll(checked) {
  for (const b of boxes()) b.checked = checked;
  updateBulkBar();
}

document.addEventListener("change", (e) => {
  if (e.target.matches("[data-select-all]")) setAll(e.target.checked);
  else if (e.target.matches("input[data-select]")) updateBulkBar();
});

document.addEventListener("click", (e) => {
  if (e.target.closest("[data-select-none]")) setAll(false);
});

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !document.querySelector("dialog[open]") && boxes().some((b) => b.checked)) setAll(false);
});

// The listing refreshes itself after every change (uploads included); keep
// what was selected selected, as long as those entries are still there.
let kept = null;
document.addEventListener("htmx:beforeSwap", (e) => {
  if (e.detail.target?.id === "listing") kept = new Set(boxes().filter((b) => b.checked).map((b) => b.value));
});
document.addEventListener("htmx:afterSettle", () => {
  if (kept?.size) {
    for (const b of boxes()) if (kept.has(b.value)) b.checked = true;
  }
  kept = null;
  updateBulkBar();
  localDates(document);
});

// ---- Dates ---------------------------------------------------------------
// The server writes dates in UTC; show them in the reader's zone and
// language: a time for today, a day for this year, a full date otherwise.

const dayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const longFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeStyle: "short" });

function localDates(root) {
  const now = new Date();
  for (const el of root.querySelectorAll("time[data-local-date]:not([data-localized])")) {
    const d = new Date(el.dateTime);
    if (Number.isNaN(d.getTime())) continue;
    const today = d.toDateString() === now.toDateString();
    el.textContent = today ? timeFormat.format(d) : d.getFullYear() === now.getFullYear() ? dayFormat.format(d) : fullFormat.format(d);
    el.title = longFormat.format(d);
    el.dataset.localized = "";
  }
  for (const el of root.querySelectorAll("time[data-local-time]:not([data-localized])")) {
    const d = new Date(el.dateTime);
    if (Number.isNaN(d.getTime())) continue;
    el.textContent = longFormat.format(d);
    el.dataset.localized = "";
  }
}

localDates(document);
updateBulkBar();
