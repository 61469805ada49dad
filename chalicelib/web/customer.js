// The customer page (#/customer/<id>): the person whole — identities on every channel, tags and
// CRM value, their tickets, one timeline of what they wrote and were answered (the text, from each
// ticket's messages) with the CRM's events, and the profiles the desk suspects are the same person
// (same email, phone or handle on another channel: GET /api/customers/{id}/duplicates). A
// supervisor merges a suspect into this profile from here, and undoes it from the same notice.

import { call, session } from "./api.js";
import { channelBadge, channelName } from "./channels.js";
import { clock, fullTime, h } from "./dom.js";

const TICKETS_READ = 10;  // tickets whose messages the timeline reads at a time (one request each), newest first

export async function show(main, id) {
  const page = new CustomerPage(id);
  main.replaceChildren(page.el);
  document.title = "Customer · Social care desk";
  await page.load();
  page.heading.focus();
  return page;
}

export class CustomerPage {
  constructor(id) {
    this.id = id;
    this.heading = h("h1", { tabindex: "-1" }, "Customer");
    this.notice = h("div", { class: "customer-notice", "aria-live": "polite" });
    this.body = h("div", { class: "customer-body", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
    this.el = h("div", { class: "page customer-page" }, h("div", { class: "page-head" }, this.heading), this.notice, this.body);
  }

  async load() {
    this.body.setAttribute("aria-busy", "true");
    const [res, dupes] = await Promise.all([call(`/customers/${encodeURIComponent(this.id)}`),
      call(`/customers/${encodeURIComponent(this.id)}/duplicates`)]);
    if (!res.ok) {
      this.body.setAttribute("aria-busy", "false");
      this.heading.textContent = "Customer";
      this.body.replaceChildren(h("p", { class: "notice" }, res.status === 404 ? "No such customer, or not one of your brands."
        : `Could not load the customer: ${res.error}`));
      return;
    }
    const c = res.data;
    if (c.redirected_from && c.id && c.id !== this.id) this.id = c.id;  // merged away: the survivor's page
    const tickets = c.tickets || [];
    // the timeline: the CRM's events and the messages of the newest tickets; "Show older" reads the
    // next tickets' messages, and the next page of the customer's tickets once those are read
    this.tickets = tickets;
    this.cursor = c.next || null;
    this.read = 0;
    this.entries = (c.events || []).map((e) => ({ at: e.at, kind: "crm", text: e.summary, crmKind: e.kind, amount: e.amount }));
    this.timelineBox = h("div", { class: "customer-timeline-box" });
    await this.readOlder();
    this.heading.textContent = c.name || "Customer";
    this.body.setAttribute("aria-busy", "false");
    this.body.replaceChildren(
      h("div", { class: "customer-facts" },
        c.vip ? h("span", { class: "badge vip" }, "VIP") : null,
        c.lifetime_value ? h("span", { class: "muted" }, `Lifetime value ${Number(c.lifetime_value).toLocaleString("en")}`) : null,
        h("span", { class: "customer-tags", "aria-label": "Tags" },
          (c.tags || []).length ? (c.tags || []).map((t) => h("span", { class: "badge tag" }, `#${t}`)) : h("span", { class: "muted" }, "No tags"))),
      h("div", { class: "customer-grid" },
        section("Identities", "cust-identities", h("ul", { class: "identity-list" }, (c.identities || []).map((i) => h("li", { dataset: { platform: i.platform } },
          channelBadge(i.platform), " ", h("strong", {}, i.name || ""), i.handle ? h("span", { class: "muted" }, ` @${i.handle}`) : null,
          i.followers ? h("span", { class: "muted" }, ` · ${Number(i.followers).toLocaleString("en")} followers`) : null)))),
        section("Tickets", "cust-tickets", tickets.length ? h("ul", { class: "customer-tickets" }, tickets.map((t) => h("li", { dataset: { ticket: t.id } },
          h("a", { href: `#/ticket/${encodeURIComponent(t.id)}` }, t.last_message_preview || t.subject || t.id), " ",
          channelBadge(t.channel, { label: false }), h("span", { class: `badge status-${t.status}` }, t.status),
          h("span", { class: "muted" }, ` ${clock(t.created_at)}`))))
          : h("p", { class: "muted" }, "No tickets of your brands."))),
      this.suspects(dupes),
      section("Timeline", "cust-timeline", this.timelineBox),
    );
  }

  // The next TICKETS_READ tickets' messages into the timeline (after fetching the customer's next
  // page of tickets when every listed one is read), then the timeline painted again.
  async readOlder(button) {
    if (button) button.disabled = true;
    if (this.read >= this.tickets.length && this.cursor) {
      const more = await call(`/customers/${encodeURIComponent(this.id)}?cursor=${encodeURIComponent(this.cursor)}`);
      if (more.ok) {
        const known = new Set(this.tickets.map((t) => t.id));
        this.tickets.push(...(more.data.tickets || []).filter((t) => !known.has(t.id)));
        this.cursor = more.data.next || null;
      } else this.cursor = null;
    }
    const batch = this.tickets.slice(this.read, this.read + TICKETS_READ);
    this.read += batch.length;
    const shown = await Promise.all(batch.map((t) => call(`/tickets/${encodeURIComponent(t.id)}`)));
    this.entries.push(...shown.filter((r) => r.ok).flatMap((r) => (r.data.messages || [])
      .filter((m) => ["in", "out", "note"].includes(m.direction))
      .map((m) => ({ at: m.created_at, kind: m.direction, channel: m.platform || r.data.channel, text: m.text, ticket: r.data.id }))));
    this.paintTimeline();
    if (button) this.timelineBox.querySelector(".timeline-older")?.focus();
  }

  paintTimeline() {
    const timeline = [...this.entries].sort((a, b) => String(a.at).localeCompare(String(b.at)));
    const older = this.read < this.tickets.length || this.cursor;
    this.timelineBox.replaceChildren(
      older ? h("button", { type: "button", class: "secondary timeline-older", onclick: (e) => this.readOlder(e.currentTarget) },
        `Show older (${this.read} of ${this.tickets.length}${this.cursor ? "+" : ""} tickets shown)`) : null,
      timeline.length ? h("ol", { class: "customer-timeline" }, timeline.map((e) => h("li", { class: `tl-${e.kind}`, dataset: { kind: e.kind } },
        h("div", { class: "tl-meta" }, e.kind === "crm" ? h("span", { class: "badge" }, `CRM ${e.crmKind}`) : channelBadge(e.channel),
          h("span", { class: "muted" }, e.kind === "in" ? " wrote" : e.kind === "out" ? " answered" : e.kind === "note" ? " internal note" : ""),
          h("time", { datetime: e.at, title: fullTime(e.at) }, ` ${clock(e.at)}`)),
        h("p", { class: "tl-text" }, e.text || "", e.amount ? ` (${e.amount})` : ""))))
        : h("p", { class: "muted" }, "Nothing yet."));
  }

  suspects(res) {
    if (!res.ok) return section("Possible duplicates", "cust-dupes", h("p", { class: "muted" }, "Could not look for duplicates."));
    const items = res.data.items || [];
    const canMerge = session.isSupervisor;
    return section("Possible duplicates", "cust-dupes", items.length ? h("ul", { class: "suspects" }, items.map((s) => h("li", { dataset: { customer: s.customer_id } },
      h("div", {}, h("a", { href: `#/customer/${encodeURIComponent(s.customer_id)}` }, s.name || "Unnamed customer"),
        h("span", { class: "muted" }, ` — ${(s.reasons || []).join("; ")}`)),
      h("div", { class: "muted" }, (s.identities || []).map((i) => `${channelName(i.platform)}${i.handle ? ` @${i.handle}` : ""}`).join(", ")),
      canMerge ? h("button", { type: "button", class: "secondary", onclick: (e) => this.merge(s, e.currentTarget) },
        `Merge ${s.name || "this profile"} into this customer`) : null)))
      : h("p", { class: "muted" }, "None: no other profile has the same email, phone or handle on another channel."),
    canMerge || !items.length ? null : h("p", { class: "muted" }, "A supervisor can merge them."));
  }

  async merge(suspect, button) {
    button.disabled = true;
    const res = await call(`/customers/${encodeURIComponent(this.id)}/merge`, { method: "POST", body: { other_id: suspect.customer_id } });
    if (!res.ok) {
      button.disabled = false;
      this.say(`Could not merge: ${res.error}`, "error");
      return;
    }
    const merge = res.data.merge;
    await this.load();
    const undo = h("button", { type: "button", class: "secondary", onclick: () => this.undo(merge, suspect) }, "Undo merge");
    this.say(`Merged ${suspect.name || "the profile"} into this customer.`, "ok", undo);
    undo.focus();
  }

  async undo(merge, suspect) {
    const res = await call(`/customers/${encodeURIComponent(this.id)}/merges/${encodeURIComponent(merge.id)}/undo`, { method: "POST" });
    if (!res.ok) {
      this.say(`Could not undo the merge: ${res.error}`, "error");
      return;
    }
    await this.load();
    this.say(`Merge undone: ${suspect.name || "the profile"} is a customer of its own again.`, "ok");
  }

  say(text, kind, ...extra) {
    this.notice.replaceChildren(h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text, " ", ...extra));
  }
}

function section(title, id, ...content) {
  return h("section", { class: "customer-section", "aria-labelledby": id }, h("h2", { id }, title), ...content);
}
