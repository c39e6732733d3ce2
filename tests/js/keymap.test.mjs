// The key table: every key has one meaning where it applies, and the help lists them all.
import assert from "node:assert/strict";
import { test } from "node:test";

import { BUILTIN, clashes, comboOf, Keymap } from "../../projects/static/projects/annotate/keymap.js";
import { SCHEME } from "./scheme.mjs";

const key = (k, mods = {}) => ({ key: k, getModifierState: () => false, ...mods });

test("events are spelled as the table spells them", () => {
  assert.equal(comboOf(key("ArrowRight", { shiftKey: true })), "Shift+ArrowRight");
  assert.equal(comboOf(key("{", { shiftKey: true })), "{");
  assert.equal(comboOf(key("Z", { shiftKey: true, ctrlKey: true })), "Ctrl+Z");
  assert.equal(comboOf(key("z", { metaKey: true })), "Ctrl+z", "Cmd on a Mac is Ctrl");
  assert.equal(comboOf(key(" ")), "Space");
  const caps = { key: "S", getModifierState: (m) => m === "CapsLock" };
  assert.equal(comboOf(caps), "s", "Caps Lock does not turn s into Shift+S");
});

test("no key means two things in the same place and mode", () => {
  const map = new Keymap(SCHEME);
  const seen = new Map();
  for (const row of map.rows) {
    for (const combo of row.keys) {
      for (const where of row.in) {
        const slot = `${combo}|${where}|${row.mode || ""}|${row.needs || ""}`;
        if (seen.has(slot) && !(seen.get(slot).scheme && !row.scheme)) {
          assert.fail(`${combo} in ${where}: ${seen.get(slot).action} and ${row.action}`);
        }
        if (!seen.has(slot)) seen.set(slot, row);
      }
    }
  }
});

test("the scheme's keys label and link; attributes get free letters", () => {
  const map = new Keymap(SCHEME);
  const text = { focus: "text", linking: false, span: false, selection: false };
  assert.equal(map.match("1", text).arg, "Claim");
  assert.equal(map.match("3", text).arg, "Critique");
  assert.equal(map.match("+", text), null, "linking needs a selected span");
  assert.equal(map.match("+", { ...text, span: true }).action, "link.start");
  assert.equal(map.match("s", { ...text, span: true }).arg, "source");
  assert.equal(map.match("t", { ...text, span: true }).arg, "stance");
  assert.equal(map.match("1", { ...text, focus: "choice" }).action, "choice");
  assert.equal(map.match("Tab", { ...text, linking: true }).action, "link.next");
  assert.equal(map.match("1", { ...text, linking: true }), null, "only link keys while linking");
  assert.equal(map.match("Ctrl+Enter", { ...text, focus: "field" }).action, "submit");
  assert.equal(map.match("ArrowRight", { ...text, focus: "field" }), null, "fields keep arrows");
});

test("a scheme key on a built-in key wins, and the help says so", () => {
  const scheme = {
    ...SCHEME,
    span_labels: [...SCHEME.span_labels, { id: 9, name: "Reported", hotkey: "r", color: "#000000" }],
  };
  const map = new Keymap(scheme);
  assert.equal(map.match("r", { focus: "text", span: true }).arg, "Reported");
  assert.deepEqual(clashes(scheme), ["r"]);
});

test("the help overlay lists every built-in action", () => {
  const help = new Keymap(SCHEME).help();
  const listed = help.flatMap(([, rows]) => rows.map((r) => r.help));
  for (const row of BUILTIN) assert.ok(listed.includes(row.help), row.help);
  assert.deepEqual(
    help.map(([group]) => group),
    ["Select text", "Spans", "Span attributes", "Relations", "Linking", "Document", "General"],
  );
});
