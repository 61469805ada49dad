// Reports: first response time and volume by channel, sentiment over time, top topics — from
// GET /api/reports/summary, drawn by charts.js.

import { call } from "./api.js";
import { barChart, stackedColumns } from "./charts.js";
import { channelColor, channelName } from "./channels.js";
import { duration, h, humanize } from "./dom.js";

const SENTIMENT = [
  { key: "negative", label: "Negative", color: "#b91c1c" },
  { key: "neutral", label: "Neutral", color: "#6b7280" },
  { key: "positive", label: "Positive", color: "#15803d" },
];

const seconds = (v) => (v === null || v === undefined ? "—" : duration(v * 1000));

export class Reports {
  constructor() {
    this.days = 7;
    this.body = h("div", { class: "report-body", "aria-live": "polite", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
    const select = h("select", { id: "report-days", onchange: (e) => { this.days = Number(e.target.value); this.load(); } },
      [1, 7, 14, 30, 90].map((d) => h("option", { value: d, selected: d === this.days }, d === 1 ? "Last 24 hours" : `Last ${d} days`)));
    this.el = h("div", { class: "page reports" },
      h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Reports"),
        h("div", { class: "field inline" }, h("label", { for: "report-days" }, "Period"), select)),
      this.body);
  }

  start() { this.load(); }
  stop() {}

  async load() {
    this.body.setAttribute("aria-busy", "true");
    const res = await call(`/reports/summary?days=${this.days}`);
    this.body.setAttribute("aria-busy", "false");
    if (!res.ok) {
      this.body.replaceChildren(h("p", { class: "notice" }, res.missing ? "Reports are not available on this server yet."
        : `Could not load the reports: ${res.error}`));
      return;
    }
    const r = res.data;
    const frt = r.first_response_seconds || {};
    const byChannel = Object.entries(frt.by_channel || {});
    const volume = Object.entries(r.volume_by_channel || {});
    const topics = r.top_topics || [];
    const rate = r.reply_rate === null || r.reply_rate === undefined ? "—" : `${Math.round(r.reply_rate * 100)}%`;
    this.body.replaceChildren(
      h("ul", { class: "stat-cards", "aria-label": "Summary" },
        stat("Tickets", String(r.tickets ?? 0)),
        stat("Reply rate", rate, "answered, of those needing a reply"),
        stat("Median first response", seconds(frt.median)),
        stat("90th percentile", seconds(frt.p90), "first response")),
      h("div", { class: "chart-grid" },
        barChart({ title: "First response time by channel (median)",
          description: byChannel.map(([c, v]) => `${channelName(c)} ${seconds(v)}`).join(", ") || "no replies yet",
          data: byChannel.map(([c, v]) => ({ label: channelName(c), value: v, text: seconds(v), color: channelColor(c) })),
          empty: "No first responses in this period yet." }),
        barChart({ title: "Volume by channel",
          description: volume.map(([c, n]) => `${channelName(c)} ${n}`).join(", "),
          data: volume.map(([c, n]) => ({ label: channelName(c), value: n, color: channelColor(c) })) }),
        stackedColumns({ title: "Sentiment over time",
          description: `Tickets per day by sentiment over ${(r.sentiment_by_day || []).length} days`,
          rows: r.sentiment_by_day || [], series: SENTIMENT }),
        barChart({ title: "Top topics",
          description: topics.map((t) => `${humanize(t.topic)} ${t.count}`).join(", "),
          data: topics.map((t) => ({ label: humanize(t.topic || "none"), value: t.count })), color: "#0f766e" })));
  }
}

function stat(label, value, hint) {
  return h("li", { class: "stat-card" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value),
    hint ? h("span", { class: "muted" }, hint) : null);
}
