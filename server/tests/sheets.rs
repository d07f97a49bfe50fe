//! The site model as a CSV sheet over HTTP: the export imports again without change, a dry run
//! names every bad line and changes nothing, a sheet with any bad line imports nothing, a
//! mended one imports whole (units, meters with their baselines, residents with open
//! accounts), and importing it twice adds nothing more. Only the site's managers and the
//! organisation's admins get in. Against the real server on loopback, with the demo data.

use crate::support;

use reqwest::StatusCode;
use serde_json::Value;
use server::demo;
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

const HEADER: &str = "building,unit,kind,utility,serial,multiplier,first_register,transport,resident_email,resident_name,resident_phone\n";

async fn check(app: &TestApp, who: &Visitor, site: &str, text: &str) -> (StatusCode, Value) {
    let answer = app
        .call(who, "check_site_sheet", &[("site", site), ("sheet", text)])
        .await;
    let json = if answer.status == StatusCode::OK {
        answer.json()
    } else {
        Value::String(answer.body)
    };
    (answer.status, json)
}

async fn import(app: &TestApp, who: &Visitor, site: &str, text: &str) -> Value {
    let answer = app
        .call(
            who,
            "import_site_sheet",
            &[("site", site), ("sheet", text), ("invite", "on")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()
}

/// Everything a sheet can add, counted.
async fn model(app: &TestApp) -> [i64; 6] {
    [
        app.count("SELECT COUNT(*) FROM buildings").await,
        app.count("SELECT COUNT(*) FROM units").await,
        app.count("SELECT COUNT(*) FROM meters").await,
        app.count("SELECT COUNT(*) FROM users").await,
        app.count("SELECT COUNT(*) FROM occupancies").await,
        app.count("SELECT COUNT(*) FROM wallets").await,
    ]
}

async fn progress(app: &TestApp, who: &Visitor, site: &str, key: &str) -> support::Answer {
    app.call(who, "site_sheet_progress", &[("site", site), ("key", key)])
        .await
}

fn adds(check: &Value) -> [u64; 4] {
    ["buildings", "units", "meters", "residents"].map(|what| check[what].as_u64().unwrap())
}

fn problem_lines(check: &Value) -> Vec<u64> {
    check["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_sheet_imports_whole_or_not_at_all_and_its_export_imports_again_unchanged() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;

    // The export: the import's columns, every occupied unit's resident on its meters' lines.
    let export = app
        .get(&manager, &format!("/manage/sites/{site}/sheet.csv"))
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    let exported = export.body.clone();
    assert_eq!(
        exported.lines().next().unwrap(),
        format!("{},tariff_plan,master_serial", HEADER.trim_end())
    );
    assert!(exported.contains("a101@demo.example"), "{exported}");
    let taken_serial = exported
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .to_owned();
    assert!(!taken_serial.is_empty(), "{exported}");

    // Imported again, it is all true of the site already: nothing to add, nothing added.
    let before = model(&app).await;
    let (status, checked) = check(&app, &manager, &site, &exported).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(problem_lines(&checked), Vec::<u64>::new(), "{checked}");
    assert_eq!(adds(&checked), [0, 0, 0, 0]);
    let again = import(&app, &manager, &site, &exported).await;
    assert_eq!(again["committed"], true, "{again}");
    assert_eq!(model(&app).await, before);

    // A sheet with bad lines: each is named with its reason, and nothing changes, neither by
    // the dry run nor by an import tried anyway.
    let bad = format!(
        "{HEADER}Block Z,Z1,flat,electricity,Z-E-1,1,120.5,simulator,zawadi@example.org,Zawadi,\n\
         Block Z,Z2,flat,water,{taken_serial},1,0,simulator,,,\n\
         Block Z,Z3,flat,gas,Z-G-3,1,0,simulator,a101@demo.example,Someone,\n\
         Block Z,Z4,flat,steam,Z-S-4,1,0,simulator,,,\n\
         Block Z,Z1,flat,water,Z-W-1,1,7,mqtt,zawadi@example.org,Zawadi,\n"
    );
    let (_, checked) = check(&app, &manager, &site, &bad).await;
    assert_eq!(problem_lines(&checked), vec![3, 4, 5], "{checked}");
    let reasons = checked["problems"].to_string();
    assert!(reasons.contains("belongs to another meter"), "{reasons}");
    assert!(reasons.contains("exists already"), "{reasons}");
    assert!(reasons.contains("steam"), "{reasons}");
    let refused = import(&app, &manager, &site, &bad).await;
    assert_eq!(refused["committed"], false, "{refused}");
    assert_eq!(problem_lines(&refused), vec![3, 4, 5]);
    assert_eq!(model(&app).await, before, "a bad sheet changes nothing");

    // Mended: imported whole, in one go.
    let good = format!(
        "{HEADER}Block Z,Z1,flat,electricity,Z-E-1,1,120.5,simulator,zawadi@example.org,Zawadi,\n\
         Block Z,Z2,shop,water,Z-W-2,1,0,simulator,,,\n\
         Block Z,Z1,flat,water,Z-W-1,1,7,mqtt,zawadi@example.org,Zawadi,\n"
    );
    let (_, checked) = check(&app, &manager, &site, &good).await;
    assert_eq!(adds(&checked), [1, 2, 3, 1], "{checked}");
    let done = import(&app, &manager, &site, &good).await;
    assert_eq!(done["committed"], true, "{done}");
    assert_eq!(adds(&done), [1, 2, 3, 1]);
    let passwords = done["broker_passwords"].as_array().unwrap();
    assert_eq!(passwords.len(), 1, "only the MQTT meter has one: {done}");
    assert_eq!(passwords[0][0], "Z-W-1");
    let after = model(&app).await;
    assert_eq!(
        after[..5],
        [
            before[0] + 1,
            before[1] + 2,
            before[2] + 3,
            before[3] + 1,
            before[4] + 1
        ]
    );
    assert_eq!(after[5], before[5] + 2, "Zawadi's two accounts are open");

    // The first registers are the meters' baselines; the resident is in Z1.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM meter_states s JOIN meters m ON m.id = s.meter_id \
             WHERE m.serial = 'Z-E-1' AND s.last_register = '120.5'"
        )
        .await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM wallets w JOIN units u ON u.id = w.unit_id \
             WHERE u.name = 'Z1' AND w.closed_at IS NULL"
        )
        .await,
        2
    );
    // No mail server in this test: the invitation is not sent, and the import stands (the
    // messaging tests see it arrive).
    assert_eq!(done["invited"], 0, "{done}");
    assert!(
        app.audit_actions()
            .await
            .contains(&"site_sheet_imported".to_owned())
    );

    // Sent twice (a double click, a retry): the second adds nothing.
    let twice = import(&app, &manager, &site, &good).await;
    assert_eq!(twice["committed"], true);
    assert_eq!(adds(&twice), [0, 0, 0, 0]);
    assert_eq!(model(&app).await, after);
}

#[tokio::test]
async fn a_large_import_reports_where_it_stands_while_it_runs() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    let mut sheet = HEADER.to_owned();
    for n in 0..600 {
        sheet.push_str(&format!(
            "Block P,P{n},flat,electricity,P-E-{n},1,0,simulator,p{n}@example.org,Person {n},\n"
        ));
    }
    let key = "progress-key-1";
    assert_eq!(
        progress(&app, &manager, &site, key).await.json(),
        Value::Null,
        "nothing yet"
    );
    let importing = {
        let (app, manager, site, sheet) = (&app, &manager, site.clone(), sheet.clone());
        async move {
            app.call(
                manager,
                "import_site_sheet",
                &[("site", &site), ("sheet", &sheet), ("key", key)],
            )
            .await
        }
    };
    let watching = async {
        let mut seen: Vec<Value> = Vec::new();
        for _ in 0..400 {
            let now = progress(&app, &manager, &site, key).await.json();
            if !now.is_null() && seen.last() != Some(&now) {
                seen.push(now.clone());
            }
            if now["step"] == "finished" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        seen
    };
    let (done, seen) = tokio::join!(importing, watching);
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["committed"], true);
    let order = [
        "checking",
        "units",
        "meters",
        "residents",
        "accounts",
        "baselines",
        "finished",
    ];
    let steps: Vec<usize> = seen
        .iter()
        .map(|p| order.iter().position(|s| p["step"] == *s).unwrap())
        .collect();
    assert!(steps.windows(2).all(|w| w[0] <= w[1]), "in order: {seen:?}");
    let last = seen.last().expect("the end was seen");
    assert_eq!(last["step"], "finished", "{seen:?}");
    assert_eq!(last["done"], 600);
    // Nobody outside the site's managers hears of it.
    assert_eq!(
        progress(&app, &other, &site, key).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_sheet_puts_new_units_on_a_published_tariff_plan() {
    use app::domain::{
        SiteId, Utility,
        tariff::{Plan, Tariff},
    };
    let app = spawn_app().await;
    let site_id = app.site_id(demo::SITE).await;
    let site = site_id.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    app.engine
        .set_plan_tariff(
            SiteId(site_id),
            &Plan::parse("Shops").unwrap(),
            Utility::Electricity,
            chrono::Utc::now(),
            &Tariff::flat(rust_decimal::Decimal::from(40)),
            None,
        )
        .await
        .unwrap();
    let header = format!("{},tariff_plan\n", HEADER.trim_end());
    // An existing unit on another plan, a plan the site does not have, and a unit given two.
    let bad = format!(
        "{header}Block A,A-101,flat,,,,,,,,,Shops\n\
         Block S,S1,shop,,,,,,,,,Kiosks\n\
         Block S,S2,shop,electricity,S-E-2,1,0,simulator,,,,Shops\n\
         Block S,S2,shop,water,S-W-2,1,0,simulator,,,,\n"
    );
    let (_, checked) = check(&app, &manager, &site, &bad).await;
    assert_eq!(problem_lines(&checked), vec![2, 3, 5], "{checked}");
    let reasons = checked["problems"].to_string();
    assert!(reasons.contains("is on the Standard plan"), "{reasons}");
    assert!(
        reasons.contains("no tariff plan called Kiosks"),
        "{reasons}"
    );
    assert!(
        reasons.contains("Line 4 put this unit on the Shops plan"),
        "{reasons}"
    );

    let good = format!(
        "{header}Block A,A-101,flat,,,,,,,,,\n\
         Block S,S2,shop,electricity,S-E-2,1,0,simulator,,,,Shops\n\
         Block S,S2,shop,water,S-W-2,1,0,simulator,,,,Shops\n\
         Block S,S3,shop,,,,,,,,,\n"
    );
    let done = import(&app, &manager, &site, &good).await;
    assert_eq!(done["committed"], true, "{done}");
    assert_eq!(adds(&done), [1, 2, 2, 0]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM units WHERE tariff_plan = 'Shops'")
            .await,
        1
    );
    let exported = app
        .get(&manager, &format!("/manage/sites/{site}/sheet.csv"))
        .await
        .body;
    assert!(
        exported.contains("Block S,S2,shop,electricity,S-E-2,1,0,simulator,,,,Shops,"),
        "{exported}"
    );
    assert!(
        exported.contains("Block S,S3,shop,,,,,,,,,,\n"),
        "{exported}"
    );
    // The export, with its plans, imports again adding nothing.
    let again = import(&app, &manager, &site, &exported).await;
    assert_eq!(again["committed"], true, "{again}");
    assert_eq!(adds(&again), [0, 0, 0, 0]);
}

async fn master_of(app: &TestApp, serial: &str) -> Option<String> {
    server::on_db!(&app.db, pool => {
        sqlx::query_scalar(
            "SELECT f.serial FROM meters m LEFT JOIN meters f ON f.id = m.master_meter_id WHERE m.serial = $1",
        )
        .bind(serial)
        .fetch_one(pool)
        .await
    })
    .unwrap()
}

#[tokio::test]
async fn a_sheet_links_meters_to_the_master_that_feeds_them() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let header = format!("{},master_serial\n", HEADER.trim_end());
    let links = "SELECT COUNT(*) FROM meters WHERE master_meter_id IS NOT NULL";
    let linked_before = app.count(links).await;
    let before = model(&app).await;

    // A serial nobody has, another utility's meter, and two meters feeding each other.
    let bad = format!(
        "{header}Block Y,Y-COMMON,common_area,electricity,Y-E-BULK,,,simulator,,,,\n\
         Block Y,Y1,flat,electricity,Y-E-1,,,simulator,,,,NOBODY-1\n\
         Block Y,Y2,flat,water,Y-W-2,,,simulator,,,,Y-E-BULK\n\
         Block Y,Y3,flat,electricity,Y-E-3,,,simulator,,,,Y-E-4\n\
         Block Y,Y4,flat,electricity,Y-E-4,,,simulator,,,,Y-E-3\n"
    );
    let (_, checked) = check(&app, &manager, &site, &bad).await;
    assert_eq!(problem_lines(&checked), vec![3, 4, 5, 6], "{checked}");
    let reasons = checked["problems"].to_string();
    assert!(
        reasons.contains("No meter of this site or this sheet has the serial NOBODY-1"),
        "{reasons}"
    );
    assert!(reasons.contains("measures water"), "{reasons}");
    assert!(reasons.contains("loop"), "{reasons}");
    let refused = import(&app, &manager, &site, &bad).await;
    assert_eq!(refused["committed"], false, "{refused}");
    assert_eq!(
        (model(&app).await, app.count(links).await),
        (before, linked_before)
    );

    // A bulk meter, a chain under it, and a meter the site has already (unlinked) put under it.
    let good = format!(
        "{header}Block Y,Y-COMMON,common_area,electricity,Y-E-BULK,,,simulator,,,,\n\
         Block Y,Y1,flat,electricity,Y-E-1,,,simulator,,,,Y-E-BULK\n\
         Block Y,Y2,flat,electricity,Y-E-2,,,simulator,,,,Y-E-1\n\
         Block A,A-103,flat,electricity,EL-A103,,,,,,,Y-E-BULK\n"
    );
    let (_, checked) = check(&app, &manager, &site, &good).await;
    assert_eq!(problem_lines(&checked), Vec::<u64>::new(), "{checked}");
    assert_eq!(checked["links"], 3, "{checked}");
    let done = import(&app, &manager, &site, &good).await;
    assert_eq!(done["committed"], true, "{done}");
    assert_eq!(done["links"], 3);
    assert_eq!(app.count(links).await, linked_before + 3);
    assert_eq!(master_of(&app, "Y-E-1").await.as_deref(), Some("Y-E-BULK"));
    assert_eq!(master_of(&app, "Y-E-2").await.as_deref(), Some("Y-E-1"));
    assert_eq!(
        master_of(&app, "EL-A103").await.as_deref(),
        Some("Y-E-BULK")
    );

    // Sent again it adds nothing; a meter fed by another master is named, not moved.
    let again = import(&app, &manager, &site, &good).await;
    assert_eq!(
        (again["committed"].clone(), again["links"].clone()),
        (true.into(), 0.into())
    );
    let moved = format!("{header}Block A,A-103,flat,electricity,EL-A103,,,,,,,Y-E-2\n");
    let (_, checked) = check(&app, &manager, &site, &moved).await;
    assert!(
        checked["problems"]
            .to_string()
            .contains("is fed by Y-E-BULK"),
        "{checked}"
    );

    // The export writes each meter's master, and imports again adding nothing.
    let exported = app
        .get(&manager, &format!("/manage/sites/{site}/sheet.csv"))
        .await
        .body;
    let line = exported.lines().find(|l| l.contains(",Y-E-2,")).unwrap();
    assert!(line.ends_with(",Y-E-1"), "{line}");
    let (_, checked) = check(&app, &manager, &site, &exported).await;
    assert_eq!(problem_lines(&checked), Vec::<u64>::new(), "{checked}");
    assert_eq!(
        (adds(&checked), checked["links"].as_u64()),
        ([0, 0, 0, 0], Some(0))
    );
}

#[tokio::test]
async fn only_the_sites_managers_and_admins_import_or_export_its_sheet() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let sheet = format!("{HEADER}Block Z,Z9,flat,,,,,,,,\n");
    let before = model(&app).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let (status, _) = check(&app, &admin, &site, &sheet).await;
    assert_eq!(status, StatusCode::OK);
    for outsider in [OTHER_ADMIN, "a101@demo.example"] {
        let who = app.sign_in(outsider, demo::PASSWORD).await;
        let (status, _) = check(&app, &who, &site, &sheet).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{outsider}");
        let answer = app
            .call(
                &who,
                "import_site_sheet",
                &[("site", &site), ("sheet", &sheet)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{outsider}");
        let export = app
            .get(&who, &format!("/manage/sites/{site}/sheet.csv"))
            .await;
        assert_eq!(export.status, StatusCode::FORBIDDEN, "{outsider}");
        assert!(!export.body.contains("@demo.example"), "{outsider}");
    }
    let anonymous = app
        .get(
            &Visitor::default(),
            &format!("/manage/sites/{site}/sheet.csv"),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(model(&app).await, before);
}
