// Charts drawn as inline SVG, no chart library. Each chart is a <figure> whose SVG has a title
// and description for screen readers, with the same numbers in a table beneath it.

import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
let chartId = 0;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function frame(title, description, svg, table) {
  chartId += 1;
  const titleId = `chart-${chartId}-title`;
  const descId = `chart-${chartId}-desc`;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", `${titleId} ${descId}`);
  svg.prepend(s("title", { id: titleId }, title), s("desc", { id: descId }, description));
  return h("figure", { class: "chart" },
    h("figcaption", {}, title),
    svg,
    h("details", { class: "chart-data" }, h("summary", {}, "Show the numbers"), table));
}

function dataTable(head, rows) {
  return h("table", { class: "table compact" },
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c)))))));
}

// Horizontal bars: [{label, value, text}] — text is how the value reads ("4m 10s", "12").
export function barChart({ title, description, data, color = "#1d4ed8", empty = "No data for this period." }) {
  if (!data.length) return h("figure", { class: "chart" }, h("figcaption", {}, title), h("p", { class: "muted" }, empty));
  const width = 520;
  const labelW = 112;
  const valueW = 70;
  const row = 30;
  const top = 8;
  const height = top * 2 + row * data.length;
  const max = niceMax(Math.max(...data.map((d) => d.value)));
  const barW = width - labelW - valueW;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", class: "svg-chart" });
  // quarter gridlines
  for (let i = 0; i <= 4; i += 1) {
    const x = labelW + (barW * i) / 4;
    svg.append(s("line", { x1: x, x2: x, y1: top - 4, y2: height - top + 4, class: "grid" }));
  }
  data.forEach((d, i) => {
    const y = top + i * row;
    const w = Math.max(d.value > 0 ? 2 : 0, (barW * d.value) / max);
    svg.append(
      s("text", { x: labelW - 8, y: y + row / 2, class: "label", "text-anchor": "end", "dominant-baseline": "middle" }, d.label),
      s("rect", { x: labelW, y: y + 5, width: w, height: row - 10, rx: 3, fill: d.color || color },
        s("title", {}, `${d.label}: ${d.text ?? d.value}`)),
      s("text", { x: labelW + w + 6, y: y + row / 2, class: "value", "dominant-baseline": "middle" }, d.text ?? String(d.value)));
  });
  const table = dataTable(["", "Value"], data.map((d) => [d.label, d.text ?? String(d.value)]));
  return frame(title, description, svg, table);
}

// Stacked columns per day (or hour): series [{key, label, color}], rows [{day, [key]: n, label?}]
// (`label`, when given, is how the column reads on the axis and in the table; else the day's mm-dd).
export function stackedColumns({ title, description, rows, series, empty = "No data for this period." }) {
  if (!rows.length) return h("figure", { class: "chart" }, h("figcaption", {}, title), h("p", { class: "muted" }, empty));
  const width = 520;
  const height = 230;
  const left = 34;
  const bottom = 34;
  const top = 10;
  const plotW = width - left - 8;
  const plotH = height - top - bottom;
  const totals = rows.map((r) => series.reduce((sum, k) => sum + (r[k.key] || 0), 0));
  const max = niceMax(Math.max(...totals));
  const slot = plotW / rows.length;
  const colW = Math.max(4, Math.min(40, slot * 0.7));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", class: "svg-chart" });
  for (let i = 0; i <= 4; i += 1) {
    const value = (max * i) / 4;
    const y = top + plotH - (plotH * i) / 4;
    svg.append(s("line", { x1: left, x2: width - 8, y1: y, y2: y, class: "grid" }),
      s("text", { x: left - 6, y, class: "axis", "text-anchor": "end", "dominant-baseline": "middle" },
        Number.isInteger(value) ? String(value) : value.toFixed(1)));
  }
  const every = Math.ceil(rows.length / 10);
  rows.forEach((r, i) => {
    const x = left + slot * i + (slot - colW) / 2;
    let y = top + plotH;
    for (const k of series) {
      const n = r[k.key] || 0;
      if (!n) continue;
      const hgt = (plotH * n) / max;
      y -= hgt;
      svg.append(s("rect", { x, y, width: colW, height: hgt, fill: k.color }, s("title", {}, `${r.label ?? r.day}: ${n} ${k.label.toLowerCase()}`)));
    }
    if (i % every === 0) {
      svg.append(s("text", { x: x + colW / 2, y: height - bottom + 16, class: "axis", "text-anchor": "middle" }, r.label ?? r.day.slice(5)));
    }
  });
  svg.append(s("line", { x1: left, x2: width - 8, y1: top + plotH, y2: top + plotH, class: "baseline" }));
  const legend = h("ul", { class: "legend" }, series.map((k) => h("li", {},
    h("span", { class: "swatch", style: { background: k.color }, "aria-hidden": "true" }), k.label)));
  const table = dataTable([rows[0].label ? "" : "Day", ...series.map((k) => k.label)],
    rows.map((r) => [r.label ?? r.day, ...series.map((k) => String(r[k.key] || 0))]));
  const figure = frame(title, description, svg, table);
  figure.insertBefore(legend, figure.querySelector("details"));
  return figure;
}

// A heatmap as a table (rows × columns of numbers), each cell shaded by its value through the
// CSSOM: the numbers are the cells' text, so a screen reader reads the same table a person sees.
// values[row][col]; text(v) is how a value reads in its cell.
export function heatmap({ title, description, rows, columns, values, text = String, color = "29, 78, 216" }) {
  const max = Math.max(0, ...values.flat());
  const cell = (v, r, c) => {
    const share = max ? v / max : 0;
    return h("td", { class: `heat${share > 0.55 ? " hot" : ""}`, dataset: { row: String(r), col: String(c) },
      title: `${rows[r]} ${columns[c]}: ${text(v)}`, style: { "background-color": `rgba(${color}, ${share.toFixed(3)})` } },
    v ? text(v) : "");
  };
  return h("figure", { class: "chart heatmap" },
    h("figcaption", {}, title),
    h("p", { class: "muted" }, description),
    h("div", { class: "table-wrap" }, h("table", { class: "heat-table" },
      h("thead", {}, h("tr", {}, h("td", {}), columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, values.map((row, r) => h("tr", {}, h("th", { scope: "row" }, rows[r]), row.map((v, c) => cell(v, r, c))))))));
}
