// The model, its operations and undo/redo.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  apply,
  applyAll,
  check,
  cloneModel,
  History,
  inverse,
  modelFrom,
  newId,
  prepare,
  relationChoices,
  Rules,
  spansInOrder,
} from "../../projects/static/projects/annotate/state.js";
import { SCHEME } from "./scheme.mjs";


const rules = new Rules(SCHEME, { length: 100 });

function model() {
  return modelFrom({
    version: 3,
    status: "in_progress",
    spans: [
      { id: "c", start: 0, end: 9, label: "Claim", attributes: {} },
      { id: "j", start: 10, end: 20, label: "Justification", attributes: { stance: "favor" } },
    ],
    relations: [{ id: "r", from: "j", to: "c", type: "supports" }],
    stances: [{ target_id: 7, target: "The decision", value: "neutral" }],
  });
}

function snapshot(m) {
  return JSON.stringify({
    spans: spansInOrder(m),
    relations: [...m.relations.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
    stances: [...m.stances],
  });
}

test("a payload becomes a model with spans, relations and stances by id", () => {
  const m = model();
  assert.equal(m.version, 3);
  assert.equal(m.spans.get("j").attributes.stance, "favor");
  assert.equal(m.relations.get("r").from, "j");
  assert.equal(m.stances.get(7), "neutral");
});

test("new ids are short, prefixed and distinct", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newId("s")));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^s[a-z0-9]{9}$/);
});

test("checks refuse what the server would refuse, with a message", () => {
  const m = model();
  const cases = [
    [{ kind: "span.create", span: { id: "x", start: 5, end: 5, label: "Claim" } }, /empty/],
    [{ kind: "span.create", span: { id: "x", start: 0, end: 101, label: "Claim" } }, /outside/],
    [{ kind: "span.create", span: { id: "x", start: 0, end: 4, label: "Nope" } }, /no label/],
    [{ kind: "span.create", span: { id: "x", start: 0, end: 4, label: "Old" } }, /retired/],
    [
      {
        kind: "span.create",
        span: { id: "x", start: 0, end: 4, label: "Claim", attributes: { stance: "maybe" } },
      },
      /not a value of stance/,
    ],
    [{ kind: "span.update", id: "gone", set: { label: "Claim" } }, /no longer exists/],
    [
      { kind: "relation.create", relation: { id: "q", from: "c", to: "c", type: "supports" } },
      /itself/,
    ],
    [
      { kind: "relation.create", relation: { id: "q", from: "j", to: "c", type: "attacks" } },
      /cannot start at a Justification \(allowed: Critique\)/,
    ],
    [
      { kind: "relation.create", relation: { id: "q", from: "j", to: "c", type: "supports" } },
      /exists already/,
    ],
    [
      { kind: "relation.create", relation: { id: "q", from: "j", to: "zz", type: "supports" } },
      /no longer exists/,
    ],
    [{ kind: "stance.set", target: 7, value: "sideways" }, /not a stance value/],
    [{ kind: "skip", reason: "  " }, /why/],
  ];
  for (const [op, expected] of cases) assert.match(check(m, op, rules), expected, op.kind);
});

test("relabelling a span may not break its relations", () => {
  const m = model();
  const r2 = { kind: "span.create", span: { id: "k", start: 30, end: 40, label: "Critique" } };
  apply(m, r2);
  apply(m, { kind: "relation.create", relation: { id: "a", from: "k", to: "c", type: "attacks" } });
  assert.match(
    check(m, { kind: "span.update", id: "k", set: { label: "Claim" } }, rules),
    /would break a relation/,
  );
});

test("overlaps are refused only when the project forbids them", () => {
  const m = model();
  const op = { kind: "span.create", span: { id: "o", start: 5, end: 15, label: "Claim" } };
  assert.equal(check(m, op, rules), null);
  const strict = new Rules(SCHEME, { length: 100, allowOverlap: false });
  assert.match(check(m, op, strict), /overlap/);
});

test("operations the model already reflects are no-ops (a replayed change)", () => {
  const m = model();
  const same = { kind: "span.create", span: { id: "c", start: 0, end: 9, label: "Claim" } };
  assert.equal(check(m, same, rules), "noop");
  assert.equal(check(m, { kind: "span.delete", id: "zz" }, rules), "noop");
  assert.equal(check(m, { kind: "stance.set", target: 7, value: "neutral" }, rules), "noop");
  assert.equal(check(m, { kind: "span.update", id: "c", set: { label: "Claim" } }, rules), "noop");
});

test("deleting a span deletes its relations, and undo brings both back", () => {
  const m = model();
  const before = snapshot(m);
  const op = prepare(m, { kind: "span.delete", id: "c" });
  apply(m, op);
  assert.equal(m.spans.has("c"), false);
  assert.equal(m.relations.size, 0);
  for (const back of inverse(op)) apply(m, prepare(m, back));
  assert.equal(snapshot(m), before);
});

test("every undoable operation is undone by its inverse", () => {
  const ops = [
    { kind: "span.create", span: { id: "n", start: 40, end: 50, label: "Critique" } },
    { kind: "span.update", id: "j", set: { label: "Claim", attributes: { source: "X" } } },
    { kind: "span.update", id: "c", set: { start: 1, end: 8 } },
    { kind: "relation.delete", id: "r" },
    { kind: "stance.set", target: 7, value: "against" },
    { kind: "stance.delete", target: 7 },
  ];
  for (const op of ops) {
    const m = model();
    const before = snapshot(m);
    const prepared = prepare(m, op);
    assert.equal(check(m, op, rules), null, op.kind);
    apply(m, prepared);
    assert.notEqual(snapshot(m), before, op.kind);
    for (const back of inverse(prepared)) apply(m, prepare(m, back));
    assert.equal(snapshot(m), before, op.kind);
  }
  // a stance set where there was none is undone by deleting it
  const m = modelFrom({ version: 0, spans: [], relations: [], stances: [] });
  const set = prepare(m, { kind: "stance.set", target: 7, value: "favor" });
  assert.deepEqual(inverse(set), [{ kind: "stance.delete", target: 7 }]);
});

test("applyAll is all or nothing", () => {
  const m = model();
  const before = snapshot(m);
  const { problem, ops } = applyAll(
    m,
    [
      { kind: "span.create", span: { id: "n", start: 40, end: 50, label: "Claim" } },
      { kind: "relation.create", relation: { id: "q", from: "n", to: "n", type: "supports" } },
    ],
    rules,
  );
  assert.match(problem, /itself/);
  assert.deepEqual(ops, []);
  assert.equal(snapshot(m), before);
});

test("undo and redo walk the history, with the same ids coming back", () => {
  const m = model();
  const history = new History();
  const steps = [
    [{ kind: "span.create", span: { id: "n", start: 40, end: 50, label: "Critique" } }],
    [{ kind: "relation.create", relation: { id: "q", from: "n", to: "c", type: "attacks" } }],
    [{ kind: "span.delete", id: "n" }],
  ];
  const states = [snapshot(m)];
  for (const ops of steps) {
    const done = applyAll(m, ops, rules);
    assert.equal(done.problem, null);
    history.record("step", done.ops);
    states.push(snapshot(m));
  }
  for (let i = steps.length; i > 0; i--) {
    const undo = history.peekUndo();
    const done = applyAll(m, undo.ops, rules);
    assert.equal(done.problem, null);
    history.undone(done.ops);
    assert.equal(snapshot(m), states[i - 1], `after undoing step ${i}`);
  }
  assert.equal(history.peekUndo(), null);
  for (let i = 1; i <= steps.length; i++) {
    const redo = history.peekRedo();
    const done = applyAll(m, redo.ops, rules);
    assert.equal(done.problem, null);
    history.redone(done.ops);
    assert.equal(snapshot(m), states[i], `after redoing step ${i}`);
  }
  assert.equal(history.peekRedo(), null);
  // a new step clears the redo stack
  history.undone(applyAll(m, history.peekUndo().ops, rules).ops);
  history.record("other", applyAll(m, [{ kind: "stance.delete", target: 7 }], rules).ops);
  assert.equal(history.peekRedo(), null);
});

test("clones are independent", () => {
  const m = model();
  const c = cloneModel(m);
  c.spans.get("c").attributes.source = "changed";
  c.stances.set(7, "favor");
  assert.equal(m.spans.get("c").attributes.source, undefined);
  assert.equal(m.stances.get(7), "neutral");
});

test("a drop offers the relation types the scheme allows between the two labels", () => {
  const m = model();
  apply(m, { kind: "span.create", span: { id: "k", start: 30, end: 40, label: "Critique", attributes: {} } });
  // supports goes anywhere (but j -> c exists already); attacks only from a Critique
  const fromCritique = relationChoices(m, rules, "k", "c");
  assert.deepEqual(fromCritique.allowed.map((t) => t.name), ["supports", "attacks"]);
  const fromClaim = relationChoices(m, rules, "c", "k");
  assert.deepEqual(fromClaim.allowed.map((t) => t.name), ["supports"]);
  assert.match(fromClaim.refused[0].problem, /cannot start at a Claim \(allowed: Critique\)/);
  const existing = relationChoices(m, rules, "j", "c");
  assert.deepEqual(existing.allowed, []);
  assert.equal(
    existing.problem,
    "This “supports” relation exists already. A “attacks” relation cannot start at a Justification (allowed: Critique).",
  );
  assert.deepEqual(relationChoices(m, rules, "c", "c").allowed, [], "never a span to itself");
});
