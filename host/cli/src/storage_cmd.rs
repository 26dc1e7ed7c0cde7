//! `shopcase storage migrate --from <sqlite config> --to <postgres config>`:
//! move a stopped host's data from SQLite to PostgreSQL. The copy itself
//! (one read transaction on SQLite, one transaction on PostgreSQL, every
//! table verified by row count and digest) is `shopcase_store::copy`; here
//! are the two configurations, progress and the report.
//!
//! Both configurations are loaded as the admin commands load them
//! (secrets skipped, the PostgreSQL URL resolved). `--from` must use
//! SQLite and `--to` PostgreSQL.
//!
//! Output: a progress line per table on stderr when stderr is a terminal
//! (`copied inbox: 1204 rows`), then a summary table on stdout; with
//! `--json`, only the report as JSON on stdout.
//!
//! Exit codes (the runner's table): 0 copied and verified, 1 refused or
//! failed (a target that is not empty, a source locked by a running host,
//! a schema or value that cannot be carried over, a verification that
//! differs; nothing is committed then), 2 a configuration that does not
//! load or names the wrong engine.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use shopcase_pipeline::Config;
use shopcase_pipeline::store::Backend;
use shopcase_pipeline::store::copy::{CopyReport, TableCopy, sqlite_to_postgres};

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum StorageCommand {
    /// Copy a stopped host's SQLite database into an empty PostgreSQL
    /// database, verified table by table (row counts and SHA-256 digests),
    /// all or nothing. Stop the host first; afterwards point its
    /// configuration at PostgreSQL and start it.
    Migrate {
        /// The configuration of the host to copy from (`[storage]` backend
        /// "sqlite", the default: its data-dir holds shopcase.db).
        #[arg(long, value_name = "SQLITE_CONFIG")]
        from: PathBuf,
        /// A configuration naming the PostgreSQL database to copy into
        /// (`[storage] backend = "postgres"`, with `url-env` or `url-file`).
        #[arg(long, value_name = "POSTGRES_CONFIG")]
        to: PathBuf,
        /// Print the report as JSON (no progress lines).
        #[arg(long)]
        json: bool,
    },
}

impl StorageCommand {
    /// `--json` was given.
    pub(crate) fn json(&self) -> bool {
        matches!(self, StorageCommand::Migrate { json: true, .. })
    }
}

pub(crate) async fn run(cmd: StorageCommand) -> Result<Exit, CliError> {
    let StorageCommand::Migrate { from, to, json } = cmd;
    let source = Config::load_without_secrets(&from).map_err(CliError::bad_config)?;
    let target = Config::load_without_secrets(&to).map_err(CliError::bad_config)?;
    let Backend::Sqlite(sqlite) = &source.storage else {
        return Err(CliError::bad_config(format!(
            "--from {}: its [storage] backend is \"{}\"; --from names the configuration of the host to copy from, which must use SQLite (backend = \"sqlite\", the default)",
            from.display(),
            source.storage.name()
        )));
    };
    let Backend::Postgres(postgres) = &target.storage else {
        return Err(CliError::bad_config(format!(
            "--to {}: its [storage] backend is \"{}\"; --to names a configuration with backend = \"postgres\" (and url-env or url-file) to copy into",
            to.display(),
            target.storage.name()
        )));
    };
    let show_progress = !json && std::io::stderr().is_terminal();
    let report = sqlite_to_postgres(&source.data_dir, sqlite, postgres, |t: &TableCopy| {
        if show_progress {
            let unit = if t.rows == 1 { "row" } else { "rows" };
            eprintln!("copied {}: {} {unit}", t.table, t.rows);
        }
    })
    .await
    .map_err(|e| CliError::failed(format!("nothing was copied: {e}")))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report);
    }
    Ok(Exit::Done)
}

fn print_summary(r: &CopyReport) {
    println!(
        "copied {} into {} (schema version {}); every table verified (row count and SHA-256)",
        r.source, r.target, r.schema_version
    );
    let width = r
        .tables
        .iter()
        .map(|t| t.table.len())
        .max()
        .unwrap_or(0)
        .max("table".len());
    let rows = r
        .tables
        .iter()
        .map(|t| t.rows.to_string().len())
        .max()
        .unwrap_or(0)
        .max("rows".len());
    println!("  {:<width$}  {:>rows$}  sha256", "table", "rows");
    for t in &r.tables {
        println!("  {:<width$}  {:>rows$}  {}", t.table, t.rows, t.digest);
    }
    let total: u64 = r.tables.iter().map(|t| t.rows).sum();
    println!(
        "  {total} rows in {} tables; key-value version counter {}",
        r.tables.len(),
        r.kv_version
    );
    println!(
        "next: set the host's [storage] to the PostgreSQL configuration (backend = \"postgres\") and start it"
    );
}
