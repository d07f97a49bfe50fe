//! The manager's side of money leaving and settling: move-out refunds to pay (through a
//! provider or by hand), and a provider's settlement file reconciled against the ledger.
//! Both sit on the site's payments page.

use crate::api::payments::{PayOut, ReconcileSettlement};
use crate::domain::{
    payments::{PayoutStatus, PayoutView, ProviderKind},
    reconciliation::ReconciliationReport,
};
use crate::pages::{form_error, payments::data_url};
use leptos::prelude::*;

/// Move-out refunds: who is owed what, and the forms that pay them.
#[component]
pub fn Payouts(
    payouts: Vec<PayoutView>,
    providers: Vec<ProviderKind>,
    may_pay: bool,
    pay: ServerAction<PayOut>,
) -> impl IntoView {
    if payouts.is_empty() {
        return ().into_any();
    }
    let rows = payouts
        .into_iter()
        .map(|payout| {
            let forms = (may_pay && payout.status == PayoutStatus::Owed).then(|| {
                if payout.mine {
                    view! { <small class="settled-by-you">"You settled this move-out: another manager or an admin pays it."</small> }.into_any()
                } else {
                    pay_forms(payout.id, &providers, pay).into_any()
                }
            });
            let how = match (&payout.method, &payout.reference) {
                (Some(method), Some(reference)) => format!("{method} · {reference}"),
                (Some(method), None) => method.clone(),
                _ => String::new(),
            };
            view! {
                <tr data-payout=payout.id data-status=payout.status.as_str()>
                    <td>{payout.created_at.format("%Y-%m-%d").to_string()}</td>
                    <td>
                        {payout.person.clone()}<br/><small>{payout.email.clone()}</small>
                        {payout.settled_by.clone().map(|by| view! { <br/><small class="settled-by">{format!("Settled by {by}")}</small> })}
                    </td>
                    <td class="amount">{payout.amount.clone()}</td>
                    <td>
                        {payout.status.label()}
                        {payout.failure.clone().map(|f| view! { <br/><small class="failure">{format!("Last try failed: {f}")}</small> })}
                    </td>
                    <td>{how}{(!payout.note.is_empty()).then(|| format!(" ({})", payout.note))}</td>
                    <td>{forms}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="payouts">
            <h2>"Move-out refunds"</h2>
            <p>"What people were owed when they moved out. Nothing leaves the refunds account until the money has gone."</p>
            {form_error(pay.value())}
            <table>
                <thead><tr><th>"Moved out"</th><th>"To"</th><th>"Amount"</th><th>"Status"</th><th>"Paid by"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}

/// One form per provider that pays people, and one to record a payment made by hand.
fn pay_forms(
    id: i64,
    providers: &[ProviderKind],
    pay: ServerAction<PayOut>,
) -> impl IntoView + use<> {
    let id = id.to_string();
    let through = providers
        .iter()
        .copied()
        .map(|provider| {
            let id = id.clone();
            let phone = provider.needs_phone().then(|| {
                view! { <input name="destination" type="tel" placeholder="Phone, e.g. 0712 345 678" required/> }
            });
            view! {
                <ActionForm action=pay attr:class="inline">
                    <input type="hidden" name="payout" value=id/>
                    <input type="hidden" name="method" value=provider.as_str()/>
                    {phone}
                    <button type="submit" disabled=move || pay.pending().get()>{format!("Send through {}", provider.label())}</button>
                </ActionForm>
            }
        })
        .collect_view();
    view! {
        <details>
            <summary>"Pay"</summary>
            {through}
            <ActionForm action=pay attr:class="inline">
                <input type="hidden" name="payout" value=id/>
                <input type="hidden" name="method" value="by_hand"/>
                <input name="reference" placeholder="Receipt, cheque or transfer no." required/>
                <input name="note" placeholder="Note (optional)"/>
                <button type="submit" class="secondary" disabled=move || pay.pending().get()>"Record as paid by hand"</button>
            </ActionForm>
        </details>
    }
}

/// A provider's settlement file set against the ledger.
#[component]
pub fn Reconcile(
    site: String,
    providers: Vec<ProviderKind>,
    /// The server's today: the browser's clock is not asked (nor is it there in wasm).
    today: chrono::NaiveDate,
    reconcile: ServerAction<ReconcileSettlement>,
) -> impl IntoView {
    let first = chrono::Datelike::with_day0(&today, 0).unwrap_or(today);
    let options = providers
        .into_iter()
        .map(|p| view! { <option value=p.as_str()>{p.label()}</option> })
        .collect_view();
    view! {
        <details class="reconcile">
            <summary>"Reconcile a settlement file"</summary>
            <ActionForm action=reconcile>
                <input type="hidden" name="site" value=site/>
                <label>"Provider" <select name="provider">{options}</select></label>
                <label>"Paid from" <input type="date" name="from" required value=first.to_string()/></label>
                <label>"to" <input type="date" name="to" required value=today.to_string()/></label>
                <label>
                    "Paste the provider's settlement report as CSV (a reference and an amount column; refunds negative; fee and payout lines are skipped)"
                    <textarea name="file" rows="6" required></textarea>
                </label>
                <button type="submit" disabled=move || reconcile.pending().get()>"Compare with the ledger"</button>
            </ActionForm>
            {form_error(reconcile.value())}
            {move || reconcile.value().get().and_then(Result::ok).map(|report| view! { <Report report/> })}
        </details>
    }
}

#[component]
fn Report(report: ReconciliationReport) -> impl IntoView {
    let digits = report.digits;
    let outcome = &report.outcome;
    let lines = |n: usize| {
        if n == 1 {
            "1 line".to_owned()
        } else {
            format!("{n} lines")
        }
    };
    let summary = format!(
        "{} compared ({} matched, {} of fees or payouts skipped) for {} to {}: file {} {}, ledger {} {}.",
        lines(outcome.lines),
        outcome.matched,
        lines(report.skipped as usize),
        report.from,
        report.to,
        outcome.file_total.format(digits),
        report.currency,
        outcome.ledger_total.format(digits),
        report.currency,
    );
    if outcome.differences.is_empty() {
        return view! {
            <div class="reconciliation">
                <p>{summary}</p>
                <p class="agrees">"No differences: the file and the ledger agree."</p>
            </div>
        }
        .into_any();
    }
    let csv = data_url("text/csv", &report.csv());
    let rows = outcome
        .differences
        .iter()
        .map(|d| {
            let lines: Vec<String> = d.lines.iter().map(usize::to_string).collect();
            view! {
                <tr data-difference=d.reference.clone()>
                    <td>{d.kind.label()}</td>
                    <td>{d.reference.clone()}</td>
                    <td>{d.payment.clone().map(|id| view! { <a href=format!("/payments/{id}")>{id.clone()}</a> })}</td>
                    <td class="amount">{d.file.format(digits)}</td>
                    <td class="amount">{d.ledger.format(digits)}</td>
                    <td>{lines.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="reconciliation">
            <p>{summary}</p>
            <p class="differs">{match outcome.differences.len() { 1 => "1 difference.".to_owned(), n => format!("{n} differences.") }}" "<a href=csv download="differences.csv">"Download as CSV"</a></p>
            <table>
                <thead><tr><th>"Difference"</th><th>"Reference"</th><th>"Payment"</th><th>"File"</th><th>"Ledger"</th><th>"File lines"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
