// The inbox: tickets by priority (then SLA due), filters, live refresh that keeps the agent's
// place. Rows are updated in place, keyed by ticket id, so a poll never steals focus or scroll.

import { call, query, session } from "./api.js";
import { channelBadge, channelIds, channelName } from "./channels.js";
import { svgIcon } from "./icons.js";
import { viewersMarker } from "./collision.js";
import { $, announce, clock, h, humanize, languageName, LANGUAGE_CODES, slaState } from "./dom.js";

const STATUSES = [["open", "Open"], ["pending", "Pending"], ["on_hold", "On hold"], ["closed", "Closed"]];
const FILTER_KEY = "care-desk-filters";
const SERVER_FILTERS = ["channel", "assignee", "sentiment", "language", "topic", "priority_min", "q"];
const COUNT_PAGES = 3; // a filtered list's count pages through at most this many more pages of 100

export function priorityClass(p) {
  if (p >= 80) return "prio-high";
  if (p >= 50) return "prio-mid";
  return "prio-low";
}

export function sentimentBadge(sentiment) {
  if (!sentiment) return null;
  const icon = { negative: "▼", neutral: "●", positive: "▲" }[sentiment] || "";
  return h("span", { class: `badge sent-${sentiment}`, title: `Sentiment: ${sentiment}` },
    h("span", { "aria-hidden": "true" }, icon), " ", humanize(sentiment));
}

export function languageBadge(code) {
  if (!code) return null;
  return h("abbr", { class: "badge lang", title: `Language: ${languageName(code)}` },
    h("span", { class: "visually-hidden" }, "Language "), code.toUpperCase());
}

// The SLA chip; app.js re-renders every [data-sla] once a second.
export function slaChip(ticket) {
  if (!ticket.sla_due_at || ticket.status === "closed") return null;
  if (ticket.first_response_at) {
    return h("span", { class: "sla sla-done", title: `First response ${clock(ticket.first_response_at)}` }, "✓ Answered");
  }
  const chip = h("span", { class: "sla", "data-sla": ticket.sla_due_at }, svgIcon("clock", 12), h("span", { class: "sla-text" }));
  paintSla(chip);
  return chip;
}

export function paintSla(chip, now = Date.now()) {
  const s = slaState(chip.dataset.sla, now);
  if (!s) return;
  const cls = `sla sla-${s.state}`;
  if (chip.className !== cls) chip.className = cls;
  const text = chip.querySelector(".sla-text");
  if (text.textContent !== s.text) {
    text.textContent = s.text;
    chip.setAttribute("aria-label", s.label);
    chip.title = `${s.label} (due ${clock(chip.dataset.sla)})`;
  }
}

export class Inbox {
  constructor({ onOpen, pollMs }) {
    this.onOpen = onOpen;
    this.pollMs = pollMs;
    this.items = [];
    this.byId = new Map();
    this.nextCursor = null;
    this.total = null; // how many the list holds (null: not known, "50+")
    this.selectedId = null;
    this.seen = null; // ids seen under the current filters; null until the first load
    this.fresh = new Set(); // arrived while the agent was here, not opened yet
    this.unsupported = new Set();
    this.filters = { status: "open", ...JSON.parse(sessionStorage.getItem(FILTER_KEY) || "{}") };
    this.timer = null;
    this.loading = false;
    this.el = this.build();
  }

  build() {
    const f = this.filters;
    const opt = (value, label, current) => h("option", { value, selected: value === (current ?? "") }, label);
    this.search = h("input", { id: "f-q", type: "search", name: "q", value: f.q || "", placeholder: "Search text, customer…",
      autocomplete: "off", "aria-keyshortcuts": "/" });
    this.topicList = h("datalist", { id: "topics" });
    const form = h("form", { class: "filters", role: "search", "aria-label": "Filter the inbox",
      onsubmit: (e) => { e.preventDefault(); this.applyFilters(); } },
      h("div", { class: "filter-row" },
        h("div", { class: "field grow" }, h("label", { for: "f-q" }, "Search"), this.search),
        h("div", { class: "field" }, h("label", { for: "f-status" }, "Status"),
          h("select", { id: "f-status", name: "status" }, STATUSES.map(([v, l]) => opt(v, l, f.status))))),
      this.moreFilters = h("details", { class: "more-filters", open: this.activeExtra(f) > 0 },
        this.moreSummary = h("summary", {}, this.summaryText(f)),
      h("div", { class: "filter-row" },
        h("div", { class: "field" }, h("label", { for: "f-channel" }, "Channel"),
          h("select", { id: "f-channel", name: "channel" }, opt("", "All", f.channel),
            channelIds().map((c) => opt(c, channelName(c), f.channel)))),
        h("div", { class: "field" }, h("label", { for: "f-assignee" }, "Assignee"),
          h("select", { id: "f-assignee", name: "assignee" }, opt("", "Anyone", f.assignee), opt("me", "Me", f.assignee),
            opt("none", "Unassigned", f.assignee))),
        h("div", { class: "field" }, h("label", { for: "f-sentiment" }, "Sentiment"),
          h("select", { id: "f-sentiment", name: "sentiment" }, opt("", "Any", f.sentiment),
            ["negative", "neutral", "positive"].map((s) => opt(s, humanize(s), f.sentiment))))),
      h("div", { class: "filter-row" },
        h("div", { class: "field" }, h("label", { for: "f-language" }, "Language"),
          h("select", { id: "f-language", name: "language" }, opt("", "Any", f.language),
            LANGUAGE_CODES.map((c) => opt(c, `${c.toUpperCase()} · ${languageName(c)}`, f.language)))),
        h("div", { class: "field" }, h("label", { for: "f-topic" }, "Topic"),
          h("input", { id: "f-topic", name: "topic", list: "topics", value: f.topic || "", autocomplete: "off" })),
        h("div", { class: "field narrow" }, h("label", { for: "f-prio" }, "Priority ≥"),
          h("input", { id: "f-prio", name: "priority_min", type: "number", min: 0, max: 100, step: 5,
            value: f.priority_min ?? "", inputmode: "numeric" })))),
      this.topicList);
    form.addEventListener("change", (e) => { if (e.target.name !== "q") this.applyFilters(); });
    // Esc leaves a filter field, as the help says (a search box would clear itself instead)
    form.addEventListener("keydown", (e) => {
      if (e.key !== "Escape" || !e.target.matches("input")) return;
      e.preventDefault();
      this.focusList();
    });
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.applyFilters(), 350);
    });
    this.form = form;
    this.heading = h("h2", { id: "inbox-title", class: "pane-title", tabindex: "-1" }, "Inbox");
    this.countEl = h("span", { class: "count", "aria-live": "off" });
    this.notice = h("p", { class: "notice", hidden: true });
    this.list = h("ul", { class: "ticket-list", "aria-labelledby": "inbox-title" });
    this.more = h("button", { type: "button", class: "ghost more", hidden: true, onclick: () => this.loadMore() }, "Load more");
    this.empty = h("p", { class: "empty", hidden: true }, "Nothing here. New mentions appear on their own.");
    return h("section", { class: "pane inbox", "aria-labelledby": "inbox-title" },
      h("div", { class: "pane-head" }, this.heading, this.countEl), form, this.notice,
      h("div", { class: "list-scroll" }, this.list, this.empty, this.more));
  }

  activeExtra(f) {
    return ["channel", "assignee", "sentiment", "language", "topic", "priority_min"].filter((k) => f[k]).length;
  }

  summaryText(f) {
    const n = this.activeExtra(f);
    return n ? `More filters (${n} on)` : "More filters";
  }

  readFilters() {
    const data = new FormData(this.form);
    const f = {};
    for (const [k, v] of data.entries()) if (String(v).trim() !== "") f[k] = String(v).trim();
    return f;
  }

  applyFilters() {
    this.filters = this.readFilters();
    sessionStorage.setItem(FILTER_KEY, JSON.stringify(this.filters));
    this.moreSummary.textContent = this.summaryText(this.filters);
    this.seen = null;
    this.load({ reset: true });
  }

  params(extra = {}) {
    const p = { ...this.filters, ...extra };
    for (const name of this.unsupported) delete p[name];
    return p;
  }

  // Server filters are new: on a server without them, the exact ones are applied here to what
  // it sent (a backstop that agrees with the server's own filtering when it has them).
  matches(t) {
    const f = this.filters;
    return (!f.channel || t.channel === f.channel)
      && (!f.sentiment || t.classification?.sentiment === f.sentiment)
      && (!f.language || t.language === f.language)
      && (!f.topic || t.topic === f.topic)
      && (!f.priority_min || t.priority >= Number(f.priority_min))
      && (!f.assignee || (f.assignee === "me" ? t.assignee === session.agentId
        : f.assignee === "none" ? !t.assignee : t.assignee === f.assignee))
      && (!f.q || !this.unsupported.has("q")
        || `${t.last_message_preview || ""} ${t.subject || ""}`.toLowerCase().includes(f.q.toLowerCase()));
  }

  async fetchPage(extra) {
    let res = await call(`/tickets${query(this.params(extra))}`);
    // a 400 naming a filter the server does not know: drop it, say so, and ask again
    for (let tries = 0; res.status === 400 && tries < SERVER_FILTERS.length; tries += 1) {
      const bad = SERVER_FILTERS.find((name) => !this.unsupported.has(name) && res.error.includes(name) && this.filters[name]);
      if (!bad) break;
      this.unsupported.add(bad);
      res = await call(`/tickets${query(this.params(extra))}`);
    }
    return res;
  }

  // One page or several (a poll asks again for as many as the list shows, so it is the truth for
  // all of them): { ok, items, next_cursor, total } or { ok: false, res } on a refusal.
  async fetchList(want) {
    let items = [], cursor = null, total;
    do {
      const extra = { limit: Math.min(100, Math.max(1, want - items.length)) };
      if (cursor) extra.cursor = cursor; else extra.count = "true";
      const res = await this.fetchPage(extra);
      if (!res.ok) return { ok: false, res };
      if (!cursor && typeof res.data.total === "number") total = res.data.total;
      items = [...items, ...res.data.items.filter((t) => !items.some((i) => i.id === t.id))];
      cursor = res.data.next_cursor;
    } while (cursor && items.length < want);
    return { ok: true, items, next_cursor: cursor, total };
  }

  // How many tickets the list holds: the server's total (a status without other filters), all of
  // them when there is no next page, else the rest paged through when that is cheap (else null).
  async countAll(got, items) {
    if (got.total !== undefined) return got.total;
    if (!got.next_cursor) return items.length;
    let n = items.length, cursor = got.next_cursor;
    for (let page = 0; page < COUNT_PAGES && cursor; page += 1) {
      const res = await this.fetchPage({ limit: 100, cursor });
      if (!res.ok) return null;
      n += res.data.items.filter((t) => this.inStatus(t) && this.matches(t)).length;
      cursor = res.data.next_cursor;
    }
    return cursor ? null : n;
  }

  inStatus(t) { return (t.status || "open") === (this.filters.status || "open"); }

  async load({ reset = false, poll = false } = {}) {
    if (this.loading && poll) return;
    this.loading = true;
    try {
      const got = await this.fetchList(poll && !reset ? Math.max(50, this.items.length) : 50);
      if (!got.ok) {
        const { res } = got;
        this.showNotice(res.status === 0 ? res.error : `Could not load the inbox: ${res.error}`);
        return;
      }
      // a ticket whose status changed meanwhile (set Pending, say) has left this list
      const listed = got.items.filter((t) => this.inStatus(t));
      const items = listed.filter((t) => this.matches(t));
      const ignored = items.length < listed.length; // the server did not filter by them
      this.showNotice(this.unsupported.size || ignored
        ? `This server cannot filter by ${[...this.unsupported].join(", ") || "all of these"} yet: showing the matches among the first ${got.items.length} tickets.`
        : "");
      this.nextCursor = got.next_cursor;
      const firstLoad = this.seen === null || reset;
      const arrived = firstLoad ? [] : items.filter((t) => !this.seen.has(t.id));
      this.seen = new Set([...(firstLoad ? [] : this.seen), ...items.map((t) => t.id)]);
      arrived.forEach((t) => this.fresh.add(t.id));
      // the poll asked for as many as the list showed: what it did not answer has left the list
      this.items = items;
      this.total = this.unsupported.size || ignored ? null : await this.countAll(got, items);
      this.render();
      if (this.focusOnLoad) {  // after sign-in, unless the agent has already moved on (a ticket, a key)
        this.focusOnLoad = false;
        const idle = !document.activeElement || document.activeElement === document.body;
        if (idle) this.focusList();
      }
      if (arrived.length) {
        const first = arrived[0];
        announce(`${arrived.length} new ticket${arrived.length > 1 ? "s" : ""}: ${channelName(first.channel)}, priority ${first.priority}. ${(first.last_message_preview || "").slice(0, 80)}`);
      }
    } finally {
      this.loading = false;
    }
  }

  async loadMore() {
    if (!this.nextCursor) return;
    const res = await this.fetchPage({ limit: 50, cursor: this.nextCursor });
    if (!res.ok) { this.showNotice(`Could not load more: ${res.error}`); return; }
    const items = res.data.items.filter((t) => this.inStatus(t) && this.matches(t))
      .filter((t) => !this.items.some((i) => i.id === t.id));
    items.forEach((t) => this.seen?.add(t.id));
    this.items = [...this.items, ...items];
    this.nextCursor = res.data.next_cursor;
    this.render();
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  render() {
    const status = STATUSES.find(([v]) => v === (this.filters.status || "open"))?.[1] || "Open";
    this.heading.textContent = `${status} tickets`;
    const exact = typeof this.total === "number" ? Math.max(this.total, this.items.length) : null;
    const shown = exact ?? (this.nextCursor ? `${this.items.length}+` : String(this.items.length));
    this.countEl.textContent = String(shown);
    this.countEl.setAttribute("aria-label", exact !== null || !this.nextCursor ? `${shown} tickets` : `${this.items.length} or more tickets`);
    this.empty.hidden = this.items.length > 0;
    const filtered = Object.keys(this.filters).some((k) => k !== "status" && this.filters[k]);
    this.empty.textContent = filtered ? "No tickets match these filters." : "Nothing here. New mentions appear on their own.";
    this.more.hidden = !this.nextCursor;
    const topics = new Set(this.items.map((t) => t.topic).filter(Boolean));
    this.topicList.replaceChildren(...[...topics].sort().map((t) => h("option", { value: t })));

    const focusedId = document.activeElement?.closest?.(".ticket-list li")?.dataset.id;
    const scroller = this.list.parentElement;
    const scrollTop = scroller.scrollTop;
    const existing = new Map([...this.list.children].map((li) => [li.dataset.id, li]));
    const rows = this.items.map((t) => {
      this.byId.set(t.id, t);
      let li = existing.get(t.id);
      const sig = JSON.stringify([t.version, t.priority, t.status, t.assignee, t.last_message_preview, t.customer_name,
        t.sla_due_at, t.first_response_at, this.fresh.has(t.id), t.id === this.selectedId,
        (t.viewers || []).map((v) => [v.agent_id, v.state])]);  // issue 16: who else has it open
      if (!li) {
        li = h("li", { dataset: { id: t.id } }, h("a", { class: "ticket-row", href: `#/ticket/${t.id}` }));
      }
      if (li.dataset.sig !== sig) {
        li.dataset.sig = sig;
        this.fillRow(li.firstChild, t);
      }
      existing.delete(t.id);
      return li;
    });
    existing.forEach((li) => li.remove());
    const same = rows.length === this.list.children.length && rows.every((li, i) => this.list.children[i] === li);
    if (!same) {
      this.list.append(...rows);
      if (focusedId) this.list.querySelector(`li[data-id="${CSS.escape(focusedId)}"] a`)?.focus({ preventScroll: true });
      scroller.scrollTop = scrollTop;
    }
  }

  fillRow(a, t) {
    const selected = t.id === this.selectedId;
    a.classList.toggle("selected", selected);
    a.classList.toggle("is-new", this.fresh.has(t.id));
    if (selected) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
    const sentiment = t.classification?.sentiment;
    a.replaceChildren(
      h("span", { class: `prio ${priorityClass(t.priority)}`, title: "Priority (0–100)" },
        h("span", { class: "visually-hidden" }, "Priority "), String(t.priority ?? 0)),
      h("span", { class: "row-main" },
        h("span", { class: "row-top" }, channelBadge(t.channel, { kind: t.kind }),
          h("span", { class: "muted meta" }, [t.brand ? `· ${humanize(t.brand)} ` : "", "· ",
            h("time", { datetime: t.last_inbound_at || t.created_at }, clock(t.last_inbound_at || t.created_at))]),
          this.fresh.has(t.id) ? h("span", { class: "badge new" }, "New") : null,
          h("span", { class: "when" }, slaChip(t))),
        h("span", { class: "preview", dir: "auto" }, t.customer_name ? h("strong", { class: "who" }, `${t.customer_name}: `) : "",
          t.subject ? `${t.subject} — ` : "", t.last_message_preview || "(no text)"),
        h("span", { class: "row-badges" }, viewersMarker(t.viewers), sentimentBadge(sentiment), languageBadge(t.language),
          t.topic ? h("span", { class: "badge topic" }, humanize(t.topic)) : null,
          t.assignee ? h("span", { class: "badge assignee", title: "Assigned to" },
            h("span", { class: "visually-hidden" }, "Assigned to "), `@${t.assignee}`) : h("span", { class: "badge unassigned" }, "Unassigned"))));
  }

  select(id) {
    this.selectedId = id;
    this.fresh.delete(id);
    for (const li of this.list.children) {
      const on = li.dataset.id === id;
      const a = li.firstChild;
      a.classList.toggle("selected", on);
      if (on) { a.setAttribute("aria-current", "true"); a.classList.remove("is-new"); a.querySelector(".badge.new")?.remove(); }
      else a.removeAttribute("aria-current");
    }
  }

  // j/k: the next or previous ticket in the list, opened, its row focused and in view.
  step(delta) {
    if (!this.items.length) return;
    const index = this.items.findIndex((t) => t.id === this.selectedId);
    const next = index < 0 ? 0 : Math.max(0, Math.min(this.items.length - 1, index + delta));
    const id = this.items[next].id;
    const a = this.list.querySelector(`li[data-id="${CSS.escape(id)}"] a`);
    a?.focus({ preventScroll: true });
    a?.scrollIntoView({ block: "nearest" });
    this.onOpen(id);
  }

  // the ticket to open after `id` is done: the next below it, else above, else the top one
  neighbour(id) {
    const i = this.items.findIndex((t) => t.id === id);
    if (i < 0) return this.items.find((t) => t.id !== id)?.id || null;
    return (this.items[i + 1] || this.items[i - 1] || null)?.id || null;
  }

  start() {
    this.stop();
    if (this.seen === null) this.load(); else this.load({ poll: true });
    this.timer = setInterval(() => { if (!document.hidden) this.load({ poll: true }); }, this.pollMs);
  }

  stop() { clearInterval(this.timer); this.timer = null; }

  focusSearch() { this.search.focus(); this.search.select(); }

  // The open ticket's row, else the first one, else the list's heading (after sign-in, and on Esc
  // in a filter field); `whenLoaded`: once the first load has rendered the rows.
  focusList({ whenLoaded = false } = {}) {
    if (whenLoaded && this.seen === null) { this.focusOnLoad = true; return; }
    const id = this.selectedId || this.items[0]?.id;
    const row = id && this.list.querySelector(`li[data-id="${CSS.escape(id)}"] a`);
    (row || this.heading).focus({ preventScroll: !!row });
  }
}

export { $ };
