//! Stores, per-store installations (enable, disable, settings, version
//! pinning, approving new content) and quarantine. Every change goes through
//! [`crate::Admin`], the code path `shopcase store ...` uses.

use std::collections::BTreeMap;

use crate::stores::{ApproveRequest, EnableRequest, SetRequest, SettingInput};
use crate::stores::{InstallationView, StoreView};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::connect::ConnectOutcome;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AdminState;
use crate::views::QuarantineView;

/// `GET /stores`: the stores the token sees, with their installations.
pub(crate) async fn list(
    p: Principal,
    State(s): State<AdminState>,
) -> Result<Json<Value>, ApiError> {
    let stores: Vec<StoreView> = s
        .admin
        .list()
        .await?
        .into_iter()
        .filter(|v| p.sees(&v.domain))
        .collect();
    Ok(Json(json!({ "stores": stores })))
}

/// `GET /stores/{shop}`.
pub(crate) async fn get(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath(shop): ApiPath<String>,
) -> Result<Json<StoreView>, ApiError> {
    p.require_store(&s, &shop, None, format!("store `{shop}`"))
        .await?;
    Ok(Json(store(&s, &shop).await?))
}

async fn store(s: &AdminState, shop: &str) -> Result<StoreView, ApiError> {
    s.admin
        .list()
        .await?
        .into_iter()
        .find(|v| v.domain == shop)
        .ok_or_else(|| ApiError::Missing {
            code: "unknown-store",
            message: format!("store `{shop}` is not known to this host"),
        })
}

async fn installation(
    s: &AdminState,
    shop: &str,
    plugin: &str,
) -> Result<InstallationView, ApiError> {
    store(s, shop)
        .await?
        .installations
        .into_iter()
        .find(|i| i.installation.plugin_id == plugin)
        .ok_or_else(|| ApiError::Missing {
            code: "not-installed",
            message: format!("plugin `{plugin}` is not installed for `{shop}`; enable it first"),
        })
}

/// `GET /stores/{shop}/installations/{plugin}`.
pub(crate) async fn get_installation(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath((shop, plugin)): ApiPath<(String, String)>,
) -> Result<Json<InstallationView>, ApiError> {
    p.require_store(&s, &shop, Some(&plugin), format!("store `{shop}`"))
        .await?;
    Ok(Json(installation(&s, &shop, &plugin).await?))
}

/// Settings as JSON values, in the manifest's types.
fn settings(map: BTreeMap<String, Value>) -> Vec<(String, SettingInput)> {
    map.into_iter()
        .map(|(k, v)| (k, SettingInput::Json(v)))
        .collect()
}

/// The body of `enable`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnableBody {
    /// Pin this version (default: the newest packaged).
    version: Option<String>,
    /// Settings to set, on top of the current ones.
    #[serde(default)]
    settings: BTreeMap<String, Value>,
}

/// An installation after enable or disable, with how connecting its store
/// went (`connect`).
#[derive(Debug, Serialize)]
pub(crate) struct ChangedInstallation {
    #[serde(flatten)]
    view: InstallationView,
    connect: ConnectOutcome,
}

/// `POST /stores/{shop}/installations/{plugin}/enable`: the change, then
/// `store connect` for the store (its failure does not undo the enable).
pub(crate) async fn enable(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath((shop, plugin)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<EnableBody>,
) -> Result<Json<ChangedInstallation>, ApiError> {
    p.require_write(&s).await?;
    p.require_store(&s, &shop, Some(&plugin), format!("store `{shop}`"))
        .await?;
    s.admin
        .enable(EnableRequest {
            shop: shop.clone(),
            plugin: plugin.clone(),
            version: body.version,
            settings: settings(body.settings),
            actor: p.actor(),
        })
        .await?;
    let connect = s.admin.connect_outcome(&shop, false).await;
    Ok(Json(ChangedInstallation {
        view: installation(&s, &shop, &plugin).await?,
        connect,
    }))
}

/// `POST /stores/{shop}/installations/{plugin}/disable`: the change, then
/// `store connect` for the store.
pub(crate) async fn disable(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath((shop, plugin)): ApiPath<(String, String)>,
) -> Result<Json<ChangedInstallation>, ApiError> {
    p.require_write(&s).await?;
    p.require_store(&s, &shop, Some(&plugin), format!("store `{shop}`"))
        .await?;
    s.admin.disable(&shop, &plugin, &p.actor()).await?;
    let connect = s.admin.connect_outcome(&shop, false).await;
    Ok(Json(ChangedInstallation {
        view: installation(&s, &shop, &plugin).await?,
        connect,
    }))
}

/// The query of `connect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectQuery {
    /// Only read and report (`?dry_run=true`).
    #[serde(default)]
    dry_run: bool,
}

/// `POST /stores/{shop}/connect[?dry_run=true]`: `store connect` for the
/// store. The outcome is the answer (200), also when Shopify failed.
pub(crate) async fn connect(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath(shop): ApiPath<String>,
    ApiQuery(q): ApiQuery<ConnectQuery>,
) -> Result<Json<ConnectOutcome>, ApiError> {
    p.require_write(&s).await?;
    p.require_store(&s, &shop, None, format!("store `{shop}`"))
        .await?;
    s.admin.check_configured(&shop)?;
    Ok(Json(s.admin.connect_outcome(&shop, q.dry_run).await))
}

/// The body of `PATCH` on an installation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBody {
    /// Switch to this packaged version.
    version: Option<String>,
    /// Settings to set.
    #[serde(default)]
    settings: BTreeMap<String, Value>,
    /// Settings to return to their defaults.
    #[serde(default)]
    unset: Vec<String>,
}

/// `PATCH /stores/{shop}/installations/{plugin}`: settings and version.
pub(crate) async fn update(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath((shop, plugin)): ApiPath<(String, String)>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<InstallationView>, ApiError> {
    p.require_write(&s).await?;
    p.require_store(&s, &shop, Some(&plugin), format!("store `{shop}`"))
        .await?;
    s.admin
        .set(SetRequest {
            shop: shop.clone(),
            plugin: plugin.clone(),
            version: body.version,
            settings: settings(body.settings),
            unset: body.unset,
            unquarantine: false,
            actor: p.actor(),
        })
        .await?;
    Ok(Json(installation(&s, &shop, &plugin).await?))
}

/// `POST /stores/{shop}/installations/{plugin}/unquarantine`: lift a
/// quarantine; the held events run.
pub(crate) async fn unquarantine(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath((shop, plugin)): ApiPath<(String, String)>,
) -> Result<Json<InstallationView>, ApiError> {
    p.require_write(&s).await?;
    p.require_store(&s, &shop, Some(&plugin), format!("store `{shop}`"))
        .await?;
    s.admin
        .set(SetRequest {
            shop: shop.clone(),
            plugin: plugin.clone(),
            unquarantine: true,
            actor: p.actor(),
            ..SetRequest::default()
        })
        .await?;
    Ok(Json(installation(&s, &shop, &plugin).await?))
}

/// `POST /stores/{shop}/installations/{plugin}/approve`: approve the
/// plugin's content as it is now on disk (component sha256 and grants) for
/// the store; audited with the grants added and removed. The installation
/// view (`approval`) shows what approving would add, before it is done.
pub(crate) async fn approve(
    p: Principal,
    State(s): State<AdminState>,
    ApiPath((shop, plugin)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    p.require_write(&s).await?;
    p.require_store(&s, &shop, Some(&plugin), format!("store `{shop}`"))
        .await?;
    let done = s
        .admin
        .approve(ApproveRequest {
            shop: shop.clone(),
            plugin: plugin.clone(),
            actor: p.actor(),
        })
        .await?;
    Ok(Json(json!({
        "installation": installation(&s, &shop, &plugin).await?,
        "before": done.before,
        "grants_added": done.grants.added,
        "grants_removed": done.grants.removed,
    })))
}

/// `?shop=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShopFilter {
    shop: Option<String>,
}

/// `GET /quarantine`: quarantined installations, with why and since when.
pub(crate) async fn quarantined(
    p: Principal,
    State(s): State<AdminState>,
    ApiQuery(q): ApiQuery<ShopFilter>,
) -> Result<Json<Value>, ApiError> {
    let scope = p.scope(&s, q.shop.as_deref()).await?;
    let list: Vec<QuarantineView> = s
        .admin
        .storage()
        .installations(None)
        .await?
        .into_iter()
        .filter(|i| scope.as_ref().is_none_or(|v| v.contains(&i.shop)))
        .filter_map(|i| {
            let q = i.quarantine?;
            Some(QuarantineView {
                shop: i.shop,
                plugin_id: i.plugin_id,
                version: i.version,
                enabled: i.enabled,
                since: q.since,
                reason: q.reason,
                consecutive_failures: i.consecutive_failures,
            })
        })
        .collect();
    Ok(Json(json!({ "quarantined": list })))
}
