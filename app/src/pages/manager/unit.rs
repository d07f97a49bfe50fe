//! `/manage/units/:id`: one unit with its meters, open accounts, residents and tariff plan;
//! its managers rename it or change its kind, put it on another plan, and correct a
//! resident's name (and, until the resident has chosen their own password, the e-mail address
//! and mobile number they sign in with).

use crate::api::directory::{EditResident, EditUnit, SetUnitPlan, load_unit_card};
use crate::domain::{
    site_sheet::UNIT_KINDS,
    unit_card::{ResidentLine, UnitCard},
    views::utilities_label,
};
use crate::pages::{error_view, form_error, locale::use_locale};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UnitPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <UnitIsland id/> }
}

#[island(lazy)]
fn UnitIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let rename = ServerAction::<EditUnit>::new();
    let correct = ServerAction::<EditResident>::new();
    let replan = ServerAction::<SetUnitPlan>::new();
    let card = Resource::new(
        move || {
            (
                id.clone(),
                rename.version().get(),
                correct.version().get(),
                replan.version().get(),
            )
        },
        |(id, ..)| load_unit_card(id),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match card.await {
                    Ok(card) => view! { <Unit card rename correct replan/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn Unit(
    card: UnitCard,
    rename: ServerAction<EditUnit>,
    correct: ServerAction<EditResident>,
    replan: ServerAction<SetUnitPlan>,
) -> impl IntoView {
    let l = use_locale();
    let title = format!("{} · {}", card.building, card.name);
    let unit = card.id.to_string();
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{}", card.site)>{card.site_name.clone()}</a></p>
        <h1>{title}</h1>
        <p class="where unit-kind" data-kind=card.kind.clone()>{format!("A {}", card.kind.replace('_', " "))}</p>
        <p class="where unit-plan" data-plan=card.plan.as_str().to_owned()>
            {format!("Charged by the {} tariff plan", card.plan.label())}
            " (" <a href=format!("/manage/sites/{}/tariffs", card.site)>"tariffs"</a> ")"
        </p>
        {(!card.plans.is_empty()).then(|| view! { <PlanForm card=card.clone() replan/> })}
        <section class="unit-meters">
            <h2>"Meters"</h2>
            {if card.meters.is_empty() {
                view! { <p class="empty">"No meter is installed."</p> }.into_any()
            } else {
                view! {
                    <p class="meter-cells">
                        {card.meters.iter().map(|meter| view! {
                            <a class=format!("chip meter-{}", meter.utility.as_str()) href=format!("/meters/{}", meter.id)>
                                {format!("{} · {}", meter.utility.label(), meter.serial)}
                            </a>
                        }).collect_view()}
                    </p>
                }.into_any()
            }}
        </section>
        <section class="unit-accounts">
            <h2>"Accounts"</h2>
            {if card.accounts.is_empty() {
                view! { <p class="empty">"No open account: the unit is empty."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain">
                        {card.accounts.iter().map(|account| view! {
                            <li data-account=account.id.to_string()>
                                <a href=format!("/accounts/{}", account.id)>{utilities_label(account.utility, l)}</a>
                                " " <span class="num" class:negative=account.balance_minor < 0>{format!("{} {}", l.number(&account.balance), account.currency)}</span>
                                " " <span class="state" data-state=account.state.as_str()>{account.state.label_in(l)}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section class="unit-residents">
            <h2>"Residents"</h2>
            {if card.residents.is_empty() {
                view! { <p class="empty">"Nobody lives here now."</p> }.into_any()
            } else {
                let (editable, unit) = (card.may_edit, unit.clone());
                card.residents.iter().cloned().map(|resident| {
                    view! { <Resident resident unit=unit.clone() correct=editable.then_some(correct)/> }
                }).collect_view().into_any()
            }}
        </section>
        {card.may_edit.then(|| view! { <RenameForm card=card.clone() rename/> })}
    }
    .into_any()
}

/// Puts the unit on another of its site's plans: its meters are priced by it from their next
/// reading.
#[component]
fn PlanForm(card: UnitCard, replan: ServerAction<SetUnitPlan>) -> impl IntoView {
    view! {
        <details class="card plan-form">
            <summary>"Change its tariff plan"</summary>
            <ActionForm action=replan>
                <input type="hidden" name="unit" value=card.id.to_string()/>
                <label>"Plan"
                    <select name="plan">
                        {card.plans.iter().map(|plan| view! {
                            <option value=plan.as_str().to_owned() selected=*plan == card.plan>{plan.label().to_owned()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <p class="hint">"Its meters are priced by the new plan from their next reading; what was charged stands. The change is kept in the audit log."</p>
                <button type="submit" disabled=move || replan.pending().get()>"Put it on this plan"</button>
            </ActionForm>
            {form_error(replan.value())}
        </details>
    }
}

#[component]
fn Resident(
    resident: ResidentLine,
    unit: String,
    correct: Option<ServerAction<EditResident>>,
) -> impl IntoView {
    let l = use_locale();
    let facts = view! {
        <h3>{resident.display_name.clone()}</h3>
        <p class="contact">
            {resident.email.clone()}
            {resident.phone.clone().map(|phone| view! { " · " {phone} })}
            {format!(" · since {}", l.date(resident.since))}
        </p>
    };
    let form = correct.map(|correct| {
        let settled = resident.settled;
        view! {
            <details class="card resident-form" open=move || refused(correct)>
                <summary>"Correct their details"</summary>
                <ActionForm action=correct>
                    <input type="hidden" name="unit" value=unit/>
                    <input type="hidden" name="person" value=resident.id.to_string()/>
                    <label>"Name" <input type="text" name="display_name" required maxlength="100" value=resident.display_name.clone()/></label>
                    <label>"E-mail address" <input type="email" name="email" required value=resident.email.clone() readonly=settled/></label>
                    <label>"Mobile number (with country code; empty for none)"
                        <input type="tel" name="phone" maxlength="24" value=resident.phone.clone().unwrap_or_default() readonly=settled/>
                    </label>
                    {settled.then(|| view! {
                        <p class="hint">"They have chosen their own password: their e-mail address and number sign them in, so only they change them."</p>
                    })}
                    <button type="submit" disabled=move || correct.pending().get()>"Save"</button>
                </ActionForm>
                {form_error(correct.value())}
            </details>
        }
    });
    view! {
        <article class="resident" data-person=resident.id.to_string()>
            {facts}
            {form}
        </article>
    }
}

#[component]
fn RenameForm(card: UnitCard, rename: ServerAction<EditUnit>) -> impl IntoView {
    let kind = card.kind.clone();
    view! {
        <section class="card unit-form">
            <h2>"Rename the unit or change its kind"</h2>
            <ActionForm action=rename>
                <input type="hidden" name="unit" value=card.id.to_string()/>
                <label>"Name" <input type="text" name="name" required maxlength="120" value=card.name.clone()/></label>
                <label>"Kind"
                    <select name="kind">
                        {UNIT_KINDS.into_iter().map(|option| view! {
                            <option value=option selected=option == kind>{option.replace('_', " ")}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" disabled=move || rename.pending().get()>"Save"</button>
            </ActionForm>
            {form_error(rename.value())}
        </section>
    }
}

/// The form's last answer was a refusal: the page redraws after every answer, and the form
/// stays open to show why and let it be mended.
fn refused<A>(action: ServerAction<A>) -> bool
where
    A: leptos::server_fn::ServerFn<Output = bool, Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    matches!(action.value().get(), Some(Err(_)))
}
