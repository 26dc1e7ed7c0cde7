//! What one `Store` holds while a plugin handles one event.
//!
//! Nothing here outlives the invocation: the store (and this state) is
//! dropped when the call returns, and only the collected logs, key-value
//! changes and counters are handed back.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use shopcase_contract::manifest::HostGrant;
use shopcase_contract::{Grants, Resources, SettingValue};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView};

use crate::plugin::{KvRead, KvWrite, LogLevel, LogLine};
use crate::services::{HostError, HostServices, KvUsage};

pub(crate) use shopcase_contract::host_rules::MAX_LOG_LINE;
use shopcase_contract::host_rules::{self as rules, HostCallBudget, LogBudget};
pub use shopcase_contract::host_rules::{MAX_HOST_CALLS, MAX_HOST_TIME};

/// Errors raised by the host that end an invocation with a named outcome.
/// They travel inside `wasmtime::Error` and are recovered by downcasting.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HostTrap {
    #[error("`{function}` needs the `{grant}` grant, which the manifest does not give")]
    GrantDenied {
        function: &'static str,
        grant: HostGrant,
    },
    #[error("linear memory would grow to {desired} bytes in all, over the limit of {limit} bytes")]
    MemoryLimit { desired: u64, limit: u64 },
    #[error("a table would grow to {desired} elements, over the limit of {limit}")]
    TableLimit { desired: u64, limit: u64 },
    #[error("the plugin ran for {ran:?} (host calls excluded), past its deadline of {deadline:?}")]
    DeadlineExceeded { ran: Duration, deadline: Duration },
}

/// Tracks memory across all of a component's memories and enforces the
/// plugin's limit on their sum.
#[derive(Debug)]
pub(crate) struct Limiter {
    pub(crate) memory_limit: u64,
    pub(crate) memory_total: u64,
    pub(crate) memory_peak: u64,
    pub(crate) table_limit: u64,
    pub(crate) instances: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory_total - current as u64 + desired as u64;
        if total > self.memory_limit {
            return Err(wasmtime::Error::new(HostTrap::MemoryLimit {
                desired: total,
                limit: self.memory_limit,
            }));
        }
        self.memory_total = total;
        self.memory_peak = self.memory_peak.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.table_limit {
            return Err(wasmtime::Error::new(HostTrap::TableLimit {
                desired: desired as u64,
                limit: self.table_limit,
            }));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn tables(&self) -> usize {
        self.instances * 4
    }

    fn memories(&self) -> usize {
        self.instances
    }
}

/// The plugin's log for this invocation, shared by `host.log` and the WASI
/// stdout/stderr streams. Capped in total bytes; what is over the cap is
/// counted, not kept.
#[derive(Debug, Default)]
pub(crate) struct LogBuffer {
    pub(crate) lines: Vec<LogLine>,
    /// Bytes kept against `limits.log-bytes`, and lines dropped past it.
    pub(crate) budget: LogBudget,
    partial: [Vec<u8>; 2],
}

impl LogBuffer {
    pub(crate) fn push(&mut self, level: LogLevel, message: &str) {
        // One line of text, cut to size (the shared rule: the SDK's test
        // harness applies the same).
        let message = rules::log_line(message);
        if self.budget.admit(&message) {
            self.lines.push(LogLine { level, message });
        }
    }

    /// Bytes from stdout (0) or stderr (1): split into lines.
    fn write(&mut self, stream: usize, level: LogLevel, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            let mut line = std::mem::take(&mut self.partial[stream]);
            line.extend_from_slice(&rest[..pos]);
            self.push(level, &String::from_utf8_lossy(&line));
            rest = &rest[pos + 1..];
        }
        // Keep at most one line's worth of an unfinished line.
        let p = &mut self.partial[stream];
        let room = (MAX_LOG_LINE + 1).saturating_sub(p.len());
        p.extend_from_slice(&rest[..rest.len().min(room)]);
    }

    /// Flush unfinished stdout/stderr lines.
    pub(crate) fn finish(&mut self) {
        for (stream, level) in [(0, LogLevel::Info), (1, LogLevel::Warn)] {
            let p = std::mem::take(&mut self.partial[stream]);
            if !p.is_empty() {
                self.push(level, &String::from_utf8_lossy(&p));
            }
        }
    }
}

/// A WASI stdout or stderr stream writing into the log buffer.
#[derive(Debug, Clone)]
pub(crate) struct LogSink {
    pub(crate) buffer: Arc<Mutex<LogBuffer>>,
    pub(crate) stream: usize,
}

impl LogSink {
    pub(crate) fn write_bytes(&self, bytes: &[u8]) {
        let level = if self.stream == 0 {
            LogLevel::Info
        } else {
            LogLevel::Warn
        };
        lock(&self.buffer).write(self.stream, level, bytes);
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The buffer stays consistent even if a holder panicked.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Key-value reads and writes of this invocation. Writes are buffered here
/// and applied by the embedder only if the invocation succeeds; reads see
/// them first (read-your-writes).
#[derive(Debug, Default)]
pub(crate) struct KvOverlay {
    pub(crate) reads: BTreeMap<String, Option<u64>>,
    pub(crate) writes: BTreeMap<String, Option<(String, Option<u32>)>>,
    usage: Option<KvUsage>,
}

/// The event-derived facts host functions check arguments against.
#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) grants: Arc<Grants>,
    pub(crate) resources: Resources,
    pub(crate) triggered_at: String,
}

/// Time accounting for the wall-clock deadline: time inside host services
/// is the host's, not the plugin's.
#[derive(Debug)]
pub(crate) struct Clock {
    pub(crate) started: Instant,
    /// The host calls made and the time they took ([`MAX_HOST_CALLS`],
    /// [`MAX_HOST_TIME`]).
    pub(crate) host: HostCallBudget,
    pub(crate) deadline: Duration,
}

impl Clock {
    pub(crate) fn guest_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.host.time)
    }
}

/// The `Store` data.
pub(crate) struct State {
    pub(crate) limiter: Limiter,
    pub(crate) scope: Scope,
    pub(crate) settings: Arc<BTreeMap<String, SettingValue>>,
    pub(crate) services: Arc<dyn HostServices>,
    pub(crate) kv: KvOverlay,
    pub(crate) logs: Arc<Mutex<LogBuffer>>,
    pub(crate) clock: Clock,
    /// The customer history answer of this event, with the customer it is
    /// about (only the event's own customer may be asked for, so one answer
    /// serves every call; from 0.2.0 that may be the customer the order
    /// look-up named).
    pub(crate) history: Option<(
        u64,
        Result<shopcase_contract::host_api::CustomerHistory, HostError>,
    )>,
    /// The order look-up answer of this event (its own order only).
    pub(crate) order: Option<Result<shopcase_contract::host_api::OrderDetails, HostError>>,
    /// The order risk answer of this event (its own order only).
    pub(crate) order_risk: Option<Result<shopcase_contract::host_api::OrderRisk, HostError>>,
    /// The first `unavailable` answer of a host service in this event: a
    /// service the host depends on was down, which is the host's condition
    /// to wait out, not the plugin's failure.
    pub(crate) unavailable: Option<String>,
    wasi: Option<(WasiCtx, ResourceTable)>,
    wasi_now: Duration,
    wasi_seed: u64,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("limiter", &self.limiter)
            .field("scope", &self.scope)
            .field("kv", &self.kv)
            .finish_non_exhaustive()
    }
}

impl State {
    #[allow(
        clippy::too_many_arguments,
        reason = "one constructor, called from one place"
    )]
    pub(crate) fn new(
        limiter: Limiter,
        scope: Scope,
        settings: Arc<BTreeMap<String, SettingValue>>,
        services: Arc<dyn HostServices>,
        log_cap: u64,
        deadline: Duration,
        wasi_now: Duration,
        wasi_seed: u64,
    ) -> State {
        State {
            limiter,
            scope,
            settings,
            services,
            kv: KvOverlay::default(),
            logs: Arc::new(Mutex::new(LogBuffer {
                budget: LogBudget::new(log_cap),
                ..LogBuffer::default()
            })),
            history: None,
            order: None,
            order_risk: None,
            unavailable: None,
            clock: Clock {
                started: Instant::now(),
                host: HostCallBudget::default(),
                deadline,
            },
            wasi: None,
            wasi_now,
            wasi_seed,
        }
    }

    /// The WASI context, built on first use.
    pub(crate) fn wasi_view(&mut self) -> WasiCtxView<'_> {
        let (ctx, table) = self.wasi.get_or_insert_with(|| {
            let sink = |stream| LogSink {
                buffer: self.logs.clone(),
                stream,
            };
            (
                crate::wasi::build_ctx(self.wasi_now, self.wasi_seed, sink(0), sink(1)),
                ResourceTable::new(),
            )
        });
        WasiCtxView { ctx, table }
    }

    /// Fail with `grant-denied` unless the manifest grants `grant`.
    pub(crate) fn require(&self, grant: HostGrant, function: &'static str) -> wasmtime::Result<()> {
        if self.scope.grants.host.contains(&grant) {
            Ok(())
        } else {
            Err(wasmtime::Error::new(HostTrap::GrantDenied {
                function,
                grant,
            }))
        }
    }

    /// Run a host service call, keeping its time off the plugin's clock,
    /// within the event's budget of host calls ([`MAX_HOST_CALLS`],
    /// [`MAX_HOST_TIME`]): past it, every call answers `quota-exceeded`.
    pub(crate) fn timed<T>(
        &mut self,
        f: impl FnOnce(&dyn HostServices) -> Result<T, HostError>,
    ) -> Result<T, HostError> {
        self.clock.host.admit()?;
        let start = Instant::now();
        let r = f(self.services.as_ref());
        self.clock.host.spent(start.elapsed());
        if let Err(e) = &r
            && e.is_outage()
            && self.unavailable.is_none()
        {
            self.unavailable = Some(e.to_string());
        }
        r
    }

    pub(crate) fn log(&self, level: LogLevel, message: &str) {
        lock(&self.logs).push(level, message);
    }

    pub(crate) fn kv_get(&mut self, key: &str) -> Result<Option<String>, HostError> {
        rules::check_kv_key(key)?;
        if let Some(w) = self.kv.writes.get(key) {
            return Ok(w.as_ref().map(|(v, _)| v.clone()));
        }
        let entry = self.timed(|s| s.kv_get(key))?;
        self.kv
            .reads
            .entry(key.to_owned())
            .or_insert(entry.as_ref().map(|e| e.version));
        Ok(entry.map(|e| e.value))
    }

    pub(crate) fn kv_set(
        &mut self,
        key: &str,
        value: Option<String>,
        ttl: Option<u32>,
    ) -> Result<(), HostError> {
        rules::check_kv_key(key)?;
        if let Some(v) = &value {
            rules::check_kv_value(v)?;
        }
        rules::check_kv_writes(self.kv.writes.len(), self.kv.writes.contains_key(key))?;
        if let Some(v) = &value {
            // Quota: the usage when the event first asked, plus this
            // invocation's writes, this one included (the shared estimate,
            // which errs high: the SDK's harness makes the same). A key
            // neither read nor written yet is read first, to know whether
            // it exists.
            if !self.kv.reads.contains_key(key) && !self.kv.writes.contains_key(key) {
                self.kv_get(key)?;
            }
            let usage = match self.kv.usage {
                Some(u) => u,
                None => {
                    let u = self.timed(|s| s.kv_usage())?;
                    self.kv.usage = Some(u);
                    u
                }
            };
            let (keys, bytes) = rules::kv_usage_after_set(
                usage.keys,
                usage.bytes,
                self.kv
                    .writes
                    .iter()
                    .map(|(k, w)| (k.as_str(), w.as_ref().map(|(v, _)| v.as_str()))),
                |k| matches!(self.kv.reads.get(k), Some(Some(_))),
                key,
                v,
            );
            rules::check_kv_quota(keys, bytes, usage.quota_keys, usage.quota_bytes)?;
        }
        self.kv
            .writes
            .insert(key.to_owned(), value.map(|v| (v, ttl)));
        Ok(())
    }

    /// The key-value changes, in the embedder's form.
    pub(crate) fn kv_changes(&self) -> (Vec<KvRead>, Vec<KvWrite>) {
        let reads = self
            .kv
            .reads
            .iter()
            .map(|(k, v)| KvRead {
                key: k.clone(),
                version: *v,
            })
            .collect();
        let base = shopcase_contract::time::parse(&self.scope.triggered_at).ok();
        let writes = self
            .kv
            .writes
            .iter()
            .map(|(k, w)| KvWrite {
                key: k.clone(),
                value: w.as_ref().map(|(v, _)| v.clone()),
                expires_at: w.as_ref().and_then(|(_, ttl)| {
                    let ttl = (*ttl)?;
                    let base = base?;
                    let at = base.checked_add(jiff_seconds(ttl)).ok()?;
                    Some(shopcase_contract::time::format(at))
                }),
            })
            .collect();
        (reads, writes)
    }
}

fn jiff_seconds(s: u32) -> shopcase_contract::time::SignedDuration {
    shopcase_contract::time::SignedDuration::from_secs(i64::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_is_one_line_of_text() {
        let mut b = LogBuffer {
            budget: LogBudget::new(1 << 20),
            ..LogBuffer::default()
        };
        b.push(
            LogLevel::Info,
            "ok\n2026-11-27 ERROR forged line\u{1b}[2J\tend\r\n",
        );
        assert_eq!(
            b.lines[0].message,
            "ok\u{fffd}2026-11-27 ERROR forged line\u{fffd}[2J\tend"
        );
    }
}
