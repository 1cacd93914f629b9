// The share dialog (views/shares.templ). Any element can open it:
//
//   <button hx-get="/share/dialog?file=<id>" hx-target="body" hx-swap="beforeend">Share</button>
//
// (or folder=<id>, or several file=). htmx appends the <dialog> to <body>;
// this module opens it as a modal, keeps Tab inside it, closes it on Escape,
// the close buttons and a click on the backdrop, removes it when closed and
// gives focus back to what opened it. Its forms swap #share-dialog-body.

const SELECTOR = "dialog[data-share-dialog]";
let opener = null;

// Remember what asked for the dialog, so focus can return there.
document.addEventListener("htmx:beforeRequest", (e) => {
  const path = e.detail.requestConfig?.path || "";
  if (path.startsWith("/share/dialog") && !e.detail.elt.closest(SELECTOR)) opener = e.detail.elt;
});

document.addEventListener("htmx:afterSwap", (e) => {
  const dialogs = document.querySelectorAll(SELECTOR);
  if (dialogs.length === 0) return;
  const dialog = dialogs[dialogs.length - 1];
  for (const d of dialogs) if (d !== dialog) d.remove(); // a double click
  if (!dialog.open) {
    dialog.returnFocus = opener;
    opener = null;
    dialog.showModal();
  }
  // Each answer brings a new body; other swaps on the page leave it be.
  const body = dialog.querySelector("#share-dialog-body:not([data-ready])");
  if (!body) return;
  body.dataset.ready = "1";
  localTimes(dialog);
  const focus = dialog.querySelector("[aria-invalid=true], [data-share-focus], [autofocus]") ||
    dialog.querySelector("input:not([type=hidden]):not([readonly]), textarea, button:not([data-share-close])");
  focus?.focus();
});

// Errors other than a form's (404, 503) go to the toast area, which a modal
// dialog covers: show them inside the dialog instead.
document.addEventListener("htmx:beforeSwap", (e) => {
  const dialog = document.querySelector(SELECTOR + "[open]");
  if (!dialog || e.detail.xhr.status < 400 || e.detail.xhr.status === 422) return;
  const alerts = dialog.querySelector("#share-dialog-alerts");
  if (alerts) e.detail.target = alerts;
});

document.addEventListener("click", (e) => {
  const dialog = e.target.closest(SELECTOR);
  if (!dialog) return;
  if (e.target.closest("[data-share-close]") || e.target === dialog) dialog.close();
  // Copying the link: say so where a screen reader and the eye both find it.
  if (e.target.closest("[data-copy]")) {
    const status = dialog.querySelector("#share-copied");
    if (status) {
      status.textContent = "Link copied to the clipboard.";
      clearTimeout(status.timer);
      status.timer = setTimeout(() => (status.textContent = ""), 4000);
    }
  }
});

// An opened "Revoke link…" disclosure scrolls into view in the dialog.
document.addEventListener(
  "toggle",
  (e) => {
    if (e.target.open && e.target.matches?.(SELECTOR + " details")) e.target.scrollIntoView({ block: "nearest" });
  },
  true,
);

// "close" follows Escape (the dialog's cancel), the buttons and the backdrop.
document.addEventListener(
  "close",
  (e) => {
    const dialog = e.target;
    if (!dialog.matches?.(SELECTOR)) return;
    const back = dialog.returnFocus;
    dialog.remove();
    if (back && back.isConnected) back.focus();
  },
  true,
);

// Keep Tab inside the open dialog: from the last control to the first and
// back. (A modal dialog makes the page inert, but Tab could still leave
// for the browser's own controls.)
document.addEventListener("keydown", (e) => {
  if (e.key !== "Tab") return;
  const dialog = document.querySelector(SELECTOR + "[open]");
  if (!dialog) return;
  const items = [...dialog.querySelectorAll("a[href], button, input, textarea, select, summary, [tabindex]:not([tabindex='-1'])")].filter(
    (el) => !el.disabled && el.type !== "hidden" && el.getClientRects().length > 0,
  );
  if (items.length === 0) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
    e.preventDefault();
    first.focus();
  }
});

// Expiry fields carry UTC; show them in the reader's zone, and send the
// instant (RFC 3339) alongside what the reader typed.
function pad(n) {
  return String(n).padStart(2, "0");
}
function localTimes(root) {
  for (const input of root.querySelectorAll("input[data-utc-local]")) {
    if (!input.dataset.localized && input.value) {
      const d = new Date(input.value + ":00Z");
      if (!Number.isNaN(d.getTime())) {
        input.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      }
    }
    input.dataset.localized = "1";
    syncUTC(input);
    const hint = input.parentElement.querySelector("[data-utc-hint]");
    if (hint) hint.textContent = "Empty: never. Your time zone: " + Intl.DateTimeFormat().resolvedOptions().timeZone + ".";
  }
}
function syncUTC(input) {
  const hidden = input.form?.querySelector("input[name=expires_utc]");
  if (!hidden) return;
  const d = input.value ? new Date(input.value) : null;
  hidden.value = d && !Number.isNaN(d.getTime()) ? d.toISOString() : "";
}
document.addEventListener("input", (e) => {
  if (e.target.matches?.("input[data-utc-local]")) syncUTC(e.target);
});
