//! The double-entry ledger: every movement of money is a transaction whose entries sum to zero,
//! posted once under the caller's idempotency key (UNIQUE in the database), never changed
//! (database triggers refuse it) and corrected only by a linked reversing transaction. Account
//! balances change in the same database transaction as the entries.
//!
//! Sign convention: an entry is positive when it adds to what the account holds (a resident's
//! credit, revenue earned, tax owed, a refund owed) and negative when it takes from it (money
//! the site is owed: provider clearing, cash in the drawer, a resident's debt).

use crate::{db::Db, db::Tx, on_db, on_tx};
use app::domain::{Minor, Utility};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The site's own accounts, one of each (revenue per utility).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SiteAccount {
    Revenue(Utility),
    StandingCharges,
    TaxPayable,
    ProviderClearing,
    Cash,
    RefundsPayable,
    AllowancesGranted,
    Adjustments,
    Landlord,
}

impl SiteAccount {
    fn kind(self) -> &'static str {
        match self {
            SiteAccount::Revenue(_) => "revenue",
            SiteAccount::StandingCharges => "standing_charges",
            SiteAccount::TaxPayable => "tax_payable",
            SiteAccount::ProviderClearing => "provider_clearing",
            SiteAccount::Cash => "cash",
            SiteAccount::RefundsPayable => "refunds_payable",
            SiteAccount::AllowancesGranted => "allowances_granted",
            SiteAccount::Adjustments => "adjustments",
            SiteAccount::Landlord => "landlord",
        }
    }

    fn utility(self) -> &'static str {
        match self {
            SiteAccount::Revenue(utility) => utility.as_str(),
            _ => "",
        }
    }
}

/// The id of one of a site's own accounts, opened the first time it is needed.
pub async fn site_account(
    tx: &mut Tx,
    site: i64,
    account: SiteAccount,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let (kind, utility) = (account.kind(), account.utility());
    on_tx!(tx, conn => {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE site_id = $1 AND kind = $2 AND COALESCE(utility, '') = $3",
        )
        .bind(site)
        .bind(kind)
        .bind(utility)
        .fetch_optional(&mut *conn)
        .await?;
        match found {
            Some(id) => Ok(id),
            None => {
                sqlx::query_scalar(
                    "INSERT INTO accounts (site_id, kind, utility, opened_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(site)
                .bind(kind)
                .bind((!utility.is_empty()).then_some(utility))
                .bind(now)
                .fetch_one(&mut *conn)
                .await
            }
        }
    })
}

/// Opens a resident-side account (prepaid, allowance, emergency or debt).
pub async fn open_account(
    tx: &mut Tx,
    site: i64,
    kind: &str,
    utility: Option<Utility>,
    debtor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO accounts (site_id, kind, utility, user_id, opened_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(site)
        .bind(kind)
        .bind(utility.map(Utility::as_str))
        .bind(debtor)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
    })
}

/// A transaction being put together. Entries to the same account are merged; zero entries
/// are dropped.
#[derive(Clone, Debug)]
pub struct Posting {
    pub site: i64,
    pub key: String,
    pub kind: &'static str,
    pub memo: String,
    pub actor: Option<i64>,
    pub reverses: Option<i64>,
    entries: BTreeMap<i64, i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    New(i64),
    /// The key was posted before: nothing changed.
    Duplicate(i64),
    /// Every entry was zero: nothing to post.
    Nothing,
}

impl Posted {
    pub fn transaction(self) -> Option<i64> {
        match self {
            Posted::New(id) | Posted::Duplicate(id) => Some(id),
            Posted::Nothing => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("transaction {key} does not balance: its entries sum to {sum}")]
    Unbalanced { key: String, sum: i64 },
    #[error("the site's books are closed until {until}: nothing is posted in a closed period")]
    PeriodClosed { until: DateTime<Utc> },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Posting {
    pub fn new(site: i64, key: impl Into<String>, kind: &'static str) -> Self {
        Posting {
            site,
            key: key.into(),
            kind,
            memo: String::new(),
            actor: None,
            reverses: None,
            entries: BTreeMap::new(),
        }
    }

    pub fn memo(mut self, memo: impl Into<String>) -> Self {
        self.memo = memo.into();
        self
    }

    pub fn by(mut self, actor: Option<i64>) -> Self {
        self.actor = actor;
        self
    }

    pub fn add(&mut self, account: i64, amount: Minor) -> &mut Self {
        *self.entries.entry(account).or_default() += amount.0;
        self
    }

    /// Moves `amount` from one account to another.
    pub fn transfer(&mut self, from: i64, to: i64, amount: Minor) -> &mut Self {
        self.add(from, -amount).add(to, amount)
    }

    pub fn sum(&self) -> i64 {
        self.entries.values().sum()
    }

    pub fn entries(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.entries
            .iter()
            .map(|(a, m)| (*a, *m))
            .filter(|(_, m)| *m != 0)
    }
}

/// Rows per multi-row statement: well under both backends' parameter limits.
pub const CHUNK: usize = 500;

/// Posts a balanced transaction and moves the balances, inside the caller's transaction.
pub async fn post(
    tx: &mut Tx,
    posting: &Posting,
    now: DateTime<Utc>,
) -> Result<Posted, LedgerError> {
    if posting.sum() != 0 {
        return Err(LedgerError::Unbalanced {
            key: posting.key.clone(),
            sum: posting.sum(),
        });
    }
    let entries: Vec<(i64, i64)> = posting.entries().collect();
    if entries.is_empty() {
        return Ok(Posted::Nothing);
    }
    if let Some(until) = closed_until(tx, posting.site).await?
        && now < until
    {
        return Err(LedgerError::PeriodClosed { until });
    }
    let inserted: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO ledger_transactions (site_id, idempotency_key, kind, memo, posted_at, reverses_id, actor_user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(posting.site)
        .bind(&posting.key)
        .bind(posting.kind)
        .bind(&posting.memo)
        .bind(now)
        .bind(posting.reverses)
        .bind(posting.actor)
        .fetch_optional(&mut *conn)
        .await
    })?;
    let Some(id) = inserted else {
        let existing: i64 = on_tx!(tx, conn => {
            sqlx::query_scalar("SELECT id FROM ledger_transactions WHERE idempotency_key = $1")
                .bind(&posting.key)
                .fetch_one(&mut *conn)
                .await
        })?;
        return Ok(Posted::Duplicate(existing));
    };
    for chunk in entries.chunks(CHUNK) {
        insert_entries(tx, id, chunk).await?;
        move_balances(tx, chunk).await?;
    }
    Ok(Posted::New(id))
}

/// The end of the site's closed period (the instant its books open again), if any.
pub async fn closed_until(tx: &mut Tx, site: i64) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT closes_at FROM period_closes WHERE site_id = $1 ORDER BY closes_at DESC LIMIT 1",
        )
        .bind(site)
        .fetch_optional(&mut *conn)
        .await
    })
}

async fn insert_entries(
    tx: &mut Tx,
    transaction: i64,
    entries: &[(i64, i64)],
) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        let mut insert = sqlx::QueryBuilder::new("INSERT INTO ledger_entries (transaction_id, account_id, amount_minor) ");
        insert.push_values(entries, |mut row, (account, amount)| {
            row.push_bind(transaction).push_bind(*account).push_bind(*amount);
        });
        insert.build().execute(&mut *conn).await.map(|_| ())
    })
}

async fn move_balances(tx: &mut Tx, entries: &[(i64, i64)]) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        let mut update = sqlx::QueryBuilder::new(
            "UPDATE accounts SET balance_minor = balance_minor + v.column2 FROM (",
        );
        update.push_values(entries, |mut row, (account, amount)| {
            row.push_bind(*account).push_bind(*amount);
        });
        update.push(") AS v WHERE accounts.id = v.column1");
        update.build().execute(&mut *conn).await.map(|_| ())
    })
}

/// Posts the mirror image of a transaction, linked to it. A transaction is reversed at most
/// once (the link is UNIQUE); reversing twice answers the first reversal.
pub async fn reverse(
    tx: &mut Tx,
    transaction: i64,
    actor: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<Posted>, LedgerError> {
    let site: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT site_id FROM ledger_transactions WHERE id = $1")
            .bind(transaction)
            .fetch_optional(&mut *conn)
            .await
    })?;
    let Some(site) = site else {
        return Ok(None);
    };
    let entries: Vec<(i64, i64)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT account_id, amount_minor FROM ledger_entries WHERE transaction_id = $1")
            .bind(transaction)
            .fetch_all(&mut *conn)
            .await
    })?;
    let mut posting = Posting::new(site, format!("reversal:{transaction}"), "reversal")
        .memo(format!("Reverses transaction {transaction}"))
        .by(actor);
    posting.reverses = Some(transaction);
    for (account, amount) in entries {
        posting.add(account, Minor(-amount));
    }
    post(tx, &posting, now).await.map(Some)
}

/// A difference `reconcile` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Difference {
    /// The cached balance is not the sum of the account's entries.
    Balance {
        account: i64,
        cached: i64,
        from_entries: i64,
    },
    /// A transaction's entries do not sum to zero.
    Unbalanced { transaction: i64, sum: i64 },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Balance {
                account,
                cached,
                from_entries,
            } => write!(
                f,
                "account {account}: balance {cached} but its entries sum to {from_entries}"
            ),
            Difference::Unbalanced { transaction, sum } => {
                write!(f, "transaction {transaction}: entries sum to {sum}, not 0")
            }
        }
    }
}

/// Recomputes every balance from the entries and checks every transaction balances.
pub async fn reconcile(db: &Db) -> Result<(usize, Vec<Difference>), sqlx::Error> {
    type Found = (i64, Vec<(i64, i64, i64)>, Vec<(i64, i64)>);
    let (accounts, balances, unbalanced): Found = on_db!(db, pool => {
        let accounts = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(pool).await?;
        let balances = sqlx::query_as(
            "SELECT a.id, a.balance_minor, CAST(COALESCE(SUM(e.amount_minor), 0) AS BIGINT) \
             FROM accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id \
             GROUP BY a.id, a.balance_minor \
             HAVING a.balance_minor <> CAST(COALESCE(SUM(e.amount_minor), 0) AS BIGINT) ORDER BY a.id",
        )
        .fetch_all(pool)
        .await?;
        let unbalanced = sqlx::query_as(
            "SELECT transaction_id, CAST(SUM(amount_minor) AS BIGINT) FROM ledger_entries \
             GROUP BY transaction_id HAVING SUM(amount_minor) <> 0 ORDER BY transaction_id",
        )
        .fetch_all(pool)
        .await?;
        Ok::<_, sqlx::Error>((accounts, balances, unbalanced))
    })?;
    let mut differences: Vec<Difference> = balances
        .into_iter()
        .map(|(account, cached, from_entries)| Difference::Balance {
            account,
            cached,
            from_entries,
        })
        .collect();
    differences.extend(
        unbalanced
            .into_iter()
            .map(|(transaction, sum)| Difference::Unbalanced { transaction, sum }),
    );
    Ok((accounts as usize, differences))
}

/// One line of a site's trial balance: every account of a kind, summed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialLine {
    pub kind: String,
    pub utility: String,
    pub accounts: i64,
    pub balance: i64,
}

/// The site's trial balance; its lines sum to zero.
pub async fn trial_balance(db: &Db, site: i64) -> Result<Vec<TrialLine>, sqlx::Error> {
    let rows: Vec<(String, String, i64, i64)> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT kind, COALESCE(utility, ''), COUNT(*), CAST(SUM(balance_minor) AS BIGINT) FROM accounts \
             WHERE site_id = $1 GROUP BY kind, COALESCE(utility, '') ORDER BY kind, COALESCE(utility, '')",
        )
        .bind(site)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(kind, utility, accounts, balance)| TrialLine {
            kind,
            utility,
            accounts,
            balance,
        })
        .collect())
}

/// The journal of a site as CSV, one line per entry: for the accounts team. Accounts appear
/// by number and kind only; no names, e-mail addresses or other personal data.
pub async fn journal_csv(
    db: &Db,
    site: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    digits: u32,
) -> Result<String, sqlx::Error> {
    type Row = (
        i64,
        DateTime<Utc>,
        String,
        String,
        Option<i64>,
        i64,
        String,
        Option<String>,
        i64,
    );
    let rows: Vec<Row> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT t.id, t.posted_at, t.kind, t.idempotency_key, t.reverses_id, e.account_id, a.kind, a.utility, e.amount_minor \
             FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id \
             JOIN accounts a ON a.id = e.account_id \
             WHERE t.site_id = $1 AND t.posted_at >= $2 AND t.posted_at < $3 ORDER BY t.id, e.id",
        )
        .bind(site)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
    })?;
    let mut out = String::from(
        "transaction,posted_at,kind,key,reverses,account,account_kind,utility,amount\n",
    );
    for (id, at, kind, key, reverses, account, account_kind, utility, amount) in rows {
        let fields = [
            id.to_string(),
            at.to_rfc3339(),
            kind,
            key,
            reverses.map(|r| r.to_string()).unwrap_or_default(),
            account_number(account),
            account_kind,
            utility.unwrap_or_default(),
            Minor(amount).format(digits),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// The number an account is known by on receipts and statements.
pub fn account_number(id: i64) -> String {
    format!("A{id:07}")
}

/// A CSV field, quoted when it must be, formulas neutralised.
pub use app::domain::csv::field as csv_field;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_merge_entries_and_report_their_sum() {
        let mut posting = Posting::new(1, "k", "test");
        posting.transfer(1, 2, Minor(500)).add(1, Minor(200));
        assert_eq!(posting.sum(), 200);
        posting.add(3, Minor(-200));
        assert_eq!(posting.sum(), 0);
        assert_eq!(
            posting.entries().collect::<Vec<_>>(),
            vec![(1, -300), (2, 500), (3, -200)]
        );
    }
}
