// The Sources page: copy the token shown once, and confirm before rotating or revoking. In a file
// of its own rather than onclick/onsubmit attributes: the Content-Security-Policy runs only
// scripts served from this origin.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyTarget);
  navigator.clipboard.writeText(source.textContent).then(() => {
    button.textContent = "Copied";
  });
});

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
