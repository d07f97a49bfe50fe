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

/// A meter's page once the simulator's first tick has given the meter its baseline.
async fn page_with_baseline(app: &TestApp, visitor: &Visitor, meter: &str) -> Answer {
    let mut page = app.call(visitor, "meter", &[("meter", meter)]).await;
    for _ in 0..100 {
        if page.json()["meter"]["last_register"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        page = app.call(visitor, "meter", &[("meter", meter)]).await;
    }
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

/// Opens a wallet paying for all of a unit's meters (as a site billed by unit has), an hour
/// old; its account's id.
async fn open_unit_wallet(app: &TestApp, unit: &str) -> i64 {
    let unit = app.unit_id(unit).await;
    let opened = chrono::Utc::now() - chrono::Duration::hours(1);
    on_db!(&app.db, pool => {
        let site: i64 = sqlx::query_scalar(
            "SELECT b.site_id FROM units u JOIN buildings b ON b.id = u.building_id WHERE u.id = $1",
        )
        .bind(unit)
        .fetch_one(pool)
        .await?;
        let account: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (site_id, kind, opened_at) VALUES ($1, 'prepaid', $2) RETURNING id",
        )
        .bind(site)
        .bind(opened)
        .fetch_one(pool)
        .await?;
        sqlx::query("INSERT INTO wallets (account_id, site_id, unit_id, opened_at) VALUES ($1, $2, $3, $4)")
            .bind(account)
            .bind(site)
            .bind(unit)
            .bind(opened)
            .execute(pool)
            .await?;
        Ok::<_, sqlx::Error>(account)
    })
    .unwrap()
}

/// The last register on a meter's page.
fn last_of(page: &Answer) -> rust_decimal::Decimal {
    let last = &page.json()["meter"]["last_register"];
    last.as_str().unwrap().parse().unwrap()
}

/// Decommissions a meter with a final reading `used` past `last`: that register, and the
/// number of the account rating charged it to.
async fn decommission_after(
    app: &TestApp,
    visitor: &Visitor,
    meter: &str,
    last: rust_decimal::Decimal,
    used: rust_decimal::Decimal,
) -> (String, String) {
    let register = (last + used).to_string();
    let done = app
        .call(
            visitor,
            "decommission_meter",
            &[("meter", meter), ("final_register", &register)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let account: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT wallet_account_id FROM readings WHERE meter_id = $1 AND register = $2")
            .bind(meter.parse::<i64>().unwrap())
            .bind(&register)
            .fetch_one(pool)
            .await
    })
    .unwrap();
    (register, server::ledger::account_number(account))
}

/// When the resident signing in as `email` moved into their home.
async fn moved_in(app: &TestApp, email: &str) -> chrono::DateTime<chrono::Utc> {
    on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT o.starts_at FROM occupancies o JOIN users u ON u.id = o.user_id WHERE u.email = $1",
        )
        .bind(email)
        .fetch_one(pool)
        .await
    })
    .unwrap()
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
async fn a_simulated_meter_answers_its_first_command_as_soon_as_it_is_installed() {
    // The simulator lists its meters every few ticks, an hour apart here: a meter installed
    // between two looks is listed by the command sent to it.
    let app = app_with_simulator().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let unit = app.unit_id("B-104").await.to_string();
    let installed = app
        .call(
            &manager,
            "install_meter",
            &[
                ("unit", &unit),
                ("serial", "WA-SIM-NEW"),
                ("utility", "water"),
                ("first_register", "3"),
                ("transport", "simulator"),
            ],
        )
        .await;
    assert_eq!(installed.status, StatusCode::OK, "{}", installed.body);
    let meter: i64 = app
        .count("SELECT id FROM meters WHERE serial = 'WA-SIM-NEW'")
        .await;
    let meter = meter.to_string();
    let read = app
        .call(
            &manager,
            "operate_meter",
            &[("meter", &meter), ("op", "read")],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let mut answer = (0, None);
    for _ in 0..100 {
        answer = on_db!(&app.db, pool => {
            sqlx::query_as::<_, (i32, Option<String>)>(
                "SELECT attempts, error FROM meter_commands WHERE meter_id = $1 AND command = 'read' AND status = 'acknowledged'",
            )
            .bind(meter.parse::<i64>().unwrap())
            .fetch_optional(pool)
            .await
        })
        .unwrap()
        .unwrap_or((0, None));
        if answer.0 > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answer, (1, None), "acknowledged at the first attempt");
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

    // Another fault reported from the same page (its form drawn once) is a report of its own,
    // not the first one's number again.
    let other = send(
        &app,
        &resident,
        "report_fault",
        report("no_supply", "nonce-fault-1"),
    )
    .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
    assert_ne!(other.json(), first.json());
    assert_eq!((app.count(reports).await, app.count(notices).await), (2, 2));
}

/// Waits until every installed meter has sent the simulator's first status, after which the
/// simulator (an hour between ticks) says nothing more: what a test writes then stays.
async fn first_statuses(app: &TestApp) {
    for _ in 0..200 {
        let heard = app.count("SELECT COUNT(*) FROM meter_status").await;
        let meters = app
            .count("SELECT COUNT(*) FROM meters WHERE removed_at IS NULL")
            .await;
        if heard == meters {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the simulator's first statuses never all arrived");
}

async fn set_status(app: &TestApp, meter: &str, column: &str, value: i64) {
    let sql = format!(
        "INSERT INTO meter_status (meter_id, {column}) VALUES ($1, $2) \
         ON CONFLICT (meter_id) DO UPDATE SET {column} = $2"
    );
    let meter: i64 = meter.parse().unwrap();
    on_db!(&app.db, pool => {
        if column == "online" {
            sqlx::query(&sql).bind(meter).bind(value != 0).execute(pool).await.map(|_| ())
        } else {
            sqlx::query(&sql).bind(meter).bind(value).execute(pool).await.map(|_| ())
        }
    })
    .unwrap();
}

/// Asks `meter` to be open, with the relay it `reported` (none yet, or another) and a last
/// register of 12345.5.
async fn relay_and_register(app: &TestApp, meter: &str, reported: Option<&str>) {
    let meter: i64 = meter.parse().unwrap();
    on_db!(&app.db, pool => {
        sqlx::query("UPDATE meter_status SET relay_reported = $1 WHERE meter_id = $2")
            .bind(reported)
            .bind(meter)
            .execute(pool)
            .await?;
        sqlx::query("UPDATE meter_states SET relay = 'open', last_register = '12345.5' WHERE meter_id = $1")
            .bind(meter)
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
}

/// The count of meters with `problem` in a `site_meters` answer.
fn health_count(meters: &serde_json::Value, problem: &str) -> i64 {
    meters["page"]["health"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pair| pair[0] == problem)
        .unwrap_or_else(|| panic!("no {problem} in {meters}"))[1]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn the_meters_table_finds_each_meters_problems_and_its_csv_holds_the_same() {
    let app = app_with_simulator().await;
    first_statuses(&app).await;
    let site = app.site_id(demo::SITE).await.to_string();
    let low = meter_of(&app, "A-101", "water").await;
    set_status(&app, &low, "battery_pct", 7).await;
    let silent = meter_of(&app, "B-305", "gas").await;
    set_status(&app, &silent, "online", 0).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;

    let all = app.call(&manager, "site_meters", &[("site", &site)]).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let all = all.json();
    let meters = app
        .count("SELECT COUNT(*) FROM meters WHERE removed_at IS NULL")
        .await;
    assert_eq!(all["page"]["health"]["meters"], meters);
    assert_eq!(all["page"]["matching"], meters);
    assert_eq!(all["page"]["rows"].as_array().unwrap().len(), 100);
    assert_eq!(health_count(&all, "LowBattery"), 1);
    assert_eq!(health_count(&all, "Offline"), 1);
    // The simulator reports every meter's relay, signal and a reading: nothing else is wrong
    // with the two meters spoilt above.
    let first = &all["page"]["rows"][0];
    assert_eq!(first[0]["building"], "Block A");
    assert!(first[0]["battery_pct"].is_i64() && first[0]["last_reading_at"].is_string());

    let battery = app
        .call(
            &manager,
            "site_meters",
            &[("site", &site), ("problem", "low_battery")],
        )
        .await
        .json();
    let rows = battery["page"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{battery}");
    assert_eq!(rows[0][0]["serial"], "WA-A101");
    assert_eq!(rows[0][0]["battery_pct"], 7);
    assert!(
        rows[0][1]
            .as_array()
            .unwrap()
            .contains(&"LowBattery".into())
    );
    // Health counts the whole site whatever the search.
    assert_eq!(battery["page"]["health"]["meters"], meters);

    let found = app
        .call(
            &manager,
            "site_meters",
            &[("site", &site), ("utility", "gas"), ("words", "b-30")],
        )
        .await
        .json();
    let serials: Vec<&str> = found["page"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[0]["serial"].as_str().unwrap())
        .collect();
    // B-301 to B-309 (B-310 does not hold "b-30").
    assert_eq!(serials.len(), 9, "{serials:?}");
    assert!(serials.iter().all(|s| s.starts_with("GA-B30")));

    let bad = app
        .call(
            &manager,
            "site_meters",
            &[("site", &site), ("problem", "sad")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);

    let csv = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/meters.csv?problem=offline"),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 2, "{}", csv.body);
    assert!(lines[0].starts_with("meter_id,building,unit,utility,serial"));
    assert!(lines[1].starts_with(&format!("{silent},Block B,B-305,gas,GA-B305,")));
    assert!(lines[1].ends_with(",offline"), "{}", lines[1]);
    let everything = app
        .get(&manager, &format!("/manage/sites/{site}/meters.csv"))
        .await;
    assert_eq!(everything.body.lines().count() as i64, meters + 1);

    let page = app
        .get(
            &manager,
            &format!("/manage/sites/{site}/meters?problem=low_battery"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("WA-A101") && page.body.contains("Battery low"));
    assert!(!page.body.contains("GA-B305"));

    // The valve in the meter page's words, with what was asked of it when the meter says
    // otherwise or has said nothing yet; the last register with its thousands grouped.
    let low_row = |body: &str| {
        let row = body
            .split(r#"data-serial="WA-A101""#)
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .expect("WA-A101's row")
            .to_owned();
        // Only the words a reader sees, the tags taken out.
        row.split('<')
            .filter_map(|part| part.split_once('>').map(|(_, text)| text.trim()))
            .filter(|text| !text.is_empty())
            .collect::<Vec<_>>()
            .join("|")
    };
    let low_battery = format!("/manage/sites/{site}/meters?problem=low_battery");
    relay_and_register(&app, &low, None).await;
    let row = low_row(&app.get(&manager, &low_battery).await.body);
    assert!(
        row.contains("|open|the meter has not reported it yet|"),
        "{row}"
    );
    assert!(row.contains("|12,345.5 at "), "{row}");
    let meter_page = app.get(&manager, &format!("/meters/{low}")).await;
    assert!(
        meter_page.body.contains(">12,345.5 at "),
        "{}",
        meter_page.body
    );
    relay_and_register(&app, &low, Some("closed")).await;
    let row = low_row(&app.get(&manager, &low_battery).await.body);
    assert!(row.contains("|closed|asked: open|"), "{row}");
    relay_and_register(&app, &low, Some("open")).await;
    let row = low_row(&app.get(&manager, &low_battery).await.body);
    assert!(row.contains("|open|") && !row.contains("asked"), "{row}");
}

#[tokio::test]
async fn only_the_sites_staff_see_its_meters() {
    let app = app_with_simulator().await;
    let site = app.site_id(demo::SITE).await.to_string();
    app.add_staff("operator@demo.example", "operator").await;
    app.add_staff("cashier@demo.example", "cashier").await;
    for staff in ["operator@demo.example", "cashier@demo.example", demo::ADMIN] {
        let visitor = app.sign_in(staff, demo::PASSWORD).await;
        let answer = app.call(&visitor, "site_meters", &[("site", &site)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{staff}: {}", answer.body);
    }
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    for visitor in [&resident, &other, &Visitor::default()] {
        let answer = app.call(visitor, "site_meters", &[("site", &site)]).await;
        assert!(
            matches!(
                answer.status,
                StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
            ),
            "{}",
            answer.status
        );
        let csv = app
            .get(visitor, &format!("/manage/sites/{site}/meters.csv"))
            .await;
        assert!(
            matches!(csv.status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED),
            "{}",
            csv.status
        );
        assert!(!csv.body.contains("EL-A101"));
    }
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let unknown = app
        .call(&manager, "site_meters", &[("site", "999999")])
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);
}

/// An open alarm on a meter, as the fleet records one.
async fn open_alarm(app: &TestApp, meter: &str) -> String {
    let meter: i64 = meter.parse().unwrap();
    let id: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "INSERT INTO alarms (site_id, unit_id, meter_id, kind, severity, detail, open_key, opened_at) \
             SELECT b.site_id, m.unit_id, m.id, 'tamper', 'warning', 'cover opened', 'meter:' || m.id || ':tamper', $2 \
             FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
             WHERE m.id = $1 RETURNING id",
        )
        .bind(meter)
        .bind(chrono::Utc::now())
        .fetch_one(pool)
        .await
    })
    .unwrap();
    id.to_string()
}

#[tokio::test]
async fn notes_on_an_alarm_are_kept_once_in_order_and_only_staff_read_them() {
    let app = app_with_simulator().await;
    let meter = meter_of(&app, "A-101", "electricity").await;
    let alarm = open_alarm(&app, &meter).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let step = |step: &'static str, note: &'static str, nonce: &'static str| {
        let (app, manager, alarm) = (&app, manager.clone(), alarm.clone());
        async move {
            app.call(
                &manager,
                "alarm_step",
                &[
                    ("alarm", alarm.as_str()),
                    ("step", step),
                    ("note", note),
                    ("nonce", nonce),
                ],
            )
            .await
        }
    };
    let noted = step("note", "  Called the electrician.  ", "nonce-one-1").await;
    assert_eq!(noted.status, StatusCode::OK, "{}", noted.body);
    // The same form sent again (a double click, a retried request) is one note.
    assert_eq!(
        step("note", "Called the electrician.", "nonce-one-1")
            .await
            .status,
        StatusCode::OK
    );
    // Another note typed in the same page before it was drawn again is a note of its own.
    assert_eq!(
        step("note", "He comes at four.", "nonce-one-1")
            .await
            .status,
        StatusCode::OK
    );
    for (note, nonce) in [("", "nonce-two-2"), ("x", ""), ("x", "bad nonce!")] {
        let refused = step("note", note, nonce).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{note:?} {nonce:?}: {}",
            refused.body
        );
    }
    let long = "n".repeat(501);
    let too_long = [
        ("alarm", alarm.as_str()),
        ("step", "note"),
        ("note", long.as_str()),
        ("nonce", "nonce-three-3"),
    ];
    assert_eq!(
        app.call(&manager, "alarm_step", &too_long).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let acknowledged = step("acknowledge", "On my way", "nonce-four-4").await;
    assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.body);
    let resolved = step("resolve", "Cover sealed again", "nonce-five-5").await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    // The story goes on after the alarm is resolved.
    assert_eq!(
        step("note", "Seal checked a week later", "nonce-six-6")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM alarm_notes").await, 5);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'alarm_noted'")
            .await,
        3
    );

    let page = app
        .call(&manager, "meter", &[("meter", &meter)])
        .await
        .json();
    let alarm_view = page["meter"]["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"].as_i64() == alarm.parse().ok())
        .unwrap()
        .clone();
    let notes: Vec<(String, String, String)> = alarm_view["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["step"].as_str().unwrap().to_owned(),
                n["note"].as_str().unwrap().to_owned(),
                n["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let manager_name: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT display_name FROM users WHERE email = $1").bind(demo::MANAGER).fetch_one(pool).await
    })
    .unwrap();
    let expected = [
        ("note", "Called the electrician."),
        ("note", "He comes at four."),
        ("acknowledged", "On my way"),
        ("resolved", "Cover sealed again"),
        ("note", "Seal checked a week later"),
    ];
    assert_eq!(
        notes,
        expected
            .iter()
            .map(|(step, note)| ((*step).into(), (*note).into(), manager_name.clone()))
            .collect::<Vec<_>>()
    );

    // The resident sees the alarm on their meter's page, not what staff wrote about it.
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let theirs = app.call(&resident, "meter", &[("meter", &meter)]).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
    assert!(!theirs.body.contains("electrician"), "{}", theirs.body);
    assert_eq!(
        app.call(
            &resident,
            "alarm_step",
            &[
                ("alarm", &alarm),
                ("step", "note"),
                ("note", "hi"),
                ("nonce", "nonce-seven-7")
            ],
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM alarm_notes").await, 5);
    // Notes are never changed or removed, whatever asks.
    let changed = on_db!(&app.db, pool => {
        sqlx::query("UPDATE alarm_notes SET note = 'rewritten'").execute(pool).await.map(|_| ())
    });
    assert!(changed.is_err(), "a note was rewritten");
}

#[tokio::test]
async fn a_readings_file_holds_the_days_asked_or_says_to_ask_for_fewer() {
    use server::db::Db;
    let app = support::spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let meter = meter_of(&app, "A-101", "water").await;
    // A reading a minute from 2026-06-01 00:00 UTC, one more than a file holds (76 days).
    let extra = app::domain::meter_readings::MAX_READINGS as i64;
    let id: i64 = meter.parse().unwrap();
    match &app.db {
        Db::Sqlite { pool, .. } => sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
             INSERT INTO readings (meter_id, taken_at, register, received_at, status) \
             SELECT $1, t, CAST(i AS TEXT), t, 'baseline' FROM \
             (SELECT i, (CAST(strftime('%s', '2026-06-01') AS INTEGER) + i * 60) * 1000000 AS t FROM n)",
        )
        .bind(id)
        .bind(extra)
        .execute(pool)
        .await
        .map(|_| ()),
        Db::Postgres(pool) => sqlx::query(
            "INSERT INTO readings (meter_id, taken_at, register, received_at, status) \
             SELECT $1, t, i::text, t, 'baseline' FROM \
             (SELECT i, timestamptz '2026-06-01 00:00:00+00' + i * interval '1 minute' AS t \
              FROM generate_series(0, $2) AS i) AS s",
        )
        .bind(id)
        .bind(extra)
        .execute(pool)
        .await
        .map(|_| ()),
    }
    .unwrap();

    let summer = app
        .get(
            &manager,
            &format!("/meters/{meter}/readings.csv?from=2026-06-01&to=2026-08-31"),
        )
        .await;
    assert_eq!(summer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        summer.body.contains("ask for fewer days"),
        "{}",
        summer.body
    );

    // One of Nairobi's days, three hours ahead of UTC: 21 hours of June's first UTC day.
    let day = app
        .get(
            &manager,
            &format!("/meters/{meter}/readings.csv?from=2026-06-01&to=2026-06-01"),
        )
        .await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.body);
    let lines: Vec<&str> = day.body.lines().collect();
    assert_eq!(lines.len(), 1 + 21 * 60);
    assert!(
        lines[1].starts_with("WA-A101,2026-06-01 03:00:00,2026-06-01T00:00:00Z,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[21 * 60].starts_with("WA-A101,2026-06-01 23:59:00,2026-06-01T20:59:00Z,"),
        "{}",
        lines[21 * 60]
    );
}

#[tokio::test]
async fn a_resident_sees_the_readings_taken_since_they_moved_in_and_no_earlier_ones() {
    use chrono::{Duration, Utc};
    let app = support::spawn_app().await;
    let meter = meter_of(&app, "A-101", "water").await;
    let id: i64 = meter.parse().unwrap();
    let moved_in = moved_in(&app, "a101@demo.example").await;
    // Two readings from the household before, three from theirs, the first at the very
    // moment they moved in and the last rejected as rating rejects a register gone backwards.
    for (minutes, register, status, note) in [
        (-120, "40", "baseline", None),
        (-60, "41", "baseline", None),
        (0, "52", "baseline", None),
        (60, "55", "baseline", None),
        (
            90,
            "50",
            "rejected",
            Some("register went backwards from 55"),
        ),
    ] {
        let taken_at = moved_in + Duration::minutes(minutes);
        on_db!(&app.db, pool => {
            sqlx::query(
                "INSERT INTO readings (meter_id, taken_at, register, received_at, status, note) \
                 VALUES ($1, $2, $3, $2, $4, $5)",
            )
            .bind(id)
            .bind(server::db::ReadingTime(taken_at))
            .bind(register)
            .bind(status)
            .bind(note)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .unwrap();
    }
    let registers = |page: &Answer| -> Vec<String> {
        page.json()["meter"]["readings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["register"].as_str().unwrap().to_owned())
            .collect()
    };
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let staff_page = app.call(&manager, "meter", &[("meter", &meter)]).await;
    assert_eq!(registers(&staff_page), ["50", "55", "52", "41", "40"]);
    let own_page = app.call(&resident, "meter", &[("meter", &meter)]).await;
    assert_eq!(own_page.status, StatusCode::OK, "{}", own_page.body);
    assert_eq!(registers(&own_page), ["50", "55", "52"]);
    // As their browser draws it, in their words: Kiswahili, chosen on a page before.
    let in_kiswahili = Visitor {
        cookie: Some(format!(
            "{}; prepaid_lang=sw",
            resident.cookie.as_deref().unwrap()
        )),
    };
    let drawn = app
        .call(&in_kiswahili, "meter_html", &[("meter", &meter)])
        .await;
    let html = drawn.json().as_str().unwrap().to_owned();
    for words in [
        "Masomo ya karibuni",
        "somo la kwanza",
        "imekataliwa",
        "kipimo kilirudi nyuma kutoka 55",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert!(html.contains(">52<") && !html.contains(">41<"), "{html}");
    // The supply's state in their words too, and why it is held closed once it is.
    assert!(
        html.contains(r#"data-relay="open" class="relay">wazi<"#),
        "{html}"
    );
    // This meter has not said what its valve is doing: the page says so as a whole sentence.
    assert!(html.contains("(mita bado haijaripoti)"), "{html}");
    on_db!(&app.db, pool => {
        sqlx::query(
            "INSERT INTO meter_states (meter_id, relay, safety_hold) VALUES ($1, 'closed', 'water_leak') \
             ON CONFLICT (meter_id) DO UPDATE SET relay = 'closed', safety_hold = 'water_leak'",
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .unwrap();
    let held = app
        .call(&in_kiswahili, "meter_html", &[("meter", &meter)])
        .await;
    let html = held.json().as_str().unwrap().to_owned();
    assert!(
        html.contains(r#"data-relay="closed" class="relay">imefungwa<"#),
        "{html}"
    );
    assert!(html.contains(" · imefungwa: maji yanavuja"), "{html}");

    // The file over the same days: all five for staff, their three for them.
    let days = format!(
        "/meters/{meter}/readings.csv?from={}&to={}",
        (moved_in - Duration::days(1)).date_naive(),
        (moved_in + Duration::days(1)).date_naive()
    );
    let registers_in = |body: &str| -> Vec<String> {
        body.lines()
            .skip(1)
            .map(|line| line.split(',').nth(4).unwrap().to_owned())
            .collect()
    };
    let staff_file = app.get(&manager, &days).await;
    assert_eq!(staff_file.status, StatusCode::OK, "{}", staff_file.body);
    assert_eq!(
        registers_in(&staff_file.body),
        ["40", "41", "52", "55", "50"]
    );
    let own_file = app.get(&resident, &days).await;
    assert_eq!(own_file.status, StatusCode::OK, "{}", own_file.body);
    assert_eq!(registers_in(&own_file.body), ["52", "55", "50"]);
    // The file keeps the note as stored, for whoever reads it.
    assert!(
        own_file
            .body
            .trim_end()
            .ends_with(",rejected,,m3,,,KES,register went backwards from 55"),
        "{}",
        own_file.body
    );

    // Once they have moved out, neither their old meter's page nor its file.
    on_db!(&app.db, pool => {
        sqlx::query(
            "UPDATE occupancies SET ends_at = $1 \
             WHERE user_id = (SELECT id FROM users WHERE email = 'a101@demo.example')",
        )
        .bind(Utc::now())
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    assert_eq!(
        app.call(&resident, "meter", &[("meter", &meter)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&resident, &days).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_replaced_meter_and_its_replacement_link_to_each_other_for_those_who_lived_with_both() {
    let app = support::spawn_app().await;
    let old = meter_of(&app, "A-101", "water").await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let replaced = app
        .call(
            &manager,
            "replace_meter",
            &[
                ("meter", &old),
                ("final_register", "100000"),
                ("serial", "WA-A101-NEW"),
                ("utility", "water"),
                ("first_register", "0"),
                ("transport", "simulator"),
            ],
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let new = replaced.json()["id"].as_i64().unwrap().to_string();
    let link = |page: &Answer, which: &str| page.json()["meter"][which].clone();

    // Staff and the resident who lived with both follow the change either way, on the
    // page's data and as the page draws it.
    for visitor in [&manager, &resident] {
        let old_page = app.call(visitor, "meter", &[("meter", &old)]).await;
        assert_eq!(old_page.status, StatusCode::OK, "{}", old_page.body);
        assert_eq!(
            link(&old_page, "replaced_by"),
            serde_json::json!([new.parse::<i64>().unwrap(), "WA-A101-NEW"])
        );
        let new_page = app.call(visitor, "meter", &[("meter", &new)]).await;
        assert_eq!(new_page.status, StatusCode::OK, "{}", new_page.body);
        assert_eq!(
            link(&new_page, "replaces")[0].as_i64().unwrap().to_string(),
            old
        );
        assert_eq!(link(&new_page, "replaced_by"), serde_json::Value::Null);
    }
    let drawn = app.call(&resident, "meter_html", &[("meter", &new)]).await;
    let html = drawn.json().as_str().unwrap().to_owned();
    assert!(html.contains(&format!(r#"href="/meters/{old}""#)), "{html}");

    // A household that moved in after the change is not led to the meter before theirs,
    // whose readings are all an earlier household's; staff still are.
    let moved_in = moved_in(&app, "a101@demo.example").await;
    on_db!(&app.db, pool => {
        sqlx::query("UPDATE meters SET removed_at = $1 WHERE id = $2")
            .bind(moved_in - chrono::Duration::days(1))
            .bind(old.parse::<i64>().unwrap())
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    let theirs = app.call(&resident, "meter", &[("meter", &new)]).await;
    assert_eq!(
        link(&theirs, "replaces"),
        serde_json::Value::Null,
        "{}",
        theirs.body
    );
    let html = app
        .call(&resident, "meter_html", &[("meter", &new)])
        .await
        .json();
    assert!(
        !html
            .as_str()
            .unwrap()
            .contains(&format!(r#"href="/meters/{old}""#)),
        "{html}"
    );
    let staff = app.call(&manager, "meter", &[("meter", &new)]).await;
    assert_eq!(
        link(&staff, "replaces")[0].as_i64().unwrap().to_string(),
        old
    );
}

#[tokio::test]
async fn a_resident_sees_the_alarms_of_their_stay_and_those_still_open_not_an_earlier_households() {
    use chrono::Duration;
    let app = support::spawn_app().await;
    let meter = meter_of(&app, "A-101", "water").await;
    let moved_in = moved_in(&app, "a101@demo.example").await;
    // Resolved before they came, still open since before, resolved since. The open one's
    // detail as the engine writes it, the others as a meter might.
    const RUNNING: &str = "water running without a break since 2026-11-01 03:00 UTC";
    for (days, status, detail) in [
        (-30, "resolved", "leak fixed before"),
        (-10, "open", RUNNING),
        (1, "resolved", "leak fixed since"),
    ] {
        on_db!(&app.db, pool => {
            sqlx::query(
                "INSERT INTO alarms (site_id, unit_id, meter_id, kind, severity, detail, status, opened_at) \
                 SELECT b.site_id, m.unit_id, m.id, 'water_flow', 'warning', $2, $3, $4 \
                 FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
                 WHERE m.id = $1",
            )
            .bind(meter.parse::<i64>().unwrap())
            .bind(detail)
            .bind(status)
            .bind(moved_in + Duration::days(days))
            .execute(pool)
            .await
            .map(|_| ())
        })
        .unwrap();
    }
    let details = |page: &Answer| -> Vec<String> {
        page.json()["meter"]["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|alarm| alarm["detail"].as_str().unwrap().to_owned())
            .collect()
    };
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let staff = app.call(&manager, "meter", &[("meter", &meter)]).await;
    assert_eq!(
        details(&staff),
        ["leak fixed since", RUNNING, "leak fixed before"]
    );
    let theirs = app.call(&resident, "meter", &[("meter", &meter)]).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
    assert_eq!(details(&theirs), ["leak fixed since", RUNNING]);

    // Listed in their words: the heading, each alarm's status and the engine's detail; a
    // meter's own words as it sent them.
    let in_kiswahili = Visitor {
        cookie: Some(format!(
            "{}; prepaid_lang=sw",
            resident.cookie.as_deref().unwrap()
        )),
    };
    for (visitor, words) in [
        (
            &resident,
            [
                "<h2>Alarms</h2>",
                " (resolved)",
                " (open)",
                // On the site's clock (Nairobi, UTC+3), as the page writes times.
                "water running without a break since 1 Nov 2026, 06:00",
                "leak fixed since",
            ],
        ),
        (
            &in_kiswahili,
            [
                "<h2>Kengele</h2>",
                " (imetatuliwa)",
                " (haijashughulikiwa)",
                "maji yanatiririka bila kukoma tangu 01/11/2026 06:00",
                "leak fixed since",
            ],
        ),
    ] {
        let drawn = app.call(visitor, "meter_html", &[("meter", &meter)]).await;
        let html = drawn.json().as_str().unwrap().to_owned();
        for words in words {
            assert!(html.contains(words), "{words} in {html}");
        }
    }
}

#[tokio::test]
async fn the_final_readings_preview_prices_it_as_rating_then_charges_it() {
    use app::domain::{fleet::Payer, planner::Pricing};
    use rust_decimal::Decimal;
    let app = app_with_simulator().await;
    let gas = meter_of(&app, "A-101", "gas").await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    // A wallet for the whole unit as well: the meter's own still comes first.
    open_unit_wallet(&app, "A-101").await;
    let page = page_with_baseline(&app, &manager, &gas).await;
    let meter = &page.json()["meter"];
    let pricing: Pricing = serde_json::from_value(meter["pricing"].clone()).unwrap();
    assert_eq!(pricing.currency, "KES");
    let last = last_of(&page);
    let used = Decimal::new(25, 1);
    let previewed = pricing.cost_of(used, None);
    // The demo's gas: 220.00 KES a m3 and 8 % tax, so the preview is not zero by chance.
    assert_eq!(previewed, Decimal::new(59400, 2));

    // And said to be charged to the account that then pays it.
    let payer: Payer = serde_json::from_value(meter["payer"].clone()).unwrap();
    let Payer::Account(number) = &payer else {
        panic!("A-101 is let: {payer:?}");
    };

    // A resident is shown no prices for a form they do not have.
    let theirs = app.call(&resident, "meter", &[("meter", &gas)]).await;
    assert_eq!(theirs.json()["meter"]["pricing"], serde_json::Value::Null);
    assert_eq!(theirs.json()["meter"]["payer"], serde_json::Value::Null);

    let (final_register, paid_by) = decommission_after(&app, &manager, &gas, last, used).await;
    let page = app.call(&manager, "meter", &[("meter", &gas)]).await;
    let newest = &page.json()["meter"]["readings"][0];
    assert_eq!(newest["register"], final_register.as_str());
    let part = |name: &str| newest[name].as_str().unwrap().parse::<Decimal>().unwrap();
    assert_eq!((part("net") + part("tax")).round_dp(2), previewed);
    assert_eq!(&paid_by, number);
    // Out of service, it has no final reading left to preview.
    assert_eq!(page.json()["meter"]["pricing"], serde_json::Value::Null);
    assert_eq!(page.json()["meter"]["payer"], serde_json::Value::Null);

    // A vacant unit's use is the landlord's, and the preview says so.
    let vacant = meter_of(&app, "A-110", "gas").await;
    let page = page_with_baseline(&app, &manager, &vacant).await;
    assert_eq!(page.json()["meter"]["payer"], serde_json::json!("Landlord"));
    let (_, paid_by) = decommission_after(&app, &manager, &vacant, last_of(&page), used).await;
    let landlord: i64 = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT id FROM accounts WHERE kind = 'landlord'").fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(paid_by, server::ledger::account_number(landlord));

    // Once a wallet pays for the whole unit, its meters are charged to it.
    let unit_wallet = server::ledger::account_number(open_unit_wallet(&app, "A-110").await);
    let water = meter_of(&app, "A-110", "water").await;
    let page = page_with_baseline(&app, &manager, &water).await;
    assert_eq!(
        page.json()["meter"]["payer"]["Account"],
        unit_wallet.as_str()
    );
    let (_, paid_by) = decommission_after(&app, &manager, &water, last_of(&page), used).await;
    assert_eq!(paid_by, unit_wallet);

    // A bulk meter's use is charged on its sub-meters: its final reading has no price.
    let bulk = meter_of(&app, "A-102", "water").await;
    let fed = meter_of(&app, "A-103", "water").await;
    on_db!(&app.db, pool => {
        sqlx::query("UPDATE meters SET master_meter_id = $1 WHERE id = $2")
            .bind(bulk.parse::<i64>().unwrap())
            .bind(fed.parse::<i64>().unwrap())
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    let bulk_page = app.call(&manager, "meter", &[("meter", &bulk)]).await;
    assert_eq!(bulk_page.json()["meter"]["sub_meters"], 1);
    assert_eq!(
        bulk_page.json()["meter"]["pricing"],
        serde_json::Value::Null
    );
    let fed_page = app.call(&manager, "meter", &[("meter", &fed)]).await;
    assert!(fed_page.json()["meter"]["pricing"].is_object());
}
