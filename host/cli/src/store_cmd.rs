//! `shopcase store list|enable|disable|set|approve|connect`: which plugins
//! run for which store, what content of them the store approved, and the
//! store's webhook subscriptions and access scopes. Only parsing and
//! printing live here; the rules are in `shopcase_admin::stores` and
//! `shopcase_admin::connect`, shared with the admin API.
//!
//! The commands work on the data directory named by `--config` and can run
//! while the server does (SQLite serialises the writes); the server picks
//! the change up with the next event. Secrets are not read.
//!
//! `connect` reads the stores' Admin API tokens (the configuration is loaded
//! as `serve` loads it) and talks to Shopify; the other commands read no
//! secret.
//!
//! Exit codes (the runner's table): 0 done, 1 refused (unknown store,
//! plugin, setting...), 2 bad configuration or a malformed `--set`.
//! `connect`: 0 when every change was made (or, with `--dry-run`, planned)
//! and the token holds every needed scope; 1 when a scope is missing, a
//! change failed or was blocked, Shopify could not be read, or an enabled
//! plugin's manifest cannot be read; 2 when the configuration does not
//! load, or lacks `server.public-url` or the store's Admin API token.

use std::path::PathBuf;

use shopcase_admin::connect::{ChangeStatus, ConnectError, ConnectReport};
use shopcase_admin::stores::{InstallationView, StoreView};
use shopcase_admin::{Admin, ApproveRequest, EnableRequest, SetRequest, SettingInput};
use shopcase_pipeline::Config;

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// The configuration file (its data directory, stores and plugins directory).
    #[arg(long, env = "SHOPCASE_CONFIG", default_value = "shopcase.toml")]
    config: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum StoreCommand {
    /// List the stores and their plugins (version, settings, who enabled them, quarantine).
    List {
        #[command(flatten)]
        common: Common,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Enable a plugin for a store (installing it, or re-enabling it).
    Enable {
        #[command(flatten)]
        common: Common,
        /// The store, e.g. demo.myshopify.com.
        #[arg(long)]
        shop: String,
        /// The plugin id.
        #[arg(long)]
        plugin: String,
        /// The version (default: the newest in the plugins directory).
        #[arg(long)]
        version: Option<String>,
        /// A setting, e.g. --set threshold=750 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// Who makes the change (recorded in the audit log).
        #[arg(long, env = "SHOPCASE_ACTOR")]
        by: String,
    },
    /// Stop a plugin getting a store's events (settings are kept).
    Disable {
        #[command(flatten)]
        common: Common,
        /// The store.
        #[arg(long)]
        shop: String,
        /// The plugin id.
        #[arg(long)]
        plugin: String,
        /// Who makes the change.
        #[arg(long, env = "SHOPCASE_ACTOR")]
        by: String,
    },
    /// Change settings or version, or lift a quarantine.
    Set {
        #[command(flatten)]
        common: Common,
        /// The store.
        #[arg(long)]
        shop: String,
        /// The plugin id.
        #[arg(long)]
        plugin: String,
        /// Switch to this version.
        #[arg(long)]
        version: Option<String>,
        /// A setting, e.g. --set threshold=750 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// Return a setting to its default (repeatable).
        #[arg(long, value_name = "KEY")]
        unset: Vec<String>,
        /// Lift the plugin's quarantine for the store; held events run.
        #[arg(long)]
        unquarantine: bool,
        /// Who makes the change.
        #[arg(long, env = "SHOPCASE_ACTOR")]
        by: String,
    },
    /// Approve the plugin's content as it is now on disk (component and
    /// grants) for a store: after a plugin was replaced or rebuilt in the
    /// version the store pins, it runs only once approved. `store list`
    /// shows what approving would add.
    Approve {
        #[command(flatten)]
        common: Common,
        /// The store.
        #[arg(long)]
        shop: String,
        /// The plugin id.
        #[arg(long)]
        plugin: String,
        /// Who approves (recorded in the audit log).
        #[arg(long, env = "SHOPCASE_ACTOR")]
        by: String,
    },
    /// Subscribe the store's webhooks to what its enabled plugins and the
    /// host need (at `server.public-url`), through the Admin API: create,
    /// update or delete this host's subscriptions; report the access scopes
    /// the store's token lacks. Running it again changes nothing.
    Connect {
        #[command(flatten)]
        common: Common,
        /// The store.
        #[arg(long)]
        shop: String,
        /// Print the plan (changes, missing scopes) without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

impl StoreCommand {
    /// `--json` was given.
    pub(crate) fn json(&self) -> bool {
        matches!(
            self,
            StoreCommand::List { json: true, .. } | StoreCommand::Connect { json: true, .. }
        )
    }
}

pub(crate) async fn run(cmd: StoreCommand) -> Result<Exit, CliError> {
    let config_path = match &cmd {
        StoreCommand::List { common, .. }
        | StoreCommand::Enable { common, .. }
        | StoreCommand::Disable { common, .. }
        | StoreCommand::Set { common, .. }
        | StoreCommand::Approve { common, .. }
        | StoreCommand::Connect { common, .. } => common.config.clone(),
    };
    if let StoreCommand::Connect {
        shop,
        dry_run,
        json,
        ..
    } = &cmd
    {
        return connect(&config_path, shop, *dry_run, *json).await;
    }
    let config = Config::load_without_secrets(&config_path).map_err(CliError::bad_config)?;
    change(cmd, &config).await?;
    Ok(Exit::Done)
}

/// `--set KEY=VALUE`s; a malformed one is bad input (exit 2).
fn parse_settings(raw: &[String]) -> Result<Vec<(String, SettingInput)>, CliError> {
    raw.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_owned(), SettingInput::Text(v.to_owned())))
            }
            _ => Err(CliError::bad_input(format!(
                "--set `{kv}`: expected KEY=VALUE"
            ))),
        })
        .collect()
}

/// `store connect`: load the configuration with its secrets (the store's
/// token), connect, print the report.
async fn connect(
    config_path: &std::path::Path,
    shop: &str,
    dry_run: bool,
    json: bool,
) -> Result<Exit, CliError> {
    let config = Config::load(config_path).map_err(CliError::bad_config)?;
    let shopify = shopcase_shopify_integration::Shopify::from_config(&config)
        .map_err(CliError::bad_config)?;
    let admin = Admin::open(&config)
        .await?
        .with_shopify(shopify.client().clone());
    let report = admin.connect(shop, dry_run).await.map_err(|e| {
        let code = e.code();
        match e {
            ConnectError::NotConfigured(m) => CliError::bad_config(m),
            e => CliError::failed(e).with_kind(code),
        }
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(Exit::done_if(report.ok()))
}

fn print_report(r: &ConnectReport) {
    println!(
        "{}: webhooks to {}{}",
        r.shop,
        r.address,
        if r.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        }
    );
    let topics: Vec<String> = r
        .topics
        .iter()
        .map(|t| format!("{} ({})", t.topic, t.needed_by.join(", ")))
        .collect();
    println!("  topics: {}", topics.join(", "));
    for c in &r.changes {
        let what = match (&c.from, &c.to) {
            (Some(from), Some(to)) => format!("{from} -> {to}"),
            (Some(from), None) => from.clone(),
            (None, Some(to)) => to.clone(),
            (None, None) => String::new(),
        };
        println!(
            "  {:<7} {:<32} {:<8} {what}{}",
            c.action.as_str(),
            c.topic,
            c.status.as_str(),
            c.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
    if !r.unchanged.is_empty() {
        println!("  unchanged: {}", r.unchanged.join(", "));
    }
    for f in &r.foreign {
        println!(
            "  left alone (not this host's address): {} -> {}",
            f.topic, f.uri
        );
    }
    for m in &r.scopes.missing {
        println!(
            "  MISSING SCOPE {} (needed for {})",
            m.scope,
            m.needed_for.join(", ")
        );
    }
    if !r.scopes.possibly_missing.is_empty() {
        println!(
            "  not granted, needed only for some targets (tags, notes or metafields on customers or orders; holds on a fulfilment service's orders): {}",
            r.scopes.possibly_missing.join(", ")
        );
    }
    println!("  note: {}", r.compliance.note);
    let count = |s: ChangeStatus| r.changes.iter().filter(|c| c.status == s).count();
    println!(
        "{} {}, {} failed, {} blocked; {} scope(s) missing",
        r.changed(),
        if r.dry_run { "planned" } else { "changed" },
        count(ChangeStatus::Failed),
        count(ChangeStatus::Blocked),
        r.scopes.missing.len()
    );
}

async fn change(cmd: StoreCommand, config: &Config) -> Result<(), CliError> {
    let admin = Admin::open(config).await?;
    match cmd {
        StoreCommand::List { json, .. } => {
            let stores = admin.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&stores)?);
            } else {
                print_list(&stores);
            }
        }
        StoreCommand::Enable {
            shop,
            plugin,
            version,
            settings,
            by,
            ..
        } => {
            let inst = admin
                .enable(EnableRequest {
                    shop,
                    plugin,
                    version,
                    settings: parse_settings(&settings)?,
                    actor: by,
                })
                .await?;
            println!(
                "enabled {} {} for {}",
                inst.plugin_id, inst.version, inst.shop
            );
            if inst.quarantine.is_some() {
                println!(
                    "note: it is still quarantined; lift it with `shopcase store set --unquarantine`"
                );
            }
            println!(
                "next: `shopcase store connect --shop {}` subscribes the store's webhooks to its plugins' topics",
                inst.shop
            );
        }
        StoreCommand::Disable {
            shop, plugin, by, ..
        } => {
            let inst = admin.disable(&shop, &plugin, &by).await?;
            println!("disabled {} for {}", inst.plugin_id, inst.shop);
            println!(
                "next: `shopcase store connect --shop {}` unsubscribes the topics no enabled plugin needs",
                inst.shop
            );
        }
        StoreCommand::Set {
            shop,
            plugin,
            version,
            settings,
            unset,
            unquarantine,
            by,
            ..
        } => {
            let inst = admin
                .set(SetRequest {
                    shop,
                    plugin,
                    version,
                    settings: parse_settings(&settings)?,
                    unset,
                    unquarantine,
                    actor: by,
                })
                .await?;
            println!(
                "updated {} {} for {}{}",
                inst.plugin_id,
                inst.version,
                inst.shop,
                if unquarantine {
                    " (quarantine lifted)"
                } else {
                    ""
                }
            );
        }
        StoreCommand::Connect { .. } => {
            return Err(CliError::failed(
                "`store connect` runs on its own (a bug if seen)",
            ));
        }
        StoreCommand::Approve {
            shop, plugin, by, ..
        } => {
            let done = admin
                .approve(ApproveRequest {
                    shop,
                    plugin,
                    actor: by,
                })
                .await?;
            let i = &done.installation;
            let short = |s: &str| s.get(..12).unwrap_or(s).to_owned();
            println!(
                "approved {} {} for {}: sha256 {} -> {}; {}",
                i.plugin_id,
                i.version,
                i.shop,
                done.before
                    .as_ref()
                    .map_or("(none)".to_owned(), |b| short(&b.sha256)),
                i.approved
                    .as_ref()
                    .map_or(String::new(), |a| short(&a.sha256)),
                done.grants.summary()
            );
        }
    }
    Ok(())
}

fn print_list(stores: &[StoreView]) {
    if stores.is_empty() {
        println!("no stores: add [[stores]] to the configuration");
    }
    for s in stores {
        let note = if s.configured {
            format!("api {}", s.api_version)
        } else {
            "not configured".into()
        };
        println!("{} ({note})", s.domain);
        if s.installations.is_empty() {
            println!("  no plugins");
        }
        for i in &s.installations {
            print_installation(i);
        }
    }
}

fn print_installation(v: &InstallationView) {
    let i = &v.installation;
    let state = match (&i.quarantine, i.enabled) {
        (Some(q), _) => format!("QUARANTINED since {}: {}", q.since, q.reason),
        (None, true) => format!(
            "enabled by {} at {}",
            i.enabled_by.as_deref().unwrap_or("?"),
            i.enabled_at.map(|t| t.to_string()).unwrap_or_default()
        ),
        (None, false) => format!("disabled by {} at {}", i.updated_by, i.updated_at),
    };
    println!("  {} {}  {state}", i.plugin_id, i.version);
    if let Some(settings) = &v.effective_settings {
        let shown: Vec<String> = settings
            .iter()
            .map(|(k, val)| {
                format!(
                    "{k}={val}{}",
                    if i.settings.contains_key(k) {
                        ""
                    } else {
                        " (default)"
                    }
                )
            })
            .collect();
        if !shown.is_empty() {
            println!("    settings: {}", shown.join(", "));
        }
    }
    println!("    approval: {}", v.approval.summary);
    if let Some(p) = &v.problem {
        println!("    problem: {p}");
    }
}
