//! One unit on its own page over HTTP: its staff read it; its managers rename it and correct
//! its residents' details, once however often the form is sent, with an audit entry that
//! names what changed and keeps the personal data out; nobody else changes anything, and a
//! resident's sign-in details are theirs once they chose their own password.

use crate::support;

use reqwest::StatusCode;
use server::{demo, on_db};
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

const OWNER: &str = "a101@demo.example";
const NEW_PASSWORD: &str = "a far better passphrase";

async fn unit_row(app: &TestApp, unit: i64) -> (String, String) {
    on_db!(&app.db, pool => {
        sqlx::query_as("SELECT name, kind FROM units WHERE id = $1").bind(unit).fetch_one(pool).await
    })
    .unwrap()
}

async fn person(app: &TestApp, email: &str) -> i64 {
    app.count(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .await
}

async fn edit_unit(app: &TestApp, who: &Visitor, unit: &str, name: &str, kind: &str) -> StatusCode {
    app.call(
        who,
        "edit_unit",
        &[("unit", unit), ("name", name), ("kind", kind)],
    )
    .await
    .status
}

async fn edited_units(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'unit_edited'")
        .await
}

#[tokio::test]
async fn the_site_s_staff_read_a_unit_and_its_managers_rename_it_once() {
    let app = spawn_app().await;
    app.add_staff("operator@demo.example", "operator").await;
    let unit_id = app.unit_id("A-101").await;
    let unit = unit_id.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let answer = app.call(&manager, "unit_card", &[("unit", &unit)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let card = answer.json();
    assert_eq!(card["name"], "A-101");
    assert_eq!(card["building"], "Block A");
    assert_eq!(card["may_edit"], true);
    assert_eq!(card["meters"].as_array().unwrap().len(), 3);
    let accounts = app
        .count(&format!(
            "SELECT COUNT(*) FROM wallets WHERE unit_id = {unit_id} AND closed_at IS NULL"
        ))
        .await;
    assert_eq!(card["accounts"].as_array().unwrap().len() as i64, accounts);
    let residents = card["residents"].as_array().unwrap();
    assert_eq!(residents.len(), 1);
    assert_eq!(residents[0]["email"], OWNER);

    let operator = app.sign_in("operator@demo.example", demo::PASSWORD).await;
    let answer = app.call(&operator, "unit_card", &[("unit", &unit)]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json()["may_edit"],
        false,
        "operators read, never edit"
    );
    assert_eq!(
        edit_unit(&app, &operator, &unit, "Renamed", "shop").await,
        StatusCode::FORBIDDEN
    );
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    assert_eq!(
        app.call(&other, "unit_card", &[("unit", &unit)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        edit_unit(&app, &other, &unit, "Renamed", "shop").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        unit_row(&app, unit_id).await,
        ("A-101".into(), "flat".into())
    );

    // Twice the same edit: one change, one audit entry with the unit before and after.
    for _ in 0..2 {
        assert_eq!(
            edit_unit(&app, &manager, &unit, " A-101 shop ", "shop").await,
            StatusCode::OK
        );
    }
    assert_eq!(
        unit_row(&app, unit_id).await,
        ("A-101 shop".into(), "shop".into())
    );
    assert_eq!(edited_units(&app).await, 1);
    let (before, after): (String, String) = on_db!(&app.db, pool => {
        sqlx::query_as("SELECT before_json, after_json FROM audit_log WHERE action = 'unit_edited'")
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert!(
        before.contains("\"A-101\"") && before.contains("flat"),
        "{before}"
    );
    assert!(
        after.contains("A-101 shop") && after.contains("shop"),
        "{after}"
    );

    // A name the building already has, a kind there is not: refused, nothing changed.
    assert_eq!(
        edit_unit(&app, &manager, &unit, "A-102", "flat").await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        edit_unit(&app, &manager, &unit, "A-101", "castle").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        unit_row(&app, unit_id).await,
        ("A-101 shop".into(), "shop".into())
    );
    assert_eq!(edited_units(&app).await, 1);
}

#[tokio::test]
async fn a_manager_corrects_a_resident_until_they_choose_their_own_password() {
    let app = spawn_app().await;
    let unit = app.unit_id("A-101").await.to_string();
    let owner = person(&app, OWNER).await.to_string();
    let neighbour = person(&app, "a102@demo.example").await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let correct = |who: &Visitor, person: &str, name: &str, email: &str, phone: &str| {
        let (app, who, unit) = (&app, who.clone(), unit.clone());
        let (person, name, email, phone) = (
            person.to_owned(),
            name.to_owned(),
            email.to_owned(),
            phone.to_owned(),
        );
        async move {
            app.call(
                &who,
                "edit_resident",
                &[
                    ("unit", unit.as_str()),
                    ("person", &person),
                    ("display_name", &name),
                    ("email", &email),
                    ("phone", &phone),
                ],
            )
            .await
        }
    };
    // The invitation went to a mistyped address: corrected, and the resident signs in with
    // the right one.
    let answer = correct(
        &manager,
        &owner,
        "Amina Odhiambo",
        "amina@demo.example",
        "+254 700 000 101",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        app.try_sign_in(OWNER, demo::PASSWORD).await.status,
        StatusCode::UNAUTHORIZED,
        "the old address signs in no more"
    );
    let resident = app.sign_in("amina@demo.example", demo::PASSWORD).await;
    let (name, phone): (String, Option<String>) = on_db!(&app.db, pool => {
        sqlx::query_as("SELECT display_name, phone FROM users WHERE email = 'amina@demo.example'")
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert_eq!(
        (name.as_str(), phone.as_deref()),
        ("Amina Odhiambo", Some("+254700000101"))
    );
    let after: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT after_json FROM audit_log WHERE action = 'resident_edited'")
            .fetch_one(pool)
            .await
    })
    .unwrap();
    assert!(
        after.contains("display_name") && after.contains("email"),
        "{after}"
    );
    assert!(
        !after.contains("amina") && !after.contains("+254"),
        "no personal data: {after}"
    );

    // Someone who does not live in the unit, an address another account has: refused.
    let answer = correct(&manager, &neighbour, "Renamed", "a102@demo.example", "").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    let answer = correct(&manager, &owner, "Amina Odhiambo", "a102@demo.example", "").await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    // Nobody but the site's managers.
    let neighbour_visitor = app.sign_in("a102@demo.example", demo::PASSWORD).await;
    let answer = correct(
        &neighbour_visitor,
        &owner,
        "Mallory",
        "mallory@demo.example",
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    // Once the resident has chosen their own password, their sign-in details are theirs.
    let answer = app
        .call(
            &resident,
            "change_password",
            &[
                ("current", demo::PASSWORD),
                ("new", NEW_PASSWORD),
                ("confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(
        answer.status.is_success(),
        "{} {}",
        answer.status,
        answer.body
    );
    let answer = correct(
        &manager,
        &owner,
        "Amina Odhiambo",
        "taken-over@demo.example",
        "+254700000101",
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    let answer = correct(
        &manager,
        &owner,
        "Amina O.",
        "amina@demo.example",
        "+254700000101",
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the name still can: {}",
        answer.body
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'amina@demo.example' AND display_name = 'Amina O.'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'resident_edited'")
            .await,
        2
    );
}
