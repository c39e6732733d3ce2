// Arcs between related spans, the selected span's outline, link-mode hints and the link being
// dragged with the mouse, drawn in one absolutely positioned SVG over the text. Positions come
// from Range.getClientRects() of each span, relative to the article, so scrolling the page
// never needs a recomputation; rects are cached per span and dropped on resize. Long articles
// draw only arcs near the viewport.

const SVG = "http://www.w3.org/2000/svg";
// Colour and dash per relation type, in scheme order: colour-blind-safe and distinct in grey.
const STYLES = [
  { colour: "#0072b2", dash: "" },
  { colour: "#d55e00", dash: "6 4" },
  { colour: "#009e73", dash: "2 3" },
  { colour: "#cc79a7", dash: "10 3 2 3" },
  { colour: "#000000", dash: "1 3" },
];
export const HINT_KEYS = "asdfghjklqwertyuiopzxcvbnm";

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

/** Lanes for vertical intervals: the lowest lane free of every interval overlapping. */
export function assignLanes(intervals) {
  const order = intervals.map((iv, i) => [iv, i]).sort((p, q) => p[0][0] - q[0][0]);
  const lanes = new Array(intervals.length).fill(0);
  const active = []; // [end, lane]
  for (const [[start, end], i] of order) {
    for (let k = active.length - 1; k >= 0; k--) if (active[k][0] < start) active.splice(k, 1);
    const used = new Set(active.map((x) => x[1]));
    let lane = 0;
    while (used.has(lane)) lane++;
    lanes[i] = lane;
    active.push([end, lane]);
  }
  return lanes;
}

/**
 * Which side of the window [top, bottom] each span lies on: -1 above, 0 in it, 1 below (a
 * function of the span id); ``box(span)`` gives its line boxes. Positions grow with text
 * offsets, so two binary searches over the spans in text order measure about 2 log n of
 * them: on a long article the first drawing measures the spans near the window, not all.
 * A span without a box makes it unsure, and then every span counts as in the window.
 */
export function windowSides(spans, box, top, bottom) {
  const order = spans.slice().sort((a, b) => a.start - b.start || b.end - a.end);
  let unsure = false;
  const firstFrom = (y) => {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = box(order[mid])[0];
      if (!b) unsure = true;
      if (b && b.y >= y) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const first = firstFrom(top);
  const after = firstFrom(bottom + 0.5);
  if (unsure) return () => 0;
  const index = new Map(order.map((span, i) => [span.id, i]));
  return (id) => {
    const i = index.get(id);
    return i < first ? -1 : i >= after ? 1 : 0;
  };
}

export class Arcs {
  constructor({ svg, article, painter, relationTypes }) {
    this.svg = svg;
    this.article = article;
    this.painter = painter;
    this.types = new Map(
      relationTypes.map((t, i) => [
        t.name,
        { ...STYLES[i % STYLES.length], marker: `ws-arrow-${i}`, cls: `ws-rel-${i}` },
      ]),
    );
    const sheet = new CSSStyleSheet();
    sheet.replaceSync([...this.types.values()].map((t) => `.${t.cls} { --c: ${t.colour}; }`).join("\n"));
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    this.enabled = true;
    // a link being dragged with the mouse: {from, to (span ids), x, y (client), state, label}
    this.drag = null;
    this._rects = new Map(); // span id -> {start, end, rects}
    this._frame = 0;
    this._last = null;
    const redraw = () => {
      this._rects.clear();
      this.schedule();
    };
    new ResizeObserver(redraw).observe(article);
    document.fonts?.ready.then(redraw);
    window.addEventListener("scroll", () => this.schedule(), { passive: true });
  }

  styleOf(type) {
    return this.types.get(type) || STYLES[STYLES.length - 1];
  }

  /** The span's line boxes, relative to the article (cached until a resize). */
  rects(span, origin = null) {
    const cached = this._rects.get(span.id);
    if (cached && cached.start === span.start && cached.end === span.end) return cached.rects;
    origin = origin || this.article.getBoundingClientRect();
    // one box per line: a range's rects come per text run, plus slivers for line-end spaces
    const rects = [];
    for (const r of this.painter.rangeOf(span).getClientRects()) {
      if (r.width < 0.5) continue;
      const box = { x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height };
      const line = rects.find((o) => Math.abs(o.y - box.y) < 3);
      if (!line) {
        rects.push(box);
        continue;
      }
      const right = Math.max(line.x + line.w, box.x + box.w);
      line.x = Math.min(line.x, box.x);
      line.w = right - line.x;
    }
    // a line holding only a space (a span ending just after a line break) is not outlined
    const boxes = rects.length > 1 ? rects.filter((b) => b.w > 6) : rects;
    this._rects.set(span.id, { start: span.start, end: span.end, rects: boxes });
    return boxes;
  }

  /** Redraw with the last arguments at the next frame (scroll, resize). */
  schedule() {
    if (this._frame || !this._last) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this.draw(...this._last);
    });
  }

  /**
   * Draw ``model``'s relations; ``view``: {selected, selectedRelation, hints: [[key, id]]}.
   */
  draw(model, view = {}) {
    this._last = [model, view];
    // Read every position first, then build the drawing off the page and put it in once:
    // interleaving reads and writes would lay the whole article out again for each arc.
    const origin = this.article.getBoundingClientRect();
    const width = this.article.clientWidth;
    const height = this.article.clientHeight;
    const textLeft = this.textLeft(origin);
    const box = (span) => this.rects(span, origin);
    // visible window in article coordinates, with a screen of margin either side
    const top = -origin.top - window.innerHeight;
    const bottom = -origin.top + 2 * window.innerHeight;
    const focus = view.selected;
    const many = model.relations.size > 30;
    const lines = [];
    if (this.enabled) {
      const side = windowSides([...model.spans.values()], box, top, bottom);
      for (const r of model.relations.values()) {
        const from = model.spans.get(r.from);
        const to = model.spans.get(r.to);
        if (!from || !to) continue;
        // both ends above the window, or both below: skipped without measuring either
        const s = side(r.from);
        if (s !== 0 && s === side(r.to)) continue;
        const a = box(from)[0];
        const b = box(to)[0];
        if (!a || !b) continue;
        if ((a.y < top && b.y < top) || (a.y > bottom && b.y > bottom)) continue;
        lines.push({ r, a, b });
      }
      // Endpoints more than a line apart are joined through the left margin, each in a lane
      // of its own, so long links never cut across the text; close ones get an arc above.
      const far = lines.filter(({ a, b }) => Math.abs(a.y - b.y) > a.h * 1.2);
      const lanes = assignLanes(far.map(({ a, b }) => [Math.min(a.y, b.y), Math.max(a.y, b.y)]));
      const step = Math.max(2, Math.min(6, (textLeft - 6) / (Math.max(0, ...lanes) + 1)));
      far.forEach((line, i) => {
        line.gutter = Math.max(2, textLeft - 6 - lanes[i] * step);
      });
    }
    const selected = focus && model.spans.get(focus);
    const outline = selected ? box(selected) : [];
    const hints = (view.hints || [])
      .map(([key, id]) => [key, model.spans.get(id)])
      .filter(([, span]) => span)
      .map(([key, span]) => [key, box(span)[0]])
      .filter(([, b]) => b);

    const out = document.createDocumentFragment();
    const defs = el("defs", {}, out);
    for (const style of this.types.values()) {
      const marker = el(
        "marker",
        {
          id: style.marker,
          viewBox: "0 0 10 10",
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: "auto-start-reverse",
        },
        defs,
      );
      el("path", { d: "M0,0 L10,5 L0,10 z", fill: style.colour }, marker);
    }
    for (const { r, a, b, gutter } of lines) {
      const near = focus && (r.from === focus || r.to === focus);
      const chosen = view.selectedRelation === r.id;
      this.arc(out, a, b, r, { near, chosen, label: chosen || near || !many, gutter });
    }
    for (const b of outline) {
      el(
        "rect",
        { class: "ws-outline", x: b.x - 2, y: b.y - 1, width: b.w + 4, height: b.h + 2, rx: 3 },
        out,
      );
    }
    for (const [key, b] of hints) {
      const g = el("g", { class: "ws-hint" }, out);
      el("rect", { x: b.x - 4, y: b.y - 14, width: 16, height: 16, rx: 3 }, g);
      const t = el("text", { x: b.x + 4, y: b.y - 2, "text-anchor": "middle" }, g);
      t.textContent = key;
    }
    const drag = this.dragGroup(model, origin);
    if (drag) out.appendChild(drag);
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);
    this.svg.replaceChildren(out);
  }

  /** Redraw only the dragged link (on every pointer move): its own group, nothing else. */
  drawDrag(model) {
    const group = this.dragGroup(model, this.article.getBoundingClientRect());
    const old = this.svg.querySelector(".ws-drag");
    if (old) old.replaceWith(...(group ? [group] : []));
    else if (group) this.svg.appendChild(group);
  }

  /**
   * The link being dragged: a dashed arc from the source to the pointer, or to the span under
   * it, outlined ("ok": a type fits, "bad": none does), with what a drop there would do.
   */
  dragGroup(model, origin) {
    const d = this.drag;
    const from = d && model.spans.get(d.from);
    const a = from && this.rects(from, origin)[0];
    if (!a) return null;
    const g = el("g", { class: `ws-drag ${d.state || "free"}` });
    const marker = el(
      "marker",
      { id: "ws-arrow-drag", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      el("defs", {}, g),
    );
    el("path", { d: "M0,0 L10,5 L0,10 z" }, marker);
    const x1 = a.x + Math.min(a.w / 2, 24);
    const y1 = a.y;
    let x2 = d.x - origin.left;
    let y2 = d.y - origin.top;
    const to = d.to && model.spans.get(d.to);
    if (to) {
      const boxes = this.rects(to, origin);
      for (const b of boxes) {
        el("rect", { class: "ws-drag-target", x: b.x - 3, y: b.y - 2, width: b.w + 6, height: b.h + 4, rx: 3 }, g);
      }
      if (boxes[0]) {
        x2 = boxes[0].x + Math.min(boxes[0].w / 2, 24);
        y2 = boxes[0].y - 2;
      }
    }
    const lift = Math.min(70, 16 + Math.abs(x2 - x1) * 0.08 + Math.abs(y2 - y1) * 0.04);
    const apex = Math.min(y1, y2) - lift;
    el(
      "path",
      { class: "ws-drag-line", d: `M${x1},${y1} C${x1},${apex} ${x2},${apex} ${x2},${y2}`, "marker-end": "url(#ws-arrow-drag)" },
      g,
    );
    if (d.label) {
      const t = el("text", { class: "ws-drag-label", x: x2 + 10, y: y2 - 6 }, g);
      t.textContent = d.label;
    }
    return g;
  }

  /** Left edge of the text column, relative to the article: the margin holds the lanes. */
  textLeft(origin) {
    const text = this.article.querySelector(".ws-text");
    return text.getBoundingClientRect().left - origin.left;
  }

  arc(svg, a, b, relation, { near, chosen, label, gutter }) {
    const style = this.styleOf(relation.type);
    const x1 = a.x + Math.min(a.w / 2, 24);
    const y1 = a.y;
    const x2 = b.x + Math.min(b.w / 2, 24);
    const y2 = b.y;
    let d;
    let labelAt = null;
    if (gutter !== undefined) {
      // up into the line gap, left to the lane, along it, and back in above the target
      const ya = y1 - 3;
      const yb = y2 - 3;
      const r = 4;
      const down = yb > ya ? 1 : -1;
      d =
        `M${x1},${y1} L${x1},${ya} L${gutter + r},${ya} Q${gutter},${ya} ${gutter},${ya + down * r}` +
        ` L${gutter},${yb - down * r} Q${gutter},${yb} ${gutter + r},${yb} L${x2},${yb} L${x2},${y2 - 1}`;
      // the type is named where the link leaves its source, just inside the margin
      if (label && (near || chosen)) labelAt = { x: gutter + 7, y: ya - 3, anchor: "start" };
    } else {
      const lift = Math.min(70, 16 + Math.abs(x2 - x1) * 0.08 + Math.abs(y2 - y1) * 0.04);
      const apex = Math.min(y1, y2) - lift;
      d = `M${x1},${y1} C${x1},${apex} ${x2},${apex} ${x2},${y2 - 1}`;
      if (label) labelAt = { x: (x1 + x2) / 2, y: apex + lift * 0.25 - 2, anchor: "middle" };
    }
    const cls = `ws-arc${near ? " near" : ""}${chosen ? " chosen" : ""}`;
    const path = el(
      "path",
      {
        d,
        class: cls,
        stroke: style.colour,
        "stroke-dasharray": style.dash,
        "marker-end": style.marker ? `url(#${style.marker})` : "",
        "data-relation": relation.id,
      },
      svg,
    );
    if (labelAt) {
      const t = el(
        "text",
        {
          x: labelAt.x,
          y: labelAt.y,
          "text-anchor": labelAt.anchor,
          class: `ws-arc-label${chosen ? " chosen" : ""}`,
          fill: style.colour,
        },
        svg,
      );
      t.textContent = relation.type;
    }
    return path;
  }
}
