// Word snapping and trimming (Intl.Segmenter), in UTF-16 units.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Tokens } from "../../projects/static/projects/annotate/tokens.js";

function snapped(text, fragment, options = {}, from = 0) {
  const t = new Tokens(text);
  const start = text.indexOf(fragment, from);
  assert.notEqual(start, -1, fragment);
  const r = t.snap(start, start + fragment.length, options);
  return r && text.slice(r.start, r.end);
}

test("a selection inside words widens to the whole words", () => {
  const text = "The State Department said only last month";
  assert.equal(snapped(text, "tate Depart"), "State Department");
  assert.equal(snapped(text, "e S"), "The State");
});

test("spaces and punctuation at the edges are trimmed", () => {
  const text = "He said: the plan, it seems, was final. Then";
  assert.equal(snapped(text, ": the plan, "), "the plan");
  assert.equal(snapped(text, " was final. "), "was final");
});

test("quotes and brackets whose partner is inside stay", () => {
  const text = 'record on the subject "remained poor."\n\nHowever (so they say) it';
  assert.equal(snapped(text, 'subject "remained poor."\n'), 'subject "remained poor."');
  assert.equal(snapped(text, '"remained poor."'), '"remained poor."');
  assert.equal(snapped(text, "(so they say)"), "(so they say)");
  assert.equal(snapped(text, "(so they"), "so they");
  assert.equal(snapped(text, "remained poor.\""), "remained poor");
});

test("only spaces or punctuation leaves nothing to label", () => {
  const t = new Tokens("word , . word");
  assert.equal(t.snap(4, 9), null);
  assert.equal(t.snap(3, 3), null);
});

test("emoji, family emoji, CJK and accents are never split", () => {
  const text = "Smile 🙂 then 👨‍👩‍👧 and 北京欢迎你 and Nguyễn Zoe\u0301.";
  const t = new Tokens(text);
  const family = text.indexOf("👨");
  // half a family emoji selected: the whole sequence is labelled
  let r = t.snap(family + 1, family + 3);
  assert.equal(text.slice(r.start, r.end), "👨‍👩‍👧");
  r = t.snap(family + 1, family + 3, { exact: true });
  assert.equal(text.slice(r.start, r.end), "👨‍👩‍👧");
  const smile = text.indexOf("🙂");
  r = t.snap(smile + 1, smile + 2, { exact: true });
  assert.equal(text.slice(r.start, r.end), "🙂");
  assert.equal(snapped(text, "京欢"), "北京欢迎");
  assert.equal(snapped(text, "guy"), "Nguyễn");
  const zoe = text.indexOf("Zoe");
  r = t.snap(zoe, zoe + 3, { exact: true }); // "Zoe" without its combining accent
  assert.equal(text.slice(r.start, r.end), "Zoe\u0301");
});

test("exact mode keeps punctuation and drops only surrounding whitespace", () => {
  const text = 'said: "remained poor." Then';
  assert.equal(snapped(text, ' "remained poor." ', { exact: true }), '"remained poor."');
  assert.equal(snapped(text, ": ", { exact: true }), ":");
});

test("the keyboard cursor moves word by word and skips punctuation", () => {
  const text = "One, two 🙂 three.\n\nNext paragraph here";
  const t = new Tokens(text);
  const words = [];
  for (let tok = t.nextToken(0); tok; tok = t.nextToken(tok.end)) {
    words.push(text.slice(tok.start, tok.end));
  }
  assert.deepEqual(words, ["One", "two", "🙂", "three", "Next", "paragraph", "here"]);
  const back = [];
  for (let tok = t.prevToken(text.length); tok; tok = t.prevToken(tok.start)) {
    back.push(text.slice(tok.start, tok.end));
  }
  assert.deepEqual(back, words.slice().reverse());
  const next = t.nextParagraph(0);
  assert.equal(text.slice(next.start, next.end), "Next");
  const prev = t.prevParagraph(text.indexOf("here"));
  assert.equal(text.slice(prev.start, prev.end), "One");
  assert.equal(text.slice(t.tokenNear(3).start, t.tokenNear(3).end), "two");
});

test("grapheme steps never split an emoji or an accent", () => {
  const text = "a👨‍👩‍👧e\u0301b";
  const t = new Tokens(text);
  const stops = [0];
  for (let i = 0; i < text.length; ) stops.push((i = t.nextGrapheme(i)));
  assert.deepEqual(
    stops.map((i) => text.slice(0, i)),
    ["", "a", "a👨‍👩‍👧", "a👨‍👩‍👧e\u0301", text],
  );
  assert.equal(t.prevGrapheme(text.length - 1), 1 + "👨‍👩‍👧".length);
});
