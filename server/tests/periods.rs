//! Closed accounting periods over HTTP: a site's managers and admins close its books through a
//! day that has ended, once; afterwards nothing is posted at a time inside the period and no
//! receipt taken in it is voided, while the open period goes on as before.

use crate::support;

use app::domain::Minor;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use server::{
    demo,
    ledger::{self, LedgerError, Posting, SiteAccount},
    on_db,
};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

const CASHIER: &str = "cashier@demo.example";

async fn close(app: &TestApp, who: &Visitor, site: &str, through: &str) -> support::Answer {
    app.call(who, "close_period", &[("site", site), ("through", through)])
        .await
}

/// A landlord-to-landlord posting of one minor unit at `at`, as any movement would be posted.
async fn post_at(
    app: &TestApp,
    site: i64,
    key: &str,
    at: chrono::DateTime<Utc>,
) -> Result<(), LedgerError> {
    let mut tx = app.db.begin_write().await.unwrap();
    let landlord = ledger::site_account(&mut tx, site, SiteAccount::Adjustments, at)
        .await
        .unwrap();
    let cash = ledger::site_account(&mut tx, site, SiteAccount::Cash, at)
        .await
        .unwrap();
    let mut posting = Posting::new(site, key, "adjustment");
    posting.transfer(landlord, cash, Minor(1));
    let posted = ledger::post(&mut tx, &posting, at).await.map(|_| ());
    if posted.is_ok() {
        tx.commit().await.unwrap();
    }
    posted
}

#[tokio::test]
async fn a_closed_period_takes_no_postings_and_no_voids() {
    let app = spawn_app().await;
    app.add_staff(CASHIER, "cashier").await;
    let site_id = app.site_id(demo::SITE).await;
    let site = site_id.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let cashier = app.sign_in(CASHIER, demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;

    let periods = app.call(&manager, "periods", &[("site", &site)]).await;
    assert_eq!(periods.status, StatusCode::OK, "{}", periods.body);
    let periods = periods.json();
    assert_eq!(periods["closes"], serde_json::json!([]));
    assert_eq!(periods["may_close"], true);
    let today =
        chrono::NaiveDate::parse_from_str(periods["today"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let yesterday = today.pred_opt().unwrap();
    assert_eq!(
        app.call(&cashier, "periods", &[("site", &site)])
            .await
            .json()["may_close"],
        false
    );

    // A cash receipt taken today, before anything is closed.
    let account = app.wallet("A-104", "electricity").await.to_string();
    let taken = app
        .call(
            &cashier,
            "cash_top_up",
            &[
                ("account", &account),
                ("amount", "150"),
                ("nonce", "period-cash-1"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
    let receipt: i64 = app
        .count("SELECT number FROM receipts ORDER BY transaction_id DESC LIMIT 1")
        .await;
    let a_day_ago = Utc::now() - Duration::hours(36);

    // Who may close, and which days.
    for (who, expected) in [
        (&cashier, StatusCode::FORBIDDEN),
        (&resident, StatusCode::FORBIDDEN),
        (&other, StatusCode::FORBIDDEN),
        (&Visitor::default(), StatusCode::UNAUTHORIZED),
    ] {
        let answer = close(&app, who, &site, &yesterday.to_string()).await;
        assert_eq!(answer.status, expected, "{}", answer.body);
    }
    let answer = close(&app, &manager, &site, &today.to_string()).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains("days that have ended"),
        "{}",
        answer.body
    );
    let answer = close(&app, &manager, &site, "yesterday").await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM period_closes").await, 0);

    let answer = close(&app, &manager, &site, &yesterday.to_string()).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json(), true);
    // Sent twice: closed once. An earlier day: never reopened.
    assert_eq!(
        close(&app, &manager, &site, &yesterday.to_string())
            .await
            .json(),
        false
    );
    let earlier = close(
        &app,
        &manager,
        &site,
        &yesterday.pred_opt().unwrap().to_string(),
    )
    .await;
    assert_eq!(
        earlier.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        earlier.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM period_closes").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'period_closed'")
            .await,
        1
    );
    let periods = app
        .call(&manager, "periods", &[("site", &site)])
        .await
        .json();
    assert_eq!(periods["closes"][0]["through"], yesterday.to_string());
    assert_eq!(periods["closes"][0]["closed_by"], "Moses Manager");
    let counted = periods["closes"][0]["transactions"].as_i64().unwrap();
    let inside = app
        .count(
            "SELECT COUNT(*) FROM ledger_transactions t JOIN period_closes c ON c.site_id = t.site_id \
             WHERE t.posted_at < c.closes_at",
        )
        .await;
    assert_eq!(counted, inside);

    // The clock cannot be moved on a day here, so the close is moved to just after the
    // receipt, as if it had been taken on the closed day: it cannot be voided now, and
    // nothing is posted inside the period.
    let taken_at: chrono::DateTime<Utc> = on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT t.posted_at FROM ledger_transactions t JOIN receipts r ON r.transaction_id = t.id \
             WHERE r.number = $1 AND r.site_id = $2",
        )
        .bind(receipt)
        .bind(site_id)
        .fetch_one(pool)
        .await
    })
    .unwrap();
    on_db!(&app.db, pool => {
        sqlx::query("UPDATE period_closes SET closes_at = $1")
            .bind(taken_at + Duration::milliseconds(1))
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let voided = app
        .call(
            &cashier,
            "void_receipt",
            &[
                ("site", &site),
                ("receipt", &receipt.to_string()),
                ("reason", "wrong flat"),
            ],
        )
        .await;
    assert_eq!(
        voided.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        voided.body
    );
    assert!(voided.body.contains("books are closed"), "{}", voided.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM receipt_voids").await, 0);
    let refused = post_at(&app, site_id, "period-test-inside", a_day_ago).await;
    assert!(
        matches!(refused, Err(LedgerError::PeriodClosed { .. })),
        "{refused:?}"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM ledger_transactions WHERE idempotency_key = 'period-test-inside'"
        )
        .await,
        0
    );

    // The open period goes on: cash taken today, posted now.
    post_at(&app, site_id, "period-test-after", Utc::now())
        .await
        .unwrap();
    let taken = app
        .call(
            &cashier,
            "cash_top_up",
            &[
                ("account", &account),
                ("amount", "150"),
                ("nonce", "period-cash-2"),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
    let page = app
        .get(&manager, &format!("/manage/sites/{site}/periods"))
        .await;
    assert!(
        page.body
            .contains(&format!("The books are closed through {yesterday}.")),
        "the page says so"
    );
}
