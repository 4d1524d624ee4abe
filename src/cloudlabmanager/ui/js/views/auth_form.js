// The centred card shared by Setup and Login: a labelled form with an error
// area and a submit button that shows progress.

import { h } from "../dom.js";
import { noticeArea } from "../ui.js";

let fieldCounter = 0;

/** A labelled input; returns {row, input}. */
export function field(label, { type = "text", name, autocomplete, hint, minlength, required = true }) {
  const id = `f-${name}-${++fieldCounter}`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h("input", {
    id, name, type, autocomplete, required, minlength,
    "aria-describedby": hintId, class: "input", spellcheck: "false", autocapitalize: "none",
  });
  const row = h("div", { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null);
  return { row, input };
}

/** The auth card; onSubmit(values) may throw an ApiError to show. */
export function authCard({ title, intro, fields, submitLabel, busyLabel, onSubmit }) {
  const notices = noticeArea();
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, submitLabel);
  const form = h("form", { class: "auth-form", novalidate: true }, fields.map((f) => f.row), notices.el, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    notices.clear();
    const missing = fields.find((f) => f.input.required && !f.input.value);
    if (missing) {
      notices.show("error", `Please fill in “${missing.row.querySelector("label").textContent}”.`);
      missing.input.focus();
      return;
    }
    const tooShort = fields.find((f) => f.input.minLength > 0 && f.input.value.length < f.input.minLength);
    if (tooShort) {
      notices.show("error",
        `“${tooShort.row.querySelector("label").textContent}” needs at least ${tooShort.input.minLength} characters.`);
      tooShort.input.focus();
      return;
    }
    submit.disabled = true;
    submit.classList.add("is-busy");
    submit.textContent = busyLabel;
    try {
      await onSubmit();
    } catch (err) {
      notices.error(err);
      submit.disabled = false;
      submit.classList.remove("is-busy");
      submit.textContent = submitLabel;
    }
  });
  const card = h("section", { class: "auth-card", "aria-labelledby": "page-heading" },
    h("div", { class: "auth-brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "CloudLab Manager"),
    h("h1", { id: "page-heading", tabindex: "-1" }, title),
    intro ? h("p", { class: "auth-intro" }, intro) : null,
    form);
  return h("div", { class: "auth-page" }, card);
}
