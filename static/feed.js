// The Feed's live rows. Each poll reads again the ids of the interval before it, so that an event
// whose worker transaction committed late (out of id order) is not skipped; the rows of that
// interval already on the page are dropped here, before htmx swaps the answer in.
let arrived = 0;

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
  arrived = answer.content.querySelectorAll("li.event.is-fresh").length;
});

// The filters and the toggle swap the whole list, its poller and Older link with it. A request of
// theirs still on the way would answer for the list that is gone: htmx would put its rows in that
// list, off the page, and swap its next poller or Older link (out of band, with the old filters)
// over the new list's own, so the page would go on polling for what was no longer asked. Cancel
// them; the new list polls for itself.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "feed-body" || !event.detail.shouldSwap) return;
  for (const asker of target.querySelectorAll("#feed-poller, #feed-older")) {
    htmx.trigger(asker, "htmx:abort");
  }
});

// Rows that arrive by themselves are announced in the status region (aria-live="polite"), which
// a screen reader reads when it is idle; focus stays where the user left it.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  if (!target || target.id !== "feed-rows" || arrived === 0) return;
  const announcer = document.getElementById("feed-announcer");
  if (announcer) {
    const newest = target.querySelector("li.event.is-fresh");
    const who = spokenText(newest?.querySelector(".event-who"));
    const what = newest?.querySelector(".event-name")?.textContent.trim() ?? "";
    announcer.textContent =
      arrived === 1 ? `New event: ${who}, ${what}` : `${arrived} new events, newest: ${who}, ${what}`;
  }
  arrived = 0;
});

// No poll while the tab is hidden. Here rather than as an hx-trigger filter ("[!document.hidden]"):
// htmx evaluates filters as code, which the Content-Security-Policy forbids.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.id === "feed-poller" && document.hidden) event.preventDefault();
});

// The text a screen reader reads: without the parts hidden from it (an avatar's initials).
function spokenText(node) {
  if (!node) return "";
  const copy = node.cloneNode(true);
  for (const hidden of copy.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
  return copy.textContent.trim();
}
