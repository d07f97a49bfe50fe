//! The monthly statement over HTTP: month after month, each opens with the balance the one
//! before closed with, its lines take it to its closing balance, the last closes with what
//! the account holds, and each meter's use is what the roll-ups hold. For the account's
//! resident and the site's staff, nobody else.

use crate::support;

use app::domain::Minor;
use chrono::{Duration, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::Value;
use server::{
    demo,
    engine::rating::IncomingReading,
    ledger::{self, Posting, SiteAccount},
    on_db,
};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

const OWNER: &str = "a101@demo.example";

async fn statement(app: &TestApp, who: &Visitor, account: i64, month: &str) -> Value {
    let account = account.to_string();
    let answer = app
        .call(
            who,
            "month_statement",
            &[("account", &account), ("month", month)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{month}: {}", answer.body);
    answer.json()
}

fn first_day(statement: &Value) -> NaiveDate {
    statement["month"]["first"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn anchor(day: NaiveDate) -> String {
    day.format("%Y-%m").to_string()
}

/// The month before the one that starts on `first`.
fn month_before(first: NaiveDate) -> NaiveDate {
    first.checked_sub_months(chrono::Months::new(1)).unwrap()
}

#[tokio::test]
async fn months_chain_from_the_first_entry_to_the_balance() {
    let app = spawn_app().await;
    let wallet = app.wallet("A-101", "electricity").await;
    let (site, meter): (i64, i64) = on_db!(&app.db, pool => {
        sqlx::query_as("SELECT site_id, meter_id FROM wallets WHERE account_id = $1")
            .bind(wallet)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    // An hour of use now, so this month has a meter line.
    let start = Utc::now() + Duration::minutes(1);
    let readings = [(0, 50), (60, 57)]
        .into_iter()
        .map(|(minutes, register)| IncomingReading {
            meter,
            taken_at: start + Duration::minutes(minutes),
            register: register.into(),
        })
        .collect();
    app.engine.rate(readings).await.unwrap();

    let owner = app.sign_in(OWNER, demo::PASSWORD).await;
    let current = statement(&app, &owner, wallet, "").await;
    assert_eq!(current["to_date"], true);
    let this_month = first_day(&current);
    let two_ago = month_before(month_before(this_month));
    // A credit the landlord granted two months ago, posted through the ledger with that date
    // (the demo's accounts were opened today): the months between must carry it.
    let at = (two_ago + Duration::days(10))
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let mut tx = app.db.begin_write().await.unwrap();
    let landlord = ledger::site_account(&mut tx, site, SiteAccount::Landlord, at)
        .await
        .unwrap();
    let mut credit =
        Posting::new(site, "statement-test-credit", "adjustment").memo("Goodwill credit");
    credit.transfer(landlord, wallet, Minor(12_345));
    ledger::post(&mut tx, &credit, at).await.unwrap();
    tx.commit().await.unwrap();

    let mut opening_next = None;
    for month in [two_ago, month_before(this_month), this_month] {
        let statement = statement(&app, &owner, wallet, &anchor(month)).await;
        assert_eq!(first_day(&statement), month);
        let opening = statement["opening_minor"].as_i64().unwrap();
        let closing = statement["closing_minor"].as_i64().unwrap();
        let lines = statement["lines"].as_array().unwrap();
        let moved: i64 = lines
            .iter()
            .map(|line| line["amount_minor"].as_i64().unwrap())
            .sum();
        assert_eq!(
            opening + moved,
            closing,
            "{month}: the lines close the month"
        );
        match opening_next {
            None => assert_eq!(opening, 0, "nothing before the back-dated credit"),
            Some(previous) => assert_eq!(opening, previous, "{month} opens where the last closed"),
        }
        opening_next = Some(closing);
        if month == two_ago {
            assert_eq!(lines.len(), 1, "{lines:?}");
            assert_eq!(lines[0]["description"], "Goodwill credit");
            assert_eq!(closing, 12_345);
            assert!(statement["meters"].as_array().unwrap().is_empty());
        }
    }
    let balance = app
        .count(&format!(
            "SELECT balance_minor FROM accounts WHERE id = {wallet}"
        ))
        .await;
    assert_eq!(
        opening_next,
        Some(balance),
        "this month closes with the balance"
    );

    // This month's meter line: what the roll-ups hold for the account over its days.
    let current = statement(&app, &owner, wallet, "").await;
    let last_day = this_month
        .checked_add_months(chrono::Months::new(1))
        .unwrap()
        - Duration::days(1);
    let used = app
        .count(&format!(
            "SELECT CAST(COALESCE(SUM(quantity_micro), 0) AS BIGINT) FROM usage_daily \
             WHERE wallet_account_id = {wallet} AND meter_id = {meter} \
             AND day >= '{this_month}' AND day <= '{last_day}'"
        ))
        .await;
    assert!(used >= 7_000_000, "the hour's 7 kWh at least: {used}");
    let meters = current["meters"].as_array().unwrap();
    assert_eq!(meters.len(), 1, "{meters:?}");
    assert_eq!(meters[0]["quantity_micro"], used);
    assert!(meters[0]["cost_minor"].as_i64().unwrap() > 0);

    // The printable page, in the resident's language.
    let page = app
        .get(
            &owner,
            &format!("/accounts/{wallet}/statement?month={}", anchor(two_ago)),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Statement for"), "{}", page.body);
    assert!(page.body.contains("Goodwill credit"));
    assert!(page.body.contains("123.45"));
}

#[tokio::test]
async fn only_the_resident_and_the_site_s_staff_read_a_statement() {
    let app = spawn_app().await;
    let wallet = app.wallet("A-101", "electricity").await;
    let account = wallet.to_string();
    let ask = |who: Visitor, month: &'static str| {
        let (app, account) = (&app, account.clone());
        async move {
            app.call(
                &who,
                "month_statement",
                &[("account", &account), ("month", month)],
            )
            .await
            .status
        }
    };
    let owner = app.sign_in(OWNER, demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let neighbour = app.sign_in("a102@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    assert_eq!(ask(owner.clone(), "").await, StatusCode::OK);
    assert_eq!(ask(manager.clone(), "").await, StatusCode::OK);
    assert_eq!(ask(neighbour, "").await, StatusCode::FORBIDDEN);
    assert_eq!(ask(other, "").await, StatusCode::FORBIDDEN);
    assert_eq!(ask(Visitor::default(), "").await, StatusCode::UNAUTHORIZED);
    // Months that are not months, or have not begun, are refused with a reason.
    let next_year = (Utc::now() + Duration::days(400))
        .format("%Y-%m")
        .to_string();
    let next_year: &'static str = Box::leak(next_year.into_boxed_str());
    for bad in ["2026-13", "november", next_year] {
        assert_eq!(
            ask(manager.clone(), bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_building_s_statements_print_at_once_for_the_site_s_staff() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let batch = |who: Visitor, month: &'static str, building: &'static str| {
        let (app, site) = (&app, site.clone());
        async move {
            app.call(
                &who,
                "statement_batch",
                &[("site", &site), ("month", month), ("building", building)],
            )
            .await
        }
    };
    let answer = batch(manager.clone(), "", "Block B").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let found = answer.json();
    assert_eq!(
        found["buildings"],
        serde_json::json!(["Block A", "Block B"])
    );
    let statements = found["statements"].as_array().unwrap();
    // The demo opened every account this month: each of Block B's, closed since or not.
    let in_block_b = format!(
        "FROM wallets w JOIN units u ON u.id = w.unit_id JOIN buildings b ON b.id = u.building_id \
         JOIN accounts a ON a.id = w.account_id WHERE w.site_id = {site} AND b.name = 'Block B'"
    );
    let expected = app.count(&format!("SELECT COUNT(*) {in_block_b}")).await;
    assert!(expected > 0);
    assert_eq!(statements.len() as i64, expected);
    let mut closing = 0;
    for statement in statements {
        assert_eq!(statement["account"]["building"], "Block B");
        let moved: i64 = statement["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line["amount_minor"].as_i64().unwrap())
            .sum();
        let (open, close) = (
            statement["opening_minor"].as_i64().unwrap(),
            statement["closing_minor"].as_i64().unwrap(),
        );
        assert_eq!(open + moved, close);
        closing += close;
    }
    let balances = app
        .count(&format!(
            "SELECT CAST(COALESCE(SUM(a.balance_minor), 0) AS BIGINT) {in_block_b}"
        ))
        .await;
    assert_eq!(closing, balances, "this month closes with every balance");

    let every = batch(manager.clone(), "", "").await.json();
    let all = app
        .count(&format!(
            "SELECT COUNT(*) FROM wallets w WHERE w.site_id = {site} AND w.unit_id IS NOT NULL"
        ))
        .await;
    assert_eq!(
        every["statements"].as_array().unwrap().len() as i64,
        all.min(200)
    );
    assert_eq!(every["left_out"].as_i64().unwrap(), (all - 200).max(0));

    for (month, building) in [("2026-13", ""), ("", "Block Z")] {
        let answer = batch(manager.clone(), month, building).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.body
        );
    }
    let resident = app.sign_in(OWNER, demo::PASSWORD).await;
    assert_eq!(batch(resident, "", "").await.status, StatusCode::FORBIDDEN);
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    assert_eq!(batch(other, "", "").await.status, StatusCode::FORBIDDEN);
}
