//! Demo data for the README's run command: one organisation, one site, two buildings of 40
//! units, each unit with electricity, water and gas meters, residents in most units, an admin
//! and a manager; each building's plant room with a bulk water meter feeding its flats.
//! Seeding twice changes nothing.

use crate::{
    audit::AuditEntry,
    auth::password,
    db::Db,
    engine::{Engine, EngineError, money::Source, setup::BillingMode},
    on_db, on_db_write,
};
use app::domain::{
    Minor, SiteId, UnitId, Utility,
    fleet::FleetRules,
    supply::SupplyPolicy,
    tariff::{Band, BandKind, ClockTime, Days, Tariff, Tier},
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

pub const ORGANISATION: &str = "Demo Housing Co-operative";
pub const SITE: &str = "Riverside Campus";
/// One password for every demo account, printed at start and listed in the README.
pub const PASSWORD: &str = "prepaid-demo";
pub const ADMIN: &str = "admin@demo.example";
pub const MANAGER: &str = "manager@demo.example";
/// Cash above KES 5,000 taken at the demo's desk waits for a second person's approval.
pub const CASH_APPROVAL_OVER: Minor = Minor(500_000);
pub const BUILDINGS: [&str; 2] = ["Block A", "Block B"];
const FLOORS: u32 = 4;
const UNITS_PER_FLOOR: u32 = 10;
/// Every tenth unit stays vacant, so the demo shows vacancies too.
const VACANT_EVERY: u32 = 10;

/// A demo resident's e-mail address, such as `a101@demo.example` for unit A-101.
pub fn resident_email(unit_name: &str) -> String {
    format!("{}@demo.example", unit_name.replace('-', "").to_lowercase())
}

fn unit_names(building: &str) -> impl Iterator<Item = String> + '_ {
    let letter = building.chars().last().unwrap_or('X');
    (1..=FLOORS).flat_map(move |floor| {
        (1..=UNITS_PER_FLOOR).map(move |number| format!("{letter}-{floor}{number:02}"))
    })
}

#[derive(Debug)]
pub enum Seeded {
    Created { units: usize, residents: usize },
    AlreadyThere,
}

pub async fn seed(db: &Db) -> Result<Seeded, sqlx::Error> {
    let exists: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM organisations WHERE name = $1").bind(ORGANISATION).fetch_optional(pool).await
    })?;
    if exists.is_some() {
        return Ok(Seeded::AlreadyThere);
    }
    // Demo only: one hash shared by every demo account keeps seeding quick. Real accounts
    // each get their own salt.
    let hash = password::hash(PASSWORD.to_owned()).await.0;
    let now = Utc::now();
    on_db_write!(db, pool => {
        let mut tx = pool.begin().await?;
        let org: i64 = sqlx::query_scalar("INSERT INTO organisations (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(ORGANISATION)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        let site: i64 = sqlx::query_scalar(
            "INSERT INTO sites (organisation_id, name, time_zone, currency, locale, created_at) \
             VALUES ($1, $2, 'Africa/Nairobi', 'KES', 'en-KE', $3) RETURNING id",
        )
        .bind(org)
        .bind(SITE)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let insert_user = "INSERT INTO users (organisation_id, email, display_name, password_hash, \
             must_change_password, active, created_at) VALUES ($1, $2, $3, $4, FALSE, TRUE, $5) RETURNING id";
        let admin: i64 = sqlx::query_scalar(insert_user)
            .bind(org).bind(ADMIN).bind("Amina Admin").bind(&hash).bind(now)
            .fetch_one(&mut *tx).await?;
        sqlx::query("INSERT INTO role_grants (user_id, role, site_id, granted_at) VALUES ($1, 'admin', NULL, $2)")
            .bind(admin).bind(now).execute(&mut *tx).await?;
        let manager: i64 = sqlx::query_scalar(insert_user)
            .bind(org).bind(MANAGER).bind("Moses Manager").bind(&hash).bind(now)
            .fetch_one(&mut *tx).await?;
        sqlx::query("INSERT INTO role_grants (user_id, role, site_id, granted_at) VALUES ($1, 'manager', $2, $3)")
            .bind(manager).bind(site).bind(now).execute(&mut *tx).await?;

        let (mut units, mut residents) = (0, 0);
        for building_name in BUILDINGS {
            let building: i64 = sqlx::query_scalar("INSERT INTO buildings (site_id, name) VALUES ($1, $2) RETURNING id")
                .bind(site).bind(building_name).fetch_one(&mut *tx).await?;
            for (index, unit_name) in unit_names(building_name).enumerate() {
                let unit: i64 = sqlx::query_scalar("INSERT INTO units (building_id, name, kind) VALUES ($1, $2, 'flat') RETURNING id")
                    .bind(building).bind(&unit_name).fetch_one(&mut *tx).await?;
                units += 1;
                for utility in Utility::ALL {
                    let prefix = match utility {
                        Utility::Electricity => "EL",
                        Utility::Water => "WA",
                        Utility::Gas => "GA",
                    };
                    sqlx::query(
                        "INSERT INTO meters (unit_id, utility, serial, unit_of_measure, multiplier, installed_at) \
                         VALUES ($1, $2, $3, $4, '1', $5)",
                    )
                    .bind(unit)
                    .bind(utility.as_str())
                    .bind(format!("{prefix}-{}", unit_name.replace('-', "")))
                    .bind(utility.default_unit_of_measure())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                if (index as u32 + 1).is_multiple_of(VACANT_EVERY) {
                    continue;
                }
                let resident: i64 = sqlx::query_scalar(insert_user)
                    .bind(org)
                    .bind(resident_email(&unit_name))
                    .bind(format!("Resident of {unit_name}"))
                    .bind(&hash)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
                    .bind(unit).bind(resident).bind(now).execute(&mut *tx).await?;
                residents += 1;
            }
        }
        let entry = AuditEntry::new("demo_seeded", "organisation", org)
            .by(org, None)
            .after(serde_json::json!({ "units": units, "residents": residents }));
        entry.append(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Seeded::Created { units, residents })
    })
}

/// The demo site's id, unless `settings` (a table keyed by site) has its row already.
async fn unset_demo_site(db: &Db, settings: &'static str) -> Result<Option<i64>, sqlx::Error> {
    let sql = format!(
        "SELECT s.id, EXISTS (SELECT 1 FROM {settings} t WHERE t.site_id = s.id) FROM sites s \
         JOIN organisations o ON o.id = s.organisation_id WHERE o.name = $1 AND s.name = $2"
    );
    let site: Option<(i64, bool)> = on_db!(db, pool => {
        sqlx::query_as(&sql).bind(ORGANISATION).bind(SITE).fetch_optional(pool).await
    })?;
    Ok(site.and_then(|(site, set)| (!set).then_some(site)))
}

/// The demo site's fleet rules, once: the simulator runs `speed` times faster than real time,
/// so a limit on use per hour is scaled to match (power is instantaneous and is not).
pub async fn seed_fleet(
    fleet: &crate::fleet::Fleet,
    speed: u32,
) -> Result<(), crate::fleet::FleetError> {
    let Some(site) = unset_demo_site(&fleet.engine().db, "fleet_rules").await? else {
        return Ok(());
    };
    let defaults = FleetRules::default();
    let rules = FleetRules {
        water_spike_per_hour: defaults
            .water_spike_per_hour
            .map(|limit| limit * rust_decimal::Decimal::from(speed.max(1))),
        ..defaults
    };
    fleet.set_rules(None, site, &rules).await?;
    seed_bulk_meters(&fleet.engine().db, site).await?;
    raise_demo_alarm(fleet).await
}

/// Each building's plant room and its bulk water meter (`WA-ABULK`, `WA-BBULK`), through
/// which the building's flats are fed: the loss report opens on something. The simulator
/// makes a bulk meter read what its flats use plus a little of its own (the common taps).
async fn seed_bulk_meters(db: &Db, site: i64) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    on_db_write!(db, pool => {
        let mut tx = pool.begin().await?;
        for building_name in BUILDINGS {
            let letter = building_name.chars().last().unwrap_or('X');
            let building: i64 = sqlx::query_scalar("SELECT id FROM buildings WHERE site_id = $1 AND name = $2")
                .bind(site).bind(building_name).fetch_one(&mut *tx).await?;
            let unit: i64 = sqlx::query_scalar(
                "INSERT INTO units (building_id, name, kind) VALUES ($1, $2, 'common_area') RETURNING id",
            )
            .bind(building).bind(format!("{letter}-plant")).fetch_one(&mut *tx).await?;
            let bulk: i64 = sqlx::query_scalar(
                "INSERT INTO meters (unit_id, utility, serial, unit_of_measure, multiplier, installed_at) \
                 VALUES ($1, 'water', $2, $3, '1', $4) RETURNING id",
            )
            .bind(unit)
            .bind(format!("WA-{letter}BULK"))
            .bind(Utility::Water.default_unit_of_measure())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE meters SET master_meter_id = $1 WHERE utility = 'water' AND id <> $1 \
                 AND unit_id IN (SELECT id FROM units WHERE building_id = $2)",
            )
            .bind(bulk).bind(building).execute(&mut *tx).await?;
        }
        tx.commit().await
    })
}

/// The meter whose cover the demo finds opened, so the alarms console and the meters' health
/// open on something to look at (acknowledge it, add a note, resolve it).
pub const TAMPERED_METER: &str = "EL-B207";

async fn raise_demo_alarm(fleet: &crate::fleet::Fleet) -> Result<(), crate::fleet::FleetError> {
    use crate::fleet::alarms::{Subject, raise};
    let Some(meter) = fleet.meter(TAMPERED_METER).await? else {
        return Ok(());
    };
    let _turn = fleet.engine().turn().await;
    let mut tx = fleet.engine().db.begin_write().await?;
    raise(
        &mut tx,
        Subject::Meter(&meter),
        app::domain::fleet::AlarmKind::Tamper,
        "terminal cover opened",
        Utc::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The demo site pays through the built-in sandbox, once.
pub async fn seed_payments(payments: &crate::payments::Payments) -> Result<(), EngineError> {
    let Some(site) = unset_demo_site(&payments.engine.db, "payment_providers").await? else {
        return Ok(());
    };
    payments
        .configure(
            site,
            app::domain::payments::ProviderKind::Sandbox,
            true,
            serde_json::json!({}),
            serde_json::json!({}),
        )
        .await?;
    seed_moved_out(&payments.engine, site).await
}

/// The demo flat whose electricity meter takes keypad tokens (OpenPAYGO, extended: twelve
/// digits carry up to 99,999.9 kWh in steps of 0.1, so any top-up fits one token).
pub const KEYPAD_UNIT: &str = "A-106";

/// Makes one demo flat's electricity meter a keypad meter, once: its top-ups become tokens.
pub async fn seed_tokens(tokens: &crate::tokens::Tokens, db: &Db) -> Result<(), EngineError> {
    let meter: Option<(i64, bool)> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT m.id, EXISTS (SELECT 1 FROM token_meters t WHERE t.meter_id = m.id) FROM meters m \
             JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = b.site_id \
             WHERE s.name = $1 AND u.name = $2 AND m.utility = 'electricity' AND m.removed_at IS NULL",
        )
        .bind(SITE)
        .bind(KEYPAD_UNIT)
        .fetch_optional(pool)
        .await
    })?;
    let Some((meter, false)) = meter else {
        return Ok(());
    };
    tokens
        .provision(
            meter,
            crate::tokens::Provision {
                vendor: crate::tokens::VendorKind::OpenPaygo,
                key: crate::tokens::KeySource::Generate,
                format: crate::tokens::openpaygo::Format {
                    extended: true,
                    restricted: false,
                },
                value_step: rust_decimal::Decimal::new(1, 1),
            },
            None,
        )
        .await?;
    Ok(())
}

/// Who moved out of a demo flat with credit left, so the payments page has a refund to pay.
pub const FORMER_RESIDENT: &str = "wanjiru@demo.example";
const FORMER_UNIT: &str = "B-410";
const FORMER_CREDIT: Minor = Minor(125_000);

/// A resident of a (now vacant) flat who topped up and moved out: the move-out owes them
/// what was left.
async fn seed_moved_out(engine: &Engine, site: i64) -> Result<(), EngineError> {
    let (unit, org): (i64, i64) = on_db!(&engine.db, pool => {
        sqlx::query_as(
            "SELECT u.id, s.organisation_id FROM units u JOIN buildings b ON b.id = u.building_id \
             JOIN sites s ON s.id = b.site_id WHERE s.id = $1 AND u.name = $2",
        )
        .bind(site)
        .bind(FORMER_UNIT)
        .fetch_one(pool)
        .await
    })?;
    let hash = password::hash(PASSWORD.to_owned()).await.0;
    let now = Utc::now();
    let person: i64 = on_db_write!(&engine.db, pool => {
        let person: i64 = sqlx::query_scalar(
            "INSERT INTO users (organisation_id, email, display_name, password_hash, must_change_password, active, created_at) \
             VALUES ($1, $2, 'Wanjiru Kamau', $3, FALSE, TRUE, $4) RETURNING id",
        )
        .bind(org)
        .bind(FORMER_RESIDENT)
        .bind(&hash)
        .bind(now - chrono::Duration::days(90))
        .fetch_one(pool)
        .await?;
        sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
            .bind(unit)
            .bind(person)
            .bind(now - chrono::Duration::days(90))
            .execute(pool)
            .await
            .map(|_| person)
    })?;
    engine.move_in(UnitId(unit)).await?;
    let wallet: i64 = on_db!(&engine.db, pool => {
        sqlx::query_scalar(
            "SELECT w.account_id FROM wallets w JOIN accounts a ON a.id = w.account_id \
             WHERE w.unit_id = $1 AND w.closed_at IS NULL ORDER BY a.utility LIMIT 1",
        )
        .bind(unit)
        .fetch_one(pool)
        .await
    })?;
    let source = Source::Provider {
        provider: "sandbox".into(),
        reference: format!("demo-former-{wallet}"),
    };
    engine.top_up(wallet, FORMER_CREDIT, source, None).await?;
    engine
        .move_out(UnitId(unit), person, Vec::new(), None, None)
        .await?;
    Ok(())
}

/// The demo site's tariffs and rules, its residents' prepaid accounts and opening top-ups
/// (varied, so the console shows healthy, low and empty accounts). Runs once: `None` when the
/// site was set up before.
pub async fn seed_engine(engine: &Engine) -> Result<Option<usize>, EngineError> {
    let Some(site) = unset_demo_site(&engine.db, "site_policies").await? else {
        return Ok(None);
    };
    let site = SiteId(site);
    // No friendly hours here: the demo shows cut-offs whatever the hour it runs at. A real
    // site sets its own (the policy supports nights, weekends and per-utility rules).
    let policy = SupplyPolicy {
        friendly_from: None,
        friendly_to: None,
        friendly_weekends: false,
        ..SupplyPolicy::default()
    };
    engine
        .set_policy(site, BillingMode::PerMeter, &policy)
        .await?;
    engine
        .set_cash_approval_limit(site, CASH_APPROVAL_OVER, None)
        .await?;
    let since = DateTime::<Utc>::from_timestamp(1_767_225_600, 0).expect("2026-01-01"); // 2026-01-01T00:00Z
    for (utility, tariff) in demo_tariffs() {
        engine
            .set_tariff(site, utility, since, &tariff, None)
            .await?;
    }
    let units: Vec<i64> = on_db!(&engine.db, pool => {
        sqlx::query_scalar(
            "SELECT DISTINCT o.unit_id FROM occupancies o JOIN units u ON u.id = o.unit_id \
             JOIN buildings b ON b.id = u.building_id WHERE b.site_id = $1 ORDER BY o.unit_id",
        )
        .bind(site.0)
        .fetch_all(pool)
        .await
    })?;
    for unit in &units {
        engine.move_in(UnitId(*unit)).await?;
    }
    let wallets: Vec<i64> = on_db!(&engine.db, pool => {
        sqlx::query_scalar("SELECT account_id FROM wallets WHERE site_id = $1 AND unit_id IS NOT NULL ORDER BY account_id")
            .bind(site.0)
            .fetch_all(pool)
            .await
    })?;
    for (index, wallet) in wallets.iter().enumerate() {
        // Shillings, in cents: most healthy, some low, a few empty (cut within a minute).
        let amount = match index % 9 {
            0 => continue,
            4 => 15_000,
            _ => 50_000 + (index as i64 % 6) * 50_000,
        };
        let source = Source::Provider {
            provider: "sandbox".into(),
            reference: format!("demo-opening-{wallet}"),
        };
        engine.top_up(*wallet, Minor(amount), source, None).await?;
    }
    Ok(Some(wallets.len()))
}

/// Electricity: three blocks a month, dearer in the evening peak, cheaper at night, with VAT
/// and a daily standing charge. Water and gas: flat rates.
pub fn demo_tariffs() -> Vec<(Utility, Tariff)> {
    let d = |s: &str| s.parse::<Decimal>().expect("a decimal");
    let band = |kind, days, from: (u16, u16), to: (u16, u16), factor: &str| Band {
        kind,
        days,
        from: ClockTime::new(from.0, from.1).expect("a time"),
        to: ClockTime::new(to.0, to.1).expect("a time"),
        factor: d(factor),
    };
    let electricity = Tariff {
        tiers: vec![
            Tier {
                up_to: Some(d("30")),
                rate: d("12.00"),
            },
            Tier {
                up_to: Some(d("100")),
                rate: d("20.00"),
            },
            Tier {
                up_to: None,
                rate: d("25.00"),
            },
        ],
        bands: vec![
            band(BandKind::Peak, Days::Weekdays, (18, 0), (22, 0), "1.3"),
            band(BandKind::Valley, Days::All, (23, 0), (6, 0), "0.7"),
        ],
        standing_charge_per_day: d("3.00"),
        tax_percent: d("16"),
        min_top_up: d("10"),
        ..Tariff::flat(Decimal::ZERO)
    };
    vec![
        (Utility::Electricity, electricity),
        (
            Utility::Water,
            Tariff {
                min_top_up: d("10"),
                ..Tariff::flat(d("150.00"))
            },
        ),
        (
            Utility::Gas,
            Tariff {
                tax_percent: d("8"),
                min_top_up: d("10"),
                ..Tariff::flat(d("220.00"))
            },
        ),
    ]
}

/// The sign-ins printed at start in demo mode.
pub fn sign_ins() -> String {
    format!(
        "Demo sign-ins (password for all: {PASSWORD}):\n  admin     {ADMIN}\n  manager   {MANAGER}\n  \
         resident  {} (unit A-101; every occupied unit has one, e.g. {})\n  \
         keypad    {} (unit {KEYPAD_UNIT}: its electricity top-ups become OpenPAYGO tokens)\n\
         SMS and e-mails the demo would send (notices, password resets) are at /sandbox/messages",
        resident_email("A-101"),
        resident_email("B-205"),
        resident_email(KEYPAD_UNIT),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_building_has_forty_units_named_by_floor() {
        let names: Vec<String> = unit_names("Block A").collect();
        assert_eq!(names.len(), 40);
        assert_eq!(names.first().unwrap(), "A-101");
        assert_eq!(names.last().unwrap(), "A-410");
        assert_eq!(resident_email("A-101"), "a101@demo.example");
    }
}
