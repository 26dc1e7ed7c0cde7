//! A loaded plugin, and running it on one event.
//!
//! Every invocation gets a fresh `Store` from the plugin's `InstancePre`,
//! with all limits on:
//! - fuel (deterministic instruction budget) and an epoch deadline
//!   (wall clock, host-call time excluded);
//! - linear memory summed over the component's memories, table sizes and
//!   the number of instances, through a `ResourceLimiter`;
//! - the native stack (`max_wasm_stack`, engine-wide);
//! - output size (the actions' JSON form) and log bytes.
//!
//! The payload is minimised to the manifest's data grants *inside*
//! [`Plugin::invoke`], so no caller can forget it, and the returned actions
//! are validated against the grants and the event before they are handed
//! back. Every way an invocation can fail maps to one [`FailureKind`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use shopcase_contract::validate::{Scope as ValidationScope, validate};
use shopcase_contract::{Action, Event, FailureKind, Limits, Manifest, SettingValue};
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::runtime::Shared;
use crate::services::HostServices;
use crate::state::{HostTrap, Limiter, Scope, State, lock};

/// Log levels, as in the WIT `level` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One line a plugin logged (through `host.log`, or stdout/stderr).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
}

/// A key this invocation read, and the version it saw (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvRead {
    pub key: String,
    pub version: Option<u64>,
}

/// A key-value write to apply if the invocation's actions are journalled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KvWrite {
    pub key: String,
    /// `None` deletes the key.
    pub value: Option<String>,
    /// RFC 3339, from the event's time plus the plugin's TTL.
    pub expires_at: Option<String>,
}

/// What an invocation did to the key-value store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KvChanges {
    /// For conflict detection: if any of these keys changed version before
    /// the writes are committed, run the event again instead.
    pub reads: Vec<KvRead>,
    pub writes: Vec<KvWrite>,
}

/// Why an invocation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// Whether running the event again later could succeed.
    pub retryable: bool,
}

impl Failure {
    fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            retryable: kind.may_succeed_on_retry(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// How much of each limit an invocation used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub used: u64,
    pub limit: u64,
}

/// The budget report: what was used against each limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Budget {
    /// Instructions (fuel units).
    pub fuel: Usage,
    /// Peak linear memory, bytes, summed over memories.
    pub memory_bytes: Usage,
    /// Time running plugin code, microseconds, against the deadline.
    pub wall_time_us: Usage,
    /// Time spent in host services (not counted against the deadline).
    pub host_time_us: u64,
    /// Size of the returned actions' JSON.
    pub output_bytes: Usage,
    /// Log bytes kept.
    pub log_bytes: Usage,
    /// Log lines dropped over the cap.
    pub log_lines_dropped: u64,
}

/// The result of running one event through one plugin.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The validated actions, or why there are none.
    pub outcome: Result<Vec<Action>, Failure>,
    pub budget: Budget,
    pub logs: Vec<LogLine>,
    /// Key-value changes; apply `writes` only together with the actions.
    pub kv: KvChanges,
    /// The first `unavailable` answer a host service gave this invocation
    /// (Shopify, Core Case or the storage could not answer). If the run
    /// failed, the embedder treats that as its own condition to wait out,
    /// not as the plugin's failure.
    pub host_unavailable: Option<String>,
}

/// The versioned pre-instantiated component.
pub(crate) enum Pre {
    V0_1_0(crate::v0_1_0::PluginPre<State>),
    V0_2_0(crate::v0_2_0::PluginPre<State>),
}

pub(crate) struct Inner {
    pub(crate) manifest: Manifest,
    pub(crate) grants: Arc<shopcase_contract::Grants>,
    pub(crate) limits: Limits,
    pub(crate) pre: Pre,
    pub(crate) shared: Arc<Shared>,
}

/// A verified, compiled, pre-linked plugin. Cheap to clone; safe to share
/// between threads; each [`Plugin::invoke`] is independent.
#[derive(Clone)]
pub struct Plugin(pub(crate) Arc<Inner>);

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.0.manifest.id)
            .field("version", &self.0.manifest.version)
            .field("limits", &self.0.limits)
            .finish_non_exhaustive()
    }
}

/// Engine epoch ticks per second (see `runtime`).
pub(crate) const TICKS_PER_SECOND: u64 = 1000;

impl Plugin {
    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.0.manifest
    }

    /// The limits in force: the manifest's, capped by the host.
    pub fn limits(&self) -> Limits {
        self.0.limits
    }

    /// Run one event. Blocking: call it from a thread that may block (e.g.
    /// `tokio::task::spawn_blocking`). At most `max_concurrent` invocations
    /// run at once per runtime; further calls wait for a slot.
    ///
    /// `settings` are the store's resolved settings for this plugin
    /// (`Manifest::resolve_settings`).
    pub fn invoke(
        &self,
        event: &Event,
        settings: Arc<BTreeMap<String, SettingValue>>,
        services: Arc<dyn HostServices>,
    ) -> Invocation {
        let inner = &*self.0;
        let limits = inner.limits;
        let _slot = inner.shared.slots.acquire();

        // What the plugin may see.
        let payload =
            shopcase_contract::minimise::minimise_text(&event.payload, &event.topic, &inner.grants);
        // Field by field: `..event.clone()` would copy the full payload
        // only to drop it.
        let guest_event = Event {
            id: event.id.clone(),
            shopify_event_id: event.shopify_event_id.clone(),
            shop: event.shop.clone(),
            topic: event.topic.clone(),
            api_version: event.api_version.clone(),
            triggered_at: event.triggered_at.clone(),
            resources: event.resources.clone(),
            payload,
        };
        let wasi_now = shopcase_contract::time::parse(&event.triggered_at)
            .ok()
            .and_then(|t| {
                Duration::try_from(t.duration_since(shopcase_contract::time::Timestamp::UNIX_EPOCH))
                    .ok()
            })
            .unwrap_or_default();
        let seed = u64::from_le_bytes(
            Sha256::digest(event.id.as_bytes())[..8]
                .try_into()
                .unwrap_or([0; 8]),
        );

        let mut store = new_store(
            inner,
            Scope {
                grants: inner.grants.clone(),
                resources: event.resources.clone(),
                triggered_at: event.triggered_at.clone(),
            },
            settings,
            services,
            wasi_now,
            seed,
        );

        let result = match &inner.pre {
            Pre::V0_1_0(pre) => crate::v0_1_0::call(pre, &mut store, &guest_event),
            Pre::V0_2_0(pre) => crate::v0_2_0::call(pre, &mut store, &guest_event),
        };

        let fuel_left = store.get_fuel().unwrap_or(0);
        let state = store.data();
        let (reads, writes) = state.kv_changes();
        let wall = state.clock.guest_time();
        let host_time = state.clock.host.time;
        let memory_peak = state.limiter.memory_peak;
        let logs_arc = state.logs.clone();
        let host_unavailable = state.unavailable.clone();
        drop(store);
        let mut logs = std::mem::take(&mut *lock(&logs_arc));
        logs.finish();

        let mut budget = Budget {
            fuel: Usage {
                used: limits.fuel.saturating_sub(fuel_left),
                limit: limits.fuel,
            },
            memory_bytes: Usage {
                used: memory_peak,
                limit: limits.memory_bytes,
            },
            wall_time_us: Usage {
                used: wall.as_micros() as u64,
                limit: limits.deadline.as_micros() as u64,
            },
            host_time_us: host_time.as_micros() as u64,
            output_bytes: Usage {
                used: 0,
                limit: limits.output_bytes,
            },
            log_bytes: Usage {
                used: logs.budget.bytes,
                limit: limits.log_bytes,
            },
            log_lines_dropped: logs.budget.dropped,
        };

        let outcome = match result {
            Err(e) => Err(classify(e)),
            Ok(Err(plugin_error)) => Err(Failure {
                kind: FailureKind::PluginError,
                message: error_message(&plugin_error.message),
                retryable: plugin_error.retryable,
            }),
            Ok(Ok(actions)) => {
                let size = json_size(&actions, limits.output_bytes);
                budget.output_bytes.used = size;
                if size > limits.output_bytes {
                    Err(Failure::new(
                        FailureKind::OutputTooLarge,
                        format!(
                            "the actions are over the limit of {} bytes",
                            limits.output_bytes
                        ),
                    ))
                } else {
                    validate(
                        &actions,
                        ValidationScope {
                            grants: &inner.grants,
                            resources: &event.resources,
                            triggered_at: &event.triggered_at,
                        },
                    )
                    .map(|()| actions)
                    .map_err(|e| Failure::new(FailureKind::InvalidAction, e.to_string()))
                }
            }
        };

        let ok = outcome.is_ok();
        Invocation {
            outcome,
            budget,
            logs: logs.lines,
            // Writes of a failed invocation are never applied; reads are kept for diagnostics.
            kv: KvChanges {
                reads,
                writes: if ok { writes } else { Vec::new() },
            },
            host_unavailable,
        }
    }
}

/// A fresh store with every limit on.
fn new_store(
    inner: &Inner,
    scope: Scope,
    settings: Arc<BTreeMap<String, SettingValue>>,
    services: Arc<dyn HostServices>,
    wasi_now: Duration,
    seed: u64,
) -> Store<State> {
    let limits = inner.limits;
    let state = State::new(
        Limiter {
            memory_limit: limits.memory_bytes,
            memory_total: 0,
            memory_peak: 0,
            table_limit: inner.shared.config.max_table_elements,
            instances: inner.shared.config.max_core_instances_per_component as usize,
        },
        scope,
        settings,
        services,
        limits.log_bytes,
        limits.deadline,
        wasi_now,
        seed,
    );
    let mut store = Store::new(&inner.shared.engine, state);
    store.limiter(|s| &mut s.limiter);
    // Fuel is per store: a fresh store never inherits a previous call's
    // budget. Setting it only fails when fuel is disabled, and the engine
    // always enables it.
    let _ = store.set_fuel(limits.fuel);
    store.set_epoch_deadline(ticks(limits.deadline));
    store.epoch_deadline_callback(move |ctx| {
        let clock = &ctx.data().clock;
        let ran = clock.guest_time();
        if ran >= clock.deadline {
            return Err(wasmtime::Error::new(HostTrap::DeadlineExceeded {
                ran,
                deadline: clock.deadline,
            }));
        }
        // Host-call time was excluded: give back what is left.
        Ok(UpdateDeadline::Continue(ticks(clock.deadline - ran).max(1)))
    });
    store
}

/// Instantiate once at load time, so a component whose exports do not have
/// this API version's exact types is refused before it sees an event.
pub(crate) fn probe(inner: &Inner) -> Result<(), String> {
    let _slot = inner.shared.slots.acquire();
    let mut store = new_store(
        inner,
        Scope {
            grants: inner.grants.clone(),
            resources: Default::default(),
            triggered_at: String::new(),
        },
        Arc::new(BTreeMap::new()),
        Arc::new(crate::services::NoServices),
        Duration::ZERO,
        0,
    );
    match &inner.pre {
        Pre::V0_1_0(pre) => crate::v0_1_0::probe(pre, &mut store).map_err(|e| root_message(&e)),
        Pre::V0_2_0(pre) => crate::v0_2_0::probe(pre, &mut store).map_err(|e| root_message(&e)),
    }
}

fn ticks(d: Duration) -> u64 {
    (d.as_micros() as u64)
        .div_ceil(1_000_000 / TICKS_PER_SECOND)
        .max(1)
}

/// The guest returned `plugin-error`.
pub(crate) struct GuestError {
    pub(crate) message: String,
    pub(crate) retryable: bool,
}

/// Name what ended a call.
fn classify(e: wasmtime::Error) -> Failure {
    if let Some(t) = e.downcast_ref::<HostTrap>() {
        let kind = match t {
            HostTrap::GrantDenied { .. } => FailureKind::GrantDenied,
            HostTrap::MemoryLimit { .. } | HostTrap::TableLimit { .. } => FailureKind::MemoryLimit,
            HostTrap::DeadlineExceeded { .. } => FailureKind::DeadlineExceeded,
        };
        return Failure::new(kind, t.to_string());
    }
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Failure::new(
            FailureKind::Trap,
            format!("the plugin called exit({})", exit.0),
        );
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        let (kind, what) = match trap {
            Trap::OutOfFuel => (
                FailureKind::FuelExhausted,
                "ran out of fuel (instruction budget)".to_owned(),
            ),
            Trap::Interrupt => (
                FailureKind::DeadlineExceeded,
                "interrupted at its deadline".to_owned(),
            ),
            Trap::StackOverflow => (
                FailureKind::StackOverflow,
                "overflowed its stack".to_owned(),
            ),
            Trap::UnreachableCodeReached => (
                FailureKind::Trap,
                "trapped: unreachable code reached (a panic or abort in the plugin)".to_owned(),
            ),
            other => (FailureKind::Trap, format!("trapped: {other}")),
        };
        return Failure::new(kind, format!("the plugin {what}{}", backtrace_hint(&e)));
    }
    // Not a trap: the call itself failed, which for a well-formed component
    // means its results could not be lifted (a bad enum discriminant, invalid
    // UTF-8, an out-of-bounds list).
    Failure::new(
        FailureKind::InvalidAction,
        format!(
            "the plugin's output could not be read: {}",
            root_message(&e)
        ),
    )
}

fn root_message(e: &wasmtime::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        msg.push_str(": ");
        msg.push_str(&cause.to_string());
    }
    msg
}

fn backtrace_hint(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<wasmtime::WasmBacktrace>() {
        Some(bt) => {
            let frames: Vec<String> = bt
                .frames()
                .iter()
                .take(3)
                .filter_map(|f| f.func_name().map(str::to_owned))
                .collect();
            if frames.is_empty() {
                String::new()
            } else {
                format!(" (in {})", frames.join(" ← "))
            }
        }
        None => String::new(),
    }
}

/// A plugin's error message as the host stores and logs it (the shared
/// rule: the SDK's test harness applies the same).
fn error_message(message: &str) -> String {
    shopcase_contract::host_rules::error_message(message)
}

/// The size of `value` as JSON, counted without building the text, and
/// only up to just past `limit` (the output may be far larger once
/// escaped: counting stops there).
fn json_size<T: serde::Serialize>(value: &T, limit: u64) -> u64 {
    struct Counter {
        n: u64,
        limit: u64,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.n += buf.len() as u64;
            if self.n > self.limit {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Counter { n: 0, limit };
    match serde_json::to_writer(&mut c, value) {
        Ok(()) => c.n,
        Err(_) => c.n.max(limit.saturating_add(1)),
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn json_size_counts_and_stops_past_the_limit() {
        let v = vec!["a\nb".to_owned(); 3];
        let exact = serde_json::to_vec(&v).unwrap().len() as u64;
        assert_eq!(json_size(&v, 1 << 20), exact);
        assert_eq!(json_size(&v, exact), exact);
        assert!(json_size(&v, exact - 1) > exact - 1);
    }
}
