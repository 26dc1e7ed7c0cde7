//! `shopcase replay --to URL --secret S <files or dirs>`: post event files
//! to a webhook endpoint signed as Shopify would, showing progress and a
//! summary.
//!
//! Exit codes: 0 if every file was accepted (or was a duplicate or stale),
//! 1 if any was rejected, 2 for bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use shopcase_net::Secret;
use shopcase_pipeline::replay::{ReplayOutcome, ReplaySummary, Replayer, collect_files};

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
    json: bool,
    /// Move every timestamp of every file by the same amount, so that the
    /// newest `triggered_at` is now (the gaps between events are kept):
    /// recorded events are otherwise stale once `server.max-age` has passed.
    #[arg(long)]
    rebase: bool,
    /// Event files, or directories of them (`*.json`, recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub(crate) fn main(args: Args) -> ExitCode {
    let files = match collect_files(&args.paths) {
        Ok(f) if f.is_empty() => {
            eprintln!("error: no .json event files in the paths given");
            return ExitCode::from(2);
        }
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let replayer = match Replayer::new(&args.to, Secret::new(args.secret)) {
        Ok(r) if args.rebase => {
            let now = shopcase_contract::time::Timestamp::now();
            match shopcase_pipeline::replay::shift_to_now(&files, now) {
                Some(by) => r.shifted(by),
                None => r,
            }
        }
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: --to: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let total = files.len();
    let summary = runtime.block_on(async {
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
        summary
    });
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
    if summary.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
