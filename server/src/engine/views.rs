//! The engine as the server functions see it: `app::ports::AccountsPort`. Authorisation was
//! decided by the server function; amounts typed by people are parsed here, against the
//! site's currency.

use super::{
    Engine, EngineError,
    cash_requests::CashTaken,
    setup::{SiteRules, load_rules, site_terms},
};
use crate::{db::ReadingTime, internal, ledger::account_number, on_db, on_tx};
use app::{
    domain::{
        AccountId, Caller, Minor, OrgId, SiteId, UnitId, UserId, Utility,
        adjustments::{RequestBook, RequestState},
        collections::CollectionsReport,
        common_charges::{SharedCharge, Sharing},
        money::{PositiveAmount, SignedAmount},
        occupancy::{MoveOutBatch, OccupancyList, Occupants},
        payments::receipt_label,
        reports::{ConsumptionReport, DaysAsked},
        site_notice::SiteNotice,
        supply::{SupplyState, days_left},
        tariff::{
            Plan,
            book::{Decision, NewProposal, TariffBook},
            plan::{PlanMove, PlanUse},
        },
        views::{AccountRecord, AccountView, CommandLine, NoticeLine, Receipt, StatementLine},
    },
    error::AppError,
    ports::{AccountPlace, AccountsPort},
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
pub(super) struct Row {
    account_id: i64,
    pub(super) site_id: i64,
    unit: String,
    building: String,
    utility: Option<String>,
    balance_minor: i64,
    supply_state: String,
    daily_spend: String,
    last_reading_at: Option<ReadingTime>,
    allowance: i64,
    has_allowance: bool,
    emergency: i64,
    safety_hold: Option<String>,
    vulnerable: bool,
    occupant: Option<String>,
    last_token: Option<String>,
    time_zone: String,
    pub(super) site_name: String,
    currency: String,
    billing_mode: Option<String>,
    policy: Option<String>,
}

pub(super) const SELECT: &str = "SELECT w.account_id, w.site_id, u.name AS unit, b.name AS building, a.utility, \
    a.balance_minor, w.supply_state, w.daily_spend, \
    (SELECT MAX(x.last_reading_at) FROM meter_states x JOIN meters m ON m.id = x.meter_id \
      WHERE m.unit_id = w.unit_id AND (w.meter_id IS NULL OR m.id = w.meter_id)) AS last_reading_at, \
    COALESCE(al.balance_minor, 0) AS allowance, w.allowance_account_id IS NOT NULL AS has_allowance, \
    COALESCE(em.balance_minor, 0) AS emergency, \
    (SELECT MAX(x.safety_hold) FROM meter_states x JOIN meters m ON m.id = x.meter_id \
      WHERE m.unit_id = w.unit_id AND (w.meter_id IS NULL OR m.id = w.meter_id)) AS safety_hold, \
    w.vulnerable, (SELECT p.display_name FROM occupancies o JOIN users p ON p.id = o.user_id \
      WHERE o.id = w.occupancy_id) AS occupant, \
    (SELECT t.digits FROM meter_tokens t WHERE t.wallet_account_id = w.account_id AND t.status = 'issued' \
      ORDER BY t.id DESC LIMIT 1) AS last_token, \
    s.time_zone, s.name AS site_name, s.currency, p.billing_mode, p.policy \
    FROM wallets w JOIN accounts a ON a.id = w.account_id JOIN units u ON u.id = w.unit_id \
    JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = w.site_id \
    LEFT JOIN site_policies p ON p.site_id = w.site_id \
    LEFT JOIN accounts al ON al.id = w.allowance_account_id LEFT JOIN accounts em ON em.id = w.emergency_account_id";

impl Row {
    /// The account's site's terms, read in the same row.
    pub(super) fn terms(&self) -> Result<SiteRules, EngineError> {
        site_terms(
            self.site_id,
            &self.time_zone,
            &self.currency,
            self.billing_mode.as_deref(),
            self.policy.as_deref(),
        )
    }
}

/// The rows as views, each with its site's terms.
fn views(rows: Vec<Row>) -> Result<Vec<AccountView>, EngineError> {
    let mut rules: HashMap<i64, SiteRules> = HashMap::new();
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        if let std::collections::hash_map::Entry::Vacant(entry) = rules.entry(row.site_id) {
            entry.insert(row.terms()?);
        }
        let site_rules = &rules[&row.site_id];
        views.push(view(row, site_rules));
    }
    Ok(views)
}

pub(super) fn view(row: Row, rules: &SiteRules) -> AccountView {
    let digits = rules.digits;
    let balance = Minor(row.balance_minor);
    let spend = row.daily_spend.parse().unwrap_or_default();
    let emergency_available = rules
        .policy
        .emergency_offer(balance, Minor(-row.emergency))
        .ok()
        .map(|amount| amount.format(digits));
    AccountView {
        id: AccountId(row.account_id),
        number: account_number(row.account_id),
        site: SiteId(row.site_id),
        unit: row.unit,
        building: row.building,
        utility: row.utility.and_then(|u| u.parse::<Utility>().ok()),
        currency: rules.currency.as_str().to_owned(),
        balance: balance.format(digits),
        balance_minor: balance.0,
        state: SupplyState::parse(&row.supply_state).unwrap_or(SupplyState::On),
        days_left: days_left(balance, spend).map(|d| d.to_string()),
        last_reading_at: row.last_reading_at.map(|ReadingTime(at)| at),
        last_reading_local: row
            .last_reading_at
            .map(|ReadingTime(at)| at.with_timezone(&rules.tz).naive_local()),
        allowance: row
            .has_allowance
            .then(|| Minor(row.allowance).format(digits)),
        emergency_owed: (row.emergency < 0).then(|| Minor(-row.emergency).format(digits)),
        emergency_available,
        safety_hold: row.safety_hold.map(|h| h.replace('_', " ")),
        vulnerable: row.vulnerable,
        occupant: row.occupant,
        last_token: row.last_token.as_deref().map(app::domain::tokens::grouped),
    }
}

impl Engine {
    /// The rules of the site an account belongs to (its currency's places, its policy).
    async fn rules_of(&self, account: AccountId) -> Result<SiteRules, AppError> {
        let mut tx = self.db.begin_read().await.map_err(internal)?;
        let site: Option<i64> = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT site_id FROM wallets WHERE account_id = $1")
                .bind(account.0)
                .fetch_optional(&mut *conn)
                .await
        })
        .map_err(internal)?;
        let site = site.ok_or(AppError::NotFound)?;
        Ok(load_rules(&mut tx, site).await?)
    }
}

/// A statement's rows, to be narrowed by account (and time) and ordered.
pub(super) const STATEMENT_LINES: &str = "SELECT t.id, t.posted_at, t.kind, t.memo, e.amount_minor, \
    r.site_id, r.number FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
    LEFT JOIN receipts r ON r.transaction_id = t.id";

pub(super) type StatementRow = (
    i64,
    DateTime<Utc>,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// The account's recent statement lines, newest first.
fn statement(rows: Vec<StatementRow>, rules: &SiteRules) -> Vec<StatementLine> {
    let mut lines = day_lines(rows, rules);
    lines.truncate(500);
    lines
}

/// Statement lines in the rows' order, with usage charges next to each other on the same
/// site-local day summed into one line.
pub(super) fn day_lines(rows: Vec<StatementRow>, rules: &SiteRules) -> Vec<StatementLine> {
    let mut lines: Vec<StatementLine> = Vec::new();
    for (transaction, posted_at, kind, memo, amount, receipt_site, receipt_number) in rows {
        let day = posted_at.with_timezone(&rules.tz).date_naive().to_string();
        if kind == "usage"
            && let Some(last) = lines.last_mut()
            && last.kind == "usage"
            && last.day == day
        {
            last.amount_minor += amount;
            last.amount = Minor(last.amount_minor).format(rules.digits);
            continue;
        }
        let receipt = receipt_site
            .zip(receipt_number)
            .map(|(site, number)| receipt_label(site, number));
        lines.push(StatementLine {
            transaction,
            posted_at,
            day,
            description: memo,
            kind,
            amount: Minor(amount).format(rules.digits),
            amount_minor: amount,
            receipt,
        });
    }
    lines
}

#[async_trait::async_trait]
impl AccountsPort for Engine {
    async fn place(
        &self,
        account: AccountId,
        viewer: UserId,
    ) -> Result<Option<AccountPlace>, AppError> {
        let now = Utc::now();
        let row: Option<(i64, i64, bool)> = crate::on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT w.site_id, s.organisation_id, EXISTS (SELECT 1 FROM occupancies o WHERE o.user_id = $2 \
                 AND (o.id = w.occupancy_id OR (w.closed_at IS NULL AND o.unit_id = w.unit_id AND o.starts_at <= $3 \
                 AND (o.ends_at IS NULL OR o.ends_at > $3)))) \
                 FROM wallets w JOIN sites s ON s.id = w.site_id WHERE w.account_id = $1 AND w.unit_id IS NOT NULL",
            )
            .bind(account.0)
            .bind(viewer.0)
            .bind(now)
            .fetch_optional(pool)
            .await
        })
        .map_err(internal)?;
        Ok(row.map(|(site, org, lives_there)| AccountPlace {
            site: SiteId(site),
            org: OrgId(org),
            occupant: lives_there.then_some(viewer),
        }))
    }

    async fn mine(&self, caller: &Caller) -> Result<Vec<AccountView>, AppError> {
        let now = Utc::now();
        let sql = format!(
            "{SELECT} WHERE w.closed_at IS NULL AND w.unit_id IN (SELECT o.unit_id FROM occupancies o \
             WHERE o.user_id = $1 AND o.starts_at <= $2 AND (o.ends_at IS NULL OR o.ends_at > $2)) \
             ORDER BY b.name, u.name, a.utility"
        );
        let rows: Vec<Row> = on_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(caller.user_id.0).bind(now).fetch_all(pool).await
        })
        .map_err(internal)?;
        Ok(views(rows)?)
    }

    async fn of_site(&self, site: SiteId) -> Result<Vec<AccountView>, AppError> {
        let sql = format!(
            "{SELECT} WHERE w.site_id = $1 AND w.closed_at IS NULL ORDER BY b.name, u.name, a.utility"
        );
        let rows: Vec<Row> = on_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(site.0).fetch_all(pool).await
        })
        .map_err(internal)?;
        Ok(views(rows)?)
    }

    async fn detail(&self, account: AccountId) -> Result<AccountRecord, AppError> {
        let sql = format!("{SELECT} WHERE w.account_id = $1");
        let mut tx = self.db.begin_read().await.map_err(internal)?;
        type Line = StatementRow;
        type Notice = (DateTime<Utc>, String, String, String);
        type Command = (DateTime<Utc>, String, i64, String, String, String);
        type Found = (Option<Row>, Vec<Line>, Vec<Notice>, Vec<Command>);
        let (row, lines, notices, commands): Found = on_tx!(&mut tx, conn => {
            let row = sqlx::query_as(&sql).bind(account.0).fetch_optional(&mut *conn).await?;
            let lines = sqlx::query_as(&format!(
                "{STATEMENT_LINES} WHERE e.account_id = $1 ORDER BY t.id DESC LIMIT 2000"
            ))
            .bind(account.0)
            .fetch_all(&mut *conn)
            .await?;
            let notices = sqlx::query_as(
                "SELECT created_at, kind, audience, status FROM notifications \
                 WHERE wallet_account_id = $1 ORDER BY id DESC LIMIT 20",
            )
            .bind(account.0)
            .fetch_all(&mut *conn)
            .await?;
            let commands = sqlx::query_as(
                "SELECT c.created_at, m.serial, c.seq, c.command, c.reason, c.status FROM meter_commands c \
                 JOIN meters m ON m.id = c.meter_id JOIN wallets w ON w.account_id = $1 \
                 WHERE m.id = w.meter_id OR (w.meter_id IS NULL AND m.unit_id = w.unit_id) \
                 ORDER BY c.id DESC LIMIT 20",
            )
            .bind(account.0)
            .fetch_all(&mut *conn)
            .await?;
            Ok::<_, sqlx::Error>((row, lines, notices, commands))
        })
        .map_err(internal)?;
        let row = row.ok_or(AppError::NotFound)?;
        let rules = row.terms()?;
        Ok(AccountRecord {
            zone: super::site_zone(rules.tz, Utc::now()),
            lines: statement(lines, &rules),
            account: view(row, &rules),
            notices: notices
                .into_iter()
                .map(|(at, kind, audience, status)| NoticeLine {
                    at,
                    kind,
                    audience,
                    status,
                })
                .collect(),
            commands: commands
                .into_iter()
                .map(|(at, meter, seq, command, reason, status)| CommandLine {
                    at,
                    meter,
                    seq,
                    command,
                    reason,
                    status,
                })
                .collect(),
        })
    }

    async fn month_statement(
        &self,
        account: AccountId,
        month: Option<app::domain::month_statement::Month>,
    ) -> Result<app::domain::month_statement::MonthStatement, AppError> {
        Ok(Engine::month_statement(self, account, month, Utc::now()).await?)
    }

    async fn statement_batch(
        &self,
        site: SiteId,
        building: Option<String>,
        month: Option<app::domain::month_statement::Month>,
    ) -> Result<app::domain::month_statement::StatementBatch, AppError> {
        Ok(Engine::statement_batch(self, site, building, month, Utc::now()).await?)
    }

    async fn summary(&self, account: AccountId) -> Result<AccountView, AppError> {
        let sql = format!("{SELECT} WHERE w.account_id = $1");
        let row: Option<Row> = on_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(account.0).fetch_optional(pool).await
        })
        .map_err(internal)?;
        let row = row.ok_or(AppError::NotFound)?;
        let rules = row.terms()?;
        Ok(view(row, &rules))
    }

    async fn usage(
        &self,
        account: AccountId,
        span: app::domain::usage::Span,
        day: Option<chrono::NaiveDate>,
    ) -> Result<app::domain::usage::UsageChart, AppError> {
        Ok(self
            .usage_chart(account.0, span, day, chrono::Utc::now())
            .await?)
    }

    async fn planner(
        &self,
        account: AccountId,
    ) -> Result<Option<app::domain::planner::Planner>, AppError> {
        Ok(self.planner(account.0, chrono::Utc::now()).await?)
    }

    fn form_nonce(&self) -> String {
        use argon2::password_hash::rand_core::{OsRng, RngCore};
        let mut bytes = [0_u8; 16];
        OsRng.fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    async fn cash_top_up(
        &self,
        caller: &Caller,
        account: AccountId,
        amount: &str,
        form: &str,
    ) -> Result<Receipt, AppError> {
        let rules = self.rules_of(account).await?;
        let amount = PositiveAmount::parse(amount, rules.digits)
            .map_err(|e| AppError::Invalid(e.to_string()))?
            .0;
        let taken = self
            .take_cash(account.0, amount, form, caller.user_id.0)
            .await?;
        let shown = amount.format(rules.digits);
        Ok(match taken {
            CashTaken::Credited(top_up) => Receipt {
                number: top_up.receipt_label(),
                amount: shown,
                balance: top_up.balance.format(rules.digits),
                repeated: !top_up.new,
                waiting: None,
            },
            CashTaken::Waiting { request, new } => Receipt {
                number: String::new(),
                amount: shown,
                balance: String::new(),
                repeated: !new,
                waiting: Some(request),
            },
        })
    }

    async fn request_adjustments(
        &self,
        caller: &Caller,
        site: SiteId,
        accounts: &[AccountId],
        amount: &str,
        reason: &str,
        form: &str,
    ) -> Result<i64, AppError> {
        let digits = self.site_heading(site).await?.digits;
        let amount = SignedAmount::parse(amount, digits)
            .map_err(|e| AppError::Invalid(e.to_string()))?
            .0;
        Ok(Engine::request_adjustments(
            self,
            site,
            accounts,
            amount,
            reason,
            form,
            caller.user_id.0,
        )
        .await?)
    }

    async fn share_charge(
        &self,
        caller: &Caller,
        site: SiteId,
        accounts: &[AccountId],
        amount: &str,
        sharing: Sharing,
        reason: &str,
        form: &str,
    ) -> Result<SharedCharge, AppError> {
        let digits = self.site_heading(site).await?.digits;
        let amount = PositiveAmount::parse(amount, digits)
            .map_err(|e| AppError::Invalid(e.to_string()))?
            .0;
        Ok(self
            .request_shared_charge(
                site,
                accounts,
                amount,
                &sharing,
                reason,
                form,
                caller.user_id.0,
            )
            .await?)
    }

    async fn send_notice(
        &self,
        caller: &Caller,
        site: SiteId,
        accounts: &[AccountId],
        heading: &str,
        text: &str,
        form: &str,
    ) -> Result<usize, AppError> {
        let notice = SiteNotice::parse(heading, text).map_err(AppError::Invalid)?;
        Ok(self
            .send_site_notice(site, accounts, &notice, form, caller.user_id.0)
            .await?)
    }

    async fn decide_adjustments(
        &self,
        caller: &Caller,
        site: SiteId,
        request: i64,
        decision: Decision,
    ) -> Result<RequestState, AppError> {
        Ok(Engine::decide_adjustments(self, site, request, decision, caller.user_id.0).await?)
    }

    async fn adjustment_book(
        &self,
        caller: &Caller,
        site: SiteId,
    ) -> Result<RequestBook, AppError> {
        Ok(Engine::adjustment_book(self, site, caller.user_id.0).await?)
    }

    async fn take_emergency_credit(
        &self,
        caller: &Caller,
        account: AccountId,
    ) -> Result<String, AppError> {
        let rules = self.rules_of(account).await?;
        let taken = Engine::take_emergency_credit(self, account.0, Some(caller.user_id.0)).await?;
        Ok(taken.format(rules.digits))
    }

    async fn confirm_armed(&self, _caller: &Caller, account: AccountId) -> Result<(), AppError> {
        Engine::confirm_armed(self, account.0).await?;
        Ok(())
    }

    async fn move_in(&self, unit: UnitId) -> Result<(), AppError> {
        Engine::move_in(self, unit).await?;
        Ok(())
    }

    async fn consumption(
        &self,
        site: SiteId,
        days: DaysAsked,
    ) -> Result<ConsumptionReport, AppError> {
        Ok(Engine::consumption(self, site, days).await?)
    }

    async fn collections(
        &self,
        site: SiteId,
        days: DaysAsked,
    ) -> Result<CollectionsReport, AppError> {
        Ok(Engine::collections(self, site, days).await?)
    }

    async fn supply_report(
        &self,
        site: SiteId,
        days: DaysAsked,
    ) -> Result<app::domain::supply_report::SupplyReport, AppError> {
        Ok(Engine::supply_report(self, site, days).await?)
    }

    async fn cash_desk(
        &self,
        caller: &Caller,
        site: SiteId,
        everyone: bool,
    ) -> Result<app::domain::cash_desk::CashDesk, AppError> {
        let mut desk = Engine::cash_desk(self, site, caller.user_id.0, everyone).await?;
        desk.limit = self.cash_approval_limit(site).await?;
        desk.may_set_limit = caller.is_admin();
        desk.requests = self.cash_requests(site, caller.user_id.0, everyone).await?;
        Ok(desk)
    }

    async fn close_shift(
        &self,
        caller: &Caller,
        site: SiteId,
        after: &str,
        counted: &str,
        note: &str,
    ) -> Result<app::domain::cash_desk::ClosedShift, AppError> {
        let digits = self.site_heading(site).await?.digits;
        let close = app::domain::cash_desk::ShiftClose::parse(after, counted, note, digits)
            .map_err(AppError::Invalid)?;
        Engine::close_shift(self, site, caller.user_id.0, &close)
            .await?
            .ok_or_else(|| {
                AppError::Conflict("This shift is closed already: here is the shift since.".into())
            })
    }

    async fn decide_cash(
        &self,
        caller: &Caller,
        site: SiteId,
        request: i64,
        decision: Decision,
        may_decide: bool,
    ) -> Result<RequestState, AppError> {
        Ok(
            Engine::decide_cash(self, site, request, decision, caller.user_id.0, may_decide)
                .await?,
        )
    }

    async fn set_cash_limit(
        &self,
        caller: &Caller,
        site: SiteId,
        limit: &str,
    ) -> Result<String, AppError> {
        let digits = self.site_heading(site).await?.digits;
        let limit = match limit.trim() {
            "" => Minor::ZERO,
            typed => app::domain::money::zero_or_more(typed, digits)
                .map_err(|error| AppError::Invalid(format!("The limit: {error}")))?,
        };
        self.set_cash_approval_limit(site, limit, Some(caller.user_id.0))
            .await?;
        Ok(limit.format(digits))
    }

    async fn void_receipt(
        &self,
        caller: &Caller,
        site: SiteId,
        receipt: i64,
        reason: &str,
    ) -> Result<bool, AppError> {
        Ok(Engine::void_receipt(self, site, caller.user_id.0, receipt, reason).await?)
    }

    async fn bands(
        &self,
        site: SiteId,
        days: DaysAsked,
    ) -> Result<app::domain::band_report::BandReport, AppError> {
        Ok(Engine::bands(self, site, days).await?)
    }

    async fn losses(
        &self,
        site: SiteId,
        days: DaysAsked,
    ) -> Result<app::domain::losses::LossReport, AppError> {
        Ok(Engine::losses(self, site, days).await?)
    }

    async fn occupants(&self, site: SiteId) -> Result<Occupants, AppError> {
        Ok(self.occupants_at(site, Utc::now()).await?)
    }

    async fn move_out(
        &self,
        caller: &Caller,
        site: SiteId,
        occupancies: &OccupancyList,
        commit: bool,
    ) -> Result<MoveOutBatch, AppError> {
        let actor = Some(caller.user_id.0);
        Ok(self
            .move_out_batch(site, occupancies.ids(), commit, actor)
            .await?)
    }

    async fn tariff_book(
        &self,
        caller: &Caller,
        site: SiteId,
        may_change: bool,
    ) -> Result<TariffBook, AppError> {
        Ok(Engine::tariff_book(self, site, caller.user_id.0, may_change).await?)
    }

    async fn propose_tariff(
        &self,
        caller: &Caller,
        site: SiteId,
        proposal: &NewProposal,
    ) -> Result<i64, AppError> {
        Ok(Engine::propose_tariff(self, site, proposal, caller.user_id.0).await?)
    }

    async fn decide_tariff(
        &self,
        caller: &Caller,
        site: SiteId,
        proposal: i64,
        decision: Decision,
    ) -> Result<(), AppError> {
        Ok(Engine::decide_tariff(self, site, proposal, decision, caller.user_id.0).await?)
    }

    async fn periods(&self, site: SiteId) -> Result<app::domain::periods::Periods, AppError> {
        Ok(Engine::periods(self, site).await?)
    }

    async fn close_period(
        &self,
        caller: &Caller,
        site: SiteId,
        through: chrono::NaiveDate,
    ) -> Result<bool, AppError> {
        Ok(Engine::close_period(self, site, through, caller.user_id.0).await?)
    }

    async fn site_plans(&self, site: SiteId) -> Result<Vec<PlanUse>, AppError> {
        Ok(Engine::site_plans(self, site).await?)
    }

    async fn put_units_on_plan(
        &self,
        caller: &Caller,
        site: SiteId,
        units: &[UnitId],
        plan: &Plan,
    ) -> Result<PlanMove, AppError> {
        let units: Vec<i64> = units.iter().map(|unit| unit.0).collect();
        Ok(self
            .put_on_plan(site, &units, plan, caller.user_id.0)
            .await?)
    }

    async fn put_accounts_on_plan(
        &self,
        caller: &Caller,
        site: SiteId,
        accounts: &[AccountId],
        plan: &Plan,
    ) -> Result<PlanMove, AppError> {
        let units = self.units_of_accounts(site, accounts).await?;
        Ok(self
            .put_on_plan(site, &units, plan, caller.user_id.0)
            .await?)
    }
}
