"""Driver for our app, for the shared peer benchmark harness (``bench-peers``).

``compare.sh`` copies the harness to a scratch folder and drops this file in as
``drivers/ours.py`` (the harness's own ``ours.py`` is only a template). It is imported by the
harness as ``drivers.ours`` and needs nothing but the harness (``workload``, ``drivers.base``)
and ``requests``.

User-facing paths used (API v1, token auth ``Authorization: Token <key>``):

  token    POST /api/v1/auth/tokens/ {username, password, name}         -> 201 {"token", ...}
  project  POST /api/v1/projects/ {name, slug, scheme: {name, span_labels: [{name}, ...]}}
           (the creator becomes the project's lead and may annotate every document)
  import   POST /api/v1/projects/{p}/documents/import/  multipart "file" (.jsonl)
           synchronous, one transaction                                  -> 201 {"created": N}
  resolve  GET  /api/v1/projects/{p}/documents/?page_size=500&page=N   (external_id -> id)
  span     POST /api/v1/projects/{p}/documents/{d}/annotation/spans/
           {start, end, label, client_id}                                -> 201 {"span", "version"}
  page     GET  /api/v1/projects/{p}/documents/{d}/annotation/?include=document
           (the caller's annotation with its spans plus the document text: one round trip)
  export   POST /api/v1/projects/{p}/exports/ {format: jsonl, annotations: all,
           include_unfinished: true}                                      -> 202 {"id", "urls"}
           a Celery worker builds the file; poll GET …/exports/{id}/ every 0.2 s (as the
           doccano driver polls its task) until "done"; GET urls.download -> the JSONL file

Offsets are Unicode code points, end-exclusive, in the API and in the workload alike, so the
workload's offsets are sent unchanged.
"""

from __future__ import annotations

import json
import os

import requests
from workload import LABEL_COLORS, LABELS, SpanOp, Workload

from .base import Driver, DriverError


class OursDriver(Driver):
    name = "ours"

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 30.0,
        username: str | None = None,
        password: str | None = None,
        **opts,
    ):
        super().__init__(base_url, timeout_s, **opts)
        # The harness constructs drivers with (base_url, timeout_s) only, so the credentials
        # come from the environment that compare.sh sets up.
        self.username = username or os.environ.get("OURS_BENCH_USER", "bench")
        self.password = password or os.environ.get("OURS_BENCH_PASSWORD", "bench-password-42")
        # Send a client_id with each span, as the annotation page does (makes retries no-ops).
        self.send_client_id = os.environ.get("OURS_CLIENT_ID", "1") not in ("0", "false", "no")
        self.token = None
        self.project_id = None
        self.slug = None
        self.doc_keys: list[str] = []
        self.annotated: set[int] = set()  # workload indices of documents given a span

    # ---- plumbing -------------------------------------------------------------------------
    def auth_headers(self):
        return {"Authorization": f"Token {self.token}"} if self.token else {}

    def url(self, path: str) -> str:
        return f"{self.base_url}/api/v1/{path.lstrip('/')}"

    def purl(self, path: str) -> str:
        return self.url(f"projects/{self.project_id}/{path.lstrip('/')}")

    def versions(self):
        return {"api": "v1"}

    # ---- setup ------------------------------------------------------------------------------
    def setup(self, wl: Workload) -> None:
        self.doc_keys = [d["doc_key"] for d in wl.docs]
        r = requests.post(
            self.url("auth/tokens/"),
            timeout=self.timeout_s,
            json={"username": self.username, "password": self.password, "name": "bench-peers"},
        )
        self.token = self.check(r, 201).json()["token"]
        s = self.new_session()
        slug = f"bench-{wl.seed}-{wl.n_docs}-{os.getpid()}"
        r = s.post(
            self.url("projects/"),
            timeout=self.timeout_s,
            json={
                "name": f"bench {wl.seed}/{wl.n_docs}",
                "slug": slug,
                "scheme": {
                    "name": "bench",
                    "span_labels": [{"name": lab, "color": LABEL_COLORS[lab]} for lab in LABELS],
                },
            },
        )
        body = self.check(r, 201).json()
        self.project_id, self.slug = body["id"], body.get("slug")
        got = {lab["name"] for lab in (body.get("scheme") or {}).get("span_labels", [])}
        if got and got != set(LABELS):
            raise DriverError(f"project labels {sorted(got)} != {LABELS}")
        self.notes.append(f"span create sends client_id: {self.send_client_id}")

    # ---- (a) import ---------------------------------------------------------------------------
    @staticmethod
    def corpus_jsonl(wl: Workload) -> bytes:
        """Our native JSONL: {"id", "title", "text"} per line. The workload's ``doc_key`` becomes
        the document id (external_id); the headline (first line) is the title; the text is the
        workload's text unchanged, so offsets stay the same."""
        lines = []
        for d in wl.docs:
            title = d["text"].split("\n", 1)[0][:200]
            lines.append(
                json.dumps(
                    {"id": d["doc_key"], "title": title, "text": d["text"]}, ensure_ascii=False
                )
            )
        return ("\n".join(lines) + "\n").encode("utf-8")

    def import_docs(self, wl: Workload, deadline_s: float) -> dict:
        payload = self.corpus_jsonl(wl)
        s = self.new_session()
        r = s.post(
            self.purl("documents/import/"),
            timeout=deadline_s,
            files={"file": ("corpus.jsonl", payload, "application/x-ndjson")},
        )
        body = self.check(r, 201).json()
        if body.get("created") != wl.n_docs:
            raise DriverError(f"import created {body.get('created')} of {wl.n_docs}: {body}")
        return {
            "sync": True,
            "mechanism": "multipart upload, imported inside the request (one transaction)",
            "created": body.get("created"),
            "our_payload_bytes": len(payload),
        }

    def resolve_docs(self, wl: Workload) -> None:
        s = self.new_session()
        key_to_idx = {d["doc_key"]: i for i, d in enumerate(wl.docs)}
        url, params = self.purl("documents/"), {"page_size": 500, "page": 1}
        while url:
            body = self.check(s.get(url, params=params, timeout=120)).json()
            for d in body["results"]:
                idx = key_to_idx.get(d.get("external_id"))
                if idx is not None:
                    self.doc_ids[idx] = d["id"]
            url, params = body.get("next"), None
        if len(self.doc_ids) != wl.n_docs:
            raise DriverError(f"resolved {len(self.doc_ids)} of {wl.n_docs} documents")

    # ---- (b) spans ----------------------------------------------------------------------------
    def create_span(self, sess: requests.Session, op: SpanOp, text: str) -> None:
        body = {"start": op.start, "end": op.end, "label": op.label}
        if self.send_client_id:
            body["client_id"] = f"b-{op.phase}-{op.doc}-{op.start}-{op.end}"
        r = sess.post(
            self.purl(f"documents/{self.doc_ids[op.doc]}/annotation/spans/"),
            json=body,
            timeout=self.timeout_s,
        )
        self.check(r, 201)
        self.annotated.add(op.doc)

    # ---- (c) annotation page ------------------------------------------------------------------
    def fetch_page(self, sess: requests.Session, doc: int) -> int:
        r = self.check(
            sess.get(
                self.purl(f"documents/{self.doc_ids[doc]}/annotation/"),
                params={"include": "document"},
                timeout=self.timeout_s,
            )
        )
        body = r.json()
        detail = body.get("document_detail") or body.get("document")
        if not isinstance(detail, dict) or "text" not in detail:
            raise DriverError("annotation page response carries no document text")
        return len(body["spans"])

    # ---- (d) export ---------------------------------------------------------------------------
    def export(self, deadline_s: float) -> dict:
        """Every annotation, submitted or not (the bench never submits; doccano's driver asks
        for ``exportApproved: False`` likewise), in our native JSONL."""
        s = self.new_session()
        r = s.post(
            self.purl("exports/"),
            json={"format": "jsonl", "annotations": "all", "include_unfinished": True},
            timeout=self.timeout_s,
        )
        export = self.check(r, 202).json()
        status_url = self.base_url + export["urls"]["self"]

        def done():
            st = self.check(s.get(status_url, timeout=self.timeout_s)).json()
            if st["status"] == "failed":
                raise DriverError(f"export {st['id']} failed: {st.get('error')}")
            return st if st["status"] == "done" else None

        st = self.poll(done, deadline_s, 0.2)
        r = self.check(s.get(self.base_url + st["urls"]["download"], timeout=deadline_s))
        raw = r.content
        n_spans = bad_offsets = 0
        exported: set[str] = set()
        for line in raw.decode("utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            exported.add(rec["id"])
            text = rec["text"]
            for ann in rec.get("annotations") or []:
                for span in ann.get("spans") or []:
                    n_spans += 1
                    bad_offsets += text[span["start"] : span["end"]] != span["text"]
        if bad_offsets:
            self.notes.append(f"export: {bad_offsets} spans whose text != text[start:end]")
        # Our export leaves out documents nobody annotated (a document with no annotation has
        # nothing to export; an empty annotation is kept). The harness counts a complete export
        # as "every imported document", so those are counted as accounted for, but only when
        # the file holds exactly the documents this run annotated. (At the default sizes every
        # document gets spans, so nothing is left out.)
        annotated_keys = {self.doc_keys[i] for i in self.annotated}
        left_out = len(self.doc_keys) - len(annotated_keys)
        n_docs = len(exported) + (left_out if exported == annotated_keys else 0)
        return {
            "sync": False,
            "mechanism": "Celery worker builds the file, polled, then file download (JSONL)",
            "bytes": len(raw),
            "n_docs": n_docs,
            "n_docs_in_file": len(exported),
            "n_docs_unannotated_left_out": left_out if exported == annotated_keys else None,
            "n_spans": n_spans,
            "sha256_header": r.headers.get("X-Export-SHA256", ""),
        }
