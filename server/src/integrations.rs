//! The engine side of `app::ports::IntegrationsPort`: API keys and webhook subscriptions for
//! the admin pages. The server functions have checked the caller is an admin; every query
//! here is bound to the caller's organisation all the same.

use crate::{
    api::keys::{ApiKeys, NewKey, Scope},
    db::Db,
    internal, on_db,
    webhooks::Webhooks,
};
use app::{
    domain::{
        Caller, OrgId,
        integrations::{ApiKeyView, Integrations, KeyKind, WebhookDeliveries},
    },
    error::AppError,
    ports::IntegrationsPort,
};

#[derive(Clone, Debug)]
pub struct IntegrationsService {
    db: Db,
    keys: ApiKeys,
    webhooks: Webhooks,
}

impl IntegrationsService {
    pub fn new(db: Db, webhooks: Webhooks) -> Self {
        Self {
            keys: ApiKeys::new(db.clone()),
            db,
            webhooks,
        }
    }

    async fn org_sites(&self, org: i64) -> Result<Vec<(i64, String)>, AppError> {
        on_db!(&self.db, pool => {
            sqlx::query_as("SELECT id, name FROM sites WHERE organisation_id = $1 ORDER BY name")
                .bind(org)
                .fetch_all(pool)
                .await
        })
        .map_err(internal)
    }
}

#[async_trait::async_trait]
impl IntegrationsPort for IntegrationsService {
    async fn overview(&self, org: OrgId) -> Result<Integrations, AppError> {
        let keys = self.keys.list(org.0).await?;
        Ok(Integrations {
            keys: keys
                .into_iter()
                .map(|key| ApiKeyView {
                    id: key.id,
                    name: key.name,
                    prefix: key.prefix,
                    scopes: key
                        .scopes
                        .iter()
                        .map(|scope| scope.as_str().to_owned())
                        .collect(),
                    site: key.site.map(|(_, name)| name),
                    created_by: key.created_by,
                    created_at: key.created_at,
                    last_used_at: key.last_used_at,
                    revoked_at: key.revoked_at,
                })
                .collect(),
            webhooks: self.webhooks.list(org.0).await?,
            sites: self.org_sites(org.0).await?,
        })
    }

    async fn create_key(
        &self,
        caller: &Caller,
        name: &str,
        kind: KeyKind,
    ) -> Result<String, AppError> {
        let org = caller.org_id.0;
        let kind = match kind {
            KeyKind::Organisation(scopes) => NewKey::Organisation(
                scopes
                    .iter()
                    .map(|scope| {
                        Scope::parse(scope.trim())
                            .ok_or_else(|| AppError::Invalid(format!("No scope {scope:?}.")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            KeyKind::Gateway(site) => {
                if !self.org_sites(org).await?.iter().any(|(id, _)| *id == site) {
                    return Err(AppError::Invalid("Choose one of your sites.".into()));
                }
                NewKey::Gateway { site }
            }
        };
        let issued = self.keys.create(org, caller.user_id.0, name, kind).await?;
        Ok(issued.secret)
    }

    async fn revoke_key(&self, caller: &Caller, key: i64) -> Result<(), AppError> {
        self.keys
            .revoke(caller.org_id.0, caller.user_id.0, key)
            .await
    }

    async fn subscribe(
        &self,
        caller: &Caller,
        url: &str,
        events: &[String],
    ) -> Result<String, AppError> {
        let created = self
            .webhooks
            .subscribe(caller.org_id.0, caller.user_id.0, url, events)
            .await?;
        Ok(created.secret)
    }

    async fn disable_webhook(&self, caller: &Caller, webhook: i64) -> Result<(), AppError> {
        self.webhooks
            .disable(caller.org_id.0, caller.user_id.0, webhook)
            .await
    }

    async fn deliveries(&self, org: OrgId, webhook: i64) -> Result<WebhookDeliveries, AppError> {
        self.webhooks.deliveries(org.0, webhook).await
    }
}
