//! Property tests on the real engine and a real SQLite file: whatever order readings and
//! credits arrive in, however often, in whatever batches, the balances come out the same and
//! the ledger balances; and the state rating holds between batches changes nothing.

use super::fixture::{Fixture, at};
use app::domain::Minor;
use proptest::prelude::*;
use rust_decimal::Decimal;
use server::{
    engine::{Engine, EngineError, money::Source, rating::IncomingReading, setup::BillingMode},
    on_db, on_tx,
};

#[derive(Clone, Debug)]
enum Event {
    Reading(IncomingReading),
    Credit {
        wallet: usize,
        minor: i64,
        reference: String,
    },
}

/// Readings for two meters (strictly increasing registers every 15 minutes) and a few
/// top-ups, as they happened.
/// Readings as (meter, gap in quarter hours, hundredths used) and credits as (wallet, minor).
type History = (Vec<(usize, i64, u32)>, Vec<(usize, i64)>);

fn history() -> impl Strategy<Value = History> {
    (
        proptest::collection::vec((0_usize..2, 1_i64..40, 0_u32..500), 2..25),
        proptest::collection::vec((0_usize..2, 100_i64..50_000), 0..4),
    )
}

/// A delivery: the events in some order, some twice, cut into batches of some sizes.
fn delivery(count: usize) -> impl Strategy<Value = (Vec<usize>, Vec<usize>, usize)> {
    (
        Just((0..count).collect::<Vec<_>>()).prop_shuffle(),
        proptest::collection::vec(0..count.max(1), 0..6),
        1_usize..8,
    )
}

async fn apply(f: &Fixture, wallets: &[i64], events: &[Event], batch: usize) {
    let mut readings = Vec::new();
    for event in events {
        match event {
            Event::Reading(reading) => readings.push(reading.clone()),
            Event::Credit {
                wallet,
                minor,
                reference,
            } => {
                let source = Source::Provider {
                    provider: "prop".into(),
                    reference: reference.clone(),
                };
                f.engine
                    .top_up(wallets[*wallet], Minor(*minor), source, None)
                    .await
                    .unwrap();
            }
        }
        if readings.len() >= batch {
            f.engine.rate(std::mem::take(&mut readings)).await.unwrap();
        }
    }
    f.engine.rate(readings).await.unwrap();
}

fn events(meters: &[i64], history: &History) -> Vec<Event> {
    let start = at("2026-06-01T00:00:00Z");
    let mut registers = [Decimal::ZERO; 2];
    let mut minutes = [0_i64; 2];
    let mut out = Vec::new();
    for &(meter, gap, used) in &history.0 {
        minutes[meter] += gap * 15;
        registers[meter] += Decimal::new(i64::from(used), 2);
        out.push(Event::Reading(IncomingReading {
            meter: meters[meter],
            taken_at: start + chrono::Duration::minutes(minutes[meter]),
            register: registers[meter],
        }));
    }
    for (i, &(wallet, minor)) in history.1.iter().enumerate() {
        out.push(Event::Credit {
            wallet,
            minor,
            reference: format!("ref-{i}"),
        });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn replaying_readings_and_credits_in_any_order_gives_the_same_balances(
        (history, (order, repeats, batch)) in history().prop_flat_map(|h| {
            let count = h.0.len() + h.1.len();
            (Just(h), delivery(count))
        })
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let reference = Fixture::new(2, 0, BillingMode::PerMeter).await;
            let replayed = Fixture::new(2, 0, BillingMode::PerMeter).await;
            let meters = [reference.units[0].electricity, reference.units[1].water];
            let wallets = [reference.wallet_of(meters[0]).await, reference.wallet_of(meters[1]).await];
            let in_order = events(&meters, &history);
            apply(&reference, &wallets, &in_order, usize::MAX).await;

            let mut shuffled: Vec<Event> = order.iter().map(|&i| in_order[i].clone()).collect();
            shuffled.extend(repeats.iter().filter_map(|&i| in_order.get(i).cloned()));
            apply(&replayed, &wallets, &shuffled, batch).await;
            // And the whole delivery once more: nothing may change.
            apply(&replayed, &wallets, &shuffled, batch).await;

            let expected = reference.balances().await;
            prop_assert_eq!(replayed.balances().await, expected);
            reference.assert_reconciles().await;
            replayed.assert_reconciles().await;
            Ok(())
        })?;
    }
}

/// Between batches of readings: a top-up through the engine, or a wallet marked vulnerable
/// (or not) by a write on a reader's connection, as another process would write, or by the
/// batch's own caller in the batch's transaction, after its readings (`Engine::rate_then`).
#[derive(Clone, Debug)]
enum Between {
    Credit { wallet: usize, minor: i64 },
    Vulnerable { wallet: usize, vulnerable: bool },
    VulnerableInBatch { wallet: usize, vulnerable: bool },
}

fn between() -> impl Strategy<Value = Between> {
    prop_oneof![
        (0_usize..2, 100_i64..50_000).prop_map(|(wallet, minor)| Between::Credit { wallet, minor }),
        (0_usize..2, any::<bool>())
            .prop_map(|(wallet, vulnerable)| Between::Vulnerable { wallet, vulnerable }),
        (0_usize..2, any::<bool>())
            .prop_map(|(wallet, vulnerable)| Between::VulnerableInBatch { wallet, vulnerable }),
    ]
}

/// Rates `history`'s readings in batches of `sizes` (cycled), with `steps` between them:
/// through `f`'s engine, which holds state from one batch to the next, or, when `fresh`,
/// through a new engine for every batch, which holds nothing.
async fn deliver(
    f: &Fixture,
    wallets: &[i64],
    history: &History,
    sizes: &[usize],
    steps: &[Between],
    fresh: bool,
) {
    let meters = [f.units[0].electricity, f.units[0].water];
    let readings: Vec<IncomingReading> = events(&meters, &(history.0.clone(), Vec::new()))
        .into_iter()
        .filter_map(|event| match event {
            Event::Reading(reading) => Some(reading),
            Event::Credit { .. } => None,
        })
        .collect();
    let mut rest = readings.as_slice();
    let mut steps = steps.iter();
    for (n, size) in sizes.iter().cycle().enumerate() {
        if rest.is_empty() {
            break;
        }
        let (batch, after) = rest.split_at((*size).min(rest.len()));
        rest = after;
        let engine = match fresh {
            true => Engine::new(f.db.clone()),
            false => f.engine.clone(),
        };
        let step = steps.next();
        let in_batch = match step {
            Some(Between::VulnerableInBatch { wallet, vulnerable }) => {
                Some((wallets[*wallet], *vulnerable))
            }
            _ => None,
        };
        engine
            .rate_then(batch.to_vec(), async |tx| {
                let Some((wallet, vulnerable)) = in_batch else {
                    return Ok::<_, EngineError>(());
                };
                on_tx!(tx, conn => {
                    sqlx::query("UPDATE wallets SET vulnerable = $1 WHERE account_id = $2")
                        .bind(vulnerable)
                        .bind(wallet)
                        .execute(&mut *conn)
                        .await
                        .map(|_| ())
                })?;
                Ok(())
            })
            .await
            .unwrap();
        match step {
            Some(Between::Credit { wallet, minor }) => {
                let source = Source::Provider {
                    provider: "prop".into(),
                    reference: format!("between-{n}"),
                };
                engine
                    .top_up(wallets[*wallet], Minor(*minor), source, None)
                    .await
                    .unwrap();
            }
            Some(Between::Vulnerable { wallet, vulnerable }) => {
                on_db!(&f.db, pool => {
                    sqlx::query("UPDATE wallets SET vulnerable = $1 WHERE account_id = $2")
                        .bind(*vulnerable)
                        .bind(wallets[*wallet])
                        .execute(pool)
                        .await
                        .map(|_| ())
                })
                .unwrap();
            }
            Some(Between::VulnerableInBatch { .. }) | None => {}
        }
    }
}

/// Everything rating reads or writes, as text to compare.
async fn rating_state(f: &Fixture) -> String {
    let wallets: Vec<(i64, String, i32, String, String, String)> = on_db!(&f.db, pool => {
        sqlx::query_as(
            "SELECT account_id, supply_state, warned, carry_net, carry_tax, daily_spend FROM wallets ORDER BY account_id",
        )
        .fetch_all(pool)
        .await
    })
    .unwrap();
    let meters: Vec<(i64, Option<String>, Option<String>)> = on_db!(&f.db, pool => {
        sqlx::query_as("SELECT meter_id, last_register, cycle_used FROM meter_states ORDER BY meter_id")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    let readings: Vec<(i64, String, Option<String>, Option<i64>)> = on_db!(&f.db, pool => {
        sqlx::query_as("SELECT meter_id, status, net, wallet_account_id FROM readings ORDER BY meter_id, taken_at")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    let commands: Vec<(i64, String)> = on_db!(&f.db, pool => {
        sqlx::query_as("SELECT meter_id, command FROM meter_commands ORDER BY seq")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    let notices: Vec<(i64, String)> = on_db!(&f.db, pool => {
        sqlx::query_as("SELECT wallet_account_id, kind FROM notifications ORDER BY id")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    format!(
        "balances {:?}\nwallets {wallets:?}\nmeters {meters:?}\nreadings {readings:?}\ncommands {commands:?}\nnotices {notices:?}",
        f.balances().await
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn state_held_between_batches_rates_as_state_loaded_afresh(
        history in history(),
        sizes in proptest::collection::vec(1_usize..5, 1..4),
        steps in proptest::collection::vec(between(), 0..12),
        unit_wallets in any::<bool>(),
    ) {
        let mode = match unit_wallets {
            true => BillingMode::UnitWallet,
            false => BillingMode::PerMeter,
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            // Two meters of one unit: with a wallet for the unit, a batch may bring a meter
            // not seen yet whose wallet is already held for the other.
            let held = Fixture::new(1, 0, mode).await;
            let fresh = Fixture::new(1, 0, mode).await;
            let meters = [held.units[0].electricity, held.units[0].water];
            let wallets = [held.wallet_of(meters[0]).await, held.wallet_of(meters[1]).await];
            deliver(&held, &wallets, &history, &sizes, &steps, false).await;
            deliver(&fresh, &wallets, &history, &sizes, &steps, true).await;
            prop_assert_eq!(rating_state(&held).await, rating_state(&fresh).await);
            held.assert_reconciles().await;
            Ok(())
        })?;
    }
}
