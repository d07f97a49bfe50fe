//! What every request meets (security headers, request ids, body and rate limits), the
//! operations surface (`/metrics`, backup and restore, a person's data export) and the
//! tamper-evident audit log, on a real server over loopback.

use crate::support;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use reqwest::{StatusCode, header};
use rust_decimal::Decimal;
use server::{Platform, config::Secret, demo, engine::rating::IncomingReading, on_db};
use support::{Visitor, spawn_app, spawn_with, test_config};

fn header_of(answer: &support::Answer, name: &str) -> String {
    answer
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn pages_allow_only_their_own_nonced_scripts_and_nothing_may_frame_anything() {
    let app = spawn_app().await;
    let page = app.get(&Visitor::default(), "/sign-in").await;
    assert_eq!(page.status, StatusCode::OK);
    let policy = header_of(&page, "content-security-policy");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("a nonce in {policy:?}"));
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    // Every script on the page carries this response's nonce.
    let scripts = page.body.matches("<script").count();
    assert!(scripts >= 2, "{}", page.body);
    assert_eq!(
        page.body.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{}",
        page.body
    );
    // A second page gets another nonce.
    let again = app.get(&Visitor::default(), "/sign-in").await;
    assert_ne!(header_of(&again, "content-security-policy"), policy);
    assert_eq!(header_of(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header_of(&page, "x-frame-options"), "DENY");
    assert!(
        header_of(&page, "strict-transport-security").is_empty(),
        "no HSTS over plain HTTP"
    );

    // Anything else runs nothing (the service worker's script, served from the site root,
    // may fetch this origin: the end-to-end tests register it).
    let health = app.get(&Visitor::default(), "/healthz").await;
    assert_eq!(
        header_of(&health, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn behind_tls_browsers_are_told_to_use_it_always() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.public_url = Some("https://prepaid.example".into());
    let app = spawn_with(config, dir).await;
    let health = app.get(&Visitor::default(), "/healthz").await;
    assert!(
        header_of(&health, "strict-transport-security").starts_with("max-age="),
        "{:?}",
        health.headers
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_proxys_own_is_kept() {
    let app = spawn_app().await;
    let first = app.get(&Visitor::default(), "/healthz").await;
    let second = app.get(&Visitor::default(), "/healthz").await;
    let (a, b) = (
        header_of(&first, "x-request-id"),
        header_of(&second, "x-request-id"),
    );
    assert!(!a.is_empty() && a != b, "{a} {b}");
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "edge-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "edge-42");
    let odd = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "two words")
        .send()
        .await
        .unwrap();
    assert_ne!(odd.headers()["x-request-id"], "two words");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_any_handler_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.max_body_bytes = 64 * 1024;
    let app = spawn_with(config, dir).await;
    let before = app.count("SELECT COUNT(*) FROM payment_events").await;
    let big = "x".repeat(65 * 1024);
    for path in ["/api/sign_in", "/hooks/sandbox/1", "/api/v1/readings"] {
        let answer = app
            .client
            .post(app.url(path))
            .header(header::ORIGIN, app.origin())
            .header(header::CONTENT_TYPE, "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_events").await,
        before
    );
    // Under the limit, the same path answers as usual.
    let small = app.try_sign_in(demo::MANAGER, demo::PASSWORD).await;
    assert_eq!(small.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_and_callbacks_are_rate_limited_per_address_and_nothing_else_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    // Bursts of ten.
    config.sign_in_per_minute = 40;
    config.callbacks_per_minute = 40;
    let app = spawn_with(config, dir).await;
    let mut statuses = Vec::new();
    for n in 0..11 {
        // A different address each time: resets to one address have their own limit.
        let answer = app
            .call(
                &Visitor::default(),
                "request_password_reset",
                &[("contact", &format!("nobody{n}@demo.example"))],
            )
            .await;
        statuses.push(answer.status);
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
    let limited = app.try_sign_in(demo::MANAGER, demo::PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(header_of(&limited, "retry-after").parse::<u64>().unwrap() >= 1);
    // Pages and other functions are not counted.
    for _ in 0..12 {
        let page = app.get(&Visitor::default(), "/sign-in").await;
        assert_eq!(page.status, StatusCode::OK);
    }

    let mut callbacks = Vec::new();
    for _ in 0..11 {
        let answer = app
            .client
            .post(app.url("/hooks/sandbox/1"))
            .body("{}")
            .send()
            .await
            .unwrap();
        callbacks.push(answer.status());
    }
    assert!(
        callbacks[..10]
            .iter()
            .all(|s| *s != StatusCode::TOO_MANY_REQUESTS),
        "{callbacks:?}"
    );
    assert_eq!(callbacks[10], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn metrics_count_readings_and_callbacks_and_need_a_token_when_one_is_set() {
    let app = spawn_app().await;
    let scrape = |app: &support::TestApp| {
        let request = app.client.get(app.url("/metrics"));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let value = |text: &str, series: &str| -> u64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series))
            .and_then(|rest| rest.trim().parse().ok())
            .unwrap_or(0)
    };
    let before = scrape(&app).await;
    assert!(
        before.contains("# TYPE prepaid_readings_total counter"),
        "{before}"
    );
    assert!(before.contains("prepaid_meter_commands"), "{before}");

    // A callback nobody signed, and two readings of a demo meter.
    let refused = app
        .client
        .post(app.url("/hooks/sandbox/1"))
        .body("{}")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let meter: i64 = app
        .count("SELECT id FROM meters WHERE removed_at IS NULL ORDER BY id LIMIT 1")
        .await;
    let now = chrono::Utc::now();
    let readings = (0..2)
        .map(|n| server::engine::rating::IncomingReading {
            meter,
            taken_at: now - chrono::Duration::minutes(10 - n),
            register: rust_decimal::Decimal::from(5_000 + n),
        })
        .collect();
    app.engine.rate(readings).await.unwrap();

    let after = scrape(&app).await;
    let callbacks =
        format!("prepaid_http_responses_total{{group=\"callbacks\",status=\"{refused}\"}}");
    assert!(value(&after, &callbacks) >= 1, "{after}");
    let counted = |text: &str| {
        ["rated", "baseline", "late", "duplicate", "rejected"]
            .iter()
            .map(|outcome| {
                value(
                    text,
                    &format!("prepaid_readings_total{{outcome=\"{outcome}\"}}"),
                )
            })
            .sum::<u64>()
    };
    assert!(counted(&after) >= counted(&before) + 2, "{after}");
    // Rating's time by phase: loading and writing went to the database, so they took time;
    // pricing two readings may take less than the microsecond counted.
    let seconds = |text: &str, phase: &str| -> f64 {
        let series = format!("prepaid_rating_seconds_total{{phase=\"{phase}\"}}");
        text.lines()
            .find_map(|line| line.strip_prefix(series.as_str()))
            .and_then(|rest| rest.trim().parse().ok())
            .unwrap_or(f64::NAN)
    };
    for phase in ["load", "write"] {
        assert!(
            seconds(&after, phase) > seconds(&before, phase),
            "{phase}: {after}"
        );
    }
    assert!(
        seconds(&after, "price") >= seconds(&before, "price"),
        "{after}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.metrics_token = Some(Secret::new("scrape-me"));
    let guarded = spawn_with(config, dir).await;
    let anonymous = guarded
        .client
        .get(guarded.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    let wrong = guarded
        .client
        .get(guarded.url("/metrics"))
        .bearer_auth("scrape-you")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let right = guarded
        .client
        .get(guarded.url("/metrics"))
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_resident_downloads_their_own_data_and_nobody_elses() {
    let app = spawn_app().await;
    let anonymous = app.get(&Visitor::default(), "/account/my-data.json").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // Two readings of the flat's electricity, to the microsecond kept.
    let (meter, register): (i64, Option<String>) = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT m.id, s.last_register FROM meters m JOIN units u ON u.id = m.unit_id \
             LEFT JOIN meter_states s ON s.meter_id = m.id \
             WHERE u.name = 'A-101' AND m.utility = 'electricity'",
        )
        .fetch_one(pool)
        .await
    })
    .unwrap();
    let register: Decimal = register.map_or(Decimal::from(100), |r| r.parse().unwrap());
    let taken = Utc::now().trunc_subsecs(6) + Duration::minutes(1);
    let readings = [0, 15].map(|minutes| IncomingReading {
        meter,
        taken_at: taken + Duration::minutes(minutes),
        register: register + Decimal::from(minutes),
    });
    app.engine.rate(readings.to_vec()).await.unwrap();

    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let download = app.get(&resident, "/account/my-data.json").await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.body);
    assert!(header_of(&download, "content-disposition").starts_with("attachment;"));
    assert_eq!(header_of(&download, "cache-control"), "no-store");
    let data = download.json();
    assert_eq!(data["person"]["email"], "a101@demo.example");
    assert_eq!(data["homes"][0]["unit"], "A-101");
    assert!(!data["accounts"].as_array().unwrap().is_empty(), "{data}");
    assert!(!data["ledger"].as_array().unwrap().is_empty(), "{data}");
    // The reading charged to them at the time it was taken, whatever the database keeps it
    // as (the first is the meter's baseline, charged to nobody).
    let times: Vec<DateTime<Utc>> = data["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reading| serde_json::from_value(reading["taken_at"].clone()).unwrap())
        .collect();
    assert_eq!(times, [readings[1].taken_at], "{data}");
    assert!(
        data["activity"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line["action"] == "signed_in"),
        "{data}"
    );
    // Nothing of anyone else's, and no secret of theirs.
    assert!(!download.body.contains("a102@demo.example"));
    assert!(!download.body.contains("argon2"));
    let units: Vec<&str> = data["homes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|home| home["unit"].as_str())
        .collect();
    assert_eq!(units, ["A-101"]);
}

/// The audit log on one backend: entries chain, the database refuses changes, and a change
/// made behind the triggers' back is found.
async fn audit_log_is_tamper_evident_on(db: &server::db::Db) {
    let verdict = server::audit::chain::verify(db).await.unwrap();
    assert!(verdict.breaks.is_empty(), "{:?}", verdict.breaks);
    assert!(verdict.entries > 0 && verdict.chains > 0, "{verdict:?}");
    assert_eq!(verdict.unchained, 0);

    let update = on_db!(db, pool => {
        sqlx::query("UPDATE audit_log SET action = 'nothing_happened' WHERE id = (SELECT MIN(id) FROM audit_log)")
            .execute(pool).await.map(|_| ())
    });
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete =
        on_db!(db, pool => sqlx::query("DELETE FROM audit_log").execute(pool).await.map(|_| ()));
    assert!(delete.unwrap_err().to_string().contains("append-only"));

    // Someone with the database's keys drops the trigger and rewrites an entry.
    on_db!(db, pool => {
        match db.backend() {
            "sqlite" => sqlx::query("DROP TRIGGER audit_log_no_update").execute(pool).await?,
            _ => sqlx::query("DROP TRIGGER audit_log_no_change ON audit_log").execute(pool).await?,
        };
        sqlx::query("UPDATE audit_log SET after_json = '{\"units\":1}' WHERE id = (SELECT MIN(id) FROM audit_log)")
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    let verdict = server::audit::chain::verify(db).await.unwrap();
    assert_eq!(verdict.breaks.len(), 1, "{:?}", verdict.breaks);
    assert!(verdict.breaks[0].contains("was changed after it was written"));
}

#[tokio::test]
async fn the_audit_log_refuses_changes_and_its_chain_finds_one_made_behind_its_back() {
    let app = spawn_app().await;
    // Entries from several actions, in two organisations.
    app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    app.sign_in(support::OTHER_ADMIN, demo::PASSWORD).await;
    audit_log_is_tamper_evident_on(&app.db).await;
}

#[tokio::test]
async fn the_audit_chain_holds_on_postgresql_under_concurrent_appends() {
    let Some(url) = support::fresh_postgres("audit_chain").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.database_url = Some(Secret::new(url));
    // Sign-ins append to the same organisation's chain from concurrent tasks.
    let app = std::sync::Arc::new(spawn_with(config, dir).await);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.sign_in(demo::MANAGER, demo::PASSWORD).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    audit_log_is_tamper_evident_on(&app.db).await;
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_that_moment_and_checks_itself() {
    let dir = tempfile::tempdir().unwrap();
    // A SQLite file's backup (PostgreSQL's is pg_dump's, documented).
    let config = support::sqlite_config(dir.path());
    let platform = Platform::open(config.clone()).await.unwrap();
    demo::seed(&platform.db).await.unwrap();
    demo::seed_engine(&platform.engine).await.unwrap();
    let backup = dir.path().join("backup.db");
    let size = server::backup::backup(&platform.db, &backup).await.unwrap();
    assert!(size > 0);
    // A backup never overwrites a file.
    assert!(matches!(
        server::backup::backup(&platform.db, &backup).await,
        Err(server::backup::BackupError::Exists(_))
    ));
    let units = |db: server::db::Db| async move {
        on_db!(&db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM units").fetch_one(pool).await).unwrap()
    };
    let before = units(platform.db.clone()).await;
    on_db!(&platform.db, pool => {
        sqlx::query("DELETE FROM role_grants").execute(pool).await.map(|_| ())
    })
    .unwrap();
    platform.db.close().await;
    drop(platform);

    // Not a backup: refused, and the database is untouched.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    let url = config.database_url();
    assert!(server::backup::restore(&url, &junk).await.is_err());

    let aside = server::backup::restore(&url, &backup).await.unwrap();
    assert!(aside.exists(), "the replaced database is kept");
    let restored = Platform::open(config).await.unwrap();
    assert_eq!(units(restored.db.clone()).await, before);
    let grants: i64 = on_db!(&restored.db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM role_grants").fetch_one(pool).await
    })
    .unwrap();
    assert!(
        grants > 0,
        "the backup holds what was there when it was taken"
    );
    let (_, differences) = server::ledger::reconcile(&restored.db).await.unwrap();
    assert!(differences.is_empty());
    let verdict = server::audit::chain::verify(&restored.db).await.unwrap();
    assert!(verdict.breaks.is_empty());
}

/// The operations commands, as an operator types them.
#[tokio::test]
async fn the_command_line_backs_up_verifies_the_audit_log_and_exports_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let prepaid = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_prepaid"))
            .args(args)
            .env("PREPAID_DATA_DIR", dir.path())
            .env_remove("DATABASE_URL")
            .env("PREPAID_LOG", "error")
            .output()
            .unwrap()
    };
    let seeded = prepaid(&["demo"]);
    assert!(seeded.status.success(), "{seeded:?}");
    let verified = prepaid(&["audit", "verify"]);
    let out = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{out}");
    assert!(out.contains("0 break(s)"), "{out}");
    let exported = prepaid(&["export", "--email", "a102@demo.example"]);
    assert!(exported.status.success(), "{exported:?}");
    let data: serde_json::Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(data["homes"][0]["unit"], "A-102");
    let nobody = prepaid(&["export", "--email", "nobody@demo.example"]);
    assert!(!nobody.status.success());
    let target = dir.path().join("copy.db");
    let backed_up = prepaid(&["backup", "--to", target.to_str().unwrap()]);
    assert!(backed_up.status.success(), "{backed_up:?}");
    let restored = prepaid(&["restore", "--from", target.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&restored.stdout);
    assert!(restored.status.success(), "{out} {restored:?}");
    assert!(
        out.contains("0 difference(s)") && out.contains("0 break(s)"),
        "{out}"
    );
}

#[tokio::test]
async fn finished_messages_past_the_retention_period_are_forgotten_and_nothing_else() {
    // No server running: its dispatcher would take the queued notice meanwhile.
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::open(test_config(dir.path())).await.unwrap();
    demo::seed(&platform.db).await.unwrap();
    demo::seed_engine(&platform.engine).await.unwrap();
    let db = platform.db.clone();
    let old = chrono::Utc::now() - chrono::Duration::days(400);
    let recent = chrono::Utc::now() - chrono::Duration::days(10);
    on_db!(&db, pool => {
        let (account, user): (i64, i64) = sqlx::query_as(
            "SELECT w.account_id, o.user_id FROM wallets w JOIN occupancies o ON o.id = w.occupancy_id \
             JOIN users u ON u.id = o.user_id WHERE u.email = 'a101@demo.example' LIMIT 1",
        )
        .fetch_one(pool)
        .await?;
        for (n, (at, status)) in [(old, "sent"), (old, "queued"), (recent, "sent")].into_iter().enumerate() {
            let notice: i64 = sqlx::query_scalar(
                "INSERT INTO notifications (site_id, wallet_account_id, audience, kind, body, dedupe_key, status, created_at) \
                 SELECT site_id, account_id, 'resident', 'low_balance', '{}', $1, $2, $3 FROM wallets WHERE account_id = $4 RETURNING id",
            )
            .bind(format!("retention-{n}"))
            .bind(status)
            .bind(at)
            .bind(account)
            .fetch_one(pool)
            .await?;
            sqlx::query(
                "INSERT INTO notification_deliveries (notification_id, channel, user_id, address, status, next_attempt_at, created_at) \
                 VALUES ($1, 'email', $2, 'a101@demo.example', $3, $4, $4)",
            )
            .bind(notice)
            .bind(user)
            .bind(status)
            .bind(at)
            .execute(pool)
            .await?;
        }
        Ok::<_, sqlx::Error>(())
    })
    .unwrap();
    // Webhook deliveries: one old and delivered (with two attempts), one old and still
    // queued, one recent.
    let (admin, org): (i64, i64) = on_db!(&db, pool => {
        sqlx::query_as("SELECT id, organisation_id FROM users WHERE email = $1")
            .bind(demo::ADMIN).fetch_one(pool).await
    })
    .unwrap();
    let subscription = platform
        .webhooks
        .subscribe(
            org,
            admin,
            "https://erp.example.org/hooks",
            &["alarm.raised".to_owned()],
        )
        .await
        .unwrap()
        .id;
    on_db!(&db, pool => {
        for (n, (at, status)) in [(old, "delivered"), (old, "queued"), (recent, "failed")].into_iter().enumerate() {
            let delivery: i64 = sqlx::query_scalar(
                "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, 'alarm.raised', '{}', $3, 2, $4, $4) RETURNING id",
            )
            .bind(subscription)
            .bind(format!("evt-retention-{n}"))
            .bind(status)
            .bind(at)
            .fetch_one(pool)
            .await?;
            for _ in 0..2 {
                sqlx::query("INSERT INTO webhook_attempts (delivery_id, at, status_code, duration_ms) VALUES ($1, $2, 503, 5)")
                    .bind(delivery).bind(at).execute(pool).await?;
            }
        }
        Ok::<_, sqlx::Error>(())
    })
    .unwrap();
    let forgotten = server::retention::forget_old(&db, chrono::Utc::now(), 365)
        .await
        .unwrap();
    assert_eq!(
        (
            forgotten.webhook_deliveries,
            forgotten.notice_deliveries,
            forgotten.notices
        ),
        (1, 1, 1),
        "{forgotten:?}"
    );
    let attempts: i64 = on_db!(&db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_attempts").fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(attempts, 4, "the kept deliveries keep their attempts");
    let left: Vec<String> = on_db!(&db, pool => {
        sqlx::query_scalar("SELECT dedupe_key FROM notifications WHERE dedupe_key LIKE 'retention-%' ORDER BY dedupe_key")
            .fetch_all(pool).await
    })
    .unwrap();
    assert_eq!(
        left,
        ["retention-1", "retention-2"],
        "queued and recent ones stay"
    );
    // Again: nothing more.
    let again = server::retention::forget_old(&db, chrono::Utc::now(), 365)
        .await
        .unwrap();
    assert_eq!(again, server::retention::Forgotten::default());
}

/// Starting a server generates the app's route list, which leptos_server 0.8.8 does by running
/// the app with resource loading suppressed process-wide: a page rendered meanwhile by another
/// server of the process waited forever (the tests' rare 408s). Asked for again and again while
/// pages render, the list must come from the once-per-process copy and hang nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_answer_while_the_route_list_is_asked_for() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };
    let app = spawn_app().await;
    let stop = Arc::new(AtomicBool::new(false));
    let asking = {
        let stop = stop.clone();
        tokio::task::spawn_blocking(move || {
            let mut asked = 0;
            while !stop.load(Ordering::Relaxed) {
                assert!(!server::http::page_routes().is_empty());
                asked += 1;
            }
            asked
        })
    };
    let mut hung = 0;
    for _ in 0..20 {
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            app.get(&Visitor::default(), "/no/such/page"),
        )
        .await;
        match answer {
            Ok(answer) => assert_eq!(answer.status, StatusCode::NOT_FOUND),
            Err(_) => hung += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let asked = asking.await.unwrap();
    assert!(asked > 0);
    assert_eq!(hung, 0, "pages that never answered, of 20");
}

/// Leptos' handler for files outside `/pkg` looked for response settings up the reactive
/// owner tree, and under concurrent requests found another request's: the service worker's
/// script came back as that request's redirect to the sign-in page now and then, and Chromium
/// refused to install it. Served beside many answers that set a status and a location of
/// their own, every copy of a public file must be the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_file_never_carries_another_requests_answer() {
    let dir = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    let script = "self.addEventListener('fetch', () => {});\n";
    std::fs::write(site.path().join("sw.js"), script).unwrap();
    let mut options = server::leptos_options();
    options.site_root = site.path().to_str().unwrap().into();
    let app = support::spawn_serving(test_config(dir.path()), dir, options).await;

    let app = std::sync::Arc::new(app);
    let mut answers = tokio::task::JoinSet::new();
    for round in 0..600 {
        let app = app.clone();
        answers.spawn(async move {
            if round % 2 == 0 {
                // Signed out: a page that redirects, and a server function that refuses.
                let page = app.get(&Visitor::default(), "/manage").await;
                assert_ne!(page.status, StatusCode::OK);
                None
            } else {
                let file = app.get(&Visitor::default(), "/sw.js").await;
                Some((file.status, header_of(&file, "location"), file.body))
            }
        });
    }
    let mut served = 0;
    while let Some(answer) = answers.join_next().await {
        if let Some((status, location, body)) = answer.unwrap() {
            assert_eq!((status, location.as_str()), (StatusCode::OK, ""));
            assert_eq!(body, script);
            served += 1;
        }
    }
    assert_eq!(served, 300);
    // Nothing lost either: a path that is neither a file nor a page is still the app's 404.
    let missing = app.get(&Visitor::default(), "/no-such-file.js").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// A folder of the site's files is not a page: it is answered with the 404 page, not
/// redirected to an `index.html` the site does not have, while its files are served.
#[tokio::test]
async fn a_folder_of_files_is_not_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let site = tempfile::tempdir().unwrap();
    for folder in ["icons", "pkg", "pkg/split"] {
        std::fs::create_dir(site.path().join(folder)).unwrap();
    }
    std::fs::write(site.path().join("icons/icon.svg"), "<svg/>").unwrap();
    std::fs::write(site.path().join("pkg/split/part.js"), "export {};").unwrap();
    let mut options = server::leptos_options();
    options.site_root = site.path().to_str().unwrap().into();
    let app = support::spawn_serving(test_config(dir.path()), dir, options).await;

    for folder in ["/icons", "/icons/", "/pkg", "/pkg/", "/pkg/split"] {
        let answer = app.get(&Visitor::default(), folder).await;
        assert_eq!(
            (answer.status, header_of(&answer, "location").as_str()),
            (StatusCode::NOT_FOUND, ""),
            "{folder}"
        );
    }
    for (file, body) in [
        ("/icons/icon.svg", "<svg/>"),
        ("/pkg/split/part.js", "export {};"),
    ] {
        let answer = app.get(&Visitor::default(), file).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (StatusCode::OK, body),
            "{file}"
        );
    }
}
