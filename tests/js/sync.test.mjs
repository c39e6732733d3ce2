// The outbox against a fake server with the real API's rules (versions, idempotent client
// ids, 409 with the current state) and a fake localStorage. The real network path is covered
// by the browser tests (tests/e2e/test_workspace*.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  apply,
  check,
  emptyModel,
  modelFrom,
  Rules,
  spansInOrder,
} from "../../projects/static/projects/annotate/state.js";
import {
  orphanedElsewhere,
  Outbox,
  outboxPrefix,
  requestFor,
  Sync,
} from "../../projects/static/projects/annotate/sync.js";
import { SCHEME } from "./scheme.mjs";

const BASE = "/api/v1/projects/1/documents/2/annotation/";
const rules = new Rules(SCHEME, { length: 1000 });

class FakeStorage {
  constructor() {
    this.map = new Map();
  }
  get length() {
    return this.map.size;
  }
  key(i) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}

function payload(m) {
  return {
    version: m.version,
    status: m.status,
    spans: spansInOrder(m).map((s) => ({ ...s, text: "" })),
    relations: [...m.relations.values()],
    stances: [...m.stances].map(([target_id, value]) => ({ target_id, value })),
  };
}

/** The server's rules, small: stale version → 409 with the current state; creates with a
 * known client id and the same content are answered 200 without a change. */
class FakeServer {
  constructor() {
    this.model = emptyModel();
    this.requests = [];
    this.failures = []; // queued: "network" | "lost" (applied, answer lost) | status number
  }

  transport = async (method, url, body) => {
    this.requests.push({ method, url, body });
    const failure = this.failures.shift();
    if (failure === "network") throw new TypeError("Failed to fetch");
    if (typeof failure === "number") {
      return { status: failure, body: { error: { code: "x", message: `HTTP ${failure}` } } };
    }
    const response = this.handle(method, url, body);
    if (failure === "lost") throw new TypeError("connection reset after the write");
    return response;
  };

  /** What another tab does: a change straight on the server. */
  changeElsewhere(op) {
    assert.equal(check(this.model, op, rules), null);
    apply(this.model, op);
    this.model.version++;
  }

  handle(method, url, body) {
    const path = url.slice(BASE.length);
    if (method === "GET") return { status: 200, body: payload(this.model) };
    const [route, query] = path.split("?");
    const version = body ? body.version : Number(new URLSearchParams(query).get("version"));
    const parts = route.split("/").filter(Boolean);
    let op;
    if (method === "POST" && parts[0] === "spans") {
      const { client_id, start, end, label, attributes } = body;
      op = { kind: "span.create", span: { id: client_id, start, end, label, attributes } };
    } else if (method === "PATCH") {
      const { version: _, ...set } = body;
      op = { kind: "span.update", id: decodeURIComponent(parts[1]), set };
    } else if (method === "DELETE" && parts[0] === "spans") {
      op = { kind: "span.delete", id: decodeURIComponent(parts[1]) };
    } else if (method === "POST" && parts[0] === "relations") {
      op = {
        kind: "relation.create",
        relation: { id: body.client_id, from: body.from, to: body.to, type: body.type },
      };
    } else if (method === "DELETE" && parts[0] === "relations") {
      op = { kind: "relation.delete", id: parts[1] };
    } else if (method === "PUT") {
      op = { kind: "stance.set", target: Number(parts[1]), value: body.value };
    } else if (method === "DELETE" && parts[0] === "stances") {
      op = { kind: "stance.delete", target: Number(parts[1]) };
    } else if (parts[0] === "submit") {
      op = { kind: "submit" };
    } else if (parts[0] === "skip") {
      op = { kind: "skip", reason: body.reason };
    }
    const problem = check(this.model, op, rules);
    const answer = (status) => ({
      status,
      body: {
        version: this.model.version,
        status: this.model.status,
        span: op.span || (op.id && this.model.spans.get(op.id)) || undefined,
        relation: op.relation,
      },
    });
    if (problem === "noop") return answer(200); // idempotent, before the version check
    if (version !== this.model.version) {
      return {
        status: 409,
        body: {
          error: { code: "stale_version", message: "stale", current: payload(this.model) },
        },
      };
    }
    if (problem) {
      const status = /no longer exists/.test(problem) ? 404 : 400;
      return { status, body: { error: { code: "invalid", message: problem } } };
    }
    apply(this.model, op);
    this.model.version++;
    return answer(method === "POST" ? 201 : 200);
  }
}

function setup({ server = new FakeServer(), storage = new FakeStorage(), tab = "t1" } = {}) {
  const events = [];
  const delays = [];
  const prefix = outboxPrefix({ project: 1, document: 2, user: 3 });
  const outbox = new Outbox({ storage, prefix, tab });
  outbox.open();
  const sync = new Sync({
    transport: server.transport,
    base: BASE,
    outbox,
    server: modelFrom(payload(server.model)),
    rules,
    onEvent: (e) => events.push(e),
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
  });
  return { server, storage, outbox, sync, events, delays, prefix };
}

const span = (id, start, label = "Claim", attributes = {}) => ({
  kind: "span.create",
  span: { id, start, end: start + 5, label, attributes },
});

test("changes are sent in order, one at a time, each with the version it follows", async () => {
  const { server, sync, outbox } = setup();
  sync.enqueue([span("a", 0), span("b", 10)]);
  sync.enqueue([{ kind: "span.update", id: "a", set: { label: "Critique" } }]);
  sync.enqueue([{ kind: "stance.set", target: 7, value: "favor" }, { kind: "submit" }]);
  await sync.flush();
  assert.deepEqual(
    server.requests.map((r) => [r.method, r.url.slice(BASE.length), r.body?.version]),
    [
      ["POST", "spans/", 0],
      ["POST", "spans/", 1],
      ["PATCH", "spans/a/", 2],
      ["PUT", "stances/7/", 3],
      ["POST", "submit/", 4],
    ],
  );
  assert.equal(server.model.spans.get("a").label, "Critique");
  assert.equal(server.model.status, "submitted");
  assert.equal(outbox.ops.length, 0);
  assert.equal(sync.status, "saved");
  assert.equal(sync.server.version, 5);
});

test("network errors are retried with growing delays and each change lands once", async () => {
  const { server, sync, events, delays } = setup();
  server.failures = ["network", "network", "network", undefined, "lost", 500];
  sync.enqueue([span("a", 0), span("b", 10), span("c", 20)]);
  await sync.flush();
  assert.deepEqual([...server.model.spans.keys()], ["a", "b", "c"]);
  assert.equal(server.model.version, 3, "three creates, no duplicates");
  assert.deepEqual(delays, [1000, 2000, 4000, 1000, 2000], "backoff grows, and restarts after a success");
  const statuses = events.filter((e) => e.type === "status").map((e) => e.status);
  assert.ok(statuses.includes("offline"));
  assert.ok(statuses.includes("retrying"));
  assert.equal(statuses.at(-1), "saved");
});

test("a 503 (the database restarting) shows offline, keeps every change and retries", async () => {
  const { server, sync, events, outbox } = setup();
  server.failures = [503, 503, 503];
  sync.enqueue([span("a", 0), span("b", 10)]);
  await sync.flush();
  const statuses = events.filter((e) => e.type === "status");
  const offline = statuses.filter((e) => e.status === "offline");
  assert.ok(offline.length >= 1, JSON.stringify(statuses));
  assert.equal(offline[0].pending, 2);
  assert.equal(offline[0].error, "HTTP 503");
  assert.ok(!statuses.some((e) => e.status === "retrying"), "a 503 is not a server error");
  assert.deepEqual([...server.model.spans.keys()], ["a", "b"]);
  assert.equal(server.model.version, 2, "each change once");
  assert.equal(outbox.ops.length, 0);
  assert.equal(statuses.at(-1).status, "saved");
});

test("the queue is in storage before anything is sent, and a reload picks it up", async () => {
  const storage = new FakeStorage();
  const server = new FakeServer();
  server.failures = ["network"];
  const first = setup({ server, storage });
  first.sync.enqueue([span("a", 0), span("b", 10)]);
  const [key] = [...storage.map.keys()];
  assert.deepEqual(
    JSON.parse(storage.getItem(key)).ops.map((o) => o.span.id),
    ["a", "b"],
  );
  first.sync.stop(); // the page goes away before anything reached the server
  first.outbox.release();
  const second = setup({ server, storage });
  assert.deepEqual(
    second.outbox.ops.map((o) => o.span.id),
    ["a", "b"],
  );
  await second.sync.flush();
  assert.deepEqual([...server.model.spans.keys()], ["a", "b"]);
  assert.equal(storage.length, 0, "nothing left behind once saved");
});

test("a queue of a closed or crashed tab is adopted; a live tab's is not", () => {
  const storage = new FakeStorage();
  const prefix = outboxPrefix({ project: 1, document: 2, user: 3 });
  let now = 100000;
  const clock = () => now;
  const live = new Outbox({ storage, prefix, tab: "live", now: clock });
  live.push([span("l", 0)]);
  const crashed = new Outbox({ storage, prefix, tab: "crashed", now: () => now - 600000 });
  crashed.push([span("c", 10)]);
  const closed = new Outbox({ storage, prefix, tab: "closed", now: clock });
  closed.push([span("d", 20)]);
  closed.release();
  const fresh = new Outbox({ storage, prefix, tab: "new", now: clock });
  assert.equal(fresh.open(), 2);
  assert.deepEqual(
    fresh.ops.map((o) => o.span.id),
    ["c", "d"],
  );
  assert.ok(storage.getItem(prefix + "live"), "a live tab keeps its queue");
  assert.equal(storage.getItem(prefix + "crashed"), null);
  // a duplicated tab (same id copied by sessionStorage) notices the live owner
  assert.ok(new Outbox({ storage, prefix, tab: "live", now: clock }).heldElsewhere());
  now += 600000;
  assert.ok(!new Outbox({ storage, prefix, tab: "live", now: clock }).heldElsewhere());
});

test("queues left on other documents are found for sending", () => {
  const storage = new FakeStorage();
  const other = new Outbox({
    storage,
    prefix: outboxPrefix({ project: 1, document: 9, user: 3 }),
    tab: "t",
  });
  other.push([span("x", 0)]);
  other.release();
  const someoneElse = new Outbox({
    storage,
    prefix: outboxPrefix({ project: 1, document: 9, user: 4 }),
    tab: "t",
  });
  someoneElse.push([span("y", 0)]);
  someoneElse.release();
  const found = orphanedElsewhere(storage, { project: 1, user: 3, document: 2 });
  assert.deepEqual([...found], [["9", ["t"]]]);
});

test("a 409 re-applies queued changes on the current state and reports what no longer fits", async () => {
  const { server, sync, events } = setup();
  // this page and the server agree on span "a"
  sync.enqueue([span("a", 0)]);
  await sync.flush();
  // another tab adds "z" and deletes "a"
  server.changeElsewhere(span("z", 50));
  server.changeElsewhere({ kind: "span.delete", id: "a" });
  // this page, still at the old version, adds "b" and relabels "a"
  sync.enqueue([
    span("b", 10),
    { kind: "span.update", id: "a", set: { label: "Critique" } },
    { kind: "relation.create", relation: { id: "r", from: "b", to: "z", type: "supports" } },
  ]);
  await sync.flush();
  assert.deepEqual([...server.model.spans.keys()].sort(), ["b", "z"]);
  assert.equal(server.model.relations.get("r").to, "z");
  const rebased = events.find((e) => e.type === "rebased");
  assert.ok(rebased.conflict);
  assert.deepEqual(
    rebased.dropped.map((d) => [d.op.kind, d.reason]),
    [["span.update", "That span no longer exists."]],
  );
  assert.equal(sync.pending, 0);
  assert.equal(sync.server.version, server.model.version);
});

test("a refused change is reported and the changes that depend on it are not sent", async () => {
  const { server, sync, events } = setup();
  sync.enqueue([
    span("bad", 0, "Nope"),
    { kind: "relation.create", relation: { id: "r", from: "bad", to: "ok", type: "supports" } },
    span("ok", 10),
  ]);
  await sync.flush();
  assert.deepEqual([...server.model.spans.keys()], ["ok"]);
  const dropped = events.filter((e) => e.type === "rebased").flatMap((e) => e.dropped);
  assert.deepEqual(
    dropped.map((d) => d.op.kind),
    ["span.create", "relation.create"],
  );
  assert.match(dropped[0].reason, /no label/);
});

test("signed out (403) keeps every change and retries", async () => {
  const { server, sync, events } = setup();
  server.failures = [403, 403];
  sync.enqueue([span("a", 0)]);
  await sync.flush();
  assert.ok(events.some((e) => e.type === "status" && e.status === "blocked"));
  assert.deepEqual([...server.model.spans.keys()], ["a"]);
});

test("deleting what is already gone is done, not an error", async () => {
  const { server, sync, events } = setup();
  server.failures = [404];
  sync.enqueue([{ kind: "span.delete", id: "nothing" }]);
  await sync.flush();
  assert.equal(sync.pending, 0);
  assert.equal(events.filter((e) => e.type === "rebased").length, 0);
});

test("a refresh picks up changes made elsewhere when nothing is queued", async () => {
  const { server, sync, events } = setup();
  server.changeElsewhere(span("z", 50));
  assert.equal(await sync.refresh(), true);
  assert.deepEqual([...sync.server.spans.keys()], ["z"]);
  assert.ok(events.some((e) => e.type === "rebased" && e.conflict));
  assert.equal(await sync.refresh(), false, "nothing new the second time");
});

test("a sync without a known state fetches it first (a queue left by another page)", async () => {
  const server = new FakeServer();
  server.changeElsewhere(span("z", 50));
  const storage = new FakeStorage();
  const prefix = outboxPrefix({ project: 1, document: 2, user: 3 });
  const outbox = new Outbox({ storage, prefix, tab: "t" });
  outbox.push([span("a", 0)]);
  const sync = new Sync({
    transport: server.transport,
    base: BASE,
    outbox,
    server: null,
    rules,
    sleep: () => Promise.resolve(),
  });
  await sync.flush();
  assert.deepEqual(server.requests[0].method, "GET");
  assert.deepEqual([...server.model.spans.keys()].sort(), ["a", "z"]);
});

test("requests address spans, relations and stances by id, deletes carry the version", () => {
  assert.deepEqual(requestFor({ kind: "span.delete", id: "a b" }, 4), [
    "DELETE",
    "spans/a%20b/?version=4",
    null,
  ]);
  assert.deepEqual(requestFor({ kind: "skip", reason: "Not English" }, 2), [
    "POST",
    "skip/",
    { reason: "Not English", version: 2 },
  ]);
});

test("attempted() waits for a restored queue to be saved", async () => {
  const { server, sync } = setup();
  sync.outbox.push([span("a", 0), span("b", 10)]);
  sync.requeue();
  assert.equal(sync.status, "saving");
  const status = await sync.attempted();
  assert.equal(status, "saved");
  assert.equal(sync.pending, 0);
  assert.deepEqual([...server.model.spans.keys()], ["a", "b"], "both on the server by then");
});

test("attempted() resolves at the first failure, showing offline, without waiting to retry", async () => {
  const server = new FakeServer();
  server.failures = ["network"];
  let wake;
  const { sync } = setup({ server });
  sync._timer.sleep = () => new Promise((resolve) => (wake = resolve)); // a retry that never comes
  sync.outbox.push([span("a", 0)]);
  sync.requeue();
  assert.equal(await sync.attempted(), "offline");
  assert.equal(sync.pending, 1, "kept for the retry");
  assert.equal(server.model.spans.size, 0);
  wake();
  await sync.flush();
  assert.equal(server.model.spans.size, 1);
});

test("attempted() resolves at once when nothing was restored, and when signed out", async () => {
  const { sync } = setup();
  assert.equal(await sync.attempted(), "saved");
  const blocked = setup();
  blocked.server.failures = [403];
  blocked.sync._timer.sleep = () => new Promise(() => {});
  blocked.sync.outbox.push([span("a", 0)]);
  blocked.sync.requeue();
  assert.equal(await blocked.sync.attempted(), "blocked");
  blocked.sync.stop();
});
