//! The integration API against the real server on loopback with a real SQLite file (and
//! PostgreSQL): keys and scopes for every operation of the OpenAPI document, organisations
//! kept apart, idempotent writes, readings over HTTP, rate limits, signed webhooks with
//! retries, and the contract checked by schemathesis.

use crate::support;

mod contract;
mod webhooks;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::{
    api::keys::{ApiKeys, NewKey, Scope},
    config::Secret,
    on_db,
};
use support::{OTHER_SITE, TestApp, spawn_app, spawn_with, test_config};

/// The demo organisation's admin (the keys' maker) and organisation.
async fn demo_admin(app: &TestApp) -> (i64, i64) {
    on_db!(&app.db, pool => {
        sqlx::query_as("SELECT id, organisation_id FROM users WHERE email = 'admin@demo.example'")
            .fetch_one(pool)
            .await
    })
    .unwrap()
}

async fn other_admin(app: &TestApp) -> (i64, i64) {
    on_db!(&app.db, pool => {
        sqlx::query_as("SELECT id, organisation_id FROM users WHERE email = $1")
            .bind(support::OTHER_ADMIN)
            .fetch_one(pool)
            .await
    })
    .unwrap()
}

pub async fn key(app: &TestApp, admin: (i64, i64), kind: NewKey) -> String {
    ApiKeys::new(app.db.clone())
        .create(admin.1, admin.0, "test", kind)
        .await
        .expect("a key")
        .secret
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// One API request: `key` as the bearer, an Idempotency-Key on writes.
pub async fn request(
    app: &TestApp,
    key: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
    idempotency: Option<&str>,
) -> Answer {
    let mut request = app
        .client
        .request(method, app.url(&format!("/api/v1{path}")));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(idempotency) = idempotency {
        request = request.header("Idempotency-Key", idempotency);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &TestApp, key: &str, path: &str) -> Answer {
    request(app, Some(key), Method::GET, path, None, None).await
}

pub async fn post(app: &TestApp, key: &str, path: &str, body: Value, idempotency: &str) -> Answer {
    request(
        app,
        Some(key),
        Method::POST,
        path,
        Some(body),
        Some(idempotency),
    )
    .await
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

/// Every operation the document lists, with a path whose ids exist in the demo organisation.
async fn operations(app: &TestApp) -> Vec<(Method, String, String)> {
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = [
        ("{site_id}", scalar(app, "SELECT MIN(id) FROM sites").await),
        ("{unit_id}", scalar(app, "SELECT MIN(id) FROM units").await),
        (
            "{meter_id}",
            scalar(app, "SELECT MIN(id) FROM meters").await,
        ),
        (
            "{account_id}",
            scalar(app, "SELECT MIN(account_id) FROM wallets").await,
        ),
        (
            "{resident_id}",
            scalar(app, "SELECT MIN(user_id) FROM occupancies").await,
        ),
        (
            "{alarm_id}",
            scalar(app, "SELECT COALESCE(MIN(id), 1) FROM alarms").await,
        ),
    ];
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let mut concrete = path.clone();
        for (name, id) in ids {
            concrete = concrete.replace(name, &id.to_string());
        }
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            found.push((method, path.clone(), concrete.clone()));
        }
    }
    found
}

#[tokio::test]
async fn every_operation_needs_a_key_with_its_scope() {
    let app = spawn_app().await;
    let admin = demo_admin(&app).await;
    let operations = operations(&app).await;
    assert_eq!(operations.len(), 27, "the document lists every operation");
    let mut only = std::collections::BTreeMap::new();
    for scope in Scope::ALL {
        only.insert(
            scope,
            key(&app, admin, NewKey::Organisation(vec![scope])).await,
        );
    }
    for (method, template, path) in &operations {
        let scope = server::api::openapi::scope_for(&method.as_str().to_lowercase(), template);
        let body = (method == Method::POST).then(|| json!({}));
        let idempotency = (method == Method::POST).then_some("scope-check");
        // Without a key, or with a made-up one: 401 with the error body.
        for bad in [None, Some("ppk_000000000000_nonsense")] {
            let answer = request(&app, bad, method.clone(), path, body.clone(), idempotency).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(answer.body["error"]["code"], "unauthenticated");
        }
        for (other, key) in &only {
            let answer = request(
                &app,
                Some(key),
                method.clone(),
                path,
                body.clone(),
                idempotency,
            )
            .await;
            if *other == scope {
                assert!(
                    answer.status != StatusCode::FORBIDDEN
                        && answer.status != StatusCode::UNAUTHORIZED,
                    "{method} {path} with {other:?}: {}",
                    answer.status
                );
                assert!(answer.body.is_object(), "{method} {path} answers JSON");
            } else {
                assert_eq!(
                    answer.status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} with {other:?}"
                );
                assert_eq!(answer.body["error"]["code"], "forbidden");
            }
        }
    }
    // A gateway's key posts readings and nothing else.
    let gateway_site = app.site_id(server::demo::SITE).await;
    let gateway = key(&app, admin, NewKey::Gateway { site: gateway_site }).await;
    assert_eq!(
        get(&app, &gateway, "/sites").await.status,
        StatusCode::FORBIDDEN
    );
    let answer = post(&app, &gateway, "/readings", json!({}), "gateway-empty").await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
}

#[tokio::test]
async fn organisations_never_see_each_other() {
    let app = spawn_app().await;
    let demo = key(
        &app,
        demo_admin(&app).await,
        NewKey::Organisation(Scope::ALL.to_vec()),
    )
    .await;
    let other = key(
        &app,
        other_admin(&app).await,
        NewKey::Organisation(Scope::ALL.to_vec()),
    )
    .await;
    let sites = get(&app, &other, "/sites").await;
    assert_eq!(sites.status, StatusCode::OK);
    let names: Vec<&str> = sites.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| site["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![OTHER_SITE]);
    // An alarm of the demo's, so the alarm operations are tried on one that exists.
    let gas: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT serial FROM meters WHERE utility = 'gas' ORDER BY id LIMIT 1").fetch_one(pool).await
    })
    .unwrap();
    let raised = post(
        &app,
        &demo,
        "/readings",
        json!({ "alarms": [
        { "serial": gas, "at": chrono::Utc::now(), "kind": "gas_leak" }
    ] }),
        "leak",
    )
    .await;
    assert_eq!(raised.status, StatusCode::OK, "{:?}", raised.body);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM alarms").await, 1);
    for (method, template, path) in operations(&app).await {
        if !template.contains('{') {
            continue;
        }
        // The demo's ids through the other organisation's key: as if they did not exist.
        let body = match template.as_str() {
            "/alarms/{alarm_id}/acknowledge" | "/alarms/{alarm_id}/resolve" => Some(json!({})),
            _ => None,
        };
        let idempotency = (method == Method::POST).then(|| format!("isolation-{template}"));
        let idempotency = idempotency.as_deref();
        // Required query values, so the answer is about the id, not a missing parameter.
        let path = match template.as_str() {
            "/accounts/{account_id}/usage" => {
                format!("{path}?granularity=day&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z")
            }
            _ => path,
        };
        let answer = request(&app, Some(&other), method.clone(), &path, body, idempotency).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Listing with the demo's site as a filter finds nothing; writing there is refused.
    let demo_site = app.site_id(server::demo::SITE).await;
    let units = get(&app, &other, &format!("/units?site_id={demo_site}")).await;
    assert_eq!(units.body["data"], json!([]));
    let accounts = get(&app, &other, &format!("/accounts?site_id={demo_site}")).await;
    assert_eq!(accounts.body["data"], json!([]));
    let building = post(
        &app,
        &other,
        "/buildings",
        json!({ "site_id": demo_site, "name": "Intruder" }),
        "b1",
    )
    .await;
    assert_eq!(building.status, StatusCode::UNPROCESSABLE_ENTITY);
    let account = app.wallet("A-101", "electricity").await;
    let top_up = post(
        &app,
        &other,
        "/top-ups",
        json!({ "account_id": account, "amount": "10", "reference": "x" }),
        "t1",
    )
    .await;
    assert_eq!(top_up.status, StatusCode::UNPROCESSABLE_ENTITY);
    let serial: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT serial FROM meters ORDER BY id LIMIT 1").fetch_one(pool).await
    })
    .unwrap();
    let readings = post(
        &app,
        &other,
        "/readings",
        json!({ "readings": [
        { "serial": serial, "taken_at": chrono::Utc::now(), "register": "999999" }
    ] }),
        "r1",
    )
    .await;
    assert_eq!(readings.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The demo's own key sees its site.
    assert_eq!(
        get(&app, &demo, &format!("/sites/{demo_site}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM buildings WHERE name = 'Intruder'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn writes_are_idempotent_and_work_end_to_end() {
    let app = spawn_app().await;
    let admin = demo_admin(&app).await;
    let key = key(&app, admin, NewKey::Organisation(Scope::ALL.to_vec())).await;
    let site = app.site_id(server::demo::SITE).await;

    // A building, twice with the same key: one building, the same answer replayed.
    let first = post(
        &app,
        &key,
        "/buildings",
        json!({ "site_id": site, "name": "Block C" }),
        "build-c",
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let again = post(
        &app,
        &key,
        "/buildings",
        json!({ "site_id": site, "name": "Block C" }),
        "build-c",
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM buildings WHERE name = 'Block C'"
        )
        .await,
        1
    );
    // The same key for another request is refused; no key at all is a bad request.
    let reused = post(
        &app,
        &key,
        "/buildings",
        json!({ "site_id": site, "name": "Block D" }),
        "build-c",
    )
    .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let keyless = request(
        &app,
        Some(&key),
        Method::POST,
        "/buildings",
        Some(json!({ "site_id": site, "name": "Block D" })),
        None,
    )
    .await;
    assert_eq!(keyless.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM buildings WHERE name = 'Block D'"
        )
        .await,
        0
    );
    // A duplicate name with a new key: 409, and that answer is what a repeat gets too.
    let duplicate = post(
        &app,
        &key,
        "/buildings",
        json!({ "site_id": site, "name": "Block C" }),
        "build-c-2",
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    // A week on, the kept answer is forgotten: the same key is a new request (a duplicate now).
    let forgotten = server::api::idempotency::forget_old(
        &app.db,
        chrono::Utc::now() + chrono::Duration::days(8),
    )
    .await
    .unwrap();
    assert!(forgotten >= 2);
    let later = post(
        &app,
        &key,
        "/buildings",
        json!({ "site_id": site, "name": "Block C" }),
        "build-c",
    )
    .await;
    assert_eq!(later.status, StatusCode::CONFLICT);

    let building = first.body["id"].as_i64().unwrap();
    let unit = post(
        &app,
        &key,
        "/units",
        json!({ "building_id": building, "name": "C-101" }),
        "unit-c101",
    )
    .await;
    assert_eq!(unit.status, StatusCode::CREATED, "{:?}", unit.body);
    let unit_id = unit.body["id"].as_i64().unwrap();
    assert_eq!(unit.body["occupied"], false);
    let meter = post(&app, &key, "/meters", json!({
        "unit_id": unit_id, "utility": "electricity", "serial": "API-C101-E", "first_register": "100", "transport": "mqtt"
    }), "meter-c101").await;
    assert_eq!(meter.status, StatusCode::CREATED, "{:?}", meter.body);
    assert!(meter.body["broker_password"].is_string());
    let meter_id = meter.body["meter"]["id"].as_i64().unwrap();

    // A resident moves in: accounts open.
    let resident = post(
        &app,
        &key,
        "/residents",
        json!({
            "email": "c101@demo.example", "display_name": "Chao Wen", "unit_id": unit_id
        }),
        "resident-c101",
    )
    .await;
    assert_eq!(resident.status, StatusCode::CREATED, "{:?}", resident.body);
    assert!(resident.body["initial_password"].is_string());
    let person = resident.body["resident"]["id"].as_i64().unwrap();
    assert_eq!(resident.body["resident"]["unit_id"], unit_id);
    let accounts = get(&app, &key, &format!("/accounts?resident_id={person}")).await;
    let accounts = accounts.body["data"].as_array().unwrap().clone();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    let account = accounts[0]["id"].as_i64().unwrap();
    assert_eq!(accounts[0]["meter_id"], meter_id);

    // Top-ups: the same reference is credited once whatever the Idempotency-Key.
    let top_up = post(
        &app,
        &key,
        "/top-ups",
        json!({ "account_id": account, "amount": "500", "reference": "ERP-1" }),
        "pay-1",
    )
    .await;
    assert_eq!(top_up.status, StatusCode::CREATED, "{:?}", top_up.body);
    assert_eq!(top_up.body["new"], true);
    assert_eq!(top_up.body["balance"]["amount"], "500.00");
    let repeat = post(
        &app,
        &key,
        "/top-ups",
        json!({ "account_id": account, "amount": "500", "reference": "ERP-1" }),
        "pay-1-retry",
    )
    .await;
    assert_eq!(repeat.body["new"], false);
    assert_eq!(repeat.body["transaction_id"], top_up.body["transaction_id"]);
    let balance = get(&app, &key, &format!("/accounts/{account}")).await;
    assert_eq!(balance.body["balance"]["minor"], 50_000);
    let bad_amount = post(
        &app,
        &key,
        "/top-ups",
        json!({ "account_id": account, "amount": "0.001", "reference": "ERP-2" }),
        "pay-2",
    )
    .await;
    assert_eq!(bad_amount.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Readings over HTTP: rated and charged; a bad batch changes nothing.
    let now = chrono::Utc::now();
    let readings_before = scalar(&app, "SELECT COUNT(*) FROM readings").await;
    let bad = post(
        &app,
        &key,
        "/readings",
        json!({ "readings": [
        { "serial": "API-C101-E", "taken_at": now, "register": "110" },
        { "serial": "NO-SUCH-METER", "taken_at": now, "register": "1" },
        { "serial": "API-C101-E", "taken_at": now, "register": "-4" }
    ] }),
        "readings-bad",
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = bad.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("readings[1]") && message.contains("readings[2]"),
        "{message}"
    );
    assert_eq!(
        scalar(&app, "SELECT COUNT(*) FROM readings").await,
        readings_before
    );
    let good = post(
        &app,
        &key,
        "/readings",
        json!({ "readings": [
        { "serial": "API-C101-E", "taken_at": now, "register": "110" }
    ] }),
        "readings-good",
    )
    .await;
    assert_eq!(good.status, StatusCode::OK, "{:?}", good.body);
    // The same reading under a new key: taken again without effect.
    let again = post(
        &app,
        &key,
        "/readings",
        json!({ "readings": [
        { "serial": "API-C101-E", "taken_at": now, "register": "110" }
    ] }),
        "readings-again",
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    // A register that went backwards is well formed, so it is kept, rejected, with the reason.
    let backwards = post(
        &app,
        &key,
        "/readings",
        json!({ "readings": [
        { "serial": "API-C101-E", "taken_at": now + chrono::Duration::minutes(1), "register": "104" }
    ] }),
        "readings-backwards",
    )
    .await;
    assert_eq!(backwards.status, StatusCode::OK, "{:?}", backwards.body);
    let listed = get(&app, &key, &format!("/meters/{meter_id}/readings")).await;
    let listed = listed.body["data"].as_array().unwrap().clone();
    let with_status = |status: &str| -> Vec<&Value> {
        listed
            .iter()
            .filter(|reading| reading["status"] == status)
            .collect()
    };
    let rated = with_status("rated");
    assert_eq!(rated.len(), 1, "{listed:?}");
    assert_eq!(rated[0]["quantity"], "10");
    assert_eq!(rated[0]["note"], Value::Null);
    let rejected = with_status("rejected");
    assert_eq!(rejected.len(), 1, "{listed:?}");
    assert_eq!(rejected[0]["register"], "104");
    assert_eq!(rejected[0]["note"], "register went backwards from 110");
    let after = get(&app, &key, &format!("/accounts/{account}")).await;
    let spent = 50_000 - after.body["balance"]["minor"].as_i64().unwrap();
    assert!(spent > 0, "the reading was charged");
    let transactions = get(&app, &key, &format!("/accounts/{account}/transactions")).await;
    let total: i64 = transactions.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|transaction| transaction["amount"]["minor"].as_i64().unwrap())
        .sum();
    assert_eq!(
        total,
        after.body["balance"]["minor"].as_i64().unwrap(),
        "the statement adds up to the balance"
    );

    // Move-out with a final reading: the account closes and the rest is owed back.
    let move_out = post(
        &app,
        &key,
        "/move-outs",
        json!({
            "unit_id": unit_id, "resident_id": person,
            "final_readings": [{ "meter_id": meter_id, "register": "112" }]
        }),
        "move-out-c101",
    )
    .await;
    assert_eq!(move_out.status, StatusCode::CREATED, "{:?}", move_out.body);
    let refund = move_out.body["refund"]["minor"].as_i64().unwrap();
    assert!(refund > 0 && refund < 50_000 - spent, "{:?}", move_out.body);
    let closed = get(&app, &key, &format!("/accounts/{account}")).await;
    assert!(closed.body["closed_at"].is_string());
    let again = post(
        &app,
        &key,
        "/move-outs",
        json!({ "unit_id": unit_id, "resident_id": person }),
        "move-out-c101-again",
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Every write was audited in the name of the key's maker.
    let audited = scalar(&app, &format!(
        "SELECT COUNT(*) FROM audit_log WHERE actor_user_id = {} AND action IN ('building_created', 'unit_created', 'api_top_up', 'account_created')",
        admin.0
    )).await;
    assert_eq!(audited, 4);
    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(
        differences.is_empty(),
        "the ledger balances: {differences:?}"
    );
}

#[tokio::test]
async fn pages_and_errors_have_one_shape() {
    let app = spawn_app().await;
    let key = key(
        &app,
        demo_admin(&app).await,
        NewKey::Organisation(vec![Scope::Read]),
    )
    .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/units?limit=7&cursor={cursor}"),
            None => "/units?limit=7".to_owned(),
        };
        let page = get(&app, &key, &path).await;
        assert_eq!(page.status, StatusCode::OK);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 7);
        seen.extend(data.iter().map(|unit| unit["id"].as_i64().unwrap()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let demo_units = scalar(&app, &format!(
        "SELECT COUNT(*) FROM units u JOIN buildings b ON b.id = u.building_id WHERE b.site_id = {}",
        app.site_id(server::demo::SITE).await
    )).await;
    assert_eq!(seen.len() as i64, demo_units);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "each unit once, in order");
    for (path, status) in [
        ("/units?limit=0", StatusCode::BAD_REQUEST),
        ("/units?cursor=abc", StatusCode::BAD_REQUEST),
        ("/units/abc", StatusCode::BAD_REQUEST),
        ("/units/999999", StatusCode::NOT_FOUND),
        ("/nothing-here", StatusCode::NOT_FOUND),
        (
            "/accounts/1/usage?granularity=week&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/reports/consumption?site_id=1&from=2026-02-01&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let answer = get(&app, &key, path).await;
        assert_eq!(answer.status, status, "{path}");
        assert!(
            answer.body["error"]["code"].is_string(),
            "{path}: {:?}",
            answer.body
        );
        assert!(answer.body["error"]["message"].is_string());
    }
    let docs = app
        .client
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let docs = docs.text().await.unwrap();
    assert!(docs.contains("/top-ups") && docs.contains("Scope: <code>payments</code>"));
}

#[tokio::test]
async fn a_key_is_limited_and_can_be_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.api_requests_per_minute = 40;
    let app = spawn_with(config, dir).await;
    let admin = demo_admin(&app).await;
    let key = key(&app, admin, NewKey::Organisation(vec![Scope::Read])).await;
    let mut statuses = Vec::new();
    for _ in 0..14 {
        statuses.push(get(&app, &key, "/sites").await);
    }
    let limited: Vec<&Answer> = statuses
        .iter()
        .filter(|answer| answer.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|answer| answer.status == StatusCode::OK)
            .count(),
        10
    );
    assert_eq!(limited.len(), 4);
    assert!(limited[0].headers.contains_key("retry-after"));
    assert_eq!(limited[0].body["error"]["code"], "rate_limited");
    // Another key has its own allowance.
    let second = self::key(&app, admin, NewKey::Organisation(vec![Scope::Read])).await;
    assert_eq!(get(&app, &second, "/sites").await.status, StatusCode::OK);
    // Revoked: refused at once.
    let id: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT MAX(id) FROM api_keys").fetch_one(pool).await
    })
    .unwrap();
    ApiKeys::new(app.db.clone())
        .revoke(admin.1, admin.0, id)
        .await
        .unwrap();
    assert_eq!(
        get(&app, &second, "/sites").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Only the hash is stored.
    let stored: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT secret_hash FROM api_keys WHERE id = $1").bind(id).fetch_one(pool).await
    })
    .unwrap();
    assert!(!second.contains(&stored) && stored.len() == 64);
}

#[tokio::test]
async fn the_api_on_postgresql() {
    let Some(url) = support::fresh_postgres("api").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.database_url = Some(Secret::new(url));
    let app = spawn_with(config, dir).await;
    let key = key(
        &app,
        demo_admin(&app).await,
        NewKey::Organisation(Scope::ALL.to_vec()),
    )
    .await;
    let site = app.site_id(server::demo::SITE).await;
    let first = post(
        &app,
        &key,
        "/buildings",
        json!({ "site_id": site, "name": "Block P" }),
        "pg-1",
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let again = post(
        &app,
        &key,
        "/buildings",
        json!({ "site_id": site, "name": "Block P" }),
        "pg-1",
    )
    .await;
    assert_eq!(again.body, first.body);
    let account = app.wallet("A-101", "electricity").await;
    let top_up = post(
        &app,
        &key,
        "/top-ups",
        json!({ "account_id": account, "amount": "25.50", "reference": "PG-1" }),
        "pg-2",
    )
    .await;
    assert_eq!(top_up.status, StatusCode::CREATED, "{:?}", top_up.body);
    for path in [
        "/sites",
        "/units?limit=3",
        "/meters?utility=gas",
        "/residents",
        "/accounts?supply_state=on",
        "/payments",
        "/alarms?status=open",
    ] {
        let answer = get(&app, &key, path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {:?}", answer.body);
    }
    let transactions = get(&app, &key, &format!("/accounts/{account}/transactions")).await;
    assert_eq!(
        transactions.status,
        StatusCode::OK,
        "{:?}",
        transactions.body
    );
    let usage = get(&app, &key, &format!("/accounts/{account}/usage?granularity=day&from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z")).await;
    assert_eq!(usage.status, StatusCode::OK, "{:?}", usage.body);
    let report = get(
        &app,
        &key,
        &format!("/reports/consumption?site_id={site}&from=2026-01-01&to=2026-12-31"),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK, "{:?}", report.body);
    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(
        differences.is_empty(),
        "the ledger balances: {differences:?}"
    );
}

#[tokio::test]
async fn readings_under_a_second_apart_are_taken() {
    // A gateway may batch readings closer than a second; the water rules once divided by the
    // interval in whole seconds and the handler panicked.
    let app = spawn_app().await;
    let key = key(
        &app,
        demo_admin(&app).await,
        NewKey::Organisation(vec![Scope::Readings, Scope::Read]),
    )
    .await;
    let (meter, serial): (i64, String) = on_db!(&app.db, pool => {
        sqlx::query_as("SELECT id, serial FROM meters WHERE utility = 'water' ORDER BY id LIMIT 1")
            .fetch_one(pool)
            .await
    })
    .unwrap();
    // Well above whatever the meter read before, then four more a quarter-second apart.
    let start = rust_decimal::Decimal::from(100_000);
    let at = chrono::Utc::now();
    let readings: Vec<Value> = (0..=4)
        .map(|step| {
            json!({
                "serial": serial,
                "taken_at": at + chrono::Duration::milliseconds(250 * step),
                "register": (start + rust_decimal::Decimal::new(step, 4)).to_string(),
            })
        })
        .collect();
    let answer = post(
        &app,
        &key,
        "/readings",
        json!({ "readings": readings }),
        "fast",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let listed = get(&app, &key, &format!("/meters/{meter}/readings?limit=200")).await;
    let rated = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|reading| reading["status"] == "rated")
        .count();
    assert!(rated >= 4, "{:?}", listed.body);
}
