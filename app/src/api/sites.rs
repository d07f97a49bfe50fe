//! Sites themselves: created by the organisation's admins, their name, language and supply
//! rules kept by their managers.

use crate::{domain::site_settings::SiteSettings, error::AppError};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{answer, caller, ports, site_where};

/// Creates a site of the caller's organisation (its admins only), with the default supply
/// rules; answers its id.
#[server(prefix = "/api", endpoint = "create_site")]
pub async fn create_site(
    name: String,
    time_zone: String,
    currency: String,
    locale: String,
) -> Result<i64, AppError> {
    use crate::domain::site_settings::NewSite;
    answer(
        async {
            let caller = caller().await?;
            if !caller.is_admin() {
                return Err(AppError::Forbidden);
            }
            let site =
                NewSite::parse(&name, &time_zone, &currency, &locale).map_err(AppError::Invalid)?;
            Ok(ports()?.directory.create_site(&caller, site).await?.0)
        }
        .await,
    )
}

/// A site's settings, for its staff; `may_edit` for its managers and the admins.
#[server(prefix = "/api", endpoint = "site_settings")]
pub async fn load_site_settings(site: String) -> Result<SiteSettings, AppError> {
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, org) =
                site_where(&ports, &site, |site, org| caller.can_view_site(site, org)).await?;
            let mut settings = ports.directory.site_settings(site).await?;
            settings.may_edit = caller.may_edit_site(site, org);
            Ok(settings)
        }
        .await,
    )
}

/// The supply rules as the settings form sends them, under `rules[...]`: text as typed, and
/// a ticked box as `Some`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RulesSent {
    pub warning_levels: String,
    pub warn_days_left: String,
    pub reconnect_level: String,
    pub emergency_credit: String,
    pub debt_recovery_percent: String,
    pub friendly_from: String,
    pub friendly_to: String,
    pub friendly_weekends: Option<String>,
    pub holidays: String,
    pub water_restrict: Option<String>,
    pub min_top_up: String,
    pub max_top_up: String,
}

impl From<RulesSent> for crate::domain::site_settings::PolicyForm {
    fn from(sent: RulesSent) -> Self {
        Self {
            warning_levels: sent.warning_levels,
            warn_days_left: sent.warn_days_left,
            reconnect_level: sent.reconnect_level,
            emergency_credit: sent.emergency_credit,
            debt_recovery_percent: sent.debt_recovery_percent,
            friendly_from: sent.friendly_from,
            friendly_to: sent.friendly_to,
            friendly_weekends: sent.friendly_weekends.is_some(),
            holidays: sent.holidays,
            water_restrict: sent.water_restrict.is_some(),
            min_top_up: sent.min_top_up,
            max_top_up: sent.max_top_up,
        }
    }
}

/// Renames the site, sets its language and its supply rules (the site's managers and the
/// organisation's admins); answers whether anything changed.
#[server(prefix = "/api", endpoint = "save_site_settings")]
pub async fn save_site_settings(
    site: String,
    name: String,
    locale: String,
    rules: RulesSent,
) -> Result<bool, AppError> {
    use crate::domain::site_settings::PolicyForm;
    answer(
        async {
            let caller = caller().await?;
            let ports = ports()?;
            let (site, _) =
                site_where(&ports, &site, |site, org| caller.may_edit_site(site, org)).await?;
            let digits = ports.directory.site_settings(site).await?.digits;
            let policy = PolicyForm::from(rules)
                .parse(digits)
                .map_err(AppError::Invalid)?;
            ports
                .directory
                .save_site_settings(&caller, site, &name, &locale, policy)
                .await
        }
        .await,
    )
}
