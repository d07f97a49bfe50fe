//! The authorisation matrix, generated from what the server serves: every server function
//! registered with Leptos and every page route of the app, called by every kind of visitor
//! (nobody, a resident, a cashier, an operator, a manager, an admin, and an admin of another
//! organisation), with the ids of one resident's account, meter, unit and site in every
//! field such a function may take. A function or page added later is in the matrix without
//! anyone listing it.
//!
//! What must hold, whatever the function: nobody sees what is not theirs (no answer to a
//! visitor carries another organisation's or another resident's data), and nobody changes
//! what is not theirs to change (the database's record of it is the same after every call).

use crate::support;

use app::domain::{
    SiteId, Utility,
    tariff::{Plan, Tariff, book::NewProposal},
};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use server::{demo, on_db};
use std::collections::BTreeMap;
use support::{OTHER_ADMIN, TestApp, Visitor, spawn_app};

/// The resident whose objects every call names, and their neighbour.
const OWNER: &str = "a101@demo.example";
const NEIGHBOUR: &str = "a102@demo.example";

/// Functions that end or change the caller's own session or sign-in (or, for an admin,
/// require a second factor of them): called last, so the visitor is who they are for every
/// other call.
const LAST: &[&str] = &[
    "require_staff_two_factor",
    "sign_out",
    "change_password",
    "disable_two_factor",
    "begin_two_factor",
    "confirm_two_factor",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Nobody,
    Neighbour,
    Cashier,
    Operator,
    Manager,
    Admin,
    OtherAdmin,
}

/// The fields every call carries: each names the owner's objects, so a function taking any
/// of them acts on the owner's account, meter, unit or site.
async fn fields(app: &TestApp) -> Vec<(String, String)> {
    let account = app.wallet("A-101", "electricity").await;
    let (meter, unit, site): (i64, i64, i64) = on_db!(&app.db, pool => {
        sqlx::query_as(
            "SELECT m.id, u.id, b.site_id FROM wallets w JOIN meters m ON m.id = w.meter_id \
             JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
             WHERE w.account_id = $1",
        )
        .bind(account)
        .fetch_one(pool)
        .await
    })
    .unwrap();
    let ids = [
        ("account", account),
        ("meter", meter),
        ("unit", unit),
        ("site", site),
        ("id", account),
        ("alarm", 1),
        ("fault", 1),
        ("payment", 1),
        ("subscription", 1),
        ("key", 1),
        ("token", 1),
        ("conflict", 1),
        ("payout", 1),
        ("delivery", 1),
    ];
    let occupancy: i64 = app
        .count(&format!(
            "SELECT o.id FROM occupancies o JOIN users p ON p.id = o.user_id \
             WHERE p.email = '{OWNER}' AND o.ends_at IS NULL"
        ))
        .await;
    let mut fields: Vec<(String, String)> = ids
        .iter()
        .map(|(name, id)| ((*name).to_owned(), id.to_string()))
        .collect();
    fields.push(("occupancies".to_owned(), occupancy.to_string()));
    let owner: i64 = app
        .count(&format!("SELECT id FROM users WHERE email = '{OWNER}'"))
        .await;
    fields.push(("person".to_owned(), owner.to_string()));
    // A tariff version the demo's manager proposed, waiting for a second person: an admin's
    // run approves it, the manager's own may not.
    let proposal = app
        .engine
        .propose_tariff(
            SiteId(site),
            &NewProposal::parse("", "electricity", "2031-01-01T00:00", &flat_tariff(), "").unwrap(),
            app.count(&format!(
                "SELECT id FROM users WHERE email = '{}'",
                demo::MANAGER
            ))
            .await,
        )
        .await
        .unwrap();
    fields.push(("proposal".to_owned(), proposal.to_string()));
    // A published plan the owner's unit may be put on.
    let plan = Plan::parse("Matrix plan").unwrap();
    app.engine
        .set_plan_tariff(
            SiteId(site),
            &plan,
            Utility::Electricity,
            chrono::Utc::now(),
            &Tariff::flat(Decimal::from(30)),
            None,
        )
        .await
        .unwrap();
    fields.push(("plan".to_owned(), plan.as_str().to_owned()));
    fields.push(("definition".to_owned(), flat_tariff()));
    for (name, value) in [
        ("amount", "100"),
        ("reason", "matrix"),
        ("note", "matrix"),
        ("memo", "matrix"),
        ("reference", "MATRIX-1"),
        ("email", "newcomer@demo.example"),
        ("name", "Matrix"),
        ("display_name", "Matrix"),
        ("role", "manager"),
        ("utility", "electricity"),
        ("kind", "leak"),
        ("details", "matrix"),
        ("operation", "{\"op\":\"close\"}"),
        ("op", "close"),
        ("number", "A-101"),
        ("query", "A-101"),
        ("text", "a101"),
        ("sheet", "building,unit\nBlock A,Matrix-1\n"),
        ("phone", "+254700000101"),
        ("provider", "sandbox"),
        ("url", "https://example.org/hook"),
        ("scopes", "read"),
        ("required", "yes"),
        ("step", "acknowledge"),
        ("nonce", "matrix-nonce-1"),
        ("lang", "en"),
        ("back", "/"),
        ("starts", "2031-01-01T00:00"),
        ("decision", "approve"),
        ("heading", "matrix"),
        ("expected", "1"),
        ("month", ""),
        ("building", ""),
        ("master", "EL-A102"),
        ("serial", "EL-MATRIX1"),
        ("multiplier", "2"),
        ("counted", "0"),
        ("after", ""),
        ("receipt", "1"),
        // The reports' days: empty is this month so far.
        ("from", ""),
        ("to", ""),
        ("request", "1"),
        ("limit", "250"),
        ("time_zone", "Africa/Nairobi"),
        ("currency", "KES"),
        ("locale", "en-KE"),
        ("rules[min_top_up]", "10"),
    ] {
        fields.push((name.to_owned(), value.to_owned()));
    }
    // A day that has ended on any clock, to close the books through.
    let through = (chrono::Utc::now() - chrono::Duration::days(2)).date_naive();
    fields.push(("through".to_owned(), through.to_string()));
    fields
}

/// A tariff definition as the editor sends it.
fn flat_tariff() -> String {
    serde_json::to_string(&Tariff::flat(Decimal::from(25))).unwrap()
}

/// What may change, named by queries whose answers must stay the same.
const RECORD: &[(&str, &str)] = &[
    ("ledger", "SELECT COUNT(*) FROM ledger_transactions"),
    (
        "balances",
        "SELECT COALESCE(SUM(ABS(balance_minor)), 0) FROM accounts",
    ),
    ("commands", "SELECT COUNT(*) FROM meter_commands"),
    (
        "alarms",
        "SELECT COUNT(*) FROM alarms WHERE status <> 'open'",
    ),
    ("tariffs", "SELECT COUNT(*) FROM tariffs"),
    ("proposals", "SELECT COUNT(*) FROM tariff_proposals"),
    (
        "decided proposals",
        "SELECT COUNT(*) FROM tariff_proposals WHERE state <> 'pending'",
    ),
    ("users", "SELECT COUNT(*) FROM users"),
    ("grants", "SELECT COUNT(*) FROM role_grants"),
    (
        "occupancies",
        "SELECT COUNT(*) FROM occupancies WHERE ends_at IS NULL",
    ),
    (
        "meters",
        "SELECT COUNT(*) FROM meters WHERE removed_at IS NULL",
    ),
    ("faults", "SELECT COUNT(*) FROM fault_reports"),
    (
        "master meters",
        "SELECT COUNT(*) FROM meters WHERE master_meter_id IS NOT NULL",
    ),
    ("units", "SELECT COUNT(*) FROM units"),
    ("buildings", "SELECT COUNT(*) FROM buildings"),
    ("cash shifts", "SELECT COUNT(*) FROM cash_shifts"),
    (
        "adjustment requests",
        "SELECT COUNT(*) FROM adjustment_requests",
    ),
    ("receipt voids", "SELECT COUNT(*) FROM receipt_voids"),
    ("period closes", "SELECT COUNT(*) FROM period_closes"),
    ("refund requests", "SELECT COUNT(*) FROM refund_requests"),
    ("cash requests", "SELECT COUNT(*) FROM cash_requests"),
    ("sites", "SELECT COUNT(*) FROM sites"),
    (
        "site settings",
        "SELECT COUNT(*) FROM site_policies WHERE policy LIKE '%\"warning_levels\":[]%'",
    ),
    (
        "cash limits",
        "SELECT COALESCE(SUM(cash_approval_over_minor), 0) FROM sites",
    ),
    (
        "unit plans",
        "SELECT COUNT(*) FROM units WHERE tariff_plan <> ''",
    ),
    (
        "meter records",
        "SELECT COUNT(*) FROM meters WHERE serial = 'EL-MATRIX1' OR multiplier <> '1'",
    ),
    (
        "unit names",
        "SELECT COUNT(*) FROM units WHERE name = 'Matrix' OR kind <> 'flat'",
    ),
    (
        "people's details",
        "SELECT COUNT(*) FROM users WHERE display_name = 'Matrix' OR phone = '+254700000101'",
    ),
    (
        "keys",
        "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL",
    ),
    ("webhooks", "SELECT COUNT(*) FROM webhook_subscriptions"),
    ("tokens", "SELECT COUNT(*) FROM meter_tokens"),
    ("policies", "SELECT COUNT(*) FROM fleet_rules"),
    ("alarm notes", "SELECT COUNT(*) FROM alarm_notes"),
    (
        "site notices",
        "SELECT COUNT(*) FROM notifications WHERE kind = 'site_notice'",
    ),
];

async fn record(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut record = BTreeMap::new();
    for (name, sql) in RECORD {
        record.insert(*name, app.count(sql).await);
    }
    record
}

/// What `who` may change at all, of the record: nothing for those outside the demo's staff
/// (a visitor's own session, preferences and sign-in failures are not in it).
fn may_change(who: Who, what: &str) -> bool {
    match who {
        Who::Nobody | Who::Neighbour => false,
        // An admin creates sites, in their own organisation: never anything of the demo's.
        Who::OtherAdmin => what == "sites",
        // Cash in, receipts: money moves, and supply cut for want of it comes back (the
        // engine's reconnection command); and they close their shift at the desk. Nothing else.
        Who::Cashier => matches!(
            what,
            "ledger" | "balances" | "commands" | "cash shifts" | "receipt voids" | "cash requests"
        ),
        // Alarms are theirs to acknowledge and resolve.
        Who::Operator => matches!(what, "alarms" | "alarm notes" | "commands"),
        Who::Manager | Who::Admin => true,
    }
}

/// Text that must never reach `who`.
fn secrets_for(who: Who, owner_name: &str) -> Vec<String> {
    let owner = vec![OWNER.to_owned(), owner_name.to_owned()];
    match who {
        Who::Nobody | Who::Neighbour => owner,
        Who::OtherAdmin => [owner, vec![demo::SITE.to_owned(), demo::MANAGER.to_owned()]].concat(),
        // The demo's own staff never see the other organisation's.
        _ => vec![support::OTHER_SITE.to_owned(), OTHER_ADMIN.to_owned()],
    }
}

async fn sign_in(app: &TestApp, who: Who) -> Visitor {
    let email = match who {
        Who::Nobody => return Visitor::default(),
        Who::Neighbour => NEIGHBOUR,
        Who::Cashier => "cashier@demo.example",
        Who::Operator => "operator@demo.example",
        Who::Manager => demo::MANAGER,
        Who::Admin => demo::ADMIN,
        Who::OtherAdmin => OTHER_ADMIN,
    };
    app.sign_in(email, demo::PASSWORD).await
}

/// Every registered server function, the ones that end a session last.
fn server_functions() -> Vec<String> {
    let mut names: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| {
            path.strip_prefix("/api/")
                .unwrap_or_else(|| panic!("server functions are under /api/: {path}"))
                .to_owned()
        })
        .collect();
    names.sort_by_key(|name| (LAST.contains(&name.as_str()), name.clone()));
    names
}

/// Every page route, its parameters filled with the owner's ids.
fn pages(account: i64, meter: i64, site: i64) -> Vec<String> {
    server::http::page_routes()
        .iter()
        .map(|route| {
            let path = route.path().to_owned();
            let id = if path.starts_with("/meters/") {
                meter
            } else if path.contains("/sites/") {
                site
            } else {
                account
            };
            path.split('/')
                .map(|part| {
                    if part.starts_with(':') {
                        id.to_string()
                    } else {
                        part.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

async fn matrix_for(who: Who) {
    let app = spawn_app().await;
    // Today's periodic charges, which the server's jobs post soon after it starts, are posted
    // now: the record below must move only with the calls.
    app.engine.run_jobs(chrono::Utc::now()).await.unwrap();
    app.add_staff("cashier@demo.example", "cashier").await;
    app.add_staff("operator@demo.example", "operator").await;
    let owner_name: String = on_db!(&app.db, pool => {
        sqlx::query_scalar("SELECT display_name FROM users WHERE email = $1").bind(OWNER).fetch_one(pool).await
    })
    .unwrap();
    let fields = fields(&app).await;
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let visitor = sign_in(&app, who).await;
    let secrets = secrets_for(who, &owner_name);
    let functions = server_functions();
    assert!(
        functions.len() >= 80,
        "the registry lists every server function: {functions:?}"
    );

    let mut allowed = Vec::new();
    for function in &functions {
        let before = record(&app).await;
        let answer = app.call(&visitor, function, &form).await;
        let after = record(&app).await;
        assert!(
            answer.status.as_u16() < 500,
            "{who:?} {function}: {} {}",
            answer.status,
            answer.body
        );
        for secret in &secrets {
            assert!(
                !answer.body.contains(secret.as_str()),
                "{who:?} got {secret:?} from {function}: {}",
                answer.body
            );
        }
        for (what, value) in &before {
            if after[what] != *value {
                assert!(
                    may_change(who, what),
                    "{who:?} changed {what} ({value} → {}) with {function}: {} {}",
                    after[what],
                    answer.status,
                    answer.body
                );
            }
        }
        if answer.status == StatusCode::OK {
            allowed.push(function.clone());
        }
    }

    // The form must read for every function: a field named twice (serde_qs refuses it) or one
    // that does not parse would make every call a refusal and this test say nothing.
    assert!(
        allowed.contains(&"me".to_owned()),
        "{who:?}: the form does not read: {allowed:?}"
    );
    if matches!(
        who,
        Who::Cashier | Who::Operator | Who::Manager | Who::Admin
    ) {
        assert!(
            allowed.contains(&"site_overview".to_owned()),
            "{who:?}: {allowed:?}"
        );
    }

    // The owner's objects as the calls named them (a manager's calls may have moved them out).
    let id_of = |name: &str| -> i64 {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .unwrap()
            .1
            .parse()
            .unwrap()
    };
    let (account, meter, site) = (id_of("account"), id_of("meter"), id_of("site"));
    // A fresh sign-in: the functions above may have ended the session.
    let visitor = sign_in(&app, who).await;
    for page in pages(account, meter, site) {
        let answer = app.get(&visitor, &page).await;
        assert!(
            answer.status.as_u16() < 500,
            "{who:?} {page}: {}",
            answer.status
        );
        for secret in &secrets {
            assert!(
                !answer.body.contains(secret.as_str()),
                "{who:?} saw {secret:?} on {page}"
            );
        }
        if who == Who::Nobody && page.starts_with("/manage") {
            assert_eq!(answer.status, StatusCode::FOUND, "{page}");
            assert_eq!(answer.headers["location"], "/sign-in", "{page}");
        }
    }
    eprintln!(
        "{who:?}: {} functions and the pages called; answered 200 by {}: {allowed:?}",
        functions.len(),
        allowed.len()
    );
}

#[tokio::test]
async fn nobody_signed_in() {
    matrix_for(Who::Nobody).await;
}

#[tokio::test]
async fn a_neighbour() {
    matrix_for(Who::Neighbour).await;
}

#[tokio::test]
async fn a_cashier() {
    matrix_for(Who::Cashier).await;
}

#[tokio::test]
async fn an_operator() {
    matrix_for(Who::Operator).await;
}

#[tokio::test]
async fn a_manager() {
    matrix_for(Who::Manager).await;
}

#[tokio::test]
async fn an_admin() {
    matrix_for(Who::Admin).await;
}

#[tokio::test]
async fn another_organisations_admin() {
    matrix_for(Who::OtherAdmin).await;
}
