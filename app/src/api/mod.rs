//! Server functions: thin, authenticated adapters between the pages and the engine's ports.
//! Each one finds its caller, checks what the caller may do, then asks a port.

pub mod account_table;
pub mod accounts;
pub mod adjustments;
pub mod auth;
pub mod cash_desk;
pub mod directory;
pub mod fleet;
pub mod integrations;
pub mod meter_table;
pub mod notifications;
pub mod occupancy;
pub mod payments;
pub mod people;
pub mod periods;
pub mod recovery;
pub mod reports;
pub mod sheets;
pub mod sites;
pub mod staff;
pub mod tariffs;
pub mod tokens;
pub mod two_factor;

#[cfg(feature = "ssr")]
pub use ssr::{RequestCaller, caller_in};

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::{
        domain::{Caller, OrgId, SiteId, UserId},
        error::AppError,
        ports::{ClientAddr, Ports},
    };
    use leptos::prelude::*;
    use tower_sessions::Session;

    /// The session key under which the signed-in user's id is kept.
    pub const USER_KEY: &str = "uid";
    /// Who passed the password but still owes their authenticator's code, and since when
    /// (milliseconds since the epoch).
    pub const PENDING_KEY: &str = "pending_uid";
    pub const PENDING_AT_KEY: &str = "pending_at_ms";
    /// When the session signed in; a password changed later ends it.
    pub const SIGNED_IN_KEY: &str = "signed_in_ms";

    pub fn ports() -> Result<Ports, AppError> {
        use_context::<Ports>().ok_or_else(|| {
            tracing::error!("the engine's ports were not provided as context");
            AppError::Internal
        })
    }

    /// The site named by `raw`, with its organisation, if `allowed` lets the caller act
    /// there. An unknown site and a foreign one answer the same, so ids cannot be probed.
    pub async fn site_where(
        ports: &Ports,
        raw: &str,
        allowed: impl FnOnce(SiteId, OrgId) -> bool,
    ) -> Result<(SiteId, OrgId), AppError> {
        let site: SiteId = raw.parse().map_err(|_| AppError::Forbidden)?;
        let org = ports
            .directory
            .site_org(site)
            .await?
            .ok_or(AppError::Forbidden)?;
        if allowed(site, org) {
            Ok((site, org))
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|error| {
            tracing::error!(%error, "no session layer in front of a server function");
            AppError::Internal
        })
    }

    pub async fn client_addr() -> Result<ClientAddr, AppError> {
        let axum::Extension(addr) =
            leptos_axum::extract::<axum::Extension<ClientAddr>>().await.map_err(|error| {
                tracing::error!(%error, "no client address middleware in front of a server function");
                AppError::Internal
            })?;
        Ok(addr)
    }

    pub fn session_failed(error: tower_sessions::session::Error) -> AppError {
        tracing::error!(%error, "session store failed");
        AppError::Internal
    }

    /// The signed-in user's id, if any.
    pub async fn session_user() -> Result<Option<UserId>, AppError> {
        let session = session().await?;
        let id = session.get::<i64>(USER_KEY).await.map_err(session_failed)?;
        Ok(id.map(UserId))
    }

    /// The signed-in caller, or `Unauthenticated`; or `PasswordChangeRequired` while they
    /// still hold an initial password (only the password page accepts them then).
    pub async fn caller() -> Result<Caller, AppError> {
        let caller = caller_allowing_two_factor_setup().await?;
        if caller.two_factor_required && !caller.two_factor {
            return Err(AppError::TwoFactorSetupRequired);
        }
        Ok(caller)
    }

    /// The caller, if they are an admin of their organisation: `Forbidden` for anyone else.
    pub async fn admin() -> Result<Caller, AppError> {
        let caller = caller().await?;
        if caller.is_admin() {
            Ok(caller)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The caller, who may not yet have set up the two-factor sign-in their organisation
    /// requires: only the two-factor page's functions accept them then.
    pub async fn caller_allowing_two_factor_setup() -> Result<Caller, AppError> {
        let caller = caller_allowing_initial_password().await?;
        if caller.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(caller)
    }

    pub async fn caller_allowing_initial_password() -> Result<Caller, AppError> {
        let Some(cache) = request_cache() else {
            return caller_in(&session().await?, &*ports()?.auth).await;
        };
        cache
            .0
            .get_or_try_init(|| async { caller_in(&session().await?, &*ports()?.auth).await })
            .await
            .cloned()
    }

    /// The caller of a page being drawn, found once: the page's server functions all run
    /// inside the one request that draws it, at the same time, and each would read the same
    /// rows again. The first to ask looks the caller up; the others wait for its answer (an
    /// error is not kept: each then asks again). The server provides one per request.
    #[derive(Clone, Default)]
    pub struct RequestCaller(std::sync::Arc<tokio::sync::OnceCell<Caller>>);

    /// The request's caller cache, for a GET only: a GET changes nothing, so its caller cannot
    /// change under it, while a posted function (signing in, changing a password) reads afresh.
    fn request_cache() -> Option<RequestCaller> {
        let parts = use_context::<axum::http::request::Parts>()?;
        if parts.method != axum::http::Method::GET {
            return None;
        }
        use_context::<RequestCaller>()
    }

    /// The caller a session belongs to, outside a server function too (a download route):
    /// `Unauthenticated` without one, or when the session began before the password last
    /// changed (a reset, or a change in another browser), which ends it.
    pub async fn caller_in(
        session: &Session,
        auth: &dyn crate::ports::AuthPort,
    ) -> Result<Caller, AppError> {
        let user = session
            .get::<i64>(USER_KEY)
            .await
            .map_err(session_failed)?
            .map(UserId)
            .ok_or(AppError::Unauthenticated)?;
        let caller = auth.caller(user).await?.ok_or(AppError::Unauthenticated)?;
        if let Some(changed) = caller.sessions_valid_from {
            let signed_in = session
                .get::<i64>(SIGNED_IN_KEY)
                .await
                .map_err(session_failed)?
                .unwrap_or(0);
            if signed_in < changed.timestamp_millis() {
                session.flush().await.map_err(session_failed)?;
                return Err(AppError::Unauthenticated);
            }
        }
        Ok(caller)
    }

    /// Marks this session as signed in now (milliseconds since the epoch), after any password
    /// change it made itself.
    // Server-side only (`ssr`): the clock the browser must not read is the server's here.
    #[allow(clippy::disallowed_methods)]
    pub async fn mark_signed_in() -> Result<(), AppError> {
        session()
            .await?
            .insert(SIGNED_IN_KEY, chrono::Utc::now().timestamp_millis())
            .await
            .map_err(session_failed)
    }

    /// Tells the browser which language to show the pages in from now on; `None` forgets it
    /// (sign-out: the next person at a shared PC starts from their browser's language).
    pub fn remember_language(locale: Option<crate::domain::i18n::Locale>) {
        use crate::domain::i18n::LANGUAGE_COOKIE;
        let cookie = match locale {
            Some(locale) => format!(
                "{LANGUAGE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
                locale.tag()
            ),
            None => format!("{LANGUAGE_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly"),
        };
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            axum::http::HeaderValue::from_str(&cookie),
        ) {
            response.append_header(axum::http::header::SET_COOKIE, value);
        }
    }

    /// Sets the HTTP status for an error, both for a server-function call and for a page
    /// rendered on the server, and passes the result on. Not for a browser's plain form post:
    /// it keeps the redirect the server function answers it with (back to the form's page,
    /// the error in the address), which a 4xx status would stop there.
    pub fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(error) = &result
            && !is_form_post()
            && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = axum::http::StatusCode::from_u16(error.status())
        {
            response.set_status(status);
        }
        result
    }

    /// Sends a form the browser posted itself on to `path` (a call from an island gets the
    /// server function's answer instead).
    pub fn after_form_post(path: &str) {
        if is_form_post() {
            leptos_axum::redirect(path);
        }
    }

    /// Is this request a form the browser posted itself (no WebAssembly in between)? Page
    /// loads are GETs; calls from islands ask for JSON, not HTML.
    fn is_form_post() -> bool {
        use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts.method == axum::http::Method::POST
                && parts
                    .headers
                    .get(axum::http::header::ACCEPT)
                    .and_then(|accept| accept.to_str().ok())
                    .is_some_and(|accept| accept.contains("text/html"))
        })
    }
}
