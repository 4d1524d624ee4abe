// Instances: the cached inventory of the cloud account, Refresh (a job whose
// progress is followed here; the table reloads when it ends), and destroying
// a single instance.

import * as api from "../api.js";
import { h, append, replace } from "../dom.js";
import { stripAnsi } from "../ansi.js";
import {
  pageHeader, noticeArea, confirmIn, jobLink, tag, emptyState, spinner, timeAgo, formatTime,
  statusBadge,
} from "../ui.js";

function powerBadge(state) {
  const value = String(state ?? "unknown");
  const kind = value === "running" ? "on" : value === "stopped" ? "off" : "other";
  return h("span", { class: ["power", `power-${kind}`] }, h("span", { class: "power-dot", "aria-hidden": "true" }), value);
}

export default function instancesView(root) {
  const notices = noticeArea();
  const refreshButton = h("button", { type: "button", class: "btn btn-primary", id: "refresh-instances" }, "Refresh");
  const cacheInfo = h("span", { class: "cache-info" }, "Loading…");
  const progress = h("div", { class: "progress-slot", "aria-live": "polite" });
  const confirmSlot = h("div", { class: "confirm-slot" });
  const tableSlot = h("div", {}, spinner("Loading instances…"));
  let alive = true;
  let stopFollowing = null;

  append(root,
    pageHeader("Instances", {
      subtitle: h("span", {}, "Virtual machines of the cloud account, from the cached inventory. ", cacheInfo),
      actions: [refreshButton],
    }),
    notices.el,
    progress,
    confirmSlot,
    tableSlot);

  function follow(jobId, what) {
    if (stopFollowing) stopFollowing();
    refreshButton.disabled = true;
    const lastLine = h("span", { class: "progress-line mono" }, "Waiting for output…");
    const badge = h("span", {}, statusBadge("running"));
    replace(progress, h("div", { class: "progress" },
      h("div", { class: "progress-head" },
        h("span", { class: "spin", "aria-hidden": "true" }),
        h("strong", {}, what), " ", jobLink(jobId, `job #${jobId}`), " ", badge),
      lastLine,
      h("div", { class: "progress-bar" }, h("span", { class: "progress-bar-fill" }))));
    stopFollowing = api.followJob(jobId, {
      onLine: (line) => {
        const textLine = stripAnsi(line).trim();
        if (textLine) lastLine.textContent = textLine;
      },
      onStatus: (status) => replace(badge, statusBadge(status)),
      onDone: async (status) => {
        stopFollowing = null;
        refreshButton.disabled = false;
        if (!alive) return;
        if (status === "completed") {
          replace(progress);
          notices.show("success", `${what} finished: `, jobLink(jobId, `job #${jobId}`), ".");
        } else {
          replace(progress);
          notices.show("error", `${what} ended ${status}. See `, jobLink(jobId, `job #${jobId}`), " for the output.");
        }
        await load();
      },
    });
  }

  refreshButton.addEventListener("click", async () => {
    notices.clear();
    refreshButton.disabled = true;
    try {
      const answer = await api.refreshInstances();
      follow(answer.job_id, "Refreshing the inventory");
    } catch (err) {
      refreshButton.disabled = false;
      notices.error(err, "Refresh was not started");
    }
  });

  function askDestroy(host, button) {
    confirmIn(confirmSlot, {
      message: `Destroy ${host.label}?`,
      detail: `This deletes the virtual machine ${host.label} (${host.region}) and its DNS record.`,
      confirmLabel: "Yes, destroy",
      danger: true,
      returnFocus: button,
      onConfirm: async () => {
        try {
          const answer = await api.stopInstance(host.label, host.region);
          follow(answer.job_id, `Destroying ${host.label}`);
        } catch (err) {
          notices.error(err, "The instance was not destroyed");
        }
      },
    });
    confirmSlot.scrollIntoView({ block: "nearest" });
  }

  function table(hosts) {
    return h("div", { class: "table-wrap" },
      h("table", { class: "table instances-table" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Label"),
          h("th", { scope: "col" }, "Hostname"),
          h("th", { scope: "col" }, "IP"),
          h("th", { scope: "col" }, "Region"),
          h("th", { scope: "col" }, "Plan"),
          h("th", { scope: "col" }, "Tags"),
          h("th", { scope: "col" }, "Power"),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
        h("tbody", {}, hosts.map((host) => {
          const destroy = h("button", {
            type: "button", class: "btn btn-ghost btn-small btn-danger-text",
            "aria-label": `Destroy ${host.label}`,
          }, "Destroy");
          destroy.addEventListener("click", () => askDestroy(host, destroy));
          return h("tr", { dataset: { label: host.label ?? "" } },
            h("td", { "data-label": "Label" }, h("span", { class: "mono strong" }, host.label ?? "—")),
            h("td", { "data-label": "Hostname" }, host.hostname ?? "—"),
            h("td", { "data-label": "IP" }, h("span", { class: "mono" }, host.ip ?? "—")),
            h("td", { "data-label": "Region" }, host.region ?? "—"),
            h("td", { "data-label": "Plan" }, h("span", { class: "mono" }, host.plan ?? "—")),
            h("td", { "data-label": "Tags" }, h("span", { class: "tags" }, (host.tags || []).map((t) => tag(t)))),
            h("td", { "data-label": "Power" }, powerBadge(host.power_status)),
            h("td", { class: "cell-actions" }, destroy));
        }))));
  }

  async function load() {
    try {
      const answer = await api.instances();
      if (!alive) return;
      const hosts = answer.hosts || [];
      replace(cacheInfo, answer.cached_at
        ? h("span", {}, "Cached ", timeAgo(answer.cached_at), h("span", { class: "muted" }, ` (${formatTime(answer.cached_at)})`), ".")
        : "Not refreshed yet.");
      replace(tableSlot, hosts.length
        ? table(hosts)
        : emptyState(answer.cached_at ? "No instances in the account" : "No inventory yet",
          answer.cached_at
            ? "Deploy a service to create virtual machines."
            : "Press Refresh to read the instances of the cloud account."));
    } catch (err) {
      if (!alive) return;
      if (err.status !== 401) notices.error(err, "Could not load the instances");
    }
  }

  // A refresh started elsewhere (another tab, the API) is followed here too.
  async function findRunningRefresh() {
    try {
      const [running, queued] = await Promise.all([
        api.jobs({ status: "running", limit: 50 }),
        api.jobs({ status: "queued", limit: 50 }),
      ]);
      const job = [...running.jobs, ...queued.jobs].find((j) => j.action === "refresh");
      if (alive && job && !stopFollowing) follow(job.id, "Refreshing the inventory");
    } catch {
      /* the table still loads; progress is a bonus */
    }
  }

  load();
  findRunningRefresh();
  return () => {
    alive = false;
    if (stopFollowing) stopFollowing();
  };
}
