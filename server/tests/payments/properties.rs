//! Storms of provider news against the real settlement code and a real SQLite file: repeated,
//! reordered, contradictory and wrong reports. Whatever arrives, no payment is credited twice,
//! nothing is credited that was not asked, no more goes back than came in, and the wallet
//! holds exactly what was accepted minus what went back.

use app::domain::{Minor, payments::ProviderKind, payments::Reported};
use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use server::{
    Platform, demo, on_db,
    payments::{
        Payer, Payments,
        provider::{Notice, Subject},
    },
};

#[derive(Clone, Debug)]
enum News {
    Paid { right: bool },
    Failed,
    Refunded { id: u8, amount: i64 },
    ChargedBack { id: u8, amount: i64 },
}

fn any_news() -> impl Strategy<Value = (usize, u8, News)> {
    let news = prop_oneof![
        4 => any::<bool>().prop_map(|right| News::Paid { right }),
        2 => Just(News::Failed),
        2 => (0u8..3, 1i64..40_000).prop_map(|(id, amount)| News::Refunded { id, amount }),
        1 => (0u8..2, 1i64..40_000).prop_map(|(id, amount)| News::ChargedBack { id, amount }),
    ];
    // Which payment, which delivery of the event (a repeat reuses the key), what it says.
    (0usize..3, 0u8..3, news)
}

struct Storm {
    payments: Payments,
    db: server::db::Db,
    site: i64,
    wallet: i64,
}

async fn storm_site(database: Option<String>) -> (Storm, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::support::test_config(dir.path());
    if let Some(url) = database {
        config.database_url = Some(server::config::Secret::new(url));
    }
    let platform = Platform::open(config).await.unwrap();
    demo::seed(&platform.db).await.unwrap();
    demo::seed_engine(&platform.engine).await.unwrap();
    demo::seed_payments(&platform.payments).await.unwrap();
    let site: i64 = on_db!(&platform.db, pool => {
        sqlx::query_scalar("SELECT id FROM sites WHERE name = $1").bind(demo::SITE).fetch_one(pool).await
    })
    .unwrap();
    let wallet: i64 = on_db!(&platform.db, pool => {
        sqlx::query_scalar("SELECT account_id FROM wallets WHERE site_id = $1 AND meter_id IS NOT NULL ORDER BY account_id LIMIT 1")
            .bind(site).fetch_one(pool).await
    })
    .unwrap();
    (
        Storm {
            payments: platform.payments.clone(),
            db: platform.db.clone(),
            site,
            wallet,
        },
        dir,
    )
}

async fn balance(db: &server::db::Db, account: i64) -> i64 {
    on_db!(db, pool => {
        sqlx::query_scalar("SELECT balance_minor FROM accounts WHERE id = $1").bind(account).fetch_one(pool).await
    })
    .unwrap()
}

impl Storm {
    async fn run(&self, amounts: &[i64], news: &[(usize, u8, News)]) -> Result<(), TestCaseError> {
        let before = balance(&self.db, self.wallet).await;
        let mut started = Vec::new();
        for amount in amounts {
            let payment = self
                .payments
                .start(
                    self.wallet,
                    Minor(*amount),
                    ProviderKind::Sandbox,
                    Payer {
                        origin: "http://storm".into(),
                        ..Payer::default()
                    },
                )
                .await
                .unwrap();
            started.push(payment.public_id);
        }
        for (which, delivery, what) in news {
            let id = &started[*which];
            let asked = Minor(amounts[*which]);
            let (key, report, reversal) = match what {
                News::Paid { right } => (
                    format!("{id}:paid:{right}:{delivery}"),
                    Reported::Paid {
                        amount: if *right { asked } else { asked + Minor(1) },
                        currency: "KES".into(),
                    },
                    None,
                ),
                News::Failed => (
                    format!("{id}:failed:{delivery}"),
                    Reported::Failed {
                        reason: "no".into(),
                    },
                    None,
                ),
                News::Refunded { id: refund, amount } => (
                    format!("reversal:{id}:r{refund}"),
                    Reported::Refunded {
                        amount: Minor(*amount),
                    },
                    Some(format!("{id}:r{refund}")),
                ),
                News::ChargedBack {
                    id: dispute,
                    amount,
                } => (
                    format!("reversal:{id}:d{dispute}"),
                    Reported::ChargedBack {
                        amount: Minor(*amount),
                    },
                    Some(format!("{id}:d{dispute}")),
                ),
            };
            let notice = Notice {
                event_key: key,
                subject: Subject::Checkout(format!("sbx_{id}")),
                report,
                paid_reference: None,
                reversal,
            };
            self.payments
                .settle(self.site, ProviderKind::Sandbox, &notice, None)
                .await
                .unwrap();
        }
        let mut expected = before;
        for (index, id) in started.iter().enumerate() {
            let (credits, reversed, status): (i64, Option<i64>, String) = on_db!(&self.db, pool => {
                sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM ledger_transactions t WHERE t.idempotency_key = 'payment:sandbox:' || p.provider_reference), \
                     (SELECT CAST(SUM(r.amount_minor) AS BIGINT) FROM payment_refunds r WHERE r.payment_id = p.id), p.status \
                     FROM payments p WHERE p.public_id = $1",
                )
                .bind(id)
                .fetch_one(pool)
                .await
            })
            .unwrap();
            let reversed = reversed.unwrap_or(0);
            prop_assert!(credits <= 1, "{id} credited {credits} times");
            prop_assert!(
                reversed <= credits * amounts[index],
                "{id}: {reversed} back of {}",
                credits * amounts[index]
            );
            prop_assert_eq!(
                credits == 1,
                matches!(status.as_str(), "paid" | "refunded" | "charged_back"),
                "{} is {}",
                id,
                status
            );
            expected += credits * amounts[index] - reversed;
        }
        prop_assert_eq!(balance(&self.db, self.wallet).await, expected);
        Ok(())
    }
}

#[test]
fn storms_of_provider_news_never_double_lose_or_invent_money() {
    let cases = std::env::var("PREPAID_STORM_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    storm(None, cases);
}

/// The same storm, shorter, on PostgreSQL (its own fresh database).
#[test]
fn storms_settle_the_same_on_postgresql() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(url) = runtime.block_on(crate::support::fresh_postgres("storm")) else {
        return;
    };
    drop(runtime);
    storm(Some(url), 150);
}

fn storm(database: Option<String>, cases: u32) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (storm, _dir) = runtime.block_on(storm_site(database));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        prop::collection::vec(1_000i64..50_000, 3),
        prop::collection::vec(any_news(), 1..14),
    );
    runner
        .run(&strategy, |(amounts, news)| {
            runtime.block_on(storm.run(&amounts, &news))
        })
        .unwrap();
    let (checked, differences) = runtime
        .block_on(server::ledger::reconcile(&storm.db))
        .unwrap();
    assert!(checked > 0);
    assert!(differences.is_empty(), "{differences:?}");
}
