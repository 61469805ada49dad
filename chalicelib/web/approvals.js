// The supervisor's approvals page (issue 16, point 2): public replies held by the brand's approval
// rules, oldest first (GET /api/approvals), each with Approve, Edit and approve (the edited text is
// what goes out, planned again by the reply policy: a 422 is shown) and Reject (a reason the author
// sees on her reply). A second decision (another supervisor was quicker) is a 409: said, and the
// list reloaded. Below, the approval rules of the supervisor's brands (GET/PUT /api/approval-rules).

import { call, query } from "./api.js";
import { channelBadge, channelIds, channelName } from "./channels.js";
import { ago, announce, h, humanize, toast } from "./dom.js";

export class Approvals {
  constructor({ pollMs }) {
    this.pollMs = pollMs;
    this.items = [];
    this.el = this.build();
  }

  build() {
    this.list = h("ol", { class: "approvals", "aria-labelledby": "approvals-queue-title" });
    this.empty = h("p", { class: "placeholder", role: "status" }, "Loading the replies waiting for approval…");
    this.more = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => this.load(this.cursor) },
      "Show more");
    this.rulesBox = h("div", { class: "approval-rules" }, h("p", { class: "muted" }, "Loading the rules…"));
    return h("div", { class: "page approvals-page" },
      h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Approvals"),
        h("button", { type: "button", class: "secondary", onclick: () => this.load() }, "Refresh")),
      h("section", { class: "panel", "aria-labelledby": "approvals-queue-title" },
        h("h2", { id: "approvals-queue-title" }, "Public replies waiting for approval"), this.empty, this.list, this.more),
      h("section", { class: "panel", "aria-labelledby": "approval-rules-title" },
        h("h2", { id: "approval-rules-title" }, "Which public replies wait"), this.rulesBox));
  }

  start() {
    this.load();
    this.loadRules();
    this.stop();
    this.timer = setInterval(() => { if (!document.hidden && !this.el.contains(document.activeElement)) this.load(); },
      Math.max(this.pollMs * 2, 5000));
  }

  stop() { clearInterval(this.timer); this.timer = null; }

  async load(cursor = null) {
    const res = await call(`/approvals${query({ limit: 50, cursor })}`);
    if (!res.ok) {
      this.empty.hidden = false;
      this.empty.textContent = `Could not load the approvals: ${res.error}`;
      return;
    }
    this.items = cursor ? [...this.items, ...res.data.items] : res.data.items;
    this.cursor = res.data.next_cursor;
    this.more.hidden = !this.cursor;
    this.empty.hidden = this.items.length > 0;
    this.empty.textContent = "No reply is waiting for approval.";
    this.list.replaceChildren(...this.items.map((item) => this.row(item)));
  }

  row(item) {
    const t = item.ticket || {};
    const text = h("textarea", { class: "approval-text", rows: 3, dir: "auto", readonly: true,
      "aria-label": `Reply by ${item.author?.name || item.agent_id}` });
    text.value = item.text || "";
    const error = h("p", { class: "error", role: "alert" });
    const reason = h("input", { type: "text", class: "reject-reason", maxlength: 1000, placeholder: "Why, for the author",
      "aria-label": "Reason for rejecting" });
    const rejectBox = h("div", { class: "reject-box", hidden: true }, reason,
      h("button", { type: "button", class: "danger", "data-action": "confirm-reject",
        onclick: () => this.reject(item, reason.value, error, reason) }, "Reject reply"),
      h("button", { type: "button", class: "secondary", onclick: () => { rejectBox.hidden = true; } }, "Cancel"));
    const approve = h("button", { type: "button", "data-action": "approve",
      onclick: () => this.approve(item, text.readOnly ? null : text.value, error) }, "Approve");
    const edit = h("button", { type: "button", class: "secondary", "data-action": "edit",
      onclick: () => {
        text.readOnly = false;
        text.focus();
        approve.textContent = "Approve edited reply";
        edit.hidden = true;
      } }, "Edit and approve");
    const reject = h("button", { type: "button", class: "secondary", "data-action": "reject",
      onclick: () => { rejectBox.hidden = false; reason.focus(); } }, "Reject…");
    return h("li", { class: "approval", dataset: { id: item.id } },
      h("div", { class: "approval-head" },
        channelBadge(item.platform),
        h("a", { href: `#/ticket/${encodeURIComponent(item.ticket_id)}` }, t.customer_name || t.subject || "Open the ticket"),
        h("span", { class: "muted" }, `by ${item.author?.name || item.agent_id} · waiting ${ago(item.submitted_at)}`)),
      t.last_message_preview ? h("blockquote", { class: "approval-customer", dir: "auto" }, t.last_message_preview) : null,
      h("p", { class: "approval-reasons" }, "Held for: ", (item.reasons || []).join(", ") || "the brand's rules"),
      text,
      h("div", { class: "approval-actions" }, approve, edit, reject),
      rejectBox, error);
  }

  async approve(item, text, error) {
    error.textContent = "";
    const res = await call(`/approvals/${encodeURIComponent(item.id)}/approve`, { method: "POST",
      body: text === null ? {} : { text } });
    if (res.ok) {
      toast("Approved: the reply is on its way");
      announce("Reply approved and queued");
      await this.load();
      return;
    }
    await this.refused(res, error, "approve");
  }

  async reject(item, reason, error, input) {
    error.textContent = "";
    if (!reason.trim()) { error.textContent = "Say why: the author sees the reason."; input.focus(); return; }
    const res = await call(`/approvals/${encodeURIComponent(item.id)}/reject`, { method: "POST", body: { reason } });
    if (res.ok) {
      toast("Rejected: the author sees your reason");
      announce("Reply rejected");
      await this.load();
      return;
    }
    await this.refused(res, error, "reject");
  }

  async refused(res, error, what) {
    if (res.status === 409 || res.status === 404) {
      toast("Someone decided this reply already; the list is reloaded", "error");
      await this.load();
      return;
    }
    error.textContent = res.status === 422 ? `The platform would refuse this: ${res.error}` : `Could not ${what}: ${res.error}`;
  }

  // -- the rules of the supervisor's brands ---------------------------------------------------------
  async loadRules() {
    // every brand of hers (as GET /api/surveys lists them), with its rules or none yet
    const [res, mine] = await Promise.all([call("/approval-rules"), call("/surveys")]);
    if (!res.ok) { this.rulesBox.replaceChildren(h("p", { class: "error" }, `Could not load the rules: ${res.error}`)); return; }
    this.rules = res.data;
    const brands = [...new Set([...Object.keys(res.data.brands),
      ...(mine.ok ? (mine.data.items || []).map((i) => i.brand) : [])])].sort();
    this.rulesBox.replaceChildren(
      h("p", { class: "muted" }, "A public reply waits for a supervisor when any rule of its brand holds. ",
        "Supervisors' own replies, private replies and automatic ones never wait."),
      ...brands.map((brand) => this.rulesForm(brand, res.data.brands[brand] || {})),
      mine.ok ? null : this.newBrandForm(brands));
  }

  newBrandForm(known) {
    const input = h("input", { type: "text", "aria-label": "Brand", placeholder: "brand id", pattern: "[a-z0-9-]{1,40}" });
    return h("form", { class: "inline-form", onsubmit: (e) => {
      e.preventDefault();
      const brand = input.value.trim();
      if (!brand || known.includes(brand)) return;
      this.rulesBox.insertBefore(this.rulesForm(brand, {}), e.target);
      input.value = "";
    } }, input, h("button", { type: "submit", class: "secondary" }, "Add rules for a brand"));
  }

  rulesForm(brand, rules) {
    const id = (name) => `rules-${brand}-${name}`;
    const channels = channelIds().map((c) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "channel", value: c, checked: (rules.channels || []).includes(c) }), channelName(c)));
    const agents = h("input", { type: "text", id: id("agents"), value: (rules.agents || []).join(", ") });
    const newAgents = h("input", { type: "checkbox", id: id("new"), checked: !!rules.new_agents });
    const minPriority = h("input", { type: "number", id: id("prio"), min: 0, max: 100,
      value: rules.min_priority ?? "" });
    const negative = h("input", { type: "checkbox", id: id("neg"), checked: !!rules.negative_sentiment });
    const status = h("p", { class: "hint", role: "status" });
    const form = h("form", { class: "rules-form", dataset: { brand }, onsubmit: async (e) => {
      e.preventDefault();
      const body = { version: this.rules.version, rules: {
        channels: [...form.querySelectorAll("input[name=channel]:checked")].map((i) => i.value),
        agents: agents.value.split(",").map((a) => a.trim()).filter(Boolean),
        new_agents: newAgents.checked,
        min_priority: minPriority.value === "" ? null : Number(minPriority.value),
        negative_sentiment: negative.checked } };
      const res = await call(`/approval-rules/${encodeURIComponent(brand)}`, { method: "PUT", body });
      if (!res.ok) {
        status.textContent = res.status === 409 ? "Someone saved the rules meanwhile; reloaded. Check and save again."
          : `Not saved: ${res.error}`;
        if (res.status === 409) await this.loadRules();
        return;
      }
      this.rules = res.data;
      status.textContent = "Saved.";
      announce(`Approval rules of ${brand} saved`);
    } },
    h("h3", {}, humanize(brand)),
    h("fieldset", {}, h("legend", {}, "Replies on these channels"), ...channels),
    h("label", { for: id("agents") }, "Replies by these agents (ids, comma-separated)"), agents,
    h("label", { class: "check" }, newAgents, "Replies by new agents (marked “needs approval” on their record)"),
    h("label", { for: id("prio") }, "Replies to tickets of at least this priority (empty: none)"), minPriority,
    h("label", { class: "check" }, negative, "Replies to customers who wrote negatively"),
    h("button", { type: "submit" }, "Save rules"), status);
    return form;
  }
}
