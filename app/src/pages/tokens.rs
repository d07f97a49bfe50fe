//! Keypad meters' tokens on the pages: the token a payment bought, a resident's tokens with
//! "send again", and a meter's key set-up, engineering tokens and history for its managers.
//! Drawn on the server with plain forms: no WebAssembly.

use crate::api::tokens::{
    ApproveToken, OrderToken, ProvisionTokenMeter, ResendToken, load_meter_tokens,
};
use crate::domain::i18n::Locale;
use crate::domain::tokens::{MeterTokens, TokenView};
use crate::pages::{error_view, form_error, locale::use_locale, words::*};
use leptos::prelude::*;

/// One token: its digits, large, to read out or type; or where it stands.
#[component]
pub fn TokenCard(token: TokenView) -> impl IntoView {
    let l = use_locale();
    let units = token.units.clone().unwrap_or_default();
    let body = match (token.status.as_str(), token.digits.clone()) {
        ("issued", Some(digits)) => view! {
            <p class="token-digits" data-token=token.public_id.clone()>{digits}</p>
            <p class="hint">{TOKEN_HOW.get(l)}</p>
        }
        .into_any(),
        ("failed", _) => view! { <p class="form-error">{TOKEN_FAILED.get(l)}</p> }.into_any(),
        _ => view! { <p>{TOKEN_PREPARING.get(l)}</p> }.into_any(),
    };
    view! {
        <section class="card token" data-status=token.status.clone()>
            <h2>{TOKEN_FOR.fill(l, &[&units])}</h2>
            {body}
        </section>
    }
}

/// The account page's tokens, newest first, each issued one with "send again".
#[component]
pub fn ResidentTokens(account: String, tokens: Vec<TokenView>, sent: bool) -> impl IntoView {
    let resend = ServerAction::<ResendToken>::new();
    let l = use_locale();
    view! {
        <section class="tokens" id="tokens">
            <h2>{YOUR_TOKENS.get(l)}</h2>
            {sent.then(|| view! { <p class="notice" role="status">{TOKEN_SENT.get(l)}</p> })}
            {form_error(resend.value())}
            <ul class="token-list">
                {tokens.into_iter().map(|token| {
                    let issued = token.status == "issued";
                    let account = account.clone();
                    let public_id = token.public_id.clone();
                    view! {
                        <li data-token=token.public_id.clone()>
                            <span class="when">{l.date_time(token.created_local)}</span>
                            " · "
                            <span>{token.units.clone().unwrap_or_default()}</span>
                            " · "
                            {match token.digits.clone() {
                                Some(digits) => view! { <strong class="token-digits">{digits}</strong> }.into_any(),
                                None => view! { <span>{TOKEN_PREPARING.get(l)}</span> }.into_any(),
                            }}
                            {issued.then(|| view! {
                                <ActionForm action=resend attr:class="inline">
                                    <input type="hidden" name="account" value=account/>
                                    <input type="hidden" name="token" value=public_id/>
                                    <button type="submit" class="secondary">{SEND_AGAIN.get(l)}</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// A meter's keypad set-up for the staff who may see it (managers act on it).
#[component]
pub fn MeterTokensPanel(meter: String, manage: bool) -> impl IntoView {
    let data = Resource::new(
        {
            let meter = meter.clone();
            move || meter.clone()
        },
        load_meter_tokens,
    );
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let meter = meter.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(tokens) => view! { <Panel meter tokens manage/> }.into_any(),
                        Err(error) => error_view(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Panel(meter: String, tokens: MeterTokens, manage: bool) -> impl IntoView {
    let order = ServerAction::<OrderToken>::new();
    let approve = ServerAction::<ApproveToken>::new();
    let l = use_locale();
    let setup = tokens.setup.clone();
    let setup_known = setup.is_some();
    let for_order = meter.clone();
    view! {
        <section class="card token-meter" id="tokens">
            <h2>"Keypad tokens"</h2>
            {match setup {
                Some(setup) => view! {
                    <p>{format!(
                        "{} · {} digits{} · one step = {} · last count {}",
                        if setup.vendor == "openpaygo" { "OpenPAYGO Token" } else { "STS vending service" },
                        if setup.extended { "extended" } else { "standard" },
                        if setup.restricted { ", keys 1–4" } else { "" },
                        setup.value_step,
                        setup.last_count,
                    )}</p>
                }.into_any(),
                None => view! {
                    <p>"This meter is switched through the network. Make it a keypad meter to sell it credit as tokens."</p>
                }.into_any(),
            }}
            {manage.then(|| view! { <ProvisionForm meter=meter.clone() renew=setup_known/> })}
            {(manage && setup_known).then(|| view! {
                <ActionForm action=order attr:class="inline engineering">
                    <input type="hidden" name="meter" value=for_order/>
                    <select name="kind" aria-label="Engineering token">
                        <option value="counter_sync">"Counter sync"</option>
                        <option value="disable_payg">"Disable pay-as-you-go"</option>
                        <option value="set_credit">"Set credit (needs a second manager)"</option>
                        <option value="clear_credit">"Clear credit (needs a second manager)"</option>
                    </select>
                    <input type="text" name="value" inputmode="numeric" placeholder="steps, to set" size="8" aria-label="Steps"/>
                    <button type="submit">"Make token"</button>
                </ActionForm>
            })}
            {form_error(order.value())}
            {form_error(approve.value())}
            {match (tokens.tokens.is_empty(), setup_known) {
                (false, _) => Some(token_table(&meter, tokens.tokens, manage, approve, l).into_any()),
                (true, true) => Some(view! { <p class="empty">"No tokens made for this meter yet."</p> }.into_any()),
                // Not a keypad meter and never was: the paragraph above says all there is.
                (true, false) => None,
            }}
        </section>
    }
}

/// The tokens made for a meter (its latest 100, newest first), with the approval a waiting
/// one needs.
fn token_table(
    meter: &str,
    tokens: Vec<TokenView>,
    manage: bool,
    approve: ServerAction<ApproveToken>,
    l: Locale,
) -> impl IntoView + use<> {
    view! {
        <table class="tokens">
            <thead><tr><th>"When"</th><th>"What"</th><th>"Units"</th><th>"Token"</th><th>"State"</th></tr></thead>
            <tbody>
                {tokens.into_iter().map(|token| {
                    let waiting = token.status == "awaiting_approval";
                    let meter = meter.to_owned();
                    let public_id = token.public_id.clone();
                    view! {
                        <tr data-token=token.public_id.clone() data-status=token.status.clone()>
                            <td class="when">{l.date_time(token.created_local)}</td>
                            <td>{token.kind.replace('_', " ")}</td>
                            <td>{token.units.clone().unwrap_or_default()}</td>
                            <td class="token-digits">{token.digits.clone().unwrap_or_default()}</td>
                            <td>
                                {token.status.replace('_', " ")}
                                {token.failure.clone().map(|failure| view! { <span class="hint">{format!(" ({failure})")}</span> })}
                                {(waiting && manage).then(|| view! {
                                    <ActionForm action=approve attr:class="inline">
                                        <input type="hidden" name="meter" value=meter/>
                                        <input type="hidden" name="token" value=public_id/>
                                        <button type="submit">"Approve"</button>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Making a meter a keypad meter: an island, because a generated key is shown once, in the
/// answer to this form, and must not travel in an address.
#[island(lazy)]
fn ProvisionForm(meter: String, renew: bool) -> impl IntoView {
    crate::pages::island_ready();
    let provision = ServerAction::<ProvisionTokenMeter>::new();
    view! {
        <details class="provision">
            <summary>{if renew { "Give it a new key" } else { "Make it a keypad meter" }}</summary>
            <ActionForm action=provision>
                <input type="hidden" name="meter" value=meter/>
                <label>"Tokens from"
                    <select name="vendor">
                        <option value="openpaygo">"OpenPAYGO Token (key kept here)"</option>
                        <option value="sts">"STS vending service"</option>
                    </select>
                </label>
                <label>"Device key (32 hex characters; empty: generate one)"
                    <input type="text" name="key" autocomplete="off" maxlength="32"/>
                </label>
                <label>"Starting code (with a given key)"
                    <input type="text" name="starting_code" inputmode="numeric" maxlength="9"/>
                </label>
                <label><input type="checkbox" name="extended" value="on"/>" Extended tokens (12 digits)"</label>
                <label><input type="checkbox" name="restricted" value="on"/>" Keypad with keys 1–4 only"</label>
                <label>"One step of a token's value, in the meter's unit"
                    <input type="text" name="value_step" value="0.1" inputmode="decimal" required/>
                </label>
                <button type="submit">"Save"</button>
            </ActionForm>
            {form_error(provision.value())}
            {move || provision.value().get().and_then(Result::ok).map(|key| match key {
                Some(key) => view! {
                    <div class="notice new-key" role="status">
                        <p>"Saved. Program this into the device now: it is stored sealed and will not be shown again."</p>
                        <p>"Key: " <code class="device-key">{key.key_hex.clone()}</code></p>
                        <p>"Starting code: " <code class="starting-code">{key.starting_code.to_string()}</code></p>
                    </div>
                }.into_any(),
                None => view! { <p class="notice" role="status">"Saved. Reload to see the meter's new set-up."</p> }.into_any(),
            })}
        </details>
    }
}
