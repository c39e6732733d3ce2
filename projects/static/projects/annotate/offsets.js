// The one place that converts offsets. The server speaks Unicode code points (Python str
// indices); JavaScript strings and the DOM speak UTF-16 code units, per text node. Everything
// else in the workspace calls these functions and never does offset arithmetic itself.

/**
 * Prefix tables over one text: for each code point index its UTF-16 index, and for each UTF-16
 * index the code point that starts there (or contains it, for the low half of a surrogate pair).
 * Built once per document: O(n) time, two typed arrays of n + 1 entries.
 */
export class CodePoints {
  constructor(text) {
    const units = text.length;
    this.text = text;
    this.units = units;
    if (!/[\ud800-\udfff]/.test(text)) {
      // No surrogates (most texts): every code point is one unit, nothing to tabulate.
      this.points = units;
      this._toUnit = null;
      this._toPoint = null;
      return;
    }
    const toUnit = new Uint32Array(units + 1);
    const toPoint = new Uint32Array(units + 1);
    let cp = 0;
    for (let u = 0; u < units; cp++) {
      toUnit[cp] = u;
      toPoint[u] = cp;
      const c = text.charCodeAt(u);
      const pair = c >= 0xd800 && c <= 0xdbff && u + 1 < units;
      const next = pair ? text.charCodeAt(u + 1) : 0;
      if (pair && next >= 0xdc00 && next <= 0xdfff) {
        toPoint[u + 1] = cp; // inside a pair: belongs to the code point that starts before it
        u += 2;
      } else {
        u += 1;
      }
    }
    toUnit[cp] = units;
    toPoint[units] = cp;
    this.points = cp;
    this._toUnit = toUnit.subarray(0, cp + 1);
    this._toPoint = toPoint;
  }

  /** UTF-16 index of code point ``cp``; throws on an index outside [0, points]. */
  unit(cp) {
    if (!Number.isInteger(cp) || cp < 0 || cp > this.points) {
      throw new RangeError(`code point offset ${cp} is outside 0..${this.points}`);
    }
    return this._toUnit ? this._toUnit[cp] : cp;
  }

  /** Code point index of UTF-16 index ``u``; inside a surrogate pair it rounds down. */
  point(u) {
    if (!Number.isInteger(u) || u < 0 || u > this.units) {
      throw new RangeError(`UTF-16 offset ${u} is outside 0..${this.units}`);
    }
    return this._toPoint ? this._toPoint[u] : u;
  }

  /** True when ``u`` falls between the two halves of a surrogate pair. */
  splitsPair(u) {
    if (!this._toPoint) return false;
    return u > 0 && u < this.units && this._toPoint[u] === this._toPoint[u - 1];
  }

  /** The text of code point range [start, end), as JavaScript sees it. */
  slice(start, end) {
    return this.text.slice(this.unit(start), this.unit(end));
  }
}

/** Count the code points of a string (what Python's ``len`` says). */
export function codePointLength(text) {
  let n = 0;
  for (let u = 0; u < text.length; u++, n++) {
    const c = text.charCodeAt(u);
    if (c >= 0xd800 && c <= 0xdbff && u + 1 < text.length) {
      const next = text.charCodeAt(u + 1);
      if (next >= 0xdc00 && next <= 0xdfff) u++;
    }
  }
  return n;
}

/**
 * The text nodes under ``root`` and their global UTF-16 starts. The text element holds only
 * text (the workspace never inserts markup), but the HTML parser splits long text into several
 * nodes (Chromium at 65,536 units), so a point is (node, offset) and needs this map.
 *
 * ``nodes`` is a list of objects with a ``data`` string (DOM Text nodes, or plain objects in
 * tests); ``root`` is used only to resolve element-relative points.
 */
export class TextIndex {
  constructor(nodes, root = null) {
    this.root = root;
    this.nodes = nodes;
    this.starts = new Array(nodes.length);
    let at = 0;
    nodes.forEach((node, i) => {
      this.starts[i] = at;
      at += node.data.length;
    });
    this.length = at;
    this._position = new Map(nodes.map((node, i) => [node, i]));
  }

  /** Global UTF-16 index of a DOM point, or null when the point is outside the text. */
  toIndex(node, offset) {
    const i = this._position.get(node);
    if (i !== undefined) return this.starts[i] + Math.min(offset, node.data.length);
    if (node === this.root) {
      // an element point: before child ``offset``
      const children = Array.from(node.childNodes || []);
      if (offset >= children.length) return this.length;
      const child = children[offset];
      const j = this._position.get(child);
      return j === undefined ? null : this.starts[j];
    }
    return null;
  }

  /**
   * The DOM point of global UTF-16 index ``index``. At a boundary between two nodes the point
   * is at the start of the later node (``preferEnd`` picks the end of the earlier one, which
   * keeps a range's end inside the node its text is in).
   */
  toPoint(index, preferEnd = false) {
    if (index < 0 || index > this.length) {
      throw new RangeError(`text offset ${index} is outside 0..${this.length}`);
    }
    if (this.nodes.length === 0) return { node: this.root, offset: 0 };
    let lo = 0;
    let hi = this.nodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const start = this.starts[mid];
      if (start < index || (start === index && !preferEnd)) lo = mid;
      else hi = mid - 1;
    }
    return { node: this.nodes[lo], offset: index - this.starts[lo] };
  }
}

/** Every text node under ``root``, in document order (browser only: uses a TreeWalker). */
export function textNodesIn(root) {
  const walker = root.ownerDocument.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  return nodes;
}

/**
 * Maps between server offsets (code points) and the DOM: built once per page from the text
 * element. ``range(start, end)`` makes a DOM Range for a span; ``fromRange`` reads a selection.
 */
export class TextMap {
  constructor(root) {
    this.root = root;
    this.index = new TextIndex(textNodesIn(root), root);
    this.text = this.index.nodes.map((n) => n.data).join("");
    this.cp = new CodePoints(this.text);
  }

  /** A DOM Range over code points [start, end). */
  range(start, end) {
    return this.unitRange(this.cp.unit(start), this.cp.unit(end));
  }

  /** A DOM Range over UTF-16 units [start, end). */
  unitRange(start, end) {
    const range = this.root.ownerDocument.createRange();
    const a = this.index.toPoint(start);
    const b = this.index.toPoint(end, true);
    range.setStart(a.node, a.offset);
    range.setEnd(b.node, b.offset);
    return range;
  }

  /** UTF-16 [start, end) of a DOM range, clipped to the text; null when it lies outside. */
  unitsOf(range) {
    let start = this.index.toIndex(range.startContainer, range.startOffset);
    let end = this.index.toIndex(range.endContainer, range.endOffset);
    if (start === null || end === null) {
      // A selection dragged past the text's edge: clip it (comparePoint: -1 before, 1 after).
      const whole = this.root.ownerDocument.createRange();
      whole.selectNodeContents(this.root);
      if (start === null) {
        if (whole.comparePoint(range.startContainer, range.startOffset) > 0) return null;
        start = 0;
      }
      if (end === null) {
        if (whole.comparePoint(range.endContainer, range.endOffset) < 0) return null;
        end = this.index.length;
      }
    }
    return start <= end ? { start, end } : { start: end, end: start };
  }
}
