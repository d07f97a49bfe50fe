//! One site: counts, buildings with their units and meters, a live filter, and adding people.

use crate::api::{
    auth::CreateAccount,
    directory::{AddBuilding, AddUnit, load_site_overview},
};
use crate::domain::site_sheet::UNIT_KINDS;
use crate::domain::views::{BuildingView, SiteOverview, UnitRow};
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/manage/sites/:id`: rendered on the server, brought to life in the browser as one island.
#[component]
pub fn SitePage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <SiteIsland id/> }
}

#[island(lazy)]
fn SiteIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let site_id = StoredValue::new(id);
    let overview = Resource::new(move || site_id.get_value(), load_site_overview);
    // Made here, outside what the overview redraws, so their answers outlive the redraw.
    let places = Places {
        building: ServerAction::new(),
        unit: ServerAction::new(),
    };
    Effect::watch(
        move || (places.building.version().get(), places.unit.version().get()),
        move |_, _, _| overview.refetch(),
        false,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Site overview places/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

/// Adding a building or a unit from the site's page.
#[derive(Clone, Copy)]
struct Places {
    building: ServerAction<AddBuilding>,
    unit: ServerAction<AddUnit>,
}

#[component]
fn Site(overview: SiteOverview, places: Places) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let total_units = overview.site.units;
    let buildings = StoredValue::new(overview.buildings.clone());
    let shown = move || {
        let query = filter.get();
        buildings.with_value(|buildings| {
            buildings
                .iter()
                .flat_map(|b| &b.units)
                .filter(|unit| unit.matches(&query))
                .count()
        })
    };
    let site = overview.site.clone();
    view! {
        <Title text=site.name.clone()/>
        <h1>{site.name.clone()}</h1>
        <p class="where">{format!("Time zone {} · currency {} · locale {}", site.time_zone, site.currency, site.locale)}</p>
        <p class="site-links"><a class="accounts-link" href=format!("/manage/sites/{}/accounts", site.id)>"Accounts"</a>" · "<a class="fleet-link" href=format!("/manage/sites/{}/fleet", site.id)>"Meters and alarms"</a>" · "<a class="meters-link" href=format!("/manage/sites/{}/meters", site.id)>"Meter health"</a>" · "<a class="payments-link" href=format!("/manage/sites/{}/payments", site.id)>"Payments"</a>" · "<a class="cash-link" href=format!("/manage/sites/{}/cash", site.id)>"Cash desk"</a>" · "<a class="notices-link" href=format!("/manage/sites/{}/notices", site.id)>"Notices sent"</a>
            " · "<a class="reports-link" href=format!("/manage/sites/{}/reports", site.id)>"Consumption report"</a>
            " · "<a class="collections-link" href=format!("/manage/sites/{}/collections", site.id)>"Collections"</a>
            " · "<a class="periods-link" href=format!("/manage/sites/{}/periods", site.id)>"Closed periods"</a>
            " · "<a class="settings-link" href=format!("/manage/sites/{}/settings", site.id)>"Settings and supply rules"</a>
            " · "<a class="supply-link" href=format!("/manage/sites/{}/supply", site.id)>"Warnings and cut-offs"</a>
            " · "<a class="losses-link" href=format!("/manage/sites/{}/losses", site.id)>"Losses"</a>
            " · "<a class="bands-link" href=format!("/manage/sites/{}/bands", site.id)>"Time-of-use bands"</a>
            " · "<a class="statements-link" href=format!("/manage/sites/{}/statements", site.id)>"Monthly statements"</a>
            " · "<a class="tariffs-link" href=format!("/manage/sites/{}/tariffs", site.id)>"Tariffs"</a>
            {(!overview.grantable.is_empty()).then(|| view! { " · "<a class="staff-link" href=format!("/manage/sites/{}/staff", site.id)>"Staff and roles"</a> })}
            {overview.may_add_residents.then(|| view! { " · "<a class="adjustments-link" href=format!("/manage/sites/{}/adjustments", site.id)>"Adjustments"</a> })}
            {overview.may_add_residents.then(|| view! { " · "<a class="residents-link" href=format!("/manage/sites/{}/residents", site.id)>"Residents and move-outs"</a>
                " · "<a class="sheet-link" href=format!("/manage/sites/{}/sheet", site.id)>"Units, meters and residents (CSV)"</a> })}
        </p>
        <Counts overview=overview.clone()/>
        <AddPerson overview=overview.clone()/>
        {overview.may_add_places.then(|| view! { <AddPlace overview=overview.clone() places/> })}

        <section class="units">
            <div class="filter">
                <label>"Filter units"
                    <input
                        type="search"
                        name="unit-filter"
                        placeholder="Unit, resident or meter serial"
                        prop:value=move || filter.get()
                        on:input=move |event| filter.set(event_target_value(&event))
                    />
                </label>
                <p class="shown" aria-live="polite">
                    {move || format!("Showing {} of {} units", shown(), total_units)}
                </p>
            </div>
            {overview.buildings.into_iter().map(|building| view! { <Building building filter/> }).collect_view()}
        </section>
    }
    .into_any()
}

#[component]
fn Counts(overview: SiteOverview) -> impl IntoView {
    let site = overview.site;
    view! {
        <dl class="counts big">
            <div class="stat"><dt>"Buildings"</dt><dd data-count="buildings">{site.buildings}</dd></div>
            <div class="stat"><dt>"Units"</dt><dd data-count="units">{site.units}</dd></div>
            <div class="stat"><dt>"Meters"</dt><dd data-count="meters">{site.meters}</dd></div>
            {overview.meters_by_utility.iter().map(|count| view! {
                <div class=format!("stat meter-{}", count.utility.as_str())>
                    <dt>{count.utility.label()}</dt>
                    <dd data-count=count.utility.as_str()>{count.meters}</dd>
                </div>
            }).collect_view()}
        </dl>
    }
    .into_any()
}

#[component]
fn Building(building: BuildingView, filter: RwSignal<String>) -> impl IntoView {
    view! {
        <section class="building">
            <h2>{building.name}</h2>
            <table class="unit-table">
                <thead>
                    <tr><th scope="col">"Unit"</th><th scope="col">"Residents"</th><th scope="col">"Meters"</th></tr>
                </thead>
                <tbody>
                    {building.units.into_iter().map(|unit| view! { <UnitLine unit filter/> }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn UnitLine(unit: UnitRow, filter: RwSignal<String>) -> impl IntoView {
    let row = StoredValue::new(unit.clone());
    let hidden = move || !row.with_value(|row| row.matches(&filter.get()));
    view! {
        <tr class="unit-row" class:hidden=hidden data-unit=unit.id.to_string()>
            <th scope="row"><a class="unit-link" href=format!("/manage/units/{}", unit.id)>{unit.name}</a></th>
            <td>{if unit.occupants.is_empty() { "Vacant".to_owned() } else { unit.occupants.join(", ") }}</td>
            <td class="meter-cells">
                {unit.meters.into_iter().map(|meter| view! {
                    <a class=format!("chip meter-{}", meter.utility.as_str()) title=meter.utility.label() href=format!("/meters/{}", meter.id)>
                        {meter.serial}
                    </a>
                }).collect_view()}
            </td>
        </tr>
    }
    .into_any()
}

/// A building, or a unit in one of the site's buildings (a whole site comes in by its sheet).
/// Always open: the page redraws after each addition, and shows the new one in its list.
#[component]
fn AddPlace(overview: SiteOverview, places: Places) -> impl IntoView {
    let site = overview.site.id.to_string();
    let unit_site = site.clone();
    let buildings: Vec<(String, String)> = overview
        .buildings
        .iter()
        .map(|building| (building.id.to_string(), building.name.clone()))
        .collect();
    let added_unit = move || places.unit.value().get().and_then(Result::ok).is_some();
    let added_building = move || places.building.value().get().and_then(Result::ok).is_some();
    view! {
        <section class="card add-place">
            <h2>"Add a unit or a building"</h2>
            <ActionForm action=places.unit attr:class="inline add-unit">
                <input type="hidden" name="site" value=unit_site/>
                <label>"Building"
                    <select name="building">
                        {buildings.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Unit" <input type="text" name="name" required maxlength="120"/></label>
                <label>"Kind"
                    <select name="kind">
                        {UNIT_KINDS.into_iter().map(|kind| view! { <option value=kind>{kind.replace('_', " ")}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" disabled=move || places.unit.pending().get()>"Add the unit"</button>
            </ActionForm>
            {form_error(places.unit.value())}
            {move || added_unit().then(|| view! { <p class="notice added" role="status">"Unit added: it is in its building's list below."</p> })}
            <ActionForm action=places.building attr:class="inline add-building">
                <input type="hidden" name="site" value=site/>
                <label>"Building" <input type="text" name="name" required maxlength="120"/></label>
                <button type="submit" disabled=move || places.building.pending().get()>"Add the building"</button>
            </ActionForm>
            {form_error(places.building.value())}
            {move || added_building().then(|| view! { <p class="notice added" role="status">"Building added."</p> })}
        </section>
    }
}

/// Creating an account for a new resident or a colleague; the initial password is shown once.
#[component]
fn AddPerson(overview: SiteOverview) -> impl IntoView {
    if !overview.may_add_residents && overview.grantable.is_empty() {
        return ().into_any();
    }
    let create = ServerAction::<CreateAccount>::new();
    let created = move || create.value().get().and_then(Result::ok);
    let form = NodeRef::new();
    crate::pages::reset_after_success(create.value(), form);
    let units: Vec<(String, String)> = overview
        .buildings
        .iter()
        .flat_map(|building| {
            building.units.iter().map(move |unit| {
                (
                    unit.id.to_string(),
                    format!("{} · {}", building.name, unit.name),
                )
            })
        })
        .collect();
    view! {
        <details class="card add-person">
            <summary>"Add a person"</summary>
            <ActionForm action=create node_ref=form>
                <input type="hidden" name="site" value=overview.site.id.to_string()/>
                <label>"Name" <input type="text" name="display_name" required maxlength="100"/></label>
                <label>"E-mail address" <input type="email" name="email" required/></label>
                <label>"Mobile number (optional, with country code)" <input type="tel" name="phone" maxlength="24" placeholder="+254 712 345 678"/></label>
                <label>"Role"
                    <select name="role">
                        {overview.may_add_residents.then(|| view! { <option value="resident">"Resident"</option> })}
                        {overview.grantable.iter().map(|role| view! {
                            <option value=role.as_str()>{role.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Unit (for a resident)"
                    <select name="unit">
                        <option value="">"—"</option>
                        {units.into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Their first password"
                    <select name="invite">
                        <option value="none">"Show me an initial password to hand over"</option>
                        <option value="email">"Send them a link by e-mail to choose it"</option>
                        <option value="sms">"Send them a link by SMS to choose it"</option>
                    </select>
                </label>
                <button type="submit" disabled=move || create.pending().get()>"Create account"</button>
            </ActionForm>
            {form_error(create.value())}
            {move || created().map(|account| view! {
                <p class="notice created" role="status">
                    "Account created for " <strong>{account.email}</strong>". "
                    {account.invited.map(|to| view! {
                        <span class="invited">"An invitation to choose a password went to " {to} " (the link works for 7 days)."</span>
                    })}
                    {account.invite_failed.map(|why| view! {
                        <span class="form-error">"The invitation could not be sent (" {why} "). "</span>
                    })}
                    {account.initial_password.map(|password| view! {
                        "Initial password (shown once; they choose their own at first sign-in): "
                        <code class="initial-password">{password}</code>
                    })}
                </p>
            })}
        </details>
    }
    .into_any()
}
