//! Move-outs from the console over HTTP: a manager lists a site's residents, previews a
//! batch's settlement (nothing changes), moves the batch out (accounts closed, refunds
//! payable, debts recorded, the ledger balanced) and sending it again moves nobody twice.
//! Against the real server on loopback, with the demo data.

use crate::support;

use app::domain::Minor;
use reqwest::StatusCode;
use serde_json::Value;
use server::{demo, on_db};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

/// The occupancy of the resident of `unit`, from the console's own list.
fn occupancy_in(list: &Value, unit: &str) -> i64 {
    list["occupants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["unit"] == unit)
        .unwrap_or_else(|| panic!("nobody lives in {unit}: {list}"))["id"]
        .as_i64()
        .unwrap()
}

/// Money in minor units from the console's text ("12.50" in a 2-place currency).
fn minor(text: &Value) -> i64 {
    let text = text.as_str().unwrap();
    let (whole, cents) = text.split_once('.').unwrap_or((text, "00"));
    whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

async fn batch(app: &TestApp, who: &Visitor, function: &str, site: &str, ids: &str) -> Value {
    let answer = app
        .call(who, function, &[("site", site), ("occupancies", ids)])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{function}: {}", answer.body);
    answer.json()
}

/// What a move-out changes, in one tuple: ledger transactions, open occupancies, open
/// wallets, payouts owed, and the sum of every ledger entry (always zero).
async fn record(app: &TestApp) -> (i64, i64, i64, i64, i64) {
    (
        app.count("SELECT COUNT(*) FROM ledger_transactions").await,
        app.count("SELECT COUNT(*) FROM occupancies WHERE ends_at IS NULL")
            .await,
        app.count("SELECT COUNT(*) FROM wallets WHERE closed_at IS NULL")
            .await,
        app.count("SELECT COALESCE(SUM(amount_minor), 0) FROM payouts")
            .await,
        app.count("SELECT COALESCE(SUM(amount_minor), 0) FROM ledger_entries")
            .await,
    )
}

#[tokio::test]
async fn a_batch_is_previewed_then_settled_once() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let listed = app
        .call(&manager, "site_occupants", &[("site", &site)])
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let list = listed.json();
    let everyone = list["occupants"].as_array().unwrap().len();
    assert!(everyone >= 2, "{list}");
    let (a101, a102) = (occupancy_in(&list, "A-101"), occupancy_in(&list, "A-102"));
    // A-101 leaves with money to get back, A-102 owing some: their balances are set by
    // adjustments, as a manager would.
    let accounts: Vec<(i64, i64)> = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT a.id, a.balance_minor FROM wallets w JOIN accounts a ON a.id = w.account_id \
             WHERE w.occupancy_id IN ($1, $2)",
        )
        .bind(a101)
        .bind(a102)
        .fetch_all(pool)
        .await
    })
    .unwrap();
    assert_eq!(accounts.len(), 6);
    let refund_account = app.wallet("A-101", "electricity").await;
    let debt_account = app.wallet("A-102", "water").await;
    for (n, (account, balance)) in accounts.into_iter().enumerate() {
        let target = match account {
            a if a == refund_account => 2550,
            a if a == debt_account => -725,
            _ => 0,
        };
        let change = target - balance;
        if change == 0 {
            continue;
        }
        // Set up straight through the engine: adjustments from the console wait for a
        // second person, which is not what this test is about.
        app.engine
            .adjust(
                account,
                Minor(change),
                "test",
                &format!("movingout-{n}"),
                None,
            )
            .await
            .unwrap();
    }
    let ids = format!("{a101},{a102}");

    let before = record(&app).await;
    assert_eq!(before.4, 0, "the ledger balances");
    let preview = batch(&app, &manager, "preview_move_outs", &site, &ids).await;
    assert_eq!(record(&app).await, before, "a preview changes nothing");
    assert_eq!(preview["done"], false);
    assert_eq!(minor(&preview["refund_total"]), 2550, "{preview}");
    assert_eq!(minor(&preview["debt_total"]), 725, "{preview}");
    let lines = preview["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["problem"].is_null()), "{preview}");
    assert!(lines[0]["who"].as_str().unwrap().contains("A-101"));

    let done = batch(&app, &manager, "move_out_residents", &site, &ids).await;
    assert_eq!(done["done"], true);
    assert_eq!(done["refund_total"], preview["refund_total"]);
    assert_eq!(done["debt_total"], preview["debt_total"]);
    let after = record(&app).await;
    assert_eq!(after.1, before.1 - 2, "two occupancies end");
    assert_eq!(after.2, before.2 - 6, "their six wallets close");
    assert_eq!(after.3 - before.3, 2550, "the refund is a payout owed");
    assert_eq!(after.4, 0, "the ledger still balances");
    let debt = app
        .count(
            "SELECT -COALESCE(SUM(a.balance_minor), 0) FROM accounts a JOIN users u ON u.id = a.user_id \
             WHERE u.email = 'a102@demo.example' AND a.kind = 'debt'",
        )
        .await;
    assert_eq!(debt, 725, "A-102's debt is recorded against them");
    let listed = app
        .call(&manager, "site_occupants", &[("site", &site)])
        .await
        .json();
    assert_eq!(listed["occupants"].as_array().unwrap().len(), everyone - 2);
    assert!(app.audit_actions().await.contains(&"move_out".to_owned()));

    // Sent again (a double click, a reload): nobody moves twice and nothing changes.
    let again = batch(&app, &manager, "move_out_residents", &site, &ids).await;
    assert_eq!(record(&app).await, after);
    for line in again["lines"].as_array().unwrap() {
        assert_eq!(line["problem"], "Moved out already.", "{again}");
    }
    assert_eq!(minor(&again["refund_total"]), 0);
}

#[tokio::test]
async fn whoever_settled_a_move_out_does_not_also_pay_its_refund() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let list = app
        .call(&manager, "site_occupants", &[("site", &site)])
        .await
        .json();
    let occupancy = occupancy_in(&list, "A-103");
    let account = app.wallet("A-103", "electricity").await;
    app.engine
        .adjust(account, Minor(4_000), "test", "payout-four-eyes", None)
        .await
        .unwrap();
    batch(
        &app,
        &manager,
        "move_out_residents",
        &site,
        &occupancy.to_string(),
    )
    .await;
    let id: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT id FROM payouts WHERE occupancy_id = $1")
            .bind(occupancy)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    let payout = id.to_string();
    let by_hand = [
        ("payout", payout.as_str()),
        ("method", "by_hand"),
        ("reference", "CHQ-77"),
    ];
    let status = "SELECT COUNT(*) FROM payouts WHERE status = 'paid'";
    let paid_before = app.count(status).await;

    // The manager who settled it sees so, and is refused; nothing leaves.
    let page = app
        .call(&manager, "site_payments", &[("site", &site), ("query", "")])
        .await
        .json();
    let shown = page["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(shown["mine"], true, "{shown}");
    assert_eq!(shown["settled_by"], "Moses Manager");
    let refused = app.call(&manager, "pay_out", &by_hand).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("another"), "{}", refused.body);
    assert_eq!(app.count(status).await, paid_before);

    // A second person pays it.
    let paid = app.call(&admin, "pay_out", &by_hand).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(app.count(status).await, paid_before + 1);
}

#[tokio::test]
async fn only_the_site_s_managers_move_its_residents_and_only_its_own() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let list = app
        .call(&manager, "site_occupants", &[("site", &site)])
        .await
        .json();
    let a101 = occupancy_in(&list, "A-101").to_string();

    // Residents, the other organisation's admin, nobody: refused, with nothing changed.
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for who in [&resident, &other, &Visitor::default()] {
        for function in ["site_occupants", "preview_move_outs", "move_out_residents"] {
            let answer = app
                .call(who, function, &[("site", &site), ("occupancies", &a101)])
                .await;
            assert!(
                matches!(
                    answer.status,
                    StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
                ),
                "{function}: {} {}",
                answer.status,
                answer.body
            );
        }
    }

    // The other organisation's residents are not this site's, even named by their own
    // manager's site: a line with the reason, and no name.
    let other_site = app.site_id(support::OTHER_SITE).await.to_string();
    let shop = app.unit_id("Shop 1").await;
    on_db!(&app.db, pool => {
        sqlx::query(
            "INSERT INTO occupancies (unit_id, user_id, starts_at) \
             SELECT $1, id, $2 FROM users WHERE email = $3",
        )
        .bind(shop).bind(chrono::Utc::now()).bind(OTHER_ADMIN).execute(pool).await.map(|_| ())
    })
    .unwrap();
    let foreign = app
        .call(&other, "site_occupants", &[("site", &other_site)])
        .await
        .json();
    let foreign_id = foreign["occupants"][0]["id"].as_i64().unwrap().to_string();
    let before = record(&app).await;
    let refused = batch(&app, &manager, "move_out_residents", &site, &foreign_id).await;
    assert_eq!(
        refused["lines"][0]["problem"],
        "Not a resident of this site."
    );
    assert_eq!(refused["lines"][0]["who"], "");
    let across = app
        .call(
            &manager,
            "move_out_residents",
            &[("site", &other_site), ("occupancies", &foreign_id)],
        )
        .await;
    assert_eq!(across.status, StatusCode::FORBIDDEN);

    // A list that names nobody is a clear error.
    for ids in ["", "x", "3;4"] {
        let answer = app
            .call(
                &manager,
                "preview_move_outs",
                &[("site", &site), ("occupancies", ids)],
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{ids:?}: {}",
            answer.body
        );
    }
    assert_eq!(record(&app).await, before);
}
