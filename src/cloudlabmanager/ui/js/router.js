// Hash routes that can be bookmarked: #/path?query. The router only parses
// and matches; main.js decides what to show (guards, session, views).

const ROUTES = [
  { name: "setup", pattern: /^\/setup$/, isPublic: true },
  { name: "login", pattern: /^\/login$/, isPublic: true },
  { name: "dashboard", pattern: /^\/dashboard$/ },
  { name: "services", pattern: /^\/services$/ },
  { name: "instances", pattern: /^\/instances$/ },
  { name: "jobs", pattern: /^\/jobs$/ },
  { name: "job", pattern: /^\/jobs\/(\d{1,15})$/, keys: ["id"] },
];

export const DEFAULT_PATH = "/dashboard";

/** The current location as {path, query, full}. */
export function current() {
  const raw = window.location.hash.replace(/^#/, "") || DEFAULT_PATH;
  const [pathPart, queryPart = ""] = raw.split("?", 2);
  const path = pathPart.startsWith("/") ? pathPart : `/${pathPart}`;
  return { path, query: new URLSearchParams(queryPart), full: raw.startsWith("/") ? raw : `/${raw}` };
}

/** The route for a path, or null: {name, isPublic, params}. */
export function match(path) {
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params = {};
    (route.keys || []).forEach((key, i) => {
      params[key] = m[i + 1];
    });
    return { name: route.name, isPublic: Boolean(route.isPublic), params };
  }
  return null;
}

/** Build "#/path?query" from a path and a plain object of query values. */
export function href(path, query = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ""}`;
}

/** Go to a route; replace=true does not add a history entry. */
export function navigate(path, query = {}, { replace = false } = {}) {
  const target = href(path, query);
  if (window.location.hash === target) {
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else if (replace) {
    window.history.replaceState(null, "", target);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = target;
  }
}

/** A path is safe to return to after login when it matches a private route. */
export function isReturnPath(full) {
  if (typeof full !== "string" || !full.startsWith("/")) return false;
  const route = match(full.split("?", 1)[0]);
  return Boolean(route && !route.isPublic);
}
