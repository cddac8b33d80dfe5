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
