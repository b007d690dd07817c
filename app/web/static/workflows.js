// Workflows page: stat cards, BUY/SELL tabs with a card per workflow, recent executions.

import { api } from "./api.js";
import { Builder } from "./builder.js";
import { $, $$, badge, fmtTime, h, shortAddr, timeAgo, toast } from "./dom.js";

const REFRESH_MS = 20000;
const state = {
  type: location.hash.toLowerCase() === "#sell" ? "SELL" : "BUY",
  workflows: { BUY: [], SELL: [] },
  openDetails: new Set(),
};

const builder = new Builder({
  onSaved: (workflow, created) => {
    toast(created ? `Created “${workflow.name}”.` : `Saved “${workflow.name}”.`, "ok");
    selectTab(workflow.type);
    refresh();
  },
});

// --- loading ---------------------------------------------------------------

async function refresh() {
  const results = await Promise.allSettled([
    api.stats(), api.workflows("BUY"), api.workflows("SELL"), api.recentExecutions(20),
  ]);
  const failed = results.find((r) => r.status === "rejected");
  const banner = $("#load-error");
  banner.hidden = !failed;
  if (failed) banner.textContent = `Could not load everything: ${failed.reason.message}`;
  const [stats, buys, sells, executions] = results.map((r) => (r.status === "fulfilled" ? r.value : null));
  if (stats) renderStats(stats);
  if (buys) state.workflows.BUY = buys;
  if (sells) state.workflows.SELL = sells;
  renderCards();
  if (executions) renderExecutions(executions);
  document.body.dataset.loaded = "true";
}

function renderStats(stats) {
  const today = stats.executions_today || {};
  $("#stat-buy").textContent = stats.active_buy;
  $("#stat-sell").textContent = stats.active_sell;
  $("#stat-executed").textContent = today.EXECUTED ?? 0;
  $("#stat-rejected").textContent = today.REJECTED ?? 0;
  $("#stat-error").textContent = today.ERROR ?? 0;
}

async function refreshStats() {
  try {
    renderStats(await api.stats());
  } catch {
    /* the next full refresh shows the problem */
  }
}

// --- tabs and cards --------------------------------------------------------

function selectTab(type) {
  state.type = type;
  history.replaceState(null, "", type === "SELL" ? "#sell" : "#buy");
  for (const tab of $$(".tab[data-type]")) tab.setAttribute("aria-selected", String(tab.dataset.type === type));
  $("#new-workflow").textContent = `+ New ${type} workflow`;
  renderCards();
}

function renderCards() {
  for (const type of ["BUY", "SELL"]) $(`#count-${type}`).textContent = state.workflows[type].length;
  const list = state.workflows[state.type];
  const box = $("#cards");
  box.replaceChildren(...list.map(card));
  if (!list.length) {
    box.append(h("div", { class: "empty-card" },
      h("p", {}, state.type === "BUY"
        ? "No BUY workflows yet. A BUY workflow buys when a model's prediction alert and your conditions agree."
        : "No SELL workflows yet. A SELL workflow protects every open position of a wallet with exit rules."),
      h("button", { class: "btn primary", onclick: () => builder.open({ type: state.type }) }, `+ New ${state.type} workflow`)));
  }
}

function card(wf) {
  const error = h("div", { class: "card-error", role: "alert", hidden: true });
  const toggle = h("input", { type: "checkbox", class: "toggle", checked: wf.is_active, "aria-label": `Active: ${wf.name}` });
  const stateLabel = h("span", { class: "switch-label" }, wf.is_active ? "Active" : "Inactive");
  toggle.addEventListener("change", () => onToggle(wf, toggle, stateLabel, error));
  const last = wf.last_execution_at
    ? [h("span", { title: fmtTime(wf.last_execution_at) }, `Last execution ${timeAgo(wf.last_execution_at)}`), " ",
      badge(wf.last_execution_result)]
    : h("span", { class: "muted" }, "Never executed");
  const settings = wf.type === "BUY"
    ? `cooldown ${wf.cooldown_seconds}s · max ${wf.max_open_positions} open`
    : `sells ${Number(wf.sell_amount_pct)}% unless a rule says otherwise`;
  return h("article", { class: `card ${wf.is_active ? "is-active" : ""}`, dataset: { id: wf.id, testid: "workflow-card" } },
    h("div", { class: "card-head" },
      h("div", {},
        h("h3", { class: "card-name" }, wf.name),
        h("div", { class: "card-wallet" }, "wallet ", h("strong", {}, wf.wallet_alias))),
      h("label", { class: "switch", title: wf.is_active ? "Deactivate" : "Activate" }, toggle, h("span", { class: "slider" }), stateLabel)),
    h("div", { class: "summary", title: "Chain" }, wf.summary),
    h("div", { class: "card-meta" }, last, h("span", { class: "muted settings" }, settings)),
    error,
    h("div", { class: "card-actions" },
      h("button", { class: "btn small", onclick: () => builder.open({ workflow: wf }) }, "Edit"),
      h("button", { class: "btn small", onclick: (e) => onClone(wf, e.currentTarget) }, "Clone"),
      h("span", { class: "spacer" }),
      h("button", { class: "btn small danger-ghost", onclick: () => onDelete(wf) }, "Delete")));
}

async function onToggle(wf, toggle, stateLabel, error) {
  const wanted = toggle.checked;
  toggle.disabled = true;
  error.hidden = true;
  try {
    const updated = await api.toggleWorkflow(wf.id, wanted);
    Object.assign(wf, updated);
    stateLabel.textContent = updated.is_active ? "Active" : "Inactive";
    toggle.closest(".card").classList.toggle("is-active", updated.is_active);
    toast(`“${wf.name}” is ${updated.is_active ? "active" : "inactive"}.`, "ok");
    refreshStats();
  } catch (err) {
    toggle.checked = !wanted;
    error.textContent = err.message;
    error.hidden = false;
  } finally {
    toggle.disabled = false;
  }
}

async function onClone(wf, button) {
  button.disabled = true;
  try {
    const copy = await api.cloneWorkflow(wf.id);
    toast(`Cloned as “${copy.name}” (inactive).`, "ok");
    await refresh();
  } catch (err) {
    toast(err.message, "error");
  } finally {
    button.disabled = false;
  }
}

async function onDelete(wf) {
  const ok = await confirmDialog(`Delete “${wf.name}” and its execution log? This cannot be undone.`);
  if (!ok) return;
  try {
    await api.deleteWorkflow(wf.id);
    toast(`Deleted “${wf.name}”.`, "ok");
    await refresh();
  } catch (err) {
    toast(err.message, "error");
  }
}

function confirmDialog(text) {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.showModal();
  $("#confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

// --- executions ------------------------------------------------------------

function renderExecutions(executions) {
  const body = $("#executions tbody");
  body.replaceChildren();
  $("#executions-empty").hidden = executions.length > 0;
  $("#executions").hidden = executions.length === 0;
  for (const ex of executions) {
    const details = h("tr", { class: "details-row", hidden: !state.openDetails.has(ex.id) },
      h("td", { colspan: 5 }, stepsView(ex)));
    const button = h("button", { class: "btn small ghost", "aria-expanded": String(state.openDetails.has(ex.id)) },
      state.openDetails.has(ex.id) ? "Hide steps" : `${(ex.steps_log || []).length} steps`);
    button.addEventListener("click", () => {
      const open = details.hidden;
      details.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "Hide steps" : `${(ex.steps_log || []).length} steps`;
      if (open) state.openDetails.add(ex.id);
      else state.openDetails.delete(ex.id);
    });
    body.append(
      h("tr", { class: "execution-row", dataset: { id: ex.id } },
        h("td", { title: ex.created_at }, fmtTime(ex.created_at)),
        h("td", {}, badge(ex.workflow_type), " ", ex.workflow_name),
        h("td", { class: "mono", title: ex.mint }, shortAddr(ex.mint)),
        h("td", {}, badge(ex.result)),
        h("td", {}, button, ex.error_message ? h("span", { class: "muted small error-text" }, ` ${ex.error_message}`) : null)),
      details);
  }
}

function stepsView(ex) {
  const rows = (ex.steps_log || []).map((step) => {
    const { step: name, result, ...values } = step;
    return h("tr", {},
      h("td", { class: "mono" }, name || "–"),
      h("td", {}, result ? badge(String(result).toUpperCase(), resultKind(result)) : "–"),
      h("td", { class: "mono small" }, Object.entries(values).map(([k, v]) =>
        h("span", { class: "kv" }, `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`))));
  });
  const trigger = Object.entries(ex.trigger_data || {}).map(([k, v]) =>
    h("span", { class: "kv" }, `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`));
  return h("div", { class: "steps" },
    h("div", { class: "small" }, h("strong", {}, "Trigger "), h("span", { class: "mono" }, trigger.length ? trigger : "–")),
    ex.error_message ? h("div", { class: "small error-text" }, ex.error_message) : null,
    h("table", { class: "table inner" },
      h("thead", {}, h("tr", {}, h("th", {}, "Step"), h("th", {}, "Result"), h("th", {}, "Values"))),
      h("tbody", {}, rows)),
    h("div", { class: "small muted mono" }, `mint ${ex.mint}`,
      ex.position_id ? ` · position ${ex.position_id}` : "", ex.trade_log_id ? ` · trade ${ex.trade_log_id}` : ""));
}

function resultKind(result) {
  const r = String(result).toLowerCase();
  if (["passed", "executed", "sold", "ok"].includes(r)) return "ok";
  if (["failed", "rejected", "skipped"].includes(r)) return "warn";
  if (r.includes("error")) return "bad";
  return "muted";
}

// --- wiring ----------------------------------------------------------------

for (const tab of $$(".tab[data-type]")) tab.addEventListener("click", () => selectTab(tab.dataset.type));
$("#new-workflow").addEventListener("click", () => builder.open({ type: state.type }));
$("#refresh-executions").addEventListener("click", () => refresh());
setInterval(() => {
  if (!document.hidden && !document.querySelector("dialog[open]")) refresh();
}, REFRESH_MS);
selectTab(state.type);
refresh();
