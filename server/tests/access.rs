//! Who may see and do what, over HTTP: roles, sites and organisations.

use crate::support;

use reqwest::StatusCode;
use server::demo;
use support::{Answer, OTHER_ADMIN, OTHER_SITE, TestApp, Visitor, spawn_app};

#[tokio::test]
async fn a_resident_is_denied_the_manager_console() {
    let app = spawn_app().await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let site = app.site_id(demo::SITE).await.to_string();
    assert_eq!(
        app.call(&resident, "my_sites", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let overview = app
        .call(&resident, "site_overview", &[("site", &site)])
        .await;
    assert_eq!(overview.status, StatusCode::FORBIDDEN);
    assert!(!overview.body.contains("A-102"));
    let page = app.get(&resident, &format!("/manage/sites/{site}")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(!page.body.contains("A-102"));
}

#[tokio::test]
async fn a_manager_sees_their_site_with_its_counts() {
    let app = spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let sites = app.call(&manager, "my_sites", &[]).await.json();
    let sites = sites.as_array().unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0]["name"], demo::SITE);
    assert_eq!(
        (
            sites[0]["buildings"].as_i64(),
            sites[0]["units"].as_i64(),
            sites[0]["meters"].as_i64()
        ),
        (Some(2), Some(80), Some(240))
    );
    let site = app.site_id(demo::SITE).await.to_string();
    let overview = app
        .call(&manager, "site_overview", &[("site", &site)])
        .await;
    assert_eq!(overview.status, StatusCode::OK);
    let overview = overview.json();
    assert_eq!(overview["buildings"].as_array().unwrap().len(), 2);
    assert_eq!(overview["may_add_residents"], true);
    let page = app.get(&manager, &format!("/manage/sites/{site}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Block B") && page.body.contains("GA-B410"));
}

#[tokio::test]
async fn no_one_sees_another_organisations_site() {
    let app = spawn_app().await;
    let other_site = app.site_id(OTHER_SITE).await.to_string();
    let demo_site = app.site_id(demo::SITE).await.to_string();
    for email in [demo::MANAGER, demo::ADMIN] {
        let staff = app.sign_in(email, demo::PASSWORD).await;
        let answer = app
            .call(&staff, "site_overview", &[("site", &other_site)])
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{email} saw {OTHER_SITE}"
        );
        assert!(!answer.body.contains("Dock 1"));
        let sites = app.call(&staff, "my_sites", &[]).await.body;
        assert!(!sites.contains(OTHER_SITE));
    }
    let other_admin = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    assert_eq!(
        app.call(&other_admin, "site_overview", &[("site", &other_site)])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(&other_admin, "site_overview", &[("site", &demo_site)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // An id that does not exist answers exactly like a foreign one.
    let unknown = app
        .call(&other_admin, "site_overview", &[("site", "999999")])
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_manager_creates_a_resident_who_must_choose_a_password_first() {
    let app = spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    // A-110 is one of the demo's vacant units.
    let unit = app.unit_id("A-110").await.to_string();
    let created = app
        .call(
            &manager,
            "create_account",
            &[
                ("email", "New.Tenant@Example.org"),
                ("display_name", "New Tenant"),
                ("role", "resident"),
                ("site", ""),
                ("unit", &unit),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let created = created.json();
    assert_eq!(created["email"], "new.tenant@example.org");
    let initial = created["initial_password"].as_str().unwrap().to_owned();

    let first = app.try_sign_in("new.tenant@example.org", &initial).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.headers["location"], "/account/password");
    let tenant = Visitor {
        cookie: first.session_cookie(),
    };
    assert_eq!(
        app.call(&tenant, "resident_home", &[]).await.status,
        StatusCode::FORBIDDEN
    );

    let weak = app
        .call(
            &tenant,
            "change_password",
            &[
                ("current", &initial),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let new = "a much better passphrase";
    let changed = app
        .call(
            &tenant,
            "change_password",
            &[("current", &initial), ("new", new), ("confirm", new)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let tenant = Visitor {
        cookie: changed.session_cookie().or(tenant.cookie),
    };
    let home = app.call(&tenant, "resident_home", &[]).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert_eq!(home.json()["units"][0]["name"], "A-110");
    app.sign_in("new.tenant@example.org", new).await;

    let duplicate = app
        .call(
            &manager,
            "create_account",
            &[
                ("email", "new.tenant@example.org"),
                ("display_name", "Again"),
                ("role", "resident"),
                ("site", ""),
                ("unit", &unit),
            ],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&"account_created".to_owned())
            && actions.contains(&"password_changed".to_owned())
    );
}

#[tokio::test]
async fn people_cannot_create_accounts_beyond_their_rights() {
    let app = spawn_app().await;
    let foreign_unit = app.unit_id("Shop 1").await.to_string();
    let demo_site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let into_foreign = app
        .call(
            &manager,
            "create_account",
            &[
                ("email", "x@example.org"),
                ("display_name", "X"),
                ("role", "resident"),
                ("site", ""),
                ("unit", &foreign_unit),
            ],
        )
        .await;
    assert_eq!(into_foreign.status, StatusCode::FORBIDDEN);
    let admin = app
        .call(
            &manager,
            "create_account",
            &[
                ("email", "y@example.org"),
                ("display_name", "Y"),
                ("role", "admin"),
                ("site", ""),
                ("unit", ""),
            ],
        )
        .await;
    assert_eq!(admin.status, StatusCode::FORBIDDEN);
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let by_resident = app
        .call(
            &resident,
            "create_account",
            &[
                ("email", "z@example.org"),
                ("display_name", "Z"),
                ("role", "manager"),
                ("site", &demo_site),
                ("unit", ""),
            ],
        )
        .await;
    assert_eq!(by_resident.status, StatusCode::FORBIDDEN);
    let nobody = app
        .call(
            &Visitor::default(),
            "create_account",
            &[
                ("email", "w@example.org"),
                ("display_name", "W"),
                ("role", "resident"),
                ("site", ""),
                ("unit", "1"),
            ],
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
}

/// Asks for the audit log with the search's fields, all empty but those given.
async fn search(app: &TestApp, visitor: &Visitor, fields: &[(&str, &str)]) -> Answer {
    let form: Vec<(&str, &str)> = ["text", "from", "to", "before"]
        .into_iter()
        .map(|name| {
            let value = fields
                .iter()
                .find(|(key, _)| *key == name)
                .map_or("", |(_, value)| *value);
            (name, value)
        })
        .collect();
    app.call(visitor, "audit_log", &form).await
}

#[tokio::test]
async fn admins_search_their_own_organisations_audit_log_and_no_one_else_reads_it() {
    let app = spawn_app().await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;

    // Everything, newest first: the three sign-ins above, then the demo's seeding.
    let all = search(&app, &admin, &[]).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let all = all.json();
    let lines = all["lines"].as_array().unwrap();
    let actions: Vec<&str> = lines
        .iter()
        .map(|line| line["action"].as_str().unwrap())
        .collect();
    assert_eq!(&actions[..3], ["signed_in"; 3]);
    assert_eq!(lines[1]["actor"], demo::MANAGER);
    assert!(actions.contains(&"demo_seeded"));
    let ids: Vec<i64> = lines
        .iter()
        .map(|line| line["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "newest first");

    // Words match the action, subject, person or what was recorded, in any case.
    let found = search(&app, &admin, &[("text", "MANAGER@demo")])
        .await
        .json();
    let found = found["lines"].as_array().unwrap();
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|line| line.to_string().to_lowercase().contains("manager@demo"))
    );
    assert!(found.len() < lines.len());
    // A wildcard is a character like any other.
    let literal = search(&app, &admin, &[("text", "%")]).await.json();
    assert!(
        literal["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|line| line.to_string().contains('%'))
    );

    // Days are whole UTC days; a window in the future holds nothing; nonsense is refused.
    let today = chrono::Utc::now().date_naive().to_string();
    let day = search(&app, &admin, &[("from", &today), ("to", &today)])
        .await
        .json();
    assert_eq!(day["lines"].as_array().unwrap().len(), lines.len());
    let later = search(&app, &admin, &[("from", "2099-01-01")]).await.json();
    assert!(later["lines"].as_array().unwrap().is_empty());
    for bad in [
        [("from", "2026-12-01"), ("to", "2026-11-01")],
        [("from", "yesterday"), ("to", "")],
    ] {
        let refused = search(&app, &admin, &bad).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    }

    // Pages of fifty: the second starts below the first and repeats nothing.
    let org: i64 = server::on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT id FROM organisations WHERE name = $1")
            .bind(demo::ORGANISATION).fetch_one(pool).await
    })
    .unwrap();
    for n in 0..60 {
        server::on_db!(&app.db, pool => {
            sqlx::query("INSERT INTO audit_log (at, organisation_id, action, subject_type, subject_id) VALUES ($1, $2, 'test_entry', 'thing', $3)")
                .bind(chrono::Utc::now()).bind(org).bind(n.to_string()).execute(pool).await.map(|_| ())
        })
        .unwrap();
    }
    let first = search(&app, &admin, &[("text", "test entry thing")])
        .await
        .json();
    assert!(
        first["lines"].as_array().unwrap().is_empty(),
        "words are matched as typed"
    );
    let first = search(&app, &admin, &[("text", "test_entry")]).await.json();
    assert_eq!(first["lines"].as_array().unwrap().len(), 50);
    let older = first["older"].as_i64().expect("an older page");
    let second = search(
        &app,
        &admin,
        &[("text", "test_entry"), ("before", &older.to_string())],
    )
    .await
    .json();
    let second = second["lines"].as_array().unwrap();
    assert_eq!(second.len(), 10);
    assert!(
        second
            .iter()
            .all(|line| line["id"].as_i64().unwrap() < older)
    );

    // Another organisation's admin reads only theirs; managers and residents read none.
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    let theirs = search(&app, &other, &[]).await.json();
    let theirs = theirs["lines"].as_array().unwrap();
    assert!(!theirs.is_empty());
    assert!(
        !theirs
            .iter()
            .any(|line| line.to_string().contains("demo.example"))
    );
    for visitor in [&manager, &resident] {
        assert_eq!(
            search(&app, visitor, &[]).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get(visitor, "/manage/audit").await.status,
            StatusCode::FORBIDDEN
        );
    }
    // The page: the console links to it for admins only, and it draws the lines.
    assert!(
        app.get(&admin, "/manage")
            .await
            .body
            .contains("/manage/audit")
    );
    assert!(
        !app.get(&manager, "/manage")
            .await
            .body
            .contains("/manage/audit")
    );
    let page = app.get(&admin, "/manage/audit?q=test_entry").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("test entry") && page.body.contains("Older entries"));
    let refused = app.get(&admin, "/manage/audit?from=nonsense").await;
    assert!(refused.body.contains("YYYY-MM-DD"));
}
