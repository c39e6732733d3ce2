// Code points <-> UTF-16 <-> DOM points: the one conversion module (FORMATS.md "Offsets").
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CodePoints,
  codePointLength,
  TextIndex,
} from "../../projects/static/projects/annotate/offsets.js";

// What Python says: list(text) is the code points; text[a:b] slices them.
function pySlice(text, start, end) {
  return Array.from(text).slice(start, end).join("");
}

const SAMPLES = [
  "plain ascii text",
  "Smile 🙂 then Café said: no.",
  "Family 👨‍👩‍👧 and flag 🇫🇷 end",
  "北京欢迎你，中国人民。",
  "Zoë and Nguyễn and e\u0301 (combining)",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math 𝟙𝟚𝟛",
  "",
];

test("every code point offset converts to UTF-16 and back", () => {
  for (const text of SAMPLES) {
    const cp = new CodePoints(text);
    assert.equal(cp.points, Array.from(text).length, text);
    assert.equal(cp.units, text.length);
    for (let i = 0; i <= cp.points; i++) {
      assert.equal(cp.point(cp.unit(i)), i, `${text} @ ${i}`);
    }
  }
});

test("a code point slice equals Python's slice for every range", () => {
  for (const text of SAMPLES) {
    const cp = new CodePoints(text);
    for (let a = 0; a <= cp.points; a++) {
      for (let b = a; b <= cp.points; b++) {
        assert.equal(cp.slice(a, b), pySlice(text, a, b));
      }
    }
  }
});

test("an emoji is one code point and two UTF-16 units", () => {
  const cp = new CodePoints("a🙂b");
  assert.equal(cp.points, 3);
  assert.equal(cp.unit(1), 1);
  assert.equal(cp.unit(2), 3);
  assert.equal(cp.point(3), 2);
  assert.ok(cp.splitsPair(2));
  assert.equal(cp.point(2), 1, "inside a pair rounds down to the emoji's own index");
});

test("the family emoji counts five code points, as Python does", () => {
  const family = "👨‍👩‍👧";
  assert.equal(codePointLength(family), 5);
  assert.equal(new CodePoints(`x${family}y`).unit(6), 1 + family.length);
});

test("a lone surrogate counts as one code point and stays addressable", () => {
  const text = "a\ud800b";
  const cp = new CodePoints(text);
  assert.equal(cp.points, 3);
  assert.equal(cp.slice(2, 3), "b");
  assert.equal(codePointLength(text), 3);
});

test("offsets outside the text are refused with a message naming them", () => {
  const cp = new CodePoints("abc");
  assert.throws(() => cp.unit(4), /code point offset 4 is outside 0..3/);
  assert.throws(() => cp.unit(-1), /outside/);
  assert.throws(() => cp.point(1.5), /outside/);
});

test("a text split over several nodes maps each point to one global index", () => {
  const nodes = [{ data: "Hello " }, { data: "🙂 wor" }, { data: "ld" }];
  const index = new TextIndex(nodes);
  assert.equal(index.length, 6 + 6 + 2);
  assert.equal(index.toIndex(nodes[1], 0), 6);
  assert.equal(index.toIndex(nodes[1], 3), 9);
  assert.equal(index.toIndex(nodes[2], 2), 14);
  assert.equal(index.toIndex({ data: "elsewhere" }, 0), null);
  assert.deepEqual(index.toPoint(6), { node: nodes[1], offset: 0 });
  assert.deepEqual(index.toPoint(6, true), { node: nodes[0], offset: 6 });
  assert.deepEqual(index.toPoint(14), { node: nodes[2], offset: 2 });
  assert.deepEqual(index.toPoint(0), { node: nodes[0], offset: 0 });
  for (let i = 0; i <= index.length; i++) {
    for (const preferEnd of [false, true]) {
      const p = index.toPoint(i, preferEnd);
      assert.equal(index.toIndex(p.node, p.offset), i);
    }
  }
  assert.throws(() => index.toPoint(15), /outside 0..14/);
});

test("element points resolve to the child at that position", () => {
  const a = { data: "ab" };
  const b = { data: "cd" };
  const root = { childNodes: [a, b] };
  const index = new TextIndex([a, b], root);
  assert.equal(index.toIndex(root, 0), 0);
  assert.equal(index.toIndex(root, 1), 2);
  assert.equal(index.toIndex(root, 2), 4);
});

test("a long text converts in linear time", () => {
  const text = "Die Würde des Menschen 🙂 ist unantastbar. 北京. ".repeat(20000); // ~1M units
  const started = process.hrtime.bigint();
  const cp = new CodePoints(text);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(cp.points, Array.from(text).length);
  assert.ok(ms < 2000, `took ${ms} ms`);
});
