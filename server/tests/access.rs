//! Who may see and do what, over HTTP: roles, sites and organisations.

mod support;

use reqwest::StatusCode;
use server::demo;
use support::{OTHER_ADMIN, OTHER_SITE, Visitor, spawn_app};

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
