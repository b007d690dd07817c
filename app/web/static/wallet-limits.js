// Positions page, wallets panel: each wallet's limits and circuit breaker, an editor for the limits, the reset.

import { api } from "./api.js";
import { $, fmtTime, h, toast } from "./dom.js";

const INTEGERS = ["max_buys_per_day", "breaker_losing_sells"];
const FIELDS = ["max_buys_per_day", "max_daily_loss_sol", "max_position_pct", "breaker_losing_sells"];
let editing = null;

const limit = (value) => (value === null || value === undefined ? "no limit" : String(value));

function breakerCell(wallet) {
  if (!wallet.breaker_tripped_at) {
    return h("span", { class: "badge ok", dataset: { testid: `breaker-${wallet.alias}` } },
      `closed · ${wallet.losing_streak}/${wallet.breaker_losing_sells} losing`);
  }
  return [h("span", { class: "badge bad", dataset: { testid: `breaker-${wallet.alias}` },
    title: `${wallet.breaker_reason || ""} (${fmtTime(wallet.breaker_tripped_at)})` }, "TRIPPED: buys paused"), " ",
  h("button", { class: "btn small danger", dataset: { testid: `reset-${wallet.alias}` },
    onclick: () => resetBreaker(wallet) }, "Reset")];
}

function row(wallet) {
  return h("tr", { dataset: { testid: `wallet-${wallet.alias}` } },
    h("td", {}, wallet.alias, " ", h("span", { class: "badge muted" }, wallet.type)),
    h("td", { class: "num" }, wallet.virtual_sol_balance),
    h("td", { class: "num" }, String(wallet.open_positions)),
    h("td", { class: "num" }, limit(wallet.max_buys_per_day)),
    h("td", { class: "num" }, limit(wallet.max_daily_loss_sol)),
    h("td", { class: "num" }, limit(wallet.max_position_pct)),
    h("td", {}, breakerCell(wallet)),
    h("td", {}, h("button", { class: "btn small ghost", dataset: { testid: `edit-limits-${wallet.alias}` },
      onclick: () => openEditor(wallet) }, "Edit limits")));
}

async function refreshWallets() {
  try {
    const wallets = await api.walletsQuietly();
    $("#wallet-limits tbody").replaceChildren(...wallets.map(row));
    $("#wallets-error").hidden = true;
  } catch (err) {
    $("#wallets-error").textContent = `Could not load wallets: ${err.message}`;
    $("#wallets-error").hidden = false;
  }
}

async function resetBreaker(wallet) {
  if (!confirm(`Reset the circuit breaker of ${wallet.alias}? Its BUY workflows buy again.`)) return;
  try {
    await api.resetBreaker(wallet.alias);
    toast(`Circuit breaker of ${wallet.alias} reset.`, "ok");
  } catch (err) {
    toast(err.message, "error");
  }
  await refreshWallets();
}

function openEditor(wallet) {
  editing = wallet;
  $("#limits-title").textContent = `Limits of ${wallet.alias}`;
  for (const name of FIELDS) $(`#limit-${name}`).value = wallet[name] ?? "";
  $("#limits-error").hidden = true;
  $("#limits-dialog").showModal();
}

function limitsBody() {
  const body = {};
  for (const name of FIELDS) {
    const text = $(`#limit-${name}`).value.trim();
    if (name === "breaker_losing_sells" && !text) continue;  // required by the API: keep the current one
    body[name] = !text ? null : INTEGERS.includes(name) ? Number(text) : text;
  }
  return body;
}

async function saveLimits(event) {
  event.preventDefault();
  try {
    await api.patchWallet(editing.alias, limitsBody());
    $("#limits-dialog").close();
    toast(`Limits of ${editing.alias} saved.`, "ok");
    await refreshWallets();
  } catch (err) {
    const fields = err.errors ? Object.entries(err.errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`) : [];
    $("#limits-error").textContent = [err.message, ...fields].join(" · ");
    $("#limits-error").hidden = false;
  }
}

$("#limits-form").addEventListener("submit", saveLimits);
$("#limits-cancel").addEventListener("click", () => $("#limits-dialog").close());
refreshWallets();
