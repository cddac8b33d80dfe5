// The Read API docs page: Swagger UI draws a few controls that no one can name or reach by
// keyboard (a parameter's value menu, a long response's scrolling box). Name and reach them as
// they appear. A file, not inline code: the Content-Security-Policy runs only files from here.
function mendSwagger(root) {
  root.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach((select) => {
    select.setAttribute("aria-label", select.closest("tr").dataset.paramName);
  });
  root.querySelectorAll(".highlight-code > pre:not([tabindex])").forEach((block) => {
    block.setAttribute("tabindex", "0");
  });
}

new MutationObserver(() => mendSwagger(document)).observe(document.body, {
  childList: true,
  subtree: true,
});
