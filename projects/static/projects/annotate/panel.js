// The sidebar: the legend, the selected span's card (label, source with autocomplete, stance,
// its relations), the document stance, and the span and relation lists; and the relation
// type chooser shown where a dragged link is dropped. Everything is built
// with DOM calls and textContent (never innerHTML), so text from the article, labels or
// sources is always shown as text. Colours are set through CSSOM, which a strict CSP allows.

import { relationsOf, spansInOrder } from "./state.js";

/** Make an element: h("button", {class: "x", onclick: f}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A few words of a span, for lists and announcements: “there is a basis for…”. */
export function excerpt(text, words = 5, max = 48) {
  const clean = text.replace(/\s+/g, " ").trim();
  const parts = clean.split(" ");
  let out = parts.slice(0, words).join(" ");
  if (out.length > max) out = out.slice(0, max);
  return out.length < clean.length ? `${out}…` : out;
}

function chip(name, colourClass, extra = null) {
  return h("span", { class: `ws-chip ${colourClass}` }, h("span", { class: "ws-swatch" }), name, extra);
}

export function renderLegend(root, { labels, labelClass, relationTypes, arcStyle, armed, keys }) {
  const items = labels
    .filter((l) => !l.retired)
    .map((l) =>
      h(
        "li",
        { class: armed === l.name ? "armed" : null, title: l.description || null },
        chip(l.name, labelClass(l.name)),
        l.hotkey ? h("kbd", {}, l.hotkey) : null,
        armed === l.name ? h("span", { class: "ws-armed" }, "armed: select text") : null,
      ),
    );
  const rels = relationTypes.map((t) =>
    h(
      "li",
      { title: t.description || null },
      h("span", { class: `ws-rel-key ${arcStyle(t.name).cls}` }, `→ ${t.name}`),
      t.hotkey ? h("kbd", {}, t.hotkey) : null,
    ),
  );
  const attrs = keys.map(([name, key]) => h("li", {}, h("span", { class: "muted" }, name), h("kbd", {}, key)));
  root.replaceChildren(h("ul", { class: "ws-legend-list" }, items, rels, attrs));
}

/**
 * An ARIA combobox over a list of suggestions: type to filter (matches at the start first),
 * ↓/↑ to move, Enter to take the highlighted one (or the typed text when none is), Shift+Enter
 * for exactly what was typed, Esc to leave it unchanged.
 */
export class Combobox {
  constructor({ id, label, keyHint, value, options, onCommit, onLeave }) {
    this.options = options;
    this.onCommit = onCommit;
    this.onLeave = onLeave;
    this.initial = value || "";
    this.active = -1;
    this.shown = [];
    const listId = `${id}-list`;
    this.input = h("input", {
      id,
      type: "text",
      role: "combobox",
      autocomplete: "off",
      spellcheck: "false",
      "aria-autocomplete": "list",
      "aria-expanded": "false",
      "aria-controls": listId,
      value: this.initial,
    });
    this.list = h("ul", { id: listId, role: "listbox", class: "ws-combo-list", hidden: true });
    this.root = h(
      "div",
      { class: "ws-field" },
      h("label", { for: id }, label, keyHint ? h("kbd", {}, keyHint) : null),
      h("div", { class: "ws-combo" }, this.input, this.list),
    );
    this.input.addEventListener("focus", () => this.open());
    this.input.addEventListener("input", () => this.open(true));
    this.input.addEventListener("keydown", (e) => this.key(e));
    this.input.addEventListener("blur", () => {
      // a click on an option commits it before the blur closes the list
      setTimeout(() => {
        if (document.activeElement !== this.input) {
          this.close();
          if (this.input.value.trim() !== this.initial) this.commit(this.input.value.trim(), false);
        }
      }, 150);
    });
  }

  filter() {
    const typed = this.input.value.trim().toLowerCase();
    if (!typed) return this.options.slice(0, 50);
    const starts = [];
    const contains = [];
    for (const option of this.options) {
      const lower = option.toLowerCase();
      if (lower.startsWith(typed)) starts.push(option);
      else if (lower.includes(typed)) contains.push(option);
    }
    return starts.concat(contains).slice(0, 50);
  }

  open(typed = false) {
    this.shown = this.filter();
    this.active = typed && this.input.value.trim() && this.shown.length ? 0 : -1;
    this.renderList();
  }

  renderList() {
    const id = this.input.id;
    this.list.replaceChildren(
      ...this.shown.map((option, i) =>
        h(
          "li",
          {
            id: `${id}-o${i}`,
            role: "option",
            "aria-selected": i === this.active ? "true" : "false",
            class: i === this.active ? "active" : null,
            onmousedown: (e) => {
              e.preventDefault();
              this.commit(option, true);
            },
          },
          option,
        ),
      ),
    );
    const open = this.shown.length > 0;
    this.list.hidden = !open;
    this.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (this.active >= 0) {
      this.input.setAttribute("aria-activedescendant", `${id}-o${this.active}`);
      this.list.children[this.active]?.scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
  }

  key(e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (this.list.hidden) this.open();
      const n = this.shown.length;
      if (!n) return;
      this.active = e.key === "ArrowDown" ? (this.active + 1) % n : (this.active - 1 + n) % n;
      this.renderList();
    } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      e.stopPropagation();
      const value =
        !e.shiftKey && this.active >= 0 && !this.list.hidden
          ? this.shown[this.active]
          : this.input.value.trim();
      this.commit(value, true);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.input.value = this.initial;
      this.close();
      this.onLeave();
    }
  }

  commit(value, leave) {
    this.input.value = value;
    this.close();
    const changed = value !== this.initial;
    this.initial = value;
    if (changed) this.onCommit(value);
    if (leave) this.onLeave();
  }
}

/**
 * The element id of a span attribute's control in the card: ``ws-attr-<name>`` while the
 * name is a plain word, else ``ws-attr-<index>``. Names are free text in the scheme ("source
 * type", "who?"), and ids go into ID lists (aria-labelledby, aria-controls) that a space
 * splits; a plain word cannot contain "-" and never starts with a digit, so every id built
 * from it with a "-" suffix stays distinct from every other attribute's.
 */
export function attributeId(name, index) {
  return `ws-attr-${/^[A-Za-z][A-Za-z0-9_]*$/.test(name) ? name : index}`;
}

/**
 * The relation types to choose from where a dragged link was dropped (a menu at the drop
 * point): ↑/↓ or Tab move, Enter or Space takes the focused type, a type's own key or its
 * number takes that one, Esc or a press elsewhere cancels. Every key stays in the menu.
 */
export class TypeChooser {
  constructor({ parent, x, y, types, styleOf, title, onPick, onCancel }) {
    this.types = types;
    this.onPick = onPick;
    this.onCancel = onCancel;
    this.items = types.map((t, i) =>
      h(
        "button",
        {
          type: "button",
          role: "menuitem",
          class: "ws-chooser-item",
          tabindex: i === 0 ? "0" : "-1",
          "data-type": t.name,
          "aria-keyshortcuts": t.hotkey || String(i + 1),
          onclick: () => this.pick(t),
        },
        h("span", { class: `ws-rel-key ${styleOf(t.name).cls}` }, `→ ${t.name}`),
        h("kbd", {}, t.hotkey || String(i + 1)),
      ),
    );
    this.root = h(
      "div",
      { class: "ws-chooser", role: "menu", "aria-label": title, onkeydown: (e) => this.key(e) },
      h("p", { class: "ws-chooser-title", "aria-hidden": "true" }, "Relation type"),
      this.items,
      h("p", { class: "ws-chooser-hint", "aria-hidden": "true" }, "Enter or its key picks · Esc cancels"),
    );
    parent.appendChild(this.root);
    // at the drop point, inside the article (CSSOM custom properties: allowed by the CSP)
    const left = Math.max(4, Math.min(x, parent.clientWidth - this.root.offsetWidth - 4));
    this.root.style.setProperty("--x", `${left}px`);
    this.root.style.setProperty("--y", `${y}px`);
    this._outside = (e) => {
      if (!this.root.contains(e.target)) this.cancel();
    };
    document.addEventListener("mousedown", this._outside, true);
    this.items[0].focus({ preventScroll: true });
  }

  key(e) {
    e.stopPropagation();
    const i = this.items.indexOf(document.activeElement);
    const n = this.items.length;
    const focus = (j) => {
      this.items.forEach((b, k) => (b.tabIndex = k === j ? 0 : -1));
      this.items[j].focus({ preventScroll: true });
    };
    const back = e.key === "ArrowUp" || e.key === "ArrowLeft" || (e.key === "Tab" && e.shiftKey);
    const on = e.key === "ArrowDown" || e.key === "ArrowRight" || (e.key === "Tab" && !e.shiftKey);
    if (e.ctrlKey || e.metaKey || e.altKey) {
      // nothing else happens while the menu is open
    } else if (on || back) {
      focus(((i < 0 ? 0 : i) + (on ? 1 : -1) + n) % n);
    } else if (e.key === "Home" || e.key === "End") {
      focus(e.key === "Home" ? 0 : n - 1);
    } else if (e.key === "Enter" || e.key === " ") {
      if (i >= 0) this.pick(this.types[i]);
    } else if (e.key === "Escape") {
      this.cancel();
    } else {
      const type = this.types.find((t) => t.hotkey === e.key) || (/^[1-9]$/.test(e.key) ? this.types[Number(e.key) - 1] : null);
      if (type) this.pick(type);
    }
    e.preventDefault();
  }

  close() {
    document.removeEventListener("mousedown", this._outside, true);
    this.root.remove();
  }

  pick(type) {
    this.close();
    this.onPick(type.name);
  }

  cancel() {
    this.close();
    this.onCancel();
  }
}

/** A group of values as toggle buttons: a click or (while focused) a number key picks one. */
function choiceGroup({ key, id, name, values, current, keyHint, onPick, disabled }) {
  return h(
    "div",
    { class: "ws-field" },
    h("span", { class: "ws-field-label", id: `${id}-label` }, name, keyHint ? h("kbd", {}, keyHint) : null),
    h(
      "div",
      { role: "group", class: "ws-choice", "data-choice": key, "aria-labelledby": `${id}-label` },
      values.map((value, i) =>
        h(
          "button",
          {
            type: "button",
            class: "ws-choice-button",
            "aria-pressed": value === current ? "true" : "false",
            "data-value": value,
            disabled,
            onclick: () => onPick(value === current ? null : value),
          },
          h("kbd", { "aria-hidden": "true" }, String(i + 1)),
          ` ${value}`,
        ),
      ),
    ),
  );
}

export class Panel {
  constructor({ ws, scheme, suggestions, attributeKeys, arcStyle }) {
    this.ws = ws; // the controller in main.js: its model, selection and actions
    this.scheme = scheme;
    this.suggestions = suggestions;
    this.attributeKeys = attributeKeys; // Map attribute name -> key
    this.arcStyle = arcStyle;
    this.card = document.getElementById("ws-card-body");
    this.docStance = document.getElementById("ws-doc-body");
    this.spanList = document.getElementById("ws-span-list");
    this.relList = document.getElementById("ws-rel-list");
    this.spanCount = document.getElementById("ws-span-count");
    this.relCount = document.getElementById("ws-rel-count");
    this.legend = document.getElementById("ws-legend");
    this._cardKey = null;
    this.spanList.addEventListener("keydown", (e) => this.listKeys(e, this.spanList));
    this.relList.addEventListener("keydown", (e) => this.listKeys(e, this.relList));
  }

  /** ↑/↓ move within a list (one Tab stop per list: a roving tabindex). */
  listKeys(e, list) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const buttons = [...list.querySelectorAll("button.ws-item")];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    e.preventDefault();
    e.stopPropagation();
    const next = buttons[Math.max(0, Math.min(buttons.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)))];
    for (const b of buttons) b.tabIndex = b === next ? 0 : -1;
    next.focus();
  }

  render({ lists = true } = {}) {
    const ws = this.ws;
    const m = ws.local;
    renderLegend(this.legend, {
      labels: this.scheme.span_labels,
      labelClass: (name) => ws.painter.labelClass(name),
      relationTypes: this.scheme.relation_types,
      arcStyle: this.arcStyle,
      armed: ws.armed,
      keys: [...this.attributeKeys],
    });
    this.renderCard(m);
    this.renderDocStance(m);
    if (lists) this.renderLists(m);
    else {
      this.spanCount.textContent = String(m.spans.size);
      this.relCount.textContent = String(m.relations.size);
    }
  }

  spanText(span) {
    return this.ws.map.cp.slice(span.start, span.end);
  }

  spanName(span) {
    return `${span.label} “${excerpt(this.spanText(span))}”`;
  }

  renderCard(m) {
    const ws = this.ws;
    const span = ws.selected && m.spans.get(ws.selected);
    // Re-render only when something shown changed, and never under the user's typing.
    const key = span ? JSON.stringify([span, relationsOf(m, span.id), ws.selectedRelation, ws.editable]) : "";
    if (key === this._cardKey) return;
    if (this.card.contains(document.activeElement) && document.activeElement.tagName === "INPUT") {
      if (span && this._cardSpan === span.id) return;
    }
    this._cardKey = key;
    this._cardSpan = span?.id;
    if (!span) {
      this.card.replaceChildren(
        h(
          "p",
          { class: "empty small" },
          ws.editable
            ? "Select text and press a label's key, or click a span."
            : "Click a span to see its attributes and relations.",
        ),
      );
      return;
    }
    const disabled = !ws.editable;
    const labels = this.scheme.span_labels.filter((l) => !l.retired || l.name === span.label);
    const parts = [
      h(
        "div",
        { class: "ws-card-head" },
        chip(span.label, ws.painter.labelClass(span.label)),
        h("label", { class: "visually-hidden", for: "ws-card-label" }, "Label"),
        h(
          "select",
          {
            id: "ws-card-label",
            disabled,
            onchange: (e) => ws.relabel(span.id, e.target.value),
          },
          labels.map((l) =>
            h("option", { value: l.name, selected: l.name === span.label }, `${l.name}${l.hotkey ? ` (${l.hotkey})` : ""}`),
          ),
        ),
      ),
      h("blockquote", { class: "ws-quote" }, excerpt(this.spanText(span), 40, 400)),
    ];
    for (const [index, attribute] of (this.scheme.span_attributes || []).entries()) {
      const id = attributeId(attribute.name, index);
      const keyHint = this.attributeKeys.get(attribute.name);
      const current = span.attributes[attribute.name] || "";
      if (attribute.kind === "choice") {
        parts.push(
          choiceGroup({
            key: `attr-${attribute.name}`,
            id,
            name: attribute.name,
            values: attribute.values || [],
            current,
            keyHint,
            disabled,
            onPick: (value) => ws.setAttribute(span.id, attribute.name, value),
          }),
        );
      } else if (disabled) {
        parts.push(
          h("div", { class: "ws-field" }, h("span", { class: "ws-field-label" }, attribute.name), h("span", {}, current || "—")),
        );
      } else {
        const combo = new Combobox({
          id,
          label: attribute.name,
          keyHint,
          value: current,
          options: this.suggestions[attribute.name] || attribute.suggestions || [],
          onCommit: (value) => ws.setAttribute(span.id, attribute.name, value || null),
          onLeave: () => ws.focusText(),
        });
        parts.push(combo.root);
      }
    }
    const rels = relationsOf(m, span.id);
    parts.push(
      h(
        "div",
        { class: "ws-field" },
        h("span", { class: "ws-field-label" }, "Relations"),
        rels.length
          ? h(
              "ul",
              { class: "ws-card-rels" },
              rels.map((r) => this.relationItem(m, r, span.id)),
            )
          : h("p", { class: "empty small" }, "None."),
        ws.editable
          ? h(
              "div",
              { class: "ws-card-actions" },
              this.scheme.relation_types.map((t) =>
                h(
                  "button",
                  {
                    type: "button",
                    class: "button small",
                    onclick: () => ws.startLink(t.name),
                    title: `Then click the target span${t.hotkey ? ` (key ${t.hotkey})` : ""}`,
                  },
                  `Link: ${t.name}`,
                  t.hotkey ? h("kbd", {}, t.hotkey) : null,
                ),
              ),
            )
          : null,
        ws.editable && this.scheme.relation_types.length
          ? h("p", { class: "ws-drag-hint small muted" }, "Or drag from the outlined span in the text onto its target.")
          : null,
      ),
    );
    if (ws.editable) {
      const bound = (which, dir, text, title, k) =>
        h("button", { type: "button", class: "button small", title: `${title} (${k})`, onclick: () => ws.moveBound(span.id, which, dir) }, text);
      parts.push(
        h(
          "div",
          { class: "ws-card-actions" },
          h("span", { class: "ws-field-label" }, "Boundaries"),
          bound("start", -1, "◀ start", "Start a word earlier", "["),
          bound("start", 1, "start ▶", "Start a word later", "Shift+["),
          bound("end", -1, "◀ end", "End a word earlier", "Shift+]"),
          bound("end", 1, "end ▶", "End a word later", "]"),
        ),
        h(
          "div",
          { class: "ws-card-actions" },
          h("button", { type: "button", class: "button small danger", onclick: () => ws.deleteSpan(span.id) }, "Delete span", h("kbd", {}, "Del")),
        ),
      );
    }
    keepFocus(this.card, () => this.card.replaceChildren(...parts));
  }

  relationItem(m, r, focusId = null) {
    const ws = this.ws;
    const from = m.spans.get(r.from);
    const to = m.spans.get(r.to);
    const style = this.arcStyle(r.type);
    const text =
      focusId === r.from
        ? [h("span", { class: `ws-rel-key ${style.cls}` }, `${r.type} →`), ` ${to ? this.spanName(to) : "?"}`]
        : focusId === r.to
          ? [`${from ? this.spanName(from) : "?"} `, h("span", { class: `ws-rel-key ${style.cls}` }, `${r.type} →`), " this"]
          : [
              `${from ? this.spanName(from) : "?"} `,
              h("span", { class: `ws-rel-key ${style.cls}` }, `${r.type} →`),
              ` ${to ? this.spanName(to) : "?"}`,
            ];
    return h(
      "li",
      { class: ws.selectedRelation === r.id ? "chosen" : null },
      h(
        "button",
        {
          type: "button",
          class: "ws-item",
          tabindex: "-1",
          "aria-current": ws.selectedRelation === r.id ? "true" : null,
          onclick: () => ws.selectRelation(r.id),
        },
        ...text,
      ),
      ws.editable
        ? h(
            "button",
            {
              type: "button",
              class: "ws-x",
              title: "Delete this relation",
              "aria-label": `Delete relation ${r.type}`,
              onclick: () => ws.deleteRelation(r.id),
            },
            "×",
          )
        : null,
    );
  }

  renderDocStance(m) {
    const ws = this.ws;
    const targets = this.scheme.stance_targets || [];
    if (!targets.length) {
      this.docStance.replaceChildren(h("p", { class: "empty small" }, "This project has no stance targets."));
      return;
    }
    const key = JSON.stringify([[...m.stances], ws.editable]);
    if (key === this._docKey) return;
    this._docKey = key;
    keepFocus(this.docStance, () => this.docStance.replaceChildren(
      ...targets.map((t, i) =>
        h(
          "div",
          { class: "ws-target" },
          h("p", { class: "ws-target-name" }, t.name),
          choiceGroup({
            key: `doc-${t.id}`,
            id: `ws-doc-${i}`,
            name: targets.length > 1 ? `Target ${i + 1}` : "Stance",
            values: this.scheme.stance_values || [],
            current: m.stances.get(Number(t.id)) || "",
            keyHint: i === 0 ? "d" : null,
            disabled: !ws.editable,
            onPick: (value) => ws.setStance(t.id, value),
          }),
        ),
      ),
    ));
  }

  renderLists(m) {
    const ws = this.ws;
    const spans = spansInOrder(m);
    this.spanCount.textContent = String(spans.length);
    this.relCount.textContent = String(m.relations.size);
    // Items are kept by id and rebuilt only when what they show changed: a label on a long
    // article touches one item, not three hundred.
    this._spanItems = this._spanItems || new Map();
    this._relItems = this._relItems || new Map();
    const focusable = ws.selected || spans[0]?.id;
    const spanLis = spans.map((s) => {
      const key = JSON.stringify([s.label, s.start, s.end, s.attributes, s.id === ws.selected]);
      let item = this._spanItems.get(s.id);
      if (!item || item.key !== key) {
        item = { key, li: this.spanItem(s) };
        this._spanItems.set(s.id, item);
      }
      const button = item.li.firstChild;
      button.tabIndex = s.id === focusable ? 0 : -1;
      return item.li;
    });
    for (const id of this._spanItems.keys()) if (!m.spans.has(id)) this._spanItems.delete(id);
    syncChildren(this.spanList, spanLis.length ? spanLis : [this.emptyItem("No spans yet.")]);

    const rels = [...m.relations.values()];
    const relLis = rels.map((r) => {
      const from = m.spans.get(r.from);
      const to = m.spans.get(r.to);
      const key = JSON.stringify([r, from?.label, from?.start, from?.end, to?.label, to?.start, to?.end, ws.selectedRelation === r.id]);
      let item = this._relItems.get(r.id);
      if (!item || item.key !== key) {
        item = { key, li: this.relationItem(m, r) };
        this._relItems.set(r.id, item);
      }
      return item.li;
    });
    for (const id of this._relItems.keys()) if (!m.relations.has(id)) this._relItems.delete(id);
    syncChildren(this.relList, relLis.length ? relLis : [this.emptyItem("No relations yet.")]);
    relLis.forEach((li, i) => {
      li.firstChild.tabIndex = i === 0 ? 0 : -1;
    });
  }

  emptyItem(text) {
    return h("li", { class: "empty small" }, text);
  }

  spanItem(s) {
    const ws = this.ws;
    return h(
      "li",
      { class: s.id === ws.selected ? "chosen" : null },
      h(
        "button",
        {
          type: "button",
          class: "ws-item",
          tabindex: "-1",
          "aria-current": s.id === ws.selected ? "true" : null,
          "data-span": s.id,
          onclick: () => ws.selectSpan(s.id, { scroll: true, focus: false }),
        },
        chip(s.label, ws.painter.labelClass(s.label)),
        ` ${excerpt(this.spanText(s))}`,
        s.attributes.source ? h("span", { class: "muted small" }, ` · ${s.attributes.source}`) : null,
        s.attributes.stance ? h("span", { class: "muted small" }, ` · ${s.attributes.stance}`) : null,
      ),
    );
  }
}

/**
 * Rebuild part of the page without losing the keyboard focus inside it: the control that had
 * it (same id, or same value in the same group, or same text) gets it back.
 */
function keepFocus(root, rebuild) {
  const active = document.activeElement;
  if (!active || !root.contains(active) || active === root) return rebuild();
  const id = active.id;
  const group = active.closest("[data-choice]")?.dataset.choice;
  const value = active.dataset.value;
  const text = active.textContent;
  rebuild();
  let again = id ? document.getElementById(id) : null;
  if (!again && group) {
    again = root.querySelector(`[data-choice="${CSS.escape(group)}"] [data-value="${CSS.escape(value || "")}"]`);
  }
  if (!again) again = [...root.querySelectorAll("button, select, input")].find((b) => b.textContent === text);
  if (again && root.contains(again)) again.focus({ preventScroll: true });
}

/** Make ``parent``'s children exactly ``nodes``, moving only what is out of place. */
function syncChildren(parent, nodes) {
  const keep = new Set(nodes);
  for (const child of [...parent.childNodes]) if (!keep.has(child)) child.remove();
  let at = parent.firstChild;
  for (const node of nodes) {
    if (node !== at) parent.insertBefore(node, at);
    else at = at.nextSibling;
  }
  while (at) {
    const next = at.nextSibling;
    at.remove();
    at = next;
  }
}

/** The help overlay, generated from the keymap's table. */
export function renderHelp(root, groups, clashes) {
  root.replaceChildren(
    ...groups.map(([group, rows]) =>
      h(
        "section",
        { class: "ws-help-group" },
        h("h3", {}, group),
        h(
          "dl",
          {},
          rows.flatMap((row) => [h("dt", {}, h("kbd", {}, row.show)), h("dd", {}, row.help)]),
        ),
      ),
    ),
    clashes.length
      ? h(
          "p",
          { class: "small muted" },
          `The scheme uses ${clashes.join(", ")} for labels or relations; there they label rather than do what this list says.`,
        )
      : null,
    h(
      "p",
      { class: "small muted" },
      "Mouse: drag over text to select (hold Alt for exact characters), click a span to select it; " +
        "press a label's key before selecting to label the next selection at once. " +
        "Drag from the selected span onto another span to link them: when one relation type fits it " +
        "is made at once, when several do a menu asks (a type's key or Enter picks, Esc cancels). " +
        "Hold Alt to select text inside the selected span instead.",
    ),
  );
}
