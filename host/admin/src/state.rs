//! What the admin API's handlers share.

use std::sync::Arc;

use shopcase_pipeline::{Admin, Config};
use shopcase_store::Storage;

use crate::tokens::Tokens;

/// The admin API's state: the shared administration code path (the same
/// one `shopcase store ...` uses) and the token checker. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub(crate) admin: Admin,
    pub(crate) tokens: Tokens,
}

impl AdminState {
    /// Over the host's storage and configuration (stores, plugins
    /// directory, sandbox caps). Use the same storage as the pipeline.
    pub fn new(storage: Arc<dyn Storage>, config: &Config) -> AdminState {
        let admin = Admin::new(storage.clone(), config);
        let tokens = Tokens::new(
            storage,
            admin.configured_stores().map(str::to_owned).collect(),
        );
        AdminState { admin, tokens }
    }

    /// The token service (issue, list, revoke).
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }
}
