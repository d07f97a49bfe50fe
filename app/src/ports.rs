//! The engine's doors, as the server functions see them. `app` cannot name the engine's types
//! (the engine depends on `app`), so it declares one trait per area here; `server` implements
//! them and hands them over as Leptos context.

use crate::{
    domain::{
        AccountId, Caller, Email, MeterId, NewPassword, OrgId, Role, SiteId, UnitId, UserId,
        access::NewAccount,
        faults::{FaultReport, FaultView},
        fleet::{
            AlarmStep, AlarmView, FleetRules, InstalledMeter, MeterDetail, MeterForm, Operation,
        },
        meter_table::MeterList,
        notices::{InboxLine, NewSubscription, NotificationSettings, Preferences},
        payments::{
            ImportReport, PaymentPage, ProviderKind, PublicPayee, RechargeOptions, SitePayments,
            StartedPayment,
        },
        people::{OrgPeople, Switched},
        reconciliation::ReconciliationReport,
        staff::{Granted, SiteStaff},
        tokens::{MeterTokens, NewDeviceKey, TokenSetup, TokenView},
        usage::{Span, UsageChart},
        views::{
            AccountRecord, AccountView, CreatedAccount, Receipt, ResidentHome, SiteOverview,
            SiteSummary,
        },
    },
    error::AppError,
};
use std::{net::IpAddr, sync::Arc};

/// The client's address, as the server's proxy-aware middleware determined it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// A request to create an account, already parsed and authorised by the server function.
#[derive(Clone, Debug)]
pub struct NewAccountRequest {
    pub org: OrgId,
    pub email: Email,
    pub display_name: String,
    pub account: NewAccount,
    pub site: Option<SiteId>,
    /// The unit a new resident moves into.
    pub unit: Option<UnitId>,
    /// Their mobile number, as staff took it down.
    pub phone: Option<crate::domain::messaging::PhoneNumber>,
    /// Send them a link to choose their password this way, instead of showing an initial
    /// password to hand over.
    pub invite_by: Option<crate::domain::messaging::Channel>,
}

/// Sign-in, the signed-in caller, passwords and accounts.
#[async_trait::async_trait]
pub trait AuthPort: Send + Sync {
    /// Checks the password (throttled per address and per account) and returns the user.
    async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: ClientAddr,
    ) -> Result<UserId, AppError>;

    /// The caller behind a session, read afresh so a revoked grant takes effect at once.
    async fn caller(&self, user: UserId) -> Result<Option<Caller>, AppError>;

    async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: NewPassword,
    ) -> Result<(), AppError>;

    /// Creates the account with a one-time initial password that must be changed at first
    /// sign-in. The caller's right to do so has been checked already.
    async fn create_account(
        &self,
        caller: &Caller,
        request: NewAccountRequest,
    ) -> Result<CreatedAccount, AppError>;

    /// Who holds a role on the site, with the organisation's admins. `grantable` and
    /// `viewer` are left for the caller to fill.
    async fn site_staff(&self, site: SiteId) -> Result<SiteStaff, AppError>;

    /// Gives the person with this e-mail address, already in the site's organisation `org`,
    /// a role on the site. The caller's right to do so has been checked already.
    async fn grant_role(
        &self,
        caller: &Caller,
        org: OrgId,
        site: SiteId,
        email: &Email,
        role: Role,
    ) -> Result<Granted, AppError>;

    /// Takes a role on the site away from a person; answers whether they held it. The
    /// caller's right to do so has been checked already.
    async fn revoke_role(
        &self,
        caller: &Caller,
        org: OrgId,
        site: SiteId,
        person: UserId,
        role: Role,
    ) -> Result<bool, AppError>;

    /// The organisation's staff and everyone whose sign-in is switched off. `viewer` is left
    /// for the caller to fill.
    async fn organisation_people(&self, org: OrgId) -> Result<OrgPeople, AppError>;

    /// Switches the sign-in of the person with this e-mail address in `org` off or on: off,
    /// their open sessions end at their next request and signing in fails as for a wrong
    /// password; their roles stay for when it is switched on again. The caller's right to do
    /// so (an admin of `org`) has been checked already.
    async fn set_person_active(
        &self,
        caller: &Caller,
        org: OrgId,
        email: &Email,
        active: bool,
    ) -> Result<Switched, AppError>;

    /// Sends a link (to an e-mail address) or a code (to a phone number) to choose a new
    /// password, if an account has it; the answer does not say whether one does. `Some`: the
    /// phone number a code went to, for the next step.
    async fn request_reset(
        &self,
        contact: &str,
        client: ClientAddr,
    ) -> Result<Option<crate::domain::messaging::PhoneNumber>, AppError>;

    /// The masked address a still-valid reset or invitation link was sent to.
    async fn check_reset_link(&self, token: &str) -> Result<Option<String>, AppError>;

    /// Sets a new password with a link; the link is spent.
    async fn reset_with_link(&self, token: &str, new: &str) -> Result<UserId, AppError>;

    /// Sets a new password with an SMS code; the code is spent.
    async fn reset_with_code(&self, phone: &str, code: &str, new: &str)
    -> Result<UserId, AppError>;

    /// Sends a sign-in code to a resident's phone (staff cannot sign in this way).
    async fn send_sign_in_code(
        &self,
        phone: &str,
        client: ClientAddr,
    ) -> Result<crate::domain::messaging::PhoneNumber, AppError>;

    async fn sign_in_with_code(
        &self,
        phone: &str,
        code: &str,
        client: ClientAddr,
    ) -> Result<UserId, AppError>;

    /// Sends a code to a number the caller wants to add to their account.
    async fn send_phone_code(
        &self,
        caller: &Caller,
        phone: &str,
        client: ClientAddr,
    ) -> Result<crate::domain::messaging::PhoneNumber, AppError>;

    /// Saves the number the caller's latest code went to, once they typed the code.
    async fn confirm_phone(&self, caller: &Caller, code: &str) -> Result<(), AppError>;

    async fn remove_phone(&self, caller: &Caller) -> Result<(), AppError>;

    /// Whether a password (or link, or code) alone does not sign this person in: they have an
    /// authenticator app set up.
    async fn has_second_factor(&self, user: UserId) -> Result<bool, AppError>;

    /// Checks the authenticator's code after the first factor (throttled like passwords);
    /// each code works once.
    async fn check_second_factor(
        &self,
        user: UserId,
        code: &str,
        client: ClientAddr,
    ) -> Result<(), AppError>;

    /// Starts setting an authenticator app up for a staff member: a new secret, pending
    /// until its first code confirms it.
    async fn begin_two_factor(
        &self,
        caller: &Caller,
    ) -> Result<crate::domain::access::TwoFactorSetup, AppError>;

    async fn confirm_two_factor(&self, caller: &Caller, code: &str) -> Result<(), AppError>;

    /// Turns it off, with a current code, unless the organisation requires it.
    async fn disable_two_factor(&self, caller: &Caller, code: &str) -> Result<(), AppError>;

    /// Whether the caller's organisation requires it of its staff.
    async fn staff_must_use_two_factor(&self, caller: &Caller) -> Result<bool, AppError>;

    /// An admin sets whether all the organisation's staff must use it.
    async fn require_two_factor(&self, caller: &Caller, required: bool) -> Result<(), AppError>;
}

/// The site model: organisations, sites, buildings, units, meters and who lives where.
#[async_trait::async_trait]
pub trait DirectoryPort: Send + Sync {
    /// The organisation a site belongs to, for authorisation.
    async fn site_org(&self, site: SiteId) -> Result<Option<OrgId>, AppError>;

    /// The site (and organisation) a unit belongs to, for authorisation.
    async fn unit_site(&self, unit: UnitId) -> Result<Option<(SiteId, OrgId)>, AppError>;

    async fn resident_home(&self, caller: &Caller) -> Result<ResidentHome, AppError>;

    /// The sites this caller may see.
    async fn sites(&self, caller: &Caller) -> Result<Vec<SiteSummary>, AppError>;

    async fn site_overview(&self, site: SiteId) -> Result<SiteOverview, AppError>;

    /// Creates a site of the caller's organisation, with the default supply rules; its id.
    async fn create_site(
        &self,
        caller: &Caller,
        site: crate::domain::site_settings::NewSite,
    ) -> Result<SiteId, AppError>;

    /// The site's name, clock, currency, language and supply rules.
    async fn site_settings(
        &self,
        site: SiteId,
    ) -> Result<crate::domain::site_settings::SiteSettings, AppError>;

    /// Renames the site, sets its language and its supply rules (audited, before and after);
    /// answers whether anything changed.
    async fn save_site_settings(
        &self,
        caller: &Caller,
        site: SiteId,
        name: &str,
        locale: &str,
        policy: crate::domain::supply::SupplyPolicy,
    ) -> Result<bool, AppError>;

    /// One unit: where it is, its meters, its open accounts and who lives there now.
    async fn unit_card(&self, unit: UnitId)
    -> Result<crate::domain::unit_card::UnitCard, AppError>;

    /// Renames the unit or changes its kind. `false` when it already was so (nothing written).
    async fn edit_unit(
        &self,
        caller: &Caller,
        unit: UnitId,
        edit: &crate::domain::unit_card::UnitEdit,
    ) -> Result<bool, AppError>;

    /// Adds a building to the site; a name the site has already is a conflict.
    async fn add_building(
        &self,
        caller: &Caller,
        site: SiteId,
        name: &str,
    ) -> Result<crate::domain::BuildingId, AppError>;

    /// Adds a unit to one of the site's buildings; a name the building has already is a
    /// conflict, a building of another site is not found.
    async fn add_unit(
        &self,
        caller: &Caller,
        site: SiteId,
        building: crate::domain::BuildingId,
        unit: &crate::domain::unit_card::UnitEdit,
    ) -> Result<UnitId, AppError>;

    /// Corrects the details of someone who lives in the unit now. `false` when nothing changed.
    async fn edit_resident(
        &self,
        caller: &Caller,
        unit: UnitId,
        person: UserId,
        edit: &crate::domain::unit_card::ResidentEdit,
    ) -> Result<bool, AppError>;

    /// A page of the organisation's audit log, newest first.
    async fn audit(
        &self,
        org: OrgId,
        query: &crate::domain::audit::AuditQuery,
    ) -> Result<crate::domain::audit::AuditPage, AppError>;
}

/// Where an account sits, for authorisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountPlace {
    pub site: SiteId,
    pub org: OrgId,
    pub occupant: Option<UserId>,
}

/// Where a meter sits, for authorisation, and when the asking user's stay in its unit began
/// (`None` unless they live there now).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeterPlace {
    pub place: AccountPlace,
    pub stay_began: Option<chrono::DateTime<chrono::Utc>>,
}

/// Who looks at a meter, which decides the readings they see: its staff all of them; the
/// resident of its unit those taken since they moved in, as the older may be an earlier
/// household's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeterViewer {
    Staff,
    Resident {
        since: chrono::DateTime<chrono::Utc>,
    },
}

impl MeterViewer {
    /// The first moment of the meter's readings this viewer sees; `None` for all of them.
    pub fn sees_from(self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            Self::Staff => None,
            Self::Resident { since } => Some(since),
        }
    }
}

/// Prepaid accounts: balances, statements and money. Amounts arrive as typed text and are
/// parsed by the engine against the site's currency.
#[async_trait::async_trait]
pub trait AccountsPort: Send + Sync {
    /// Where the account sits; `occupant` is `viewer` if they live where it is (or held it).
    async fn place(
        &self,
        account: AccountId,
        viewer: UserId,
    ) -> Result<Option<AccountPlace>, AppError>;

    /// The caller's own accounts (their current occupancies).
    async fn mine(&self, caller: &Caller) -> Result<Vec<AccountView>, AppError>;

    /// Every open resident account of a site.
    async fn of_site(&self, site: SiteId) -> Result<Vec<AccountView>, AppError>;

    /// The account, its statement and what its balance caused (notices, meter commands).
    async fn detail(&self, account: AccountId) -> Result<AccountRecord, AppError>;

    /// The account's statement for one of its site's local months (the current one when
    /// `None`): opening and closing balances, every movement, what each meter used.
    async fn month_statement(
        &self,
        account: AccountId,
        month: Option<crate::domain::month_statement::Month>,
    ) -> Result<crate::domain::month_statement::MonthStatement, AppError>;

    /// The statements of every account of the site (or of one of its buildings) open at some
    /// time in the month, at most `BATCH_MAX` of them.
    async fn statement_batch(
        &self,
        site: SiteId,
        building: Option<String>,
        month: Option<crate::domain::month_statement::Month>,
    ) -> Result<crate::domain::month_statement::StatementBatch, AppError>;

    /// The account alone (balance, supply): what pages that poll need, without the statement.
    async fn summary(&self, account: AccountId) -> Result<AccountView, AppError>;

    /// The account's usage over the `span` holding `day` (today, in the site's time zone, by
    /// default), beside the span before and the building's median household.
    async fn usage(
        &self,
        account: AccountId,
        span: Span,
        day: Option<chrono::NaiveDate>,
    ) -> Result<UsageChart, AppError>;

    /// The tariff, cycle position, recent use and advice for the account's planner; `None`
    /// where it cannot be priced as one utility.
    async fn planner(
        &self,
        account: AccountId,
    ) -> Result<Option<crate::domain::planner::Planner>, AppError>;

    /// A fresh, unguessable token for one money form.
    fn form_nonce(&self) -> String;

    async fn cash_top_up(
        &self,
        caller: &Caller,
        account: AccountId,
        amount: &str,
        nonce: &str,
    ) -> Result<Receipt, AppError>;

    /// Asks for `amount` (typed, signed) on each of the site's `accounts`, for a second
    /// person to approve; the same form (`nonce`) sent again answers the same request.
    async fn request_adjustments(
        &self,
        caller: &Caller,
        site: SiteId,
        accounts: &[AccountId],
        amount: &str,
        reason: &str,
        nonce: &str,
    ) -> Result<i64, AppError>;

    /// Shares a common charge (`amount`, typed, more than zero) across the site's `accounts`
    /// as `sharing` says, and asks for the shares as one request for a second person to
    /// approve; the same form (`nonce`) sent again answers the same request.
    #[allow(clippy::too_many_arguments)]
    async fn share_charge(
        &self,
        caller: &Caller,
        site: SiteId,
        accounts: &[AccountId],
        amount: &str,
        sharing: crate::domain::common_charges::Sharing,
        reason: &str,
        nonce: &str,
    ) -> Result<crate::domain::common_charges::SharedCharge, AppError>;

    /// Queues a manager's notice (heading and text, as typed) for the homes of the site's
    /// `accounts`; answers how many homes. The same form (`nonce`) with the same words sent
    /// again queues nothing more.
    async fn send_notice(
        &self,
        caller: &Caller,
        site: SiteId,
        accounts: &[AccountId],
        heading: &str,
        text: &str,
        nonce: &str,
    ) -> Result<usize, AppError>;

    async fn decide_adjustments(
        &self,
        caller: &Caller,
        site: SiteId,
        request: i64,
        decision: crate::domain::four_eyes::Decision,
    ) -> Result<crate::domain::adjustments::RequestState, AppError>;

    async fn adjustment_book(
        &self,
        caller: &Caller,
        site: SiteId,
    ) -> Result<crate::domain::adjustments::RequestBook, AppError>;

    async fn take_emergency_credit(
        &self,
        caller: &Caller,
        account: AccountId,
    ) -> Result<String, AppError>;

    async fn confirm_armed(&self, caller: &Caller, account: AccountId) -> Result<(), AppError>;

    /// Opens the accounts of whoever moved into the unit.
    async fn move_in(&self, unit: UnitId) -> Result<(), AppError>;

    /// What each unit of the site used of each utility over the days asked (the site's local
    /// days; by default this month so far), and what it cost.
    async fn consumption(
        &self,
        site: SiteId,
        days: crate::domain::reports::DaysAsked,
    ) -> Result<crate::domain::reports::ConsumptionReport, AppError>;

    /// The money the site received over the days asked (its local days; by default this
    /// month so far), by day and by how it came, and what its residents owe now.
    async fn collections(
        &self,
        site: SiteId,
        days: crate::domain::reports::DaysAsked,
    ) -> Result<crate::domain::collections::CollectionsReport, AppError>;

    /// Low-balance warnings, cut-offs and reconnections over the days asked (the site's local
    /// days; by default this month so far), the accounts cut most often, and those cut now.
    async fn supply_report(
        &self,
        site: SiteId,
        days: crate::domain::reports::DaysAsked,
    ) -> Result<crate::domain::supply_report::SupplyReport, AppError>;

    /// The caller's open cash shift at the site and the closed shifts: everyone's when
    /// `everyone`, else the caller's.
    async fn cash_desk(
        &self,
        caller: &Caller,
        site: SiteId,
        everyone: bool,
    ) -> Result<crate::domain::cash_desk::CashDesk, AppError>;

    /// Closes the caller's cash shift with what they counted (`after`: the close the page's
    /// shift follows). A shift closed already is a conflict.
    async fn close_shift(
        &self,
        caller: &Caller,
        site: SiteId,
        after: &str,
        counted: &str,
        note: &str,
    ) -> Result<crate::domain::cash_desk::ClosedShift, AppError>;

    /// Approves or refuses (`may_decide`: the site's managers and admins) or withdraws (the
    /// one who asked) large cash waiting at the site; never approved by the one who took it.
    async fn decide_cash(
        &self,
        caller: &Caller,
        site: SiteId,
        request: i64,
        decision: crate::domain::four_eyes::Decision,
        may_decide: bool,
    ) -> Result<crate::domain::adjustments::RequestState, AppError>;

    /// Sets the amount (typed; zero for none) above which cash taken at the site waits for
    /// a second person's approval; answers it as the page writes it.
    async fn set_cash_limit(
        &self,
        caller: &Caller,
        site: SiteId,
        limit: &str,
    ) -> Result<String, AppError>;

    /// Voids receipt number `receipt` of the site, a cash receipt the caller took in their
    /// open shift, with a reason: its top-up is reversed. Answers whether this call voided it.
    async fn void_receipt(
        &self,
        caller: &Caller,
        site: SiteId,
        receipt: i64,
        reason: &str,
    ) -> Result<bool, AppError>;

    /// Each master meter of the site against the meters it feeds over the days asked (the
    /// site's local days; by default this month so far).
    async fn losses(
        &self,
        site: SiteId,
        days: crate::domain::reports::DaysAsked,
    ) -> Result<crate::domain::losses::LossReport, AppError>;

    /// What each unit of the site used in each time-of-use band over the days asked (the
    /// site's local days; by default this month so far).
    async fn bands(
        &self,
        site: SiteId,
        days: crate::domain::reports::DaysAsked,
    ) -> Result<crate::domain::band_report::BandReport, AppError>;

    /// Everyone living at the site now, by building, unit and name.
    async fn occupants(
        &self,
        site: SiteId,
    ) -> Result<crate::domain::occupancy::Occupants, AppError>;

    /// Moves out the residents of `occupancies` (the site's own; others are lines with a
    /// problem), each settled in their own transaction; with `commit` false only what it
    /// would settle is reported and nothing changes. Charged are the readings received so
    /// far. Moving out someone already gone changes nothing.
    async fn move_out(
        &self,
        caller: &Caller,
        site: SiteId,
        occupancies: &crate::domain::occupancy::OccupancyList,
        commit: bool,
    ) -> Result<crate::domain::occupancy::MoveOutBatch, AppError>;

    /// The site's tariff versions per utility and its proposals; `may_change` is what the
    /// caller was found allowed to do, for the page to show.
    async fn tariff_book(
        &self,
        caller: &Caller,
        site: SiteId,
        may_change: bool,
    ) -> Result<crate::domain::tariff::book::TariffBook, AppError>;

    /// Proposes a version for a second person to approve; its start must be ahead.
    async fn propose_tariff(
        &self,
        caller: &Caller,
        site: SiteId,
        proposal: &crate::domain::tariff::book::NewProposal,
    ) -> Result<i64, AppError>;

    /// Approves (publishes) or refuses one of the site's proposals; nobody approves their own.
    async fn decide_tariff(
        &self,
        caller: &Caller,
        site: SiteId,
        proposal: i64,
        decision: crate::domain::four_eyes::Decision,
    ) -> Result<(), AppError>;

    /// The site's closed periods, newest first.
    async fn periods(&self, site: SiteId) -> Result<crate::domain::periods::Periods, AppError>;

    /// Closes the site's books through a day that has ended; answers whether this call did.
    async fn close_period(
        &self,
        caller: &Caller,
        site: SiteId,
        through: chrono::NaiveDate,
    ) -> Result<bool, AppError>;

    /// The site's standard plan and every plan with a published version, with their units.
    async fn site_plans(
        &self,
        site: SiteId,
    ) -> Result<Vec<crate::domain::tariff::plan::PlanUse>, AppError>;

    /// Puts units of the site on a plan (a plan the site has never published is refused);
    /// units already on it stay as they are.
    async fn put_units_on_plan(
        &self,
        caller: &Caller,
        site: SiteId,
        units: &[UnitId],
        plan: &crate::domain::tariff::Plan,
    ) -> Result<crate::domain::tariff::plan::PlanMove, AppError>;

    /// Puts the units of the site's accounts on a plan, as [`Self::put_units_on_plan`].
    async fn put_accounts_on_plan(
        &self,
        caller: &Caller,
        site: SiteId,
        accounts: &[AccountId],
        plan: &crate::domain::tariff::Plan,
    ) -> Result<crate::domain::tariff::plan::PlanMove, AppError>;
}

/// The meter fleet: meters' status and commands, remote operations, life cycle, alarms and
/// each site's fleet rules. Callers are authorised by the server function first; the port
/// checks only what depends on stored state (a hold's role, a meter in service).
#[async_trait::async_trait]
pub trait FleetPort: Send + Sync {
    /// Where the meter sits; `occupant` is `viewer`, and `stay_began` set, if they live in its
    /// unit now.
    async fn meter_place(
        &self,
        meter: MeterId,
        viewer: UserId,
    ) -> Result<Option<MeterPlace>, AppError>;

    async fn alarm_place(&self, alarm: i64) -> Result<Option<AccountPlace>, AppError>;

    /// One meter with its commands, alarms and newest readings, as `viewer` sees them: the
    /// staff's notes on its alarms only for staff; for a resident, the readings and resolved
    /// alarms of their stay only (open alarms whenever raised).
    async fn meter(&self, meter: MeterId, viewer: MeterViewer) -> Result<MeterDetail, AppError>;

    /// The meter's readings taken over the site's days asked (this month's when left out) that
    /// `viewer` may see, oldest first; refused if there are more than one file holds.
    async fn meter_readings(
        &self,
        meter: MeterId,
        site: SiteId,
        days: crate::domain::reports::DaysAsked,
        viewer: MeterViewer,
    ) -> Result<crate::domain::meter_readings::MeterReadings, AppError>;

    /// A site's live alarms (and the resolved ones of the last week, if asked).
    async fn site_alarms(&self, site: SiteId, resolved: bool) -> Result<Vec<AlarmView>, AppError>;

    /// Live alarms on the units the caller lives in.
    async fn my_alarms(&self, caller: &Caller) -> Result<Vec<AlarmView>, AppError>;

    /// Every installed meter of the site with its last status, open alarms and commands.
    async fn site_meters(&self, site: SiteId) -> Result<MeterList, AppError>;

    /// Credit cut-offs held by the site's cap.
    async fn held_cut_offs(&self, site: SiteId) -> Result<i64, AppError>;

    async fn operate(
        &self,
        caller: &Caller,
        site: SiteId,
        meter: MeterId,
        operation: Operation,
        reason: &str,
    ) -> Result<(), AppError>;

    async fn install(
        &self,
        caller: &Caller,
        unit: UnitId,
        form: MeterForm,
    ) -> Result<InstalledMeter, AppError>;

    async fn replace(
        &self,
        caller: &Caller,
        meter: MeterId,
        final_register: &str,
        form: MeterForm,
    ) -> Result<InstalledMeter, AppError>;

    async fn decommission(
        &self,
        caller: &Caller,
        meter: MeterId,
        final_register: &str,
    ) -> Result<(), AppError>;

    /// Corrects the meter's serial and multiplier; `false` when they were so already.
    async fn correct(
        &self,
        caller: &Caller,
        meter: MeterId,
        serial: &str,
        multiplier: &str,
    ) -> Result<bool, AppError>;

    /// Links the meter to the site's meter with the serial `master` (empty: unlinks it).
    async fn set_master(
        &self,
        caller: &Caller,
        meter: MeterId,
        master: &str,
    ) -> Result<(), AppError>;

    async fn step_alarm(
        &self,
        caller: &Caller,
        alarm: i64,
        step: AlarmStep,
        note: &str,
    ) -> Result<(), AppError>;

    /// A note on an alarm on its own; the form's `nonce` makes sending it twice one note.
    async fn note_alarm(
        &self,
        caller: &Caller,
        alarm: i64,
        note: &str,
        nonce: &str,
    ) -> Result<(), AppError>;

    async fn release_held(&self, caller: &Caller, site: SiteId) -> Result<u64, AppError>;

    /// Files the caller's fault report about an account; answers its number and whether the
    /// same form was sent before.
    async fn report_fault(
        &self,
        caller: &Caller,
        account: AccountId,
        report: FaultReport,
        nonce: &str,
    ) -> Result<(i64, bool), AppError>;

    async fn close_fault(&self, caller: &Caller, fault: i64, note: &str) -> Result<(), AppError>;

    /// The site of a fault report, and its organisation.
    async fn fault_place(&self, fault: i64) -> Result<Option<(SiteId, OrgId)>, AppError>;

    /// A site's open reports (and closed ones, if asked), newest first.
    async fn site_faults(&self, site: SiteId, closed: bool) -> Result<Vec<FaultView>, AppError>;

    /// What was reported about one account.
    async fn account_faults(&self, account: AccountId) -> Result<Vec<FaultView>, AppError>;

    async fn rules(&self, site: SiteId) -> Result<FleetRules, AppError>;

    async fn set_rules(
        &self,
        caller: &Caller,
        site: SiteId,
        rules: FleetRules,
    ) -> Result<(), AppError>;
}

/// A top-up asked for through a provider, as the server function parsed and authorised it.
#[derive(Clone, Debug)]
pub struct PaymentRequest {
    pub account: AccountId,
    /// As typed; parsed against the site's currency by the engine.
    pub amount: String,
    pub provider: ProviderKind,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The signed-in payer; `None` on the public pay-by-number page.
    pub payer: Option<UserId>,
    /// The address the payer's browser used, for return pages when no public URL is set.
    pub origin: String,
}

/// How a manager pays a move-out refund.
#[derive(Clone, Debug)]
pub enum PayoutMethod {
    /// Sent by a provider; `destination` is where to (a phone number for M-Pesa).
    Provider {
        provider: ProviderKind,
        destination: Option<String>,
        origin: String,
    },
    /// Paid by hand (cash, cheque, bank transfer); `reference` is its number.
    ByHand { reference: String, note: String },
}

/// Payments through providers: checkout, status, receipts, and the manager's side (conflicts,
/// refunds). Callbacks from providers do not pass here: they are the server's own routes.
#[async_trait::async_trait]
pub trait PaymentsPort: Send + Sync {
    /// Providers, limits and recent payments for an account's recharge page.
    async fn recharge_options(
        &self,
        account: AccountId,
        payer: &Caller,
    ) -> Result<RechargeOptions, AppError>;

    /// Stores a pending payment and starts the provider's checkout.
    async fn start(&self, request: PaymentRequest) -> Result<StartedPayment, AppError>;

    /// The account an account number or meter serial names, for the public pay page.
    /// Every look-up counts against the client's address; past the limit: `Throttled`.
    async fn payee(&self, reference: &str, client: ClientAddr) -> Result<PublicPayee, AppError>;

    /// The open account a number names, for a public payment (counted like a look-up).
    async fn payee_account(
        &self,
        reference: &str,
        client: ClientAddr,
    ) -> Result<AccountId, AppError>;

    /// A payment by its public id, and the account it pays into (for authorisation).
    async fn payment(
        &self,
        public_id: &str,
    ) -> Result<Option<(PaymentPage, Option<AccountId>)>, AppError>;

    /// The sandbox's checkout page pays or declines: a signed callback goes through the same
    /// verification and settlement as a real provider's.
    async fn sandbox_complete(&self, public_id: &str, paid: bool) -> Result<(), AppError>;

    /// `viewer` sees which move-out refunds they settled (somebody else pays those).
    async fn site_payments(
        &self,
        viewer: &Caller,
        site: SiteId,
        query: &str,
    ) -> Result<SitePayments, AppError>;

    /// Imports a bank statement (CSV): credits matched by account or meter number, once each.
    async fn import_statement(
        &self,
        caller: &Caller,
        site: SiteId,
        statement: &str,
    ) -> Result<ImportReport, AppError>;

    /// The site a conflict or payment belongs to, for authorisation.
    async fn conflict_site(&self, conflict: i64) -> Result<Option<SiteId>, AppError>;
    async fn payment_site(&self, public_id: &str) -> Result<Option<SiteId>, AppError>;

    /// Credits a conflict's money to an account (the one it named, or `account`), or
    /// dismisses it.
    async fn resolve_conflict(
        &self,
        caller: &Caller,
        conflict: i64,
        account: Option<&str>,
        credit: bool,
    ) -> Result<(), AppError>;

    /// Asks for money back, through the provider or recorded as given by hand, for a second
    /// person to approve; answers the request's id.
    async fn ask_refund(
        &self,
        caller: &Caller,
        public_id: &str,
        amount: &str,
        reason: &str,
        by_hand: bool,
    ) -> Result<i64, AppError>;

    /// The site's refunds waiting for a second person, as the caller sees them.
    async fn refunds_waiting(
        &self,
        caller: &Caller,
        site: SiteId,
    ) -> Result<Vec<crate::domain::payments::RefundRequestView>, AppError>;

    /// Approves (the refund is given) or refuses a refund request of the site; the one who
    /// asked may only withdraw it.
    async fn decide_refund(
        &self,
        caller: &Caller,
        site: SiteId,
        request: i64,
        decision: crate::domain::four_eyes::Decision,
    ) -> Result<(), AppError>;

    /// The site a move-out refund belongs to, for authorisation.
    async fn payout_site(&self, payout: i64) -> Result<Option<SiteId>, AppError>;

    /// Pays a move-out refund, through a provider or recorded as paid by hand.
    async fn pay_out(
        &self,
        caller: &Caller,
        payout: i64,
        method: PayoutMethod,
    ) -> Result<(), AppError>;

    /// Sets a provider's settlement file (CSV) against the ledger's payments of the period
    /// (whole UTC days, both included).
    async fn reconcile(
        &self,
        site: SiteId,
        provider: ProviderKind,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        file: &str,
    ) -> Result<ReconciliationReport, AppError>;
}

/// Notices to people: the browsers they subscribed for Web Push, what they want to hear of,
/// and their in-app list. Everyone manages only their own; no further authorisation.
#[async_trait::async_trait]
pub trait NotificationsPort: Send + Sync {
    async fn settings(&self, caller: &Caller) -> Result<NotificationSettings, AppError>;

    /// Keeps a browser's subscription for the caller (moving it from whoever held it).
    async fn subscribe(
        &self,
        caller: &Caller,
        subscription: NewSubscription,
    ) -> Result<(), AppError>;

    /// Forgets one of the caller's subscriptions, by its endpoint.
    async fn unsubscribe(&self, caller: &Caller, endpoint: &str) -> Result<(), AppError>;

    async fn save_preferences(
        &self,
        caller: &Caller,
        preferences: Preferences,
    ) -> Result<(), AppError>;

    /// The caller's recent notices, newest first, in their language.
    async fn inbox(&self, caller: &Caller) -> Result<Vec<InboxLine>, AppError>;

    /// The notices a site sent, per person, kind and channel, newest first.
    async fn deliveries(
        &self,
        site: SiteId,
        query: &crate::domain::messaging::DeliveryQuery,
    ) -> Result<crate::domain::messaging::DeliveryPage, AppError>;

    /// What the demo's sandbox outbox holds, newest first; `None` when there is none.
    fn sandbox_messages(&self) -> Option<Vec<crate::domain::messaging::SandboxMessage>>;

    /// Which channels the site's notices may take besides push, and its sender address.
    async fn save_site_channels(
        &self,
        caller: &Caller,
        site: SiteId,
        sms: bool,
        email: bool,
        email_from: Option<Email>,
    ) -> Result<(), AppError>;
}

/// Keypad meters' tokens: what was sold, sending one again, and a meter's key and engineering
/// tokens for its managers.
#[async_trait::async_trait]
pub trait TokensPort: Send + Sync {
    /// An account's tokens, newest first.
    async fn account_tokens(&self, account: AccountId) -> Result<Vec<TokenView>, AppError>;

    /// The token a payment bought, if its meter takes tokens.
    async fn payment_token(&self, payment: &str) -> Result<Option<TokenView>, AppError>;

    /// Sends one of the account's issued tokens to its resident again.
    async fn resend(&self, account: AccountId, token: &str) -> Result<(), AppError>;

    async fn meter_tokens(&self, meter: MeterId) -> Result<MeterTokens, AppError>;

    /// Makes the meter a keypad meter; a generated key comes back once.
    async fn provision(
        &self,
        meter: MeterId,
        setup: TokenSetup,
        actor: UserId,
    ) -> Result<Option<NewDeviceKey>, AppError>;

    /// Asks for an engineering token (set or clear credit wait for a second person).
    async fn order(
        &self,
        meter: MeterId,
        kind: &str,
        value: Option<u32>,
        actor: UserId,
    ) -> Result<String, AppError>;

    /// Approves a token another person asked for on this meter.
    async fn approve(&self, meter: MeterId, token: &str, approver: UserId) -> Result<(), AppError>;
}

/// An organisation's API keys and webhook subscriptions. Callers are its admins, checked by
/// the server function; each method is bound to the organisation it is given.
#[async_trait::async_trait]
pub trait IntegrationsPort: Send + Sync {
    async fn overview(
        &self,
        org: OrgId,
    ) -> Result<crate::domain::integrations::Integrations, AppError>;

    /// Makes a key and answers its secret, which is never shown again.
    async fn create_key(
        &self,
        caller: &Caller,
        name: &str,
        kind: crate::domain::integrations::KeyKind,
    ) -> Result<String, AppError>;

    async fn revoke_key(&self, caller: &Caller, key: i64) -> Result<(), AppError>;

    /// Subscribes a URL and answers its signing secret, which is never shown again.
    async fn subscribe(
        &self,
        caller: &Caller,
        url: &str,
        events: &[String],
    ) -> Result<String, AppError>;

    async fn disable_webhook(&self, caller: &Caller, webhook: i64) -> Result<(), AppError>;

    async fn deliveries(
        &self,
        org: OrgId,
        webhook: i64,
    ) -> Result<crate::domain::integrations::WebhookDeliveries, AppError>;
}

/// A site's model (buildings, units, meters and residents) as a sheet: checked, imported whole
/// or not at all, and exported. Callers are authorised by the server function.
#[async_trait::async_trait]
pub trait SheetsPort: Send + Sync {
    /// The site's name and how many buildings, units, meters and residents it holds.
    async fn sheet_summary(
        &self,
        site: SiteId,
    ) -> Result<crate::domain::site_sheet::SheetSummary, AppError>;

    /// What importing the sheet would add, and every problem that stops it; changes nothing.
    async fn check_sheet(
        &self,
        site: SiteId,
        text: &str,
    ) -> Result<crate::domain::site_sheet::ImportCheck, AppError>;

    /// Imports the sheet in one transaction, or with any problem nothing at all. Lines that
    /// are in the site already (an export imported again) add nothing. With `invite`, each
    /// new resident is sent an invitation by e-mail once it is committed. Its progress is
    /// kept under `key` (the form's) for [`Self::import_progress`].
    async fn import_sheet(
        &self,
        caller: &Caller,
        site: SiteId,
        text: &str,
        invite: bool,
        key: &str,
    ) -> Result<crate::domain::site_sheet::ImportCheck, AppError>;

    /// Where the site's import under `key` stands (by this server process), if one ran.
    fn import_progress(
        &self,
        site: SiteId,
        key: &str,
    ) -> Option<crate::domain::site_sheet::Progress>;

    /// The site as a sheet, in the columns an import reads.
    async fn export_sheet(&self, site: SiteId) -> Result<String, AppError>;
}

/// Every port, as one context value.
#[derive(Clone)]
pub struct Ports {
    pub auth: Arc<dyn AuthPort>,
    pub integrations: Arc<dyn IntegrationsPort>,
    pub directory: Arc<dyn DirectoryPort>,
    pub accounts: Arc<dyn AccountsPort>,
    pub fleet: Arc<dyn FleetPort>,
    pub payments: Arc<dyn PaymentsPort>,
    pub notifications: Arc<dyn NotificationsPort>,
    pub tokens: Arc<dyn TokensPort>,
    pub sheets: Arc<dyn SheetsPort>,
}
