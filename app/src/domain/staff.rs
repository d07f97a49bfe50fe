//! A site's staff: who holds which role there, beside the organisation's admins (who hold
//! every site), and what its staff page offers. A colleague already in the organisation is
//! given a role on another site here, rather than a second account.

use super::{Role, UserId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One role one person holds on the site (or, for an admin, on the whole organisation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffLine {
    pub person: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// When it was granted, on the site's clock.
    pub since: NaiveDate,
    /// They sign in with an authenticator's code after their password.
    pub two_factor: bool,
}

/// The staff page of a site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteStaff {
    pub site_name: String,
    /// Admins first, then managers, operators and cashiers; by name within a role.
    pub lines: Vec<StaffLine>,
    /// The roles the viewer may give and take away here (none: they only look).
    pub grantable: Vec<Role>,
    /// The viewer: nobody takes their own role away (another manager or an admin does).
    pub viewer: UserId,
}

impl SiteStaff {
    /// Whether the viewer may take this role away from this person.
    pub fn removable(&self, line: &StaffLine) -> bool {
        line.person != self.viewer && self.grantable.contains(&line.role)
    }

    /// Puts the lines in the page's order.
    pub fn sort(&mut self) {
        self.lines
            .sort_by(|a, b| (rank(a.role), &a.name).cmp(&(rank(b.role), &b.name)));
    }
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Admin => 0,
        Role::Manager => 1,
        Role::Operator => 2,
        Role::Cashier => 3,
    }
}

/// What giving a role came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Granted {
    Now,
    /// The person held it already: nothing changed.
    Already,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(person: i64, name: &str, role: Role) -> StaffLine {
        StaffLine {
            person: UserId(person),
            name: name.to_owned(),
            email: format!("{person}@example.org"),
            role,
            since: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            two_factor: false,
        }
    }

    fn staff(lines: Vec<StaffLine>, grantable: Vec<Role>) -> SiteStaff {
        SiteStaff {
            site_name: "Riverside".into(),
            lines,
            grantable,
            viewer: UserId(1),
        }
    }

    #[test]
    fn lines_go_by_role_then_name() {
        let mut page = staff(
            vec![
                line(2, "Zawadi", Role::Cashier),
                line(3, "Baraka", Role::Operator),
                line(4, "Amani", Role::Cashier),
                line(5, "Neema", Role::Admin),
                line(6, "Juma", Role::Manager),
            ],
            Vec::new(),
        );
        page.sort();
        let order: Vec<&str> = page.lines.iter().map(|line| line.name.as_str()).collect();
        assert_eq!(order, ["Neema", "Juma", "Baraka", "Amani", "Zawadi"]);
    }

    #[test]
    fn only_roles_the_viewer_grants_and_never_their_own_are_removable() {
        let page = staff(
            Vec::new(),
            vec![Role::Manager, Role::Operator, Role::Cashier],
        );
        assert!(page.removable(&line(2, "Baraka", Role::Operator)));
        assert!(page.removable(&line(2, "Juma", Role::Manager)));
        assert!(
            !page.removable(&line(1, "Me", Role::Manager)),
            "the viewer's own role"
        );
        assert!(
            !page.removable(&line(5, "Neema", Role::Admin)),
            "admins are not granted per site"
        );
        let looking = staff(Vec::new(), Vec::new());
        assert!(!looking.removable(&line(2, "Baraka", Role::Operator)));
    }
}
