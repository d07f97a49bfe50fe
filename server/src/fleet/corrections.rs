//! Correcting how a meter was recorded: a serial typed wrong at installation, a current
//! transformer's ratio (the multiplier) entered wrong or changed on site. One transaction with
//! its audit entry; what was charged before stays charged (a correction of past charges is an
//! adjustment), and the next reading counts with the corrected multiplier.

use super::{Fleet, FleetError};
use crate::{audit::AuditEntry, db::is_unique_violation, engine::EngineError, on_tx};
use app::domain::{Multiplier, fleet::MeterSerial};
use rust_decimal::Decimal;
use serde_json::json;

impl Fleet {
    /// Sets the meter's serial and multiplier; `false` when they were so already.
    pub async fn correct(
        &self,
        actor: i64,
        meter: i64,
        serial: &MeterSerial,
        multiplier: Multiplier,
    ) -> Result<bool, FleetError> {
        let (_, old_serial, _) = self.live_meter(meter).await?;
        let _turn = self.engine().turn().await;
        let mut tx = self.engine().db.begin_write().await?;
        let old_multiplier: String = on_tx!(&mut tx, conn => {
            sqlx::query_scalar("SELECT multiplier FROM meters WHERE id = $1")
                .bind(meter)
                .fetch_one(&mut *conn)
                .await
        })?;
        let same_multiplier = old_multiplier
            .parse::<Decimal>()
            .is_ok_and(|old| old == multiplier.value());
        if old_serial == serial.as_str() && same_multiplier {
            return Ok(false);
        }
        let updated: Result<(), sqlx::Error> = on_tx!(&mut tx, conn => {
            sqlx::query("UPDATE meters SET serial = $1, multiplier = $2 WHERE id = $3")
                .bind(serial.as_str())
                .bind(multiplier.value().to_string())
                .bind(meter)
                .execute(&mut *conn)
                .await
                .map(|_| ())
        });
        match updated {
            Err(error) if is_unique_violation(&error) => {
                return Err(EngineError::refused(format!(
                    "Another meter has the serial {serial} already."
                ))
                .into());
            }
            other => other?,
        }
        AuditEntry::new("meter_corrected", "meter", meter)
            .by_actor(Some(actor))
            .before(json!({ "serial": old_serial, "multiplier": old_multiplier }))
            .after(
                json!({ "serial": serial.as_str(), "multiplier": multiplier.value().to_string() }),
            )
            .insert_tx(&mut tx)
            .await?;
        tx.commit().await?;
        drop(_turn);
        // Readings and the broker know a meter by its serial.
        self.forget(&old_serial);
        self.forget(serial.as_str());
        self.refresh_broker().await;
        Ok(true)
    }
}
