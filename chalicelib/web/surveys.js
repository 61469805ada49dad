// CSAT surveys (issue 16, point 4), on the supervisor's page: for each of the supervisor's brands,
// which channels send the customer a one-question survey when a ticket is closed with a reply
// (GET /api/surveys, PUT /api/brands/{brand}/surveys over the version read; a 409 reloads and says so).

import { call } from "./api.js";
import { channelIds, channelName } from "./channels.js";
import { h, humanize, toast } from "./dom.js";

export class SurveySettings {
  constructor() {
    this.box = h("div", { class: "survey-settings" }, h("p", { class: "muted" }, "Loading the survey settings…"));
    this.el = h("section", { class: "panel", "aria-labelledby": "surveys-title" },
      h("h2", { id: "surveys-title" }, "CSAT surveys"),
      h("p", { class: "muted" }, "When a ticket is closed with a reply, the customer gets one question on the channel "
        + "they wrote on: reply buttons on WhatsApp, quick replies on Messenger, Instagram and X, a link on email "
        + "and the API channel. Their answer becomes the ticket's CSAT."),
      this.box);
  }

  async load() {
    const res = await call("/surveys");
    if (!res.ok) { this.box.replaceChildren(h("p", { class: "error" }, `Could not load: ${res.error}`)); return; }
    const items = res.data.items || [];
    this.box.replaceChildren(...(items.length ? items.map((doc) => this.form(doc))
      : [h("p", { class: "muted" }, "You have no brand to set surveys for.")]));
  }

  form(doc) {
    const ids = doc.available?.length ? doc.available : channelIds();
    const boxes = ids.map((id) => h("input", { type: "checkbox", name: id, checked: Boolean(doc.channels?.[id]) }));
    const form = h("form", { class: "rules-form", dataset: { brand: doc.brand }, onsubmit: async (e) => {
      e.preventDefault();
      const channels = Object.fromEntries(boxes.map((b) => [b.name, b.checked]));
      const res = await call(`/brands/${encodeURIComponent(doc.brand)}/surveys`, { method: "PUT",
        body: { version: doc.version, channels } });
      if (res.ok) { toast(`Surveys saved for ${humanize(doc.brand)}`); await this.load(); return; }
      toast(res.status === 409 ? "Someone changed these settings meanwhile: reloaded, check and save again"
        : `Not saved: ${res.error}`, "error");
      await this.load();
    } },
      h("fieldset", {}, h("legend", {}, humanize(doc.brand)),
        ...boxes.map((b) => h("label", { class: "check" }, b, channelName(b.name)))),
      h("button", { type: "submit", class: "secondary" }, "Save surveys"));
    return form;
  }
}
