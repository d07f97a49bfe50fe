//! Building up a site from its page, over HTTP: its managers add a building and a unit in it
//! (a name taken is a conflict that changes nothing, a building of another site is refused),
//! and correct a meter's serial or multiplier, after which its readings count with the new
//! multiplier. Each change is audited; nobody else changes anything.

use crate::support;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use server::{demo, engine::rating::IncomingReading, on_db};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

async fn audited(app: &TestApp, action: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
    ))
    .await
}

#[tokio::test]
async fn managers_add_buildings_and_units_once() {
    let app = spawn_app().await;
    app.add_staff("operator@demo.example", "operator").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;

    let added = app
        .call(
            &manager,
            "add_building",
            &[("site", &site), ("name", "  Block C ")],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let block_c = added.json().as_i64().unwrap().to_string();
    let again = app
        .call(
            &manager,
            "add_building",
            &[("site", &site), ("name", "Block C")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("Block C already"), "{}", again.body);
    assert_eq!(audited(&app, "building_added").await, 1);

    let unit = |building: &str, name: &str, kind: &str| {
        let (site, building, name, kind) = (
            site.clone(),
            building.to_owned(),
            name.to_owned(),
            kind.to_owned(),
        );
        let (app, manager) = (&app, &manager);
        async move {
            app.call(
                manager,
                "add_unit",
                &[
                    ("site", &site),
                    ("building", &building),
                    ("name", &name),
                    ("kind", &kind),
                ],
            )
            .await
        }
    };
    let shop = unit(&block_c, "C-001", "shop").await;
    assert_eq!(shop.status, StatusCode::OK, "{}", shop.body);
    let shop_id = shop.json().as_i64().unwrap();
    let (name, kind, building): (String, String, String) = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT u.name, u.kind, b.name FROM units u JOIN buildings b ON b.id = u.building_id WHERE u.id = $1",
        )
        .bind(shop_id)
        .fetch_one(pool)
        .await
    })
    .unwrap();
    assert_eq!(
        (name.as_str(), kind.as_str(), building.as_str()),
        ("C-001", "shop", "Block C")
    );
    let clash = unit(&block_c, "C-001", "flat").await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);
    assert_eq!(
        unit(&block_c, "C-002", "castle").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        unit(&block_c, " ", "flat").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // The other organisation's building, named from this site: refused as not this site's.
    let foreign = app
        .count("SELECT id FROM buildings WHERE name = 'Dock 1'")
        .await
        .to_string();
    let refused = unit(&foreign, "C-003", "flat").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(audited(&app, "unit_added").await, 1);

    // The site's page shows the new building with its unit.
    let overview = app
        .call(&manager, "site_overview", &[("site", &site)])
        .await
        .json();
    assert_eq!(overview["may_add_places"], true);
    let names: Vec<&str> = overview["buildings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Block A", "Block B", "Block C"]);
    assert_eq!(overview["buildings"][2]["units"][0]["name"], "C-001");

    let units_before = app.count("SELECT COUNT(*) FROM units").await;
    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&Visitor::default(), &resident, &operator, &other] {
        for (function, form) in [
            (
                "add_building",
                vec![("site", site.as_str()), ("name", "Block D")],
            ),
            (
                "add_unit",
                vec![
                    ("site", site.as_str()),
                    ("building", block_c.as_str()),
                    ("name", "C-009"),
                    ("kind", "flat"),
                ],
            ),
        ] {
            let status = app.call(who, function, &form).await.status;
            assert!(
                [
                    StatusCode::UNAUTHORIZED,
                    StatusCode::FORBIDDEN,
                    StatusCode::NOT_FOUND
                ]
                .contains(&status),
                "{function}: {status}"
            );
        }
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM units").await, units_before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM buildings WHERE name = 'Block D'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_meter_s_serial_and_multiplier_are_corrected_and_count_from_the_next_reading() {
    let app = spawn_app().await;
    app.add_staff("operator@demo.example", "operator").await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let meter = app
        .count("SELECT id FROM meters WHERE serial = 'WA-A101'")
        .await;
    let id = meter.to_string();
    let correct = |serial: &'static str, multiplier: &'static str| {
        let (app, manager, id) = (&app, &manager, id.clone());
        async move {
            app.call(
                manager,
                "correct_meter",
                &[
                    ("meter", id.as_str()),
                    ("serial", serial),
                    ("multiplier", multiplier),
                ],
            )
            .await
        }
    };
    // A baseline and an hour of use at the old multiplier.
    let start = Utc::now() + Duration::minutes(1);
    let read = |minutes: i64, register: i64| IncomingReading {
        meter,
        taken_at: start + Duration::minutes(minutes),
        register: register.into(),
    };
    app.engine
        .rate(vec![read(0, 100), read(60, 102)])
        .await
        .unwrap();

    let answer = correct("WA-A101X", "10").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json(), true);
    assert_eq!(
        correct("WA-A101X", "10.0").await.json(),
        false,
        "the same again changes nothing"
    );
    assert_eq!(audited(&app, "meter_corrected").await, 1);
    for (serial, multiplier, why) in [
        ("WA-A102", "10", "serial WA-A102 already"),
        ("no spaces", "10", "serial is"),
        ("WA-A101X", "0", "positive number"),
        ("WA-A101X", "ten", "positive number"),
    ] {
        let refused = correct(serial, multiplier).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{serial} {multiplier}"
        );
        assert!(refused.body.contains(why), "{}", refused.body);
    }
    let (serial, multiplier): (String, String) = on_db!(&app.db, pool => {
        sqlx::query_as("SELECT serial, multiplier FROM meters WHERE id = $1").bind(meter).fetch_one(pool).await
    })
    .unwrap();
    assert_eq!((serial.as_str(), multiplier.as_str()), ("WA-A101X", "10"));

    // The next hour's 1 m3 on the register is 10 m3 used.
    app.engine.rate(vec![read(120, 103)]).await.unwrap();
    let quantities: Vec<String> = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT quantity FROM readings WHERE meter_id = $1 AND status = 'rated' ORDER BY taken_at")
            .bind(meter)
            .fetch_all(pool)
            .await
    })
    .unwrap();
    let quantities: Vec<rust_decimal::Decimal> =
        quantities.iter().map(|q| q.parse().unwrap()).collect();
    assert_eq!(quantities, [2.into(), 10.into()]);

    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    let status = app
        .call(
            &operator,
            "correct_meter",
            &[
                ("meter", id.as_str()),
                ("serial", "WA-OPERATOR"),
                ("multiplier", "1"),
            ],
        )
        .await
        .status;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM meters WHERE serial = 'WA-OPERATOR'")
            .await,
        0
    );
}
