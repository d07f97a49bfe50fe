use crate::api::{
    accounts::{live_home, my_accounts},
    directory::load_resident_home,
    fleet::my_alarms,
};
use crate::domain::i18n::Locale;
use crate::domain::{
    fleet::AlarmView,
    supply::SupplyState,
    views::{AccountView, MeterView, ResidentUnit},
};
use crate::pages::accounts::AccountCard;
use crate::pages::fleet::AlarmTable;
use crate::pages::{error_view, live};
use crate::pages::{locale::use_locale, words::*};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ResidentHomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| load_resident_home());
    let accounts = Resource::new(|| (), |_| my_accounts());
    let alarms = Resource::new(|| (), |_| my_alarms());
    let l = use_locale();
    view! {
        <Title text=HOME.get(l)/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match (accounts.await, alarms.await) {
                    (Ok(accounts), Ok(alarms)) => view! { <LiveCredit html=live_html(accounts, alarms)/> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => error_view(error),
                }
            })}
        </Suspense>
        <Suspense fallback=move || view! { <p>{LOADING.get(l)}</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => view! {
                        <h1>{YOUR_HOME.get(l)}</h1>
                        {home.staff.then(|| view! {
                            <p class="notice"><a href="/manage">{OPEN_CONSOLE.get(l)}</a></p>
                        })}
                        {if home.units.is_empty() {
                            view! { <p class="empty">{NO_UNIT.get(l)}</p> }.into_any()
                        } else {
                            view! {
                                <div class="unit-list">
                                    {home.units.into_iter().map(|unit| view! { <UnitCard unit/> }).collect_view()}
                                </div>
                            }
                            .into_any()
                        }}
                    }
                    .into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

/// The resident's accounts and open alarms as the server rendered them, then kept current
/// without a reload: a top-up confirmed by the provider, a cut-off or an alarm shows within
/// [`live::REFRESH`]. The server draws the fresh figures (`live_home`) and the island swaps
/// them in, so it ships no card, date or amount code. A failed refresh (offline, server
/// restarting) keeps what is shown.
#[island(lazy)]
fn LiveCredit(html: String) -> impl IntoView {
    crate::pages::island_ready();
    let html = live::redrawn(html, live::REFRESH, live_home);
    view! { <div class="live-credit" aria-live="polite" inner_html=move || html.get()></div> }
}

/// The live part of the home page as HTML, for [`LiveCredit`].
pub fn live_html(accounts: Vec<AccountView>, alarms: Vec<AlarmView>) -> String {
    view! { <Credit accounts alarms/> }.to_html()
}

#[component]
fn Credit(accounts: Vec<AccountView>, alarms: Vec<AlarmView>) -> impl IntoView {
    let l = use_locale();
    view! {
        <div class="live">
            {(!alarms.is_empty()).then(|| view! { <AlarmTable alarms step=None/> })}
            {accounts.iter().filter_map(|account| banner(account, l)).collect_view()}
        </div>
        {(!accounts.is_empty()).then(|| view! {
            <section class="accounts">
                <h1>{YOUR_CREDIT.get(l)}</h1>
                <div class="account-list">
                    {accounts.into_iter().map(|account| view! { <AccountCard account link=true top_up=true/> }).collect_view()}
                </div>
            </section>
        })}
    }
}

/// A line above everything for an account whose supply is off or about to be.
fn banner(account: &AccountView, l: Locale) -> Option<impl IntoView + use<>> {
    let (class, says) = match account.state {
        SupplyState::Cut | SupplyState::Restricted => ("banner banner-cut", BANNER_CUT),
        SupplyState::Armed => ("banner banner-armed", BANNER_ARMED),
        SupplyState::Low => ("banner banner-low", BANNER_LOW),
        SupplyState::Emergency => ("banner banner-low", BANNER_EMERGENCY),
        SupplyState::On | SupplyState::Protected => return None,
    };
    let href = format!("/accounts/{}", account.id);
    Some(view! {
        <p class=class data-banner=account.id.to_string()>
            <a href=href>{account.title_in(l)}</a>" "{says.get(l)}
        </p>
    })
}

#[component]
fn UnitCard(unit: ResidentUnit) -> impl IntoView {
    view! {
        <article class="card unit" data-unit=unit.id.to_string()>
            <h2>{unit.name}</h2>
            <p class="where">{format!("{} · {}", unit.building, unit.site)}</p>
            <ul class="meters">
                {unit.meters.into_iter().map(|meter| view! { <MeterLine meter/> }).collect_view()}
            </ul>
        </article>
    }
}

#[component]
fn MeterLine(meter: MeterView) -> impl IntoView {
    let l = use_locale();
    view! {
        <li class=format!("meter meter-{}", meter.utility.as_str())>
            <span class="utility">{meter.utility.label_in(l)}</span>
            <a class="serial" href=format!("/meters/{}", meter.id)>{meter.serial}</a>
            <span class="uom">{meter.unit_of_measure}</span>
        </li>
    }
}
