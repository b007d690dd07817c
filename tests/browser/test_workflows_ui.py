"""The workflows page in a real browser: build, edit, toggle, clone and delete BUY and SELL workflows."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import add_execution, buy_body, sell_body, wallet_body

pytestmark = pytest.mark.browser

ALERT = {"prediction_id": "alert-42", "probability": 0.91}  # the trigger data of the logged executions


def card(page: Page, name: str):
    """The workflow card whose name is exactly `name`."""
    return page.locator("[data-testid=workflow-card]").filter(
        has=page.locator(".card-name").get_by_text(name, exact=True))


def open_page(page: Page, path: str = "/") -> None:
    page.goto(path)
    expect(page.locator("body[data-loaded=true]")).to_be_attached()


def test_build_edit_toggle_clone_and_delete_a_buy_workflow(page, conn, client, make_model, screenshot):
    trigger, confirm = make_model("pump-5m"), make_model("confirm-rf")
    open_page(page)
    expect(page.locator("#stat-buy")).to_have_text("0")
    expect(page.locator("#cards")).to_contain_text("No BUY workflows yet")

    page.click("#new-workflow")
    expect(page.locator("#builder")).to_be_visible()
    expect(page.locator("#builder-title")).to_have_text("New BUY workflow")
    # no wallet yet: make a paper wallet from inside the dialog
    page.click("#new-wallet-btn")
    page.fill("#nw-alias", "paper")
    page.fill("#nw-balance", "5")
    page.click("#nw-create")
    expect(page.locator("#f-wallet")).to_have_value("paper")

    # the API's 422 messages land next to the fields they name
    page.fill("#f-amount", "0")
    page.click("#builder-save")
    expect(page.locator("#builder-error")).to_contain_text("Invalid request")
    expect(page.locator(".field:has(#f-name) .field-error")).to_contain_text("Missing data for required field")
    expect(page.locator(".field:has(#f-amount) .field-error")).to_contain_text("Must be greater than 0")
    expect(page.locator("#f-amount")).to_have_attribute("aria-invalid", "true")

    page.fill("#f-name", "Aggressive Buy Bot")
    page.select_option("#f-trigger-model", str(trigger))
    page.fill("#f-trigger-threshold", "70")
    page.click("#add-condition")
    condition = page.locator(".cond-row").first
    condition.locator(".cond-model").select_option(str(confirm))
    condition.locator(".cond-operator").select_option("gte")
    condition.locator(".cond-threshold").fill("60")
    page.fill("#f-amount", "0.05")
    page.fill("#f-cooldown", "120")
    summary = f"Model #{trigger} ≥ 70% → Model #{confirm} ≥ 60% → Buy 0.05 SOL"
    expect(page.locator("#preview")).to_have_text(summary)
    expect(page.locator(".field:has(#f-amount) .field-error")).to_be_empty()
    expect(page.locator("#builder-error")).to_be_hidden()
    screenshot(page, "builder-buy.png")
    page.click("#builder-save")
    expect(page.locator("#builder")).to_be_hidden()

    bot = card(page, "Aggressive Buy Bot")
    expect(bot.locator(".summary")).to_have_text(summary)
    expect(bot.locator(".card-wallet")).to_have_text("wallet paper")
    expect(bot).to_contain_text("Never executed")
    expect(bot).to_contain_text("cooldown 120s · max 5 open")
    stored = client.get("/api/buy/workflows?type=BUY").get_json()[0]
    assert stored["chain"]["trigger"] == {"type": "prediction_alert", "model_id": trigger, "min_probability": 0.7}
    assert stored["is_active"] is False

    # edit: the dialog comes back filled in; the wallet cannot change
    bot.get_by_role("button", name="Edit").click()
    expect(page.locator("#builder-title")).to_have_text("Edit BUY workflow")
    expect(page.locator("#f-name")).to_have_value("Aggressive Buy Bot")
    expect(page.locator("#f-wallet")).to_be_disabled()
    expect(page.locator("#f-trigger-threshold")).to_have_value("70")
    expect(page.locator(".cond-row .cond-threshold")).to_have_value("60")
    page.fill("#f-trigger-threshold", "75")
    page.check("input[name=amount_mode][value=percent]")
    page.fill("#f-amount", "10")
    page.click("#builder-save")
    expect(page.locator("#builder")).to_be_hidden()
    expect(bot.locator(".summary")).to_have_text(
        f"Model #{trigger} ≥ 75% → Model #{confirm} ≥ 60% → Buy 10% of balance")

    # toggle on: the card and the stat card follow
    bot.locator(".switch").click()
    expect(bot.locator(".switch-label")).to_have_text("Active")
    expect(page.locator("#stat-buy")).to_have_text("1")
    assert client.get("/api/buy/workflows?type=BUY").get_json()[0]["is_active"] is True

    # clone: a new inactive copy
    bot.get_by_role("button", name="Clone").click()
    copy = card(page, "Aggressive Buy Bot (copy)")
    expect(copy).to_be_visible()
    expect(copy.locator(".switch-label")).to_have_text("Inactive")
    expect(page.locator("#count-BUY")).to_have_text("2")

    # delete asks first: cancel keeps it, confirming deletes it
    copy.get_by_role("button", name="Delete").click()
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-text")).to_contain_text("Aggressive Buy Bot (copy)")
    page.click("#confirm-cancel")
    expect(copy).to_be_visible()
    copy.get_by_role("button", name="Delete").click()
    page.click("#confirm-ok")
    expect(copy).to_have_count(0)
    expect(page.locator("#count-BUY")).to_have_text("1")
    assert len(client.get("/api/buy/workflows").get_json()) == 1

    # executions: the log shows the latest ones; details expand to the steps
    workflow_id = bot.get_attribute("data-id")
    add_execution(conn, workflow_id, "REJECTED", trigger_data=ALERT, steps=[
        {"step": "trigger", "probability": 0.81, "min_probability": 0.75, "result": "passed"},
        {"step": "condition_1", "model_id": confirm, "probability": 0.41, "operator": "gte", "threshold": 0.6,
         "result": "failed"}])
    add_execution(conn, workflow_id, "EXECUTED", trigger_data=ALERT, steps=[
        {"step": "trigger", "probability": 0.91, "min_probability": 0.75, "result": "passed"},
        {"step": "max_positions_check", "open": 0, "max": 5, "result": "passed"},
        {"step": "condition_1", "model_id": confirm, "probability": 0.83, "operator": "gte", "threshold": 0.6,
         "result": "passed"},
        {"step": "amount_check", "amount_sol": "0.5", "balance_sol": "5.000000000", "result": "passed"},
        {"step": "execute_buy", "tokens_raw": "405284552", "entry_price_sol": "0.000123", "result": "executed"}])
    client.post("/api/buy/workflows", json=sell_body(wallet_alias="paper", name="Exit rules", is_active=True, chain={
        "rules": [{"type": "stop_loss", "percent": -5}, {"type": "take_profit", "percent": 20}]}))
    client.post("/api/buy/workflows", json=buy_body(
        confirm, [(trigger, "lt", 0.3)], min_probability=0.8, wallet_alias="paper", name="Dip buyer",
        buy_amount_value="0.02", cooldown_seconds=300))
    page.click("#refresh-executions")
    expect(card(page, "Dip buyer").locator(".summary")).to_have_text(
        f"Model #{confirm} ≥ 80% → Model #{trigger} < 30% → Buy 0.02 SOL")
    rows = page.locator("#executions tr.execution-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("EXECUTED")
    expect(rows.first).to_contain_text("Aggressive Buy Bot")
    expect(bot).to_contain_text("EXECUTED")
    expect(page.locator("#stat-sell")).to_have_text("1")
    expect(page.locator("#stat-executed")).to_have_text("1")
    expect(page.locator("#stat-rejected")).to_have_text("1")
    rows.first.get_by_role("button", name="5 steps").click()
    details = page.locator("#executions tr.details-row").first
    expect(details).to_be_visible()
    expect(details).to_contain_text("execute_buy")
    expect(details).to_contain_text("entry_price_sol=0.000123")
    page.mouse.move(0, 0)
    page.evaluate("document.getElementById('toast').hidden = true")
    screenshot(page, "workflows.png", full_page=True)


def test_sell_workflow_with_a_ladder_validation_conflict_and_edit(page, client, screenshot):
    client.post("/api/wallets", json=wallet_body("paper", virtual_sol_balance="5"))
    open_page(page, "/#sell")
    expect(page.locator("#tab-SELL")).to_have_attribute("aria-selected", "true")
    page.click("#new-workflow")
    expect(page.locator("#builder-title")).to_have_text("New SELL workflow")
    expect(page.locator("#f-wallet")).to_have_value("paper")
    page.fill("#f-name", "Exit rules")
    stop_loss = page.locator(".rule-row[data-rule=stop_loss]")
    stop_loss.locator(".rule-value").fill("5")  # a stop-loss must be negative
    page.check("#f-active")
    page.click("#builder-save")
    expect(page.locator("#builder-error")).to_contain_text("chain.rules[0].percent")
    expect(stop_loss.locator(".field:has(.rule-value) .field-error")).to_have_text(
        "Must be negative, between -100 and 0 (a drop in percent).")
    expect(stop_loss.locator(".rule-value")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#builder")).to_be_visible()
    screenshot(page, "builder-error.png")
    assert client.get("/api/buy/workflows").get_json() == []

    stop_loss.locator(".rule-value").fill("-5")
    expect(stop_loss.locator(".field-error")).to_be_empty()
    expect(page.locator("#builder-error")).to_be_hidden()
    page.locator(".rule-row[data-rule=take_profit] .rule-sell-pct").fill("50")
    page.click("#add-tp")
    rung = page.locator(".rule-row[data-rule=take_profit]").nth(1)
    rung.locator(".rule-value").fill("50")
    ladder = "SL -5% | TS -3% | TP +20% (sell 50%) | TP +50% | 30 min"
    expect(page.locator("#preview")).to_have_text(ladder)
    screenshot(page, "builder-sell.png")
    page.click("#builder-save")
    expect(page.locator("#builder")).to_be_hidden()

    exits = card(page, "Exit rules")
    expect(exits.locator(".summary")).to_have_text(ladder)
    expect(exits.locator(".switch-label")).to_have_text("Active")
    expect(page.locator("#stat-sell")).to_have_text("1")
    rules = client.get("/api/buy/workflows?type=SELL").get_json()[0]["chain"]["rules"]
    assert rules[2] == {"type": "take_profit", "percent": 20, "sell_pct": 50}

    # one active SELL workflow per wallet: the API's 409 shows on the card and the toggle stays off
    exits.get_by_role("button", name="Clone").click()
    copy = card(page, "Exit rules (copy)")
    copy.locator(".switch").click()
    expect(copy.locator(".card-error")).to_contain_text("already has an active SELL workflow")
    expect(copy.locator("input.toggle")).not_to_be_checked()
    expect(page.locator("#stat-sell")).to_have_text("1")

    # edit: untick the trailing stop, change the default sell amount
    exits.get_by_role("button", name="Edit").click()
    expect(page.locator("#builder-title")).to_have_text("Edit SELL workflow")
    expect(page.locator(".rule-row[data-rule=take_profit]")).to_have_count(2)
    page.locator(".rule-row[data-rule=trailing_stop] .rule-enabled").uncheck()
    page.fill("#f-sell-pct", "80")
    page.click("#builder-save")
    expect(page.locator("#builder")).to_be_hidden()
    expect(exits.locator(".summary")).to_have_text("SL -5% | TP +20% (sell 50%) | TP +50% | 30 min")
    expect(exits).to_contain_text("sells 80%")

    copy.get_by_role("button", name="Delete").click()
    page.click("#confirm-ok")
    expect(copy).to_have_count(0)
    assert [w["name"] for w in client.get("/api/buy/workflows").get_json()] == ["Exit rules"]
