//! An organisation's people as its admins see them: who holds which roles where, and whose
//! sign-in is switched off. Switching it off is how someone leaving stops signing in at all:
//! taking their roles away leaves a working sign-in with nothing behind it, and a resident
//! who moved out keeps theirs (their statements) until an admin says otherwise.

use super::{Role, UserId};
use serde::{Deserialize, Serialize};

/// One role a person holds: on a named site, or (`site` is `None`) on the whole organisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldRole {
    pub role: Role,
    pub site: Option<String>,
}

/// One person on the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PersonLine {
    pub person: UserId,
    pub name: String,
    pub email: String,
    /// Admin first, then by site and role.
    pub roles: Vec<HeldRole>,
    /// They sign in with an authenticator's code after their password.
    pub two_factor: bool,
    /// They may sign in; `false`: switched off by an admin.
    pub active: bool,
}

/// The organisation's people page: its staff, and everyone whose sign-in is switched off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgPeople {
    /// Those who may sign in first, then those who may not; by name within each.
    pub people: Vec<PersonLine>,
    /// The viewer: nobody switches their own sign-in off (another admin does).
    pub viewer: UserId,
}

impl OrgPeople {
    /// Whether the viewer may switch this person's sign-in off or on.
    pub fn switchable(&self, line: &PersonLine) -> bool {
        line.person != self.viewer
    }

    /// Puts the people, and each one's roles, in the page's order.
    pub fn sort(&mut self) {
        for line in &mut self.people {
            line.roles.sort_by(|a, b| {
                (a.site.is_some(), &a.site, a.role.as_str()).cmp(&(
                    b.site.is_some(),
                    &b.site,
                    b.role.as_str(),
                ))
            });
        }
        self.people
            .sort_by(|a, b| (!a.active, &a.name, &a.email).cmp(&(!b.active, &b.name, &b.email)));
    }
}

/// What switching a sign-in came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Switched {
    Now,
    /// It was so already: nothing changed.
    Already,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(person: i64, name: &str, active: bool, roles: Vec<HeldRole>) -> PersonLine {
        PersonLine {
            person: UserId(person),
            name: name.to_owned(),
            email: format!("{person}@example.org"),
            roles,
            two_factor: false,
            active,
        }
    }

    fn held(role: Role, site: Option<&str>) -> HeldRole {
        HeldRole {
            role,
            site: site.map(str::to_owned),
        }
    }

    #[test]
    fn people_who_may_sign_in_come_first_by_name_and_each_ones_roles_admin_first() {
        let mut page = OrgPeople {
            people: vec![
                line(2, "Zawadi", true, Vec::new()),
                line(3, "Amani", false, Vec::new()),
                line(
                    4,
                    "Juma",
                    true,
                    vec![
                        held(Role::Manager, Some("Riverside")),
                        held(Role::Cashier, Some("Harbour")),
                        held(Role::Admin, None),
                    ],
                ),
            ],
            viewer: UserId(1),
        };
        page.sort();
        let order: Vec<&str> = page.people.iter().map(|line| line.name.as_str()).collect();
        assert_eq!(order, ["Juma", "Zawadi", "Amani"]);
        assert_eq!(
            page.people[0].roles,
            [
                held(Role::Admin, None),
                held(Role::Cashier, Some("Harbour")),
                held(Role::Manager, Some("Riverside")),
            ]
        );
    }

    #[test]
    fn nobody_switches_their_own_sign_in() {
        let page = OrgPeople {
            people: Vec::new(),
            viewer: UserId(1),
        };
        assert!(!page.switchable(&line(1, "Me", true, Vec::new())));
        assert!(page.switchable(&line(2, "Baraka", true, Vec::new())));
    }
}
