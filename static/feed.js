// The Feed's live rows. Each poll reads again the ids of the interval before it, so that an event
// whose worker transaction committed late (out of id order) is not skipped; the rows of that
// interval already on the page are dropped here, before htmx swaps the answer in.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "feed-rows" || !event.detail.shouldSwap) return;
  const answer = document.createElement("template");
  answer.innerHTML = event.detail.serverResponse;
  let dropped = false;
  answer.content.querySelectorAll("li.event[id]").forEach((row) => {
    if (document.getElementById(row.id)) {
      row.remove();
      dropped = true;
    }
  });
  if (dropped) event.detail.serverResponse = answer.innerHTML;
});

// No poll while the tab is hidden. Here rather than as an hx-trigger filter ("[!document.hidden]"):
// htmx evaluates filters as code, which the Content-Security-Policy forbids.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.id === "feed-poller" && document.hidden) event.preventDefault();
});
