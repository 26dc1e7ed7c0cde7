//! `shopcase replay --to URL --secret S <files or dirs>`: post event files
//! to a webhook endpoint signed as Shopify would, showing progress and a
//! summary.
//!
//! Exit codes (the runner's table): 0 if every file was accepted (or was a
//! duplicate or stale), 1 if any was rejected, 2 for bad arguments.

use std::path::PathBuf;

use shopcase_net::Secret;
use shopcase_pipeline::replay::{ReplayOutcome, ReplaySummary, Replayer, collect_files};

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The webhook endpoint, e.g. http://127.0.0.1:8080/webhooks/shopify.
    #[arg(long)]
    to: String,
    /// The store's webhook secret (prefer the environment variable: a
    /// command-line argument is visible to other users of the machine).
    #[arg(long, env = "SHOPCASE_REPLAY_SECRET", hide_env_values = true)]
    secret: String,
    /// Print one JSON line per file and a JSON summary.
    #[arg(long)]
    pub(crate) json: bool,
    /// Move every timestamp of every file by the same amount, so that the
    /// newest `triggered_at` is now (the gaps between events are kept):
    /// recorded events are otherwise stale once `server.max-age` has passed.
    #[arg(long)]
    rebase: bool,
    /// Event files, or directories of them (`*.json`, recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub(crate) async fn run(args: Args) -> Result<Exit, CliError> {
    let files = collect_files(&args.paths).map_err(CliError::bad_input)?;
    if files.is_empty() {
        return Err(CliError::bad_input(
            "no .json event files in the paths given",
        ));
    }
    let mut replayer = Replayer::new(&args.to, Secret::new(args.secret))
        .map_err(|e| CliError::bad_input(format!("--to: {e}")))?;
    if args.rebase {
        let now = shopcase_contract::time::Timestamp::now();
        if let Some(by) = shopcase_pipeline::replay::shift_to_now(&files, now) {
            replayer = replayer.shifted(by);
        }
    }
    let total = files.len();
    let mut summary = ReplaySummary::default();
    for (i, path) in files.iter().enumerate() {
        let outcome = replayer.replay_file(path).await;
        if args.json {
            println!(
                "{}",
                serde_json::json!({"file": path.display().to_string(), "result": outcome})
            );
        } else {
            let what = match &outcome {
                ReplayOutcome::Accepted { event_id } => format!("accepted {event_id}"),
                ReplayOutcome::Duplicate { event_id } => format!("duplicate of {event_id}"),
                ReplayOutcome::Stale { event_id } => {
                    format!("stale (kept, not dispatched) {event_id}")
                }
                ReplayOutcome::Rejected { status: 0, reason } => format!("not sent: {reason}"),
                ReplayOutcome::Rejected { status, reason } => {
                    format!("rejected: {status} {reason}")
                }
            };
            eprintln!("[{}/{total}] {}: {what}", i + 1, path.display());
        }
        summary.add(path, &outcome);
    }
    if args.json {
        println!("{}", serde_json::json!({"summary": summary}));
    } else {
        println!(
            "{total} files: {} accepted, {} duplicate, {} stale, {} rejected",
            summary.accepted,
            summary.duplicate,
            summary.stale,
            summary.rejected.len()
        );
        for (file, why) in &summary.rejected {
            println!("  rejected {file}: {why}");
        }
    }
    Ok(Exit::done_if(summary.rejected.is_empty()))
}
