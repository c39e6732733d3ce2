// The pure parts of drawing: nesting depths of spans, margin lanes of long links, colours.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assignLanes } from "../../projects/static/projects/annotate/relations.js";
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
