use crate::api::{accounts::my_accounts, directory::load_resident_home, fleet::my_alarms};
use crate::domain::{
    fleet::AlarmView,
    supply::SupplyState,
    views::{AccountView, MeterView, ResidentUnit},
};
use crate::pages::accounts::AccountCard;
use crate::pages::fleet::AlarmTable;
use crate::pages::{error_view, live};
use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

#[component]
pub fn ResidentHomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| load_resident_home());
    let accounts = Resource::new(|| (), |_| my_accounts());
    let alarms = Resource::new(|| (), |_| my_alarms());
    view! {
        <Title text="Home"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match (accounts.await, alarms.await) {
                    (Ok(accounts), Ok(alarms)) => view! { <LiveCredit accounts alarms/> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => error_view(error),
                }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => view! {
                        <h1>"Your home"</h1>
                        {home.staff.then(|| view! {
                            <p class="notice"><a href="/manage">"Open the manager console"</a></p>
                        })}
                        {if home.units.is_empty() {
                            view! { <p class="empty">"No unit is linked to your account yet."</p> }.into_any()
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
/// [`live::REFRESH`]. A failed refresh (offline, server restarting) keeps what is shown.
#[component]
fn LiveCredit(accounts: Vec<AccountView>, alarms: Vec<AlarmView>) -> impl IntoView {
    let accounts = RwSignal::new(accounts);
    let alarms = RwSignal::new(alarms);
    let asking = StoredValue::new(false);
    live::every(live::REFRESH, move || {
        if asking.get_value() {
            return;
        }
        asking.set_value(true);
        spawn_local(async move {
            if let Ok(fresh) = my_accounts().await
                && fresh != accounts.get_untracked()
            {
                accounts.set(fresh);
            }
            if let Ok(fresh) = my_alarms().await
                && fresh != alarms.get_untracked()
            {
                alarms.set(fresh);
            }
            asking.set_value(false);
        });
    });
    view! {
        <div class="live" aria-live="polite">
            {move || {
                let alarms = alarms.get();
                (!alarms.is_empty()).then(|| view! { <AlarmTable alarms step=None/> })
            }}
            {move || accounts.with(|accounts| accounts.iter().filter_map(banner).collect_view())}
        </div>
        {move || {
            let accounts = accounts.get();
            (!accounts.is_empty()).then(|| view! {
                <section class="accounts">
                    <h1>"Your credit"</h1>
                    <div class="account-list">
                        {accounts.into_iter().map(|account| view! { <AccountCard account link=true top_up=true/> }).collect_view()}
                    </div>
                </section>
            })
        }}
    }
}

/// A line above everything for an account whose supply is off or about to be.
fn banner(account: &AccountView) -> Option<impl IntoView + use<>> {
    let (class, says) = match account.state {
        SupplyState::Cut | SupplyState::Restricted => {
            ("banner banner-cut", "is cut off. Top up to restore it.")
        }
        SupplyState::Armed => (
            "banner banner-armed",
            "has credit again: confirm at the meter to reopen it.",
        ),
        SupplyState::Low => ("banner banner-low", "is running low on credit."),
        SupplyState::Emergency => (
            "banner banner-low",
            "is on emergency credit. Top up to repay it.",
        ),
        SupplyState::On | SupplyState::Protected => return None,
    };
    let href = format!("/accounts/{}", account.id);
    Some(view! {
        <p class=class data-banner=account.id.to_string()>
            <a href=href>{account.title()}</a>" "{says}
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
    view! {
        <li class=format!("meter meter-{}", meter.utility.as_str())>
            <span class="utility">{meter.utility.label()}</span>
            <a class="serial" href=format!("/meters/{}", meter.id)>{meter.serial}</a>
            <span class="uom">{meter.unit_of_measure}</span>
        </li>
    }
}
