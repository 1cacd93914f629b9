// Page behaviour that htmx does not cover, kept out of the markup because the
// Content-Security-Policy forbids inline script.

// Toasts: dismiss on click, and let success/info toasts fade after a while.
function wireToasts(root) {
  for (const toast of root.querySelectorAll("[data-toast]:not([data-wired])")) {
    toast.dataset.wired = "1";
    if (toast.getAttribute("role") !== "alert") {
      setTimeout(() => toast.remove(), 6000);
    }
  }
}

document.addEventListener("click", (e) => {
  const btn = e.target.closest("[data-dismiss]");
  if (btn) btn.closest("[data-toast]")?.remove();
});

// Close an open mobile menu with Escape, returning focus to its toggle.
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  const open = document.querySelector("details[open]");
  if (open) {
    open.removeAttribute("open");
    open.querySelector("summary")?.focus();
  }
});

wireToasts(document);
document.addEventListener("htmx:afterSettle", (e) => wireToasts(e.target.ownerDocument || document));
// A network failure gets a toast instead of a silent no-op.
document.addEventListener("htmx:sendError", () => {
  const flash = document.getElementById("flash");
  if (!flash) return;
  const div = document.createElement("div");
  div.setAttribute("role", "alert");
  div.dataset.toast = "";
  div.className = "pointer-events-auto w-full max-w-md rounded-xl bg-red-50 px-4 py-3 text-sm text-red-900 shadow-lg ring-1 ring-red-200 dark:bg-red-950 dark:text-red-100 dark:ring-red-900";
  div.textContent = "Could not reach the server. Check your connection and try again.";
  flash.append(div);
  setTimeout(() => div.remove(), 8000);
});

// Copy buttons: data-copy names the element whose text to copy.
document.addEventListener("click", async (e) => {
  const btn = e.target.closest("[data-copy]");
  if (!btn) return;
  const source = document.querySelector(btn.dataset.copy);
  if (!source) return;
  const text = source.value ?? source.textContent;
  try {
    await navigator.clipboard.writeText(text.trim());
  } catch {
    // No clipboard API (plain http off localhost): select the text instead.
    const range = document.createRange();
    range.selectNodeContents(source);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    return;
  }
  const label = btn.textContent;
  btn.textContent = "Copied";
  btn.setAttribute("aria-live", "polite");
  setTimeout(() => (btn.textContent = label), 2000);
});
