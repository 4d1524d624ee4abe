// Jobs: the history, newest first, with filters and paging kept in the URL
// (#/jobs?status=failed&service=web&before=42) so every page can be bookmarked.

import * as api from "../api.js";
import { h, append, replace } from "../dom.js";
import { pageHeader, noticeArea, emptyState, spinner, STATUSES, keepFocus } from "../ui.js";
import { jobsTable } from "../jobs_table.js";

const PAGE_SIZE = 25;
const REFRESH_MS = 5000;

export default function jobsView(root, { query, navigate }) {
  const status = query.get("status") || "";
  const service = query.get("service") || "";
  const before = query.get("before") || "";
  const requested = Number.parseInt(query.get("limit") || "", 10);
  const limit = Number.isFinite(requested) ? Math.min(Math.max(requested, 1), 200) : PAGE_SIZE;
  const pageLimit = limit === PAGE_SIZE ? "" : limit;
  const notices = noticeArea();
  let alive = true;
  let timer = null;

  const go = (changes) => {
    const next = { status, service, before, limit: pageLimit, ...changes };
    navigate("/jobs", next);
  };

  const statusSelect = h("select", { id: "filter-status", class: "input select" },
    h("option", { value: "" }, "All statuses"),
    STATUSES.map((s) => h("option", { value: s, selected: s === status }, s[0].toUpperCase() + s.slice(1))));
  const serviceSelect = h("select", { id: "filter-service", class: "input select" },
    h("option", { value: "" }, "All services"),
    service ? h("option", { value: service, selected: true }, service) : null);
  statusSelect.addEventListener("change", () => go({ status: statusSelect.value, before: "" }));
  serviceSelect.addEventListener("change", () => go({ service: serviceSelect.value, before: "" }));

  const filters = h("form", { class: "filters", role: "search", "aria-label": "Filter jobs" },
    h("div", { class: "field field-inline" }, h("label", { for: "filter-status" }, "Status"), statusSelect),
    h("div", { class: "field field-inline" }, h("label", { for: "filter-service" }, "Service"), serviceSelect),
    status || service
      ? h("a", { class: "btn btn-ghost btn-small", href: "#/jobs" }, "Clear filters")
      : null);
  filters.addEventListener("submit", (e) => e.preventDefault());

  const list = h("div", {}, spinner("Loading jobs…"));
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });

  append(root,
    pageHeader("Jobs", { subtitle: "Every deploy, stop and refresh, newest first." }),
    notices.el,
    h("section", { class: "panel" }, filters, list, pager));

  api.services().then((answer) => {
    if (!alive) return;
    const names = (answer.services || []).map((s) => s.name).filter((n) => n !== service);
    append(serviceSelect, names.map((n) => h("option", { value: n }, n)));
  }, () => {});

  async function load() {
    clearTimeout(timer);
    try {
      const answer = await api.jobs({ limit, before, status, service });
      if (!alive) return;
      const jobs = answer.jobs || [];
      keepFocus(list, () => replace(list, jobs.length
        ? jobsTable(jobs)
        : emptyState(status || service ? "No jobs match these filters" : "No jobs yet",
          status || service ? "Try another status or service." : "Deploy a service to start the first job.")));
      replace(pager,
        before ? h("a", { class: "btn btn-secondary btn-small", href: `#/jobs?${new URLSearchParams(
          Object.entries({ status, service, limit: pageLimit }).filter(([, v]) => v)).toString()}` }, "← Newest") : h("span"),
        answer.next_before
          ? h("button", {
            type: "button", class: "btn btn-secondary btn-small", id: "older-jobs",
            on: { click: () => go({ before: answer.next_before }) },
          }, "Older →")
          : h("span"));
    } catch (err) {
      if (!alive) return;
      if (err.status !== 401) notices.error(err, "Could not load the jobs");
    }
    // Only the first page changes as jobs run; older pages stay as they are.
    if (alive && !before) timer = setTimeout(load, REFRESH_MS);
  }

  load();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
