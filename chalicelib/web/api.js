// The agent API client: the token lives in this tab's sessionStorage only.
//
// `call` never throws for an HTTP answer: it resolves to {ok, status, data, error}, so views can
// show a 422's reason inline, reload on a 409 and say "not available" for a route the server
// does not have yet (404, or API Gateway's 403 without our {"error"} body).

const KEY = "care-desk-token";

export const session = {
  get token() { return sessionStorage.getItem(KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
  // The JWT's claims, read (not verified: the API verifies) to label the UI.
  get claims() {
    const token = this.token;
    if (!token) return null;
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = decodeURIComponent(atob(part).split("").map(
        (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""));
      return JSON.parse(json);
    } catch {
      return null;
    }
  },
  get agentId() { return this.claims?.["cognito:username"] || this.claims?.sub || ""; },  // as the API decides
  get role() {
    const groups = this.claims?.["cognito:groups"] || [];
    if (groups.includes("admins")) return "admin";
    if (groups.includes("supervisors")) return "supervisor";
    return "agent";
  },
  get isSupervisor() { return this.role === "supervisor" || this.role === "admin"; },
};

const listeners = new Set();
export function onUnauthorized(fn) { listeners.add(fn); }

export async function call(path, { method = "GET", body, headers = {}, token = session.token, keepalive = false } = {}) {
  // keepalive: the request outlives the page (a `left` heartbeat sent as the tab closes)
  const init = { method, keepalive, headers: { Accept: "application/json", ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api${path}`, init);
  } catch (err) {
    return { ok: false, status: 0, data: null, error: "The desk's server cannot be reached; retrying." };
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: text }; }
  }
  const result = { ok: response.ok, status: response.status, data, error: null, field: data?.field };
  if (!response.ok) {
    result.error = data?.error || data?.message || data?.Message || `HTTP ${response.status}`;
    // a route this server does not have: API Gateway (and chalice local) answer without our {"error"}
    result.missing = [403, 404, 405].includes(response.status) && !(data && "error" in data);
    if (response.status === 401 && token === session.token) listeners.forEach((fn) => fn(result));
  }
  return result;
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}
