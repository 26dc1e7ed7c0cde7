//! Connecting a store: its webhook subscriptions made to match what its
//! enabled plugins and the host need, and the access scopes its token
//! lacks. `shopcase store connect` prints [`Admin::connect`]'s report; the
//! admin API runs the same on enable and on `POST
//! /admin/api/stores/{shop}/connect`.
//!
//! # Rules
//! - **Topics wanted**: every topic in the manifests of the store's enabled
//!   plugins (the version each pins), except the host-made topics
//!   (`corecase/case-updated`, `timer/fired`) and the topics of signed
//!   inbound reports (`helpdesk/*`, `carrier/*`: they come from a helpdesk
//!   or carrier service, not from Shopify), plus [`HOST_TOPICS`] (the host
//!   records `app/uninstalled` so that a later `shop/redact` may act). The
//!   Core Case poller needs no webhook.
//! - **This host's subscriptions** are those whose address ends with the
//!   host's webhook path (`/webhooks/shopify`). For each topic wanted: one
//!   pointing at `server.public-url`'s address is kept; else one of this
//!   host's at another address (the host moved) is updated to it; else one
//!   is created. This host's subscriptions of topics no longer wanted, and
//!   extra ones of a topic, are deleted. Every other subscription
//!   (another backend of the same app) is left alone and reported.
//! - **Scopes**: the scopes needed by the wanted topics and by the action
//!   kinds and host functions the enabled plugins are granted
//!   (`shopcase_shopify::scopes`), against the token's
//!   `currentAppInstallation.accessScopes`. A topic whose scope is missing
//!   is not created (Shopify would refuse it); it is reported as blocked.
//! - **Compliance topics** (`customers/data_request`, `customers/redact`,
//!   `shop/redact`) are not subscribed through the Admin API: Shopify takes
//!   them only from the app's configuration (Partner Dashboard or
//!   `shopify.app.toml`). The report says so, with the address to give.
//! - **Idempotent**: a second run finds nothing to change. A dry run reads
//!   the same and writes nothing. A change Shopify refuses is recorded in
//!   the report and the others go on.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use shopcase_contract::event::{TOPIC_CASE_UPDATED, TOPIC_TIMER_FIRED};
use shopcase_contract::manifest::HOST_ONLY_TOPICS;
use shopcase_contract::{ActionKind, HostGrant};
use shopcase_pipeline::dispatcher::registry;
use shopcase_shopify::scopes;
use shopcase_shopify::subscriptions::{WebhookSubscription, topic_enum};

use crate::stores::{Admin, AdminError};

/// Topics the host itself needs on every connected store, and why.
pub const HOST_TOPICS: &[(&str, &str)] = &[(
    "app/uninstalled",
    "the host records the uninstall, so a later shop/redact may delete the store's data",
)];

/// The path of the host's webhook endpoint; a subscription whose address
/// ends with it is this host's.
const WEBHOOK_PATH: &str = shopcase_pipeline::config::WEBHOOK_PATH;

/// What connecting a store did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectReport {
    /// The store.
    pub shop: String,
    /// Where its subscriptions point: `<server.public-url>/webhooks/shopify`.
    pub address: String,
    /// Nothing was written.
    pub dry_run: bool,
    /// The topics wanted, each with who needs it (plugin ids, or `host`).
    pub topics: Vec<TopicNeed>,
    /// The changes: planned (dry run), done, failed or blocked.
    pub changes: Vec<Change>,
    /// Topics already subscribed at the address.
    pub unchanged: Vec<String>,
    /// Subscriptions of this app that are not this host's (another
    /// address): left alone.
    pub foreign: Vec<WebhookSubscription>,
    /// The token's scopes against what is needed.
    pub scopes: ScopeReport,
    /// The compliance topics, which are set in the app's configuration in
    /// Shopify and not here.
    pub compliance: Compliance,
}

impl ConnectReport {
    /// Whether everything holds: no change failed or was blocked, and no
    /// needed scope is missing.
    pub fn ok(&self) -> bool {
        self.scopes.missing.is_empty()
            && self
                .changes
                .iter()
                .all(|c| matches!(c.status, ChangeStatus::Planned | ChangeStatus::Done))
    }

    /// Changes made (or planned, in a dry run).
    pub fn changed(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| matches!(c.status, ChangeStatus::Planned | ChangeStatus::Done))
            .count()
    }
}

/// One topic wanted.
#[derive(Debug, Clone, Serialize)]
pub struct TopicNeed {
    /// e.g. `orders/create`.
    pub topic: String,
    /// Shopify's enum value, e.g. `ORDERS_CREATE`.
    pub topic_enum: String,
    /// Plugin ids, or `host`.
    pub needed_by: Vec<String>,
}

/// One change to a subscription.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// What.
    pub action: ChangeAction,
    /// The topic's enum value.
    pub topic: String,
    /// The subscription changed (update, delete).
    pub id: Option<String>,
    /// Its address before (update, delete).
    pub from: Option<String>,
    /// Its address after (create, update).
    pub to: Option<String>,
    /// How it went.
    pub status: ChangeStatus,
    /// Why it failed or was blocked.
    pub error: Option<String>,
}

/// Create, update or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeAction {
    /// `webhookSubscriptionCreate`.
    Create,
    /// `webhookSubscriptionUpdate`.
    Update,
    /// `webhookSubscriptionDelete`.
    Delete,
}

impl ChangeAction {
    /// `create`, `update`, `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update",
            ChangeAction::Delete => "delete",
        }
    }
}

/// How a change went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeStatus {
    /// A dry run: not made.
    Planned,
    /// Made.
    Done,
    /// Shopify refused it or could not be reached (see `error`).
    Failed,
    /// Not tried: the token lacks the topic's scope.
    Blocked,
}

impl ChangeStatus {
    /// `planned`, `done`, `failed`, `blocked`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::Planned => "planned",
            ChangeStatus::Done => "done",
            ChangeStatus::Failed => "failed",
            ChangeStatus::Blocked => "blocked",
        }
    }
}

/// The token's scopes against the scopes needed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScopeReport {
    /// What the token holds.
    pub granted: Vec<String>,
    /// What is needed.
    pub required: Vec<String>,
    /// Needed ones the token lacks, each with what needs it.
    pub missing: Vec<MissingScope>,
    /// Scopes needed only for some targets of an action kind (tags on
    /// customers, holds on a fulfilment service's orders) that the token
    /// lacks: not counted as missing.
    pub possibly_missing: Vec<String>,
}

/// A scope the token lacks.
#[derive(Debug, Clone, Serialize)]
pub struct MissingScope {
    /// e.g. `read_shopify_payments_disputes`.
    pub scope: String,
    /// Topics, action kinds and host functions that need it.
    pub needed_for: Vec<String>,
}

/// The compliance topics and where they are set.
#[derive(Debug, Clone, Serialize)]
pub struct Compliance {
    /// `customers/data_request`, `customers/redact`, `shop/redact`.
    pub topics: Vec<String>,
    /// Where to set them.
    pub note: String,
}

/// Why a store could not be connected at all.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The request was refused (unknown store, storage).
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The host has no `server.public-url`, or no Shopify client.
    #[error("{0}")]
    NotConfigured(String),
    /// An enabled plugin's manifest cannot be read: its topics are unknown.
    #[error(
        "plugin `{plugin}` {version} enabled for `{shop}` cannot be read ({problem}): its topics are unknown, so nothing was changed"
    )]
    Manifest {
        /// The store.
        shop: String,
        /// The plugin.
        plugin: String,
        /// The version it pins.
        version: String,
        /// What is wrong.
        problem: String,
    },
    /// Shopify could not be read (subscriptions or scopes): nothing was
    /// changed.
    #[error("Shopify could not be read for `{shop}`, nothing was changed: {source}")]
    Shopify {
        /// The store.
        shop: String,
        /// The client's error (never a token).
        source: shopcase_shopify::Error,
    },
}

impl ConnectError {
    /// A stable code: `unknown-store`, `not-configured`, `bad-manifest`,
    /// `shopify-unavailable`, `access-denied`, `shopify-error`, or the
    /// storage's.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectError::Admin(AdminError::UnknownShop { .. }) => "unknown-store",
            ConnectError::Admin(_) => "failed",
            ConnectError::NotConfigured(_) => "not-configured",
            ConnectError::Manifest { .. } => "bad-manifest",
            ConnectError::Shopify { source, .. } => match source {
                shopcase_shopify::Error::AccessDenied { .. } => "access-denied",
                e if !e.is_permanent() => "shopify-unavailable",
                _ => "shopify-error",
            },
        }
    }
}

/// How connecting a store went, for the admin API (on enable, disable and
/// `POST /stores/{shop}/connect`): the report, or why there is none. A
/// failure here never undoes the change that triggered it.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectOutcome {
    /// `connected` (everything holds), `incomplete` (a scope is missing, or
    /// a change failed or was blocked: see `report`), `failed` (Shopify or
    /// a manifest could not be read: see `error`), `not-configured` (no
    /// `server.public-url`, or no Admin API token for the store).
    pub status: &'static str,
    /// What was done.
    pub report: Option<ConnectReport>,
    /// Why there is no report.
    pub error: Option<OutcomeError>,
}

/// A connect error as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeError {
    /// [`ConnectError::code`].
    pub code: &'static str,
    /// For people (never a token).
    pub message: String,
}

impl ConnectOutcome {
    fn of(result: Result<ConnectReport, ConnectError>) -> ConnectOutcome {
        match result {
            Ok(r) => ConnectOutcome {
                status: if r.ok() { "connected" } else { "incomplete" },
                report: Some(r),
                error: None,
            },
            Err(e) => ConnectOutcome {
                status: if matches!(e, ConnectError::NotConfigured(_)) {
                    "not-configured"
                } else {
                    "failed"
                },
                report: None,
                error: Some(OutcomeError {
                    code: e.code(),
                    message: e.to_string(),
                }),
            },
        }
    }
}

/// What the enabled plugins of a store ask for.
#[derive(Debug, Default)]
struct Wanted {
    topics: BTreeMap<String, Vec<String>>,
    actions: BTreeSet<ActionKind>,
    host: BTreeSet<HostGrant>,
}

impl Admin {
    async fn wanted(&self, shop: &str) -> Result<Wanted, ConnectError> {
        let mut w = Wanted::default();
        for (topic, _) in HOST_TOPICS {
            w.topics
                .entry((*topic).to_owned())
                .or_default()
                .push("host".into());
        }
        for inst in self
            .storage()
            .installations(Some(shop))
            .await
            .map_err(AdminError::from)?
        {
            if !inst.enabled {
                continue;
            }
            let m = registry::lookup(self.plugins_dir(), &inst.plugin_id, &inst.version).map_err(
                |e| ConnectError::Manifest {
                    shop: shop.to_owned(),
                    plugin: inst.plugin_id.clone(),
                    version: inst.version.clone(),
                    problem: e.describe(&inst.plugin_id, &inst.version),
                },
            )?;
            for t in &m.topics {
                if t == TOPIC_CASE_UPDATED
                    || t == TOPIC_TIMER_FIRED
                    || HOST_ONLY_TOPICS.contains(&t.as_str())
                    || shopcase_contract::inbound::is_inbound_topic(t)
                {
                    continue;
                }
                w.topics.entry(t.clone()).or_default().push(m.id.clone());
            }
            w.actions.extend(m.grants.actions.iter().copied());
            w.host.extend(m.grants.host.iter().copied());
        }
        Ok(w)
    }

    /// [`Admin::connect`] as an outcome for the admin API: errors are part
    /// of the answer, not a refusal.
    pub async fn connect_outcome(&self, shop: &str, dry_run: bool) -> ConnectOutcome {
        let result = self.connect(shop, dry_run).await;
        if let Err(e) = &result {
            tracing::warn!(shop, error = %e, "store connect failed");
        }
        ConnectOutcome::of(result)
    }

    /// Connect `shop`: make its webhook subscriptions match what its
    /// enabled plugins and the host need, and report the scopes its token
    /// lacks (module docs). With `dry_run`, only read and report.
    pub async fn connect(&self, shop: &str, dry_run: bool) -> Result<ConnectReport, ConnectError> {
        self.check_configured(shop)?;
        let address = self.webhook_url().ok_or_else(|| {
            ConnectError::NotConfigured(
                "`server.public-url` is not set: it is the address Shopify reaches this host at (e.g. https://shopcase.example.com); subscriptions point at <public-url>/webhooks/shopify".into(),
            )
        })?;
        let client = self.shopify().ok_or_else(|| {
            ConnectError::NotConfigured(format!(
                "store `{shop}` has no Admin API token (`admin-token-env` or `admin-token-file` in its [[stores]] table), or this host runs without Shopify"
            ))
        })?;
        let wanted = self.wanted(shop).await?;
        let read_err = |source| match source {
            shopcase_shopify::Error::UnknownShop { .. } => ConnectError::NotConfigured(format!(
                "store `{shop}` has no Admin API token (`admin-token-env` or `admin-token-file` in its [[stores]] table)"
            )),
            source => ConnectError::Shopify {
                shop: shop.to_owned(),
                source,
            },
        };
        let granted = client.access_scopes(shop).await.map_err(read_err)?;
        let existing = client.webhook_subscriptions(shop).await.map_err(read_err)?;

        let needs = scopes::required(
            wanted.topics.keys().map(String::as_str),
            &wanted.actions,
            &wanted.host,
        );
        let missing = scopes::missing(&needs.required, &granted);
        let scope_report = ScopeReport {
            granted: granted.clone(),
            required: needs.required.iter().cloned().collect(),
            missing: missing
                .iter()
                .map(|s| MissingScope {
                    scope: s.clone(),
                    needed_for: needed_for(s, &wanted),
                })
                .collect(),
            possibly_missing: scopes::missing(&needs.possibly, &granted),
        };

        let topics: Vec<TopicNeed> = wanted
            .topics
            .iter()
            .map(|(t, by)| TopicNeed {
                topic: t.clone(),
                topic_enum: topic_enum(t),
                needed_by: by.clone(),
            })
            .collect();
        let plan = plan(&topics, &existing, &address, &missing);

        let mut changes = Vec::new();
        for mut c in plan.changes {
            if c.status == ChangeStatus::Blocked {
                changes.push(c);
                continue;
            }
            if dry_run {
                c.status = ChangeStatus::Planned;
                changes.push(c);
                continue;
            }
            let done = match c.action {
                ChangeAction::Create => client
                    .create_webhook_subscription(shop, &c.topic, &address)
                    .await
                    .map(|s| c.id = Some(s.id)),
                ChangeAction::Update => client
                    .update_webhook_subscription(
                        shop,
                        c.id.as_deref().unwrap_or_default(),
                        &address,
                    )
                    .await
                    .map(|_| ()),
                ChangeAction::Delete => {
                    client
                        .delete_webhook_subscription(shop, c.id.as_deref().unwrap_or_default())
                        .await
                }
            };
            match done {
                Ok(()) => c.status = ChangeStatus::Done,
                Err(e) => {
                    tracing::warn!(shop, action = c.action.as_str(), topic = %c.topic, error = %e, "store connect: change failed");
                    c.status = ChangeStatus::Failed;
                    c.error = Some(e.to_string());
                }
            }
            changes.push(c);
        }
        Ok(ConnectReport {
            shop: shop.to_owned(),
            address: address.clone(),
            dry_run,
            topics,
            changes,
            unchanged: plan.unchanged,
            foreign: plan.foreign,
            scopes: scope_report,
            compliance: Compliance {
                topics: HOST_ONLY_TOPICS.iter().map(|t| (*t).to_owned()).collect(),
                note: format!(
                    "compliance topics are not subscribed through the Admin API: set them in the app's configuration in Shopify (Partner Dashboard, or `compliance_topics` in shopify.app.toml) to {address}"
                ),
            },
        })
    }
}

/// The topics, action kinds and host functions that need `scope`.
fn needed_for(scope: &str, w: &Wanted) -> Vec<String> {
    let Some(row) = scopes::SCOPES.iter().find(|r| r.scope == scope) else {
        return vec![];
    };
    let mut out: Vec<String> = row
        .topics
        .iter()
        .filter(|t| w.topics.contains_key(**t))
        .map(|t| format!("topic {t}"))
        .collect();
    out.extend(
        row.actions
            .iter()
            .filter(|a| w.actions.contains(a))
            .map(|a| format!("action {}", a.name())),
    );
    out.extend(
        row.host
            .iter()
            .filter(|h| w.host.contains(h))
            .map(|h| format!("host function {}", h.name())),
    );
    out
}

/// Changes (not yet made), topics already right, and others' subscriptions.
#[derive(Debug, Default)]
struct Plan {
    changes: Vec<Change>,
    unchanged: Vec<String>,
    foreign: Vec<WebhookSubscription>,
}

fn is_ours(uri: &str) -> bool {
    uri.trim_end_matches('/').ends_with(WEBHOOK_PATH)
}

fn plan(
    topics: &[TopicNeed],
    existing: &[WebhookSubscription],
    address: &str,
    missing_scopes: &[String],
) -> Plan {
    let mut p = Plan::default();
    let (ours, foreign): (Vec<&WebhookSubscription>, Vec<&WebhookSubscription>) =
        existing.iter().partition(|s| is_ours(&s.uri));
    p.foreign = foreign.into_iter().cloned().collect();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for t in topics {
        let mine: Vec<&&WebhookSubscription> =
            ours.iter().filter(|s| s.topic == t.topic_enum).collect();
        if let Some(s) = mine.iter().find(|s| s.uri == address) {
            used.insert(s.id.as_str());
            p.unchanged.push(t.topic_enum.clone());
        } else if let Some(s) = mine.first() {
            used.insert(s.id.as_str());
            p.changes.push(Change {
                action: ChangeAction::Update,
                topic: t.topic_enum.clone(),
                id: Some(s.id.clone()),
                from: Some(s.uri.clone()),
                to: Some(address.to_owned()),
                status: ChangeStatus::Planned,
                error: None,
            });
        } else {
            let blocked = scopes::scope_of_topic(&t.topic)
                .filter(|scope| missing_scopes.iter().any(|m| m == scope));
            p.changes.push(Change {
                action: ChangeAction::Create,
                topic: t.topic_enum.clone(),
                id: None,
                from: None,
                to: Some(address.to_owned()),
                status: if blocked.is_some() {
                    ChangeStatus::Blocked
                } else {
                    ChangeStatus::Planned
                },
                error: blocked.map(|s| format!("the token lacks the `{s}` access scope")),
            });
        }
    }
    for s in ours {
        if used.contains(s.id.as_str()) {
            continue;
        }
        // Not wanted any more, or a second one of a wanted topic.
        p.changes.push(Change {
            action: ChangeAction::Delete,
            topic: s.topic.clone(),
            id: Some(s.id.clone()),
            from: Some(s.uri.clone()),
            to: None,
            status: ChangeStatus::Planned,
            error: None,
        });
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: &str = "https://h.example/webhooks/shopify";

    fn sub(id: &str, topic: &str, uri: &str) -> WebhookSubscription {
        WebhookSubscription {
            id: id.into(),
            topic: topic.into(),
            uri: uri.into(),
        }
    }

    fn need(topic: &str) -> TopicNeed {
        TopicNeed {
            topic: topic.into(),
            topic_enum: topic_enum(topic),
            needed_by: vec!["p".into()],
        }
    }

    fn summary(p: &Plan) -> Vec<(ChangeAction, String, Option<String>, ChangeStatus)> {
        p.changes
            .iter()
            .map(|c| (c.action, c.topic.clone(), c.id.clone(), c.status))
            .collect()
    }

    #[test]
    fn creates_keeps_moves_and_deletes_only_this_host_s() {
        let existing = [
            sub("1", "ORDERS_CREATE", HERE),
            sub(
                "2",
                "ORDERS_UPDATED",
                "https://old.example/webhooks/shopify",
            ),
            sub("3", "RETURNS_REQUEST", HERE),
            sub(
                "4",
                "ORDERS_CREATE",
                "https://elsewhere.example/hooks/orders",
            ),
            sub("5", "ORDERS_CREATE", "https://old.example/webhooks/shopify"),
        ];
        let topics = [
            need("orders/create"),
            need("orders/updated"),
            need("disputes/create"),
        ];
        let p = plan(&topics, &existing, HERE, &[]);
        assert_eq!(p.unchanged, ["ORDERS_CREATE"]);
        assert_eq!(
            summary(&p),
            [
                (
                    ChangeAction::Update,
                    "ORDERS_UPDATED".into(),
                    Some("2".into()),
                    ChangeStatus::Planned
                ),
                (
                    ChangeAction::Create,
                    "DISPUTES_CREATE".into(),
                    None,
                    ChangeStatus::Planned
                ),
                (
                    ChangeAction::Delete,
                    "RETURNS_REQUEST".into(),
                    Some("3".into()),
                    ChangeStatus::Planned
                ),
                (
                    ChangeAction::Delete,
                    "ORDERS_CREATE".into(),
                    Some("5".into()),
                    ChangeStatus::Planned
                ),
            ]
        );
        assert_eq!(p.foreign, [existing[3].clone()]);
    }

    #[test]
    fn a_topic_without_its_scope_is_blocked_and_the_plan_of_a_done_store_is_empty() {
        let p = plan(
            &[need("disputes/create")],
            &[],
            HERE,
            &["read_shopify_payments_disputes".into()],
        );
        assert_eq!(p.changes[0].status, ChangeStatus::Blocked);
        assert!(
            p.changes[0]
                .error
                .as_deref()
                .unwrap()
                .contains("read_shopify_payments_disputes")
        );
        let done = plan(
            &[need("orders/create")],
            &[sub("1", "ORDERS_CREATE", HERE)],
            HERE,
            &[],
        );
        assert!(done.changes.is_empty());
    }
}
