//! The consumption, collections and warnings-and-cut-offs reports over HTTP: each page's server
//! function and its CSV download give the same figures, which add up to what the roll-ups, the
//! receipts and the notices hold, for those of the site's staff who may see them and nobody
//! else.
//! Against the real server on loopback, with the demo data (its readings' roll-ups).

use crate::support;

use app::domain::Minor;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use server::{
    db::ReadingTime,
    demo,
    engine::{money::Source, rating::IncomingReading},
    on_db,
};
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

#[tokio::test]
async fn collections_add_up_every_receipt_by_day_and_source() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await;
    // Cash at the desk and an M-Pesa payment, on top of the demo's opening top-ups (sandbox).
    let wallet = app.wallet("A-101", "water").await;
    let cash = Source::Cash {
        nonce: "collections-0001".into(),
    };
    app.engine
        .top_up(wallet, Minor(12_345), cash, None)
        .await
        .unwrap();
    let mpesa = Source::Provider {
        provider: "mpesa".into(),
        reference: "QK7TEST001".into(),
    };
    app.engine
        .top_up(wallet, Minor(20_000), mpesa, None)
        .await
        .unwrap();
    // The site's days around now, whatever its time zone.
    let today = Utc::now().date_naive();
    let (from, to) = (
        (today - Duration::days(1)).to_string(),
        (today + Duration::days(1)).to_string(),
    );
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let form = [
        ("site", site.to_string()),
        ("from", from.clone()),
        ("to", to.clone()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = app.call(&manager, "collections_report", &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report = answer.json();

    let receipts = |what: &str, filter: &str| {
        format!(
            "SELECT {what} FROM receipts r JOIN ledger_transactions t ON t.id = r.transaction_id \
             WHERE r.site_id = {site} {filter}"
        )
    };
    let sum = "COALESCE(SUM(r.amount_minor), 0)";
    assert_eq!(report["total"], app.count(&receipts(sum, "")).await);
    assert_eq!(
        report["receipts"],
        app.count(&receipts("COUNT(*)", "")).await
    );
    assert_eq!(
        report["sources"],
        serde_json::json!(["mpesa", "sandbox", "cash"])
    );
    let sandbox = app
        .count(&receipts(
            sum,
            "AND t.idempotency_key LIKE 'payment:sandbox:%'",
        ))
        .await;
    assert!(sandbox > 0, "the demo's opening top-ups");
    assert_eq!(
        report["totals"],
        serde_json::json!([20_000, sandbox, 12_345])
    );
    let days: i64 = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["total"].as_i64().unwrap())
        .sum();
    assert_eq!(report["total"], days);
    // What residents owe now, as the accounts hold it.
    let below_zero = app
        .count(&format!(
            "SELECT CAST(COALESCE(-SUM(balance_minor), 0) AS BIGINT) FROM accounts \
             WHERE site_id = {site} AND kind = 'prepaid' AND balance_minor < 0 AND closed_at IS NULL"
        ))
        .await;
    assert_eq!(report["owed"]["below_zero"]["amount"], below_zero);

    // The download says the same: a line per day and source, each source's total, the whole.
    let csv = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/collections.csv?from={from}&to={to}"),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "day,source,amount (KES)");
    let whole = report["total"].as_i64().unwrap();
    assert_eq!(
        lines.last().unwrap(),
        &format!("{from} to {to},(all),{}.{:02}", whole / 100, whole % 100)
    );
    assert!(lines.contains(&format!("{from} to {to},cash,123.45").as_str()));
    let page = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/collections?from={from}&to={to}"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Cash at the desk"), "{}", page.body);
    assert!(page.body.contains("M-Pesa"));
}

#[tokio::test]
async fn only_the_site_s_managers_cashiers_and_admins_see_collections() {
    let app = spawn_app().await;
    app.add_staff("cashier@demo.example", "cashier").await;
    app.add_staff("operator@demo.example", "operator").await;
    let site = app.site_id(demo::SITE).await.to_string();
    let form = [("site", site.as_str()), ("from", ""), ("to", "")];
    let csv = format!("/manage/sites/{site}/collections.csv");
    for email in ["cashier@demo.example", demo::ADMIN] {
        let who = app.sign_in(email, demo::PASSWORD).await;
        let answer = app.call(&who, "collections_report", &form).await;
        assert_eq!(answer.status, StatusCode::OK, "{email}: {}", answer.body);
        assert_eq!(app.get(&who, &csv).await.status, StatusCode::OK);
    }
    for email in ["operator@demo.example", "a101@demo.example", OTHER_ADMIN] {
        let who = app.sign_in(email, demo::PASSWORD).await;
        let answer = app.call(&who, "collections_report", &form).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{email}: {}",
            answer.body
        );
        let download = app.get(&who, &csv).await;
        assert_eq!(download.status, StatusCode::FORBIDDEN, "{email}");
        assert!(!download.body.contains("sandbox"));
    }
    assert_eq!(
        app.get(&Visitor::default(), &csv).await.status,
        StatusCode::UNAUTHORIZED
    );
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let backwards = [
        ("site", site.as_str()),
        ("from", "2026-11-30"),
        ("to", "2026-11-01"),
    ];
    let answer = app.call(&manager, "collections_report", &backwards).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
}

/// Reads an electricity meter far past any demo account's credit: its account is cut off.
async fn use_far_past_credit(app: &support::TestApp, meter: i64, from: i64, hours: i64) {
    let start = Utc::now() + Duration::minutes(1 + hours * 60);
    let readings = [(0, from), (30, from + 2_000)]
        .into_iter()
        .map(|(minutes, register)| IncomingReading {
            meter,
            taken_at: start + Duration::minutes(minutes),
            register: register.into(),
        })
        .collect();
    app.engine.rate(readings).await.unwrap();
}

#[tokio::test]
async fn warnings_and_cut_offs_are_counted_by_day_and_the_often_cut_named() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await;
    let wallet = app.wallet("A-103", "electricity").await;
    let meter: i64 = app
        .count(&format!(
            "SELECT meter_id FROM wallets WHERE account_id = {wallet}"
        ))
        .await;
    let state = |wallet: i64| {
        let app = &app;
        async move {
            let state: String = on_db!(&app.db, pool => {
                sqlx::query_scalar("SELECT supply_state FROM wallets WHERE account_id = $1")
                    .bind(wallet)
                    .fetch_one(pool)
                    .await
            })
            .unwrap();
            state
        }
    };
    // Cut off, topped up and back on, then cut off again.
    use_far_past_credit(&app, meter, 0, 0).await;
    assert_eq!(state(wallet).await, "cut");
    let owed = -app
        .count(&format!(
            "SELECT balance_minor FROM accounts WHERE id = {wallet}"
        ))
        .await;
    let cash = Source::Cash {
        nonce: "supply-report-01".into(),
    };
    app.engine
        .top_up(wallet, Minor(owed + 100_000), cash, None)
        .await
        .unwrap();
    assert_ne!(state(wallet).await, "cut");
    use_far_past_credit(&app, meter, 2_000, 1).await;
    assert_eq!(state(wallet).await, "cut");

    let today = Utc::now().date_naive();
    let (from, to) = (
        (today - Duration::days(1)).to_string(),
        (today + Duration::days(1)).to_string(),
    );
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let site_text = site.to_string();
    let form = [
        ("site", site_text.as_str()),
        ("from", from.as_str()),
        ("to", to.as_str()),
    ];
    let answer = app.call(&manager, "supply_report", &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report = answer.json();
    // What the notices say, counted apart from the report's code.
    let notices = |kinds: &str| {
        format!(
            "SELECT COUNT(*) FROM notifications WHERE site_id = {site} \
             AND wallet_account_id IS NOT NULL AND kind IN ({kinds})"
        )
    };
    let cut_offs = app
        .count(&notices("'cut_off', 'restricted', 'protected_at_zero'"))
        .await;
    let back = app.count(&notices("'reconnected', 'armed'")).await;
    assert!(cut_offs >= 2 && back >= 1, "{cut_offs} {back}");
    assert_eq!(report["totals"]["cut_offs"], cut_offs);
    assert_eq!(report["totals"]["reconnections"], back);
    let days_cut: i64 = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["cut_offs"].as_i64().unwrap())
        .sum();
    assert_eq!(days_cut, cut_offs);
    assert_eq!(
        report["often_cut"],
        serde_json::json!([{
            "account": wallet,
            "place": "Block A · A-103 · electricity",
            "cut_offs": 2
        }])
    );
    let cut_now = app
        .count(&format!(
            "SELECT COUNT(*) FROM wallets WHERE site_id = {site} AND closed_at IS NULL \
             AND supply_state IN ('cut', 'restricted')"
        ))
        .await;
    assert!(cut_now >= 1);
    assert_eq!(report["cut_now"], cut_now);

    let csv = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/supply.csv?from={from}&to={to}"),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "day,warnings,cut_offs,reconnections");
    let totals = &report["totals"];
    assert_eq!(
        lines.last().unwrap(),
        &format!("{from} to {to},{},{cut_offs},{back}", totals["warnings"])
    );
    let page = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/supply?from={from}&to={to}"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Block A · A-103 · electricity"),
        "{}",
        page.body
    );

    // Others of the site's staff read it too; nobody else does.
    app.add_staff("operator@demo.example", "operator").await;
    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    assert_eq!(
        app.call(&operator, "supply_report", &form).await.status,
        StatusCode::OK
    );
    for email in ["a101@demo.example", OTHER_ADMIN] {
        let who = app.sign_in(email, demo::PASSWORD).await;
        assert_eq!(
            app.call(&who, "supply_report", &form).await.status,
            StatusCode::FORBIDDEN,
            "{email}"
        );
        let download = app
            .get(&who, &format!("/manage/sites/{site}/supply.csv"))
            .await;
        assert_eq!(download.status, StatusCode::FORBIDDEN, "{email}");
    }
    let backwards = [
        ("site", site_text.as_str()),
        ("from", "2026-11-30"),
        ("to", "2026-11-01"),
    ];
    assert_eq!(
        app.call(&manager, "supply_report", &backwards).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// What a roll-up says `account` used through its meter in the hour starting at `local` on
/// the site's clock, written directly.
async fn used_in_hour(
    app: &support::TestApp,
    account: i64,
    tz: chrono_tz::Tz,
    local: chrono::NaiveDateTime,
    micro: i64,
) {
    let start = local
        .and_local_timezone(tz)
        .single()
        .unwrap()
        .with_timezone(&Utc);
    on_db!(&app.db, pool => {
        sqlx::query(
            "INSERT INTO usage_hourly (wallet_account_id, meter_id, hour_start, quantity_micro, cost_micro, readings) \
             SELECT account_id, meter_id, $2, $3, 0, 1 FROM wallets WHERE account_id = $1",
        )
        .bind(account)
        .bind(ReadingTime(start))
        .bind(micro)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .unwrap();
}

#[tokio::test]
async fn use_is_shared_across_the_time_of_use_bands_on_the_page_and_in_the_csv() {
    use chrono::{Datelike, Weekday};
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let zone: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT time_zone FROM sites WHERE id = $1")
            .bind(site.parse::<i64>().unwrap())
            .fetch_one(pool)
            .await
    })
    .unwrap();
    let tz: chrono_tz::Tz = zone.parse().unwrap();
    // A week to come, under the demo's tariffs: electricity's peak is 18:00 to 22:00 on
    // weekdays, its valley 23:00 to 06:00; water has no bands.
    let mut monday = Utc::now().with_timezone(&tz).date_naive() + Duration::days(1);
    while monday.weekday() != Weekday::Mon {
        monday += Duration::days(1);
    }
    let saturday = monday + Duration::days(5);
    let hour = |day: chrono::NaiveDate, h: u32| day.and_hms_opt(h, 0, 0).unwrap();
    let power = app.wallet("A-101", "electricity").await;
    let water = app.wallet("A-101", "water").await;
    let next_door = app.wallet("A-102", "electricity").await;
    for (account, at, micro) in [
        (power, hour(monday, 19), 2_000_000),
        (power, hour(monday, 23), 1_000_000),
        (power, hour(monday, 12), 3_000_000),
        (power, hour(saturday, 19), 4_000_000),
        (water, hour(monday, 19), 500_000),
        (next_door, hour(monday, 19), 600_000),
        // The evening before and the midnight after the week asked are not in it.
        (power, hour(monday - Duration::days(1), 23), 8_000_000),
        (power, hour(monday + Duration::days(7), 0), 9_000_000),
    ] {
        used_in_hour(&app, account, tz, at, micro).await;
    }
    let (from, to) = (monday.to_string(), (monday + Duration::days(6)).to_string());
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let answer = app
        .call(
            &manager,
            "bands_report",
            &[("site", &site), ("from", &from), ("to", &to)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report = answer.json();
    let lines = report["lines"].as_array().unwrap();
    // By building, unit and utility.
    let order: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["unit"].as_str().unwrap(), l["utility"].as_str().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            ("A-101", "electricity"),
            ("A-101", "water"),
            ("A-102", "electricity")
        ]
    );
    let by_band = |utility: &str| -> Vec<i64> {
        let line = lines
            .iter()
            .find(|l| l["utility"] == utility && l["unit"] == "A-101")
            .unwrap();
        line["by_band"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    // Peak, shoulder, flat, valley: a Saturday evening is no peak.
    assert_eq!(by_band("electricity"), [2_000_000, 0, 7_000_000, 1_000_000]);
    assert_eq!(by_band("water"), [0, 0, 500_000, 0]);

    let csv = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/bands.csv?from={from}&to={to}"),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let rows: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        rows[0],
        "building,unit,utility,peak,shoulder,flat,valley,total,peak_percent"
    );
    assert!(
        rows.contains(&"Block A,A-101,electricity,2,0,7,1,10,20"),
        "{rows:?}"
    );
    assert!(
        rows.contains(&",,electricity,2.6,0,7,1,10.6,25"),
        "{rows:?}"
    );
    let page = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/bands?from={from}&to={to}"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Most used at peak"), "{}", page.body);

    // The site's staff only.
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&resident, &other, &Visitor::default()] {
        let answer = app
            .call(
                who,
                "bands_report",
                &[("site", &site), ("from", &from), ("to", &to)],
            )
            .await;
        assert!(
            matches!(
                answer.status,
                StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
            ),
            "{}",
            answer.status
        );
        let csv = app
            .get(who, &format!("/manage/sites/{site}/bands.csv"))
            .await;
        assert_ne!(csv.status, StatusCode::OK);
    }
}
