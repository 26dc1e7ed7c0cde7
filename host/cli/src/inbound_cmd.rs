//! `shopcase inbound sign --config C --source S FILE [--post URL]`: sign a
//! report as an `[[inbound]]` source would, to test the source's set-up
//! (its secret, its stores and kinds, the body's schema) and, with
//! `--post`, send it to a running host.
//!
//! FILE is either a report body (the exact bytes are signed, as the
//! service would send them) or an event file of an inbound topic
//! (`helpdesk/*`, `carrier/*`, as in `examples/events/scenarios/`), which
//! is turned into the body its source would post. The body is checked
//! against the schema and the source's `shops` and `kinds` first, so a
//! refusal is explained here rather than by a 4xx later.
//!
//! Exit codes (the runner's table): 0 signed (and, with `--post`,
//! accepted, a duplicate or stale); 1 the body would be refused, or the
//! host refused it; 2 bad arguments, configuration or file.

use std::path::PathBuf;

use shopcase_contract::EventFile;
use shopcase_contract::inbound::{InboundBody, SIGNATURE_HEADER};
use shopcase_pipeline::Config;
use shopcase_pipeline::replay::{ReplayOutcome, Replayer, SignedDelivery};

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum InboundCommand {
    /// Sign a report as an [[inbound]] source would (and post it with --post).
    Sign(SignArgs),
}

impl InboundCommand {
    pub(crate) fn json(&self) -> bool {
        match self {
            InboundCommand::Sign(a) => a.json,
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct SignArgs {
    /// The configuration file (the source's secret, stores and kinds).
    #[arg(long, env = "SHOPCASE_CONFIG")]
    config: PathBuf,
    /// The `[[inbound]]` source's name.
    #[arg(long)]
    source: String,
    /// Post it to this host (its base URL, e.g. http://127.0.0.1:8080):
    /// `POST <URL>/inbound/<source>`.
    #[arg(long, value_name = "URL")]
    post: Option<String>,
    /// Write the exact signed bytes here (an event file is converted; a
    /// body file is signed as it is).
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Move an event file's timestamps so that it happened now.
    #[arg(long)]
    rebase: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
    /// A report body, or an event file of an inbound topic.
    file: PathBuf,
}

pub(crate) async fn run(cmd: InboundCommand) -> Result<Exit, CliError> {
    match cmd {
        InboundCommand::Sign(args) => sign(args).await,
    }
}

async fn sign(args: SignArgs) -> Result<Exit, CliError> {
    let config = Config::load(&args.config).map_err(CliError::bad_config)?;
    let source = config.inbound_source(&args.source).ok_or_else(|| {
        CliError::bad_config(format!(
            "{}: no [[inbound]] source named `{}` (configured: {})",
            args.config.display(),
            args.source,
            if config.inbound.is_empty() {
                "none".to_owned()
            } else {
                config
                    .inbound
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ))
    })?;
    let bytes = std::fs::read(&args.file)
        .map_err(|e| CliError::bad_input(format!("cannot read {}: {e}", args.file.display())))?;
    let probe: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| CliError::bad_input(format!("{}: not JSON: {e}", args.file.display())))?;
    // An event file (a `topic`) is turned into its body; a body is signed
    // byte for byte.
    let body: Vec<u8> = if probe.get("topic").is_some() {
        let text = String::from_utf8_lossy(&bytes);
        let mut file = EventFile::parse(&text)
            .map_err(|e| CliError::bad_input(format!("{}: {e}", args.file.display())))?;
        if args.rebase
            && let Some(t) = file.triggered_at.as_deref()
            && let Ok(at) = shopcase_contract::time::parse(t)
        {
            let now = shopcase_contract::time::Timestamp::now();
            file = file.shifted(shopcase_contract::time::SignedDuration::from_secs(
                now.duration_since(at).as_secs(),
            ));
        }
        let (_, body) = shopcase_contract::inbound::body_of_event_file(&file)
            .map_err(|e| CliError::bad_input(format!("{}: {e}", args.file.display())))?;
        serde_json::to_vec(&body).map_err(CliError::failed)?
    } else {
        bytes
    };

    // What the host would say, before it is asked.
    let problem = match InboundBody::parse(&body) {
        Err(e) => Some(format!("malformed-body: {e}")),
        Ok(report) => match report.kind() {
            Err(e) => Some(format!("unknown-kind: {e}")),
            Ok(kind) if !source.kinds.contains(&kind) => Some(format!(
                "kind-not-allowed: `{}` may not send `{}` (kinds: {})",
                source.name,
                kind.as_str(),
                source
                    .kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Ok(_) if !source.shops.contains(&report.shop) => Some(format!(
                "shop-not-allowed: `{}` may not report about `{}` (shops: {})",
                source.name,
                report.shop,
                source.shops.join(", ")
            )),
            Ok(_) => report
                .check(&source.name)
                .err()
                .map(|e| format!("malformed-body: {e}")),
        },
    };
    let signature =
        shopcase_pipeline::ingress::hmac::sign(source.secret.expose().as_bytes(), &body);
    if let Some(out) = &args.out {
        std::fs::write(out, &body)
            .map_err(|e| CliError::bad_input(format!("cannot write {}: {e}", out.display())))?;
    }
    let mut result = serde_json::json!({
        "source": source.name,
        "header": "X-Shopcase-Signature",
        "signature": signature,
        "problem": problem,
    });
    let mut ok = problem.is_none();
    if let Some(base) = &args.post {
        // Placeholder endpoint and secret: only `send` is used.
        let replayer = Replayer::new(base, shopcase_net::Secret::new(String::new()))
            .map_err(|e| CliError::bad_input(format!("--post: {e}")))?;
        let url = format!("{}/inbound/{}", base.trim_end_matches('/'), source.name);
        let outcome = replayer
            .send(
                &url,
                SignedDelivery {
                    body: body.clone(),
                    headers: vec![(SIGNATURE_HEADER, signature.clone())],
                },
            )
            .await;
        ok = !matches!(outcome, ReplayOutcome::Rejected { .. });
        result["posted"] = serde_json::to_value(&outcome).map_err(CliError::failed)?;
    }
    if args.json {
        println!("{result}");
    } else {
        println!("X-Shopcase-Signature: {signature}");
        if let Some(p) = &problem {
            eprintln!("the host would refuse this report: {p}");
        }
        if let Some(posted) = result.get("posted") {
            eprintln!("posted: {posted}");
        }
    }
    Ok(Exit::done_if(ok))
}
