// The exports page: while an export builds, poll its API resource and move its progress bar;
// once it is done (or failed) reload the page, which then shows the download link, size,
// checksum and counts. Without JavaScript the page refreshes itself instead (<noscript>).
// No inline scripts or handlers anywhere: the page must work under a strict CSP.

const POLL_MS = 1500;
const MAX_POLL_MS = 15000;
const LABELS = { pending: "Waiting for a worker", running: "Building", done: "Done", failed: "Failed" };

function percentOf(progress, status) {
  if (status === "done") return 100;
  if (!progress || !progress.total) return 0;
  return Math.max(0, Math.min(100, Math.floor((100 * progress.done) / progress.total)));
}

function show(row, data) {
  const bar = row.querySelector("[data-export-poll]");
  const fill = row.querySelector("[data-export-bar]");
  const caption = row.querySelector("[data-export-caption]");
  const badge = row.querySelector("[data-export-status]");
  const percent = percentOf(data.progress, data.status);
  if (bar) bar.setAttribute("aria-valuenow", String(percent));
  if (fill) {
    for (const name of [...fill.classList]) {
      if (name.startsWith("pct-")) fill.classList.remove(name);
    }
    fill.classList.add(`pct-${percent}`);
  }
  if (caption && data.progress) {
    const total = data.progress.total || "?";
    caption.textContent = `${data.progress.done} of ${total} documents`;
  }
  if (badge) badge.textContent = LABELS[data.status] || data.status;
}

function watch(row) {
  const url = row.querySelector("[data-export-poll]").dataset.exportPoll;
  let delay = POLL_MS;
  const tick = async () => {
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      if (response.status === 404) {
        window.location.reload(); // deleted meanwhile
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      show(row, data);
      if (data.status === "done" || data.status === "failed") {
        window.location.reload();
        return;
      }
      delay = POLL_MS;
    } catch (error) {
      // the server or the network hiccuped: keep trying, less often
      delay = Math.min(MAX_POLL_MS, delay * 2);
    }
    window.setTimeout(tick, delay);
  };
  window.setTimeout(tick, delay);
}

for (const row of document.querySelectorAll("[data-export-row]")) {
  if (row.querySelector("[data-export-poll]")) watch(row);
}
