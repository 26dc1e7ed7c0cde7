//! The one runner every subcommand goes through: it sets up the logs,
//! builds the async runtime (for the commands that need one), runs the
//! command, prints the error that stopped it, and turns the result into the
//! process's exit code.
//!
//! A command is a plain function of its arguments:
//! `async fn run(args) -> Result<Exit, CliError>`, or a synchronous
//! `fn run(args) -> Result<Exit, CliError>` for the commands that only run
//! plugins or read files ([`Runner::run_sync`]: the sandbox blocks on a
//! runtime of its own and must not be called from inside one). It prints its
//! own results; the runner prints only the error.
//!
//! # Exit codes
//! The same for every command (the admin guide's command-line section has
//! this table too):
//!
//! | code | [`Exit`] | meaning |
//! |---|---|---|
//! | 0 | `Done` | done: served until a clean shutdown, every check held, every file accepted |
//! | 1 | `Failed` | the command ran and something failed or did not hold: a refusal (unknown store, token already revoked), a plugin failure or fixture mismatch, a configuration error found by `config check`, a contract point that differs, a rejected webhook, serving or the runtime failed |
//! | 2 | `BadInput` | the command could not start: unusable arguments (clap's usage errors too), a configuration that does not load, a file that cannot be read or parsed, a missing toolchain |
//!
//! # Errors
//! A [`CliError`] carries its exit code, a kind (`bad-input`,
//! `bad-config`, `bad-manifest`, `failed`, or a plugin outcome name such as
//! `hash-mismatch`) and a message. Without `--json` it is printed as
//! `error: MESSAGE` on stderr. With `--json` (for the commands that have
//! it) it is one JSON object on stdout, `{"error": {"kind", "message"}}`,
//! with the command's own empty fields around it where its output has them
//! (`plugin run`: `{"actions": [], "budget": null, "error": ...}`). Secrets
//! are never part of a message.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::io::Write;
use std::process::ExitCode;

use serde_json::{Map, Value, json};

/// How a command ended: the exit code table (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: done.
    Done,
    /// 1: the command ran and something failed or did not hold.
    Failed,
    /// 2: the command could not start: its arguments, configuration or
    /// input are unusable.
    BadInput,
}

impl Exit {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::BadInput => 2,
        }
    }

    /// `Done` if `ok`, else `Failed`.
    pub(crate) fn done_if(ok: bool) -> Exit {
        if ok { Exit::Done } else { Exit::Failed }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// Why a command stopped: its exit code, a kind and a message.
///
/// Any `std::error::Error` converts into a failure (exit 1) with `?`;
/// bad input and configuration are said explicitly
/// ([`CliError::bad_input`], [`CliError::bad_config`]).
#[derive(Debug)]
pub(crate) struct CliError {
    exit: Exit,
    kind: Cow<'static, str>,
    message: String,
    /// The line printed without `--json`, when it says more than the
    /// message (the JSON has the kind beside it).
    text: Option<String>,
}

impl CliError {
    /// The command ran and failed: exit 1, kind `failed`.
    pub(crate) fn failed(message: impl fmt::Display) -> CliError {
        CliError::new(Exit::Failed, "failed", message)
    }

    /// Unusable arguments or input: exit 2, kind `bad-input`.
    pub(crate) fn bad_input(message: impl fmt::Display) -> CliError {
        CliError::new(Exit::BadInput, "bad-input", message)
    }

    /// A configuration that does not load or cannot be used: exit 2, kind
    /// `bad-config`.
    pub(crate) fn bad_config(message: impl fmt::Display) -> CliError {
        CliError::new(Exit::BadInput, "bad-config", message)
    }

    fn new(exit: Exit, kind: &'static str, message: impl fmt::Display) -> CliError {
        CliError {
            exit,
            kind: Cow::Borrowed(kind),
            message: message.to_string(),
            text: None,
        }
    }

    /// The same error with another kind (JSON `error.kind`).
    pub(crate) fn with_kind(mut self, kind: impl Into<Cow<'static, str>>) -> CliError {
        self.kind = kind.into();
        self
    }

    /// Print `text` instead of the message without `--json`.
    pub(crate) fn shown_as(mut self, text: impl Into<String>) -> CliError {
        self.text = Some(text.into());
        self
    }

    /// The exit code this error ends the command with.
    pub(crate) fn exit(&self) -> Exit {
        self.exit
    }

    /// The JSON form: `base` (an object) with `"error": {"kind", "message"}`.
    fn to_json(&self, base: &Map<String, Value>) -> Value {
        let mut out = base.clone();
        out.insert(
            "error".into(),
            json!({"kind": self.kind, "message": self.message}),
        );
        Value::Object(out)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text.as_deref().unwrap_or(&self.message))
    }
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> CliError {
        CliError::failed(e)
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// What the command logs (on stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logs {
    /// Nothing: the command prints what it has to say.
    Off,
    /// `RUST_LOG` sets the filter (default `info`).
    Info(LogFormat),
    /// Errors only, whatever `RUST_LOG` says (the demo).
    #[cfg_attr(not(feature = "emulators"), allow(dead_code))]
    ErrorsOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threads {
    One,
    Many,
}

/// How to run a command: its runtime, its logs, how its errors are printed.
#[derive(Debug)]
pub(crate) struct Runner {
    threads: Threads,
    logs: Logs,
    /// `Some(fields)`: errors as JSON, these fields around `"error"`.
    json: Option<Map<String, Value>>,
}

impl Runner {
    /// A current-thread runtime, no logs, errors as text.
    pub(crate) fn new() -> Runner {
        Runner {
            threads: Threads::One,
            logs: Logs::Off,
            json: None,
        }
    }

    /// A multi-threaded runtime (servers).
    pub(crate) fn multi_thread(mut self) -> Runner {
        self.threads = Threads::Many;
        self
    }

    pub(crate) fn logs(mut self, logs: Logs) -> Runner {
        self.logs = logs;
        self
    }

    /// With `on` (the command's `--json`), errors as `{"error": {...}}`.
    pub(crate) fn json(self, on: bool) -> Runner {
        self.json_with(on, Map::new())
    }

    /// With `on`, errors as `fields` plus `"error": {...}`: the shape of
    /// the command's own JSON output.
    pub(crate) fn json_with(mut self, on: bool, fields: Map<String, Value>) -> Runner {
        self.json = on.then_some(fields);
        self
    }

    /// Run an async command on the runtime.
    pub(crate) fn run<F>(self, command: F) -> ExitCode
    where
        F: Future<Output = Result<Exit, CliError>>,
    {
        self.init_logs();
        let builder = match self.threads {
            Threads::One => tokio::runtime::Builder::new_current_thread(),
            Threads::Many => tokio::runtime::Builder::new_multi_thread(),
        }
        .enable_all()
        .build();
        let result = match builder {
            Ok(runtime) => runtime.block_on(command),
            Err(e) => Err(CliError::failed(format!(
                "cannot start the async runtime: {e}"
            ))),
        };
        self.finish(result)
    }

    /// Run a synchronous command (no runtime).
    pub(crate) fn run_sync(self, command: impl FnOnce() -> Result<Exit, CliError>) -> ExitCode {
        self.init_logs();
        let result = command();
        self.finish(result)
    }

    fn finish(&self, result: Result<Exit, CliError>) -> ExitCode {
        let exit = match result {
            Ok(exit) => exit,
            Err(e) => {
                self.report(
                    &e,
                    &mut std::io::stdout().lock(),
                    &mut std::io::stderr().lock(),
                );
                e.exit()
            }
        };
        exit.into()
    }

    /// Print `e`: JSON on `stdout` with `--json`, else a line on `stderr`.
    fn report(&self, e: &CliError, stdout: &mut dyn Write, stderr: &mut dyn Write) {
        // Nothing more can be said if the output is gone: the exit code
        // still tells.
        let _ = match &self.json {
            Some(fields) => writeln!(stdout, "{}", e.to_json(fields)),
            None => writeln!(stderr, "error: {e}"),
        };
    }

    fn init_logs(&self) {
        use tracing_subscriber::EnvFilter;
        let (filter, format) = match self.logs {
            Logs::Off => return,
            Logs::Info(format) => (
                EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
                format,
            ),
            Logs::ErrorsOnly => (EnvFilter::new("error"), LogFormat::Text),
        };
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(ansi);
        // A second initialisation (tests) is harmless.
        let _ = match format {
            LogFormat::Text => builder.try_init(),
            LogFormat::Json => builder.json().try_init(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(runner: &Runner, e: &CliError) -> (String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        runner.report(e, &mut out, &mut err);
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn exit_codes_are_the_table() {
        assert_eq!(
            [Exit::Done, Exit::Failed, Exit::BadInput].map(Exit::code),
            [0, 1, 2]
        );
        assert_eq!(Exit::done_if(true), Exit::Done);
        assert_eq!(Exit::done_if(false), Exit::Failed);
        assert_eq!(CliError::failed("x").exit(), Exit::Failed);
        assert_eq!(CliError::bad_input("x").exit(), Exit::BadInput);
        assert_eq!(CliError::bad_config("x").exit(), Exit::BadInput);
        // Another kind keeps the exit code.
        assert_eq!(
            CliError::bad_input("x").with_kind("bad-manifest").exit(),
            Exit::BadInput
        );
        // An unclassified error is a failure.
        let io = std::io::Error::other("disk on fire");
        let e: CliError = io.into();
        assert_eq!(
            (e.exit(), e.to_string()),
            (Exit::Failed, "disk on fire".into())
        );
    }

    #[test]
    fn errors_are_a_line_on_stderr_or_json_on_stdout() {
        let e = CliError::bad_config("shopcase.toml: `server.max-age`: not a duration");
        let (out, err) = printed(&Runner::new(), &e);
        assert_eq!(out, "");
        assert_eq!(
            err,
            "error: shopcase.toml: `server.max-age`: not a duration\n"
        );

        let (out, err) = printed(&Runner::new().json(true), &e);
        assert_eq!(err, "");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v,
            json!({"error": {"kind": "bad-config", "message": "shopcase.toml: `server.max-age`: not a duration"}})
        );
        // `--json` not given: text.
        assert_eq!(printed(&Runner::new().json(false), &e).0, "");
    }

    #[test]
    fn plugin_run_keeps_its_json_shape() {
        let fields = json!({"actions": [], "budget": null});
        let runner = Runner::new().json_with(true, fields.as_object().cloned().unwrap());
        let e = CliError::bad_input("boom")
            .with_kind("hash-mismatch")
            .shown_as("plugin cannot be loaded: hash-mismatch: boom");
        let (out, _) = printed(&runner, &e);
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            json!({"actions": [], "budget": null, "error": {"kind": "hash-mismatch", "message": "boom"}})
        );
        // One line, as before.
        assert_eq!(out.lines().count(), 1);
        // Text mode says more.
        let (_, err) = printed(&Runner::new(), &e);
        assert_eq!(err, "error: plugin cannot be loaded: hash-mismatch: boom\n");
    }

    #[test]
    fn a_command_s_result_is_its_exit_code() {
        assert_eq!(
            Runner::new().run_sync(|| Ok(Exit::Failed)),
            ExitCode::from(1)
        );
        assert_eq!(
            Runner::new()
                .run(async { Err(CliError::bad_input("this test expects this line on stderr")) }),
            ExitCode::from(2)
        );
        assert_eq!(
            Runner::new().run(async { Ok(Exit::Done) }),
            ExitCode::SUCCESS
        );
    }
}
