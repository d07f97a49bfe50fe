//! `/manage/audit`: the organisation's audit log, for its admins. Searched with a plain GET
//! form and paged by links, drawn on the server: no WebAssembly.

use crate::api::directory::audit_log;
use crate::domain::audit::{AuditLine, AuditPage};
use crate::error::AppError;
use crate::pages::{error_view, percent_encode};
use leptos::prelude::*;
use leptos_meta::Title;

/// The search as the address carries it.
#[derive(Clone, Debug, Default, PartialEq)]
struct Search {
    text: String,
    from: String,
    to: String,
    before: String,
}

impl Search {
    fn from_address() -> Self {
        let query = leptos_router::hooks::use_query_map().read_untracked();
        let field = |name: &str| query.get(name).unwrap_or_default();
        Self {
            text: field("q"),
            from: field("from"),
            to: field("to"),
            before: field("before"),
        }
    }

    /// The address of the page of lines older than `id`, with the same search.
    fn older_than(&self, id: i64) -> String {
        format!(
            "/manage/audit?q={}&from={}&to={}&before={id}",
            percent_encode(&self.text),
            percent_encode(&self.from),
            percent_encode(&self.to),
        )
    }
}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let search = Search::from_address();
    let asked = search.clone();
    let page = Resource::new(
        move || asked.clone(),
        |search| audit_log(search.text, search.from, search.to, search.before),
    );
    let form = search.clone();
    view! {
        <Title text="Audit log"/>
        <p class="breadcrumb"><a href="/manage">"Your sites"</a></p>
        <h1>"Audit log"</h1>
        <p>"Every change made to money, meters, people and settings in your organisation: who, when, from where, and what it recorded. Times are UTC."</p>
        <form method="get" action="/manage/audit" class="card audit-search">
            <label>"Words (action, subject, person, details)"
                <input type="search" name="q" maxlength="100" value=form.text/>
            </label>
            <label>"From (UTC day)" <input type="date" name="from" value=form.from/></label>
            <label>"To (UTC day)" <input type="date" name="to" value=form.to/></label>
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let search = search.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <AuditTable page search/> }.into_any(),
                        Err(AppError::Invalid(problem)) => {
                            view! { <p class="form-error" role="alert">{problem}</p> }.into_any()
                        }
                        Err(error) => error_view(error),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn AuditTable(page: AuditPage, search: Search) -> impl IntoView {
    if page.lines.is_empty() {
        return view! { <p class="empty">"Nothing recorded matches."</p> }.into_any();
    }
    let older = page.older.map(|id| search.older_than(id));
    view! {
        <table class="audit">
            <thead><tr>
                <th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"Action"</th>
                <th scope="col">"Subject"</th><th scope="col">"Recorded"</th>
            </tr></thead>
            <tbody>
                {page.lines.into_iter().map(|line| view! { <AuditRow line/> }).collect_view()}
            </tbody>
        </table>
        {older.map(|href| view! { <p><a class="button secondary" rel="next" href=href>"Older entries"</a></p> })}
    }
    .into_any()
}

#[component]
fn AuditRow(line: AuditLine) -> impl IntoView {
    let who = line.actor.unwrap_or_else(|| "the platform".into());
    view! {
        <tr data-action=line.action.clone()>
            <td class="when">{line.at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td>{who}{line.client_addr.map(|addr| view! { <br/><span class="hint">{addr}</span> })}</td>
            <td class="action">{line.action.replace('_', " ")}</td>
            <td>{format!("{} {}", line.subject_type, line.subject_id)}</td>
            <td class="recorded">
                {line.before.map(|before| view! { <div>"before: "<code>{before}</code></div> })}
                {line.after.map(|after| view! { <div>"after: "<code>{after}</code></div> })}
            </td>
        </tr>
    }
}
