//! Sites over HTTP: the organisation's admins create them; a site's managers and the admins
//! keep its name, language and supply rules, which the engine then charges and cuts by; the
//! rest of its staff read them, and nobody else gets in.

use crate::support;

use reqwest::StatusCode;
use serde_json::Value;
use server::demo;
use support::{OTHER_ADMIN, spawn_app};

fn settings_form<'a>(
    site: &'a str,
    locale: &'a str,
    max: &'a str,
    to: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("site", site),
        ("name", demo::SITE),
        ("locale", locale),
        ("rules[warning_levels]", "300, 100"),
        ("rules[warn_days_left]", "2"),
        ("rules[reconnect_level]", "0.01"),
        ("rules[emergency_credit]", "150"),
        ("rules[debt_recovery_percent]", "20"),
        ("rules[friendly_from]", ""),
        ("rules[friendly_to]", to),
        ("rules[holidays]", "2026-12-25"),
        ("rules[water_restrict]", "on"),
        ("rules[min_top_up]", "10"),
        ("rules[max_top_up]", max),
    ]
}

#[tokio::test]
async fn admins_create_sites_and_managers_keep_their_supply_rules() {
    let app = spawn_app().await;
    app.add_staff("cashier@demo.example", "cashier").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let cashier = app.sign_in("cashier@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    let sites = "SELECT COUNT(*) FROM sites";
    let before = app.count(sites).await;

    // Created by an admin, once by its name; a clock the zone database does not know, refused.
    let new_site = |name: &'static str, zone: &'static str| {
        [
            ("name", name),
            ("time_zone", zone),
            ("currency", "kes"),
            ("locale", "en-ke"),
        ]
    };
    let created = app
        .call(
            &admin,
            "create_site",
            &new_site("Lakeside", "Africa/Nairobi"),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_i64().unwrap();
    let again = app
        .call(
            &admin,
            "create_site",
            &new_site("Lakeside", "Africa/Nairobi"),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let nowhere = app
        .call(&admin, "create_site", &new_site("Nowhere", "Mars/Olympus"))
        .await;
    assert_eq!(nowhere.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nowhere.body.contains("not a time zone"), "{}", nowhere.body);
    for who in [&manager, &cashier] {
        let refused = app
            .call(who, "create_site", &new_site("Mine", "Africa/Nairobi"))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(app.count(sites).await, before + 1);
    let listed = app.call(&admin, "my_sites", &[]).await.json();
    let lakeside = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(
        (lakeside["currency"].clone(), lakeside["locale"].clone()),
        (Value::from("KES"), Value::from("en-KE"))
    );
    let theirs = app
        .call(&other, "site_settings", &[("site", &id.to_string())])
        .await;
    assert_eq!(
        theirs.status,
        StatusCode::FORBIDDEN,
        "another organisation's"
    );

    // The site's staff read its rules; only its managers and admins change them.
    let read = app
        .call(&cashier, "site_settings", &[("site", &site)])
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.json()["may_edit"], false);
    let form = settings_form(&site, "sw-ke", "1000", "");
    let refused = app.call(&cashier, "save_site_settings", &form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let saved = app.call(&manager, "save_site_settings", &form).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json(), true);
    assert_eq!(
        app.call(&manager, "save_site_settings", &form).await.json(),
        false
    );
    let read = app
        .call(&manager, "site_settings", &[("site", &site)])
        .await
        .json();
    assert_eq!(read["may_edit"], true);
    assert_eq!(read["locale"], "sw-KE");
    let policy = &read["policy"];
    assert_eq!(
        policy["warning_levels"],
        serde_json::json!([30_000, 10_000])
    );
    assert_eq!(policy["emergency_credit"], 15_000);
    assert_eq!(policy["max_top_up"], 100_000);
    assert_eq!(policy["friendly_from"], Value::Null);
    assert_eq!(policy["friendly_weekends"], false);

    // A bad field is named and changes nothing.
    let bad = settings_form(&site, "sw-KE", "1000", "25");
    let answer = app.call(&manager, "save_site_settings", &bad).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("hour"), "{}", answer.body);

    // The engine takes cash by the new rules.
    let account = app.wallet("A-103", "electricity").await.to_string();
    let too_much = app
        .call(
            &manager,
            "cash_top_up",
            &[
                ("account", &account),
                ("amount", "2000"),
                ("nonce", "sites-limit-1"),
            ],
        )
        .await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_much.body.contains("1000.00"), "{}", too_much.body);

    let audit = app.audit_actions().await;
    for action in ["site_created", "site_settings_changed"] {
        assert!(audit.contains(&action.to_owned()), "{action}: {audit:?}");
    }
}
