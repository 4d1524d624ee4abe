// The structured results of a job: its steps with their state, and the
// Ansible results per host (the recap and every task result).

import { h } from "../dom.js";
import { formatDuration, emptyState, tag } from "../ui.js";

const HOST_ROWS = 500;
const PROBLEMS = new Set(["failed", "unreachable"]);

const STEP_ICON = {
  completed: "✓", failed: "✕", running: "●", queued: "○", pending: "○", cancelled: "–",
  interrupted: "!", skipped: "–",
};

export function stepsList(steps) {
  if (!steps.length) return emptyState("No steps yet", "Steps appear when the job starts.");
  return h("ol", { class: "steps" }, steps.map((step) => {
    const status = String(step.status ?? "queued");
    return h("li", { class: ["step", `step-${status}`], dataset: { status } },
      h("span", { class: "step-icon", "aria-hidden": "true" }, STEP_ICON[status] ?? "○"),
      h("div", { class: "step-body" },
        h("div", { class: "step-title" },
          h("span", { class: "step-name" }, step.name ?? `Step ${step.index}`),
          h("span", { class: "visually-hidden" }, `: ${status}`),
          h("span", { class: "step-meta" },
            step.started_at ? formatDuration(step.started_at, step.finished_at) : null,
            step.exit_code !== null && step.exit_code !== undefined ? ` · exit ${step.exit_code}` : null)),
        step.command
          ? h("details", { class: "step-details" },
            h("summary", {}, "Command"),
            h("code", { class: "step-command" }, String(step.command)))
          : null));
  }));
}

function hostStatus(status) {
  const value = String(status ?? "");
  return h("span", { class: ["host-status", `host-${value.replace(/[^a-z]/g, "") || "unknown"}`] }, value || "—");
}

function recapTable(recap, stepNames) {
  const cols = ["ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored"];
  return h("div", { class: "table-wrap keep" },
    h("table", { class: "table table-compact table-keep recap-table" },
      h("caption", { class: "visually-hidden" }, "Play recap per host"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Host"),
        recap.some((r) => r.step !== undefined) ? h("th", { scope: "col" }, "Step") : null,
        cols.map((c) => h("th", { scope: "col", class: "num" }, c)))),
      h("tbody", {}, recap.map((r) => h("tr", { class: (r.failed || r.unreachable) ? "row-problem" : null },
        h("th", { scope: "row", "data-label": "Host" }, h("span", { class: "mono" }, r.host ?? "—")),
        r.step !== undefined ? h("td", { "data-label": "Step" }, stepNames.get(r.step) ?? r.step ?? "—") : null,
        cols.map((c) => h("td", { class: ["num", r[c] > 0 && `count-${c}`], "data-label": c }, r[c] ?? 0)))))));
}

export function hostsPanel(hosts, recap, steps = [], state = { onlyProblems: false }) {
  const stepNames = new Map(steps.map((s) => [s.index, s.name]));
  if (!hosts.length && !recap.length) {
    return emptyState("No per-host results", "Ansible steps report each task's result per host here.");
  }
  const onlyProblems = h("input", { type: "checkbox", id: "only-problems", checked: state.onlyProblems });
  const problems = hosts.filter((r) => PROBLEMS.has(r.status)).length;
  const body = h("tbody", {});
  const note = h("p", { class: "muted small" });
  const fill = () => {
    const rows = onlyProblems.checked ? hosts.filter((r) => PROBLEMS.has(r.status)) : hosts;
    const shown = rows.slice(-HOST_ROWS);
    body.replaceChildren(...shown.map((r) => h("tr", { class: PROBLEMS.has(r.status) ? "row-problem" : null },
      h("td", { "data-label": "Host" }, h("span", { class: "mono" }, r.host ?? "—")),
      h("td", { "data-label": "Play" }, r.play ?? "—"),
      h("td", { "data-label": "Task" }, r.task ?? "—"),
      h("td", { "data-label": "Status" }, hostStatus(r.status)),
      h("td", { "data-label": "Message", class: "cell-message" }, r.message ? String(r.message) : ""))));
    note.textContent = rows.length > shown.length
      ? `Showing the last ${shown.length} of ${rows.length} results.`
      : "";
  };
  onlyProblems.addEventListener("change", () => {
    state.onlyProblems = onlyProblems.checked;
    fill();
  });
  fill();
  return h("div", { class: "hosts" },
    recap.length ? [h("h3", {}, "Recap"), recapTable(recap, stepNames)] : null,
    hosts.length ? taskResults(hosts, problems, onlyProblems, body, note, state) : null);
}

// Every task result: folded away unless something failed (or the user opened it).
function taskResults(hosts, problems, onlyProblems, body, note, state) {
  const details = h("details", { class: "task-results", open: state.open ?? problems > 0 },
    h("summary", {},
      h("h3", {}, "Task results ", tag(String(hosts.length)),
        problems ? [" ", tag(`${problems} failed`, "danger")] : null)),
    h("div", { class: "task-results-tools" },
      h("label", { class: "check", for: "only-problems" }, onlyProblems, "Only failed or unreachable")),
    h("div", { class: "table-wrap keep" },
      h("table", { class: "table table-compact table-keep hosts-table" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Host"),
          h("th", { scope: "col" }, "Play"),
          h("th", { scope: "col" }, "Task"),
          h("th", { scope: "col" }, "Status"),
          h("th", { scope: "col" }, "Message"))),
        body)),
    note);
  details.addEventListener("toggle", () => {
    state.open = details.open;
  });
  return details;
}
