// Status messages (WCAG 4.1.3). When htmx swaps new results into a region, the fragment says what
// it holds in a hidden [data-status]; its text goes into the page's polite live region for that
// region (role="status", data-announces="<target id>"), which a screen reader reads when idle.
// The region stays in the page across swaps, so the change is announced; focus is not moved.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target || !target.id) return;
  const region = document.querySelector(`[role="status"][data-announces="${target.id}"]`);
  const status = target.querySelector("[data-status]");
  if (region && status) region.textContent = status.dataset.status;
});

// A swap that removed the focused element (a pager link with no counterpart on the new page)
// would drop focus to the top of the document; keep the keyboard user in the region instead.
let focusWasInside = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  focusWasInside = target && target.contains(document.activeElement) ? target.id : null;
});
document.addEventListener("htmx:afterSwap", () => {
  const lost = !document.activeElement || document.activeElement === document.body;
  const region = focusWasInside && document.getElementById(focusWasInside);
  focusWasInside = null;
  if (!lost || !region) return;
  if (!region.hasAttribute("tabindex")) region.setAttribute("tabindex", "-1");
  region.focus({ preventScroll: true });
});
