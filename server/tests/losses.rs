//! Bulk meters and the loss report over HTTP: a site's managers link sub-meters to a master
//! (once however often the form is sent, never across utilities, sites or in a loop); the
//! report sets what the master measured against its sub-meters' sum from the roll-ups, on
//! the page and in the CSV; a replacement master keeps the links; nobody else links anything.

use crate::support;

use app::domain::fleet::MeterPageData;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use server::{demo, engine::rating::IncomingReading, on_db};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

async fn meter_id(app: &TestApp, serial: &str) -> i64 {
    app.count(&format!("SELECT id FROM meters WHERE serial = '{serial}'"))
        .await
}

async fn link(app: &TestApp, who: &Visitor, meter: i64, master: &str) -> (StatusCode, String) {
    let answer = app
        .call(
            who,
            "master_meter",
            &[("meter", &meter.to_string()), ("master", master)],
        )
        .await;
    (answer.status, answer.body)
}

async fn master_of(app: &TestApp, meter: i64) -> Option<String> {
    on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT mm.serial FROM meters m LEFT JOIN meters mm ON mm.id = m.master_meter_id WHERE m.id = $1",
        )
        .bind(meter)
        .fetch_one(pool)
        .await
    })
    .unwrap()
}

/// Two readings a minute apart for each meter: the first its baseline (for a meter with no
/// reading yet), the second what it used.
async fn use_water(app: &TestApp, uses: &[(i64, i64, i64)]) {
    let start = Utc::now() + Duration::minutes(1);
    let mut readings = Vec::new();
    for (meter, from, to) in uses {
        for (minutes, register) in [(0, from), (1, to)] {
            readings.push(IncomingReading {
                meter: *meter,
                taken_at: start + Duration::minutes(minutes),
                register: (*register).into(),
            });
        }
    }
    app.engine.rate(readings).await.unwrap();
}

#[tokio::test]
async fn a_master_is_set_against_what_its_sub_meters_measured() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let unit = app.unit_id("A-110").await.to_string();
    let installed = app
        .call(
            &manager,
            "install_meter",
            &[
                ("unit", &unit),
                ("serial", "WA-TESTBULK"),
                ("utility", "water"),
                ("first_register", "0"),
                ("transport", "simulator"),
            ],
        )
        .await;
    assert_eq!(installed.status, StatusCode::OK, "{}", installed.body);
    let bulk = installed.json()["id"].as_i64().unwrap();
    let (flat_1, flat_2) = (
        meter_id(&app, "WA-A101").await,
        meter_id(&app, "WA-A102").await,
    );

    for flat in [flat_1, flat_2] {
        let (status, body) = link(&app, &manager, flat, "WA-TESTBULK").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The same form again: nothing more changes.
    assert_eq!(
        link(&app, &manager, flat_1, " WA-TESTBULK ").await.0,
        StatusCode::OK
    );
    let audited = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'meter_master_set'")
        .await;
    assert_eq!(audited, 2);
    assert_eq!(
        master_of(&app, flat_1).await.as_deref(),
        Some("WA-TESTBULK")
    );

    // A master measures the same, on the same site, never the meter itself nor a loop.
    on_db!(&app.db, pool => {
        sqlx::query(
            "INSERT INTO meters (unit_id, utility, serial, unit_of_measure, installed_at) \
             SELECT u.id, 'water', 'WA-HARBOUR', 'm3', $1 FROM units u WHERE u.name = 'Shop 1'",
        )
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())
    })
    .unwrap();
    for (meter, master, why) in [
        (flat_1, "EL-A101", "measures water"),
        (flat_1, "WA-A101", "its own"),
        (bulk, "WA-A101", "loop"),
        (flat_1, "WA-NOSUCH", "serial WA-NOSUCH"),
        (flat_1, "WA-HARBOUR", "serial WA-HARBOUR"),
        (flat_1, "no spaces please", "serial is"),
    ] {
        let (status, body) = link(&app, &manager, meter, master).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{master}: {body}");
        assert!(body.contains(why), "{master}: {body}");
    }
    assert_eq!(
        master_of(&app, flat_1).await.as_deref(),
        Some("WA-TESTBULK")
    );
    assert_eq!(master_of(&app, bulk).await, None);

    // The bulk meter measured 10 m3 while the flats measured 3 and 5.
    use_water(&app, &[(bulk, 0, 10), (flat_1, 100, 103), (flat_2, 7, 12)]).await;
    let answer = app
        .call(
            &manager,
            "losses_report",
            &[("site", &site), ("from", ""), ("to", "")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report = answer.json();
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["master"]["serial"], "WA-TESTBULK");
    assert_eq!(lines[0]["master_micro"], 10_000_000);
    assert_eq!(lines[0]["sub_meters"], 2);
    assert_eq!(lines[0]["subs_micro"], 8_000_000);
    let csv = app
        .get(&manager, &format!("/manage/sites/{site}/losses.csv"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body
            .contains("Block A,A-110,WA-TESTBULK,water,m3,10,2,8,2,20.0,losing,"),
        "{}",
        csv.body
    );
    let page = app
        .get(&manager, &format!("/manage/sites/{site}/losses"))
        .await;
    assert!(page.body.contains("Worth a look"), "{}", page.body);

    // The consumption and band reports count that water once, in the flats' lines: the bulk
    // meter standing in A-110 adds nothing to A-110's own water.
    let own = app
        .count(
            "SELECT CAST(COALESCE(SUM(d.quantity_micro), 0) AS BIGINT) FROM usage_daily d \
             JOIN meters m ON m.id = d.meter_id WHERE m.serial = 'WA-A110'",
        )
        .await;
    let days = [("site", site.as_str()), ("from", ""), ("to", "")];
    let a110_water = |report: &serde_json::Value, quantity: &dyn Fn(&serde_json::Value) -> i64| {
        report["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|line| line["unit"] == "A-110" && line["utility"] == "water")
            .map(quantity)
            .sum::<i64>()
    };
    let consumption = app.call(&manager, "consumption_report", &days).await.json();
    assert_eq!(
        a110_water(&consumption, &|line| line["quantity_micro"]
            .as_i64()
            .unwrap()),
        own
    );
    let bands = app.call(&manager, "bands_report", &days).await.json();
    assert_eq!(
        a110_water(&bands, &|line| line["by_band"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q.as_i64().unwrap())
            .sum()),
        own
    );

    // The meter's page names its master for staff, not for its resident.
    let flat = flat_1.to_string();
    let seen = app
        .call(&manager, "meter", &[("meter", &flat)])
        .await
        .json();
    assert_eq!(seen["meter"]["master"][1], "WA-TESTBULK");
    let bulk_seen = app
        .call(&manager, "meter", &[("meter", &bulk.to_string())])
        .await
        .json();
    assert_eq!(bulk_seen["meter"]["sub_meters"], 2);
    // Its newest reading says what it measured and why nobody was charged for it, as the
    // page shows it.
    let newest = |seen: &serde_json::Value| {
        let page: MeterPageData = serde_json::from_value(seen.clone()).unwrap();
        let reading = page.meter.readings[0].clone();
        let (used, charged) = (
            reading.used(&page.meter.unit_of_measure),
            reading.charged(&page.meter.currency, page.meter.digits),
        );
        (reading, used, charged)
    };
    let (reading, used, charged) = newest(&bulk_seen);
    assert_eq!(reading.register, "10");
    assert_eq!(reading.status, "rated");
    assert_eq!(used.as_deref(), Some("10 m3"));
    assert_eq!(charged.as_deref(), Some("0.00 KES"));
    assert_eq!(
        reading.note.as_deref(),
        Some("bulk meter: charged on its sub-meters")
    );
    let (reading, used, charged) = newest(&seen);
    assert_eq!(reading.register, "103");
    assert_eq!(used.as_deref(), Some("3 m3"));
    // The demo's water is 150.00 a cubic metre, untaxed.
    assert_eq!(charged.as_deref(), Some("450.00 KES"));
    assert_eq!(reading.note, None);
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other_admin = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    let own = app
        .call(&resident, "meter", &[("meter", &flat)])
        .await
        .json();
    assert!(own["meter"]["master"].is_null(), "{own}");
    // Its resident, who moved in before them, sees both readings, what they paid and why.
    let (reading, _, charged) = newest(&own);
    assert_eq!(reading.register, "103");
    assert_eq!(charged.as_deref(), Some("450.00 KES"));
    assert_eq!(own["meter"]["readings"].as_array().unwrap().len(), 2);

    // Every reading of some days as a file, exact: the bulk meter's at no cost, with why.
    let (from, to) = (
        (Utc::now() - Duration::days(2)).date_naive().to_string(),
        (Utc::now() + Duration::days(2)).date_naive().to_string(),
    );
    let readings_csv = |meter: i64| format!("/meters/{meter}/readings.csv?from={from}&to={to}");
    let file = app.get(&manager, &readings_csv(bulk)).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert_eq!(
        file.headers[reqwest::header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"readings-WA-TESTBULK-{from}-{to}.csv\"").as_str()
    );
    let lines: Vec<Vec<&str>> = file.body.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(lines[0][0], "meter");
    assert_eq!(
        lines.last().unwrap()[4..],
        [
            "10",
            "rated",
            "10",
            "m3",
            "0",
            "0",
            "KES",
            "bulk meter: charged on its sub-meters"
        ]
    );
    let file = app.get(&manager, &readings_csv(flat_1)).await;
    let last: Vec<&str> = file.body.lines().last().unwrap().split(',').collect();
    assert_eq!(last[..1], ["WA-A101"]);
    assert_eq!(
        last[4..],
        ["103", "rated", "3", "m3", "450", "0", "KES", ""]
    );
    let theirs = app.get(&resident, &readings_csv(flat_1)).await;
    assert_eq!(theirs.body, file.body, "every one is since they moved in");
    // Not for the resident of the next flat, another organisation, or days that are not days.
    let neighbour = app.sign_in("a102@demo.example", demo::PASSWORD).await;
    for (who, path, status) in [
        (&neighbour, readings_csv(flat_1), StatusCode::FORBIDDEN),
        (&other_admin, readings_csv(flat_1), StatusCode::FORBIDDEN),
        (
            &Visitor::default(),
            readings_csv(flat_1),
            StatusCode::UNAUTHORIZED,
        ),
        (
            &manager,
            format!("/meters/{flat_1}/readings.csv?from=2026-13-01"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let answer = app.get(who, &path).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.body);
        assert!(!answer.body.contains("WA-A101,"), "{}", answer.body);
    }

    // A replacement bulk meter takes the old one's place; an unlinked flat leaves the line.
    let replaced = app
        .call(
            &manager,
            "replace_meter",
            &[
                ("meter", &bulk.to_string()),
                ("final_register", "10"),
                ("serial", "WA-TESTBULK2"),
                ("utility", "water"),
                ("first_register", "0"),
                ("transport", "simulator"),
            ],
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(
        master_of(&app, flat_2).await.as_deref(),
        Some("WA-TESTBULK2")
    );
    assert_eq!(link(&app, &manager, flat_1, "").await.0, StatusCode::OK);
    assert_eq!(master_of(&app, flat_1).await, None);
    let after = app
        .call(
            &manager,
            "losses_report",
            &[("site", &site), ("from", ""), ("to", "")],
        )
        .await
        .json();
    let serials: Vec<&str> = after["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["master"]["serial"].as_str().unwrap())
        .collect();
    assert_eq!(
        serials,
        ["WA-TESTBULK2"],
        "the old master feeds nothing now"
    );
}

#[tokio::test]
async fn only_the_site_s_managers_link_meters_and_only_its_staff_read_losses() {
    let app = spawn_app().await;
    app.add_staff("operator@demo.example", "operator").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let flat = meter_id(&app, "WA-A101").await;
    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&Visitor::default(), &resident, &operator, &other] {
        let (status, body) = link(&app, who, flat, "WA-A102").await;
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::NOT_FOUND
            ]
            .contains(&status),
            "{status}: {body}"
        );
    }
    assert_eq!(master_of(&app, flat).await, None);
    let days = [("site", site.as_str()), ("from", ""), ("to", "")];
    assert_eq!(
        app.call(&operator, "losses_report", &days).await.status,
        StatusCode::OK
    );
    for who in [&Visitor::default(), &resident, &other] {
        let status = app.call(who, "losses_report", &days).await.status;
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::NOT_FOUND
            ]
            .contains(&status),
            "{status}"
        );
        let csv = app
            .get(who, &format!("/manage/sites/{site}/losses.csv"))
            .await;
        assert!(!csv.status.is_success(), "{}", csv.status);
    }
    let bad = app
        .call(
            &operator,
            "losses_report",
            &[("site", &site), ("from", "yesterday"), ("to", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}
