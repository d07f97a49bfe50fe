//! Who may do what. Pure rules over a [`Caller`], so they are unit-tested here and applied by
//! every server function before it touches data.

use super::ids::{OrgId, SiteId, UserId};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A staff role. Residents hold no role: what they see follows from their occupancies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the whole organisation; granted without a site.
    Admin,
    /// Runs the sites they are granted.
    Manager,
    /// Watches meters and alarms on their sites; changes no money.
    Operator,
    /// Takes cash top-ups on their sites.
    Cashier,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Operator => "operator",
            Role::Cashier => "cashier",
        }
    }

    /// Site roles are granted per site; the admin role covers the organisation.
    pub fn is_per_site(self) -> bool {
        !matches!(self, Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected admin, manager, operator or cashier")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "operator" => Ok(Role::Operator),
            "cashier" => Ok(Role::Cashier),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// A role held by a person, on one site or (for admins) on the whole organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub site: Option<SiteId>,
}

/// The kind of account a person is being given when someone creates it for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NewAccount {
    /// A resident moving into a unit of this site.
    Resident,
    /// A staff member with this role (on this site, unless the role is admin).
    Staff(Role),
}

/// What someone may want to do with a prepaid account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountAction {
    /// Balance, state, days left, transactions.
    View,
    /// Emergency credit and the gas "confirm at the meter" step: the resident's own choices.
    ResidentChoice,
    /// Take cash at the desk.
    CashTopUp,
    /// Correct a balance, with a reason.
    Adjust,
    /// Top up online through a payment provider: the resident, or staff on their behalf.
    Pay,
    /// Move residents out and settle their accounts: managers.
    MoveOut,
}

/// What staff may do with a site's payments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentAction {
    /// The list, receipts and conflicts: managers and cashiers.
    View,
    /// Refunds, conflicts resolved, statements imported, reconciliation: managers.
    Manage,
}

/// What someone may want to do with a meter or its alarms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeterAction {
    /// Status, commands and alarms.
    View,
    /// Read now, open or close, load limit, clock and schedule: technicians and managers.
    Operate,
    /// Install, replace, decommission, and the site's fleet rules: managers.
    Manage,
}

/// The signed-in person making a request, with everything the rules below need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Caller {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub must_change_password: bool,
    /// Sessions signed in before then no longer count: the password's last change (a reset,
    /// or a change made in another browser, signs everyone else out), or the last time an
    /// admin switched the person's sign-in off.
    pub sessions_valid_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the person has an authenticator app set up (asked for after the password).
    pub two_factor: bool,
    /// Whether their organisation requires two-factor sign-in of them (staff only).
    pub two_factor_required: bool,
}

/// An authenticator app being set up: the secret as a QR code and as text, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorSetup {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

/// What the two-factor page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub required: bool,
    pub is_staff: bool,
    pub is_admin: bool,
    /// The organisation's rule, shown to admins.
    pub organisation_requires: bool,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.grants.iter().any(|grant| grant.role == Role::Admin)
    }

    /// Staff see the manager console; residents do not.
    pub fn is_staff(&self) -> bool {
        !self.grants.is_empty()
    }

    fn holds_on(&self, role: Role, site: SiteId) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.role == role && grant.site == Some(site))
    }

    /// Holds one of `roles` on the site, or is an admin of its organisation.
    fn staff_on(&self, roles: &[Role], site: SiteId, site_org: OrgId) -> bool {
        site_org == self.org_id
            && (self.is_admin() || roles.iter().any(|role| self.holds_on(*role, site)))
    }

    /// Admins see every site of their organisation; other staff only the sites granted to them.
    pub fn can_view_site(&self, site: SiteId, site_org: OrgId) -> bool {
        site_org == self.org_id
            && (self.is_admin() || self.grants.iter().any(|grant| grant.site == Some(site)))
    }

    /// Residents act on the accounts of their own occupancy; staff on the accounts of sites
    /// they hold a role on: everyone there may look, cashiers and managers take cash, only
    /// managers adjust. Admins act anywhere in their organisation.
    pub fn may_on_account(
        &self,
        action: AccountAction,
        site: SiteId,
        site_org: OrgId,
        occupant: Option<UserId>,
    ) -> bool {
        let own = occupant == Some(self.user_id);
        let staff = |roles: &[Role]| self.staff_on(roles, site, site_org);
        match action {
            AccountAction::View => own || staff(&[Role::Manager, Role::Operator, Role::Cashier]),
            AccountAction::ResidentChoice => own,
            AccountAction::CashTopUp => staff(&[Role::Manager, Role::Cashier]),
            AccountAction::Adjust | AccountAction::MoveOut => staff(&[Role::Manager]),
            AccountAction::Pay => own || staff(&[Role::Manager, Role::Cashier]),
        }
    }

    /// Cashiers see a site's payments; only managers give money back or settle a conflict.
    pub fn may_on_payments(&self, action: PaymentAction, site: SiteId, site_org: OrgId) -> bool {
        match action {
            PaymentAction::View => self.staff_on(&[Role::Manager, Role::Cashier], site, site_org),
            PaymentAction::Manage => self.staff_on(&[Role::Manager], site, site_org),
        }
    }

    /// A site's staff read its tariffs; its managers propose versions and approve each
    /// other's (never their own: the engine holds that line). Admins do both.
    pub fn may_on_tariffs(&self, change: bool, site: SiteId, site_org: OrgId) -> bool {
        if change {
            self.staff_on(&[Role::Manager], site, site_org)
        } else {
            self.can_view_site(site, site_org)
        }
    }

    /// Adjustments are asked for, and approved or refused, by a site's managers and the
    /// organisation's admins: never approved by the one who asked (the engine holds that).
    pub fn may_on_adjustments(&self, site: SiteId, site_org: OrgId) -> bool {
        self.staff_on(&[Role::Manager], site, site_org)
    }

    /// A notice to a site's residents is written by its managers and the organisation's
    /// admins.
    pub fn may_send_notices(&self, site: SiteId, site_org: OrgId) -> bool {
        self.staff_on(&[Role::Manager], site, site_org)
    }

    /// A site's name, language and supply rules are kept by its managers and the
    /// organisation's admins.
    pub fn may_edit_site(&self, site: SiteId, site_org: OrgId) -> bool {
        self.staff_on(&[Role::Manager], site, site_org)
    }

    /// A site's model as a sheet (buildings, units, meters and residents with their contact
    /// details) is imported and exported by its managers and the organisation's admins.
    pub fn may_on_site_sheet(&self, site: SiteId, site_org: OrgId) -> bool {
        self.staff_on(&[Role::Manager], site, site_org)
    }

    /// Managers and operators see what notices a site sent and to whom; only managers
    /// choose the channels it may use. Admins do both.
    pub fn may_on_notices(&self, configure: bool, site: SiteId, site_org: OrgId) -> bool {
        if configure {
            self.staff_on(&[Role::Manager], site, site_org)
        } else {
            self.staff_on(&[Role::Manager, Role::Operator], site, site_org)
        }
    }

    /// Residents see the meters of their own occupancy; operators (technicians) and managers
    /// of the site operate them; only managers change what is installed. Admins do all.
    pub fn may_on_meter(
        &self,
        action: MeterAction,
        site: SiteId,
        site_org: OrgId,
        occupant: Option<UserId>,
    ) -> bool {
        let own = occupant == Some(self.user_id);
        let staff = |roles: &[Role]| self.staff_on(roles, site, site_org);
        match action {
            MeterAction::View => own || staff(&[Role::Manager, Role::Operator, Role::Cashier]),
            MeterAction::Operate => staff(&[Role::Manager, Role::Operator]),
            MeterAction::Manage => staff(&[Role::Manager]),
        }
    }

    /// Nobody signs themselves up: admins create any account in their organisation, managers
    /// create residents, managers, operators and cashiers for the sites they manage.
    pub fn may_create(&self, account: NewAccount, site: Option<(SiteId, OrgId)>) -> bool {
        match (account, site) {
            (NewAccount::Staff(Role::Admin), None) => self.is_admin(),
            (NewAccount::Staff(Role::Admin), Some(_)) | (_, None) => false,
            (_, Some((site, site_org))) => {
                site_org == self.org_id && (self.is_admin() || self.holds_on(Role::Manager, site))
            }
        }
    }

    /// The site roles the caller may give someone on a site, and take away again: the same
    /// as those they may create a colleague with there.
    pub fn grantable_on(&self, site: SiteId, site_org: OrgId) -> Vec<Role> {
        [Role::Manager, Role::Operator, Role::Cashier]
            .into_iter()
            .filter(|&role| self.may_create(NewAccount::Staff(role), Some((site, site_org))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: OrgId = OrgId(1);
    const OTHER_ORG: OrgId = OrgId(2);
    const SITE: SiteId = SiteId(10);
    const OTHER_SITE: SiteId = SiteId(11);

    fn caller(grants: &[(Role, Option<SiteId>)]) -> Caller {
        Caller {
            user_id: UserId(7),
            org_id: ORG,
            email: "someone@example.org".into(),
            display_name: "Someone".into(),
            sessions_valid_from: None,
            grants: grants
                .iter()
                .map(|&(role, site)| Grant { role, site })
                .collect(),
            must_change_password: false,
            two_factor: false,
            two_factor_required: false,
        }
    }

    #[test]
    fn account_rights_follow_occupancy_and_role() {
        let resident = caller(&[]);
        let cashier = caller(&[(Role::Cashier, Some(SITE))]);
        let manager = caller(&[(Role::Manager, Some(SITE))]);
        let own = Some(UserId(7));
        let someone_else = Some(UserId(8));
        assert!(resident.may_on_account(AccountAction::View, SITE, ORG, own));
        assert!(resident.may_on_account(AccountAction::ResidentChoice, SITE, ORG, own));
        assert!(!resident.may_on_account(AccountAction::View, SITE, ORG, someone_else));
        assert!(!resident.may_on_account(AccountAction::CashTopUp, SITE, ORG, own));
        assert!(cashier.may_on_account(AccountAction::CashTopUp, SITE, ORG, someone_else));
        assert!(!cashier.may_on_account(AccountAction::Adjust, SITE, ORG, someone_else));
        assert!(manager.may_on_account(AccountAction::Adjust, SITE, ORG, someone_else));
        assert!(!manager.may_on_account(AccountAction::Adjust, OTHER_SITE, ORG, someone_else));
        assert!(!manager.may_on_account(AccountAction::View, SITE, OTHER_ORG, someone_else));
        assert!(!manager.may_on_account(AccountAction::ResidentChoice, SITE, ORG, someone_else));
        assert!(manager.may_on_account(AccountAction::MoveOut, SITE, ORG, None));
        assert!(!manager.may_on_account(AccountAction::MoveOut, OTHER_SITE, ORG, None));
        assert!(!cashier.may_on_account(AccountAction::MoveOut, SITE, ORG, None));
        assert!(!resident.may_on_account(AccountAction::MoveOut, SITE, ORG, own));
        let operator = caller(&[(Role::Operator, Some(SITE))]);
        assert!(!operator.may_on_account(AccountAction::MoveOut, SITE, ORG, None));
    }

    #[test]
    fn a_manager_sees_only_the_sites_granted_to_them() {
        let manager = caller(&[(Role::Manager, Some(SITE))]);
        assert!(manager.can_view_site(SITE, ORG));
        assert!(!manager.can_view_site(OTHER_SITE, ORG));
    }

    #[test]
    fn an_admin_sees_every_site_of_their_organisation_and_no_other() {
        let admin = caller(&[(Role::Admin, None)]);
        assert!(admin.can_view_site(SITE, ORG));
        assert!(admin.can_view_site(OTHER_SITE, ORG));
        assert!(!admin.can_view_site(SITE, OTHER_ORG));
    }

    #[test]
    fn a_grant_never_reaches_into_another_organisation() {
        // Same site id, other organisation: ids alone must never grant access.
        let manager = caller(&[(Role::Manager, Some(SITE))]);
        assert!(!manager.can_view_site(SITE, OTHER_ORG));
        assert!(!manager.may_create(NewAccount::Resident, Some((SITE, OTHER_ORG))));
    }

    #[test]
    fn residents_are_not_staff_and_see_no_site() {
        let resident = caller(&[]);
        assert!(!resident.is_staff());
        assert!(!resident.can_view_site(SITE, ORG));
        assert!(!resident.may_create(NewAccount::Resident, Some((SITE, ORG))));
    }

    #[test]
    fn managers_create_residents_and_staff_on_their_own_sites_only() {
        let manager = caller(&[(Role::Manager, Some(SITE))]);
        assert!(manager.may_create(NewAccount::Resident, Some((SITE, ORG))));
        assert!(manager.may_create(NewAccount::Staff(Role::Manager), Some((SITE, ORG))));
        assert!(manager.may_create(NewAccount::Staff(Role::Cashier), Some((SITE, ORG))));
        assert!(!manager.may_create(NewAccount::Resident, Some((OTHER_SITE, ORG))));
        assert!(!manager.may_create(NewAccount::Staff(Role::Admin), None));
    }

    #[test]
    fn operators_and_cashiers_create_nobody() {
        for role in [Role::Operator, Role::Cashier] {
            let staff = caller(&[(role, Some(SITE))]);
            assert!(staff.can_view_site(SITE, ORG));
            assert!(!staff.may_create(NewAccount::Resident, Some((SITE, ORG))));
        }
    }

    #[test]
    fn only_admins_create_admins_and_admins_have_no_site() {
        let admin = caller(&[(Role::Admin, None)]);
        assert!(admin.may_create(NewAccount::Staff(Role::Admin), None));
        assert!(!admin.may_create(NewAccount::Staff(Role::Admin), Some((SITE, ORG))));
        assert!(admin.may_create(NewAccount::Staff(Role::Manager), Some((SITE, ORG))));
        assert!(!admin.may_create(NewAccount::Staff(Role::Manager), None));
    }

    #[test]
    fn site_roles_are_given_by_the_sites_managers_and_the_admins() {
        let all = [Role::Manager, Role::Operator, Role::Cashier];
        let manager = caller(&[
            (Role::Manager, Some(SITE)),
            (Role::Operator, Some(OTHER_SITE)),
        ]);
        assert_eq!(manager.grantable_on(SITE, ORG), all);
        assert!(
            manager.grantable_on(OTHER_SITE, ORG).is_empty(),
            "an operator there gives nothing"
        );
        assert!(manager.grantable_on(SITE, OTHER_ORG).is_empty());
        let admin = caller(&[(Role::Admin, None)]);
        assert_eq!(admin.grantable_on(OTHER_SITE, ORG), all);
        assert!(admin.grantable_on(SITE, OTHER_ORG).is_empty());
    }
    #[test]
    fn technicians_operate_meters_managers_change_the_fleet_residents_only_look() {
        let operator = caller(&[(Role::Operator, Some(SITE))]);
        assert!(operator.may_on_meter(MeterAction::Operate, SITE, ORG, None));
        assert!(!operator.may_on_meter(MeterAction::Manage, SITE, ORG, None));
        assert!(!operator.may_on_meter(MeterAction::Operate, OTHER_SITE, ORG, None));
        let cashier = caller(&[(Role::Cashier, Some(SITE))]);
        assert!(cashier.may_on_meter(MeterAction::View, SITE, ORG, None));
        assert!(!cashier.may_on_meter(MeterAction::Operate, SITE, ORG, None));
        let manager = caller(&[(Role::Manager, Some(SITE))]);
        assert!(manager.may_on_meter(MeterAction::Manage, SITE, ORG, None));
        assert!(!manager.may_on_meter(MeterAction::View, SITE, OTHER_ORG, None));
        let resident = caller(&[]);
        assert!(resident.may_on_meter(MeterAction::View, SITE, ORG, Some(UserId(7))));
        assert!(!resident.may_on_meter(MeterAction::Operate, SITE, ORG, Some(UserId(7))));
        assert!(!resident.may_on_meter(MeterAction::View, SITE, ORG, Some(UserId(8))));
    }
}
