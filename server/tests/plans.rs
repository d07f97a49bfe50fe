//! Tariff plans over HTTP: a plan exists once one of its versions is published, a manager puts
//! a unit (or every unit of the accounts a search finds) on it, and the unit's meters are then
//! priced by the plan, or by the standard tariff for the utilities the plan does not price and
//! until the plan's first version starts. Against the real server on loopback, with the demo.

use crate::support;

use app::domain::{
    SiteId, Utility,
    tariff::{Plan, Tariff},
};
use chrono::{Duration, TimeZone, Utc};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use server::{db::ReadingTime, demo, engine::rating::IncomingReading, on_db};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

fn plan(name: &str) -> Plan {
    Plan::parse(name).unwrap()
}

async fn put_unit(app: &TestApp, who: &Visitor, unit: i64, plan: &str) -> support::Answer {
    app.call(
        who,
        "set_unit_plan",
        &[("unit", &unit.to_string()), ("plan", plan)],
    )
    .await
}

async fn plan_of(app: &TestApp, unit: &str) -> String {
    on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT tariff_plan FROM units WHERE name = $1").bind(unit).fetch_one(pool).await
    })
    .unwrap()
}

/// The unit's electricity meter and where its register stands.
async fn electricity_meter(app: &TestApp, unit: &str) -> (i64, Decimal) {
    let (meter, register): (i64, Option<String>) = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT m.id, s.last_register FROM meters m JOIN units u ON u.id = m.unit_id \
             LEFT JOIN meter_states s ON s.meter_id = m.id \
             WHERE u.name = $1 AND m.utility = 'electricity' AND m.removed_at IS NULL",
        )
        .bind(unit)
        .fetch_one(pool)
        .await
    })
    .unwrap();
    let register = register.map_or(Decimal::from(100), |r| r.parse().unwrap());
    (meter, register)
}

/// What the reading of `meter` taken at `at` was charged before tax.
async fn net_of(app: &TestApp, meter: i64, at: chrono::DateTime<Utc>) -> Decimal {
    let net: Option<String> = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT net FROM readings WHERE meter_id = $1 AND taken_at = $2")
            .bind(meter)
            .bind(ReadingTime(at))
            .fetch_one(pool)
            .await
    })
    .unwrap();
    net.expect("the reading was rated").parse().unwrap()
}

#[tokio::test]
async fn a_unit_on_a_plan_is_charged_by_it() {
    let app = spawn_app().await;
    app.add_staff("operator@demo.example", "operator").await;
    let site_id = app.site_id(demo::SITE).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    let unit = app.unit_id("A-103").await;

    // No version of "Staff" has been published: there is no such plan to put a unit on.
    let answer = put_unit(&app, &manager, unit, "Staff").await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("no plan called Staff"),
        "{}",
        answer.body
    );
    assert_eq!(plan_of(&app, "A-103").await, "");

    // A staff plan pricing electricity only, at a rate nobody could mistake, since last year.
    let since = Utc::now() - Duration::days(365);
    let rate = Decimal::from(1000);
    app.engine
        .set_plan_tariff(
            SiteId(site_id),
            &plan("Staff"),
            Utility::Electricity,
            since,
            &Tariff::flat(rate),
            None,
        )
        .await
        .unwrap();

    // Only the site's managers (and the organisation's admins) put units on plans.
    for (who, expected) in [
        (&operator, StatusCode::FORBIDDEN),
        (&other, StatusCode::FORBIDDEN),
        (&Visitor::default(), StatusCode::UNAUTHORIZED),
    ] {
        let answer = put_unit(&app, who, unit, "Staff").await;
        assert_eq!(answer.status, expected, "{}", answer.body);
    }
    assert_eq!(plan_of(&app, "A-103").await, "");
    let answer = put_unit(&app, &manager, unit, "x".repeat(41).as_str()).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);

    let answer = put_unit(&app, &manager, unit, " staff ").await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "names are exact: {}",
        answer.body
    );
    let answer = put_unit(&app, &manager, unit, "Staff").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json(), true);
    // Sent twice: nothing more changes, and one change is audited.
    assert_eq!(put_unit(&app, &manager, unit, "Staff").await.json(), false);
    assert_eq!(plan_of(&app, "A-103").await, "Staff");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'unit_tariff_plan_changed'")
            .await,
        1
    );
    let card = app
        .call(&manager, "unit_card", &[("unit", &unit.to_string())])
        .await
        .json();
    assert_eq!(card["plan"], "Staff");
    assert_eq!(card["plans"], serde_json::json!(["", "Staff"]));
    let card = app
        .call(&operator, "unit_card", &[("unit", &unit.to_string())])
        .await
        .json();
    assert_eq!(
        card["plans"],
        serde_json::json!([]),
        "the operator is offered no plan"
    );

    // An hour's use on A-103 (Staff) and A-104 (standard), two units each.
    let start = Utc::now() + Duration::minutes(1);
    let mut readings = Vec::new();
    let mut meters = Vec::new();
    for name in ["A-103", "A-104"] {
        let (meter, register) = electricity_meter(&app, name).await;
        meters.push(meter);
        readings.push(IncomingReading {
            meter,
            taken_at: start,
            register,
        });
        readings.push(IncomingReading {
            meter,
            taken_at: start + Duration::minutes(60),
            register: register + Decimal::from(2),
        });
    }
    app.engine.rate(readings).await.unwrap();
    let end = start + Duration::minutes(60);
    assert_eq!(net_of(&app, meters[0], end).await, Decimal::from(2) * rate);
    let standard = net_of(&app, meters[1], end).await;
    assert!(
        standard > Decimal::ZERO && standard < Decimal::from(2) * rate,
        "A-104 stays on the standard tariff: {standard}"
    );

    // Put back on the standard tariff.
    let answer = put_unit(&app, &manager, unit, "").await;
    assert_eq!(answer.json(), true, "{}", answer.body);
    assert_eq!(plan_of(&app, "A-103").await, "");
}

#[tokio::test]
async fn the_units_a_search_finds_go_on_a_plan_at_once() {
    let app = spawn_app().await;
    app.add_staff("operator@demo.example", "operator").await;
    let site_id = app.site_id(demo::SITE).await;
    let site = site_id.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    app.engine
        .set_plan_tariff(
            SiteId(site_id),
            &plan("Shops"),
            Utility::Water,
            Utc::now() - Duration::days(1),
            &Tariff::flat(Decimal::from(3)),
            None,
        )
        .await
        .unwrap();
    let search = [("site", site.as_str()), ("words", "A-10")];
    let page = app.call(&manager, "account_table", &search).await.json();
    let matching = page["matching"].as_u64().unwrap();
    assert!(matching >= 2, "{page}");
    assert_eq!(page["plans"], serde_json::json!(["", "Shops"]));
    let units: i64 = app
        .count(
            "SELECT COUNT(DISTINCT w.unit_id) FROM wallets w JOIN units u ON u.id = w.unit_id \
             WHERE w.closed_at IS NULL AND u.name LIKE 'A-10%'",
        )
        .await;
    let expected = matching.to_string();
    let batch = |plan: &'static str, expected: String| {
        let (site, app, manager, operator) = (site.clone(), &app, &manager, &operator);
        async move {
            let form = [
                ("site", site.as_str()),
                ("words", "A-10"),
                ("plan", plan),
                ("expected", expected.as_str()),
            ];
            (
                app.call(manager, "plan_found_accounts", &form).await,
                app.call(operator, "plan_found_accounts", &form).await,
            )
        }
    };

    // The operator may not; a count the search no longer gives changes nothing; a plan the
    // site does not have is refused.
    let (answer, refused) = batch("Shops", expected.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let moved = answer.json();
    assert_eq!(moved["moved"], units, "{moved}");
    assert_eq!(moved["unchanged"], 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM units WHERE tariff_plan = 'Shops'")
            .await,
        units
    );
    let (again, _) = batch("Shops", expected.clone()).await;
    assert_eq!(again.json()["moved"], 0);
    assert_eq!(again.json()["unchanged"], units);
    let (stale, _) = batch("", (matching + 1).to_string()).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let (unknown, _) = batch("Factories", expected.clone()).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM units WHERE tariff_plan = 'Shops'")
            .await,
        units
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'unit_tariff_plan_changed'")
            .await,
        units
    );

    // The tariffs page counts them; the accounts page offers the batch.
    let book = app
        .call(&manager, "tariff_book", &[("site", &site)])
        .await
        .json();
    let shops = book["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["plan"] == "Shops")
        .unwrap()
        .clone();
    assert_eq!(shops["units"], units, "{book}");
    let page = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/accounts?words=A-10"),
        )
        .await;
    assert!(
        page.body.contains("on a tariff plan"),
        "the batch form is drawn"
    );
    let page = app
        .get(
            &operator,
            &format!("/manage/sites/{site}/accounts?words=A-10"),
        )
        .await;
    assert!(!page.body.contains("on a tariff plan"));
}

#[tokio::test]
async fn a_plan_starts_with_its_first_approved_version() {
    let app = spawn_app().await;
    let site_id = app.site_id(demo::SITE).await;
    let site = site_id.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let commercial = serde_json::to_string(&Tariff::flat(Decimal::from(7))).unwrap();
    let standard = serde_json::to_string(&Tariff::flat(Decimal::from(5))).unwrap();
    let propose = |plan: &'static str, definition: String| {
        let (app, site, manager) = (&app, site.clone(), &manager);
        async move {
            let answer = app
                .call(
                    manager,
                    "propose_tariff",
                    &[
                        ("site", site.as_str()),
                        ("plan", plan),
                        ("utility", "water"),
                        ("starts", "2031-01-01T00:00"),
                        ("definition", definition.as_str()),
                        ("note", "plans"),
                    ],
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            answer.body
        }
    };
    // A new plan and the standard tariff, both from the same moment: each is its own line.
    let first = propose("Commercial", commercial).await;
    let second = propose("", standard).await;
    for id in [&first, &second] {
        let answer = app
            .call(
                &admin,
                "decide_tariff",
                &[("site", &site), ("proposal", id), ("decision", "approve")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let book = app
        .call(&manager, "tariff_book", &[("site", &site)])
        .await
        .json();
    let lines: Vec<(String, String)> = book["utilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["plan"].as_str().unwrap().to_owned(),
                u["utility"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        lines.contains(&("Commercial".to_owned(), "water".to_owned())),
        "{lines:?}"
    );
    assert_eq!(lines[0].0, "", "the standard plan comes first: {lines:?}");
    let proposals = book["proposals"].as_array().unwrap();
    assert!(
        proposals.iter().any(|p| p["plan"] == "Commercial"),
        "{book}"
    );

    // Published, so units may be put on it now; until 2031 they pay the standard tariff.
    let unit = app.unit_id("A-102").await;
    let answer = put_unit(&app, &manager, unit, "Commercial").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let rules = app.engine.rules(SiteId(site_id)).await.unwrap();
    let commercial = plan("Commercial");
    let now = Utc::now();
    assert_eq!(
        rules.tariff_now(&commercial, Utility::Water, now),
        rules.tariff_now(&Plan::standard(), Utility::Water, now),
    );
    let starts = Utc.with_ymd_and_hms(2030, 12, 31, 21, 0, 0).unwrap();
    assert_eq!(
        rules.tariff_now(&commercial, Utility::Water, starts),
        Some(&Tariff::flat(Decimal::from(7)))
    );
    assert_eq!(
        rules.tariff_now(&Plan::standard(), Utility::Water, starts),
        Some(&Tariff::flat(Decimal::from(5)))
    );
    // Electricity, which the plan does not price, is the standard's.
    assert_eq!(
        rules.tariff_now(&commercial, Utility::Electricity, starts),
        rules.tariff_now(&Plan::standard(), Utility::Electricity, starts),
    );
    let page = app.get(&manager, &format!("/manage/units/{unit}")).await;
    assert!(
        page.body.contains("Charged by the Commercial tariff plan"),
        "the unit page says so"
    );
}
