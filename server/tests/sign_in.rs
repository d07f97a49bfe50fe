//! Signing in and out over real HTTP against a real SQLite file.

use crate::support;

use reqwest::StatusCode;
use server::demo;
use support::{Visitor, spawn_app};

const RESIDENT: &str = "a101@demo.example";

#[tokio::test]
async fn healthz_reports_the_database_state() {
    let app = spawn_app().await;
    let answer = app.get(&Visitor::default(), "/healthz").await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["status"], "ok");
    let backend = if support::on_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(body["database"]["backend"], backend);
    assert_eq!(body["database"]["reachable"], true);
}

#[tokio::test]
async fn a_resident_signs_in_and_sees_only_their_own_unit() {
    let app = spawn_app().await;
    let visitor = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let home = app.call(&visitor, "resident_home", &[]).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let units = home.json()["units"].as_array().unwrap().clone();
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["name"], "A-101");
    let utilities: Vec<&str> = units[0]["meters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["utility"].as_str().unwrap())
        .collect();
    assert_eq!(utilities, ["electricity", "gas", "water"]);
    assert!(app.audit_actions().await.contains(&"signed_in".to_owned()));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app().await;
    let answer = app.try_sign_in(RESIDENT, demo::PASSWORD).await;
    let header = answer.set_cookie_header();
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    // Plain HTTP on loopback: Secure would stop the browser sending it back.
    assert!(!header.contains("Secure"), "{header}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app.try_sign_in(RESIDENT, "not the password").await;
    let unknown = app
        .try_sign_in("nobody@demo.example", "not the password")
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);
    assert!(wrong.session_cookie().is_none());
}

#[tokio::test]
async fn repeated_failures_throttle_the_account_even_for_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let answer = app.try_sign_in(RESIDENT, "guess-guess").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = app.try_sign_in(RESIDENT, demo::PASSWORD).await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        blocked.body
    );
    assert!(blocked.body.contains("Throttled"), "{}", blocked.body);
    // Another account from the same address is not locked out by this one's failures.
    app.sign_in("a102@demo.example", demo::PASSWORD).await;
}

#[tokio::test]
async fn repeated_failures_from_one_address_throttle_every_account_tried_from_it() {
    let app = spawn_app().await;
    // Two failures each on four accounts: no account reaches its limit of three, the address
    // reaches its limit of eight.
    for unit in ["a102", "a103", "a104", "a105"] {
        let email = format!("{unit}@demo.example");
        for _ in 0..2 {
            let answer = app.try_sign_in(&email, "guess-guess").await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        }
    }
    let blocked = app.try_sign_in(RESIDENT, demo::PASSWORD).await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        blocked.body
    );
}

#[tokio::test]
async fn the_session_id_is_cycled_at_sign_in() {
    let app = spawn_app().await;
    let first = app.sign_in(RESIDENT, demo::PASSWORD).await;
    // Signing in again while holding a session must not keep that session's id.
    let again = app
        .call(
            &first,
            "sign_in",
            &[("email", RESIDENT), ("password", demo::PASSWORD)],
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let second = Visitor {
        cookie: again.session_cookie(),
    };
    assert!(second.cookie.is_some());
    assert_ne!(second.cookie, first.cookie);
    assert_eq!(
        app.call(&second, "resident_home", &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(&first, "resident_home", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let visitor = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let out = app.call(&visitor, "sign_out", &[]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(
        app.call(&visitor, "resident_home", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let me = app.call(&visitor, "me", &[]).await;
    assert_eq!(me.json(), serde_json::Value::Null);
}

#[tokio::test]
async fn state_changing_requests_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let form = [("email", RESIDENT), ("password", demo::PASSWORD)];
    let nobody = Visitor::default();
    let forged = app
        .call_from(&nobody, "sign_in", &form, Some("http://evil.example"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.session_cookie().is_none());
    let bare = app.call_from(&nobody, "sign_in", &form, None).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
    // And a signed-in visitor's cookie does not help a forged request either.
    let visitor = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let forged = app
        .call_from(&visitor, "sign_out", &[], Some("http://evil.example"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.call(&visitor, "resident_home", &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn malformed_form_input_gets_a_clear_4xx_never_a_500() {
    let app = spawn_app().await;
    let nobody = Visitor::default();
    let bad_email = app.try_sign_in("not-an-address", "whatever-it-is").await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_email
            .body
            .contains("does not look like an e-mail address"),
        "{}",
        bad_email.body
    );
    let missing = app.call(&nobody, "sign_in", &[("email", RESIDENT)]).await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        missing.body
    );
}

#[tokio::test]
async fn pages_redirect_visitors_who_are_not_signed_in_and_unknown_paths_are_404() {
    let app = spawn_app().await;
    let nobody = Visitor::default();
    let home = app.get(&nobody, "/").await;
    assert_eq!(home.status, StatusCode::FOUND);
    assert_eq!(home.headers["location"], "/sign-in");
    let sign_in = app.get(&nobody, "/sign-in").await;
    assert_eq!(sign_in.status, StatusCode::OK);
    assert!(sign_in.body.contains("name=\"password\""));
    let missing = app.get(&nobody, "/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found"));
}

#[tokio::test]
async fn the_resident_home_page_is_rendered_on_the_server_with_their_meters() {
    let app = spawn_app().await;
    let visitor = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let page = app.get(&visitor, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("A-101"));
    assert!(page.body.contains("EL-A101"));
    assert!(!page.body.contains("A-102"));
}

#[tokio::test]
async fn the_pages_speak_the_language_chosen_and_the_chooser_stays_on_this_site() {
    let app = spawn_app().await;
    let page_lang = |html: &str| {
        html.split("<html lang=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    };

    // A visitor's browser asks for Kiswahili: the sign-in page is in it.
    let asked = app
        .client
        .get(app.url("/sign-in"))
        .header("accept", "text/html")
        .header("accept-language", "fr-FR, sw-KE;q=0.8, en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(page_lang(&asked).as_deref(), Some("sw"));
    assert!(asked.contains("Ingia"), "{asked}");

    // A language we do not have is refused and remembers nothing.
    let wrong = app
        .call(
            &Visitor::default(),
            "choose_language",
            &[("lang", "fr"), ("back", "/")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!wrong.set_cookie_header().contains("prepaid_lang"));

    // Chinese is remembered in a cookie; a way back off the site is not followed.
    let chosen = app
        .call(
            &Visitor::default(),
            "choose_language",
            &[("lang", "zh"), ("back", "//evil.example/x")],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::OK, "{}", chosen.body);
    assert!(chosen.set_cookie_header().contains("prepaid_lang=zh;"));
    assert_eq!(chosen.headers["location"], "/");
    let visitor = Visitor {
        cookie: Some("prepaid_lang=zh".into()),
    };
    let page = app.get(&visitor, "/sign-in").await.body;
    assert_eq!(page_lang(&page).as_deref(), Some("zh"));
    assert!(page.contains("登录"));

    // A signed-in resident's choice is kept for their notices and comes back at sign-in.
    let resident = app.sign_in(RESIDENT, demo::PASSWORD).await;
    let chose = app
        .call(
            &resident,
            "choose_language",
            &[("lang", "sw"), ("back", "/notifications")],
        )
        .await;
    assert_eq!(chose.status, StatusCode::OK, "{}", chose.body);
    assert_eq!(chose.headers["location"], "/notifications");
    let settings = app
        .call(&resident, "notification_settings", &[])
        .await
        .json();
    assert_eq!(settings["preferences"]["locale"], "Sw");
    let again = app.try_sign_in(RESIDENT, demo::PASSWORD).await;
    assert!(again.set_cookie_header().contains("prepaid_lang=sw;"));
    let out = app.call(&resident, "sign_out", &[]).await;
    assert!(
        out.set_cookie_header()
            .contains("prepaid_lang=; Path=/; Max-Age=0")
    );
}
