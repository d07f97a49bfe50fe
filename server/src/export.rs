//! Everything the platform holds about one person, as one JSON document: what a resident may
//! ask for under data-protection law, and what `prepaid export --email` prints for an operator.
//! Secrets (the password hash, push keys, codes) are left out; push endpoints are reduced to
//! their host.

use crate::db::{Db, ReadingTime};
use app::domain::Email;
use serde_json::{Map, Value, json};
use sqlx::{Column, Row};

/// One section of the export: its name and the query that fills it (`$1` is the person's id).
const SECTIONS: &[(&str, &str)] = &[
    (
        "roles",
        "SELECT role, site_id, granted_at FROM role_grants WHERE user_id = $1 ORDER BY id",
    ),
    (
        "preferences",
        "SELECT muted, quiet_from, quiet_to, locale, by_sms, by_email, updated_at \
         FROM notification_preferences WHERE user_id = $1",
    ),
    (
        "homes",
        "SELECT s.name AS site, b.name AS building, u.name AS unit, o.starts_at, o.ends_at \
         FROM occupancies o JOIN units u ON u.id = o.unit_id \
         JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = b.site_id \
         WHERE o.user_id = $1 ORDER BY o.id",
    ),
    (
        "accounts",
        "SELECT a.id, a.utility, s.currency, a.balance_minor, w.supply_state, m.serial AS meter, \
         a.opened_at, a.closed_at \
         FROM accounts a JOIN sites s ON s.id = a.site_id \
         LEFT JOIN wallets w ON w.account_id = a.id LEFT JOIN meters m ON m.id = w.meter_id \
         WHERE a.id IN (SELECT account_id FROM wallets WHERE occupancy_id IN \
             (SELECT id FROM occupancies WHERE user_id = $1)) OR a.user_id = $1 \
         ORDER BY a.id",
    ),
    (
        "ledger",
        "SELECT t.posted_at, e.account_id, e.amount_minor, t.kind, t.memo \
         FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
         WHERE e.account_id IN (SELECT account_id FROM wallets WHERE occupancy_id IN \
             (SELECT id FROM occupancies WHERE user_id = $1)) \
         ORDER BY t.posted_at, e.id",
    ),
    (
        "readings",
        "SELECT r.taken_at, m.serial AS meter, r.register, r.quantity, r.net, r.tax, r.status \
         FROM readings r JOIN meters m ON m.id = r.meter_id \
         WHERE r.wallet_account_id IN (SELECT account_id FROM wallets WHERE occupancy_id IN \
             (SELECT id FROM occupancies WHERE user_id = $1)) \
         ORDER BY r.taken_at, r.id",
    ),
    (
        "payments",
        "SELECT public_id, provider, channel, amount_minor, currency, status, receipt_number, \
         payer_phone, created_at, paid_at FROM payments WHERE payer_user_id = $1 \
         OR wallet_account_id IN (SELECT account_id FROM wallets WHERE occupancy_id IN \
             (SELECT id FROM occupancies WHERE user_id = $1)) \
         ORDER BY id",
    ),
    (
        "notices",
        "SELECT n.created_at, n.kind, n.body, d.channel, d.address, d.status, d.sent_at \
         FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id \
         WHERE d.user_id = $1 ORDER BY d.id",
    ),
    (
        "devices",
        "SELECT label, endpoint, created_at, last_sent_at FROM push_subscriptions \
         WHERE user_id = $1 ORDER BY id",
    ),
    (
        "fault_reports",
        "SELECT kind, details, created_at, closed_at, closing_note FROM fault_reports \
         WHERE reporter_user_id = $1 ORDER BY id",
    ),
    (
        "activity",
        "SELECT at, action, subject_type, subject_id, client_addr FROM audit_log \
         WHERE actor_user_id = $1 OR (subject_type = 'user' AND subject_id = CAST($1 AS TEXT)) \
         ORDER BY id",
    ),
];

/// The id of the person with that address.
pub async fn find(db: &Db, email: &Email) -> Result<Option<i64>, sqlx::Error> {
    crate::on_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM users WHERE LOWER(email) = LOWER($1)")
            .bind(email.as_str())
            .fetch_optional(pool)
            .await
    })
}

/// The person's export, or `None` if there is no such person.
pub async fn person(db: &Db, id: i64) -> Result<Option<Value>, sqlx::Error> {
    type Person = (
        i64,
        String,
        String,
        Option<String>,
        bool,
        chrono::DateTime<chrono::Utc>,
        String,
    );
    let person: Option<Person> = crate::on_db!(db, pool => {
        sqlx::query_as(
            "SELECT u.id, u.email, u.display_name, u.phone, u.active, u.created_at, o.name \
             FROM users u JOIN organisations o ON o.id = u.organisation_id \
             WHERE u.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    let Some((id, email, name, phone, active, created_at, organisation)) = person else {
        return Ok(None);
    };
    let mut export = Map::new();
    export.insert("exported_at".into(), json!(chrono::Utc::now().to_rfc3339()));
    export.insert(
        "person".into(),
        json!({
            "email": email, "name": name, "phone": phone, "active": active,
            "created_at": created_at, "organisation": organisation,
        }),
    );
    for (section, sql) in SECTIONS {
        let mut rows = section_rows(db, sql, id).await?;
        if *section == "devices" {
            rows.iter_mut().for_each(endpoint_host_only);
        }
        export.insert((*section).into(), Value::Array(rows));
    }
    Ok(Some(Value::Object(export)))
}

/// Runs one section's query; each row becomes an object keyed by column name.
async fn section_rows(db: &Db, sql: &str, person: i64) -> Result<Vec<Value>, sqlx::Error> {
    crate::on_db!(db, pool => {
        let rows = sqlx::query(sql).bind(person).fetch_all(pool).await?;
        rows.iter()
            .map(|row| {
                let object = row
                    .columns()
                    .iter()
                    .map(|column| {
                        let index = column.ordinal();
                        // Each column as the first type it decodes to: whole numbers, times,
                        // flags, then text (amounts are stored as exact text). A reading's
                        // time is a whole number on SQLite, so it is told by its name.
                        let value = if column.name() == "taken_at" {
                            json!(row.try_get::<Option<ReadingTime>, _>(index)?.map(|at| at.0))
                        } else if let Ok(number) = row.try_get::<Option<i64>, _>(index) {
                            json!(number)
                        } else if let Ok(time) =
                            row.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(index)
                        {
                            json!(time)
                        } else if let Ok(flag) = row.try_get::<Option<bool>, _>(index) {
                            json!(flag)
                        } else {
                            json!(row.try_get::<Option<String>, _>(index).ok().flatten())
                        };
                        Ok((column.name().to_owned(), value))
                    })
                    .collect::<Result<Map<String, Value>, sqlx::Error>>()?;
                Ok(Value::Object(object))
            })
            .collect()
    })
}

/// A push endpoint is a capability URL: its host says which browser's service it is, the rest
/// would let whoever reads the export send to the device.
fn endpoint_host_only(device: &mut Value) {
    if let Some(endpoint) = device.get_mut("endpoint")
        && let Some(url) = endpoint.as_str()
    {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("")
            .to_owned();
        *endpoint = json!(host);
    }
}
