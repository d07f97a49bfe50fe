//! Payments: the resident's recharge page and a payment's status page, the sandbox's
//! checkout, and the manager's payments page (search, conflicts, refunds). Providers' own
//! callbacks are the server's routes, not server functions.

// A server function's arguments are its form's fields, one each.
#![allow(clippy::too_many_arguments)]

use crate::{
    domain::{
        payments::{
            ImportReport, PaymentPage, PublicPayee, RechargeOptions, SitePayments, StartedPayment,
        },
        reconciliation::ReconciliationReport,
    },
    error::AppError,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{answer, caller, client_addr, ports, session_user};

#[cfg(feature = "ssr")]
mod guard {
    use crate::{
        domain::{Caller, SiteId, access::PaymentAction, payments::ProviderKind},
        error::AppError,
        ports::Ports,
    };

    /// Checks the caller may act on a site's payments. Unknown and foreign sites answer alike.
    pub async fn site(
        ports: &Ports,
        caller: &Caller,
        site: SiteId,
        action: PaymentAction,
    ) -> Result<(), AppError> {
        let org = ports
            .directory
            .site_org(site)
            .await?
            .ok_or(AppError::Forbidden)?;
        if caller.may_on_payments(action, site, org) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Like [`site`], for the site a looked-up record (payment, conflict, payout) belongs to:
    /// a record that does not exist answers like a foreign one.
    pub async fn site_of(
        ports: &Ports,
        caller: &Caller,
        found: Option<SiteId>,
        action: PaymentAction,
    ) -> Result<(), AppError> {
        site(ports, caller, found.ok_or(AppError::Forbidden)?, action).await
    }

    /// A provider a payer may start a checkout with (a bank transfer is made at the bank).
    pub fn checkout_provider(raw: &str) -> Result<ProviderKind, AppError> {
        ProviderKind::parse(raw)
            .filter(|kind| kind.has_checkout())
            .ok_or_else(|| AppError::Invalid("Choose how to pay.".into()))
    }

    /// The origin the browser used, for the provider's return address when the platform has
    /// no public URL configured.
    pub async fn origin() -> String {
        let headers = leptos_axum::extract::<axum::http::HeaderMap>()
            .await
            .unwrap_or_default();
        let header = |name| {
            headers
                .get(name)
                .and_then(|value: &axum::http::HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        header(axum::http::header::ORIGIN)
            .filter(|origin| origin != "null")
            .or_else(|| header(axum::http::header::HOST).map(|host| format!("http://{host}")))
            .unwrap_or_default()
    }
}

/// What the recharge page offers for one of the caller's accounts.
#[server(prefix = "/api", endpoint = "recharge_options")]
pub async fn load_recharge(account: String) -> Result<RechargeOptions, AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                super::accounts::guard::allow(&ports, &caller, &account, AccountAction::Pay)
                    .await?;
            ports.payments.recharge_options(id, &caller).await
        }
        .await,
    )
}

/// Starts a top-up through a provider: stores the pending payment and answers where the
/// payer goes next (the provider's page, or the status page while their phone asks).
#[server(prefix = "/api", endpoint = "start_payment")]
pub async fn start_payment(
    account: String,
    amount: String,
    provider: String,
    phone: Option<String>,
    email: Option<String>,
) -> Result<StartedPayment, AppError> {
    use crate::{domain::access::AccountAction, ports::PaymentRequest};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (id, _) =
                super::accounts::guard::allow(&ports, &caller, &account, AccountAction::Pay)
                    .await?;
            let provider = guard::checkout_provider(&provider)?;
            let started = ports
                .payments
                .start(PaymentRequest {
                    account: id,
                    amount,
                    provider,
                    phone: phone.filter(|phone| !phone.trim().is_empty()),
                    email: email
                        .filter(|email| !email.trim().is_empty())
                        .or(Some(caller.email.clone())),
                    payer: Some(caller.user_id),
                    origin: guard::origin().await,
                })
                .await?;
            // The browser posted the form itself: on to the provider (or the status page).
            super::ssr::after_form_post(&started.next());
            Ok(started)
        }
        .await,
    )
}

/// The public pay page's look-up: who an account or meter number belongs to, masked. Anyone
/// may ask, a limited number of times per client address.
#[server(prefix = "/api", endpoint = "find_payee")]
pub async fn find_payee(reference: String) -> Result<PublicPayee, AppError> {
    answer(
        async {
            let client = client_addr().await?;
            ports()?.payments.payee(&reference, client).await
        }
        .await,
    )
}

/// A top-up by someone not signed in (a parent, an employer, a kiosk), by account or meter
/// number. The number is looked up again here: nothing from the look-up is trusted.
#[server(prefix = "/api", endpoint = "start_public_payment")]
pub async fn start_public_payment(
    reference: String,
    amount: String,
    provider: String,
    phone: Option<String>,
    email: Option<String>,
) -> Result<StartedPayment, AppError> {
    use crate::ports::PaymentRequest;
    answer(
        async {
            let client = client_addr().await?;
            let ports = ports()?;
            let account = ports.payments.payee_account(&reference, client).await?;
            let provider = guard::checkout_provider(&provider)?;
            let started = ports
                .payments
                .start(PaymentRequest {
                    account,
                    amount,
                    provider,
                    phone: phone.filter(|phone| !phone.trim().is_empty()),
                    email: email.filter(|email| !email.trim().is_empty()),
                    payer: None,
                    origin: guard::origin().await,
                })
                .await?;
            // The browser posted the form itself: on to the provider (or the status page).
            super::ssr::after_form_post(&started.next());
            Ok(started)
        }
        .await,
    )
}

/// A payment's status. Its id is unguessable, so whoever holds the link (the payer, signed
/// in or not) sees the payment and a masked payee; the account's resident and its site's
/// staff also see the balance and supply after it.
#[server(prefix = "/api", endpoint = "payment_page")]
pub async fn load_payment(payment: String) -> Result<PaymentPage, AppError> {
    use crate::domain::access::AccountAction;
    answer(
        async {
            let ports = ports()?;
            let (mut page, account) = ports
                .payments
                .payment(payment.trim())
                .await?
                .ok_or(AppError::NotFound)?;
            if let (Some(_), Some(account)) = (session_user().await?, account)
                && let Ok(caller) = caller().await
                && let Some(place) = ports.accounts.place(account, caller.user_id).await?
                && caller.may_on_account(AccountAction::View, place.site, place.org, place.occupant)
            {
                page.account = Some(ports.accounts.summary(account).await?);
            }
            page.token = ports.tokens.payment_token(payment.trim()).await?;
            Ok(page)
        }
        .await,
    )
}

/// The sandbox's checkout page: pay or decline. Only sandbox payments, only while pending;
/// the outcome arrives as the sandbox's signed callback.
#[server(prefix = "/api", endpoint = "sandbox_decide")]
pub async fn sandbox_decide(payment: String, pay: bool) -> Result<(), AppError> {
    let payment = payment.trim();
    answer(ports()?.payments.sandbox_complete(payment, pay).await)?;
    // The checkout page's form is posted by the browser itself: back to the platform.
    super::ssr::after_form_post(&format!("/payments/{payment}"));
    Ok(())
}

/// A payment's page (status, receipt, the account after it) drawn as HTML, for the status
/// page's island to swap in while it waits for the provider.
#[server(prefix = "/api", endpoint = "payment_html")]
pub async fn payment_html(payment: String) -> Result<String, AppError> {
    let page = load_payment(payment).await?;
    Ok(crate::pages::payments::payment_drawing(page))
}

/// A site's payments and conflicts, searched by receipt, account number or reference.
#[server(prefix = "/api", endpoint = "site_payments")]
pub async fn load_site_payments(site: String, query: String) -> Result<SitePayments, AppError> {
    use crate::domain::{SiteId, access::PaymentAction};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let site: SiteId = site.parse().map_err(|_| AppError::Forbidden)?;
            guard::site(&ports, &caller, site, PaymentAction::View).await?;
            let mut page = ports.payments.site_payments(&caller, site, &query).await?;
            let manage = guard::site(&ports, &caller, site, PaymentAction::Manage)
                .await
                .is_ok();
            page.may_refund = manage;
            page.may_resolve = manage;
            if manage {
                page.refunds_waiting = ports.payments.refunds_waiting(&caller, site).await?;
            }
            Ok(page)
        }
        .await,
    )
}

/// Asks for (part of) a payment back, through its provider or recorded as done by hand: a
/// second person, another of the site's managers or an admin, approves it before anything is
/// given. Answers the request's id; the same request sent again answers the same id.
#[server(prefix = "/api", endpoint = "refund_payment")]
pub async fn refund_payment(
    payment: String,
    amount: String,
    reason: String,
    by_hand: Option<String>,
) -> Result<i64, AppError> {
    use crate::domain::access::PaymentAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let site = ports.payments.payment_site(payment.trim()).await?;
            guard::site_of(&ports, &caller, site, PaymentAction::Manage).await?;
            ports
                .payments
                .ask_refund(&caller, payment.trim(), &amount, &reason, by_hand.is_some())
                .await
        }
        .await,
    )
}

/// Approves (`approve`: the refund is given, through the provider or recorded by hand) or
/// refuses (`refuse`; the asker's own is withdrawn) a refund request of the site.
#[server(prefix = "/api", endpoint = "decide_refund")]
pub async fn decide_refund(
    site: String,
    request: String,
    decision: String,
) -> Result<(), AppError> {
    use crate::domain::{SiteId, access::PaymentAction, four_eyes::Decision};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let site: SiteId = site.parse().map_err(|_| AppError::Forbidden)?;
            guard::site(&ports, &caller, site, PaymentAction::Manage).await?;
            let request: i64 = request
                .trim()
                .parse()
                .map_err(|_| AppError::Invalid("That is not a refund request.".into()))?;
            let decision: Decision = decision.parse().map_err(AppError::Invalid)?;
            ports
                .payments
                .decide_refund(&caller, site, request, decision)
                .await
        }
        .await,
    )
}

/// Settles a conflict: credit the reported money (to the account named, if any) or dismiss.
#[server(prefix = "/api", endpoint = "resolve_conflict")]
pub async fn resolve_conflict(
    conflict: String,
    account: Option<String>,
    decision: String,
) -> Result<(), AppError> {
    use crate::domain::access::PaymentAction;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let conflict: i64 = conflict.parse().map_err(|_| AppError::Forbidden)?;
            let site = ports.payments.conflict_site(conflict).await?;
            guard::site_of(&ports, &caller, site, PaymentAction::Manage).await?;
            let credit = match decision.as_str() {
                "credit" => true,
                "dismiss" => false,
                _ => return Err(AppError::Invalid("Choose credit or dismiss.".into())),
            };
            ports
                .payments
                .resolve_conflict(&caller, conflict, account.as_deref(), credit)
                .await
        }
        .await,
    )
}

/// Imports a bank statement pasted as CSV: transfers are matched to accounts by the account
/// or meter number in their description and credited once; the others wait as conflicts.
#[server(prefix = "/api", endpoint = "import_statement")]
pub async fn import_statement(site: String, statement: String) -> Result<ImportReport, AppError> {
    use crate::domain::{SiteId, access::PaymentAction};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let site: SiteId = site.parse().map_err(|_| AppError::Forbidden)?;
            guard::site(&ports, &caller, site, PaymentAction::Manage).await?;
            ports
                .payments
                .import_statement(&caller, site, &statement)
                .await
        }
        .await,
    )
}

/// Pays a move-out refund: sent through a provider that pays people (to the phone given, for
/// M-Pesa), or recorded as paid by hand with its cheque or receipt number.
#[server(prefix = "/api", endpoint = "pay_out")]
pub async fn pay_out(
    payout: String,
    method: String,
    destination: Option<String>,
    reference: Option<String>,
    note: Option<String>,
) -> Result<(), AppError> {
    use crate::{domain::access::PaymentAction, ports::PayoutMethod};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let payout: i64 = payout.parse().map_err(|_| AppError::Forbidden)?;
            let site = ports.payments.payout_site(payout).await?;
            guard::site_of(&ports, &caller, site, PaymentAction::Manage).await?;
            let method = match method.as_str() {
                "by_hand" => PayoutMethod::ByHand {
                    reference: reference.unwrap_or_default(),
                    note: note.unwrap_or_default(),
                },
                provider => PayoutMethod::Provider {
                    provider: crate::domain::payments::ProviderKind::parse(provider)
                        .filter(|kind| kind.pays_out())
                        .ok_or_else(|| AppError::Invalid("Choose how to pay it.".into()))?,
                    destination: destination.filter(|d| !d.trim().is_empty()),
                    origin: guard::origin().await,
                },
            };
            ports.payments.pay_out(&caller, payout, method).await
        }
        .await,
    )
}

/// Sets a provider's settlement file against the ledger for a period and lists every
/// difference. Reads only: cashiers may run it too.
#[server(prefix = "/api", endpoint = "reconcile_settlement")]
pub async fn reconcile_settlement(
    site: String,
    provider: String,
    from: String,
    to: String,
    file: String,
) -> Result<ReconciliationReport, AppError> {
    use crate::domain::{SiteId, access::PaymentAction, payments::ProviderKind};
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let site: SiteId = site.parse().map_err(|_| AppError::Forbidden)?;
            guard::site(&ports, &caller, site, PaymentAction::View).await?;
            let provider = ProviderKind::parse(&provider)
                .ok_or_else(|| AppError::Invalid("Choose the provider the file is from.".into()))?;
            let day = |raw: &str| {
                chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                    .map_err(|_| AppError::Invalid(format!("{raw:?} is not a date (YYYY-MM-DD).")))
            };
            let (from, to) = (day(&from)?, day(&to)?);
            if to < from {
                return Err(AppError::Invalid(
                    "The period ends before it starts.".into(),
                ));
            }
            ports
                .payments
                .reconcile(site, provider, from, to, &file)
                .await
        }
        .await,
    )
}
