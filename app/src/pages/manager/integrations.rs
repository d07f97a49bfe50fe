//! `/manage/integrations`: the organisation's API keys and webhooks, for its admins; and
//! `/manage/integrations/webhooks/:id`, a webhook's deliveries with every attempt. Secrets
//! are shown once, in the answer of an island's form, never in an address or a later page.

use crate::api::integrations::{
    CreateApiKey, DisableWebhook, RevokeApiKey, SubscribeWebhook, load_integrations,
    load_webhook_deliveries,
};
use crate::domain::integrations::{
    ApiKeyView, DeliveryView, EVENT_TYPES, Integrations, SCOPES, WebhookView,
};
use crate::pages::{error_view, form_error, route_id};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn maybe(at: Option<DateTime<Utc>>) -> String {
    at.map(when).unwrap_or_else(|| "—".into())
}

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| load_integrations());
    view! {
        <Title text="Integrations"/>
        <p class="breadcrumb"><a href="/manage">"Your sites"</a></p>
        <h1>"Integrations"</h1>
        <p>"Other systems reach your organisation through the "
            <a href="/api/v1/docs">"REST API"</a>
            " with a key made here, and hear of events through webhooks. Keys and signing secrets are shown once, when made: keep them in the other system's secret store."</p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Overview overview/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(overview: Integrations) -> impl IntoView {
    let revoke = ServerAction::<RevokeApiKey>::new();
    let disable = ServerAction::<DisableWebhook>::new();
    let Integrations {
        keys,
        webhooks,
        sites,
    } = overview;
    view! {
        <section class="card" id="keys">
            <h2>"API keys"</h2>
            {form_error(revoke.value())}
            {if keys.is_empty() {
                view! { <p class="empty">"No key yet."</p> }.into_any()
            } else {
                view! {
                    <table class="api-keys">
                        <thead><tr><th>"Name"</th><th>"Key"</th><th>"May"</th><th>"Made"</th><th>"Last used"</th><th></th></tr></thead>
                        <tbody>{keys.into_iter().map(|key| view! { <KeyRow key revoke/> }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
            <NewKeyForm sites/>
        </section>
        <section class="card" id="webhooks">
            <h2>"Webhooks"</h2>
            <p>"Each delivery is a POST of JSON signed with the webhook's secret: the "
                <code>"Prepaid-Signature"</code>" header is "<code>"t={unix time},v1={hex}"</code>
                ", where "<code>"v1"</code>" is HMAC-SHA256 keyed with the secret over "
                <code>"{t}.{body}"</code>". A receiver answers 2xx; anything else is tried again for about five hours."</p>
            {form_error(disable.value())}
            {if webhooks.is_empty() {
                view! { <p class="empty">"No webhook yet."</p> }.into_any()
            } else {
                view! {
                    <table class="webhooks">
                        <thead><tr><th>"Address"</th><th>"Events"</th><th>"Delivered"</th><th>"Waiting"</th><th>"Failed"</th><th></th></tr></thead>
                        <tbody>{webhooks.into_iter().map(|webhook| view! { <WebhookRow webhook disable/> }).collect_view()}</tbody>
                    </table>
                }.into_any()
            }}
            <NewWebhookForm/>
        </section>
    }
}

#[component]
fn KeyRow(key: ApiKeyView, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let may = match &key.site {
        Some(site) => format!("readings for {site} (gateway)"),
        None => key.scopes.join(", "),
    };
    let state = match key.revoked_at {
        Some(at) => view! { <span class="revoked">"Revoked " {when(at)}</span> }.into_any(),
        None => view! {
            <ActionForm action=revoke>
                <input type="hidden" name="key" value=key.id.to_string()/>
                <button type="submit" class="secondary">"Revoke"</button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <tr class="api-key" data-prefix=key.prefix.clone()>
            <td>{key.name}</td>
            <td><code>{format!("ppk_{}_…", key.prefix)}</code></td>
            <td>{may}</td>
            <td>{when(key.created_at)}<br/><small>{key.created_by}</small></td>
            <td>{maybe(key.last_used_at)}</td>
            <td>{state}</td>
        </tr>
    }
}

#[component]
fn WebhookRow(webhook: WebhookView, disable: ServerAction<DisableWebhook>) -> impl IntoView {
    let href = format!("/manage/integrations/webhooks/{}", webhook.id);
    let state = match webhook.disabled_at {
        Some(at) => view! { <span class="revoked">"Stopped " {when(at)}</span> }.into_any(),
        None => view! {
            <ActionForm action=disable>
                <input type="hidden" name="webhook" value=webhook.id.to_string()/>
                <button type="submit" class="secondary">"Stop"</button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <tr class="webhook">
            <td><a href=href>{webhook.url}</a></td>
            <td>{webhook.events.join(", ")}</td>
            <td>{webhook.delivered}</td>
            <td>{webhook.queued}</td>
            <td>{webhook.failed}</td>
            <td>{state}</td>
        </tr>
    }
}

/// Making a key: an island, because the key is shown once, in the answer to this form.
#[island(lazy)]
fn NewKeyForm(sites: Vec<(i64, String)>) -> impl IntoView {
    crate::pages::island_ready();
    let create = ServerAction::<CreateApiKey>::new();
    let form = NodeRef::new();
    crate::pages::reset_after_success(create.value(), form);
    view! {
        <details class="new-api-key">
            <summary>"Make a key"</summary>
            <ActionForm action=create node_ref=form>
                <label>"Name (the system that will use it)"
                    <input type="text" name="name" maxlength="80" required/>
                </label>
                <fieldset>
                    <legend>"For"</legend>
                    <label><input type="radio" name="kind" value="organisation" checked/>" The organisation, with these scopes:"</label>
                    {SCOPES.iter().map(|(scope, meaning)| view! {
                        <label class="scope"><input type="checkbox" name=*scope value="on"/>" "<code>{*scope}</code>" · "{*meaning}</label>
                    }).collect_view()}
                    <label><input type="radio" name="kind" value="gateway"/>" A meter gateway, posting readings for one site:"</label>
                    <select name="site">
                        {sites.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                    </select>
                </fieldset>
                <button type="submit" disabled=move || create.pending().get()>"Make the key"</button>
            </ActionForm>
            {form_error(create.value())}
            {move || create.value().get().and_then(Result::ok).map(|secret| view! {
                <div class="notice new-secret" role="status">
                    <p>"Copy this key now: it is stored hashed and will not be shown again. Reload to see it listed."</p>
                    <p><code class="api-key-secret">{secret}</code></p>
                </div>
            })}
        </details>
    }
}

/// Subscribing a URL: an island, because the signing secret is shown once.
#[island(lazy)]
fn NewWebhookForm() -> impl IntoView {
    crate::pages::island_ready();
    let subscribe = ServerAction::<SubscribeWebhook>::new();
    let form = NodeRef::new();
    crate::pages::reset_after_success(subscribe.value(), form);
    view! {
        <details class="new-webhook">
            <summary>"Add a webhook"</summary>
            <ActionForm action=subscribe node_ref=form>
                <label>"Address (https://…)"
                    <input type="url" name="url" maxlength="500" required/>
                </label>
                <fieldset>
                    <legend>"Events"</legend>
                    {EVENT_TYPES.iter().map(|(event, meaning)| view! {
                        <label class="event"><input type="checkbox" name=event.replace('.', "_") value="on"/>" "<code>{*event}</code>" · "{*meaning}</label>
                    }).collect_view()}
                </fieldset>
                <button type="submit" disabled=move || subscribe.pending().get()>"Add"</button>
            </ActionForm>
            {form_error(subscribe.value())}
            {move || subscribe.value().get().and_then(Result::ok).map(|secret| view! {
                <div class="notice new-secret" role="status">
                    <p>"Give this signing secret to the receiver now: it will not be shown again. Reload to see the webhook listed."</p>
                    <p><code class="webhook-secret">{secret}</code></p>
                </div>
            })}
        </details>
    }
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let webhook = route_id();
    let deliveries = Resource::new(move || webhook.clone(), load_webhook_deliveries);
    view! {
        <Title text="Webhook deliveries"/>
        <p class="breadcrumb"><a href="/manage">"Your sites"</a>" › "<a href="/manage/integrations#webhooks">"Integrations"</a></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match deliveries.await {
                    Ok(found) => view! {
                        <h1>"Deliveries to " <code>{found.webhook.url.clone()}</code></h1>
                        <p>{format!("Events: {}. Newest first, the latest 100.", found.webhook.events.join(", "))}</p>
                        {if found.deliveries.is_empty() {
                            view! { <p class="empty">"Nothing sent yet."</p> }.into_any()
                        } else {
                            view! {
                                <table class="deliveries">
                                    <thead><tr><th>"Event"</th><th>"State"</th><th>"Attempts"</th></tr></thead>
                                    <tbody>{found.deliveries.into_iter().map(|delivery| view! { <DeliveryRow delivery/> }).collect_view()}</tbody>
                                </table>
                            }.into_any()
                        }}
                    }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DeliveryRow(delivery: DeliveryView) -> impl IntoView {
    let state = match (
        delivery.status.as_str(),
        delivery.delivered_at,
        delivery.next_attempt_at,
    ) {
        ("delivered", Some(at), _) => format!("delivered {}", when(at)),
        ("queued", _, Some(next)) => format!("waiting, next try {}", when(next)),
        (status, _, _) => status.to_owned(),
    };
    view! {
        <tr class=format!("delivery {}", delivery.status)>
            <td><code>{delivery.event_type}</code><br/><small>{delivery.event_id}" · "{when(delivery.created_at)}</small></td>
            <td>{state}</td>
            <td>
                <ol class="attempts">
                    {delivery.attempts.into_iter().map(|attempt| {
                        let answer = match (attempt.status_code, attempt.error) {
                            (Some(code), None) => format!("answered {code}"),
                            (_, Some(error)) => error,
                            (None, None) => "sent".into(),
                        };
                        view! { <li>{when(attempt.at)}" · "{answer}" · "{attempt.duration_ms}" ms"</li> }
                    }).collect_view()}
                </ol>
            </td>
        </tr>
    }
}
