//! Switching a person's sign-in off and on over HTTP: only an admin of their organisation
//! does it, never to themselves; off, the person's open session ends at their next request for
//! good and signing in fails as a wrong password does; on again, they sign in afresh with the
//! roles they had.

use crate::support;

use reqwest::StatusCode;
use serde_json::Value;
use server::demo;
use support::{Answer, OTHER_ADMIN, TestApp, Visitor, spawn_app};

async fn switch(app: &TestApp, by: &Visitor, email: &str, active: bool) -> Answer {
    app.call(
        by,
        "set_person_active",
        &[("email", email), ("active", &active.to_string())],
    )
    .await
}

/// Each listed person's e-mail address, whether they may sign in, and their roles.
async fn people(app: &TestApp, by: &Visitor) -> Vec<(String, bool, usize)> {
    let answer = app.call(by, "organisation_people", &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line: &Value| {
            (
                line["email"].as_str().unwrap().to_owned(),
                line["active"].as_bool().unwrap(),
                line["roles"].as_array().unwrap().len(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_leavers_sign_in_is_switched_off_at_once_and_on_again_with_their_roles() {
    let app = spawn_app().await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let site = app.site_id(demo::SITE).await.to_string();
    assert_eq!(
        app.call(&manager, "site_overview", &[("site", &site)])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        people(&app, &admin).await,
        [
            (demo::ADMIN.to_owned(), true, 1),
            (demo::MANAGER.to_owned(), true, 1),
        ],
        "the organisation's staff; residents are not listed while they may sign in"
    );

    // Off: the session the manager holds answers as signed out from their next request, and
    // signing in again is refused exactly as a wrong password is.
    let off = switch(&app, &admin, "Manager@Demo.Example", false).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.json(), "Now");
    assert_eq!(
        app.call(&manager, "site_overview", &[("site", &site)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&manager, "/manage").await.status,
        StatusCode::FOUND,
        "a page sends them to sign in"
    );
    let refused = app.try_sign_in(demo::MANAGER, demo::PASSWORD).await;
    let wrong = app.try_sign_in(demo::ADMIN, "not the password").await;
    assert_eq!(
        (refused.status, refused.body),
        (wrong.status, wrong.body),
        "nothing tells a switched-off account from a wrong password"
    );
    assert_eq!(
        switch(&app, &admin, demo::MANAGER, false).await.json(),
        "Already",
        "said twice, the second changes nothing"
    );
    assert_eq!(
        people(&app, &admin).await[1],
        (demo::MANAGER.to_owned(), false, 1),
        "listed as off, last, with the role kept"
    );

    // A resident who is not listed is switched off by address, and then listed.
    let resident = demo::resident_email("A-101");
    assert_eq!(switch(&app, &admin, &resident, false).await.json(), "Now");
    assert!(
        people(&app, &admin)
            .await
            .contains(&(resident.clone(), false, 0))
    );
    assert_eq!(
        app.try_sign_in(&resident, demo::PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    // On again: the session they held when it was switched off stays over (a shared
    // computer may still hold it), and they sign in afresh to their site as before.
    assert_eq!(
        switch(&app, &admin, demo::MANAGER, true).await.json(),
        "Now"
    );
    assert_eq!(
        app.call(&manager, "site_overview", &[("site", &site)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let back = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    assert_eq!(
        app.call(&back, "site_overview", &[("site", &site)])
            .await
            .status,
        StatusCode::OK
    );

    let actions = app.audit_actions().await;
    let count = |name: &str| actions.iter().filter(|action| *action == name).count();
    assert_eq!(
        (count("sign_in_switched_off"), count("sign_in_restored")),
        (2, 1)
    );
}

#[tokio::test]
async fn only_an_admin_switches_a_sign_in_and_never_their_own_or_another_organisations() {
    let app = spawn_app().await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app
        .sign_in(&demo::resident_email("A-102"), demo::PASSWORD)
        .await;

    for (who, name) in [(&manager, "a manager"), (&resident, "a resident")] {
        assert_eq!(
            switch(&app, who, demo::ADMIN, false).await.status,
            StatusCode::FORBIDDEN,
            "{name} switches nobody off"
        );
        assert_eq!(
            app.call(who, "organisation_people", &[]).await.status,
            StatusCode::FORBIDDEN,
            "{name} does not see the list"
        );
    }
    assert_eq!(
        switch(&app, &Visitor::default(), demo::MANAGER, false)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let own = switch(&app, &admin, demo::ADMIN, false).await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", own.body);
    assert!(own.body.contains("Another admin"), "{}", own.body);
    // Another organisation's admin answers like an address nobody has.
    let foreign = switch(&app, &admin, OTHER_ADMIN, false).await;
    let nobody = switch(&app, &admin, "nobody@demo.example", false).await;
    assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(foreign.body, nobody.body);
    let unclear = app
        .call(
            &admin,
            "set_person_active",
            &[("email", demo::MANAGER), ("active", "maybe")],
        )
        .await;
    assert_eq!(unclear.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Nothing of that changed anyone: everyone still signs in.
    for email in [demo::ADMIN, demo::MANAGER, OTHER_ADMIN] {
        app.sign_in(email, demo::PASSWORD).await;
    }
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    assert!(
        people(&app, &other)
            .await
            .iter()
            .all(|(email, _, _)| !email.ends_with("@demo.example")),
        "an admin lists their own organisation only"
    );
    assert!(
        !app.audit_actions()
            .await
            .iter()
            .any(|action| action.starts_with("sign_in_"))
    );
}
