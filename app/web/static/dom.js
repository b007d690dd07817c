// Small DOM and formatting helpers shared by the pages (text is always set as text, never as HTML).

/** h("div", {class: "x", onclick: fn}, child, "text", [more]) → element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

let toastTimer = null;
/** A short message at the top of the page. */
export function toast(message, kind = "info") {
  const el = $("#toast");
  if (!el) return;
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 8000 : 3500);
}

/** "2026-11-21 10:05:30" in the browser's time zone, with the ISO time as a tooltip. */
export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "3 min ago", "2 h ago", "5 d ago". */
export function timeAgo(iso) {
  if (!iso) return "";
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** Shortened mint/address: "7GCi…W2hr" (the full one goes in a title). */
export function shortAddr(address) {
  if (!address) return "–";
  return address.length > 12 ? `${address.slice(0, 4)}…${address.slice(-4)}` : address;
}

/** A decimal string as a readable number with up to `digits` significant digits (prices can be tiny). */
export function fmtNum(value, digits = 6) {
  if (value === null || value === undefined || value === "") return "–";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  if (n === 0) return "0";
  const abs = Math.abs(n);
  if (abs >= 1) return n.toLocaleString("en-US", { maximumFractionDigits: 4 });
  return n.toPrecision(digits).replace(/(\.\d*?)0+(e|$)/, "$1$2").replace(/\.(e|$)/, "$1");
}

/** A SOL amount with sign, e.g. "+0.0123 SOL". */
export function fmtSol(value, signed = false) {
  if (value === null || value === undefined) return "–";
  const n = Number(value);
  const text = fmtNum(Math.abs(n) < 1e-12 ? 0 : n, 5);
  return `${signed && n > 0 ? "+" : ""}${text} SOL`;
}

export function fmtPct(value) {
  if (value === null || value === undefined) return "–";
  const n = Number(value);
  return `${n > 0 ? "+" : ""}${n.toFixed(2)}%`;
}

/** CSS class for a signed number. */
export const signClass = (value) => (value === null || value === undefined || Number(value) === 0 ? "" : Number(value) > 0 ? "pos" : "neg");

/** A result badge (EXECUTED / REJECTED / ERROR …). */
export function badge(text, kind) {
  const map = { EXECUTED: "ok", REJECTED: "warn", ERROR: "bad", OPEN: "ok", CLOSED: "muted", BUY: "buy", SELL: "sell" };
  return h("span", { class: `badge ${kind || map[text] || "muted"}` }, text);
}
