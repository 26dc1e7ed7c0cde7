//! Coordination between replicas on PostgreSQL (see
//! [`crate::area::coordination`]): `LISTEN`/`NOTIFY` wake-ups and
//! advisory-lock leadership, each on a dedicated connection of its own,
//! outside the pool (a pooled connection is recycled between operations,
//! and neither a `LISTEN` nor a session lock may move with it).
//!
//! # Wake-ups
//! [`CoordinationStore::announce`] marks the kind of work pending and
//! kicks one background task (started at the first announcement), which
//! sends `SELECT pg_notify(channel, '<storage id> <schema>')` on a pooled
//! connection for every kind marked since its last send: announcements
//! made while one is being sent are coalesced into the next. The callers
//! announce after their commit, so a process woken by the notification
//! sees the work.
//!
//! [`CoordinationStore::wakeups`] starts (once) the listener: a task that
//! opens its own connection (`application_name` `<name>-listener`),
//! `LISTEN`s on every [`Work::channel`], and turns each notification into a
//! [`Work`] on a broadcast channel — except its own storage's (the payload
//! names the sender) and other schemas' (the channels are per database,
//! so deployments, or tests, in other schemas of the same database would
//! otherwise wake each other). A notification whose payload is not in that
//! form (an operator's `NOTIFY shopcase_inbox`) wakes everyone. The
//! listener pings its connection every [`PING_EVERY`]; when the connection
//! breaks (server restart, `pg_terminate_backend`, network), it reconnects
//! with backoff (from 100 ms, doubling, at most [`MAX_BACKOFF`]) and, once
//! listening again, sends a wake-up of every kind for what it may have
//! missed. Meanwhile the processes' polls find the work.
//!
//! # Leadership
//! A role is a session-level advisory lock,
//! `pg_try_advisory_lock(`[`ROLE_LOCK_CLASS`]`, hashtext(current_schema() || '/' || role))`:
//! per role and schema, in a lock class of its own (migrations lock
//! another). All of one storage's roles are held on one dedicated session
//! (`application_name` `<name>-leader`), opened at the first
//! [`CoordinationStore::lead`]. `lead` takes the lock if the role is not
//! held, or, if it is, checks the session is alive (`SELECT 1`, bounded by
//! the connect timeout); a session found broken or too slow is dropped —
//! every role it held is lost, the caller is told so (an error) and the
//! next `lead` opens a new session and tries again. The server releases a
//! session's locks when the session ends: when the process exits or is
//! killed (the socket closes), when the storage is dropped, when the
//! session is terminated, and — for a process that stopped talking without
//! closing its socket (frozen, or cut off by the network) — after
//! `idle_session_timeout` ([`IDLE_SESSION_TIMEOUT`], set on the session
//! where the server knows it, PostgreSQL 14 and later), since a leader
//! that checks every second or two is never idle that long.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio_postgres::{AsyncMessage, Client, Notification};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{PostgresStorage, error_text, pg};
use crate::error::{Result, StoreError};
use crate::values::*;

/// The first key of every role's advisory lock (the second is the role's
/// and schema's hash). Migrations lock under 1397244752.
pub(crate) const ROLE_LOCK_CLASS: i32 = 1397244753;

/// How often the listener checks its connection.
pub(crate) const PING_EVERY: Duration = Duration::from_secs(10);

/// The longest wait between two attempts to reconnect the listener.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// After how long idle the server ends a leadership session (and so
/// releases its roles).
pub(crate) const IDLE_SESSION_TIMEOUT: Duration = Duration::from_secs(20);

/// Wake-ups buffered per subscriber before it lags.
const WAKEUPS_BUFFERED: usize = 64;

fn index(work: Work) -> usize {
    match work {
        Work::Inbox => 0,
        Work::Journal => 1,
    }
}

/// One storage's coordination: created with it, shared by its clones;
/// dropping the last clone ends the listener and sender tasks and closes
/// the leadership session (releasing its roles).
pub(crate) struct Coordinator {
    shared: Arc<Shared>,
    pool: Pool,
    /// The dedicated sessions' settings, and TLS as the pool has it.
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    listener_started: AtomicBool,
    sender_started: AtomicBool,
    /// Dropped with the coordinator: its tasks end.
    stop: watch::Sender<()>,
    leader: tokio::sync::Mutex<Option<Session>>,
}

/// What the background tasks share with the coordinator.
struct Shared {
    /// This storage's id in notification payloads.
    id: String,
    wakeups: broadcast::Sender<Work>,
    /// The listener's backend pid, 0 while it is not listening.
    listener_pid: AtomicI32,
    /// Kinds announced and not yet sent.
    pending: [AtomicBool; 2],
    kick: Notify,
}

/// The leadership session.
struct Session {
    client: Client,
    pid: i32,
    held: BTreeSet<String>,
}

impl Coordinator {
    pub(crate) fn new(
        config: tokio_postgres::Config,
        tls: MakeRustlsConnect,
        pool: Pool,
    ) -> Coordinator {
        let (stop, _) = watch::channel(());
        Coordinator {
            shared: Arc::new(Shared {
                id: storage_id(),
                wakeups: broadcast::channel(WAKEUPS_BUFFERED).0,
                listener_pid: AtomicI32::new(0),
                pending: [AtomicBool::new(false), AtomicBool::new(false)],
                kick: Notify::new(),
            }),
            pool,
            config,
            tls,
            listener_started: AtomicBool::new(false),
            sender_started: AtomicBool::new(false),
            stop,
            leader: tokio::sync::Mutex::new(None),
        }
    }

    /// A copy of the settings with `application_name` `<name>-<what>`.
    fn session_config(&self, what: &str) -> tokio_postgres::Config {
        let mut c = self.config.clone();
        let name = format!("{}-{what}", c.get_application_name().unwrap_or("shopcase"));
        c.application_name(name);
        c
    }

    fn announce(&self, work: Work) {
        self.shared.pending[index(work)].store(true, Ordering::SeqCst);
        if !self.sender_started.swap(true, Ordering::SeqCst) {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(send_loop(
                        self.shared.clone(),
                        self.pool.clone(),
                        self.stop.subscribe(),
                    ));
                }
                Err(_) => {
                    // No runtime to send from: try again at the next one.
                    self.sender_started.store(false, Ordering::SeqCst);
                    return;
                }
            }
        }
        self.shared.kick.notify_one();
    }

    fn wakeups(&self) -> broadcast::Receiver<Work> {
        let rx = self.shared.wakeups.subscribe();
        if !self.listener_started.swap(true, Ordering::SeqCst) {
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(listen_loop(
                        self.shared.clone(),
                        self.session_config("listener"),
                        self.tls.clone(),
                        self.stop.subscribe(),
                    ));
                }
                Err(_) => self.listener_started.store(false, Ordering::SeqCst),
            }
        }
        rx
    }

    async fn lead(&self, role: &str) -> Result<bool> {
        let op = "lead";
        let mut guard = self.leader.lock().await;
        if guard.as_ref().is_some_and(|s| s.client.is_closed()) {
            lost(guard.take(), "its connection closed");
        }
        if guard.is_none() {
            *guard = Some(self.open_session().await?);
        }
        let Some(session) = guard.as_mut() else {
            return Err(StoreError::Closed);
        };
        let bound = self.config.get_connect_timeout().copied();
        let bound = bound.unwrap_or(Duration::from_secs(5));
        if session.held.contains(role) {
            let alive = tokio::time::timeout(bound, session.client.simple_query("SELECT 1")).await;
            return match alive {
                Ok(Ok(_)) => Ok(true),
                Ok(Err(e)) => {
                    let message = error_text(&e);
                    lost(guard.take(), &message);
                    Err(StoreError::Unavailable { op, message })
                }
                Err(_) => {
                    lost(guard.take(), "it did not answer in time");
                    Err(StoreError::Unavailable {
                        op,
                        message: "the leadership session did not answer in time".into(),
                    })
                }
            };
        }
        let tried = tokio::time::timeout(
            bound,
            session.client.query_one(
                "SELECT pg_try_advisory_lock($1, hashtext(current_schema() || '/' || $2))",
                &[&ROLE_LOCK_CLASS, &role],
            ),
        )
        .await;
        match tried {
            Ok(Ok(row)) => {
                let taken: bool = row.get(0);
                if taken {
                    session.held.insert(role.to_owned());
                }
                Ok(taken)
            }
            Ok(Err(e)) => {
                let err = pg(op)(e);
                if err.is_unavailable() {
                    lost(guard.take(), &err.to_string());
                }
                Err(err)
            }
            Err(_) => {
                lost(guard.take(), "it did not answer in time");
                Err(StoreError::Unavailable {
                    op,
                    message: "the leadership session did not answer in time".into(),
                })
            }
        }
    }

    async fn resign(&self, role: &str) {
        let mut guard = self.leader.lock().await;
        let Some(session) = guard.as_mut() else {
            return;
        };
        if !session.held.remove(role) {
            return;
        }
        let released = session
            .client
            .query_one(
                "SELECT pg_advisory_unlock($1, hashtext(current_schema() || '/' || $2))",
                &[&ROLE_LOCK_CLASS, &role],
            )
            .await;
        if let Err(e) = released {
            // The session is broken: ending it releases the lock anyway.
            lost(guard.take(), &error_text(&e));
        }
    }

    async fn open_session(&self) -> Result<Session> {
        let op = "lead";
        let (client, connection) = self
            .session_config("leader")
            .connect(self.tls.clone())
            .await
            .map_err(pg(op))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %error_text(&e), "leadership session ended");
            }
        });
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .map_err(pg(op))?
            .get(0);
        // PostgreSQL 14 and later: a replica that stops talking without
        // closing its socket loses its roles after this long.
        let _ = client
            .batch_execute(&format!(
                "SET idle_session_timeout = {}",
                IDLE_SESSION_TIMEOUT.as_millis()
            ))
            .await;
        tracing::debug!(pid, "leadership session opened");
        Ok(Session {
            client,
            pid,
            held: BTreeSet::new(),
        })
    }

    pub(crate) fn listener_pid(&self) -> Option<i32> {
        match self.shared.listener_pid.load(Ordering::SeqCst) {
            0 => None,
            pid => Some(pid),
        }
    }

    pub(crate) async fn leader_pid(&self) -> Option<i32> {
        self.leader
            .lock()
            .await
            .as_ref()
            .filter(|s| !s.client.is_closed())
            .map(|s| s.pid)
    }
}

/// A leadership session found broken: dropped (which ends it, so the
/// server releases what it still holds).
fn lost(session: Option<Session>, why: &str) {
    if let Some(s) = session {
        if s.held.is_empty() {
            tracing::debug!(pid = s.pid, why, "leadership session lost");
        } else {
            tracing::warn!(pid = s.pid, roles = ?s.held, why, "leadership session lost: its roles are released");
        }
    }
}

/// An id that differs between storages (of this process: a counter; of
/// others: the process id and the time), without spaces.
fn storage_id() -> String {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{:x}-{nanos:x}-{n:x}", std::process::id())
}

/// Send what was announced, until the storage goes.
async fn send_loop(shared: Arc<Shared>, pool: Pool, mut stop: watch::Receiver<()>) {
    loop {
        tokio::select! {
            _ = shared.kick.notified() => {}
            _ = stop.changed() => return,
        }
        let channels: Vec<&'static str> = Work::ALL
            .into_iter()
            .filter(|w| shared.pending[index(*w)].swap(false, Ordering::SeqCst))
            .map(Work::channel)
            .collect();
        if channels.is_empty() {
            continue;
        }
        let sent = async {
            let client = pool.get().await.map_err(|e| e.to_string())?;
            client
                .execute(
                    "SELECT pg_notify(c, $2 || ' ' || current_schema()) FROM unnest($1::text[]) c",
                    &[&channels, &shared.id],
                )
                .await
                .map_err(|e| error_text(&e))
        };
        if let Err(e) = sent.await {
            // The other replicas poll; the next announcement tries again.
            tracing::debug!(error = %e, ?channels, "cannot announce new work to other replicas");
        }
    }
}

/// How one listening connection ended.
enum Ended {
    Stopped,
    Lost(String),
}

/// Listen, reconnecting, until the storage goes.
async fn listen_loop(
    shared: Arc<Shared>,
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    mut stop: watch::Receiver<()>,
) {
    let mut failures: u32 = 0;
    loop {
        let (ended, listened) = listen_once(&shared, &config, tls.clone(), &mut stop).await;
        shared.listener_pid.store(0, Ordering::SeqCst);
        match ended {
            Ended::Stopped => return,
            Ended::Lost(why) => {
                if listened {
                    failures = 0;
                    tracing::warn!(why = %why, "wake-up listener lost; polling until it reconnects");
                } else {
                    tracing::debug!(why = %why, failures, "wake-up listener cannot connect");
                }
            }
        }
        failures = failures.saturating_add(1);
        let delay = Duration::from_millis(100u64 << failures.min(10)).min(MAX_BACKOFF);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return,
        }
    }
}

/// One connection's life: connect, listen, deliver; how it ended and
/// whether it got as far as listening.
async fn listen_once(
    shared: &Shared,
    config: &tokio_postgres::Config,
    tls: MakeRustlsConnect,
    stop: &mut watch::Receiver<()>,
) -> (Ended, bool) {
    let connected = tokio::select! {
        c = config.connect(tls) => c,
        _ = stop.changed() => return (Ended::Stopped, false),
    };
    let (client, mut connection) = match connected {
        Ok(c) => c,
        Err(e) => return (Ended::Lost(error_text(&e)), false),
    };
    // The connection is driven by a task of its own, so that the pings'
    // answers are read while notifications are handled here.
    let (tx, mut rx) = mpsc::unbounded_channel::<Notification>();
    let mut driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if tx.send(n).is_err() {
                        return String::from("the listener stopped");
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return error_text(&e),
                None => return String::from("the connection closed"),
            }
        }
    });
    let _abort = AbortOnDrop(driver.abort_handle());
    let bound = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(Duration::from_secs(5));
    let setup = async {
        let row = client
            .query_one("SELECT current_schema()::text, pg_backend_pid()", &[])
            .await?;
        let listen: String = Work::ALL
            .iter()
            .map(|w| format!("LISTEN {};", w.channel()))
            .collect();
        client.batch_execute(&listen).await?;
        Ok::<_, tokio_postgres::Error>((row.get::<_, String>(0), row.get::<_, i32>(1)))
    };
    let (schema, pid) = tokio::select! {
        r = tokio::time::timeout(bound, setup) => match r {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return (Ended::Lost(error_text(&e)), false),
            Err(_) => return (Ended::Lost("LISTEN did not answer in time".into()), false),
        },
        _ = stop.changed() => return (Ended::Stopped, false),
    };
    // What was announced while no one listened (before the pid shows
    // that it listens: whoever sees the pid has these wake-ups queued).
    for w in Work::ALL {
        let _ = shared.wakeups.send(w);
    }
    shared.listener_pid.store(pid, Ordering::SeqCst);
    tracing::debug!(pid, "listening for other replicas' wake-ups");
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            n = rx.recv() => match n {
                Some(n) => deliver(shared, &schema, &n),
                None => {
                    let why = (&mut driver)
                        .await
                        .unwrap_or_else(|_| String::from("the connection closed"));
                    return (Ended::Lost(why), true);
                }
            },
            _ = ping.tick() => {
                match tokio::time::timeout(bound, client.simple_query("SELECT 1")).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return (Ended::Lost(error_text(&e)), true),
                    Err(_) => return (Ended::Lost("the connection did not answer a ping in time".into()), true),
                }
            }
            _ = stop.changed() => return (Ended::Stopped, true),
        }
    }
}

/// Hand a notification to the subscribers, unless it is this storage's own
/// or another schema's.
fn deliver(shared: &Shared, schema: &str, n: &Notification) {
    let work = match n.channel() {
        c if c == Work::Inbox.channel() => Work::Inbox,
        c if c == Work::Journal.channel() => Work::Journal,
        _ => return,
    };
    if let Some((id, from_schema)) = n.payload().split_once(' ')
        && (id == shared.id || from_schema != schema)
    {
        return;
    }
    let _ = shared.wakeups.send(work);
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[async_trait]
impl CoordinationStore for PostgresStorage {
    fn announce(&self, work: Work) {
        self.coordinator.announce(work);
    }

    fn wakeups(&self) -> Option<broadcast::Receiver<Work>> {
        Some(self.coordinator.wakeups())
    }

    async fn lead(&self, role: &str) -> Result<bool> {
        self.coordinator.lead(role).await
    }

    async fn resign(&self, role: &str) {
        self.coordinator.resign(role).await
    }
}

impl PostgresStorage {
    /// The backend process id of the wake-up listener's session while it
    /// listens (`pg_stat_activity.pid`; `None` before the first
    /// [`CoordinationStore::wakeups`] and while it reconnects): for
    /// diagnostics and tests.
    pub fn listener_pid(&self) -> Option<i32> {
        self.coordinator.listener_pid()
    }

    /// The backend process id of the leadership session, if one is open:
    /// for diagnostics and tests.
    pub async fn leader_pid(&self) -> Option<i32> {
        self.coordinator.leader_pid().await
    }
}
