#!/usr/bin/env bash
# Our app against the peers on the shared workload (bench-peers harness), one run each (or
# ROUNDS paired runs):
#   copy the harness to a scratch dir, drop in bench/peers/ours.py as drivers/ours.py,
#   start our app (gunicorn, 2*cores+1 sync workers, 127.0.0.1 only) on a fresh database,
#   run run_bench.py --system ours, stop it, optionally run doccano the same way
#   (run_anchor.sh), and print report.py over the results and targets.py's ratios.
#
#   bench/peers/compare.sh [run_bench.py args...]        e.g.  --label "run 1"
#
# Environment (all optional; defaults in brackets):
#   HARNESS       the bench-peers folder, read only           [<repo>/../shared/bench-peers]
#   ANCHORS       folder with the peer virtualenvs             [<repo>/../anchors]
#   BENCH_PY      python with requests + psutil                [$ANCHORS/bench-venv/bin/python]
#   APP_PY        python of our app's virtualenv               [<repo>/.venv/bin/python]
#   DATABASE_URL  PostgreSQL for our app, e.g. postgres://postgres@127.0.0.1:5432/ours_bench.
#                 The database is DROPPED and re-created (fresh data, like the anchors' fresh
#                 data dirs) unless FRESH_DB=0.                              [SQLite in scratch]
#   APP_REF       the commit of our app to run: a `git archive` snapshot in the scratch dir, so
#                 edits in progress cannot leak into a run; "worktree" runs the work tree  [HEAD]
#   PEERS         "doccano" to also run doccano after ours, "" for ours only      [doccano]
#   PEER_RESULTS  existing peer result JSON files (space separated) to put in the report
#                 instead of running the peers, e.g. an earlier doccano run on this machine
#   DOCCANO_WORKERS  doccano's gunicorn sync workers (servers/doccano.sh)      [2*cores+1]
#   DOCCANO_DATABASE_URL  run doccano on PostgreSQL (…?sslmode=disable; needs psycopg2-binary
#                 in its venv); default its SQLite
#   EXPORT_ROUNDS export rounds (step (d)) for ours         [the harness default, 2]
#   CELERY_BROKER_URL  broker of our Celery worker (exports are built by it), e.g.
#                 redis://127.0.0.1:6379/15; default the app's own: kombu's filesystem
#                 transport in the run's data folder, no server (as `make run`)
#   WORKER_CONCURRENCY  our Celery worker's prefork children (= doccano's `task`)      [2]
#   SCRATCH       scratch dir (harness copy, data dirs, logs)           [mktemp -d]
#   OUT_DIR       where result JSON files are written                    [<repo>/bench/results]
#   PORT          [8000]      WORKERS  [2*cores+1]
#   THREADS       run our gunicorn with the gthread worker and this many threads per worker
#                 (connections kept alive), e.g. WORKERS=2 THREADS=8 as README.md's deployment
#                 section says; unset: sync workers, as doccano runs               [sync]
#   ROUNDS        paired runs, alternating ours and the peers (ours, doccano, ours, doccano…);
#                 the report gives the median of each figure with every run's value, and
#                 targets.py each pair's ratios, how many pairs met each target and the
#                 median of the pair ratios                                            [1]
#   QUIET_WAIT_S  before each run, wait up to this many seconds for the machine to be idle [0]
#   APP_SETTINGS, APP_PYTHONPATH   run our app with another settings module (e.g. a what-if
#                 module outside the repo that imports annotator.settings and changes one
#                 thing); the run is labelled with it                   [annotator.settings]
#   PROFILE=1     also sample the gunicorn workers with py-spy during the run (needs py-spy in
#                 BENCH_PY's venv); raw folded stacks per worker land in OUT_DIR
#                 (summarise them with pyspy_summary.py). The profiler slows the run down:
#                 do not use its figures as results.
#
# The seed and sizes are the harness defaults (seed 42, 2000 docs, 5000 spans per phase, 8
# clients, 200 pages x 2 rounds) for every system unless overridden by arguments, which go to
# every run alike.
set -euo pipefail
{ # the whole script is one compound command: bash reads it all before running, so editing this
  # file during a run cannot break the run

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
HARNESS="${HARNESS:-$REPO/../shared/bench-peers}"
HARNESS="$(cd "$HARNESS" && pwd)"
ANCHORS="${ANCHORS:-$REPO/../anchors}"
ANCHORS="$(cd "$ANCHORS" 2>/dev/null && pwd || echo "$ANCHORS")"
BENCH_PY="${BENCH_PY:-$ANCHORS/bench-venv/bin/python}"
APP_PY="${APP_PY:-$REPO/.venv/bin/python}"
PEERS="${PEERS-doccano}"
EXPORT_ROUNDS="${EXPORT_ROUNDS:-}"
WORKER_CONCURRENCY="${WORKER_CONCURRENCY:-2}"
APP_REF="${APP_REF:-HEAD}"
PORT="${PORT:-8000}"
WORKERS="${WORKERS:-$(( $(nproc) * 2 + 1 ))}"
SCRATCH="${SCRATCH:-$(mktemp -d /tmp/bench-peers.XXXXXX)}"
OUT_DIR="${OUT_DIR:-$REPO/bench/results}"
mkdir -p "$SCRATCH" "$OUT_DIR"
SCRATCH="$(cd "$SCRATCH" && pwd)"; OUT_DIR="$(cd "$OUT_DIR" && pwd)"
ROUNDS="${ROUNDS:-1}"

for f in "$BENCH_PY" "$APP_PY"; do
  [[ -x "$f" ]] || { echo "missing $f (see bench/peers/README.md, 'Setup')" >&2; exit 2; }
done
"$BENCH_PY" -c 'import requests, psutil' || { echo "$BENCH_PY lacks requests/psutil" >&2; exit 2; }
port_busy() { "$BENCH_PY" - "$1" <<'EOF'
import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}
if port_busy "$PORT"; then echo "127.0.0.1:$PORT is in use; set PORT" >&2; exit 2; fi

# Drop and re-create a loopback PostgreSQL database (fresh data for each run).
fresh_pg() { "$APP_PY" - "$1" <<'EOF'
import sys
from urllib.parse import urlsplit
import psycopg
u = urlsplit(sys.argv[1])
name = u.path.lstrip("/")
assert u.hostname in ("127.0.0.1", "localhost", "::1"), "refusing a non-loopback database"
with psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username or "postgres",
                     password=u.password or None, dbname="postgres", autocommit=True) as c:
    c.execute(f'DROP DATABASE IF EXISTS "{name}"')
    c.execute(f'CREATE DATABASE "{name}"')
print(f"fresh PostgreSQL database {name}")
EOF
}

# Background sampler of CPU used by processes outside this script's tree (see noise.py).
noise_start() {  # $1 = result json, then extra noise.py args; writes <result>.noise.txt (JSON)
  local out="$1"; shift
  "$BENCH_PY" "$HERE/noise.py" --exclude-tree $$ "$@" --out "${out%.json}.noise.txt" &
  NOISE_PID=$!
}
noise_stop() {  # prints a one-line summary
  [[ -n "${NOISE_PID:-}" ]] || return 0
  kill -TERM "$NOISE_PID" 2>/dev/null || true; wait "$NOISE_PID" 2>/dev/null || true
  NOISE_PID=
  "$BENCH_PY" - "${1%.json}.noise.txt" <<'EOF' || true
import json, sys
n = json.load(open(sys.argv[1]))
top = "; ".join(f"{t['cmd'][:50]} {t['cpu_s']}s" for t in n["top_foreign"][:3]) or "-"
print(f"noise: other processes used {n['foreign_cpu_s']} CPU-s in {n['wall_s']} s "
      f"(avg {n['foreign_avg_cores']} of {n['cores']} cores); top: {top}")
EOF
}
# Wait (up to QUIET_WAIT_S, default 0 = do not wait) until the machine is idle: system-wide CPU
# below 15% of all cores for 20 s in a row.
wait_quiet() {
  [[ "${QUIET_WAIT_S:-0}" -gt 0 ]] || return 0
  "$BENCH_PY" - "$QUIET_WAIT_S" <<'EOF'
import sys, time, psutil
end = time.monotonic() + float(sys.argv[1]); calm = 0
while time.monotonic() < end:
    busy = psutil.cpu_percent(interval=5)
    calm = calm + 5 if busy < 15 else 0
    if calm >= 20:
        print(f"machine quiet ({busy:.0f}% CPU)"); sys.exit(0)
print("machine still busy; running anyway (see the .noise.txt file)")
EOF
}

# ---- 1. harness copy with our driver ----------------------------------------------------------
H="$SCRATCH/harness"
rm -rf "$H"; cp -r "$HARNESS" "$H"; chmod -R u+w "$H"
cp "$HERE/ours.py" "$H/drivers/ours.py"
echo "harness copy: $H (driver: bench/peers/ours.py)"

# ---- 2. our app on a fresh database -------------------------------------------------------------
# Runs in a subshell so that none of the app's settings leak into the peer runs.
if [[ -n "${DATABASE_URL:-}" ]]; then DB=postgres; else DB=sqlite; fi
run_ours() (
  set -euo pipefail
  DATA="$SCRATCH/ours-$DB-$STAMP"
  mkdir -p "$DATA"
  export DJANGO_SETTINGS_MODULE="${APP_SETTINGS:-annotator.settings}" DEBUG=false
  if [[ -n "${APP_PYTHONPATH:-}" ]]; then export PYTHONPATH="$APP_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}"; fi
  SECRET_KEY="bench-$("$APP_PY" -c 'import secrets; print(secrets.token_urlsafe(40))')"
  export SECRET_KEY ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false SECURE_COOKIES=false
  export SECURE_HSTS_SECONDS=0 LOG_LEVEL="${LOG_LEVEL:-WARNING}"
  export VAR_DIR="$DATA/var" STATIC_ROOT="$DATA/static" MEDIA_ROOT="$DATA/media"
  export OURS_BENCH_USER=bench OURS_BENCH_PASSWORD="bench-password-$RANDOM$RANDOM"
  if [[ "$DB" == postgres ]]; then
    export DATABASE_URL
    if [[ "${FRESH_DB:-1}" == 1 ]]; then fresh_pg "$DATABASE_URL"; fi
  else
    unset DATABASE_URL
  fi

  # Run a snapshot of a commit (default HEAD), not the live work tree: files edited while the
  # workers boot would give a half-old, half-new app. APP_REF=worktree runs the work tree as is.
  if [[ "$APP_REF" == worktree ]]; then
    APP_DIR="$REPO"
    rev="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
    git -C "$REPO" diff --quiet HEAD 2>/dev/null || rev="$rev+worktree"
  else
    APP_DIR="$DATA/app"
    mkdir -p "$APP_DIR"
    git -C "$REPO" archive "$APP_REF" | tar -x -C "$APP_DIR"
    rev="$(git -C "$REPO" rev-parse --short "$APP_REF")"
  fi
  cd "$APP_DIR"
  {
    "$APP_PY" manage.py migrate --noinput &&
    "$APP_PY" manage.py collectstatic --noinput &&
    "$APP_PY" manage.py shell -c "
import os
from django.contrib.auth import get_user_model
U = get_user_model()
name = os.environ['OURS_BENCH_USER']
u = U.objects.filter(username=name).first() or U(username=name)
u.set_password(os.environ['OURS_BENCH_PASSWORD']); u.is_active = True; u.save()
print('bench user', u.username, u.pk)"
  } > "$DATA/init.log" 2>&1 || { tail -30 "$DATA/init.log" >&2; exit 3; }

  stop_ours() {
    if [[ -f "$DATA/pyspy.pids" ]]; then   # py-spy first, so it writes its output
      while read -r p; do kill -INT "$p" 2>/dev/null || true; done < "$DATA/pyspy.pids"
      while read -r p; do
        for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
      done < "$DATA/pyspy.pids"
      rm -f "$DATA/pyspy.pids"
    fi
    local f pid
    for f in web worker; do
      if [[ -f "$DATA/$f.pid" ]]; then
        pid="$(cat "$DATA/$f.pid")"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$DATA/$f.pid"
      fi
    done
  }
  trap stop_ours EXIT
  "$(dirname "$APP_PY")/gunicorn" annotator.wsgi:application --bind "127.0.0.1:$PORT" \
    --workers "$WORKERS" ${THREADS:+--threads "$THREADS"} --chdir "$APP_DIR" \
    --log-level warning --timeout 300 \
    > "$DATA/web.log" 2>&1 &
  echo $! > "$DATA/web.pid"
  # The Celery worker that builds exports (step (d)); same environment, so the same database,
  # broker (CELERY_BROKER_URL, default the filesystem transport under VAR_DIR) and MEDIA_ROOT.
  "$APP_PY" -m celery -A annotator worker --loglevel=WARNING --concurrency "$WORKER_CONCURRENCY" \
    --pool=prefork --hostname="bench-peers-$STAMP@%h" > "$DATA/worker.log" 2>&1 &
  echo $! > "$DATA/worker.pid"
  up=0
  for _ in $(seq 1 60); do
    if curl -fs --max-time 5 "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1; then up=1; break; fi
    sleep 1
  done
  if [[ $up != 1 ]]; then
    echo "our app did not come up; see $DATA/web.log" >&2; tail -30 "$DATA/web.log" >&2; exit 3
  fi
  if ! kill -0 "$(cat "$DATA/worker.pid")" 2>/dev/null; then
    echo "our Celery worker did not start; see $DATA/worker.log" >&2
    tail -30 "$DATA/worker.log" >&2; exit 3
  fi
  sleep 2  # let every worker finish booting
  echo "ours up ($DB): gunicorn master $(cat "$DATA/web.pid"), $WORKERS workers," \
    "celery worker $(cat "$DATA/worker.pid") (concurrency $WORKER_CONCURRENCY), data $DATA"

  if [[ "${PROFILE:-0}" == 1 ]]; then
    PYSPY="$(dirname "$BENCH_PY")/py-spy"
    : > "$DATA/pyspy.pids"
    for w in $(pgrep -P "$(cat "$DATA/web.pid")"); do
      "$PYSPY" record --pid "$w" --rate 100 --format raw --nonblocking \
        --output "$OUT_DIR/ours-$DB-$STAMP-worker$w.folded" > "$DATA/pyspy-$w.log" 2>&1 &
      echo $! >> "$DATA/pyspy.pids"
    done
    echo "py-spy sampling workers $(pgrep -P "$(cat "$DATA/web.pid")" | tr '\n' ' ')"
  fi

  V_DJ="django=$("$APP_PY" -c 'import django; print(django.get_version())')"
  V_DRF="djangorestframework=$("$APP_PY" -c 'import rest_framework; print(rest_framework.VERSION)')"
  if [[ -n "${THREADS:-}" ]]; then GU_KIND="$WORKERS gthread workers x $THREADS threads"
  else GU_KIND="$WORKERS sync workers"; fi
  V_GU="gunicorn=$("$APP_PY" -c 'import importlib.metadata as m; print(m.version("gunicorn"))')"
  cd "$H"
  "$BENCH_PY" run_bench.py --system ours --base-url "http://127.0.0.1:$PORT" \
    --server-pid "web=$DATA/web.pid" --server-pid "worker=$DATA/worker.pid" --db "$DB" \
    ${EXPORT_ROUNDS:+--export-rounds "$EXPORT_ROUNDS"} \
    --version "ours=$rev" --version "$V_DJ" --version "$V_DRF" \
    --version "$V_GU ($GU_KIND)" --version "settings=$DJANGO_SETTINGS_MODULE" \
    --version "celery worker=concurrency $WORKER_CONCURRENCY, broker ${CELERY_BROKER_URL:-filesystem}" \
    --out "$OURS_OUT" "$@"
)
RESULTS=()
for ROUND in $(seq 1 "$ROUNDS"); do
  [[ "$ROUNDS" == 1 ]] || echo "==== round $ROUND of $ROUNDS"
  STAMP="$(date +%Y%m%d-%H%M%S)"
  OURS_OUT="$OUT_DIR/ours-$DB-$STAMP.json"
  wait_quiet
  noise_start "$OURS_OUT"
  set +e
  run_ours "$@"
  rc=$?
  set -e
  noise_stop "$OURS_OUT"
  if [[ $rc == 3 ]]; then exit 1; fi
  [[ $rc == 0 ]] || echo "run_bench.py (ours) exited $rc; see $OURS_OUT" >&2
  RESULTS+=("$OURS_OUT")

  # ---- 3. peers, one after the other (inside the round) ----------------------------------------
  for peer in $PEERS; do
    case "$peer" in
      doccano)
        PEER_ENV=(BENCH_PY="$BENCH_PY" VENV="$ANCHORS/doccano-venv" SCRATCH="$SCRATCH" PORT="$PORT")
        if [[ -n "${DOCCANO_WORKERS:-}" ]]; then PEER_ENV+=(WORKERS="$DOCCANO_WORKERS"); fi
        PDB=sqlite
        if [[ -n "${DOCCANO_DATABASE_URL:-}" ]]; then
          PDB=postgres
          if [[ "${FRESH_DB:-1}" == 1 ]]; then fresh_pg "$DOCCANO_DATABASE_URL"; fi
          PEER_ENV+=(DATABASE_URL="$DOCCANO_DATABASE_URL" DB=postgres)
        fi
        PEER_OUT="$OUT_DIR/doccano-$PDB-$STAMP.json"
        wait_quiet
        noise_start "$PEER_OUT" --exclude-cmd "$ANCHORS/doccano-venv/"  # its servers detach
        ( cd "$H" && env -u DATABASE_URL "${PEER_ENV[@]}" ./run_anchor.sh doccano "$PEER_OUT" "$@" ) \
          || echo "doccano run failed" >&2
        noise_stop "$PEER_OUT"
        RESULTS+=("$PEER_OUT") ;;
      *) echo "unknown peer $peer (only doccano is wired up here)" >&2 ;;
    esac
  done
done
for f in ${PEER_RESULTS:-}; do RESULTS+=("$f"); done

# ---- 4. report -----------------------------------------------------------------------------------
echo
echo "results: ${RESULTS[*]}"
"$BENCH_PY" "$H/report.py" "${RESULTS[@]}"
if [[ " $PEERS " == *" doccano "* || -n "${PEER_RESULTS:-}" ]]; then
  echo
  echo "issue 2's targets, pair by pair (ours ÷ doccano):"
  "$BENCH_PY" "$HERE/targets.py" "${RESULTS[@]}" || true
fi
exit 0
}
