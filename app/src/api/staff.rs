//! A site's staff: the list for its managers and the organisation's admins, who also give a
//! colleague already in the organisation a role there and take one away.

use crate::{
    domain::staff::{Granted, SiteStaff},
    error::AppError,
};
use leptos::prelude::*;

/// Who holds which role on the site, and which roles the caller may give there.
#[server(prefix = "/api", endpoint = "site_staff")]
pub async fn load_site_staff(site: String) -> Result<SiteStaff, AppError> {
    use super::ssr::{answer, caller, ports, site_where};
    answer(
        async {
            let (caller, ports) = (caller().await?, ports()?);
            let (site, org) =
                site_where(&ports, &site, |site, org| caller.may_edit_site(site, org)).await?;
            let mut staff = ports.auth.site_staff(site).await?;
            staff.grantable = caller.grantable_on(site, org);
            staff.viewer = caller.user_id;
            Ok(staff)
        }
        .await,
    )
}

/// Gives the colleague with this e-mail address a role on the site. Sent twice, it gives it
/// once.
#[server(prefix = "/api", endpoint = "grant_role")]
pub async fn grant_role(site: String, email: String, role: String) -> Result<Granted, AppError> {
    use super::ssr::{answer, caller, ports};
    use crate::domain::Email;
    answer(
        async {
            let (caller, ports) = (caller().await?, ports()?);
            let (role, site, org) = ssr::role_on_site(&caller, &ports, &role, &site).await?;
            let email = Email::parse(&email).map_err(AppError::invalid)?;
            ports
                .auth
                .grant_role(&caller, org, site, &email, role)
                .await
        }
        .await,
    )
}

/// Takes a role on the site away from a person. Answers whether they held it: sent twice,
/// the second changes nothing.
#[server(prefix = "/api", endpoint = "revoke_role")]
pub async fn revoke_role(site: String, person: String, role: String) -> Result<bool, AppError> {
    use super::ssr::{answer, caller, ports};
    use crate::domain::UserId;
    answer(
        async {
            let (caller, ports) = (caller().await?, ports()?);
            let (role, site, org) = ssr::role_on_site(&caller, &ports, &role, &site).await?;
            let person = person
                .trim()
                .parse()
                .map(UserId)
                .map_err(|_| AppError::invalid("Choose whose role to take away."))?;
            ports
                .auth
                .revoke_role(&caller, org, site, person, role)
                .await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::{
        domain::{Caller, OrgId, Role, SiteId},
        error::AppError,
        ports::Ports,
    };

    /// The role named and the site, once the caller may give and take that role there.
    pub async fn role_on_site(
        caller: &Caller,
        ports: &Ports,
        role: &str,
        site: &str,
    ) -> Result<(Role, SiteId, OrgId), AppError> {
        let role: Role = role.parse().map_err(AppError::invalid)?;
        let (site, org) = super::super::ssr::site_where(ports, site, |site, org| {
            caller.grantable_on(site, org).contains(&role)
        })
        .await?;
        Ok((role, site, org))
    }
}
