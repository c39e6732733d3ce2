"""Benchmark: the pure export writers alone, every format, no database.

10,000 documents x 2 annotators x 10 spans (plus relations, stances and attributes), generated
in memory as a stream, written to a temporary file. Each format runs in its own child process so
the peak resident memory (ru_maxrss) belongs to that format alone; the figure printed is the
peak minus the child's resident memory after its imports (the writer's own cost), next to the
absolute peak, and CPU time next to wall time (on a shared machine wall time mostly measures the
neighbours). Run by hand, prints figures; not part of the test run.

    .venv/bin/python bench/export_writers.py              # every format, 10,000 documents
    .venv/bin/python bench/export_writers.py --docs 1000 --formats jsonl,hf
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from projects.domain.exports.records import (
    FORMATS,
    ExportAnnotation,
    ExportDocument,
    ExportOptions,
    ExportRelation,
    ExportScheme,
    ExportSpan,
    ExportStance,
)

LABELS = ("Claim", "Justification", "Critique")
SCHEME = ExportScheme(
    version=1,
    labels=LABELS,
    relation_types=("supports", "attacks"),
    stance_targets=("The decision",),
    stance_values=("favor", "against", "neutral"),
)
SOURCES = ("US government", "US officials", "Human Rights Watch", "Chinese government")
WORDS = [
    "the",
    "state",
    "department",
    "said",
    "only",
    "last",
    "month",
    "in",
    "its",
    "annual",
    "survey",
    "of",
    "human",
    "rights",
    "conditions",
    "worldwide",
    "that",
    "china's",
    "record",
    "on",
    "the",
    "subject",
    "remained",
    "poor",
    "however",
    "administration",
    "officials",
    "say",
    "they",
    "are",
    "beginning",
    "to",
    "see",
    "limited",
    "but",
    "significant",
    "progress",
]
TEXT_CHARS = 2500  # a news article
SPANS = 10


def make_text(rng: random.Random) -> str:
    words: list[str] = []
    length = 0
    while length < TEXT_CHARS:
        word = rng.choice(WORDS)
        if rng.random() < 0.08:
            word += "."
        words.append(word)
        length += len(word) + 1
    paragraphs = [" ".join(words[i : i + 80]) for i in range(0, len(words), 80)]
    return "\n\n".join(paragraphs)


def make_annotation(rng: random.Random, text: str, annotator: str) -> ExportAnnotation:
    slot = len(text) // SPANS
    spans = []
    for n in range(SPANS):
        start = n * slot + rng.randrange(0, slot // 3)
        end = min(len(text), start + rng.randrange(40, slot))
        spans.append(
            ExportSpan(
                id=f"{annotator[0]}{n + 1}",
                start=start,
                end=end,
                label=rng.choice(LABELS),
                text=text[start:end],
                attributes={"source": rng.choice(SOURCES), "stance": "favor"},
            )
        )
    spans.sort(key=lambda s: (s.start, s.end, s.label, s.id))
    relations = sorted(
        {
            ExportRelation(spans[i].id, spans[i + 1].id, rng.choice(("supports", "attacks")))
            for i in range(0, SPANS - 1, 2)
        },
        key=lambda r: (r.source, r.target, r.type),
    )
    return ExportAnnotation(
        annotator=annotator,
        gold=False,
        status="submitted",
        spans=tuple(spans),
        relations=tuple(relations),
        stances=(ExportStance("The decision", rng.choice(("favor", "against"))),),
    )


def documents(count: int) -> Iterator[ExportDocument]:
    rng = random.Random(7)
    for number in range(count):
        text = make_text(rng)
        yield ExportDocument(
            external_id=f"doc-{number:06d}",
            title=f"Document {number}",
            text=text,
            meta={"outlet": "Bench", "n": number},
            annotations=(
                make_annotation(rng, text, "annotator1"),
                make_annotation(rng, text, "annotator2"),
            ),
            split="train" if number % 10 else "test",
        )


def rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def run_one(format: str, count: int) -> dict[str, object]:
    from projects.domain.exports.writer import write_export

    options = ExportOptions(format=format, splits=(("train", 0.9), ("test", 0.1)))
    with tempfile.TemporaryFile() as warm:  # imports and first-use tables are not the writer
        write_export(
            documents(3), warm, options=options, scheme=SCHEME, project="b", tool_version="b"
        )
    baseline = rss_kb()
    # Generating the records is the selector's cost in real life: measure it apart. CPU time is
    # reported next to wall time because a shared machine's load distorts wall time badly.
    cpu = time.process_time()
    for _ in documents(count):
        pass
    generate_cpu = time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryFile() as out:
        summary = write_export(
            documents(count), out, options=options, scheme=SCHEME, project="b", tool_version="b"
        )
    wall = time.perf_counter() - started
    total_cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "format": format,
        "documents": summary.counts["documents"],
        "spans": summary.counts["spans"],
        "wall": round(wall, 2),
        "cpu": round(total_cpu, 2),
        "writer_cpu": round(total_cpu - generate_cpu, 2),
        "size_mb": round(summary.size / 1e6, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "writer_rss_mb": round((peak - baseline) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.docs)))
        return
    print(
        f"{args.docs} documents x 2 annotators x {SPANS} spans, "
        f"~{TEXT_CHARS} characters each; one process per format"
    )
    print(
        f"{'format':8} {'wall s':>7} {'CPU s':>6} {'writer CPU s':>13} {'file MB':>8} "
        f"{'peak RSS MB':>12} {'writer RSS MB':>14}"
    )
    for format in args.formats.split(","):
        result = subprocess.run(
            [sys.executable, __file__, "--one", format, "--docs", str(args.docs)],
            check=True,
            capture_output=True,
            text=True,
        )
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"{format:8} {r['wall']:>7} {r['cpu']:>6} {r['writer_cpu']:>13} {r['size_mb']:>8} "
            f"{r['peak_rss_mb']:>12} {r['writer_rss_mb']:>14}"
        )
    print(
        "writer CPU: CPU time minus generating the records; writer RSS: peak minus the RSS "
        "after imports and a warm-up export"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
