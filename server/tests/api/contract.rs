//! The server against its own OpenAPI document: schemathesis (from PyPI) generates requests
//! from the document, sends them to the server on loopback and checks every answer (status
//! codes, bodies against their schemas, content types, server errors). `.ci/setup` installs it
//! and `.ci/test` names it in `PREPAID_SCHEMATHESIS`.

use super::support::{spawn_with, test_config};
use super::{demo_admin, key};
use server::api::keys::{NewKey, Scope};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_to_its_openapi_document() {
    let Ok(schemathesis) = std::env::var("PREPAID_SCHEMATHESIS") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide PREPAID_SCHEMATHESIS"
        );
        eprintln!("PREPAID_SCHEMATHESIS is not set: the contract is not checked");
        return;
    };
    // Schemathesis sends hundreds of requests a second: no rate limit gets in its way.
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.api_requests_per_minute = 1_000_000;
    let app = spawn_with(config, dir).await;
    let key = key(
        &app,
        demo_admin(&app).await,
        NewKey::Organisation(Scope::ALL.to_vec()),
    )
    .await;
    let report = tempfile::tempdir().unwrap();
    let url = app.url("/api/v1/openapi.json");
    let bearer = format!("Authorization: Bearer {key}");
    let dir = report.path().to_owned();
    let config_file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/schemathesis.toml");
    let run = move || {
        std::process::Command::new(&schemathesis)
            .args([
                "--no-color",
                "--config-file",
                config_file,
                "run",
                &url,
                "--checks",
                "all",
                "--max-examples",
                "25",
                "--workers",
                "1",
                "--seed",
                "1",
                "--header",
                &bearer,
            ])
            .current_dir(dir)
            .output()
    };
    let output = tokio::task::spawn_blocking(run)
        .await
        .unwrap()
        .expect("schemathesis runs");
    let printed = String::from_utf8_lossy(&output.stdout);
    println!("{printed}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "schemathesis found the server off its document"
    );
    let (_, differences) = server::ledger::reconcile(&app.db).await.unwrap();
    assert!(
        differences.is_empty(),
        "whatever it sent, the ledger balances"
    );
}
