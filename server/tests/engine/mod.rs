//! The prepaid engine against a real SQLite file (and PostgreSQL where named): readings,
//! charges, supply control, money in and out, settlement, the ledger's invariants.

pub mod fixture;
mod planner;
mod properties;
mod usage;

use app::domain::{Minor, Role, UnitId, Utility, tariff::Tariff};
use fixture::{Backend, Fixture, at, d, reading};
use server::{
    engine::{
        EngineError,
        money::Source,
        rating::{IncomingReading, RatingReport},
        setup::BillingMode,
        supply::SafetyReason,
    },
    ledger, on_db, on_db_write, on_tx,
};

const START: &str = "2026-06-01T00:00:00Z";

#[tokio::test]
async fn a_reading_is_charged_once_and_the_ledger_balances() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let meter = f.units[0].electricity;
    let wallet = f.wallet_of(meter).await;
    f.top_up(wallet, 100_000, "p1").await;
    let start = at(START);
    let batch = vec![
        reading(meter, start, 0, "100"),
        reading(meter, start, 60, "112.5"),
    ];
    let first = f.engine.rate(batch.clone()).await.unwrap();
    assert_eq!(
        (first.baselines, first.rated, first.charged),
        (1, 1, 12_500)
    );
    assert_eq!(f.balance(wallet).await, 100_000 - 12_500);
    // The same readings again, in another order: nothing changes.
    let again = f
        .engine
        .rate(batch.iter().rev().cloned().collect())
        .await
        .unwrap();
    assert_eq!((again.rated, again.duplicates, again.charged), (0, 2, 0));
    assert_eq!(f.balance(wallet).await, 87_500);
    // Again from a clock finer than the microsecond both databases keep: the same readings.
    let finer = batch
        .iter()
        .map(|r| IncomingReading {
            taken_at: r.taken_at + chrono::Duration::nanoseconds(300),
            ..r.clone()
        })
        .collect();
    let third = f.engine.rate(finer).await.unwrap();
    assert_eq!((third.rated, third.duplicates, third.charged), (0, 2, 0));
    assert_eq!(stored_readings(&f, meter).await, 2);
    assert_eq!(f.balance(wallet).await, 87_500);
    f.assert_reconciles().await;
    f.finish().await;
}

/// Readings stored for `meter`, as any other connection sees them.
async fn stored_readings(f: &Fixture, meter: i64) -> i64 {
    on_db!(&f.db, pool => sqlx::query_scalar("SELECT count(*) FROM readings WHERE meter_id = $1").bind(meter).fetch_one(pool).await).unwrap()
}

#[tokio::test]
async fn what_a_caller_writes_after_rating_commits_with_the_batch_or_not_at_all() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let meter = f.units[0].electricity;
    let wallet = f.wallet_of(meter).await;
    f.top_up(wallet, 100_000, "p1").await;
    let start = at(START);
    let batch = vec![
        reading(meter, start, 0, "100"),
        reading(meter, start, 60, "112.5"),
    ];
    // The caller sees the batch's readings in its transaction, then fails: nothing stays.
    let failed = f
        .engine
        .rate_then(batch.clone(), async |tx| {
            let seen: i64 = on_tx!(tx, conn => sqlx::query_scalar("SELECT count(*) FROM readings WHERE meter_id = $1").bind(meter).fetch_one(&mut *conn).await)?;
            assert_eq!(seen, 2, "the caller runs inside the batch's transaction");
            Err::<(), _>(EngineError::refused("the caller's own step failed"))
        })
        .await;
    assert!(matches!(failed, Err(EngineError::Refused(_))), "{failed:?}");
    assert_eq!(stored_readings(&f, meter).await, 0);
    assert_eq!(f.balance(wallet).await, 100_000);

    // The same batch again, the caller succeeding: the charge and its answer both land.
    let (report, answer) = f
        .engine
        .rate_then(batch, async |_| Ok::<_, EngineError>("recorded"))
        .await
        .unwrap();
    assert_eq!((report.baselines, report.rated, answer), (1, 1, "recorded"));
    assert_eq!(stored_readings(&f, meter).await, 2);
    assert_eq!(f.balance(wallet).await, 100_000 - 12_500);

    // With no readings the caller still gets its write transaction.
    let (empty, writes) = f
        .engine
        .rate_then(Vec::new(), async |tx| {
            on_tx!(tx, conn => sqlx::query("UPDATE wallets SET vulnerable = TRUE WHERE account_id = $1").bind(wallet).execute(&mut *conn).await.map(|done| done.rows_affected()))
                .map_err(EngineError::from)
        })
        .await
        .unwrap();
    assert_eq!((empty, writes), (RatingReport::default(), 1));
    f.assert_reconciles().await;
    f.finish().await;
}

/// A chunk that fails after pricing changed the held meters and wallets in place, and before
/// it wrote to any table that moves the writer's mark, rolls back leaving the mark as it was:
/// the engine must not keep what the chunk changed, or the next batch, finding the same mark,
/// would rate from state that was never stored. (Only SQLite holds state between batches.)
#[tokio::test]
async fn a_chunk_that_fails_leaves_nothing_of_it_in_what_rating_holds_for_the_next() {
    let f = Fixture::on(Backend::Sqlite, 1, 0, BillingMode::PerMeter)
        .await
        .unwrap();
    let meter = f.units[0].electricity;
    let wallet = f.wallet_of(meter).await;
    f.top_up(wallet, 100_000, "p1").await;
    // The roll-ups are written while the readings are priced and are not among the tables
    // that move the mark: this one refuses a day's use growing by exactly 7.5 kWh.
    on_db_write!(&f.db, pool => sqlx::query(
        "CREATE TRIGGER refuse_seven_and_a_half BEFORE UPDATE ON usage_daily \
         WHEN NEW.quantity_micro - OLD.quantity_micro = 7500000 \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    ).execute(pool).await.map(|_| ()))
    .unwrap();
    let start = at(START);
    let first = f
        .engine
        .rate(vec![
            reading(meter, start, 0, "100"),
            reading(meter, start, 60, "112.5"),
        ])
        .await
        .unwrap();
    assert_eq!((first.rated, first.charged), (1, 12_500));

    // Nothing writes between the batches: this one starts from the state the first held.
    let failed = f.engine.rate(vec![reading(meter, start, 120, "120")]).await;
    assert!(matches!(failed, Err(EngineError::Db(_))), "{failed:?}");
    assert_eq!(stored_readings(&f, meter).await, 2);
    assert_eq!(f.balance(wallet).await, 100_000 - 12_500);

    // The meter's next reading is charged from the 112.5 stored, not the 120 never stored.
    let next = f
        .engine
        .rate(vec![reading(meter, start, 180, "130")])
        .await
        .unwrap();
    assert_eq!((next.rated, next.charged), (1, 17_500));
    assert_eq!(f.balance(wallet).await, 100_000 - 30_000);
    f.assert_reconciles().await;
    f.finish().await;
}

#[tokio::test]
async fn the_engine_runs_on_postgresql_too() {
    let Some(f) = Fixture::on(Backend::Postgres, 2, 1, BillingMode::PerMeter).await else {
        return;
    };
    let (meter, vacant_meter) = (f.units[0].electricity, f.units[2].water);
    let wallet = f.wallet_of(meter).await;
    f.top_up(wallet, 30_000, "pg-1").await;
    f.top_up(wallet, 30_000, "pg-1").await; // a provider's retry
    let start = at(START);
    let report = f
        .engine
        .rate(vec![
            reading(meter, start, 0, "0"),
            reading(meter, start, 60, "25"),
            reading(vacant_meter, start, 0, "3"),
            reading(vacant_meter, start, 60, "4.5"),
        ])
        .await
        .unwrap();
    assert_eq!((report.rated, report.baselines), (2, 2));
    assert_eq!(f.balance(wallet).await, 30_000 - 25_000);
    assert_eq!(f.balance(f.landlord().await).await, -15_000);
    let settlement = f
        .engine
        .move_out(
            UnitId(f.units[0].id),
            f.units[0].resident.unwrap(),
            vec![],
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(settlement.refund, Minor(5_000));
    f.assert_reconciles().await;
    f.finish().await;
}

#[tokio::test]
async fn rounding_remainders_are_carried_so_many_small_readings_cost_the_same_as_one() {
    let f = Fixture::new(2, 0, BillingMode::PerMeter).await;
    let tariff = Tariff {
        tax_percent: d("16"),
        ..Tariff::flat(d("0.333"))
    };
    f.engine
        .set_tariff(
            f.site,
            Utility::Electricity,
            at("2020-01-01T00:00:01Z"),
            &tariff,
            None,
        )
        .await
        .unwrap();
    let (one, many) = (f.units[0].electricity, f.units[1].electricity);
    let start = at(START);
    f.engine
        .rate(vec![
            reading(one, start, 0, "0"),
            reading(one, start, 300, "30"),
        ])
        .await
        .unwrap();
    let pieces: Vec<IncomingReading> = (0..=300)
        .map(|i| {
            reading(
                many,
                start,
                i,
                &format!("{}", d("0.1") * rust_decimal::Decimal::from(i)),
            )
        })
        .collect();
    f.engine.rate(pieces).await.unwrap();
    // 30 x 0.333 = 9.99 net, 1.5984 tax: 11.5884, posted 11.59 whichever way it arrives.
    let (a, b) = (f.wallet_of(one).await, f.wallet_of(many).await);
    assert_eq!(f.balance(a).await, -1_159);
    assert_eq!(f.balance(b).await, -1_159);
    f.assert_reconciles().await;
}

#[tokio::test]
async fn backwards_readings_are_rejected_and_rollover_is_counted() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let (meter, wraps) = (f.units[0].electricity, f.units[0].water);
    on_db!(&f.db, pool => sqlx::query("INSERT INTO meter_states (meter_id, wraps_at) VALUES ($1, '10000')").bind(wraps).execute(pool).await.map(|_| ())).unwrap();
    let start = at(START);
    let report = f
        .engine
        .rate(vec![
            reading(meter, start, 0, "500"),
            reading(meter, start, 10, "480"),
            reading(meter, start, 20, "505"),
            reading(wraps, start, 0, "9999"),
            reading(wraps, start, 10, "1"),
        ])
        .await
        .unwrap();
    assert_eq!(report.rejected.len(), 1, "{:?}", report.rejected);
    assert!(report.rejected[0].reason.contains("backwards"));
    // 5 kWh from the last good reading at 10, and 2 m3 across the wrap at 100.
    assert_eq!(f.balance(f.wallet_of(meter).await).await, -5_000);
    assert_eq!(f.balance(f.wallet_of(wraps).await).await, -20_000);
    let flagged: String = on_db!(&f.db, pool => sqlx::query_scalar("SELECT status FROM readings WHERE register = '480'").fetch_one(pool).await).unwrap();
    assert_eq!(flagged, "rejected");
}

#[tokio::test]
async fn late_readings_are_kept_and_charge_nothing_more() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let meter = f.units[0].electricity;
    let start = at(START);
    f.engine
        .rate(vec![
            reading(meter, start, 0, "0"),
            reading(meter, start, 60, "10"),
        ])
        .await
        .unwrap();
    let late = f
        .engine
        .rate(vec![reading(meter, start, 30, "4")])
        .await
        .unwrap();
    assert_eq!((late.late, late.charged), (1, 0));
    assert_eq!(f.balance(f.wallet_of(meter).await).await, -10_000);
}

#[tokio::test]
async fn a_backlog_sent_again_is_found_stored_whole_and_its_older_readings_still_count() {
    // 600 readings: more than rating looks up in one statement (500).
    let f = Fixture::new(3, 0, BillingMode::PerMeter).await;
    let meters: Vec<i64> = f.units.iter().map(|unit| unit.electricity).collect();
    let mut wallets = Vec::new();
    for (i, meter) in meters.iter().enumerate() {
        let wallet = f.wallet_of(*meter).await;
        f.top_up(wallet, 1_000_000, &format!("backlog-{i}")).await;
        wallets.push(wallet);
    }
    let start = at(START);
    let backlog: Vec<IncomingReading> = meters
        .iter()
        .flat_map(|&meter| {
            (0..200).map(move |n| reading(meter, start, 60 + 10 * n, &(100 + n).to_string()))
        })
        .collect();
    let first = f.engine.rate(backlog.clone()).await.unwrap();
    assert_eq!((first.baselines, first.rated), (3, 597));
    // A top-up in between: the next batch reads every meter's state again, its first
    // reading included.
    f.top_up(wallets[0], 100, "between").await;
    let mut before = Vec::new();
    for wallet in &wallets {
        before.push(f.balance(*wallet).await);
    }

    // Sent again newest first, with one reading per meter from before its first: 4 units
    // more each, at 10 a unit.
    let mut again: Vec<IncomingReading> = backlog.iter().rev().cloned().collect();
    again.extend(meters.iter().map(|&meter| reading(meter, start, 0, "96")));
    let report = f.engine.rate(again).await.unwrap();
    assert_eq!(
        (report.duplicates, report.late, report.rated, report.charged),
        (600, 0, 3, 12_000)
    );
    for (wallet, before) in wallets.iter().zip(before) {
        assert_eq!(f.balance(*wallet).await, before - 4_000);
    }
    for meter in &meters {
        assert_eq!(stored_readings(&f, *meter).await, 201);
    }
    f.assert_reconciles().await;
    f.finish().await;
}

#[tokio::test]
async fn consumption_without_an_open_account_is_charged_to_the_landlord() {
    let f = Fixture::new(0, 1, BillingMode::PerMeter).await;
    let meter = f.units[0].gas;
    let start = at(START);
    f.engine
        .rate(vec![
            reading(meter, start, 0, "1"),
            reading(meter, start, 60, "3"),
        ])
        .await
        .unwrap();
    assert_eq!(f.balance(f.landlord().await).await, -10_000);
    assert!(
        f.commands(meter).await.is_empty(),
        "the landlord is never cut"
    );
    f.assert_reconciles().await;
}

#[tokio::test]
async fn running_out_cuts_and_a_top_up_reconnects_exactly_once() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let meter = f.units[0].electricity;
    let wallet = f.wallet_of(meter).await;
    f.top_up(wallet, 25_000, "first").await;
    let start = at(START);
    f.engine
        .rate(vec![
            reading(meter, start, 0, "0"),
            reading(meter, start, 60, "10"),
        ])
        .await
        .unwrap();
    assert_eq!(f.state(wallet).await, "low");
    assert_eq!(f.notices(wallet).await, vec!["low_balance_1"]);
    f.engine
        .rate(vec![reading(meter, start, 120, "30")])
        .await
        .unwrap();
    assert_eq!(f.balance(wallet).await, -5_000);
    assert_eq!(f.state(wallet).await, "cut");
    let receipt = f.top_up(wallet, 20_000, "second").await;
    assert!(receipt.new);
    assert_eq!(f.state(wallet).await, "on");
    let repeat = f.top_up(wallet, 20_000, "second").await;
    assert!(!repeat.new);
    assert_eq!(f.balance(wallet).await, 15_000);
    let commands: Vec<String> = f
        .commands(meter)
        .await
        .into_iter()
        .map(|(_, c, _)| c)
        .collect();
    assert_eq!(commands, vec!["close", "open"]);
    assert_eq!(
        f.notices(wallet).await,
        vec!["low_balance_1", "cut_off", "reconnected"]
    );
    f.assert_reconciles().await;
}

#[tokio::test]
async fn gas_waits_armed_and_water_is_restricted() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let (gas, water) = (f.units[0].gas, f.units[0].water);
    let (gas_wallet, water_wallet) = (f.wallet_of(gas).await, f.wallet_of(water).await);
    let start = at(START);
    f.engine
        .rate(vec![
            reading(gas, start, 0, "0"),
            reading(gas, start, 60, "1"),
            reading(water, start, 0, "0"),
            reading(water, start, 60, "1"),
        ])
        .await
        .unwrap();
    assert_eq!(f.state(water_wallet).await, "restricted");
    assert_eq!(f.commands(water).await[0].1, "restrict");
    assert_eq!(f.state(gas_wallet).await, "cut");
    f.top_up(gas_wallet, 10_000, "gas").await;
    assert_eq!(f.state(gas_wallet).await, "armed");
    assert_eq!(f.commands(gas).await.last().unwrap().1, "arm");
    f.engine.confirm_armed(gas_wallet).await.unwrap();
    assert_eq!(f.state(gas_wallet).await, "on");
    assert_eq!(f.commands(gas).await.last().unwrap().1, "open");
    assert!(
        f.engine.confirm_armed(gas_wallet).await.is_err(),
        "only once"
    );
}

#[tokio::test]
async fn a_safety_hold_outranks_credit_and_only_the_named_role_lifts_it() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let gas = f.units[0].gas;
    let wallet = f.wallet_of(gas).await;
    f.top_up(wallet, 50_000, "before").await;
    f.engine
        .hold(gas, SafetyReason::GasLeak, None)
        .await
        .unwrap();
    assert_eq!(f.commands(gas).await.last().unwrap().1, "close");
    f.top_up(wallet, 50_000, "after").await;
    assert_eq!(
        f.commands(gas).await.len(),
        1,
        "a top-up never reopens a held meter"
    );
    let refused = f
        .engine
        .clear_hold(gas, &[Role::Manager], None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("operator"), "{refused}");
    f.engine
        .clear_hold(gas, &[Role::Operator], None)
        .await
        .unwrap();
    let last = f.commands(gas).await.last().unwrap().clone();
    assert_eq!((last.1.as_str(), last.0), ("open", 2));
}

/// A unit's account that runs out cuts the unit's own meters, never a bulk meter in it: that
/// would cut every home it feeds. A safety hold still closes the bulk meter, and lifting it
/// opens it again whatever the unit's credit.
#[tokio::test]
async fn a_bulk_meter_is_never_cut_for_the_credit_of_the_unit_it_stands_in() {
    let f = Fixture::new(2, 0, BillingMode::UnitWallet).await;
    let shop = &f.units[1];
    let (bulk, flat) = (shop.water, f.units[0].water);
    on_db!(&f.db, pool => {
        sqlx::query("UPDATE meters SET master_meter_id = $1 WHERE id = $2")
            .bind(bulk).bind(flat).execute(pool).await.map(|_| ())
    })
    .unwrap();
    let wallet = f.wallet_of(shop.electricity).await;
    assert_eq!(f.wallet_of(bulk).await, wallet, "one account for the unit");
    f.top_up(wallet, 25_000, "first").await;
    let start = at(START);
    f.engine
        .rate(vec![
            reading(shop.electricity, start, 0, "0"),
            reading(shop.electricity, start, 60, "30"),
        ])
        .await
        .unwrap();
    assert_eq!(f.balance(wallet).await, -5_000);
    assert_eq!(f.state(wallet).await, "cut");
    let sent = |commands: Vec<(i64, String, String)>| -> Vec<String> {
        commands
            .into_iter()
            .map(|(_, command, _)| command)
            .collect()
    };
    assert_eq!(sent(f.commands(shop.electricity).await), ["close"]);
    assert_eq!(sent(f.commands(shop.gas).await), ["close"]);
    assert!(f.commands(bulk).await.is_empty());

    f.engine
        .hold(bulk, SafetyReason::WaterLeak, None)
        .await
        .unwrap();
    f.engine
        .clear_hold(bulk, &[Role::Admin], None)
        .await
        .unwrap();
    assert_eq!(sent(f.commands(bulk).await), ["close", "open"]);
    // The unit's own gas meter, held and released the same way, stays shut: no credit.
    f.engine
        .hold(shop.gas, SafetyReason::GasLeak, None)
        .await
        .unwrap();
    f.engine
        .clear_hold(shop.gas, &[Role::Admin], None)
        .await
        .unwrap();
    assert_eq!(sent(f.commands(shop.gas).await), ["close", "close"]);

    f.top_up(wallet, 20_000, "second").await;
    assert_eq!(f.state(wallet).await, "on");
    assert_eq!(sent(f.commands(shop.electricity).await), ["close", "open"]);
    assert_eq!(sent(f.commands(bulk).await), ["close", "open"]);
    f.assert_reconciles().await;
    f.finish().await;
}

#[tokio::test]
async fn vulnerable_households_are_not_cut_and_managers_hear_of_it() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let meter = f.units[0].electricity;
    let wallet = f.wallet_of(meter).await;
    on_db!(&f.db, pool => sqlx::query("UPDATE wallets SET vulnerable = TRUE WHERE account_id = $1").bind(wallet).execute(pool).await.map(|_| ())).unwrap();
    let start = at(START);
    f.engine
        .rate(vec![
            reading(meter, start, 0, "0"),
            reading(meter, start, 60, "5"),
        ])
        .await
        .unwrap();
    assert_eq!(f.state(wallet).await, "protected");
    assert!(f.commands(meter).await.is_empty());
    let audience: String = on_db!(&f.db, pool => sqlx::query_scalar("SELECT audience FROM notifications WHERE kind = 'protected_at_zero'").fetch_one(pool).await).unwrap();
    assert_eq!(audience, "managers");
}

#[tokio::test]
async fn emergency_credit_is_taken_once_and_repaid_first() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let meter = f.units[0].electricity;
    let wallet = f.wallet_of(meter).await;
    let start = at(START);
    f.engine
        .rate(vec![
            reading(meter, start, 0, "0"),
            reading(meter, start, 60, "2"),
        ])
        .await
        .unwrap();
    assert_eq!(f.state(wallet).await, "cut");
    assert_eq!(
        f.engine.take_emergency_credit(wallet, None).await.unwrap(),
        Minor(10_000)
    );
    assert_eq!(f.state(wallet).await, "emergency");
    assert!(
        f.engine.take_emergency_credit(wallet, None).await.is_err(),
        "once until repaid"
    );
    let top_up = f.top_up(wallet, 50_000, "repay").await;
    assert_eq!(top_up.repaid_emergency, Minor(10_000));
    assert_eq!(f.balance(wallet).await, -2_000 + 10_000 + 50_000 - 10_000);
    assert_eq!(f.state(wallet).await, "on");
    f.assert_reconciles().await;
}

#[tokio::test]
async fn move_out_settles_refunds_and_debts_and_debt_is_recovered_from_later_top_ups() {
    let f = Fixture::new(2, 0, BillingMode::PerMeter).await;
    let (rich, poor) = (f.units[0].clone(), f.units[1].clone());
    let rich_wallet = f.wallet_of(rich.electricity).await;
    f.top_up(rich_wallet, 40_000, "rich").await;
    let start = at(START);
    let finals = vec![
        reading(rich.electricity, start, 0, "0"),
        reading(rich.electricity, start, 60, "1"),
    ];
    let preview = f
        .engine
        .settlement_preview(UnitId(rich.id), rich.resident.unwrap())
        .await
        .unwrap();
    assert_eq!(preview.refund, Minor(40_000));
    let settled = f
        .engine
        .move_out(UnitId(rich.id), rich.resident.unwrap(), finals, None, None)
        .await
        .unwrap();
    assert_eq!(settled.refund, Minor(39_000), "final reading charged first");
    assert_eq!(f.balance(rich_wallet).await, 0);

    let poor_wallet = f.wallet_of(poor.water).await;
    f.engine
        .rate(vec![
            reading(poor.water, start, 0, "0"),
            reading(poor.water, start, 60, "1"),
        ])
        .await
        .unwrap();
    let settled = f
        .engine
        .move_out(UnitId(poor.id), poor.resident.unwrap(), vec![], None, None)
        .await
        .unwrap();
    assert_eq!(settled.debt, Minor(10_000));
    assert_eq!(f.balance(poor_wallet).await, 0);
    // They move back in to the other (now vacant) flat; a quarter of each top-up repays the debt.
    on_db!(&f.db, pool => sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
        .bind(rich.id).bind(poor.resident.unwrap()).bind(chrono::Utc::now()).execute(pool).await.map(|_| ())).unwrap();
    f.engine.move_in(UnitId(rich.id)).await.unwrap();
    let new_wallet = f.wallet_of(rich.electricity).await;
    let top_up = f.top_up(new_wallet, 20_000, "back").await;
    assert_eq!(top_up.repaid_debt, Minor(5_000));
    assert_eq!(f.balance(new_wallet).await, 15_000);
    f.assert_reconciles().await;
}

#[tokio::test]
async fn a_transfer_carries_the_balance_to_the_new_unit() {
    let f = Fixture::new(1, 1, BillingMode::PerMeter).await;
    let (from, to) = (f.units[0].clone(), f.units[1].clone());
    let wallet = f.wallet_of(from.electricity).await;
    f.top_up(wallet, 30_000, "carry").await;
    let settled = f
        .engine
        .move_out(
            UnitId(from.id),
            from.resident.unwrap(),
            vec![],
            Some(UnitId(to.id)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(settled.refund, Minor::ZERO);
    let target = f.wallet_of(to.electricity).await;
    assert_eq!(settled.wallets[0].carried_to, Some(target));
    assert_eq!(f.balance(target).await, 30_000);
    f.assert_reconciles().await;
}

#[tokio::test]
async fn an_allowance_is_spent_first_and_expires_unrefunded() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let meter = f.units[0].electricity;
    let wallet = f.wallet_of(meter).await;
    f.top_up(wallet, 10_000, "own").await;
    let expires = chrono::Utc::now() + chrono::Duration::days(30);
    f.engine
        .grant_allowance(wallet, Minor(15_000), expires, "term-1", None)
        .await
        .unwrap();
    f.engine
        .grant_allowance(wallet, Minor(15_000), expires, "term-1", None)
        .await
        .unwrap();
    let start = at(START);
    f.engine
        .rate(vec![
            reading(meter, start, 0, "0"),
            reading(meter, start, 60, "1"),
        ])
        .await
        .unwrap();
    assert_eq!(f.balance(wallet).await, 10_000, "the allowance pays first");
    f.engine
        .run_jobs(expires + chrono::Duration::minutes(1))
        .await
        .unwrap();
    let allowance: i64 = on_db!(&f.db, pool => sqlx::query_scalar("SELECT a.balance_minor FROM accounts a JOIN wallets w ON w.allowance_account_id = a.id WHERE w.account_id = $1").bind(wallet).fetch_one(pool).await).unwrap();
    assert_eq!(allowance, 0);
    let settled = f
        .engine
        .move_out(
            UnitId(f.units[0].id),
            f.units[0].resident.unwrap(),
            vec![],
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        settled.refund,
        Minor(10_000),
        "only the resident's own money is refunded"
    );
    f.assert_reconciles().await;
}

#[tokio::test]
async fn room_mates_share_one_wallet_per_unit_when_the_site_bills_that_way() {
    let f = Fixture::new(1, 0, BillingMode::UnitWallet).await;
    let unit = f.units[0].clone();
    let wallet = f.wallet_of(unit.electricity).await;
    assert_eq!(f.wallet_of(unit.water).await, wallet);
    let start = at(START);
    f.top_up(wallet, 2_000, "shared").await;
    f.engine
        .rate(vec![
            reading(unit.electricity, start, 0, "0"),
            reading(unit.electricity, start, 60, "1"),
            reading(unit.water, start, 0, "0"),
            reading(unit.water, start, 60, "0.5"),
        ])
        .await
        .unwrap();
    assert_eq!(f.balance(wallet).await, 2_000 - 1_000 - 5_000);
    assert_eq!(f.state(wallet).await, "cut");
    // Every meter of the unit is closed: water restricted counts as closed for a unit wallet.
    for meter in [unit.electricity, unit.water, unit.gas] {
        assert_eq!(f.commands(meter).await.len(), 1, "meter {meter}");
    }
}

/// The meters a bulk meter feeds are charged for what passes through it; the bulk meter
/// itself charges no usage, standing charge or package to whoever would pay for it, and
/// keeps its roll-ups for the loss report. Unlinked, it is charged again.
#[tokio::test]
async fn a_bulk_meter_is_measured_and_the_meters_it_feeds_are_charged() {
    // A shop's meter feeding a flat and a vacant unit: the shop's resident would otherwise
    // pay for all three, and the landlord again for the vacant one.
    let f = Fixture::new(2, 1, BillingMode::PerMeter).await;
    let (bulk, flat, vacant) = (f.units[1].water, f.units[0].water, f.units[2].water);
    f.engine
        .set_tariff(
            f.site,
            Utility::Water,
            at("2020-01-01T00:00:01Z"),
            &Tariff {
                standing_charge_per_day: d("5"),
                ..Tariff::flat(d("100"))
            },
            None,
        )
        .await
        .unwrap();
    on_db!(&f.db, pool => {
        sqlx::query("UPDATE meters SET master_meter_id = $1 WHERE id IN ($2, $3)")
            .bind(bulk).bind(flat).bind(vacant).execute(pool).await.map(|_| ())
    })
    .unwrap();
    let (bulk_wallet, flat_wallet) = (f.wallet_of(bulk).await, f.wallet_of(flat).await);
    let start = at(START);
    let report = f
        .engine
        .rate(vec![
            reading(bulk, start, 0, "0"),
            reading(bulk, start, 60, "10"),
            reading(flat, start, 0, "100"),
            reading(flat, start, 60, "103"),
            reading(vacant, start, 0, "7"),
            reading(vacant, start, 60, "12"),
        ])
        .await
        .unwrap();
    // 3 m3 and 5 m3 at 100 a m3; the bulk meter's 10 m3 cost nobody anything.
    assert_eq!((report.rated, report.charged), (3, 80_000));
    assert_eq!(f.balance(flat_wallet).await, -30_000);
    assert_eq!(f.balance(f.landlord().await).await, -50_000);
    assert_eq!(f.balance(bulk_wallet).await, 0);
    let (status, quantity, net, transaction, note): (String, String, String, Option<i64>, String) =
        on_db!(&f.db, pool => {
            sqlx::query_as(
                "SELECT status, quantity, net, transaction_id, note FROM readings \
                 WHERE meter_id = $1 AND status <> 'baseline'",
            )
            .bind(bulk)
            .fetch_one(pool)
            .await
        })
        .unwrap();
    assert_eq!(
        (status.as_str(), d(&quantity), d(&net), transaction),
        ("rated", d("10"), d("0"), None)
    );
    assert_eq!(note, "bulk meter: charged on its sub-meters");
    // Its roll-ups are the site's, under the landlord's account: no resident's usage.
    let rolled_up: Vec<(i64, i64, i64)> = on_db!(&f.db, pool => {
        sqlx::query_as(
            "SELECT wallet_account_id, CAST(SUM(quantity_micro) AS BIGINT), CAST(SUM(cost_micro) AS BIGINT) \
             FROM usage_daily WHERE meter_id = $1 GROUP BY wallet_account_id",
        )
        .bind(bulk)
        .fetch_all(pool)
        .await
    })
    .unwrap();
    assert_eq!(rolled_up, [(f.landlord().await, 10_000_000, 0)]);

    // Of the two residents' water meters, only the flat's pays the day's standing charge.
    let jobs = f.engine.run_jobs(chrono::Utc::now()).await.unwrap();
    assert_eq!(jobs.standing_charges, 1);
    assert_eq!(f.balance(flat_wallet).await, -30_500);
    assert_eq!(f.balance(bulk_wallet).await, 0);

    on_db!(&f.db, pool => {
        sqlx::query("UPDATE meters SET master_meter_id = NULL").execute(pool).await.map(|_| ())
    })
    .unwrap();
    let unlinked = f
        .engine
        .rate(vec![reading(bulk, start, 120, "12")])
        .await
        .unwrap();
    assert_eq!((unlinked.rated, unlinked.charged), (1, 20_000));
    assert_eq!(f.balance(bulk_wallet).await, -20_000);
    f.assert_reconciles().await;
    f.finish().await;
}

#[tokio::test]
async fn standing_charges_post_once_a_day_and_reversals_are_linked() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let tariff = Tariff {
        standing_charge_per_day: d("5"),
        ..Tariff::flat(d("10"))
    };
    f.engine
        .set_tariff(
            f.site,
            Utility::Electricity,
            at("2020-01-01T00:00:01Z"),
            &tariff,
            None,
        )
        .await
        .unwrap();
    let wallet = f.wallet_of(f.units[0].electricity).await;
    let now = chrono::Utc::now();
    assert_eq!(f.engine.run_jobs(now).await.unwrap().standing_charges, 1);
    assert_eq!(f.engine.run_jobs(now).await.unwrap().standing_charges, 0);
    assert_eq!(f.balance(wallet).await, -500);
    let charge: i64 = on_db!(&f.db, pool => sqlx::query_scalar("SELECT id FROM ledger_transactions WHERE kind = 'periodic'").fetch_one(pool).await).unwrap();
    let reversal = f
        .engine
        .reverse(charge, "charged in error", None)
        .await
        .unwrap();
    assert_eq!(
        f.engine.reverse(charge, "again", None).await.unwrap(),
        reversal
    );
    assert_eq!(f.balance(wallet).await, 0);
    f.assert_reconciles().await;
}

#[tokio::test]
async fn the_ledger_refuses_changes_and_exports_its_journal_without_personal_data() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let wallet = f.wallet_of(f.units[0].electricity).await;
    f.top_up(wallet, 12_345, "journal").await;
    let tampering = on_db!(&f.db, pool => sqlx::query("UPDATE ledger_entries SET amount_minor = 1").execute(pool).await.map(|_| ()));
    assert!(tampering.unwrap_err().to_string().contains("immutable"));
    let deleting = on_db!(&f.db, pool => sqlx::query("DELETE FROM ledger_transactions").execute(pool).await.map(|_| ()));
    assert!(deleting.is_err());
    let csv = ledger::journal_csv(
        &f.db,
        f.site.0,
        at("2000-01-01T00:00:00Z"),
        at("2100-01-01T00:00:00Z"),
        2,
    )
    .await
    .unwrap();
    assert!(csv.contains(",123.45\n"), "{csv}");
    assert!(csv.contains(",-123.45\n"), "{csv}");
    assert!(
        !csv.contains("engine.example") && !csv.contains("Resident"),
        "{csv}"
    );
    let trial = ledger::trial_balance(&f.db, f.site.0).await.unwrap();
    assert_eq!(trial.iter().map(|l| l.balance).sum::<i64>(), 0);
    // A tampered balance shows up in reconcile.
    on_db!(&f.db, pool => sqlx::query("UPDATE accounts SET balance_minor = balance_minor + 1 WHERE id = $1").bind(wallet).execute(pool).await.map(|_| ())).unwrap();
    let (_, differences) = ledger::reconcile(&f.db).await.unwrap();
    assert_eq!(
        differences,
        vec![ledger::Difference::Balance {
            account: wallet,
            cached: 12_346,
            from_entries: 12_345
        }]
    );
}

#[tokio::test]
async fn top_ups_outside_the_site_limits_are_refused_and_change_nothing() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let wallet = f.wallet_of(f.units[0].electricity).await;
    let source = Source::Cash {
        nonce: "tiny-amount-1".into(),
    };
    let refused = f
        .engine
        .top_up(wallet, Minor(50), source, None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("between 1.00"), "{refused}");
    assert_eq!(f.balance(wallet).await, 0);
    // A tariff may ask more than the site does.
    let tariff = Tariff {
        min_top_up: d("50"),
        ..Tariff::flat(d("10"))
    };
    f.engine
        .set_tariff(
            f.site,
            Utility::Electricity,
            at("2020-01-01T00:00:01Z"),
            &tariff,
            None,
        )
        .await
        .unwrap();
    let source = Source::Cash {
        nonce: "small-amount-2".into(),
    };
    let refused = f
        .engine
        .top_up(wallet, Minor(4_000), source, None)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("between 50.00"), "{refused}");
    f.assert_reconciles().await;
}

#[tokio::test]
async fn a_replacement_meter_starts_from_its_own_baseline() {
    let f = Fixture::new(1, 0, BillingMode::PerMeter).await;
    let unit = f.units[0].clone();
    let old = unit.electricity;
    let start = at(START);
    f.engine
        .rate(vec![
            reading(old, start, 0, "9000"),
            reading(old, start, 60, "9001"),
        ])
        .await
        .unwrap();
    // The old meter comes out at 02:00; a new one, its register at zero, goes in.
    let swapped = start + chrono::Duration::hours(2);
    let new: i64 = on_db!(&f.db, pool => {
        sqlx::query("UPDATE meters SET removed_at = $1 WHERE id = $2").bind(swapped).bind(old).execute(pool).await?;
        sqlx::query_scalar("INSERT INTO meters (unit_id, utility, serial, unit_of_measure, installed_at) VALUES ($1, 'electricity', 'EL-NEW', 'kWh', $2) RETURNING id")
            .bind(unit.id).bind(swapped).fetch_one(pool).await
    })
    .unwrap();
    f.engine.move_in(UnitId(unit.id)).await.unwrap();
    let report = f
        .engine
        .rate(vec![
            reading(old, start, 180, "9002"),
            reading(new, start, 120, "0"),
            reading(new, start, 180, "2"),
        ])
        .await
        .unwrap();
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].reason, "meter removed");
    assert_eq!((report.baselines, report.rated), (1, 1));
    // The new meter carries on the old one's wallet: 1 kWh before, 2 after, never 9,000 for
    // the register jump.
    let wallet = f.wallet_of(new).await;
    assert_eq!(f.balance(wallet).await, -3_000);
    let held_by_new: Option<i64> = on_db!(&f.db, pool => sqlx::query_scalar("SELECT meter_id FROM wallets WHERE account_id = $1").bind(wallet).fetch_one(pool).await).unwrap();
    assert_eq!(held_by_new, Some(new));
    f.assert_reconciles().await;
}
