// Paints spans with the CSS Custom Highlight API: the text element is never changed, so DOM
// offsets cannot drift. One highlight per label and nesting depth (``ws-l{label}-d{depth}``):
// every label has its own colour, and spans nested or overlapping inside another are drawn
// with a different underline (solid, double, dotted, dashed) and a stronger tint where they
// stack. The selected span, the keyboard cursor and link targets have highlights of their own;
// outlines and arcs are drawn by relations.js.

import { spansInOrder } from "./state.js";

export const MAX_DEPTH = 4;
const UNDERLINES = ["solid", "double", "dotted", "dashed"];

// Okabe & Ito, "Color Universal Design": distinguishable with the common colour-vision
// deficiencies (the same set as the scheme's defaults, projects/domain/scheme.py).
export const SAFE_PALETTE = [
  "#e69f00",
  "#56b4e9",
  "#009e73",
  "#0072b2",
  "#d55e00",
  "#cc79a7",
  "#f0e442",
  "#000000",
];

function rgb(hex) {
  const n = Number.parseInt(hex.replace("#", ""), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The label colours in use: the scheme's, or the colour-blind-safe set in scheme order. */
export function labelColours(labels, safe) {
  const colours = new Map();
  labels.forEach((label, i) => {
    colours.set(label.name, safe ? SAFE_PALETTE[i % SAFE_PALETTE.length] : label.color);
  });
  return colours;
}

/**
 * Nesting depth of each span: the lowest level no span it overlaps already holds, in text
 * order with outer spans first, so a span inside another gets the next underline style.
 */
export function depths(spans) {
  const ordered = spans.slice().sort((a, b) => a.start - b.start || b.end - a.end);
  const active = []; // {end, depth}
  const out = new Map();
  for (const span of ordered) {
    for (let i = active.length - 1; i >= 0; i--) if (active[i].end <= span.start) active.splice(i, 1);
    const used = new Set(active.map((a) => a.depth));
    let depth = 0;
    while (used.has(depth)) depth++;
    out.set(span.id, depth);
    active.push({ end: span.end, depth });
  }
  return out;
}

export class Painter {
  constructor({ map, labels, doc = document }) {
    this.map = map;
    this.labels = labels;
    this.doc = doc;
    this.index = new Map(labels.map((l, i) => [l.name, i]));
    this.sheet = new CSSStyleSheet();
    // adoptedStyleSheets is CSSOM, not inline style: allowed under a strict CSP.
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, this.sheet];
    this._ranges = new Map(); // span id -> {start, end, range}
    this.supported = typeof CSS !== "undefined" && "highlights" in CSS;
  }

  /** (Re)write the highlight styles for the colours in use. */
  setColours(colours) {
    this.colours = colours;
    const rules = [];
    this.labels.forEach((label, i) => {
      const [r, g, b] = rgb(colours.get(label.name) || "#777777");
      for (let d = 0; d < MAX_DEPTH; d++) {
        const alpha = 0.16 + 0.06 * d;
        rules.push(
          `::highlight(ws-l${i}-d${d}) { background-color: rgb(${r} ${g} ${b} / ${alpha});` +
            ` text-decoration-line: underline; text-decoration-style: ${UNDERLINES[d]};` +
            ` text-decoration-color: rgb(${r} ${g} ${b}); text-decoration-thickness: ${d === 1 ? 1 : 2}px;` +
            ` text-underline-offset: ${3 + 3 * d}px; }`,
        );
      }
    });
    // the legend's and lists' swatches take the same colours, by class
    this.labels.forEach((label, i) => {
      rules.push(`.ws-lab-${i} { --c: ${colours.get(label.name) || "#777777"}; }`);
    });
    this.sheet.replaceSync(rules.join("\n"));
  }

  rangeOf(span) {
    const cached = this._ranges.get(span.id);
    if (cached && cached.start === span.start && cached.end === span.end) return cached.range;
    const range = this.map.range(span.start, span.end);
    this._ranges.set(span.id, { start: span.start, end: span.end, range });
    return range;
  }

  /**
   * Paint ``model``. ``view``: {selected (span id), cursor ({start, end} in UTF-16 units, shown
   * while the text has focus), candidates (span ids), target (span id)}.
   */
  paint(model, view = {}) {
    if (!this.supported) return;
    const spans = spansInOrder(model);
    const depthOf = depths(spans);
    const groups = new Map();
    for (const span of spans) {
      const i = this.index.get(span.label) ?? 0;
      const d = Math.min(depthOf.get(span.id), MAX_DEPTH - 1);
      const name = `ws-l${i}-d${d}`;
      if (!groups.has(name)) groups.set(name, []);
      groups.get(name).push(this.rangeOf(span));
    }
    for (const id of this._ranges.keys()) if (!model.spans.has(id)) this._ranges.delete(id);
    const registry = CSS.highlights;
    for (const name of [...registry.keys()]) {
      if (name.startsWith("ws-") && !groups.has(name)) registry.delete(name);
    }
    for (const [name, ranges] of groups) {
      const h = new Highlight(...ranges);
      h.priority = Number(name.slice(name.lastIndexOf("d") + 1));
      registry.set(name, h);
    }
    const single = (name, range, priority) => {
      if (!range) return;
      const h = new Highlight(range);
      h.priority = priority;
      registry.set(name, h);
    };
    const selected = view.selected && model.spans.get(view.selected);
    single("ws-selected", selected && this.rangeOf(selected), 10);
    if (view.candidates?.length) {
      const h = new Highlight(
        ...view.candidates.map((id) => model.spans.get(id)).filter(Boolean).map((s) => this.rangeOf(s)),
      );
      h.priority = 11;
      registry.set("ws-candidate", h);
    }
    const target = view.target && model.spans.get(view.target);
    single("ws-target", target && this.rangeOf(target), 12);
    if (view.cursor && view.cursor.end > view.cursor.start) {
      single("ws-cursor", this.map.unitRange(view.cursor.start, view.cursor.end), 13);
    }
  }

  /** The class that gives an element a label's colour as ``--c``. */
  labelClass(name) {
    return `ws-lab-${this.index.get(name) ?? 0}`;
  }
}
