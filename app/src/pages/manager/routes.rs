//! Staff pages as lazily loaded routes: their code is split out of the WebAssembly every
//! resident downloads (`cargo leptos --split`) and fetched the first time a manager opens one.
//! Without `--split` they are ordinary routes.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

/// A route whose view is a page component taking no props, loaded on first use.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(
    /// `/manage`: the sites granted to the caller.
    ManagerHomeRoute => super::home::ManagerHomePage
);
lazy_page!(
    /// `/manage/sites/:id`: a site's buildings, units and accounts.
    SiteRoute => super::site::SitePage
);
lazy_page!(
    /// `/manage/sites/:id/fleet`: meters, alarms, fault reports.
    SiteFleetRoute => crate::pages::fleet::SiteFleetPage
);
lazy_page!(
    /// `/manage/sites/:id/payments`: payments, refunds, payouts, reconciliation.
    SitePaymentsRoute => crate::pages::payments::SitePaymentsPage
);
