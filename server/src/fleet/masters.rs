//! Which meter feeds which: a sub-meter is linked to its master (a building's bulk meter, a
//! site's incomer) from the console, so the loss report can set the master against its
//! sub-meters. Linking changes no charge: every meter is rated as before.

use super::{Fleet, FleetError};
use crate::{audit::AuditEntry, db::Tx, engine::EngineError, on_tx};
use app::domain::{
    fleet::MeterSerial,
    losses::{LinkEnd, check_master},
};
use serde_json::json;

/// How many masters above a meter are followed when looking for a loop; links are made one at
/// a time and each refuses a loop, so a real chain (incomer, building, floor) is short.
const CHAIN_MAX: usize = 32;

/// A meter as a link needs it, with its serial and its current master.
struct Linked {
    end: LinkEnd,
    serial: String,
    master: Option<i64>,
}

type LinkRow = (i64, i64, String, bool, Option<i64>, String);

const LINK_SELECT: &str = "SELECT m.id, b.site_id, m.utility, m.removed_at IS NULL, m.master_meter_id, m.serial \
     FROM meters m JOIN units u ON u.id = m.unit_id JOIN buildings b ON b.id = u.building_id";

fn linked(row: LinkRow) -> Result<Linked, EngineError> {
    let (id, site, utility, in_service, master, serial) = row;
    Ok(Linked {
        end: LinkEnd {
            id,
            site,
            utility: utility
                .parse()
                .map_err(|_| EngineError::Corrupt(format!("utility {utility:?}")))?,
            in_service,
        },
        serial,
        master,
    })
}

impl Fleet {
    /// Links `meter` to the site's meter with the serial `master`, or unlinks it (`None`).
    /// The same link asked for again changes nothing and writes no audit entry.
    pub async fn set_master(
        &self,
        actor: i64,
        meter: i64,
        master: Option<&MeterSerial>,
    ) -> Result<(), FleetError> {
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        let this: Option<LinkRow> = on_tx!(&mut tx, conn => {
            sqlx::query_as(&format!("{LINK_SELECT} WHERE m.id = $1"))
                .bind(meter)
                .fetch_optional(&mut *conn)
                .await
        })?;
        let this = linked(this.ok_or(EngineError::NotFound("meter"))?)?;
        let wanted = match master {
            None => None,
            Some(serial) => Some(chosen_master(&mut tx, &this, serial).await?),
        };
        let before = this.master;
        if wanted.as_ref().map(|m| m.end.id) == before {
            return Ok(());
        }
        on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE meters SET master_meter_id = $1 WHERE id = $2")
                .bind(wanted.as_ref().map(|m| m.end.id))
                .bind(meter)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        })?;
        let before_serial = match before {
            Some(id) => Some(serial_of(&mut tx, id).await?),
            None => None,
        };
        AuditEntry::new("meter_master_set", "meter", meter)
            .by_actor(Some(actor))
            .before(json!({ "serial": this.serial, "master": &before_serial }))
            .after(json!({ "serial": this.serial, "master": wanted.as_ref().map(|m| &m.serial) }))
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        drop(_turn);
        // Whether a meter feeds others is cached with it (the anomaly rules ask).
        for serial in [before_serial, wanted.map(|m| m.serial)]
            .into_iter()
            .flatten()
        {
            self.forget(&serial);
        }
        Ok(())
    }
}

/// The master with `serial` on `this` meter's site, if it may feed it. A serial of another
/// site is answered as an unknown one: the console shows nothing of other sites.
async fn chosen_master(
    tx: &mut Tx,
    this: &Linked,
    serial: &MeterSerial,
) -> Result<Linked, FleetError> {
    let row: Option<LinkRow> = on_tx!(tx, conn => {
        sqlx::query_as(&format!("{LINK_SELECT} WHERE m.serial = $1 AND b.site_id = $2"))
            .bind(serial.as_str())
            .bind(this.end.site)
            .fetch_optional(&mut *conn)
            .await
    })?;
    let master = match row {
        Some(row) => linked(row)?,
        None => {
            return Err(EngineError::refused(format!(
                "No meter of this site has the serial {serial}."
            ))
            .into());
        }
    };
    let above = masters_above(tx, master.master).await?;
    check_master(&this.end, &master.end, &above).map_err(EngineError::Refused)?;
    Ok(master)
}

/// The chain of masters from `first` upwards, nearest first.
async fn masters_above(tx: &mut Tx, first: Option<i64>) -> Result<Vec<i64>, FleetError> {
    let mut chain = Vec::new();
    let mut next = first;
    while let Some(id) = next {
        if chain.contains(&id) || chain.len() >= CHAIN_MAX {
            break;
        }
        chain.push(id);
        next = on_tx!(tx, conn => {
            sqlx::query_scalar("SELECT master_meter_id FROM meters WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await
        })?;
    }
    Ok(chain)
}

async fn serial_of(tx: &mut Tx, meter: i64) -> Result<String, FleetError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT serial FROM meters WHERE id = $1")
            .bind(meter)
            .fetch_one(&mut *conn)
            .await
    })?)
}
