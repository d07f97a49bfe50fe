use crate::api::directory::{may_read_audit, my_sites};
use crate::pages::error_view;
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
                view! {
                    {audit_link}
                    <p class="notice"><a href="/account/two-factor">"Two-factor sign-in"</a>" · a code from your phone after your password"</p>
                    {sites}
                }
                .into_any()
            })}
        </Suspense>
    }
}
