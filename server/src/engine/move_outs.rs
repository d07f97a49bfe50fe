//! Move-outs chosen in the console: the residents of a site now, and a batch of them (the end
//! of a term) previewed or moved out. Each resident is settled in their own transaction by
//! [`Engine::move_out`], so one who cannot go (gone already, moved elsewhere meanwhile) stops
//! nobody else, and a batch sent twice moves nobody twice.

use super::{Engine, EngineError, occupancy::Settlement};
use crate::on_db;
use app::domain::{
    Minor, SiteId, UnitId,
    occupancy::{MoveOutBatch, MoveOutLine, Occupant, Occupants},
};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
struct Resident {
    id: i64,
    site_id: i64,
    unit_id: i64,
    user_id: i64,
    building: String,
    unit: String,
    name: String,
    email: String,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
    balance_minor: i64,
}

impl Resident {
    fn who(&self) -> String {
        format!("{} · {} · {}", self.building, self.unit, self.name)
    }
}

/// A resident with what their own open accounts (those opened for their occupancy) hold.
const RESIDENT: &str = "SELECT o.id, b.site_id, o.unit_id, o.user_id, b.name AS building, \
    u.name AS unit, p.display_name AS name, p.email, o.starts_at, o.ends_at, \
    (SELECT CAST(COALESCE(SUM(a.balance_minor), 0) AS BIGINT) FROM wallets w JOIN accounts a ON a.id = w.account_id \
      WHERE w.occupancy_id = o.id AND w.closed_at IS NULL) AS balance_minor \
    FROM occupancies o JOIN units u ON u.id = o.unit_id JOIN buildings b ON b.id = u.building_id \
    JOIN users p ON p.id = o.user_id";

impl Engine {
    /// Everyone living at the site at `now`.
    pub async fn occupants_at(
        &self,
        site: SiteId,
        now: DateTime<Utc>,
    ) -> Result<Occupants, EngineError> {
        let terms = self.site_heading(site).await?;
        let sql = format!(
            "{RESIDENT} WHERE b.site_id = $1 AND o.starts_at <= $2 AND (o.ends_at IS NULL OR o.ends_at > $2) \
             ORDER BY b.name, u.name, p.display_name, o.id"
        );
        let rows: Vec<Resident> = on_db!(&self.db, pool => {
            sqlx::query_as(&sql).bind(site.0).bind(now).fetch_all(pool).await
        })?;
        Ok(Occupants {
            site_name: terms.name.clone(),
            currency: terms.currency.clone(),
            occupants: rows
                .into_iter()
                .map(|row| Occupant {
                    since: row
                        .starts_at
                        .with_timezone(&terms.tz)
                        .format("%Y-%m-%d")
                        .to_string(),
                    balance: Minor(row.balance_minor).format(terms.digits),
                    balance_minor: row.balance_minor,
                    id: row.id,
                    building: row.building,
                    unit: row.unit,
                    name: row.name,
                    email: row.email,
                })
                .collect(),
        })
    }

    /// Previews (`commit` false) or does the move-outs of a batch, one line per occupancy in
    /// the order given. Only the site's residents of now are moved; every other id is a line
    /// with its reason and changes nothing.
    pub async fn move_out_batch(
        &self,
        site: SiteId,
        occupancies: &[i64],
        commit: bool,
        actor: Option<i64>,
    ) -> Result<MoveOutBatch, EngineError> {
        let terms = self.site_heading(site).await?;
        let sql = format!("{RESIDENT} WHERE o.id = $1");
        let mut lines = Vec::with_capacity(occupancies.len());
        let (mut refund, mut debt) = (Minor::ZERO, Minor::ZERO);
        for &id in occupancies {
            let row: Option<Resident> = on_db!(&self.db, pool => {
                sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
            })?;
            let line = match row.filter(|row| row.site_id == site.0) {
                None => refused(id, String::new(), "Not a resident of this site."),
                Some(row) if row.ends_at.is_some_and(|end| end <= Utc::now()) => {
                    refused(id, row.who(), "Moved out already.")
                }
                Some(row) => {
                    let settled = if commit {
                        self.move_out(UnitId(row.unit_id), row.user_id, Vec::new(), None, actor)
                            .await
                    } else {
                        self.settlement_preview(UnitId(row.unit_id), row.user_id)
                            .await
                    };
                    match settled {
                        Ok(settlement) => {
                            refund = refund + settlement.refund;
                            debt = debt + settlement.debt;
                            settled_line(id, row.who(), &settlement, terms.digits)
                        }
                        // Gone between the read above and the move-out: someone else moved
                        // them (another tab, the API). Nothing changed here.
                        Err(EngineError::NotFound(_)) => {
                            refused(id, row.who(), "Moved out already.")
                        }
                        Err(EngineError::Refused(why)) => refused(id, row.who(), &why),
                        Err(other) => return Err(other),
                    }
                }
            };
            lines.push(line);
        }
        Ok(MoveOutBatch {
            done: commit,
            currency: terms.currency,
            lines,
            refund_total: refund.format(terms.digits),
            debt_total: debt.format(terms.digits),
        })
    }
}

fn settled_line(id: i64, who: String, settlement: &Settlement, digits: u32) -> MoveOutLine {
    MoveOutLine {
        id,
        who,
        accounts: settlement.wallets.len(),
        refund: settlement.refund.format(digits),
        debt: settlement.debt.format(digits),
        problem: None,
    }
}

fn refused(id: i64, who: String, why: &str) -> MoveOutLine {
    MoveOutLine {
        id,
        who,
        accounts: 0,
        refund: String::new(),
        debt: String::new(),
        problem: Some(why.to_owned()),
    }
}
