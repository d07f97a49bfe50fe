//! The HTTP face of the platform: one router merged from each area's, behind the layers every
//! request passes (client address, Origin check, session, error statuses).

pub mod client_addr;
pub mod csrf;
pub mod fn_errors;
pub mod headers;
pub mod health;
pub mod limits;
pub mod my_data;
pub mod reports;
pub mod request_id;

use crate::{auth::sessions::Sessions, config::Config, db::Db, secrets::SharedSecrets};
use app::ports::Ports;
use axum::{
    Router,
    extract::FromRef,
    handler::Handler as _,
    http::{HeaderValue, StatusCode, header},
    middleware::{from_fn, from_fn_with_state, map_response},
    response::Response,
};
use leptos::prelude::*;
use leptos_axum::LeptosRoutes;
use std::{
    path::PathBuf,
    sync::{Arc, LazyLock},
};
use tower_http::{limit::RequestBodyLimitLayer, services::ServeDir, timeout::TimeoutLayer};
use tower_sessions::{
    Expiry, SessionManagerLayer,
    cookie::{Key, SameSite, time::Duration},
};

/// The app's page routes, generated once per process. Generating them runs the app with
/// resource loading suppressed by a process-wide flag (leptos_server 0.8.8): a page whose
/// resource first polled meanwhile, in another server of the same process (the tests start
/// dozens), would wait forever and answer 408. Generated once, before any server of the
/// process answers, nothing can overlap it.
pub fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: LazyLock<Vec<leptos_axum::AxumRouteListing>> =
        LazyLock::new(|| leptos_axum::generate_route_list(app::App));
    ROUTES.clone()
}

/// What every handler may reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub ports: Ports,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub fn router(
    state: AppState,
    sessions: Sessions,
    config: &Config,
    secrets: &SharedSecrets,
) -> Router {
    let options = state.leptos_options.clone();
    let provide_ports = {
        let ports = state.ports.clone();
        move || {
            provide_context(ports.clone());
            provide_context(app::api::RequestCaller::default());
        }
    };
    // Files outside `/pkg` (the service worker, the manifest, icons) are served here and only
    // what is not a file goes on to Leptos, for its 404 page. Leptos' own file branch looks for
    // response settings up the reactive owner tree and, under concurrent requests, found
    // another request's: the service worker's script came back now and then as some page's
    // redirect to the sign-in page, and a sign-out's Clear-Site-Data could have reached
    // another person's browser the same way.
    let not_a_file = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        provide_ports.clone(),
        app::shell,
    )
    .with_state(state.clone());
    // A folder (`/icons`) is not a page: it goes on to the 404 page like any other path, not
    // to a redirect to an `index.html` the site does not have.
    let public_files = ServeDir::new(&*options.site_root)
        .append_index_html_on_directories(false)
        .precompressed_br()
        .precompressed_gzip()
        .call_fallback_on_method_not_allowed(true)
        .fallback(not_a_file);
    let pages = Router::new()
        .leptos_routes_with_context(&state, page_routes(), provide_ports, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .fallback_service(public_files)
        .layer(from_fn(headers::page_policy));

    let session_layer = SessionManagerLayer::new(sessions)
        .with_name("prepaid_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(Duration::hours(
            config.session_idle_hours.max(1),
        )))
        .with_signed(Key::from(&secrets.session_key));
    let allowed = Arc::new(csrf::AllowedOrigins {
        public_origin: config.public_url.clone(),
    });

    Router::new()
        .merge(health::router())
        .merge(my_data::router())
        .merge(reports::router())
        .merge(assets(&options))
        .merge(pages)
        .layer(from_fn(fn_errors::status_from_body))
        .layer(session_layer)
        .layer(from_fn_with_state(allowed, csrf::check))
        .with_state(state)
}

/// The layers every request passes, whichever area's router answers it, outermost last: the
/// client's address (behind trusted proxies) and its rate limits on the paths that have them,
/// the body's size, the time allowed, the security headers, and the request id whose span
/// holds all the rest.
pub fn outer_layers(router: Router, config: &Config) -> Router {
    let trusted = Arc::new(config.trusted_proxies.clone());
    let limits = Arc::new(limits::AddressLimits::new(
        config.sign_in_per_minute,
        config.callbacks_per_minute,
    ));
    let security = Arc::new(headers::SecurityHeaders {
        hsts: config.secure_cookies(),
    });
    router
        .layer(from_fn_with_state(limits, limits::by_address))
        .layer(from_fn_with_state(trusted, client_addr::resolve))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(config.request_timeout_s.max(1)),
        ))
        .layer(from_fn_with_state(security, headers::add))
        .layer(from_fn(request_id::assign))
}

/// The wasm, JS and CSS bundle, served precompressed (brotli, gzip) when the release build made
/// compressed copies, and cached for good when file names carry their content's hash.
fn assets(options: &LeptosOptions) -> Router<AppState> {
    let dir = PathBuf::from(&*options.site_root).join(&*options.site_pkg_dir);
    let cache = if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Router::new()
        .nest_service(
            &format!("/{}", options.site_pkg_dir),
            ServeDir::new(dir)
                .append_index_html_on_directories(false)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(map_response(move |mut response: Response| async move {
            if response.status().is_success() {
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            }
            response
        }))
}
