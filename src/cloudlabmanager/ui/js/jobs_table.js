// The job list table shared by the Dashboard and the Jobs view. On narrow
// screens each row becomes a card (the data-label attributes name the cells).

import { h } from "./dom.js";
import { statusBadge, jobLink, timeAgo, formatDuration, actionLabel } from "./ui.js";

export function jobsTable(jobs) {
  return h("div", { class: "table-wrap" },
    h("table", { class: "table jobs-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Job"),
        h("th", { scope: "col" }, "Action"),
        h("th", { scope: "col" }, "Service"),
        h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, "Created"),
        h("th", { scope: "col" }, "Duration"))),
      h("tbody", {}, jobs.map((job) => h("tr", { dataset: { jobId: job.id } },
        h("td", { "data-label": "Job" }, jobLink(job.id)),
        h("td", { "data-label": "Action" }, h("span", { class: "action" }, actionLabel(job.action))),
        h("td", { "data-label": "Service" }, job.service ?? h("span", { class: "muted" }, "whole lab")),
        h("td", { "data-label": "Status" }, statusBadge(job.status)),
        h("td", { "data-label": "Created" }, timeAgo(job.created_at ?? job.started_at)),
        h("td", { "data-label": "Duration" },
          job.started_at ? formatDuration(job.started_at, job.finished_at) : h("span", { class: "muted" }, "—")))))));
}
