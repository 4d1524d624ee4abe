// The only module that creates elements. Data always becomes text nodes;
// nothing here parses HTML, so server data can never turn into markup.

const FORBIDDEN_ATTRIBUTE = /^(on|style$|srcdoc$|formaction$)/i;
const SAFE_URL = /^(#|\/(?!\/)|blob:|\?)/;

/**
 * h("button", {class: "btn", type: "button", on: {click: f}}, "Deploy")
 * Props: class (string or array), on (event handlers), dataset, any attribute.
 * Boolean true sets an empty attribute; false/null/undefined leaves it out.
 * Children: strings and numbers become text nodes, arrays are flattened,
 * null/undefined/false are skipped, Nodes are appended as they are.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") {
      const names = Array.isArray(value) ? value.filter(Boolean) : String(value).split(/\s+/);
      for (const c of names) if (c) el.classList.add(c);
    } else if (name === "on") {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (name === "dataset") {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (name === "value" && "value" in el) {
      el.value = String(value);
    } else if (name === "checked" || name === "selected") {
      el[name] = Boolean(value);
    } else {
      setAttribute(el, name, value);
    }
  }
  append(el, ...children);
  return el;
}

function setAttribute(el, name, value) {
  if (FORBIDDEN_ATTRIBUTE.test(name)) throw new Error(`dom: attribute ${name} is not allowed`);
  const text = value === true ? "" : String(value);
  if ((name === "href" || name === "src" || name === "action") && !SAFE_URL.test(text)) {
    throw new Error(`dom: refusing URL ${text}`);
  }
  el.setAttribute(name, text);
}

/** Append children (text, nodes, nested arrays) to a parent. */
export function append(parent, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace every child of a parent. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, ...children);
}

/** A text node, for callers that want one explicitly. */
export function text(value) {
  return document.createTextNode(String(value ?? ""));
}

/** A document fragment holding the given children. */
export function fragment(...children) {
  return append(document.createDocumentFragment(), ...children);
}

/** Set or clear a class (a thin wrapper so views read declaratively). */
export function toggleClass(el, name, on) {
  el.classList.toggle(name, Boolean(on));
}

/** Start a download of a Blob under the given file name. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, class: "visually-hidden" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
