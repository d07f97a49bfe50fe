//! SMS and e-mail against the real server on loopback with a real SQLite file: an SMS
//! provider and a mail server on loopback started by the tests receive what the platform sends,
//! and report delivery back to it the way providers do.

use crate::support;

mod fakes;

use chrono::{Duration, Utc};
use fakes::{FakeSms, SmtpSink, unquote};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::{
    config::{Secret, SmsConfig, SmsProvider, SmtpConfig},
    demo, on_db,
};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_with, test_config};

const RESIDENT: &str = "a101@demo.example";
const RESIDENT_PHONE: &str = "+254700000101";
const MANAGER: &str = "manager@demo.example";

/// The server with an SMS provider of the given kind and a mail server, both on loopback;
/// whatever the demo queued is handed out first, so each test sees only what it causes.
async fn spawn_messaging(provider: SmsProvider, sms: &FakeSms, smtp: &SmtpSink) -> TestApp {
    spawn_messaging_on(None, provider, sms, smtp).await
}

async fn spawn_messaging_on(
    database: Option<String>,
    provider: SmsProvider,
    sms: &FakeSms,
    smtp: &SmtpSink,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    if let Some(url) = database {
        config.database_url = Some(Secret::new(url));
    }
    let (account, key) = match provider {
        SmsProvider::AfricasTalking => ("prepaid", "at-key"),
        SmsProvider::Twilio => ("AC123", "tw-token"),
    };
    config.sms = Some(SmsConfig {
        provider,
        url: sms.url.clone(),
        account: account.into(),
        key: Secret::new(key),
        from: Some("PREPAID".into()),
        callback_token: Some(Secret::new("report-token-0123456789")),
    });
    config.smtp = Some(SmtpConfig {
        url: Secret::new(smtp.url.clone()),
        from: "Prepaid <no-reply@demo.example>".into(),
    });
    let app = spawn_with(config, dir).await;
    app.engine.run_jobs(Utc::now()).await.unwrap();
    app.notifier.run_once(Utc::now()).await.unwrap();
    app.settled().await;
    sms.clear();
    smtp.clear();
    app
}

/// Hands out and sends what is queued, as the dispatcher does every second.
async fn dispatch(app: &TestApp) {
    app.settled().await;
    app.notifier.run_once(Utc::now()).await.unwrap();
    app.settled().await;
}

async fn set_phone(app: &TestApp, email: &str, phone: &str) {
    on_db!(&app.db, pool => {
        sqlx::query("UPDATE users SET phone = $1 WHERE email = $2")
            .bind(phone)
            .bind(email)
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
}

async fn choose(app: &TestApp, who: &Visitor, sms: bool, email: bool) {
    choose_with(app, who, sms, email, ("", ""), "en").await;
}

/// Every kind of notice on, the channels asked for, quiet hours (`HH:MM`, or both empty) and
/// the language.
async fn choose_with(
    app: &TestApp,
    who: &Visitor,
    sms: bool,
    email: bool,
    (quiet_from, quiet_to): (&str, &str),
    locale: &str,
) {
    let mut form = vec![
        ("low_balance", "on"),
        ("cut_off", "on"),
        ("reconnection", "on"),
        ("payments", "on"),
        ("alarms", "on"),
        ("quiet_from", quiet_from),
        ("quiet_to", quiet_to),
        ("locale", locale),
    ];
    if sms {
        form.push(("by_sms", "on"));
    }
    if email {
        form.push(("by_email", "on"));
    }
    let saved = app.call(who, "save_notification_settings", &form).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
}

/// The resident's deliveries of a kind of notice the test queued: channel, status, attempts,
/// error.
async fn delivery_states(app: &TestApp, kind: &str) -> Vec<(String, String, i64, Option<String>)> {
    on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT d.channel, d.status, d.attempts, d.error FROM notification_deliveries d \
             JOIN notifications n ON n.id = d.notification_id JOIN users u ON u.id = d.user_id \
             WHERE n.kind = $1 AND u.email = $2 AND n.dedupe_key LIKE 'test:%' ORDER BY d.channel, d.id",
        )
        .bind(kind)
        .bind(RESIDENT)
        .fetch_all(pool)
        .await
    })
    .unwrap()
}

#[tokio::test]
async fn a_low_balance_goes_once_by_sms_and_once_by_email_to_whoever_chose_both() {
    low_balance_by_sms_and_email(None).await;
}

/// The same on PostgreSQL: the migration, the fan-out's queries and the manager's search.
#[tokio::test]
async fn sms_and_email_work_the_same_on_postgres() {
    let Some(url) = support::fresh_postgres("messaging").await else {
        return;
    };
    low_balance_by_sms_and_email(Some(url)).await;
}

async fn low_balance_by_sms_and_email(database: Option<String>) {
    let (sms, smtp) = (FakeSms::start().await, SmtpSink::start().await);
    let app = spawn_messaging_on(database, SmsProvider::AfricasTalking, &sms, &smtp).await;
    set_phone(&app, RESIDENT, RESIDENT_PHONE).await;
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    choose(&app, &resident, true, true).await;
    let account = app.wallet("A-101", "electricity").await;

    let body = json!({ "account": account, "balance_minor": 12_050 });
    app.queue_notice(account, "low_balance_1", body.clone(), "test:low:1")
        .await;
    dispatch(&app).await;
    // The same event again (the engine's dedupe key) and more passes: nothing more goes.
    app.queue_notice(account, "low_balance_1", body, "test:low:1")
        .await;
    dispatch(&app).await;
    dispatch(&app).await;

    let texted = sms.sent_to(RESIDENT_PHONE);
    assert_eq!(texted.len(), 1, "{texted:?}");
    assert_eq!(
        texted[0].text,
        "Low balance: Your balance is KES 120.50. Top up to keep your supply on."
    );
    assert_eq!(sms.sent().len(), 1, "nobody else was texted");
    let mailed = smtp.mail_to(RESIDENT);
    assert_eq!(mailed.len(), 1, "{mailed:?}");
    let data = unquote(&mailed[0].data);
    assert!(data.contains("Subject: Low balance"), "{data}");
    assert!(
        data.contains("Content-Type: multipart/alternative"),
        "{data}"
    );
    assert!(data.contains("text/html"), "{data}");
    assert!(data.contains("Your balance is KES 120.50"), "{data}");
    assert!(
        data.contains(&format!("/accounts/{account}\"")),
        "the e-mail links to the account: {data}"
    );
    assert!(mailed[0].from.contains("no-reply@demo.example"));
    let states = delivery_states(&app, "low_balance_1").await;
    assert_eq!(
        states
            .iter()
            .map(|(c, s, ..)| (c.as_str(), s.as_str()))
            .collect::<Vec<_>>(),
        vec![("email", "sent"), ("sms", "sent")]
    );

    // The provider reports delivery at the secret address; a repeat or a late "failed"
    // changes nothing, a wrong secret is not believed.
    let report = |token: &str, status: &str| {
        let url = app.url(&format!("/callbacks/sms/africastalking/{token}"));
        let id = texted[0].id.clone();
        let status = status.to_owned();
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .form(&[
                    ("id", id.as_str()),
                    ("status", status.as_str()),
                    ("phoneNumber", RESIDENT_PHONE),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        report("wrong-token", "Success").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(delivery_states(&app, "low_balance_1").await[1].1, "sent");
    assert_eq!(
        report("report-token-0123456789", "Success").await,
        StatusCode::OK
    );
    assert_eq!(
        report("report-token-0123456789", "Success").await,
        StatusCode::OK
    );
    assert_eq!(
        report("report-token-0123456789", "Failed").await,
        StatusCode::OK
    );
    assert_eq!(
        report("report-token-0123456789", "Nonsense").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        delivery_states(&app, "low_balance_1").await[1].1,
        "delivered"
    );

    // The site's managers see it, per channel, with the number masked; residents and another
    // organisation's admin do not.
    let site = app.site_id(demo::SITE).await.to_string();
    let search = |kind: &'static str, failed: &'static str| {
        let site = site.clone();
        move || {
            vec![
                ("site", site.clone()),
                ("person", "a101".to_owned()),
                ("kind", kind.to_owned()),
                ("channel", String::new()),
                ("failed", failed.to_owned()),
                ("before", String::new()),
            ]
        }
    };
    let form = search("low_balance", "")();
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let manager = app.sign_in(MANAGER, demo::PASSWORD).await;
    let page = app.call(&manager, "site_deliveries", &form).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let page = page.json();
    let lines = page["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{page}");
    assert!(lines.iter().any(|l| l["channel"] == "sms"
        && l["status"] == "delivered"
        && l["to"] == "+254 ••• ••• 101"));
    assert!(
        lines
            .iter()
            .any(|l| l["channel"] == "email" && l["to"] == "a1•••@demo.example")
    );
    let failures = search("low_balance", "1")();
    let failures: Vec<(&str, &str)> = failures.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let none_failed = app
        .call(&manager, "site_deliveries", &failures)
        .await
        .json();
    assert!(none_failed["lines"].as_array().unwrap().is_empty());
    let channels = [("site", site.as_str()), ("email", "on"), ("email_from", "")];
    for outsider in [&resident, &app.sign_in(OTHER_ADMIN, demo::PASSWORD).await] {
        let refused = app.call(outsider, "site_deliveries", &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let refused = app.call(outsider, "save_site_channels", &channels).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }

    // The site's manager turns SMS off (e-mail stays, from the site's own address): the next
    // notice goes by e-mail only, whatever the resident chose.
    let channels = [
        ("site", site.as_str()),
        ("email", "on"),
        ("email_from", "desk@riverside.example"),
    ];
    let saved = app.call(&manager, "save_site_channels", &channels).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(
        app.audit_actions()
            .await
            .contains(&"site_channels_changed".to_owned())
    );
    let body = json!({ "account": account, "balance_minor": 4_000 });
    app.queue_notice(account, "low_balance_2", body, "test:low:2")
        .await;
    dispatch(&app).await;
    assert_eq!(sms.sent().len(), 1, "no SMS once the site turned it off");
    let mailed = smtp.mail_to(RESIDENT);
    assert_eq!(mailed.len(), 2);
    assert!(
        mailed[1].from.contains("desk@riverside.example"),
        "{}",
        mailed[1].from
    );
}

#[tokio::test]
async fn without_a_push_device_sms_is_the_fallback_and_a_failing_provider_is_retried_then_given_up()
{
    let (sms, smtp) = (FakeSms::start().await, SmtpSink::start().await);
    let app = spawn_messaging(SmsProvider::Twilio, &sms, &smtp).await;
    set_phone(&app, RESIDENT, RESIDENT_PHONE).await;
    let account = app.wallet("A-101", "electricity").await;

    // Nothing chosen, no browser subscribed: the cut-off goes by SMS, and only by SMS.
    sms.fail(true);
    app.queue_notice(
        account,
        "cut_off",
        json!({ "account": account, "balance_minor": 0 }),
        "test:cut",
    )
    .await;
    let start = Utc::now();
    let mut passes = 0;
    while delivery_states(&app, "cut_off")
        .await
        .first()
        .map(|d| d.1.clone())
        != Some("failed".into())
    {
        app.settled().await;
        app.notifier
            .run_once(start + Duration::hours(passes))
            .await
            .unwrap();
        passes += 1;
        assert!(
            passes < 20,
            "the delivery was never given up: {:?}",
            delivery_states(&app, "cut_off").await
        );
    }
    let states = delivery_states(&app, "cut_off").await;
    assert_eq!(states.len(), 1, "one channel only: {states:?}");
    let (channel, status, attempts, error) = &states[0];
    assert_eq!(
        (channel.as_str(), status.as_str(), *attempts),
        ("sms", "failed", 5)
    );
    assert!(
        error.as_deref().unwrap_or_default().contains("503"),
        "{error:?}"
    );
    assert_eq!(sms.refused(), 5, "tried five times, no more");
    assert!(smtp.mail().is_empty(), "no e-mail: SMS reached them");

    // The provider is back: the next notice goes, and Twilio's signed report is believed.
    sms.fail(false);
    app.queue_notice(
        account,
        "reconnected",
        json!({ "account": account, "balance_minor": 50_000 }),
        "test:back",
    )
    .await;
    dispatch(&app).await;
    let texted = sms.sent_to(RESIDENT_PHONE);
    assert_eq!(texted.len(), 1, "{texted:?}");
    assert!(
        texted[0].text.starts_with("Supply back on: "),
        "{}",
        texted[0].text
    );
    let url = format!("{}/callbacks/sms/twilio", app.origin());
    let fields = vec![
        ("MessageSid".to_owned(), texted[0].id.clone()),
        ("MessageStatus".to_owned(), "delivered".to_owned()),
        ("To".to_owned(), RESIDENT_PHONE.to_owned()),
    ];
    let signature = server::notify::sms::twilio_signature("tw-token", &url, &fields);
    let post = |signature: String| {
        let (client, url, fields) = (app.client.clone(), url.clone(), fields.clone());
        async move {
            client
                .post(url)
                .header("X-Twilio-Signature", signature)
                .form(&fields)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(post("forged".into()).await, StatusCode::FORBIDDEN);
    assert_eq!(delivery_states(&app, "reconnected").await[0].1, "sent");
    assert_eq!(post(signature.clone()).await, StatusCode::OK);
    assert_eq!(post(signature).await, StatusCode::OK);
    assert_eq!(delivery_states(&app, "reconnected").await[0].1, "delivered");
}

#[tokio::test]
async fn a_move_out_mails_the_statement_attached() {
    let (sms, smtp) = (FakeSms::start().await, SmtpSink::start().await);
    let app = spawn_messaging(SmsProvider::AfricasTalking, &sms, &smtp).await;
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    choose(&app, &resident, false, true).await;
    let person: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(RESIDENT).fetch_one(pool).await
    })
    .unwrap();
    let unit = app.unit_id("A-101").await;
    let settlement = app
        .engine
        .move_out(app::domain::UnitId(unit), person, Vec::new(), None, None)
        .await
        .unwrap();
    dispatch(&app).await;
    let mailed = smtp.mail_to(RESIDENT);
    assert_eq!(mailed.len(), 1, "{mailed:?}");
    let data = unquote(&mailed[0].data);
    assert!(data.contains("Subject: Moved out"), "{data}");
    assert!(data.contains("Content-Type: multipart/mixed"), "{data}");
    assert!(
        data.contains("filename=\"move-out-A-101-"),
        "the statement is attached: {data}"
    );
    assert!(
        data.contains("Move-out statement") && data.contains("Unit: A-101"),
        "{data}"
    );
    assert!(settlement.refund.0 > 0);
    assert!(
        data.contains("Refund due to you: KES "),
        "the refund is stated: {data}"
    );
    assert!(sms.sent().is_empty(), "no phone, no SMS");
}

#[tokio::test]
async fn a_reset_code_works_once_and_expires_and_a_phone_signs_a_resident_in() {
    let (sms, smtp) = (FakeSms::start().await, SmtpSink::start().await);
    let app = spawn_messaging(SmsProvider::AfricasTalking, &sms, &smtp).await;
    let nobody = Visitor::default();

    // The resident adds their number: a code confirms it, a wrong one does not.
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let sent = app
        .call(
            &resident,
            "send_phone_code",
            &[("phone", "+254 700 000 101")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let code = sms.code_after(RESIDENT_PHONE, 0).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = app
        .call(&resident, "confirm_phone", &[("code", wrong)])
        .await;
    assert!(!refused.status.is_success(), "{}", refused.body);
    let confirmed = app
        .call(&resident, "confirm_phone", &[("code", &code)])
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE phone = '+254700000101'")
            .await,
        1
    );

    // A reset by phone: the code works once.
    let asked = app
        .call(
            &nobody,
            "request_password_reset",
            &[("contact", RESIDENT_PHONE)],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let code = sms.code_after(RESIDENT_PHONE, 1).await;
    assert!(
        sms.sent_to(RESIDENT_PHONE)
            .last()
            .unwrap()
            .text
            .contains("new password")
    );
    let reset = |code: String, new: &'static str| {
        let app = &app;
        async move {
            app.call(
                &Visitor::default(),
                "reset_password",
                &[
                    ("phone", RESIDENT_PHONE),
                    ("code", &code),
                    ("new", new),
                    ("confirm", new),
                ],
            )
            .await
        }
    };
    let done = reset(code.clone(), "a brand new passphrase").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        !reset(code, "another new passphrase")
            .await
            .status
            .is_success()
    );
    assert_eq!(
        app.try_sign_in(RESIDENT, demo::PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The reset ended the session signed in before it.
    let before_reset = app.call(&resident, "resident_home", &[]).await;
    assert_eq!(
        before_reset.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        before_reset.body
    );
    let here = app.sign_in(RESIDENT, "a brand new passphrase").await;
    let there = app.sign_in(RESIDENT, "a brand new passphrase").await;
    assert_eq!(
        app.call(&there, "resident_home", &[]).await.status,
        StatusCode::OK
    );
    // Changing the password here keeps this session and ends the other.
    let changed = app
        .call(
            &here,
            "change_password",
            &[
                ("current", "a brand new passphrase"),
                ("new", "changed here again"),
                ("confirm", "changed here again"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let here = Visitor {
        cookie: changed.session_cookie().or(here.cookie),
    };
    assert_eq!(
        app.call(&here, "resident_home", &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(&there, "resident_home", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A code past its ten minutes does not work.
    app.call(
        &nobody,
        "request_password_reset",
        &[("contact", RESIDENT_PHONE)],
    )
    .await;
    let late = sms.code_after(RESIDENT_PHONE, 2).await;
    on_db!(&app.db, pool => {
        sqlx::query("UPDATE one_time_codes SET expires_at = $1 WHERE used_at IS NULL")
            .bind(Utc::now() - Duration::minutes(1))
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    let expired = reset(late, "yet another passphrase").await;
    assert!(!expired.status.is_success());
    assert!(expired.body.contains("expired"), "{}", expired.body);

    // Asking a fourth time within the window is refused, for a known number as for any.
    let again = app
        .call(
            &nobody,
            "request_password_reset",
            &[("contact", RESIDENT_PHONE)],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        again.body
    );

    // An unknown address gets the same answer, and nothing is sent.
    smtp.clear();
    let unknown = app
        .call(
            &nobody,
            "request_password_reset",
            &[("contact", "nobody@demo.example")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(smtp.mail().is_empty());

    // A reset by e-mail: a link, shown as a page, that works once.
    let asked = app
        .call(
            &nobody,
            "request_password_reset",
            &[("contact", "a102@demo.example")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let mailed = smtp.await_mail_to("a102@demo.example", 1).await;
    assert_eq!(mailed.len(), 1);
    let data = unquote(&mailed[0].data);
    let start = data.find("/reset/").expect("a link") + "/reset/".len();
    let token: String = data[start..].chars().take(43).collect();
    let page = app.get(&nobody, &format!("/reset/{token}")).await;
    assert!(page.body.contains("a1•••@demo.example"), "{}", page.body);
    let with_link = |token: String| {
        let app = &app;
        async move {
            app.call(
                &Visitor::default(),
                "reset_password",
                &[
                    ("token", &token),
                    ("new", "linked passphrase 1"),
                    ("confirm", "linked passphrase 1"),
                ],
            )
            .await
        }
    };
    // While an admin has the person's sign-in switched off, the link changes nothing; it
    // works once it is on again.
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    for active in ["false", "true"] {
        let switched = app
            .call(
                &admin,
                "set_person_active",
                &[("email", "a102@demo.example"), ("active", active)],
            )
            .await;
        assert_eq!(switched.status, StatusCode::OK, "{}", switched.body);
        if active == "false" {
            assert!(!with_link(token.clone()).await.status.is_success());
            assert!(
                app.try_sign_in("a102@demo.example", demo::PASSWORD)
                    .await
                    .status
                    .is_client_error()
            );
        }
    }
    assert_eq!(with_link(token.clone()).await.status, StatusCode::OK);
    assert!(!with_link(token.clone()).await.status.is_success());
    assert!(
        app.get(&nobody, &format!("/reset/{token}"))
            .await
            .body
            .contains("expired")
    );
    app.sign_in("a102@demo.example", "linked passphrase 1")
        .await;

    // Signing in with the phone: a code, once; staff cannot. (The rate limit's window is
    // taken to have passed.)
    on_db!(&app.db, pool => sqlx::query("DELETE FROM code_requests").execute(pool).await.map(|_| ()))
        .unwrap();
    let sent = app
        .call(&nobody, "send_sign_in_code", &[("phone", RESIDENT_PHONE)])
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let code = sms.code_after(RESIDENT_PHONE, 3).await;
    let signed = app
        .call(
            &nobody,
            "sign_in_with_code",
            &[("phone", RESIDENT_PHONE), ("code", &code)],
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.body);
    let visitor = Visitor {
        cookie: signed.session_cookie(),
    };
    let me = app.call(&visitor, "me", &[]).await.json();
    assert_eq!(me["email"], RESIDENT);
    let twice = app
        .call(
            &nobody,
            "sign_in_with_code",
            &[("phone", RESIDENT_PHONE), ("code", &code)],
        )
        .await;
    assert!(!twice.status.is_success());
    set_phone(&app, MANAGER, "+254700000999").await;
    sms.clear();
    app.call(&nobody, "send_sign_in_code", &[("phone", "+254700000999")])
        .await;
    assert!(sms.sent().is_empty(), "no code for staff");
}

#[tokio::test]
async fn an_invitation_by_email_lets_the_new_resident_choose_a_password() {
    let (sms, smtp) = (FakeSms::start().await, SmtpSink::start().await);
    let app = spawn_messaging(SmsProvider::AfricasTalking, &sms, &smtp).await;
    let manager = app.sign_in(MANAGER, demo::PASSWORD).await;
    let unit = app.unit_id("A-105").await.to_string();
    let created = app
        .call(
            &manager,
            "create_account",
            &[
                ("email", "newcomer@demo.example"),
                ("display_name", "New Comer"),
                ("role", "resident"),
                ("site", ""),
                ("unit", &unit),
                ("phone", "+254 711 222 333"),
                ("invite", "email"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let created = created.json();
    assert_eq!(created["initial_password"], Value::Null, "{created}");
    assert_eq!(created["invited"], "ne•••@demo.example");
    let mailed = smtp.mail_to("newcomer@demo.example");
    assert_eq!(mailed.len(), 1);
    let data = unquote(&mailed[0].data);
    assert!(data.contains("Your prepaid account is ready"), "{data}");
    let start = data.find("/reset/").expect("a link") + "/reset/".len();
    let token: String = data[start..].chars().take(43).collect();
    let chosen = app
        .call(
            &Visitor::default(),
            "reset_password",
            &[
                ("token", &token),
                ("new", "my own passphrase"),
                ("confirm", "my own passphrase"),
            ],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
    let newcomer = app
        .sign_in("newcomer@demo.example", "my own passphrase")
        .await;
    let home = app.call(&newcomer, "resident_home", &[]).await;
    assert_eq!(
        home.status,
        StatusCode::OK,
        "no password change asked: {}",
        home.body
    );

    // By SMS to a number the manager gave.
    let by_sms = app
        .call(
            &manager,
            "create_account",
            &[
                ("email", "second@demo.example"),
                ("display_name", "Second Comer"),
                ("role", "resident"),
                ("site", ""),
                ("unit", &unit),
                ("phone", "+254711222444"),
                ("invite", "sms"),
            ],
        )
        .await;
    assert_eq!(by_sms.status, StatusCode::OK, "{}", by_sms.body);
    let texted = sms.sent_to("+254711222444");
    assert_eq!(texted.len(), 1);
    assert!(texted[0].text.contains("/reset/"), "{}", texted[0].text);
    let start = texted[0].text.find("/reset/").unwrap() + "/reset/".len();
    let token: String = texted[0].text[start..].chars().take(43).collect();
    let page = app
        .get(&Visitor::default(), &format!("/reset/{token}"))
        .await;
    assert!(
        page.body.contains("+254 ••• ••• 444"),
        "the page names the phone: {}",
        page.body
    );
}

#[tokio::test]
async fn residents_imported_from_a_sheet_are_invited_once_it_is_committed() {
    let (sms, smtp) = (FakeSms::start().await, SmtpSink::start().await);
    let app = spawn_messaging(SmsProvider::AfricasTalking, &sms, &smtp).await;
    let manager = app.sign_in(MANAGER, demo::PASSWORD).await;
    let site = app.site_id(demo::SITE).await.to_string();
    let sheet = "building,unit,resident_email,resident_name\n\
                 Block Z,Z1,imported@demo.example,Imani Imported\n\
                 Block Z,Z2,not-an-address,Nobody\n";
    let refused = app
        .call(
            &manager,
            "import_site_sheet",
            &[("site", &site), ("sheet", sheet), ("invite", "on")],
        )
        .await
        .json();
    assert_eq!(refused["committed"], false, "{refused}");
    assert!(
        smtp.mail_to("imported@demo.example").is_empty(),
        "nothing sent for a refused sheet"
    );
    let mended = "building,unit,resident_email,resident_name\nBlock Z,Z1,imported@demo.example,Imani Imported\n";
    let done = app
        .call(
            &manager,
            "import_site_sheet",
            &[("site", &site), ("sheet", mended), ("invite", "on")],
        )
        .await
        .json();
    assert_eq!(
        (done["committed"].clone(), done["invited"].clone()),
        (Value::Bool(true), Value::from(1)),
        "{done}"
    );
    let mailed = smtp.mail_to("imported@demo.example");
    assert_eq!(mailed.len(), 1);
    assert!(unquote(&mailed[0].data).contains("/reset/"));
}

#[tokio::test]
async fn quiet_hours_hold_sms_and_email_but_a_gas_leak_goes_at_once() {
    let (sms, smtp) = (FakeSms::start().await, SmtpSink::start().await);
    let app = spawn_messaging(SmsProvider::AfricasTalking, &sms, &smtp).await;
    set_phone(&app, RESIDENT, RESIDENT_PHONE).await;
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    // Quiet from an hour ago to an hour from now, on the site's clock.
    let local = Utc::now().with_timezone(&chrono_tz::Africa::Nairobi);
    let from = (local - Duration::hours(1)).format("%H:%M").to_string();
    let to = (local + Duration::hours(1)).format("%H:%M").to_string();
    choose_with(&app, &resident, true, true, (&from, &to), "sw").await;
    let account = app.wallet("A-101", "gas").await;
    let balance = json!({ "account": account, "balance_minor": 5_000 });
    app.queue_notice(account, "low_balance_1", balance, "test:quiet:low")
        .await;
    app.queue_notice(
        account,
        "alarm_gas_leak",
        json!({ "account": account, "alarm": 1 }),
        "test:quiet:gas",
    )
    .await;
    dispatch(&app).await;

    // The gas leak reached the phone and the mailbox at once, in the language they chose.
    let texted = sms.sent_to(RESIDENT_PHONE);
    assert_eq!(texted.len(), 1, "{texted:?}");
    assert!(
        texted[0].text.starts_with("Gesi inavuja: "),
        "{}",
        texted[0].text
    );
    assert_eq!(smtp.mail_to(RESIDENT).len(), 1);
    // The low balance waits for the end of quiet hours on both channels.
    let held: Vec<(String, String, chrono::DateTime<Utc>)> = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT d.channel, d.status, d.next_attempt_at FROM notification_deliveries d \
             JOIN notifications n ON n.id = d.notification_id WHERE n.dedupe_key = 'test:quiet:low' \
             ORDER BY d.channel",
        )
        .fetch_all(pool)
        .await
    })
    .unwrap();
    assert_eq!(held.len(), 2, "{held:?}");
    for (channel, status, due) in held {
        assert_eq!(status, "queued", "{channel}");
        assert!(
            due > Utc::now() + Duration::minutes(30),
            "{channel} due {due}"
        );
    }
}

#[tokio::test]
async fn the_demo_keeps_what_it_would_send_in_a_sandbox_and_nothing_else_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.demo = true;
    config.simulator = Some(false);
    let app = spawn_with(config, dir).await;
    let nobody = Visitor::default();
    let asked = app
        .call(
            &nobody,
            "request_password_reset",
            &[("contact", "a104@demo.example")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let mut kept = Value::Null;
    for _ in 0..100 {
        let answer = app.call(&nobody, "sandbox_messages", &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        kept = answer.json();
        let reset = kept.as_array().unwrap().iter().any(|message| {
            message["to"] == "a104@demo.example"
                && message["text"].as_str().unwrap().contains("/reset/")
        });
        if reset {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let reset = kept
        .as_array()
        .unwrap()
        .iter()
        .find(|message| {
            message["to"] == "a104@demo.example" && message["subject"] == "Choose a new password"
        })
        .unwrap_or_else(|| panic!("the reset link was kept: {kept}"));
    assert_eq!(reset["channel"], "email");
    let page = app.get(&nobody, "/sandbox/messages").await;
    assert!(page.body.contains("Choose a new password"), "{}", page.body);

    // A platform that is not the demo keeps no sandbox: nothing to read.
    let real = support::spawn_app().await;
    let none = real.call(&nobody, "sandbox_messages", &[]).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);
}
