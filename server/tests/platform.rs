//! Start-up: migrations, shared secrets, demo data, and the same schema on PostgreSQL.

use crate::support;

use reqwest::StatusCode;
use server::{Platform, config::Secret, demo};
use support::{spawn_with, test_config};

#[tokio::test]
async fn instances_sharing_a_database_share_their_generated_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let first = Platform::open(test_config(dir.path())).await.unwrap();
    let second = Platform::open(test_config(dir.path())).await.unwrap();
    assert_eq!(first.secrets.session_key, second.secrets.session_key);
    assert_eq!(
        first.secrets.vapid_public_key,
        second.secrets.vapid_public_key
    );
    assert_eq!(first.secrets.webhook_secret, second.secrets.webhook_secret);
    let other_dir = tempfile::tempdir().unwrap();
    let elsewhere = Platform::open(test_config(other_dir.path())).await.unwrap();
    assert_ne!(first.secrets.session_key, elsewhere.secrets.session_key);
    assert!(!format!("{:?}", first.secrets).contains(first.secrets.webhook_secret.expose()));
}

#[tokio::test]
async fn seeding_the_demo_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::open(test_config(dir.path())).await.unwrap();
    assert!(matches!(
        demo::seed(&platform.db).await.unwrap(),
        demo::Seeded::Created {
            units: 80,
            residents: 72
        }
    ));
    assert!(matches!(
        demo::seed(&platform.db).await.unwrap(),
        demo::Seeded::AlreadyThere
    ));
}

#[tokio::test]
async fn a_database_url_of_an_unknown_kind_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.database_url = Some(Secret::new("mysql://root:pw@localhost/db"));
    let error = Platform::open(config).await.err().expect("refused");
    assert!(
        error.to_string().contains("sqlite: or postgres:"),
        "{error}"
    );
    assert!(!error.to_string().contains(":pw@"), "{error}");
}

/// The same migrations, queries and sign-in on a real PostgreSQL server. `.ci/test` starts one
/// and names a fresh database in PREPAID_TEST_POSTGRES_URL.
#[tokio::test]
async fn the_platform_runs_on_postgresql_too() {
    let Some(url) = support::fresh_postgres("platform").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.database_url = Some(Secret::new(url));
    let app = spawn_with(config, dir).await;
    let health = app.get(&Default::default(), "/healthz").await.json();
    assert_eq!(health["database"]["backend"], "postgres");

    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let site = app.site_id(demo::SITE).await.to_string();
    let overview = app
        .call(&manager, "site_overview", &[("site", &site)])
        .await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    assert_eq!(overview.json()["site"]["meters"], 240);
    // The audit log's search (days, an escaped LIKE, a page's start) in PostgreSQL's SQL.
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let audit = app
        .call(
            &admin,
            "audit_log",
            &[
                ("text", "Manager@demo"),
                ("from", &today),
                ("to", &today),
                ("before", "999999999"),
            ],
        )
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let audit = audit.json();
    let lines = audit["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|line| line["action"] == "signed_in" && line["actor"] == demo::MANAGER),
        "{audit}"
    );
    let resident = app.sign_in("b101@demo.example", demo::PASSWORD).await;
    let home = app.call(&resident, "resident_home", &[]).await;
    assert_eq!(home.json()["units"][0]["name"], "B-101");
    for _ in 0..3 {
        app.try_sign_in("b102@demo.example", "nope-nope-nope").await;
    }
    let blocked = app.try_sign_in("b102@demo.example", demo::PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_failing_migration_stops_start_up_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    // A database someone else already put a conflicting `organisations` table in.
    let path = dir.path().join("test.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE organisations (id INTEGER PRIMARY KEY)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let error = Platform::open(support::sqlite_config(dir.path()))
        .await
        .err()
        .expect("start-up refused");
    let message = error.to_string();
    assert!(message.contains("migration failed"), "{message}");
    assert!(message.contains("organisations"), "{message}");
}
