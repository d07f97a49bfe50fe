//! `/manage/sites/:id/sheet`: the site's buildings, units, meters and residents as a CSV sheet.
//! Download it, edit it in a spreadsheet or write a new one, check it (every bad line is
//! listed with its reason, nothing changes), then import it: all of it, or nothing.

use crate::api::sheets::{
    CheckSiteSheet, ImportSiteSheet, site_sheet_progress, site_sheet_summary,
};
use crate::domain::site_sheet::{
    COLUMNS, ImportCheck, Problem, Progress, SheetSummary, Step, UNIT_KINDS,
};
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SiteSheetPage() -> impl IntoView {
    let id = crate::pages::route_id();
    let summary = Resource::new(move || id.clone(), site_sheet_summary);
    view! {
        <Suspense fallback=|| view! { <p>"Loading the site…"</p> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Ok(summary) => view! { <Sheet summary/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Sheet(summary: SheetSummary) -> impl IntoView {
    let id = crate::pages::route_id();
    view! {
        <Title text=format!("Units, meters and residents · {}", summary.site_name)/>
        <h1>{format!("Units, meters and residents · {}", summary.site_name)}</h1>
        <p class="sheet-summary">{format!(
            "{} buildings, {} units, {} meters installed, {} residents living here.",
            summary.buildings, summary.units, summary.meters, summary.residents
        )}</p>
        <p class="site-links">
            <a href=format!("/manage/sites/{id}")>"Back to the site"</a>" · "
            <a class="sheet-download" href=format!("/manage/sites/{id}/sheet.csv") download>"Download the site as CSV"</a>
        </p>
        <details class="sheet-help">
            <summary>"What a sheet holds"</summary>
            <p>{format!("One line per meter (or per unit without one), with these columns in any order: {}.", COLUMNS.join(", "))}</p>
            <p>{format!("Only building and unit are required. A unit's kind is one of {} (flat when empty). A meter needs its utility (electricity, water or gas) and serial; its multiplier is 1 and its first register 0 when empty, and its transport is mqtt unless it says simulator; master_serial names the meter that feeds it (a building's bulk meter, of the same utility, on the site or in the sheet). A resident needs an e-mail address and a name; they move in on import and their accounts open.", UNIT_KINDS.join(", "))}</p>
            <p>"Lines already true of the site add nothing, so a downloaded sheet imports again without change. Moving a resident or a meter elsewhere is not done by a sheet: use move-out and the meter page."</p>
        </details>
        <SheetIsland id key=summary.import_key.clone()/>
    }
}

/// The sheet's text, its check and its import: one island, as the three share the text.
#[island(lazy)]
fn SheetIsland(id: String, key: String) -> impl IntoView {
    crate::pages::island_ready();
    let site = StoredValue::new(id);
    let import_key = StoredValue::new(key);
    let text = RwSignal::new(String::new());
    let check = ServerAction::<CheckSiteSheet>::new();
    let import = ServerAction::<ImportSiteSheet>::new();
    let reading = RwSignal::new(None::<String>);
    // A check stands for the text it was made of.
    Effect::watch(
        move || text.track(),
        move |_, _, _| {
            check.value().set(None);
        },
        false,
    );
    let choose = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let target: wasm_bindgen::JsValue = ev.target().map(Into::into).unwrap_or_default();
            leptos::task::spawn_local(async move {
                match crate::pwa::chosen_file_text(&target).await {
                    Ok(chosen) => {
                        reading.set(None);
                        text.set(chosen);
                    }
                    Err(why) => reading.set(Some(why)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    // While the import runs, where it stands: asked for twice a second.
    let progress = RwSignal::new(None::<Progress>);
    Effect::new(move |_| {
        if !import.pending().get() {
            progress.set(None);
            return;
        }
        let ask = move || {
            let (site, key) = (site.get_value(), import_key.get_value());
            leptos::task::spawn_local(async move {
                if let Ok(Some(now)) = site_sheet_progress(site, key).await
                    && import.pending().get_untracked()
                {
                    progress.set(Some(now));
                }
            });
        };
        let every = std::time::Duration::from_millis(500);
        if let Ok(handle) = set_interval_with_handle(ask, every) {
            on_cleanup(move || handle.clear());
        }
    });
    let clean = move || {
        check
            .value()
            .get()
            .and_then(Result::ok)
            .filter(|check| check.problems.is_empty())
    };
    view! {
        <section class="sheet-import">
            <ActionForm action=check attr:class="sheet-check-form">
                <input type="hidden" name="site" prop:value=move || site.get_value()/>
                <label>"Choose a CSV file "<input type="file" class="sheet-file" accept=".csv,text/csv" on:change=choose/></label>
                {move || reading.get().map(|why| view! { <p class="error">{why}</p> })}
                <label>"or paste it here"
                    <textarea name="sheet" class="sheet-text" rows="10" required
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </label>
                <button type="submit" class="sheet-check" disabled=move || check.pending().get() || text.with(String::is_empty)>
                    {move || if check.pending().get() { "Checking…" } else { "Check the sheet" }}
                </button>
            </ActionForm>
            {form_error(check.value())}
            <div aria-live="polite">
                {move || check.value().get().and_then(Result::ok).map(|check| view! { <Checked check/> })}
            </div>
            {move || clean().map(|checked| { let count = checked.lines; view! {
                <ActionForm action=import attr:class="sheet-import-form">
                    <input type="hidden" name="site" prop:value=move || site.get_value()/>
                    <input type="hidden" name="sheet" prop:value=move || text.get()/>
                    <input type="hidden" name="key" prop:value=move || import_key.get_value()/>
                    <label><input type="checkbox" name="invite" checked/>" Invite new residents by e-mail"</label>
                    <button type="submit" class="sheet-commit" disabled=move || import.pending().get() || count == 0>
                        {move || if import.pending().get() {
                            format!("Importing {}…", lines(count))
                        } else {
                            format!("Import {}", lines(count))
                        }}
                    </button>
                </ActionForm>
            }})}
            {move || progress.get().filter(|now| now.step != Step::Finished).map(|now| view! {
                <p class="sheet-progress" role="status" data-step=format!("{:?}", now.step).to_lowercase()>
                    <progress max="100" value=now.percent().to_string()></progress>
                    {if now.of > 0 {
                        format!(" {}: {} of {}", now.step.label(), now.done, now.of)
                    } else {
                        format!(" {}…", now.step.label())
                    }}
                </p>
            })}
            {form_error(import.value())}
            <div aria-live="polite">
                {move || import.value().get().and_then(Result::ok).map(|done| view! { <Imported done/> })}
            </div>
        </section>
    }
}

fn lines(count: usize) -> String {
    many(count, "line")
}

/// What the sheet would add, or why nothing can be imported.
fn adds(check: &ImportCheck) -> String {
    let mut parts = vec![
        many(check.buildings, "new building"),
        many(check.units, "new unit"),
        many(check.meters, "new meter"),
        many(check.residents, "new resident"),
    ];
    match check.links {
        0 => {}
        1 => parts.push("1 link to a master meter".to_owned()),
        n => parts.push(format!("{n} links to master meters")),
    }
    let last = parts.pop().unwrap_or_default();
    format!("{} and {last}", parts.join(", "))
}

fn many(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[component]
fn Checked(check: ImportCheck) -> impl IntoView {
    if check.problems.is_empty() {
        return view! {
            <p class="notice sheet-ready" role="status">
                {format!("{} read, all good: importing adds {}.", lines(check.lines), adds(&check))}
            </p>
        }
        .into_any();
    }
    view! {
        <p class="error sheet-refused" role="alert">
            {format!("{} of {} cannot be imported; nothing will be until every one is mended.", lines(check.problems.len()), lines(check.lines))}
        </p>
        <Problems problems=check.problems/>
    }
    .into_any()
}

#[component]
fn Problems(problems: Vec<Problem>) -> impl IntoView {
    view! {
        <table class="sheet-problems">
            <thead><tr><th>"Line"</th><th>"Why"</th></tr></thead>
            <tbody>
                {problems.into_iter().map(|problem| view! {
                    <tr>
                        <td>{if problem.line == 0 { "file".to_owned() } else { problem.line.to_string() }}</td>
                        <td>{problem.reason}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Imported(done: ImportCheck) -> impl IntoView {
    if !done.committed {
        // The site changed between the check and the import: nothing was imported.
        return view! { <Checked check=done/> }.into_any();
    }
    let passwords = (!done.broker_passwords.is_empty()).then(|| {
        let mut csv = crate::domain::csv::line(&["serial", "broker_password"]);
        for (serial, password) in &done.broker_passwords {
            csv.push_str(&crate::domain::csv::line(&[serial, password]));
        }
        let href = format!("data:text/csv;charset=utf-8,{}", percent(&csv));
        view! {
            <p class="sheet-passwords">
                <a href=href download="meter-broker-passwords.csv">"Download the new meters' broker passwords"</a>
                " — shown this once: each MQTT meter signs in to the broker with its serial and password."
            </p>
        }
    });
    view! {
        <p class="notice sheet-imported" role="status">
            {format!("Imported {}: {} ({} invited).", lines(done.lines), adds(&done), done.invited)}
        </p>
        {passwords}
    }
    .into_any()
}

/// Percent-encodes text for a `data:` link.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
