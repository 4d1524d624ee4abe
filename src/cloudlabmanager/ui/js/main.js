// Boot and navigation: the session, the route guards, the top bar, and the
// life cycle of views (each view returns a cleanup that is called on leave).

import * as api from "./api.js";
import { replace } from "./dom.js";
import { current, match, navigate, isReturnPath, DEFAULT_PATH } from "./router.js";
import { spinner, focusHeading, noticeArea } from "./ui.js";

import setupView from "./views/setup.js";
import loginView from "./views/login.js";
import dashboardView from "./views/dashboard.js";
import servicesView from "./views/services.js";
import instancesView from "./views/instances.js";
import jobsView from "./views/jobs.js";
import jobView from "./views/job.js";

const VIEWS = {
  setup: setupView,
  login: loginView,
  dashboard: dashboardView,
  services: servicesView,
  instances: instancesView,
  jobs: jobsView,
  job: jobView,
};

const TITLES = {
  setup: "Set up",
  login: "Sign in",
  dashboard: "Dashboard",
  services: "Services",
  instances: "Instances",
  jobs: "Jobs",
  job: "Job",
};

const session = {
  setupComplete: null, // null until /api/auth/status answered
  user: null,
};

const main = document.getElementById("main");
const topbar = document.getElementById("topbar");
const userName = document.getElementById("user-name");
const logoutButton = document.getElementById("logout");
let cleanup = null;
let renderToken = 0;
let firstRender = true;

function leaveView() {
  if (cleanup) {
    try {
      cleanup();
    } catch (err) {
      console.warn("view cleanup failed", err);
    }
  }
  cleanup = null;
}

function toLogin(returnTo) {
  const query = isReturnPath(returnTo) ? { next: returnTo } : {};
  navigate("/login", query, { replace: true });
}

/** After a successful login or setup: back to where the user was going. */
function afterLogin(user, next) {
  session.user = user;
  session.setupComplete = true;
  navigate(isReturnPath(next) ? next : DEFAULT_PATH, {}, { replace: true });
}

function showChrome(route) {
  const signedIn = Boolean(session.user) && !route.isPublic;
  topbar.hidden = !signedIn;
  document.body.classList.toggle("is-public", !signedIn);
  userName.textContent = session.user ? session.user.username ?? "" : "";
  for (const link of topbar.querySelectorAll("[data-nav]")) {
    const active = link.dataset.nav === route.name || (link.dataset.nav === "jobs" && route.name === "job");
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function render() {
  const token = ++renderToken;
  const location = current();
  const route = match(location.path);
  leaveView();
  if (!route) {
    navigate(DEFAULT_PATH, {}, { replace: true });
    return;
  }

  // Until setup is known to be done, ask again on every navigation: another
  // browser may have completed it meanwhile.
  if (session.setupComplete !== true) {
    if (session.setupComplete === null) replace(main, spinner("Connecting…"));
    try {
      const status = await api.authStatus();
      session.setupComplete = Boolean(status.setup_complete);
    } catch (err) {
      if (token !== renderToken) return;
      const notices = noticeArea();
      replace(main, notices.el);
      notices.error(err, "Cannot reach CloudLab Manager");
      return;
    }
    if (token !== renderToken) return;
  }

  if (!session.setupComplete && route.name !== "setup") {
    navigate("/setup", {}, { replace: true });
    return;
  }
  if (session.setupComplete && route.name === "setup") {
    navigate(session.user ? DEFAULT_PATH : "/login", {}, { replace: true });
    return;
  }
  if (!route.isPublic && !session.user) {
    replace(main, spinner("Checking your session…"));
    try {
      session.user = await api.me({ quiet401: true });
    } catch (err) {
      if (token !== renderToken) return;
      if (err.status === 401) {
        toLogin(location.full);
      } else {
        const notices = noticeArea();
        replace(main, notices.el);
        notices.error(err, "Cannot check your session");
      }
      return;
    }
    if (token !== renderToken) return;
  }
  if (route.name === "login" && session.user) {
    const next = location.query.get("next");
    navigate(isReturnPath(next) ? next : DEFAULT_PATH, {}, { replace: true });
    return;
  }

  showChrome(route);
  document.title = `${TITLES[route.name]} · CloudLab Manager`;
  main.replaceChildren();
  main.dataset.view = route.name;
  const context = {
    params: route.params,
    query: location.query,
    session,
    navigate,
    afterLogin,
  };
  const result = VIEWS[route.name](main, context);
  cleanup = typeof result === "function" ? result : null;
  // After navigation, move focus to the new page (its heading) unless the
  // view already focused something itself (the first field of a form).
  if (!firstRender && !main.contains(document.activeElement)) focusHeading(main);
  firstRender = false;
}

api.onUnauthorized(() => {
  if (!session.user) return;
  session.user = null;
  const location = current();
  const route = match(location.path);
  if (route && !route.isPublic) toLogin(location.full);
});

logoutButton.addEventListener("click", async () => {
  logoutButton.disabled = true;
  try {
    await api.logout();
  } catch {
    /* the session may already be gone; leave anyway */
  } finally {
    logoutButton.disabled = false;
  }
  session.user = null;
  navigate("/login", {}, { replace: false });
});

document.getElementById("skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener("hashchange", render);
if (!window.location.hash) window.history.replaceState(null, "", `#${DEFAULT_PATH}`);
render();
