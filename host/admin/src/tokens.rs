//! API tokens: issued, listed and revoked here (by `shopcase admin token
//! ...`), checked on every admin API request.
//!
//! A token is `shopcase_` followed by 43 base64url characters: 256 random
//! bits from the thread's CSPRNG (ChaCha, seeded by the OS). It is shown
//! once, when created; the storage keeps only its SHA-256 (lowercase hex),
//! under a unique index. Authenticating hashes what was presented and
//! looks the hash up: the comparison is on a hash of a high-entropy
//! secret, so its timing tells an attacker nothing usable.
//!
//! Each token has a public id (`tok_` + 12 hex digits) for lists, audit
//! records and revocation, a name, a role and, for store admins (and
//! optionally auditors), the stores it is limited to.

use std::sync::Arc;

use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use shopcase_contract::time::Timestamp;
use shopcase_net::Secret;
use shopcase_store::{ApiRole, ApiToken, NewApiToken, NewAudit, Storage, StoreError};

/// Every token starts with this, so a leaked one is recognisable (secret
/// scanners) and a wrong kind of credential is refused without a lookup.
pub const TOKEN_PREFIX: &str = "shopcase_";

/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;

/// The length of a well-formed token.
const TOKEN_LEN: usize = TOKEN_PREFIX.len() + 43;

/// Why a token operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The request is malformed (name, role and stores, creator).
    #[error("{0}")]
    Invalid(String),
    /// A store named for the token is not configured.
    #[error("store `{shop}` is not configured (configured: {known})")]
    UnknownStore {
        /// The store.
        shop: String,
        /// The configured ones.
        known: String,
    },
    /// No token with this id.
    #[error("no API token with id `{0}`")]
    NotFound(String),
    /// The token was already revoked.
    #[error("API token `{0}` is already revoked")]
    AlreadyRevoked(String),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// A token to issue.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// What it is for (1-64 printable characters), e.g. `ci-deploy`.
    pub name: String,
    /// Its role.
    pub role: ApiRole,
    /// The stores it is limited to: required for store admins, optional
    /// for auditors (empty: every store), none for operators.
    pub stores: Vec<String>,
    /// Who issues it (recorded).
    pub created_by: String,
}

/// A freshly issued token: the stored record and the token itself, which
/// exists nowhere else and must be handed to its user now.
#[derive(Debug)]
pub struct IssuedToken {
    /// As stored.
    pub token: ApiToken,
    /// The bearer token (`shopcase_...`).
    pub secret: Secret,
}

/// Issues, lists, revokes and checks API tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    storage: Arc<dyn Storage>,
    configured: Vec<String>,
}

/// Why a presented token was not accepted (for the audit record only; the
/// caller always gets the same 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer shopcase_...` of the right length.
    Malformed,
    /// No token has this hash.
    Unknown,
    /// The token was revoked.
    Revoked {
        /// Its id.
        id: String,
    },
}

impl Refusal {
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            Refusal::Missing => "missing-token",
            Refusal::Malformed => "malformed-token",
            Refusal::Unknown => "unknown-token",
            Refusal::Revoked { .. } => "revoked-token",
        }
    }
}

impl Tokens {
    /// Over a storage; `configured` are the stores tokens may be limited to.
    pub fn new(storage: Arc<dyn Storage>, configured: Vec<String>) -> Tokens {
        Tokens {
            storage,
            configured,
        }
    }

    /// Issue a token. The returned secret is not stored anywhere.
    pub async fn create(&self, req: NewToken) -> Result<IssuedToken, TokenError> {
        check_name("name", &req.name, 64)?;
        check_name("created-by", &req.created_by, 128)?;
        let mut stores = req.stores.clone();
        stores.sort();
        stores.dedup();
        match (req.role, stores.is_empty()) {
            (ApiRole::Operator, false) => {
                return Err(TokenError::Invalid(
                    "an operator token covers every store: give no stores (or use the store-admin role)".into(),
                ));
            }
            (ApiRole::StoreAdmin, true) => {
                return Err(TokenError::Invalid(
                    "a store-admin token needs the stores it may administer (--store, repeatable)"
                        .into(),
                ));
            }
            _ => {}
        }
        for shop in &stores {
            if !self.configured.iter().any(|c| c == shop) {
                return Err(TokenError::UnknownStore {
                    shop: shop.clone(),
                    known: if self.configured.is_empty() {
                        "none".into()
                    } else {
                        self.configured.join(", ")
                    },
                });
            }
        }
        let secret = generate();
        let now = Timestamp::now();
        let new = NewApiToken {
            id: format!("tok_{}", hex::encode(rand::random::<[u8; 6]>())),
            name: req.name.clone(),
            role: req.role,
            stores: stores.clone(),
            hash: hash(secret.expose()),
            created_by: req.created_by.clone(),
            created_at: now,
        };
        let audit = NewAudit {
            actor: req.created_by.clone(),
            action: "token.create".into(),
            shop: None,
            plugin_id: None,
            details: json!({
                "token": new.id,
                "before": null,
                "after": {"name": new.name, "role": new.role, "stores": new.stores},
            }),
            at: now,
        };
        self.storage.create_api_token(new.clone(), audit).await?;
        Ok(IssuedToken {
            token: ApiToken {
                id: new.id,
                name: new.name,
                role: new.role,
                stores,
                created_by: new.created_by,
                created_at: now,
                last_used_at: None,
                revoked_at: None,
                revoked_by: None,
            },
            secret,
        })
    }

    /// Every token, oldest first (never their secrets or hashes).
    pub async fn list(&self) -> Result<Vec<ApiToken>, TokenError> {
        Ok(self.storage.api_tokens().await?)
    }

    /// Revoke a token: it is refused from the next request on.
    pub async fn revoke(&self, id: &str, actor: &str) -> Result<ApiToken, TokenError> {
        check_name("by", actor, 128)?;
        let current = self
            .list()
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| TokenError::NotFound(id.to_owned()))?;
        let audit = NewAudit {
            actor: actor.to_owned(),
            action: "token.revoke".into(),
            shop: None,
            plugin_id: None,
            details: json!({
                "token": id,
                "name": current.name,
                "before": {"revoked": false},
                "after": {"revoked": true},
            }),
            at: Timestamp::now(),
        };
        match self.storage.revoke_api_token(id, audit).await {
            Ok(true) => {}
            Ok(false) => return Err(TokenError::AlreadyRevoked(id.to_owned())),
            Err(StoreError::NotFound { .. }) => return Err(TokenError::NotFound(id.to_owned())),
            Err(e) => return Err(e.into()),
        }
        self.list()
            .await?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| TokenError::NotFound(id.to_owned()))
    }

    /// The live token a request presented (`Authorization` header value).
    pub(crate) async fn authenticate(
        &self,
        header: Option<&str>,
    ) -> Result<Result<ApiToken, Refusal>, StoreError> {
        let Some(header) = header else {
            return Ok(Err(Refusal::Missing));
        };
        let Some(presented) = bearer(header) else {
            return Ok(Err(Refusal::Malformed));
        };
        let Some(token) = self.storage.api_token_by_hash(&hash(presented)).await? else {
            return Ok(Err(Refusal::Unknown));
        };
        if token.revoked_at.is_some() {
            return Ok(Err(Refusal::Revoked { id: token.id }));
        }
        if let Err(e) = self
            .storage
            .touch_api_token(&token.id, Timestamp::now())
            .await
        {
            // Bookkeeping only: the request goes on.
            tracing::debug!(error = %e, token = %token.id, "cannot record the token's last use");
        }
        Ok(Ok(token))
    }
}

/// A new random token.
fn generate() -> Secret {
    let bytes: [u8; TOKEN_BYTES] = rand::random();
    Secret::new(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The stored form of a token: lowercase hex SHA-256.
pub(crate) fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token in `Bearer <token>`, if well-formed.
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer")
        && token.len() == TOKEN_LEN
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(token)
}

fn check_name(what: &str, value: &str, max: usize) -> Result<(), TokenError> {
    if value.trim().is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(TokenError::Invalid(format!(
            "`{what}` must be 1-{max} printable characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_well_formed() {
        let a = generate();
        let b = generate();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), TOKEN_LEN);
        assert_eq!(bearer(&format!("Bearer {}", a.expose())), Some(a.expose()));
        assert_eq!(bearer(&format!("bearer  {}", a.expose())), Some(a.expose()));
        assert!(format!("{a:?}").contains("redacted"), "never printed");
        for bad in [
            "Basic dXNlcjpwYXNz".to_owned(),
            "Bearer".to_owned(),
            format!("Bearer {}x", a.expose()),
            format!("Bearer {}", &a.expose()[1..]),
            format!("Token {}", a.expose()),
            format!("Bearer {}", a.expose().replace('_', "!")),
        ] {
            assert_eq!(bearer(&bad), None, "{bad}");
        }
    }

    #[test]
    fn the_stored_hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
