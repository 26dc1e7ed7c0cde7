//! The packaged plugins: versions, manifests, grants, limits and settings.
//! Not tied to a store: every role may read them.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::state::AdminState;
use crate::views::PluginView;

/// `GET /plugins`.
pub(crate) async fn list(
    _p: Principal,
    State(s): State<AdminState>,
) -> Result<Json<Value>, ApiError> {
    let plugins = PluginView::group(s.admin.packaged_plugins(), s.admin.caps());
    Ok(Json(json!({ "plugins": plugins })))
}

/// `GET /plugins/{plugin}`.
pub(crate) async fn get(
    _p: Principal,
    State(s): State<AdminState>,
    ApiPath(plugin): ApiPath<String>,
) -> Result<Json<PluginView>, ApiError> {
    PluginView::group(s.admin.plugin_versions(&plugin), s.admin.caps())
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| ApiError::Missing {
            code: "unknown-plugin",
            message: format!("plugin `{plugin}` is not packaged on this host"),
        })
}
