//! The cash desk over HTTP: a cashier's drawer should hold the cash top-ups they took since
//! their last close (not another cashier's, not a provider's payments); a close keeps what they
//! counted beside it, once however often the form is sent, and the next shift starts from it.
//! The site's managers see every cashier's closes; a cashier only theirs; nobody else any.

use crate::support;

use reqwest::StatusCode;
use server::demo;
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

const CASHIER: &str = "cashier@demo.example";
const OTHER_CASHIER: &str = "second.cashier@demo.example";

async fn take_cash(app: &TestApp, who: &Visitor, unit: &str, amount: &str, nonce: &str) {
    let answer = take_large(app, who, unit, amount, nonce).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

async fn desk(app: &TestApp, who: &Visitor, site: &str) -> serde_json::Value {
    let answer = app.call(who, "cash_desk", &[("site", site)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()
}

async fn close(
    app: &TestApp,
    who: &Visitor,
    site: &str,
    after: &str,
    counted: &str,
) -> (StatusCode, serde_json::Value) {
    let answer = app
        .call(
            who,
            "close_shift",
            &[
                ("site", site),
                ("after", after),
                ("counted", counted),
                ("note", "end of day"),
            ],
        )
        .await;
    let body = serde_json::from_str(&answer.body)
        .unwrap_or(serde_json::Value::String(answer.body.clone()));
    (answer.status, body)
}

fn expected(desk: &serde_json::Value) -> i64 {
    desk["open"]["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_i64().unwrap())
        .sum()
}

#[tokio::test]
async fn a_cashier_closes_a_shift_against_the_ledger_once() {
    let app = spawn_app().await;
    app.add_staff(CASHIER, "cashier").await;
    app.add_staff(OTHER_CASHIER, "cashier").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let cashier = app.sign_in(CASHIER, demo::PASSWORD).await;
    let other = app.sign_in(OTHER_CASHIER, demo::PASSWORD).await;

    take_cash(&app, &cashier, "A-101", "500", "shift-one-1").await;
    take_cash(&app, &cashier, "A-102", "250.50", "shift-two-2").await;
    // The same form again credits once: still two receipts.
    take_cash(&app, &cashier, "A-102", "250.50", "shift-two-2").await;
    take_cash(&app, &other, "A-103", "1000", "other-one-1").await;

    let open = desk(&app, &cashier, &site).await;
    assert_eq!(
        open["open"]["receipts"].as_array().unwrap().len(),
        2,
        "{open}"
    );
    assert_eq!(expected(&open), 75_050);
    assert_eq!(open["open"]["receipts"][0]["unit"], "A-101");
    assert!(open["open"]["after"].is_null());
    assert_eq!(open["everyone"], false);

    // Counted 5 shillings short.
    let (status, shift) = close(&app, &cashier, &site, "", "745.50").await;
    assert_eq!(status, StatusCode::OK, "{shift}");
    assert_eq!(shift["expected"], 75_050);
    assert_eq!(shift["counted"], 74_550);
    assert_eq!(shift["receipts"], 2);
    // The same form again: the shift it was about is closed, nothing more is written.
    let (status, _) = close(&app, &cashier, &site, "", "745.50").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.count("SELECT COUNT(*) FROM cash_shifts").await, 1);
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'cash_shift_closed'")
        .await;
    assert_eq!(audited, 1);

    // The next shift starts empty and follows the close.
    let next = desk(&app, &cashier, &site).await;
    assert_eq!(next["open"]["receipts"].as_array().unwrap().len(), 0);
    assert_eq!(next["open"]["after"], shift["id"]);
    assert_eq!(next["closed"].as_array().unwrap().len(), 1);
    take_cash(&app, &cashier, "A-104", "20", "shift-three-3").await;
    assert_eq!(expected(&desk(&app, &cashier, &site).await), 2_000);
    for bad in ["-5", "12.345", "lots"] {
        let after = shift["id"].to_string();
        let (status, body) = close(&app, &cashier, &site, &after, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }

    // The other cashier's drawer is theirs alone; a manager sees every close.
    let theirs = desk(&app, &other, &site).await;
    assert_eq!(expected(&theirs), 100_000);
    assert_eq!(theirs["closed"].as_array().unwrap().len(), 0);
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let all = desk(&app, &manager, &site).await;
    assert_eq!(all["everyone"], true);
    assert_eq!(all["closed"][0]["cashier"], "Test cashier");
    assert_eq!(all["closed"].as_array().unwrap().len(), 1);
    assert_eq!(expected(&all), 0, "the manager took no cash");
}

#[tokio::test]
async fn only_those_who_take_cash_see_the_desk() {
    let app = spawn_app().await;
    app.add_staff("operator@demo.example", "operator").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&Visitor::default(), &resident, &operator, &other] {
        let status = app.call(who, "cash_desk", &[("site", &site)]).await.status;
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::NOT_FOUND
            ]
            .contains(&status),
            "{status}"
        );
        let (status, _) = close(&app, who, &site, "", "0").await;
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::NOT_FOUND
            ]
            .contains(&status),
            "{status}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM cash_shifts").await, 0);
}

async fn void(
    app: &TestApp,
    who: &Visitor,
    site: &str,
    receipt: i64,
    reason: &str,
) -> support::Answer {
    app.call(
        who,
        "void_receipt",
        &[
            ("site", site),
            ("receipt", &receipt.to_string()),
            ("reason", reason),
        ],
    )
    .await
}

async fn balance_of(app: &TestApp, unit: &str) -> i64 {
    let account = app.wallet(unit, "electricity").await;
    app.count(&format!(
        "SELECT balance_minor FROM accounts WHERE id = {account}"
    ))
    .await
}

#[tokio::test]
async fn a_receipt_taken_by_mistake_is_voided_and_kept_until_the_shift_closes() {
    let app = spawn_app().await;
    app.add_staff(CASHIER, "cashier").await;
    app.add_staff(OTHER_CASHIER, "cashier").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let cashier = app.sign_in(CASHIER, demo::PASSWORD).await;
    let other = app.sign_in(OTHER_CASHIER, demo::PASSWORD).await;
    let before = balance_of(&app, "A-104").await;
    take_cash(&app, &cashier, "A-104", "300", "void-one-1").await;
    take_cash(&app, &cashier, "A-105", "200", "void-two-2").await;
    let open = desk(&app, &cashier, &site).await;
    let receipts = open["open"]["receipts"].as_array().unwrap().clone();
    let wrong = receipts.iter().find(|r| r["amount"] == 30_000).unwrap()["number"]
        .as_i64()
        .unwrap();

    // Nobody but the one who took the cash voids it, and a reason is needed.
    let theirs = void(&app, &other, &site, wrong, "not mine").await;
    assert_eq!(
        theirs.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        theirs.body
    );
    let unsaid = void(&app, &cashier, &site, wrong, "  ").await;
    assert!(unsaid.status.is_client_error(), "{}", unsaid.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM receipt_voids").await, 0);

    let voided = void(&app, &cashier, &site, wrong, "Wrong flat: meant A-105").await;
    assert_eq!(voided.status, StatusCode::OK, "{}", voided.body);
    assert_eq!(voided.json(), true);
    // Sent twice, voided once.
    let again = void(&app, &cashier, &site, wrong, "Wrong flat: meant A-105").await;
    assert_eq!(again.json(), false);
    assert_eq!(
        balance_of(&app, "A-104").await,
        before,
        "the credit is taken back"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'reversal'")
            .await,
        1
    );

    // The receipt stays in the shift, marked void; the drawer should hold the rest.
    let open = desk(&app, &cashier, &site).await;
    let kept = open["open"]["receipts"].as_array().unwrap();
    assert_eq!(kept.len(), 2);
    let shown = kept.iter().find(|r| r["number"] == wrong).unwrap();
    assert_eq!(shown["void"], "Wrong flat: meant A-105");
    let (status, closed) = close(&app, &cashier, &site, "", "200").await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["expected"], 20_000);
    assert_eq!(closed["receipts"], 2);
    assert_eq!(closed["voided"], 1);
    assert_eq!(closed["counted"], 20_000);

    // Once its shift is closed, a receipt is no longer voided at the desk.
    let other_receipt = receipts.iter().find(|r| r["number"] != wrong).unwrap()["number"]
        .as_i64()
        .unwrap();
    let late = void(&app, &cashier, &site, other_receipt, "too late").await;
    assert_eq!(
        late.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        late.body
    );
    assert!(late.body.contains("closed"), "{}", late.body);
    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(differences.is_empty(), "{differences:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'cash_receipt_voided'")
            .await,
        1
    );

    // A keypad meter's top-up became a token at once: the credit is on the meter, and the
    // receipt is not voided at the desk.
    let keypad = server::demo::KEYPAD_UNIT;
    let before = balance_of(&app, keypad).await;
    take_cash(&app, &cashier, keypad, "42", "void-token-3").await;
    let open = desk(&app, &cashier, &site).await;
    let token_receipt = open["open"]["receipts"][0]["number"].as_i64().unwrap();
    let refused = void(&app, &cashier, &site, token_receipt, "wrong flat").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("token"), "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM receipt_voids").await, 1);
    assert!(
        balance_of(&app, keypad).await < before + 4_200,
        "the token took the credit"
    );

    // Outside the site's staff, nobody voids anything.
    let outsider = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    let resident = app.sign_in("a104@demo.example", demo::PASSWORD).await;
    for who in [&outsider, &resident, &Visitor::default()] {
        let answer = void(&app, who, &site, other_receipt, "x").await;
        assert!(
            matches!(
                answer.status,
                StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
            ),
            "{} {}",
            answer.status,
            answer.body
        );
    }
}

/// Takes cash and answers what the desk said: a receipt, a request waiting, or a refusal.
async fn take_large(
    app: &TestApp,
    who: &Visitor,
    unit: &str,
    amount: &str,
    nonce: &str,
) -> support::Answer {
    let account = app.wallet(unit, "electricity").await.to_string();
    app.call(
        who,
        "cash_top_up",
        &[("account", &account), ("amount", amount), ("nonce", nonce)],
    )
    .await
}

async fn decide_cash(
    app: &TestApp,
    who: &Visitor,
    site: &str,
    request: i64,
    decision: &str,
) -> support::Answer {
    app.call(
        who,
        "decide_cash",
        &[
            ("site", site),
            ("request", &request.to_string()),
            ("decision", decision),
        ],
    )
    .await
}

#[tokio::test]
async fn cash_above_the_site_s_limit_is_credited_only_once_a_second_person_approves() {
    let app = spawn_app().await;
    app.add_staff(CASHIER, "cashier").await;
    app.add_staff(OTHER_CASHIER, "cashier").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let cashier = app.sign_in(CASHIER, demo::PASSWORD).await;
    let other = app.sign_in(OTHER_CASHIER, demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    assert_eq!(demo::CASH_APPROVAL_OVER.0, 500_000, "the demo's limit");
    let ledger = "SELECT COUNT(*) FROM ledger_transactions";
    let before = (app.count(ledger).await, balance_of(&app, "A-103").await);

    // Above the limit: asked for, nothing credited; the same form again is the same request.
    let asked = take_large(&app, &cashier, "A-103", "6000", "large-one-1").await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let asked = asked.json();
    let request = asked["waiting"].as_i64().expect("a request waits");
    assert_eq!(asked["number"], "");
    let again = take_large(&app, &cashier, "A-103", "6000", "large-one-1").await;
    assert_eq!(again.json()["waiting"], request);
    assert_eq!(again.json()["repeated"], true);
    assert_eq!(
        (app.count(ledger).await, balance_of(&app, "A-103").await),
        before
    );
    let shown = desk(&app, &cashier, &site).await;
    assert_eq!(shown["limit"], 500_000);
    assert_eq!(shown["requests"][0]["state"], "pending");
    assert_eq!(shown["requests"][0]["mine"], true);
    assert_eq!(shown["requests"][0]["amount"], 600_000);
    assert_eq!(expected(&shown), 0, "not in the drawer yet");
    // Another cashier does not even see it; the manager sees it, not as theirs.
    assert_eq!(
        desk(&app, &other, &site).await["requests"],
        serde_json::json!([])
    );
    assert_eq!(
        desk(&app, &manager, &site).await["requests"][0]["mine"],
        false
    );

    // Not approved by the one who took it, nor by another cashier.
    for who in [&cashier, &other] {
        let refused = decide_cash(&app, who, &site, request, "approve").await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
    }
    assert_eq!(app.count(ledger).await, before.0);

    // A manager approves: the cash is the taker's receipt, in their drawer, once.
    let approved = decide_cash(&app, &manager, &site, request, "approve").await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.json(), "posted");
    let repeat = decide_cash(&app, &manager, &site, request, "approve").await;
    assert_eq!(repeat.json(), "posted");
    let late = decide_cash(&app, &admin, &site, request, "refuse").await;
    assert_eq!(
        late.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        late.body
    );
    assert_eq!(app.count(ledger).await, before.0 + 1);
    let shown = desk(&app, &cashier, &site).await;
    assert_eq!(expected(&shown), 600_000);
    assert_eq!(shown["requests"][0]["state"], "posted");
    assert_eq!(shown["requests"][0]["decided_by"], "Moses Manager");
    // The cashier's form sent again now answers with the receipt.
    let receipt = take_large(&app, &cashier, "A-103", "6000", "large-one-1").await;
    let receipt = receipt.json();
    assert!(receipt["waiting"].is_null(), "{receipt}");
    assert!(
        receipt["number"].as_str().unwrap().starts_with('R'),
        "{receipt}"
    );
    assert_eq!(receipt["repeated"], true);
    assert_eq!(app.count(ledger).await, before.0 + 1);

    // Refused, or withdrawn by the one who asked: nothing credited, and the form is spent.
    let refused = take_large(&app, &cashier, "A-103", "7000", "large-two-2").await;
    let refused = refused.json()["waiting"].as_i64().unwrap();
    let answer = decide_cash(&app, &admin, &site, refused, "refuse").await;
    assert_eq!(answer.json(), "refused");
    let withdrawn = take_large(&app, &cashier, "A-103", "8000", "large-three-3").await;
    let withdrawn = withdrawn.json()["waiting"].as_i64().unwrap();
    let answer = decide_cash(&app, &cashier, &site, withdrawn, "refuse").await;
    assert_eq!(answer.json(), "withdrawn");
    let spent = take_large(&app, &cashier, "A-103", "7000", "large-two-2").await;
    assert_eq!(spent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(spent.body.contains("refused"), "{}", spent.body);
    assert_eq!(app.count(ledger).await, before.0 + 1);

    // The limit is the admins' to set: a manager who could raise it could take any cash alone.
    let by_manager = app
        .call(
            &manager,
            "set_cash_limit",
            &[("site", &site), ("limit", "0")],
        )
        .await;
    assert_eq!(by_manager.status, StatusCode::FORBIDDEN);
    let by_admin = app
        .call(&admin, "set_cash_limit", &[("site", &site), ("limit", "")])
        .await;
    assert_eq!(by_admin.status, StatusCode::OK, "{}", by_admin.body);
    let at_once = take_large(&app, &cashier, "A-103", "6000", "large-four-4").await;
    assert!(at_once.json()["waiting"].is_null(), "{}", at_once.body);
    assert_eq!(app.count(ledger).await, before.0 + 2);

    let audit = app.audit_actions().await;
    for action in [
        "cash_approval_asked",
        "cash_approved",
        "cash_refused",
        "cash_withdrawn",
        "cash_limit_changed",
    ] {
        assert!(audit.contains(&action.to_owned()), "{action}: {audit:?}");
    }
}
