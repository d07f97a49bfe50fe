//! Two-factor sign-in for staff over real HTTP: setting an authenticator up, the code after
//! the password (once only, throttled), and an organisation that requires it.

use crate::support;

use reqwest::StatusCode;
use server::{auth::totp, demo};
use support::{TestApp, Visitor, spawn_app};

fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0_u32, 0_u32);
    for c in text.chars() {
        buffer = (buffer << 5) | ALPHABET.find(c).expect("base32") as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// The code for `steps` steps from now.
fn code(secret: &[u8], steps: i64) -> String {
    let step = chrono::Utc::now().timestamp().div_euclid(totp::STEP_S) + steps;
    format!("{:06}", totp::code_at(secret, step))
}

/// Sets an authenticator up for the signed-in visitor; its secret.
pub(crate) async fn set_up(app: &TestApp, visitor: &Visitor) -> Vec<u8> {
    let begun = app.call(visitor, "begin_two_factor", &[]).await;
    assert_eq!(begun.status, StatusCode::OK, "{}", begun.body);
    let setup = begun.json();
    assert!(
        setup["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || setup["qr_svg"].as_str().unwrap().contains("<svg")
    );
    assert!(
        setup["uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Prepaid:")
    );
    let secret = base32_decode(setup["secret"].as_str().unwrap());
    let wrong = app
        .call(visitor, "confirm_two_factor", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let right = app
        .call(
            visitor,
            "confirm_two_factor",
            &[("code", &code(&secret, 0))],
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.body);
    secret
}

/// A password sign-in that stops at the code: the visitor holding the waiting session.
async fn password_only(app: &TestApp, email: &str) -> Visitor {
    let answer = app.try_sign_in(email, demo::PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.headers.get("location").map(|v| v.to_str().unwrap()),
        Some("/sign-in/code"),
        "{:?}",
        answer.headers
    );
    Visitor {
        cookie: answer.session_cookie(),
    }
}

#[tokio::test]
async fn with_an_authenticator_a_password_alone_no_longer_signs_in_and_each_code_works_once() {
    let app = spawn_app().await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let secret = set_up(&app, &manager).await;
    assert!(
        app.audit_actions()
            .await
            .contains(&"two_factor_enabled".to_owned())
    );

    let waiting = password_only(&app, demo::MANAGER).await;
    // Not signed in yet: nothing of the manager's is served.
    let sites = app.call(&waiting, "my_sites", &[]).await;
    assert_eq!(sites.status, StatusCode::UNAUTHORIZED);
    // The code just used to confirm the app is spent.
    let replayed = app
        .call(
            &waiting,
            "sign_in_second_step",
            &[("code", &code(&secret, 0))],
        )
        .await;
    assert_eq!(
        replayed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        replayed.body
    );
    let next = code(&secret, 1);
    let passed = app
        .call(&waiting, "sign_in_second_step", &[("code", &next)])
        .await;
    assert_eq!(passed.status, StatusCode::OK, "{}", passed.body);
    let signed_in = Visitor {
        cookie: passed.session_cookie().or(waiting.cookie.clone()),
    };
    assert_eq!(
        app.call(&signed_in, "my_sites", &[]).await.status,
        StatusCode::OK
    );
    assert_ne!(
        signed_in.cookie, waiting.cookie,
        "the session id is cycled at the second step too"
    );

    // The same code in another browser, a moment later: refused.
    let elsewhere = password_only(&app, demo::MANAGER).await;
    let again = app
        .call(&elsewhere, "sign_in_second_step", &[("code", &next)])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Guessing is throttled like passwords (three failures an account in the tests).
    for _ in 0..2 {
        app.call(&elsewhere, "sign_in_second_step", &[("code", "123456")])
            .await;
    }
    let throttled = app
        .call(
            &elsewhere,
            "sign_in_second_step",
            &[("code", &code(&secret, 1))],
        )
        .await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        throttled.body
    );
    // Without a password first, a code signs nobody in.
    let stranger = app
        .call(
            &Visitor::default(),
            "sign_in_second_step",
            &[("code", &code(&secret, 1))],
        )
        .await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_organisation_that_requires_it_holds_its_staff_at_set_up_and_not_its_residents() {
    let app = spawn_app().await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    // Only an admin sets the rule.
    let refused = app
        .call(&manager, "require_staff_two_factor", &[("required", "yes")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let set = app
        .call(&admin, "require_staff_two_factor", &[("required", "yes")])
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    for staff in [&admin, &manager] {
        let held = app.call(staff, "my_sites", &[]).await;
        assert_eq!(held.status, StatusCode::FORBIDDEN, "{}", held.body);
        assert!(
            held.body.contains("TwoFactorSetupRequired"),
            "{}",
            held.body
        );
        let page = app.get(staff, "/manage").await;
        assert_eq!(page.headers["location"], "/account/two-factor");
    }
    assert_eq!(
        app.call(&resident, "resident_home", &[]).await.status,
        StatusCode::OK
    );
    // Once set up, the manager is let through, and cannot turn it off.
    let secret = set_up(&app, &manager).await;
    assert_eq!(
        app.call(&manager, "my_sites", &[]).await.status,
        StatusCode::OK
    );
    let off = app
        .call(
            &manager,
            "disable_two_factor",
            &[("code", &code(&secret, 1))],
        )
        .await;
    assert_eq!(off.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another organisation's staff are not held.
    let other = app.sign_in(support::OTHER_ADMIN, demo::PASSWORD).await;
    assert_eq!(
        app.call(&other, "my_sites", &[]).await.status,
        StatusCode::OK
    );
    // A resident has no authenticator to set up.
    assert_eq!(
        app.call(&resident, "begin_two_factor", &[]).await.status,
        StatusCode::FORBIDDEN
    );
}
