// The People page's filter builder (templates/people/person_list.html): adding and removing
// conditions and groups, and showing only the inputs and operators a field takes. The server
// reads the form (segments/builder.py) and answers with the filter's URL; this only arranges the
// form. Every control is a native one, so the keyboard works as anywhere: Tab between them,
// Enter applies. Without this script the form still works one condition at a time.
(() => {
  const form = () => document.getElementById("people-filters");
  const conditions = () => document.getElementById("builder-conditions");

  function fromTemplate(id) {
    const template = document.getElementById(id);
    return template.content.firstElementChild.cloneNode(true);
  }

  // The field a row filters on decides which operators, key and value it shows.
  function arrange(row) {
    const field = row.querySelector(".row-field").value;
    row.dataset.field = field;
    const operator = row.querySelector(".row-operator");
    for (const option of operator.options) {
      if (!option.value) continue;
      option.hidden = field !== "" && !option.dataset.fields.split(" ").includes(field);
    }
    if (operator.selectedOptions[0] && operator.selectedOptions[0].hidden) operator.value = "";
    if (field === "no_event") operator.value = "";
    row.dataset.operator = operator.value;
    const key = row.querySelector(".row-key");
    const lists = { group_trait: "group-keys", audience: "audience-names", event: "event-names", no_event: "event-names" };
    key.setAttribute("list", lists[field] || "trait-keys");
    key.placeholder = field === "event" || field === "no_event" ? "Event name" : "Key, e.g. plan";
    const value = row.querySelector(".row-value");
    if (field === "segment") value.setAttribute("list", "segment-ids");
    else value.removeAttribute("list");
    value.placeholder = field === "segment" ? "Segment id" : field === "event" ? "Times" : "Value";
  }

  // Groups are numbered in the order they appear: each row says its group (0: the top level).
  function renumber() {
    const groups = conditions().querySelectorAll(".builder-group");
    groups.forEach((group, index) => {
      group.dataset.group = String(index + 1);
      for (const input of group.querySelectorAll(".row-group")) input.value = String(index + 1);
    });
    for (const row of conditions().children) {
      if (row.classList.contains("builder-row")) row.querySelector(".row-group").value = "0";
    }
  }

  function addRow(container) {
    const row = fromTemplate("builder-row-template");
    container.appendChild(row);
    arrange(row);
    renumber();
    row.querySelector(".row-field").focus();
  }

  function apply() {
    const f = form();
    if (f) f.requestSubmit(document.getElementById("builder-apply"));
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target || !target.closest("#people-filters")) return;
    if (target.id === "builder-add") {
      addRow(conditions());
    } else if (target.id === "builder-add-group") {
      const group = fromTemplate("builder-group-template");
      conditions().appendChild(group);
      group.querySelectorAll(".builder-row").forEach(arrange);
      renumber();
      group.querySelector(".row-field").focus();
    } else if (target.classList.contains("group-add")) {
      addRow(target.closest(".builder-group").querySelector(".group-conditions"));
    } else if (target.classList.contains("row-remove") || target.classList.contains("group-remove")) {
      const group = target.closest(".builder-group");
      const gone = target.classList.contains("group-remove") ? group : target.closest(".builder-row");
      const filled = gone.querySelector(".row-field") && [...gone.querySelectorAll(".row-field")].some((s) => s.value);
      gone.remove();
      if (group && group.isConnected && !group.querySelector(".builder-row")) group.remove();
      renumber();
      document.getElementById("builder-add").focus();
      if (filled) apply();
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches(".row-field, .row-operator")) arrange(target.closest(".builder-row"));
    else if (target.matches("#builder-op, .group-op")) apply();
  });

  // Enter in the search box or a menu already sends the form (its `search` and `change`
  // triggers); the implicit submit that follows, now that the form has an Apply button, would
  // send it a second time.
  document.addEventListener(
    "submit",
    (event) => {
      const active = document.activeElement;
      if (event.target.id !== "people-filters" || !active) return;
      if (active.matches("#people-search, .filter-control")) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true,
  );

  function setUp() {
    if (!conditions()) return;
    conditions().querySelectorAll(".builder-row").forEach(arrange);
    renumber();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
