use crate::api::directory::{may_read_audit, my_sites};
use crate::api::sites::CreateSite;
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ManagerHomePage() -> impl IntoView {
    let sites = Resource::new(|| (), |_| my_sites());
    let audit = Resource::new(|| (), |_| may_read_audit());
    view! {
        <Title text="Manager console"/>
        <h1>"Your sites"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let audit_link = audit.await.unwrap_or(false).then(|| view! {
                    <p class="notice"><a href="/manage/audit">"Audit log"</a>" · who did what, when, before and after"</p>
                    <p class="notice"><a href="/manage/integrations">"Integrations"</a>" · API keys for other systems, and webhooks"</p>
                    <p class="notice"><a href="/manage/people">"People and sign-ins"</a>" · who holds which roles, and switching off the sign-in of someone who leaves"</p>
                });
                let sites = match sites.await {
                    Ok(sites) if sites.is_empty() => {
                        view! { <p class="empty">"No site is granted to you yet."</p> }.into_any()
                    }
                    Ok(sites) => view! {
                        <div class="site-list">
                            {sites.into_iter().map(|site| view! {
                                <a class="card site" href=format!("/manage/sites/{}", site.id)>
                                    <h2>{site.name}</h2>
                                    <dl class="counts">
                                        <dt>"Buildings"</dt><dd>{site.buildings}</dd>
                                        <dt>"Units"</dt><dd>{site.units}</dd>
                                        <dt>"Meters"</dt><dd>{site.meters}</dd>
                                    </dl>
                                    <p class="where">{format!("{} · {}", site.time_zone, site.currency)}</p>
                                </a>
                            }).collect_view()}
                        </div>
                    }
                    .into_any(),
                    Err(error) => return error_view(error),
                };
                let admin = audit_link.is_some();
                view! {
                    {audit_link}
                    {admin.then(|| view! { <NewSiteIsland/> })}
                    <p class="notice"><a href="/account/two-factor">"Two-factor sign-in"</a>" · a code from your phone after your password"</p>
                    {sites}
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// An admin adds a site to the organisation: its name, clock, currency and language. Its
/// supply rules start as the platform's defaults, changed on its settings page.
#[island(lazy)]
fn NewSiteIsland() -> impl IntoView {
    crate::pages::island_ready();
    let create = ServerAction::<CreateSite>::new();
    let created = move || create.value().get().and_then(Result::ok);
    let form = NodeRef::new();
    crate::pages::reset_after_success(create.value(), form);
    view! {
        <details class="card new-site">
            <summary>"Add a site"</summary>
            <ActionForm action=create node_ref=form>
                <label>"Name" <input type="text" name="name" required maxlength="120"/></label>
                <label>"Time zone" <input type="text" name="time_zone" required placeholder="Africa/Nairobi"/></label>
                <label>"Currency" <input type="text" name="currency" required maxlength="3" placeholder="KES"/></label>
                <label>"Language" <input type="text" name="locale" required maxlength="12" value="en-KE"/></label>
                <button type="submit" disabled=move || create.pending().get()>"Create the site"</button>
            </ActionForm>
            {form_error(create.value())}
            {move || created().map(|id| view! {
                <p class="notice site-created" role="status" data-site=id.to_string()>
                    "Site created. " <a href=format!("/manage/sites/{id}/settings")>"Set its supply rules"</a>
                    " · " <a href=format!("/manage/sites/{id}/staff")>"Give it its staff"</a>
                    " · " <a href=format!("/manage/sites/{id}")>"Open it"</a>
                </p>
            })}
        </details>
    }
}
