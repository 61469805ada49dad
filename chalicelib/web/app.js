// The desk's web UI: sign-in, hash routes, the inbox + conversation desk, the supervisor view,
// reports, presence and keyboard shortcuts. Vanilla ES modules served from /ui/, nothing from
// the internet.
//
// Routes: #/inbox, #/ticket/<id>, #/supervisor, #/approvals (issue 16), #/reports. `?poll=<ms>` in the address changes
// the live refresh (5 s by default; the browser tests use a shorter one).

import { call, onUnauthorized, session } from "./api.js";
import { loadChannels } from "./channels.js";
import { Conversation } from "./conversation.js";
import { $, $$, announce, h, isTyping, toast } from "./dom.js";
import { Inbox, paintSla } from "./inbox.js";
import { Reports } from "./reports.js";
import { Supervisor } from "./supervisor.js";
import { Approvals } from "./approvals.js"; // issue 16: replies held for a supervisor

const POLL_MS = Math.max(500, Number(new URLSearchParams(location.search).get("poll")) || 5000);
const OUR_KEYS = ["care-desk-token", "care-desk-drafts", "care-desk-filters"];

let views = null; // built after sign-in
let current = null; // the mounted view's name

// -- sign-in ---------------------------------------------------------------------------------------
// In AWS the desk signs in through Cognito's hosted UI (implicit grant): it comes back with the ID
// token in the address fragment, checked against the state we sent. Locally a token is pasted.
const SSO_STATE = "care-desk-sso-state";

function tokenFromRedirect() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("id_token");
  if (!token) return null;
  const expected = sessionStorage.getItem(SSO_STATE);
  sessionStorage.removeItem(SSO_STATE);
  history.replaceState(null, "", location.pathname + location.search + "#/inbox");
  return expected && fragment.get("state") === expected ? token : null;
}

async function offerHostedSignIn() {
  let config = { mode: "token" };
  try { config = await (await fetch("/auth/config")).json(); } catch { /* stay with the token box */ }
  if (config.mode !== "cognito") return;
  const state = crypto.randomUUID();
  sessionStorage.setItem(SSO_STATE, state);
  const params = new URLSearchParams({ response_type: "token", client_id: config.client_id, scope: config.scope,
    redirect_uri: location.origin + location.pathname, state });
  $("#signin-sso-link").href = `${config.authorize_url}?${params}`;
  $("#signin-sso").hidden = false;
  $("#signin-paste-help").hidden = true;
}

// `python -m infra.local up` adds /_local/agents and /_local/sign-in (infra/local/signin.py): the
// demo agents, one click each. A deployed desk has no such route (404), and the list stays hidden.
async function offerLocalSignIn() {
  let agents = [];
  try {
    const res = await fetch("/_local/agents", { headers: { Accept: "application/json" } });
    if (res.ok) agents = (await res.json()).items || [];
  } catch { /* not the local stack */ }
  const list = $("#signin-local-list");
  list.replaceChildren(...agents.map((a) => h("li", {},
    h("button", { type: "button", class: "signin-agent", "data-agent": a.id, onclick: () => localSignIn(a) },
      h("span", { class: "signin-agent-name" }, a.name),
      h("span", { class: "muted" }, ` ${a.role} · ${(a.brands || []).join(", ") || "no brand"}`)))));
  $("#signin-local").hidden = agents.length === 0;
  if (agents.length) $("#signin-paste-help").hidden = true;
  $("#signin-sso-or").hidden = agents.length > 0;  // one "Or paste a token", after the agents
}

async function localSignIn(agent) {
  const error = $("#signin-error");
  error.textContent = "";
  let res;
  try {
    res = await fetch("/_local/sign-in", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agent_id: agent.id }) });
  } catch { error.textContent = "The desk did not answer. Is python -m infra.local up still running?"; return; }
  if (!res.ok) { error.textContent = `Could not sign in as ${agent.name} (${res.status}).`; return; }
  session.token = (await res.json()).token;
  startShell({ signedIn: true });
}

function showSignIn(message = "") {
  offerHostedSignIn();
  offerLocalSignIn();
  stopAll();
  views = null;
  current = null;
  $("#shell").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message;
  $("#signin-token").value = "";
  $("#signin-token").focus();
  document.title = "Sign in · Social care desk";
}

$("#signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = $("#signin-token").value.trim().replace(/^Bearer\s+/i, "");
  const error = $("#signin-error");
  if (!token) { error.textContent = "Paste a token first."; return; }
  const button = e.submitter || $("#signin-form button");
  button.disabled = true;
  error.textContent = "";
  const res = await call("/tickets?limit=1", { token });
  button.disabled = false;
  if (res.status === 401) { error.textContent = "This token was refused: it is expired, or not signed for this desk."; return; }
  if (res.status === 0) { error.textContent = res.error; return; }
  session.token = token;
  startShell({ signedIn: true });
});

// A token has no line breaks: Enter in the token box signs in (Shift+Enter still breaks a line).
$("#signin-token").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    $("#signin-form").requestSubmit();
  }
});

function signOut(message) {
  for (const key of OUR_KEYS) sessionStorage.removeItem(key);
  showSignIn(message);
}

$("#signout").addEventListener("click", () => signOut("Signed out."));
onUnauthorized(() => signOut("Your session has expired or was refused. Sign in again."));

// -- the shell -------------------------------------------------------------------------------------
async function startShell({ signedIn = false } = {}) {
  // names, icons, colours, filters and counters: the server's channel registry, read once before the shell shows
  await loadChannels();
  if (!session.token) return; // refused meanwhile: the sign-in form is back
  $("#signin").hidden = true;
  $("#shell").hidden = false;
  $("#whoami").textContent = `${session.agentId} · ${session.role}`;
  $$("[data-role=supervisor]").forEach((el) => { el.hidden = !session.isSupervisor; });
  const inbox = new Inbox({ pollMs: POLL_MS, onOpen: (id) => { location.hash = `#/ticket/${id}`; } });
  const conversation = new Conversation({ pollMs: POLL_MS, onDone: (id) => afterDone(id) });
  views = {
    inbox, conversation,
    // the desk page's one h1 (each page has one; the panes are h2)
    desk: h("div", { class: "desk" }, h("h1", { class: "visually-hidden" }, "Inbox"), inbox.el, conversation.main, conversation.side),
    supervisor: null,
    reports: null,
    approvals: null, // issue 16
  };
  loadPresence();
  route();
  // the sign-in form is gone: focus goes on to the inbox (the list once it has loaded), not the page
  if (signedIn && current === "desk") inbox.focusList({ whenLoaded: true });
}

function stopAll() {
  if (!views) return;
  views.inbox.stop();
  views.conversation.stop();
  views.supervisor?.stop();
  views.reports?.stop();
  views.approvals?.stop();
}

function afterDone(id) {
  const { inbox } = views;
  const next = inbox.neighbour(id);
  inbox.load({ poll: true });
  location.hash = next ? `#/ticket/${next}` : "#/inbox";
  if (next) requestAnimationFrame(() => inbox.list.querySelector(`li[data-id="${CSS.escape(next)}"] a`)?.focus({ preventScroll: true }));
}

// -- routes ----------------------------------------------------------------------------------------
function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] === "ticket" && parts[1]) return { name: "ticket", id: decodeURIComponent(parts[1]) };
  if (["supervisor", "reports", "inbox", "approvals"].includes(parts[0])) return { name: parts[0] };
  return { name: "inbox" };
}

function route() {
  if (!views) return;
  if (location.hash === "#/settings") {  // brand settings (settings.js): after a reply, CSAT surveys
    stopAll(); current = "settings";
    $$("[data-nav]").forEach((a) => { if (a.dataset.nav === "settings") a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current"); });
    import("./settings.js").then((m) => m.show($("#main"))).then(() => $("h1", $("#main"))?.focus());
    return;
  }
  if (location.hash.startsWith("#/customer/")) { stopAll(); current = "customer"; $$("[data-nav]").forEach((a) => a.removeAttribute("aria-current")); import("./customer.js").then((m) => m.show($("#main"), decodeURIComponent(location.hash.split("/")[2] || ""))); return; }
  const r = parseRoute();
  const main = $("#main");
  const page = r.name === "ticket" ? "inbox" : r.name;
  $$("[data-nav]").forEach((a) => {
    if (a.dataset.nav === page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  if (r.name === "inbox" || r.name === "ticket") {
    if (current !== "desk") {
      stopAll();
      main.replaceChildren(views.desk);
      current = "desk";
      views.inbox.start();
    }
    if (r.name === "ticket") {
      views.inbox.select(r.id);
      views.conversation.open(r.id);
      document.title = "Ticket · Social care desk";
    } else {
      views.inbox.select(null);
      views.conversation.showEmpty();
      document.title = "Inbox · Social care desk";
    }
    return;
  }
  stopAll();
  if (r.name === "supervisor") {
    supervisorsPage(main, "supervisor", "Supervisor", () => new Supervisor({ pollMs: POLL_MS }));
  } else if (r.name === "approvals") { // issue 16: the approvals queue (the API answers 403 to an agent)
    supervisorsPage(main, "approvals", "Approvals", () => new Approvals({ pollMs: POLL_MS }));
  } else {
    views.reports ||= new Reports();
    main.replaceChildren(views.reports.el);
    views.reports.start();
    document.title = "Reports · Social care desk";
  }
  current = r.name;
  $("h1", main)?.focus();
}

// A page for supervisors: made once (views[name]) and started, or a notice for an agent's token.
function supervisorsPage(main, name, title, make) {
  if (!session.isSupervisor) {
    main.replaceChildren(h("div", { class: "page" }, h("h1", { tabindex: "-1" }, title),
      h("p", { class: "notice" }, "This view is for supervisors. Your token is an agent's.")));
  } else {
    views[name] ||= make();
    main.replaceChildren(views[name].el);
    views[name].start();
  }
  document.title = `${title} · Social care desk`;
}

window.addEventListener("hashchange", route);

// the skip link must not change the hash (that is the router's)
$(".skip").addEventListener("click", (e) => {
  e.preventDefault();
  const target = $("#shell").hidden ? $("#signin-token") : $("#main");
  target.focus();
});

// -- presence --------------------------------------------------------------------------------------
async function loadPresence() {
  const select = $("#presence");
  const res = await call("/agents/me/status");
  if (!res.ok) {
    select.disabled = true;
    select.title = res.status === 404 ? "You are not an agent of this desk yet" : res.error;
    paintPresence("offline");
    return;
  }
  select.disabled = false;
  select.value = res.data.status || "offline";
  paintPresence(select.value);
}

function paintPresence(status) { $(".presence").dataset.status = status; }

$("#presence").addEventListener("change", async (e) => {
  const select = e.target;
  const wanted = select.value;
  const res = await call("/agents/me/status", { method: "PUT", body: { status: wanted } });
  if (!res.ok) {
    toast(`Presence not changed: ${res.error}`, "error");
    loadPresence();
    return;
  }
  paintPresence(res.data.status || wanted);
  announce(`You are ${wanted}`);
});

// -- keyboard --------------------------------------------------------------------------------------
const help = $("#help");
$("#help-button").addEventListener("click", () => help.showModal());

const doneDialog = $("#done-dialog");
$("#done-cancel").addEventListener("click", () => doneDialog.close());
$("#done-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const error = await views.conversation.confirmDone($("#done-reason").value, $("#done-note").value.trim());
  if (error) { $("#done-error").textContent = error; return; }
  doneDialog.close();
});

document.addEventListener("keydown", (e) => {
  if (!views || e.defaultPrevented) return;
  // Alt+R / Alt+N switch the composer's mode even while typing (by key position: on a Mac,
  // Option+N is a dead key); switching keeps both drafts and sends nothing
  if (e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && current === "desk" && !document.querySelector("dialog[open]")) {
    const mode = { KeyR: "reply", KeyN: "note" }[e.code];
    if (mode) { e.preventDefault(); views.conversation.compose(mode); }
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (isTyping(e.target) || document.querySelector("dialog[open]")) return;
  const onDesk = current === "desk";
  const act = {
    "?": () => help.showModal(),
    j: () => onDesk && views.inbox.step(1),
    k: () => onDesk && views.inbox.step(-1),
    r: () => onDesk && views.conversation.focusReply(),
    n: () => onDesk && views.conversation.focusNote(),
    d: () => onDesk && views.conversation.openDone(),
    c: () => onDesk && views.conversation.claim(),
    "/": () => onDesk && views.inbox.focusSearch(),
  }[e.key];
  if (!act) return;
  e.preventDefault();
  act();
});

// -- the SLA clocks tick once a second, wherever they are shown --------------------------------------
setInterval(() => {
  const now = Date.now();
  document.querySelectorAll("[data-sla]").forEach((chip) => paintSla(chip, now));
}, 1000);

// -- boot ------------------------------------------------------------------------------------------
const redirected = tokenFromRedirect();
if (redirected) session.token = redirected;
if (session.token) startShell(); else showSignIn(location.hash.includes("error=") ? "Sign-in was refused." : "");
