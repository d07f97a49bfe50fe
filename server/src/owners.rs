//! Which organisation owns a site or a meter, asked inside a write transaction so that the
//! audit entry it signs is posted with the change it describes.

use crate::{db::Tx, on_tx};

pub async fn site_organisation(tx: &mut Tx, site: i64) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT organisation_id FROM sites WHERE id = $1")
            .bind(site)
            .fetch_optional(&mut *conn)
            .await
    })
}

/// The organisation of an installed meter; a removed meter has none.
pub async fn meter_organisation(tx: &mut Tx, meter: i64) -> Result<Option<i64>, sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT s.organisation_id FROM meters m JOIN units u ON u.id = m.unit_id \
             JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = b.site_id \
             WHERE m.id = $1 AND m.removed_at IS NULL",
        )
        .bind(meter)
        .fetch_optional(&mut *conn)
        .await
    })
}
