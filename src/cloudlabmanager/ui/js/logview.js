// A virtualised log: every line is kept as a string, but only the rows in
// view (plus a small margin) exist in the page, so 100 000 lines scroll as
// smoothly as 100. Rows have a fixed height and do not wrap; long lines
// scroll sideways. Follows the end while the user is at the bottom.

import { h, replace } from "./dom.js";
import { parseAnsi, stripAnsi } from "./ansi.js";

const OVERSCAN = 12;
const MAX_HIGHLIGHTS_PER_ROW = 50;

export function createLogView({ label = "Output" } = {}) {
  const sizer = h("div", { class: "log-sizer", "aria-hidden": "true" });
  const rows = h("div", { class: "log-rows" });
  const empty = h("div", { class: "log-empty" }, "No output yet.");
  const el = h("div", { class: "log", role: "log", tabindex: "0", "aria-label": label }, sizer, rows, empty);

  let lines = [];
  let plain = []; // lower-cased visible text, filled lazily for searching
  let firstNumber = 1;
  let rowHeight = 0;
  let stick = true;
  let frame = 0;
  let query = "";
  let matches = [];
  let current = -1;
  let onMatchesChange = () => {};
  let onStickChange = () => {};
  let lastRange = "";

  function measure() {
    if (!rowHeight) {
      const fromCss = parseFloat(getComputedStyle(el).getPropertyValue("--log-row"));
      rowHeight = Number.isFinite(fromCss) && fromCss > 0 ? fromCss : 20;
    }
    return rowHeight;
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function setStick(value) {
    if (stick !== value) {
      stick = value;
      onStickChange(stick);
    }
  }

  function flush() {
    frame = 0;
    const rh = measure();
    const digits = String(firstNumber + Math.max(lines.length - 1, 0)).length;
    el.style.setProperty("--num-width", `${Math.max(digits, 3) + 1}ch`);
    sizer.style.height = `${lines.length * rh}px`;
    empty.hidden = lines.length > 0;
    if (stick) el.scrollTop = el.scrollHeight;
    render(false);
  }

  function render(force) {
    const rh = measure();
    const height = el.clientHeight || 400;
    const first = Math.max(0, Math.floor(el.scrollTop / rh) - OVERSCAN);
    const last = Math.min(lines.length, Math.ceil((el.scrollTop + height) / rh) + OVERSCAN);
    const key = `${first}:${last}:${lines.length}:${query}:${current}`;
    if (!force && key === lastRange) return;
    lastRange = key;
    rows.style.transform = `translateY(${first * rh}px)`;
    const currentLine = current >= 0 ? matches[current] : -1;
    const out = [];
    for (let i = first; i < last; i++) out.push(row(i, i === currentLine));
    replace(rows, out);
  }

  function row(index, isCurrent) {
    const segments = parseAnsi(lines[index]);
    const content = query ? highlight(segments) : segments.map(segment);
    return h("div", { class: ["log-row", isCurrent && "is-current"], dataset: { line: firstNumber + index } },
      h("span", { class: "log-num", "aria-hidden": "true" }, firstNumber + index),
      h("span", { class: "log-text" }, content.length ? content : "\u200b"));
  }

  function segment(seg) {
    return seg.classes.length ? h("span", { class: seg.classes }, seg.text) : seg.text;
  }

  // Wrap every occurrence of the query in <mark>, across styled segments.
  function highlight(segments) {
    const visible = segments.map((s) => s.text).join("");
    const lower = visible.toLowerCase();
    const ranges = [];
    let from = 0;
    while (ranges.length < MAX_HIGHLIGHTS_PER_ROW) {
      const at = lower.indexOf(query, from);
      if (at < 0) break;
      ranges.push([at, at + query.length]);
      from = at + query.length;
    }
    if (!ranges.length) return segments.map(segment);
    const out = [];
    let pos = 0;
    for (const seg of segments) {
      const start = pos;
      const end = pos + seg.text.length;
      let cut = start;
      for (const [a, b] of ranges) {
        if (b <= cut || a >= end) continue;
        if (a > cut) out.push(segment({ text: visible.slice(cut, a), classes: seg.classes }));
        const stop = Math.min(b, end);
        out.push(h("mark", { class: seg.classes }, visible.slice(Math.max(a, cut), stop)));
        cut = stop;
      }
      if (cut < end) out.push(segment({ text: visible.slice(cut, end), classes: seg.classes }));
      pos = end;
    }
    return out;
  }

  function plainAt(i) {
    let value = plain[i];
    if (value === undefined) {
      value = stripAnsi(lines[i]).toLowerCase();
      plain[i] = value;
    }
    return value;
  }

  function findMatches(fromIndex) {
    if (!query) return;
    for (let i = fromIndex; i < lines.length; i++) if (plainAt(i).includes(query)) matches.push(i);
  }

  el.addEventListener("scroll", () => {
    const rh = measure();
    setStick(el.scrollTop + el.clientHeight >= el.scrollHeight - rh * 1.5);
    if (!frame) frame = requestAnimationFrame(() => {
      frame = 0;
      render(false);
    });
  }, { passive: true });

  const resize = new ResizeObserver(() => render(true));
  resize.observe(el);

  function scrollToIndex(index) {
    const rh = measure();
    const target = index * rh - (el.clientHeight - rh) / 2;
    el.scrollTop = Math.max(0, target);
    setStick(el.scrollTop + el.clientHeight >= el.scrollHeight - rh * 1.5);
    render(true);
  }

  return {
    el,
    get count() {
      return lines.length;
    },
    get firstNumber() {
      return firstNumber;
    },
    lines: () => lines,
    /** Replace everything; numbering starts at `first`. */
    setLines(newLines, first = 1) {
      lines = Array.from(newLines, String);
      plain = [];
      firstNumber = first;
      matches = [];
      current = -1;
      findMatches(0);
      onMatchesChange(matches.length, current);
      lastRange = "";
      schedule();
    },
    append(line) {
      lines.push(String(line));
      if (query) {
        const before = matches.length;
        findMatches(lines.length - 1);
        if (matches.length !== before) onMatchesChange(matches.length, current);
      }
      schedule();
    },
    /** Search (case-insensitive) the loaded lines; returns the match count. */
    search(text) {
      query = String(text || "").toLowerCase();
      matches = [];
      current = -1;
      findMatches(0);
      lastRange = "";
      if (matches.length) this.step(1);
      else render(true);
      onMatchesChange(matches.length, current);
      return matches.length;
    },
    /** Move to the next (1) or previous (-1) match. */
    step(direction) {
      if (!matches.length) return;
      current = current < 0
        ? direction > 0 ? 0 : matches.length - 1
        : (current + direction + matches.length) % matches.length;
      scrollToIndex(matches[current]);
      onMatchesChange(matches.length, current);
    },
    follow() {
      setStick(true);
      el.scrollTop = el.scrollHeight;
      render(true);
    },
    get isFollowing() {
      return stick;
    },
    onMatches(handler) {
      onMatchesChange = handler;
    },
    onFollowChange(handler) {
      onStickChange = handler;
    },
    destroy() {
      cancelAnimationFrame(frame);
      resize.disconnect();
    },
  };
}
