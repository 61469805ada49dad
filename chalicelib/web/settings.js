// Brand settings (#/settings; supervisors and admins): for each brand the caller works for (as GET
// /api/surveys lists them: her agent record's brands; an admin's, every brand), where a ticket goes after a reply
// (GET|PUT /api/brands/{brand}/replies: the composer's first send action) and on which channels a
// resolved ticket's customer gets the CSAT survey (GET|PUT /api/brands/{brand}/surveys). Each form
// saves over the version it read: a 409 says someone saved meanwhile and reloads that brand.
// The approval rules of public replies are on the Approvals page.

import { call } from "./api.js";
import { channelIds, channelName } from "./channels.js";
import { h } from "./dom.js";

const AFTER = [["open", "Stays open"], ["pending", "Pending (waits on the customer)"], ["closed", "Closed"]];

export async function show(main) {
  const page = new SettingsPage();
  main.replaceChildren(page.el);
  document.title = "Brand settings · Social care desk";
  await page.load();
  return page;
}

export class SettingsPage {
  constructor() {
    this.heading = h("h1", { tabindex: "-1" }, "Brand settings");
    this.body = h("div", { class: "settings-body", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
    this.el = h("div", { class: "page settings-page" }, h("div", { class: "page-head" }, this.heading), this.body);
  }

  async load() {
    const res = await call("/surveys");
    this.body.setAttribute("aria-busy", "false");
    if (!res.ok) {
      this.body.replaceChildren(h("p", { class: "notice" }, res.status === 403 ? "Brand settings are for supervisors."
        : `Could not load your brands: ${res.error}`));
      return;
    }
    const surveys = new Map((res.data.items || []).filter((s) => s.brand).map((s) => [s.brand, s]));
    const brands = [...surveys.keys()].sort();
    if (!brands.length) {
      this.body.replaceChildren(h("p", { class: "muted" }, "You work for no brand yet: an admin adds you to one."));
      return;
    }
    this.body.replaceChildren(...brands.map((brand) => {
      const box = h("section", { class: "panel brand-settings", dataset: { brand }, "aria-labelledby": `brand-${brand}` },
        h("h2", { id: `brand-${brand}` }, brand), h("p", { class: "muted" }, "Loading…"));
      this.fill(box, brand, { ok: true, data: surveys.get(brand) });  // the survey settings this list just read
      return box;
    }));
  }

  // The brand's two forms; `surveys` as GET /api/surveys gave it (else read again: after a 409).
  async fill(box, brand, surveys = null) {
    const [replies, survey] = await Promise.all([call(`/brands/${encodeURIComponent(brand)}/replies`),
      surveys || call(`/brands/${encodeURIComponent(brand)}/surveys`)]);
    box.replaceChildren(box.querySelector("h2"), this.repliesForm(box, brand, replies), this.surveysForm(box, brand, survey));
  }

  repliesForm(box, brand, res) {
    if (!res.ok) return h("p", { class: "error" }, `Could not load the reply setting: ${res.error}`);
    const s = res.data;
    const id = `after-${brand}`;
    const select = h("select", { id, name: "after_reply" },
      h("option", { value: "", selected: !s.own }, `The desk's default (${label(s.default)})`),
      AFTER.map(([value, text]) => h("option", { value, selected: s.own && s.after_reply === value }, text)));
    const status = h("p", { class: "hint", role: "status" });
    return h("form", { class: "settings-form", dataset: { setting: "replies" }, onsubmit: async (e) => {
      e.preventDefault();
      const saved = await call(`/brands/${encodeURIComponent(brand)}/replies`, { method: "PUT",
        body: { after_reply: select.value || null, version: s.version } });
      if (saved.ok) { status.textContent = `Saved: after a reply, a ticket of ${brand} is ${label(saved.data.after_reply)}.`; s.version = saved.data.version; s.own = saved.data.own; return; }
      status.textContent = saved.status === 409 ? "Someone saved these settings meanwhile; reloaded, check and save again."
        : `Not saved: ${saved.error}`;
      if (saved.status === 409) setTimeout(() => this.fill(box, brand), 1500);
    } },
    h("h3", {}, "After a reply"),
    h("label", { for: id }, "The composer's first send action moves the ticket to"), select,
    h("button", { type: "submit", class: "primary" }, "Save"), status);
  }

  surveysForm(box, brand, res) {
    if (!res.ok) return h("p", { class: "error" }, `Could not load the survey settings: ${res.error}`);
    const s = res.data;
    const channels = (s.available || channelIds());
    const boxes = channels.map((c) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "survey", value: c, checked: !!(s.channels || {})[c] }), ` ${channelName(c)}`));
    const status = h("p", { class: "hint", role: "status" });
    const form = h("form", { class: "settings-form", dataset: { setting: "surveys" }, onsubmit: async (e) => {
      e.preventDefault();
      const on = Object.fromEntries(channels.map((c) => [c, !!form.querySelector(`input[value="${CSS.escape(c)}"]`)?.checked]));
      const saved = await call(`/brands/${encodeURIComponent(brand)}/surveys`, { method: "PUT", body: { version: s.version, channels: on } });
      if (saved.ok) {
        s.version = saved.data.version;
        const names = channels.filter((c) => on[c]).map(channelName);
        status.textContent = names.length ? `Saved: surveys go out on ${names.join(", ")}.` : "Saved: no surveys.";
        return;
      }
      status.textContent = saved.status === 409 ? "Someone saved these settings meanwhile; reloaded, check and save again."
        : `Not saved: ${saved.error}`;
      if (saved.status === 409) setTimeout(() => this.fill(box, brand), 1500);
    } },
    h("h3", {}, "CSAT survey when a ticket is resolved"),
    h("fieldset", {}, h("legend", {}, "Send the one-question survey on"), boxes),
    h("button", { type: "submit", class: "primary" }, "Save"), status);
    return form;
  }
}

function label(value) { return (AFTER.find(([v]) => v === value) || [value, value])[1].toLowerCase(); }
