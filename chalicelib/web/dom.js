// Small DOM and formatting helpers shared by every view. No framework: elements are built
// with `h` (text always goes through textContent, never innerHTML) and updated in place.
// The page runs under a Content-Security-Policy without 'unsafe-inline' and with Trusted Types:
// no style attributes (`style` takes an object, set through the CSSOM), no HTML strings.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, String(v));
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// A link target from outside (a platform's attachment URL): only an absolute http(s) URL, else
// null, so `javascript:`, `data:`, `vbscript:`, `file:` and relative paths never become links.
export function httpUrl(value) {
  if (typeof value !== "string") return null;
  let url;
  try { url = new URL(value); } catch { return null; }
  return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
}

export function $(selector, root = document) { return root.querySelector(selector); }
export function $$(selector, root = document) { return [...root.querySelectorAll(selector)]; }

let idCounter = 0;
export function uid(prefix = "id") { idCounter += 1; return `${prefix}-${idCounter}`; }

// -- time ---------------------------------------------------------------------------------------
// The API's timestamps carry microseconds ("…:49.000000+00:00"); keep three digits for Date.
export function parseTime(iso) {
  if (!iso) return null;
  const t = Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(t) ? null : t;
}

export function duration(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export function ago(iso, now = Date.now()) {
  const t = parseTime(iso);
  if (t === null) return "";
  const diff = now - t;
  if (diff < 45_000) return "just now";
  return diff > 0 ? `${duration(diff)} ago` : `in ${duration(diff)}`;
}

export function clock(iso) {
  const t = parseTime(iso);
  if (t === null) return "";
  const d = new Date(t);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function fullTime(iso) {
  const t = parseTime(iso);
  return t === null ? "" : new Date(t).toLocaleString();
}

// The SLA clock: how long until (or since) `sla_due_at`, and its state for colour.
export const SLA_WARN_MS = 15 * 60 * 1000;
export function slaState(iso, now = Date.now()) {
  const due = parseTime(iso);
  if (due === null) return null;
  const left = due - now;
  if (left < 0) return { state: "breach", text: `${duration(left)} over`, label: `SLA breached ${duration(left)} ago` };
  if (left < SLA_WARN_MS) return { state: "warn", text: `${duration(left)} left`, label: `SLA due in ${duration(left)}` };
  return { state: "ok", text: `${duration(left)} left`, label: `SLA due in ${duration(left)}` };
}

// -- numbers and words -------------------------------------------------------------------------
export function compact(n) {
  if (n === null || n === undefined) return "";
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(n >= 10_000_000 ? 0 : 1)}M`;
  if (n >= 1_000) return `${(n / 1_000).toFixed(n >= 10_000 ? 0 : 1)}k`;
  return String(n);
}

export function humanize(word) {
  if (!word) return "";
  const s = String(word).replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const LANGUAGES = {
  en: "English", el: "Greek", fi: "Finnish", zh: "Chinese", ar: "Arabic", pl: "Polish", sv: "Swedish",
  de: "German", fr: "French", es: "Spanish", it: "Italian", pt: "Portuguese", nl: "Dutch", ru: "Russian",
  tr: "Turkish", ja: "Japanese", ko: "Korean", he: "Hebrew", hi: "Hindi", uk: "Ukrainian",
};
export function languageName(code) { return LANGUAGES[code] || (code ? code.toUpperCase() : "unknown"); }
export const LANGUAGE_CODES = Object.keys(LANGUAGES);

// Right-to-left scripts get dir="auto" anyway; this is for the language badge's title.
export function announce(text) {
  const live = document.getElementById("live");
  if (!live) return;
  live.textContent = "";
  // a fresh text node after a tick is announced even when the text repeats
  setTimeout(() => { live.textContent = text; }, 30);
}

let toastTimer = null;
export function toast(text, kind = "info") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 4000);
}

export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return !["button", "submit", "checkbox", "radio", "reset"].includes(target.type);
  return false;
}
