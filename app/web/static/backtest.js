// Backtest page: pick a BUY and a SELL workflow (or edit a JSON copy of either), a period (UTC), a start balance
// and a price history; POST /api/backtests, poll GET /api/backtests/{id} for the progress, then show the summary,
// the equity curve (SVG drawn here), exits by rule and every trade with the rule of each sell.
// The last run's id stays in the query string (?id=...), so a reload shows it again.

import { api } from "./api.js";
import { RULES, equityChart, exitsChart, fmtDuration } from "./charts.js";
import { $, fmtNum, fmtPct, fmtSol, fmtTime, h, shortAddr, signClass } from "./dom.js";

const POLL_MS = 700;
const COPY_FIELDS = {
  BUY: ["name", "chain", "buy_amount_mode", "buy_amount_value", "cooldown_seconds", "max_open_positions"],
  SELL: ["name", "chain", "sell_amount_pct"],
};
const workflows = { BUY: new Map(), SELL: new Map() };

// --- the form ------------------------------------------------------------------

async function fillWorkflows() {
  const [buys, sells] = await Promise.all([api.workflows("BUY"), api.workflows("SELL")]);
  for (const [type, list, select] of [["BUY", buys, "#bt-buy"], ["SELL", sells, "#bt-sell"]]) {
    list.forEach((w) => workflows[type].set(w.id, w));
    $(select).replaceChildren(...list.map((w) => h("option", { value: w.id }, `${w.name} (${w.wallet_alias})`)));
  }
  return buys.length > 0 && sells.length > 0;
}

/** The editable copy of a workflow: the fields POST /api/buy/workflows takes, without wallet_alias. */
function copyOf(type, id) {
  const workflow = workflows[type].get(id);
  const copy = {};
  for (const name of COPY_FIELDS[type]) if (workflow && workflow[name] !== null && workflow[name] !== undefined) copy[name] = workflow[name];
  return JSON.stringify(copy, null, 2);
}

function syncCopy(kind) {
  const type = kind.toUpperCase();
  const editing = $(`#bt-${kind}-edit`).checked;
  $(`#bt-${kind}-json-field`).hidden = !editing;
  if (editing) $(`#bt-${kind}-json`).value = copyOf(type, $(`#bt-${kind}`).value);
}

/** datetime-local values are read as UTC; a missing seconds part is :00. */
const utc = (value) => (value ? `${value.length === 16 ? `${value}:00` : value}Z` : undefined);
const localValue = (date) => date.toISOString().slice(0, 19);

function workflowRef(kind) {
  if (!$(`#bt-${kind}-edit`).checked) return $(`#bt-${kind}`).value;
  try {
    return JSON.parse($(`#bt-${kind}-json`).value);
  } catch (err) {
    throw new Error(`${kind}: the copy is not valid JSON (${err.message})`);
  }
}

function requestBody() {
  return {
    buy: workflowRef("buy"), sell: workflowRef("sell"), from: utc($("#bt-from").value), to: utc($("#bt-to").value),
    start_balance_sol: $("#bt-balance").value.trim(), prices: $("#bt-prices").value,
  };
}

function showError(message) {
  $("#bt-error").textContent = message;
  $("#bt-error").hidden = !message;
}

/** "to: Must be after from." for each field the API named (nested ones flattened). */
function fieldErrors(errors) {
  const lines = [];
  const walk = (path, value) => {
    if (Array.isArray(value)) lines.push(`${path}: ${value.join(" ")}`);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(path ? `${path}.${k}` : k, v);
  };
  walk("", errors);
  return lines.join("; ");
}

async function submit(event) {
  event.preventDefault();
  showError("");
  let body;
  try {
    body = requestBody();
  } catch (err) {
    showError(err.message);
    return;
  }
  $("#bt-run").disabled = true;
  try {
    const run = await api.createBacktest(body);
    history.replaceState(null, "", `${location.pathname}?id=${run.id}`);
    $("#bt-result").hidden = true;
    await follow(run.id);
  } catch (err) {
    showError(err.errors ? `${err.message} ${fieldErrors(err.errors)}` : err.message);
  } finally {
    $("#bt-run").disabled = false;
  }
}

// --- progress ----------------------------------------------------------------------

function showStatus(run) {
  $("#bt-status").hidden = false;
  $("#bt-progress").value = Number(run.progress);
  const text = { QUEUED: "Queued: waiting for a worker …", RUNNING: `Running: ${Number(run.progress).toFixed(1)} % of the period`,
    DONE: "Done", FAILED: `Failed: ${run.error || "no detail"}` }[run.status] || run.status;
  $("#bt-status-text").textContent = text;
  $("#bt-status").dataset.status = run.status;
}

async function follow(id) {
  for (;;) {
    const run = await api.backtest(id);
    showStatus(run);
    if (run.status === "DONE") return render(run);
    if (run.status === "FAILED") return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

// --- the result ----------------------------------------------------------------------

function setStat(id, text, value) {
  $(id).textContent = text;
  $(id).className = `stat-value ${value === undefined ? "" : signClass(value)}`;
}

function render(run) {
  const s = run.summary;
  const start = Number(run.request.start_balance_sol);
  setStat("#bt-pnl", fmtSol(s.realized_pnl_sol, true), s.realized_pnl_sol);
  $("#bt-balance-hint").textContent = `${fmtSol(start)} → ${fmtSol(start + Number(s.realized_pnl_sol))} (closed trades)`;
  const open = run.trades.filter((t) => t.status === "OPEN").length;
  setStat("#bt-trades", String(s.trades));
  $("#bt-trades-hint").textContent = `${s.wins} won · ${s.losses} lost · ${open} still open at the end`;
  setStat("#bt-winrate", s.win_rate_pct === null ? "–" : `${Number(s.win_rate_pct).toFixed(1)}%`);
  $("#bt-avg-hint").textContent = `avg win ${fmtSol(s.avg_win_sol, true)} · avg loss ${fmtSol(s.avg_loss_sol)}`;
  setStat("#bt-pf", s.profit_factor === null ? "–" : fmtNum(s.profit_factor, 4));
  setStat("#bt-dd", fmtSol(s.max_drawdown_sol), Number(s.max_drawdown_sol) === 0 ? 0 : -1);
  $("#bt-dd-hint").textContent = s.max_drawdown_pct === null ? "of the peak: –" : `${fmtPct(-s.max_drawdown_pct)} of the peak`;
  setStat("#bt-hold", fmtDuration(s.avg_holding_seconds));
  $("#bt-equity").replaceChildren(equityChart(run.equity, Number(s.starting_equity_sol)));
  $("#bt-exits").replaceChildren(exitsChart(s.exits_by_rule));
  renderTrades(run.trades);
  $("#bt-result").hidden = false;
  document.body.dataset.result = "shown";
}

function exitsCell(trade) {
  if (!trade.sells.length) return "–";
  return h("ul", { class: "bt-exits" }, trade.sells.map((sell) => h("li", {},
    h("span", { class: "badge sell", "data-rule": sell.rule }, RULES[sell.rule] || sell.rule), " ",
    `${fmtTime(sell.at)} · ${fmtSol(sell.sol_amount)} · `,
    h("span", { class: signClass(sell.realized_pnl_sol) }, fmtSol(sell.realized_pnl_sol, true)))));
}

function renderTrades(trades) {
  $("#bt-trades-table tbody").replaceChildren(...trades.map((t) => h("tr", { "data-trade": t.trade },
    h("td", {}, String(Number(t.trade))),
    h("td", { title: t.mint, class: "mono" }, shortAddr(t.mint)),
    h("td", {}, fmtTime(t.opened_at)),
    h("td", { class: "num" }, fmtSol(t.sol_spent)),
    h("td", { class: "num" }, fmtNum(t.entry_price_sol)),
    h("td", {}, exitsCell(t)),
    h("td", {}, t.status === "OPEN" ? "open at the end" : `${fmtTime(t.closed_at)} (${RULES[t.close_reason] || t.close_reason})`),
    h("td", { class: `num ${signClass(t.realized_pnl_sol)}` }, fmtSol(t.realized_pnl_sol, true)))));
  $("#bt-trades-empty").hidden = trades.length > 0;
}

// --- start -------------------------------------------------------------------------------

async function start() {
  try {
    if (!(await fillWorkflows())) showError("A backtest needs a BUY and a SELL workflow: create them on the Workflows page.");
  } catch (err) {
    showError(`Could not load the workflows: ${err.message}`);
  }
  const now = new Date();
  $("#bt-to").value = localValue(now);
  $("#bt-from").value = localValue(new Date(now.getTime() - 86400000));
  for (const kind of ["buy", "sell"]) {
    $(`#bt-${kind}-edit`).addEventListener("change", () => syncCopy(kind));
    $(`#bt-${kind}`).addEventListener("change", () => syncCopy(kind));
  }
  $("#bt-form").addEventListener("submit", submit);
  const id = new URLSearchParams(location.search).get("id");
  document.body.dataset.loaded = "true";
  if (id) await follow(id).catch((err) => showError(`Could not load backtest ${id}: ${err.message}`));
}

start();
