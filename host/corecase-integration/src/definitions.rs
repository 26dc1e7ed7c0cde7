//! Which Core Case case definition a plugin case type lives in: the
//! configured mapping first, then (with `discover-case-types`) the tenant's
//! definition of the same name, looked up once and cached.

use std::collections::BTreeMap;
use std::time::Duration;

use shopcase_corecase::CoreCaseClient;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::settings::DefinitionRef;
use shopcase_host_api::ExecError;

/// Look the tenant's definitions up again at most this often when a case
/// type is missing (a definition added while the host runs is found).
const REFRESH_AFTER: Duration = Duration::from_secs(60);

/// The case-type → definition mapping.
#[derive(Debug)]
pub(crate) struct Definitions {
    configured: BTreeMap<String, DefinitionRef>,
    discover: bool,
    discovered: Mutex<Option<(Instant, BTreeMap<String, DefinitionRef>)>>,
}

impl Definitions {
    pub(crate) fn new(configured: BTreeMap<String, DefinitionRef>, discover: bool) -> Definitions {
        Definitions {
            configured,
            discover,
            discovered: Mutex::new(None),
        }
    }

    /// The definition of `case_type`. Unmapped is permanent (the deployment
    /// must add it, then the dead letter can be retried); a failed lookup
    /// is transient.
    pub(crate) async fn resolve(
        &self,
        client: &CoreCaseClient,
        case_type: &str,
    ) -> Result<DefinitionRef, ExecError> {
        if let Some(d) = self.configured.get(case_type) {
            return Ok(d.clone());
        }
        if !self.discover {
            return Err(unmapped(case_type, false));
        }
        let mut cache = self.discovered.lock().await;
        if let Some((_, map)) = cache.as_ref()
            && let Some(d) = map.get(case_type)
        {
            return Ok(d.clone());
        }
        if cache
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < REFRESH_AFTER)
        {
            return Err(unmapped(case_type, true));
        }
        let defs = client
            .list_case_definitions()
            .await
            .map_err(|e| super::executor::exec_error(&e))?;
        let map: BTreeMap<String, DefinitionRef> = defs
            .into_iter()
            .map(|d| {
                (
                    d.name,
                    DefinitionRef {
                        id: d.id,
                        case_config_id: d.case_config_id,
                    },
                )
            })
            .collect();
        tracing::info!(
            definitions = map.len(),
            "read the Core Case tenant's case definitions"
        );
        let found = map.get(case_type).cloned();
        *cache = Some((Instant::now(), map));
        found.ok_or_else(|| unmapped(case_type, true))
    }
}

fn unmapped(case_type: &str, looked_up: bool) -> ExecError {
    let how = if looked_up {
        "and the Core Case tenant has no case definition of that name"
    } else {
        "and `discover-case-types` is off"
    };
    ExecError::permanent(
        "unmapped-case-type",
        format!(
            "case type `{case_type}` is not mapped in `[corecase.case-types]` {how}; map it to a case definition id, then retry the dead letter"
        ),
    )
}
