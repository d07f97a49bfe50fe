//! What the resident's planner needs from storage: the tariff in force, where the billing
//! cycle's blocks stand, and the last four weeks of the account's use by local hour, turned
//! into advice by the pure rules in `app::domain::planner`.

use super::{Engine, EngineError, usage::Reader};
use crate::{db::ReadingTime, on_db};
use app::domain::{
    SiteId, Utility,
    money::Minor,
    planner::{LOOK_BACK_DAYS, Planner, Pricing, advise},
    tariff::cycle_start_containing,
};
use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use rust_decimal::Decimal;

impl Engine {
    /// The planner for an account paying for one utility with a tariff; `None` for a unit
    /// wallet of several utilities (each prices differently) or a site without a tariff.
    pub async fn planner(
        &self,
        account: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Planner>, EngineError> {
        let wallet = self.usage_wallet(account).await?;
        let meters = self.wallet_meters(&wallet).await?;
        let [(meter, utility, unit_of_measure)] = meters.as_slice() else {
            return Ok(None);
        };
        let rules = self.rules(SiteId(wallet.site)).await?;
        let plan = self.meter_plan(*meter).await?;
        let Some(tariff) = rules.tariff_now(&plan, *utility, now).cloned() else {
            return Ok(None);
        };
        let cycle_used = self
            .cycle_used(
                *meter,
                cycle_start_containing(now, &wallet.tz, tariff.cycle_start_day),
            )
            .await?;
        let reader = Reader {
            engine: self,
            tz: wallet.tz,
            digits: wallet.digits,
        };
        // Whole local days only: from the first full day of the account, at most four weeks.
        let today = now.with_timezone(&wallet.tz).date_naive();
        let opened = wallet.opened_at.with_timezone(&wallet.tz).date_naive();
        let since = (today - Duration::days(LOOK_BACK_DAYS)).max(opened + Duration::days(1));
        let (first, days) = self.hours_by_day(&reader, account, since, today).await?;
        let total: Decimal = days.iter().flatten().sum();
        Ok(Some(Planner {
            utility: *utility,
            balance: Minor(wallet.balance_minor).to_decimal(wallet.digits),
            days_measured: days.len(),
            advice: advise(&tariff, first, &days),
            pricing: Pricing {
                unit_of_measure: unit_of_measure.clone(),
                currency: wallet.currency,
                digits: wallet.digits,
                cycle_used,
                daily_average: (!days.is_empty()).then(|| total / Decimal::from(days.len())),
                tariff,
            },
        }))
    }

    /// What the meter's next units cost now: the tariff in force for its unit and where its
    /// billing cycle's blocks stand, for the final reading's preview on the meter page.
    /// `None` without a tariff for its utility.
    pub async fn meter_pricing(
        &self,
        meter: i64,
        site: SiteId,
        utility: Utility,
        unit_of_measure: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Pricing>, EngineError> {
        let rules = self.rules(site).await?;
        let plan = self.meter_plan(meter).await?;
        let Some(tariff) = rules.tariff_now(&plan, utility, now).cloned() else {
            return Ok(None);
        };
        let cycle_start = cycle_start_containing(now, &rules.tz, tariff.cycle_start_day);
        Ok(Some(Pricing {
            unit_of_measure: unit_of_measure.to_owned(),
            currency: rules.currency.as_str().to_owned(),
            digits: rules.digits,
            cycle_used: self.cycle_used(meter, cycle_start).await?,
            daily_average: None,
            tariff,
        }))
    }

    /// The meter's consumption in the cycle that started at `cycle_start`; nothing if its
    /// last reading belongs to an earlier cycle.
    async fn cycle_used(
        &self,
        meter: i64,
        cycle_start: DateTime<Utc>,
    ) -> Result<Decimal, EngineError> {
        let row: Option<(Option<DateTime<Utc>>, Option<String>)> = on_db!(&self.db, pool => {
            sqlx::query_as("SELECT cycle_start, cycle_used FROM meter_states WHERE meter_id = $1")
                .bind(meter)
                .fetch_optional(pool)
                .await
        })?;
        match row {
            Some((Some(start), used)) if start == cycle_start => {
                super::decimal_or_zero(used.as_deref())
            }
            _ => Ok(Decimal::ZERO),
        }
    }

    /// Each local day from `first` until `end` (exclusive), as its use per local hour, from
    /// the first day anything was used: a meter fitted last week has no empty weeks before.
    async fn hours_by_day(
        &self,
        reader: &Reader<'_>,
        account: i64,
        first: NaiveDate,
        end: NaiveDate,
    ) -> Result<(NaiveDate, Vec<[Decimal; 24]>), EngineError> {
        let count = usize::try_from((end - first).num_days()).unwrap_or(0);
        let mut days = vec![[Decimal::ZERO; 24]; count];
        if count == 0 {
            return Ok((first, days));
        }
        let rows: Vec<(ReadingTime, i64)> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT hour_start, quantity_micro FROM usage_hourly \
                 WHERE wallet_account_id = $1 AND hour_start >= $2 AND hour_start < $3",
            )
            .bind(account)
            .bind(ReadingTime(reader.instant(first)))
            .bind(ReadingTime(reader.instant(end)))
            .fetch_all(pool)
            .await
        })?;
        for (ReadingTime(hour), quantity) in rows {
            let local = hour.with_timezone(&reader.tz);
            let day = usize::try_from((local.date_naive() - first).num_days()).ok();
            if let Some(day) = day.filter(|day| *day < count) {
                days[day][local.hour() as usize] += Decimal::new(quantity, super::usage::MICRO);
            }
        }
        let unused = days
            .iter()
            .take_while(|hours| hours.iter().all(|used| used.is_zero()))
            .count();
        days.drain(..unused);
        Ok((first + Duration::days(unused as i64), days))
    }
}
