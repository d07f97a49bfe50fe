//! Pages for staff: managers, operators, cashiers and admins.

pub mod accounts;
pub mod adjustments;
pub mod audit;
pub mod bands;
pub mod cash;
pub mod collections;
pub mod days;
pub mod home;
pub mod integrations;
pub mod losses;
pub mod meters;
pub mod move_out;
pub mod notices;
pub mod people;
pub mod periods;
pub mod reports;
pub mod settings;
pub mod sheet;
pub mod site;
pub mod staff;
pub mod statements;
pub mod supply;
pub mod tariffs;
pub mod unit;

use leptos::prelude::*;

/// Whether a person signs in with an authenticator as well as a password: one cell, worded
/// the same wherever staff or people are listed.
#[component]
fn TwoFactorCell(set_up: bool) -> impl IntoView {
    view! {
        <td class="two-factor" data-two-factor=set_up.to_string()>
            {if set_up { "set up" } else { "password only" }}
        </td>
    }
}
