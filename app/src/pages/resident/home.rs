use crate::api::{accounts::my_accounts, directory::load_resident_home, fleet::my_alarms};
use crate::domain::views::{MeterView, ResidentUnit};
use crate::pages::accounts::AccountCard;
use crate::pages::error_view;
use crate::pages::fleet::AlarmTable;
use leptos::prelude::*;
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
                match alarms.await {
                    Ok(alarms) if !alarms.is_empty() => view! { <AlarmTable alarms step=None/> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match accounts.await {
                    Ok(accounts) if accounts.is_empty() => ().into_any(),
                    Ok(accounts) => view! {
                        <section class="accounts">
                            <h1>"Your credit"</h1>
                            <div class="account-list">
                                {accounts.into_iter().map(|account| view! { <AccountCard account link=true/> }).collect_view()}
                            </div>
                        </section>
                    }
                    .into_any(),
                    Err(error) => error_view(error),
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
