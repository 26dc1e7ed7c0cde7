//! The child host: this executable run again with [`KIND_ENV`] and
//! [`CONFIG_ENV`] set serves that configuration (with the fault point of
//! `SHOPCASE_TEST_FAULT` armed) until it is killed, aborts at the fault
//! point, or (the plain host) gets SIGTERM. It prints `LISTENING <addr>`
//! on stdout once its listener is bound.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use shopcase_corecase_integration::CoreCase;
use shopcase_pipeline::{Config, PipelineBuilder};
use shopcase_shopify_integration::Shopify;

use crate::support::Host;

/// Set in the child: which host to run (see [`Kind`]).
pub(crate) const KIND_ENV: &str = "SHOPCASE_TEST_CHILD";
/// Set in the child: the configuration file to serve.
pub(crate) const CONFIG_ENV: &str = "SHOPCASE_TEST_CHILD_CONFIG";

/// Which host the child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The pipeline alone; stops gracefully on SIGTERM.
    Pipeline,
    /// The pipeline with Core Case registered (its fault points armed too).
    CoreCase,
    /// The pipeline with Shopify registered.
    Shopify,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Pipeline => "pipeline",
            Kind::CoreCase => "corecase",
            Kind::Shopify => "shopify",
        }
    }
}

/// A child host to run, as its environment asks.
#[derive(Debug)]
pub(crate) struct ChildHost {
    kind: Kind,
    config: PathBuf,
}

/// The child host this process is, if [`KIND_ENV`] is set (with
/// [`CONFIG_ENV`]); `None` in the test runner.
pub(crate) fn from_env() -> Option<ChildHost> {
    let kind = std::env::var(KIND_ENV).ok()?;
    let kind = [Kind::Pipeline, Kind::CoreCase, Kind::Shopify]
        .into_iter()
        .find(|k| k.name() == kind)
        .unwrap_or_else(|| panic!("{KIND_ENV}: unknown child host `{kind}`"));
    let config = std::env::var_os(CONFIG_ENV)
        .unwrap_or_else(|| panic!("{KIND_ENV} is set but {CONFIG_ENV} is not"));
    Some(ChildHost {
        kind,
        config: config.into(),
    })
}

impl ChildHost {
    /// Serve until killed, aborted, orphaned (its parent gone) or (the plain
    /// host) SIGTERM.
    pub(crate) fn run(self) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let config = Config::load(&self.config).unwrap();
            let pipeline = match self.kind {
                Kind::Pipeline => PipelineBuilder::new(config).faults_from_env(),
                Kind::CoreCase => {
                    let storage = shopcase_pipeline::open_storage(&config).await.unwrap();
                    let corecase = CoreCase::from_config(&config)
                        .unwrap()
                        .unwrap()
                        .faults_from_env();
                    corecase
                        .register(PipelineBuilder::new(config), storage)
                        .faults_from_env()
                }
                Kind::Shopify => {
                    let shopify = Shopify::from_config(&config).unwrap();
                    shopify.register(PipelineBuilder::new(config).faults_from_env())
                }
            }
            .build()
            .await
            .unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            println!("LISTENING {}", listener.local_addr().unwrap());
            // Orphaned (the test binary ended, a failed test left its
            // child behind): stop instead of serving on with nobody to
            // stop it. The parent's end of a pipe cannot tell, since
            // waiting for a child closes its stdin.
            let parent = std::os::unix::process::parent_id();
            let orphaned = async move {
                while std::os::unix::process::parent_id() == parent {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            };
            match self.kind {
                Kind::Pipeline => {
                    let term = async {
                        let mut s = tokio::signal::unix::signal(
                            tokio::signal::unix::SignalKind::terminate(),
                        )
                        .unwrap();
                        tokio::select! {
                            _ = s.recv() => {}
                            _ = orphaned => {}
                        }
                    };
                    pipeline.run(listener, term).await.unwrap();
                }
                Kind::CoreCase | Kind::Shopify => {
                    pipeline.run(listener, orphaned).await.unwrap();
                }
            }
        });
    }
}

/// The command that runs a `kind` child host on `host`'s configuration,
/// with `fault` armed (and no fault without one). Its stderr goes to
/// `child.log` in the host's directory; its stdout is piped.
pub(crate) fn command(kind: Kind, host: &Host, fault: Option<&str>) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env(KIND_ENV, kind.name())
        .env(CONFIG_ENV, host.config_path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log_path(host)).unwrap());
    match fault {
        Some(f) => cmd.env(shopcase_pipeline::fault::ENV, f),
        None => cmd.env_remove(shopcase_pipeline::fault::ENV),
    };
    cmd
}

/// Start a `kind` child host and wait until it listens (it says so on
/// stdout); returns it and its webhook URL.
pub(crate) fn spawn(kind: Kind, host: &Host, fault: Option<&str>) -> (Child, String) {
    let mut child = command(kind, host, fault).spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("LISTENING ") => {
                break l
                    .split("LISTENING ")
                    .nth(1)
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
            }
            Some(Ok(_)) => continue,
            other => panic!(
                "the child host did not start ({other:?}); its log:\n{}",
                log(host)
            ),
        }
    };
    // Keep draining its stdout so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://{addr}/webhooks/shopify"))
}

fn log_path(host: &Host) -> PathBuf {
    host.dir.path().join("child.log")
}

/// What the child host logged (its stderr), for a failure message.
pub(crate) fn log(host: &Host) -> String {
    std::fs::read_to_string(log_path(host)).unwrap_or_default()
}
