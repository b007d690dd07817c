// Approvals page: BUYs waiting for a human decision, with Approve and Reject; decided ones under "All".

import { api } from "./api.js";
import { refreshApprovalsBadge } from "./approvals-badge.js";
import { $, $$, fmtTime, h, shortAddr, toast } from "./dom.js";

const STATUS_CLASS = { PENDING: "warn", APPROVED: "ok", REJECTED: "bad", EXPIRED: "muted" };
const state = { status: "PENDING" };

async function refresh() {
  try {
    render(await api.approvals(state.status));
    $("#load-error").hidden = true;
  } catch (err) {
    $("#load-error").textContent = `Could not load approvals: ${err.message}`;
    $("#load-error").hidden = false;
  }
  document.body.dataset.loaded = "true";
}

function outcomeText(outcome) {
  if (!outcome) return "–";
  return outcome.reason ? `${outcome.result}: ${outcome.reason}` : outcome.result;
}

function actions(approval) {
  if (approval.status !== "PENDING") return "";
  return [
    h("button", { class: "btn small", dataset: { testid: `approve-${approval.id}` },
      onclick: () => decide(approval, "approve") }, "Approve"),
    " ",
    h("button", { class: "btn small ghost", dataset: { testid: `reject-${approval.id}` },
      onclick: () => decide(approval, "reject") }, "Reject"),
  ];
}

function row(approval) {
  return h("tr", { dataset: { testid: "approval-row" } },
    h("td", {}, fmtTime(approval.created_at)),
    h("td", {}, approval.workflow_name),
    h("td", {}, approval.wallet_alias),
    h("td", { title: approval.mint }, shortAddr(approval.mint)),
    h("td", { class: "num" }, String(approval.amount_sol)),
    h("td", {}, fmtTime(approval.expires_at)),
    h("td", {}, h("span", { class: `badge ${STATUS_CLASS[approval.status] || ""}` }, approval.status)),
    h("td", { class: "small" }, outcomeText(approval.outcome)),
    h("td", {}, actions(approval)));
}

function render(approvals) {
  const body = $("#approvals tbody");
  body.replaceChildren(...approvals.map(row));
  $("#approvals-empty").hidden = approvals.length > 0;
}

async function decide(approval, action) {
  const verb = action === "approve" ? "Approve and buy" : "Reject";
  if (!confirm(`${verb} ${approval.amount_sol} SOL of ${shortAddr(approval.mint)} (${approval.workflow_name})?`)) return;
  try {
    const decided = action === "approve" ? await api.approve(approval.id) : await api.reject(approval.id);
    toast(`${decided.status}: ${outcomeText(decided.outcome)}`, decided.outcome?.result === "EXECUTED" ? "ok" : "info");
  } catch (err) {
    toast(err.message, "error");
  }
  await Promise.all([refresh(), refreshApprovalsBadge()]);
}

function selectTab(status) {
  state.status = status;
  for (const tab of $$(".tab[data-status]")) tab.setAttribute("aria-selected", String(tab.dataset.status === status));
  refresh();
}

for (const tab of $$(".tab[data-status]")) tab.addEventListener("click", () => selectTab(tab.dataset.status));
$("#refresh").addEventListener("click", refresh);
refresh();
