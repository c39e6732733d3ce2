// The pure parts of drawing: nesting depths of spans, margin lanes of long links, colours.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assignLanes, windowSides } from "../../projects/static/projects/annotate/relations.js";
import { depths, labelColours, SAFE_PALETTE } from "../../projects/static/projects/annotate/render.js";

test("nested and overlapping spans get increasing depths, separate ones depth 0", () => {
  const spans = [
    { id: "outer", start: 0, end: 50 },
    { id: "inner", start: 10, end: 20 },
    { id: "innermost", start: 12, end: 15 },
    { id: "overlap", start: 40, end: 60 },
    { id: "later", start: 70, end: 80 },
    { id: "touching", start: 50, end: 55 },
  ];
  const d = depths(spans);
  assert.equal(d.get("outer"), 0);
  assert.equal(d.get("inner"), 1);
  assert.equal(d.get("innermost"), 2);
  assert.equal(d.get("overlap"), 1, "overlaps the outer span");
  assert.equal(d.get("touching"), 0, "[50, 55) only touches [0, 50)");
  assert.equal(d.get("later"), 0);
});

test("links through the margin share a lane only when they do not overlap", () => {
  const lanes = assignLanes([
    [0, 100],
    [50, 150],
    [120, 200],
    [210, 300],
    [60, 70],
  ]);
  assert.deepEqual(lanes, [0, 1, 0, 0, 2]);
});

test("the default colours are the colour-blind-safe set, in scheme order", () => {
  const labels = [
    { name: "Claim", color: "#1f77b4" },
    { name: "Justification", color: "#2ca02c" },
    { name: "Critique", color: "#d62728" },
  ];
  assert.deepEqual([...labelColours(labels, true).values()], SAFE_PALETTE.slice(0, 3));
  assert.deepEqual([...labelColours(labels, false).values()], ["#1f77b4", "#2ca02c", "#d62728"]);
});

test("the spans above, in and below the window are told apart by measuring about 2 log n", () => {
  // 1,000 spans in text order, one line (20 px) per 4 spans; the window is lines 100-149
  const spans = Array.from({ length: 1000 }, (_, i) => ({ id: `s${i}`, start: i * 10, end: i * 10 + 5 }));
  let measured = 0;
  const box = (s) => {
    measured++;
    return [{ y: Math.floor(s.start / 40) * 20, h: 16 }];
  };
  const side = windowSides(spans.slice().reverse(), box, 2000, 2980);
  assert.ok(measured <= 2 * 11, `measured ${measured}`);
  assert.equal(side("s0"), -1);
  assert.equal(side("s399"), -1);
  assert.equal(side("s400"), 0);
  assert.equal(side("s599"), 0);
  assert.equal(side("s600"), 1);
  assert.equal(side("s999"), 1);
  // a span measured on the way without a box: unsure, so nothing is skipped
  const unsure = windowSides(spans, (s) => (s.id === "s500" ? [] : box(s)), 2000, 2980);
  assert.equal(unsure("s0"), 0);
});
