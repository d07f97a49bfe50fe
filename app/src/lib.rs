//! What the browser and the server share: the domain's types and pure rules, the pages, and
//! the server functions that connect the pages to the engine.

#![recursion_limit = "256"]

pub mod api;
pub mod csp;
pub mod domain;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod pwa;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Meta, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

/// The HTML document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let locale = pages::locale::request_locale();
    #[cfg(feature = "ssr")]
    csp::protect_page();
    view! {
        <!DOCTYPE html>
        <html lang=locale.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options=options.clone() islands=true/>
                <HashedStylesheet options id="leptos"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="icon" href="/icons/icon.svg" type="image/svg+xml"/>
                <link rel="apple-touch-icon" href="/icons/icon-192.png"/>
                <script src="/pwa.js" defer nonce=leptos::nonce::use_nonce()></script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(pages::locale::request_locale());
    view! {
        <Title formatter=|page: String| format!("{page} · Prepaid")/>
        <Meta name="description" content="Prepaid water, electricity and gas"/>
        <Meta name="theme-color" content="#0b5d4b"/>
        <Router>
            <pages::layout::Header/>
            <main class="page">
                <Routes fallback=pages::not_found::NotFound>
                    // Async rendering waits for the data, so a denial is answered with its
                    // status (403, 302 to sign-in) rather than a 200 with an error inside.
                    <Route path=path!("") view=pages::resident::home::ResidentHomePage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in") view=pages::sign_in::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/sign-in/code") view=pages::two_factor::SignInCodePage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/account/two-factor")
                        view=pages::two_factor::TwoFactorPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/sign-in/phone") view=pages::recovery::PhoneSignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/forgot") view=pages::recovery::ForgotPasswordPage ssr=SsrMode::Async/>
                    <Route path=path!("/sandbox/messages") view=pages::outbox::SandboxOutboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/reset") view=pages::recovery::ResetPage ssr=SsrMode::Async/>
                    <Route path=path!("/reset/:token") view=pages::recovery::ResetWithLinkPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/manage/sites/:id/notices")
                        view=pages::manager::notices::SiteNoticesPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/account/password")
                        view=pages::password::ChangePasswordPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/notifications")
                        view=pages::notifications::NotificationsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/manage") view=pages::manager::home::ManagerHomePage ssr=SsrMode::Async/>
                    <Route path=path!("/manage/audit") view=pages::manager::audit::AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/manage/people") view=pages::manager::people::PeoplePage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/manage/integrations")
                        view=pages::manager::integrations::IntegrationsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/integrations/webhooks/:id")
                        view=pages::manager::integrations::WebhookPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/accounts/:id") view=pages::accounts::AccountPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/accounts/:id/statement")
                        view=pages::statement::MonthStatementPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/accounts/:id/top-up")
                        view=pages::payments::RechargePage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/payments/:id") view=pages::payments::PaymentStatusPage ssr=SsrMode::Async/>
                    <Route path=path!("/pay") view=pages::payments::PublicPayPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/pay/sandbox/:id")
                        view=pages::payments::SandboxCheckoutPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/payments")
                        view=pages::payments::SitePaymentsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("/meters/:id") view=pages::fleet::MeterPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/manage/sites/:id/reports")
                        view=pages::manager::reports::ReportsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/collections")
                        view=pages::manager::collections::CollectionsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/periods")
                        view=pages::manager::periods::PeriodsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/settings")
                        view=pages::manager::settings::SiteSettingsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/cash")
                        view=pages::manager::cash::CashDeskPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/bands")
                        view=pages::manager::bands::BandsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/losses")
                        view=pages::manager::losses::LossesPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/statements")
                        view=pages::manager::statements::StatementsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/supply")
                        view=pages::manager::supply::SupplyPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/tariffs")
                        view=pages::manager::tariffs::TariffsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/adjustments")
                        view=pages::manager::adjustments::AdjustmentsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/accounts")
                        view=pages::manager::accounts::SiteAccountsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/sheet")
                        view=pages::manager::sheet::SiteSheetPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/residents")
                        view=pages::manager::move_out::MoveOutPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/meters")
                        view=pages::manager::meters::MetersPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/staff")
                        view=pages::manager::staff::StaffPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id/fleet")
                        view=pages::fleet::SiteFleetPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/units/:id")
                        view=pages::manager::unit::UnitPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/manage/sites/:id")
                        view=pages::manager::site::SitePage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <pages::layout::Languages/>
        </Router>
    }
}
