"""Benchmark: N concurrent annotators against gunicorn + PostgreSQL, then a check that the
database holds exactly what every client believes it saved.

Target (issue 6): 50 annotators, 0 lost or duplicated changes, 0 5xx, p95 <= 100 ms on this
2-core machine. Run by hand; it prints figures and is not part of the test run:

    .venv/bin/python bench/load.py                       # 50 clients, 60 s, workers=2 threads=8
    .venv/bin/python bench/load.py --clients 10 --seconds 30 --workers 5 --threads 1
    .venv/bin/python bench/load.py --think 0             # no pauses: saturation throughput
    .venv/bin/python bench/load.py --explain             # + SQL queries and profile per kind

It uses ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/load_bench``; the
database is created if missing and migrated), makes a fresh project with the demo scheme, N
annotator users with API tokens, documents (the demo article) and assignments, starts gunicorn on
a free loopback port (``DEBUG`` off, persistent database connections), waits for ``/healthz``,
runs the clients, and stops gunicorn. ``--url`` targets a server that is already running
instead; it must use the same database, or the verification has nothing to compare with.

Each client is one annotator: it fetches its queue, opens the next document with its text, makes
spans (client ids, the current ``version``), relabels and re-attributes some, deletes some, links
spans with ``supports``/``attacks`` relations, deletes one, sets the document stance and submits;
with its queue done it goes back to its submitted documents and corrects them, as annotators do.
Between two actions it pauses ``--think`` seconds on average (a fast human; 0 turns the run into a
closed-loop stress test whose latency is then only queueing, by Little's law). A network error or
a 5xx is retried with the same request (client ids and "already so" answers make every write safe
to repeat). ``--stale`` of the writes are first sent once with an outdated version, as a second
browser tab would: they must be refused with 409 and change nothing; the client then re-reads its
annotation and goes on. Any other 409 is unexpected and reported.

Every client keeps its belief of each of its annotations (spans by client id with offsets, label
and attributes; relations; stances; status; version). At the end the annotations are read back
through the ORM and compared: a change the client saw acknowledged but the database lacks is
"lost"; a row it never made, or a version it never saw, is "duplicated". The audit trail must hold
exactly one event per version of every annotation, and each assignment the status of its
annotation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "projects" / "demo_data"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/load_bench"
LABELS = ("Claim", "Justification", "Critique")
RELATION_TYPES = ("supports", "attacks")
STANCE_VALUES = ("favor", "against", "neutral", "not-addressed")
SOURCES = ("US State Department", "US officials", "Human Rights Watch", "Chinese government")
WRITE_KINDS = (
    "span.create",
    "span.update",
    "span.delete",
    "relation.create",
    "relation.delete",
    "stance.set",
)
KIND_ORDER = ("queue", "open", "refetch", *WRITE_KINDS, "submit")
MAX_SPANS = 24  # per annotation: past this, corrections delete more than they add
RETRY_WINDOW_S = 60.0  # how long after the end a client keeps retrying one request


# --- the clients (no Django here: they run in their own processes) ---------------------------


class GaveUp(Exception):
    """A request still failed after RETRY_WINDOW_S past the end of the run."""


@dataclass
class ClientSpec:
    index: int
    username: str
    token: str
    project_id: int
    stance_target: int
    seed: int


@dataclass
class Belief:
    """What the client believes one annotation of its holds, from the answers it got."""

    version: int = 0
    status: str = "not_started"
    spans: dict[str, list[Any]] = field(default_factory=dict)  # cid -> [start, end, label, attrs]
    relations: dict[str, list[str]] = field(default_factory=dict)  # cid -> [from, to, type]
    stances: dict[str, str] = field(default_factory=dict)  # target id -> value
    seq: int = 0  # for fresh client ids: never reused within the annotation


class Client:
    def __init__(self, spec: ClientSpec, base: str, opts: dict[str, Any], deadline: float):
        self.spec = spec
        self.base = base.rstrip("/")
        self.opts = opts
        self.deadline = deadline
        self.rng = random.Random(spec.seed)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {spec.token}"
        self.beliefs: dict[int, Belief] = {}
        self.words: dict[int, list[tuple[int, int]]] = {}
        self.records: list[tuple[str, str, float, float]] = []  # kind, status, ms, ended at
        self.counts: Counter[str] = Counter()
        self.notes: list[str] = []  # the first few surprises, verbatim
        self.uncertain: set[int] = set()  # documents whose last write may or may not have landed

    # -- plumbing --

    def note(self, text: str) -> None:
        if len(self.notes) < 5:
            self.notes.append(f"{self.spec.username}: {text}")

    def url(self, path: str) -> str:
        return f"{self.base}/api/v1/projects/{self.spec.project_id}/{path}"

    def doc_url(self, doc: int, path: str = "") -> str:
        return self.url(f"documents/{doc}/annotation/{path}")

    def think(self) -> None:
        mean = self.opts["think"]
        if mean > 0:
            time.sleep(self.rng.uniform(0.5 * mean, 1.5 * mean))

    def call(
        self, kind: str, method: str, url: str, body: dict | None = None, params: dict | None = None
    ) -> requests.Response:
        """One request, retried on network errors and 5xx until it gets an answer below 500."""
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                r = self.session.request(method, url, json=body, params=params, timeout=30)
            except requests.RequestException as exc:
                ms = (time.perf_counter() - started) * 1000
                self.records.append((kind, "network", ms, time.time()))
                self.note(f"{method} {url}: {type(exc).__name__}: {exc}"[:300])
            else:
                ms = (time.perf_counter() - started) * 1000
                self.records.append((kind, str(r.status_code), ms, time.time()))
                if r.status_code < 500:
                    if attempt:
                        self.counts["retried requests that then succeeded"] += 1
                        if method == "POST" and r.status_code == 200 and kind != "submit":
                            # a create answered "already there": the lost attempt had landed
                            self.counts["retried creates that had landed the first time"] += 1
                    return r
                self.note(f"{method} {url} -> {r.status_code}: {r.text[:200]}")
            attempt += 1
            self.counts["retries"] += 1
            if time.time() > self.deadline + RETRY_WINDOW_S:
                raise GaveUp(f"{method} {url}")
            time.sleep(min(2.0, 0.05 * 2**attempt))

    # -- reading --

    def open(self, doc: int, kind: str = "open", adopt: bool = False) -> dict[str, Any]:
        """Read the annotation and check it against the belief. ``adopt`` takes the server's
        version (after an unexpected 409, to go on); otherwise a difference is only counted,
        and the final verification reports it again."""
        params = {"include": "document"} if kind == "open" else None
        r = self.call(kind, "GET", self.doc_url(doc), params=params)
        if r.status_code != 200:
            raise RuntimeError(f"GET annotation of document {doc}: {r.status_code} {r.text[:300]}")
        data = r.json()
        if kind == "open" and doc not in self.words:
            text = data["document_detail"]["text"]
            self.words[doc] = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
        belief = self.beliefs.setdefault(doc, Belief())
        differences = compare(belief, server_state(data))
        if differences and doc not in self.uncertain:
            self.counts["reads that disagreed with the belief"] += 1
            self.note(f"document {doc} read back differs: {differences[:3]}")
        if adopt:
            belief.version = data["version"]
        return data

    # -- writing --

    def write(
        self,
        doc: int,
        kind: str,
        method: str,
        path: str,
        body: dict | None = None,
        *,
        version_in_query: bool = False,
    ) -> dict[str, Any] | None:
        """Send one change with the current version; the answer's version becomes current.
        Returns the answer, or None when the change was refused (4xx other than 409)."""
        belief = self.beliefs[doc]
        if belief.version > 0 and self.rng.random() < self.opts["stale"]:
            self.stale_attempt(doc, kind, method, path, body, version_in_query)
        for _ in range(3):
            self.think()
            r = self.send(doc, kind, method, path, body, belief.version, version_in_query)
            if r.status_code in (200, 201):
                data = r.json()
                belief.version = data["version"]
                belief.status = data["status"]
                if kind in WRITE_KINDS:
                    self.counts["labelling operations"] += 1
                return data
            if r.status_code == 409:
                self.counts["unexpected 409"] += 1
                self.note(f"{kind} on document {doc}: unexpected 409 {r.text[:300]}")
                self.open(doc, "refetch", adopt=True)  # take the server's version, try again
                continue
            self.counts[f"refused ({r.status_code})"] += 1
            self.note(f"{kind} on document {doc}: {r.status_code} {r.text[:300]}")
            return None
        return None

    def send(
        self,
        doc: int,
        kind: str,
        method: str,
        path: str,
        body: dict | None,
        version: int,
        version_in_query: bool,
    ) -> requests.Response:
        if version_in_query:
            return self.call(kind, method, self.doc_url(doc, path), params={"version": version})
        return self.call(
            kind, method, self.doc_url(doc, path), body={**(body or {}), "version": version}
        )

    def stale_attempt(
        self,
        doc: int,
        kind: str,
        method: str,
        path: str,
        body: dict | None,
        version_in_query: bool,
    ) -> None:
        """The same change from a second tab that has not seen the latest change: it must be
        refused with 409 (and, as the verification shows, change nothing)."""
        belief = self.beliefs[doc]
        self.think()
        r = self.send(doc, kind, method, path, body, belief.version - 1, version_in_query)
        if r.status_code == 409:
            self.counts["deliberate stale writes refused with 409"] += 1
            self.open(doc, "refetch")
            return
        self.counts["deliberate stale writes NOT refused"] += 1
        self.note(f"stale {kind} on document {doc} answered {r.status_code}: {r.text[:300]}")
        if r.status_code in (200, 201):
            # It landed: the belief must follow, or the verification reports it as a duplicate.
            self.uncertain.add(doc)

    # -- one annotator's work --

    def new_cid(self, belief: Belief, prefix: str) -> str:
        belief.seq += 1
        return f"{prefix}{belief.seq}"

    def random_attributes(self) -> dict[str, str]:
        attrs: dict[str, str] = {}
        if self.rng.random() < 0.6:
            attrs["stance"] = self.rng.choice(("favor", "against", "neutral"))
        if self.rng.random() < 0.3:
            attrs["source"] = self.rng.choice(SOURCES)
        return attrs

    def create_span(self, doc: int) -> None:
        belief = self.beliefs[doc]
        words = self.words[doc]
        length = self.rng.randint(2, 16)
        first = self.rng.randrange(0, len(words) - length)
        start, end = words[first][0], words[first + length - 1][1]
        label = self.rng.choice(LABELS)
        attrs = self.random_attributes()
        cid = self.new_cid(belief, "s")
        body = {"client_id": cid, "start": start, "end": end, "label": label, "attributes": attrs}
        data = self.write(doc, "span.create", "POST", "spans/", body)
        if data is not None:
            got = data["span"]
            if (got["id"], got["start"], got["end"], got["label"], got["attributes"]) != (
                cid,
                start,
                end,
                label,
                attrs,
            ):
                self.counts["answers that did not echo the change"] += 1
                self.note(f"span create answered {got}, sent {body}")
            belief.spans[cid] = [start, end, label, attrs]

    def update_span(self, doc: int) -> None:
        belief = self.beliefs[doc]
        if not belief.spans:
            return
        cid = self.rng.choice(sorted(belief.spans))
        start, end, label, attrs = belief.spans[cid]
        if self.rng.random() < 0.5:
            new_label = self.rng.choice([x for x in LABELS if x != label])
            body: dict[str, Any] = {"label": new_label}
            new = [start, end, new_label, attrs]
        else:
            new_attrs = self.random_attributes()
            while new_attrs == attrs:
                new_attrs = self.random_attributes()
            body = {"attributes": new_attrs}
            new = [start, end, label, new_attrs]
        if self.write(doc, "span.update", "PATCH", f"spans/{cid}/", body) is not None:
            belief.spans[cid] = new

    def delete_span(self, doc: int) -> None:
        belief = self.beliefs[doc]
        if not belief.spans:
            return
        cid = self.rng.choice(sorted(belief.spans))
        if self.write(doc, "span.delete", "DELETE", f"spans/{cid}/", version_in_query=True):
            del belief.spans[cid]
            # a span's relations go with it
            for rid, (source, target, _type) in list(belief.relations.items()):
                if cid in (source, target):
                    del belief.relations[rid]

    def create_relation(self, doc: int) -> None:
        belief = self.beliefs[doc]
        if len(belief.spans) < 2:
            return
        edges = {tuple(r) for r in belief.relations.values()}
        for _ in range(10):
            source, target = self.rng.sample(sorted(belief.spans), 2)
            rtype = self.rng.choice(RELATION_TYPES)
            if (source, target, rtype) not in edges:
                break
        else:
            return
        cid = self.new_cid(belief, "r")
        body = {"client_id": cid, "from": source, "to": target, "type": rtype}
        data = self.write(doc, "relation.create", "POST", "relations/", body)
        if data is not None:
            got = data["relation"]
            if got != {"id": cid, "from": source, "to": target, "type": rtype}:
                self.counts["answers that did not echo the change"] += 1
                self.note(f"relation create answered {got}, sent {body}")
            belief.relations[cid] = [source, target, rtype]

    def delete_relation(self, doc: int) -> None:
        belief = self.beliefs[doc]
        if not belief.relations:
            return
        rid = self.rng.choice(sorted(belief.relations))
        path = f"relations/{rid}/"
        if self.write(doc, "relation.delete", "DELETE", path, version_in_query=True):
            del belief.relations[rid]

    def set_stance(self, doc: int) -> None:
        belief = self.beliefs[doc]
        target = str(self.spec.stance_target)
        value = self.rng.choice([v for v in STANCE_VALUES if v != belief.stances.get(target)])
        path = f"stances/{target}/"
        if self.write(doc, "stance.set", "PUT", path, {"value": value}) is not None:
            belief.stances[target] = value

    def submit(self, doc: int) -> None:
        self.write(doc, "submit", "POST", "submit/", {})

    def annotate(self, doc: int) -> None:
        """One visit to a document, as the annotation page would make it."""
        self.open(doc)
        belief = self.beliefs[doc]
        revisit = belief.status == "submitted"
        steps: list[Any] = []
        if len(belief.spans) >= MAX_SPANS:
            steps += [self.delete_span] * 4
        steps += [self.create_span] * (
            self.rng.randint(1, 2) if revisit else self.rng.randint(4, 7)
        )
        steps += [self.update_span] * (1 if revisit else self.rng.randint(1, 3))
        steps += [self.delete_span] * (1 if revisit else self.rng.randint(1, 2))
        steps += [self.create_relation] * (1 if revisit else self.rng.randint(2, 3))
        steps += [self.delete_relation]
        steps += [self.set_stance]
        for step in steps:
            if time.time() >= self.deadline:
                return
            step(doc)
        if not revisit and time.time() < self.deadline:
            self.submit(doc)
            self.counts["documents submitted"] += 1

    def warm_up(self) -> None:
        """One unrecorded request before the start, so that no worker's first request (which
        fills Django's and DRF's lazy caches) is counted."""
        with contextlib.suppress(requests.RequestException):
            self.session.get(self.url("queue/"), params={"warmup": 1}, timeout=30)

    def run(self) -> None:
        own: list[int] = []
        while time.time() < self.deadline:
            self.think()
            r = self.call("queue", "GET", self.url("queue/"))
            if r.status_code != 200:
                raise RuntimeError(f"GET queue: {r.status_code} {r.text[:300]}")
            queue = r.json()
            own = own or [row["document"] for row in queue["results"]]
            doc = queue["next_document"]
            if doc is None:
                doc = self.rng.choice(own)
                self.counts["revisits of submitted documents"] += 1
            if time.time() >= self.deadline:
                break
            self.think()
            self.annotate(doc)


def server_state(data: dict[str, Any]) -> Belief:
    """An annotation payload of the API in the shape of a belief."""
    return Belief(
        version=data["version"],
        status=data["status"],
        spans={s["id"]: [s["start"], s["end"], s["label"], s["attributes"]] for s in data["spans"]},
        relations={r["id"]: [r["from"], r["to"], r["type"]] for r in data["relations"]},
        stances={str(s["target_id"]): s["value"] for s in data["stances"]},
    )


def compare(belief: Belief, actual: Belief) -> list[str]:
    """The differences between what a client believes and what is there, worded as lost
    (believed, absent or different) or duplicated (there, never made by the client)."""
    out: list[str] = []
    for what, mine, theirs in (
        ("span", belief.spans, actual.spans),
        ("relation", belief.relations, actual.relations),
        ("stance", belief.stances, actual.stances),
    ):
        for key, value in mine.items():
            if key not in theirs:
                out.append(f"lost: {what} {key} {value} is missing")
            elif theirs[key] != value:
                out.append(f"lost: {what} {key} is {theirs[key]}, the client saved {value}")
        for key, value in theirs.items():
            if key not in mine:
                out.append(f"duplicated: {what} {key} {value} was never made by the client")
    if belief.status != actual.status:
        out.append(f"lost: status is {actual.status}, the client saw {belief.status}")
    if belief.version != actual.version:
        word = "duplicated" if actual.version > belief.version else "lost"
        out.append(f"{word}: version is {actual.version}, the client saw {belief.version}")
    return out


def run_group(
    specs: list[ClientSpec], base: str, opts: dict[str, Any], start_at: float, deadline: float
) -> dict[str, Any]:
    """A process's share of the clients, one thread each; returns what they saw and believe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C
    clients = [Client(spec, base, opts, deadline) for spec in specs]
    failures: list[str] = []

    def body(client: Client) -> None:
        client.warm_up()
        time.sleep(max(0.0, start_at - time.time()) + client.rng.uniform(0, 0.5))
        try:
            client.run()
        except Exception as exc:  # reported, and the client's annotations are not verified
            failures.append(f"{client.spec.username}: {type(exc).__name__}: {exc}"[:500])
            client.counts["clients that stopped on an error"] += 1

    threads = [threading.Thread(target=body, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "records": [r for c in clients for r in c.records],
        "counts": sum((c.counts for c in clients), Counter()),
        "notes": [n for c in clients for n in c.notes],
        "failures": failures,
        "beliefs": {
            c.spec.username: {doc: b.__dict__ for doc, b in c.beliefs.items()} for c in clients
        },
        "uncertain": {c.spec.username: sorted(c.uncertain) for c in clients},
        "stopped": [
            c.spec.username for c in clients if c.counts["clients that stopped on an error"]
        ],
        "ended": time.time(),
    }


# --- setup, server and verification (Django) --------------------------------------------------


def prepare_environment(args: argparse.Namespace) -> tuple[dict[str, str], Path | None]:
    """The settings for both this process and gunicorn: production mode over plain HTTP on the
    loopback, the benchmark database, a VAR_DIR (broker folder, cache, access log) that is a
    scratch folder, removed afterwards, unless VAR_DIR is set. Returns the scratch folder."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"DATABASE_URL={url!r}: this benchmark runs against PostgreSQL only.")
    if "bench" not in urlsplit(url).path and not args.any_database:
        # it adds users, a project and thousands of rows: never by accident to a real database
        sys.exit(
            f"DATABASE_URL={url!r}: use a database whose name says bench (the default is "
            f"{DEFAULT_DATABASE_URL}), or pass --any-database."
        )
    env = {
        "DJANGO_SETTINGS_MODULE": "annotator.settings",
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "DB_CONN_MAX_AGE": "600",
        "VAR_DIR": os.environ.get("VAR_DIR") or "",
        "LOG_LEVEL": "ERROR",  # not a line per 409
    }
    scratch = None
    if not env["VAR_DIR"]:
        scratch = Path(tempfile.mkdtemp(prefix="bench-load-"))
        env["VAR_DIR"] = str(scratch)
    env["STATIC_ROOT"] = str(Path(env["VAR_DIR"]) / "static")  # empty; the API serves none
    Path(env["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    return env, scratch


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        conn.execute(f'CREATE DATABASE "{name}"')  # our own database name, not input
        print(f"created database {name}")


def build(
    clients: int, docs_per_client: int, per_doc: int, seed: int
) -> tuple[Any, list[ClientSpec]]:
    import hashlib

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from projects.models import Assignment, Document, Membership, Role, StanceTarget
    from projects.services.projects import project_create
    from projects.services.tokens import token_create

    users = get_user_model().objects
    article = json.loads((DEMO / "seed.jsonl").read_text().splitlines()[0])
    text = article["text"]
    n_docs = max(docs_per_client, -(-clients * docs_per_client // per_doc))
    with transaction.atomic():
        lead, _ = users.get_or_create(username="load-lead")
        project = project_create(
            name=f"Load bench {time.strftime('%Y-%m-%d %H:%M:%S')}",
            slug=f"load-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}",
            created_by_id=lead.pk,
            scheme=json.loads((DEMO / "scheme.json").read_text()),
            annotators_per_document=per_doc,
        )
        annotators = [users.get_or_create(username=f"load-a{i}")[0] for i in range(clients)]
        Membership.objects.bulk_create(
            [Membership(project=project, user=u, role=Role.ANNOTATOR) for u in annotators]
        )
        sha = hashlib.sha256(text.encode()).hexdigest()
        docs = Document.objects.bulk_create(
            [
                Document(
                    project=project,
                    external_id=f"load-{i}",
                    title=f"{article['title']} ({i})",
                    text=text,
                    length=len(text),
                    sha256=sha,
                )
                for i in range(n_docs)
            ]
        )
        # Consecutive slots: annotator i gets documents (i * dpc + j) mod n, so each document
        # has ``per_doc`` annotators working on it at the same time, each on their own annotation.
        Assignment.objects.bulk_create(
            [
                Assignment(
                    project=project, document=docs[(i * docs_per_client + j) % n_docs], annotator=u
                )
                for i, u in enumerate(annotators)
                for j in range(docs_per_client)
            ]
        )
        target = StanceTarget.objects.filter(project=project).order_by("position").first()
        specs = [
            ClientSpec(
                index=i,
                username=u.username,
                token=token_create(user_id=u.pk, name="load bench", days=1)[1],
                project_id=project.pk,
                stance_target=target.pk,
                seed=seed * 1000 + i,
            )
            for i, u in enumerate(annotators)
        ]
    return project, specs


def worker_pids(master: int) -> list[int]:
    out = []
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields is not None and int(fields[1]) == master:
            out.append(pid)
    return out


def kill_workers(master: int, every: float, deadline: float, killed: list[int]) -> None:
    """SIGKILL one gunicorn worker (a child of the gunicorn this benchmark started) every
    ``every`` seconds: its requests in flight fail mid-way, and gunicorn starts a new one."""
    rng = random.Random(master)
    while time.time() + every < deadline:
        time.sleep(every)
        pids = worker_pids(master)
        if pids:
            pid = rng.choice(pids)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    env: dict[str, str], workers: int, threads: int, access_log: Path
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "annotator.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--access-logfile",
        str(access_log),
        # method|path|query|status|microseconds: the server's own time, without the client's
        "--access-logformat",
        "%(m)s|%(U)s|%(q)s|%(s)s|%(D)s",
    ]
    log = open(access_log.with_suffix(".err"), "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc, access_log.with_suffix(".err"))
    return proc, base


def wait_healthy(base: str, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    until = time.time() + 60
    last = ""
    while time.time() < until:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log else ""
            sys.exit(f"gunicorn exited with {proc.returncode} before answering:\n{tail}")
        try:
            r = requests.get(f"{base}/healthz", timeout=5)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:300]}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.3)
    sys.exit(f"{base}/healthz did not answer 200 within 60 s: {last}")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def verify(project: Any, results: dict[str, Any]) -> dict[str, Any]:
    """Every client's belief against the database (ORM), plus the audit trail and the
    assignments. An annotation the client never changed may be absent (version 0)."""
    from projects.models import Annotation, Assignment, AuditEvent, Relation, Span, Stance

    heads = {
        (a["annotator__username"], a["document_id"]): a
        for a in Annotation.objects.filter(project=project).values(
            "pk", "annotator__username", "document_id", "version", "status", "kind"
        )
    }
    by_pk = {a["pk"]: key for key, a in heads.items()}
    actual: dict[tuple[str, int], Belief] = {
        key: Belief(version=a["version"], status=a["status"]) for key, a in heads.items()
    }
    problems: list[str] = []
    rows = Counter()
    seen: Counter[tuple[str, int, str]] = Counter()
    for ann, cid, start, end, label, attrs in Span.objects.filter(
        annotation__project=project
    ).values_list("annotation_id", "client_id", "start", "end", "label__name", "attributes"):
        actual[by_pk[ann]].spans[cid] = [start, end, label, attrs]
        seen[(*by_pk[ann], f"span {cid}")] += 1
        rows["spans"] += 1
    for ann, cid, source, target, rtype in Relation.objects.filter(
        annotation__project=project
    ).values_list(
        "annotation_id", "client_id", "source__client_id", "target__client_id", "type__name"
    ):
        actual[by_pk[ann]].relations[cid] = [source, target, rtype]
        seen[(*by_pk[ann], f"relation {cid}")] += 1
        rows["relations"] += 1
    for ann, target, value in Stance.objects.filter(annotation__project=project).values_list(
        "annotation_id", "target_id", "value"
    ):
        actual[by_pk[ann]].stances[str(target)] = value
        seen[(*by_pk[ann], f"stance {target}")] += 1
        rows["stances"] += 1
    for (user, doc, what), n in seen.items():
        if n > 1:
            problems.append(f"duplicated: {user} document {doc}: {n} rows for {what}")

    stopped = set(results["stopped"])
    uncertain = {(u, d) for u, docs in results["uncertain"].items() for d in docs}
    checked = skipped = 0
    believed: set[tuple[str, int]] = set()
    for user, docs in results["beliefs"].items():
        for doc, state in docs.items():
            key = (user, int(doc))
            believed.add(key)
            if user in stopped or key in uncertain:
                skipped += 1
                continue
            checked += 1
            belief = Belief(**state)
            there = actual.get(key, Belief(status="not_started"))
            if key in heads and heads[key]["version"] == 0 and there.status == "in_progress":
                there.status = "not_started"  # a row made by a first write that was refused
            problems += [f"{user} document {doc}: {d}" for d in compare(belief, there)]
    for key, a in heads.items():
        if key not in believed and a["version"] > 0:
            problems.append(
                f"duplicated: {key[0]} document {key[1]}: an annotation (version "
                f"{a['version']}) the client never wrote"
            )

    # One audit event per version of every annotation: none missing, none twice.
    versions: dict[int, Counter[int]] = defaultdict(Counter)
    for ann, version in AuditEvent.objects.filter(
        project=project, action__regex=r"^(span|relation|stance|annotation)\."
    ).values_list("data__annotation_id", "data__version"):
        versions[int(ann)][int(version)] += 1
    audit_bad = 0
    for pk, key in by_pk.items():
        want = set(range(1, heads[key]["version"] + 1))
        got = versions.get(pk, Counter())
        if set(got) != want or any(n != 1 for n in got.values()):
            audit_bad += 1
            if audit_bad <= 5:
                problems.append(
                    f"audit: {key[0]} document {key[1]} version {heads[key]['version']} has events "
                    f"for versions {sorted(got.elements())}"
                )
    # Each assignment follows its annotation: submitted stays submitted, started is in progress.
    assignment_bad = 0
    for user, doc, status in Assignment.objects.filter(project=project).values_list(
        "annotator__username", "document_id", "status"
    ):
        a = heads.get((user, doc))
        want = "assigned"
        if a is not None and a["status"] == "submitted":
            want = "submitted"
        elif a is not None and a["version"] > 0:
            want = "in_progress"
        if status != want:
            assignment_bad += 1
            if assignment_bad <= 5:
                problems.append(f"assignment: {user} document {doc} is {status}, expected {want}")
    lost = sum(1 for p in problems if ": lost:" in p)
    duplicated = sum(1 for p in problems if "duplicated:" in p)
    return {
        "checked": checked,
        "skipped": skipped,
        "rows": dict(rows),
        "versions": sum(a["version"] for a in heads.values()),
        "lost": lost,
        "duplicated": duplicated,
        "audit_bad": audit_bad,
        "assignment_bad": assignment_bad,
        "problems": problems,
    }


# --- CPU accounting (Linux /proc) -------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # from field 3 (state) on


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def cpu_snapshot(gunicorn_pid: int | None, client_pids: list[int], dbname: str) -> dict[str, Any]:
    """CPU ticks used so far by gunicorn (master and workers), by the PostgreSQL backends
    connected to the benchmark database, by the client processes, and by the whole machine."""
    groups: dict[str, dict[int, int]] = {"gunicorn": {}, "postgres": {}, "clients": {}}
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields is None:
            continue
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        ppid = int(fields[1])
        if gunicorn_pid is not None and gunicorn_pid in (pid, ppid):
            groups["gunicorn"][pid] = ticks
        elif pid in client_pids:
            groups["clients"][pid] = ticks
        else:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {dbname} " in title:
                groups["postgres"][pid] = ticks
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in cpu[:8]]
    machine_total = sum(values)
    machine_idle = values[3] + values[4]  # idle + iowait
    return {"groups": groups, "total": machine_total, "idle": machine_idle, "at": time.time()}


def cpu_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    """Core-seconds each group used between two snapshots (processes that started in between
    count from zero), and the machine's busy share."""
    hz = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for name, pids in after["groups"].items():
        old = before["groups"][name]
        out[name] = sum(t - old.get(pid, 0) for pid, t in pids.items()) / hz
    total = after["total"] - before["total"]
    busy = total - (after["idle"] - before["idle"])
    out["machine_busy"] = busy / total if total else float("nan")
    out["machine_core_s"] = busy / hz
    out["window_s"] = after["at"] - before["at"]
    return out


def self_check(project: Any, results: dict[str, Any]) -> bool:
    """Plant four faults in the database and make sure the verification reports each: a lost
    span, a changed span, a span the client never made, a version bump without a change."""
    from django.db.models import F

    from projects.models import Annotation, Label, Span

    candidates = [
        (user, int(doc), state)
        for user, docs in results["beliefs"].items()
        if user not in results["stopped"]
        for doc, state in docs.items()
        if len(state["spans"]) >= 2 and int(doc) not in results["uncertain"].get(user, [])
    ]
    if len(candidates) < 2:
        print("self-check: not enough annotations with two spans; run longer")
        return False
    (user1, doc1, state1), (user2, doc2, state2) = candidates[:2]
    ann1 = Annotation.objects.get(document_id=doc1, annotator__username=user1)
    ann2 = Annotation.objects.get(document_id=doc2, annotator__username=user2)
    gone, changed = sorted(state1["spans"])[:2]
    Span.objects.filter(annotation=ann1, client_id=gone).delete()
    other = Label.objects.filter(project=project).exclude(name=state1["spans"][changed][2]).first()
    Span.objects.filter(annotation=ann1, client_id=changed).update(label=other)
    Span.objects.create(annotation=ann2, client_id="planted", start=0, end=5, label=other)
    Annotation.objects.filter(pk=ann2.pk).update(version=F("version") + 1)
    found = verify(project, results)["problems"]
    wanted = {
        "lost span": f"{user1} document {doc1}: lost: span {gone} ",
        "changed span": f"{user1} document {doc1}: lost: span {changed} is ",
        "planted span": f"{user2} document {doc2}: duplicated: span planted ",
        "version bump": f"{user2} document {doc2}: duplicated: version is {state2['version'] + 1}",
        "audit gap": f"audit: {user2} document {doc2} ",
    }
    missed = [
        name for name, prefix in wanted.items() if not any(p.startswith(prefix) for p in found)
    ]
    if missed:
        print(f"self-check FAILED: the verification missed {', '.join(missed)}; it found {found}")
        return False
    print(f"self-check: the verification reported all {len(wanted)} planted faults")
    return True


# --- figures ----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def latency_table(title: str, by_kind: dict[str, list[float]]) -> list[str]:
    lines = [f"{title:<28}{'n':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"]
    everything = [ms for values in by_kind.values() for ms in values]
    order = (
        ["all"] + [k for k in KIND_ORDER if k in by_kind] + sorted(set(by_kind) - set(KIND_ORDER))
    )
    for kind in order:
        values = everything if kind == "all" else by_kind[kind]
        lines.append(
            f"  {kind:<26}{len(values):>7}{percentile(values, 50):>8.1f}"
            f"{percentile(values, 95):>8.1f}{percentile(values, 99):>8.1f}{max(values):>8.1f}"
        )
    return lines


ACCESS_KINDS = [
    ("GET", re.compile(r"/queue/$"), "queue"),
    ("GET", re.compile(r"/annotation/$"), "open"),
    ("POST", re.compile(r"/annotation/spans/$"), "span.create"),
    ("PATCH", re.compile(r"/annotation/spans/[^/]+/$"), "span.update"),
    ("DELETE", re.compile(r"/annotation/spans/[^/]+/$"), "span.delete"),
    ("POST", re.compile(r"/annotation/relations/$"), "relation.create"),
    ("DELETE", re.compile(r"/annotation/relations/[^/]+/$"), "relation.delete"),
    ("PUT", re.compile(r"/annotation/stances/\d+/$"), "stance.set"),
    ("POST", re.compile(r"/annotation/submit/$"), "submit"),
]


def server_latencies(access_log: Path) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for line in access_log.read_text().splitlines():
        parts = line.split("|")
        if len(parts) != 5:
            continue
        method, path, query, _status, micros = parts
        if "warmup=" in query:
            continue
        for m, pattern, kind in ACCESS_KINDS:
            if m == method and pattern.search(path):
                if kind == "open" and "include=document" not in query:
                    kind = "refetch"
                out[kind].append(int(micros) / 1000)
                break
    return out


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def report(
    args: argparse.Namespace,
    results: dict[str, Any],
    checked: dict[str, Any],
    server: dict[str, list[float]] | None,
    cpu: dict[str, float] | None,
    window: tuple[float, float],
    load_before: str,
) -> dict[str, Any]:
    records = results["records"]
    counts: Counter[str] = results["counts"]
    duration = results["ended"] - window[0]
    by_kind: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    for kind, status, ms, _ended in records:
        by_kind[kind].append(ms)
        statuses[status] += 1
    all_ms = [ms for _k, _s, ms, _e in records]
    five = sum(n for s, n in statuses.items() if s.startswith("5"))
    conflicts = sum(n for s, n in statuses.items() if s == "409")
    ops = counts["labelling operations"]
    config = (
        "external server" if args.url else f"gunicorn workers={args.workers} threads={args.threads}"
    )
    print()
    print(
        f"load bench: {args.clients} clients x {args.seconds:g} s, think {args.think:g} s, "
        f"stale {args.stale:.0%}; {config}; {args.docs_per_client} documents per client, "
        f"{args.per_doc} annotators per document"
    )
    print(f"machine: {os.cpu_count()} cores; load average before {load_before}, after {loadavg()}")
    print(
        f"throughput: {len(records)} requests in {duration:.1f} s = {len(records) / duration:.1f} "
        f"requests/s; {ops} labelling operations = {ops / duration:.1f} ops/s; "
        f"{counts['documents submitted']} documents submitted, "
        f"{counts['revisits of submitted documents']} revisits"
    )
    for line in latency_table("client-side latency, ms", by_kind):
        print(line)
    if server:
        for line in latency_table("server-side (gunicorn), ms", server):
            print(line)
    if cpu and counts["gunicorn workers killed"]:
        print("CPU: not measured (killed workers take their CPU time with them)")
    elif cpu:
        n = sum(1 for *_rest, ended in records if window[0] <= ended <= window[1]) or 1
        ours = cpu["gunicorn"] + cpu["postgres"] + cpu["clients"]
        server_cpu = (
            "gunicorn not measured (external server)"
            if args.url
            else f"gunicorn {cpu['gunicorn']:.1f} core-s = {1000 * cpu['gunicorn'] / n:.1f} ms "
            "per request"
        )
        print(
            f"CPU over the {cpu['window_s']:.0f} s run: machine {cpu['machine_busy']:.0%} busy "
            f"({cpu['machine_core_s']:.0f} core-s); {server_cpu}; PostgreSQL backends "
            f"{cpu['postgres']:.1f} core-s = {1000 * cpu['postgres'] / n:.1f} ms per request; "
            f"clients {cpu['clients']:.1f} core-s; everything else on the machine "
            f"{max(0.0, cpu['machine_core_s'] - ours):.1f} core-s"
        )
    print("statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    print(
        f"errors: 5xx {five}, network {statuses['network']}, retries {counts['retries']}; "
        f"409 {conflicts} = {counts['deliberate stale writes refused with 409']} deliberate "
        f"stale-tab writes refused as they must be + {counts['unexpected 409']} unexpected; "
        f"stale writes accepted {counts['deliberate stale writes NOT refused']}; other refusals "
        + str(sum(n for k, n in counts.items() if k.startswith("refused")))
    )
    for k in (
        "gunicorn workers killed",
        "retried requests that then succeeded",
        "retried creates that had landed the first time",
        "reads that disagreed with the belief",
        "answers that did not echo the change",
    ):
        if counts[k]:
            print(f"  {k}: {counts[k]}")
    for failure in results["failures"]:
        print(f"  client stopped: {failure}")
    for note in results["notes"][:10]:
        print(f"  note: {note}")
    rows = checked["rows"]
    audit = f"{checked['audit_bad']} annotations wrong" if checked["audit_bad"] else "complete"
    assignments = (
        f"{checked['assignment_bad']} wrong" if checked["assignment_bad"] else "consistent"
    )
    print(
        f"verification: {checked['checked']} annotations checked ({checked['skipped']} not "
        f"checkable), {rows.get('spans', 0)} spans, {rows.get('relations', 0)} relations, "
        f"{rows.get('stances', 0)} stances, {checked['versions']} versions; audit trail "
        f"{audit}; assignments {assignments}"
    )
    print(f"  {checked['lost']} lost, {checked['duplicated']} duplicated")
    for problem in checked["problems"][:20]:
        print(f"  {problem}")
    if len(checked["problems"]) > 20:
        print(f"  ... and {len(checked['problems']) - 20} more")
    p95 = percentile(all_ms, 95)
    verdict = [
        f"p95 {p95:.0f} ms {'<=' if p95 <= 100 else '>'} 100 ms",
        f"{five} 5xx",
        f"{checked['lost']} lost",
        f"{checked['duplicated']} duplicated",
    ]
    ok = p95 <= 100 and not five and not checked["lost"] and not checked["duplicated"]
    print(f"targets: {'MET' if ok else 'NOT MET'} ({'; '.join(verdict)})")
    summary = {
        "clients": args.clients,
        "seconds": round(duration, 1),
        "think": args.think,
        "config": config,
        "load_before": load_before,
        "requests": len(records),
        "requests_per_s": round(len(records) / duration, 1),
        "ops_per_s": round(ops / duration, 1),
        "latency_ms": {
            kind: {
                "n": len(v),
                "p50": round(percentile(v, 50), 1),
                "p95": round(percentile(v, 95), 1),
                "p99": round(percentile(v, 99), 1),
            }
            for kind, v in {"all": all_ms, **by_kind}.items()
        },
        "server_ms": {
            kind: {"p50": round(percentile(v, 50), 1), "p95": round(percentile(v, 95), 1)}
            for kind, v in (
                {"all": [ms for vs in server.values() for ms in vs], **server} if server else {}
            ).items()
        },
        "statuses": dict(statuses),
        "cpu": cpu,
        "counts": dict(counts),
        "lost": checked["lost"],
        "duplicated": checked["duplicated"],
        "audit_bad": checked["audit_bad"],
        "assignment_bad": checked["assignment_bad"],
    }
    return summary


# --- where the time goes ------------------------------------------------------------------------


def explain(project: Any, seed: int) -> None:
    """One annotator's visits replayed in this process through Django's test client, one
    request at a time: SQL queries and time per request kind, the statements of the busiest
    kinds, and the functions that take the time (cProfile). A user and documents of its own,
    so the replay starts from empty annotations like the clients did."""
    import cProfile
    import io
    import pstats

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    from projects.models import Assignment, Document, Membership, Role, StanceTarget
    from projects.services.tokens import token_create

    user, _ = get_user_model().objects.get_or_create(username="load-explain")
    Membership.objects.get_or_create(project=project, user=user, defaults={"role": Role.ANNOTATOR})
    model = Document.objects.filter(project=project).first()
    docs = Document.objects.bulk_create(
        [
            Document(
                project=project,
                external_id=f"explain-{i}",
                title=model.title,
                text=model.text,
                length=model.length,
                sha256=model.sha256,
            )
            for i in range(7)
        ]
    )
    Assignment.objects.bulk_create(
        [Assignment(project=project, document=d, annotator=user) for d in docs]
    )
    spec = ClientSpec(
        index=-1,
        username=user.username,
        token=token_create(user_id=user.pk, name="load bench explain", days=1)[1],
        project_id=project.pk,
        stance_target=StanceTarget.objects.filter(project=project).first().pk,
        seed=seed,
    )
    django_client = DjangoClient(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {spec.token}")
    per_kind: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    statements: dict[str, list[str]] = {}

    class InProcess(Client):
        def call(self, kind, method, url, body=None, params=None):  # type: ignore[override]
            path = url.removeprefix(self.base)
            if params:
                path += "?" + "&".join(f"{k}={v}" for k, v in params.items())
            started, cpu_started = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as queries:
                send = getattr(django_client, method.lower())
                if body is None:  # as requests sends it: no body, no Content-Type
                    r = send(path)
                else:
                    r = send(path, data=json.dumps(body), content_type="application/json")
            per_kind[kind].append(
                (
                    len(queries),
                    (time.perf_counter() - started) * 1000,
                    (time.process_time() - cpu_started) * 1000,
                )
            )
            statements.setdefault(kind, [" ".join(q["sql"].split()) for q in queries])
            r.text = r.content.decode()  # read by the callers on errors, as with requests
            return r

    client = InProcess(spec, "", {"think": 0, "stale": 0.0}, time.time() + 3600)
    client.annotate(docs[0].pk)  # warm up: the first requests fill caches
    per_kind.clear()
    statements.clear()
    for doc in docs[1:4]:
        client.annotate(doc.pk)
    print()
    print("where the time goes (in-process replay: no network, no gunicorn, one request at a time)")
    print(f"  {'kind':<18}{'n':>4}{'queries':>9}{'wall ms':>9}{'CPU ms':>8}  (medians)")
    for kind in [k for k in KIND_ORDER if k in per_kind]:
        values = per_kind[kind]
        print(
            f"  {kind:<18}{len(values):>4}{statistics.median(v[0] for v in values):>9.0f}"
            f"{statistics.median(v[1] for v in values):>9.1f}"
            f"{statistics.median(v[2] for v in values):>8.1f}"
        )
    for kind in ("span.create", "stance.set"):
        print(f"  SQL of one {kind}:")
        for sql in statements.get(kind, []):
            print(f"    {sql[:150]}")
    for note in client.notes:
        print(f"  note: {note}")
    # CPU time, not wall time: on a shared machine the wall clock mostly measures the wait for
    # a core; what the code itself costs is what a quiet machine would see.
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for doc in docs[4:]:
        client.annotate(doc.pk)
    profile.disable()
    print("  cProfile (CPU time of this process; PostgreSQL's own work is not in it):")
    for order, count in (("cumulative", 40), ("tottime", 15)):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(count)
        for line in out.getvalue().splitlines():
            if line.strip():
                print(f"    {line.replace(str(ROOT) + '/', '')}")


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent annotators")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they work")
    # the best of the configurations measured on the 2-core machine (see the README)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--docs-per-client", type=int, default=10)
    parser.add_argument(
        "--per-doc", type=int, default=2, help="annotators per document (they overlap)"
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between two actions, s (0: none)"
    )
    parser.add_argument(
        "--stale", type=float, default=0.03, help="share of writes first sent from a stale tab"
    )
    parser.add_argument("--client-procs", type=int, default=2, help="processes for the clients")
    parser.add_argument("--url", help="a running server (same DATABASE_URL); no gunicorn start")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--any-database", action="store_true", help="allow a DATABASE_URL not named *bench*"
    )
    parser.add_argument(
        "--kill-workers",
        type=float,
        default=0,
        metavar="SECONDS",
        help="SIGKILL a gunicorn worker this often (0: never), to exercise the retries",
    )
    parser.add_argument("--explain", action="store_true", help="queries and profile per kind")
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="afterwards, plant faults in the database and check that they are reported",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.docs_per_client < 1 or args.clients < 1 or args.per_doc < 1:
        parser.error("--clients, --docs-per-client and --per-doc must be at least 1")

    load_before = loadavg()
    env, scratch = prepare_environment(args)
    sys.path.insert(0, str(ROOT))
    ensure_database(env["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    project, specs = build(args.clients, args.docs_per_client, args.per_doc, args.seed)
    print(
        f"built project {project.slug} (id {project.pk}) on {env['DATABASE_URL']}: "
        f"{len(specs)} annotators, {project.documents.count()} documents, in "
        f"{time.perf_counter() - started:.1f} s"
    )
    connections.close_all()

    proc = None
    access_log = Path(env["VAR_DIR"]) / "access.log"
    if args.url:
        base = args.url.rstrip("/")
        wait_healthy(base)
    else:
        proc, base = start_gunicorn(env, args.workers, args.threads, access_log)
        print(f"gunicorn on {base}: workers={args.workers} threads={args.threads}")
    try:
        opts = {"think": args.think, "stale": args.stale}
        procs = max(1, min(args.client_procs, args.clients))
        groups = [specs[i::procs] for i in range(procs)]
        with ProcessPoolExecutor(procs, mp_context=get_context("spawn")) as pool:
            start_at = time.time() + 3  # let the processes start
            deadline = start_at + args.seconds
            futures = [pool.submit(run_group, g, base, opts, start_at, deadline) for g in groups]
            client_pids = list(pool._processes)  # started by submit; for the CPU figures
            dbname = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
            snapshots: list[dict[str, Any]] = []

            def watch() -> None:
                for moment in (start_at, deadline):
                    time.sleep(max(0.0, moment - time.time()))
                    snapshots.append(cpu_snapshot(proc and proc.pid, client_pids, dbname))

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            killed: list[int] = []
            if args.kill_workers and proc is not None:
                threading.Thread(
                    target=kill_workers,
                    args=(proc.pid, args.kill_workers, deadline, killed),
                    daemon=True,
                ).start()
            parts = [f.result() for f in futures]
            watcher.join()
    finally:
        if proc is not None:
            stop(proc)
    results = {
        "records": [r for p in parts for r in p["records"]],
        "counts": sum((p["counts"] for p in parts), Counter()),
        "notes": [n for p in parts for n in p["notes"]],
        "failures": [f for p in parts for f in p["failures"]],
        "beliefs": {u: b for p in parts for u, b in p["beliefs"].items()},
        "uncertain": {u: d for p in parts for u, d in p["uncertain"].items()},
        "stopped": [u for p in parts for u in p["stopped"]],
        "ended": max(p["ended"] for p in parts),
    }
    checked = verify(project, results)
    server = server_latencies(access_log) if proc is not None else None
    cpu = cpu_delta(*snapshots) if len(snapshots) == 2 else None
    results["counts"]["gunicorn workers killed"] = len(killed)
    summary = report(args, results, checked, server, cpu, (start_at, deadline), load_before)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    if args.explain:
        explain(project, args.seed)
    ok = not args.self_check or self_check(project, results)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
