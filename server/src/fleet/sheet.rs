//! A site's model as a sheet ([`SheetsPort`]): a dry run that names every bad line, an import
//! that commits all of it in one transaction or nothing, and an export in the same columns.
//!
//! The sheet is planned against the database inside the transaction that commits it, so a
//! dry run and a commit judge a file by the same rules, and what changed in between (a
//! serial installed elsewhere, an e-mail address taken) is caught at the commit.

use super::{
    Fleet, broker,
    imports::{Imports, Tracker},
};
use crate::{
    audit::AuditEntry,
    auth::{password, recovery::Recovery},
    db::Tx,
    engine::{EngineError, occupancy::open_wallets, rating::IncomingReading},
    internal, on_db, on_tx,
};
use app::{
    domain::{
        Caller, SiteId, Utility,
        losses::{LinkEnd, check_master},
        messaging::Channel,
        site_sheet::{
            self, ExportedMeter, ImportCheck, Problem, Progress, SheetMeter, SheetResident,
            SheetSummary, Step,
        },
        tariff::Plan as TariffPlan,
    },
    error::AppError,
    ports::SheetsPort,
};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// A building's name and a unit's, which name a unit within a site.
type Place = (String, String);

/// What a commit did: its check, the first registers to rate, the people to invite, and the
/// serials of the masters it linked meters to.
type Committed = (ImportCheck, Vec<IncomingReading>, Vec<i64>, Vec<String>);

/// The sheets of every site, for the console.
#[derive(Clone)]
pub struct SiteSheets {
    fleet: Fleet,
    recovery: Recovery,
    imports: Imports,
}

impl SiteSheets {
    pub fn new(fleet: Fleet, recovery: Recovery) -> Self {
        SiteSheets {
            fleet,
            recovery,
            imports: Imports::default(),
        }
    }
}

/// What a sheet adds to the site, once every line is known to be good.
#[derive(Default)]
struct Plan {
    buildings: Vec<String>,
    /// New units, their kind and tariff plan.
    units: Vec<(Place, &'static str, TariffPlan)>,
    meters: Vec<(Place, SheetMeter)>,
    residents: Vec<(Place, SheetResident)>,
    /// Meters to link to the master that feeds them, by serial.
    links: Vec<(String, String)>,
    problems: Vec<Problem>,
    lines: usize,
}

impl Plan {
    fn check(&self) -> ImportCheck {
        ImportCheck {
            lines: self.lines,
            buildings: self.buildings.len(),
            units: self.units.len(),
            meters: self.meters.len(),
            residents: self.residents.len(),
            links: self.links.len(),
            problems: self.problems.clone(),
            ..ImportCheck::default()
        }
    }
}

/// What the site and the platform hold already, as far as a sheet can collide with it.
struct Holdings {
    buildings: HashMap<String, i64>,
    /// Each unit's id, kind and tariff plan as stored.
    units: HashMap<Place, (i64, String, String)>,
    /// The tariff plans the site has published (the standard one is always there).
    plans: HashSet<String>,
    /// Every meter's serial (serials are unique platform-wide), with where it is installed in
    /// this site, if it is.
    serials: HashMap<String, Option<(Place, String)>>,
    /// This site's installed meters by unit and utility.
    installed: HashMap<(Place, String), String>,
    /// This site's installed meters by serial: their utility and the serial of their master.
    links: HashMap<String, (Utility, Option<String>)>,
    emails: HashSet<String>,
    phones: HashSet<String>,
    /// This site's occupied units and the e-mail addresses of who lives there.
    occupants: HashMap<Place, Vec<String>>,
}

#[derive(sqlx::FromRow)]
struct MeterRow {
    serial: String,
    site_id: i64,
    building: String,
    unit: String,
    utility: String,
    installed: bool,
    master: Option<String>,
}

async fn holdings(tx: &mut Tx, site: i64) -> Result<Holdings, sqlx::Error> {
    let buildings: Vec<(String, i64)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT name, id FROM buildings WHERE site_id = $1")
            .bind(site).fetch_all(&mut *conn).await
    })?;
    let units: Vec<(String, String, i64, String, String)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT b.name, u.name, u.id, u.kind, u.tariff_plan FROM units u JOIN buildings b ON b.id = u.building_id \
             WHERE b.site_id = $1",
        )
        .bind(site).fetch_all(&mut *conn).await
    })?;
    let plans: Vec<String> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT DISTINCT plan FROM tariffs WHERE site_id = $1")
            .bind(site).fetch_all(&mut *conn).await
    })?;
    let meters: Vec<MeterRow> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT m.serial, b.site_id, b.name AS building, u.name AS unit, m.utility, \
             m.removed_at IS NULL AS installed, f.serial AS master \
             FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id \
             LEFT JOIN meters f ON f.id = m.master_meter_id",
        )
        .fetch_all(&mut *conn).await
    })?;
    let people: Vec<(String, Option<String>)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT email, phone FROM users").fetch_all(&mut *conn).await
    })?;
    let occupants: Vec<(String, String, String)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT b.name, u.name, p.email FROM occupancies o JOIN users p ON p.id = o.user_id \
             JOIN units u ON u.id = o.unit_id JOIN buildings b ON b.id = u.building_id \
             WHERE b.site_id = $1 AND o.ends_at IS NULL",
        )
        .bind(site).fetch_all(&mut *conn).await
    })?;
    let mut held = Holdings {
        buildings: buildings.into_iter().collect(),
        units: units
            .into_iter()
            .map(|(building, unit, id, kind, plan)| ((building, unit), (id, kind, plan)))
            .collect(),
        plans: plans.into_iter().chain([String::new()]).collect(),
        serials: HashMap::new(),
        installed: HashMap::new(),
        links: HashMap::new(),
        emails: HashSet::new(),
        phones: HashSet::new(),
        occupants: HashMap::new(),
    };
    for meter in meters {
        let here = meter.installed && meter.site_id == site;
        let place = (meter.building, meter.unit);
        if here && let Ok(utility) = meter.utility.parse() {
            held.installed
                .insert((place.clone(), meter.utility.clone()), meter.serial.clone());
            held.links
                .insert(meter.serial.clone(), (utility, meter.master));
        }
        held.serials
            .insert(meter.serial, here.then_some((place, meter.utility)));
    }
    for (email, phone) in people {
        held.emails.insert(email.to_lowercase());
        held.phones.extend(phone);
    }
    for (building, unit, email) in occupants {
        held.occupants
            .entry((building, unit))
            .or_default()
            .push(email.to_lowercase());
    }
    Ok(held)
}

/// Judges every line of the sheet against what the site holds, and lists what it adds. A line
/// already true of the site (its unit, meter and resident there as it says) adds nothing.
fn plan(sheet: site_sheet::Sheet, held: &Holdings) -> Plan {
    let mut plan = Plan {
        lines: sheet.rows,
        problems: sheet.problems,
        ..Plan::default()
    };
    let mut new_units: HashSet<Place> = HashSet::new();
    let mut new_residents: HashSet<String> = HashSet::new();
    let mut asked_links: Vec<AskedLink> = Vec::new();
    for line in sheet.lines {
        let place: Place = (line.building.clone(), line.unit.clone());
        let mut problem = |reason: String| plan.problems.push(Problem::new(line.number, reason));
        match held.units.get(&place) {
            Some((_, kind, _)) if kind != line.kind => {
                problem(format!(
                    "Unit {} of {} is a {kind} already.",
                    place.1, place.0
                ));
                continue;
            }
            Some((_, _, on)) if line.plan.as_ref().is_some_and(|p| p.as_str() != on) => {
                problem(format!(
                    "Unit {} of {} is on the {} plan: change it on its page.",
                    place.1,
                    place.0,
                    TariffPlan::parse(on).unwrap_or_default()
                ));
                continue;
            }
            Some(_) => {}
            None if line
                .plan
                .as_ref()
                .is_some_and(|p| !held.plans.contains(p.as_str())) =>
            {
                let wanted = line
                    .plan
                    .as_ref()
                    .map(TariffPlan::label)
                    .unwrap_or_default();
                problem(format!(
                    "The site has no tariff plan called {wanted}: a plan exists once a version of it is approved."
                ));
                continue;
            }
            None if new_units.insert(place.clone()) => {
                if !held.buildings.contains_key(&place.0) && !plan.buildings.contains(&place.0) {
                    plan.buildings.push(place.0.clone());
                }
                plan.units.push((
                    place.clone(),
                    line.kind,
                    line.plan.clone().unwrap_or_default(),
                ));
            }
            None => {}
        }
        if let Some(meter) = line.meter {
            let utility = meter.utility.as_str().to_owned();
            let link = meter.master.as_ref().map(|master| AskedLink {
                line: line.number,
                serial: meter.serial.to_string(),
                utility: meter.utility,
                master: master.to_string(),
            });
            match held.serials.get(meter.serial.as_str()) {
                Some(Some(there)) if *there == (place.clone(), utility.clone()) => {
                    let linked = held
                        .links
                        .get(meter.serial.as_str())
                        .and_then(|l| l.1.as_ref());
                    match (link, linked) {
                        (Some(link), Some(now)) if *now != link.master => problem(format!(
                            "Meter {} is fed by {now}: change its master on its page.",
                            meter.serial
                        )),
                        (Some(_), Some(_)) | (None, _) => {}
                        (Some(link), None) => asked_links.push(link),
                    }
                }
                Some(_) => problem(format!("Serial {} belongs to another meter.", meter.serial)),
                None => match held.installed.get(&(place.clone(), utility)) {
                    Some(serial) => problem(format!(
                        "This unit has a {} meter already ({serial}).",
                        meter.utility.as_str()
                    )),
                    None => {
                        asked_links.extend(link);
                        plan.meters.push((place.clone(), meter));
                    }
                },
            }
        }
        if let Some(resident) = line.resident {
            let email = resident.email.as_str().to_owned();
            match held.occupants.get(&place) {
                Some(living) if living.contains(&email) => {}
                Some(_) => problem("The unit is occupied: move its resident out first.".into()),
                None if held.emails.contains(&email) => {
                    problem(format!("An account with {email} exists already."))
                }
                None if resident
                    .phone
                    .as_ref()
                    .is_some_and(|phone| held.phones.contains(phone.as_str())) =>
                {
                    problem("Another account has this phone number.".into())
                }
                None if new_residents.insert(email) => plan.residents.push((place, resident)),
                None => {}
            }
        }
    }
    let new_meters: HashMap<String, Utility> = plan
        .meters
        .iter()
        .map(|(_, meter)| (meter.serial.to_string(), meter.utility))
        .collect();
    let (links, problems) = check_links(asked_links, held, &new_meters);
    plan.links = links;
    plan.problems.extend(problems);
    plan.problems.sort_by_key(|problem| problem.line);
    plan
}

/// A link a line asks for: its meter, by serial, fed by the meter with the serial `master`.
struct AskedLink {
    line: usize,
    serial: String,
    utility: Utility,
    master: String,
}

/// The links that may be made, and a problem for each that may not, judged as a link from the
/// meter page is ([`check_master`]): the master a meter of the site or of the sheet, of the
/// same utility, and no loop through the site's links and the sheet's together.
fn check_links(
    asked: Vec<AskedLink>,
    held: &Holdings,
    new_meters: &HashMap<String, Utility>,
) -> (Vec<(String, String)>, Vec<Problem>) {
    // Every meter a link may name gets a number, as `check_master` compares ids.
    let mut ids: HashMap<&str, i64> = HashMap::new();
    for serial in held.links.keys().chain(new_meters.keys()) {
        let next = ids.len() as i64;
        ids.entry(serial.as_str()).or_insert(next);
    }
    let mut feeds: HashMap<&str, &str> = held
        .links
        .iter()
        .filter_map(|(serial, (_, master))| Some((serial.as_str(), master.as_deref()?)))
        .collect();
    for link in &asked {
        feeds.insert(link.serial.as_str(), link.master.as_str());
    }
    let end = |serial: &str, utility: Utility| LinkEnd {
        id: ids.get(serial).copied().unwrap_or(-1),
        site: 0,
        utility,
        in_service: true,
    };
    let (mut links, mut problems) = (Vec::new(), Vec::new());
    for link in &asked {
        let master_utility = held
            .links
            .get(&link.master)
            .map(|(utility, _)| *utility)
            .or_else(|| new_meters.get(&link.master).copied());
        let Some(master_utility) = master_utility else {
            problems.push(Problem::new(
                link.line,
                format!(
                    "No meter of this site or this sheet has the serial {}.",
                    link.master
                ),
            ));
            continue;
        };
        let mut above = Vec::new();
        let mut next = feeds.get(link.master.as_str()).copied();
        while let Some(serial) = next {
            if above.len() > feeds.len() {
                break;
            }
            above.push(ids.get(serial).copied().unwrap_or(-1));
            next = feeds.get(serial).copied();
        }
        match check_master(
            &end(&link.serial, link.utility),
            &end(&link.master, master_utility),
            &above,
        ) {
            Ok(()) => links.push((link.serial.clone(), link.master.clone())),
            Err(reason) => problems.push(Problem::new(link.line, reason)),
        }
    }
    (links, problems)
}

/// Links each meter of the plan's links to its master, after the meters are installed.
async fn write_links(tx: &mut Tx, plan: &Plan) -> Result<(), sqlx::Error> {
    for (serial, master) in &plan.links {
        on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE meters SET master_meter_id = (SELECT id FROM meters WHERE serial = $1) \
                 WHERE serial = $2 AND master_meter_id IS NULL",
            )
            .bind(master)
            .bind(serial)
            .execute(&mut *conn)
            .await
            .map(|_| ())
        })?;
    }
    Ok(())
}

/// Ids of the units a committed plan touched, by place.
async fn write_units(
    tx: &mut Tx,
    site: i64,
    plan: &Plan,
    held: &Holdings,
    tracker: &Tracker,
) -> Result<HashMap<Place, i64>, sqlx::Error> {
    let mut buildings = held.buildings.clone();
    for name in &plan.buildings {
        let id: i64 = on_tx!(tx, conn => {
            sqlx::query_scalar("INSERT INTO buildings (site_id, name) VALUES ($1, $2) RETURNING id")
                .bind(site).bind(name).fetch_one(&mut *conn).await
        })?;
        buildings.insert(name.clone(), id);
    }
    let mut units: HashMap<Place, i64> = held
        .units
        .iter()
        .map(|(place, (id, ..))| (place.clone(), *id))
        .collect();
    for (done, (place, kind, tariff_plan)) in plan.units.iter().enumerate() {
        tracker.item(Step::Units, done, plan.units.len());
        let id: i64 = on_tx!(tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO units (building_id, name, kind, tariff_plan) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(buildings[&place.0]).bind(&place.1).bind(*kind).bind(tariff_plan.as_str())
            .fetch_one(&mut *conn).await
        })?;
        units.insert(place.clone(), id);
    }
    Ok(units)
}

/// Installs the plan's meters; their ids, first registers and new broker passwords.
async fn write_meters(
    tx: &mut Tx,
    plan: &Plan,
    units: &HashMap<Place, i64>,
    now: DateTime<Utc>,
    tracker: &Tracker,
) -> Result<(Vec<IncomingReading>, Vec<(String, String)>), sqlx::Error> {
    let (mut baselines, mut passwords) = (Vec::new(), Vec::new());
    for (done, (place, meter)) in plan.meters.iter().enumerate() {
        tracker.item(Step::Meters, done, plan.meters.len());
        let password = (meter.transport == "mqtt").then(broker::new_password);
        let hash = password.as_deref().map(broker::hash_password);
        let id: i64 = on_tx!(tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO meters (unit_id, utility, serial, unit_of_measure, multiplier, installed_at, \
                 transport, broker_secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(units[place])
            .bind(meter.utility.as_str())
            .bind(meter.serial.as_str())
            .bind(meter.utility.default_unit_of_measure())
            .bind(meter.multiplier.value().to_string())
            .bind(now)
            .bind(meter.transport)
            .bind(hash.as_deref())
            .fetch_one(&mut *conn)
            .await
        })?;
        baselines.push(IncomingReading {
            meter: id,
            taken_at: now,
            register: meter.first_register,
        });
        passwords.extend(password.map(|password| (meter.serial.to_string(), password)));
    }
    Ok((baselines, passwords))
}

/// Creates the plan's residents and moves each into their unit; their ids.
async fn write_residents(
    tx: &mut Tx,
    org: i64,
    plan: &Plan,
    units: &HashMap<Place, i64>,
    now: DateTime<Utc>,
    tracker: &Tracker,
) -> Result<Vec<i64>, sqlx::Error> {
    if plan.residents.is_empty() {
        return Ok(Vec::new());
    }
    // One hash of a password nobody is told, shared by the whole import: a resident signs in
    // after choosing their own through the invitation or "Forgot your password?", and a
    // thousand argon2 hashes would hold the writer for minutes.
    let unknowable = password::hash(password::initial_password()).await;
    let mut people = Vec::new();
    for (done, (place, resident)) in plan.residents.iter().enumerate() {
        tracker.item(Step::Residents, done, plan.residents.len());
        let person: i64 = on_tx!(tx, conn => {
            sqlx::query_scalar(
                "INSERT INTO users (organisation_id, email, display_name, password_hash, \
                 must_change_password, active, created_at, phone) VALUES ($1, $2, $3, $4, TRUE, TRUE, $5, $6) \
                 RETURNING id",
            )
            .bind(org)
            .bind(resident.email.as_str())
            .bind(&resident.name)
            .bind(&unknowable.0)
            .bind(now)
            .bind(resident.phone.as_ref().map(|phone| phone.as_str()))
            .fetch_one(&mut *conn)
            .await
        })?;
        on_tx!(tx, conn => {
            sqlx::query("INSERT INTO occupancies (unit_id, user_id, starts_at) VALUES ($1, $2, $3)")
                .bind(units[place]).bind(person).bind(now).execute(&mut *conn).await.map(|_| ())
        })?;
        people.push(person);
    }
    Ok(people)
}

impl SiteSheets {
    async fn commit(
        &self,
        caller: &Caller,
        site: SiteId,
        text: &str,
        tracker: &Tracker,
    ) -> Result<Committed, EngineError> {
        let engine = self.fleet.engine();
        tracker.at(Step::Checking, 0, 0);
        let _turn = engine.turn().await;
        let now = Utc::now();
        let mut tx = engine.db.begin_write().await?;
        let org = crate::owners::site_organisation(&mut tx, site.0)
            .await?
            .ok_or(EngineError::NotFound("site"))?;
        let held = holdings(&mut tx, site.0).await?;
        let plan = plan(site_sheet::read(text), &held);
        if !plan.problems.is_empty() {
            return Ok((plan.check(), Vec::new(), Vec::new(), Vec::new()));
        }
        let units = write_units(&mut tx, site.0, &plan, &held, tracker).await?;
        let (baselines, broker_passwords) =
            write_meters(&mut tx, &plan, &units, now, tracker).await?;
        let people = write_residents(&mut tx, org, &plan, &units, now, tracker).await?;
        write_links(&mut tx, &plan).await?;
        let touched: HashSet<&Place> = plan
            .meters
            .iter()
            .map(|(place, _)| place)
            .chain(plan.residents.iter().map(|(place, _)| place))
            .collect();
        let of = touched.len();
        for (done, place) in touched.into_iter().enumerate() {
            tracker.item(Step::Accounts, done, of);
            open_wallets(&mut tx, units[place], now).await?;
        }
        let check = ImportCheck {
            broker_passwords,
            committed: true,
            ..plan.check()
        };
        AuditEntry::new("site_sheet_imported", "site", site.0)
            .by(org, Some(caller.user_id.0))
            .after(json!({
                "lines": check.lines, "buildings": check.buildings, "units": check.units,
                "meters": check.meters, "residents": check.residents, "links": check.links,
            }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        let masters = plan.links.into_iter().map(|(_, master)| master).collect();
        Ok((check, baselines, people, masters))
    }
}

#[async_trait::async_trait]
impl SheetsPort for SiteSheets {
    async fn sheet_summary(&self, site: SiteId) -> Result<SheetSummary, AppError> {
        let row: Option<(String, i64, i64, i64, i64)> = on_db!(&self.fleet.engine().db, pool => {
            sqlx::query_as(
                "SELECT s.name, \
                 (SELECT COUNT(*) FROM buildings b WHERE b.site_id = s.id), \
                 (SELECT COUNT(*) FROM units u JOIN buildings b ON b.id = u.building_id WHERE b.site_id = s.id), \
                 (SELECT COUNT(*) FROM meters m JOIN units u ON u.id = m.unit_id \
                  JOIN buildings b ON b.id = u.building_id WHERE b.site_id = s.id AND m.removed_at IS NULL), \
                 (SELECT COUNT(*) FROM occupancies o JOIN units u ON u.id = o.unit_id \
                  JOIN buildings b ON b.id = u.building_id WHERE b.site_id = s.id AND o.ends_at IS NULL) \
                 FROM sites s WHERE s.id = $1",
            )
            .bind(site.0)
            .fetch_optional(pool)
            .await
        })
        .map_err(internal)?;
        let (site_name, buildings, units, meters, residents) = row.ok_or(AppError::NotFound)?;
        Ok(SheetSummary {
            site_name,
            buildings,
            units,
            meters,
            residents,
            import_key: String::new(),
        })
    }

    async fn check_sheet(&self, site: SiteId, text: &str) -> Result<ImportCheck, AppError> {
        let sheet = site_sheet::read(text);
        let mut tx = self
            .fleet
            .engine()
            .db
            .begin_read()
            .await
            .map_err(internal)?;
        let held = holdings(&mut tx, site.0).await.map_err(internal)?;
        Ok(plan(sheet, &held).check())
    }

    async fn import_sheet(
        &self,
        caller: &Caller,
        site: SiteId,
        text: &str,
        invite: bool,
        key: &str,
    ) -> Result<ImportCheck, AppError> {
        let tracker = self.imports.track(site.0, key);
        let committed = self.commit(caller, site, text, &tracker).await;
        let (mut check, baselines, people, masters) = match committed {
            Ok(committed) => committed,
            Err(error) => {
                tracker.at(Step::Finished, 0, 0);
                return Err(error.into());
            }
        };
        if !check.committed {
            tracker.at(Step::Finished, 0, 0);
            return Ok(check);
        }
        // Committed: the first registers are each meter's baseline, rated as one batch.
        if !baselines.is_empty() {
            tracker.at(Step::Baselines, 0, baselines.len());
            self.fleet.engine().rate(baselines).await?;
        }
        // Whether a meter feeds others is cached with it (the anomaly rules ask).
        for serial in check
            .broker_passwords
            .iter()
            .map(|(serial, _)| serial)
            .chain(&masters)
        {
            self.fleet.forget(serial);
        }
        self.fleet.refresh_broker().await;
        if invite {
            for person in people {
                match self.recovery.invite(person, Channel::Email).await {
                    Ok(_) => check.invited += 1,
                    Err(error) => tracing::warn!(person, %error, "could not send an invitation"),
                }
            }
        }
        tracker.at(Step::Finished, check.lines, check.lines);
        Ok(check)
    }

    fn import_progress(&self, site: SiteId, key: &str) -> Option<Progress> {
        self.imports.get(site.0, key)
    }

    async fn export_sheet(&self, site: SiteId) -> Result<String, AppError> {
        let rows: Vec<ExportRow> = on_db!(&self.fleet.engine().db, pool => {
            sqlx::query_as(
                "SELECT b.name AS building, u.name AS unit, u.kind, m.utility, m.serial, m.multiplier, \
                 ms.last_register, m.transport, p.email, p.display_name, p.phone, u.tariff_plan, \
                 f.serial AS master FROM units u JOIN buildings b ON b.id = u.building_id \
                 LEFT JOIN meters m ON m.unit_id = u.id AND m.removed_at IS NULL \
                 LEFT JOIN meters f ON f.id = m.master_meter_id \
                 LEFT JOIN meter_states ms ON ms.meter_id = m.id \
                 LEFT JOIN occupancies o ON o.unit_id = u.id AND o.ends_at IS NULL \
                 LEFT JOIN users p ON p.id = o.user_id \
                 WHERE b.site_id = $1 ORDER BY b.name, u.name, m.utility, p.email",
            )
            .bind(site.0)
            .fetch_all(pool)
            .await
        })
        .map_err(internal)?;
        let mut out = app::domain::csv::line(&site_sheet::COLUMNS);
        for row in rows {
            let meter = row.serial.as_deref().map(|serial| ExportedMeter {
                utility: row.utility.as_deref().unwrap_or_default(),
                serial,
                multiplier: row.multiplier.as_deref().unwrap_or("1"),
                register: row.last_register.as_deref().unwrap_or("0"),
                transport: row.transport.as_deref().unwrap_or_default(),
                master: row.master.as_deref().unwrap_or_default(),
            });
            let resident = row.email.as_deref().map(|email| {
                (
                    email,
                    row.display_name.as_deref().unwrap_or_default(),
                    row.phone.as_deref(),
                )
            });
            out.push_str(&site_sheet::export_line(
                &row.building,
                &row.unit,
                &row.kind,
                meter,
                resident,
                &row.tariff_plan,
            ));
        }
        Ok(out)
    }
}

#[derive(sqlx::FromRow)]
struct ExportRow {
    building: String,
    unit: String,
    kind: String,
    utility: Option<String>,
    serial: Option<String>,
    multiplier: Option<String>,
    last_register: Option<String>,
    transport: Option<String>,
    email: Option<String>,
    display_name: Option<String>,
    phone: Option<String>,
    tariff_plan: String,
    master: Option<String>,
}
