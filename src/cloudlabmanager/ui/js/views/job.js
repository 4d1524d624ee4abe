// Job: live output following the stream, steps, per-host results, Cancel,
// search and download. A finished job shows the last TAIL lines at once; the
// full log is a click away (and always in the download).

import * as api from "../api.js";
import { h, append, replace, download } from "../dom.js";
import { stripAnsi } from "../ansi.js";
import { createLogView } from "../logview.js";
import {
  noticeArea, confirmIn, actionLabel, statusBadge, timeShort, formatDuration, number, spinner, ACTIVE,
} from "../ui.js";
import { stepsList, hostsPanel } from "./job_results.js";

const TAIL = 5000;
const DETAIL_REFRESH_MS = 3000;

export default function jobView(root, { params }) {
  const id = Number(params.id);
  const notices = noticeArea();
  const confirmSlot = h("div", { class: "confirm-slot" });
  const title = h("h1", { id: "page-heading", tabindex: "-1" }, `Job #${id}`);
  const subtitle = h("p", { class: "page-subtitle" });
  const badgeSlot = h("span", { class: "job-status", id: "job-status" });
  const cancelButton = h("button", { type: "button", class: "btn btn-danger-outline", id: "cancel-job", hidden: true }, "Cancel job");
  const downloadButton = h("button", { type: "button", class: "btn btn-secondary", id: "download-log" }, "Download log");
  const summary = h("dl", { class: "summary" });
  const errorSlot = h("div", {});
  const stepsSlot = h("div", {});
  const hostsSlot = h("div", {});
  const windowNote = h("div", { class: "log-window", hidden: true });
  const connection = h("span", { class: "connection", hidden: true });
  const log = createLogView({ label: `Output of job ${id}` });

  const searchInput = h("input", {
    type: "search", id: "log-search", class: "input input-search", placeholder: "Search the log",
    autocomplete: "off", spellcheck: "false",
  });
  const matchInfo = h("span", { class: "match-info", "aria-live": "polite" });
  const prevButton = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": "Previous match", disabled: true }, "↑");
  const nextButton = h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": "Next match", disabled: true }, "↓");
  const followButton = h("button", { type: "button", class: "btn btn-ghost btn-small", id: "follow-log", hidden: true }, "Jump to end ↓");

  let alive = true;
  let job = null;
  const hostsState = { onlyProblems: false };
  const rendered = { steps: null, hosts: null };
  let closeStream = null;
  let detailTimer = null;
  let abort = new AbortController();

  append(root,
    h("header", { class: "page-header" },
      h("div", { class: "page-title" },
        h("a", { href: "#/jobs", class: "back-link" }, "← Jobs"),
        h("div", { class: "title-row" }, title, badgeSlot),
        subtitle),
      h("div", { class: "page-actions" }, downloadButton, cancelButton)),
    confirmSlot,
    notices.el,
    h("section", { class: "panel job-summary", "aria-label": "Summary" }, summary, errorSlot),
    h("div", { class: "job-grid" },
      h("section", { class: "panel steps-panel", "aria-labelledby": "steps-heading" },
        h("h2", { id: "steps-heading" }, "Steps"), stepsSlot),
      h("section", { class: "panel output-panel", "aria-labelledby": "output-heading" },
        h("div", { class: "panel-header" },
          h("h2", { id: "output-heading" }, "Output"),
          connection),
        h("div", { class: "log-toolbar" },
          h("label", { for: "log-search", class: "visually-hidden" }, "Search the log"),
          searchInput, prevButton, nextButton, matchInfo,
          h("span", { class: "spacer" }),
          followButton),
        windowNote,
        log.el)),
    h("section", { class: "panel", "aria-labelledby": "hosts-heading" },
      h("h2", { id: "hosts-heading" }, "Results per host"), hostsSlot));
  replace(stepsSlot, spinner());

  // --- search ------------------------------------------------------------------
  log.onMatches((total, index) => {
    const q = searchInput.value;
    prevButton.disabled = nextButton.disabled = total === 0;
    matchInfo.textContent = !q ? "" : total === 0 ? "No matches" : `${index + 1} of ${number.format(total)}`;
  });
  let searchTimer = null;
  let searched = "";
  const runSearch = () => {
    clearTimeout(searchTimer);
    searched = searchInput.value;
    log.search(searched);
  };
  searchInput.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 150);
  });
  searchInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      if (searchInput.value !== searched) runSearch();
      else log.step(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape" && searchInput.value) {
      event.preventDefault();
      searchInput.value = "";
      runSearch();
    }
  });
  prevButton.addEventListener("click", () => log.step(-1));
  nextButton.addEventListener("click", () => log.step(1));
  log.onFollowChange((following) => {
    followButton.hidden = following;
  });
  followButton.addEventListener("click", () => log.follow());

  // --- download and the full log ----------------------------------------------------
  downloadButton.addEventListener("click", async () => {
    downloadButton.disabled = true;
    const label = downloadButton.textContent;
    try {
      const lines = await api.jobOutputAll(id, {
        signal: abort.signal,
        onProgress: (n) => {
          downloadButton.textContent = `Preparing… ${number.format(n)} lines`;
        },
      });
      const text = lines.map((line) => stripAnsi(line.text)).join("\n") + (lines.length ? "\n" : "");
      download(new Blob([text], { type: "text/plain;charset=utf-8" }), `job-${id}.log`);
    } catch (err) {
      if (err.name !== "AbortError") notices.error(err, "The log could not be downloaded");
    } finally {
      downloadButton.disabled = false;
      downloadButton.textContent = label;
    }
  });

  async function loadFullLog(button) {
    button.disabled = true;
    try {
      const lines = await api.jobOutputAll(id, {
        signal: abort.signal,
        onProgress: (n) => {
          button.textContent = `Loading… ${number.format(n)} lines`;
        },
      });
      if (!alive) return;
      const following = log.isFollowing;
      // Lines that streamed in while the pages loaded are kept.
      const shown = log.lines();
      const shownFirst = log.firstNumber;
      const fetchedLast = lines.length ? lines[lines.length - 1].seq : 0;
      const texts = lines.map((line) => line.text);
      for (let seq = fetchedLast + 1; seq < shownFirst + shown.length; seq++) {
        if (seq >= shownFirst) texts.push(shown[seq - shownFirst]);
      }
      log.setLines(texts, lines.length ? lines[0].seq : 1);
      windowNote.hidden = true;
      if (searchInput.value) log.search(searchInput.value);
      if (following) log.follow();
    } catch (err) {
      if (err.name !== "AbortError") notices.error(err, "The full log could not be loaded");
      button.disabled = false;
      button.textContent = "Load the full log";
    }
  }

  function showWindow(shown, total) {
    if (shown >= total) {
      windowNote.hidden = true;
      return;
    }
    const button = h("button", { type: "button", class: "btn btn-secondary btn-small", id: "load-full-log" }, "Load the full log");
    button.addEventListener("click", () => loadFullLog(button));
    replace(windowNote,
      h("span", {}, `Showing the last ${number.format(shown)} of ${number.format(total)} lines. Search covers the lines shown. `),
      button);
    windowNote.hidden = false;
  }

  // --- cancel -------------------------------------------------------------------
  cancelButton.addEventListener("click", () => {
    confirmIn(confirmSlot, {
      message: `Cancel job #${id}?`,
      detail: "The running step is terminated (SIGTERM, then SIGKILL after a grace period). Machines already created stay.",
      confirmLabel: "Yes, cancel the job",
      danger: true,
      returnFocus: cancelButton,
      onConfirm: async () => {
        try {
          const answer = await api.cancelJob(id);
          notices.show("info", `Cancel requested; the job is ${answer && answer.status ? answer.status : "stopping"}.`);
          refreshDetail();
        } catch (err) {
          notices.error(err, "The job was not cancelled");
        }
      },
    });
  });

  // --- the job's details ------------------------------------------------------------
  function summaryItem(term, ...value) {
    return h("div", { class: "summary-item" }, h("dt", {}, term), h("dd", {}, value));
  }

  // Duration and line count tick while the job runs, between detail polls.
  const durationValue = h("span", {});
  const linesValue = h("span", {});
  function tick() {
    if (!job) return;
    durationValue.textContent = job.started_at ? formatDuration(job.started_at, job.finished_at) : "—";
    const shownLast = log.count ? log.firstNumber + log.count - 1 : 0;
    linesValue.textContent = number.format(Math.max(job.line_count ?? 0, shownLast));
  }
  let tickPending = false;
  const ticker = setInterval(() => {
    if (job && ACTIVE.has(job.status)) tick();
  }, 1000);

  function showDetail(detail) {
    job = detail;
    tick();
    const active = ACTIVE.has(detail.status);
    replace(badgeSlot, statusBadge(detail.status));
    replace(subtitle,
      h("span", { class: "action" }, actionLabel(detail.action)), " · ",
      detail.service ? detail.service : "whole lab");
    cancelButton.hidden = !active;
    replace(summary,
      summaryItem("Status", statusBadge(detail.status)),
      summaryItem("Created", timeShort(detail.created_at)),
      summaryItem("Started", timeShort(detail.started_at)),
      summaryItem("Finished", detail.finished_at ? timeShort(detail.finished_at) : active ? "running…" : "—"),
      summaryItem("Duration", durationValue),
      summaryItem("Lines", linesValue),
      detail.deployment_id ? summaryItem("Deployment", h("span", { class: "mono" }, detail.deployment_id)) : null);
    replace(errorSlot, detail.error
      ? h("div", { class: "notice notice-error inline", role: "note" }, h("strong", {}, "Error: "), String(detail.error))
      : null);
    // Re-render only what changed, so focus and scroll positions survive polling.
    const stepsKey = JSON.stringify(detail.steps || []);
    if (stepsKey !== rendered.steps) {
      rendered.steps = stepsKey;
      replace(stepsSlot, stepsList(detail.steps || []));
    }
    const hostsKey = JSON.stringify([detail.hosts || [], detail.recap || [], (detail.steps || []).map((s) => s.name)]);
    if (hostsKey !== rendered.hosts) {
      rendered.hosts = hostsKey;
      replace(hostsSlot, hostsPanel(detail.hosts || [], detail.recap || [], detail.steps || [], hostsState));
    }
  }

  async function refreshDetail() {
    clearTimeout(detailTimer);
    try {
      const detail = await api.job(id, 0);
      if (!alive) return;
      showDetail(detail);
      if (ACTIVE.has(detail.status)) detailTimer = setTimeout(refreshDetail, DETAIL_REFRESH_MS);
    } catch (err) {
      if (alive && err.status !== 401) detailTimer = setTimeout(refreshDetail, DETAIL_REFRESH_MS * 2);
    }
  }

  function followStream(after) {
    connection.hidden = false;
    closeStream = api.followJob(id, {
      after,
      onLine: (line) => {
        log.append(line);
        if (!tickPending) {
          tickPending = true;
          requestAnimationFrame(() => {
            tickPending = false;
            if (alive) tick();
          });
        }
      },
      onStatus: (status) => {
        if (job && job.status !== status) {
          job.status = status;
          replace(badgeSlot, statusBadge(status));
          cancelButton.hidden = !ACTIVE.has(status);
        }
        refreshDetail();
      },
      onDone: (status) => {
        closeStream = null;
        connection.hidden = true;
        if (job) {
          job.status = status || job.status;
          replace(badgeSlot, statusBadge(job.status));
        }
        cancelButton.hidden = true;
        refreshDetail();
      },
      onConnection: (state) => {
        connection.className = `connection connection-${state}`;
        connection.textContent = state === "open" ? "Live" : state === "reconnecting" ? "Reconnecting…" : "";
        connection.hidden = state === "closed";
      },
    });
  }

  async function start() {
    let detail;
    try {
      detail = await api.job(id, TAIL);
    } catch (err) {
      if (!alive || err.status === 401) return;
      replace(stepsSlot);
      notices.error(err, err.status === 404 ? `There is no job #${id}` : "The job could not be loaded");
      downloadButton.disabled = true;
      return;
    }
    if (!alive) return;
    showDetail(detail);
    const output = detail.output || [];
    const total = Math.max(detail.line_count ?? output.length, output.length);
    const firstSeq = Number.isInteger(detail.output_first_seq) && detail.output_first_seq > 0
      ? detail.output_first_seq
      : total - output.length + 1;
    if (ACTIVE.has(detail.status)) {
      // Show the tail at once, then follow the stream from the line after it.
      log.setLines(output, firstSeq);
      showWindow(output.length, total);
      followStream(output.length ? firstSeq + output.length - 1 : null);
      detailTimer = setTimeout(refreshDetail, DETAIL_REFRESH_MS);
    } else {
      log.setLines(output, firstSeq);
      showWindow(output.length, total);
    }
  }

  start();
  return () => {
    alive = false;
    abort.abort();
    abort = null;
    clearTimeout(detailTimer);
    clearTimeout(searchTimer);
    clearInterval(ticker);
    if (closeStream) closeStream();
    log.destroy();
  };
}
