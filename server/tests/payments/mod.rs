//! Payments against the real server on loopback with a real SQLite file, and a fake provider
//! on loopback for the providers' APIs. Signatures are computed here with the `hmac` and
//! `sha2` crates, independently of the server's own (ring) code.

use crate::support;

mod fake;
mod payouts;
mod properties;
mod tokens;

use app::domain::payments::ProviderKind;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{demo, on_db};
use support::{TestApp, Visitor, spawn_app};

const STRIPE_WEBHOOK_SECRET: &str = "whsec_test_secret";
const STRIPE_KEY: &str = "sk_test_key";
const PAYSTACK_KEY: &str = "sk_test_paystack";

pub fn hmac_sha256_hex(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

fn hmac_sha512_hex(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `Stripe-Signature` header for `body` signed at `t`.
pub fn stripe_header(secret: &str, t: i64, body: &str) -> String {
    let v1 = hmac_sha256_hex(secret, format!("{t}.{body}").as_bytes());
    format!("t={t},v1={v1}")
}

async fn wallet(app: &TestApp, unit: &str, utility: &str) -> i64 {
    on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT w.account_id FROM wallets w JOIN meters m ON m.id = w.meter_id JOIN units u ON u.id = m.unit_id \
             WHERE u.name = $1 AND m.utility = $2 AND w.closed_at IS NULL",
        )
        .bind(unit)
        .bind(utility)
        .fetch_one(pool)
        .await
    })
    .unwrap()
}

/// Asks for a refund as `asker` (the form of `refund_payment`) and has the demo's admin, a
/// second person, approve it: the approval's answer, or the request's when it was refused.
async fn refund(app: &TestApp, asker: &Visitor, form: &[(&str, &str)]) -> support::Answer {
    let asked = app.call(asker, "refund_payment", form).await;
    if asked.status != StatusCode::OK {
        return asked;
    }
    let request = asked.body.trim().to_owned();
    let site = app
        .count(&format!(
            "SELECT site_id FROM refund_requests WHERE id = {request}"
        ))
        .await
        .to_string();
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    app.call(
        &admin,
        "decide_refund",
        &[
            ("site", site.as_str()),
            ("request", request.as_str()),
            ("decision", "approve"),
        ],
    )
    .await
}

async fn balance(app: &TestApp, account: i64) -> i64 {
    on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT balance_minor FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_one(pool)
            .await
    })
    .unwrap()
}

/// The balance once today's periodic charges are posted, so none lands mid-test (the server's
/// jobs run at start, concurrently with the test).
async fn opening_balance(app: &TestApp, account: i64) -> i64 {
    app.engine.run_jobs(chrono::Utc::now()).await.unwrap();
    balance(app, account).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    on_db!(&app.db, pool => sqlx::query_scalar(sql).fetch_one(pool).await).unwrap()
}

async fn hook(
    app: &TestApp,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (StatusCode, Value) {
    let mut request = app.client.post(app.url(path)).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn start(
    app: &TestApp,
    who: &Visitor,
    account: i64,
    amount: &str,
    provider: &str,
    phone: &str,
) -> Value {
    let account = account.to_string();
    let answer = app
        .call(
            who,
            "start_payment",
            &[
                ("account", &account),
                ("amount", amount),
                ("provider", provider),
                ("phone", phone),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()
}

/// M-Pesa for the site, against the fake Daraja at `fake_url`, with the STK push's settings
/// and secrets and any `settings` and `secrets` more.
async fn set_up_mpesa(app: &TestApp, site: i64, fake_url: &str, settings: Value, secrets: Value) {
    let mut all = json!({ "base_url": fake_url, "short_code": "174379" });
    all.as_object_mut()
        .unwrap()
        .extend(settings.as_object().unwrap().clone());
    let mut keys = json!({ "consumer_key": "ck", "consumer_secret": "cs", "passkey": "pk" });
    keys.as_object_mut()
        .unwrap()
        .extend(secrets.as_object().unwrap().clone());
    app.payments
        .configure(site, ProviderKind::Mpesa, true, all, keys)
        .await
        .unwrap();
}

async fn site(app: &TestApp) -> i64 {
    app.site_id(demo::SITE).await
}

#[tokio::test]
async fn a_sandbox_top_up_credits_once_reconnects_and_numbers_its_receipt() {
    let app = spawn_app().await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "electricity").await;
    let before = opening_balance(&app, account).await;
    let options = app
        .call(
            &resident,
            "recharge_options",
            &[("account", &account.to_string())],
        )
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    assert_eq!(options.json()["providers"], json!(["sandbox"]));

    // Outside the site's limits: refused, nothing stored.
    let refused = app
        .call(
            &resident,
            "start_payment",
            &[
                ("account", &account.to_string()),
                ("amount", "1.00"),
                ("provider", "sandbox"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM payments").await, 0);

    let started = start(&app, &resident, account, "250", "sandbox", "").await;
    let id = started["public_id"].as_str().unwrap().to_owned();
    assert!(
        started["redirect"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/pay/sandbox/{id}"))
    );
    let pending = app
        .call(&Visitor::default(), "payment_page", &[("payment", &id)])
        .await;
    assert_eq!(pending.json()["payment"]["status"], "pending");

    for _ in 0..3 {
        // Pressing "Pay" again (or a retry) credits nothing more.
        let paid = app
            .call(
                &Visitor::default(),
                "sandbox_decide",
                &[("payment", &id), ("pay", "true")],
            )
            .await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    }
    assert_eq!(balance(&app, account).await, before + 25_000);
    // One receipt notice for the resident, however often the provider said it.
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM notifications WHERE kind = 'payment_received'"
        )
        .await,
        1
    );
    let page = app
        .call(&resident, "payment_page", &[("payment", &id)])
        .await
        .json();
    assert_eq!(page["payment"]["status"], "paid");
    let receipt = page["payment"]["receipt"].as_str().unwrap().to_owned();
    assert!(
        receipt.starts_with(&format!("R{}-", site(&app).await)),
        "{receipt}"
    );
    assert_eq!(page["account"]["balance_minor"], json!(before + 25_000));
    // A stranger holding the link sees the payment and a masked name, never the balance.
    let stranger = app
        .call(&Visitor::default(), "payment_page", &[("payment", &id)])
        .await
        .json();
    assert!(stranger["account"].is_null());
    assert!(
        stranger["payee"].as_str().unwrap().ends_with("***"),
        "{}",
        stranger["payee"]
    );

    // A decline after the payment changes nothing.
    let declined = app
        .call(
            &Visitor::default(),
            "sandbox_decide",
            &[("payment", &id), ("pay", "false")],
        )
        .await;
    assert_eq!(declined.status, StatusCode::OK);
    assert_eq!(balance(&app, account).await, before + 25_000);

    // Receipts run 1, 2, 3… without a gap on the site.
    let (numbers, highest): (i64, i64) = on_db!(&app.db, pool => {
        sqlx::query_as("SELECT COUNT(*), MAX(number) FROM receipts WHERE site_id = $1")
            .bind(site(&app).await)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert_eq!(numbers, highest);
}

#[tokio::test]
async fn a_cut_off_account_is_reconnected_by_a_sandbox_payment() {
    let app = spawn_app().await;
    // The demo leaves every ninth account empty; find one that is cut and belongs to a resident.
    let (account, email): (i64, String) = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT w.account_id, us.email FROM wallets w JOIN accounts a ON a.id = w.account_id \
             JOIN occupancies o ON o.id = w.occupancy_id JOIN users us ON us.id = o.user_id \
             WHERE a.balance_minor <= 0 AND w.meter_id IS NOT NULL ORDER BY w.account_id LIMIT 1",
        )
        .fetch_one(pool)
        .await
    })
    .unwrap();
    server::engine::Engine::run_jobs(&app.engine, chrono::Utc::now())
        .await
        .unwrap();
    let state: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT supply_state FROM wallets WHERE account_id = $1").bind(account).fetch_one(pool).await
    })
    .unwrap();
    assert!(
        matches!(state.as_str(), "cut" | "restricted" | "armed" | "protected"),
        "{state}"
    );
    let resident = app.sign_in(&email, demo::PASSWORD).await;
    let started = start(&app, &resident, account, "500", "sandbox", "").await;
    let id = started["public_id"].as_str().unwrap();
    let paid = app
        .call(
            &resident,
            "sandbox_decide",
            &[("payment", id), ("pay", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    let page = app
        .call(&resident, "payment_page", &[("payment", id)])
        .await
        .json();
    let state = page["account"]["state"].as_str().unwrap().to_owned();
    assert!(
        matches!(state.as_str(), "on" | "armed"),
        "reconnected, or gas armed: {state}"
    );
    let open: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM meter_commands c JOIN wallets w ON w.meter_id = c.meter_id \
             WHERE w.account_id = $1 AND c.command IN ('open', 'arm')",
        )
        .bind(account)
        .fetch_one(pool)
        .await
    })
    .unwrap();
    assert!(open >= 1, "a command to reopen the supply was queued");
}

#[tokio::test]
async fn stripe_webhooks_are_verified_and_credit_exactly_once() {
    let app = spawn_app().await;
    let (fake_url, fake) = fake::start().await;
    let site = site(&app).await;
    app.payments
        .configure(
            site,
            ProviderKind::Stripe,
            true,
            json!({ "base_url": fake_url }),
            json!({ "secret_key": STRIPE_KEY, "webhook_secret": STRIPE_WEBHOOK_SECRET }),
        )
        .await
        .unwrap();
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "water").await;
    let before = opening_balance(&app, account).await;
    let started = start(&app, &resident, account, "300.00", "stripe", "").await;
    assert!(
        started["redirect"]
            .as_str()
            .unwrap()
            .starts_with("https://checkout.test/cs_test_")
    );
    let sessions = fake.seen("/v1/checkout/sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        sessions[0]["line_items[0][price_data][unit_amount]"],
        "30000"
    );
    assert_eq!(sessions[0]["line_items[0][price_data][currency]"], "kes");
    assert_eq!(sessions[0]["authorization"], format!("Bearer {STRIPE_KEY}"));
    let session = started["redirect"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    let path = format!("/hooks/stripe/{site}");
    let now = chrono::Utc::now().timestamp();
    let completed = |event: &str, amount: i64| {
        json!({ "id": event, "type": "checkout.session.completed", "data": { "object": {
            "id": session, "payment_status": "paid", "amount_total": amount, "currency": "kes",
            "payment_intent": "pi_test_1" } } })
        .to_string()
    };
    let body = completed("evt_1", 30_000);

    // Unsigned, badly signed, stale, or signed with another secret: refused, nothing changes.
    assert_eq!(
        hook(&app, &path, &[], &body).await.0,
        StatusCode::UNAUTHORIZED
    );
    let wrong = stripe_header("whsec_other", now, &body);
    assert_eq!(
        hook(&app, &path, &[("stripe-signature", wrong)], &body)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let stale = stripe_header(STRIPE_WEBHOOK_SECRET, now - 3600, &body);
    assert_eq!(
        hook(&app, &path, &[("stripe-signature", stale)], &body)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let signed = stripe_header(STRIPE_WEBHOOK_SECRET, now, &body);
    let tampered = body.replace("30000", "90000");
    assert_eq!(
        hook(
            &app,
            &path,
            &[("stripe-signature", signed.clone())],
            &tampered
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(balance(&app, account).await, before);

    // Signed: credited; the same event again, or the same payment in a new event: nothing more.
    let (status, _) = hook(&app, &path, &[("stripe-signature", signed.clone())], &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(balance(&app, account).await, before + 30_000);
    assert_eq!(
        hook(&app, &path, &[("stripe-signature", signed)], &body)
            .await
            .0,
        StatusCode::OK
    );
    let again = completed("evt_2", 30_000);
    let header = stripe_header(STRIPE_WEBHOOK_SECRET, now, &again);
    assert_eq!(
        hook(&app, &path, &[("stripe-signature", header)], &again)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before + 30_000);

    // A session we never created: 404, nothing changes.
    let unknown = completed("evt_3", 30_000).replace(&session, "cs_unknown");
    let header = stripe_header(STRIPE_WEBHOOK_SECRET, now, &unknown);
    assert_eq!(
        hook(&app, &path, &[("stripe-signature", header)], &unknown)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // A second payment reported with another amount: a conflict for the manager, no credit.
    let second = start(&app, &resident, account, "100", "stripe", "").await;
    let second_session = second["redirect"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let short = json!({ "id": "evt_4", "type": "checkout.session.completed", "data": { "object": {
        "id": second_session, "payment_status": "paid", "amount_total": 1_000, "currency": "kes" } } })
    .to_string();
    let header = stripe_header(STRIPE_WEBHOOK_SECRET, now, &short);
    assert_eq!(
        hook(&app, &path, &[("stripe-signature", header)], &short)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before + 30_000);
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let page = app
        .call(
            &manager,
            "site_payments",
            &[("site", &site.to_string()), ("query", "")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let page = page.json();
    let conflict = &page["conflicts"][0];
    assert_eq!(conflict["kind"], "amount");
    // The manager credits what really came (10.00) to the account.
    let resolved = app
        .call(
            &manager,
            "resolve_conflict",
            &[
                ("conflict", &conflict["id"].to_string()),
                ("decision", "credit"),
            ],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(balance(&app, account).await, before + 31_000);

    // A refund goes through the provider and comes off the balance; Stripe's own webhook about
    // the same refund changes nothing more.
    let first = started["public_id"].as_str().unwrap();
    let refunded = refund(
        &app,
        &manager,
        &[
            ("payment", first),
            ("amount", "50"),
            ("reason", "Moved out early"),
        ],
    )
    .await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.body);
    let refunds = fake.seen("/v1/refunds");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["payment_intent"], "pi_test_1");
    assert_eq!(refunds[0]["amount"], "5000");
    assert_eq!(balance(&app, account).await, before + 26_000);
    let refund_id: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT provider_reference FROM payment_refunds").fetch_one(pool).await
    })
    .unwrap();
    assert!(refund_id.starts_with("re_test_"), "{refund_id}");
    let refund_event = json!({ "id": "evt_5", "type": "refund.updated", "data": { "object": {
        "id": refund_id, "status": "succeeded", "amount": 5_000, "payment_intent": "pi_test_1" } } })
    .to_string();
    let header = stripe_header(STRIPE_WEBHOOK_SECRET, now, &refund_event);
    assert_eq!(
        hook(&app, &path, &[("stripe-signature", header)], &refund_event)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before + 26_000);
    // More than is left cannot be refunded.
    let too_much = refund(
        &app,
        &manager,
        &[("payment", first), ("amount", "260"), ("reason", "x")],
    )
    .await;
    assert_eq!(
        too_much.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_much.body
    );

    // A resident may not refund, nor see the site's payments.
    let denied = app
        .call(
            &resident,
            "refund_payment",
            &[("payment", first), ("amount", "1"), ("reason", "x")],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let denied = app
        .call(
            &resident,
            "site_payments",
            &[("site", &site.to_string()), ("query", "")],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_reconciles(&app).await;
}

#[tokio::test]
async fn paystack_callbacks_need_the_sha512_signature() {
    let app = spawn_app().await;
    let (fake_url, fake) = fake::start().await;
    let site = site(&app).await;
    app.payments
        .configure(
            site,
            ProviderKind::Paystack,
            true,
            json!({ "base_url": fake_url }),
            json!({ "secret_key": PAYSTACK_KEY }),
        )
        .await
        .unwrap();
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "gas").await;
    let before = opening_balance(&app, account).await;
    let started = start(&app, &resident, account, "120", "paystack", "").await;
    let reference = started["public_id"].as_str().unwrap().to_owned();
    let init = fake.seen("/transaction/initialize");
    assert_eq!(init[0]["amount"], 12_000);
    assert_eq!(init[0]["email"], "a101@demo.example");
    let body = json!({ "event": "charge.success", "data": {
        "id": 4242, "reference": reference, "amount": 12_000, "currency": "KES", "status": "success" } })
    .to_string();
    let path = format!("/hooks/paystack/{site}");
    assert_eq!(
        hook(&app, &path, &[], &body).await.0,
        StatusCode::UNAUTHORIZED
    );
    let wrong = hmac_sha512_hex("sk_other", body.as_bytes());
    assert_eq!(
        hook(&app, &path, &[("x-paystack-signature", wrong)], &body)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let good = hmac_sha512_hex(PAYSTACK_KEY, body.as_bytes());
    let tampered = body.replace("12000", "120000");
    assert_eq!(
        hook(
            &app,
            &path,
            &[("x-paystack-signature", good.clone())],
            &tampered
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(balance(&app, account).await, before);
    for _ in 0..2 {
        assert_eq!(
            hook(
                &app,
                &path,
                &[("x-paystack-signature", good.clone())],
                &body
            )
            .await
            .0,
            StatusCode::OK
        );
    }
    assert_eq!(balance(&app, account).await, before + 12_000);
    // Another site's address does not take this site's callbacks.
    let other = format!("/hooks/paystack/{}", site + 1);
    assert_eq!(
        hook(&app, &other, &[("x-paystack-signature", good)], &body)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_reconciles(&app).await;
}

#[tokio::test]
async fn mpesa_callbacks_are_believed_only_at_their_own_address_and_once_confirmed() {
    let app = spawn_app().await;
    let (fake_url, fake) = fake::start().await;
    let site = site(&app).await;
    set_up_mpesa(&app, site, &fake_url, json!({}), json!({})).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "electricity").await;
    let before = opening_balance(&app, account).await;
    // Whole shillings and a phone number are needed.
    let no_phone = app
        .call(
            &resident,
            "start_payment",
            &[
                ("account", &account.to_string()),
                ("amount", "200"),
                ("provider", "mpesa"),
            ],
        )
        .await;
    assert_eq!(no_phone.status, StatusCode::UNPROCESSABLE_ENTITY);
    let started = start(&app, &resident, account, "200", "mpesa", "0712 345 678").await;
    assert!(started["redirect"].is_null());
    let push = &fake.seen("/mpesa/stkpush/v1/processrequest")[0];
    assert_eq!(push["PhoneNumber"], "254712345678");
    assert_eq!(push["Amount"], 200);
    let timestamp = push["Timestamp"].as_str().unwrap();
    use base64::Engine as _;
    let password = base64::engine::general_purpose::STANDARD.encode(format!("174379pk{timestamp}"));
    assert_eq!(push["Password"], password);
    let callback_url = push["CallBackURL"].as_str().unwrap().to_owned();
    let callback_path = callback_url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap();
    let checkout: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT provider_reference FROM payments WHERE public_id = $1")
            .bind(started["public_id"].as_str().unwrap())
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert!(checkout.starts_with("ws_CO_"), "{checkout}");
    let body = json!({ "Body": { "stkCallback": {
        "MerchantRequestID": "m-1", "CheckoutRequestID": checkout, "ResultCode": 0, "ResultDesc": "ok",
        "CallbackMetadata": { "Item": [
            { "Name": "Amount", "Value": 200.00 }, { "Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV" },
            { "Name": "PhoneNumber", "Value": 254712345678_i64 } ] } } } })
    .to_string();

    // The wrong token: unknown. The right one while Daraja says it is not paid: refused.
    // A callback at this payment's address about another payment: a conflict, no credit.
    let other = body.replace(&checkout, "ws_CO_999");
    fake.set_stk_result("0");
    assert_eq!(
        hook(&app, &callback_path, &[], &other).await.0,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM payment_conflicts WHERE kind = 'reference'"
        )
        .await,
        1
    );
    fake.set_stk_result("1032");
    let forged = format!(
        "{}/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        callback_path.rsplit_once('/').unwrap().0
    );
    assert_eq!(
        hook(&app, &forged, &[], &body).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        hook(&app, &callback_path, &[], &body).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(balance(&app, account).await, before);
    fake.set_stk_result("0");
    assert_eq!(
        hook(&app, &callback_path, &[], &body).await.0,
        StatusCode::OK
    );
    assert_eq!(
        hook(&app, &callback_path, &[], &body).await.0,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before + 20_000);
    // M-Pesa refunds are made by hand and recorded.
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let id = started["public_id"].as_str().unwrap();
    let by_provider = refund(
        &app,
        &manager,
        &[("payment", id), ("amount", "20"), ("reason", "x")],
    )
    .await;
    assert_eq!(by_provider.status, StatusCode::UNPROCESSABLE_ENTITY);
    let by_hand = refund(
        &app,
        &manager,
        &[
            ("payment", id),
            ("amount", "20"),
            ("reason", "Paid back in cash"),
            ("by_hand", "yes"),
        ],
    )
    .await;
    assert_eq!(by_hand.status, StatusCode::OK, "{}", by_hand.body);
    assert_eq!(balance(&app, account).await, before + 18_000);

    // Paybill: the meter serial as account reference credits that meter's account; a
    // reference naming nothing is held as a conflict; validation turns it away first.
    let token = app.payments.url_token(&format!("c2b:{site}"));
    let serial: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT m.serial FROM wallets w JOIN meters m ON m.id = w.meter_id WHERE w.account_id = $1")
            .bind(account).fetch_one(pool).await
    })
    .unwrap();
    let c2b = |id: &str, reference: &str| {
        json!({ "TransactionType": "Pay Bill", "TransID": id, "TransTime": "20261130101010",
            "TransAmount": "150.00", "BusinessShortCode": "174379", "BillRefNumber": reference, "MSISDN": "2547XXXXX" })
        .to_string()
    };
    let confirm = format!("/hooks/mpesa/c2b/{site}/{token}");
    let validate = format!("/hooks/mpesa/validate/{site}/{token}");
    assert_eq!(
        hook(&app, &validate, &[], &c2b("X", &serial)).await.1["ResultCode"],
        0
    );
    assert_eq!(
        hook(&app, &validate, &[], &c2b("X", "NOPE-1")).await.1["ResultCode"],
        "C2B00012"
    );
    assert_eq!(
        hook(
            &app,
            &format!("/hooks/mpesa/c2b/{site}/wrong"),
            &[],
            &c2b("T1", &serial)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    for _ in 0..2 {
        assert_eq!(
            hook(&app, &confirm, &[], &c2b("T1", &serial.to_lowercase()))
                .await
                .0,
            StatusCode::OK
        );
    }
    assert_eq!(balance(&app, account).await, before + 33_000);
    assert_eq!(
        hook(&app, &confirm, &[], &c2b("T2", "NOPE-1")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM payment_conflicts WHERE kind = 'unknown_account'"
        )
        .await,
        1
    );
    assert_reconciles(&app).await;
}

#[tokio::test]
async fn a_pending_mpesa_payment_whose_callback_is_lost_is_credited_once_daraja_confirms_it() {
    let app = spawn_app().await;
    let (fake_url, fake) = fake::start().await;
    let site = site(&app).await;
    set_up_mpesa(&app, site, &fake_url, json!({}), json!({})).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "electricity").await;
    let before = opening_balance(&app, account).await;
    let started = start(&app, &resident, account, "300", "mpesa", "0712345678").await;
    let id = started["public_id"].as_str().unwrap();
    let wait = chrono::Duration::minutes(2);
    let later = chrono::Utc::now() + chrono::Duration::minutes(3);
    let queries = || fake.seen("/mpesa/stkpushquery/v1/query").len();

    // Too soon to ask: Daraja is not asked. Asked while the payer has not paid: nothing.
    assert_eq!(
        app.payments
            .recheck_pending(chrono::Utc::now(), wait)
            .await
            .unwrap(),
        0
    );
    assert_eq!(queries(), 0);
    assert_eq!(app.payments.recheck_pending(later, wait).await.unwrap(), 0);
    assert_eq!(queries(), 1);
    assert_eq!(balance(&app, account).await, before);

    // Paid, its callback lost: the status query credits it, once.
    fake.set_stk_result("0");
    assert_eq!(app.payments.recheck_pending(later, wait).await.unwrap(), 1);
    assert_eq!(app.payments.recheck_pending(later, wait).await.unwrap(), 0);
    assert_eq!(balance(&app, account).await, before + 30_000);
    let page = app
        .call(&resident, "payment_page", &[("payment", id)])
        .await
        .json();
    assert_eq!(page["payment"]["status"], "paid");
    assert!(
        page["payment"]["receipt"]
            .as_str()
            .unwrap()
            .starts_with('R')
    );

    // The callback turning up after all changes nothing.
    let push = &fake.seen("/mpesa/stkpush/v1/processrequest")[0];
    let callback_url = push["CallBackURL"].as_str().unwrap();
    let callback_path = format!("/{}", callback_url.splitn(4, '/').nth(3).unwrap());
    let checkout = payouts::provider_reference(&app, id).await;
    let body = json!({ "Body": { "stkCallback": {
        "MerchantRequestID": "m-1", "CheckoutRequestID": checkout, "ResultCode": 0, "ResultDesc": "ok",
        "CallbackMetadata": { "Item": [
            { "Name": "Amount", "Value": 300 }, { "Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SX" } ] } } } })
    .to_string();
    assert_eq!(
        hook(&app, &callback_path, &[], &body).await.0,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before + 30_000);
    assert_reconciles(&app).await;
}

#[tokio::test]
async fn anyone_can_pay_by_number_seeing_only_a_masked_name_and_lookups_are_limited() {
    let app = spawn_app().await;
    let stranger = Visitor::default();
    let account = wallet(&app, "A-102", "electricity").await;
    let before = opening_balance(&app, account).await;
    let serial: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT m.serial FROM wallets w JOIN meters m ON m.id = w.meter_id WHERE w.account_id = $1")
            .bind(account).fetch_one(pool).await
    })
    .unwrap();
    let found = app
        .call(
            &stranger,
            "find_payee",
            &[("reference", &serial.to_lowercase())],
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let payee = found.json();
    let name: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT display_name FROM users WHERE email = 'a102@demo.example'").fetch_one(pool).await
    })
    .unwrap();
    assert!(
        !found.body.contains(&name),
        "the full name never leaves the server"
    );
    assert!(payee["payee"].as_str().unwrap().contains("***"));
    assert_eq!(payee["providers"], json!(["sandbox"]));
    // By account number too; a number naming nothing gets the same answer as a closed one.
    let number = format!("A{account:07}");
    assert_eq!(
        app.call(&stranger, "find_payee", &[("reference", &number)])
            .await
            .status,
        StatusCode::OK
    );
    let unknown = app
        .call(&stranger, "find_payee", &[("reference", "A9999999")])
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    let started = app
        .call(
            &stranger,
            "start_public_payment",
            &[
                ("reference", &serial),
                ("amount", "40"),
                ("provider", "sandbox"),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let id = started.json()["public_id"].as_str().unwrap().to_owned();
    let paid = app
        .call(
            &stranger,
            "sandbox_decide",
            &[("payment", &id), ("pay", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(balance(&app, account).await, before + 4_000);
    let channel: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT channel FROM payments WHERE public_id = $1").bind(&id).fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(channel, "public");

    // The page a browser sees: the look-up is a plain GET form, answered with the masked
    // payee and the form to pay; a number naming nothing gets the reason and no form.
    let page = app
        .get(
            &stranger,
            &format!("/pay?reference={}", serial.to_lowercase()),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("payee-name"), "{}", page.body);
    assert!(page.body.contains("name=\"amount\""));
    assert!(
        !page.body.contains(&name),
        "the full name never leaves the server"
    );
    let page = app.get(&stranger, "/pay?reference=A9999999").await;
    assert!(page.body.contains("form-error"), "{}", page.body);
    assert!(!page.body.contains("payee-name"));

    // Numbers cannot be tried one after another: 20 look-ups per address per 15 minutes.
    let mut last = StatusCode::OK;
    for n in 0..20 {
        last = app
            .call(
                &stranger,
                "find_payee",
                &[("reference", &format!("A{:07}", 9_000_000 + n))],
            )
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        app.call(&stranger, "find_payee", &[("reference", &serial)])
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn payments_settle_and_refund_on_postgresql_too() {
    let Some(url) = support::fresh_postgres("payments").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = support::test_config(dir.path());
    config.database_url = Some(server::config::Secret::new(url));
    let app = support::spawn_with(config, dir).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "water").await;
    let before = opening_balance(&app, account).await;
    let started = start(&app, &resident, account, "75.50", "sandbox", "").await;
    let id = started["public_id"].as_str().unwrap();
    for _ in 0..2 {
        let paid = app
            .call(
                &resident,
                "sandbox_decide",
                &[("payment", id), ("pay", "true")],
            )
            .await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    }
    assert_eq!(balance(&app, account).await, before + 7_550);
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    for part in ["25.50", "50"] {
        let refunded = refund(
            &app,
            &manager,
            &[
                ("payment", id),
                ("amount", part),
                ("reason", "Overpaid"),
                ("by_hand", "yes"),
            ],
        )
        .await;
        assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.body);
    }
    assert_eq!(balance(&app, account).await, before);
    let page = app
        .call(
            &manager,
            "site_payments",
            &[("site", &site(&app).await.to_string()), ("query", id)],
        )
        .await
        .json();
    assert_eq!(page["payments"][0]["status"], "refunded");
    assert_eq!(page["payments"][0]["reversed"], "75.50");

    // The settlement file for it agrees with the ledger; one that lacks the refund does not.
    let site = site(&app).await.to_string();
    let file = format!("reference,amount\n{id},75.50\n{id},-75.50\n");
    let report = payouts::reconcile(&app, &manager, &site, &file).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.json()["outcome"]["differences"], json!([]));
    let short = format!("reference,amount\n{id},75.50\n");
    let report = payouts::reconcile(&app, &manager, &site, &short)
        .await
        .json();
    assert_eq!(
        report["outcome"]["differences"][0]["kind"],
        "return_differs"
    );

    // The demo's move-out refund is paid by hand, once.
    let (former, owed, status) = payouts::payout_of(&app, demo::FORMER_RESIDENT).await;
    assert_eq!((owed, status.as_str()), (125_000, "owed"));
    let former = former.to_string();
    let by_hand = [
        ("payout", former.as_str()),
        ("method", "by_hand"),
        ("reference", "CASH-7"),
    ];
    let paid = app.call(&manager, "pay_out", &by_hand).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    let again = app.call(&manager, "pay_out", &by_hand).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        payouts::payout_of(&app, demo::FORMER_RESIDENT).await.2,
        "paid"
    );

    // The demo's keypad meter sells a token here too, once.
    let keypad = app
        .sign_in(&demo::resident_email(demo::KEYPAD_UNIT), demo::PASSWORD)
        .await;
    let keypad_account = wallet(&app, demo::KEYPAD_UNIT, "electricity").await;
    let started = start(&app, &keypad, keypad_account, "300", "sandbox", "").await;
    let bought = started["public_id"].as_str().unwrap();
    for _ in 0..2 {
        let paid = app
            .call(
                &keypad,
                "sandbox_decide",
                &[("payment", bought), ("pay", "true")],
            )
            .await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    }
    app.tokens.issue_pending(chrono::Utc::now()).await.unwrap();
    let token = app.tokens.of_payment(bought).await.unwrap().unwrap();
    assert_eq!(token.status, "issued");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM meter_tokens WHERE kind = 'credit'"
        )
        .await,
        1
    );
    assert_reconciles(&app).await;
}

async fn assert_reconciles(app: &TestApp) {
    let (checked, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(checked > 0);
    assert!(differences.is_empty(), "{differences:?}");
}

#[tokio::test]
async fn bank_statements_credit_matched_transfers_once_and_hold_the_rest() {
    let app = spawn_app().await;
    let site = site(&app).await.to_string();
    let by_number = wallet(&app, "A-103", "electricity").await;
    let by_serial = wallet(&app, "B-102", "gas").await;
    let (first, second) = (
        opening_balance(&app, by_number).await,
        opening_balance(&app, by_serial).await,
    );
    let statement = format!(
        "Date,Reference,Description,Amount\n\
         2026-11-28,BNK-1,\"Top up, A{by_number:07}\",\"1,200.00\"\n\
         2026-11-28,BNK-2,Bank charges,-15.00\n\
         2026-11-29,BNK-3,gas ga-b102 november,300\n\
         2026-11-29,BNK-4,for flat 9 please,50.00\n"
    );
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app.sign_in("a103@demo.example", demo::PASSWORD).await;
    let denied = app
        .call(
            &resident,
            "import_statement",
            &[("site", &site), ("statement", &statement)],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    // A bad line anywhere refuses the whole file: nothing is credited.
    let broken = format!("{statement}2026-11-30,BNK-5,A0000001,lots\n");
    let refused = app
        .call(
            &manager,
            "import_statement",
            &[("site", &site), ("statement", &broken)],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Line 6"), "{}", refused.body);
    assert_eq!(balance(&app, by_number).await, first);

    let imported = app
        .call(
            &manager,
            "import_statement",
            &[("site", &site), ("statement", &statement)],
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(
        imported.json(),
        json!({ "credited": 2, "conflicts": 1, "repeats": 0, "skipped": 1 })
    );
    assert_eq!(balance(&app, by_number).await, first + 120_000);
    assert_eq!(balance(&app, by_serial).await, second + 30_000);
    // The same statement again (an overlapping export): nothing more.
    let again = app
        .call(
            &manager,
            "import_statement",
            &[("site", &site), ("statement", &statement)],
        )
        .await;
    assert_eq!(
        again.json(),
        json!({ "credited": 0, "conflicts": 0, "repeats": 3, "skipped": 1 })
    );
    assert_eq!(balance(&app, by_number).await, first + 120_000);
    // The unmatched transfer waits for a manager, who credits it to the right account.
    let page = app
        .call(&manager, "site_payments", &[("site", &site), ("query", "")])
        .await
        .json();
    let conflict = page["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "unknown_account")
        .unwrap()
        .clone();
    assert_eq!(conflict["amount"], "50.00");
    let number = format!("A{by_number:07}");
    let credited = app
        .call(
            &manager,
            "resolve_conflict",
            &[
                ("conflict", &conflict["id"].to_string()),
                ("account", &number),
                ("decision", "credit"),
            ],
        )
        .await;
    assert_eq!(credited.status, StatusCode::OK, "{}", credited.body);
    assert_eq!(balance(&app, by_number).await, first + 125_000);
    let channels: i64 = count(&app, "SELECT COUNT(*) FROM payments WHERE channel = 'bank'").await;
    assert_eq!(channels, 3);
    assert_reconciles(&app).await;
}

#[tokio::test]
async fn a_refund_is_given_only_once_a_second_person_approves_it() {
    let app = spawn_app().await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let other = app.sign_in(support::OTHER_ADMIN, demo::PASSWORD).await;
    let account = wallet(&app, "A-101", "water").await;
    let before = opening_balance(&app, account).await;
    let started = start(&app, &resident, account, "120", "sandbox", "").await;
    let id = started["public_id"].as_str().unwrap();
    let paid = app
        .call(
            &resident,
            "sandbox_decide",
            &[("payment", id), ("pay", "true")],
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(balance(&app, account).await, before + 12_000);
    let site = site(&app).await.to_string();
    let ask = |who: &Visitor, amount: &'static str, reason: &'static str| {
        let (app, who) = (&app, who.clone());
        async move {
            app.call(
                &who,
                "refund_payment",
                &[("payment", id), ("amount", amount), ("reason", reason)],
            )
            .await
        }
    };
    let decide = |who: &Visitor, request: String, decision: &'static str| {
        let (app, who, site) = (&app, who.clone(), site.clone());
        async move {
            app.call(
                &who,
                "decide_refund",
                &[
                    ("site", site.as_str()),
                    ("request", request.as_str()),
                    ("decision", decision),
                ],
            )
            .await
        }
    };

    // Asked: nothing is given back yet, and the same form sent twice is one request.
    let asked = ask(&manager, "30", "Charged twice").await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let request = asked.body.trim().to_owned();
    assert_eq!(
        ask(&manager, "30", "Charged twice").await.body.trim(),
        request
    );
    assert_eq!(balance(&app, account).await, before + 12_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_refunds").await, 0);
    // What waits counts against what is left to ask for.
    let too_much = ask(&admin, "100", "More").await;
    assert_eq!(
        too_much.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_much.body
    );
    let page = |who: &Visitor| {
        let (app, who, site) = (&app, who.clone(), site.clone());
        async move {
            app.call(
                &who,
                "site_payments",
                &[("site", site.as_str()), ("query", "")],
            )
            .await
            .json()
        }
    };
    let waiting = page(&manager).await["refunds_waiting"].clone();
    assert_eq!(waiting[0]["id"].to_string(), request, "{waiting}");
    assert_eq!(waiting[0]["mine"], true);
    assert_eq!(page(&admin).await["refunds_waiting"][0]["mine"], false);
    let drawn = app
        .get(&admin, &format!("/manage/sites/{site}/payments"))
        .await;
    assert!(
        drawn.body.contains("Refunds waiting for approval"),
        "the page lists it"
    );
    assert!(drawn.body.contains("Charged twice") && drawn.body.contains("Approve and refund"));
    let drawn = app
        .get(&manager, &format!("/manage/sites/{site}/payments"))
        .await;
    assert!(drawn.body.contains("Withdraw") && !drawn.body.contains("Approve and refund"));

    // Not the one who asked, nobody outside the site's managers and admins.
    let own = decide(&manager, request.clone(), "approve").await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own.body);
    assert!(own.body.contains("second person"), "{}", own.body);
    for (who, expected) in [
        (&resident, StatusCode::FORBIDDEN),
        (&other, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            decide(who, request.clone(), "approve").await.status,
            expected
        );
        assert_eq!(ask(who, "1", "x").await.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(balance(&app, account).await, before + 12_000);

    // Approved by a second person: given back once, however often it is approved.
    let approved = decide(&admin, request.clone(), "approve").await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(balance(&app, account).await, before + 9_000);
    assert_eq!(
        decide(&admin, request.clone(), "approve").await.status,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before + 9_000);
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_refunds").await, 1);
    let late = decide(&manager, request.clone(), "refuse").await;
    assert_eq!(
        late.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        late.body
    );

    // Withdrawn by the one who asked, refused by another: nothing given.
    let withdrawn = ask(&manager, "10", "Wrong flat")
        .await
        .body
        .trim()
        .to_owned();
    assert_eq!(
        decide(&manager, withdrawn.clone(), "refuse").await.status,
        StatusCode::OK
    );
    let after = decide(&admin, withdrawn, "approve").await;
    assert_eq!(
        after.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        after.body
    );
    let refused = ask(&manager, "10", "Asked again")
        .await
        .body
        .trim()
        .to_owned();
    assert_eq!(
        decide(&admin, refused, "refuse").await.status,
        StatusCode::OK
    );
    assert_eq!(balance(&app, account).await, before + 9_000);
    assert_eq!(page(&admin).await["refunds_waiting"], json!([]));
    let audit = app.audit_actions().await;
    for action in [
        "refund_asked",
        "refund_approved",
        "refund_withdrawn",
        "refund_refused",
    ] {
        assert!(audit.contains(&action.to_owned()), "{action}: {audit:?}");
    }
}
