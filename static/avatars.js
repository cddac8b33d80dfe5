// A sender's avatar picture that fails to load (a 404, a dead host) is removed, uncovering the
// initials drawn beneath it (templates/people/_avatar.html). `error` does not bubble, so it is
// caught on the way down; that also covers pictures that htmx swaps in later.
document.addEventListener(
  "error",
  (event) => {
    const image = event.target;
    if (image instanceof HTMLImageElement && image.hasAttribute("data-avatar-image")) image.remove();
  },
  true,
);

// A picture that failed before this deferred script ran has no error event left to catch.
document.addEventListener("DOMContentLoaded", () => {
  for (const image of document.querySelectorAll("img[data-avatar-image]")) {
    if (image.complete && image.naturalWidth === 0) image.remove();
  }
});
