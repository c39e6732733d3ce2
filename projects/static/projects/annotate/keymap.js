// Every key of the workspace, as data: the help overlay is generated from this table, and
// main.js dispatches through it. A row is
//
//   {keys, show, group, help, action, arg?, in, mode?, needs?, edits?}
//
// - keys: combos as ``comboOf`` spells an event ("ArrowRight", "Shift+ArrowRight", "Ctrl+z",
//   "1", "{"); printable keys carry no "Shift+" (it is in the character already);
// - in: where the focus must be: "text" (the article, or nothing focused), "page" (anywhere
//   but a text field or dialog), "field" (a text field), "choice" (a value group of the card);
// - mode: "link" rows apply only while picking a relation's target, and then only they do;
// - needs: "span" (a span is selected), "relation", "selection" (text is selected);
// - edits: the row changes the annotation, so a read-only view refuses it with a message.

const TEXT = ["text"];
const PAGE = ["text", "page"];
const EVERYWHERE = ["text", "page", "field", "choice"];

export const BUILTIN = [
  // --- moving and selecting in the text
  { group: "Select text", keys: ["ArrowRight"], show: "→", help: "Next word", action: "cursor.next", in: TEXT },
  { group: "Select text", keys: ["ArrowLeft"], show: "←", help: "Previous word", action: "cursor.prev", in: TEXT },
  { group: "Select text", keys: ["ArrowDown"], show: "↓", help: "Next line", action: "cursor.down", in: TEXT },
  { group: "Select text", keys: ["ArrowUp"], show: "↑", help: "Previous line", action: "cursor.up", in: TEXT },
  { group: "Select text", keys: ["Ctrl+ArrowDown"], show: "Ctrl+↓", help: "Next paragraph", action: "cursor.paragraph", arg: 1, in: TEXT },
  { group: "Select text", keys: ["Ctrl+ArrowUp"], show: "Ctrl+↑", help: "Previous paragraph", action: "cursor.paragraph", arg: -1, in: TEXT },
  { group: "Select text", keys: ["Ctrl+Home"], show: "Ctrl+Home", help: "First word of the text", action: "cursor.edge", arg: -1, in: TEXT },
  { group: "Select text", keys: ["Ctrl+End"], show: "Ctrl+End", help: "Last word of the text", action: "cursor.edge", arg: 1, in: TEXT },
  { group: "Select text", keys: ["Shift+ArrowRight"], show: "Shift+→", help: "Extend the selection by a word", action: "extend.word", arg: 1, in: TEXT },
  { group: "Select text", keys: ["Shift+ArrowLeft"], show: "Shift+←", help: "Shrink or extend the selection back by a word", action: "extend.word", arg: -1, in: TEXT },
  { group: "Select text", keys: ["Shift+ArrowDown"], show: "Shift+↓", help: "Extend the selection by a line", action: "extend.line", arg: 1, in: TEXT },
  { group: "Select text", keys: ["Shift+ArrowUp"], show: "Shift+↑", help: "Extend the selection back by a line", action: "extend.line", arg: -1, in: TEXT },
  { group: "Select text", keys: ["Alt+Shift+ArrowRight"], show: "Alt+Shift+→", help: "Extend by one character (exact, no snapping)", action: "extend.char", arg: 1, in: TEXT },
  { group: "Select text", keys: ["Alt+Shift+ArrowLeft"], show: "Alt+Shift+←", help: "Shrink by one character (exact)", action: "extend.char", arg: -1, in: TEXT },
  // --- spans
  { group: "Spans", keys: ["Tab"], show: "Tab", help: "Select the next span (after the last, Tab leaves the text)", action: "span.next", arg: 1, in: TEXT },
  { group: "Spans", keys: ["Shift+Tab"], show: "Shift+Tab", help: "Select the previous span", action: "span.next", arg: -1, in: TEXT },
  { group: "Spans", keys: ["Delete", "Backspace"], show: "Delete", help: "Delete the selected span (or the selected relation)", action: "delete", in: PAGE, needs: "span", edits: true },
  { group: "Spans", keys: ["["], show: "[", help: "Move the span's start a word earlier", action: "bound", arg: ["start", -1], in: TEXT, needs: "span", edits: true },
  { group: "Spans", keys: ["{"], show: "Shift+[", help: "Move the span's start a word later", action: "bound", arg: ["start", 1], in: TEXT, needs: "span", edits: true },
  { group: "Spans", keys: ["]"], show: "]", help: "Move the span's end a word later", action: "bound", arg: ["end", 1], in: TEXT, needs: "span", edits: true },
  { group: "Spans", keys: ["}"], show: "Shift+]", help: "Move the span's end a word earlier", action: "bound", arg: ["end", -1], in: TEXT, needs: "span", edits: true },
  // --- relations
  { group: "Relations", keys: ["r"], show: "r", help: "Select the selected span's next relation (Delete removes it)", action: "relation.next", arg: 1, in: TEXT, needs: "span" },
  { group: "Relations", keys: ["R"], show: "Shift+R", help: "Select its previous relation", action: "relation.next", arg: -1, in: TEXT, needs: "span" },
  { group: "Linking", keys: ["Tab", "ArrowRight", "ArrowDown"], show: "Tab", help: "Next possible target", action: "link.next", arg: 1, in: EVERYWHERE, mode: "link" },
  { group: "Linking", keys: ["Shift+Tab", "ArrowLeft", "ArrowUp"], show: "Shift+Tab", help: "Previous possible target", action: "link.next", arg: -1, in: EVERYWHERE, mode: "link" },
  { group: "Linking", keys: ["Enter", "Space"], show: "Enter", help: "Link to the highlighted target", action: "link.done", in: EVERYWHERE, mode: "link", edits: true },
  { group: "Linking", keys: ["Escape"], show: "Esc", help: "Stop linking", action: "link.cancel", in: EVERYWHERE, mode: "link" },
  // --- the document
  { group: "Document", keys: ["d"], show: "d", help: "Document stance: focus the next target's values (then a number picks)", action: "doc.stance", in: PAGE },
  { group: "Document", keys: ["Ctrl+Enter"], show: "Ctrl+Enter", help: "Submit and open the next document", action: "submit", in: EVERYWHERE, edits: true },
  { group: "Document", keys: ["S"], show: "Shift+S", help: "Skip this document, with a reason", action: "skip", in: PAGE, edits: true },
  { group: "Document", keys: ["N"], show: "Shift+N", help: "Next document", action: "nav", arg: "next", in: PAGE },
  { group: "Document", keys: ["P"], show: "Shift+P", help: "Previous document", action: "nav", arg: "prev", in: PAGE },
  // --- everywhere
  { group: "General", keys: ["Ctrl+z"], show: "Ctrl+Z", help: "Undo", action: "undo", in: PAGE, edits: true },
  { group: "General", keys: ["Ctrl+Z", "Ctrl+y"], show: "Ctrl+Shift+Z", help: "Redo (also Ctrl+Y)", action: "redo", in: PAGE, edits: true },
  { group: "General", keys: ["Escape"], show: "Esc", help: "Clear the selection, or back to the text", action: "escape", in: EVERYWHERE },
  { group: "General", keys: ["?"], show: "?", help: "Show or hide this list of keys", action: "help", in: PAGE },
];

// Keys the workspace binds itself: a scheme hotkey on one of these still works for its label
// or relation type (scheme keys are checked first), and the help overlay names the clash.
const PRINTABLE_BUILTINS = new Set(
  BUILTIN.flatMap((r) => r.keys).filter((k) => k.length === 1),
);

const ARROWS = { ArrowRight: "→", ArrowLeft: "←", ArrowUp: "↑", ArrowDown: "↓" };

/** How an event is spelled in the table: modifiers, then the key. */
export function comboOf(event) {
  let key = event.key;
  if (key === " " || key === "Spacebar") key = "Space";
  const printable = key.length === 1;
  if (printable && /\p{L}/u.test(key) && event.getModifierState?.("CapsLock")) {
    key = key === key.toLowerCase() ? key.toUpperCase() : key.toLowerCase();
  }
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push("Ctrl");
  if (event.altKey) parts.push("Alt");
  if (event.shiftKey && !printable) parts.push("Shift");
  parts.push(key);
  return parts.join("+");
}

/**
 * Rows for the scheme: each label's key labels; each relation type's key starts linking;
 * each span attribute gets a key that opens it in the card (``source`` → s, ``stance`` → t:
 * the first letter of its name that is free); values of the focused choice are numbered.
 */
export function schemeRows(scheme) {
  const rows = [];
  const taken = new Set([...PRINTABLE_BUILTINS].filter((k) => /\p{L}/u.test(k)));
  for (const label of scheme.span_labels || []) {
    if (label.retired || !label.hotkey) continue;
    rows.push({
      group: "Spans",
      keys: [label.hotkey],
      show: label.hotkey,
      help: `Label as ${label.name} (the selection, the selected span, or the next mouse selection)`,
      action: "label",
      arg: label.name,
      in: TEXT.concat("page"),
      edits: true,
      scheme: true,
    });
    taken.add(label.hotkey.toLowerCase());
  }
  for (const type of scheme.relation_types || []) {
    if (!type.hotkey) continue;
    rows.push({
      group: "Relations",
      keys: [type.hotkey],
      show: type.hotkey,
      help: `Link the selected span by “${type.name}”: then pick the target (Tab, a hint key, or click)`,
      action: "link.start",
      arg: type.name,
      in: PAGE,
      needs: "span",
      edits: true,
      scheme: true,
    });
    taken.add(type.hotkey.toLowerCase());
  }
  for (const attribute of scheme.span_attributes || []) {
    const letters = attribute.name.toLowerCase().replace(/[^a-z]/g, "");
    const key = [...letters].find((ch) => !taken.has(ch));
    if (!key) continue;
    taken.add(key);
    rows.push({
      group: "Span attributes",
      keys: [key],
      show: key,
      help:
        attribute.kind === "choice"
          ? `${attribute.name}: focus its values, then a number picks (${(attribute.values || [])
              .map((v, i) => `${i + 1} ${v}`)
              .join(", ")})`
          : `${attribute.name}: type or pick one (Enter keeps the highlighted suggestion)`,
      action: "attribute",
      arg: attribute.name,
      in: PAGE,
      needs: "span",
      scheme: true,
    });
  }
  rows.push({
    group: "Span attributes",
    keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"],
    show: "1 … 9, 0",
    help: "In a group of values (a span attribute or the document stance): pick that value; 0 clears",
    action: "choice",
    in: ["choice"],
    edits: true,
  });
  return rows;
}

/** Scheme keys that shadow a built-in key (reported in the help overlay). */
export function clashes(scheme) {
  const keys = [
    ...(scheme.span_labels || []).filter((l) => !l.retired).map((l) => l.hotkey),
    ...(scheme.relation_types || []).map((t) => t.hotkey),
  ].filter(Boolean);
  return keys.filter((k) => PRINTABLE_BUILTINS.has(k));
}

export class Keymap {
  constructor(scheme) {
    // scheme keys first: a lead's choice of key wins over a built-in
    this.rows = schemeRows(scheme).concat(BUILTIN);
    this.clashes = clashes(scheme);
  }

  /**
   * The row for an event in a context {focus, linking, span, relation, selection}, or null.
   */
  match(combo, ctx) {
    for (const row of this.rows) {
      if (!row.keys.includes(combo)) continue;
      if (!row.in.includes(ctx.focus)) continue;
      if (ctx.linking ? row.mode !== "link" : row.mode === "link") continue;
      if (row.needs && !ctx[row.needs]) continue;
      return row;
    }
    return null;
  }

  /** Rows grouped for the help overlay: [[group, [{show, help}]]]. */
  help() {
    const groups = new Map();
    for (const row of this.rows) {
      if (row.show === null) continue;
      if (!groups.has(row.group)) groups.set(row.group, []);
      groups.get(row.group).push({ show: displayKeys(row), help: row.help });
    }
    const order = [
      "Select text",
      "Spans",
      "Span attributes",
      "Relations",
      "Linking",
      "Document",
      "General",
    ];
    return [...groups].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
  }
}

function displayKeys(row) {
  if (row.show) return row.show;
  return row.keys[0].replace(/Arrow(Right|Left|Up|Down)/, (m) => ARROWS[m]);
}
