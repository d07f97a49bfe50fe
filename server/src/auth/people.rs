//! An organisation's people for its admins, and switching a person's sign-in off or on.
//! Switched off, every request of theirs finds no caller (`load_caller` reads active people
//! only), so their open sessions end at their next click, on every instance: the change drops
//! this instance's copy of them and tells the others ([`Callers::changed`]).

use super::callers::Callers;
use crate::{audit::AuditEntry, db::Db, internal, on_db, on_tx};
use app::{
    domain::{
        Caller, Email, OrgId, UserId,
        people::{HeldRole, OrgPeople, PersonLine, Switched},
    },
    error::AppError,
};
use chrono::Utc;
use serde_json::json;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    display_name: String,
    email: String,
    active: bool,
    two_factor: bool,
    role: Option<String>,
    site_name: Option<String>,
}

/// Everyone in the organisation who holds a role, and everyone whose sign-in is off: a row
/// per role, gathered into a line per person.
pub async fn of_organisation(db: &Db, org: OrgId) -> Result<OrgPeople, AppError> {
    let rows: Vec<Row> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT u.id, u.display_name, u.email, u.active, \
             u.totp_secret_sealed IS NOT NULL AS two_factor, g.role, s.name AS site_name \
             FROM users u LEFT JOIN role_grants g ON g.user_id = u.id \
             LEFT JOIN sites s ON s.id = g.site_id \
             WHERE u.organisation_id = $1 AND (g.id IS NOT NULL OR NOT u.active) \
             ORDER BY u.id",
        )
        .bind(org.0)
        .fetch_all(pool)
        .await
    })
    .map_err(internal)?;
    let mut people: Vec<PersonLine> = Vec::new();
    for row in rows {
        if people.last().is_none_or(|line| line.person.0 != row.id) {
            people.push(PersonLine {
                person: UserId(row.id),
                name: row.display_name,
                email: row.email,
                roles: Vec::new(),
                two_factor: row.two_factor,
                active: row.active,
            });
        }
        // A role this build does not know is not shown as if it were another.
        if let Some(role) = row.role.and_then(|role| role.parse().ok()) {
            let line = people.last_mut().expect("pushed above");
            line.roles.push(HeldRole {
                role,
                site: row.site_name,
            });
        }
    }
    let mut page = OrgPeople {
        people,
        viewer: UserId(0),
    };
    page.sort();
    Ok(page)
}

/// Switches the sign-in of the person with `email` in the caller's organisation `org` off
/// (`active` false) or on. Said twice, the second changes nothing.
pub async fn set_active(
    db: &Db,
    callers: &Callers,
    by: &Caller,
    org: OrgId,
    email: &Email,
    active: bool,
) -> Result<Switched, AppError> {
    // The writer's transaction (one at a time, on either backend): of two admins switching
    // at once, the second reads what the first wrote and is told it was so already.
    let mut tx = db.begin_write().await.map_err(internal)?;
    let person: Option<(i64, bool)> = on_tx!(&mut tx, conn => {
        sqlx::query_as("SELECT id, active FROM users WHERE email = $1 AND organisation_id = $2")
            .bind(email.as_str())
            .bind(org.0)
            .fetch_optional(&mut *conn)
            .await
    })
    .map_err(internal)?;
    // Someone in another organisation answers like nobody, so addresses cannot be probed.
    let (person, was_active) = person.ok_or_else(|| {
        AppError::invalid("Nobody in your organisation signs in with that e-mail address.")
    })?;
    // The caller is an active admin: refusing their own switch also means an organisation
    // always keeps an admin who can switch the others back on.
    if person == by.user_id.0 {
        return Err(AppError::invalid(
            "Another admin switches your own sign-in off or on.",
        ));
    }
    if was_active == active {
        return Ok(Switched::Already);
    }
    // Switched off, the sessions they hold are over for good: switching it on again does not
    // revive one left open on a shared computer.
    on_tx!(&mut tx, conn => {
        let switch = if active {
            sqlx::query("UPDATE users SET active = TRUE WHERE id = $1").bind(person)
        } else {
            sqlx::query("UPDATE users SET active = FALSE, signed_out_at = $2 WHERE id = $1")
                .bind(person)
                .bind(Utc::now())
        };
        switch.execute(&mut *conn).await.map(|_| ())
    })
    .map_err(internal)?;
    let action = if active {
        "sign_in_restored"
    } else {
        "sign_in_switched_off"
    };
    AuditEntry::new(action, "user", person)
        .by(org.0, Some(by.user_id.0))
        .before(json!({ "active": was_active }))
        .after(json!({ "active": active }))
        .insert_tx(&mut tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    callers.changed(person);
    Ok(Switched::Now)
}
