//! Fault reports: the resident's form and their reports on the account page, the site's
//! reports in the managers' fleet console with the form that closes them.

use crate::api::fleet::{CloseFault, ReportFault};
use crate::domain::faults::{FaultKind, FaultView, MAX_DETAILS};
use crate::pages::form_error;
use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;

/// "Report a fault" on the resident's account page, and what they reported before. A form
/// the browser posts itself: the server sends the page back with `sent`, the new report's
/// number (or the error under the form), so no WebAssembly is needed.
#[component]
pub fn FaultReporting(
    account: String,
    nonce: String,
    faults: Vec<FaultView>,
    sent: Option<i64>,
) -> impl IntoView {
    let report = ServerAction::<ReportFault>::new();
    let l = use_locale();
    view! {
        {sent.map(|id| view! {
            <p class="notice fault-sent" role="status">{FAULT_SENT.fill(l, &[&id.to_string()])}</p>
        })}
        <details class="card fault-form">
            <summary>{REPORT_FAULT.get(l)}</summary>
            <ActionForm action=report>
                <input type="hidden" name="account" value=account/>
                <input type="hidden" name="nonce" value=nonce/>
                <label>{WHAT_IS_WRONG.get(l)}
                    <select name="kind" required>
                        {FaultKind::ALL.into_iter().map(|kind| view! { <option value=kind.as_str()>{kind.label_in(l)}</option> }).collect_view()}
                    </select>
                </label>
                <label>{IN_YOUR_WORDS.get(l)}
                    <textarea name="details" rows="3" required maxlength=MAX_DETAILS.to_string()></textarea>
                </label>
                <p class="hint">{GAS_FIRST.get(l)}</p>
                <button type="submit">{SEND_TO_MANAGERS.get(l)}</button>
            </ActionForm>
            {form_error(report.value())}
        </details>
        {(!faults.is_empty()).then(|| view! {
            <section class="faults" id="faults">
                <h2>{YOUR_FAULTS.get(l)}</h2>
                <FaultList faults close=None/>
            </section>
        })}
    }
}

/// Reports, newest first; with `close`, an open report has the form that closes it.
#[component]
pub fn FaultList(faults: Vec<FaultView>, close: Option<ServerAction<CloseFault>>) -> impl IntoView {
    let l = use_locale();
    view! {
        {close.map(|close| form_error(close.value()))}
        <ul class="fault-list">
            {faults.into_iter().map(|fault| {
                let open = fault.closed_at.is_none();
                let closing = close.filter(|_| open).map(|close| view! {
                    <ActionForm action=close attr:class="inline">
                        <input type="hidden" name="fault" value=fault.id.to_string()/>
                        <input type="text" name="note" placeholder="What was done" required maxlength="500" size="18"
                            aria-label=format!("What was done about report {}", fault.id)/>
                        <button type="submit">"Close"</button>
                    </ActionForm>
                });
                let outcome = match (fault.closed_local, fault.closing_note) {
                    (Some(at), note) => FAULT_CLOSED.fill(l, &[&l.date_time(at), &note.unwrap_or_default()]),
                    (None, _) => FAULT_OPEN.get(l).to_owned(),
                };
                view! {
                    <li class="fault" class:open=open data-fault=fault.id.to_string()>
                        <p>
                            <strong>{format!("#{} {}", fault.id, fault.kind.label_in(l))}</strong>
                            {format!(" · {} · {} · ", fault.place, fault.reporter)}
                            <span class="when">{l.date_time(fault.created_local)}</span>
                        </p>
                        <p class="details">{fault.details}</p>
                        <p class="fault-status">{outcome}</p>
                        {closing}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
