//! `/manage/sites/:id/settings`: what the site is (its name, clock, currency and language) and
//! its supply rules: warning levels, reconnection, emergency credit, debt recovery, friendly
//! hours and top-up limits. Its staff read them; its managers and the admins change them.

use crate::api::sites::{SaveSiteSettings, load_site_settings};
use crate::domain::site_settings::SiteSettings;
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SiteSettingsPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <SettingsIsland id/> }
}

#[island(lazy)]
fn SettingsIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let save = ServerAction::<SaveSiteSettings>::new();
    let site = StoredValue::new(id);
    let settings = Resource::new(
        move || (site.get_value(), save.version().get()),
        |(site, _)| load_site_settings(site),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! { <Settings settings save/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn Settings(settings: SiteSettings, save: ServerAction<SaveSiteSettings>) -> impl IntoView {
    let title = format!("Settings · {}", settings.name);
    let site = settings.site.0.to_string();
    let form = settings.form();
    let currency = settings.currency.clone();
    let saved = move || save.value().get().and_then(Result::ok);
    let edit = settings.may_edit;
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{settings.name.clone()}</a></p>
        <h1>{title}</h1>
        <p class="where">{format!(
            "Clock: {} · currency: {} (both fixed once the site has accounts).",
            settings.time_zone, settings.currency
        )}</p>
        {form_error(save.value())}
        {move || saved().map(|changed| view! {
            <p class="notice settings-saved" role="status">
                {if changed { "Saved." } else { "Nothing changed." }}
            </p>
        })}
        <ActionForm action=save attr:class="site-settings">
            <input type="hidden" name="site" value=site/>
            <fieldset disabled=!edit>
                <legend>"The site"</legend>
                <label>"Name" <input type="text" name="name" required maxlength="120" value=settings.name.clone()/></label>
                <label>"Language (en-KE, sw-KE, zh-CN)" <input type="text" name="locale" required maxlength="12" value=settings.locale.clone()/></label>
            </fieldset>
            <fieldset disabled=!edit>
                <legend>"Warnings and cut-off"</legend>
                <label>{format!("Warn when the balance falls below ({currency}, comma-separated)")}
                    <input type="text" name="rules[warning_levels]" value=form.warning_levels/>
                </label>
                <label>"Warn when fewer days than this are left (0: never)"
                    <input type="text" name="rules[warn_days_left]" inputmode="decimal" value=form.warn_days_left/>
                </label>
                <label>{format!("Reconnect once a top-up lifts the balance to ({currency})")}
                    <input type="text" name="rules[reconnect_level]" inputmode="decimal" value=form.reconnect_level/>
                </label>
                <label><input type="checkbox" name="rules[water_restrict]" value="on" checked=form.water_restrict/>" Water: restrict the flow instead of cutting it"</label>
            </fieldset>
            <fieldset disabled=!edit>
                <legend>"Friendly credit: no cut-off"</legend>
                <label>"From hour (0–23, empty for none)" <input type="text" name="rules[friendly_from]" inputmode="numeric" value=form.friendly_from/></label>
                <label>"to hour" <input type="text" name="rules[friendly_to]" inputmode="numeric" value=form.friendly_to/></label>
                <label><input type="checkbox" name="rules[friendly_weekends]" value="on" checked=form.friendly_weekends/>" All weekend"</label>
                <label>"Holidays (2026-12-25, comma-separated)" <input type="text" name="rules[holidays]" value=form.holidays/></label>
            </fieldset>
            <fieldset disabled=!edit>
                <legend>"Credit and debt"</legend>
                <label>{format!("Emergency credit a resident may take once ({currency}; 0: none)")}
                    <input type="text" name="rules[emergency_credit]" inputmode="decimal" value=form.emergency_credit/>
                </label>
                <label>"Share of each top-up that repays debt (%)"
                    <input type="text" name="rules[debt_recovery_percent]" inputmode="decimal" value=form.debt_recovery_percent/>
                </label>
                <label>{format!("Smallest top-up ({currency})")}
                    <input type="text" name="rules[min_top_up]" inputmode="decimal" value=form.min_top_up/>
                </label>
                <label>{format!("Largest top-up ({currency}; empty for none)")}
                    <input type="text" name="rules[max_top_up]" inputmode="decimal" value=form.max_top_up/>
                </label>
            </fieldset>
            {edit.then(|| view! {
                <button type="submit" disabled=move || save.pending().get()>"Save the settings"</button>
            })}
        </ActionForm>
    }
}
