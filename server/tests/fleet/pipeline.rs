//! The fleet's pipeline without a network: the in-process simulator as the transport, and
//! the test driving ingestion and the outbox step by step.

use super::fixture::{Backend, Fixture, d};
use super::rig::quick_config;
use app::domain::{
    Utility,
    fleet::{FleetRules, Operation},
    tariff::Tariff,
};
use chrono::{DateTime, Duration, Utc};
use server::{
    engine::setup::BillingMode,
    fleet::{
        Fleet, alarms, event_channel,
        ops::{Actor, NewMeter},
        schedules::send_changed,
        simulator::{Simulator, SimulatorConfig},
        transport::{Event, TransportKind},
        wire::{Reading, Relay, Status, Uplink},
    },
    on_db,
};
use std::sync::Arc;
use tokio::sync::mpsc::Receiver;

struct Sim {
    fx: Fixture,
    fleet: Fleet,
    sim: Arc<Simulator>,
    events: Receiver<Event>,
}

impl Sim {
    async fn new(occupied: usize) -> Sim {
        Self::on(Backend::from_env(), occupied)
            .await
            .expect("SQLite, or the PostgreSQL CI names")
    }

    async fn on(backend: Backend, occupied: usize) -> Option<Sim> {
        let fx = Fixture::on(backend, occupied, 0, BillingMode::PerMeter).await?;
        let (sender, events) = event_channel();
        let sim = Simulator::new(sender, SimulatorConfig::default());
        sim.sync(&fx.db).await.unwrap();
        let fleet = Fleet::new(fx.engine.clone(), quick_config(), vec![sim.clone()], None);
        Some(Sim {
            fx,
            fleet,
            sim,
            events,
        })
    }

    fn serial(&self, unit: usize, utility: Utility) -> String {
        format!("{}-{unit}", utility.as_str())
    }

    fn event(&self, unit: usize, utility: Utility, uplink: Uplink, at: DateTime<Utc>) -> Event {
        Event {
            serial: self.serial(unit, utility),
            uplink,
            received_at: at,
        }
    }

    fn reading(&self, unit: usize, utility: Utility, at: DateTime<Utc>, register: &str) -> Event {
        let reading = Reading {
            taken_at: at,
            register: d(register),
            power_kw: None,
        };
        self.event(unit, utility, Uplink::Reading(reading), at)
    }

    /// Ingests whatever the simulated meters answered.
    async fn answers(&mut self) {
        let mut batch = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            batch.push(event);
        }
        if !batch.is_empty() {
            self.fleet.ingest(batch).await.unwrap();
        }
    }

    async fn statuses(&self, meter: i64) -> Vec<(String, String)> {
        on_db!(&self.fx.db, pool => {
            sqlx::query_as("SELECT command, status FROM meter_commands WHERE meter_id = $1 ORDER BY seq")
                .bind(meter).fetch_all(pool).await
        })
        .unwrap()
    }

    /// Prices the site's electricity by `tariff` from `from` on.
    async fn electricity(&self, from: DateTime<Utc>, tariff: &Tariff) {
        self.fx
            .engine
            .set_tariff(self.fx.site, Utility::Electricity, from, tariff, None)
            .await
            .unwrap();
    }

    async fn switches_rates(&self, meter: i64) {
        on_db!(&self.fx.db, pool => sqlx::query("UPDATE meters SET switches_rates = TRUE WHERE id = $1").bind(meter).execute(pool).await.map(|_| ())).unwrap();
    }

    async fn alarms(&self, meter: i64) -> Vec<(String, String)> {
        on_db!(&self.fx.db, pool => {
            sqlx::query_as("SELECT kind, status FROM alarms WHERE meter_id = $1 ORDER BY id")
                .bind(meter).fetch_all(pool).await
        })
        .unwrap()
    }
}

/// The demo's electricity tariff: tiered, with time-of-use bands.
fn demo_time_of_use() -> Tariff {
    server::demo::demo_tariffs()
        .into_iter()
        .find_map(|(utility, tariff)| (utility == Utility::Electricity).then_some(tariff))
        .unwrap()
}

/// A simulated electricity meter, reading 0, that switches rates itself.
fn switching_meter(serial: &str) -> NewMeter {
    NewMeter {
        serial: app::domain::fleet::MeterSerial::parse(serial).unwrap(),
        utility: Utility::Electricity,
        multiplier: app::domain::Multiplier::ONE,
        first_register: d("0"),
        transport: TransportKind::Simulator,
        sleeps: false,
        switches_rates: true,
    }
}

/// Cuts one unit's electricity for credit: a top-up of 10.00, then 2 kWh at 10.
async fn run_dry(sim: &Sim) -> (i64, i64) {
    let meter = sim.fx.units[0].electricity;
    let wallet = sim.fx.wallet_of(meter).await;
    sim.fx.top_up(wallet, 1_000, "small").await;
    let start = Utc::now() - Duration::hours(1);
    let events = vec![
        sim.reading(0, Utility::Electricity, start, "100"),
        sim.reading(
            0,
            Utility::Electricity,
            start + Duration::minutes(15),
            "102",
        ),
    ];
    sim.fleet.ingest(events).await.unwrap();
    assert_eq!(sim.fx.state(wallet).await, "cut");
    (meter, wallet)
}

#[tokio::test]
async fn credit_cut_offs_wait_until_rating_has_caught_up_after_a_start() {
    let mut sim = Sim::new(1).await;
    let (meter, _) = run_dry(&sim).await;
    assert!(!sim.fleet.caught_up());
    let report = sim.fleet.dispatch(Utc::now()).await.unwrap();
    assert_eq!((report.sent, report.waiting_for_catch_up), (0, 1));
    assert_eq!(
        sim.sim.relay("electricity-0"),
        Some(Relay::Open),
        "no cut before catching up"
    );

    sim.fleet.set_caught_up();
    let report = sim
        .fleet
        .dispatch(Utc::now() + Duration::seconds(2))
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(sim.sim.relay("electricity-0"), Some(Relay::Closed));
    sim.answers().await;
    assert_eq!(
        sim.statuses(meter).await,
        [("close".to_owned(), "acknowledged".to_owned())]
    );
}

#[tokio::test]
async fn a_sleeping_meter_takes_its_command_after_its_next_uplink_without_an_alarm() {
    let mut sim = Sim::new(1).await;
    let meter = sim.fx.units[0].water;
    on_db!(&sim.fx.db, pool => sqlx::query("UPDATE meters SET sleeps = TRUE WHERE id = $1").bind(meter).execute(pool).await.map(|_| ())).unwrap();
    let actor = Actor {
        user: 1,
        roles: vec![app::domain::Role::Operator],
    };
    sim.fleet
        .operate(&actor, meter, Operation::ReadNow, "")
        .await
        .unwrap();
    let later = Utc::now() + Duration::hours(3);
    let report = sim.fleet.dispatch(later).await.unwrap();
    assert_eq!(
        (report.sent, report.expired),
        (0, 0),
        "asleep: the command waits"
    );
    assert!(sim.alarms(meter).await.is_empty());

    // It wakes and reports: the command goes out while it listens, and it answers.
    let status = Status {
        at: Some(later),
        ..Status::default()
    };
    sim.fleet
        .ingest(vec![sim.event(
            0,
            Utility::Water,
            Uplink::Status(status),
            later,
        )])
        .await
        .unwrap();
    let report = sim
        .fleet
        .dispatch(later + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    sim.answers().await;
    assert_eq!(
        sim.statuses(meter).await,
        [("read".to_owned(), "acknowledged".to_owned())]
    );
    assert!(sim.alarms(meter).await.is_empty());
}

#[tokio::test]
async fn sustained_overload_cuts_and_holds_and_water_running_for_hours_raises_an_alarm() {
    let sim = Sim::new(1).await;
    sim.fleet
        .set_rules(
            Some(1),
            sim.fx.site.0,
            &FleetRules {
                overload_kw: Some(d("5")),
                water_flow_hours: Some(2),
                ..FleetRules::default()
            },
        )
        .await
        .unwrap();
    let electricity = sim.fx.units[0].electricity;
    let start = Utc::now() - Duration::hours(4);
    let power = |at: DateTime<Utc>, kw: &str| {
        let status = Status {
            at: Some(at),
            power_kw: Some(d(kw)),
            ..Status::default()
        };
        sim.event(0, Utility::Electricity, Uplink::Status(status), at)
    };
    sim.fleet.ingest(vec![power(start, "8")]).await.unwrap();
    sim.fleet
        .ingest(vec![power(start + Duration::seconds(30), "4")])
        .await
        .unwrap();
    sim.fleet
        .ingest(vec![power(start + Duration::seconds(40), "8")])
        .await
        .unwrap();
    assert!(
        sim.alarms(electricity).await.is_empty(),
        "a dip below the limit starts the clock again"
    );
    sim.fleet
        .ingest(vec![power(start + Duration::seconds(101), "9")])
        .await
        .unwrap();
    assert_eq!(
        sim.alarms(electricity).await,
        [("overload".to_owned(), "open".to_owned())]
    );
    let commands = sim.fx.commands(electricity).await;
    assert_eq!(
        commands.last().map(|c| (c.1.as_str(), c.2.as_str())),
        Some(("close", "safety: overload"))
    );

    let water = sim.fx.units[0].water;
    let readings = (0..=5)
        .map(|step| {
            let register = format!(
                "{}",
                d("10") + d("0.05") * rust_decimal::Decimal::from(step)
            );
            sim.reading(
                0,
                Utility::Water,
                start + Duration::minutes(30 * step),
                &register,
            )
        })
        .collect();
    sim.fleet.ingest(readings).await.unwrap();
    assert_eq!(
        sim.alarms(water).await,
        [("water_flow".to_owned(), "open".to_owned())]
    );
}

/// What the rules remember of a meter carries from batch to batch, and stays its own when other
/// meters share the batch: here water runs in one flat for two and a half hours, sent two
/// readings a batch beside a neighbour whose water stands still.
#[tokio::test]
async fn water_running_across_batches_is_told_apart_from_a_neighbour_s_still_water() {
    let sim = Sim::new(2).await;
    let rules = FleetRules {
        water_flow_hours: Some(2),
        ..FleetRules::default()
    };
    sim.fleet
        .set_rules(Some(1), sim.fx.site.0, &rules)
        .await
        .unwrap();
    let start = Utc::now() - Duration::hours(4);
    let (running, still) = (sim.fx.units[0].water, sim.fx.units[1].water);
    for batch in 0..3 {
        let events = (batch * 2..batch * 2 + 2)
            .flat_map(|step| {
                let at = start + Duration::minutes(30 * step);
                let register = d("10") + d("0.05") * rust_decimal::Decimal::from(step);
                [
                    sim.reading(0, Utility::Water, at, &register.to_string()),
                    sim.reading(1, Utility::Water, at, "20"),
                ]
            })
            .collect();
        sim.fleet.ingest(events).await.unwrap();
        if batch < 2 {
            assert!(sim.alarms(running).await.is_empty(), "not two hours yet");
        }
    }
    assert_eq!(
        sim.alarms(running).await,
        [("water_flow".to_owned(), "open".to_owned())]
    );
    assert!(sim.alarms(still).await.is_empty());
}

#[tokio::test]
async fn a_meter_gone_quiet_is_offline_until_it_is_heard_again() {
    let sim = Sim::new(1).await;
    let now = Utc::now();
    // The fixture's meters were installed years ago and never heard.
    assert_eq!(alarms::find_offline(&sim.fleet, now).await.unwrap(), 3);
    assert_eq!(
        alarms::find_offline(&sim.fleet, now).await.unwrap(),
        0,
        "once is enough"
    );
    let gas = sim.fx.units[0].gas;
    assert_eq!(
        sim.alarms(gas).await,
        [("offline".to_owned(), "open".to_owned())]
    );
    sim.fleet
        .ingest(vec![sim.reading(0, Utility::Gas, now, "5")])
        .await
        .unwrap();
    assert_eq!(
        sim.alarms(gas).await,
        [("offline".to_owned(), "resolved".to_owned())]
    );
}

#[tokio::test]
async fn replacing_a_meter_loses_and_doubles_nothing_and_decommissioning_charges_the_final_reading()
{
    let sim = Sim::new(1).await;
    let old = sim.fx.units[0].electricity;
    let wallet = sim.fx.wallet_of(old).await;
    sim.fx.top_up(wallet, 100_000, "opening").await;
    let start = Utc::now() - Duration::hours(2);
    sim.fleet
        .ingest(vec![
            sim.reading(0, Utility::Electricity, start, "0"),
            sim.reading(0, Utility::Electricity, start + Duration::hours(1), "10"),
        ])
        .await
        .unwrap();
    assert_eq!(sim.fx.balance(wallet).await, 90_000);
    let new = NewMeter {
        serial: app::domain::fleet::MeterSerial::parse("EL-NEW-1").unwrap(),
        utility: Utility::Electricity,
        multiplier: app::domain::Multiplier::ONE,
        first_register: d("0"),
        transport: TransportKind::Simulator,
        sleeps: false,
        switches_rates: false,
    };
    let installed = sim.fleet.replace(1, old, d("15"), new).await.unwrap();
    assert_eq!(
        sim.fx.balance(wallet).await,
        85_000,
        "the old meter's last 5 kWh"
    );
    assert_eq!(
        sim.fx.wallet_of(installed.id).await,
        wallet,
        "the wallet carries on"
    );
    assert!(
        installed.broker_password.is_none(),
        "no broker for a simulated meter"
    );
    let after = Utc::now() + Duration::minutes(10);
    let reading = |register: &str| server::fleet::transport::Event {
        serial: "EL-NEW-1".into(),
        uplink: Uplink::Reading(Reading {
            taken_at: after,
            register: d(register),
            power_kw: None,
        }),
        received_at: after,
    };
    sim.fleet.ingest(vec![reading("3")]).await.unwrap();
    assert_eq!(
        sim.fx.balance(wallet).await,
        82_000,
        "the new meter counts from its first reading"
    );
    // The old meter is out of service: anything it still sends is dropped.
    let report = sim
        .fleet
        .ingest(vec![sim.reading(0, Utility::Electricity, after, "40")])
        .await
        .unwrap();
    assert_eq!(report.unknown, 1);
    assert_eq!(sim.fx.balance(wallet).await, 82_000);

    sim.fleet
        .decommission(1, installed.id, d("4"))
        .await
        .unwrap();
    assert_eq!(
        sim.fx.balance(wallet).await,
        81_000,
        "the final reading is charged"
    );
    assert!(
        sim.fleet
            .decommission(1, installed.id, d("5"))
            .await
            .is_err()
    );
    sim.fx.assert_reconciles().await;
}

#[tokio::test]
async fn the_pipeline_runs_on_postgresql_too() {
    let Some(mut sim) = Sim::on(Backend::Postgres, 1).await else {
        return;
    };
    let (meter, wallet) = run_dry(&sim).await;
    sim.fleet.set_caught_up();
    assert_eq!(sim.fleet.dispatch(Utc::now()).await.unwrap().sent, 1);
    sim.answers().await;
    assert_eq!(
        sim.statuses(meter).await,
        [("close".to_owned(), "acknowledged".to_owned())]
    );
    sim.fx.top_up(wallet, 5_000, "back").await;
    assert_eq!(
        sim.fleet
            .dispatch(Utc::now() + Duration::seconds(2))
            .await
            .unwrap()
            .sent,
        1
    );
    sim.answers().await;
    assert_eq!(sim.sim.relay("electricity-0"), Some(Relay::Open));
    let status = Status {
        at: Some(Utc::now()),
        relay: Some(Relay::Open),
        clock: Some(Utc::now() + Duration::hours(1)),
        ..Status::default()
    };
    sim.fleet
        .ingest(vec![sim.event(
            0,
            Utility::Electricity,
            Uplink::Status(status),
            Utc::now(),
        )])
        .await
        .unwrap();
    assert_eq!(
        sim.alarms(meter).await,
        [("clock_drift".to_owned(), "open".to_owned())]
    );
    assert_eq!(
        alarms::find_offline(&sim.fleet, Utc::now()).await.unwrap(),
        2
    );
    sim.fx.assert_reconciles().await;
    sim.fx.finish().await;
}

#[tokio::test]
async fn reconnections_after_top_ups_are_staggered_per_site() {
    let mut sim = Sim::new(2).await;
    sim.fleet
        .set_rules(
            Some(1),
            sim.fx.site.0,
            &FleetRules {
                reconnects_per_second: 1,
                ..FleetRules::default()
            },
        )
        .await
        .unwrap();
    sim.fleet.set_caught_up();
    let start = Utc::now() - Duration::hours(1);
    let mut wallets = Vec::new();
    for unit in 0..2 {
        let meter = sim.fx.units[unit].electricity;
        let wallet = sim.fx.wallet_of(meter).await;
        sim.fx.top_up(wallet, 1_000, &format!("small-{unit}")).await;
        sim.fleet
            .ingest(vec![
                sim.reading(unit, Utility::Electricity, start, "0"),
                sim.reading(
                    unit,
                    Utility::Electricity,
                    start + Duration::minutes(15),
                    "2",
                ),
            ])
            .await
            .unwrap();
        wallets.push(wallet);
    }
    let now = Utc::now();
    assert_eq!(sim.fleet.dispatch(now).await.unwrap().sent, 2, "both cut");
    sim.answers().await;
    for (n, wallet) in wallets.iter().enumerate() {
        sim.fx.top_up(*wallet, 10_000, &format!("back-{n}")).await;
    }
    let second = now + Duration::seconds(5);
    assert_eq!(
        sim.fleet.dispatch(second).await.unwrap().sent,
        1,
        "one reconnection this second"
    );
    assert_eq!(sim.fleet.dispatch(second).await.unwrap().sent, 0);
    sim.answers().await;
    assert_eq!(
        sim.fleet
            .dispatch(second + Duration::seconds(1))
            .await
            .unwrap()
            .sent,
        1,
        "the other the next"
    );
    sim.answers().await;
    assert_eq!(sim.sim.relay("electricity-0"), Some(Relay::Open));
    assert_eq!(sim.sim.relay("electricity-1"), Some(Relay::Open));
}

#[tokio::test]
async fn the_time_of_use_schedule_goes_to_meters_that_switch_rates_and_limits_are_obeyed() {
    let mut sim = Sim::new(1).await;
    sim.fleet.set_caught_up();
    let meter = sim.fx.units[0].electricity;
    let actor = Actor {
        user: 1,
        roles: vec![app::domain::Role::Manager],
    };
    let refused = sim
        .fleet
        .operate(&actor, meter, Operation::SendSchedule, "")
        .await;
    assert!(refused.is_err(), "this meter does not switch rates");
    sim.switches_rates(meter).await;
    let flat = sim
        .fleet
        .operate(&actor, meter, Operation::SendSchedule, "")
        .await;
    assert!(flat.is_err(), "a flat tariff has no schedule to send");
    sim.electricity(Utc::now() - Duration::days(1), &demo_time_of_use())
        .await;
    sim.fleet
        .operate(&actor, meter, Operation::SendSchedule, "")
        .await
        .unwrap();
    sim.fleet
        .operate(
            &actor,
            meter,
            Operation::LoadLimit { kw: d("2.5") },
            "shared feeder",
        )
        .await
        .unwrap();
    sim.fleet
        .operate(&actor, meter, Operation::SyncClock, "")
        .await
        .unwrap();
    assert_eq!(sim.fleet.dispatch(Utc::now()).await.unwrap().sent, 3);
    sim.answers().await;
    let statuses: Vec<String> = sim
        .statuses(meter)
        .await
        .into_iter()
        .map(|(c, s)| format!("{c}:{s}"))
        .collect();
    assert_eq!(
        statuses,
        [
            "tou_schedule:acknowledged",
            "load_limit:acknowledged",
            "sync_clock:acknowledged"
        ]
    );
    let params: String = on_db!(&sim.fx.db, pool => {
        sqlx::query_scalar("SELECT params FROM meter_commands WHERE meter_id = $1 AND command = 'tou_schedule'").bind(meter).fetch_one(pool).await
    }).unwrap();
    assert!(
        params.contains("Africa/Nairobi") && params.contains("bands"),
        "{params}"
    );
}

#[tokio::test]
async fn a_meter_that_switches_rates_gets_each_schedule_once_as_it_takes_effect() {
    let mut sim = Sim::new(2).await;
    sim.fleet.set_caught_up();
    let (switching, plain) = (sim.fx.units[0].electricity, sim.fx.units[1].electricity);
    let actor = Actor {
        user: 1,
        roles: vec![app::domain::Role::Manager],
    };
    sim.switches_rates(switching).await;
    let now = Utc::now();
    assert_eq!(
        send_changed(&sim.fleet, now).await.unwrap(),
        0,
        "a flat tariff has no schedule"
    );
    let tou = demo_time_of_use();
    sim.electricity(now - Duration::days(1), &tou).await;

    // A meter installed to switch rates is sent the schedule straight away: this one before
    // the simulator has listed it, so the first attempt fails and the next is carried out.
    let installed = sim
        .fleet
        .install(1, sim.fx.units[1].id, switching_meter("EL-TOU-1"))
        .await
        .unwrap();
    let pending = [("tou_schedule".to_owned(), "pending".to_owned())];
    assert_eq!(sim.statuses(installed.id).await, pending);
    assert_eq!(
        sim.statuses(switching).await,
        pending,
        "the look at install reaches every meter due a schedule"
    );
    assert_eq!(send_changed(&sim.fleet, now).await.unwrap(), 0);
    let first = Utc::now();
    sim.fleet.dispatch(first).await.unwrap();
    sim.sim.sync(&sim.fx.db).await.unwrap();
    sim.fleet
        .dispatch(first + Duration::seconds(1))
        .await
        .unwrap();
    sim.answers().await;
    let outcome: (String, i32, Option<String>) = on_db!(&sim.fx.db, pool => {
        sqlx::query_as("SELECT status, attempts, error FROM meter_commands WHERE meter_id = $1")
            .bind(installed.id)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert_eq!(
        outcome,
        ("acknowledged".to_owned(), 2, None),
        "carried out, with no earlier attempt's error shown"
    );
    assert!(sim.sim.schedule("EL-TOU-1").is_some());

    // Its replacement switches rates too, and is sent the schedule as it goes in.
    let replacement = sim
        .fleet
        .replace(1, installed.id, d("0"), switching_meter("EL-TOU-2"))
        .await
        .unwrap();
    assert_eq!(sim.statuses(replacement.id).await, pending);
    sim.fleet
        .decommission(1, replacement.id, d("0"))
        .await
        .unwrap();

    sim.fleet
        .operate(&actor, switching, Operation::SendSchedule, "")
        .await
        .unwrap();
    assert_eq!(
        send_changed(&sim.fleet, now).await.unwrap(),
        0,
        "the console's send is remembered"
    );

    // Next week's version moves the peak: nothing until it takes effect, then once.
    let mut moved = tou.clone();
    moved.bands[0].factor += d("0.25");
    let next_week = now + Duration::days(7);
    sim.electricity(next_week, &moved).await;
    assert_eq!(
        send_changed(&sim.fleet, next_week - Duration::minutes(1))
            .await
            .unwrap(),
        0
    );
    let taken = next_week + Duration::minutes(1);
    // Two looks at once (two instances) queue it once.
    let (one, other) = tokio::join!(
        send_changed(&sim.fleet, taken),
        send_changed(&sim.fleet, taken)
    );
    assert_eq!(one.unwrap() + other.unwrap(), 1);
    assert_eq!(send_changed(&sim.fleet, taken).await.unwrap(), 0, "once");
    assert_eq!(
        sim.statuses(switching).await,
        [
            ("tou_schedule".to_owned(), "acknowledged".to_owned()),
            ("tou_schedule".to_owned(), "expired".to_owned()),
            ("tou_schedule".to_owned(), "pending".to_owned())
        ],
        "the console's schedule, never delivered, is superseded"
    );
    assert!(
        sim.statuses(plain).await.is_empty(),
        "a meter that does not switch rates"
    );
    sim.fleet.dispatch(taken).await.unwrap();
    sim.answers().await;
    let held = sim
        .sim
        .schedule("electricity-0")
        .expect("a schedule delivered");
    assert_eq!(held["bands"], serde_json::to_value(&moved.bands).unwrap());
    assert_eq!(held["time_zone"], "Africa/Nairobi");
    assert_eq!(sim.sim.schedule("electricity-1"), None);

    // A flat version after that tells the meter to stop switching.
    let flat = Tariff {
        bands: Vec::new(),
        ..moved.clone()
    };
    let later = now + Duration::days(14);
    sim.electricity(later, &flat).await;
    assert_eq!(send_changed(&sim.fleet, later).await.unwrap(), 1);
    sim.fleet.dispatch(later).await.unwrap();
    sim.answers().await;
    let held = sim.sim.schedule("electricity-0").unwrap();
    assert_eq!(held["bands"], serde_json::json!([]));
    let statuses: Vec<String> = sim
        .statuses(switching)
        .await
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        statuses,
        ["acknowledged", "expired", "acknowledged", "acknowledged"]
    );
    assert_eq!(
        send_changed(&sim.fleet, later + Duration::days(30))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_overload_can_limit_the_load_and_a_water_spike_can_close_the_valve() {
    let sim = Sim::new(1).await;
    let rules = FleetRules {
        overload_kw: Some(d("5")),
        overload_action: app::domain::fleet::OverloadAction::Limit,
        load_limit_kw: d("3"),
        water_shut_off: true,
        ..FleetRules::default()
    };
    sim.fleet
        .set_rules(Some(1), sim.fx.site.0, &rules)
        .await
        .unwrap();
    let start = Utc::now() - Duration::hours(1);
    let power = |at: DateTime<Utc>, kw: &str| {
        let status = Status {
            at: Some(at),
            power_kw: Some(d(kw)),
            ..Status::default()
        };
        sim.event(0, Utility::Electricity, Uplink::Status(status), at)
    };
    sim.fleet.ingest(vec![power(start, "8")]).await.unwrap();
    sim.fleet
        .ingest(vec![power(start + Duration::seconds(61), "8")])
        .await
        .unwrap();
    let electricity = sim.fx.units[0].electricity;
    let commands = sim.fx.commands(electricity).await;
    assert_eq!(
        commands.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(),
        ["load_limit"],
        "limited, not cut"
    );
    let params: String = on_db!(&sim.fx.db, pool => {
        sqlx::query_scalar("SELECT params FROM meter_commands WHERE meter_id = $1").bind(electricity).fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(params, r#"{"kw":"3"}"#);

    // A cubic metre in a quarter of an hour is a burst: alarm, and this site closes the valve.
    let water = sim.fx.units[0].water;
    sim.fleet
        .ingest(vec![
            sim.reading(0, Utility::Water, start, "10"),
            sim.reading(0, Utility::Water, start + Duration::minutes(15), "11"),
        ])
        .await
        .unwrap();
    assert_eq!(
        sim.alarms(water).await,
        [("water_spike".to_owned(), "open".to_owned())]
    );
    // Stored with its day, so pages can put it on the site's clock.
    let detail: String = on_db!(&sim.fx.db, pool => {
        sqlx::query_scalar("SELECT detail FROM alarms WHERE meter_id = $1").bind(water).fetch_one(pool).await
    })
    .unwrap();
    let until = (start + Duration::minutes(15)).format("%Y-%m-%d %H:%M UTC");
    assert_eq!(detail, format!("a burst of water up to {until}"));
    let commands = sim.fx.commands(water).await;
    assert_eq!(
        commands.last().map(|c| (c.1.as_str(), c.2.as_str())),
        Some(("close", "safety: water_leak"))
    );
}

#[tokio::test]
async fn a_bulk_meter_s_flow_is_no_spike() {
    let sim = Sim::new(2).await;
    let rules = FleetRules {
        water_shut_off: true,
        ..FleetRules::default()
    };
    sim.fleet
        .set_rules(Some(1), sim.fx.site.0, &rules)
        .await
        .unwrap();
    // Unit 1's water meter feeds unit 0's: it is a bulk meter now.
    let (bulk, flat) = (sim.fx.units[1].water, sim.fx.units[0].water);
    sim.fleet
        .set_master(
            1,
            flat,
            Some(&app::domain::fleet::MeterSerial::parse(&sim.serial(1, Utility::Water)).unwrap()),
        )
        .await
        .unwrap();
    let start = Utc::now() - Duration::hours(1);
    // The same cubic metre in a quarter of an hour that is a burst in a home.
    sim.fleet
        .ingest(vec![
            sim.reading(1, Utility::Water, start, "10"),
            sim.reading(1, Utility::Water, start + Duration::minutes(15), "11"),
        ])
        .await
        .unwrap();
    assert_eq!(sim.alarms(bulk).await, []);
    let commands = sim.fx.commands(bulk).await;
    assert!(
        !commands.iter().any(|c| c.2.starts_with("safety")),
        "its valve is not closed for a leak: {commands:?}"
    );
    // Unlinked, it is a home's meter again, with a home's rules (from its next interval: the
    // rules kept no memory of it while it fed others).
    sim.fleet.set_master(1, flat, None).await.unwrap();
    sim.fleet
        .ingest(vec![
            sim.reading(1, Utility::Water, start + Duration::minutes(30), "12"),
            sim.reading(1, Utility::Water, start + Duration::minutes(45), "13"),
        ])
        .await
        .unwrap();
    assert_eq!(
        sim.alarms(bulk).await,
        [("water_spike".to_owned(), "open".to_owned())]
    );
}
