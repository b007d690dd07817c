// The chain-builder dialog: creates (POST) and edits (PATCH) BUY and SELL workflows without JSON.
// The API validates; its 422 messages are shown next to the input whose API path they name.

import { api } from "./api.js";
import { $, $$, h } from "./dom.js";

const OPERATORS = [["gte", "≥"], ["gt", ">"], ["lte", "≤"], ["lt", "<"]];
const OPERATOR_SYMBOL = Object.fromEntries(OPERATORS);

const RULES = {
  stop_loss: { label: "Stop-loss", unit: "% from entry", key: "percent", from: "entry", hint: "negative, e.g. -5", def: -5 },
  trailing_stop: { label: "Trailing stop", unit: "% from peak", key: "percent", from: "peak", hint: "negative, e.g. -3", def: -3 },
  take_profit: { label: "Take-profit", unit: "% gain", key: "percent", hint: "positive, e.g. 20", def: 20 },
  timeout: { label: "Timeout", unit: "minutes", key: "minutes", hint: "e.g. 30", def: 30 },
};
const STANDARD_RULES = ["stop_loss", "trailing_stop", "take_profit", "timeout"];

/** 70 (%) → 0.7 without float noise; "" → null. */
const pctToProb = (value) => (value === "" || value === null ? null : Number((Number(value) / 100).toFixed(8)));
const probToPct = (p) => (p === null || p === undefined ? "" : String(Number((p * 100).toFixed(6))));
/** A number input's value as a JSON number, or null when empty / not a number. */
const num = (input) => (input.value.trim() === "" || Number.isNaN(input.valueAsNumber) ? null : input.valueAsNumber);
/** A decimal input's text (sent as a string so the API keeps it exact), or null. */
const dec = (input) => (input.value.trim() === "" ? null : input.value.trim());
const plain = (value) => String(Number(Number(value).toPrecision(12)));

export class Builder {
  constructor({ onSaved }) {
    this.onSaved = onSaved;
    this.dialog = $("#builder");
    this.form = $("#builder-form");
    this.models = [];
    this.wallets = [];
    this.workflow = null;
    this.type = "BUY";
    this.busy = false;

    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    $$("[data-close]", this.dialog).forEach((b) => b.addEventListener("click", () => this.close()));
    this.dialog.addEventListener("cancel", (event) => { if (this.busy) event.preventDefault(); });
    this.form.addEventListener("input", (event) => { this.clearFieldError(event.target); this.updatePreview(); });
    this.form.addEventListener("change", () => this.updatePreview());
    $("#add-condition").addEventListener("click", () => { this.addCondition(); this.updatePreview(); });
    $("#add-tp").addEventListener("click", () => { this.addTakeProfitRung(); this.updatePreview(); });
    $$("input[name=amount_mode]", this.form).forEach((r) => r.addEventListener("change", () => this.syncAmountMode()));
    $("#new-wallet-btn").addEventListener("click", () => {
      const box = $("#new-wallet");
      box.hidden = !box.hidden;
      if (!box.hidden) $("#nw-alias").focus();
    });
    $("#nw-create").addEventListener("click", () => this.createWallet());
  }

  // --- opening -----------------------------------------------------------

  /** Open for a new workflow of `type`, or for editing `workflow`. */
  async open({ type, workflow = null }) {
    this.workflow = workflow;
    this.type = workflow ? workflow.type : type;
    this.resetErrors();
    $("#builder-title").textContent = workflow
      ? `Edit ${this.type} workflow`
      : `New ${this.type} workflow`;
    this.dialog.dataset.type = this.type;
    this.dialog.dataset.mode = workflow ? "edit" : "create";
    $("#buy-fields").hidden = this.type !== "BUY";
    $("#sell-fields").hidden = this.type !== "SELL";
    $("#active-wrap").hidden = !!workflow;
    $("#f-active").checked = false;
    $("#new-wallet").hidden = true;
    this.showModal();
    try {
      [this.models, this.wallets] = await Promise.all([api.models(), api.wallets()]);
    } catch (err) {
      this.showBanner(`Could not load wallets and models: ${err.message}`);
    }
    this.fillWallets(workflow ? workflow.wallet_alias : null);
    if (this.type === "BUY") this.fillBuy(workflow);
    else this.fillSell(workflow);
    $("#f-name").value = workflow ? workflow.name : "";
    this.updatePreview();
    $("#f-name").focus();
  }

  showModal() {
    if (!this.dialog.open) this.dialog.showModal();
  }

  close() {
    if (!this.busy) this.dialog.close();
  }

  fillWallets(selected) {
    const select = $("#f-wallet");
    select.replaceChildren();
    if (!this.wallets.length) {
      select.append(h("option", { value: "" }, "— no wallet yet: create a paper wallet →"));
    }
    for (const w of this.wallets) {
      const balance = w.type === "TEST" ? ` · ${plain(w.virtual_sol_balance)} SOL` : "";
      select.append(h("option", { value: w.alias }, `${w.alias} (${w.type}${balance})`));
    }
    if (selected && !this.wallets.some((w) => w.alias === selected)) {
      select.append(h("option", { value: selected }, selected));
    }
    if (selected) select.value = selected;
    select.disabled = !!this.workflow; // a workflow's wallet never changes (PATCH has no wallet_alias)
    $("#new-wallet-btn").hidden = !!this.workflow;
  }

  modelOptions(select, selectedId) {
    select.replaceChildren();
    if (!this.models.length) select.append(h("option", { value: "" }, "— no models uploaded (POST /api/models) —"));
    for (const m of this.models) {
      select.append(h("option", { value: String(m.id) }, `${m.name}${m.version > 1 ? ` v${m.version}` : ""} (#${m.id})`));
    }
    if (selectedId !== null && selectedId !== undefined) {
      if (!this.models.some((m) => m.id === selectedId)) {
        select.append(h("option", { value: String(selectedId) }, `Model #${selectedId} (missing)`));
      }
      select.value = String(selectedId);
    }
  }

  // --- BUY ---------------------------------------------------------------

  fillBuy(workflow) {
    const chain = workflow ? workflow.chain : null;
    this.modelOptions($("#f-trigger-model"), chain ? chain.trigger.model_id : null);
    $("#f-trigger-threshold").value = chain ? probToPct(chain.trigger.min_probability) : "70";
    $("#conditions").replaceChildren();
    for (const c of chain ? chain.conditions : []) this.addCondition(c);
    const mode = workflow ? workflow.buy_amount_mode || "fixed" : "fixed";
    $(`input[name=amount_mode][value=${mode}]`, this.form).checked = true;
    $("#f-amount").value = workflow && workflow.buy_amount_value !== null ? plain(workflow.buy_amount_value) : "0.05";
    $("#f-cooldown").value = workflow ? workflow.cooldown_seconds : 60;
    $("#f-max-open").value = workflow ? workflow.max_open_positions : 5;
    this.syncAmountMode();
  }

  addCondition(condition = null) {
    const model = h("select", { class: "cond-model", "aria-label": "Condition model" });
    this.modelOptions(model, condition ? condition.model_id : (this.models[1] || this.models[0] || {}).id);
    const operator = h("select", { class: "cond-operator", "aria-label": "Operator" },
      OPERATORS.map(([value, sym]) => h("option", { value }, sym)));
    operator.value = condition ? condition.operator : "gte";
    const threshold = h("input", {
      class: "cond-threshold", type: "number", min: "0", max: "100", step: "any", "aria-label": "Threshold %",
      value: condition ? probToPct(condition.threshold) : "60", dataset: { unit: "prob" },
    });
    const row = h("div", { class: "cond-row" },
      h("span", { class: "cond-label" }, "and"),
      h("label", { class: "field grow" }, "Model", model),
      h("label", { class: "field narrow" }, "Operator", operator),
      h("label", { class: "field narrow" }, "Threshold %", threshold),
      h("button", { type: "button", class: "icon-btn remove", title: "Remove condition", "aria-label": "Remove condition",
        onclick: () => { row.remove(); this.renumber(); this.updatePreview(); } }, "×"));
    $("#conditions").append(row);
    this.renumber();
    return row;
  }

  renumber() {
    $$(".cond-row", this.form).forEach((row, i) => { $(".cond-label", row).textContent = `Condition ${i + 1}`; });
  }

  syncAmountMode() {
    const percent = this.amountMode() === "percent";
    $("#amount-label").textContent = percent ? "% of balance" : "SOL";
    $("#f-amount").max = percent ? "100" : "";
    this.updatePreview();
  }

  amountMode() {
    const checked = $("input[name=amount_mode]:checked", this.form);
    return checked ? checked.value : "fixed";
  }

  buyChain() {
    const trigger = {
      type: "prediction_alert",
      model_id: $("#f-trigger-model").value ? Number($("#f-trigger-model").value) : null,
      min_probability: pctToProb(num($("#f-trigger-threshold"))),
    };
    const conditions = $$(".cond-row", this.form).map((row, i) => {
      const path = `chain.conditions.${i}`;
      row.dataset.path = path;
      $(".cond-model", row).dataset.path = `${path}.model_id`;
      $(".cond-operator", row).dataset.path = `${path}.operator`;
      $(".cond-threshold", row).dataset.path = `${path}.threshold`;
      return {
        type: "on_demand_prediction",
        model_id: $(".cond-model", row).value ? Number($(".cond-model", row).value) : null,
        operator: $(".cond-operator", row).value,
        threshold: pctToProb(num($(".cond-threshold", row))),
      };
    });
    // filters and sizing have no inputs here yet: an edit keeps the workflow's own (set through the API)
    const kept = this.workflow ? this.workflow.chain : {};
    const extras = {};
    if (kept.filters) extras.filters = kept.filters;
    if (kept.sizing) extras.sizing = kept.sizing;
    return { trigger, conditions, ...extras };
  }

  // --- SELL --------------------------------------------------------------

  fillSell(workflow) {
    const box = $("#rules");
    box.replaceChildren();
    const stored = workflow ? workflow.chain.rules : [
      { type: "stop_loss", percent: -5 }, { type: "trailing_stop", percent: -3 },
      { type: "take_profit", percent: 20 }, { type: "timeout", minutes: 30 },
    ];
    for (const rule of stored) this.addRule(rule.type, rule, true);
    // every kind of rule has a row, unticked when the workflow does not use it
    for (const type of STANDARD_RULES) {
      if (!stored.some((r) => r.type === type)) this.addRule(type, null, false);
    }
    $("#f-sell-pct").value = workflow && workflow.sell_amount_pct !== null ? plain(workflow.sell_amount_pct) : "100";
  }

  addRule(type, rule, enabled, after = null) {
    const spec = RULES[type];
    const value = h("input", {
      class: "rule-value", type: "number", step: "any", "aria-label": `${spec.label} ${spec.unit}`,
      placeholder: spec.hint, value: String(rule ? rule[spec.key] : spec.def),
    });
    const sellPct = h("input", {
      class: "rule-sell-pct", type: "number", min: "1", max: "100", step: "any", "aria-label": `${spec.label} sell %`,
      placeholder: "default", value: rule && rule.sell_pct !== undefined && rule.sell_pct !== null ? String(rule.sell_pct) : "",
    });
    const check = h("input", { type: "checkbox", class: "rule-enabled", checked: enabled, "aria-label": `Use ${spec.label}` });
    const extraRung = type === "take_profit" && $$(`.rule-row[data-rule=take_profit]`, this.form).length > 0;
    const row = h("div", { class: "rule-row", dataset: { rule: type } },
      h("label", { class: "rule-name" }, check, ` ${spec.label}${extraRung ? " (rung)" : ""}`),
      h("div", { class: "field rule-field" },
        h("label", { class: "with-unit" }, value, h("span", { class: "unit" }, spec.unit))),
      h("div", { class: "field rule-field" },
        h("label", { class: "with-unit" }, h("span", { class: "unit" }, "sell"), sellPct, h("span", { class: "unit" }, "%"))),
      extraRung
        ? h("button", { type: "button", class: "icon-btn remove", title: "Remove rung", "aria-label": "Remove rung",
          onclick: () => { row.remove(); this.updatePreview(); } }, "×")
        : h("span", { class: "icon-spacer" }));
    const sync = () => { row.classList.toggle("off", !check.checked); value.disabled = sellPct.disabled = !check.checked; };
    check.addEventListener("change", sync);
    sync();
    if (after) after.after(row);
    else $("#rules").append(row);
    return row;
  }

  addTakeProfitRung() {
    const rungs = $$(".rule-row[data-rule=take_profit]", this.form);
    const last = rungs[rungs.length - 1];
    const highest = Math.max(0, ...rungs.map((r) => Number($(".rule-value", r).value) || 0));
    const row = this.addRule("take_profit", { type: "take_profit", percent: highest ? highest * 2 : 50 }, true, last);
    $(".rule-value", row).focus();
  }

  sellChain() {
    $$("[data-path^='chain.rules']", this.form).forEach((el) => { delete el.dataset.path; });
    const rules = [];
    for (const row of $$(".rule-row", this.form)) {
      if (!$(".rule-enabled", row).checked) continue;
      const type = row.dataset.rule;
      const spec = RULES[type];
      const path = `chain.rules.${rules.length}`;
      row.dataset.path = path;
      $(".rule-value", row).dataset.path = `${path}.${spec.key}`;
      $(".rule-sell-pct", row).dataset.path = `${path}.sell_pct`;
      const rule = { type, [spec.key]: num($(".rule-value", row)) };
      if (spec.from) rule.from = spec.from;
      const sellPct = num($(".rule-sell-pct", row));
      if ($(".rule-sell-pct", row).value.trim() !== "") rule.sell_pct = sellPct;
      rules.push(rule);
    }
    return { rules };
  }

  // --- wallets -----------------------------------------------------------

  async createWallet() {
    const alias = $("#nw-alias").value.trim();
    const balance = $("#nw-balance").value.trim();
    const body = { alias, type: "TEST" };
    if (balance) body.virtual_sol_balance = balance;
    const slot = this.errorSlot($("#nw-alias"));
    slot.textContent = "";
    try {
      const wallet = await api.createWallet(body);
      this.wallets = await api.wallets();
      this.fillWallets(wallet.alias);
      $("#new-wallet").hidden = true;
      $("#nw-alias").value = $("#nw-balance").value = "";
    } catch (err) {
      slot.textContent = err.message;
    }
  }

  // --- saving ------------------------------------------------------------

  payload() {
    const body = {};
    const name = $("#f-name").value.trim();
    if (name || this.workflow) body.name = name; // an empty new name is reported as missing
    if (this.type === "BUY") {
      body.chain = this.buyChain();
      body.buy_amount_mode = this.amountMode();
      body.buy_amount_value = dec($("#f-amount"));
      body.cooldown_seconds = num($("#f-cooldown"));
      body.max_open_positions = num($("#f-max-open"));
    } else {
      body.chain = this.sellChain();
      body.sell_amount_pct = dec($("#f-sell-pct"));
    }
    if (!this.workflow) {
      // only a new workflow names its type and wallet; an edit never changes them
      return { wallet_alias: $("#f-wallet").value, type: this.type, is_active: $("#f-active").checked, ...body };
    }
    return body;
  }

  async save() {
    if (this.busy) return;
    const body = this.payload();
    this.resetErrors();
    this.busy = true;
    $("#builder-save").disabled = true;
    $("#builder-save").textContent = "Saving…";
    try {
      const saved = this.workflow
        ? await api.updateWorkflow(this.workflow.id, body)
        : await api.createWorkflow(body);
      this.busy = false;
      this.dialog.close();
      this.onSaved(saved, !this.workflow);
    } catch (err) {
      this.showBanner(err.message);
      if (err.errors) this.showFieldErrors(err.errors);
    } finally {
      this.busy = false;
      $("#builder-save").disabled = false;
      $("#builder-save").textContent = "Save";
    }
  }

  // --- errors ------------------------------------------------------------

  resetErrors() {
    $("#builder-error").hidden = true;
    $("#builder-error").textContent = "";
    $$(".field-error", this.form).forEach((el) => { el.textContent = ""; });
    $$(".invalid", this.form).forEach((el) => { el.classList.remove("invalid"); el.removeAttribute("aria-invalid"); });
  }

  showBanner(message) {
    const banner = $("#builder-error");
    banner.textContent = message;
    banner.hidden = false;
    banner.scrollIntoView({ block: "nearest" });
  }

  /** {"chain": {"rules": {"0": {"percent": ["…"]}}}} → each message beside the input with that data-path. */
  showFieldErrors(errors) {
    let first = null;
    for (const [path, messages] of flatten(errors)) {
      const target = this.findTarget(path);
      if (!target) continue; // the banner already carries every message
      const text = messages.map((m) => (target.dataset.unit === "prob" ? asPercentMessage(m) : m)).join(" ");
      const slot = this.errorSlot(target);
      slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
      if (target.matches("input, select")) {
        target.classList.add("invalid");
        target.setAttribute("aria-invalid", "true");
      }
      first = first || target;
    }
    if (first && first.focus) first.focus();
  }

  /** The element for an API path, or for the nearest enclosing path that has one. */
  findTarget(path) {
    const parts = path.split(".");
    while (parts.length) {
      const candidate = parts.join(".");
      const el = $$("[data-path]", this.form).find((e) => e.dataset.path === candidate);
      if (el) return el;
      const slot = $$("[data-error-for]", this.form).find((e) => e.dataset.errorFor === candidate);
      if (slot) return slot;
      parts.pop();
    }
    return null;
  }

  /** The .field-error element right after an input (created on demand). */
  errorSlot(target) {
    if (target.matches(".field-error")) return target;
    const holder = target.closest(".field, .cond-row, .rule-row, .segmented") || target.parentElement;
    let slot = Array.from(holder.children).find((c) => c.matches(".field-error"));
    if (!slot) {
      slot = h("div", { class: "field-error", role: "alert" });
      holder.append(slot);
    }
    return slot;
  }

  clearFieldError(input) {
    if (!input || !input.classList || !input.classList.contains("invalid")) return;
    input.classList.remove("invalid");
    input.removeAttribute("aria-invalid");
    const slot = this.errorSlot(input);
    if (slot) slot.textContent = "";
    if (!$(".invalid", this.form)) $("#builder-error").hidden = true; // every named field was changed
  }

  // --- preview -----------------------------------------------------------

  updatePreview() {
    $("#preview").textContent = this.type === "BUY" ? this.buyPreview() : this.sellPreview();
  }

  buyPreview() {
    const label = (select) => (select.value ? `Model #${select.value}` : "Model ?");
    const pct = (input) => (input.value === "" ? "?" : `${plain(input.value)}%`);
    const parts = [`${label($("#f-trigger-model"))} ≥ ${pct($("#f-trigger-threshold"))}`];
    for (const row of $$(".cond-row", this.form)) {
      parts.push(`${label($(".cond-model", row))} ${OPERATOR_SYMBOL[$(".cond-operator", row).value]} ${pct($(".cond-threshold", row))}`);
    }
    const amount = $("#f-amount").value === "" ? "?" : plain($("#f-amount").value);
    parts.push(this.amountMode() === "percent" ? `Buy ${amount}% of balance` : `Buy ${amount} SOL`);
    return parts.join(" → ");
  }

  sellPreview() {
    const abbr = { stop_loss: "SL", trailing_stop: "TS", take_profit: "TP" };
    const parts = [];
    for (const row of $$(".rule-row", this.form)) {
      if (!$(".rule-enabled", row).checked) continue;
      const raw = $(".rule-value", row).value;
      const value = raw === "" ? "?" : plain(raw);
      const type = row.dataset.rule;
      let text = type === "timeout" ? `${value} min` : `${abbr[type]} ${Number(raw) > 0 ? "+" : ""}${value}%`;
      const sell = $(".rule-sell-pct", row).value;
      if (sell !== "") text += ` (sell ${plain(sell)}%)`;
      parts.push(text);
    }
    return parts.length ? parts.join(" | ") : "no rule selected";
  }
}

/** Nested marshmallow errors → [["chain.rules.0.percent", ["…"]], …]. */
export function flatten(errors, prefix = "") {
  if (Array.isArray(errors) || typeof errors === "string") {
    const messages = Array.isArray(errors) ? errors : [errors];
    const texts = messages.filter((m) => typeof m === "string");
    const nested = messages.filter((m) => m && typeof m === "object");
    return [...(texts.length ? [[prefix, texts]] : []), ...nested.flatMap((m) => flatten(m, prefix))];
  }
  if (!errors || typeof errors !== "object") return [];
  return Object.entries(errors).flatMap(([key, value]) => {
    const path = key === "_schema" ? prefix : prefix ? `${prefix}.${key}` : key;
    return flatten(value, path);
  });
}

/** The API speaks of probabilities 0..1; the form asks for percent. */
function asPercentMessage(message) {
  return message.replace("a probability between 0 and 1", "a percentage between 0 and 100");
}
