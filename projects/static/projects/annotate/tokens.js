// Words, for snapping selections, moving the keyboard cursor and trimming span edges. Works
// in UTF-16 units of one text (offsets.js converts to code points at the boundary). Uses
// Intl.Segmenter, so CJK, emoji sequences and combining accents are never split.

// What trimming removes from a span's edges: spaces, punctuation, controls.
const TRIMMED = /^[\p{P}\p{Z}\p{Cc}\s]+$/u;
const SPACE = /^[\p{Z}\p{Cc}\s]+$/u;
// Closing punctuation that stays when the span holds its opening partner, and vice versa:
// a quotation selected with its quotes keeps them.
const PAIRS = [
  ['"', '"'],
  ["\u201c", "\u201d"],
  ["\u2018", "\u2019"],
  ["\u00ab", "\u00bb"],
  ["(", ")"],
  ["[", "]"],
  ["{", "}"],
  ["\u300c", "\u300d"],
  ["\u300e", "\u300f"],
  ["\uff08", "\uff09"],
];

function count(text, ch) {
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/** True when ``ch`` (a closer) closes an opener left open in ``before``. */
function closesOpen(before, ch) {
  for (const [open, close] of PAIRS) {
    if (ch !== close) continue;
    if (open === close) return count(before, open) % 2 === 1;
    return count(before, open) > count(before, close);
  }
  return false;
}

/** True when ``ch`` (an opener) is closed within ``after``. */
function opensClosed(after, ch) {
  for (const [open, close] of PAIRS) {
    if (ch !== open) continue;
    if (open === close) return count(after, close) % 2 === 1;
    return count(after, close) > count(after, open);
  }
  return false;
}

export class Tokens {
  constructor(text, locale = undefined) {
    this.text = text;
    this.length = text.length;
    this._words = new Intl.Segmenter(locale, { granularity: "word" }).segment(text);
    this._graphemes = new Intl.Segmenter(locale, { granularity: "grapheme" }).segment(text);
  }

  /** The word segment containing unit ``i`` (0 <= i < length): {start, end, content}. */
  segment(i) {
    const s = this._words.containing(i);
    const end = s.index + s.segment.length;
    return { start: s.index, end, content: !TRIMMED.test(s.segment) };
  }

  /** The grapheme (user-perceived character) containing unit ``i``: {start, end}. */
  grapheme(i) {
    const g = this._graphemes.containing(i);
    return { start: g.index, end: g.index + g.segment.length };
  }

  /** The first word (not space or punctuation) starting at or after ``i``, or null. */
  nextToken(i) {
    for (let at = Math.max(0, i); at < this.length; ) {
      const s = this.segment(at);
      if (s.content && s.start >= i) return s;
      at = s.end;
    }
    return null;
  }

  /** The last word ending at or before ``i``, or null. */
  prevToken(i) {
    for (let at = Math.min(i, this.length); at > 0; ) {
      const s = this.segment(at - 1);
      if (s.content && s.end <= i) return s;
      at = s.start;
    }
    return null;
  }

  /** The word at ``i``, or the next one, or the previous one (for placing a cursor). */
  tokenNear(i) {
    if (i < this.length) {
      const s = this.segment(Math.max(0, i));
      if (s.content) return s;
    }
    return this.nextToken(i) || this.prevToken(i);
  }

  /** Start of the next paragraph's first word after ``i`` (paragraphs: blank lines). */
  nextParagraph(i) {
    const gap = this.text.indexOf("\n\n", i);
    return gap === -1 ? null : this.nextToken(gap);
  }

  prevParagraph(i) {
    const here = this.text.lastIndexOf("\n\n", Math.max(0, i - 1));
    if (here === -1) return this.nextToken(0);
    const before = this.text.lastIndexOf("\n\n", Math.max(0, here - 1));
    return this.nextToken(before === -1 ? 0 : before);
  }

  nextGrapheme(i) {
    return i >= this.length ? this.length : this.grapheme(i).end;
  }

  prevGrapheme(i) {
    return i <= 0 ? 0 : this.grapheme(i - 1).start;
  }

  /**
   * The span to label for a selection [start, end) in units. Snapping (the default) widens
   * to whole words, then trims spaces and punctuation at the edges, keeping quotes and
   * brackets whose partner is inside. ``exact`` keeps the selected characters, only rounded
   * out to whole graphemes (never half an emoji or a letter without its accent) and without
   * surrounding whitespace. Null when nothing is left.
   */
  snap(start, end, { exact = false } = {}) {
    start = Math.max(0, Math.min(start, this.length));
    end = Math.max(0, Math.min(end, this.length));
    if (end < start) [start, end] = [end, start];
    if (start === end) return null;
    if (exact) {
      start = this.grapheme(start).start;
      end = this.grapheme(end - 1).end;
      while (start < end && SPACE.test(this.text.slice(start, this.grapheme(start).end))) {
        start = this.grapheme(start).end;
      }
      while (end > start && SPACE.test(this.text.slice(this.grapheme(end - 1).start, end))) {
        end = this.grapheme(end - 1).start;
      }
      return start < end ? { start, end } : null;
    }
    start = this.segment(start).start;
    end = this.segment(end - 1).end;
    for (;;) {
      if (start >= end) return null;
      const s = this.segment(start);
      const piece = this.text.slice(s.start, s.end);
      if (s.content) break;
      if (!SPACE.test(piece) && opensClosed(this.text.slice(s.end, end), piece)) break;
      start = s.end;
    }
    for (;;) {
      const s = this.segment(end - 1);
      const piece = this.text.slice(s.start, s.end);
      if (s.content) break;
      if (!SPACE.test(piece) && closesOpen(this.text.slice(start, s.start), piece)) break;
      end = s.start;
      if (end <= start) return null;
    }
    return { start, end };
  }
}
