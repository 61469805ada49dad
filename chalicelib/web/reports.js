// Reports: an overview (first response time and volume by channel, sentiment over the period, top
// topics — GET /api/reports/summary) and, for supervisors, the staffing report (arrivals per hour
// of the week per channel, the queue by language and team now, SLA attainment per band, each
// agent's output — GET /api/reports/staffing). Both read the server's aggregates for the period
// chosen; the period's first and last hour are shown, so 24 hours and 30 days never look alike.

import { call, session } from "./api.js";
import { barChart, heatmap, stackedColumns } from "./charts.js";
import { channelColor, channelName } from "./channels.js";
import { duration, h, humanize, languageName } from "./dom.js";

const SENTIMENT = [
  { key: "negative", label: "Negative", color: "#b91c1c" },
  { key: "neutral", label: "Neutral", color: "#6b7280" },
  { key: "positive", label: "Positive", color: "#15803d" },
];
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

const seconds = (v) => (v === null || v === undefined ? "—" : duration(v * 1000));
const percent = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)}%`);

// The browser's offset from UTC in whole hours (now), to show the heatmap's hours as the manager's.
function utcOffsetHours() {
  const minutes = -new Date().getTimezoneOffset();
  return minutes % 60 === 0 ? minutes / 60 : 0;
}

// An hour's or a day's bucket of the period ("2026-11-27T10" or "2026-11-27", UTC) as it reads here.
function bucketLabel(at, unit) {
  if (unit !== "hour") return at.slice(5);
  const d = new Date(`${at}:00:00Z`);
  return `${String(d.getHours()).padStart(2, "0")}:00`;
}

function periodText(p) {
  if (!p) return "";
  const fmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  return `${fmt.format(new Date(p.from))} – ${fmt.format(new Date(p.to))} (${p.hours} hours)`;
}

export class Reports {
  constructor() {
    this.days = 7;
    this.tab = "overview";
    this.body = h("div", { class: "report-body", "aria-live": "polite", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
    this.range = h("p", { class: "muted report-period", id: "report-period" });
    const select = h("select", { id: "report-days", "aria-describedby": "report-period",
      onchange: (e) => { this.days = Number(e.target.value); this.load(); } },
    [1, 7, 14, 30, 90].map((d) => h("option", { value: d, selected: d === this.days }, d === 1 ? "Last 24 hours" : `Last ${d} days`)));
    this.tabs = session.isSupervisor ? h("div", { class: "report-tabs", role: "group", "aria-label": "Report" },
      [["overview", "Overview"], ["staffing", "Staffing"]].map(([id, label]) => h("button", {
        type: "button", class: "secondary", dataset: { tab: id }, "aria-pressed": String(id === this.tab),
        onclick: () => this.show(id) }, label))) : null;
    this.el = h("div", { class: "page reports" },
      h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, "Reports"), this.tabs,
        h("div", { class: "field inline" }, h("label", { for: "report-days" }, "Period"), select)),
      this.range, this.body);
  }

  start() { this.load(); }
  stop() {}

  show(tab) {
    this.tab = tab;
    for (const b of this.tabs?.querySelectorAll("button") || []) b.setAttribute("aria-pressed", String(b.dataset.tab === tab));
    this.load();
  }

  async load() {
    this.body.setAttribute("aria-busy", "true");
    const staffing = this.tab === "staffing";
    const asked = (this.asked = (this.asked || 0) + 1);
    const res = await call(`/reports/${staffing ? "staffing" : "summary"}?days=${this.days}`);
    if (asked !== this.asked) return;  // a newer period or tab was asked meanwhile: its answer is the one shown
    this.body.setAttribute("aria-busy", "false");
    if (!res.ok) {
      this.range.textContent = "";
      this.body.replaceChildren(h("p", { class: "notice" }, res.missing ? "Reports are not available on this server yet."
        : `Could not load the reports: ${res.error}`));
      return;
    }
    this.range.textContent = periodText(res.data.period);
    this.body.replaceChildren(...(staffing ? this.staffing(res.data) : this.overview(res.data)));
  }

  overview(r) {
    const frt = r.first_response_seconds || {};
    const byChannel = Object.entries(frt.by_channel || {});
    const volume = Object.entries(r.volume_by_channel || {});
    const topics = r.top_topics || [];
    const series = r.sentiment_over_time || { unit: "day", rows: (r.sentiment_by_day || []).map((d) => ({ at: d.day, ...d })) };
    const rows = series.rows.map((row) => ({ ...row, day: row.at, label: bucketLabel(row.at, series.unit) }));
    const per = series.unit === "hour" ? "hour" : "day";
    return [
      h("ul", { class: "stat-cards", "aria-label": "Summary" },
        stat("Tickets", String(r.tickets ?? 0), "created in this period"),
        stat("Reply rate", percent(r.reply_rate), "answered, of those needing a reply"),
        stat("Median first response", seconds(frt.median)),
        stat("90th percentile", seconds(frt.p90), "first response"),
        // issue 16: replies held for approval; their wait is apart from the first response (the agent's submission)
        r.approvals?.decided ? stat("Approval wait", seconds(r.approvals.mean_wait_seconds),
          `mean of ${r.approvals.decided} decided (${r.approvals.rejected} rejected); not in first response`) : null),
      h("div", { class: "chart-grid" },
        barChart({ title: "First response time by channel (median)",
          description: byChannel.map(([c, v]) => `${channelName(c)} ${seconds(v)}`).join(", ") || "no replies yet",
          data: byChannel.map(([c, v]) => ({ label: channelName(c), value: v, text: seconds(v), color: channelColor(c) })),
          empty: "No first responses in this period yet." }),
        barChart({ title: "Volume by channel",
          description: volume.map(([c, n]) => `${channelName(c)} ${n}`).join(", "),
          data: volume.map(([c, n]) => ({ label: channelName(c), value: n, color: channelColor(c) })) }),
        stackedColumns({ title: `Sentiment per ${per}`,
          description: `Tickets per ${per} by sentiment over ${rows.length} ${per}s`,
          rows: rows.some((row) => SENTIMENT.some((k) => row[k.key])) ? rows : [], series: SENTIMENT }),
        barChart({ title: "Top topics",
          description: topics.map((t) => `${humanize(t.topic)} ${t.count}`).join(", "),
          data: topics.map((t) => ({ label: humanize(t.topic || "none"), value: t.count })), color: "#0f766e" })),
    ];
  }

  staffing(r) {
    const arrivals = r.arrivals || { channels: {}, weeks: 4 };
    const channels = Object.keys(arrivals.channels || {});
    this.channel = channels.includes(this.channel) ? this.channel : "";
    const grid = h("div", { class: "heatmap-slot" });
    const draw = () => grid.replaceChildren(arrivalsHeatmap(arrivals, this.channel));
    const picker = h("div", { class: "field inline" }, h("label", { for: "heatmap-channel" }, "Channel"),
      h("select", { id: "heatmap-channel", onchange: (e) => { this.channel = e.target.value; draw(); } },
        h("option", { value: "", selected: !this.channel }, "All channels"),
        channels.map((c) => h("option", { value: c, selected: c === this.channel }, channelName(c)))));
    draw();
    const queue = r.queue || {};
    const language = Object.entries(queue.open_by_language || {});
    const team = Object.entries(queue.open_by_team || {});
    const bands = r.sla_by_band || [];
    const agents = r.agents || [];
    return [
      h("section", { class: "report-section", "aria-labelledby": "arrivals-head" },
        h("div", { class: "section-head" }, h("h2", { id: "arrivals-head" }, "Arrivals per hour of the week"), picker),
        grid),
      h("div", { class: "chart-grid" },
        barChart({ title: "Open now by language",
          description: language.map(([l, n]) => `${languageName(l)} ${n}`).join(", ") || "none open",
          data: language.map(([l, n]) => ({ label: l === "none" ? "Unknown" : languageName(l), value: n })),
          color: "#7c3aed", empty: "Nothing open." }),
        barChart({ title: "Open now by team",
          description: team.map(([t, n]) => `${humanize(t)} ${n}`).join(", ") || "none open",
          data: team.map(([t, n]) => ({ label: t === "none" ? "No team" : humanize(t), value: n })),
          color: "#0f766e", empty: "Nothing open." })),
      h("section", { class: "report-section", "aria-labelledby": "sla-head" },
        h("h2", { id: "sla-head" }, "SLA attainment per band"),
        bands.length ? h("div", { class: "table-wrap" }, h("table", { class: "table sla-table" },
          h("thead", {}, h("tr", {}, ["Band", "Answered within target", "Breached", "Attainment"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, bands.map((b) => h("tr", { dataset: { band: b.band } },
            h("th", { scope: "row" }, humanize(b.band)), h("td", {}, String(b.met)), h("td", {}, String(b.breached)),
            h("td", {}, h("meter", { min: 0, max: 1, low: 0.8, high: 0.95, optimum: 1, value: b.attainment ?? 0,
              "aria-label": `${humanize(b.band)} attainment` }), " ", percent(b.attainment)))))))
          : h("p", { class: "muted" }, "No ticket of this period has met or missed its target yet.")),
      h("section", { class: "report-section", "aria-labelledby": "agents-head" },
        h("h2", { id: "agents-head" }, "Agents' output"),
        agents.length ? h("div", { class: "table-wrap" }, h("table", { class: "table agent-output" },
          h("thead", {}, h("tr", {}, ["Agent", "Handled", "First responses", "Mean first response", "Mean resolution", "CSAT"]
            .map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, agents.map((a) => h("tr", { dataset: { agent: a.agent } },
            h("th", { scope: "row" }, a.name || a.agent), h("td", {}, String(a.handled)), h("td", {}, String(a.first_responses)),
            h("td", {}, seconds(a.first_response_seconds)), h("td", {}, seconds(a.resolution_seconds)),
            h("td", {}, a.csat === null || a.csat === undefined ? "—" : `${a.csat.toFixed(1)} (${a.csat_count})`))))))
          : h("p", { class: "muted" }, "No agent answered, closed or was rated on a ticket of this period yet.")),
    ];
  }
}

// 7 × 24 mean arrivals (UTC from the server), shown in the browser's hours: a cell moves by the
// offset, wrapping into the next or previous day.
function arrivalsHeatmap(arrivals, channel) {
  const picked = channel ? [arrivals.channels[channel]] : Object.values(arrivals.channels || {});
  const utc = DAYS.map((_, d) => Array.from({ length: 24 }, (__, hr) => picked.reduce((sum, g) => sum + (g?.[d]?.[hr] || 0), 0)));
  const offset = utcOffsetHours();
  const local = DAYS.map(() => Array(24).fill(0));
  for (let d = 0; d < 7; d += 1) {
    for (let hr = 0; hr < 24; hr += 1) {
      const at = (((d * 24 + hr + offset) % 168) + 168) % 168;
      local[Math.floor(at / 24)][at % 24] = utc[d][hr];
    }
  }
  const zone = offset ? `UTC${offset > 0 ? "+" : "−"}${Math.abs(offset)}` : "UTC";
  const name = channel ? channelName(channel) : "all channels";
  return heatmap({ title: `Mean tickets arriving per hour, ${name}`,
    description: `The mean of the last ${arrivals.weeks} weeks for each hour of the week; hours in your time (${zone}).`,
    rows: DAYS, columns: Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0")), values: local,
    text: (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0$/, "")) });
}

function stat(label, value, hint) {
  return h("li", { class: "stat-card" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value),
    hint ? h("span", { class: "muted" }, hint) : null);
}
