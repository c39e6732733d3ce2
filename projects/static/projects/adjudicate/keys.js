// Keyboard adjudication: move through the open candidates and decide each without the mouse.
// The page works without this module (every decision is a plain form); this only adds keys.
// The key table is data: the help dialog is generated from it, so the two cannot disagree.

const KEYS = [
  { key: "j", alt: "ArrowDown", description: "Next open candidate", action: "next" },
  { key: "k", alt: "ArrowUp", description: "Previous open candidate", action: "previous" },
  { key: "a", description: "Accept the current candidate", action: "accept" },
  { key: "r", description: "Reject the current candidate", action: "reject" },
  { key: "e", description: "Edit the current candidate, then accept it", action: "edit" },
  { key: "u", description: "Undo the last decision", action: "undo" },
  { key: "m", description: "Run the merge (before the gold has begun)", action: "merge" },
  { key: "?", description: "Show or hide these keys", action: "help" },
];

const STORE = `adjudicate:${location.pathname}`;
const rows = () => [...document.querySelectorAll("tr.candidate")];

function current() {
  const all = rows();
  if (!all.length) return null;
  const index = Math.min(Number(sessionStorage.getItem(STORE) || 0), all.length - 1);
  return { all, index, row: all[index] };
}

function focusRow(index) {
  const all = rows();
  if (!all.length) return;
  const clamped = Math.max(0, Math.min(index, all.length - 1));
  sessionStorage.setItem(STORE, String(clamped));
  for (const row of all) row.classList.remove("current");
  const row = all[clamped];
  row.classList.add("current");
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
  announce(`${clamped + 1} of ${all.length}: ${row.dataset.label}, ${row.dataset.text}`);
}

function announce(text) {
  const live = document.getElementById("adjudicate-live");
  if (live) live.textContent = text;
}

function submit(form) {
  if (form) form.requestSubmit();
}

function helpDialog() {
  let dialog = document.getElementById("adjudicate-help");
  if (dialog) return dialog;
  dialog = document.createElement("dialog");
  dialog.id = "adjudicate-help";
  dialog.className = "help-dialog";
  dialog.setAttribute("aria-labelledby", "adjudicate-help-h");
  const heading = document.createElement("h2");
  heading.id = "adjudicate-help-h";
  heading.textContent = "Adjudication keys";
  const list = document.createElement("dl");
  for (const entry of KEYS) {
    const term = document.createElement("dt");
    for (const name of [entry.key, entry.alt].filter(Boolean)) {
      const kbd = document.createElement("kbd");
      kbd.textContent = name;
      term.append(kbd, " ");
    }
    const detail = document.createElement("dd");
    detail.textContent = entry.description;
    list.append(term, detail);
  }
  const close = document.createElement("button");
  close.type = "button";
  close.className = "button small";
  close.textContent = "Close";
  close.addEventListener("click", () => dialog.close());
  dialog.append(heading, list, close);
  document.body.append(dialog);
  return dialog;
}

const ACTIONS = {
  next: () => { const c = current(); if (c) focusRow(c.index + 1); },
  previous: () => { const c = current(); if (c) focusRow(c.index - 1); },
  accept: () => { const c = current(); if (c) submit(c.row.querySelector("form[data-decision=accept]")); },
  reject: () => { const c = current(); if (c) submit(c.row.querySelector("form[data-decision=reject]")); },
  edit: () => {
    const c = current();
    if (!c) return;
    const details = c.row.querySelector("details.edit-candidate");
    details.open = true;
    details.querySelector("input:not([type=hidden]), select").focus();
  },
  undo: () => submit(document.getElementById("undo-last")),
  merge: () => submit(document.getElementById("merge-form")),
  help: () => { const d = helpDialog(); if (d.open) d.close(); else d.showModal(); },
};

function typing(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const entry = KEYS.find((k) => k.key === event.key || k.alt === event.key);
  if (!entry) return;
  event.preventDefault();
  ACTIONS[entry.action]();
});

for (const [index, row] of rows().entries()) {
  row.addEventListener("click", (event) => {
    if (!(event.target instanceof HTMLElement) || !event.target.closest("button, summary, input, select")) {
      focusRow(index);
    }
  });
}
if (rows().length) focusRow(current().index);
