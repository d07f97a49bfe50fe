//! `/manage/sites/:id/notices`: what the site's notices did (to whom, on which channel, with
//! what result, failures first to hand) and, for its managers, the channels it allows. Drawn on
//! the server, searched with a plain GET form: no WebAssembly.

use crate::api::notifications::{SaveSiteChannels, site_deliveries};
use crate::domain::messaging::{Channel, DeliveryLine, DeliveryPage, SiteChannels};
use crate::pages::{error_view, form_error, percent_encode, route_id};
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Clone, Debug, Default, PartialEq)]
struct Search {
    person: String,
    kind: String,
    channel: String,
    failed: String,
    before: String,
}

impl Search {
    fn from_address() -> Self {
        let query = leptos_router::hooks::use_query_map().read_untracked();
        let field = |name: &str| query.get(name).unwrap_or_default();
        Search {
            person: field("person"),
            kind: field("kind"),
            channel: field("channel"),
            failed: field("failed"),
            before: field("before"),
        }
    }

    fn older_than(&self, site: &str, id: i64) -> String {
        format!(
            "/manage/sites/{site}/notices?person={}&kind={}&channel={}&failed={}&before={id}",
            percent_encode(&self.person),
            percent_encode(&self.kind),
            percent_encode(&self.channel),
            percent_encode(&self.failed),
        )
    }
}

#[component]
pub fn SiteNoticesPage() -> impl IntoView {
    let site = route_id();
    let search = Search::from_address();
    let asked = (site.clone(), search.clone());
    let page = Resource::new(
        move || asked.clone(),
        |(site, search)| {
            site_deliveries(
                site.parse().unwrap_or_default(),
                search.person,
                search.kind,
                search.channel,
                search.failed,
                search.before,
            )
        },
    );
    let saved = leptos_router::hooks::use_query_map().with_untracked(|query| {
        query.get_str("saved").is_some() && query.get_str("__err").is_none()
    });
    let form = search.clone();
    let action = format!("/manage/sites/{site}/notices");
    view! {
        <Title text="Notices sent"/>
        <p class="breadcrumb"><a href="/manage">"Your sites"</a>" › "<a href=format!("/manage/sites/{site}")>"Site"</a></p>
        <h1>"Notices sent"</h1>
        <p>"Every notice the site sent, to whom and how: push to a browser, SMS or e-mail, and what became of it. A failure says why."</p>
        <form method="get" action=action class="card audit-search">
            <label>"Person (name, e-mail or number)" <input type="search" name="person" maxlength="100" value=form.person/></label>
            <label>"Kind"
                <select name="kind">
                    {[("", "Any"), ("low_balance", "Low balance"), ("few_days_left", "Few days left"), ("cut_off", "Cut off"),
                      ("reconnected", "Reconnected"), ("payment_received", "Payment received"), ("token_issued", "Token issued"),
                      ("moved_out", "Moved out"), ("alarm_", "Alarms")]
                        .into_iter()
                        .map(|(value, label)| view! { <option value=value selected=form.kind == value>{label}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>"Channel"
                <select name="channel">
                    <option value="">"Any"</option>
                    {Channel::ALL.into_iter().map(|channel| view! {
                        <option value=channel.as_str() selected=form.channel == channel.as_str()>{channel_name(channel)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="check"><input type="checkbox" name="failed" value="1" checked=!form.failed.is_empty()/>"Failures only"</label>
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let search = search.clone();
                let site = site.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Deliveries page search site saved/> }.into_any(),
                        Err(error) => error_view(error),
                    }
                })
            }}
        </Suspense>
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Push => "Push",
        Channel::Sms => "SMS",
        Channel::Email => "E-mail",
    }
}

#[component]
fn Deliveries(page: DeliveryPage, search: Search, site: String, saved: bool) -> impl IntoView {
    let older = page.older.map(|id| search.older_than(&site, id));
    let totals = page
        .totals
        .iter()
        .map(|(status, count)| format!("{count} {status}"))
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <p class="totals">{if totals.is_empty() { "Nothing sent yet that matches.".to_owned() } else { totals }}</p>
        {(!page.lines.is_empty()).then(|| view! {
            <table class="audit deliveries">
                <thead><tr>
                    <th scope="col">{format!("When ({})", page.zone)}</th><th scope="col">"Person"</th><th scope="col">"Notice"</th>
                    <th scope="col">"Channel"</th><th scope="col">"To"</th><th scope="col">"State"</th>
                </tr></thead>
                <tbody>
                    {page.lines.into_iter().map(|line| view! { <DeliveryRow line/> }).collect_view()}
                </tbody>
            </table>
        })}
        {older.map(|href| view! { <p><a class="button secondary" rel="next" href=href>"Older"</a></p> })}
        <Channels channels=page.channels site saved/>
    }
}

#[component]
fn DeliveryRow(line: DeliveryLine) -> impl IntoView {
    let state = if line.attempts > 1 {
        format!("{} after {} tries", line.status, line.attempts)
    } else {
        line.status.clone()
    };
    view! {
        <tr class=format!("delivery status-{}", line.status) data-channel=line.channel.as_str()>
            <td class="when">{line.at.format("%Y-%m-%d %H:%M").to_string()}</td>
            <td>{line.person}{line.unit.map(|unit| view! { <br/><span class="hint">{unit}</span> })}</td>
            <td>{line.kind.replace('_', " ")}</td>
            <td>{channel_name(line.channel)}</td>
            <td>{line.to}</td>
            <td class="state">{state}{line.error.map(|error| view! { <br/><span class="hint">{error}</span> })}</td>
        </tr>
    }
}

/// The channels the site allows besides push; the form answers only its managers.
#[component]
fn Channels(channels: SiteChannels, site: String, saved: bool) -> impl IntoView {
    let save = ServerAction::<SaveSiteChannels>::new();
    let configured = |yes: bool| {
        if yes {
            ""
        } else {
            " (no provider configured on this platform)"
        }
    };
    view! {
        <section class="card site-channels" aria-labelledby="channels">
            <h2 id="channels">"Channels besides push"</h2>
            <p class="hint">"Residents choose SMS or e-mail in their settings; someone with no browser set up for push gets SMS, else e-mail. Safety alarms ignore quiet hours on every channel."</p>
            <ActionForm action=save>
                <input type="hidden" name="site" value=site/>
                <label class="check"><input type="checkbox" name="sms" value="on" checked=channels.sms/>"Notices by SMS" {configured(channels.sms_configured)}</label>
                <label class="check"><input type="checkbox" name="email" value="on" checked=channels.email/>"Notices by e-mail" {configured(channels.email_configured)}</label>
                <label>"Sender address of the site's e-mails (empty: the platform's)"
                    <input type="email" name="email_from" value=channels.email_from.unwrap_or_default()/>
                </label>
                <button type="submit">"Save"</button>
            </ActionForm>
            {form_error(save.value())}
            {saved.then(|| view! { <p role="status" class="saved">"Saved."</p> })}
        </section>
    }
}
