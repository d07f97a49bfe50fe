//! `/manage/people`: the organisation's people, for its admins. Each staff member with the
//! roles they hold on which sites, and a switch for their sign-in: off when they leave (their
//! open sessions end at their next click, wherever they are signed in), on again if they come
//! back, with the roles they had. Anyone else of the organisation (a resident, someone whose
//! roles were taken away) is switched off by their e-mail address.

use crate::api::people::{SetPersonActive, load_people};
use crate::domain::people::{OrgPeople, PersonLine, Switched};
use crate::pages::{error_view, form_error};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PeoplePage() -> impl IntoView {
    view! { <PeopleIsland/> }
}

#[island(lazy)]
fn PeopleIsland() -> impl IntoView {
    crate::pages::island_ready();
    let switch = ServerAction::<SetPersonActive>::new();
    let people = Resource::new(move || switch.version().get(), |_| load_people());
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match people.await {
                    Ok(people) => view! { <People people switch/> }.into_any(),
                    Err(error) => error_view(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn People(people: OrgPeople, switch: ServerAction<SetPersonActive>) -> impl IntoView {
    let lines = people
        .people
        .iter()
        .map(|line| {
            let switchable = people.switchable(line);
            view! { <Line line=line.clone() switchable switch/> }
        })
        .collect_view();
    view! {
        <Title text="People and sign-ins"/>
        <p class="breadcrumb"><a href="/manage">"Your sites"</a></p>
        <h1>"People and sign-ins"</h1>
        <p class="hint">"Switching someone's sign-in off ends their open sessions at their next click and stops them signing in again; their roles are kept for if it is switched back on. What someone may do on one site is changed on that site's Staff and roles page."</p>
        <SwitchOffForm switch/>
        {form_error(switch.value())}
        {move || switch.value().get().and_then(Result::ok).map(|switched| view! {
            <p class="notice" role="status">{match switched {
                Switched::Now => "Done.",
                Switched::Already => "It was so already: nothing changed.",
            }}</p>
        })}
        <table class="account-table people-table">
            <thead><tr>
                <th scope="col">"Name"</th>
                <th scope="col">"E-mail address"</th>
                <th scope="col">"Roles"</th>
                <th scope="col">"Two-factor sign-in"</th>
                <th scope="col">"Sign-in"</th>
                <th scope="col"><span class="visually-hidden">"Switch"</span></th>
            </tr></thead>
            <tbody>{lines}</tbody>
        </table>
    }
}

#[component]
fn Line(
    line: PersonLine,
    switchable: bool,
    switch: ServerAction<SetPersonActive>,
) -> impl IntoView {
    let roles = if line.roles.is_empty() {
        "none".to_owned()
    } else {
        line.roles
            .iter()
            .map(|held| match &held.site {
                Some(site) => format!("{} · {site}", held.role.as_str()),
                None => format!("{} · whole organisation", held.role.as_str()),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (label, next) = if line.active {
        ("Switch off", "false")
    } else {
        ("Switch on", "true")
    };
    let button = switchable.then(|| {
        let name = format!("{label} the sign-in of {}", line.name);
        let email = line.email.clone();
        view! {
            <ActionForm action=switch attr:class="inline">
                <input type="hidden" name="email" value=email/>
                <input type="hidden" name="active" value=next/>
                <button type="submit" class="revoke" aria-label=name>{label}</button>
            </ActionForm>
        }
    });
    view! {
        <tr class="person-line" data-email=line.email.clone() data-active=line.active.to_string()>
            <th scope="row">{line.name.clone()}</th>
            <td>{line.email.clone()}</td>
            <td>{roles}</td>
            <super::TwoFactorCell set_up=line.two_factor/>
            <td class="sign-in-state">{if line.active { "on" } else { "switched off" }}</td>
            <td>{button}</td>
        </tr>
    }
}

#[component]
fn SwitchOffForm(switch: ServerAction<SetPersonActive>) -> impl IntoView {
    let form = NodeRef::new();
    crate::pages::reset_after_success(switch.value(), form);
    view! {
        <ActionForm action=switch node_ref=form attr:class="card switch-form">
            <h2>"Switch off someone not listed"</h2>
            <p class="hint">"A resident, or someone whose roles were all taken away: anyone who signs in to this organisation. Once off, they are listed below, to switch on again."</p>
            <input type="hidden" name="active" value="false"/>
            <label>"Their e-mail address" <input type="email" name="email" required autocomplete="off"/></label>
            <button type="submit" disabled=move || switch.pending().get()>"Switch their sign-in off"</button>
        </ActionForm>
    }
}
