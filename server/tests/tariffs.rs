//! Tariffs from the console over HTTP, on four eyes: a manager proposes a version, it charges
//! nothing until a second person approves it, the proposer cannot approve it, and the approval
//! puts it among the versions rating uses from its start. Against the real server on
//! loopback, with the demo data.

use crate::support;

use app::domain::{
    SiteId, Utility,
    tariff::{Plan, Tariff, Tier},
};
use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;
use server::demo;
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

/// Far enough ahead to be in the future whenever the test runs; midnight in Nairobi (UTC+3).
const STARTS: &str = "2031-01-01T00:00";

fn tiered(first: i64, second: i64) -> Tariff {
    Tariff {
        tiers: vec![
            Tier {
                up_to: Some(Decimal::from(10)),
                rate: Decimal::from(first),
            },
            Tier {
                up_to: None,
                rate: Decimal::from(second),
            },
        ],
        tax_percent: Decimal::from(16),
        ..Tariff::flat(Decimal::ZERO)
    }
}

async fn propose(
    app: &TestApp,
    who: &Visitor,
    site: &str,
    starts: &str,
    tariff: &Tariff,
) -> (StatusCode, String) {
    let definition = serde_json::to_string(tariff).unwrap();
    let answer = app
        .call(
            who,
            "propose_tariff",
            &[
                ("site", site),
                ("utility", "water"),
                ("starts", starts),
                ("definition", &definition),
                ("note", "new water rates"),
            ],
        )
        .await;
    (answer.status, answer.body)
}

async fn decide(
    app: &TestApp,
    who: &Visitor,
    site: &str,
    proposal: &str,
    decision: &str,
) -> (StatusCode, String) {
    let answer = app
        .call(
            who,
            "decide_tariff",
            &[
                ("site", site),
                ("proposal", proposal),
                ("decision", decision),
            ],
        )
        .await;
    (answer.status, answer.body)
}

async fn book(app: &TestApp, who: &Visitor, site: &str) -> Value {
    let answer = app.call(who, "tariff_book", &[("site", site)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()
}

async fn versions(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM tariffs").await
}

#[tokio::test]
async fn a_version_charges_only_once_a_second_person_approves_it() {
    let app = spawn_app().await;
    let site_id = app.site_id(demo::SITE).await;
    let site = site_id.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let admin = app.sign_in(demo::ADMIN, demo::PASSWORD).await;

    let first = book(&app, &manager, &site).await;
    assert_eq!(first["may_change"], true);
    let water = first["utilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["utility"] == "water")
        .unwrap();
    assert!(!water["versions"].as_array().unwrap().is_empty(), "{first}");
    let before = versions(&app).await;

    // Refused at the edge, nothing recorded: a start in the past, a tariff that does not
    // check, a start that is not a time.
    let proposals = || app.count("SELECT COUNT(*) FROM tariff_proposals");
    let (status, body) = propose(&app, &manager, &site, "2020-01-01T00:00", &tiered(10, 20)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("starts in the future"), "{body}");
    let mut bad = tiered(10, 20);
    bad.tiers.reverse();
    let (status, body) = propose(&app, &manager, &site, STARTS, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Tier 1"), "{body}");
    let (status, _) = propose(&app, &manager, &site, "next year", &tiered(10, 20)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(proposals().await, 0);

    // Proposed: waiting, and not among the versions that charge.
    let (status, id) = propose(&app, &manager, &site, STARTS, &tiered(10, 20)).await;
    assert_eq!(status, StatusCode::OK, "{id}");
    assert_eq!(versions(&app).await, before);
    let listed = book(&app, &manager, &site).await;
    let proposal = &listed["proposals"][0];
    assert_eq!(proposal["state"], "pending");
    assert_eq!(proposal["mine"], true);
    assert_eq!(proposal["id"].to_string(), id);
    assert_eq!(
        book(&app, &admin, &site).await["proposals"][0]["mine"],
        false
    );

    // The proposer cannot approve their own.
    let (status, body) = decide(&app, &manager, &site, &id, "approve").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("second person"), "{body}");
    assert_eq!(versions(&app).await, before);

    // A second person approves: the version joins those rating uses, from its start on.
    let (status, body) = decide(&app, &admin, &site, &id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(versions(&app).await, before + 1);
    let starts = Utc.with_ymd_and_hms(2030, 12, 31, 21, 0, 0).unwrap();
    let rules = app.engine.rules(SiteId(site_id)).await.unwrap();
    assert_eq!(
        rules.tariff_now(&Plan::standard(), Utility::Water, starts),
        Some(&tiered(10, 20)),
        "in force from its start, on the site's clock"
    );
    assert_ne!(
        rules.tariff_now(
            &Plan::standard(),
            Utility::Water,
            starts - chrono::Duration::minutes(1)
        ),
        Some(&tiered(10, 20)),
        "and not a minute before"
    );
    let after = book(&app, &manager, &site).await;
    assert_eq!(after["proposals"][0]["state"], "published");
    let water = after["utilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["utility"] == "water")
        .unwrap();
    assert_eq!(
        water["versions"][0]["approved_by"], "Amina Admin",
        "{water}"
    );

    // Approved again (a double click): nothing more. Refused now: too late.
    let (status, _) = decide(&app, &admin, &site, &id, "approve").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(versions(&app).await, before + 1);
    let (status, body) = decide(&app, &manager, &site, &id, "refuse").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // A second proposal for the same moment: withdrawn by its proposer, it cannot be
    // approved; a third for that moment cannot be published beside the first.
    let (_, withdrawn) = propose(&app, &manager, &site, STARTS, &tiered(11, 21)).await;
    let (status, _) = decide(&app, &manager, &site, &withdrawn, "refuse").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = decide(&app, &admin, &site, &withdrawn, "approve").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, clash) = propose(&app, &manager, &site, STARTS, &tiered(12, 22)).await;
    let (status, body) = decide(&app, &admin, &site, &clash, "approve").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("already starts"), "{body}");
    assert_eq!(versions(&app).await, before + 1);

    let audit = app.audit_actions().await;
    for action in ["tariff_proposed", "tariff_published", "tariff_withdrawn"] {
        assert!(audit.contains(&action.to_owned()), "{action}: {audit:?}");
    }
    let page = app
        .get(&manager, &format!("/manage/sites/{site}/tariffs"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Propose a new version"),
        "the editor is drawn"
    );
}

#[tokio::test]
async fn only_the_sites_managers_change_its_tariffs() {
    let app = spawn_app().await;
    let site = app.site_id(demo::SITE).await.to_string();
    let manager = app.sign_in(demo::MANAGER, demo::PASSWORD).await;
    let (status, id) = propose(&app, &manager, &site, STARTS, &tiered(10, 20)).await;
    assert_eq!(status, StatusCode::OK, "{id}");

    let resident = app.sign_in("a101@demo.example", demo::PASSWORD).await;
    let other = app.sign_in(OTHER_ADMIN, demo::PASSWORD).await;
    let stranger = Visitor::default();
    for (who, expected) in [
        (&resident, StatusCode::FORBIDDEN),
        (&other, StatusCode::FORBIDDEN),
        (&stranger, StatusCode::UNAUTHORIZED),
    ] {
        let answer = app.call(who, "tariff_book", &[("site", &site)]).await;
        assert_eq!(answer.status, expected, "{}", answer.body);
        let (status, _) = propose(&app, who, &site, STARTS, &tiered(1, 2)).await;
        assert_eq!(status, expected);
        let (status, _) = decide(&app, who, &site, &id, "approve").await;
        assert_eq!(status, expected);
    }
    // The other organisation's admin, naming their own site, cannot reach this proposal.
    let their_site = app.site_id(support::OTHER_SITE).await.to_string();
    let (status, body) = decide(&app, &other, &their_site, &id, "approve").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM tariff_proposals WHERE state = 'pending'")
            .await,
        1
    );
    let (status, _) = decide(&app, &manager, &site, &id, "maybe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = app
        .get(&resident, &format!("/manage/sites/{site}/tariffs"))
        .await;
    assert!(!page.body.contains("Propose a new version"));
}
