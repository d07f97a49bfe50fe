//! `/manage/sites/:id/staff`: who holds which role on the site, for its managers and the
//! organisation's admins, who give a colleague already in the organisation a role here (a
//! manager of two sites, a cashier covering a second desk) and take one away when they leave.
//! A change counts from the person's next click.

use crate::api::staff::{GrantRole, RevokeRole, load_site_staff};
use crate::domain::staff::{Granted, SiteStaff, StaffLine};
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StaffPage() -> impl IntoView {
    let id = crate::pages::route_id();
    view! { <StaffIsland id/> }
}

#[island(lazy)]
fn StaffIsland(id: String) -> impl IntoView {
    crate::pages::island_ready();
    let actions = Actions {
        grant: ServerAction::new(),
        revoke: ServerAction::new(),
    };
    // One answer at a time: a role taken away after one was given no longer shows "Role given."
    // above its own answer, and the other way round.
    Effect::watch(
        move || actions.revoke.version().get(),
        move |_, _, _| actions.grant.value().set(None),
        false,
    );
    Effect::watch(
        move || actions.grant.version().get(),
        move |_, _, _| actions.revoke.value().set(None),
        false,
    );
    let site = StoredValue::new(id);
    let staff = Resource::new(
        move || {
            (
                site.get_value(),
                actions.grant.version().get(),
                actions.revoke.version().get(),
            )
        },
        |(site, _, _)| load_site_staff(site),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match staff.await {
                    Ok(staff) => view! { <Staff staff site=site.get_value() actions/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Transition>
    }
}

/// Made in the island, outside what the list redraws, so their answers outlive the redraw.
#[derive(Clone, Copy)]
struct Actions {
    grant: ServerAction<GrantRole>,
    revoke: ServerAction<RevokeRole>,
}

#[component]
fn Staff(staff: SiteStaff, site: String, actions: Actions) -> impl IntoView {
    let title = format!("Staff and roles · {}", staff.site_name);
    let lines = staff
        .lines
        .iter()
        .map(|line| {
            let removable = staff.removable(line);
            view! { <Line line=line.clone() removable site=site.clone() revoke=actions.revoke/> }
        })
        .collect_view();
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href=format!("/manage/sites/{site}")>{staff.site_name.clone()}</a></p>
        <h1>{title}</h1>
        <p class="hint">"Admins hold every site of the organisation. A role given or taken away here counts from the person's next click; their account and their roles on other sites stay as they are. To stop someone signing in at all, an admin switches their sign-in off under "<a href="/manage/people">"People and sign-ins"</a>"."</p>
        {(!staff.grantable.is_empty()).then(|| view! { <GrantForm staff=staff.clone() site=site.clone() grant=actions.grant/> })}
        {form_error(actions.revoke.value())}
        {move || actions.revoke.value().get().and_then(Result::ok).map(|removed| view! {
            <p class="notice" role="status">{if removed { "Role taken away." } else { "They no longer held that role." }}</p>
        })}
        <table class="account-table staff-table">
            <thead><tr>
                <th scope="col">"Name"</th>
                <th scope="col">"E-mail address"</th>
                <th scope="col">"Role"</th>
                <th scope="col">"Since"</th>
                <th scope="col">"Two-factor sign-in"</th>
                <th scope="col"><span class="visually-hidden">"Take away"</span></th>
            </tr></thead>
            <tbody>{lines}</tbody>
        </table>
    }
}

#[component]
fn Line(
    line: StaffLine,
    removable: bool,
    site: String,
    revoke: ServerAction<RevokeRole>,
) -> impl IntoView {
    let role = line.role.as_str();
    let scope = if line.role.is_per_site() {
        role.to_owned()
    } else {
        format!("{role} (whole organisation)")
    };
    view! {
        <tr class="staff-line" data-email=line.email.clone() data-role=role>
            <th scope="row">{line.name.clone()}</th>
            <td>{line.email.clone()}</td>
            <td>{scope}</td>
            <td>{line.since.to_string()}</td>
            <super::TwoFactorCell set_up=line.two_factor/>
            <td>
                {removable.then(|| view! {
                    <ActionForm action=revoke attr:class="inline">
                        <input type="hidden" name="site" value=site/>
                        <input type="hidden" name="person" value=line.person.0.to_string()/>
                        <input type="hidden" name="role" value=role/>
                        <button type="submit" class="revoke" aria-label=format!("Take the {role} role away from {}", line.name)>"Take away"</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn GrantForm(staff: SiteStaff, site: String, grant: ServerAction<GrantRole>) -> impl IntoView {
    let form = NodeRef::new();
    crate::pages::reset_after_success(grant.value(), form);
    view! {
        <ActionForm action=grant node_ref=form attr:class="card grant-form">
            <h2>"Give a colleague a role here"</h2>
            <p class="hint">"For someone who already signs in to this organisation, say a manager of another site. Someone new is added from the site's page."</p>
            <input type="hidden" name="site" value=site/>
            <label>"Their e-mail address" <input type="email" name="email" required autocomplete="off"/></label>
            <label>"Role"
                <select name="role">
                    {staff.grantable.iter().map(|role| view! { <option value=role.as_str()>{role.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit" disabled=move || grant.pending().get()>"Give the role"</button>
        </ActionForm>
        {form_error(grant.value())}
        {move || grant.value().get().and_then(Result::ok).map(|granted| view! {
            <p class="notice" role="status">{match granted {
                Granted::Now => "Role given.",
                Granted::Already => "They hold that role here already.",
            }}</p>
        })}
    }
}
