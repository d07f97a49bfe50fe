//! The fleet as the console and the resident pages see it: [`FleetPort`] for the server
//! functions. They have authorised the caller; what depends on stored state is checked here.

use super::{
    Fleet,
    faults::FaultsOf,
    ops::{Actor, NewMeter, register},
};
use crate::{
    db::{ReadingTime, Tx},
    engine::{EngineError, decimal, reports::LocalDays},
    internal,
    ledger::account_number,
    on_db, on_tx,
};
use app::{
    domain::{
        AccountId, Caller, MeterId, OrgId, Role, SiteId, UnitId, UserId,
        alarm_details::AlarmDetail,
        faults::{FaultReport, FaultView},
        fleet::{
            AlarmKind, AlarmNoteView, AlarmStep, AlarmView, CommandView, FleetRules,
            InstalledMeter, MeterDetail, MeterForm, MeterSerial, Operation, Payer,
        },
        meter_readings::{MAX_READINGS, MeterReadings, ReadingView},
        meter_table::MeterList,
        minor_digits,
        reports::DaysAsked,
        site::Currency,
        zone::SiteZone,
    },
    error::AppError,
    ports::{AccountPlace, FleetPort, MeterPlace, MeterViewer},
};
use chrono::{DateTime, Duration, Offset, TimeZone, Utc};
use std::collections::HashMap;

/// The caller's roles that count on a site.
fn roles_on(caller: &Caller, site: SiteId) -> Vec<Role> {
    caller
        .grants
        .iter()
        .filter(|grant| grant.role == Role::Admin || grant.site == Some(site))
        .map(|grant| grant.role)
        .collect()
}

fn parse_form(form: &MeterForm) -> Result<NewMeter, AppError> {
    Ok(NewMeter::parse(
        &form.serial,
        &form.utility,
        if form.multiplier.trim().is_empty() {
            "1"
        } else {
            &form.multiplier
        },
        &form.first_register,
        if form.transport.trim().is_empty() {
            "simulator"
        } else {
            &form.transport
        },
        form.sleeps,
        form.switches_rates,
    )?)
}

#[derive(sqlx::FromRow)]
struct AlarmRow {
    id: i64,
    site_id: i64,
    unit_name: Option<String>,
    serial: Option<String>,
    meter_id: Option<i64>,
    kind: String,
    severity: String,
    status: String,
    detail: String,
    opened_at: DateTime<Utc>,
    time_zone: String,
}

impl From<AlarmRow> for AlarmView {
    fn from(row: AlarmRow) -> Self {
        // Sites' zones are checked when set; UTC is what an unreadable one would mean.
        let tz = row
            .time_zone
            .parse::<chrono_tz::Tz>()
            .unwrap_or(chrono_tz::UTC);
        let moment = AlarmDetail::parse(&row.detail)
            .and_then(AlarmDetail::moment)
            .unwrap_or(row.opened_at);
        let offset = tz
            .offset_from_utc_datetime(&moment.naive_utc())
            .fix()
            .local_minus_utc();
        AlarmView {
            id: row.id,
            site: SiteId(row.site_id),
            unit: row.unit_name,
            meter: row.serial,
            meter_id: row.meter_id,
            label: AlarmKind::parse(&row.kind)
                .map_or_else(|| row.kind.clone(), |k| k.label().to_owned()),
            kind: row.kind,
            severity: row.severity,
            status: row.status,
            detail: row.detail,
            opened_local: row.opened_at.with_timezone(&tz).naive_local(),
            detail_clock: SiteZone::new(tz.name().to_owned(), vec![(i64::MIN, offset)]),
            opened_at: row.opened_at,
            notes: Vec::new(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct NoteRow {
    alarm_id: i64,
    at: DateTime<Utc>,
    step: String,
    note: String,
    author: String,
}

/// The alarms as staff see them, each with its notes: one more query for all of them.
async fn with_notes(tx: &mut Tx, rows: Vec<AlarmRow>) -> Result<Vec<AlarmView>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT n.alarm_id, n.at, n.step, n.note, u.display_name AS author FROM alarm_notes n \
         JOIN users u ON u.id = n.user_id WHERE n.alarm_id IN ({}) ORDER BY n.id",
        crate::db::placeholders(1, rows.len())
    );
    let notes: Vec<NoteRow> = on_tx!(tx, conn => {
        let mut query = sqlx::query_as(&sql);
        for row in &rows {
            query = query.bind(row.id);
        }
        query.fetch_all(&mut *conn).await
    })?;
    let mut by_alarm: HashMap<i64, Vec<NoteRow>> = HashMap::new();
    for note in notes {
        by_alarm.entry(note.alarm_id).or_default().push(note);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let tz = row.time_zone.parse::<chrono_tz::Tz>().ok();
            let notes = by_alarm.remove(&row.id).unwrap_or_default();
            let mut view = AlarmView::from(row);
            view.notes = notes
                .into_iter()
                .map(|note| AlarmNoteView {
                    at_local: tz.map_or_else(
                        || note.at.naive_utc(),
                        |tz| note.at.with_timezone(&tz).naive_local(),
                    ),
                    by: note.author,
                    step: note.step,
                    note: note.note,
                })
                .collect();
            view
        })
        .collect())
}

const ALARM_SELECT: &str = "SELECT a.id, a.site_id, u.name AS unit_name, m.serial, a.meter_id, a.kind, a.severity, \
     a.status, a.detail, a.opened_at, si.time_zone FROM alarms a JOIN sites si ON si.id = a.site_id \
     LEFT JOIN units u ON u.id = a.unit_id LEFT JOIN meters m ON m.id = a.meter_id";

#[derive(sqlx::FromRow)]
struct MeterRow {
    id: i64,
    unit_id: i64,
    site_id: i64,
    site_name: String,
    time_zone: String,
    unit_name: String,
    serial: String,
    utility: String,
    transport: String,
    sleeps: bool,
    switches_rates: bool,
    multiplier: String,
    installed_at: DateTime<Utc>,
    removed_at: Option<DateTime<Utc>>,
    last_seen_at: Option<DateTime<Utc>>,
    online: Option<bool>,
    signal_dbm: Option<i32>,
    battery_pct: Option<i32>,
    relay: Option<String>,
    relay_reported: Option<String>,
    safety_hold: Option<String>,
    clock_offset_s: Option<i64>,
    last_reading_at: Option<ReadingTime>,
    last_register: Option<String>,
    wraps_at: Option<String>,
    master_id: Option<i64>,
    master_serial: Option<String>,
    replaced_by_id: Option<i64>,
    replaced_by_serial: Option<String>,
    replaces_id: Option<i64>,
    replaces_serial: Option<String>,
    sub_meters: i64,
    unit_of_measure: String,
    currency: String,
}

#[derive(sqlx::FromRow)]
struct ReadingRow {
    #[sqlx(try_from = "ReadingTime")]
    taken_at: DateTime<Utc>,
    #[sqlx(try_from = "ReadingTime")]
    received_at: DateTime<Utc>,
    register: String,
    status: String,
    quantity: Option<String>,
    net: Option<String>,
    tax: Option<String>,
    note: Option<String>,
}

const READING_SELECT: &str =
    "SELECT taken_at, received_at, register, status, quantity, net, tax, note FROM readings";

/// How many of a meter's readings its page lists, newest first.
const READINGS_SHOWN: i64 = 20;

impl TryFrom<ReadingRow> for ReadingView {
    type Error = EngineError;

    fn try_from(row: ReadingRow) -> Result<Self, EngineError> {
        let exact = |raw: Option<String>| raw.as_deref().map(decimal).transpose();
        Ok(ReadingView {
            taken_at: row.taken_at,
            received_at: row.received_at,
            register: row.register,
            status: row.status,
            quantity: exact(row.quantity)?,
            net: exact(row.net)?,
            tax: exact(row.tax)?,
            note: row.note,
        })
    }
}

fn reading_views(rows: Vec<ReadingRow>) -> Result<Vec<ReadingView>, AppError> {
    rows.into_iter()
        .map(ReadingView::try_from)
        .collect::<Result<_, _>>()
        .map_err(internal)
}

#[derive(sqlx::FromRow)]
struct CommandRow {
    id: i64,
    seq: i64,
    command: String,
    reason: String,
    status: String,
    attempts: i32,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
}

#[async_trait::async_trait]
impl FleetPort for Fleet {
    async fn meter_place(
        &self,
        meter: MeterId,
        viewer: UserId,
    ) -> Result<Option<MeterPlace>, AppError> {
        let now = Utc::now();
        let mut tx = self.engine().db.begin_read().await.map_err(internal)?;
        let row: Option<(i64, i64, Option<DateTime<Utc>>)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(
                "SELECT b.site_id, s.organisation_id, (SELECT MAX(o.starts_at) FROM occupancies o WHERE o.user_id = $2 \
                 AND o.unit_id = m.unit_id AND o.starts_at <= $3 AND (o.ends_at IS NULL OR o.ends_at > $3)) \
                 FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
                 JOIN sites s ON s.id = b.site_id WHERE m.id = $1",
            )
            .bind(meter.0)
            .bind(viewer.0)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await
        })
        .map_err(internal)?;
        Ok(row.map(|(site, org, stay_began)| MeterPlace {
            place: AccountPlace {
                site: SiteId(site),
                org: OrgId(org),
                occupant: stay_began.map(|_| viewer),
            },
            stay_began,
        }))
    }

    async fn alarm_place(&self, alarm: i64) -> Result<Option<AccountPlace>, AppError> {
        let mut tx = self.engine().db.begin_read().await.map_err(internal)?;
        let row: Option<(i64, i64)> = on_tx!(&mut tx, conn => {
            sqlx::query_as("SELECT a.site_id, s.organisation_id FROM alarms a JOIN sites s ON s.id = a.site_id WHERE a.id = $1")
                .bind(alarm)
                .fetch_optional(&mut *conn)
                .await
        })
        .map_err(internal)?;
        Ok(row.map(|(site, org)| AccountPlace {
            site: SiteId(site),
            org: OrgId(org),
            occupant: None,
        }))
    }

    async fn meter(&self, meter: MeterId, viewer: MeterViewer) -> Result<MeterDetail, AppError> {
        // Staff see from the epoch, before any meter on this platform; a resident from the start
        // of their stay.
        let seen_from = viewer.sees_from().unwrap_or(DateTime::UNIX_EPOCH);
        let mut tx = self.engine().db.begin_read().await.map_err(internal)?;
        let (row, commands, alarms, readings): (Option<MeterRow>, Vec<CommandRow>, Vec<AlarmRow>, Vec<ReadingRow>) = on_tx!(&mut tx, conn => {
            // The meter it replaced stood in the same unit (a replacement always does), so
            // that join reads the unit's few meters by `meters_by_unit` instead of every
            // meter, on a page drawn again every two seconds.
            let row = sqlx::query_as(
                "SELECT m.id, m.unit_id, b.site_id, si.name AS site_name, si.time_zone, u.name AS unit_name, m.serial, m.utility, m.transport, \
                 m.sleeps, m.switches_rates, m.multiplier, m.installed_at, m.removed_at, st.last_seen_at, st.online, st.signal_dbm, \
                 st.battery_pct, ms.relay, st.relay_reported, ms.safety_hold, st.clock_offset_s, \
                 ms.last_reading_at, ms.last_register, ms.wraps_at, mm.id AS master_id, mm.serial AS master_serial, \
                 (SELECT COUNT(*) FROM meters sm WHERE sm.master_meter_id = m.id AND sm.removed_at IS NULL) AS sub_meters, \
                 m.unit_of_measure, si.currency, rb.id AS replaced_by_id, rb.serial AS replaced_by_serial, \
                 rp.id AS replaces_id, rp.serial AS replaces_serial \
                 FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
                 JOIN sites si ON si.id = b.site_id LEFT JOIN meter_status st ON st.meter_id = m.id \
                 LEFT JOIN meter_states ms ON ms.meter_id = m.id LEFT JOIN meters mm ON mm.id = m.master_meter_id \
                 LEFT JOIN meters rb ON rb.id = m.replaced_by \
                 LEFT JOIN meters rp ON rp.unit_id = m.unit_id AND rp.replaced_by = m.id AND rp.removed_at > $2 \
                 WHERE m.id = $1",
            )
            .bind(meter.0)
            .bind(seen_from)
            .fetch_optional(&mut *conn)
            .await?;
            let commands = sqlx::query_as(
                "SELECT id, seq, command, reason, status, attempts, created_at, finished_at, error \
                 FROM meter_commands WHERE meter_id = $1 ORDER BY seq DESC LIMIT 20",
            )
            .bind(meter.0)
            .fetch_all(&mut *conn)
            .await?;
            // A resident's are those raised in their stay and any still open: an earlier
            // household's resolved alarms are its history, not theirs.
            let alarms = sqlx::query_as(&format!(
                "{ALARM_SELECT} WHERE a.meter_id = $1 AND (a.status <> 'resolved' OR a.opened_at >= $2) \
                 ORDER BY a.id DESC LIMIT 20"
            ))
            .bind(meter.0)
            .bind(seen_from)
            .fetch_all(&mut *conn)
            .await?;
            // Newest taken first, on the meter's (meter_id, taken_at) key, which also bounds
            // a resident's to their stay without reading past it.
            let readings = sqlx::query_as(&format!(
                "{READING_SELECT} WHERE meter_id = $1 AND taken_at >= $2 ORDER BY taken_at DESC LIMIT $3"
            ))
            .bind(meter.0)
            .bind(ReadingTime(seen_from))
            .bind(READINGS_SHOWN)
            .fetch_all(&mut *conn)
            .await?;
            Ok::<_, sqlx::Error>((row, commands, alarms, readings))
        })
        .map_err(internal)?;
        let row = row.ok_or(AppError::NotFound)?;
        let digits = Currency::parse(&row.currency)
            .map(|currency| minor_digits(&currency))
            .map_err(internal)?;
        let tz = crate::engine::time_zone(&row.time_zone).map_err(internal)?;
        let utility = row.utility.parse().map_err(internal)?;
        // For the final reading's preview: staff only, and only where that reading is charged
        // (a bulk meter's use is charged on its sub-meters).
        let charged =
            viewer == MeterViewer::Staff && row.removed_at.is_none() && row.sub_meters == 0;
        let now = Utc::now();
        let pricing = if charged {
            self.engine()
                .meter_pricing(
                    row.id,
                    SiteId(row.site_id),
                    utility,
                    &row.unit_of_measure,
                    now,
                )
                .await
                .map_err(internal)?
        } else {
            None
        };
        let payer = match pricing {
            Some(_) => Some(
                match self
                    .engine()
                    .payer_at(row.id, row.unit_id, now)
                    .await
                    .map_err(internal)?
                {
                    Some(account) => Payer::Account(account_number(account)),
                    None => Payer::Landlord,
                },
            ),
            None => None,
        };
        Ok(MeterDetail {
            zone: crate::engine::site_zone(tz, Utc::now()),
            id: row.id,
            site: SiteId(row.site_id),
            site_name: row.site_name,
            unit: row.unit_name,
            serial: row.serial,
            utility,
            transport: row.transport,
            sleeps: row.sleeps,
            switches_rates: row.switches_rates,
            multiplier: row.multiplier,
            installed_at: row.installed_at,
            removed_at: row.removed_at,
            last_seen_at: row.last_seen_at,
            online: row.online.unwrap_or(true),
            signal_dbm: row.signal_dbm,
            battery_pct: row.battery_pct,
            relay_wanted: row.relay.unwrap_or_else(|| "open".into()),
            relay_reported: row.relay_reported,
            safety_hold: row.safety_hold,
            clock_offset_s: row.clock_offset_s,
            last_reading_at: row.last_reading_at.map(|ReadingTime(at)| at),
            last_register: row.last_register,
            wraps_at: row.wraps_at,
            master: row.master_id.zip(row.master_serial),
            sub_meters: row.sub_meters,
            replaced_by: row.replaced_by_id.zip(row.replaced_by_serial),
            replaces: row.replaces_id.zip(row.replaces_serial),
            pricing,
            payer,
            commands: commands
                .into_iter()
                .map(|c| CommandView {
                    id: c.id,
                    seq: c.seq,
                    command: c.command,
                    reason: c.reason,
                    status: c.status,
                    attempts: c.attempts,
                    created_at: c.created_at,
                    finished_at: c.finished_at,
                    error: c.error,
                })
                .collect(),
            alarms: if viewer == MeterViewer::Staff {
                with_notes(&mut tx, alarms).await.map_err(internal)?
            } else {
                alarms.into_iter().map(AlarmView::from).collect()
            },
            readings: reading_views(readings)?,
            unit_of_measure: row.unit_of_measure,
            currency: row.currency,
            digits,
        })
    }

    async fn meter_readings(
        &self,
        meter: MeterId,
        site: SiteId,
        asked: DaysAsked,
        viewer: MeterViewer,
    ) -> Result<MeterReadings, AppError> {
        let LocalDays {
            heading,
            days,
            start,
            end,
        } = self.engine().local_days(site, asked).await?;
        let mut tx = self.engine().db.begin_read().await.map_err(internal)?;
        let start = viewer.sees_from().map_or(start, |from| start.max(from));
        let (serial, unit_of_measure, rows): (String, String, Vec<ReadingRow>) = on_tx!(&mut tx, conn => {
            let (serial, uom) = sqlx::query_as("SELECT serial, unit_of_measure FROM meters WHERE id = $1")
                .bind(meter.0)
                .fetch_one(&mut *conn)
                .await?;
            // One more than a file holds, to tell a full file from one cut short.
            let rows = sqlx::query_as(&format!(
                "{READING_SELECT} WHERE meter_id = $1 AND taken_at >= $2 AND taken_at < $3 ORDER BY taken_at LIMIT $4"
            ))
            .bind(meter.0)
            .bind(ReadingTime(start))
            .bind(ReadingTime(end))
            .bind(MAX_READINGS as i64 + 1)
            .fetch_all(&mut *conn)
            .await?;
            Ok::<_, sqlx::Error>((serial, uom, rows))
        })
        .map_err(internal)?;
        if rows.len() > MAX_READINGS {
            return Err(AppError::Invalid(format!(
                "{serial} sent more than {MAX_READINGS} readings in these days: ask for fewer days."
            )));
        }
        Ok(MeterReadings {
            serial,
            unit_of_measure,
            currency: heading.currency,
            // Covers the 400 days before the last one asked, as many as may be asked.
            zone: crate::engine::site_zone(heading.tz, end),
            days,
            readings: reading_views(rows)?,
        })
    }

    async fn site_alarms(&self, site: SiteId, resolved: bool) -> Result<Vec<AlarmView>, AppError> {
        let since = Utc::now() - Duration::days(7);
        let mut tx = self.engine().db.begin_read().await.map_err(internal)?;
        let rows: Vec<AlarmRow> = on_tx!(&mut tx, conn => {
            sqlx::query_as(&format!(
                "{ALARM_SELECT} WHERE a.site_id = $1 AND (a.status <> 'resolved' OR ($2 AND a.opened_at > $3)) \
                 ORDER BY a.status = 'resolved', a.severity = 'warning', a.id DESC LIMIT 200"
            ))
            .bind(site.0)
            .bind(resolved)
            .bind(since)
            .fetch_all(&mut *conn)
            .await
        })
        .map_err(internal)?;
        with_notes(&mut tx, rows).await.map_err(internal)
    }

    async fn my_alarms(&self, caller: &Caller) -> Result<Vec<AlarmView>, AppError> {
        let now = Utc::now();
        // One statement, outside a transaction: its own snapshot, without the two round trips
        // a transaction adds on every resident's home page.
        let rows: Vec<AlarmRow> = on_db!(&self.engine().db, conn => {
            sqlx::query_as(&format!(
                "{ALARM_SELECT} WHERE a.status <> 'resolved' AND a.kind IN ('gas_leak', 'overload', 'water_flow', 'water_spike', 'offline') \
                 AND a.unit_id IN (SELECT o.unit_id FROM occupancies o WHERE o.user_id = $1 AND o.starts_at <= $2 \
                 AND (o.ends_at IS NULL OR o.ends_at > $2)) ORDER BY a.id DESC"
            ))
            .bind(caller.user_id.0)
            .bind(now)
            .fetch_all(conn)
            .await
        })
        .map_err(internal)?;
        Ok(rows.into_iter().map(AlarmView::from).collect())
    }

    async fn site_meters(&self, site: SiteId) -> Result<MeterList, AppError> {
        Ok(self.meter_list(site.0).await?)
    }

    async fn held_cut_offs(&self, site: SiteId) -> Result<i64, AppError> {
        let mut tx = self.engine().db.begin_read().await.map_err(internal)?;
        on_tx!(&mut tx, conn => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM meter_commands c JOIN meters m ON m.id = c.meter_id JOIN units u ON u.id = m.unit_id \
                 JOIN buildings b ON b.id = u.building_id WHERE b.site_id = $1 AND c.status = 'held'",
            )
            .bind(site.0)
            .fetch_one(&mut *conn)
            .await
        })
        .map_err(internal)
    }

    async fn operate(
        &self,
        caller: &Caller,
        site: SiteId,
        meter: MeterId,
        operation: Operation,
        reason: &str,
    ) -> Result<(), AppError> {
        let actor = Actor {
            user: caller.user_id.0,
            roles: roles_on(caller, site),
        };
        Ok(Fleet::operate(self, &actor, meter.0, operation, reason).await?)
    }

    async fn install(
        &self,
        caller: &Caller,
        unit: UnitId,
        form: MeterForm,
    ) -> Result<InstalledMeter, AppError> {
        let meter = parse_form(&form)?;
        Ok(Fleet::install(self, caller.user_id.0, unit.0, meter).await?)
    }

    async fn replace(
        &self,
        caller: &Caller,
        meter: MeterId,
        final_register: &str,
        form: MeterForm,
    ) -> Result<InstalledMeter, AppError> {
        let final_register = register(final_register)?;
        let new = parse_form(&form)?;
        Ok(Fleet::replace(self, caller.user_id.0, meter.0, final_register, new).await?)
    }

    async fn decommission(
        &self,
        caller: &Caller,
        meter: MeterId,
        final_register: &str,
    ) -> Result<(), AppError> {
        let final_register = register(final_register)?;
        Ok(Fleet::decommission(self, caller.user_id.0, meter.0, final_register).await?)
    }

    async fn correct(
        &self,
        caller: &Caller,
        meter: MeterId,
        serial: &str,
        multiplier: &str,
    ) -> Result<bool, AppError> {
        let serial = MeterSerial::parse(serial).map_err(AppError::Invalid)?;
        let multiplier = app::domain::Multiplier::parse(multiplier)
            .map_err(|bad| AppError::Invalid(bad.to_string()))?;
        Ok(Fleet::correct(self, caller.user_id.0, meter.0, &serial, multiplier).await?)
    }

    async fn set_master(
        &self,
        caller: &Caller,
        meter: MeterId,
        master: &str,
    ) -> Result<(), AppError> {
        let master = match master.trim() {
            "" => None,
            serial => Some(MeterSerial::parse(serial).map_err(AppError::Invalid)?),
        };
        Ok(Fleet::set_master(self, caller.user_id.0, meter.0, master.as_ref()).await?)
    }

    async fn step_alarm(
        &self,
        caller: &Caller,
        alarm: i64,
        step: AlarmStep,
        note: &str,
    ) -> Result<(), AppError> {
        Ok(Fleet::step_alarm(self, caller.user_id.0, alarm, step, note).await?)
    }

    async fn note_alarm(
        &self,
        caller: &Caller,
        alarm: i64,
        note: &str,
        nonce: &str,
    ) -> Result<(), AppError> {
        Ok(Fleet::note_alarm(self, caller.user_id.0, alarm, note, nonce).await?)
    }

    async fn release_held(&self, caller: &Caller, site: SiteId) -> Result<u64, AppError> {
        let released = Fleet::release_held(self, caller.user_id.0, site.0).await?;
        Ok(released)
    }

    async fn report_fault(
        &self,
        caller: &Caller,
        account: AccountId,
        report: FaultReport,
        nonce: &str,
    ) -> Result<(i64, bool), AppError> {
        Ok(Fleet::report_fault(self, caller.user_id.0, account.0, &report, nonce).await?)
    }

    async fn close_fault(&self, caller: &Caller, fault: i64, note: &str) -> Result<(), AppError> {
        Ok(Fleet::close_fault(self, caller.user_id.0, fault, note).await?)
    }

    async fn fault_place(&self, fault: i64) -> Result<Option<(SiteId, OrgId)>, AppError> {
        let place = self.fault_site(fault).await?;
        Ok(place.map(|(site, org)| (SiteId(site), OrgId(org))))
    }

    async fn site_faults(&self, site: SiteId, closed: bool) -> Result<Vec<FaultView>, AppError> {
        Ok(self
            .faults(FaultsOf::Site {
                site: site.0,
                closed,
            })
            .await?)
    }

    async fn account_faults(&self, account: AccountId) -> Result<Vec<FaultView>, AppError> {
        Ok(self.faults(FaultsOf::Account(account.0)).await?)
    }

    async fn rules(&self, site: SiteId) -> Result<FleetRules, AppError> {
        let mut tx = self.engine().db.begin_read().await.map_err(internal)?;
        Ok(super::load_rules(&mut tx, site.0).await?)
    }

    async fn set_rules(
        &self,
        caller: &Caller,
        site: SiteId,
        rules: FleetRules,
    ) -> Result<(), AppError> {
        Ok(Fleet::set_rules(self, Some(caller.user_id.0), site.0, &rules).await?)
    }
}
