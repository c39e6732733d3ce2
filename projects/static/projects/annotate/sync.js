// The outbox: every change goes to the server in order, one request at a time, with the
// annotation version it was made against, and is kept in localStorage until the server has
// it, so a reload, a crash or a dropped network loses nothing.
//
// - Network errors and 503 (the server is out of service for a moment, e.g. its database is
//   restarting): retry with backoff; the page says "offline", n changes kept, retrying.
// - Other 5xx and 429: retry with backoff too (the page says "server error: retrying").
// - 409 stale_version (the annotation changed in another tab): take the current state the
//   answer carries, re-check every queued change against it, keep those that still make
//   sense, report those that do not, and go on. Never drop a change silently.
// - 400/404 and other refusals: the change is reported and dropped (the server will never
//   take it); later changes are re-checked against the server's state.
// - 401/403 (signed out, or the role changed): stop and keep everything until it works again.

import { apply, check, cloneModel, modelFrom } from "./state.js";

const PREFIX = "annotate:v1:";
// A tab whose heartbeat stopped this long ago is gone (crashed). Generous, because browsers
// run the timers of background tabs as rarely as once a minute; a closed tab or a reload
// releases its queue at once instead (pagehide).
const STALE_MS = 150000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
// Statuses in which the sender waits for the server to come back before its next try.
const STUCK = new Set(["offline", "retrying", "blocked"]);

/** The localStorage key prefix of one annotation's outboxes (one per browser tab). */
export function outboxPrefix({ project, document, user }) {
  return `${PREFIX}${project}:${document}:${user}:`;
}

/** Parse an outbox key back into {project, document, user, tab}, or null. */
export function parseOutboxKey(key) {
  if (!key.startsWith(PREFIX)) return null;
  const parts = key.slice(PREFIX.length).split(":");
  if (parts.length !== 4) return null;
  const [project, document, user, tab] = parts;
  return { project, document, user, tab };
}

function keysOf(storage) {
  const keys = [];
  for (let i = 0; i < storage.length; i++) keys.push(storage.key(i));
  return keys;
}

function readRecord(storage, key) {
  try {
    const record = JSON.parse(storage.getItem(key) || "null");
    return record && Array.isArray(record.ops) ? record : null;
  } catch {
    return null;
  }
}

/**
 * One tab's queue of operations for one annotation, persisted under its own key (two tabs on
 * the same annotation never overwrite each other's queue). A tab's queue whose heartbeat
 * stopped (closed or crashed) or that was released on page hide is adopted by the next page
 * that opens the annotation.
 */
export class Outbox {
  constructor({ storage, prefix, tab, now = () => Date.now() }) {
    this.storage = storage;
    this.prefix = prefix;
    this.tab = tab;
    this.key = prefix + tab;
    this.now = now;
    this.ops = [];
    this.storageError = null;
    this._seq = 0;
  }

  /** True when another live tab holds this tab id (a duplicated tab copies sessionStorage). */
  heldElsewhere() {
    const record = readRecord(this.storage, this.key);
    return Boolean(record && !record.released && this.now() - record.beat < STALE_MS);
  }

  /** Load this tab's own queue (after a reload) and adopt orphans; returns how many adopted. */
  open() {
    const own = readRecord(this.storage, this.key);
    this.ops = own ? own.ops : [];
    const adopted = this.adoptOrphans();
    this._seq = this.ops.reduce((n, op) => Math.max(n, op.seq || 0), 0);
    this.save();
    return adopted;
  }

  /** Take over the queues of tabs that are gone; merged by the time each change was made. */
  adoptOrphans() {
    let adopted = 0;
    const now = this.now();
    for (const key of keysOf(this.storage)) {
      if (!key || !key.startsWith(this.prefix) || key === this.key) continue;
      const record = readRecord(this.storage, key);
      if (record && !record.released && now - record.beat < STALE_MS) continue; // alive
      if (record) {
        this.ops = this.ops.concat(record.ops);
        adopted += record.ops.length;
      }
      this.storage.removeItem(key);
    }
    if (adopted) this.ops.sort((a, b) => (a.at || 0) - (b.at || 0));
    return adopted;
  }

  push(ops) {
    for (const op of ops) {
      this.ops.push({ ...op, seq: ++this._seq, at: this.now() });
    }
    this.save();
  }

  shift() {
    this.ops.shift();
    this.save();
  }

  replace(ops) {
    this.ops = ops;
    this.save();
  }

  /** Write the queue (and the heartbeat); an empty queue leaves no key behind. */
  save(released = false) {
    try {
      if (this.ops.length === 0) {
        this.storage.removeItem(this.key);
      } else {
        this.storage.setItem(
          this.key,
          JSON.stringify({ ops: this.ops, beat: this.now(), released }),
        );
      }
      this.storageError = null;
    } catch (error) {
      // Private mode or a full quota: keep working in memory, and say so.
      this.storageError = error;
    }
  }

  beat() {
    if (this.ops.length) this.save();
  }

  /** On page hide: the next page (a reload, or another tab) may adopt the queue at once. */
  release() {
    if (this.ops.length) this.save(true);
  }
}

/** Orphaned queues of other annotations of this user and project (left by a page that moved on). */
export function orphanedElsewhere(storage, { project, user, document }, now = Date.now()) {
  const found = new Map();
  for (const key of keysOf(storage)) {
    const parsed = key && parseOutboxKey(key);
    if (!parsed || parsed.project !== String(project) || parsed.user !== String(user)) continue;
    if (parsed.document === String(document)) continue;
    const record = readRecord(storage, key);
    if (!record || (!record.released && now - record.beat < STALE_MS)) continue;
    if (!found.has(parsed.document)) found.set(parsed.document, []);
    found.get(parsed.document).push(parsed.tab);
  }
  return found;
}

/** The request that sends one operation: [method, path relative to the annotation, body]. */
export function requestFor(op, version) {
  const q = `?version=${version}`;
  const id = (value) => encodeURIComponent(value);
  switch (op.kind) {
    case "span.create": {
      const s = op.span;
      return [
        "POST",
        "spans/",
        {
          client_id: s.id,
          start: s.start,
          end: s.end,
          label: s.label,
          attributes: s.attributes || {},
          version,
        },
      ];
    }
    case "span.update":
      return ["PATCH", `spans/${id(op.id)}/`, { ...op.set, version }];
    case "span.delete":
      return ["DELETE", `spans/${id(op.id)}/${q}`, null];
    case "relation.create": {
      const r = op.relation;
      return [
        "POST",
        "relations/",
        { client_id: r.id, from: r.from, to: r.to, type: r.type, version },
      ];
    }
    case "relation.delete":
      return ["DELETE", `relations/${id(op.id)}/${q}`, null];
    case "stance.set":
      return ["PUT", `stances/${id(op.target)}/`, { value: op.value, version }];
    case "stance.delete":
      return ["DELETE", `stances/${id(op.target)}/${q}`, null];
    case "submit":
      return ["POST", "submit/", { version }];
    case "skip":
      return ["POST", "skip/", { reason: op.reason, version }];
    default:
      throw new Error(`cannot send ${op.kind}`);
  }
}

/** Apply an acknowledged operation to the server model, trusting what the server returned. */
function acknowledge(server, op, body) {
  if (op.kind === "span.create" || op.kind === "span.update") {
    const s = body.span;
    if (s) {
      server.spans.set(s.id, {
        id: s.id,
        start: s.start,
        end: s.end,
        label: s.label,
        attributes: { ...(s.attributes || {}) },
      });
    }
  } else if (op.kind === "relation.create") {
    const r = body.relation || op.relation;
    server.relations.set(r.id, { id: r.id, from: r.from, to: r.to, type: r.type });
  } else {
    apply(server, op);
  }
  if (typeof body.version === "number") server.version = body.version;
  if (body.status) server.status = body.status;
}

class Wakeable {
  constructor(sleep) {
    this.sleep = sleep;
    this._wake = null;
  }

  wait(ms) {
    return new Promise((resolve) => {
      this._wake = resolve;
      this.sleep(ms).then(resolve);
    }).finally(() => {
      this._wake = null;
    });
  }

  wake() {
    if (this._wake) this._wake();
  }
}

/**
 * Sends one annotation's outbox. ``server`` is the last state the server confirmed (null: fetch
 * it first). Events go to ``onEvent``:
 *
 * - {type: "status", status, pending, error}: status is saved, saving, offline, retrying,
 *   or blocked (signed out or not allowed);
 * - {type: "acked", op, server};
 * - {type: "rebased", server, kept, dropped, conflict}: the server's state was replaced (409,
 *   a refusal, or a refresh); ``dropped`` lists {op, reason} of changes that could not be
 *   kept, ``conflict`` says the annotation was changed elsewhere.
 */
export class Sync {
  constructor({
    transport,
    base,
    outbox,
    server,
    rules,
    onEvent = () => {},
    sleep = (ms) => new Promise((r) => setTimeout(r, ms)),
    random = Math.random,
  }) {
    this.transport = transport;
    this.base = base;
    this.outbox = outbox;
    this.server = server;
    this.rules = rules;
    this.onEvent = onEvent;
    this.random = random;
    this._timer = new Wakeable(sleep);
    this._running = null;
    this._failures = 0;
    this.status = "saved";
    this.lastError = null;
    this.stopped = false;
    this._waiters = [];
  }

  get pending() {
    return this.outbox.ops.length;
  }

  /** Queue operations already applied to the page's model, and start sending. */
  enqueue(ops) {
    if (!ops.length) return;
    this.outbox.push(ops);
    this._setStatus(this.status === "saved" ? "saving" : this.status);
    this.kick();
  }

  /** Start (or wake) the sender; resolves when the queue is empty or sending is stopped. */
  kick() {
    this._timer.wake();
    if (!this._running) {
      this._running = this._run().finally(() => {
        this._running = null;
        this._settle();
      });
    }
    return this._running;
  }

  /** Resolves once everything queued so far has reached the server. */
  async flush() {
    while (this.pending && !this.stopped) await this.kick();
  }

  stop() {
    this.stopped = true;
    this._timer.wake();
    this._settle();
  }

  /**
   * Resolves (with the status) once what is queued has been tried: everything is saved, or
   * the sender is waiting to retry (offline, server error, signed out) and says so. Never
   * waits through a backoff, so it is bounded by one request's timeout.
   */
  attempted() {
    if (this._attempted()) return Promise.resolve(this.status);
    return new Promise((resolve) => this._waiters.push(resolve));
  }

  _attempted() {
    return this.stopped || STUCK.has(this.status) || (!this.pending && !this._running);
  }

  _settle() {
    if (!this._waiters.length || !this._attempted()) return;
    const waiters = this._waiters;
    this._waiters = [];
    for (const resolve of waiters) resolve(this.status);
  }

  _setStatus(status, error = null) {
    this.status = status;
    this.lastError = error;
    this.onEvent({ type: "status", status, pending: this.pending, error });
    this._settle();
  }

  async _backoff(status, error) {
    this._setStatus(status, error);
    const base = BACKOFF_MS[Math.min(this._failures, BACKOFF_MS.length - 1)];
    this._failures++;
    await this._timer.wait(Math.round(base * (0.8 + 0.4 * this.random())));
  }

  async _run() {
    while (!this.stopped) {
      if (!this.server) {
        const fetched = await this._fetchServer();
        if (!fetched) continue;
      }
      const op = this.outbox.ops[0];
      if (!op) {
        this._failures = 0;
        this._setStatus("saved");
        return;
      }
      // while retrying, the status stays "offline" (no flicker, no repeated announcement)
      if (this.status === "saved") this._setStatus("saving");
      const [method, path, body] = requestFor(op, this.server.version);
      let response;
      try {
        response = await this.transport(method, this.base + path, body);
      } catch (error) {
        await this._backoff("offline", error);
        continue;
      }
      const { status } = response;
      const payload = response.body || {};
      if (status >= 200 && status < 300) {
        this._failures = 0;
        acknowledge(this.server, op, payload);
        this.outbox.shift();
        if (this.status !== "saving" && this.pending) this._setStatus("saving");
        this.onEvent({ type: "acked", op, server: this.server });
        continue;
      }
      const error = payload.error || {};
      if (status === 409 && error.current) {
        if (error.code === "stale_version") {
          this._rebase(modelFrom(error.current), { conflict: true });
        } else {
          this.outbox.shift();
          this._rebase(modelFrom(error.current), {
            conflict: false,
            dropped: [{ op, reason: error.message || "Refused by the server." }],
          });
        }
        continue;
      }
      if (status === 401 || status === 403) {
        await this._backoff("blocked", error.message || `HTTP ${status}`);
        continue;
      }
      if (status === 503) {
        await this._backoff("offline", error.message || "HTTP 503");
        continue;
      }
      if (status === 429 || status >= 500 || status === 0) {
        await this._backoff("retrying", error.message || `HTTP ${status}`);
        continue;
      }
      // The server will never take this one: say so, drop it, and re-check the rest.
      this._failures = 0;
      this.outbox.shift();
      if (status === 404 && op.kind.endsWith(".delete")) continue; // already gone: done
      const message = error.message || `The server refused this change (HTTP ${status}).`;
      this._rebase(this.server, { conflict: false, dropped: [{ op, reason: message }] });
    }
  }

  async _fetchServer() {
    try {
      const response = await this.transport("GET", this.base, null);
      if (response.status === 200) {
        this.server = modelFrom(response.body);
        this._rebase(this.server, { conflict: false, quiet: true });
        return true;
      }
      const blocked = response.status === 401 || response.status === 403;
      await this._backoff(
        blocked ? "blocked" : response.status === 503 ? "offline" : "retrying",
        response.body?.error?.message || `HTTP ${response.status}`,
      );
    } catch (error) {
      await this._backoff("offline", error);
    }
    return false;
  }

  /**
   * Replace the server state with ``server`` and re-check the queue against it: changes the
   * server already has are done, those that no longer apply are reported, the rest stay.
   */
  _rebase(server, { conflict, dropped = [], quiet = false }) {
    this.server = server;
    const trial = cloneModel(server);
    const kept = [];
    for (const op of this.outbox.ops) {
      const problem = check(trial, op, this.rules);
      if (problem === "noop") continue; // the server has it already (a retried change)
      if (problem) {
        dropped.push({ op, reason: problem });
        continue;
      }
      apply(trial, op);
      kept.push(op);
    }
    this.outbox.replace(kept);
    if (!quiet || dropped.length) {
      this.onEvent({ type: "rebased", server: this.server, kept, dropped, conflict });
    }
  }

  /** Re-check the queue against the server's state (after loading or adopting a queue). */
  requeue() {
    this._rebase(this.server, { conflict: false });
    if (this.pending) this.kick();
  }

  /**
   * Re-read the server's state when nothing is queued (the page regained focus, or another
   * tab saved): returns true when it differed from what this page knew.
   */
  async refresh() {
    if (this.pending || this._running) return false;
    let response;
    try {
      response = await this.transport("GET", this.base, null);
    } catch {
      return false;
    }
    if (response.status !== 200 || this.pending || this._running) return false;
    const current = modelFrom(response.body);
    if (this.server && current.version === this.server.version) return false;
    this._rebase(current, { conflict: true });
    return true;
  }
}
