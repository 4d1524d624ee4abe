// Shared pieces of the visual system: badges, formatted times, notices,
// in-page confirmations. Everything is built with dom.js.

import { h, replace } from "./dom.js";

export const STATUSES = ["queued", "running", "completed", "failed", "cancelled", "interrupted"];
export const ACTIVE = new Set(["queued", "running"]);

export function statusBadge(status) {
  const known = STATUSES.includes(status) ? status : "unknown";
  return h("span", { class: ["badge", `badge-${known}`], dataset: { status: String(status) } },
    h("span", { class: "badge-dot", "aria-hidden": "true" }),
    String(status ?? "unknown"));
}

/** "stop_all" → "stop all" */
export function actionLabel(action) {
  return String(action ?? "job").replace(/[_-]+/g, " ");
}

export function tag(label, kind = "") {
  return h("span", { class: ["tag", kind && `tag-${kind}`] }, label);
}

export function jobLink(id, label) {
  return h("a", { href: `#/jobs/${Number(id)}`, class: "job-link" }, label ?? `#${Number(id)}`);
}

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const compact = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function parseTime(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatTime(value) {
  const date = parseTime(value);
  return date ? absolute.format(date) : "—";
}

/** A <time> element with a short date and time, the full one on hover. */
export function timeShort(value) {
  const date = parseTime(value);
  if (!date) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: date.toISOString(), title: absolute.format(date) }, compact.format(date));
}

export function formatAgo(value, now = Date.now()) {
  const date = parseTime(value);
  if (!date) return "never";
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return relative.format(seconds, "second");
  if (abs < 2700) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 64800) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86400), "day");
}

/** A <time> element showing a relative time, the exact time on hover. */
export function timeAgo(value) {
  const date = parseTime(value);
  if (!date) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: date.toISOString(), title: absolute.format(date) }, formatAgo(value));
}

export function formatDuration(start, end) {
  const a = parseTime(start);
  if (!a) return "—";
  const b = parseTime(end) || new Date();
  let s = Math.max(0, Math.round((b.getTime() - a.getTime()) / 1000));
  const hrs = Math.floor(s / 3600);
  s -= hrs * 3600;
  const min = Math.floor(s / 60);
  s -= min * 60;
  if (hrs) return `${hrs} h ${min} min`;
  if (min) return `${min} min ${s} s`;
  return `${s} s`;
}

export const number = new Intl.NumberFormat();

/** The page heading row: a title, an optional subtitle and actions. */
export function pageHeader(title, { subtitle, actions = [] } = {}) {
  return h("header", { class: "page-header" },
    h("div", { class: "page-title" },
      h("h1", { tabindex: "-1", id: "page-heading" }, title),
      subtitle ? h("p", { class: "page-subtitle" }, subtitle) : null),
    h("div", { class: "page-actions" }, actions));
}

/**
 * A notice area: show(kind, ...content) with kind info|success|error|warning.
 * Errors from api.js are shown in words, with a link to the job in the way.
 */
export function noticeArea() {
  const el = h("div", { class: "notice-area", role: "status", "aria-live": "polite" });
  return {
    el,
    show(kind, ...content) {
      replace(el, h("div", { class: ["notice", `notice-${kind}`], role: kind === "error" ? "alert" : null },
        h("div", { class: "notice-body" }, content),
        h("button", {
          type: "button", class: "btn-icon notice-close", "aria-label": "Dismiss",
          on: { click: () => el.replaceChildren() },
        }, "×")));
    },
    error(err, prefix) {
      const words = err && err.detail ? err.detail : String(err && err.message ? err.message : err);
      this.show("error",
        prefix ? h("strong", {}, `${prefix}: `) : null,
        words,
        err && err.jobId ? [" ", jobLink(err.jobId, `Open job #${err.jobId}`)] : null);
    },
    clear() {
      el.replaceChildren();
    },
  };
}

/**
 * An in-page confirmation shown in `slot`: a message, a confirming button and
 * Cancel. Focus moves to the confirming button; Escape or Cancel dismiss and
 * return focus to `returnFocus`. onConfirm may be async; the buttons are
 * disabled meanwhile.
 */
export function confirmIn(slot, { message, detail, confirmLabel, danger = false, onConfirm, returnFocus }) {
  const close = () => {
    slot.replaceChildren();
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
  };
  const confirmButton = h("button", {
    type: "button", class: ["btn", danger ? "btn-danger" : "btn-primary"],
    on: {
      click: async () => {
        confirmButton.disabled = true;
        cancelButton.disabled = true;
        confirmButton.classList.add("is-busy");
        try {
          await onConfirm();
        } finally {
          if (slot.isConnected) slot.replaceChildren();
        }
      },
    },
  }, confirmLabel);
  const cancelButton = h("button", { type: "button", class: "btn btn-ghost", on: { click: close } }, "Cancel");
  const panel = h("div", {
    class: ["confirm", danger && "confirm-danger"], role: "alertdialog",
    "aria-label": message,
    on: { keydown: (e) => { if (e.key === "Escape") { e.stopPropagation(); close(); } } },
  },
    h("div", { class: "confirm-text" }, h("strong", {}, message), detail ? h("p", {}, detail) : null),
    h("div", { class: "confirm-actions" }, confirmButton, cancelButton));
  replace(slot, panel);
  confirmButton.focus();
  return close;
}

export function emptyState(title, body) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), body ? h("p", {}, body) : null);
}

export function spinner(label = "Loading…") {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spin", "aria-hidden": "true" }), label);
}

/** Focus the page heading after navigation, for keyboard and screen-reader users. */
export function focusHeading(root) {
  const heading = root.querySelector("h1");
  if (heading) heading.focus({ preventScroll: true });
}

/**
 * Run `update` (which re-renders part of `container`) and give focus back to
 * the equivalent element afterwards (same id, or same link target), so that
 * periodic refreshes never steal the keyboard user's place.
 */
export function keepFocus(container, update) {
  const active = document.activeElement;
  const inside = active && active !== document.body && container.contains(active);
  const id = inside ? active.id : "";
  const href = inside ? active.getAttribute("href") : null;
  update();
  if (!inside || active.isConnected) return;
  const again = id
    ? container.querySelector(`#${CSS.escape(id)}`)
    : href ? container.querySelector(`[href="${CSS.escape(href)}"]`) : null;
  if (again) again.focus({ preventScroll: true });
}
