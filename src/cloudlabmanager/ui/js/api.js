// The only module that talks to the server. Every call goes through request();
// the session lives in an HttpOnly cookie, so the UI never sees a token.

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.jobId = body && Number.isInteger(body.job_id) ? body.job_id : null;
  }
}

let unauthorizedHandler = () => {};

/** Called with no arguments whenever an authenticated call answers 401. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

function describe(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string" && detail) return detail;
  if (Array.isArray(detail) && detail.length) {
    // FastAPI validation errors: [{loc, msg, type}]
    return detail
      .map((d) => {
        const field = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "body").join(".") : "";
        return field ? `${field}: ${d.msg}` : String(d.msg ?? d);
      })
      .join("; ");
  }
  if (status === 0) return "The server could not be reached. Check your connection and try again.";
  if (status === 429) return "Too many attempts. Wait a moment and try again.";
  if (status >= 500) return `The server failed (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

async function request(method, path, { body, query, signal, quiet401 = false } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    signal,
  };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, describe(0, null), null);
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("application/json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, describe(response.status, data), data);
    if (response.status === 401 && !quiet401) unauthorizedHandler();
    throw error;
  }
  return data;
}

export const get = (path, query, options) => request("GET", path, { ...options, query });
export const post = (path, body, options) => request("POST", path, { ...options, body });

// --- auth -------------------------------------------------------------------
export const authStatus = () => get("/api/auth/status");
export const setup = (username, password, vaultPassword) =>
  post("/api/auth/setup", { username, password, vault_password: vaultPassword }, { quiet401: true });
export const login = (username, password) =>
  post("/api/auth/login", { username, password }, { quiet401: true });
export const logout = () => post("/api/auth/logout", {}, { quiet401: true });
export const me = (options) => get("/api/auth/me", undefined, options);

// --- services and instances ---------------------------------------------------
export const services = () => get("/api/services");
const svc = (name) => `/api/services/${encodeURIComponent(name)}`;
export const deploy = (name) => post(`${svc(name)}/deploy`);
export const stopService = (name) => post(`${svc(name)}/stop`);
export const stopAll = () => post("/api/services/actions/stop-all");
export const instances = () => get("/api/instances");
export const refreshInstances = () => post("/api/instances/refresh");
export const stopInstance = (label, region) => post("/api/instances/stop", { label, region });

// --- jobs -------------------------------------------------------------------
export const jobs = (query) => get("/api/jobs", query);
export const job = (id, tail) => get(`/api/jobs/${Number(id)}`, tail === undefined ? {} : { tail });
export const cancelJob = (id) => post(`/api/jobs/${Number(id)}/cancel`);
export const jobOutputPage = (id, after, limit, signal) =>
  get(`/api/jobs/${Number(id)}/output`, { after, limit }, { signal });

const OUTPUT_PAGE = 5000;

/** Every output line of a job as {seq, text}, page by page; onProgress(count) after each page. */
export async function jobOutputAll(id, { signal, onProgress } = {}) {
  const lines = [];
  let after;
  for (;;) {
    const page = await jobOutputPage(id, after, OUTPUT_PAGE, signal);
    for (const line of page.lines) lines.push(line);
    if (onProgress) onProgress(lines.length);
    if (page.next === null || page.next === undefined || page.lines.length === 0) return lines;
    after = page.next;
  }
}

/**
 * Follow a job's output stream. Lines are delivered once each, in order:
 * after a reconnect (the browser's own, with Last-Event-ID, or ours, which
 * asks for what follows the last line seen) anything at or below the last
 * delivered sequence number is dropped. `after`: the last seq already shown.
 * Returns a close() function.
 */
export function followJob(id, { after = null, onLine, onStatus, onDone, onConnection }) {
  let lastSeq = Number.isInteger(after) ? after : -Infinity;
  let closed = false;
  let source = null;
  let retryTimer = null;
  let retryDelay = 1000;
  const notify = (state) => onConnection && onConnection(state);

  function open() {
    // ?after= lets the server skip what is already on screen; lines at or
    // below lastSeq are dropped here anyway, so a server that ignores it is fine.
    const query = Number.isFinite(lastSeq) && lastSeq > 0 ? `?after=${lastSeq}` : "";
    source = new EventSource(`/api/jobs/${Number(id)}/stream${query}`);
    source.onmessage = (event) => {
      const seq = Number(event.lastEventId);
      const hasSeq = event.lastEventId !== "" && Number.isFinite(seq);
      if (hasSeq) {
        if (seq <= lastSeq) return;
        lastSeq = seq;
      }
      onLine(event.data, hasSeq ? seq : null);
    };
    source.addEventListener("status", (event) => {
      try {
        const data = JSON.parse(event.data);
        if (onStatus && data && data.status) onStatus(data.status);
      } catch {
        /* a malformed status event is ignored; done still arrives */
      }
    });
    source.addEventListener("done", (event) => {
      closed = true;
      source.close();
      notify("closed");
      if (onDone) onDone(String(event.data || "").trim());
    });
    source.onopen = () => {
      retryDelay = 1000;
      notify("open");
    };
    source.onerror = () => {
      if (closed) return;
      if (source.readyState !== EventSource.CLOSED) {
        notify("reconnecting");
        return;
      }
      // The browser gave up (an HTTP error such as 401 or 502). If the session
      // ended, me() sends the user to Login; otherwise try again with backoff.
      notify("reconnecting");
      const retry = () => {
        if (closed) return;
        retryTimer = setTimeout(open, retryDelay);
        retryDelay = Math.min(retryDelay * 2, 15000);
      };
      me().then(retry, (err) => {
        if (err && err.status !== 401) retry();
      });
    };
  }

  open();
  return () => {
    closed = true;
    clearTimeout(retryTimer);
    if (source) source.close();
  };
}
