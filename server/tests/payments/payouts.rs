//! Move-out refunds paid out (by hand, and through M-Pesa's B2C against the fake Daraja),
//! and settlement files reconciled against the ledger: through the real server functions
//! and callback routes on loopback.

use super::*;
use app::domain::UnitId;

async fn site_balance(app: &TestApp, site: i64, kind: &str) -> i64 {
    on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT COALESCE(CAST(SUM(balance_minor) AS BIGINT), 0) FROM accounts WHERE site_id = $1 AND kind = $2")
            .bind(site)
            .bind(kind)
            .fetch_one(pool)
            .await
    })
    .unwrap()
}

/// (id, amount, status) of the payout owed to the person with this e-mail.
pub(super) async fn payout_of(app: &TestApp, email: &str) -> (i64, i64, String) {
    on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT p.id, p.amount_minor, p.status FROM payouts p JOIN users u ON u.id = p.user_id WHERE u.email = $1",
        )
        .bind(email)
        .fetch_one(pool)
        .await
    })
    .unwrap()
}

/// Moves a demo resident out after rounding each of their wallets up to whole shillings
/// (M-Pesa pays nothing smaller); answers what the move-out owes them.
async fn move_out_rounded(app: &TestApp, unit: &str) -> i64 {
    let (unit_id, person): (i64, i64) = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT o.unit_id, o.user_id FROM occupancies o JOIN units u ON u.id = o.unit_id \
             WHERE u.name = $1 AND o.ends_at IS NULL",
        )
        .bind(unit)
        .fetch_one(pool)
        .await
    })
    .unwrap();
    for utility in ["electricity", "water", "gas"] {
        let account = wallet(app, unit, utility).await;
        let before = opening_balance(app, account).await;
        let source = server::engine::money::Source::Cash {
            nonce: format!("round-{account}"),
        };
        let add = 10_000 + (100 - before.rem_euclid(100)) % 100;
        app.engine
            .top_up(account, app::domain::Minor(add), source, None)
            .await
            .unwrap();
    }
    let settlement = app
        .engine
        .move_out(UnitId(unit_id), person, vec![], None, None)
        .await
        .unwrap();
    settlement.refund.0
}

pub(super) async fn provider_reference(app: &TestApp, public_id: &str) -> String {
    on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT provider_reference FROM payments WHERE public_id = $1")
            .bind(public_id)
            .fetch_one(pool)
            .await
    })
    .unwrap()
}

pub(super) async fn reconcile(
    app: &TestApp,
    who: &Visitor,
    site: &str,
    file: &str,
) -> support::Answer {
    let today = chrono::Utc::now().date_naive().to_string();
    app.call(
        who,
        "reconcile_settlement",
        &[
            ("site", site),
            ("provider", "sandbox"),
            ("from", &today),
            ("to", &today),
            ("file", file),
        ],
    )
    .await
}

#[tokio::test]
async fn move_out_refunds_are_paid_once_by_hand_or_through_mpesa() {
    let app = spawn_app().await;
    let (fake_url, fake) = fake::start().await;
    let site = site(&app).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;

    // The demo's former resident of B-410 is owed what they left; the refunds account
    // holds exactly what the payouts owe.
    let (former, owed, status) = payout_of(&app, demo::FORMER_RESIDENT).await;
    assert_eq!((owed, status.as_str()), (125_000, "owed"));
    assert_eq!(site_balance(&app, site, "refunds_payable").await, owed);
    let former = former.to_string();

    // Only the site's manager pays; a receipt number is needed by hand.
    let denied = app
        .call(
            &resident,
            "pay_out",
            &[
                ("payout", &former),
                ("method", "by_hand"),
                ("reference", "X"),
            ],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let blank = app
        .call(
            &manager,
            "pay_out",
            &[
                ("payout", &former),
                ("method", "by_hand"),
                ("reference", " "),
            ],
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let cash_before = site_balance(&app, site, "cash").await;
    let by_hand = [
        ("payout", former.as_str()),
        ("method", "by_hand"),
        ("reference", "CHQ-00123"),
        ("note", "Cheque handed over"),
    ];
    let paid = app.call(&manager, "pay_out", &by_hand).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(payout_of(&app, demo::FORMER_RESIDENT).await.2, "paid");
    assert_eq!(site_balance(&app, site, "refunds_payable").await, 0);
    assert_eq!(site_balance(&app, site, "cash").await, cash_before + owed);
    // Twice: refused, nothing moves.
    let again = app.call(&manager, "pay_out", &by_hand).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("paid already"), "{}", again.body);
    assert_eq!(site_balance(&app, site, "cash").await, cash_before + owed);

    // A-104 moves out with credit left; M-Pesa pays it to a phone.
    let refund = move_out_rounded(&app, "A-104").await;
    assert!(refund >= 30_000 && refund % 100 == 0, "{refund}");
    let (payout, amount, _) = payout_of(&app, "a104@demo.example").await;
    assert_eq!(amount, refund);
    let payout = payout.to_string();
    let through_mpesa = [
        ("payout", payout.as_str()),
        ("method", "mpesa"),
        ("destination", "0712 345 678"),
    ];
    // Not set up for payouts (no initiator): refused, still owed, with the reason.
    set_up_mpesa(&app, site, &fake_url, json!({}), json!({})).await;
    let unready = app.call(&manager, "pay_out", &through_mpesa).await;
    assert_eq!(unready.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unready.body.contains("initiator"), "{}", unready.body);
    assert_eq!(payout_of(&app, "a104@demo.example").await.2, "owed");
    // Only the keys named change: the STK push's settings stay.
    app.payments
        .configure(
            site,
            ProviderKind::Mpesa,
            true,
            json!({ "initiator_name": "prepaid-api", "payout_short_code": "600000" }),
            json!({ "security_credential": "encrypted-credential" }),
        )
        .await
        .unwrap();

    // No clear answer (a gateway's error page): the money may have gone, so it stays sent
    // and cannot be paid again; a day without a result makes it owed again, with a warning.
    fake.calls.lock().unwrap().b2c_garbled = true;
    let unclear = app.call(&manager, "pay_out", &through_mpesa).await;
    assert_eq!(unclear.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unclear.body.contains("no clear answer") || unclear.body.contains("not understood"),
        "{}",
        unclear.body
    );
    assert_eq!(payout_of(&app, "a104@demo.example").await.2, "sent");
    let twice = app.call(&manager, "pay_out", &through_mpesa).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.body.contains("wait for its answer"), "{}", twice.body);
    let day = chrono::Duration::days(1);
    assert_eq!(
        app.payments
            .release_stale_payouts(chrono::Utc::now(), day)
            .await
            .unwrap(),
        0
    );
    let tomorrow = chrono::Utc::now() + chrono::Duration::hours(25);
    assert_eq!(
        app.payments
            .release_stale_payouts(tomorrow, day)
            .await
            .unwrap(),
        1
    );
    assert_eq!(payout_of(&app, "a104@demo.example").await.2, "owed");
    fake.calls.lock().unwrap().b2c_garbled = false;
    let tries_before = fake.seen("/mpesa/b2c/v3/paymentrequest").len();

    // The next try fails at Safaricom: owed again, the reason shown on the page.
    let sent = app.call(&manager, "pay_out", &through_mpesa).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(payout_of(&app, "a104@demo.example").await.2, "sent");
    let request = fake.seen("/mpesa/b2c/v3/paymentrequest")[tries_before].clone();
    assert_eq!(request["PartyB"], "254712345678");
    assert_eq!(request["PartyA"], "600000");
    assert_eq!(request["Amount"], refund / 100);
    assert_eq!(request["InitiatorName"], "prepaid-api");
    assert_eq!(request["CommandID"], "BusinessPayment");
    let result_url = request["ResultURL"].as_str().unwrap();
    let result_path = format!("/{}", result_url.splitn(4, '/').nth(3).unwrap());
    assert!(result_path.starts_with(&format!("/hooks/payout/{payout}/")));
    let conversation = "AG_".to_owned() + &fake.calls.lock().unwrap().counter.to_string();
    let failed = json!({ "Result": { "ResultType": 0, "ResultCode": 2001,
        "ResultDesc": "The initiator information is invalid.", "ConversationID": conversation } })
    .to_string();
    assert_eq!(
        hook(&app, &result_path, &[], &failed).await.0,
        StatusCode::OK
    );
    assert_eq!(payout_of(&app, "a104@demo.example").await.2, "owed");
    let page = app
        .call(
            &manager,
            "site_payments",
            &[("site", &site.to_string()), ("query", "")],
        )
        .await
        .json();
    let row = page["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"].as_i64().map(|id| id.to_string()).as_deref() == Some(payout.as_str()))
        .unwrap()
        .clone();
    assert_eq!(row["failure"], "The initiator information is invalid.");
    assert_eq!(row["amount"], format!("{}.00", refund / 100));
    assert_eq!(page["payout_providers"], json!(["mpesa", "sandbox"]));

    // An emptied setting is removed: payouts then leave from the paybill's short code.
    app.payments
        .configure(
            site,
            ProviderKind::Mpesa,
            true,
            json!({ "payout_short_code": "" }),
            json!({}),
        )
        .await
        .unwrap();

    // The second try goes through. A forged address, or a result about another request,
    // changes nothing; the real one pays once, however often it comes.
    let sent = app.call(&manager, "pay_out", &through_mpesa).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let second = fake.seen("/mpesa/b2c/v3/paymentrequest")[tries_before + 1].clone();
    assert_ne!(
        second["OriginatorConversationID"], request["OriginatorConversationID"],
        "each try has its own idempotency key"
    );
    assert_eq!(second["PartyA"], "174379");
    let conversation = "AG_".to_owned() + &fake.calls.lock().unwrap().counter.to_string();
    let success = json!({ "Result": { "ResultType": 0, "ResultCode": 0, "ResultDesc": "done",
        "ConversationID": conversation, "TransactionID": "NLJ41HAY6Q" } })
    .to_string();
    let forged = format!(
        "{}/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        result_path.rsplit_once('/').unwrap().0
    );
    assert_eq!(
        hook(&app, &forged, &[], &success).await.0,
        StatusCode::NOT_FOUND
    );
    let stale = success.replace(&conversation, "AG_0");
    assert_eq!(
        hook(&app, &result_path, &[], &stale).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(payout_of(&app, "a104@demo.example").await.2, "sent");
    let clearing_before = site_balance(&app, site, "provider_clearing").await;
    for _ in 0..3 {
        assert_eq!(
            hook(&app, &result_path, &[], &success).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(payout_of(&app, "a104@demo.example").await.2, "paid");
    assert_eq!(site_balance(&app, site, "refunds_payable").await, 0);
    assert_eq!(
        site_balance(&app, site, "provider_clearing").await,
        clearing_before + refund
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'payout'"
        )
        .await,
        2
    );
    // A late failure for a paid payout changes nothing.
    assert_eq!(
        hook(&app, &result_path, &[], &failed.replace("AG_", "AG_x"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(payout_of(&app, "a104@demo.example").await.2, "paid");
    assert_reconciles(&app).await;
}

#[tokio::test]
async fn settlement_files_are_reconciled_against_the_ledger() {
    let app = spawn_app().await;
    let site = site(&app).await.to_string();
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "water").await;
    opening_balance(&app, account).await;
    let mut ids = Vec::new();
    for amount in ["100", "250.50", "75"] {
        let started = start(&app, &resident, account, amount, "sandbox", "").await;
        let id = started["public_id"].as_str().unwrap().to_owned();
        let paid = app
            .call(
                &resident,
                "sandbox_decide",
                &[("payment", &id), ("pay", "true")],
            )
            .await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
        ids.push(id);
    }
    let refunded = refund(
        &app,
        &manager,
        &[
            ("payment", &ids[0]),
            ("amount", "40"),
            ("reason", "Overpaid"),
        ],
    )
    .await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.body);
    let (first, second) = (
        provider_reference(&app, &ids[0]).await,
        provider_reference(&app, &ids[1]).await,
    );

    // What the provider would send: both payments, the refund, a fee line. No difference.
    let faithful = format!(
        "Type,Reference,Amount\n\
         charge,{first},100.00\n\
         refund,{first},-40.00\n\
         charge,{second},250.50\n\
         charge,{},75\n\
         fee,FEE-1,-3.20\n",
        ids[2]
    );
    let denied = reconcile(&app, &resident, &site, &faithful).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let report = reconcile(&app, &manager, &site, &faithful).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let report = report.json();
    assert_eq!(report["outcome"]["differences"], json!([]));
    assert_eq!(report["skipped"], 1);
    assert_eq!(report["outcome"]["file_total"], 38_550);
    assert_eq!(report["outcome"]["ledger_total"], 38_550);

    // A different amount, a missing payment, a line we never heard of, a refund not in
    // the ledger: each listed, with the file's line.
    let differing = format!(
        "Type,Reference,Amount\n\
         charge,{first},100.00\n\
         charge,{second},205.50\n\
         charge,ch_stranger,60\n"
    );
    let report = reconcile(&app, &manager, &site, &differing).await.json();
    let differences: Vec<(String, Value, Value)> = report["outcome"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["payment"].clone(),
                d["lines"].clone(),
            )
        })
        .collect();
    assert_eq!(
        differences,
        vec![
            ("not_in_ledger".into(), Value::Null, json!([4])),
            ("return_differs".into(), json!(ids[0]), json!([2])),
            ("amount_differs".into(), json!(ids[1]), json!([3])),
            ("not_in_file".into(), json!(ids[2]), json!([])),
        ]
    );

    // A bad file changes nothing and says which line.
    let bad = reconcile(&app, &manager, &site, "reference,amount\nX,lots\n").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Line 2"), "{}", bad.body);
}
