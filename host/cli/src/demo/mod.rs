//! `shopcase demo`: every scenario from webhook to Core Case and back to
//! Shopify, on one machine, in one process.
//!
//! It starts, on loopback: the Core Case emulator, the Shopify emulator
//! (seeded from the scenario files), and the host exactly as `serve`
//! assembles it (SQLite in a temporary directory, the packaged plugins).
//! Then it enables the first-party plugins for the demo store, posts the
//! scenario webhooks signed as Shopify would (and the helpdesk's and
//! carrier service's reports signed by their `[[inbound]]` source), acts as
//! the Core Case analyst (decides cases, approves and rejects held
//! operations, completes tasks; then approves the refunds its cancels held),
//! waits for the write-backs, skips two days ahead so the follow-up timers
//! due by then fire (SLA escalation, review reminders), and prints what
//! happened.
//!
//! # Layout
//! - this file: the run and the summary;
//! - `seed`: the Shopify emulator's data, from the scenario files;
//! - `analyst`: the analyst's decisions, through the Core Case client.
//!
//! Exit codes (the runner's table): 0 the demo ran, 1 it failed, 2 no
//! packaged plugins in `--plugins`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use shopcase_admin::{Admin, EnableRequest};
use shopcase_contract::event::{TOPIC_CASE_UPDATED, TOPIC_TIMER_FIRED};
use shopcase_contract::inbound::is_inbound_topic;
use shopcase_contract::time::{SignedDuration, Timestamp};
use shopcase_corecase_integration::CoreCase;
use shopcase_pipeline::Config;
use shopcase_pipeline::store::{ActionFamily, JournalStatus, Storage};
use shopcase_shopify_integration::Shopify;

use crate::runner::{CliError, Exit};

mod analyst;
mod seed;

const SHOP: &str = "demo.myshopify.com";
const ADMIN_TOKEN: &str = "shpat_demo_write_back";
/// The `[[inbound]]` sources of the demo's configuration: a helpdesk and a
/// carrier-tracking service.
const INBOUND_SOURCES: &[&str] = &["helpdesk", "tracker"];
/// How far the demo skips ahead to let follow-up timers fire.
const SKIP_AHEAD_HOURS: i64 = 48;

/// The first-party plugins the demo enables.
const PLUGINS: &[&str] = &[
    "order-problems",
    "fraud",
    "returns",
    "refund-approval",
    "vip-escalation",
    "delivery-issues",
    "case-status",
];

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
    /// The packaged plugins (`cargo xtask build-plugins` writes them here).
    #[arg(long, default_value = "target/plugins")]
    plugins: PathBuf,
    /// The scenario event files.
    #[arg(long, default_value = "examples/events/scenarios")]
    scenarios: PathBuf,
    /// Keep the data directory (database, configuration) here instead of a
    /// temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Show the host's logs (RUST_LOG sets the filter).
    #[arg(long)]
    pub(crate) verbose: bool,
    /// Keep the host's data in PostgreSQL instead of SQLite: the name of
    /// the environment variable holding the connection URL (an empty
    /// database: the scenarios are the same events every run).
    #[arg(long, value_name = "VAR")]
    database_url_env: Option<String>,
}

pub(crate) async fn run(args: Args) -> Result<Exit, CliError> {
    if !args.plugins.join("fraud/plugin.toml").exists() {
        return Err(CliError::bad_input(format!(
            "no packaged plugins in {}: build them with `cargo xtask build-plugins` (or run `cargo xtask demo`)",
            args.plugins.display()
        )));
    }
    let summary = play(&args)
        .await
        .map_err(|e| CliError::failed(format!("demo failed: {e:#}")))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(Exit::Done)
}

/// The demo's result (`--json`).
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    /// Events in the inbox: webhooks and the host's own (case updates, timers).
    events: usize,
    cases: Vec<CaseSummary>,
    shopify_mutations: Vec<Mutation>,
    /// The plugins' metafields on orders as the Shopify emulator holds them
    /// at the end (e.g. the fraud score `shopcase.fraud-score`).
    order_metafields: Vec<OrderMetafield>,
    approvals: Vec<Approval>,
    /// What the analyst did.
    analyst: Vec<analyst::Done>,
    /// Webhooks posted, and how the host answered them.
    webhooks: Webhooks,
    /// Helpdesk and carrier reports posted to `POST /inbound/<source>`,
    /// and how the host answered them.
    inbound: Webhooks,
    /// Follow-up timers fired when the demo skipped ahead two days.
    timers_fired: usize,
    /// Follow-up timers still pending (due further ahead).
    timers_pending: usize,
    /// Dead letters: actions or plugin runs that failed for good.
    dead_letters: usize,
}

#[derive(Debug, Serialize)]
struct CaseSummary {
    case_type: String,
    external_reference: String,
    case_number: String,
    title: String,
    status: String,
    priority: String,
    owner_group: Option<String>,
    /// The named case worker, if any.
    assignee: Option<String>,
    escalation_level: u64,
    tasks: usize,
    documents: usize,
    /// What the case worker reads first.
    summary: String,
    /// The custom attributes (order, customer, scenario facts).
    attributes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct Mutation {
    operation: String,
    target: String,
}

#[derive(Debug, Serialize)]
struct OrderMetafield {
    order: u64,
    namespace: String,
    key: String,
    #[serde(rename = "type")]
    ty: String,
    /// A `json` value parsed, any other as its string.
    value: serde_json::Value,
}

#[derive(Debug, Serialize)]
struct Approval {
    case_type: String,
    operation: String,
    outcome: String,
    executed: bool,
}

#[derive(Debug, Default, Serialize)]
struct Webhooks {
    accepted: usize,
    duplicate: usize,
}

/// Every scenario, end to end.
async fn play(args: &Args) -> Result<Summary> {
    let started = Instant::now();
    let plugins_dir = std::fs::canonicalize(&args.plugins)?;
    let scenarios = args.scenarios.clone();
    let temp;
    let dir: PathBuf = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    progress(args, "starting the Core Case and Shopify emulators");
    let corecase_emulator = shopcase_corecase_emulator::spawn(Default::default())
        .await
        .context("Core Case emulator")?;
    // The scenario files were recorded on fixed dates: every timestamp in
    // them (and in the seed) moves so that their recorded present is now.
    let shift = seed::shift_to(&scenarios, Timestamp::now())?;
    let seed = seed::build(&scenarios, SHOP, ADMIN_TOKEN, shift)?;
    let shopify_emulator =
        shopcase_shopify_emulator::spawn(shopcase_shopify_emulator::EmulatorConfig {
            seed,
            ..Default::default()
        })
        .await
        .context("Shopify emulator")?;

    // The host's configuration, as an admin would write it.
    let webhook_secret = uuid::Uuid::new_v4().simple().to_string();
    let settings = corecase_emulator.client_settings();
    std::fs::write(dir.join("webhook-secret"), &webhook_secret)?;
    std::fs::write(dir.join("admin-token"), ADMIN_TOKEN)?;
    std::fs::write(dir.join("corecase-secret"), settings.client_secret.expose())?;
    // The helpdesk's and the carrier service's secrets (`[[inbound]]`).
    let inbound_secrets: Vec<(&str, shopcase_net::Secret)> = INBOUND_SOURCES
        .iter()
        .map(|name| {
            let secret = uuid::Uuid::new_v4().simple().to_string();
            std::fs::write(dir.join(format!("{name}-secret")), &secret)?;
            Ok((*name, shopcase_net::Secret::new(secret)))
        })
        .collect::<std::io::Result<_>>()?;
    let config_path = dir.join("shopcase.toml");
    std::fs::write(
        &config_path,
        config_text(
            &dir,
            &plugins_dir,
            shopify_emulator.base_url().as_str(),
            corecase_emulator.base_url().as_str(),
            args.database_url_env.as_deref(),
        ),
    )?;
    let config = Config::load(&config_path)?;
    let shopify = Shopify::from_config(&config)?;
    let corecase =
        CoreCase::from_config(&config)?.context("the demo configuration has a [corecase] table")?;

    progress(args, "starting the host");
    let storage = shopcase_pipeline::open_storage(&config).await?;
    let earlier = storage
        .search_events(shopcase_pipeline::store::EventQuery {
            limit: 1,
            ..Default::default()
        })
        .await?;
    anyhow::ensure!(
        earlier.is_empty(),
        "the database already holds a host's events: the demo's scenarios need an empty database"
    );
    let admin = Admin::new(storage.clone(), &config);
    let pipeline = crate::serve::assemble(config, storage.clone(), &shopify, Some(corecase))
        .build()
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let running = pipeline.spawn(listener);

    for plugin in PLUGINS {
        admin
            .enable(EnableRequest {
                shop: SHOP.into(),
                plugin: (*plugin).into(),
                version: None,
                settings: demo_settings(plugin),
                actor: "demo".into(),
            })
            .await
            .with_context(|| format!("enabling {plugin}"))?;
    }
    progress(
        args,
        &format!("enabled {} plugins for {SHOP}", PLUGINS.len()),
    );

    // The webhooks, one at a time: later files depend on what earlier ones did.
    let replayer = shopcase_pipeline::replay::Replayer::new(
        &running.webhook_url(),
        shopcase_net::Secret::new(webhook_secret.clone()),
    )
    .map_err(anyhow::Error::msg)?;
    let mut webhooks = Webhooks::default();
    let mut inbound = Webhooks::default();
    for folder in seed::FOLDERS {
        let files = seed::files(&scenarios.join(folder), shift)?;
        let mut posted = 0;
        for (path, file) in files {
            // Case updates and timers are the host's own events: the real
            // poller and timers produce them below.
            if file.topic == TOPIC_CASE_UPDATED || file.topic == TOPIC_TIMER_FIRED {
                continue;
            }
            // Helpdesk and carrier reports come signed by their source to
            // POST /inbound/<source>; the rest are Shopify's webhooks.
            let (outcome, count) = if is_inbound_topic(&file.topic) {
                let source = file.payload["source"].as_str().unwrap_or_default();
                let (_, secret) = inbound_secrets
                    .iter()
                    .find(|(name, _)| *name == source)
                    .with_context(|| format!("{}: no inbound source `{source}`", path.display()))?;
                (replayer.post_inbound(&file, secret).await, &mut inbound)
            } else {
                (replayer.post(&file).await, &mut webhooks)
            };
            match outcome {
                shopcase_pipeline::replay::ReplayOutcome::Accepted { .. } => count.accepted += 1,
                shopcase_pipeline::replay::ReplayOutcome::Duplicate { .. } => count.duplicate += 1,
                // Every scenario webhook is well formed and signed: a refusal
                // is a defect the demo must not hide.
                other => bail!("{} was not accepted: {other:?}", path.display()),
            }
            posted += 1;
            settle(storage.as_ref(), Duration::from_millis(150)).await?;
        }
        progress(
            args,
            &format!("{folder}: {posted} webhook(s) and report(s) processed"),
        );
    }
    // The poller reports the new cases once; let that settle too.
    settle(storage.as_ref(), Duration::from_secs(1)).await?;

    progress(args, "acting as the Core Case analyst");
    let client = shopcase_corecase::CoreCaseClient::new(settings)?;
    let mut done = analyst::act(
        &client,
        SHOP,
        &corecase_emulator.emulator().cases(),
        analyst::DECISIONS,
    )
    .await?;
    // Case updates → plugins → write-backs (and the case updates those cause).
    settle(storage.as_ref(), Duration::from_secs(2)).await?;
    // The cancels held their refunds for approval: the approver decides.
    progress(args, "approving the refunds held on cancel");
    done.extend(
        analyst::act(
            &client,
            SHOP,
            &corecase_emulator.emulator().cases(),
            analyst::REFUND_APPROVALS,
        )
        .await?,
    );
    settle(storage.as_ref(), Duration::from_secs(2)).await?;

    // Skip ahead: the follow-ups due within two days fire now, as the
    // host's timer loop would fire them then (each `timer/fired` event
    // carries its timer's due time), so SLA escalation shows in the demo.
    let now = Timestamp::now();
    let horizon = now + SignedDuration::from_hours(SKIP_AHEAD_HOURS);
    let timers_fired = storage
        .fire_timers_due_by(horizon, now, 10_000)
        .await?
        .len();
    progress(
        args,
        &format!("{SKIP_AHEAD_HOURS} hours later: {timers_fired} follow-up timer(s) fire"),
    );
    settle(storage.as_ref(), Duration::from_secs(2)).await?;

    let summary = summarise(
        storage.as_ref(),
        &corecase_emulator.emulator().cases(),
        &shopify_emulator.emulator,
        done,
        webhooks,
        inbound,
        timers_fired,
    )
    .await?;
    running.shutdown().await?;
    corecase_emulator.shutdown().await;
    shopify_emulator.shutdown().await?;
    progress(
        args,
        &format!("done in {:.1} s", started.elapsed().as_secs_f64()),
    );
    Ok(summary)
}

fn progress(args: &Args, what: &str) {
    if !args.json {
        eprintln!("demo: {what}");
    }
}

/// Wait until nothing is pending (inbox, journal) for `quiet` in a row.
async fn settle(storage: &dyn Storage, quiet: Duration) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut quiet_since: Option<Instant> = None;
    loop {
        let inbox = storage
            .stats(shopcase_contract::time::Timestamp::now())
            .await?;
        let journal = storage.journal_stats().await?;
        let open: u64 = [
            ActionFamily::Case,
            ActionFamily::Shopify,
            ActionFamily::FollowUp,
        ]
        .iter()
        .map(|f| {
            journal.count(*f, JournalStatus::Pending) + journal.count(*f, JournalStatus::InFlight)
        })
        .sum();
        if inbox.pending == 0 && open == 0 {
            let since = *quiet_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= quiet {
                return Ok(());
            }
        } else {
            quiet_since = None;
        }
        if Instant::now() > deadline {
            bail!(
                "the host did not settle within two minutes: {} event(s) and {open} action(s) still pending",
                inbox.pending
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn summarise(
    storage: &dyn Storage,
    cases: &[serde_json::Value],
    shopify: &shopcase_shopify_emulator::Emulator,
    analyst: Vec<analyst::Done>,
    webhooks: Webhooks,
    inbound: Webhooks,
    timers_fired: usize,
) -> Result<Summary> {
    let events = storage
        .search_events(shopcase_pipeline::store::EventQuery {
            shops: Some(vec![SHOP.into()]),
            limit: 100_000,
            ..Default::default()
        })
        .await?
        .len();
    let mut out = Vec::new();
    let mut approvals = Vec::new();
    for c in cases {
        let attrs = &c["caseProperties"]["defaultAttributes"];
        let case_type = c["caseType"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        out.push(CaseSummary {
            case_type: case_type.clone(),
            external_reference: attrs["externalReference"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            case_number: c["caseNumber"].as_str().unwrap_or_default().to_owned(),
            title: attrs["caseTitle"].as_str().unwrap_or_default().to_owned(),
            status: c["status"].as_str().unwrap_or_default().to_owned(),
            priority: attrs["priority"].as_str().unwrap_or_default().to_owned(),
            owner_group: attrs["assigneeGroup"].as_str().map(str::to_owned),
            assignee: attrs["assignee"].as_str().map(str::to_owned),
            escalation_level: attrs["escalationLevel"].as_u64().unwrap_or(0),
            tasks: c["tasks"].as_array().map_or(0, Vec::len),
            documents: c["attachments"].as_array().map_or(0, Vec::len),
            summary: attrs["summary"].as_str().unwrap_or_default().to_owned(),
            attributes: c["caseProperties"]["customAttributes"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
        });
        if let Some(id) = c["id"].as_str() {
            for held in storage.held_operations(id).await? {
                approvals.push(Approval {
                    case_type: case_type.clone(),
                    operation: held.operation.kind().to_string(),
                    outcome: format!("{:?}", held.status).to_lowercase(),
                    executed: held.release_status == Some(JournalStatus::Done),
                });
            }
        }
    }
    let mutations = shopify.mutations(Some(SHOP), None);
    let mut metafield_orders: Vec<u64> = mutations
        .iter()
        .filter(|m| m.operation == "metafieldsSet")
        .filter_map(|m| m.target.strip_prefix("gid://shopify/Order/")?.parse().ok())
        .collect();
    metafield_orders.sort_unstable();
    metafield_orders.dedup();
    let order_metafields = metafield_orders
        .into_iter()
        .filter_map(|id| shopify.order(SHOP, id))
        .flat_map(|o| {
            o.metafields
                .into_iter()
                // The host's own records are not the plugins' output.
                .filter(|m| !m.namespace.starts_with("$app"))
                .map(move |m| OrderMetafield {
                    order: o.id,
                    value: if m.ty == "json" {
                        serde_json::from_str(&m.value)
                            .unwrap_or(serde_json::Value::String(m.value.clone()))
                    } else {
                        serde_json::Value::String(m.value.clone())
                    },
                    namespace: m.namespace,
                    key: m.key,
                    ty: m.ty,
                })
        })
        .collect();
    let shopify_mutations = mutations
        .into_iter()
        .map(|m| Mutation {
            operation: m.operation,
            target: m.target,
        })
        .collect();
    let timers_pending = storage
        .timers(SHOP)
        .await?
        .iter()
        .filter(|t| t.state == shopcase_pipeline::store::TimerState::Scheduled)
        .count();
    let dead_letters = storage
        .stats(shopcase_contract::time::Timestamp::now())
        .await?
        .dead_letters_open as usize;
    Ok(Summary {
        events,
        cases: out,
        shopify_mutations,
        order_metafields,
        approvals,
        analyst,
        webhooks,
        inbound,
        timers_fired,
        timers_pending,
        dead_letters,
    })
}

/// The settings the demo gives a plugin on top of its defaults: the
/// returns team names owners (issue: named owners), round-robin for returns
/// and one senior for large chargebacks.
fn demo_settings(plugin: &str) -> Vec<(String, shopcase_admin::SettingInput)> {
    match plugin {
        "returns" => vec![(
            "assignment-rules".into(),
            shopcase_admin::SettingInput::Json(serde_json::json!([
                "type=refund-dispute amount>=300 -> maria.k",
                "type=return-request -> ann.lee, bob.ray",
            ])),
        )],
        _ => vec![],
    }
}

/// Cases the printed summary shows with their first lines: what a case
/// worker sees first.
const SCENES: &[(&str, &str)] = &[
    (
        "A return with the order's lines and the customer's history",
        "demo.myshopify.com:return:9100020201:return-request",
    ),
    (
        "A chargeback assigned to a named owner by the store's rules",
        "demo.myshopify.com:dispute:7700002022:refund-dispute",
    ),
    (
        "A fraudulent order cancelled, its refund approved and made",
        "demo.myshopify.com:order:5900000102010:fraud-investigation",
    ),
    (
        "A refund made in Shopify outside shopcase, flagged",
        "demo.myshopify.com:order:5900000102011:refund-approval",
    ),
    (
        "A VIP's complaint from the helpdesk, escalated at once",
        "demo.myshopify.com:order:5900000102046:vip-escalation",
    ),
];

fn print_summary(s: &Summary) {
    println!();
    println!(
        "shopcase demo — {} webhooks accepted ({} duplicate), {} helpdesk and carrier reports accepted, {} events in the inbox",
        s.webhooks.accepted, s.webhooks.duplicate, s.inbound.accepted, s.events
    );
    println!();
    println!("Cases in Core Case ({}):", s.cases.len());
    for c in &s.cases {
        println!(
            "  {:<11} {:<23} {:<12} {:<8} esc {} tasks {:<2} docs {:<2} {}",
            c.case_number,
            c.case_type,
            c.status,
            c.priority,
            c.escalation_level,
            c.tasks,
            c.documents,
            c.title
        );
    }
    println!();
    println!("Scenes worth a look:");
    for (what, reference) in SCENES {
        let Some(c) = s.cases.iter().find(|c| c.external_reference == *reference) else {
            println!("  {what}: no case (see the dead letters)");
            continue;
        };
        println!("  {what} — {} {}", c.case_number, c.title);
        if let Some(owner) = &c.assignee {
            println!(
                "      owner {owner} ({})",
                c.owner_group.as_deref().unwrap_or("no group")
            );
        }
        for line in c.summary.lines().filter(|l| !l.trim().is_empty()).take(6) {
            println!("      {line}");
        }
    }
    println!();
    println!("What the analyst did:");
    for d in &s.analyst {
        println!("  {:<11} {}", d.case_number, d.action);
    }
    println!();
    println!("Approvals:");
    for a in &s.approvals {
        println!(
            "  {:<16} {:<14} {:<9} {}",
            a.case_type,
            a.operation,
            a.outcome,
            if a.executed {
                "executed in Shopify"
            } else {
                "not executed"
            }
        );
    }
    println!();
    let mut by_op: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in &s.shopify_mutations {
        *by_op.entry(m.operation.as_str()).or_default() += 1;
    }
    println!("Shopify write-backs ({}):", s.shopify_mutations.len());
    for (op, n) in by_op {
        println!("  {op:<28} {n}");
    }
    println!();
    println!(
        "Skipping ahead {SKIP_AHEAD_HOURS} hours: {} follow-up timer(s) fired; {} still pending (due later). Dead letters: {}.",
        s.timers_fired, s.timers_pending, s.dead_letters
    );
}

fn config_text(
    dir: &Path,
    plugins: &Path,
    shopify_url: &str,
    corecase_url: &str,
    database_url_env: Option<&str>,
) -> String {
    let d = dir.display();
    let backend = match database_url_env {
        None => String::new(),
        Some(var) => format!("backend = \"postgres\"\nurl-env = \"{var}\"\n"),
    };
    format!(
        r#"# Written by `shopcase demo`.
data-dir = "{d}/data"
plugins-dir = "{plugins}"

[server]
listen = "127.0.0.1:0"
# The scenario events are moved to today, but they tell three weeks of a
# store's life in one minute: the oldest was triggered 17 days before the
# scenarios' present (a customer's earlier failures). A real store keeps
# the default of 48 hours.
max-age = "20d"
# A few scenario events happen weeks after the others' present (a
# dispute's outcome): accept deliveries dated that far ahead (a real store
# keeps the default of 5 minutes).
max-clock-skew = "30d"

[storage]
{backend}# A demo's data lives minutes; nothing to prune.
retention = "off"

[dispatcher]
workers = 2
poll-interval = "20ms"
backoff-base = "100ms"

[executor]
poll-interval = "20ms"
backoff-base = "100ms"

[timers]
poll-interval = "200ms"

[[stores]]
domain = "{SHOP}"
api-version = "2026-07"
webhook-secret-file = "{d}/webhook-secret"
admin-token-file = "{d}/admin-token"
admin-base-url = "{shopify_url}"

# The helpdesk and the carrier-tracking service post signed reports to
# POST /inbound/helpdesk and /inbound/tracker.
[[inbound]]
name = "helpdesk"
secret-file = "{d}/helpdesk-secret"
shops = ["{SHOP}"]
kinds = ["complaint", "not-received"]

[[inbound]]
name = "tracker"
secret-file = "{d}/tracker-secret"
shops = ["{SHOP}"]
kinds = ["carrier-exception"]

[shopify]
history-ttl = "5m"

[corecase]
api-base = "{corecase_url}"
auth-base = "{corecase_url}"
tenant-id = "shopcase-dev"
client-id = "shopcase-dev"
client-secret-file = "{d}/corecase-secret"
allow-plain-http = true
poll-interval = "100ms"
poll-overlap = "1s"
discover-case-types = true
"#,
        plugins = plugins.display(),
    )
}
