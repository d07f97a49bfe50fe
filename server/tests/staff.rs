//! A site's staff over HTTP: its managers and the admins give a colleague already in the
//! organisation a role on it and take one away, each counting from the person's next request.

use crate::support;

use reqwest::StatusCode;
use serde_json::Value;
use server::demo;
use support::{Answer, OTHER_ADMIN, TestApp, Visitor, spawn_app};

const OPERATOR: &str = "operator@demo.example";

async fn grant(app: &TestApp, by: &Visitor, site: &str, email: &str, role: &str) -> Answer {
    app.call(
        by,
        "grant_role",
        &[("site", site), ("email", email), ("role", role)],
    )
    .await
}

async fn revoke(app: &TestApp, by: &Visitor, site: &str, person: i64, role: &str) -> Answer {
    app.call(
        by,
        "revoke_role",
        &[
            ("site", site),
            ("person", &person.to_string()),
            ("role", role),
        ],
    )
    .await
}

/// The e-mail addresses and roles on the site's staff page, in its order.
async fn staff_of(app: &TestApp, by: &Visitor, site: &str) -> Vec<(String, String)> {
    let answer = app.call(by, "site_staff", &[("site", site)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line: &Value| {
            (
                line["email"].as_str().unwrap().to_owned(),
                line["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn sees(app: &TestApp, who: &Visitor, site: &str) -> StatusCode {
    app.call(who, "site_overview", &[("site", site)])
        .await
        .status
}

async fn person(app: &TestApp, email: &str) -> i64 {
    app.count(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

#[tokio::test]
async fn a_colleague_is_given_a_second_site_and_loses_a_role_at_their_next_request() {
    let app = spawn_app().await;
    app.add_staff(OPERATOR, "operator").await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let operator = app.sign_in(OPERATOR, demo::PASSWORD).await;
    let created = app
        .call(
            &admin,
            "create_site",
            &[
                ("name", "Hillside Court"),
                ("time_zone", "Africa/Nairobi"),
                ("currency", "KES"),
                ("locale", "en-KE"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let hillside = created.json().as_i64().unwrap().to_string();
    let riverside = app.site_id(demo::SITE).await.to_string();

    // Before: the demo's manager holds Riverside only, and may give nothing at Hillside.
    assert_eq!(sees(&app, &manager, &hillside).await, StatusCode::FORBIDDEN);
    assert_eq!(
        grant(&app, &manager, &hillside, demo::MANAGER, "manager")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(&manager, "site_staff", &[("site", &hillside)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // An admin makes them Hillside's manager too: their session, unchanged, sees it at once.
    let given = grant(&app, &admin, &hillside, "Manager@Demo.Example", "manager").await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    assert_eq!(given.json(), "Now");
    let again = grant(&app, &admin, &hillside, demo::MANAGER, "manager").await;
    assert_eq!(again.json(), "Already", "given twice, held once");
    assert_eq!(sees(&app, &manager, &hillside).await, StatusCode::OK);
    let sites = app.call(&manager, "my_sites", &[]).await.json();
    assert_eq!(sites.as_array().unwrap().len(), 2);

    // As Hillside's manager they bring Riverside's operator over, and take them away again.
    let given = grant(&app, &manager, &hillside, OPERATOR, "operator").await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    assert_eq!(sees(&app, &operator, &hillside).await, StatusCode::OK);
    assert_eq!(
        staff_of(&app, &manager, &hillside).await,
        [
            (demo::ADMIN.to_owned(), "admin".to_owned()),
            (demo::MANAGER.to_owned(), "manager".to_owned()),
            (OPERATOR.to_owned(), "operator".to_owned()),
        ]
    );
    // Who signs in with an authenticator shows, for whoever holds the site's staff to it.
    crate::two_factor::set_up(&app, &manager).await;
    let lines = app
        .call(&manager, "site_staff", &[("site", &hillside)])
        .await
        .json();
    let two_factor: Vec<(&str, bool)> = lines["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["email"].as_str().unwrap(),
                line["two_factor"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        two_factor,
        [
            (demo::ADMIN, false),
            (demo::MANAGER, true),
            (OPERATOR, false)
        ]
    );
    let operator_id = person(&app, OPERATOR).await;
    let taken = revoke(&app, &manager, &hillside, operator_id, "operator").await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.body);
    assert_eq!(taken.json(), true);
    assert_eq!(
        sees(&app, &operator, &hillside).await,
        StatusCode::FORBIDDEN,
        "gone at the next request"
    );
    let twice = revoke(&app, &manager, &hillside, operator_id, "operator").await;
    assert_eq!(twice.json(), false, "taken away twice, nothing changes");
    assert_eq!(
        sees(&app, &operator, &riverside).await,
        StatusCode::OK,
        "their role on Riverside stays"
    );

    // Nobody takes their own role away; an operator gives and takes nothing.
    let manager_id = person(&app, demo::MANAGER).await;
    let own = revoke(&app, &manager, &hillside, manager_id, "manager").await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        revoke(&app, &operator, &riverside, manager_id, "manager")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        grant(&app, &operator, &riverside, OPERATOR, "cashier")
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let actions = app.audit_actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|action| *action == "role_granted")
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|action| *action == "role_revoked")
            .count(),
        1
    );
    let page = app
        .get(&manager, &format!("/manage/sites/{hillside}/staff"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Staff and roles") && page.body.contains(demo::ADMIN));
}

#[tokio::test]
async fn a_role_goes_only_to_someone_already_in_the_organisation() {
    let app = spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let site = app.site_id(demo::SITE).await.to_string();
    let grants = "SELECT COUNT(*) FROM role_grants";
    let before = app.count(grants).await;

    // A stranger and another organisation's admin get the same answer: addresses are not
    // probed this way.
    let unknown = grant(&app, &manager, &site, "nobody@example.org", "cashier").await;
    let foreign = grant(&app, &manager, &site, OTHER_ADMIN, "cashier").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (foreign.status, &foreign.body),
        (unknown.status, &unknown.body)
    );
    for (email, role) in [("not an address", "cashier"), (demo::MANAGER, "janitor")] {
        assert_eq!(
            grant(&app, &manager, &site, email, role).await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email} as {role}"
        );
    }
    assert_eq!(
        grant(&app, &manager, &site, demo::MANAGER, "admin")
            .await
            .status,
        StatusCode::FORBIDDEN,
        "admins are not given per site"
    );
    assert_eq!(app.count(grants).await, before);

    // A resident of the site may be given a desk there.
    let given = grant(&app, &manager, &site, "a101@demo.example", "cashier").await;
    assert_eq!(given.json(), "Now", "{}", given.body);
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    assert_eq!(sees(&app, &resident, &site).await, StatusCode::OK);
    assert_eq!(app.count(grants).await, before + 1);
}
