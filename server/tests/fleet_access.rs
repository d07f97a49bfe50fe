//! The fleet's server functions over HTTP: who may see and operate which meter, install
//! meters, move alarms on and change the rules. Against the real server with the demo data
//! and the simulator answering commands.

use crate::support;

use reqwest::StatusCode;
use server::{demo, on_db};
use std::time::Duration;
use support::{Answer, OTHER_ADMIN, TestApp, Visitor, spawn_with, test_config};

async fn app_with_simulator() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.simulator = Some(true);
    // One tick at start (every meter's baseline), then quiet: balances stay put.
    config.simulator_interval_s = 3600;
    spawn_with(config, dir).await
}

async fn meter_of(app: &TestApp, unit: &str, utility: &str) -> String {
    let id: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT m.id FROM meters m JOIN units u ON u.id = m.unit_id WHERE u.name = $1 AND m.utility = $2")
            .bind(unit).bind(utility).fetch_one(pool).await
    })
    .unwrap();
    id.to_string()
}

async fn last_command(app: &TestApp, meter: &str) -> (String, String) {
    on_db!(&app.db, pool => {
        sqlx::query_as("SELECT command, status FROM meter_commands WHERE meter_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(meter.parse::<i64>().unwrap()).fetch_one(pool).await
    })
    .unwrap()
}

#[tokio::test]
async fn residents_see_their_own_meters_and_operate_none() {
    let app = app_with_simulator().await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let own = meter_of(&app, "A-101", "electricity").await;
    let page = app.call(&resident, "meter", &[("meter", &own)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.json()["may_operate"], false);
    assert_eq!(
        page.json()["meter"]["commands"].as_array().unwrap().len(),
        0
    );
    // The page a resident's browser redraws: status, no forms.
    let drawn = app.call(&resident, "meter_html", &[("meter", &own)]).await;
    assert_eq!(drawn.status, StatusCode::OK, "{}", drawn.body);
    assert!(drawn.json().as_str().unwrap().contains("meter-status"));
    assert!(!drawn.body.contains("operations"));
    let neighbour = meter_of(&app, "A-102", "electricity").await;
    for endpoint in ["meter", "meter_html"] {
        assert_eq!(
            app.call(&resident, endpoint, &[("meter", &neighbour)])
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    let operate = app
        .call(
            &resident,
            "operate_meter",
            &[("meter", &own), ("op", "read")],
        )
        .await;
    assert_eq!(operate.status, StatusCode::FORBIDDEN);
    let alarms = app.call(&resident, "my_alarms", &[]).await;
    assert_eq!(alarms.status, StatusCode::OK, "{}", alarms.body);
    let site = app.site_id(demo::SITE).await.to_string();
    assert_eq!(
        app.call(&resident, "site_fleet", &[("site", &site)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_manager_operates_a_meter_and_sees_each_command_acknowledged() {
    let app = app_with_simulator().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let meter = meter_of(&app, "A-101", "electricity").await;
    let read = app
        .call(
            &manager,
            "operate_meter",
            &[("meter", &meter), ("op", "read")],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let mut acknowledged = false;
    for _ in 0..100 {
        if last_command(&app, &meter).await == ("read".into(), "acknowledged".into()) {
            acknowledged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(acknowledged, "{:?}", last_command(&app, &meter).await);

    let no_reason = app
        .call(
            &manager,
            "operate_meter",
            &[("meter", &meter), ("op", "close")],
        )
        .await;
    assert_eq!(
        no_reason.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_reason.body
    );
    let close = app
        .call(
            &manager,
            "operate_meter",
            &[
                ("meter", &meter),
                ("op", "close"),
                ("reason", "wiring check"),
            ],
        )
        .await;
    assert_eq!(close.status, StatusCode::OK, "{}", close.body);
    let page = app
        .call(&manager, "meter", &[("meter", &meter)])
        .await
        .json();
    assert_eq!(page["meter"]["safety_hold"], "manager");
    let open = app
        .call(
            &manager,
            "operate_meter",
            &[("meter", &meter), ("op", "open"), ("reason", "done")],
        )
        .await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    let limit = app
        .call(
            &manager,
            "operate_meter",
            &[
                ("meter", &meter),
                ("op", "load_limit"),
                ("kw", "lots"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(limit.status, StatusCode::UNPROCESSABLE_ENTITY);
    let actions = app.audit_actions().await;
    assert!(
        actions.iter().filter(|a| *a == "meter_operation").count() >= 3,
        "{actions:?}"
    );

    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    assert_eq!(
        app.call(&other, "meter", &[("meter", &meter)]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(
            &other,
            "operate_meter",
            &[("meter", &meter), ("op", "read")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_manager_installs_meters_with_credentials_shown_once_and_sets_the_rules() {
    let app = app_with_simulator().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let unit = app.unit_id("B-104").await.to_string();
    let form = |serial: &'static str| {
        vec![
            ("unit", unit.clone()),
            ("serial", serial.to_owned()),
            ("utility", "electricity".to_owned()),
            ("first_register", "12.5".to_owned()),
            ("transport", "mqtt".to_owned()),
        ]
    };
    let call = |fields: Vec<(&'static str, String)>| {
        let manager = manager.clone();
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(&manager, "install_meter", &fields).await
        }
    };
    let installed = call(form("EL-NEW-7")).await;
    assert_eq!(installed.status, StatusCode::OK, "{}", installed.body);
    let password = installed.json()["broker_password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(password.len() >= 20);
    let stored: Option<String> = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT broker_secret_hash FROM meters WHERE serial = 'EL-NEW-7'").fetch_one(pool).await
    })
    .unwrap();
    let stored = stored.unwrap();
    assert!(
        stored.starts_with("$7$101$") && !stored.contains(&password),
        "only the hash is kept"
    );
    assert_eq!(
        call(form("EL-NEW-7")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "serials are unique"
    );
    assert_eq!(
        call(form("EL/NEW#8")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no topic characters"
    );

    let site = app.site_id(demo::SITE).await.to_string();
    let rules = [
        ("site", site.as_str()),
        ("offline_after_minutes", "30"),
        ("clock_drift_limit_s", "60"),
        ("overload_kw", "9.5"),
        ("overload_for_s", "30"),
        ("overload_action", "limit"),
        ("load_limit_kw", "2"),
        ("water_flow_hours", "4"),
        ("water_spike_per_hour", ""),
        ("credit_cuts_per_minute", "10"),
        ("reconnects_per_second", "5"),
    ];
    let saved = app.call(&manager, "save_fleet_rules", &rules).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let fleet = app.call(&manager, "site_fleet", &[("site", &site)]).await;
    assert_eq!(fleet.status, StatusCode::OK, "{}", fleet.body);
    let fleet = fleet.json();
    assert_eq!(fleet["rules"]["overload_kw"], "9.5");
    assert_eq!(fleet["rules"]["overload_action"], "limit");
    assert!(fleet["rules"]["water_spike_per_hour"].is_null());
    assert_eq!(fleet["may_manage"], true);

    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    assert_eq!(
        app.call(&resident, "save_fleet_rules", &rules).await.status,
        StatusCode::FORBIDDEN
    );
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    assert_eq!(
        app.call(&other, "site_fleet", &[("site", &site)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// A server function called with owned field values.
async fn send(
    app: &TestApp,
    visitor: &Visitor,
    function: &str,
    fields: Vec<(&str, String)>,
) -> Answer {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.call(visitor, function, &pairs).await
}

#[tokio::test]
async fn a_resident_reports_a_fault_once_and_only_the_sites_staff_close_it() {
    let app = app_with_simulator().await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let account = app.wallet("A-101", "electricity").await.to_string();
    let report = |kind: &'static str, nonce: &'static str| {
        vec![
            ("account", account.clone()),
            ("kind", kind.to_owned()),
            (
                "details",
                "The display is blank since this morning.".to_owned(),
            ),
            ("nonce", nonce.to_owned()),
        ]
    };
    let reports = "SELECT COUNT(*) FROM fault_reports";
    let notices =
        "SELECT COUNT(*) FROM notifications WHERE kind = 'fault_report' AND audience = 'managers'";

    // A kind nobody knows is refused and stores nothing.
    let wrong = send(
        &app,
        &resident,
        "report_fault",
        report("fire", "nonce-fault-0"),
    )
    .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert_eq!(app.count(reports).await, 0);

    // Sent twice with the same form: one report, one notice for the managers.
    let first = send(
        &app,
        &resident,
        "report_fault",
        report("meter", "nonce-fault-1"),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let again = send(
        &app,
        &resident,
        "report_fault",
        report("meter", "nonce-fault-1"),
    )
    .await;
    assert_eq!(again.json(), first.json());
    assert_eq!((app.count(reports).await, app.count(notices).await), (1, 1));
    let id = first.json().as_i64().unwrap().to_string();

    // A neighbour cannot report about someone else's account.
    let neighbour = app.sign_in("a102@demo.example", demo::PASSWORD).await;
    let foreign = send(
        &app,
        &neighbour,
        "report_fault",
        report("meter", "nonce-fault-2"),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);

    // The site's manager sees it; the resident and another organisation's admin cannot close it.
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let site = app.site_id(demo::SITE).await.to_string();
    let fleet = app.call(&manager, "site_fleet", &[("site", &site)]).await;
    let faults = fleet.json()["faults"].as_array().unwrap().clone();
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0]["kind"], "meter");
    assert_eq!(faults[0]["place"], "Block A · A-101");
    let close = |note: &'static str| vec![("fault", id.clone()), ("note", note.to_owned())];
    let outsider = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for visitor in [&resident, &outsider] {
        let denied = send(&app, visitor, "close_fault", close("Fixed")).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
    }
    let closed = send(&app, &manager, "close_fault", close("New display fitted")).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let twice = send(&app, &manager, "close_fault", close("Again")).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Closed: gone from the console's open list, shown to the resident with what was done.
    let fleet = app.call(&manager, "site_fleet", &[("site", &site)]).await;
    assert_eq!(fleet.json()["faults"].as_array().unwrap().len(), 0);
    let mine = app
        .call(&resident, "account_faults", &[("account", &account)])
        .await;
    assert_eq!(mine.json()[0]["closing_note"], "New display fitted");
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"fault_reported".to_owned()));
    assert!(actions.contains(&"fault_closed".to_owned()));
}
