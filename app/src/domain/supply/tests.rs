//! One worked example per supply-control rule.

use super::*;
use chrono_tz::Africa::Nairobi;

fn situation(state: SupplyState, balance: i64) -> Situation {
    Situation {
        state,
        warned: 0,
        balance: Minor(balance),
        days_left: None,
        utility: Some(Utility::Electricity),
        friendly_now: false,
        vulnerable: false,
        emergency_outstanding: false,
    }
}

fn policy() -> SupplyPolicy {
    SupplyPolicy {
        warning_levels: vec![Minor(50_000), Minor(20_000), Minor(5_000)],
        reconnect_level: Minor(10_000),
        ..SupplyPolicy::default()
    }
}

#[test]
fn falling_through_a_warning_level_warns_once() {
    let first = decide(&policy(), &situation(SupplyState::On, 30_000));
    assert_eq!(first.state, Some(SupplyState::Low));
    assert_eq!(first.notices, vec![Notice::LowBalance(1)]);
    let again = decide(
        &policy(),
        &Situation {
            warned: 1,
            ..situation(SupplyState::Low, 29_000)
        },
    );
    assert_eq!(
        again,
        Decision {
            warned: 1,
            ..Decision::default()
        }
    );
    let deeper = decide(
        &policy(),
        &Situation {
            warned: 1,
            ..situation(SupplyState::Low, 4_000)
        },
    );
    assert_eq!(deeper.notices, vec![Notice::LowBalance(3)]);
    assert_eq!(deeper.warned, 3);
}

#[test]
fn few_days_left_warns_before_the_amount_levels() {
    let d = decide(
        &policy(),
        &Situation {
            days_left: Some(Decimal::from(2)),
            ..situation(SupplyState::On, 90_000)
        },
    );
    assert_eq!(d.state, Some(SupplyState::Low));
    assert_eq!(d.notices, vec![Notice::FewDaysLeft]);
}

#[test]
fn zero_cuts_electricity() {
    let d = decide(&policy(), &situation(SupplyState::Low, 0));
    assert_eq!(d.state, Some(SupplyState::Cut));
    assert_eq!(d.commands, vec![MeterCommand::Close]);
    assert_eq!(d.notices, vec![Notice::CutOff]);
}

#[test]
fn water_is_restricted_when_the_site_says_so() {
    let water = Situation {
        utility: Some(Utility::Water),
        ..situation(SupplyState::Low, -5)
    };
    let d = decide(&policy(), &water);
    assert_eq!(
        (d.state, d.commands),
        (Some(SupplyState::Restricted), vec![MeterCommand::Restrict])
    );
    let strict = SupplyPolicy {
        water_restrict: false,
        ..policy()
    };
    assert_eq!(decide(&strict, &water).commands, vec![MeterCommand::Close]);
}

#[test]
fn friendly_hours_never_cut() {
    let d = decide(
        &policy(),
        &Situation {
            friendly_now: true,
            ..situation(SupplyState::Low, -3_000)
        },
    );
    assert_eq!(d.state, None);
    assert!(d.commands.is_empty());
}

#[test]
fn vulnerable_households_are_never_cut_and_managers_are_told_once() {
    let s = Situation {
        vulnerable: true,
        ..situation(SupplyState::Low, -100)
    };
    let d = decide(&policy(), &s);
    assert_eq!(d.state, Some(SupplyState::Protected));
    assert!(d.commands.is_empty());
    assert_eq!(d.notices, vec![Notice::ProtectedAtZero]);
    assert!(Notice::ProtectedAtZero.for_managers());
    let later = decide(
        &policy(),
        &Situation {
            state: SupplyState::Protected,
            ..s
        },
    );
    assert!(later.notices.is_empty() && later.state.is_none());
}

#[test]
fn a_top_up_above_the_reconnect_level_reconnects() {
    let below = decide(&policy(), &situation(SupplyState::Cut, 9_999));
    assert_eq!(below.state, None);
    let d = decide(&policy(), &situation(SupplyState::Cut, 10_000));
    assert_eq!(d.state, Some(SupplyState::On));
    assert_eq!(d.commands, vec![MeterCommand::Open]);
    assert_eq!(d.notices, vec![Notice::Reconnected]);
}

#[test]
fn gas_waits_armed_for_the_resident_at_the_meter() {
    let gas = Situation {
        utility: Some(Utility::Gas),
        ..situation(SupplyState::Cut, 60_000)
    };
    let d = decide(&policy(), &gas);
    assert_eq!(d.state, Some(SupplyState::Armed));
    assert_eq!(d.commands, vec![MeterCommand::Arm]);
    let spent_again = decide(
        &policy(),
        &Situation {
            state: SupplyState::Armed,
            balance: Minor(0),
            ..gas
        },
    );
    assert_eq!(spent_again.state, Some(SupplyState::Cut));
    assert!(spent_again.commands.is_empty());
}

#[test]
fn emergency_credit_shows_until_repaid() {
    let d = decide(
        &policy(),
        &Situation {
            emergency_outstanding: true,
            ..situation(SupplyState::Cut, 20_000)
        },
    );
    assert_eq!(d.state, Some(SupplyState::Emergency));
    assert_eq!(d.commands, vec![MeterCommand::Open]);
    let on = decide(
        &policy(),
        &Situation {
            emergency_outstanding: true,
            ..situation(SupplyState::On, 20_000)
        },
    );
    assert_eq!(on.state, Some(SupplyState::Emergency));
}

#[test]
fn debt_recovery_takes_a_capped_share() {
    let p = policy();
    assert_eq!(
        p.debt_share(Minor(100_000), Minor(1_000_000)),
        Minor(25_000)
    );
    assert_eq!(p.debt_share(Minor(100_000), Minor(3_000)), Minor(3_000));
    assert_eq!(p.debt_share(Minor(100_000), Minor(0)), Minor(0));
}

#[test]
fn friendly_hours_follow_the_site_clock_weekends_and_holidays() {
    let p = SupplyPolicy {
        holidays: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
        ..policy()
    };
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    assert!(p.is_friendly(at("2026-06-15T16:00:00Z"), &Nairobi)); // Monday 19:00 local
    assert!(!p.is_friendly(at("2026-06-15T09:00:00Z"), &Nairobi)); // Monday 12:00 local
    assert!(p.is_friendly(at("2026-06-13T09:00:00Z"), &Nairobi)); // Saturday
    assert!(p.is_friendly(at("2026-12-25T09:00:00Z"), &Nairobi)); // a listed holiday
}

#[test]
fn days_left_follow_recent_spending() {
    assert_eq!(
        days_left(Minor(10_000), Decimal::from(2_500)),
        Some(Decimal::from(4))
    );
    assert_eq!(days_left(Minor(10_000), Decimal::ZERO), None);
    let spend = update_daily_spend(Decimal::ZERO, Minor(7_000), Decimal::from(7));
    assert_eq!(spend, Decimal::from(1_000));
}
