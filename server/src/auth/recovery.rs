//! One-time codes and links: a forgotten password (a link by e-mail, a code by SMS), signing
//! in with a phone number and an SMS code, confirming a new phone number, and invitations to
//! new accounts. Only a hash of each secret is kept; each works once, expires, and takes a
//! few wrong guesses at most. Asking is rate-limited per address asked about and per client,
//! and the answer never says whether an address is known.

use crate::{
    audit::AuditEntry,
    db::{Db, is_unique_violation},
    internal,
    notify::{
        Messenger,
        mail::{Email as Mail, html_of},
        messenger::SendError,
    },
    on_db, on_db_write,
    secrets::digest,
};
use app::{
    domain::{
        Caller, Email, NewPassword, UserId,
        i18n::Locale,
        messaging::{Channel, CodePurpose, PhoneNumber, code_sms, link_message},
    },
    error::AppError,
    ports::ClientAddr,
};
use chrono::{DateTime, Duration, Utc};
use ring::rand::{SecureRandom, SystemRandom};

/// How long an SMS code works.
pub const CODE_MINUTES: i64 = 10;
/// How long a password-reset link works.
pub const RESET_LINK_HOURS: i64 = 1;
/// How long an invitation works.
pub const INVITE_HOURS: i64 = 7 * 24;
/// Wrong codes before a code is spent.
const MAX_GUESSES: i64 = 5;
/// Codes and links asked for within the window: per address asked about, and per client.
const MAX_PER_TARGET: i64 = 3;
const MAX_PER_CLIENT: i64 = 10;
const WINDOW_MINUTES: i64 = 15;

#[derive(Clone, Debug)]
pub struct Recovery {
    db: Db,
    messenger: Messenger,
    callers: super::callers::Callers,
}

/// Whom a request for a reset names: an e-mail address or a phone number.
#[derive(Clone)]
enum Contact {
    Email(Email),
    Phone(PhoneNumber),
}

impl Contact {
    fn parse(raw: &str) -> Result<Contact, AppError> {
        if raw.contains('@') {
            return Email::parse(raw)
                .map(Contact::Email)
                .map_err(AppError::invalid);
        }
        PhoneNumber::parse(raw)
            .map(Contact::Phone)
            .map_err(AppError::invalid)
    }

    fn key(&self) -> &str {
        match self {
            Contact::Email(email) => email.as_str(),
            Contact::Phone(phone) => phone.as_str(),
        }
    }
}

/// A person a code may go to.
#[derive(Clone, sqlx::FromRow)]
struct Person {
    id: i64,
    organisation_id: i64,
    email: String,
    display_name: String,
    phone: Option<String>,
    staff: bool,
}

const PERSON: &str = "SELECT u.id, u.organisation_id, u.email, u.display_name, u.phone, \
     EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id) AS staff FROM users u";

fn wrong_code() -> AppError {
    AppError::invalid("That code is not right, or it has expired. Ask for a new one.")
}

impl Recovery {
    pub fn new(db: Db, messenger: Messenger, callers: super::callers::Callers) -> Self {
        Recovery {
            db,
            messenger,
            callers,
        }
    }

    /// Sends a reset link to an e-mail address, or a code to a phone, if an active account
    /// has it. Returns the phone number when the next step is typing a code.
    pub async fn request_reset(
        &self,
        contact: &str,
        client: ClientAddr,
    ) -> Result<Option<PhoneNumber>, AppError> {
        let contact = Contact::parse(contact)?;
        let now = Utc::now();
        self.admit(contact.key(), client, now).await?;
        let person = match &contact {
            Contact::Email(email) => self.person_where("u.email = $1", email.as_str()).await?,
            Contact::Phone(phone) => self.person_where("u.phone = $1", phone.as_str()).await?,
        };
        // Sent after answering, so that how long the answer takes does not tell a stranger
        // whether the address is known; a failure is logged for the operator, never shown.
        match person {
            Some(person) => {
                let recovery = self.clone();
                let to = contact.clone();
                tokio::spawn(async move {
                    if let Err(error) = recovery.send_reset(&person, &to, now).await {
                        tracing::warn!(user = person.id, %error, "could not send a password reset");
                    }
                });
            }
            None => tracing::info!("password reset asked for an unknown address"),
        }
        Ok(phone_of(contact))
    }

    async fn send_reset(
        &self,
        person: &Person,
        contact: &Contact,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let locale = self.locale_of(person.id).await.map_err(|e| e.to_string())?;
        let (channel, target) = match contact {
            Contact::Email(email) => (Channel::Email, email.as_str()),
            Contact::Phone(phone) => (Channel::Sms, phone.as_str()),
        };
        let secret = self
            .issue(person, CodePurpose::Reset, channel, target, now)
            .await
            .map_err(|e| e.to_string())?;
        let sent = match channel {
            Channel::Sms => {
                let text = code_sms(CodePurpose::Reset, &secret, CODE_MINUTES, locale);
                self.messenger.send_sms(target, &text).await.map(drop)
            }
            _ => {
                self.send_link(person, CodePurpose::Reset, &secret, locale)
                    .await
            }
        };
        sent.map_err(|e| e.to_string())
    }

    /// The address a valid, unused link was sent for, masked, without using it up.
    pub async fn check_link(&self, token: &str) -> Result<Option<String>, AppError> {
        let found = self.link(token, Utc::now()).await?;
        // An invitation by SMS went to a phone number.
        Ok(found.map(|(_, _, target)| {
            if target.contains('@') {
                app::domain::messaging::mask_email(&target)
            } else {
                app::domain::messaging::mask_phone(&target)
            }
        }))
    }

    /// Sets a new password with a link from a reset or an invitation; the link is spent.
    pub async fn reset_with_link(&self, token: &str, new: &str) -> Result<UserId, AppError> {
        let now = Utc::now();
        let Some((code, user, _)) = self.link(token, now).await? else {
            return Err(AppError::invalid(
                "This link has expired or was used already. Ask for a new one.",
            ));
        };
        let person = self.person(user).await?.ok_or_else(wrong_code)?;
        let new = NewPassword::parse(new, &person.email).map_err(AppError::invalid)?;
        if !self.spend(code, now).await? {
            return Err(AppError::invalid("This link was used already."));
        }
        self.set_password(&person, new, "link", now).await?;
        Ok(UserId(person.id))
    }

    /// Sets a new password with a code sent to the phone; the code is spent.
    pub async fn reset_with_code(
        &self,
        phone: &str,
        code: &str,
        new: &str,
    ) -> Result<UserId, AppError> {
        let phone = PhoneNumber::parse(phone).map_err(AppError::invalid)?;
        let now = Utc::now();
        let person = self
            .person_where("u.phone = $1", phone.as_str())
            .await?
            .ok_or_else(wrong_code)?;
        let new = NewPassword::parse(new, &person.email).map_err(AppError::invalid)?;
        self.redeem(&person, CodePurpose::Reset, code, now).await?;
        self.set_password(&person, new, "sms code", now).await?;
        Ok(UserId(person.id))
    }

    /// Sends a sign-in code to a resident's confirmed phone number.
    pub async fn send_sign_in_code(
        &self,
        phone: &str,
        client: ClientAddr,
    ) -> Result<PhoneNumber, AppError> {
        let phone = PhoneNumber::parse(phone).map_err(AppError::invalid)?;
        let now = Utc::now();
        self.admit(phone.as_str(), client, now).await?;
        let person = self.person_where("u.phone = $1", phone.as_str()).await?;
        // Staff sign in with their password (and, later, a second factor) only. The code goes
        // after answering, like a reset's.
        match person.filter(|person| !person.staff) {
            Some(person) => {
                let recovery = self.clone();
                let to = phone.clone();
                tokio::spawn(async move {
                    if let Err(error) = recovery.send_sign_in(&person, &to, now).await {
                        tracing::warn!(user = person.id, %error, "could not send a sign-in code");
                    }
                });
            }
            None => tracing::info!("sign-in code asked for an unknown number"),
        }
        Ok(phone)
    }

    async fn send_sign_in(
        &self,
        person: &Person,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let code = self
            .issue(
                person,
                CodePurpose::SignIn,
                Channel::Sms,
                phone.as_str(),
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
        let locale = self.locale_of(person.id).await.map_err(|e| e.to_string())?;
        let text = code_sms(CodePurpose::SignIn, &code, CODE_MINUTES, locale);
        self.messenger
            .send_sms(phone.as_str(), &text)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    pub async fn sign_in_with_code(
        &self,
        phone: &str,
        code: &str,
        client: ClientAddr,
    ) -> Result<UserId, AppError> {
        let phone = PhoneNumber::parse(phone).map_err(AppError::invalid)?;
        let now = Utc::now();
        let person = self
            .person_where("u.phone = $1", phone.as_str())
            .await?
            .filter(|person| !person.staff)
            .ok_or_else(wrong_code)?;
        self.redeem(&person, CodePurpose::SignIn, code, now).await?;
        let entry = AuditEntry::new("signed_in", "user", person.id)
            .by(person.organisation_id, Some(person.id))
            .from_addr(client.0.to_string())
            .after(serde_json::json!({ "method": "sms code" }));
        entry.record(&self.db).await.map_err(internal)?;
        Ok(UserId(person.id))
    }

    /// Sends a code to a number the caller wants to add; it is saved once they type it.
    pub async fn send_phone_code(
        &self,
        caller: &Caller,
        phone: &str,
        client: ClientAddr,
    ) -> Result<PhoneNumber, AppError> {
        let phone = PhoneNumber::parse(phone).map_err(AppError::invalid)?;
        if !self.messenger.can_send(Channel::Sms) {
            return Err(AppError::invalid("This platform cannot send SMS yet."));
        }
        let now = Utc::now();
        self.admit(phone.as_str(), client, now).await?;
        let person = self
            .person(caller.user_id.0)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let code = self
            .issue(
                &person,
                CodePurpose::VerifyPhone,
                Channel::Sms,
                phone.as_str(),
                now,
            )
            .await?;
        let locale = self.locale_of(person.id).await?;
        let text = code_sms(CodePurpose::VerifyPhone, &code, CODE_MINUTES, locale);
        self.messenger
            .send_sms(phone.as_str(), &text)
            .await
            .map_err(|error| {
                tracing::warn!(user = person.id, %error, "could not send a phone code");
                AppError::invalid(
                    "The SMS could not be sent to that number. Check it and try again.",
                )
            })?;
        Ok(phone)
    }

    /// Saves the number the code was sent to.
    pub async fn confirm_phone(&self, caller: &Caller, code: &str) -> Result<(), AppError> {
        let now = Utc::now();
        let person = self
            .person(caller.user_id.0)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let phone = self
            .redeem(&person, CodePurpose::VerifyPhone, code, now)
            .await?;
        let entry = AuditEntry::new("phone_confirmed", "user", person.id)
            .by(person.organisation_id, Some(person.id));
        let saved = on_db_write!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE users SET phone = $1 WHERE id = $2")
                .bind(&phone)
                .bind(person.id)
                .execute(&mut *tx)
                .await?;
            entry.append(&mut *tx).await?;
            tx.commit().await
        });
        match saved {
            Ok(()) => Ok(()),
            Err(error) if is_unique_violation(&error) => Err(AppError::Conflict(
                "That number belongs to another account.".into(),
            )),
            Err(error) => Err(internal(error)),
        }
    }

    pub async fn remove_phone(&self, caller: &Caller) -> Result<(), AppError> {
        let entry = AuditEntry::new("phone_removed", "user", caller.user_id.0)
            .by(caller.org_id.0, Some(caller.user_id.0));
        on_db_write!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE users SET phone = NULL WHERE id = $1")
                .bind(caller.user_id.0)
                .execute(&mut *tx)
                .await?;
            entry.append(&mut *tx).await?;
            tx.commit().await
        })
        .map_err(internal)
    }

    /// Sends a new account its invitation: a link to choose a password, by e-mail or (with a
    /// phone number) by SMS.
    pub async fn invite(&self, user: i64, channel: Channel) -> Result<String, SendError> {
        let person = self
            .person(user)
            .await
            .map_err(|error| SendError::Retry(error.to_string()))?
            .ok_or_else(|| SendError::Refused("no such account".into()))?;
        let now = Utc::now();
        let target = match channel {
            Channel::Sms => person
                .phone
                .clone()
                .ok_or_else(|| SendError::Refused("the account has no phone number".into()))?,
            _ => person.email.clone(),
        };
        let secret = self
            .issue(&person, CodePurpose::Invite, channel, &target, now)
            .await
            .map_err(|error| SendError::Retry(error.to_string()))?;
        let locale = self
            .locale_of(person.id)
            .await
            .map_err(|error| SendError::Retry(error.to_string()))?;
        match channel {
            Channel::Sms => {
                let link = self.messenger.link(&format!("/reset/{secret}"));
                let (subject, _) = link_message(CodePurpose::Invite, "", &link, locale);
                self.messenger
                    .send_sms(&target, &format!("{subject}: {link}"))
                    .await?;
                Ok(app::domain::messaging::mask_phone(&target))
            }
            _ => {
                self.send_link(&person, CodePurpose::Invite, &secret, locale)
                    .await?;
                Ok(app::domain::messaging::mask_email(&target))
            }
        }
    }

    async fn send_link(
        &self,
        person: &Person,
        purpose: CodePurpose,
        secret: &str,
        locale: Locale,
    ) -> Result<(), SendError> {
        let link = self.messenger.link(&format!("/reset/{secret}"));
        let (subject, text) = link_message(purpose, &person.display_name, &link, locale);
        self.messenger
            .send_email(&Mail {
                to: person.email.clone(),
                from: None,
                html: html_of(&subject, &text, Some(&link)),
                subject,
                text,
                attachment: None,
            })
            .await
    }

    /// Counts a request for a code against its target and the client, refusing it when
    /// either asked too often lately.
    async fn admit(
        &self,
        target: &str,
        client: ClientAddr,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let since = now - Duration::minutes(WINDOW_MINUTES);
        let client = client.0.to_string();
        let counts: (i64, i64) = on_db_write!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM code_requests WHERE at < $1")
                .bind(now - Duration::days(1))
                .execute(&mut *tx)
                .await?;
            let count = |scope: &'static str, key: String| {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM code_requests WHERE scope = $1 AND key = $2 AND at > $3",
                )
                .bind(scope)
                .bind(key)
                .bind(since)
            };
            let target_count = count("target", target.to_owned()).fetch_one(&mut *tx).await?;
            let client_count = count("client", client.clone()).fetch_one(&mut *tx).await?;
            for (scope, key) in [("target", target), ("client", client.as_str())] {
                sqlx::query("INSERT INTO code_requests (scope, key, at) VALUES ($1, $2, $3)")
                    .bind(scope)
                    .bind(key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>((target_count, client_count))
        })
        .map_err(internal)?;
        if counts.0 >= MAX_PER_TARGET || counts.1 >= MAX_PER_CLIENT {
            return Err(AppError::Throttled {
                retry_after_minutes: WINDOW_MINUTES as u32,
            });
        }
        Ok(())
    }

    /// A new secret for a purpose: a six-digit code for SMS, a link token for e-mail and
    /// invitations. Earlier unused ones of the same purpose stop working.
    async fn issue(
        &self,
        person: &Person,
        purpose: CodePurpose,
        channel: Channel,
        target: &str,
        now: DateTime<Utc>,
    ) -> Result<String, AppError> {
        let link = channel == Channel::Email || purpose == CodePurpose::Invite;
        let (secret, lifetime) = if link {
            let hours = if purpose == CodePurpose::Invite {
                INVITE_HOURS
            } else {
                RESET_LINK_HOURS
            };
            (crate::secrets::link_token(), Duration::hours(hours))
        } else {
            (random_code(), Duration::minutes(CODE_MINUTES))
        };
        let hash = digest(&secret);
        on_db_write!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE one_time_codes SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(person.id)
            .bind(purpose.as_str())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO one_time_codes (user_id, purpose, channel, secret_hash, target, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(person.id)
            .bind(purpose.as_str())
            .bind(channel.as_str())
            .bind(&hash)
            .bind(target)
            .bind(now)
            .bind(now + lifetime)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })
        .map_err(internal)?;
        Ok(secret)
    }

    /// A valid link's code id, person and target.
    async fn link(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, i64, String)>, AppError> {
        let token = token.trim();
        if token.len() != 43 {
            return Ok(None);
        }
        on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT c.id, c.user_id, c.target FROM one_time_codes c JOIN users u ON u.id = c.user_id \
                 WHERE c.secret_hash = $1 AND c.purpose IN ('reset', 'invite') AND c.used_at IS NULL \
                 AND c.expires_at > $2 AND u.active",
            )
            .bind(digest(token))
            .bind(now)
            .fetch_optional(pool)
            .await
        })
        .map_err(internal)
    }

    /// Checks a typed code against the person's latest one of this purpose and spends it;
    /// returns the target it was sent to. A wrong guess counts; the fifth spends the code.
    async fn redeem(
        &self,
        person: &Person,
        purpose: CodePurpose,
        typed: &str,
        now: DateTime<Utc>,
    ) -> Result<String, AppError> {
        let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        let latest: Option<(i64, String, String, i64)> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, secret_hash, target, attempts FROM one_time_codes \
                 WHERE user_id = $1 AND purpose = $2 AND channel = 'sms' AND used_at IS NULL \
                 AND expires_at > $3 ORDER BY id DESC LIMIT 1",
            )
            .bind(person.id)
            .bind(purpose.as_str())
            .bind(now)
            .fetch_optional(pool)
            .await
        })
        .map_err(internal)?;
        let Some((id, hash, target, attempts)) = latest else {
            return Err(wrong_code());
        };
        if attempts >= MAX_GUESSES {
            return Err(wrong_code());
        }
        if !crate::secrets::same_bytes(digest(&typed).as_bytes(), hash.as_bytes()) {
            on_db_write!(&self.db, pool => {
                sqlx::query(
                    "UPDATE one_time_codes SET attempts = attempts + 1, \
                     used_at = CASE WHEN attempts + 1 >= $2 THEN $3 ELSE used_at END WHERE id = $1",
                )
                .bind(id)
                .bind(MAX_GUESSES)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
            })
            .map_err(internal)?;
            return Err(wrong_code());
        }
        if !self.spend(id, now).await? {
            return Err(wrong_code());
        }
        Ok(target)
    }

    /// Marks a code used; `false` if another request used it first.
    async fn spend(&self, id: i64, now: DateTime<Utc>) -> Result<bool, AppError> {
        on_db_write!(&self.db, pool => {
            sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected() == 1)
        })
        .map_err(internal)
    }

    async fn set_password(
        &self,
        person: &Person,
        new: NewPassword,
        method: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let entry = AuditEntry::new("password_reset", "user", person.id)
            .by(person.organisation_id, Some(person.id))
            .after(serde_json::json!({ "method": method }));
        super::store_password(
            &self.db,
            &self.callers,
            person.id,
            &person.email,
            &new,
            entry,
            now,
        )
        .await
        .map_err(internal)
    }

    async fn person(&self, id: i64) -> Result<Option<Person>, AppError> {
        on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{PERSON} WHERE u.id = $1 AND u.active"))
                .bind(id)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)
    }

    async fn person_where(&self, condition: &str, value: &str) -> Result<Option<Person>, AppError> {
        on_db!(&self.db, pool => {
            sqlx::query_as(&format!("{PERSON} WHERE {condition} AND u.active"))
                .bind(value)
                .fetch_optional(pool)
                .await
        })
        .map_err(internal)
    }

    /// The language a person reads: the one they chose, else their home's site's, else their
    /// organisation's first site's.
    async fn locale_of(&self, user: i64) -> Result<Locale, AppError> {
        let tag: Option<String> = on_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT COALESCE( \
                   (SELECT locale FROM notification_preferences WHERE user_id = $1), \
                   (SELECT s.locale FROM occupancies o JOIN units n ON n.id = o.unit_id \
                      JOIN buildings b ON b.id = n.building_id JOIN sites s ON s.id = b.site_id \
                      WHERE o.user_id = $1 ORDER BY o.starts_at DESC LIMIT 1), \
                   (SELECT s.locale FROM sites s JOIN users u ON u.organisation_id = s.organisation_id \
                      WHERE u.id = $1 ORDER BY s.id LIMIT 1))",
            )
            .bind(user)
            .fetch_one(pool)
            .await
        })
        .map_err(internal)?;
        Ok(tag.as_deref().map(Locale::from_tag).unwrap_or_default())
    }
}

fn phone_of(contact: Contact) -> Option<PhoneNumber> {
    match contact {
        Contact::Phone(phone) => Some(phone),
        Contact::Email(_) => None,
    }
}

fn random_code() -> String {
    let random = SystemRandom::new();
    loop {
        let mut bytes = [0u8; 4];
        random.fill(&mut bytes).expect("the system's random source");
        let value = u32::from_le_bytes(bytes);
        // Rejection sampling keeps every code equally likely.
        if value < u32::MAX - (u32::MAX % 1_000_000) {
            return format!("{:06}", value % 1_000_000);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_tokens_43_characters() {
        let code = random_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        let token = crate::secrets::link_token();
        assert_eq!(token.len(), 43);
        assert_ne!(token, crate::secrets::link_token());
        assert_eq!(digest("abc").len(), 64);
    }
}
