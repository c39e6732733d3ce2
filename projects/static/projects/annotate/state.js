// The annotation model in the browser, the operations that change it, and undo/redo.
//
// A model is {version, status, skipReason, spans, relations, stances}: spans and relations are
// Maps by id (spans carry code point offsets, as the server does), stances a Map from stance
// target id to value. Every change is an operation, a plain object that can be stored in
// localStorage, checked against a model, applied to it and inverted:
//
//   {kind: "span.create", span: {id, start, end, label, attributes}}
//   {kind: "span.update", id, set: {label?, start?, end?, attributes?}, prev}
//   {kind: "span.delete", id, prev, prevRelations}      (the server deletes its relations too)
//   {kind: "relation.create", relation: {id, from, to, type}}
//   {kind: "relation.delete", id, prev}
//   {kind: "stance.set", target, value, prev}           (target: the stance target's id)
//   {kind: "stance.delete", target, prev}
//   {kind: "submit"}, {kind: "skip", reason}
//
// ``prev`` fields are filled by ``prepare`` from the model the operation is applied to; undo
// inverts an operation from them.

export const UNDOABLE = new Set([
  "span.create",
  "span.update",
  "span.delete",
  "relation.create",
  "relation.delete",
  "stance.set",
  "stance.delete",
]);

/** A short random id for a new span or relation (the server's ``client_id``). */
export function newId(prefix) {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36];
  return prefix + s;
}

export function emptyModel() {
  return {
    version: 0,
    status: "not_started",
    skipReason: "",
    spans: new Map(),
    relations: new Map(),
    stances: new Map(),
  };
}

/** A model from the API's annotation payload. */
export function modelFrom(payload) {
  const m = emptyModel();
  m.version = payload.version ?? 0;
  m.status = payload.status || "not_started";
  m.skipReason = payload.skip_reason || "";
  for (const s of payload.spans || []) {
    m.spans.set(s.id, {
      id: s.id,
      start: s.start,
      end: s.end,
      label: s.label,
      attributes: { ...(s.attributes || {}) },
    });
  }
  for (const r of payload.relations || []) {
    m.relations.set(r.id, { id: r.id, from: r.from, to: r.to, type: r.type });
  }
  for (const st of payload.stances || []) m.stances.set(Number(st.target_id), st.value);
  return m;
}

export function cloneModel(m) {
  return {
    version: m.version,
    status: m.status,
    skipReason: m.skipReason,
    spans: new Map([...m.spans].map(([k, s]) => [k, { ...s, attributes: { ...s.attributes } }])),
    relations: new Map([...m.relations].map(([k, r]) => [k, { ...r }])),
    stances: new Map(m.stances),
  };
}

/** Spans in text order: start, then longer first (outer before inner), then id. */
export function spansInOrder(m) {
  return [...m.spans.values()].sort(
    (a, b) => a.start - b.start || b.end - a.end || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

export function relationsOf(m, spanId) {
  return [...m.relations.values()].filter((r) => r.from === spanId || r.to === spanId);
}

function sameAttributes(a, b) {
  const ka = Object.keys(a || {}).filter((k) => a[k] !== "" && a[k] != null);
  const kb = Object.keys(b || {}).filter((k) => b[k] !== "" && b[k] != null);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

function cleanAttributes(attributes) {
  const out = {};
  for (const [k, v] of Object.entries(attributes || {})) if (v !== "" && v != null) out[k] = v;
  return out;
}

/**
 * The scheme as the workspace needs it (from ``selectors.scheme_payload``), plus the text
 * length and the project's overlap setting: what ``check`` validates against.
 */
export class Rules {
  constructor(scheme, { length, allowOverlap = true } = {}) {
    this.scheme = scheme;
    this.length = length;
    this.allowOverlap = allowOverlap;
    this.labels = new Map(scheme.span_labels.map((l) => [l.name, l]));
    this.relationTypes = new Map(scheme.relation_types.map((t) => [t.name, t]));
    this.attributes = new Map((scheme.span_attributes || []).map((a) => [a.name, a]));
    this.targets = new Map((scheme.stance_targets || []).map((t) => [Number(t.id), t]));
    this.stanceValues = scheme.stance_values || [];
  }

  /** Why ``type`` may not go from a span labelled ``fromLabel`` to ``toLabel``, or null. */
  endpointProblem(type, fromLabel, toLabel) {
    const t = this.relationTypes.get(type);
    if (!t) return `There is no relation type “${type}” in the scheme.`;
    const ok = (allowed, label) => !allowed || allowed.length === 0 || allowed.includes(label);
    const fits = ok(t.from_labels, fromLabel) && ok(t.to_labels, toLabel);
    const reversed = ok(t.from_labels, toLabel) && ok(t.to_labels, fromLabel);
    if (fits || (t.directed === false && reversed)) return null;
    if (!ok(t.from_labels, fromLabel)) {
      return `A “${type}” relation cannot start at a ${fromLabel} (allowed: ${t.from_labels.join(", ")}).`;
    }
    return `A “${type}” relation cannot end at a ${toLabel} (allowed: ${t.to_labels.join(", ")}).`;
  }
}

function spanProblem(m, rules, span, ignoreId = null) {
  const { start, end, label } = span;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > rules.length) {
    return "The span lies outside the text.";
  }
  if (start >= end) return "The span is empty.";
  const l = rules.labels.get(label);
  if (!l) return `There is no label “${label}” in the scheme.`;
  if (l.retired) return `The label “${label}” is retired.`;
  for (const [name, value] of Object.entries(span.attributes || {})) {
    const a = rules.attributes.get(name);
    if (!a) return `There is no span attribute “${name}” in the scheme.`;
    if (a.kind === "choice" && value !== "" && !(a.values || []).includes(value)) {
      return `“${value}” is not a value of ${name} (allowed: ${(a.values || []).join(", ")}).`;
    }
  }
  if (!rules.allowOverlap) {
    for (const other of m.spans.values()) {
      if (other.id !== ignoreId && other.start < end && other.end > start) {
        return "This project does not allow overlapping spans, and this span overlaps another.";
      }
    }
  }
  return null;
}

/**
 * Why ``op`` cannot be applied to model ``m``, or null. ``"noop"`` when the model already is
 * what the operation would make (an operation replayed after the server applied it).
 */
export function check(m, op, rules) {
  switch (op.kind) {
    case "span.create": {
      const have = m.spans.get(op.span.id);
      if (have) {
        const same =
          have.start === op.span.start &&
          have.end === op.span.end &&
          have.label === op.span.label &&
          sameAttributes(have.attributes, op.span.attributes);
        return same ? "noop" : "A span with this id exists already.";
      }
      return spanProblem(m, rules, op.span);
    }
    case "span.update": {
      const have = m.spans.get(op.id);
      if (!have) return "That span no longer exists.";
      const next = { ...have, ...op.set };
      if (
        next.start === have.start &&
        next.end === have.end &&
        next.label === have.label &&
        sameAttributes(next.attributes, have.attributes)
      ) {
        return "noop";
      }
      const problem = spanProblem(m, rules, next, op.id);
      if (problem) return problem;
      if (next.label !== have.label) {
        for (const r of relationsOf(m, op.id)) {
          const from = r.from === op.id ? next.label : m.spans.get(r.from).label;
          const to = r.to === op.id ? next.label : m.spans.get(r.to).label;
          const p = rules.endpointProblem(r.type, from, to);
          if (p) return `Changing the label would break a relation: ${p}`;
        }
      }
      return null;
    }
    case "span.delete":
      return m.spans.has(op.id) ? null : "noop";
    case "relation.create": {
      const r = op.relation;
      const have = m.relations.get(r.id);
      if (have) {
        const same = have.from === r.from && have.to === r.to && have.type === r.type;
        return same ? "noop" : "A relation with this id exists already.";
      }
      const from = m.spans.get(r.from);
      const to = m.spans.get(r.to);
      if (!from || !to) return "One end of the relation no longer exists.";
      if (r.from === r.to) return "A relation cannot connect a span to itself.";
      const p = rules.endpointProblem(r.type, from.label, to.label);
      if (p) return p;
      const undirected = rules.relationTypes.get(r.type)?.directed === false;
      for (const other of m.relations.values()) {
        if (other.type !== r.type) continue;
        const same = other.from === r.from && other.to === r.to;
        const flipped = undirected && other.from === r.to && other.to === r.from;
        if (same || flipped) return `This “${r.type}” relation exists already.`;
      }
      return null;
    }
    case "relation.delete":
      return m.relations.has(op.id) ? null : "noop";
    case "stance.set":
      if (!rules.targets.has(Number(op.target))) return "Unknown stance target.";
      if (!rules.stanceValues.includes(op.value)) return `“${op.value}” is not a stance value.`;
      return m.stances.get(Number(op.target)) === op.value ? "noop" : null;
    case "stance.delete":
      return m.stances.has(Number(op.target)) ? null : "noop";
    case "submit":
      return m.status === "submitted" ? "noop" : null;
    case "skip":
      if (!(op.reason || "").trim()) return "Say why you skip this document.";
      return m.status === "skipped" && m.skipReason === op.reason.trim() ? "noop" : null;
    default:
      return `Unknown operation ${op.kind}.`;
  }
}

/**
 * The relation types that may go from span ``from`` to span ``to`` in ``m`` now (scheme
 * order), and for each other type why not: what a drop of one span on another offers, and
 * the message it shows when nothing fits (the same words the relation key's path uses).
 */
export function relationChoices(m, rules, from, to) {
  const allowed = [];
  const refused = [];
  for (const type of rules.scheme.relation_types) {
    const relation = { id: "", from, to, type: type.name };
    const problem = check(m, { kind: "relation.create", relation }, rules);
    if (problem === null) allowed.push(type);
    else refused.push({ type, problem });
  }
  return { allowed, refused, problem: refused.map((r) => r.problem).join(" ") };
}

/** A copy of ``op`` with the ``prev`` fields read from ``m`` (what undo needs). */
export function prepare(m, op) {
  switch (op.kind) {
    case "span.update": {
      const have = m.spans.get(op.id);
      const prev = {};
      for (const key of Object.keys(op.set)) {
        prev[key] = key === "attributes" ? { ...have.attributes } : have[key];
      }
      return { ...op, prev };
    }
    case "span.delete": {
      const have = m.spans.get(op.id);
      return {
        ...op,
        prev: { ...have, attributes: { ...have.attributes } },
        prevRelations: relationsOf(m, op.id).map((r) => ({ ...r })),
      };
    }
    case "relation.delete":
      return { ...op, prev: { ...m.relations.get(op.id) } };
    case "stance.set":
    case "stance.delete": {
      const prev = m.stances.get(Number(op.target));
      return { ...op, prev: prev === undefined ? null : prev };
    }
    default:
      return op;
  }
}

/** Apply ``op`` to ``m`` in place (it must have passed ``check``). */
export function apply(m, op) {
  switch (op.kind) {
    case "span.create":
      m.spans.set(op.span.id, { ...op.span, attributes: cleanAttributes(op.span.attributes) });
      break;
    case "span.update": {
      const have = m.spans.get(op.id);
      const next = { ...have, ...op.set };
      if (op.set.attributes) next.attributes = cleanAttributes(op.set.attributes);
      m.spans.set(op.id, next);
      break;
    }
    case "span.delete":
      m.spans.delete(op.id);
      for (const r of relationsOf(m, op.id)) m.relations.delete(r.id);
      break;
    case "relation.create":
      m.relations.set(op.relation.id, { ...op.relation });
      break;
    case "relation.delete":
      m.relations.delete(op.id);
      break;
    case "stance.set":
      m.stances.set(Number(op.target), op.value);
      break;
    case "stance.delete":
      m.stances.delete(Number(op.target));
      break;
    case "submit":
      m.status = "submitted";
      m.skipReason = "";
      break;
    case "skip":
      m.status = "skipped";
      m.skipReason = op.reason.trim();
      break;
  }
  if (op.kind !== "submit" && op.kind !== "skip" && m.status === "not_started") {
    m.status = "in_progress";
  }
  return m;
}

/** The operations that undo a prepared ``op``, in the order to apply them. */
export function inverse(op) {
  switch (op.kind) {
    case "span.create":
      return [{ kind: "span.delete", id: op.span.id }];
    case "span.update":
      return [{ kind: "span.update", id: op.id, set: op.prev }];
    case "span.delete":
      return [
        { kind: "span.create", span: op.prev },
        ...(op.prevRelations || []).map((r) => ({ kind: "relation.create", relation: r })),
      ];
    case "relation.create":
      return [{ kind: "relation.delete", id: op.relation.id }];
    case "relation.delete":
      return [{ kind: "relation.create", relation: op.prev }];
    case "stance.set":
      return op.prev === null || op.prev === undefined
        ? [{ kind: "stance.delete", target: op.target }]
        : [{ kind: "stance.set", target: op.target, value: op.prev }];
    case "stance.delete":
      return [{ kind: "stance.set", target: op.target, value: op.prev }];
    default:
      throw new Error(`${op.kind} cannot be undone`);
  }
}

/**
 * Check, prepare and apply a list of operations as one step; all or nothing. Returns
 * {ops, problem}: the prepared operations that changed something, or the first problem.
 */
export function applyAll(m, ops, rules) {
  const trial = cloneModel(m);
  const done = [];
  for (const op of ops) {
    const problem = check(trial, op, rules);
    if (problem === "noop") continue;
    if (problem) return { ops: [], problem };
    const prepared = prepare(trial, op);
    apply(trial, prepared);
    done.push(prepared);
  }
  for (const op of done) apply(m, op);
  return { ops: done, problem: null };
}

/**
 * Undo and redo stacks of steps; a step is {name, ops} (prepared operations). Undo applies
 * the inverses in reverse order as a new step; redo applies the original operations again,
 * with the same ids, so the server sees the same spans come back.
 */
export class History {
  constructor(limit = 1000) {
    this.limit = limit;
    this.undoStack = [];
    this.redoStack = [];
  }

  record(name, ops) {
    if (ops.length === 0) return;
    this.undoStack.push({ name, ops });
    if (this.undoStack.length > this.limit) this.undoStack.shift();
    this.redoStack = [];
  }

  /** The operations that would undo the last step (without changing the stacks). */
  peekUndo() {
    const step = this.undoStack.at(-1);
    if (!step) return null;
    return { name: step.name, ops: step.ops.slice().reverse().flatMap(inverse) };
  }

  peekRedo() {
    const step = this.redoStack.at(-1);
    if (!step) return null;
    return { name: step.name, ops: step.ops.map(unprepared) };
  }

  /** Move the last step to the redo stack; ``ops`` are the prepared inverses applied. */
  undone(ops) {
    const step = this.undoStack.pop();
    this.redoStack.push({ name: step.name, ops: step.ops, inverse: ops });
  }

  redone(ops) {
    const step = this.redoStack.pop();
    this.undoStack.push({ name: step.name, ops });
  }

  clear() {
    this.undoStack = [];
    this.redoStack = [];
  }
}

function unprepared(op) {
  const { prev, prevRelations, ...rest } = op;
  return rest;
}

/** Say what an operation does, for announcements and reports. ``m`` gives span texts. */
export function describe(op, m, excerpt = (span) => span.id) {
  const spanName = (id, fallback) => {
    const s = m?.spans.get(id) || fallback;
    return s ? `${s.label} ${excerpt(s)}` : "a span";
  };
  switch (op.kind) {
    case "span.create":
      return `${op.span.label} ${excerpt(op.span)}`;
    case "span.update": {
      const parts = [];
      if ("label" in op.set) parts.push(`label ${op.set.label}`);
      if ("start" in op.set || "end" in op.set) parts.push("boundaries");
      if ("attributes" in op.set) parts.push("attributes");
      return `${spanName(op.id, op.prev)}: ${parts.join(", ")} changed`;
    }
    case "span.delete":
      return `deleted ${spanName(op.id, op.prev)}`;
    case "relation.create":
      return `${op.relation.type} relation`;
    case "relation.delete":
      return `deleted ${op.prev?.type || ""} relation`.replace("  ", " ");
    case "stance.set":
      return `document stance ${op.value}`;
    case "stance.delete":
      return "document stance cleared";
    case "submit":
      return "submitted";
    case "skip":
      return `skipped (${op.reason})`;
    default:
      return op.kind;
  }
}
