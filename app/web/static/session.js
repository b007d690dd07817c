// The page header's session box: "signed in as <name> (role)" and the sign-out button (every page but sign-in),
// and the emergency stop: a red "Stop all trading" button (confirmed) and a banner on every page while halted.

import { api, forgetKey } from "./api.js";
import { $, toast } from "./dom.js";

const ROLE_HINT = { "read-only": "This key can look but not change anything." };

async function showWhoAmI() {
  const who = await api.whoAmI();
  $("#whoami-name").textContent = who.name;
  $("#whoami-role").textContent = `(${who.role})`;
  $("#whoami").title = ROLE_HINT[who.role] || "";
  $("#whoami").hidden = false;
  document.body.dataset.role = who.role;
}

async function signOut() {
  $("#sign-out").disabled = true;
  try {
    await api.signOut();
  } catch (err) {
    toast(`Sign-out could not clear the /rq session: ${err.message}`, "error");
  }
  forgetKey();
  location.assign("/signin?reason=signed-out");
}

function haltText(status) {
  const source = status.source === "config" ? " by TRADING_HALTED" : "";
  const sells = status.sells === "halt" ? "Sells are halted too." : "Sells keep protecting open positions.";
  return `Trading is halted${source}: ${status.reason || "no reason given"}. No buy is made. ${sells}`;
}

async function showTradingState() {
  const status = await api.tradingStatus();
  const banner = $("#halt-banner");
  const button = $("#halt-trading");
  banner.hidden = !status.halted;
  banner.textContent = status.halted ? haltText(status) : "";
  button.textContent = status.halted ? "Resume trading" : "Stop all trading";
  button.dataset.halted = String(status.halted);
  button.hidden = false;
}

/** Ask for a reason and a confirmation, then halt; or confirm and resume. False when the user cancelled. */
async function changeTradingState(halted) {
  if (halted) {
    if (!confirm("Resume trading? Active BUY workflows will buy again.")) return false;
    await api.resumeTrading();
    toast("Trading resumed.", "ok");
    return true;
  }
  const reason = prompt("Stop ALL trading now? No buy will be made until you resume; sells keep protecting "
    + "open positions. Reason:", "manual stop");
  if (reason === null || !reason.trim()) return false;
  if (!confirm(`Stop all trading now (reason: ${reason.trim()})?`)) return false;
  await api.haltTrading({ reason: reason.trim(), sells: "continue" });
  toast("Trading halted: no buy will be made.", "ok");
  return true;
}

async function onHaltClick() {
  const button = $("#halt-trading");
  button.disabled = true;
  try {
    await changeTradingState(button.dataset.halted === "true");
  } catch (err) {
    toast(err.message, "error");
  } finally {
    button.disabled = false;
  }
  await showTradingState();
}

$("#sign-out").addEventListener("click", signOut);
$("#halt-trading").addEventListener("click", () => onHaltClick().catch((err) => toast(err.message, "error")));
showWhoAmI().catch((err) => toast(`Could not check the key: ${err.message}`, "error"));
showTradingState().catch((err) => {
  if (err.status !== 401) toast(`Could not read the trading state: ${err.message}`, "error");
});
