// Performance page: the figures of a wallet's or BUY workflow's closed positions over a period (UTC days),
// an equity curve and an exits-by-rule bar chart drawn here as SVG (no chart library), and P&L per day.
// The picked scope and period live in the query string (?wallet=alias or ?workflow=id, &from=&to= as UTC days).

import { api } from "./api.js";
import { equityChart, exitsChart, fmtDuration } from "./charts.js";
import { $, $$, fmtNum, fmtPct, fmtSol, h, signClass } from "./dom.js";

const DAY_MS = 86400000;

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
