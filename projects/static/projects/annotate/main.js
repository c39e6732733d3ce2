// The workspace page: reads the json_script payload, wires the modules, handles keys and
// the mouse. The model lives in state.js, saving in sync.js, painting in render.js and
// relations.js, the sidebar in panel.js; this file decides what a key or a click means.

import { request } from "../../site/api.js";
import { Keymap, comboOf } from "./keymap.js";
import { TextMap } from "./offsets.js";
import { attributeId, excerpt, Panel, renderHelp, TypeChooser } from "./panel.js";
import { Arcs, HINT_KEYS } from "./relations.js";
import { labelColours, Painter } from "./render.js";
import {
  apply,
  applyAll,
  check,
  cloneModel,
  describe,
  History,
  modelFrom,
  newId,
  relationChoices,
  relationsOf,
  Rules,
  spansInOrder,
} from "./state.js";
import { Outbox, orphanedElsewhere, outboxPrefix, Sync } from "./sync.js";
import { Tokens } from "./tokens.js";

performance.mark("ws:start");

// How far (CSS pixels) a press on the selected span must move to become a dragged link.
const DRAG_PX = 5;

const STATUS_TEXT = {
  saved: () => "All changes saved",
  saving: (n) => `Saving… (${n} queued)`,
  offline: (n) => `Offline: ${n} change${n === 1 ? "" : "s"} kept in this browser, retrying`,
  retrying: (n) => `Server error: retrying (${n} queued)`,
  blocked: (n) =>
    `Not saved: signed out or not allowed. ${n} change${n === 1 ? "" : "s"} kept here; log in again in another tab`,
};
const STATUS_LABELS = {
  not_started: "Not started",
  in_progress: "In progress",
  submitted: "Submitted",
  skipped: "Skipped",
};

/** localStorage, or a stand-in in memory when the browser refuses it (then we say so). */
function storage() {
  try {
    const s = window.localStorage;
    s.setItem("annotate:probe", "1");
    s.removeItem("annotate:probe");
    return s;
  } catch {
    const map = new Map();
    return {
      get length() {
        return map.size;
      },
      key: (i) => [...map.keys()][i] ?? null,
      getItem: (k) => (map.has(k) ? map.get(k) : null),
      setItem: (k, v) => map.set(k, String(v)),
      removeItem: (k) => map.delete(k),
      memoryOnly: true,
    };
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class Workspace {
  constructor(data) {
    this.data = data;
    this.scheme = data.scheme;
    this.editable = data.editable;
    this.textEl = document.getElementById("ws-text");
    this.article = document.getElementById("ws-article");
    this.bar = document.querySelector(".ws-bar");
    this.map = new TextMap(this.textEl);
    this.rules = new Rules(this.scheme, {
      length: data.document.length,
      allowOverlap: data.project.allow_overlap,
    });
    this.history = new History();
    this.local = modelFrom(data.annotation);
    this.server = modelFrom(data.annotation);
    this.sync = null;
    // what is selected: text ({start, end} UTF-16 units, with the keyboard's anchor and focus
    // words), or a span, or one of its relations; the keyboard cursor is a word
    this.sel = null;
    this.cursor = null;
    this.caretHint = 0;
    this.selected = null;
    this.selectedRelation = null;
    this.linking = null;
    this.armed = null;
    this.lastClick = null;
    // a press on the selected span (may become a dragged link), the link being dragged, and
    // the relation type chooser at a drop point
    this.press = null;
    this.drag = null;
    this.chooser = null;
    this.store = storage();

    if (this.map.cp.points !== data.document.length) {
      this.editable = false;
      this.banner(
        `The text on this page (${this.map.cp.points} characters) does not match the document ` +
          `(${data.document.length}); editing is off so that no offset can be wrong. Reload the page.`,
        "error",
      );
    }

    // the sticky sidebar sits below the sticky bar, whatever its height at this zoom
    const root = document.getElementById("ws");
    new ResizeObserver(() => root.style.setProperty("--ws-bar-h", `${this.bar.offsetHeight}px`)).observe(this.bar);

    this.keymap = new Keymap(this.scheme);
    this.attributeKeys = new Map(
      this.keymap.rows.filter((r) => r.action === "attribute").map((r) => [r.arg, r.keys[0]]),
    );
    this.safePalette = this.store.getItem("annotate:palette") !== "scheme";
    this.colours = labelColours(this.scheme.span_labels, this.safePalette);
    this.painter = new Painter({ map: this.map, labels: this.scheme.span_labels });
    this.painter.setColours(this.colours);
    this.arcs = new Arcs({
      svg: document.getElementById("ws-arcs"),
      article: this.article,
      painter: this.painter,
      relationTypes: this.scheme.relation_types,
    });
    this.arcs.enabled = this.store.getItem("annotate:arcs") !== "off";
    this.panel = new Panel({
      ws: this,
      scheme: this.scheme,
      suggestions: data.suggestions || {},
      attributeKeys: this.attributeKeys,
      arcStyle: (type) => this.arcs.styleOf(type),
    });
    renderHelp(document.getElementById("ws-help-body"), this.keymap.help(), this.keymap.clashes);
    if (this.editable) this.startSync();
    // keyboard first: the text has the focus from the start (not when a link targets a part);
    // focused before the first paint, so that the page is laid out once, not twice, and
    // before the listeners are wired, so that its focus event does not paint every span an
    // extra time just before the first render does
    if (!window.location.hash) this.textEl.focus({ preventScroll: true });
    this.wire();
    this.render("first");
    // Usable from here (keys, mouse, saving), offline too; "ready" waits for what a restored
    // queue became (saved, or offline/retrying and shown as such), so that nobody reads the
    // page in between: a status of "saving" that is about to turn into something else.
    root.dataset.interactive = "true";
    performance.mark("ws:interactive");
    this.restored().then(() => {
      root.dataset.ready = "true";
      performance.mark("ws:ready");
    });
    (window.requestIdleCallback || setTimeout)(() => this.tokens.nextToken(0));
  }

  /** Resolves once every queue restored at load (this document's, others') has been tried. */
  restored() {
    const senders = [this.sync, ...(this.drains || [])].filter(Boolean);
    return Promise.all(senders.map((sync) => sync.attempted()));
  }

  /** Words (Intl.Segmenter): made on first use, or when the page is idle after loading. */
  get tokens() {
    if (!this._tokens) this._tokens = new Tokens(this.map.text, document.documentElement.lang || undefined);
    return this._tokens;
  }

  // --- saving -------------------------------------------------------------------------------

  startSync() {
    const d = this.data;
    const ids = { project: d.project.id, document: d.document.id, user: d.user.id };
    const prefix = outboxPrefix(ids);
    let tab = window.sessionStorage?.getItem("annotate:tab") || newId("t");
    let outbox = new Outbox({ storage: this.store, prefix, tab });
    if (outbox.heldElsewhere()) {
      // a duplicated tab copied this tab's id: take a new one
      tab = newId("t");
      outbox = new Outbox({ storage: this.store, prefix, tab });
    }
    try {
      window.sessionStorage.setItem("annotate:tab", tab);
    } catch {
      // without sessionStorage a reload adopts the queue as an orphan instead
    }
    outbox.open();
    this.outbox = outbox;
    this.sync = new Sync({
      transport: request,
      base: d.urls.api,
      outbox,
      server: this.server,
      rules: this.rules,
      onEvent: (e) => this.onSync(e),
    });
    if (outbox.ops.length) {
      const n = outbox.ops.length;
      this.sync.requeue();
      this.announce(`${n} unsaved change${n === 1 ? "" : "s"} from before were restored and are being sent.`);
    }
    if (this.store.memoryOnly) {
      this.banner(
        "This browser does not let the page keep changes (private mode or storage off): keep this tab open until it says saved.",
        "warn",
      );
    }
    window.addEventListener("pagehide", () => outbox.release());
    window.addEventListener("online", () => this.sync.kick());
    setInterval(() => outbox.beat(), 5000);
    setInterval(() => {
      if (outbox.adoptOrphans()) {
        outbox.save();
        this.sync.requeue();
      }
    }, 10000);
    // another tab saved this annotation: re-read it when nothing here is waiting
    let timer = 0;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.sync.refresh(), 400);
    };
    window.addEventListener("storage", (e) => {
      if (e.key && e.key.startsWith(prefix) && e.key !== outbox.key && e.newValue === null) refresh();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") refresh();
    });
    this.drainOthers(ids);
  }

  /** Send what earlier pages left queued for other documents of this project. */
  drainOthers(ids) {
    this.drains = [];
    window.addEventListener("online", () => this.drains.forEach((d) => d.kick()));
    const others = orphanedElsewhere(this.store, ids);
    for (const docId of others.keys()) {
      const outbox = new Outbox({
        storage: this.store,
        prefix: outboxPrefix({ ...ids, document: docId }),
        tab: newId("t"),
      });
      outbox.open();
      const n = outbox.ops.length;
      if (!n) continue;
      window.addEventListener("pagehide", () => outbox.release());
      const sync = new Sync({
        transport: request,
        base: `${this.data.urls.api_documents}${encodeURIComponent(docId)}/annotation/`,
        outbox,
        server: null,
        rules: new Rules(this.scheme, { length: Number.MAX_SAFE_INTEGER, allowOverlap: true }),
        onEvent: (e) => {
          if (e.type === "status" && this.sync) this.showStatus(this.sync.status, this.sync.pending);
          if (e.type === "rebased" && e.dropped.length) {
            this.banner(
              `Changes left on another document could not all be saved: ${e.dropped
                .map((d) => `${describe(d.op, null)} (${d.reason})`)
                .join("; ")}`,
              "error",
            );
          }
        },
      });
      this.drains.push(sync);
      this.announce(`Sending ${n} change${n === 1 ? "" : "s"} left on another document.`);
      sync.flush().then(() => this.announce("The changes left on another document are saved."));
    }
  }

  onSync(e) {
    if (e.type === "status") {
      this.showStatus(e.status, e.pending, e.error);
    } else if (e.type === "acked") {
      if (e.op.kind === "submit" || e.op.kind === "skip") this.showDocStatus(e.server.status);
    } else if (e.type === "rebased") {
      const before = this.local;
      this.local = cloneModel(e.server);
      for (const op of e.kept) if (check(this.local, op, this.rules) === null) apply(this.local, op);
      if (this.selected && !this.local.spans.has(this.selected)) this.selected = null;
      if (this.selectedRelation && !this.local.relations.has(this.selectedRelation)) {
        this.selectedRelation = null;
      }
      if (this.linking) this.cancelLink(false);
      this.history.clear();
      this.reportRebase(before, this.local, e);
      this.render();
    }
  }

  /** Say what changed when the server's state replaced ours, and what could not be kept. */
  reportRebase(before, after, e) {
    const lines = [];
    const spanWord = (n) => `${n} span${n === 1 ? "" : "s"}`;
    const added = [...after.spans.values()].filter((s) => !before.spans.has(s.id));
    const removed = [...before.spans.values()].filter((s) => !after.spans.has(s.id));
    const changed = [...after.spans.values()].filter((s) => {
      const b = before.spans.get(s.id);
      return b && JSON.stringify(b) !== JSON.stringify(s);
    });
    const name = (s) => this.panel.spanName(s);
    if (added.length) lines.push(`${spanWord(added.length)} added: ${added.map(name).join(", ")}`);
    if (removed.length) lines.push(`${spanWord(removed.length)} removed: ${removed.map(name).join(", ")}`);
    if (changed.length) lines.push(`${spanWord(changed.length)} changed: ${changed.map(name).join(", ")}`);
    const relAdded = [...after.relations.keys()].filter((id) => !before.relations.has(id)).length;
    const relRemoved = [...before.relations.keys()].filter((id) => !after.relations.has(id)).length;
    if (relAdded) lines.push(`${relAdded} relation${relAdded === 1 ? "" : "s"} added`);
    if (relRemoved) lines.push(`${relRemoved} relation${relRemoved === 1 ? "" : "s"} removed`);
    if (JSON.stringify([...before.stances]) !== JSON.stringify([...after.stances])) {
      lines.push("the document stance changed");
    }
    const dropped = e.dropped.map((d) => `Not saved: ${describe(d.op, before, (s) => `“${excerpt(this.map.cp.slice(s.start, s.end))}”`)}: ${d.reason}`);
    if (!e.conflict && !dropped.length) return;
    const head = e.conflict
      ? "This annotation was changed in another tab or window; this page now shows the current state" +
        (e.kept.length ? `, with your ${e.kept.length} unsaved change${e.kept.length === 1 ? "" : "s"} re-applied on top.` : ".")
      : "The server refused a change.";
    this.banner([head, ...(lines.length ? [`Changed: ${lines.join("; ")}.`] : []), ...dropped], dropped.length ? "error" : "warn");
    this.announce(head, true);
  }

  showStatus(status, pending, error) {
    const box = document.getElementById("ws-save");
    const previous = box.dataset.status;
    box.dataset.status = status;
    const waiting = (this.drains || []).filter((d) => d.pending);
    const elsewhere = waiting.reduce((n, d) => n + d.pending, 0);
    const text = document.getElementById("ws-save-text");
    text.textContent =
      (STATUS_TEXT[status] || (() => status))(pending) +
      (elsewhere ? ` · ${elsewhere} from another document waiting` : "");
    text.title = text.textContent; // the slot may cut it short (it must not move the page)
    const stuck = ["offline", "retrying", "blocked"];
    document.getElementById("ws-retry").hidden =
      !stuck.includes(status) && !waiting.some((d) => stuck.includes(d.status));
    box.title = error ? String(error.message || error) : "";
    if (status !== previous && (status === "offline" || status === "blocked")) {
      this.announce(STATUS_TEXT[status](pending), true);
    } else if (status === "saved" && ["offline", "retrying", "blocked"].includes(previous)) {
      this.announce("Back online: all changes saved.");
    }
  }

  showDocStatus(status) {
    document.getElementById("ws-doc-status").textContent = STATUS_LABELS[status] || status;
  }

  // --- changing the annotation ------------------------------------------------------------

  /** Apply operations as one undoable step and queue them for the server. */
  commit(ops, name, { record = true, paint = true } = {}) {
    if (!this.editable) {
      this.announce(`Read-only: this is ${this.data.annotator}'s work.`, true);
      return null;
    }
    const result = applyAll(this.local, ops, this.rules);
    if (result.problem) {
      this.announce(result.problem, true);
      this.flash(result.problem);
      return null;
    }
    if (record) this.history.record(name, result.ops.filter((op) => op.kind !== "submit" && op.kind !== "skip"));
    this.sync.enqueue(result.ops);
    if (result.ops.some((op) => op.kind === "submit" || op.kind === "skip")) this.showDocStatus(this.local.status);
    else if (this.local.status === "in_progress") this.showDocStatus("in_progress");
    if (paint) this.render();
    return result.ops;
  }

  spanText(span) {
    return this.map.cp.slice(span.start, span.end);
  }

  createSpan(units, label) {
    const cp = this.map.cp;
    const span = {
      id: newId("s"),
      start: cp.point(units.start),
      end: cp.point(units.end),
      label,
      attributes: {},
    };
    const done = this.commit([{ kind: "span.create", span }], `label ${label}`, { paint: false });
    if (!done) return;
    this.clearTextSelection();
    this.cursor = null;
    this.selected = span.id;
    this.selectedRelation = null;
    this.announce(`${label}: “${excerpt(this.spanText(span))}”`);
    this.render();
  }

  relabel(id, label) {
    const span = this.local.spans.get(id);
    if (!span || span.label === label) return;
    if (this.commit([{ kind: "span.update", id, set: { label } }], `relabel ${label}`)) {
      this.announce(`Now ${label}: “${excerpt(this.spanText(span))}”`);
    }
  }

  setAttribute(id, name, value) {
    const span = this.local.spans.get(id);
    if (!span) return;
    const attributes = { ...span.attributes };
    if (value) attributes[name] = value;
    else delete attributes[name];
    if (this.commit([{ kind: "span.update", id, set: { attributes } }], `${name}`)) {
      this.announce(value ? `${name}: ${value}` : `${name} cleared`);
    }
  }

  setStance(targetId, value) {
    const op = value
      ? { kind: "stance.set", target: Number(targetId), value }
      : { kind: "stance.delete", target: Number(targetId) };
    if (this.commit([op], "document stance")) {
      this.announce(value ? `Document stance: ${value}` : "Document stance cleared");
    }
  }

  deleteSpan(id) {
    const span = this.local.spans.get(id);
    if (!span) return;
    const n = relationsOf(this.local, id).length;
    if (this.commit([{ kind: "span.delete", id }], "delete span")) {
      this.selected = null;
      this.selectedRelation = null;
      this.caretHint = this.map.cp.unit(span.start);
      this.announce(
        `Deleted ${span.label} “${excerpt(this.spanText(span))}”${n ? ` and its ${n} relation${n === 1 ? "" : "s"}` : ""}. Ctrl+Z brings it back.`,
      );
      this.render();
      this.focusText();
    }
  }

  deleteRelation(id) {
    const r = this.local.relations.get(id);
    if (!r) return;
    if (this.commit([{ kind: "relation.delete", id }], "delete relation")) {
      this.selectedRelation = null;
      this.announce(`Deleted the ${r.type} relation. Ctrl+Z brings it back.`);
      this.render();
    }
  }

  moveBound(id, which, dir) {
    const span = this.local.spans.get(id);
    if (!span) return;
    const cp = this.map.cp;
    const t = this.tokens;
    let start = cp.unit(span.start);
    let end = cp.unit(span.end);
    if (which === "start") {
      const tok = dir < 0 ? t.prevToken(start) : t.nextToken(t.segment(start).end);
      if (!tok || tok.start >= end) return this.announce("The span cannot start later.");
      start = tok.start;
    } else {
      const tok = dir > 0 ? t.nextToken(end) : t.prevToken(t.segment(end - 1).start);
      if (!tok || tok.end <= start) return this.announce("The span cannot end earlier.");
      end = tok.end;
    }
    const set = { start: cp.point(start), end: cp.point(end) };
    if (this.commit([{ kind: "span.update", id, set }], "boundaries")) {
      this.announce(`${span.label}: “${excerpt(cp.slice(set.start, set.end))}”`);
    }
  }

  undo() {
    const step = this.history.peekUndo();
    if (!step) return this.announce("Nothing to undo.");
    const result = applyAll(this.local, step.ops, this.rules);
    if (result.problem) {
      this.history.undone([]);
      return this.announce(`Cannot undo ${step.name}: ${result.problem}`, true);
    }
    this.history.undone(result.ops);
    this.sync.enqueue(result.ops);
    this.fixSelection();
    this.announce(`Undone: ${step.name}.`);
    this.render();
  }

  redo() {
    const step = this.history.peekRedo();
    if (!step) return this.announce("Nothing to redo.");
    const result = applyAll(this.local, step.ops, this.rules);
    if (result.problem) {
      this.history.redone([]);
      return this.announce(`Cannot redo ${step.name}: ${result.problem}`, true);
    }
    this.history.redone(result.ops);
    this.sync.enqueue(result.ops);
    const created = result.ops.find((op) => op.kind === "span.create");
    if (created) this.selected = created.span.id;
    this.fixSelection();
    this.announce(`Redone: ${step.name}.`);
    this.render();
  }

  fixSelection() {
    if (this.selected && !this.local.spans.has(this.selected)) this.selected = null;
    if (this.selectedRelation && !this.local.relations.has(this.selectedRelation)) this.selectedRelation = null;
  }

  // --- relations: link mode ---------------------------------------------------------------

  startLink(type) {
    if (!this.editable) return this.announce(`Read-only: this is ${this.data.annotator}'s work.`, true);
    const from = this.selected && this.local.spans.get(this.selected);
    if (!from) return this.announce("Select a span first: the relation starts there.", true);
    const candidates = spansInOrder(this.local)
      .filter((s) => s.id !== from.id)
      .filter(
        (s) =>
          check(this.local, { kind: "relation.create", relation: { id: "?", from: from.id, to: s.id, type } }, this.rules) ===
          null,
      )
      .sort((a, b) => Math.abs(a.start - from.start) - Math.abs(b.start - from.start));
    if (!candidates.length) {
      const rule = this.scheme.span_labels
        .map((l) => this.rules.endpointProblem(type, from.label, l.name))
        .find(Boolean);
      const why = rule || "every possible target is already linked this way, or there is no other span";
      this.announce(`No target for “${type}” from this ${from.label}: ${why}`, true);
      this.flash(`No target for “${type}” from this ${from.label}: ${why}`);
      return;
    }
    const hints = new Map();
    candidates.slice(0, HINT_KEYS.length).forEach((s, i) => hints.set(HINT_KEYS[i], s.id));
    this.linking = { type, from: from.id, candidates: candidates.map((s) => s.id), index: 0, hints };
    this.clearTextSelection();
    this.focusText();
    this.render();
    this.ensureVisible(this.spanUnits(candidates[0]));
    this.announce(
      `Link ${from.label} “${excerpt(this.spanText(from))}” by ${type}: pick the target with Tab, its letter, or a click; Enter links, Esc stops. ` +
        this.targetText(),
    );
  }

  targetText() {
    const l = this.linking;
    const s = this.local.spans.get(l.candidates[l.index]);
    const hint = [...l.hints].find(([, id]) => id === s.id)?.[0];
    return `Target ${l.index + 1} of ${l.candidates.length}${hint ? ` (${hint})` : ""}: ${s.label} “${excerpt(this.spanText(s))}”`;
  }

  linkTo(targetId) {
    const l = this.linking;
    this.linking = null;
    this.relate(l.from, targetId, l.type);
  }

  /** Make a relation (the key's path and the mouse's): one undoable, saved step. */
  relate(from, to, type) {
    const relation = { id: newId("r"), from, to, type };
    if (this.commit([{ kind: "relation.create", relation }], `${type} relation`)) {
      const target = this.local.spans.get(to);
      this.selected = from;
      this.selectedRelation = relation.id;
      this.announce(`Linked: ${type} → ${target.label} “${excerpt(this.spanText(target))}”`);
    }
    this.render();
  }

  cancelLink(say = true) {
    this.linking = null;
    if (say) this.announce("Linking stopped.");
    this.render();
  }

  // --- selection and the cursor -----------------------------------------------------------

  spanUnits(span) {
    return { start: this.map.cp.unit(span.start), end: this.map.cp.unit(span.end) };
  }

  selectSpan(id, { scroll = true, focus = true, say = true } = {}) {
    const span = this.local.spans.get(id);
    if (!span) return;
    this.selected = id;
    this.selectedRelation = null;
    this.cursor = null;
    this.clearTextSelection();
    this.caretHint = this.map.cp.unit(span.start);
    if (scroll) this.ensureVisible(this.spanUnits(span));
    if (focus) this.focusText();
    const attrs = Object.entries(span.attributes)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    if (say) this.announce(`${span.label}: “${excerpt(this.spanText(span))}”${attrs ? `, ${attrs}` : ""}`);
    this.render();
  }

  selectRelation(id) {
    const r = this.local.relations.get(id);
    if (!r) return;
    this.selectedRelation = id;
    if (this.selected !== r.from && this.selected !== r.to) this.selected = r.from;
    const from = this.local.spans.get(r.from);
    const to = this.local.spans.get(r.to);
    this.ensureVisible(this.spanUnits(from));
    this.announce(`Relation: ${from.label} “${excerpt(this.spanText(from))}” ${r.type} ${to.label} “${excerpt(this.spanText(to))}”. Delete removes it.`);
    this.render();
  }

  setSelection(units, { anchor = null, focus = null, exact = false, say = true } = {}) {
    this.sel = { start: units.start, end: units.end, exact };
    this.anchorTok = anchor || this.tokens.tokenNear(units.start);
    this.focusTok = focus || this.tokens.segment(Math.max(units.start, units.end - 1));
    this.selected = null;
    this.selectedRelation = null;
    this.cursor = null;
    const range = this.map.unitRange(units.start, units.end);
    const native = window.getSelection();
    native.removeAllRanges();
    native.addRange(range);
    if (say) {
      const text = this.map.text.slice(units.start, units.end);
      this.announce(`Selected “${excerpt(text, 8, 80)}”${this.armed ? "" : ": press a label's key"}`);
    }
  }

  clearTextSelection() {
    this.sel = null;
    const native = window.getSelection();
    if (native.rangeCount && this.textEl.contains(native.anchorNode)) native.removeAllRanges();
  }

  /** Move the keyboard cursor to a word, scrolling it into view. */
  moveCursor(tok) {
    if (!tok) return;
    this.cursor = { start: tok.start, end: tok.end };
    this.caretHint = tok.start;
    this.selected = null;
    this.selectedRelation = null;
    this.clearTextSelection();
    this.ensureVisible(this.cursor);
    this.render("cursor");
  }

  /** The first word in view, where the keyboard starts when the text gets focus. */
  firstVisibleToken() {
    const box = this.textEl.getBoundingClientRect();
    const top = Math.max(box.top + 4, this.barBottom() + 8);
    const unit = this.unitAtPoint(box.left + 4, top + 8);
    return this.tokens.tokenNear(unit ?? this.caretHint ?? 0);
  }

  barBottom() {
    const r = this.bar.getBoundingClientRect();
    return getComputedStyle(this.bar).position === "sticky" ? Math.max(0, r.bottom) : 0;
  }

  unitAtPoint(x, y) {
    let node = null;
    let offset = 0;
    if (document.caretPositionFromPoint) {
      const p = document.caretPositionFromPoint(x, y);
      if (p) [node, offset] = [p.offsetNode, p.offset];
    } else if (document.caretRangeFromPoint) {
      const r = document.caretRangeFromPoint(x, y);
      if (r) [node, offset] = [r.startContainer, r.startOffset];
    }
    if (!node || !this.textEl.contains(node)) return null;
    return this.map.index.toIndex(node, offset);
  }

  /** The word a line above or below ``tok`` (keeping the column of the first vertical move). */
  lineToken(tok, dir) {
    const range = this.map.unitRange(tok.start, tok.end);
    const rects = [...range.getClientRects()];
    if (!rects.length) return null;
    const box = dir > 0 ? rects.at(-1) : rects[0];
    const lh = Number.parseFloat(getComputedStyle(this.textEl).lineHeight) || box.height * 1.6;
    if (this.goalX === undefined || this.goalX === null) this.goalX = box.left + Math.min(box.width / 2, 8);
    for (let step = 1; step <= 4; step++) {
      let y = dir > 0 ? box.bottom + lh * (step - 0.5) : box.top - lh * (step - 0.5);
      if (y < this.barBottom() + 2 || y > window.innerHeight - 2) {
        window.scrollBy(0, dir * lh * 3);
        return this.lineToken(tok, dir); // positions changed; measure again
      }
      const unit = this.unitAtPoint(this.goalX, y);
      if (unit === null) continue;
      const found = this.tokens.tokenNear(unit);
      if (found && (dir > 0 ? found.start >= tok.end : found.end <= tok.start)) return found;
    }
    return null;
  }

  ensureVisible(units) {
    const rect = this.map.unitRange(units.start, units.end).getBoundingClientRect();
    const top = this.barBottom() + 12;
    const bottom = window.innerHeight - 12;
    if (rect.top < top || rect.bottom > bottom) {
      window.scrollBy(0, rect.top - top - (bottom - top) / 3);
    }
  }

  /** Back to the text, where the work was (on a narrow screen the card lies below it). */
  focusText() {
    if (document.activeElement === this.textEl) return;
    this.textEl.focus({ preventScroll: true });
    const span = this.selected && this.local.spans.get(this.selected);
    const where = span ? this.spanUnits(span) : this.cursor || this.sel;
    if (where) this.ensureVisible(where);
  }

  // --- keys ---------------------------------------------------------------------------------

  focusContext(target) {
    const active = document.activeElement;
    if (active?.closest?.("dialog[open]")) return "dialog";
    if (active && (active.matches("input, textarea, select") || active.isContentEditable)) return "field";
    if (active?.closest?.("[data-choice]")) return "choice";
    if (!active || active === document.body || active === this.textEl) return "text";
    return "page";
  }

  onKey(e) {
    if (e.defaultPrevented || e.isComposing) return;
    const t0 = performance.now();
    const focus = this.focusContext(e.target);
    if (focus === "dialog") return;
    if (this.press || this.drag) {
      // while the mouse drags a link, only Esc does something: it stops
      e.preventDefault();
      if (e.key === "Escape") this.cancelDrag();
      return;
    }
    const combo = comboOf(e);
    if (this.linking && focus !== "field" && this.linking.hints.has(combo)) {
      e.preventDefault();
      this.linkTo(this.linking.hints.get(combo));
      requestAnimationFrame(() => performance.measure("ws:link.done", { start: t0, end: performance.now() }));
      return;
    }
    const row = this.keymap.match(combo, {
      focus,
      linking: Boolean(this.linking),
      span: Boolean(this.selected),
      relation: Boolean(this.selectedRelation),
      selection: Boolean(this.sel),
    });
    if (!row) {
      if (this.linking && combo.length === 1 && focus !== "field") {
        e.preventDefault();
        this.announce("Linking: Tab for the next target, a letter shown beside a target, Enter to link, Esc to stop.");
      }
      return;
    }
    if (row.edits && !this.editable) {
      e.preventDefault();
      return this.announce(`Read-only: this is ${this.data.annotator}'s work.`, true);
    }
    if (!row.action.startsWith("extend.line") && !row.action.startsWith("cursor.down") && !row.action.startsWith("cursor.up")) {
      this.goalX = null;
    }
    const handled = this.run(row, e);
    if (handled !== false) {
      e.preventDefault();
      e.stopPropagation();
      if (row.edits) {
        // the handler's own work, and until the frame that shows it
        performance.measure(`ws:${row.action}:handler`, { start: t0, end: performance.now() });
        requestAnimationFrame(() => performance.measure(`ws:${row.action}`, { start: t0, end: performance.now() }));
      }
    }
  }

  run(row, e) {
    const arg = row.arg;
    const t = this.tokens;
    const from = () => this.cursor || (this.selected && this.spanUnits(this.local.spans.get(this.selected))) || null;
    switch (row.action) {
      case "cursor.next": {
        const here = from();
        return this.moveCursor(here ? t.nextToken(here.end) || t.tokenNear(here.start) : this.firstVisibleToken());
      }
      case "cursor.prev": {
        const here = from();
        return this.moveCursor(here ? t.prevToken(here.start) || t.tokenNear(here.start) : this.firstVisibleToken());
      }
      case "cursor.down":
      case "cursor.up": {
        const here = from() || this.firstVisibleToken();
        const tok = t.tokenNear(here.start);
        return this.moveCursor(this.lineToken(tok, row.action === "cursor.down" ? 1 : -1) || tok);
      }
      case "cursor.paragraph": {
        const here = from() || this.firstVisibleToken();
        return this.moveCursor(arg > 0 ? t.nextParagraph(here.end) : t.prevParagraph(here.start));
      }
      case "cursor.edge":
        return this.moveCursor(arg > 0 ? t.prevToken(t.length) : t.nextToken(0));
      case "extend.word":
      case "extend.line": {
        if (!this.sel) {
          const start = from() || this.firstVisibleToken();
          this.anchorTok = t.tokenNear(start.start);
          this.focusTok = this.anchorTok;
        }
        const f = this.focusTok;
        const next =
          row.action === "extend.word"
            ? arg > 0
              ? t.nextToken(f.end)
              : t.prevToken(f.start)
            : this.lineToken(f, arg);
        if (!next) return this.announce(arg > 0 ? "End of the text." : "Start of the text.");
        const a = this.anchorTok;
        const units = { start: Math.min(a.start, next.start), end: Math.max(a.end, next.end) };
        this.setSelection(units, { anchor: a, focus: next });
        this.ensureVisible({ start: next.start, end: next.end });
        return this.render();
      }
      case "extend.char": {
        let units = this.sel || from() || this.firstVisibleToken();
        units = { start: units.start, end: units.end };
        units.end = arg > 0 ? t.nextGrapheme(units.end) : Math.max(t.nextGrapheme(units.start), t.prevGrapheme(units.end));
        this.setSelection(units, { exact: true });
        return this.render();
      }
      case "label": {
        if (this.sel) return this.createSpan(this.sel, arg);
        if (this.cursor) return this.createSpan(this.cursor, arg);
        if (this.selected) return this.relabel(this.selected, arg);
        this.armed = this.armed === arg ? null : arg;
        this.announce(this.armed ? `${arg}: now select text with the mouse to label it.` : `${arg} no longer armed.`);
        return this.render();
      }
      case "span.next":
        return this.nextSpan(arg);
      case "delete":
        if (this.selectedRelation) return this.deleteRelation(this.selectedRelation);
        return this.deleteSpan(this.selected);
      case "bound":
        return this.moveBound(this.selected, arg[0], arg[1]);
      case "relation.next": {
        const rels = relationsOf(this.local, this.selected);
        if (!rels.length) return this.announce("This span has no relations.");
        const i = rels.findIndex((r) => r.id === this.selectedRelation);
        const j = i < 0 ? (arg > 0 ? 0 : rels.length - 1) : (i + arg + rels.length) % rels.length;
        return this.selectRelation(rels[j].id);
      }
      case "link.start":
        return this.startLink(arg);
      case "link.next": {
        const l = this.linking;
        l.index = (l.index + arg + l.candidates.length) % l.candidates.length;
        this.ensureVisible(this.spanUnits(this.local.spans.get(l.candidates[l.index])));
        this.announce(this.targetText());
        return this.render();
      }
      case "link.done":
        return this.linkTo(this.linking.candidates[this.linking.index]);
      case "link.cancel":
        return this.cancelLink();
      case "attribute":
        return this.openAttribute(arg);
      case "choice":
        return this.pickChoice(e.key);
      case "doc.stance":
        return this.focusDocStance();
      case "submit":
        this.submitAndNext();
        return;
      case "skip":
        return this.openSkip();
      case "nav":
        return this.go(arg);
      case "undo":
        return this.undo();
      case "redo":
        return this.redo();
      case "escape":
        return this.escape();
      case "help":
        return this.toggleHelp();
      default:
        return false;
    }
  }

  nextSpan(dir) {
    const spans = spansInOrder(this.local);
    if (!spans.length) return false;
    let i;
    if (this.selected) {
      i = spans.findIndex((s) => s.id === this.selected) + dir;
    } else {
      const at = this.cursor ? this.cursor.start : this.caretHint || 0;
      const cp = this.map.cp.point(Math.min(at, this.map.cp.units));
      i = dir > 0 ? spans.findIndex((s) => s.start >= cp) : spans.findLastIndex((s) => s.start < cp);
    }
    if (i < 0 || i >= spans.length) {
      // past the last span: leave the text, as Tab does elsewhere
      this.selected = null;
      this.render();
      return false;
    }
    this.selectSpan(spans[i].id);
  }

  openAttribute(name) {
    const attributes = this.scheme.span_attributes || [];
    const index = attributes.findIndex((a) => a.name === name);
    const attribute = attributes[index];
    this.render();
    if (attribute?.kind === "choice") {
      const group = document.querySelector(`[data-choice="attr-${CSS.escape(name)}"]`);
      const button = group?.querySelector('[aria-pressed="true"]') || group?.querySelector("button");
      button?.focus();
      this.announce(`${name}: ${(attribute.values || []).map((v, i) => `${i + 1} ${v}`).join(", ")}; 0 clears.`);
    } else {
      document.getElementById(attributeId(name, index))?.focus();
    }
  }

  focusDocStance() {
    const groups = [...document.querySelectorAll('#ws-doc-body [data-choice]')];
    if (!groups.length) return this.announce("This project has no stance targets.");
    const current = groups.findIndex((g) => g.contains(document.activeElement));
    const group = groups[(current + 1) % groups.length];
    const button = group.querySelector('[aria-pressed="true"]') || group.querySelector("button");
    button.focus();
    const values = this.scheme.stance_values.map((v, i) => `${i + 1} ${v}`).join(", ");
    const target = this.scheme.stance_targets[(current + 1) % groups.length];
    this.announce(`Document stance toward “${target.name}”: ${values}; 0 clears.`);
  }

  pickChoice(key) {
    const group = document.activeElement.closest("[data-choice]");
    if (!group) return false;
    const buttons = [...group.querySelectorAll("button")];
    const n = Number(key);
    const value = n === 0 ? null : buttons[n - 1]?.dataset.value;
    if (n !== 0 && !value) return this.announce(`There are only ${buttons.length} values.`);
    const which = group.dataset.choice;
    if (which.startsWith("attr-")) {
      if (this.selected) this.setAttribute(this.selected, which.slice(5), value);
    } else if (which.startsWith("doc-")) {
      this.setStance(which.slice(4), value);
    }
    this.focusText();
  }

  escape() {
    if (this.linking) return this.cancelLink();
    if (this.armed) {
      this.armed = null;
      this.announce("No label armed.");
    } else if (this.sel) {
      this.clearTextSelection();
    } else if (this.selectedRelation) {
      this.selectedRelation = null;
    } else if (this.selected) {
      this.selected = null;
    } else if (this.cursor) {
      this.cursor = null;
    }
    this.focusText();
    this.render();
  }

  // --- documents ----------------------------------------------------------------------------

  async waitSaved(ms) {
    if (!this.sync || !this.sync.pending) return true;
    return Promise.race([this.sync.flush().then(() => true), sleep(ms).then(() => false)]);
  }

  async leaveTo(url, what) {
    if (!url) return;
    if (this.sync?.pending) {
      this.announce(`Saving before ${what}…`);
      const saved = await this.waitSaved(3000);
      if (!saved) {
        this.banner(
          `Not everything is saved yet (${this.sync.pending} queued). The changes stay in this browser and are sent from the next page.`,
          "warn",
        );
        await sleep(1200);
      }
    }
    window.location.assign(url);
  }

  go(which) {
    const nav = this.data.navigation[which];
    if (!nav) return this.announce(which === "next" ? "This is the last document." : "This is the first document.");
    const suffix = this.editable ? "" : `?annotator=${encodeURIComponent(this.data.annotator)}`;
    this.leaveTo(nav.url + suffix, "moving on");
  }

  nextUrl() {
    return this.data.navigation.next_open?.url || this.data.urls.my_work;
  }

  async submitAndNext() {
    if (!this.editable) return;
    if (this.linking) this.cancelLink(false);
    if (this.local.status !== "submitted") {
      if (!this.commit([{ kind: "submit" }], "submit", { record: false })) return;
    }
    this.announce("Submitted. Opening the next document…");
    const saved = await this.waitSaved(8000);
    if (!saved) {
      this.banner(
        "Submitted here, but the server has not answered yet: the submit is kept in this browser and sent as soon as it can be. You can move on.",
        "warn",
      );
      await sleep(1500);
    }
    window.location.assign(this.nextUrl());
  }

  openSkip() {
    const dialog = document.getElementById("ws-skip");
    if (!dialog) return;
    this.returnFocus = document.activeElement;
    dialog.showModal();
    document.getElementById("ws-skip-reason").focus();
  }

  async skip(reason) {
    if (!this.commit([{ kind: "skip", reason }], "skip", { record: false })) return;
    this.announce("Skipped. Opening the next document…");
    await this.waitSaved(8000);
    window.location.assign(this.nextUrl());
  }

  toggleHelp() {
    const dialog = document.getElementById("ws-help");
    if (dialog.open) return dialog.close();
    this.returnFocus = document.activeElement;
    dialog.showModal();
    document.getElementById("ws-help-close").focus();
  }

  // --- the mouse ----------------------------------------------------------------------------

  onMouseUp(e) {
    if (this.press) {
      if (this.drag) return this.finishDrag(e);
      this.press = null;
      return this.onClick(e); // a press on the selected span that did not move: a click
    }
    if (!this.mouseDown) return;
    this.mouseDown = false;
    const native = window.getSelection();
    if (!native.rangeCount || native.isCollapsed || this.linking) {
      if (this.linking) native.removeAllRanges();
      return this.onClick(e);
    }
    const units = this.map.unitsOf(native.getRangeAt(0));
    if (!units) return;
    const exact = !this.data.project.snap_to_words || e.altKey;
    const snapped = this.tokens.snap(units.start, units.end, { exact });
    if (!snapped) {
      native.removeAllRanges();
      this.sel = null;
      return this.announce("Nothing to label there: only spaces or punctuation.");
    }
    this.setSelection(snapped, { exact, say: !this.armed });
    this.focusText();
    if (this.armed) {
      const label = this.armed;
      const t0 = performance.now();
      this.armed = null;
      this.createSpan(snapped, label);
      requestAnimationFrame(() => performance.measure("ws:label", { start: t0, end: performance.now() }));
      return;
    }
    this.render();
  }

  onClick(e) {
    const unit = this.unitAtPoint(e.clientX, e.clientY);
    if (unit === null) return;
    const cp = this.map.cp.point(Math.min(unit, this.map.cp.units));
    // innermost first; clicking the same place again cycles through the spans stacked there
    const here = [...this.local.spans.values()]
      .filter((s) => s.start <= cp && cp < s.end)
      .sort((a, b) => a.end - a.start - (b.end - b.start));
    this.focusText();
    if (this.linking) {
      const target = here.find((s) => this.linking.candidates.includes(s.id));
      if (target) return this.linkTo(target.id);
      return this.announce(here.length ? "That span cannot be the target." : "Click a highlighted target, or Esc to stop.", true);
    }
    this.caretHint = unit;
    this.cursor = null;
    this.sel = null;
    if (!here.length) {
      this.selected = null;
      this.selectedRelation = null;
      return this.render();
    }
    const again = this.lastClick && Math.abs(this.lastClick - cp) < 2 && here.some((s) => s.id === this.selected);
    const i = again ? (here.findIndex((s) => s.id === this.selected) + 1) % here.length : 0;
    this.lastClick = cp;
    this.selectSpan(here[i].id, { scroll: false });
  }

  // --- the mouse: a link dragged from the selected span -------------------------------------
  //
  // A press on the selected span (no Alt, Shift or Ctrl) that moves a few pixels drags a link
  // from it; released on another span, that is the relation's target: when one relation type
  // fits the two labels it is made at once, when several do a chooser opens at the drop point,
  // when none does the scheme's reason is shown. Released on no span or on the source, or Esc:
  // nothing. A press that does not move is a click, as before. A press anywhere else selects
  // text as ever (so text inside and across other spans is selected as before), and Alt makes
  // a press on the selected span select text too. The relation goes through ``relate``: the
  // same checks, undo step and outbox as the relation key's.

  /** Whether the client point lies on ``span``'s painted line boxes (with a little slack). */
  pointInSpan(span, x, y, origin = this.article.getBoundingClientRect()) {
    const px = x - origin.left;
    const py = y - origin.top;
    return this.arcs
      .rects(span, origin)
      .some((b) => px >= b.x - 2 && px <= b.x + b.w + 2 && py >= b.y - 2 && py <= b.y + b.h + 2);
  }

  /** The innermost span under the client point, or null. */
  spanAtPoint(x, y) {
    const unit = this.unitAtPoint(x, y);
    if (unit === null) return null;
    const cp = this.map.cp.point(Math.min(unit, this.map.cp.units));
    const origin = this.article.getBoundingClientRect();
    let best = null;
    for (const s of this.local.spans.values()) {
      // the caret lands before or after the character under the pointer: one either side
      if (s.start > cp + 1 || s.end < cp - 1) continue;
      if (best && s.end - s.start >= best.end - best.start) continue;
      if (this.pointInSpan(s, x, y, origin)) best = s;
    }
    return best;
  }

  /** A press on the selected span: take it (no text selection) as a possible link drag. */
  pressSelected(e) {
    if (!this.editable || this.linking || this.chooser || !this.selected) return false;
    if (e.altKey || e.shiftKey || e.ctrlKey || e.metaKey) return false;
    const span = this.local.spans.get(this.selected);
    if (!span || !this.pointInSpan(span, e.clientX, e.clientY)) return false;
    e.preventDefault();
    this.press = { from: span.id, x: e.clientX, y: e.clientY };
    this.focusText();
    return true;
  }

  onMouseMove(e) {
    if (this.press && !(e.buttons & 1)) return this.cancelDrag(false); // released elsewhere
    if (this.press && !this.drag) {
      if (Math.hypot(e.clientX - this.press.x, e.clientY - this.press.y) < DRAG_PX) return;
      this.startDrag();
    }
    if (this.drag) {
      this.drag.x = e.clientX;
      this.drag.y = e.clientY;
      return this.scheduleDrag();
    }
    if (this.selected && this.editable && this.textEl.contains(e.target)) this.scheduleHover(e.clientX, e.clientY);
  }

  /** The grab cursor over the selected span says that it can be dragged (at most once a frame). */
  scheduleHover(x, y) {
    this._hoverAt = [x, y];
    if (this._hoverFrame) return;
    this._hoverFrame = requestAnimationFrame(() => {
      this._hoverFrame = 0;
      const span = !this.linking && this.selected && this.local.spans.get(this.selected);
      this.textEl.classList.toggle("ws-grab", Boolean(span) && this.pointInSpan(span, ...this._hoverAt));
    });
  }

  startDrag() {
    const from = this.local.spans.get(this.press.from);
    this.drag = { from: from.id, to: null, x: this.press.x, y: this.press.y, state: "free", label: "", choices: null };
    this.arcs.drag = this.drag;
    document.getElementById("ws").classList.add("ws-dragging");
    this.clearTextSelection();
    this.announce(`Linking from ${from.label} “${excerpt(this.spanText(from))}”: release on the target span; Esc stops.`);
  }

  scheduleDrag() {
    if (this._dragFrame) return;
    this._dragFrame = requestAnimationFrame(() => {
      this._dragFrame = 0;
      this.updateDrag();
    });
  }

  /** Follow the pointer: the span under it, what a drop there would do, the line to it. */
  updateDrag() {
    const d = this.drag;
    if (!d) return;
    const hit = this.spanAtPoint(d.x, d.y);
    const to = hit && hit.id !== d.from ? hit.id : null;
    if (to !== d.to) {
      d.to = to;
      d.choices = to ? relationChoices(this.local, this.rules, d.from, to) : null;
      const allowed = d.choices ? d.choices.allowed : [];
      d.state = !to ? "free" : allowed.length ? "ok" : "bad";
      d.label = !to ? "" : allowed.length ? allowed.map((t) => t.name).join(" / ") : "not allowed";
      document.getElementById("ws").classList.toggle("ws-drag-bad", d.state === "bad");
      this.render("cursor");
    }
    this.arcs.drawDrag(this.local);
    // near the top or bottom of the window the page scrolls, for targets out of view
    const top = this.barBottom() + 32;
    const bottom = window.innerHeight - 32;
    const dy = d.y < top ? -Math.min(24, top - d.y) : d.y > bottom ? Math.min(24, d.y - bottom) : 0;
    if (dy) {
      window.scrollBy(0, dy);
      this.scheduleDrag();
    }
  }

  finishDrag(e) {
    const d = this.drag;
    d.x = e.clientX;
    d.y = e.clientY;
    this.updateDrag();
    const choices = d.to ? d.choices : null;
    this.endDrag({ keepLine: Boolean(choices && choices.allowed.length > 1) });
    if (!choices) {
      this.render();
      return this.announce("Not linked: released on no other span.");
    }
    if (!choices.allowed.length) {
      this.render();
      this.announce(choices.problem, true);
      return this.flash(choices.problem);
    }
    if (choices.allowed.length === 1) return this.relate(d.from, d.to, choices.allowed[0].name);
    this.openChooser(d, choices.allowed, e.clientX, e.clientY);
  }

  endDrag({ keepLine = false } = {}) {
    this.press = null;
    this.drag = null;
    if (!keepLine) this.arcs.drag = null;
    document.getElementById("ws").classList.remove("ws-dragging", "ws-drag-bad");
  }

  cancelDrag(say = true) {
    const dragged = Boolean(this.drag);
    this.endDrag();
    if (!dragged) return;
    this.render();
    if (say) this.announce("Linking stopped.");
  }

  /** Several relation types fit: ask at the drop point (the line stays drawn meanwhile). */
  openChooser(d, types, x, y) {
    const origin = this.article.getBoundingClientRect();
    const from = this.local.spans.get(d.from);
    const to = this.local.spans.get(d.to);
    const close = () => {
      this.chooser = null;
      this.arcs.drag = null;
      this.focusText();
    };
    this.chooser = new TypeChooser({
      parent: this.article,
      x: x - origin.left + 4,
      y: y - origin.top + 16,
      types,
      styleOf: (type) => this.arcs.styleOf(type),
      title: `Relation type from ${this.panel.spanName(from)} to ${this.panel.spanName(to)}`,
      onPick: (type) => {
        close();
        this.relate(d.from, d.to, type);
      },
      onCancel: () => {
        close();
        this.render();
        this.announce("Not linked.");
      },
    });
    this.render();
  }

  // --- wiring and painting ------------------------------------------------------------------

  wire() {
    document.addEventListener("keydown", (e) => this.onKey(e));
    this.textEl.addEventListener("mousedown", (e) => {
      if (e.button !== 0 || this.pressSelected(e)) return;
      this.mouseDown = true;
    });
    document.addEventListener("mouseup", (e) => this.onMouseUp(e));
    document.addEventListener("mousemove", (e) => this.onMouseMove(e));
    window.addEventListener("scroll", () => this.drag && this.scheduleDrag(), { passive: true });
    window.addEventListener("blur", () => this.cancelDrag(false));
    this.textEl.addEventListener("focus", () => this.render("cursor"));
    this.textEl.addEventListener("blur", () => this.render("cursor"));
    document.getElementById("ws-help-open").addEventListener("click", () => this.toggleHelp());
    document.getElementById("ws-help-close").addEventListener("click", () => document.getElementById("ws-help").close());
    const help = document.getElementById("ws-help");
    help.addEventListener("keydown", (e) => {
      if (e.key === "?") {
        e.preventDefault();
        help.close();
      }
    });
    help.addEventListener("close", () => (this.returnFocus || this.textEl).focus());
    document.getElementById("ws-banner-close").addEventListener("click", () => {
      document.getElementById("ws-banner").hidden = true;
      this.focusText();
    });
    document.getElementById("ws-retry").addEventListener("click", () => {
      this.sync?.kick();
      for (const drain of this.drains || []) drain.kick();
    });
    const submit = document.getElementById("ws-submit");
    if (submit) submit.addEventListener("click", () => this.submitAndNext());
    const skipOpen = document.getElementById("ws-skip-open");
    if (skipOpen) skipOpen.addEventListener("click", () => this.openSkip());
    const skipDialog = document.getElementById("ws-skip");
    if (skipDialog) {
      document.getElementById("ws-skip-cancel").addEventListener("click", () => skipDialog.close());
      document.getElementById("ws-skip-form").addEventListener("submit", (e) => {
        const reason = document.getElementById("ws-skip-reason").value.trim();
        if (!reason) {
          e.preventDefault();
          return;
        }
        this.skip(reason);
      });
      skipDialog.addEventListener("close", () => (this.returnFocus || this.textEl).focus());
    }
    const palette = document.getElementById("ws-opt-palette");
    palette.checked = this.safePalette;
    palette.addEventListener("change", () => {
      this.safePalette = palette.checked;
      this.store.setItem("annotate:palette", palette.checked ? "safe" : "scheme");
      this.colours = labelColours(this.scheme.span_labels, this.safePalette);
      this.painter.setColours(this.colours);
      this.panel._cardKey = null;
      this.render();
    });
    const arcs = document.getElementById("ws-opt-arcs");
    arcs.checked = this.arcs.enabled;
    arcs.addEventListener("change", () => {
      this.arcs.enabled = arcs.checked;
      this.store.setItem("annotate:arcs", arcs.checked ? "on" : "off");
      this.render();
    });
    const annotator = document.getElementById("ws-annotator");
    if (annotator) annotator.addEventListener("change", () => annotator.form.requestSubmit());
  }

  /** Repaint: everything, or only the keyboard cursor (cheap, on every arrow key). */
  render(what = "all") {
    const textFocused = document.activeElement === this.textEl;
    const view = {
      selected: this.selected,
      cursor: textFocused ? this.cursor : null,
      candidates: this.linking ? this.linking.candidates : null,
      target: this.linking
        ? this.linking.candidates[this.linking.index]
        : this.drag?.state === "ok"
          ? this.drag.to
          : null,
    };
    if (!this.selected) this.textEl.classList.remove("ws-grab");
    this.painter.paint(this.local, view);
    if (what === "cursor") return;
    this.arcs.draw(this.local, {
      selected: this.selected,
      selectedRelation: this.selectedRelation,
      hints: this.linking ? [...this.linking.hints] : [],
    });
    // On a long article the sidebar's lists are built just after the page is usable.
    const later = what === "first" && this.local.spans.size + this.local.relations.size > 80;
    this.panel.render({ lists: !later });
    if (later) (window.requestIdleCallback || setTimeout)(() => this.panel.render());
  }

  // --- messages -----------------------------------------------------------------------------

  announce(text, urgent = false) {
    const region = document.getElementById(urgent ? "ws-alert" : "ws-live");
    region.textContent = "";
    // a change of text is what screen readers announce; the frame gap makes repeats heard
    requestAnimationFrame(() => {
      region.textContent = text;
    });
  }

  /** A short visible note beside the save status (for refusals the keyboard user caused). */
  flash(text) {
    const box = document.getElementById("ws-save");
    let note = document.getElementById("ws-note");
    if (!note) {
      note = document.createElement("span");
      note.id = "ws-note";
      note.className = "ws-note";
      box.after(note);
    }
    note.textContent = text;
    clearTimeout(this._flashTimer);
    this._flashTimer = setTimeout(() => note.remove(), 6000);
  }

  banner(lines, kind = "warn") {
    const box = document.getElementById("ws-banner");
    const body = document.getElementById("ws-banner-body");
    const list = Array.isArray(lines) ? lines : [lines];
    body.replaceChildren(
      ...list.map((line) => {
        const p = document.createElement("p");
        p.textContent = line;
        return p;
      }),
    );
    box.dataset.kind = kind;
    box.hidden = false;
  }
}

function start() {
  const data = JSON.parse(document.getElementById("ws-data").textContent);
  window.workspace = new Workspace(data);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
