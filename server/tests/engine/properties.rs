//! Property tests on the real engine and a real SQLite file: whatever order readings and
//! credits arrive in, however often, in whatever batches, the balances come out the same and
//! the ledger balances.

use super::fixture::{Fixture, at};
use app::domain::Minor;
use proptest::prelude::*;
use rust_decimal::Decimal;
use server::engine::{money::Source, rating::IncomingReading, setup::BillingMode};

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
