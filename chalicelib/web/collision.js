// Collision detection (issue 16, point 1): who else is on a ticket, and a reply written on a stale view.
//
// Presence: while a ticket is open and the tab visible, a heartbeat every BEAT_MS
// (POST /api/tickets/{id}/presence) says `viewing`, or `typing` while the composer changes (and
// TYPING_MS after the last keystroke); `left` when the ticket is closed or the tab goes. The
// heartbeat's answer and each ticket refresh name the others there: "Ana is typing…" in the
// ticket header, a small marker on the inbox row. The server forgets an agent ~30 s after her
// last heartbeat.
//
// Stale view: the conversation sends what it had loaded (`seen`); a 409 names the messages the
// agent has not seen, which `staleNotice` shows in the composer with "Send anyway" (the same
// Idempotency-Key, a newer `seen`: still one reply) and "Edit".

import { call } from "./api.js";
import { clock, fullTime, h } from "./dom.js";

const BEAT_MS = Math.max(1000, Number(new URLSearchParams(location.search).get("beat")) || 10_000);
const TYPING_MS = 5000;

function firstName(viewer) {
  return String(viewer.name || viewer.agent_id || "Someone").split(/\s+/)[0];
}

// "Ana is typing…", "Ana is viewing", "Ana is typing… · Wei is viewing"
export function describeViewers(viewers) {
  return (viewers || []).map((v) => `${firstName(v)} is ${v.state === "typing" ? "typing…" : "viewing"}`).join(" · ");
}

// The inbox row's marker: who else has the ticket open (typing first), or nothing.
export function viewersMarker(viewers) {
  if (!viewers || !viewers.length) return null;
  const typing = viewers.some((v) => v.state === "typing");
  const names = viewers.map(firstName);
  const label = names.length > 2 ? `${names[0]} +${names.length - 1}` : names.join(", ");
  return h("span", { class: `badge viewers${typing ? " typing" : ""}`, title: describeViewers(viewers),
    "data-testid": "row-viewers" },
  h("span", { class: "visually-hidden" }, "Open now by "), typing ? `${label} typing…` : `${label} viewing`);
}

export class Presence {
  constructor() {
    this.id = null;
    this.timer = null;
    this.typingTimer = null;
    this.typingUntil = 0;
    this.el = h("p", { class: "presence", role: "status", "aria-live": "polite", hidden: true,
      "data-testid": "presence" });
    document.addEventListener("visibilitychange", () => { if (!document.hidden && this.id) this.beat(); });
    window.addEventListener("pagehide", () => this.leave());
  }

  // The ticket now open (null: none): leave the one before, beat at once, then every BEAT_MS.
  watch(id) {
    if (id === this.id) return;
    this.leave();
    this.id = id;
    clearInterval(this.timer);
    this.timer = null;
    this.show([]);
    if (!id) return;
    this.beat();
    this.timer = setInterval(() => { if (!document.hidden) this.beat(); }, BEAT_MS);
  }

  // The composer changed: `typing` now (once, not per keystroke), `viewing` again TYPING_MS after the last one.
  typing() {
    if (!this.id) return;
    const was = Date.now() < this.typingUntil;
    this.typingUntil = Date.now() + TYPING_MS;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.beat(), TYPING_MS + 50);
    if (!was) this.beat();
  }

  async beat() {
    const id = this.id;
    if (!id || document.hidden) return;
    const state = Date.now() < this.typingUntil ? "typing" : "viewing";
    const res = await call(`/tickets/${encodeURIComponent(id)}/presence`, { method: "POST", body: { state } });
    if (id === this.id && res.ok) this.show(res.data.viewers);
  }

  leave() {
    if (!this.id) return;
    call(`/tickets/${encodeURIComponent(this.id)}/presence`, { method: "POST", body: { state: "left" }, keepalive: true });
    this.typingUntil = 0;
    clearTimeout(this.typingTimer);
  }

  // The others on the ticket (from a heartbeat's answer or the ticket view), in the header.
  show(viewers) {
    const text = describeViewers(viewers);
    if (text === this.el.textContent) return;
    this.el.textContent = text;
    this.el.hidden = !text;
    this.el.classList.toggle("typing", (viewers || []).some((v) => v.state === "typing"));
  }
}

// The 409 of a stale view, in the composer: the messages not seen, then "Send anyway" and "Edit".
export function staleNotice(unseen, { verb = "Send", onAnyway, onEdit }) {
  const who = (m) => (m.direction === "in" ? m.author || "The customer" : `${m.author || "An agent"} replied`);
  const box = h("section", { class: "stale", role: "alert", "aria-labelledby": "stale-title", "data-testid": "stale" },
    h("h3", { id: "stale-title" }, unseen.length === 1 ? "A new message arrived since you opened this ticket"
      : `${unseen.length} new messages arrived since you opened this ticket`),
    h("ol", { class: "stale-list" }, unseen.map((m) => h("li", { class: `stale-${m.direction === "in" ? "in" : "out"}` },
      h("div", { class: "msg-head" }, h("strong", {}, who(m)),
        h("time", { datetime: m.created_at, title: fullTime(m.created_at) }, clock(m.created_at))),
      h("p", { class: "msg-text", dir: "auto" }, m.text || "(no text)")))),
    h("div", { class: "stale-actions" },
      h("button", { type: "button", class: "primary", "data-testid": "send-anyway",
        onclick: () => { box.remove(); onAnyway(); } }, `${verb} anyway`),
      h("button", { type: "button", class: "secondary", "data-testid": "edit-reply",
        onclick: () => { box.remove(); onEdit(); } }, "Edit")));
  return box;
}
