// Positions page: open and closed positions with P&L, the rule that closed them, a price sparkline, manual sell.

import { api } from "./api.js";
import { $, $$, fmtNum, fmtPct, fmtSol, fmtTime, h, shortAddr, signClass, timeAgo, toast } from "./dom.js";

const REFRESH_MS = 15000;
const REASONS = {
  stop_loss: "Stop-loss", trailing_stop: "Trailing stop", take_profit: "Take-profit", timeout: "Timeout", manual: "Manual sell",
};
const state = {
  status: location.hash.toLowerCase() === "#closed" ? "CLOSED" : "OPEN",
  wallet: "",
  selling: null,
};

async function refresh() {
  try {
    const [open, closed] = await Promise.all([api.positions("OPEN", state.wallet), api.positions("CLOSED", state.wallet)]);
    $("#load-error").hidden = true;
    $("#count-OPEN").textContent = open.length;
    $("#count-CLOSED").textContent = closed.length;
    renderTotals(open, closed);
    render(state.status === "OPEN" ? open : closed);
  } catch (err) {
    $("#load-error").textContent = `Could not load positions: ${err.message}`;
    $("#load-error").hidden = false;
  }
  document.body.dataset.loaded = "true";
}

async function loadWallets() {
  try {
    const wallets = await api.wallets();
    const select = $("#wallet-filter");
    for (const w of wallets) select.append(h("option", { value: w.alias }, w.alias));
  } catch {
    /* the filter stays at "all" */
  }
}

function selectTab(status) {
  state.status = status;
  history.replaceState(null, "", status === "CLOSED" ? "#closed" : "#open");
  for (const tab of $$(".tab[data-status]")) tab.setAttribute("aria-selected", String(tab.dataset.status === status));
  refresh();
}

function renderTotals(open, closed) {
  const sum = (rows, key) => rows.reduce((total, p) => total + (Number(p[key]) || 0), 0);
  const unrealized = sum(open, "unrealized_pnl_sol");
  const realized = sum(open, "realized_pnl_sol") + sum(closed, "realized_pnl_sol");
  $("#stat-open").textContent = open.length;
  for (const [id, value] of [["#stat-unrealized", unrealized], ["#stat-realized", realized]]) {
    $(id).textContent = fmtSol(value, true);
    $(id).className = `stat-value ${signClass(value)}`;
  }
}

function render(positions) {
  const body = $("#positions tbody");
  body.replaceChildren(...positions.map(row));
  $("#positions").hidden = positions.length === 0;
  const empty = $("#positions-empty");
  empty.hidden = positions.length > 0;
  empty.textContent = state.status === "OPEN"
    ? "No open positions. BUY workflows open them when a prediction passes every condition."
    : "No closed positions yet.";
  positions.slice(0, 60).forEach((p, i) => drawSparkline(p, body.children[i]));
}

function row(p) {
  const open = p.status === "OPEN";
  const rules = open
    ? ((p.fired_rules || []).length
      ? p.fired_rules.map((r) => h("span", { class: "badge muted", title: "Rule already fired (partial sell)" }, r))
      : h("span", { class: "muted" }, "–"))
    : h("span", { class: "badge closed-reason" }, REASONS[p.close_reason] || p.close_reason || "–");
  return h("tr", { class: "position-row", dataset: { id: p.id, status: p.status } },
    h("td", { class: "mono", title: p.mint }, shortAddr(p.mint),
      p.buy_workflow_name ? h("div", { class: "small muted" }, `by ${p.buy_workflow_name}`) : null),
    h("td", {}, p.wallet_alias),
    h("td", { title: fmtTime(p.opened_at) }, timeAgo(p.opened_at),
      !open && p.closed_at ? h("div", { class: "small muted" }, `closed ${timeAgo(p.closed_at)}`) : null),
    h("td", { class: "num mono", title: p.entry_price_sol }, fmtNum(p.entry_price_sol)),
    h("td", { class: "num mono", title: p.peak_price_sol || "" }, fmtNum(p.peak_price_sol)),
    h("td", { class: "num mono", title: p.last_price_sol || "" }, fmtNum(p.last_price_sol),
      p.last_checked_at ? h("div", { class: "small muted" }, `checked ${timeAgo(p.last_checked_at)}`) : null),
    h("td", { class: `num ${signClass(p.change_from_entry_pct)}` }, fmtPct(p.change_from_entry_pct)),
    h("td", { class: `num ${signClass(p.unrealized_pnl_sol)}` }, open ? fmtSol(p.unrealized_pnl_sol, true) : "–"),
    h("td", { class: `num ${signClass(p.realized_pnl_sol)}` }, fmtSol(p.realized_pnl_sol, true)),
    h("td", {}, rules, p.last_check_error ? h("div", { class: "small error-text", title: p.last_check_error }, "check failing") : null),
    h("td", { class: "spark-cell" }),
    h("td", {}, open ? h("button", { class: "btn small danger", onclick: () => openSell(p) }, "Sell…") : null));
}

// --- sparkline -------------------------------------------------------------

async function drawSparkline(p, tr) {
  const cell = tr && $(".spark-cell", tr);
  if (!cell) return;
  let points = [];
  try {
    const to = p.closed_at || new Date().toISOString();
    const since = new Date(new Date(p.opened_at).getTime() - 60000).toISOString();
    const metrics = await api.coinMetrics(p.mint, { from: since, to, limit: 500 });
    points = metrics.map((m) => [Date.parse(m.ts), Number(m.price_sol)]).reverse();
  } catch {
    /* no stored metrics for this mint: fall back to the position's fills */
  }
  if (points.length < 2) {
    try {
      const detail = await api.position(p.id);
      points = detail.trades.map((t) => [Date.parse(t.created_at), Number(t.price_sol)]).reverse();
      if (p.last_price_sol && p.last_checked_at) points.push([Date.parse(p.last_checked_at), Number(p.last_price_sol)]);
    } catch {
      points = [];
    }
  }
  points = points.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v)).sort((a, b) => a[0] - b[0]);
  cell.replaceChildren(points.length >= 2 ? sparkline(points, Number(p.entry_price_sol)) : h("span", { class: "muted small" }, "–"));
}

function sparkline(points, entry) {
  const W = 120, H = 32, pad = 2;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]).concat(entry || []);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const sy = (y) => H - pad - ((y - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  const lastUp = points[points.length - 1][1] >= entry;
  svg.setAttribute("aria-label", `price from ${fmtNum(points[0][1])} to ${fmtNum(points[points.length - 1][1])} SOL`);
  if (entry) {
    const line = document.createElementNS(ns, "line");
    line.setAttribute("x1", pad); line.setAttribute("x2", W - pad);
    line.setAttribute("y1", sy(entry)); line.setAttribute("y2", sy(entry));
    line.setAttribute("class", "entry-line");
    svg.append(line);
  }
  const path = document.createElementNS(ns, "polyline");
  path.setAttribute("points", points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" "));
  path.setAttribute("class", lastUp ? "up" : "down");
  svg.append(path);
  return svg;
}

// --- manual sell -----------------------------------------------------------

function openSell(p) {
  state.selling = p;
  $("#sell-title").textContent = `Sell ${shortAddr(p.mint)}`;
  $("#sell-text").textContent = `${p.wallet_alias} · entry ${fmtNum(p.entry_price_sol)} SOL · last ${fmtNum(p.last_price_sol)} SOL`;
  $("#sell-error").hidden = true;
  $("#sell-pct").value = "100";
  $("#sell-dialog").showModal();
  $("#sell-pct").select();
}

async function submitSell(event) {
  event.preventDefault();
  const p = state.selling;
  const pct = $("#sell-pct").value.trim();
  const ok = $("#sell-ok");
  ok.disabled = true;
  try {
    const after = await api.sellPosition(p.id, pct === "" ? null : pct);
    $("#sell-dialog").close();
    toast(after.status === "CLOSED" ? "Position sold and closed." : `Sold ${pct}% of the position.`, "ok");
    refresh();
  } catch (err) {
    $("#sell-error").textContent = err.message;
    $("#sell-error").hidden = false;
  } finally {
    ok.disabled = false;
  }
}

for (const tab of $$(".tab[data-status]")) tab.addEventListener("click", () => selectTab(tab.dataset.status));
$("#wallet-filter").addEventListener("change", (e) => { state.wallet = e.target.value; refresh(); });
$("#refresh").addEventListener("click", () => { refresh(); toast("Refreshed."); });
$("#sell-form").addEventListener("submit", submitSell);
$("#sell-cancel").addEventListener("click", () => $("#sell-dialog").close());
setInterval(() => {
  if (!document.hidden && !document.querySelector("dialog[open]")) refresh();
}, REFRESH_MS);
loadWallets();
selectTab(state.status);
