//! `shopcase admin token create|list|revoke`: the admin API's tokens.
//!
//! Issuing a token needs the host's configuration and data directory (a
//! shell on the host), not an API call: whoever can reach the API cannot
//! mint tokens. The rules are in `shopcase_admin::tokens`.
//!
//! `create` prints the token alone on stdout (so `TOKEN=$(shopcase admin
//! token create ...)` works) and what it is on stderr. The token is shown
//! this once: only its SHA-256 is stored.
//!
//! Exit codes (the runner's table): 0 done, 1 refused (unknown store, bad role, no such
//! token...), 2 bad configuration.

use std::path::PathBuf;

use shopcase_admin::Admin;
use shopcase_admin::{AdminState, NewToken};
use shopcase_pipeline::Config;
use shopcase_pipeline::store::{ApiRole, ApiToken};

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum AdminCommand {
    /// API tokens of the admin API and page.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Issue a token (printed once on stdout).
    Create {
        /// The configuration file (its data directory and stores).
        #[arg(long, env = "SHOPCASE_CONFIG", default_value = "shopcase.toml")]
        config: PathBuf,
        /// What the token is for, e.g. `jane-ops` or `ci-deploy`.
        #[arg(long)]
        name: String,
        /// operator (everything, every store), store-admin (its stores),
        /// auditor (read-only).
        #[arg(long, value_parser = parse_role)]
        role: ApiRole,
        /// A store the token is limited to (repeatable): required for
        /// store-admin, optional for auditor.
        #[arg(long = "store", value_name = "DOMAIN")]
        stores: Vec<String>,
        /// Who issues it (recorded in the audit log).
        #[arg(long, env = "SHOPCASE_ACTOR")]
        by: String,
    },
    /// List the tokens (never their secrets).
    List {
        /// The configuration file.
        #[arg(long, env = "SHOPCASE_CONFIG", default_value = "shopcase.toml")]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it is refused from the next request on.
    Revoke {
        /// The configuration file.
        #[arg(long, env = "SHOPCASE_CONFIG", default_value = "shopcase.toml")]
        config: PathBuf,
        /// The token's id (`tok_...`, from `list`).
        id: String,
        /// Who revokes it (recorded in the audit log).
        #[arg(long, env = "SHOPCASE_ACTOR")]
        by: String,
    },
}

fn parse_role(s: &str) -> Result<ApiRole, String> {
    s.parse()
}

impl AdminCommand {
    /// `--json` was given.
    pub(crate) fn json(&self) -> bool {
        matches!(
            self,
            AdminCommand::Token(TokenCommand::List { json: true, .. })
        )
    }
}

pub(crate) async fn run(cmd: AdminCommand) -> Result<Exit, CliError> {
    let AdminCommand::Token(cmd) = cmd;
    let config_path = match &cmd {
        TokenCommand::Create { config, .. }
        | TokenCommand::List { config, .. }
        | TokenCommand::Revoke { config, .. } => config.clone(),
    };
    let config = Config::load_without_secrets(&config_path).map_err(CliError::bad_config)?;
    token(cmd, &config).await?;
    Ok(Exit::Done)
}

async fn token(cmd: TokenCommand, config: &Config) -> Result<(), CliError> {
    let admin = Admin::open(config).await?;
    let state = AdminState::new(admin.storage().clone(), config);
    let tokens = state.tokens();
    match cmd {
        TokenCommand::Create {
            name,
            role,
            stores,
            by,
            ..
        } => {
            let issued = tokens
                .create(NewToken {
                    name,
                    role,
                    stores,
                    created_by: by,
                })
                .await?;
            eprintln!(
                "created {} ({}): {}; shown once, store it now",
                issued.token.id,
                issued.token.name,
                scope(&issued.token)
            );
            println!("{}", issued.secret.expose());
        }
        TokenCommand::List { json, .. } => {
            let all = tokens.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else if all.is_empty() {
                println!("no tokens: create one with `shopcase admin token create`");
            } else {
                for t in &all {
                    let state = match (&t.revoked_at, &t.last_used_at) {
                        (Some(at), _) => format!(
                            "REVOKED at {at} by {}",
                            t.revoked_by.as_deref().unwrap_or("?")
                        ),
                        (None, Some(used)) => format!("last used {used}"),
                        (None, None) => "never used".into(),
                    };
                    println!(
                        "{}  {}  {}  created by {} at {}  {state}",
                        t.id,
                        t.name,
                        scope(t),
                        t.created_by,
                        t.created_at
                    );
                }
            }
        }
        TokenCommand::Revoke { id, by, .. } => {
            let t = tokens.revoke(&id, &by).await?;
            println!("revoked {} ({})", t.id, t.name);
        }
    }
    Ok(())
}

fn scope(t: &ApiToken) -> String {
    if t.stores.is_empty() {
        format!("{}, all stores", t.role)
    } else {
        format!("{}, {}", t.role, t.stores.join(", "))
    }
}
