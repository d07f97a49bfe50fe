//! Paying: the resident's recharge page (presets, provider, history with a CSV download), a
//! payment's status page (waits for the provider, then shows the receipt, the new balance and
//! the supply), the sandbox's checkout page, and the manager's payments page.

use crate::api::payments::{
    DecideRefund, ImportStatement, PayOut, ReconcileSettlement, RefundPayment, ResolveConflict,
    SandboxDecide, StartPayment, StartPublicPayment, find_payee, load_payment, load_recharge,
    load_site_payments, payment_html,
};
use crate::domain::i18n::{Locale, Words};
use crate::domain::money::group_thousands;
use crate::domain::payments::{
    ConflictView, PaymentPage, PaymentStatus, PaymentView, ProviderKind, PublicPayee,
    RechargeOptions, RefundRequestView, SitePayments, history_csv,
};
use crate::pages::{
    accounts::AccountCard,
    error_view, form_error, live,
    locale::use_locale,
    payouts::{Payouts, Reconcile},
    words::*,
};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/accounts/:id/top-up`: a form the browser posts itself (the server sends the payer on to
/// the provider, or back with the error under the form); only the amount box with its
/// presets runs in the browser.
#[component]
pub fn RechargePage() -> impl IntoView {
    let id = crate::pages::route_id();
    let start = ServerAction::<StartPayment>::new();
    let options = Resource::new(move || id.clone(), load_recharge);
    let l = use_locale();
    view! {
        <Title text=TOP_UP.get(l)/>
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => view! { <Recharge options start/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Recharge(options: RechargeOptions, start: ServerAction<StartPayment>) -> impl IntoView {
    let account = options.account.clone();
    let id = account.id.to_string();
    let initial = options
        .presets
        .get(1)
        .or(options.presets.first())
        .cloned()
        .unwrap_or_default();
    let l = use_locale();
    let limits = limits_text(
        l,
        &options.minimum,
        options.maximum.as_deref(),
        &account.currency,
    );
    let none = options.providers.is_empty();
    view! {
        <p class="breadcrumb"><a href="/">{HOME.get(l)}</a>" › "<a href=format!("/accounts/{id}")>{account.title_in(l)}</a></p>
        <h1>{TOP_UP.get(l)}</h1>
        <AccountCard account=account.clone() link=false/>
        {if none {
            view! { <p class="notice">{NO_ONLINE_PAYMENTS.get(l)}</p> }.into_any()
        } else {
            view! {
                <ActionForm action=start attr:class="recharge card">
                    <input type="hidden" name="account" value=id.clone()/>
                    <fieldset>
                        <legend>{AMOUNT.get(l)}</legend>
                        <AmountChooser
                            presets=options.presets.clone()
                            currency=account.currency.clone()
                            initial
                            label=AMOUNT_IN.fill(l, &[&account.currency])
                        />
                        <p class="hint">{limits.clone()}</p>
                    </fieldset>
                    <fieldset>
                        <legend>{PAY_WITH.get(l)}</legend>
                        {provider_choices(&options.providers)}
                    </fieldset>
                    // Shown by the style sheet while M-Pesa is the provider chosen.
                    <label class="mpesa-phone">
                        {MPESA_PHONE.get(l)}
                        <input name="phone" type="tel" placeholder="0712 345 678" autocomplete="tel"/>
                    </label>
                    <input type="hidden" name="email" value=options.email.clone().unwrap_or_default()/>
                    <button type="submit">{PAY.get(l)}</button>
                    {form_error(start.value())}
                </ActionForm>
            }.into_any()
        }}
        <History payments=options.payments zone=options.zone/>
    }
    .into_any()
}

/// The amount box and its preset buttons: the one part of a top-up form that runs in the
/// browser (a tap on a preset fills the box).
#[island(lazy)]
fn AmountChooser(
    presets: Vec<String>,
    currency: String,
    initial: String,
    label: String,
) -> impl IntoView {
    crate::pages::island_ready();
    let amount = RwSignal::new(initial);
    view! {
        <div class="presets">
            {presets.into_iter().map(|preset| {
                let text = format!("{preset} {currency}");
                view! {
                    <button type="button" class="preset" on:click=move |_| amount.set(preset.clone())>{text}</button>
                }
            }).collect_view()}
        </div>
        <label>
            {label}
            <input name="amount" inputmode="decimal" required
                prop:value=move || amount.get()
                on:input=move |ev| amount.set(event_target_value(&ev))/>
        </label>
    }
}

fn limits_text(l: Locale, minimum: &str, maximum: Option<&str>, currency: &str) -> String {
    match maximum {
        Some(maximum) => BETWEEN.fill(l, &[minimum, maximum, currency]),
        None => AT_LEAST.fill(l, &[minimum, currency]),
    }
}

/// One radio button per provider, the first chosen.
fn provider_choices(providers: &[ProviderKind]) -> impl IntoView + use<> {
    providers
        .iter()
        .enumerate()
        .map(|(index, kind)| {
            view! {
                <label class="choice">
                    <input type="radio" name="provider" value=kind.as_str() checked=index == 0/>
                    {kind.label()}
                </label>
            }
        })
        .collect_view()
}

/// `/pay`: paying for someone without signing in. The look-up is a plain form the page
/// answers with the payee (named masked, so the payer can tell it is the right one) and the
/// payment form, which the browser posts itself (the server sends the payer on to the
/// provider); only the amount presets run in the browser.
#[component]
pub fn PublicPayPage() -> impl IntoView {
    let reference = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("reference")
        .map(|reference| reference.trim().to_owned())
        .filter(|reference| !reference.is_empty());
    let start = ServerAction::<StartPublicPayment>::new();
    let typed = reference.clone().unwrap_or_default();
    let payee = Resource::new(
        move || reference.clone(),
        |reference| async move {
            match reference {
                Some(reference) => Some(find_payee(reference).await),
                None => None,
            }
        },
    );
    let l = use_locale();
    view! {
        <Title text=PAY_FOR_ACCOUNT.get(l)/>
        <h1>{PAY_FOR_ACCOUNT.get(l)}</h1>
        <p>{PAY_FOR_ACCOUNT_WHY.get(l)}</p>
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || {
                let typed = typed.clone();
                Suspend::new(async move {
                let found = payee.await;
                let problem = found.as_ref().and_then(|found| found.as_ref().err()).map(|error| {
                    view! { <p class="form-error" role="alert">{error.to_string()}</p> }
                });
                view! {
                    <form method="get" action="/pay" class="card lookup">
                        <label>
                            {ACCOUNT_OR_METER.get(l)}
                            <input name="reference" required autocomplete="off"
                                placeholder="A0000123 or WA-A101" value=typed/>
                        </label>
                        <button type="submit">{FIND.get(l)}</button>
                        {problem}
                    </form>
                    {found.and_then(Result::ok).map(|payee| view! { <PublicPayForm payee start/> })}
                }
            })}}
        </Suspense>
    }
}

#[component]
fn PublicPayForm(payee: PublicPayee, start: ServerAction<StartPublicPayment>) -> impl IntoView {
    let l = use_locale();
    let what = crate::domain::views::utilities_label(payee.utility, l);
    let limits = limits_text(l, &payee.minimum, payee.maximum.as_deref(), &payee.currency);
    view! {
        <section class="card payee" data-payee=payee.payee.clone()>
            <p class="payee-name">{format!("{} · {what} · {}", payee.payee, payee.site)}</p>
            <ActionForm action=start attr:class="recharge">
                <input type="hidden" name="reference" value=payee.reference.clone()/>
                <AmountChooser
                    presets=payee.presets.clone()
                    currency=payee.currency.clone()
                    initial=payee.presets.first().cloned().unwrap_or_default()
                    label=AMOUNT_IN.fill(l, &[&payee.currency])
                />
                <p class="hint">{limits}</p>
                <fieldset><legend>{PAY_WITH.get(l)}</legend>{provider_choices(&payee.providers)}</fieldset>
                <label class="mpesa-phone">
                    {MPESA_PHONE.get(l)}
                    <input name="phone" type="tel" placeholder="0712 345 678"/>
                </label>
                <label>
                    {YOUR_EMAIL_RECEIPT.get(l)}
                    <input name="email" type="email" autocomplete="email"/>
                </label>
                <button type="submit">{PAY.get(l)}</button>
                {form_error(start.value())}
            </ActionForm>
        </section>
    }
}

/// Percent-encodes text for a `data:` URL.
pub(crate) fn data_url(mime: &str, text: &str) -> String {
    format!(
        "data:{mime};charset=utf-8,{}",
        crate::pages::percent_encode(text)
    )
}

/// A payment's status, as its payer reads it.
fn status_words(status: PaymentStatus) -> Words {
    match status {
        PaymentStatus::Pending => STATUS_PENDING,
        PaymentStatus::Paid => STATUS_PAID,
        PaymentStatus::Failed => STATUS_FAILED,
        PaymentStatus::Conflict => STATUS_CONFLICT,
        PaymentStatus::Refunded => STATUS_REFUNDED,
        PaymentStatus::ChargedBack => STATUS_CHARGED_BACK,
    }
}

#[component]
fn History(payments: Vec<PaymentView>, zone: crate::domain::zone::SiteZone) -> impl IntoView {
    let locale = use_locale();
    if payments.is_empty() {
        return view! { <section class="history"><h2>{PAYMENTS.get(locale)}</h2><p>{NO_PAYMENTS.get(locale)}</p></section> }
            .into_any();
    }
    let csv = data_url("text/csv", &history_csv(&payments));
    let rows = payments
        .into_iter()
        .map(|payment| {
            let href = format!("/payments/{}", payment.public_id);
            view! {
                <tr data-status=payment.status.as_str()>
                    <td>{locale.date_time(zone.local(payment.created_at))}</td>
                    <td>{payment.provider.label()}</td>
                    <td class="amount">{format!("{} {}", group_thousands(&payment.amount), payment.currency)}</td>
                    <td><a href=href>{status_words(payment.status).get(locale)}</a></td>
                    <td>{payment.receipt.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="history">
            <h2>{PAYMENTS.get(locale)}</h2>
            <p><a href=csv download="payments.csv">{DOWNLOAD_CSV.get(locale)}</a></p>
            <table>
                <thead><tr>
                    <th>{WHEN.get(locale)}</th><th>{HOW.get(locale)}</th><th>{AMOUNT.get(locale)}</th>
                    <th>{STATUS.get(locale)}</th><th>{RECEIPT.get(locale)}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

/// `/payments/:id`: the payment as the server draws it, redrawn every two seconds while the
/// payer waits for the provider (the island swaps in `payment_html`).
#[component]
pub fn PaymentStatusPage() -> impl IntoView {
    let id = crate::pages::route_id();
    let page = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        load_payment,
    );
    let l = use_locale();
    view! {
        <Title text=PAYMENT.get(l)/>
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || {
                let id = id.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <PaymentLive id html=payment_drawing(page)/> }.into_any(),
                        Err(error) => error_view(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[island(lazy)]
fn PaymentLive(id: String, html: String) -> impl IntoView {
    crate::pages::island_ready();
    let html = live::redrawn(html, std::time::Duration::from_secs(2), move || {
        payment_html(id.clone())
    });
    view! { <div class="payment-live" aria-live="polite" inner_html=move || html.get()></div> }
}

/// A payment's page as HTML, for [`PaymentLive`].
pub fn payment_drawing(page: PaymentPage) -> String {
    view! { <Payment page/> }.to_html()
}

#[component]
fn Payment(page: PaymentPage) -> impl IntoView {
    let payment = page.payment;
    let status = payment.status;
    let l = use_locale();
    let message = match status {
        PaymentStatus::Pending if payment.provider.needs_phone() => CHECK_PHONE,
        PaymentStatus::Pending => WAITING_PROVIDER,
        PaymentStatus::Paid if page.token.is_some() => THANK_YOU_TOKEN,
        PaymentStatus::Paid => THANK_YOU,
        PaymentStatus::Failed => DID_NOT_GO_THROUGH,
        PaymentStatus::Conflict => NEEDS_A_LOOK,
        PaymentStatus::Refunded | PaymentStatus::ChargedBack => WENT_BACK,
    };
    let label = status_words(status);
    view! {
        <p class="breadcrumb"><a href="/">{HOME.get(l)}</a></p>
        <h1>{PAYMENT.get(l)}</h1>
        <article class=format!("card payment payment-{}", status.as_str()) data-status=status.as_str()>
            <p class="amount">{format!("{} {}", group_thousands(&payment.amount), payment.currency)}</p>
            <p class="status">{label.get(l)}</p>
            <p>{message.get(l)}</p>
            <dl class="facts">
                <div><dt>{PAID_TO.get(l)}</dt><dd>{PAYEE_ACCOUNT.fill(l, &[&page.payee, &payment.account_number])}</dd></div>
                <div><dt>{THROUGH.get(l)}</dt><dd>{payment.provider.label()}</dd></div>
                {payment.receipt.clone().map(|receipt| view! { <div><dt>{RECEIPT.get(l)}</dt><dd class="receipt">{receipt}</dd></div> })}
                {payment.failure.clone().map(|failure| view! { <div><dt>{REASON.get(l)}</dt><dd>{failure}</dd></div> })}
            </dl>
            {payment.checkout_url.clone().map(|url| view! {
                <p><a href=url class="button">{CONTINUE_TO_PAY.get(l)}</a></p>
            })}
        </article>
        {page.token.map(|token| view! { <crate::pages::tokens::TokenCard token/> })}
        {page.account.map(|account| {
            let href = format!("/accounts/{}", account.id);
            view! {
                <h2>{ACCOUNT_NOW.get(l)}</h2>
                <AccountCard account link=false/>
                <p><a href=href>{SEE_ACCOUNT.get(l)}</a></p>
            }
        })}
    }
    .into_any()
}

/// `/pay/sandbox/:id`: the test provider's checkout, plain forms the server answers by
/// sending the payer back to the platform.
#[component]
pub fn SandboxCheckoutPage() -> impl IntoView {
    let id = crate::pages::route_id();
    let decide = ServerAction::<SandboxDecide>::new();
    let page = Resource::new(move || id.clone(), load_payment);
    view! {
        <Title text="Sandbox checkout"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let payment = page.payment;
                        let pay_id = payment.public_id.clone();
                        let decline_id = payment.public_id.clone();
                        view! {
                            <section class="card sandbox">
                                <h1>"Sandbox checkout"</h1>
                                <p>"A test provider: no real money moves. Its answer reaches the platform as a signed callback, like any provider's."</p>
                                <p class="amount">{format!("{} {}", group_thousands(&payment.amount), payment.currency)}</p>
                                <p>{format!("To {} · account {}", page.payee, payment.account_number)}</p>
                                {if payment.status.is_waiting() {
                                    view! {
                                        <ActionForm action=decide attr:class="inline">
                                            <input type="hidden" name="payment" value=pay_id/>
                                            <input type="hidden" name="pay" value="true"/>
                                            <button type="submit">"Pay"</button>
                                        </ActionForm>
                                        <ActionForm action=decide attr:class="inline">
                                            <input type="hidden" name="payment" value=decline_id/>
                                            <input type="hidden" name="pay" value="false"/>
                                            <button type="submit" class="secondary">"Decline"</button>
                                        </ActionForm>
                                        {form_error(decide.value())}
                                    }.into_any()
                                } else {
                                    view! { <p>{format!("This payment is {}.", payment.status.label().to_lowercase())}</p> }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

/// `/manage/sites/:id/payments`: rendered on the server, brought to life in the browser as one island.
#[component]
pub fn SitePaymentsPage() -> impl IntoView {
    let id = crate::pages::route_id();
    let q = leptos_router::hooks::use_query_map()
        .read_untracked()
        .get("q")
        .unwrap_or_default();
    view! { <SitePaymentsIsland id q/> }
}

#[island(lazy)]
fn SitePaymentsIsland(id: String, q: String) -> impl IntoView {
    crate::pages::island_ready();
    let refund = ServerAction::<RefundPayment>::new();
    let decide = ServerAction::<DecideRefund>::new();
    let resolve = ServerAction::<ResolveConflict>::new();
    let import = ServerAction::<ImportStatement>::new();
    let pay = ServerAction::<PayOut>::new();
    let reconcile = ServerAction::<ReconcileSettlement>::new();
    let page = Resource::new(
        move || {
            (
                id.clone(),
                q.clone(),
                refund.version().get()
                    + decide.version().get()
                    + import.version().get()
                    + pay.version().get(),
                resolve.version().get(),
            )
        },
        |(site, q, _, _)| load_site_payments(site, q),
    );
    view! {
        <Title text="Payments"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <Payments page refund decide resolve import pay reconcile/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

/// Refunds asked for and waiting: another manager or an admin approves or refuses each; the one
/// who asked may withdraw theirs.
#[component]
fn RefundsWaiting(
    site: String,
    waiting: Vec<RefundRequestView>,
    decide: ServerAction<DecideRefund>,
) -> impl IntoView {
    if waiting.is_empty() {
        return None;
    }
    let rows = waiting
        .into_iter()
        .map(|asked| {
            let button = {
                let (site, id) = (site.clone(), asked.id.to_string());
                move |decision: &'static str, label: &'static str, class: &'static str| {
                    view! {
                        <ActionForm action=decide attr:class="inline">
                            <input type="hidden" name="site" value=site.clone()/>
                            <input type="hidden" name="request" value=id.clone()/>
                            <input type="hidden" name="decision" value=decision/>
                            <button type="submit" class=class disabled=move || decide.pending().get()>{label}</button>
                        </ActionForm>
                    }
                }
            };
            let actions = if asked.mine {
                view! { <small>"Another manager or an admin approves it."</small>{button("refuse", "Withdraw", "secondary withdraw-refund")} }.into_any()
            } else {
                view! { {button.clone()("approve", "Approve and refund", "approve-refund")}{button("refuse", "Refuse", "danger refuse-refund")} }.into_any()
            };
            view! {
                <tr class="refund-request" data-request=asked.id.to_string() data-payment=asked.payment.clone()>
                    <td>{asked.asked_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                    <td>{asked.account_number.clone()}</td>
                    <td class="amount">{asked.amount.clone()}</td>
                    <td>{asked.reason.clone()}{asked.by_hand.then_some(" (paid back by hand)")}</td>
                    <td>{asked.asked_by.clone()}</td>
                    <td class="actions">{actions}</td>
                </tr>
            }
        })
        .collect_view();
    Some(view! {
        <section class="refunds-waiting">
            <h2>"Refunds waiting for approval"</h2>
            <p class="hint">"Nothing is given back until a second person approves: the refund then goes through the provider, or is recorded as paid back by hand."</p>
            <table>
                <thead><tr><th>"Asked (UTC)"</th><th>"Account"</th><th>"Amount"</th><th>"Reason"</th><th>"Asked by"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {form_error(decide.value())}
        </section>
    })
}

#[component]
fn Payments(
    page: SitePayments,
    refund: ServerAction<RefundPayment>,
    decide: ServerAction<DecideRefund>,
    resolve: ServerAction<ResolveConflict>,
    import: ServerAction<ImportStatement>,
    pay: ServerAction<PayOut>,
    reconcile: ServerAction<ReconcileSettlement>,
) -> impl IntoView {
    let site = page.site;
    let payouts = view! {
        <Payouts payouts=page.payouts.clone() providers=page.payout_providers.clone() may_pay=page.may_resolve pay/>
    };
    let reconciler = view! {
        <Reconcile site=site.to_string() providers=page.providers.clone() today=page.today reconcile/>
    };
    let importer = page.may_resolve.then(|| {
        view! {
            <details class="import">
                <summary>"Import a bank statement"</summary>
                <ActionForm action=import>
                    <input type="hidden" name="site" value=site.to_string()/>
                    <label>
                        "Paste the statement as CSV (columns reference, amount, description; the payer's account or meter number in the description)"
                        <textarea name="statement" rows="6" required></textarea>
                    </label>
                    <button type="submit" disabled=move || import.pending().get()>"Import"</button>
                </ActionForm>
                {move || import.value().get().and_then(Result::ok).map(|report| view! {
                    <p class="import-report">{format!(
                        "{} credited, {} held as conflicts, {} seen before, {} debits skipped.",
                        report.credited, report.conflicts, report.repeats, report.skipped
                    )}</p>
                })}
                {form_error(import.value())}
            </details>
        }
    });
    let may_refund = page.may_refund;
    let open: Vec<ConflictView> = page
        .conflicts
        .iter()
        .filter(|c| c.resolved.is_none())
        .cloned()
        .collect();
    let conflicts = (!open.is_empty()).then(|| {
        let rows = open
            .into_iter()
            .map(|conflict| {
                let id = conflict.id.to_string();
                let form = page.may_resolve.then(|| {
                    let id = id.clone();
                    view! {
                        <ActionForm action=resolve attr:class="inline">
                            <input type="hidden" name="conflict" value=id/>
                            <input name="account" placeholder="Account or meter no." value=conflict.account_number.clone().unwrap_or_default()/>
                            <button type="submit" name="decision" value="credit">"Credit"</button>
                            <button type="submit" name="decision" value="dismiss" class="secondary">"Dismiss"</button>
                        </ActionForm>
                    }
                });
                view! {
                    <tr data-conflict=id>
                        <td>{conflict.created_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                        <td>{conflict.kind.label()}</td>
                        <td>{conflict.provider.label()}</td>
                        <td>{conflict.amount.clone().unwrap_or_default()}</td>
                        <td>{conflict.detail.clone()}</td>
                        <td>{form}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="conflicts">
                <h2>"Conflicts to resolve"</h2>
                <p>"Nothing was credited for these: the provider's word did not match what was asked."</p>
                <table>
                    <thead><tr><th>"When"</th><th>"What"</th><th>"Provider"</th><th>"Amount"</th><th>"Detail"</th><th></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                {form_error(resolve.value())}
            </section>
        }
    });
    let rows = page
        .payments
        .into_iter()
        .map(|payment| {
            let full = payment.amount.clone();
            let refund_form = (may_refund && payment.status == PaymentStatus::Paid).then(|| {
                let id = payment.public_id.clone();
                view! {
                    <details>
                        <summary>"Refund"</summary>
                        <ActionForm action=refund attr:class="inline">
                            <input type="hidden" name="payment" value=id/>
                            <input name="amount" inputmode="decimal" required value=full/>
                            <input name="reason" placeholder="Reason" required/>
                            <label><input type="checkbox" name="by_hand" value="yes"/>" Paid back by hand"</label>
                            <button type="submit">"Ask for approval"</button>
                        </ActionForm>
                    </details>
                }
            });
            view! {
                <tr data-payment=payment.public_id.clone() data-status=payment.status.as_str()>
                    <td>{payment.created_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                    <td><a href=format!("/accounts/{}", payment.account)>{payment.account_number.clone()}</a></td>
                    <td>{payment.provider.label()}</td>
                    <td class="amount">{payment.amount.clone()}</td>
                    <td>{payment.status.label()}{payment.reversed.clone().map(|r| format!(" ({r} back)"))}</td>
                    <td>{payment.receipt.clone().unwrap_or_default()}</td>
                    <td>{refund_form}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="breadcrumb"><a href="/manage">"Sites"</a>" › "<a href=format!("/manage/sites/{site}")>{page.site_name.clone()}</a></p>
        <h1>{format!("Payments · {}", page.site_name)}</h1>
        {conflicts}
        {payouts}
        {importer}
        {reconciler}
        <form method="get" class="search">
            <input name="q" placeholder="Receipt, account number or reference"/>
            <button type="submit">"Search"</button>
        </form>
        <RefundsWaiting site=site.to_string() waiting=page.refunds_waiting.clone() decide/>
        {form_error(refund.value())}
        {move || refund.value().get().and_then(Result::ok).map(|id| view! {
            <p class="notice refund-asked" role="status" data-request=id.to_string()>
                {format!("Refund request {id} waits for a second person's approval.")}
            </p>
        })}
        <table class="payments">
            <thead><tr><th>"When (UTC)"</th><th>"Account"</th><th>"Provider"</th><th>{format!("Amount ({})", page.currency)}</th><th>"Status"</th><th>"Receipt"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
