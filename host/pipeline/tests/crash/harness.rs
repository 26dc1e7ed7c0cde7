//! A small test runner in libtest's image, for this `harness = false`
//! binary: named tests run one after the other, each panic caught and
//! counted as a failure, `test NAME ... ok|FAILED` and a libtest summary
//! printed, exit status 101 if any failed.
//!
//! Arguments: substring filters (a test runs if its name contains any;
//! with `--exact`, equals one), `--skip FILTER`, `--list` (`NAME: test`
//! lines, as tooling expects), `--ignored` (there are no ignored tests:
//! runs or lists none) and `--include-ignored`. `--bench` (from `cargo
//! bench`) runs nothing. The other libtest flags cargo or tools may pass
//! are accepted and ignored: output is never captured and tests never run
//! in parallel.

use std::future::Future;
use std::io::Write as _;
use std::panic::catch_unwind;
use std::process::ExitCode;
use std::time::Instant;

/// A named test.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Test {
    /// `module::function`.
    pub(crate) name: &'static str,
    /// Runs it; a panic is a failure.
    pub(crate) run: fn(),
}

/// Run `test` to completion on a multi-threaded Tokio runtime of its own
/// (what `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`
/// gave each test).
pub(crate) fn block_on(test: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

/// libtest's exit status when a test fails.
const FAILED: u8 = 101;

#[derive(Debug, Default)]
struct Options {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
    terse: bool,
    ignored_only: bool,
    bench: bool,
    help: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut o = Options::default();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("`{name}` needs a value"))
            };
            match flag.as_str() {
                "--exact" => o.exact = true,
                "--list" => o.list = true,
                "--ignored" => o.ignored_only = true,
                "--include-ignored" => {}
                "--bench" => o.bench = true,
                "--skip" => o.skip.push(value("--skip")?),
                "--format" => o.terse = value("--format")? == "terse",
                // Values of flags that mean nothing here.
                "--test-threads" | "--color" | "--logfile" | "--shuffle-seed" | "-Z" => {
                    value(&flag)?;
                }
                "--nocapture"
                | "--no-capture"
                | "--show-output"
                | "-q"
                | "--quiet"
                | "--test"
                | "--report-time"
                | "--ensure-time"
                | "--shuffle"
                | "--force-run-in-process" => {}
                "-h" | "--help" => o.help = true,
                f if f.starts_with('-') => eprintln!("note: ignoring the flag `{arg}`"),
                _ => o.filters.push(arg),
            }
        }
        Ok(o)
    }

    fn matches(&self, pattern: &str, name: &str) -> bool {
        if self.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    }

    fn selects(&self, test: &Test) -> bool {
        (self.filters.is_empty() || self.filters.iter().any(|f| self.matches(f, test.name)))
            && !self.skip.iter().any(|s| self.matches(s, test.name))
    }
}

/// Parse the arguments, then list or run `tests`.
pub(crate) fn main(tests: &[Test]) -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(FAILED);
        }
    };
    if options.help {
        println!(
            "usage: crash [FILTER...] [--exact] [--skip FILTER] [--list] \
             (other libtest flags are accepted and ignored)"
        );
        return ExitCode::SUCCESS;
    }
    // No test is ignored: `--ignored` selects none.
    let selected: Vec<Test> = tests
        .iter()
        .filter(|t| !options.ignored_only && options.selects(t))
        .copied()
        .collect();
    let filtered_out = tests.len() - selected.len();

    if options.list {
        for t in &selected {
            println!("{}: test", t.name);
        }
        if !options.terse {
            println!();
            let n = selected.len();
            println!("{n} test{}, 0 benchmarks", if n == 1 { "" } else { "s" });
        }
        return ExitCode::SUCCESS;
    }

    let started = Instant::now();
    println!();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    println!("running {} test{}", selected.len(), plural(selected.len()));
    let mut passed = 0;
    let mut ignored = 0;
    let mut failures = Vec::new();
    for t in &selected {
        print!("test {} ... ", t.name);
        let _ = std::io::stdout().flush();
        if options.bench {
            // Like libtest under `cargo bench`: tests are not benchmarks.
            println!("ignored");
            ignored += 1;
            continue;
        }
        if catch_unwind(t.run).is_ok() {
            println!("ok");
            passed += 1;
        } else {
            println!("FAILED");
            failures.push(t.name);
        }
    }
    if !failures.is_empty() {
        println!();
        println!("failures:");
        for name in &failures {
            println!("    {name}");
        }
    }
    println!();
    println!(
        "test result: {}. {passed} passed; {} failed; {ignored} ignored; 0 measured; \
         {filtered_out} filtered out; finished in {:.2}s",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len(),
        started.elapsed().as_secs_f64(),
    );
    println!();
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}
