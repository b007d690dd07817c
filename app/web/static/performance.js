// Performance page: the figures of a wallet's or BUY workflow's closed positions over a period (UTC days),
// an equity curve and an exits-by-rule bar chart drawn here as SVG (no chart library), and P&L per day.
// The picked scope and period live in the query string (?wallet=alias or ?workflow=id, &from=&to= as UTC days).

import { api } from "./api.js";
import { $, $$, fmtNum, fmtPct, fmtSol, fmtTime, h, signClass } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const DAY_MS = 86400000;
const RULES = {
  stop_loss: "Stop-loss", trailing_stop: "Trailing stop", take_profit: "Take-profit", timeout: "Timeout",
  manual: "Manual sell", unknown: "Unknown",
};

/** An SVG element with attributes (and text). */
function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

// --- picker and query string -------------------------------------------------

function readParams() {
  const q = new URLSearchParams(location.search);
  return { wallet: q.get("wallet"), workflow: q.get("workflow"), from: q.get("from") || "", to: q.get("to") || "" };
}

function writeParams() {
  const [kind, id] = $("#scope").value.split(":");
  const q = new URLSearchParams({ [kind]: id });
  if ($("#from").value) q.set("from", $("#from").value);
  if ($("#to").value) q.set("to", $("#to").value);
  history.replaceState(null, "", `${location.pathname}?${q}`);
}

async function fillScopes(params) {
  const [wallets, workflows] = await Promise.all([api.wallets(), api.workflows("BUY")]);
  const select = $("#scope");
  select.replaceChildren(
    h("optgroup", { label: "Wallets" }, wallets.map((w) => h("option", { value: `wallet:${w.alias}` }, w.alias))),
    h("optgroup", { label: "BUY workflows" },
      workflows.map((w) => h("option", { value: `workflow:${w.id}` }, `${w.name} (${w.wallet_alias})`))),
  );
  const wanted = params.workflow ? `workflow:${params.workflow}` : params.wallet ? `wallet:${params.wallet}` : "";
  if (wanted && $$("option", select).some((o) => o.value === wanted)) select.value = wanted;
  $("#from").value = params.from;
  $("#to").value = params.to;
  return select.value !== "";
}

/** The API query: from = start of the from day (UTC), to = start of the day after the to day (exclusive). */
function periodQuery() {
  const from = $("#from").value, to = $("#to").value;
  return {
    from: from ? `${from}T00:00:00Z` : undefined,
    to: to ? new Date(Date.parse(`${to}T00:00:00Z`) + DAY_MS).toISOString() : undefined,
  };
}

function lastDays(days) {
  const today = new Date().toISOString().slice(0, 10);
  $("#from").value = days ? new Date(Date.now() - (days - 1) * DAY_MS).toISOString().slice(0, 10) : "";
  $("#to").value = days ? today : "";
  load();
}

async function load() {
  const scope = $("#scope").value;
  if (!scope) return;
  writeParams();
  const [kind, id] = scope.split(":");
  try {
    const query = periodQuery();
    const perf = kind === "wallet" ? await api.walletPerformance(id, query) : await api.workflowPerformance(id, query);
    $("#load-error").hidden = true;
    render(perf);
  } catch (err) {
    $("#load-error").textContent = `Could not load the performance: ${err.message}`;
    $("#load-error").hidden = false;
  }
  document.body.dataset.loaded = "true";
}

// --- figures -----------------------------------------------------------------

function setStat(id, text, value) {
  $(id).textContent = text;
  $(id).className = `stat-value ${value === undefined ? "" : signClass(value)}`;
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Number(seconds);
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

function render(perf) {
  setStat("#stat-pnl", fmtSol(perf.realized_pnl_sol, true), perf.realized_pnl_sol);
  $("#stat-pnl-hint").textContent = `wins ${fmtSol(perf.gross_win_sol)} · losses ${fmtSol(perf.gross_loss_sol)}`;
  setStat("#stat-trades", String(perf.trades));
  $("#stat-trades-hint").textContent = `${perf.wins} won · ${perf.losses} lost · ${perf.breakeven} even`;
  setStat("#stat-winrate", perf.win_rate_pct === null ? "–" : `${Number(perf.win_rate_pct).toFixed(1)}%`);
  $("#stat-avg-hint").textContent = `avg win ${fmtSol(perf.avg_win_sol, true)} · avg loss ${fmtSol(perf.avg_loss_sol)}`;
  setStat("#stat-pf", perf.profit_factor === null ? "–" : fmtNum(perf.profit_factor, 4));
  setStat("#stat-dd", fmtSol(perf.max_drawdown_sol), Number(perf.max_drawdown_sol) === 0 ? 0 : -1);
  $("#stat-dd-hint").textContent = perf.max_drawdown_pct === null ? "of the peak: –" : `${fmtPct(-perf.max_drawdown_pct)} of the peak`;
  setStat("#stat-hold", fmtDuration(perf.avg_holding_seconds));
  $("#equity").replaceChildren(equityChart(perf.equity_curve, Number(perf.starting_equity_sol)));
  $("#exits").replaceChildren(exitsChart(perf.exits_by_rule));
  renderDays(perf.pnl_by_day);
}

function renderDays(days) {
  $("#days tbody").replaceChildren(...days.slice().reverse().map((d) => h("tr", {},
    h("td", {}, d.day), h("td", { class: "num" }, d.trades),
    h("td", { class: `num ${signClass(d.realized_pnl_sol)}` }, fmtSol(d.realized_pnl_sol, true)))));
  $("#days-empty").hidden = days.length > 0;
}

// --- equity curve ----------------------------------------------------------------

function equityChart(curve, start) {
  const W = 960, H = 280, left = 84, right = 16, top = 16, bottom = 34;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "equity-chart", role: "img" });
  if (!curve.length) {
    chart.setAttribute("aria-label", "no closed positions in this period");
    chart.append(svg("text", { x: W / 2, y: H / 2, class: "chart-empty", "text-anchor": "middle" },
      "No closed positions in this period."));
    return chart;
  }
  const times = curve.map((p) => Date.parse(p.at));
  const values = [start, ...curve.map((p) => Number(p.equity_sol))];
  const t0 = times[0], t1 = times[times.length - 1];
  const lo = Math.min(...values), hi = Math.max(...values);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
  const y0 = lo - pad, y1 = hi + pad;
  const sx = (t) => left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - left - right);
  const sy = (v) => top + (1 - (v - y0) / (y1 - y0)) * (H - top - bottom);
  const last = values[values.length - 1];
  chart.setAttribute("aria-label", `equity from ${fmtNum(start)} to ${fmtNum(last)} SOL over ${curve.length} closes`);
  chart.append(...gridLines(y0, y1, sy, left, W - right), baseLine(start, sy, left, W - right));
  // a step line: equity holds until the next close
  const points = [[sx(t0), sy(start)]];
  curve.forEach((p, i) => points.push([sx(times[i]), points[points.length - 1][1]], [sx(times[i]), sy(values[i + 1])]));
  chart.append(svg("polyline", {
    points: points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "),
    class: `equity-line ${last >= start ? "up" : "down"}`,
  }));
  curve.forEach((p, i) => {
    const dot = svg("circle", { cx: sx(times[i]).toFixed(1), cy: sy(values[i + 1]).toFixed(1), r: 3.5,
      class: `equity-dot ${Number(p.pnl_sol) >= 0 ? "up" : "down"}` });
    dot.append(svg("title", {}, `${fmtTime(p.at)}: ${fmtSol(p.pnl_sol, true)} → ${fmtSol(p.equity_sol, true)}`));
    chart.append(dot);
  });
  chart.append(
    svg("text", { x: left, y: H - 10, class: "axis-label" }, fmtTime(curve[0].at)),
    svg("text", { x: W - right, y: H - 10, class: "axis-label", "text-anchor": "end" }, fmtTime(curve[curve.length - 1].at)),
  );
  return chart;
}

function gridLines(y0, y1, sy, x0, x1) {
  const lines = [];
  for (let k = 0; k <= 4; k += 1) {
    const v = y0 + ((y1 - y0) * k) / 4;
    lines.push(svg("line", { x1: x0, x2: x1, y1: sy(v).toFixed(1), y2: sy(v).toFixed(1), class: "grid-line" }),
      svg("text", { x: x0 - 8, y: (sy(v) + 4).toFixed(1), class: "axis-label", "text-anchor": "end" }, fmtNum(v, 3)));
  }
  return lines;
}

function baseLine(start, sy, x0, x1) {
  return svg("line", { x1: x0, x2: x1, y1: sy(start).toFixed(1), y2: sy(start).toFixed(1), class: "base-line" });
}

// --- exits by rule -----------------------------------------------------------------

function exitsChart(rules) {
  const W = 460, row = 34, top = 8, labelW = 110, valueW = 130;
  const H = Math.max(rules.length, 1) * row + top * 2;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "exits-chart", role: "img" });
  if (!rules.length) {
    chart.setAttribute("aria-label", "no exits in this period");
    chart.append(svg("text", { x: W / 2, y: H / 2 + 4, class: "chart-empty", "text-anchor": "middle" }, "No exits."));
    return chart;
  }
  chart.setAttribute("aria-label", rules.map((r) => `${RULES[r.rule] || r.rule}: ${r.exits}`).join(", "));
  const most = Math.max(...rules.map((r) => r.exits));
  rules.forEach((r, i) => {
    const y = top + i * row;
    const width = Math.max(2, (r.exits / most) * (W - labelW - valueW));
    const bar = svg("rect", { x: labelW, y: y + 6, width: width.toFixed(1), height: row - 12, rx: 3,
      class: `exit-bar ${Number(r.realized_pnl_sol) >= 0 ? "up" : "down"}`, "data-rule": r.rule });
    bar.append(svg("title", {}, `${RULES[r.rule] || r.rule}: ${r.exits} sells, ${fmtSol(r.realized_pnl_sol, true)}`));
    chart.append(
      svg("text", { x: labelW - 8, y: y + row / 2 + 4, class: "bar-label", "text-anchor": "end" }, RULES[r.rule] || r.rule),
      bar,
      svg("text", { x: labelW + width + 6, y: y + row / 2 + 4, class: "bar-value" },
        `${r.exits} · ${fmtSol(r.realized_pnl_sol, true)}`),
    );
  });
  return chart;
}

// --- start -------------------------------------------------------------------------

async function start() {
  try {
    if (!(await fillScopes(readParams()))) {
      $("#load-error").textContent = "No wallet yet: create one on the Workflows page.";
      $("#load-error").hidden = false;
      document.body.dataset.loaded = "true";
      return;
    }
  } catch (err) {
    $("#load-error").textContent = `Could not load wallets and workflows: ${err.message}`;
    $("#load-error").hidden = false;
    document.body.dataset.loaded = "true";
    return;
  }
  $("#perf-form").addEventListener("change", load);
  $("#perf-form").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  for (const button of $$("button[data-days]")) button.addEventListener("click", () => lastDays(Number(button.dataset.days)));
  await load();
}

start();
