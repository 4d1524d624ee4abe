// Dashboard: counts, recent jobs, and Stop all (with confirmation).

import * as api from "../api.js";
import { h, append, replace } from "../dom.js";
import { pageHeader, noticeArea, confirmIn, jobLink, number, emptyState, spinner, keepFocus } from "../ui.js";
import { jobsTable } from "../jobs_table.js";

const REFRESH_MS = 5000;
const COUNT_LIMIT = 100;

function statCard(label, value, { kind, href, hint }) {
  const body = [
    h("span", { class: "stat-value" }, value),
    h("span", { class: "stat-label" }, label),
    hint ? h("span", { class: "stat-hint" }, hint) : null,
  ];
  return href
    ? h("a", { class: ["stat", kind && `stat-${kind}`], href }, body)
    : h("div", { class: ["stat", kind && `stat-${kind}`] }, body);
}

export default function dashboardView(root) {
  const notices = noticeArea();
  const confirmSlot = h("div", { class: "confirm-slot" });
  const stopAllButton = h("button", { type: "button", class: "btn btn-danger-outline", id: "stop-all" }, "Stop all");
  const stats = h("section", { class: "stats", "aria-label": "Summary" }, spinner());
  const recent = h("div", {}, spinner());
  let timer = null;
  let alive = true;

  stopAllButton.addEventListener("click", () => {
    confirmIn(confirmSlot, {
      message: "Stop every instance of the lab?",
      detail: "This destroys all virtual machines of every service and removes their DNS records.",
      confirmLabel: "Yes, stop all",
      danger: true,
      returnFocus: stopAllButton,
      onConfirm: async () => {
        try {
          const answer = await api.stopAll();
          notices.show("success", "Stop all started as ", jobLink(answer.job_id, `job #${answer.job_id}`), ".");
          load();
        } catch (err) {
          notices.error(err, "Stop all was not started");
        }
      },
    });
  });

  append(root,
    pageHeader("Dashboard", { subtitle: "The state of your CloudLab at a glance.", actions: [stopAllButton] }),
    confirmSlot,
    notices.el,
    stats,
    h("section", { class: "panel", "aria-labelledby": "recent-heading" },
      h("div", { class: "panel-header" },
        h("h2", { id: "recent-heading" }, "Recent jobs"),
        h("a", { href: "#/jobs", class: "panel-link" }, "All jobs →")),
      recent));

  const countOf = (answer) => {
    const n = answer.jobs.length;
    return n >= COUNT_LIMIT && answer.next_before ? `${number.format(n)}+` : number.format(n);
  };

  async function load() {
    clearTimeout(timer);
    try {
      const [services, running, queued, completed, failed, latest] = await Promise.all([
        api.services(),
        api.jobs({ status: "running", limit: COUNT_LIMIT }),
        api.jobs({ status: "queued", limit: COUNT_LIMIT }),
        api.jobs({ status: "completed", limit: COUNT_LIMIT }),
        api.jobs({ status: "failed", limit: COUNT_LIMIT }),
        api.jobs({ limit: 8 }),
      ]);
      if (!alive) return;
      const vmCount = services.services.reduce((n, s) => n + (s.instances ? s.instances.length : 0), 0);
      keepFocus(stats, () => replace(stats,
        statCard("Services", number.format(services.services.length),
          { href: "#/services", hint: `${number.format(vmCount)} VMs defined` }),
        statCard("Running jobs", countOf(running), {
          kind: "running", href: "#/jobs?status=running",
          hint: queued.jobs.length ? `${countOf(queued)} queued` : "none queued",
        }),
        statCard("Completed jobs", countOf(completed), { kind: "completed", href: "#/jobs?status=completed" }),
        statCard("Failed jobs", countOf(failed), { kind: "failed", href: "#/jobs?status=failed" })));
      keepFocus(recent, () => replace(recent, latest.jobs.length
        ? jobsTable(latest.jobs)
        : emptyState("No jobs yet", "Deploy a service from the Services page to start one.")));
    } catch (err) {
      if (!alive) return;
      if (err.status !== 401) notices.error(err, "Could not load the dashboard");
    }
    if (alive) timer = setTimeout(load, REFRESH_MS);
  }

  load();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
