// The supervisor's view: how many tickets wait in each status, each agent's presence and load,
// and the queue's top tickets with a reassign control (PATCH with assignee, 409 → reload).

import { call, query } from "./api.js";
import { channelBadge, channelName } from "./channels.js";
import { priorityClass, slaChip } from "./inbox.js";
import { $, h, humanize, slaState, toast } from "./dom.js";

const STATUSES = [["open", "Open"], ["pending", "Pending"], ["on_hold", "On hold"], ["closed", "Closed"]];
const MAX_PAGES = 20;
const TABLE_PAGE = 25; // rows of the reassign table a page

export class Supervisor {
  constructor({ pollMs }) {
    this.pollMs = pollMs;
    this.status = "open";
    this.agents = null;
    this.rows = [];
    this.cursor = null; // the reassign table's next page (the API's next_cursor)
    this.el = this.build();
  }

  build() {
    this.cards = h("ul", { class: "stat-cards", "aria-label": "Tickets per status" });
    this.agentsBox = h("div", { class: "table-wrap" }, h("p", { class: "muted" }, "Loading agents…"));
    this.tableTitle = h("h2", { id: "queue-title" }, "Open tickets");
    this.ticketsBox = h("div", { class: "table-wrap" }, h("p", { class: "muted" }, "Loading tickets…"));
    this.message = h("p", { class: "notice", role: "status", hidden: true });
    return h("div", { class: "page supervisor" },
      h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Supervisor"),
        h("button", { type: "button", class: "secondary", onclick: () => this.refresh(true) }, "Refresh")),
      h("section", { "aria-labelledby": "queues-title" }, h("h2", { id: "queues-title", class: "visually-hidden" }, "Queues"), this.cards),
      this.message,
      h("div", { class: "two-col" },
        h("section", { class: "panel", "aria-labelledby": "agents-title" }, h("h2", { id: "agents-title" }, "Agents"), this.agentsBox),
        h("section", { class: "panel", "aria-labelledby": "queue-title" }, this.tableTitle, this.ticketsBox)),
      h("p", { class: "muted" }, "Each brand's status after a reply and its CSAT surveys: ",
        h("a", { href: "#/settings" }, "Brand settings"), "."));
  }

  start() {
    this.refresh(true);
    this.stop();
    this.timer = setInterval(() => { if (!document.hidden) this.refresh(false); }, Math.max(this.pollMs * 2, 5000));
  }

  stop() { clearInterval(this.timer); this.timer = null; }

  async refresh(withTable) {
    await Promise.all([this.loadCounts(), this.loadAgents()]);
    if (withTable) await this.loadTickets();
  }

  // Unassigned and past-SLA tickets among the first `pages` pages of a status (all, if `complete`).
  async scan(status, pages) {
    let n = 0, unassigned = 0, breached = 0, cursor = null;
    for (let page = 0; page < pages; page += 1) {
      const res = await call(`/tickets${query({ status, limit: 100, cursor })}`);
      if (!res.ok) return { error: res.error };
      n += res.data.items.length;
      unassigned += res.data.items.filter((t) => !t.assignee).length;
      breached += res.data.items.filter((t) => !t.first_response_at && slaState(t.sla_due_at)?.state === "breach").length;
      cursor = res.data.next_cursor;
      if (!cursor) return { n, unassigned, breached, complete: true };
    }
    return { n, unassigned, breached, complete: false };
  }

  async loadCounts() {
    // exact totals from GET /api/queues; a server without it: count by paging the inbox
    const totals = await call("/queues");
    const counts = await Promise.all(STATUSES.map(async ([s]) => {
      const scanned = await this.scan(s, totals.ok ? (s === "closed" ? 0 : 1) : MAX_PAGES);
      if (!totals.ok) return { ...scanned, more: !scanned.complete };
      return { ...scanned, n: totals.data.statuses?.[s] ?? scanned.n, sample: !scanned.complete, error: null };
    }));
    this.cards.replaceChildren(...STATUSES.map(([status, label], i) => {
      const c = counts[i];
      const pressed = status === this.status;
      const among = c.sample ? " in the top 100" : "";
      return h("li", {}, h("button", { type: "button", class: `stat-card${pressed ? " active" : ""}`, "aria-pressed": String(pressed),
        dataset: { status }, onclick: () => { this.status = status; this.loadCounts(); this.loadTickets(); } },
        h("span", { class: "stat-label" }, label),
        h("span", { class: "stat-value" }, c.error ? "—" : `${c.n}${c.more ? "+" : ""}`),
        c.error ? h("span", { class: "muted" }, c.error)
          : h("span", { class: "muted" }, status === "closed" ? "" : `${c.unassigned} unassigned${c.breached ? ` · ${c.breached} past SLA` : ""}${among}`)));
    }));
  }

  async loadAgents() {
    const res = await call("/agents");
    if (!res.ok) {
      this.agents = null;
      this.agentsBox.replaceChildren(h("p", { class: "muted" }, res.missing ? "The agent list is not available on this server yet."
        : res.status === 403 ? "Only supervisors see the agents." : `Could not load agents: ${res.error}`));
      return;
    }
    this.agents = res.data.items || [];
    this.agentsBox.replaceChildren(h("table", { class: "table" },
      h("caption", { class: "visually-hidden" }, "Agents, their presence and load"),
      h("thead", {}, h("tr", {}, ["Agent", "Presence", "Load", "Languages", "Teams", "Approval"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, this.agents.map((a) => {
        const load = a.load || 0;
        const capacity = a.capacity || 0;
        const pct = capacity ? Math.min(100, Math.round((load / capacity) * 100)) : 0;
        return h("tr", { dataset: { agent: a.id } },
          h("th", { scope: "row" }, h("span", {}, a.name || a.id), h("span", { class: "muted block" }, `@${a.id}${a.role && a.role !== "agent" ? ` · ${a.role}` : ""}`)),
          h("td", {}, h("span", { class: `presence-pill p-${a.status || "offline"}` }, humanize(a.status || "offline"))),
          h("td", { class: "nowrap" }, h("span", { class: "meter", role: "meter", "aria-valuemin": 0, "aria-valuemax": capacity || 1, "aria-valuenow": load,
            "aria-label": `${load} of ${capacity} tickets` }, h("span", { class: `meter-fill${pct >= 90 ? " full" : ""}`, style: { width: `${pct}%` } })),
            h("span", { class: "muted" }, ` ${load} / ${capacity}`)),
          h("td", {}, (a.languages || []).map((l) => l.toUpperCase()).join(" ")),
          h("td", {}, (a.teams || []).join(", ") || "—"),
          h("td", { class: "center" }, !a.role || a.role === "agent"
            ? h("input", { type: "checkbox", checked: !!a.needs_approval, title: "Her public replies need a supervisor's approval",
              "aria-label": `${a.name || a.id}: public replies need approval`, onchange: (e) => this.setApproval(a, e.currentTarget) })
            : h("span", { class: "muted", title: "A supervisor's replies never wait" }, "—")));
      }))));
  }

  // A new agent's public replies wait for a supervisor where her brands' approval rules hold new
  // agents (PUT /api/agents/{id} with the profile as listed and `needs_approval`; brands as they are).
  async setApproval(agent, box) {
    box.disabled = true;
    const profile = { id: agent.id, name: agent.name || agent.id, role: agent.role || "agent", languages: agent.languages?.length ? agent.languages : ["en"],
      skills: agent.skills || [], teams: agent.teams || [], capacity: agent.capacity || 8, needs_approval: box.checked };
    const res = await call(`/agents/${encodeURIComponent(agent.id)}`, { method: "PUT", body: profile });
    box.disabled = false;
    if (!res.ok) { box.checked = !box.checked; toast(`Could not change ${agent.name || agent.id}: ${res.error}`, "error"); return; }
    agent.needs_approval = box.checked;
    toast(box.checked ? `${agent.name || agent.id}'s public replies now wait for approval where the brand's rules hold new agents`
      : `${agent.name || agent.id}'s replies no longer need approval`, "ok");
  }

  // The reassign table, 25 rows a page: "Show 25 more" pages on with the API's next_cursor; a
  // reload (after a reassign, a 409) reads again as many rows as were shown.
  async loadTickets({ more = false } = {}) {
    const label = STATUSES.find(([s]) => s === this.status)[1];
    this.tableTitle.textContent = `${label} tickets · reassign`;
    const sameStatus = this.rowsStatus === this.status;
    const want = more ? this.rows.length + TABLE_PAGE : Math.max(TABLE_PAGE, sameStatus ? this.rows.length : 0);
    let rows = more ? [...this.rows] : [], cursor = more ? this.cursor : null, total = more ? this.total : null;
    do {
      const res = await call(`/tickets${query({ status: this.status, limit: Math.min(100, want - rows.length), cursor,
        count: cursor ? undefined : "true" })}`);
      if (!res.ok) { this.ticketsBox.replaceChildren(h("p", { class: "error" }, res.error)); return; }
      if (!cursor && typeof res.data.total === "number") total = res.data.total;
      rows = [...rows, ...res.data.items.filter((t) => !rows.some((r) => r.id === t.id))];
      cursor = res.data.next_cursor;
    } while (cursor && rows.length < want);
    Object.assign(this, { rows, cursor, total, rowsStatus: this.status });
    if (!this.rows.length) { this.ticketsBox.replaceChildren(h("p", { class: "muted" }, "No tickets in this status.")); return; }
    const focused = more ? this.rows[want - TABLE_PAGE]?.id : null; // the first new row
    const shown = `Showing ${this.rows.length}${typeof total === "number" ? ` of ${Math.max(total, this.rows.length)}` : cursor ? "+" : ""} tickets`;
    this.ticketsBox.replaceChildren(h("table", { class: "table tickets" },
      h("caption", { class: "visually-hidden" }, `${label} tickets by priority, with their assignee`),
      h("thead", {}, h("tr", {}, ["Priority", "Ticket", "SLA", "Assignee"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, this.rows.map((t) => this.row(t)))),
    h("div", { class: "table-pager" }, h("span", { class: "muted", role: "status" }, shown),
      cursor ? h("button", { type: "button", class: "secondary small", onclick: () => this.loadTickets({ more: true }) },
        `Show ${TABLE_PAGE} more`) : null));
    if (focused) $(`tr[data-ticket="${CSS.escape(focused)}"] a`, this.el)?.focus();
  }

  row(t) {
    const selectId = `assign-${t.id}`;
    const current = t.assignee || "";
    let control;
    if (this.agents) {
      control = h("select", { id: selectId, name: "assignee" },
        h("option", { value: "" }, "Unassigned"),
        this.agents.map((a) => h("option", { value: a.id, selected: a.id === current },
          `${a.name || a.id} ${a.load || 0}/${a.capacity || 0}${(a.status || "offline") === "online" ? "" : ` · ${a.status || "offline"}`}`)),
        current && !this.agents.some((a) => a.id === current) ? h("option", { value: current, selected: true }, current) : null);
    } else {
      control = h("input", { id: selectId, name: "assignee", value: current, placeholder: "agent id", size: 10 });
    }
    control.value = current;
    const button = h("button", { type: "button", class: "secondary small", disabled: true }, "Reassign");
    control.addEventListener("change", () => { button.disabled = control.value === (t.assignee || ""); });
    control.addEventListener("input", () => { button.disabled = control.value === (t.assignee || ""); });
    button.addEventListener("click", () => this.reassign(t, control.value, button));
    return h("tr", { dataset: { ticket: t.id } },
      h("td", {}, h("span", { class: `prio ${priorityClass(t.priority)}` }, String(t.priority))),
      h("td", { class: "ticket-cell" }, h("a", { href: `#/ticket/${t.id}` }, channelBadge(t.channel, { label: false }),
        h("span", { class: "visually-hidden" }, `${channelName(t.channel)}: `),
        h("span", { class: "clip", dir: "auto" }, t.last_message_preview || t.subject || t.id))),
      h("td", {}, slaChip(t) || "—"),
      h("td", { class: "assign-cell" }, h("label", { for: selectId, class: "visually-hidden" },
        `Assignee of the ticket “${(t.last_message_preview || t.id).slice(0, 40)}”`), control, button));
  }

  async reassign(t, assignee, button) {
    button.disabled = true;
    const body = assignee ? { version: t.version, assignee } : { version: t.version, unassign: true };
    const res = await call(`/tickets/${encodeURIComponent(t.id)}`, { method: "PATCH", body });
    if (res.status === 409) {
      this.say("That ticket changed meanwhile; the list was reloaded. Try again.");
      await this.loadTickets();
      return;
    }
    if (!res.ok) {
      this.say(`Not reassigned: ${res.error}`);
      button.disabled = false;
      return;
    }
    Object.assign(t, res.data);
    toast(assignee ? `Assigned to ${assignee}` : "Unassigned");
    this.say(assignee ? `Ticket assigned to ${assignee}.` : "Ticket unassigned.");
    await Promise.all([this.loadTickets(), this.loadAgents(), this.loadCounts()]);
    $(`tr[data-ticket="${CSS.escape(t.id)}"] select, tr[data-ticket="${CSS.escape(t.id)}"] input`, this.el)?.focus();
  }

  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }
}
