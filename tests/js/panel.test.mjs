// Element ids of the card's attribute controls: valid in ID lists (aria-labelledby and
// aria-controls split on spaces) and distinct, whatever the scheme names its attributes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { attributeId } from "../../projects/static/projects/annotate/panel.js";

const NAMES = ["source", "source type", "who?", "a", "a-list", "a-label", "0", "1", "Ünïcode", "x y", "x_y", "-o0"];

test("attribute ids never hold a space or a character an id list would split on", () => {
  for (const [i, name] of NAMES.entries()) {
    assert.match(attributeId(name, i), /^ws-attr-[A-Za-z0-9_]+$/, name);
  }
});

test("plain word names keep readable ids; others get their index", () => {
  assert.equal(attributeId("source", 0), "ws-attr-source");
  assert.equal(attributeId("source type", 3), "ws-attr-3");
  assert.equal(attributeId("a-list", 5), "ws-attr-5");
});

test("no two attributes' ids collide, suffixes (-label, -list, -o1) included", () => {
  const seen = new Map();
  for (const [i, name] of NAMES.entries()) {
    const id = attributeId(name, i);
    for (const suffix of ["", "-label", "-list", "-o0", "-o1"]) {
      const full = id + suffix;
      assert.ok(!seen.has(full), `${name} and ${seen.get(full)} share ${full}`);
      seen.set(full, name);
    }
  }
});
