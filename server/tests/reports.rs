//! The consumption report over HTTP: its page's server function and its CSV download give the
//! same figures, which add up to what the roll-ups hold, for the site's staff and nobody else.
//! Against the real server on loopback, with the demo data (its readings' roll-ups).

mod support;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use server::{demo, engine::rating::IncomingReading, on_db};
use support::{OTHER_ADMIN, Visitor, spawn_app};

#[tokio::test]
async fn the_page_and_the_download_agree_with_the_roll_ups() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    // A dozen meters of each utility read twice, an hour apart, after the demo's move-ins.
    let meters: Vec<i64> = on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT m.id FROM meters m JOIN units u ON u.id = m.unit_id \
             WHERE u.name LIKE 'A-1%' ORDER BY m.id LIMIT 36",
        )
        .fetch_all(pool)
        .await
    })
    .unwrap();
    let start = Utc::now() + Duration::minutes(1);
    let mut readings = Vec::new();
    for (n, meter) in meters.iter().enumerate() {
        for (minutes, register) in [(0, 0), (60, 3 + n as i64)] {
            readings.push(IncomingReading {
                meter: *meter,
                taken_at: start + Duration::minutes(minutes),
                register: register.into(),
            });
        }
    }
    app.engine.rate(readings).await.unwrap();
    // The site's days around now, whatever its time zone.
    let today = Utc::now().date_naive();
    let (from, to) = (today - Duration::days(30), today + Duration::days(2));
    let (from, to) = (from.to_string(), to.to_string());
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let answer = app
        .call(
            &manager,
            "consumption_report",
            &[("site", &site), ("from", &from), ("to", &to)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report = answer.json();
    let lines = report["lines"].as_array().unwrap();
    assert!(!lines.is_empty(), "the demo's readings are in the roll-ups");

    // Each utility's quantity, summed by the database itself over the same days.
    for utility in ["electricity", "water", "gas"] {
        let expected = app
            .count(&format!(
                "SELECT CAST(COALESCE(SUM(d.quantity_micro), 0) AS BIGINT) FROM usage_daily d \
                 JOIN meters m ON m.id = d.meter_id JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id \
                 WHERE b.site_id = {site} AND m.utility = '{utility}' AND d.day >= '{from}' AND d.day <= '{to}'"
            ))
            .await;
        let reported: i64 = lines
            .iter()
            .filter(|l| l["utility"] == utility)
            .map(|l| l["quantity_micro"].as_i64().unwrap())
            .sum();
        assert_eq!(reported, expected, "{utility}");
    }

    let csv = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/consumption.csv?from={from}&to={to}"),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("consumption-{from}-{to}.csv"))
    );
    let rows: Vec<Vec<&str>> = csv.body.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][0], "building");
    let units: Vec<&Vec<&str>> = rows[1..].iter().filter(|r| r[1] != "(total)").collect();
    assert_eq!(units.len(), lines.len(), "a CSV line per unit and utility");
    // The site's total line of each utility is the sum of its units' lines, to the cent.
    let cents = |text: &str| -> i64 {
        let (whole, part) = text.split_once('.').unwrap();
        whole.parse::<i64>().unwrap() * 100 + part.parse::<i64>().unwrap()
    };
    for total in rows.iter().filter(|r| r[0] == "(site)") {
        let sum: i64 = units
            .iter()
            .filter(|r| r[2] == total[2])
            .map(|r| cents(r[5]))
            .sum();
        assert_eq!(cents(total[5]), sum, "{}", total[2]);
    }
    let page = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/reports?from={from}&to={to}"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Top 10 users of electricity"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn only_the_site_s_staff_see_its_consumption() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let csv = format!("/manage/sites/{site}/consumption.csv");
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&resident, &other] {
        let answer = app
            .call(
                who,
                "consumption_report",
                &[("site", &site), ("from", ""), ("to", "")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        let download = app.get(who, &csv).await;
        assert_eq!(download.status, StatusCode::FORBIDDEN);
        assert!(!download.body.contains("Block A"));
    }
    assert_eq!(
        app.get(&Visitor::default(), &csv).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&other, "/manage/sites/999999/consumption.csv")
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Days that are not days, or backwards, or too many, are a clear error.
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    for (from, to) in [
        ("yesterday", ""),
        ("2026-11-30", "2026-11-01"),
        ("2024-01-01", "2026-01-01"),
    ] {
        let answer = app
            .call(
                &manager,
                "consumption_report",
                &[("site", &site), ("from", from), ("to", to)],
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{from} {to}: {}",
            answer.body
        );
        let download = app
            .get(&manager, &format!("{csv}?from={from}&to={to}"))
            .await;
        assert_eq!(download.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
