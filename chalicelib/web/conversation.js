// One ticket: the conversation in order, the composer, claim, status, done; and beside it why the
// ticket has its priority and who the customer is on every platform.
//
// The composer has two modes, switched only explicitly (their tabs, Alt+R / Alt+N, or r / n):
// "Reply" (visibility from reply_options, the platform's own character count, templates; Ctrl+Enter
// sends to the customer) and "Internal note" (amber, its own text box; Ctrl+Enter saves a note
// through the notes route and can reach nothing else). Each mode keeps its own draft, so a note
// is never in the box a reply is sent from, and switching modes never sends anything.
//
// The composer is built once per ticket and never re-rendered by the live refresh: drafts
// survive polls, route changes and reloads of the tab (sessionStorage).
//
// After a reply the ticket moves on in the same step when the agent picks "Send and set Pending" or
// "Send and close" (the brand's default from GET /api/reply-settings): the reply is queued (202),
// then the status is PATCHed over the version read after it; a 409 there is said, the reply stays
// sent, and the next ticket opens only when both went through.
//
// Below 1100 px the side panel is a drawer: the "Details" button or `i` opens it, Esc closes it.
// Templates: the "Templates" button, or `/` in an empty reply box, opens a searchable picker.

import { call, newKey, session } from "./api.js";
import { measure, unitWord } from "./count.js";
import { channelBadge, channelCounter, channelName, kindName } from "./channels.js";
import { svgIcon } from "./icons.js";
import { languageBadge, priorityClass, sentimentBadge, slaChip } from "./inbox.js";
import { Presence, staleNotice } from "./collision.js";
import { $, ago, announce, clock, compact, duration, fullTime, h, httpUrl, humanize, isTyping, parseTime, toast } from "./dom.js";

const DRAFTS_KEY = "care-desk-drafts";
const MODES = ["reply", "note"];
const STATUS_LABELS = { open: "Open", pending: "Pending", on_hold: "On hold", closed: "Closed" };
const AFTER_REPLY = { open: "Send reply", pending: "Send and set Pending", closed: "Send and close" };
const NARROW = "(max-width: 1100px)";
const OUT_STATUS = {
  queued: "Queued", sending: "Sending…", retrying: "Retrying", unconfirmed: "Checking with the platform",
  sent: "Sent", failed: "Failed",
  pending_approval: "Waiting for approval", rejected: "Rejected", // issue 16: held for a supervisor
};

// Issue 16, point 4: the ticket's CSAT (the customer's survey answer, or a supervisor's entry) and
// whether its survey went out; nothing when neither happened.
function csatFacts(t) {
  if (t.csat != null) {
    const who = t.csat_source === "supervisor" ? "entered by a supervisor" : "from the customer";
    return [h("dt", {}, "CSAT"), h("dd", { class: "csat", "data-csat": String(t.csat) },
      h("span", { class: `badge csat-score csat-${t.csat}` }, `${t.csat}/5`), " ",
      h("span", { class: "muted" }, who), t.csat_comment ? h("q", { class: "csat-comment", dir: "auto" }, t.csat_comment) : null)];
  }
  if (t.survey_sent_at) {
    return [h("dt", {}, "CSAT"), h("dd", { class: "csat pending" }, "Survey sent ", clock(t.survey_sent_at), h("span", { class: "muted" }, " · no answer yet"))];
  }
  return [];
}

// A CSAT survey on the timeline (issue 16, point 4): the answers the customer was offered, as they see them.
function surveyChoices(m) {
  const choices = String(m.kind || "").endsWith("_survey") ? m.target?.survey?.choices : null;
  if (!choices || !choices.length) return null;
  return h("ul", { class: "survey-choices", "aria-label": "Answers offered" },
    choices.map((c) => h("li", { class: "badge", title: `CSAT ${c.score} of 5` }, c.title)));
}

function ruleName(rule) {
  const [head, tail] = String(rule || "").split(":");
  const name = { vip: "VIP", base: "Base score", clamp: "Capped at 100", sla: "SLA" }[head] || humanize(head);
  return tail ? `${name}: ${humanize(tail).toLowerCase()}` : name;
}

// A timestamp in an event's changes, as an agent reads it: "Paused until 03:56", never an ISO string.
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;
function describeChange(key, value) {
  if (value === null) return `${humanize(key).toLowerCase()} → none`;
  if (Array.isArray(value)) return `${humanize(key).toLowerCase()} → ${value.join(", ") || "none"}`;
  const text = String(value);
  if (ISO_TIME.test(text) && parseTime(text) !== null) {
    const at = clock(text);
    const until = key.match(/^(.*)_until$/);
    if (until) return `${humanize(until[1])} until ${at}`;
    const when = key.match(/^(.*)_at$/);
    if (when) return `${humanize(when[1])} at ${at}`;
    return `${humanize(key).toLowerCase()} → ${at}`;
  }
  return `${humanize(key).toLowerCase()} → ${humanize(text)}`;
}

function loadDrafts() {
  try { return JSON.parse(sessionStorage.getItem(DRAFTS_KEY) || "{}"); } catch { return {}; }
}

export class Conversation {
  constructor({ pollMs, onDone }) {
    this.pollMs = pollMs;
    this.onDone = onDone;
    this.drafts = loadDrafts();
    this.ticket = null;
    this.id = null;
    this.timer = null;
    this.main = h("section", { class: "pane conversation", "aria-labelledby": "conv-title" });
    this.side = h("aside", { class: "pane sidebar", id: "ticket-details", tabindex: "-1",
      "aria-label": "Ticket and customer details", onkeydown: (e) => {
        if (e.key === "Escape" && this.drawerOpen) { e.preventDefault(); this.toggleDrawer(false); }
      } });
    this.afterReply = null; // GET /api/reply-settings, read once
    this.presence = new Presence(); // issue 16: heartbeats, and who else is on the ticket
    this.showEmpty();
    this.wireDesk();
    // the reply window's countdown ticks once a second from the server's end of the window
    setInterval(() => this.paintWindow(), 1000);
  }

  // Keys and controls this view owns outside its own elements: `i` for the details drawer, the
  // "Skip to the reply box" link, and Enter in the Done dialog.
  wireDesk() {
    document.addEventListener("keydown", (e) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || !this.main.isConnected || !this.ticket) return;
      if (document.querySelector("dialog[open]")) return;
      if (e.key === "Escape" && this.drawerOpen && !isTyping(e.target)) { e.preventDefault(); this.toggleDrawer(false); return; }
      if (e.key !== "i" || isTyping(e.target)) return;
      e.preventDefault();
      this.toggleDrawer();
    });
    this.skipLink = h("a", { class: "skip skip-reply", href: "#reply-text", hidden: true,
      onclick: (e) => { e.preventDefault(); this.focusReply(); } }, "Skip to the reply box");
    document.querySelector(".skip")?.after(this.skipLink);
    // Enter submits the Done dialog (Ctrl+Enter in its note box, where Enter breaks a line)
    $("#done-form")?.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.shiftKey || e.altKey || e.isComposing) return;
      const inNote = e.target.tagName === "TEXTAREA";
      if (e.target.tagName === "BUTTON" || (inNote && !(e.ctrlKey || e.metaKey))) return;
      e.preventDefault();
      e.currentTarget.requestSubmit();
    });
  }

  // The details drawer (below 1100 px; wider, the panel is always shown and `i` moves focus to it).
  toggleDrawer(open = !this.drawerOpen) {
    if (!window.matchMedia(NARROW).matches) {
      this.drawerOpen = false;
      this.side.classList.remove("open");
      if (open) this.side.focus();
      return;
    }
    this.drawerOpen = open;
    this.side.classList.toggle("open", open);
    this.drawerButton?.setAttribute("aria-expanded", String(open));
    if (open) { this.side.focus(); announce("Ticket details shown"); } else this.drawerButton?.focus();
  }

  showEmpty() {
    this.id = null;
    this.ticket = null;
    this.drawerOpen = false;
    this.side.classList.remove("open");
    if (this.skipLink) this.skipLink.hidden = true;
    this.stop();
    this.presence.watch(null);
    this.main.replaceChildren(h("div", { class: "placeholder" },
      h("h2", { id: "conv-title", tabindex: "-1" }, "No ticket open"),
      h("p", {}, "Pick a ticket from the inbox, or press ", h("kbd", {}, "j"), " for the first one.")));
    const key = (k, what) => [h("dt", {}, h("kbd", {}, k)), h("dd", {}, what)];
    this.side.replaceChildren(h("section", { class: "card", "aria-labelledby": "keys-title" },
      h("h3", { id: "keys-title" }, "Keyboard"),
      h("dl", { class: "keys small" }, key("j", "next ticket"), key("k", "previous ticket"), key("r", "reply"),
        key("n", "internal note"), key("d", "done without reply"), key("c", "claim"), key("i", "details panel"), key("/", "search"), key("?", "all shortcuts"))));
  }

  async open(id, { focus = false } = {}) {
    if (this.id !== id) {
      this.id = id;
      this.ticket = null;
      this.renderedSig = null;
      this.detailsSig = null;
      this.main.replaceChildren(h("p", { class: "placeholder", role: "status" }, "Loading the conversation…"));
      this.side.replaceChildren();
    }
    await this.refresh();
    if (focus) $("#conv-title", this.main)?.focus();
    this.stop();
    this.timer = setInterval(() => { if (!document.hidden) this.refresh(); }, this.pollMs);
    this.presence.watch(id);
  }

  stop() { clearInterval(this.timer); this.timer = null; }

  async refresh() {
    const id = this.id;
    if (!id) return;
    const res = await call(`/tickets/${encodeURIComponent(id)}`);
    if (id !== this.id) return; // the agent moved on meanwhile
    if (!res.ok) {
      if (!this.ticket) {
        this.main.replaceChildren(h("div", { class: "placeholder" },
          h("h2", { id: "conv-title", tabindex: "-1" }, res.status === 404 ? "No such ticket" : "Could not load the ticket"),
          h("p", { class: "error" }, res.error)));
      }
      return;
    }
    const first = !this.ticket;
    this.ticket = res.data;
    if (first) this.build();
    this.update();
  }

  // -- layout ----------------------------------------------------------------------------------
  build() {
    const t = this.ticket;
    this.titleEl = h("h2", { id: "conv-title", tabindex: "-1" });
    this.chips = h("div", { class: "chips" });
    this.statusSelect = h("select", { id: "ticket-status", onchange: (e) => this.patch({ status: e.target.value }) },
      Object.entries(STATUS_LABELS).map(([v, l]) => h("option", { value: v }, l)));
    this.claimButton = h("button", { type: "button", class: "secondary", onclick: () => this.claim(),
      "aria-keyshortcuts": "c" }, "Claim");
    this.doneButton = h("button", { type: "button", class: "secondary", onclick: () => this.openDone(),
      "aria-keyshortcuts": "d" }, "Done…");
    this.drawerButton = h("button", { type: "button", class: "secondary drawer-toggle", "aria-controls": "ticket-details",
      "aria-expanded": String(Boolean(this.drawerOpen)), "aria-keyshortcuts": "i", onclick: () => this.toggleDrawer() },
    "Details ", h("kbd", { "aria-hidden": "true" }, "i"));
    const head = h("header", { class: "conv-head" },
      h("div", { class: "conv-title-row" }, this.titleEl,
        h("div", { class: "actions" },
          h("label", { for: "ticket-status", class: "inline-label" }, "Status"), this.statusSelect,
          this.claimButton, this.doneButton, this.drawerButton)),
      this.chips, this.presence.el);
    this.messages = h("ol", { class: "messages", "aria-label": "Conversation, oldest first", tabindex: "0" });
    this.main.replaceChildren(head, this.messages, this.buildComposer());
    this.skipLink.hidden = false;
    this.loadTemplates();
    this.loadSuggestions();
    this.loadAfterReply();
  }

  update() {
    const t = this.ticket;
    this.renderMessages();
    this.updateReplyOptions();
    this.presence.show(t.viewers); // issue 16: kept out of the signature below, it changes with every heartbeat
    // the rest is rebuilt only when it changed: a poll must not take the focus from a link in it
    const { messages, reply_options: _, viewers: __, ...rest } = t;
    const sig = JSON.stringify(rest);
    if (sig === this.detailsSig) return;
    this.detailsSig = sig;
    const customer = this.customerName();
    this.titleEl.textContent = customer;
    this.titleEl.setAttribute("aria-label", `${customer}: ${channelName(t.channel)} ${kindName(t.channel, t.kind)}`);
    this.chips.replaceChildren(...[
      channelBadge(t.channel, { kind: t.kind }),
      t.brand ? h("span", { class: "muted" }, humanize(t.brand)) : null,
      t.subject ? h("span", { class: "subject", dir: "auto", title: t.subject }, `“${t.subject}”`) : null,
      h("span", { class: `prio ${priorityClass(t.priority)}`, title: "Priority (0–100); why: see the side panel" },
        h("span", { class: "visually-hidden" }, "Priority "), String(t.priority ?? 0)),
      slaChip(t),
      sentimentBadge(t.classification?.sentiment), languageBadge(t.language),
      t.topic ? h("span", { class: "badge topic" }, humanize(t.topic)) : null,
      t.assignee ? h("span", { class: "badge assignee" }, h("span", { class: "visually-hidden" }, "Assigned to "), `@${t.assignee}`)
        : h("span", { class: "badge unassigned" }, "Unassigned"),
      ...(t.tags || []).map((tag) => h("span", { class: "badge tag" }, `#${tag}`))].filter(Boolean));
    this.statusSelect.value = t.status;
    this.claimButton.hidden = t.assignee === session.agentId;
    this.doneButton.disabled = t.status === "closed";
    this.renderSide();
  }

  // Who the customer is, never an id: a profile first seen without a name holds its platform id.
  customerName() {
    const t = this.ticket;
    const ids = new Set((t.customer?.identities || []).map((i) => String(i.user_id)));
    const real = (n) => (n && !ids.has(n) && !/^\+?\d+$/.test(n.trim()) && !n.startsWith("unknown:") ? n : null);
    const author = (t.messages || []).find((m) => m.direction === "in")?.author || {};
    return real(t.customer?.name) || t.customer_name || real(author.name)
      || (author.handle ? `@${author.handle}` : "Customer");
  }

  // -- messages --------------------------------------------------------------------------------
  renderMessages() {
    const list = this.ticket.messages || [];
    const sig = JSON.stringify(list.map((m) => [m.id, m.status, m.delivery_status, m.error?.reason]));
    if (sig === this.renderedSig) return;
    const firstRender = this.renderedSig === null;
    this.renderedSig = sig;
    const box = this.messages;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const scrollTop = box.scrollTop;
    box.replaceChildren(...list.map((m) => this.messageItem(m)));
    if (!list.length) box.append(h("li", { class: "event" }, "No messages yet."));
    if (firstRender || atBottom) box.scrollTop = box.scrollHeight; else box.scrollTop = scrollTop;
  }

  messageItem(m) {
    const time = (iso) => h("time", { datetime: iso, title: fullTime(iso) }, clock(iso));
    if (m.direction === "in") {
      const a = m.author || {};
      return h("li", { class: "msg in", dataset: { id: m.id } },
        h("div", { class: "msg-head" },
          h("strong", {}, a.name || a.handle || this.customerName()),  // never the author's id
          a.handle ? h("span", { class: "muted" }, `@${a.handle}`) : null,
          a.followers ? h("span", { class: "muted", title: "Followers" }, `${compact(a.followers)} followers`) : null,
          a.verified ? h("span", { class: "badge verified", title: "Verified by the platform" }, "✓ Verified") : null,
          time(m.created_at)),
        h("p", { class: "msg-text", dir: "auto" }, m.text || "(no text)"),
        this.attachments(m.attachments),
        m.classification ? h("div", { class: "msg-foot" }, sentimentBadge(m.classification.sentiment),
          m.visibility === "private" ? h("span", { class: "badge" }, "Private") : null) : null);
    }
    if (m.direction === "out") {
      const status = m.status || "queued";
      const delivery = m.delivery_status && m.delivery_status !== "sent" ? m.delivery_status : null;
      return h("li", { class: `msg out st-${status}`, dataset: { id: m.id, status } },
        h("div", { class: "msg-head" },
          h("strong", {}, m.author?.name || "Us"),
          h("span", { class: "muted" }, m.visibility === "private" ? "private reply" : "public reply"),
          time(m.sent_at || m.created_at)),
        h("p", { class: "msg-text", dir: "auto" }, m.text),
        surveyChoices(m),
        h("div", { class: "msg-foot" },
          h("span", { class: `badge status-${status}`, "data-testid": "reply-status" }, OUT_STATUS[status] || humanize(status)),
          delivery ? h("span", { class: `badge delivery-${delivery}` }, humanize(delivery)) : null,
          m.template_id ? h("span", { class: "muted", "data-template": m.template_id }, `template “${this.templateName(m.template_id)}”`) : null),
        (status === "failed" || m.delivery_status === "failed") && m.error?.reason
          ? h("p", { class: "error" }, h("strong", {}, "Not delivered: "), m.error.reason) : null,
        this.approvalNote(m));
    }
    if (m.direction === "note") {
      return h("li", { class: "msg note", dataset: { id: m.id } },
        h("div", { class: "msg-head" }, h("strong", {}, "Internal note"), h("span", { class: "muted" }, m.author?.name || ""),
          time(m.created_at)),
        h("p", { class: "msg-text", dir: "auto" }, m.text));
    }
    return h("li", { class: "event", dataset: { id: m.id } },
      h("span", {}, `${m.author?.name || "Someone"} ${this.describeEvent(m)}`), " · ", time(m.created_at));
  }

  describeEvent(m) {
    const changes = m.changes || {};
    const parts = Object.entries(changes)
      .filter(([k]) => !["closed_at", "done_without_reply", "priority_overridden_by"].includes(k))
      .map(([k, v]) => describeChange(k, v));
    const action = { claimed: "claimed the ticket", done: "marked it done", edited: "changed" }[m.action] || humanize(m.action || "updated").toLowerCase();
    return m.action === "claimed" ? action : `${action}${parts.length ? `: ${parts.join("; ")}` : ""}`;
  }

  attachments(list) {
    if (!list || !list.length) return null;
    // a platform's URL becomes a link only when it is http(s): never javascript:, data: or the like
    return h("ul", { class: "attachments", "aria-label": "Attachments" }, list.map((a, i) => {
      const href = httpUrl(a.url);
      return h("li", {}, href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, `${humanize(a.type || "file")} ${i + 1}`)
        : `${humanize(a.type || "attachment")} ${i + 1}`);
    }));
  }

  // -- composer: drafts ------------------------------------------------------------------------
  // One draft per ticket: `text` (the reply), `note` (the internal note), `mode`, the reply's
  // visibility, template and idempotency key. Always read through draft(): a send replaces the key.
  draft() {
    const d = this.drafts[this.id] || { text: "", visibility: null, templateId: null, key: newKey() };
    d.note ??= "";
    if (!MODES.includes(d.mode)) d.mode = "reply";
    this.drafts[this.id] = d;
    return d;
  }

  saveDraft() {
    const kept = Object.fromEntries(Object.entries(this.drafts).filter(([, d]) => d.text || d.note));
    sessionStorage.setItem(DRAFTS_KEY, JSON.stringify(kept));
  }

  // -- composer: the two modes -----------------------------------------------------------------
  buildComposer() {
    const tab = (mode, label, shortcut) => h("button", { type: "button", role: "tab", id: `composer-tab-${mode}`,
      class: `composer-tab tab-${mode}`, "aria-controls": `composer-${mode}`, "aria-keyshortcuts": shortcut,
      onclick: () => this.compose(mode), onkeydown: (e) => this.tabKeys(e) }, label);
    this.tabs = { reply: tab("reply", "Reply", "Alt+R"), note: tab("note", "Internal note", "Alt+N") };
    this.panels = { reply: this.buildReply(), note: this.buildNote() };
    this.composer = h("div", { class: "composer" },
      h("div", { class: "composer-tabs", role: "tablist", "aria-label": "Write" }, this.tabs.reply, this.tabs.note,
        h("span", { class: "composer-keys muted", "aria-hidden": "true" }, "Alt+R reply · Alt+N note")),
      this.panels.reply, this.panels.note);
    this.setMode(this.draft().mode);
    return this.composer;
  }

  get mode() { return this.composer?.dataset.mode || "reply"; }

  // Shows one mode's panel. Only ever called by an explicit switch (or to restore the draft's
  // mode); it moves no text between the modes and sends nothing.
  setMode(mode) {
    if (!MODES.includes(mode)) return;
    const d = this.draft();
    d.mode = mode;
    this.saveDraft();
    this.composer.dataset.mode = mode;
    for (const m of MODES) {
      const on = m === mode;
      this.tabs[m].setAttribute("aria-selected", String(on));
      this.tabs[m].tabIndex = on ? 0 : -1;
      this.panels[m].hidden = !on;
    }
  }

  // The r / n keys, Alt+R / Alt+N and the tabs: switch, then put the caret at the end of that draft.
  compose(mode) {
    if (!this.ticket || !this.composer) return;
    const announceIt = mode !== this.mode;
    this.setMode(mode);
    const box = mode === "note" ? this.noteText : this.text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    if (announceIt) announce(mode === "note" ? "Internal note: only agents see it" : "Reply to the customer");
  }

  // WAI-ARIA tabs: arrows, Home and End move between the two tabs
  tabKeys(e) {
    const i = MODES.indexOf(this.mode);
    const next = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: MODES.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const mode = MODES[(next + MODES.length) % MODES.length];
    this.setMode(mode);
    this.tabs[mode].focus();
  }

  // -- composer: reply -------------------------------------------------------------------------
  buildReply() {
    const d = this.draft();
    this.radios = {};
    this.visHints = {};
    this.visReasons = {};
    const option = (value, label) => {
      const input = h("input", { type: "radio", name: "visibility", value, id: `vis-${value}`,
        onchange: () => { this.draft().visibility = value; this.saveDraft(); this.updateCounter(); } });
      this.radios[value] = input;
      this.visHints[value] = h("span", { class: "hint", id: `vis-${value}-hint` });
      this.visReasons[value] = h("p", { class: "hint reason", id: `vis-${value}-reason`, hidden: true });
      input.setAttribute("aria-describedby", `vis-${value}-hint vis-${value}-reason`);
      return h("label", { class: "vis-option", for: `vis-${value}` }, input, h("span", { class: "vis-label" }, label), this.visHints[value]);
    };
    this.text = h("textarea", { id: "reply-text", name: "text", rows: 3, dir: "auto",
      "aria-describedby": "reply-count reply-error", placeholder: "Write a reply to the customer… (Ctrl+Enter sends)",
      oninput: () => {
        const draft = this.draft();
        draft.text = this.text.value;
        if (!draft.text) { draft.templateId = null; this.templateSelect.value = ""; }
        this.saveDraft();
        this.updateCounter();
        this.error.textContent = "";
        this.presence.typing();
      },
      onkeydown: (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.send(); }
        if (e.key === "Escape") { e.preventDefault(); this.text.blur(); }
        // `/` in an empty box opens the template picker (Chatwoot's canned responses); elsewhere it is a slash
        if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !this.text.value && this.templates?.length) {
          e.preventDefault();
          this.openPicker();
        }
      } });
    this.text.value = d.text;
    this.pickerButton = h("button", { type: "button", class: "secondary picker-button", disabled: true,
      "aria-haspopup": "listbox", "aria-expanded": "false", "aria-controls": "template-picker",
      title: "Search the templates (/ in an empty reply box)", onclick: () => this.openPicker() }, "Templates ", h("kbd", { "aria-hidden": "true" }, "/"));
    this.picker = this.buildPicker();
    this.thenSelect = h("select", { id: "reply-then", onchange: () => {
      this.draft().then = this.thenSelect.value;
      this.saveDraft();
      this.paintSendLabel();
    } }, Object.entries({ open: "Keep it open", pending: "Set Pending", closed: "Close it" })
      .map(([v, l]) => h("option", { value: v }, l)));
    this.templateSelect = h("select", { id: "reply-template", disabled: true, onchange: () => this.insertTemplate() },
      h("option", { value: "" }, "Loading templates…"));
    this.counter = h("span", { id: "reply-count", class: "counter", "aria-live": "off" });
    this.windowHint = h("span", { class: "muted window" });
    this.error = h("p", { id: "reply-error", class: "error", role: "alert" });
    this.sendButton = h("button", { type: "submit", class: "primary", id: "reply-send", "aria-keyshortcuts": "Control+Enter" }, "Send reply");
    this.suggestStrip = this.buildSuggestions();
    this.replyForm = h("form", { class: "reply", "aria-label": "Reply to the customer",
      onsubmit: (e) => { e.preventDefault(); this.send(); } },
      h("fieldset", { class: "visibility" }, h("legend", {}, "Reply as"), option("public", "Public"), option("private", "Private"),
        this.visReasons.public, this.visReasons.private),
      this.suggestStrip,
      h("label", { for: "reply-text", class: "visually-hidden" }, "Reply text"),
      this.text, this.picker,
      h("div", { class: "reply-foot" },
        h("div", { class: "template-field" }, h("label", { for: "reply-template", class: "visually-hidden" }, "Template"), this.templateSelect,
          this.pickerButton),
        this.counter, this.windowHint, h("span", { class: "spacer" }),
        h("div", { class: "then-field" }, h("label", { for: "reply-then" }, "Then"), this.thenSelect), this.sendButton),
      this.error);
    return h("div", { id: "composer-reply", role: "tabpanel", "aria-labelledby": "composer-tab-reply", class: "composer-panel" },
      this.replyForm);
  }

  // -- composer: internal note -----------------------------------------------------------------
  // Its own form, text box and button: nothing here can reach the replies route.
  buildNote() {
    const d = this.draft();
    this.noteText = h("textarea", { id: "note-text", name: "note", rows: 3, dir: "auto", maxlength: 10000,
      "aria-describedby": "note-banner note-error", placeholder: "Write a note for your team… (Ctrl+Enter saves it)",
      oninput: () => {
        this.draft().note = this.noteText.value;
        this.saveDraft();
        this.noteError.textContent = "";
        this.noteButton.disabled = !this.noteText.value.trim();
        this.presence.typing();
      },
      onkeydown: (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.addNote(); }
        if (e.key === "Escape") { e.preventDefault(); this.noteText.blur(); }
      } });
    this.noteText.value = d.note;
    this.noteError = h("p", { id: "note-error", class: "error", role: "alert" });
    this.noteButton = h("button", { type: "submit", class: "note-save", "aria-keyshortcuts": "Control+Enter",
      disabled: !d.note.trim() }, "Save note");
    this.noteForm = h("form", { class: "reply note-form", "aria-label": "Internal note for agents",
      onsubmit: (e) => { e.preventDefault(); this.addNote(); } },
      h("p", { id: "note-banner", class: "note-banner" }, svgIcon("lock", 14),
        h("strong", {}, "Internal note"), h("span", {}, "— only agents see this; it is never sent to the customer.")),
      h("label", { for: "note-text", class: "visually-hidden" }, "Note text"),
      this.noteText,
      h("div", { class: "reply-foot" }, h("span", { class: "note-hint" }, "Ctrl+Enter saves the note"),
        h("span", { class: "spacer" }), this.noteButton),
      this.noteError);
    return h("div", { id: "composer-note", role: "tabpanel", "aria-labelledby": "composer-tab-note", class: "composer-panel" },
      this.noteForm);
  }

  // -- composer: the template picker ---------------------------------------------------------
  // A combobox: type to filter by name or text, arrows move, Enter inserts, Esc goes back to the box.
  buildPicker() {
    this.pickerSearch = h("input", { type: "search", id: "template-search", autocomplete: "off", role: "combobox",
      "aria-controls": "template-options", "aria-expanded": "true", "aria-autocomplete": "list",
      placeholder: "Type to filter the templates…",
      oninput: () => { this.pickerActive = 0; this.renderPicker(); },
      onkeydown: (e) => this.pickerKeys(e) });
    this.pickerList = h("ul", { id: "template-options", role: "listbox", "aria-label": "Templates" });
    return h("div", { id: "template-picker", class: "template-picker", hidden: true },
      h("label", { for: "template-search" }, "Insert a template"), this.pickerSearch, this.pickerList,
      h("p", { class: "muted small" }, "↑ ↓ choose · Enter inserts · Esc goes back"));
  }

  openPicker() {
    if (!this.templates?.length) return;
    this.picker.hidden = false;
    this.pickerButton.setAttribute("aria-expanded", "true");
    this.pickerSearch.value = "";
    this.pickerActive = 0;
    this.renderPicker();
    this.pickerSearch.focus();
  }

  closePicker({ focus = true } = {}) {
    if (this.picker.hidden) return;
    this.picker.hidden = true;
    this.pickerButton.setAttribute("aria-expanded", "false");
    if (focus) this.text.focus();
  }

  pickerMatches() {
    const words = this.pickerSearch.value.toLowerCase().split(/\s+/).filter(Boolean);
    return (this.templates || []).filter((t) => {
      const hay = `${t.name || ""} ${t.text || ""}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
  }

  renderPicker() {
    const matches = this.pickerMatches();
    this.pickerActive = Math.max(0, Math.min(this.pickerActive || 0, matches.length - 1));
    this.pickerList.replaceChildren(...(matches.length ? matches.map((t, i) => h("li", {
      role: "option", id: `template-option-${i}`, "aria-selected": String(i === this.pickerActive), dataset: { id: t.id },
      onmousedown: (e) => e.preventDefault(), onclick: () => this.chooseTemplate(t) },
    h("strong", {}, t.name || "Template"), t.language ? h("span", { class: "muted" }, ` (${t.language})`) : null,
    h("span", { class: "muted picker-text", dir: "auto" }, t.text))) : [h("li", { class: "muted empty" }, "No template matches")]));
    if (matches.length) this.pickerSearch.setAttribute("aria-activedescendant", `template-option-${this.pickerActive}`);
    else this.pickerSearch.removeAttribute("aria-activedescendant");
    this.pickerList.children[this.pickerActive]?.scrollIntoView?.({ block: "nearest" });
  }

  pickerKeys(e) {
    const matches = this.pickerMatches();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!matches.length) return;
      this.pickerActive = (this.pickerActive + (e.key === "ArrowDown" ? 1 : -1) + matches.length) % matches.length;
      this.renderPicker();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (matches[this.pickerActive]) this.chooseTemplate(matches[this.pickerActive]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      this.closePicker();
    }
  }

  chooseTemplate(template) {
    this.closePicker({ focus: false });
    this.templateSelect.value = template.id;
    this.insertTemplate();
    announce(`Template ${template.name} inserted`);
  }

  templateName(id) {
    return (this.templates || []).find((t) => t.id === id)?.name || "saved reply";
  }

  // -- composer: suggested answers (issue 16, point 3) -----------------------------------------
  // Up to five of the brand's earlier replies and templates (GET /tickets/{id}/suggestions), best
  // first, above the reply box; each a button (Tab reaches it) whose why shows on hover and focus;
  // one click inserts it (a template keeps its id, so the reply records it).
  buildSuggestions() {
    this.suggestList = h("ul", { class: "suggestions-list", "aria-label": "Suggested answers" });
    this.suggestWhy = h("p", { id: "suggestion-why", class: "hint suggestion-why", "aria-live": "polite" });
    return h("div", { class: "suggestions", id: "suggestions", hidden: true },
      h("span", { class: "suggestions-label" }, "Suggested"), this.suggestList, this.suggestWhy);
  }

  async loadSuggestions() {
    const id = this.id;
    const res = await call(`/tickets/${encodeURIComponent(id)}/suggestions`);
    if (id !== this.id || !this.suggestList) return;
    this.suggestions = res.ok ? (res.data.items || []).slice(0, 5) : [];
    const showWhy = (s) => { this.suggestWhy.textContent = s ? `${s.source === "template" ? "Template" : "Sent before"}: ${s.why}` : ""; };
    this.suggestList.replaceChildren(...this.suggestions.map((s, i) => h("li", {},
      h("button", { type: "button", class: `suggestion source-${s.source}`, id: `suggestion-${i}`,
        dataset: { id: s.id, source: s.source, score: String(s.score) }, title: s.why, "aria-describedby": "suggestion-why",
        onclick: () => this.insertSuggestion(s), onfocus: () => showWhy(s), onmouseenter: () => showWhy(s),
        onblur: () => showWhy(null), onmouseleave: () => showWhy(null) },
      h("span", { class: "suggestion-source" }, s.source === "template" ? "Template" : "History"),
      h("span", { class: "suggestion-text", dir: "auto" }, s.text)))));
    this.suggestStrip.hidden = !this.suggestions.length;
  }

  insertSuggestion(s) {
    const d = this.draft();
    const current = this.text.value;
    this.text.value = current.trim() ? `${current.trimEnd()}\n\n${s.text}` : s.text;
    d.text = this.text.value;
    d.templateId = s.source === "template" ? s.id : d.templateId;
    if (s.source === "template" && this.templateSelect) this.templateSelect.value = s.id;
    this.saveDraft();
    this.updateCounter();
    this.text.focus();
    announce("Suggested answer inserted");
  }

  // -- composer: where the ticket goes after the reply ----------------------------------------
  async loadAfterReply() {
    const id = this.id;
    if (!this.afterReply) {
      const res = await call("/reply-settings");
      this.afterReply = res.ok ? res.data : { default: "open", brands: {} };
    }
    if (id !== this.id || !this.thenSelect) return;
    const d = this.draft();
    const brandDefault = this.afterReply.brands?.[this.ticket.brand] || this.afterReply.default || "open";
    this.thenSelect.value = AFTER_REPLY[d.then] ? d.then : (AFTER_REPLY[brandDefault] ? brandDefault : "open");
    this.paintSendLabel();
  }

  paintSendLabel() {
    const then = this.thenSelect?.value || "open";
    this.sendButton.textContent = AFTER_REPLY[then] || AFTER_REPLY.open;
  }

  // The reply window's end, from the server (`window_closes_at`): a live countdown.
  paintWindow(now = Date.now()) {
    const hint = this.windowHint;
    if (!hint || !hint.isConnected) return;
    const closes = this.windowCloses;
    if (!closes) { hint.textContent = ""; hint.className = "muted window"; return; }
    const left = closes - now;
    hint.textContent = left > 0 ? `reply window closes in ${duration(left)}` : "reply window closed";
    hint.title = `The platform accepts a reply until ${fullTime(new Date(closes).toISOString())}`;
    hint.dataset.closesAt = new Date(closes).toISOString();
    hint.className = `muted window${left < 3600_000 ? " soon" : ""}`;
  }

  updateReplyOptions() {
    const options = this.ticket.reply_options || {};
    const d = this.draft();
    for (const vis of ["public", "private"]) {
      const o = options[vis] || { allowed: false, reason: "not available" };
      this.radios[vis].disabled = !o.allowed;
      this.visHints[vis].textContent = o.allowed ? `via ${o.via || vis}` : "not possible";
      this.visReasons[vis].textContent = o.allowed ? "" : `${vis === "public" ? "Public" : "Private"}: ${o.reason}`;
      this.visReasons[vis].hidden = o.allowed;
    }
    // keep the agent's choice while it is allowed; else the first allowed side
    if (!d.visibility || !options[d.visibility]?.allowed) {
      d.visibility = ["public", "private"].find((v) => options[v]?.allowed) || null;
    }
    for (const vis of ["public", "private"]) this.radios[vis].checked = vis === d.visibility;
    this.updateCounter();
  }

  currentOption() {
    const d = this.draft();
    return d.visibility ? this.ticket.reply_options?.[d.visibility] : null;
  }

  updateCounter() {
    const o = this.currentOption();
    const text = this.text.value;
    if (!o || !o.allowed) {
      this.counter.textContent = "No reply is possible on this ticket";
      this.counter.className = "counter over";
      this.sendButton.disabled = true;
      this.windowCloses = null;
      this.overBy = 0;
      this.paintWindow();
      return;
    }
    // counted as the channel registry says for this channel and visibility (the server's policy reads the same)
    const rule = channelCounter(this.ticket.channel, this.draft().visibility) || { counting: o.counting, limit: o.max_length };
    const used = measure(text, rule.counting);
    const max = rule.limit;
    const over = max && used > max;
    this.counter.textContent = `${used} / ${max.toLocaleString("en")} ${unitWord(rule.counting)}`;
    this.counter.className = `counter${over ? " over" : max && used > max * 0.9 ? " near" : ""}`;
    this.counter.title = o.unit || "";
    // the button stays focusable when over the limit: Ctrl+Enter and a click say why nothing is sent
    this.sendButton.disabled = !text.trim();
    this.sendButton.setAttribute("aria-disabled", String(Boolean(over)));
    this.overBy = over ? { used, max, unit: unitWord(rule.counting) } : 0;
    this.windowCloses = parseTime(o.window_closes_at);
    this.paintWindow();
  }

  async loadTemplates() {
    const id = this.id;
    const res = await call(`/tickets/${encodeURIComponent(id)}/templates`);
    if (id !== this.id) return;
    this.templates = res.ok ? res.data.items || [] : [];
    const select = this.templateSelect;
    if (!res.ok) {
      select.replaceChildren(h("option", { value: "" }, res.missing ? "Templates not available" : "Templates failed to load"));
      select.disabled = true;
      select.title = res.error || "";
      return;
    }
    select.replaceChildren(h("option", { value: "" }, this.templates.length ? "Insert a template…" : "No templates"),
      ...this.templates.map((t) => h("option", { value: t.id }, `${t.name}${t.language ? ` (${t.language})` : ""}`)));
    select.disabled = !this.templates.length;
    this.pickerButton.disabled = !this.templates.length;
    const d = this.draft();
    if (d.templateId) select.value = d.templateId;
    this.renderedSig = null; // sent replies name their template now
    this.renderMessages();
  }

  insertTemplate() {
    const d = this.draft();
    const template = (this.templates || []).find((t) => t.id === this.templateSelect.value);
    if (!template) { d.templateId = null; this.saveDraft(); return; }
    const current = this.text.value;
    const previous = (this.templates || []).find((t) => t.id === d.templateId)?.text;
    this.text.value = !current.trim() || current === previous ? template.text : `${current.trimEnd()}\n\n${template.text}`;
    d.text = this.text.value;
    d.templateId = template.id;
    this.saveDraft();
    this.updateCounter();
    this.text.focus();
  }

  async send(seen = this.seenId()) {
    const id = this.id;
    const d = this.draft();
    const o = this.currentOption();
    const text = this.text.value;
    if (this.mode !== "reply") return;
    // say why nothing is sent rather than ignore the key
    const why = !o?.allowed ? "Not sent: no reply is possible on this ticket (see the reasons above)."
      : !text.trim() ? "Not sent: write the reply first."
        : this.overBy ? `Not sent: the reply is ${this.overBy.used - this.overBy.max} ${this.overBy.unit} over the limit of ${this.overBy.max.toLocaleString("en")}; shorten it.`
          : null;
    if (why) { this.error.textContent = why; announce(why); this.text.focus(); return; }
    if (this.sending) return;
    this.sending = true;
    const then = AFTER_REPLY[this.thenSelect?.value] ? this.thenSelect.value : "open";
    this.sendButton.disabled = true;
    this.error.textContent = "";
    const body = { text, visibility: d.visibility, ...(seen ? { seen } : {}) };
    if (d.templateId) body.template_id = d.templateId;
    const res = await call(`/tickets/${encodeURIComponent(id)}/replies`, { method: "POST", body,
      headers: { "Idempotency-Key": d.key } });
    this.sending = false;
    if (res.ok) {
      // the draft is spent (a new key for the next one); its composer is cleared if still shown
      Object.assign(d, { text: "", templateId: null, key: newKey() });
      this.saveDraft();
      if (id !== this.id) return; // the agent moved on meanwhile: that composer is gone
      this.text.value = "";
      this.templateSelect.value = "";
      this.updateCounter();
      if (res.data?.status === "pending_approval") { // issue 16: held; the ticket's status waits for the decision
        toast("Reply held for a supervisor's approval; nothing is sent until then");
        announce("Reply held for a supervisor's approval");
      } else if (then !== "open") {
        await this.moveOn(id, then);
        return;
      } else {
        announce("Reply queued; its status shows in the conversation"); // the message itself shows queued → sent
      }
      await this.refresh();
      return;
    }
    if (id !== this.id) return;
    if (res.status === 409 && res.data?.unseen) { this.showStale(res.data.unseen, "reply"); return; }
    this.error.textContent = res.status === 422 ? `The platform would refuse this: ${res.error}` : `Not sent: ${res.error}`;
    if (res.field === "visibility") this.radios[d.visibility]?.focus(); else this.text.focus();
    this.updateCounter();
  }

  // -- issue 16: approval for public replies ------------------------------------------------------
  // A held reply says why it waits; a rejected one shows the supervisor's reason to its author, and
  // "Edit and send again" puts its text back in her composer (a new reply, a new idempotency key).
  approvalNote(m) {
    const a = m.approval;
    if (!a) return null;
    if (m.status === "pending_approval") {
      return h("p", { class: "approval-note", "data-testid": "approval-note" },
        "Held for a supervisor's approval", a.reasons?.length ? ` (${a.reasons.join(", ")})` : "", "; nothing is sent until then.");
    }
    if (m.status === "rejected") {
      const mine = m.agent_id === session.agentId;
      return h("div", { class: "rejection", "data-testid": "rejection" },
        h("p", { class: "error" }, h("strong", {}, `Rejected by ${a.decided_by || "a supervisor"}: `), a.reason || ""),
        mine ? h("button", { type: "button", class: "secondary", onclick: () => this.editRejected(m) }, "Edit and send again") : null);
    }
    if (a.status === "approved") {
      return h("p", { class: "muted approval-note" }, `Approved by ${a.decided_by || "a supervisor"}`,
        a.original_text ? " with edits" : "");
    }
    return null;
  }

  editRejected(m) {
    this.setMode("reply");
    const d = this.draft();
    Object.assign(d, { text: m.text || "", templateId: null, key: newKey() });
    if (this.radios[m.visibility] && !this.radios[m.visibility].disabled) {
      d.visibility = m.visibility;
      for (const vis of ["public", "private"]) this.radios[vis].checked = vis === d.visibility;
    }
    this.text.value = d.text;
    this.saveDraft();
    this.updateCounter();
    this.text.focus();
    announce("The rejected reply is in your composer; edit it and send it again");
  }

  // After a stored reply: the status the agent chose, over the version read now; then the next ticket.
  async moveOn(id, status) {
    await this.refresh();
    if (id !== this.id || !this.ticket) return;
    const label = status === "closed" ? "closed" : "set to Pending";
    const res = await call(`/tickets/${encodeURIComponent(id)}`, { method: "PATCH",
      body: { version: this.ticket.version, status } });
    if (id !== this.id) return;
    if (!res.ok) {
      this.error.textContent = res.status === 409
        ? `Reply sent, but the ticket was not ${label}: it changed meanwhile. Check it and set the status again.`
        : `Reply sent, but the ticket was not ${label}: ${res.error}`;
      announce(this.error.textContent);
      this.detailsSig = null;
      await this.refresh();
      return;
    }
    toast(`Reply sent; ticket ${label}. Next ticket.`);
    announce(`Reply sent and ticket ${label}`);
    this.onDone(id);
  }

  // Saves the note box through the notes route: the only thing note mode (and its Ctrl+Enter) does.
  async addNote(seen = this.seenId()) {
    const id = this.id;
    const d = this.draft();
    const text = this.noteText.value.trim();
    if (!text) { this.noteError.textContent = "Write the note in the box first."; this.noteText.focus(); return; }
    if (this.savingNote) return;
    this.savingNote = true;
    this.noteButton.disabled = true;
    this.noteError.textContent = "";
    const res = await call(`/tickets/${encodeURIComponent(id)}/notes`, { method: "POST", body: { text, ...(seen ? { seen } : {}) } });
    this.savingNote = false;
    if (res.ok) {
      d.note = "";
      this.saveDraft();
    }
    if (id !== this.id) return;
    if (res.status === 409 && res.data?.unseen) { this.noteButton.disabled = false; this.showStale(res.data.unseen, "note"); return; }
    if (!res.ok) {
      this.noteError.textContent = `Note not saved: ${res.error}`;
      this.noteButton.disabled = false;
      this.noteText.focus();
      return;
    }
    this.noteText.value = "";
    toast("Note saved: only agents see it");
    announce("Internal note saved");
    await this.refresh();
  }

  // -- issue 16: a reply or note written on a stale view ---------------------------------------
  // What the agent's view had loaded: the newest entry of the thread shown.
  seenId() { return (this.ticket?.messages || []).at(-1)?.id; }

  // A 409: the messages she has not seen, above the composer's error line, with "Send anyway"
  // (the same draft and Idempotency-Key, seen up to the newest of them) and "Edit"; the thread
  // reloads so it shows them too.
  showStale(unseen, mode) {
    const note = mode === "note";
    const anchor = note ? this.noteError : this.error;
    anchor.parentElement.querySelector(".stale")?.remove();
    const newest = unseen.at(-1)?.id;
    anchor.before(staleNotice(unseen, { verb: note ? "Save" : "Send",
      onAnyway: () => (note ? this.addNote(newest) : this.send(newest)),
      onEdit: () => (note ? this.noteText : this.text).focus() }));
    if (!note) this.updateCounter();
    announce(`Not ${note ? "saved" : "sent"}: ${unseen.length} new message${unseen.length === 1 ? "" : "s"} arrived since you opened this ticket`);
    this.refresh();
  }

  focusReply() { this.compose("reply"); }

  focusNote() { this.compose("note"); }

  // -- ticket actions --------------------------------------------------------------------------
  async act(path, body, { method = "POST", done } = {}) {
    const res = await call(`/tickets/${encodeURIComponent(this.id)}${path}`, { method, body: { version: this.ticket.version, ...body } });
    if (res.status === 409) {
      toast("Someone changed this ticket meanwhile: reloaded it, please check and try again.", "warn");
      await this.refresh();
      return res;
    }
    if (!res.ok) {
      toast(res.status === 403 ? `Not allowed: ${res.error}` : `Failed: ${res.error}`, "error");
      this.detailsSig = null;
      this.update();
      return res;
    }
    if (done) done(res.data);
    await this.refresh();
    return res;
  }

  claim() {
    if (!this.ticket || this.ticket.assignee === session.agentId) return null;
    return this.act("/claim", {}, { done: () => { toast("You have this ticket now"); announce("Claimed"); } });
  }

  patch(changes) {
    return this.act("", changes, { method: "PATCH", done: () => toast("Ticket updated") });
  }

  openDone() {
    if (!this.ticket || this.ticket.status === "closed") return;
    const dialog = $("#done-dialog");
    const form = $("#done-form");
    form.reset();
    $("#done-error").textContent = "";
    dialog.showModal();
    $("#done-reason").focus();
  }

  async confirmDone(reason, note) {
    const id = this.id;
    const res = await call(`/tickets/${encodeURIComponent(id)}/done`, { method: "POST",
      body: { version: this.ticket.version, reason, ...(note ? { note } : {}) } });
    if (res.status === 409) { await this.refresh(); return "The ticket changed meanwhile; it was reloaded. Check it and try again."; }
    if (!res.ok) return res.error;
    toast("Done. Next ticket.");
    announce("Ticket done");
    this.onDone(id);
    return null;
  }

  // -- side panel: priority, facts, customer ---------------------------------------------------
  renderSide() {
    const t = this.ticket;
    const factors = t.priority_factors || [];
    const customer = t.customer || {};
    const identities = customer.identities || [];
    // every channel's touchpoints and the CRM's events (calls, emails, purchases), newest first
    const crmEvents = (customer.events || []).map((e) => ({ ...e, crm: true }));
    const touchpoints = [...(customer.touchpoints || []), ...crmEvents]
      .sort((a, b) => (parseTime(b.at) || 0) - (parseTime(a.at) || 0));
    const others = t.other_tickets || [];
    const scroll = this.side.scrollTop;
    this.side.replaceChildren(
      h("button", { type: "button", class: "ghost drawer-close", onclick: () => this.toggleDrawer(false) }, "Close details"),
      h("section", { class: "card", "aria-labelledby": "why-title" },
        h("h3", { id: "why-title" }, `Why priority ${t.priority ?? 0}`),
        factors.length ? h("ul", { class: "factors" }, factors.map((f) => h("li", {},
          h("span", { class: `points ${f.points < 0 ? "neg" : ""}` }, f.points > 0 ? `+${f.points}` : String(f.points)),
          h("span", { class: "factor" }, h("strong", {}, ruleName(f.rule)), h("span", { class: "muted" }, f.why || f.detail || "")))))
          : h("p", { class: "muted" }, "No factors recorded.")),
      h("section", { class: "card", "aria-labelledby": "facts-title" },
        h("h3", { id: "facts-title" }, "Ticket"),
        h("dl", { class: "facts" },
          h("dt", {}, "SLA due"), h("dd", {}, t.sla_due_at ? [clock(t.sla_due_at), " ", slaChip(t)] : "—"),
          h("dt", {}, "Opened"), h("dd", {}, fullTime(t.created_at)),
          h("dt", {}, "First reply"), h("dd", {}, t.first_response_at ? clock(t.first_response_at) : "not yet"),
          h("dt", {}, "From customer"), h("dd", {}, `${t.message_count ?? 0} message${t.message_count === 1 ? "" : "s"}`),
          ...csatFacts(t))),
      h("section", { class: "card", "aria-labelledby": "cust-title" },
        h("h3", { id: "cust-title" }, this.customerName()),
        customer.vip || customer.lifetime_value ? h("p", { class: "crm" },
          customer.vip ? h("span", { class: "badge vip" }, "VIP") : null,
          customer.lifetime_value ? h("span", { class: "muted" }, `Lifetime value ${Number(customer.lifetime_value).toLocaleString("en")}`) : null) : null,
        (customer.tags || []).length ? h("p", { class: "crm", "aria-label": "Customer tags" },
          (customer.tags || []).map((tag) => h("span", { class: "badge tag" }, `#${tag}`))) : null,
        h("ul", { class: "identities", "aria-label": "Identities" }, identities.map((i) => h("li", {},
          channelBadge(i.platform, { label: false }),
          h("span", { class: "ident" }, h("span", {}, i.handle ? `@${i.handle}` : i.name || i.user_id),
            h("span", { class: "muted" }, `${channelName(i.platform)}${i.followers != null ? ` · ${compact(i.followers)} followers` : ""}${i.verified ? " · verified" : ""}`))))),
        t.customer_id ? h("p", {}, h("a", { href: `#/customer/${encodeURIComponent(t.customer_id)}`, class: "customer-link" },
          "Customer page: every channel, history, merge")) : null),
      h("section", { class: "card", "aria-labelledby": "others-title" },
        h("h3", { id: "others-title" }, `Other tickets (${others.length})`),
        others.length ? h("ul", { class: "others" }, others.map((o) => h("li", {},
          h("a", { href: `#/ticket/${o.id}` }, channelBadge(o.channel, { label: false }),
            h("span", { class: "other-text", dir: "auto" }, o.last_message_preview || o.subject || o.id)),
          h("span", { class: "muted" }, `${STATUS_LABELS[o.status] || o.status} · ${ago(o.last_inbound_at || o.created_at)}`))))
          : h("p", { class: "muted" }, "None on any channel.")),
      h("section", { class: "card", "aria-labelledby": "touch-title" },
        h("h3", { id: "touch-title" }, "Timeline"),
        touchpoints.length ? h("ol", { class: "timeline" }, touchpoints.slice(0, 30).map((p) => p.crm
          ? h("li", { class: "tp-crm" },
            h("span", { class: "badge" }, `CRM ${p.kind}`),
            h("span", { dir: "auto" }, p.summary + (p.amount != null ? ` · ${Number(p.amount).toLocaleString("en")} ${p.currency || ""}` : "")),
            h("time", { class: "muted", datetime: p.at, title: fullTime(p.at) }, ago(p.at)))
          : h("li", { class: p.direction === "out" ? "tp-out" : "tp-in" },
          channelBadge(p.channel, { label: false }),
          h("span", {}, p.direction === "out" ? "We replied" : `Wrote (${kindName(p.channel, p.kind) || "message"})`),
          p.ticket_id && p.ticket_id !== t.id ? h("a", { href: `#/ticket/${p.ticket_id}`, class: "muted" }, "other ticket") : null,
          h("time", { class: "muted", datetime: p.at, title: fullTime(p.at) }, ago(p.at)))))
          : h("p", { class: "muted" }, "No touchpoints yet.")));
    this.side.scrollTop = scroll;
  }
}
