//! How long a large site sheet takes to check and to import: `cargo bench -p server --bench
//! sheet [-- UNITS]` (10,000 units by default). SQLite by default; with
//! `PREPAID_BENCH_POSTGRES_URL` (a role that may create databases) on a fresh PostgreSQL
//! database instead.
//!
//! The sheet is what a campus office would upload: `UNITS` units in 20 buildings, each with an
//! electricity, a water and a gas meter (MQTT, so each gets a broker password) and a resident:
//! three lines a unit. Timed once each, as the console runs them: the dry run, the import (one
//! transaction, then every first register rated as the meters' baselines), the export, and
//! the export checked again (nothing to add).

use app::domain::{Caller, Grant, OrgId, Role, UserId};
use server::{Platform, on_db};
use std::time::Instant;
use support::{build_site, open_platform, peak_memory_mb};

mod support;

fn main() {
    support::run(bench());
}

async fn bench() {
    let units: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000)
        .max(1);
    let postgres = std::env::var("PREPAID_BENCH_POSTGRES_URL").ok();
    println!(
        "sheet benchmark: {units} units, {} lines, {}",
        units * 3,
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite, WAL"
        }
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let platform = open_platform(dir.path(), "sheet").await;
    let (site, _, _) = build_site(&platform.db, 0).await;
    let caller = manager(&platform, site).await;
    let sheets = platform.ports().sheets;
    let text = sheet(units);
    println!("  the file: {:.1} MB", text.len() as f64 / 1e6);

    let timer = Instant::now();
    let checked = sheets.check_sheet(site, &text).await.expect("checks");
    println!(
        "dry run:            {:>8.2} s ({} lines, {} problems)",
        timer.elapsed().as_secs_f64(),
        checked.lines,
        checked.problems.len()
    );
    assert!(checked.problems.is_empty(), "{:?}", &checked.problems[..1]);

    let timer = Instant::now();
    let imported = sheets
        .import_sheet(&caller, site, &text, false, "")
        .await
        .expect("imports");
    println!(
        "import:             {:>8.2} s ({} units, {} meters, {} residents)",
        timer.elapsed().as_secs_f64(),
        imported.units,
        imported.meters,
        imported.residents
    );
    assert!(imported.committed);

    let timer = Instant::now();
    let exported = sheets.export_sheet(site).await.expect("exports");
    println!(
        "export:             {:>8.2} s ({} lines)",
        timer.elapsed().as_secs_f64(),
        exported.lines().count() - 1
    );
    let timer = Instant::now();
    let again = sheets.check_sheet(site, &exported).await.expect("checks");
    println!(
        "export checked:     {:>8.2} s ({} meters to add)",
        timer.elapsed().as_secs_f64(),
        again.meters
    );
    if let Some(peak) = peak_memory_mb() {
        println!("peak memory:        {peak:>8.0} MB (this process)");
    }
}

/// Three lines a unit: its electricity, water and gas meters, each naming its resident.
fn sheet(units: usize) -> String {
    let mut text = String::from(
        "building,unit,kind,utility,serial,multiplier,first_register,transport,resident_email,resident_name,resident_phone\n",
    );
    for unit in 0..units {
        let building = unit % 20;
        for utility in ["electricity", "water", "gas"] {
            text.push_str(&format!(
                "Hall {building},R{unit:05},dorm_room,{utility},{}-{unit:05},1,{}.5,mqtt,r{unit}@bench.example,Resident {unit},\n",
                utility[..1].to_uppercase(),
                unit % 900
            ));
        }
    }
    text
}

/// A manager of the site, made directly: the import's audit entry names them.
async fn manager(platform: &Platform, site: app::domain::SiteId) -> Caller {
    let (user, org): (i64, i64) = on_db!(&platform.db, pool => {
        let org: i64 = sqlx::query_scalar("SELECT organisation_id FROM sites WHERE id = $1")
            .bind(site.0).fetch_one(pool).await?;
        let user: i64 = sqlx::query_scalar(
            "INSERT INTO users (organisation_id, email, display_name, password_hash, created_at) \
             VALUES ($1, 'manager@bench.example', 'Manager', 'x', $2) RETURNING id")
            .bind(org).bind(chrono::Utc::now()).fetch_one(pool).await?;
        Ok::<_, sqlx::Error>((user, org))
    })
    .expect("the manager");
    Caller {
        user_id: UserId(user),
        org_id: OrgId(org),
        email: "manager@bench.example".into(),
        display_name: "Manager".into(),
        grants: vec![Grant {
            role: Role::Manager,
            site: Some(site),
        }],
        must_change_password: false,
        sessions_valid_from: None,
        two_factor: false,
        two_factor_required: false,
    }
}
