//! What the benchmarks share: a site of many occupied units with three meters each.

#![allow(dead_code)]

use app::domain::Utility;
use chrono::{Duration, Utc};
use server::{db::Db, on_db};

/// Runs a benchmark as the binary runs the server: on the runtime `server::allocator` starts,
/// with the allocator configured as the server configures it.
pub fn run(bench: impl std::future::Future<Output = ()>) {
    server::allocator::runtime()
        .expect("a runtime")
        .block_on(bench);
}

/// `units` occupied units with an electricity, a water and a gas meter each.
pub async fn build_site(db: &Db, units: usize) -> (app::domain::SiteId, Vec<i64>, Vec<i64>) {
    let created = Utc::now() - Duration::days(400);
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let org: i64 = sqlx::query_scalar("INSERT INTO organisations (name, created_at) VALUES ('Bench', $1) RETURNING id")
            .bind(created).fetch_one(&mut *tx).await?;
        let site: i64 = sqlx::query_scalar(
            "INSERT INTO sites (organisation_id, name, time_zone, currency, locale, created_at) \
             VALUES ($1, 'Bench Site', 'Africa/Nairobi', 'KES', 'en-KE', $2) RETURNING id")
            .bind(org).bind(created).fetch_one(&mut *tx).await?;
        let building: i64 = sqlx::query_scalar("INSERT INTO buildings (site_id, name) VALUES ($1, 'Tower') RETURNING id")
            .bind(site).fetch_one(&mut *tx).await?;
        let (mut unit_ids, mut meter_ids) = (Vec::new(), Vec::new());
        for i in 0..units {
            let unit: i64 = sqlx::query_scalar("INSERT INTO units (building_id, name) VALUES ($1, $2) RETURNING id")
                .bind(building).bind(format!("U{i:05}")).fetch_one(&mut *tx).await?;
            for utility in Utility::ALL {
                let meter: i64 = sqlx::query_scalar(
                    "INSERT INTO meters (unit_id, utility, serial, unit_of_measure, installed_at) VALUES ($1, $2, $3, 'u', $4) RETURNING id")
                    .bind(unit).bind(utility.as_str()).bind(format!("{}{i}", utility.as_str())).bind(created)
                    .fetch_one(&mut *tx).await?;
                meter_ids.push(meter);
            }
            let user: i64 = sqlx::query_scalar(
                "INSERT INTO users (organisation_id, email, display_name, password_hash, created_at) \
                 VALUES ($1, $2, 'Resident', 'x', $3) RETURNING id")
                .bind(org).bind(format!("u{i}@bench.example")).bind(created).fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
                .bind(unit).bind(user).bind(created).execute(&mut *tx).await?;
            unit_ids.push(unit);
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>((app::domain::SiteId(site), unit_ids, meter_ids))
    })
    .expect("the bench site")
}

/// The platform on a fresh database named `name`: a SQLite file in `dir`, or with
/// `PREPAID_BENCH_POSTGRES_URL` a new PostgreSQL database beside the one it names.
pub async fn open_platform(dir: &std::path::Path, name: &str) -> server::Platform {
    let url = match std::env::var("PREPAID_BENCH_POSTGRES_URL").ok() {
        Some(admin) => fresh_postgres(&admin, name).await,
        None => format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
    };
    server::Platform::open(server::config::Config {
        data_dir: dir.to_path_buf(),
        database_url: Some(server::config::Secret::new(&url)),
        ..server::config::Config::default()
    })
    .await
    .expect("opens")
}

/// A new, empty PostgreSQL database `prepaid_bench_{name}` beside the one `admin_url` names,
/// dropped first if an earlier run left it; its URL.
pub async fn fresh_postgres(admin_url: &str, name: &str) -> String {
    let database = format!("prepaid_bench_{name}");
    let admin = Db::connect(admin_url).await.expect("PostgreSQL");
    on_db!(&admin, pool => {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {database}")).execute(pool).await?;
        sqlx::query(&format!("CREATE DATABASE {database}")).execute(pool).await.map(|_| ())
    })
    .expect("a database for the benchmark (the role needs CREATEDB)");
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("a database URL");
    format!("{base}/{database}")
}

/// The process's peak resident memory so far (Linux's `VmHWM`), in MB.
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
