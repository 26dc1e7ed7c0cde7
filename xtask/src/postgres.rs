//! A real PostgreSQL server for the database tests, the way
//! [`browser`](crate::browser) provides Chromium.
//!
//! `test` calls [`ensure_postgres`] before `cargo test` and passes
//! [`TestDatabase::test_env`] to it: `SHOPCASE_TEST_DATABASE_URL`, pointing
//! at a database the tests may create schemas in.
//!
//! - If `SHOPCASE_TEST_DATABASE_URL` is already set (and not empty), that
//!   database is used as is and nothing is started.
//! - Otherwise a throwaway cluster runs in `target/postgres/` (the
//!   workspace target directory, `CARGO_TARGET_DIR` if set): `data/` (made
//!   by `initdb`: trust authentication, user `shopcase`, UTF-8, C locale),
//!   `sock/` (its Unix socket), `postgres.log` (this start's server log)
//!   and `port` (the port it listens on). It listens on 127.0.0.1 only, on
//!   a port picked free at each start, with durability switched off
//!   (`fsync`, `synchronous_commit`, `full_page_writes`) since nothing in
//!   it is worth keeping. Each start gives a fresh, empty `shopcase_test`
//!   database: `postgres://shopcase@127.0.0.1:<port>/shopcase_test`.
//! - The server programs come from `/usr/lib/postgresql/<N>/bin/` (the
//!   highest N; Debian's layout), else from a directory on `PATH` holding
//!   `initdb`, `pg_ctl` and `postgres`. When missing, Debian's
//!   `postgresql` package is installed with apt-get if running as root;
//!   otherwise the error names both ways out.
//! - `initdb` and `pg_ctl` refuse to run as root, so as root they run as
//!   the `postgres` system user (`runuser`), which owns `target/postgres/`.
//! - A cluster an earlier run left running (a killed `cargo xtask test`)
//!   is stopped (`-m immediate`) and started again; a data directory that
//!   is not a cluster of these binaries' version, or that does not start,
//!   is deleted and made again.
//! - The cluster is stopped when `cargo xtask test` ends, passed or failed
//!   (`Server`'s `Drop`). The data directory is kept, so the next
//!   run skips `initdb` (the database in it is made again anyway);
//!   `rm -rf target/postgres` is always safe while it is stopped.
//!
//! For developers: `cargo xtask postgres start` starts the same cluster
//! and leaves it running, printing `export SHOPCASE_TEST_DATABASE_URL=...`
//! on stdout (so `eval "$(cargo xtask postgres start)"` works);
//! `cargo xtask postgres url` prints the URL of the running one and
//! `cargo xtask postgres stop` stops it. `cargo xtask test` stops (and
//! restarts) a cluster left running this way.

use std::ffi::OsString;
use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail};

/// The variable the database tests read.
const URL_VAR: &str = "SHOPCASE_TEST_DATABASE_URL";

/// The cluster's superuser (made by `initdb -U`).
const USER: &str = "shopcase";
/// The database made at each start.
const DATABASE: &str = "shopcase_test";
/// Who runs `initdb` and `pg_ctl` when we are root.
const SYSTEM_USER: &str = "postgres";
/// Debian's versioned server directories: `<N>/bin/`.
const DEBIAN_LIB: &str = "/usr/lib/postgresql";
/// The longest Unix socket path (`sun_path` is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// The database for `cargo test`: one given in the environment, or the
/// cluster started here, which is stopped when this is dropped.
#[derive(Debug)]
pub(crate) enum TestDatabase {
    /// `SHOPCASE_TEST_DATABASE_URL` was set: used as is.
    Given(String),
    /// The cluster in `target/postgres/`, stopped on drop.
    Started(Server),
}

impl TestDatabase {
    pub(crate) fn url(&self) -> String {
        match self {
            TestDatabase::Given(url) => url.clone(),
            TestDatabase::Started(server) => server.url(),
        }
    }

    /// The environment for `cargo test`.
    pub(crate) fn test_env(&self) -> Vec<(&'static str, OsString)> {
        vec![(URL_VAR, OsString::from(self.url()))]
    }
}

/// The database the tests use: `SHOPCASE_TEST_DATABASE_URL` if set, else
/// the cluster in `target/postgres/`, started (and the server installed if
/// need be and possible).
pub(crate) fn ensure_postgres() -> Result<TestDatabase> {
    if let Some(url) = std::env::var_os(URL_VAR).filter(|u| !u.is_empty()) {
        let url = url
            .into_string()
            .map_err(|u| anyhow::anyhow!("{URL_VAR} is not UTF-8: {u:?}"))?;
        eprintln!("    {URL_VAR} is set: using that database, starting none");
        return Ok(TestDatabase::Given(url));
    }
    let server = Cluster::new(ensure_bins()?)?.start()?;
    eprintln!("    {}", server.url());
    Ok(TestDatabase::Started(server))
}

/// A cluster for the storage benchmarks (`cargo xtask bench-storage`), in
/// `target/postgres-bench/`: the same as the tests' but **durable**
/// (PostgreSQL's defaults: `fsync`, `synchronous_commit` and
/// `full_page_writes` on), since a figure measured without fsync says
/// nothing about a host that acknowledges only what is committed. Stopped
/// when dropped.
pub(crate) fn bench_server() -> Result<Server> {
    let mut cluster = Cluster::new(ensure_bins()?)?;
    cluster.dirs = Dirs::named("postgres-bench");
    cluster.durable = true;
    cluster.start()
}

/// `cargo xtask postgres start|stop|url`.
pub(crate) fn task(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("start") => {
            if std::env::var_os(URL_VAR).is_some_and(|u| !u.is_empty()) {
                eprintln!(
                    "    note: {URL_VAR} is set in this shell; `cargo xtask test` uses it instead of this cluster"
                );
            }
            let server = Cluster::new(ensure_bins()?)?.start()?;
            let url = server.url();
            server.leave_running();
            eprintln!("    running; stop it with `cargo xtask postgres stop`");
            println!("export {URL_VAR}={url}");
            Ok(())
        }
        Some("stop") => {
            let cluster = Cluster::existing()?;
            if cluster.status()? == Status::Running {
                cluster.stop("fast")?;
                eprintln!("    stopped the cluster in {}", cluster.dirs.base.display());
            } else {
                eprintln!(
                    "    no cluster is running in {}",
                    cluster.dirs.base.display()
                );
            }
            Ok(())
        }
        Some("url") => {
            let cluster = Cluster::existing()?;
            if cluster.status()? != Status::Running {
                bail!(
                    "no cluster is running in {}: start one with `cargo xtask postgres start`",
                    cluster.dirs.base.display()
                );
            }
            let port = cluster.stored_port()?;
            println!("{}", url(port));
            Ok(())
        }
        Some(other) => bail!("unknown `postgres` task `{other}`: start, stop or url"),
        None => bail!("`cargo xtask postgres` needs a task: start, stop or url"),
    }
}

/// The running cluster; stopped (`pg_ctl stop -m fast`) when dropped
/// unless [`Server::leave_running`] was called.
#[derive(Debug)]
pub(crate) struct Server {
    cluster: Cluster,
    port: u16,
    stop_on_drop: bool,
}

impl Server {
    pub(crate) fn url(&self) -> String {
        url(self.port)
    }

    /// Keep it running after this process ends (`cargo xtask postgres start`).
    fn leave_running(mut self) {
        self.stop_on_drop = false;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stop_on_drop {
            return;
        }
        eprintln!(
            "\n==> stopping PostgreSQL ({})",
            self.cluster.dirs.base.display()
        );
        if let Err(e) = self.cluster.stop("fast") {
            eprintln!(
                "    warning: {e:#}\n    the next `cargo xtask test` stops it, or `cargo xtask postgres stop`"
            );
        }
    }
}

fn url(port: u16) -> String {
    format!("postgres://{USER}@127.0.0.1:{port}/{DATABASE}")
}

/// The directory holding the server programs.
#[derive(Debug, Clone)]
struct Bins {
    dir: PathBuf,
}

impl Bins {
    fn path(&self, program: &str) -> PathBuf {
        self.dir.join(program)
    }

    /// `psql` next to the server if there, else from `PATH`.
    fn psql(&self) -> PathBuf {
        let p = self.path("psql");
        if p.is_file() {
            p
        } else {
            PathBuf::from("psql")
        }
    }

    /// The major version, as `PG_VERSION` in a data directory spells it
    /// (`15`; `9.6` before version 10).
    fn major_version(&self) -> Result<String> {
        let out = checked(
            Command::new(self.path("postgres")).arg("--version"),
            "cannot ask the PostgreSQL server its version",
        )?;
        // `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text
            .split_whitespace()
            .nth(2)
            .with_context(|| format!("`postgres --version` printed `{}`", text.trim()))?;
        let parts: Vec<&str> = version.split('.').collect();
        let first: u32 = parts[0]
            .parse()
            .with_context(|| format!("`postgres --version` printed `{}`", text.trim()))?;
        Ok(if first < 10 && parts.len() > 1 {
            format!("{first}.{}", parts[1])
        } else {
            first.to_string()
        })
    }
}

/// Whether `dir` holds the server programs.
fn is_server_dir(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|p| dir.join(p).is_file())
}

/// `/usr/lib/postgresql/<N>/bin/` (highest N first), then `PATH`.
fn find_bins() -> Option<Bins> {
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir(DEBIAN_LIB)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let n = e.file_name().to_str()?.parse().ok()?;
            Some((n, e.path().join("bin")))
        })
        .collect();
    versioned.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    versioned
        .into_iter()
        .map(|(_, dir)| dir)
        .chain(on_path)
        .find(|dir| is_server_dir(dir))
        .map(|dir| Bins { dir })
}

/// The server programs, installed with apt-get if missing and possible.
fn ensure_bins() -> Result<Bins> {
    if let Some(bins) = find_bins() {
        return Ok(bins);
    }
    let missing = format!(
        "PostgreSQL is needed for the database tests and its server programs \
         (initdb, pg_ctl, postgres) are not in {DEBIAN_LIB}/<N>/bin/ or on PATH"
    );
    let ways_out = format!(
        "Either install PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`) and run \
         the task again, or set {URL_VAR} to a database the tests may create schemas in \
         (postgres://USER[:PASSWORD]@HOST:PORT/DATABASE)"
    );
    if !Path::new("/usr/bin/apt-get").exists() {
        bail!("{missing}, and this machine has no apt-get to install them. {ways_out}.");
    }
    if !crate::browser::is_root() {
        bail!("{missing}, and only root can install them. {ways_out}.");
    }
    eprintln!("    installing PostgreSQL (Debian package `postgresql`) with apt-get");
    crate::guests::apt_install(&["postgresql"])
        .with_context(|| format!("{missing}, and installing them failed. {ways_out}"))?;
    find_bins().with_context(|| {
        format!("apt-get installed `postgresql` but {DEBIAN_LIB}/<N>/bin/initdb is still missing")
    })
}

/// Paths under `target/postgres/`.
#[derive(Debug)]
struct Dirs {
    base: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    log: PathBuf,
    port: PathBuf,
}

impl Dirs {
    fn new() -> Dirs {
        Dirs::named("postgres")
    }

    /// Under `target/<name>/`.
    fn named(name: &str) -> Dirs {
        let base = crate::target_dir().join(name);
        let sock = base.join("sock");
        // `.s.PGSQL.<port>.lock` must fit in a socket path; a deep target
        // directory gets the socket in the temporary directory instead.
        let socket = if sock.as_os_str().len() + "/.s.PGSQL.65535.lock".len() <= MAX_SOCKET_PATH {
            sock
        } else {
            std::env::temp_dir()
        };
        Dirs {
            data: base.join("data"),
            log: base.join("postgres.log"),
            port: base.join("port"),
            socket,
            base,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Status {
    Running,
    Stopped,
    /// No (readable) data directory.
    NoCluster,
}

/// The cluster in `target/postgres/`.
#[derive(Debug)]
struct Cluster {
    bins: Bins,
    dirs: Dirs,
    /// Root: run `initdb` and `pg_ctl` as [`SYSTEM_USER`].
    as_system_user: bool,
    /// Keep PostgreSQL's durability on (the benchmarks' cluster); the
    /// tests' cluster turns it off.
    durable: bool,
}

impl Cluster {
    fn new(bins: Bins) -> Result<Cluster> {
        let as_system_user = crate::browser::is_root();
        if as_system_user
            && !Command::new("id")
                .arg("-u")
                .arg(SYSTEM_USER)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        {
            bail!(
                "running as root, where initdb and pg_ctl refuse to run; they run as the \
                 `{SYSTEM_USER}` system user, which does not exist. Create it (Debian's \
                 `postgresql` package does), run as another user, or set {URL_VAR} to a \
                 database the tests may create schemas in."
            );
        }
        Ok(Cluster {
            bins,
            dirs: Dirs::new(),
            as_system_user,
            durable: false,
        })
    }

    /// The cluster `postgres start` left, for `stop` and `url`.
    fn existing() -> Result<Cluster> {
        let dirs = Dirs::new();
        if !dirs.data.is_dir() {
            bail!(
                "there is no cluster in {}: start one with `cargo xtask postgres start`",
                dirs.base.display()
            );
        }
        let bins = find_bins().with_context(|| {
            format!("the PostgreSQL server programs are not in {DEBIAN_LIB}/<N>/bin/ or on PATH")
        })?;
        Cluster::new(bins)
    }

    /// A server program, run as the system user when we are root, in
    /// `target/postgres/` (the current directory must be readable by it).
    fn server_command(&self, program: &str) -> Command {
        let program = self.bins.path(program);
        let mut c = if self.as_system_user {
            let mut c = Command::new("runuser");
            c.args(["-u", SYSTEM_USER, "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        c.current_dir(&self.dirs.base).stdin(Stdio::null());
        c
    }

    /// Make `target/postgres/` and, as root, give it to the system user.
    fn prepare(&self) -> Result<()> {
        let d = &self.dirs;
        for dir in [&d.base, &d.socket] {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        if !self.as_system_user {
            return Ok(());
        }
        crate::run(
            Command::new("chown")
                .arg("-R")
                .arg(format!("{SYSTEM_USER}:"))
                .arg(&d.base),
        )?;
        let writable = Command::new("runuser")
            .args(["-u", SYSTEM_USER, "--", "test", "-w"])
            .arg(&d.base)
            .status()
            .is_ok_and(|s| s.success());
        if !writable {
            bail!(
                "the `{SYSTEM_USER}` user (who runs initdb and pg_ctl, since they refuse root) \
                 cannot write to {} although it owns it: a directory above it is not searchable \
                 by that user. Set CARGO_TARGET_DIR to a directory it can reach, or set {URL_VAR} \
                 to a database the tests may create schemas in.",
                d.base.display()
            );
        }
        Ok(())
    }

    /// `pg_ctl status`, and a stale `postmaster.pid` (its server killed)
    /// removed.
    fn status(&self) -> Result<Status> {
        if !self.dirs.data.is_dir() {
            return Ok(Status::NoCluster);
        }
        let out = self
            .server_command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.dirs.data)
            .output()
            .context("cannot run pg_ctl status")?;
        // pg_ctl status: 0 running, 3 not running, 4 no data directory.
        Ok(match out.status.code() {
            Some(0) if self.stale_pid_file() => {
                let pid_file = self.dirs.data.join("postmaster.pid");
                eprintln!(
                    "    removing {}: the server it names is gone",
                    pid_file.display()
                );
                fs::remove_file(&pid_file)
                    .with_context(|| format!("cannot remove {}", pid_file.display()))?;
                Status::Stopped
            }
            Some(0) => Status::Running,
            Some(3) => Status::Stopped,
            _ => Status::NoCluster,
        })
    }

    /// Whether `postmaster.pid` names a process that is not this cluster's
    /// server (pg_ctl only asks whether the pid exists): one killed and
    /// left a zombie, or the pid reused by another program. The server
    /// works in its data directory, so `/proc/<pid>/cwd` tells; without
    /// `/proc`, pg_ctl is believed.
    fn stale_pid_file(&self) -> bool {
        let data = &self.dirs.data;
        let Some(pid) = fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse::<u32>().ok())
        else {
            return false;
        };
        if !Path::new("/proc/self/cwd").exists() {
            return false;
        }
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok();
        let data = fs::canonicalize(data).ok();
        cwd.is_none() || cwd != data
    }

    /// `pg_ctl stop -m <mode>`.
    fn stop(&self, mode: &str) -> Result<()> {
        checked(
            self.server_command("pg_ctl")
                .args(["stop", "-w", "-s", "-t", "60", "-m", mode, "-D"])
                .arg(&self.dirs.data),
            &format!(
                "cannot stop the PostgreSQL cluster in {}",
                self.dirs.data.display()
            ),
        )
        .map(drop)
    }

    /// Whether the data directory holds a cluster of these binaries'
    /// version (a damaged or foreign one is deleted).
    fn has_cluster(&self) -> Result<bool> {
        let data = &self.dirs.data;
        if !data.exists() {
            return Ok(false);
        }
        let wanted = self.bins.major_version()?;
        match fs::read_to_string(data.join("PG_VERSION")) {
            Ok(v) if v.trim() == wanted && data.join("global/pg_control").is_file() => {
                return Ok(true);
            }
            Ok(v) if v.trim() != wanted => eprintln!(
                "    {} holds a PostgreSQL {} cluster, not {wanted}: making a new one",
                data.display(),
                v.trim()
            ),
            _ => eprintln!(
                "    {} is not a PostgreSQL cluster: making a new one",
                data.display()
            ),
        }
        self.delete()?;
        Ok(false)
    }

    fn delete(&self) -> Result<()> {
        let data = &self.dirs.data;
        if data.exists() {
            fs::remove_dir_all(data)
                .with_context(|| format!("cannot delete {}", data.display()))?;
        }
        Ok(())
    }

    fn initdb(&self) -> Result<()> {
        eprintln!("    initdb {}", self.dirs.data.display());
        checked(
            self.server_command("initdb")
                .arg("-D")
                .arg(&self.dirs.data)
                .args([
                    "-A",
                    "trust",
                    "-U",
                    USER,
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ]),
            "initdb failed",
        )
        .map(drop)
    }

    /// `pg_ctl start -w` on a free port.
    fn pg_ctl_start(&self) -> Result<u16> {
        let port = free_port()?;
        let d = &self.dirs;
        // pg_ctl hands the options to `sh -c`, and the server reads the
        // socket directory as a comma-separated list.
        let socket = d
            .socket
            .to_str()
            .filter(|s| !s.contains(['\'', '"', ',']))
            .with_context(|| {
                format!(
                    "{} cannot be a socket directory (not UTF-8, or a quote or comma in it): \
                     set CARGO_TARGET_DIR to a plainer path",
                    d.socket.display()
                )
            })?;
        // This start's log only.
        let _ = fs::remove_file(&d.log);
        let durability = if self.durable {
            ""
        } else {
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let options = format!(
            "-k '{socket}' -c listen_addresses=127.0.0.1 -p {port}{durability} -c max_connections=200"
        );
        let out = self
            .server_command("pg_ctl")
            .args(["start", "-w", "-s", "-t", "60", "-D"])
            .arg(&d.data)
            .arg("-l")
            .arg(&d.log)
            .arg("-o")
            .arg(options)
            .output()
            .context("cannot run pg_ctl start")?;
        if !out.status.success() {
            bail!(
                "the PostgreSQL server in {} did not start ({}); the end of {}:\n{}",
                d.data.display(),
                String::from_utf8_lossy(&out.stderr)
                    .trim()
                    .replace('\n', " "),
                d.log.display(),
                log_tail(&d.log)
            );
        }
        Ok(port)
    }

    /// Start it: stop a leftover one, `initdb` if need be, start on a free
    /// port, make a fresh `shopcase_test`.
    fn start(self) -> Result<Server> {
        self.prepare()?;
        if self.status()? == Status::Running {
            eprintln!(
                "    a cluster an earlier run left is running in {}: stopping it",
                self.dirs.base.display()
            );
            self.stop("immediate")?;
        }
        let mut fresh = false;
        if !self.has_cluster()? {
            self.initdb()?;
            fresh = true;
        }
        let port = match self.pg_ctl_start() {
            Ok(port) => port,
            Err(e) if !fresh => {
                eprintln!("    {e:#}\n    deleting that cluster and making a new one");
                self.delete()?;
                self.initdb()?;
                self.pg_ctl_start()?
            }
            Err(e) => return Err(e),
        };
        // From here the guard stops it if anything fails.
        let server = Server {
            cluster: self,
            port,
            stop_on_drop: true,
        };
        let d = &server.cluster.dirs;
        fs::write(&d.port, format!("{port}\n"))
            .with_context(|| format!("cannot write {}", d.port.display()))?;
        server.cluster.create_database(port)?;
        Ok(server)
    }

    /// Drop and create `shopcase_test`, over TCP as `shopcase`.
    fn create_database(&self, port: u16) -> Result<()> {
        checked(
            Command::new(self.bins.psql())
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
                .arg("-p")
                .arg(port.to_string())
                .args(["-U", USER, "-d", "postgres"])
                .arg("-c")
                .arg(format!("DROP DATABASE IF EXISTS {DATABASE}"))
                .arg("-c")
                .arg(format!("CREATE DATABASE {DATABASE}"))
                .stdin(Stdio::null()),
            &format!("cannot create the database `{DATABASE}`"),
        )
        .map(drop)
    }

    /// The port `start` wrote.
    fn stored_port(&self) -> Result<u16> {
        let p = &self.dirs.port;
        let text = fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        text.trim()
            .parse()
            .with_context(|| format!("{} holds `{}`, not a port", p.display(), text.trim()))
    }
}

/// A port free on 127.0.0.1 now.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("cannot find a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// Run `cmd`, capturing its output; on failure the error holds it.
fn checked(cmd: &mut Command, what: &str) -> Result<Output> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !stdout.trim().is_empty() {
            text = format!("{}\n{text}", stdout.trim());
        }
        bail!("{what}: {cmd:?} exited with {}\n{text}", out.status);
    }
    Ok(out)
}

/// The last lines of the server log, for errors.
fn log_tail(log: &Path) -> String {
    match fs::read_to_string(log) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        }
        Err(e) => format!("(cannot read it: {e})"),
    }
}
