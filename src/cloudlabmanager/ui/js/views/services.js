// Services: a card per service with its VMs; Deploy and Stop with confirmation.

import * as api from "../api.js";
import { h, append, replace } from "../dom.js";
import { pageHeader, noticeArea, confirmIn, jobLink, tag, emptyState, spinner } from "../ui.js";

const REFRESH_MS = 4000;

// Tags: the service's own tag is how stop-instances finds a VM, so it is
// expected (and not repeated on every row); a VM without it is flagged.
function vmTags(service, vm) {
  const tags = vm.tags || [];
  const others = tags.filter((t) => t !== service.name);
  return h("span", { class: "tags vm-tags" },
    tags.includes(service.name)
      ? null
      : h("span", { class: "tag tag-warning", title: `Stop finds VMs by the tag ${service.name}` },
        `no ${service.name} tag`),
    others.map((t) => tag(t)));
}

function vmTable(service) {
  const instances = service.instances || [];
  if (instances.length === 0) {
    return h("p", { class: "muted small" }, service.flow === "script"
      ? "Runs its own deploy.sh; no virtual machines are declared."
      : "No virtual machines declared in instance.yaml.");
  }
  return h("div", { class: "table-wrap" },
    h("table", { class: "table table-compact vm-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Label"),
        h("th", { scope: "col" }, "Hostname"),
        h("th", { scope: "col" }, "Region"),
        h("th", { scope: "col" }, "Plan"),
        h("th", { scope: "col" }, "OS"))),
      h("tbody", {}, instances.map((vm) => h("tr", {},
        h("td", { "data-label": "Label" },
          h("span", { class: "vm-label" }, h("span", { class: "mono strong" }, vm.label ?? "—"), vmTags(service, vm))),
        h("td", { "data-label": "Hostname" }, vm.hostname ?? "—"),
        h("td", { "data-label": "Region" }, vm.region ?? "—"),
        h("td", { "data-label": "Plan" }, h("span", { class: "mono" }, vm.plan ?? "—")),
        h("td", { "data-label": "OS" }, vm.os ?? "—"))))));
}

export default function servicesView(root, { navigate }) {
  const notices = noticeArea();
  const grid = h("div", { class: "cards" }, spinner("Loading services…"));
  const count = h("span", {});
  let timer = null;
  let alive = true;
  // Keep confirmations and per-card notices across refreshes of the list.
  const cards = new Map();

  append(root,
    pageHeader("Services", { subtitle: h("span", {}, "Services of the CloudLab repository. ", count) }),
    notices.el,
    grid);

  function card(service) {
    let entry = cards.get(service.name);
    if (!entry) {
      const confirmSlot = h("div", { class: "confirm-slot" });
      const cardNotices = noticeArea();
      const deploy = h("button", { type: "button", class: "btn btn-primary", dataset: { action: "deploy" } }, "Deploy");
      const stop = h("button", { type: "button", class: "btn btn-secondary", dataset: { action: "stop" } }, "Stop");
      const status = h("div", { class: "card-status" });
      const body = h("div", { class: "card-body" });
      const title = h("h2", { class: "card-title" });
      const meta = h("div", { class: "card-meta" });
      const el = h("article", { class: "card service-card", dataset: { service: service.name } },
        h("header", { class: "card-header" }, h("div", {}, title, meta), status),
        body,
        confirmSlot,
        cardNotices.el,
        h("footer", { class: "card-actions" }, deploy, stop));
      entry = { el, deploy, stop, status, body, title, meta, confirmSlot, cardNotices, busy: false };
      deploy.addEventListener("click", () => askDeploy(entry));
      stop.addEventListener("click", () => askStop(entry));
      cards.set(service.name, entry);
    }
    entry.service = service;
    const vmCount = (service.instances || []).length;
    replace(entry.title, service.name);
    replace(entry.meta,
      tag(service.flow === "script" ? "script" : "playbook", service.flow === "script" ? "script" : "standard"),
      h("span", { class: "muted small" }, vmCount === 1 ? "1 VM" : `${vmCount} VMs`));
    replace(entry.status, service.active_job
      ? h("span", { class: "active-job" }, h("span", { class: "pulse", "aria-hidden": "true" }),
        "Busy: ", jobLink(service.active_job, `job #${service.active_job}`))
      : null);
    replace(entry.body,
      service.error
        ? h("div", { class: "notice notice-error inline", role: "note" },
          h("strong", {}, "instance.yaml cannot be used: "), String(service.error))
        : null,
      vmTable(service));
    const blocked = entry.busy || Boolean(service.active_job);
    entry.deploy.disabled = blocked || Boolean(service.error);
    entry.stop.disabled = blocked;
    return entry.el;
  }

  function askDeploy(entry) {
    const { name } = entry.service;
    const n = (entry.service.instances || []).length;
    confirmIn(entry.confirmSlot, {
      message: `Deploy ${name}?`,
      detail: n
        ? `This creates ${n === 1 ? "1 virtual machine" : `${n} virtual machines`} and runs the service's playbook.`
        : "This runs the service's deploy script.",
      confirmLabel: "Yes, deploy",
      returnFocus: entry.deploy,
      onConfirm: async () => {
        entry.cardNotices.clear();
        try {
          const answer = await api.deploy(name);
          navigate(`/jobs/${Number(answer.job_id)}`);
        } catch (err) {
          entry.cardNotices.error(err, "Deploy was not started");
        }
      },
    });
  }

  function askStop(entry) {
    const { name } = entry.service;
    confirmIn(entry.confirmSlot, {
      message: `Stop ${name}?`,
      detail: "This destroys the service's virtual machines and their DNS records.",
      confirmLabel: "Yes, stop",
      danger: true,
      returnFocus: entry.stop,
      onConfirm: async () => {
        entry.cardNotices.clear();
        try {
          const answer = await api.stopService(name);
          entry.cardNotices.show("success", "Stopping ", name, " in ", jobLink(answer.job_id, `job #${answer.job_id}`), ".");
          load();
        } catch (err) {
          entry.cardNotices.error(err, "Stop was not started");
        }
      },
    });
  }

  async function load() {
    clearTimeout(timer);
    try {
      const answer = await api.services();
      if (!alive) return;
      const services = answer.services || [];
      replace(count, services.length === 1 ? "1 service." : `${services.length} services.`);
      if (services.length === 0) {
        replace(grid, emptyState("No services found",
          "A service is a directory under services/ with instance.yaml and main.yaml, or deploy.sh."));
      } else {
        const names = new Set(services.map((s) => s.name));
        for (const name of [...cards.keys()]) if (!names.has(name)) cards.delete(name);
        // Re-append in order; unchanged nodes keep focus and open confirmations.
        const els = services.map(card);
        if (grid.firstElementChild && !grid.firstElementChild.classList.contains("card")) grid.replaceChildren();
        els.forEach((el, i) => {
          if (grid.children[i] !== el) grid.insertBefore(el, grid.children[i] || null);
        });
        while (grid.children.length > els.length) grid.lastElementChild.remove();
      }
    } catch (err) {
      if (!alive) return;
      if (err.status !== 401) notices.error(err, "Could not load the services");
    }
    if (alive) timer = setTimeout(load, REFRESH_MS);
  }

  load();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
