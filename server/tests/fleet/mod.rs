//! The meter fleet against a real mosquitto (TLS, per-meter credentials and access rules the
//! platform wrote), with meters simulated over MQTT.

use crate::engine::fixture;
mod pipeline;
mod rig;

use app::domain::{
    Utility,
    fleet::{AlarmStep, FleetRules},
};
use chrono::{Duration as Span, Utc};
use fixture::d;
use rig::{Rig, eventually, quick_config};
use server::fleet::{
    transport::{Delivery, Transport},
    wire::{Alarm, Downlink, MeterAlarm, Reading, Relay, Uplink},
};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// A reading `minutes` from now: after the meter's first reading, which was taken at install.
fn reading(minutes: i64, register: &str) -> Uplink {
    Uplink::Reading(Reading {
        taken_at: Utc::now() + Span::minutes(minutes),
        register: d(register),
        power_kw: None,
    })
}

#[tokio::test]
async fn readings_are_charged_an_empty_account_is_cut_and_a_top_up_reconnects() {
    let rig = Rig::new(1, quick_config()).await;
    let meter = rig.mqtt_meter(0, Utility::Electricity, 10_000).await;

    // 5 kWh at 10 a kWh: 50.00 of the 100.00 goes.
    meter.device.publish(&reading(15, "1005")).await.unwrap();
    assert!(
        eventually(WAIT, || async {
            rig.fx.balance(meter.wallet).await == 5_000
        })
        .await
    );

    // 6 kWh more: the balance goes below zero and the supply is cut at the meter.
    meter.device.publish(&reading(30, "1011")).await.unwrap();
    assert!(
        eventually(WAIT, || async {
            rig.fx.balance(meter.wallet).await == -1_000
        })
        .await
    );
    assert!(
        eventually(WAIT, || async {
            meter.device.meter().relay == Relay::Closed
        })
        .await,
        "the cut reached the meter"
    );
    assert!(
        eventually(WAIT, || async {
            rig.commands(meter.id)
                .await
                .last()
                .is_some_and(|c| c.0 == "close" && c.1 == "acknowledged")
        })
        .await,
        "the meter acknowledged the cut: {:?}",
        rig.commands(meter.id).await
    );
    assert_eq!(rig.fx.state(meter.wallet).await, "cut");

    // A top-up reconnects.
    rig.fx.top_up(meter.wallet, 5_000, "back-on").await;
    rig.fleet.wake();
    assert!(
        eventually(WAIT, || async { meter.device.meter().relay == Relay::Open }).await,
        "the top-up reopened the supply"
    );
    assert!(
        eventually(WAIT, || async {
            rig.commands(meter.id)
                .await
                .last()
                .is_some_and(|c| c.0 == "open" && c.1 == "acknowledged")
        })
        .await
    );
    rig.fx.assert_reconciles().await;
}

#[tokio::test]
async fn duplicated_and_reordered_readings_cost_what_the_ordered_ones_do() {
    let rig = Rig::new(1, quick_config()).await;
    let meter = rig.mqtt_meter(0, Utility::Water, 100_000).await;
    // Newest first, each twice: 3 m3 of water at 100.
    for register in ["1003", "1003", "1002", "1001", "1002"] {
        let minutes = 10 * (register.parse::<i64>().unwrap() - 1000);
        meter
            .device
            .publish(&reading(minutes, register))
            .await
            .unwrap();
    }
    assert!(eventually(WAIT, || async { rig.readings(meter.id).await.len() >= 4 }).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rig.fx.balance(meter.wallet).await, 100_000 - 30_000);
    // The same reading again, much later: nothing changes.
    meter.device.publish(&reading(20, "1002")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rig.fx.balance(meter.wallet).await, 70_000);
    rig.fx.assert_reconciles().await;
}

#[tokio::test]
async fn an_unanswered_command_is_retried_with_backoff_then_expires_with_an_alarm() {
    let mut config = quick_config();
    config.mqtt = Delivery {
        lifetime: chrono::Duration::seconds(3),
        ..config.mqtt
    };
    let rig = Rig::new(1, config).await;
    let meter = rig.mqtt_meter(0, Utility::Electricity, 10_000).await;
    meter.device.meter().responsive = false;
    let actor = server::fleet::ops::Actor {
        user: 1,
        roles: vec![app::domain::Role::Admin],
    };
    rig.fleet
        .operate(&actor, meter.id, app::domain::fleet::Operation::ReadNow, "")
        .await
        .unwrap();
    assert!(
        eventually(WAIT, || async {
            rig.commands(meter.id)
                .await
                .last()
                .is_some_and(|c| c.1 == "expired")
        })
        .await,
        "{:?}",
        rig.commands(meter.id).await
    );
    let (_, _, attempts) = rig.commands(meter.id).await.pop().unwrap();
    assert_eq!(
        attempts, 3,
        "sent, then retried up to the transport's limit"
    );
    let alarms = rig.alarms().await;
    assert!(
        alarms.contains(&("command_expired".into(), Some(meter.id), "open".into())),
        "{alarms:?}"
    );
}

#[tokio::test]
async fn a_delayed_old_cut_off_never_overrides_a_newer_reconnect() {
    let rig = Rig::new(1, quick_config()).await;
    let meter = rig.mqtt_meter(0, Utility::Electricity, 10_000).await;
    // Cut, then reconnect, both queued before the outbox runs: the cut is superseded here.
    meter.device.publish(&reading(20, "1011")).await.unwrap();
    assert!(eventually(WAIT, || async { rig.fx.state(meter.wallet).await == "cut" }).await);
    rig.fx.top_up(meter.wallet, 10_000, "quick").await;
    rig.fleet.wake();
    assert!(
        eventually(WAIT, || async {
            rig.commands(meter.id)
                .await
                .last()
                .is_some_and(|c| c.0 == "open" && c.1 == "acknowledged")
        })
        .await,
        "{:?}",
        rig.commands(meter.id).await
    );
    assert_eq!(meter.device.meter().relay, Relay::Open);

    // The network delivers an old cut-off late: the meter refuses it as stale.
    let old_close = Downlink {
        command_id: 999_999,
        seq: 1,
        command: app::domain::fleet::CommandKind::Close,
        params: serde_json::Value::Null,
        expires_at: Utc::now() + Span::minutes(5),
    };
    rig.transport
        .send(&meter.device.serial, &old_close)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        meter.device.meter().relay,
        Relay::Open,
        "the stale cut-off was ignored"
    );
}

#[tokio::test]
async fn a_gas_leak_shuts_the_valve_at_once_and_a_top_up_does_not_reopen_it() {
    let rig = Rig::new(1, quick_config()).await;
    let meter = rig.mqtt_meter(0, Utility::Gas, 10_000).await;
    let alarm = Uplink::Alarm(Alarm {
        at: Some(Utc::now()),
        kind: MeterAlarm::GasLeak,
        detail: "sensor 2".into(),
    });
    meter.device.publish(&alarm).await.unwrap();
    meter.device.publish(&alarm).await.unwrap(); // a repeat changes nothing
    assert!(
        eventually(WAIT, || async {
            meter.device.meter().relay == Relay::Closed
        })
        .await,
        "the valve closed"
    );
    let alarms = rig.alarms_of(meter.id).await;
    assert_eq!(
        alarms,
        vec![("gas_leak".to_owned(), Some(meter.id), "open".to_owned())]
    );
    let notices = rig.fx.notices(meter.wallet).await;
    assert!(
        notices.contains(&"alarm_gas_leak".to_owned()),
        "the resident is told: {notices:?}"
    );

    rig.fx.top_up(meter.wallet, 10_000, "after-leak").await;
    rig.fleet.wake();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        meter.device.meter().relay,
        Relay::Closed,
        "credit never reopens a safety hold"
    );
    assert!(
        rig.commands(meter.id).await.iter().all(|c| c.0 == "close"),
        "{:?}",
        rig.commands(meter.id).await
    );

    // A manager may not lift it; the technician (operator) may.
    let manager = server::fleet::ops::Actor {
        user: 1,
        roles: vec![app::domain::Role::Manager],
    };
    let refused = rig
        .fleet
        .operate(
            &manager,
            meter.id,
            app::domain::fleet::Operation::Open,
            "fixed",
        )
        .await;
    assert!(refused.is_err());
    let technician = server::fleet::ops::Actor {
        user: 1,
        roles: vec![app::domain::Role::Operator],
    };
    rig.fleet
        .operate(
            &technician,
            meter.id,
            app::domain::fleet::Operation::Open,
            "leak fixed",
        )
        .await
        .unwrap();
    assert!(eventually(WAIT, || async { meter.device.meter().relay == Relay::Open }).await);
    let alarm_id: i64 = server::on_db!(&rig.fx.db, pool => {
        sqlx::query_scalar("SELECT id FROM alarms WHERE kind = 'gas_leak'").fetch_one(pool).await
    })
    .unwrap();
    rig.fleet
        .step_alarm(1, alarm_id, AlarmStep::Acknowledge, "on site")
        .await
        .unwrap();
    rig.fleet
        .step_alarm(1, alarm_id, AlarmStep::Resolve, "valve replaced")
        .await
        .unwrap();
    assert!(
        rig.fleet
            .step_alarm(1, alarm_id, AlarmStep::Resolve, "again")
            .await
            .is_err()
    );
    let steps: Vec<String> = server::on_db!(&rig.fx.db, pool => {
        sqlx::query_scalar("SELECT action FROM audit_log WHERE subject_type = 'alarm' AND subject_id = $1 ORDER BY id")
            .bind(alarm_id.to_string()).fetch_all(pool).await
    }).unwrap();
    assert_eq!(
        steps,
        ["alarm_opened", "alarm_acknowledged", "alarm_resolved"]
    );
}

#[tokio::test]
async fn a_meter_cannot_publish_as_another_and_bad_payloads_change_nothing() {
    let rig = Rig::new(2, quick_config()).await;
    let honest = rig.mqtt_meter(0, Utility::Electricity, 10_000).await;
    let victim = rig.mqtt_meter(1, Utility::Electricity, 10_000).await;
    // The broker's access rules drop a reading published under the other meter's topic.
    honest
        .device
        .publish_as(&victim.device.serial, &reading(10, "1009"))
        .await
        .unwrap();
    honest
        .device
        .publish_raw(
            "reading",
            br#"{"taken_at":"2026-01-01T00:00:00Z","register":9}"#,
        )
        .await
        .unwrap();
    // Then a good reading of its own: once it is in, the others would have been too.
    honest.device.publish(&reading(5, "1001")).await.unwrap();
    assert!(
        eventually(WAIT, || async {
            rig.fx.balance(honest.wallet).await == 9_000
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        rig.readings(victim.id).await.len(),
        1,
        "only the victim's baseline"
    );
    assert_eq!(rig.fx.balance(victim.wallet).await, 10_000);
}

#[tokio::test]
async fn the_cut_off_cap_holds_mass_switching_for_a_manager_but_never_a_safety_shut_off() {
    let rig = Rig::new(4, quick_config()).await;
    rig.set_rules(FleetRules {
        credit_cuts_per_minute: 2,
        ..FleetRules::default()
    })
    .await;
    let mut meters = Vec::new();
    for unit in 0..3 {
        meters.push(rig.mqtt_meter(unit, Utility::Electricity, 1_000).await);
    }
    let gas = rig.mqtt_meter(3, Utility::Gas, 10_000).await;
    for meter in &meters {
        meter.device.publish(&reading(5, "1002")).await.unwrap();
    }
    let cut = || async {
        let mut closed = 0;
        for meter in &meters {
            closed += usize::from(meter.device.meter().relay == Relay::Closed);
        }
        closed
    };
    assert!(
        eventually(WAIT, || async { cut().await == 2 }).await,
        "two cut-offs go out"
    );
    let held = || async {
        let mut held = 0;
        for meter in &meters {
            held += rig
                .commands(meter.id)
                .await
                .iter()
                .filter(|c| c.1 == "held")
                .count();
        }
        held
    };
    assert!(eventually(WAIT, || async { held().await == 1 }).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(cut().await, 2, "the third waits for a manager");
    assert!(
        rig.alarms()
            .await
            .iter()
            .any(|a| a.0 == "cut_cap" && a.2 == "open")
    );

    // A gas leak over the cap still shuts the valve at once.
    gas.device
        .publish(&Uplink::Alarm(Alarm {
            at: None,
            kind: MeterAlarm::GasLeak,
            detail: String::new(),
        }))
        .await
        .unwrap();
    assert!(eventually(WAIT, || async { gas.device.meter().relay == Relay::Closed }).await);

    let released = rig.fleet.release_held(1, rig.fx.site.0).await.unwrap();
    assert_eq!(released, 1);
    assert!(
        eventually(WAIT, || async { cut().await == 3 }).await,
        "released cut-offs go out"
    );
    assert!(
        rig.alarms()
            .await
            .iter()
            .any(|a| a.0 == "cut_cap" && a.2 == "resolved")
    );
}

#[tokio::test]
async fn status_reports_keep_the_meter_record_and_raise_tamper_and_clock_faults() {
    let rig = Rig::new(1, quick_config()).await;
    let meter = rig.mqtt_meter(0, Utility::Electricity, 1_000).await;
    meter.device.publish(&reading(5, "1002")).await.unwrap();
    assert!(
        eventually(WAIT, || async {
            rig.commands(meter.id)
                .await
                .last()
                .is_some_and(|c| c.0 == "close" && c.1 == "acknowledged")
        })
        .await
    );
    // Someone bridges the relay: the meter reports it open while the account is cut.
    let status = server::fleet::wire::Status {
        at: Some(Utc::now()),
        relay: Some(Relay::Open),
        signal_dbm: Some(-71),
        battery_pct: Some(88),
        clock: Some(Utc::now() + Span::minutes(10)),
        power_kw: None,
    };
    meter.device.publish(&Uplink::Status(status)).await.unwrap();
    assert!(
        eventually(WAIT, || async { rig.alarms_of(meter.id).await.len() == 2 }).await,
        "{:?}",
        rig.alarms().await
    );
    let kinds: Vec<String> = rig
        .alarms_of(meter.id)
        .await
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert!(
        kinds.contains(&"tamper".to_owned()) && kinds.contains(&"clock_drift".to_owned()),
        "{kinds:?}"
    );
    let (signal, battery, reported): (Option<i32>, Option<i32>, Option<String>) = server::on_db!(&rig.fx.db, pool => {
        sqlx::query_as("SELECT signal_dbm, battery_pct, relay_reported FROM meter_status WHERE meter_id = $1")
            .bind(meter.id).fetch_one(pool).await
    }).unwrap();
    assert_eq!(
        (signal, battery, reported.as_deref()),
        (Some(-71), Some(88), Some("open"))
    );
}

/// A radio link that loses 30% of what it carries, both ways: every relay command ends
/// acknowledged, superseded by a newer one, or expired with an alarm, and the relay never
/// ends in a state older than the newest command the meter acknowledged.
#[tokio::test]
async fn over_a_link_losing_thirty_percent_every_command_settles_and_no_stale_one_wins() {
    // Two tries a command: with 30% lost each way, about a quarter expire.
    let mut config = quick_config();
    config.mqtt = Delivery {
        max_attempts: 2,
        ..config.mqtt
    };
    let rig = Rig::new(4, config).await;
    let mut meters = Vec::new();
    for unit in 0..4 {
        let meter = rig.mqtt_meter(unit, Utility::Electricity, 10_000).await;
        meter
            .device
            .set_loss(30, 0x9e37_79b9_7f4a_7c15 + unit as u64);
        meters.push(meter);
    }
    let actor = server::fleet::ops::Actor {
        user: 1,
        roles: vec![app::domain::Role::Admin],
    };
    for round in 0..6 {
        let operation = if round % 2 == 0 {
            app::domain::fleet::Operation::Close
        } else {
            app::domain::fleet::Operation::Open
        };
        for meter in &meters {
            rig.fleet
                .operate(&actor, meter.id, operation.clone(), "lossy link test")
                .await
                .unwrap();
        }
        // Some rounds overlap the one before, some follow it settled.
        tokio::time::sleep(Duration::from_millis(if round % 2 == 1 {
            2_000
        } else {
            300
        }))
        .await;
    }
    let settled = ["acknowledged", "superseded", "expired", "failed"];
    let all_settled = eventually(Duration::from_secs(30), || async {
        for meter in &meters {
            if !rig
                .commands(meter.id)
                .await
                .iter()
                .all(|(_, status, _)| settled.contains(&status.as_str()))
            {
                return false;
            }
        }
        true
    })
    .await;
    assert!(all_settled, "every command ends in a final state");

    let (mut acknowledged, mut expired) = (0, 0);
    for meter in &meters {
        let commands: Vec<_> = rig
            .commands(meter.id)
            .await
            .into_iter()
            .filter(|(command, _, _)| command == "open" || command == "close")
            .collect();
        let alarms = rig.alarms_of(meter.id).await;
        let expired_here = commands.iter().filter(|c| c.1 == "expired").count();
        expired += expired_here;
        acknowledged += commands.iter().filter(|c| c.1 == "acknowledged").count();
        if expired_here > 0 {
            assert!(
                alarms.iter().any(|alarm| alarm.0 == "command_expired"),
                "an expired command raises an alarm: {alarms:?}"
            );
        }
        // The relay is in the state of the newest acknowledged command or of a newer one
        // (a newer command may have been applied with its answer lost).
        let newest_acknowledged = commands.iter().rposition(|c| c.1 == "acknowledged");
        let relay = meter.device.meter().relay;
        let intent = |command: &str| {
            if command == "open" {
                Relay::Open
            } else {
                Relay::Closed
            }
        };
        if let Some(index) = newest_acknowledged {
            assert!(
                commands[index..].iter().any(|c| intent(&c.0) == relay),
                "relay {relay:?} is older than the newest acknowledged command: {commands:?}"
            );
        }
    }
    assert!(acknowledged > 0, "commands get through a lossy link");
    eprintln!(
        "over a 30% lossy link: {acknowledged} relay commands acknowledged, {expired} expired with an alarm"
    );
}
