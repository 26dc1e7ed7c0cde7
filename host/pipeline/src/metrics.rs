//! Prometheus metrics, exposed at `/metrics` in the text format, written by
//! hand (counters, gauges and histograms need no library).
//!
//! | series | type | labels |
//! |---|---|---|
//! | `shopcase_webhooks_received_total` | counter | |
//! | `shopcase_webhooks_accepted_total` | counter | |
//! | `shopcase_webhooks_duplicate_total` | counter | |
//! | `shopcase_webhooks_stale_total` | counter | |
//! | `shopcase_webhooks_rejected_total` | counter | `reason` (the ingress error code) |
//! | `shopcase_webhook_ack_seconds` | histogram | (Shopify webhooks and inbound reports) |
//! | `shopcase_inbound_requests_total` | counter | `source` (a configured `[[inbound]]` name, or `unknown`), `outcome` (`accepted`, `duplicate`, `stale` or the rejection code) |
//! | `shopcase_inbox_depth` | gauge | (events waiting for dispatch) |
//! | `shopcase_inbox_ready` | gauge | (of those, due now: new, or their retry time has come) |
//! | `shopcase_journal_open` | gauge | (actions waiting for execution) |
//! | `shopcase_dead_letters_open` | gauge | |
//! | `shopcase_quarantined_installations` | gauge | |
//! | `shopcase_dispatch_latency_seconds` | histogram | (receipt → plugin run journalled) |
//! | `shopcase_plugin_runs_total` | counter | `plugin`, `outcome` (`ok` or a failure kind) |
//! | `shopcase_actions_executed_total` | counter | `family`, `outcome` (`done`, `retry`, `dead`) |
//! | `shopcase_privacy_requests_total` | counter | `topic`, `outcome` |
//! | `shopcase_pruned_total` | counter | `what` (`events`, `dispatch-rows`, `journal-entries`, `dead-letters`, `timers`: rows deleted by retention) |
//! | `shopcase_role_leader` | gauge | `role` (1: this replica runs the singleton role; 0: another does; written by `crate::replicas`) |
//! | `shopcase_build_info` | gauge | `version` (of the host), `wit` (the plugin contract versions it runs, `+`-joined); always 1 |
//!
//! Label values are plugin ids, failure kinds and fixed names, never
//! request data, so the series stay bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use shopcase_store::InboxStats;

/// Histogram bucket upper bounds, seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// A fixed-bucket histogram.
#[derive(Debug)]
pub struct Histogram {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: BUCKETS.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    /// Record one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// A counter with labels.
#[derive(Debug, Default)]
struct Labelled(Mutex<BTreeMap<Vec<String>, u64>>);

impl Labelled {
    fn inc(&self, labels: &[&str]) {
        self.add(labels, 1);
    }

    /// Counts by label values. The label sets are few (plugins × outcomes),
    /// so an increment finds its set by comparison and allocates only the
    /// first time a set is seen.
    fn add(&self, labels: &[&str], n: u64) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = m.iter_mut().find_map(|(k, v)| same(k, labels).then_some(v)) {
            *v = v.saturating_add(n);
        } else {
            m.insert(labels.iter().map(|s| (*s).to_owned()).collect(), n);
        }
    }

    fn get(&self, labels: &[&str]) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find_map(|(k, v)| same(k, labels).then_some(*v))
            .unwrap_or(0)
    }

    fn render(&self, out: &mut String, name: &str, help: &str, names: &[&str]) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for (values, n) in m.iter() {
            let labels: Vec<String> = names
                .iter()
                .zip(values)
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = writeln!(out, "{name}{{{}}} {n}", labels.join(","));
        }
    }
}

fn same(key: &[String], labels: &[&str]) -> bool {
    key.iter().map(String::as_str).eq(labels.iter().copied())
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Every metric of the host.
#[derive(Debug, Default)]
pub struct Metrics {
    received: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    stale: AtomicU64,
    rejected: Labelled,
    inbound: Labelled,
    /// Time from request to acknowledgement (all answers).
    pub ack: Histogram,
    /// Time from receipt to a plugin's run being journalled.
    pub dispatch: Histogram,
    plugin_runs: Labelled,
    actions: Labelled,
    privacy: Labelled,
    pruned: Labelled,
}

impl Metrics {
    /// A webhook request arrived.
    pub fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    /// It was committed as a new event.
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// It was a duplicate.
    pub fn duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }

    /// It was stale.
    pub fn stale(&self) {
        self.stale.fetch_add(1, Ordering::Relaxed);
    }

    /// It was rejected, with this ingress error code.
    pub fn rejected(&self, reason: &str) {
        self.rejected.inc(&[reason]);
    }

    /// An inbound report from `source` ended with `outcome`.
    pub fn inbound(&self, source: &str, outcome: &str) {
        self.inbound.inc(&[source, outcome]);
    }

    /// Inbound reports from `source` with `outcome` so far.
    pub fn inbound_count(&self, source: &str, outcome: &str) -> u64 {
        self.inbound.get(&[source, outcome])
    }

    /// A plugin run ended (`ok` or a failure kind).
    pub fn plugin_run(&self, plugin: &str, outcome: &str) {
        self.plugin_runs.inc(&[plugin, outcome]);
    }

    /// A journal entry's execution ended.
    pub fn action(&self, family: &str, outcome: &str) {
        self.actions.inc(&[family, outcome]);
    }

    /// A privacy request was handled.
    pub fn privacy(&self, topic: &str, outcome: &str) {
        self.privacy.inc(&[topic, outcome]);
    }

    /// Retention deleted `n` rows of `what` (`events`, `dispatch-rows`, ...).
    pub fn pruned(&self, what: &str, n: u64) {
        if n > 0 {
            self.pruned.add(&[what], n);
        }
    }

    /// Rows of `what` deleted by retention so far.
    pub fn pruned_count(&self, what: &str) -> u64 {
        self.pruned.get(&[what])
    }

    /// Counter values, for tests and the admin API.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            received: self.received.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            stale: self.stale.load(Ordering::Relaxed),
        }
    }

    /// Rejections with one reason so far.
    pub fn rejected_count(&self, reason: &str) -> u64 {
        self.rejected.get(&[reason])
    }

    /// Runs of a plugin with one outcome so far.
    pub fn plugin_runs(&self, plugin: &str, outcome: &str) -> u64 {
        self.plugin_runs.get(&[plugin, outcome])
    }

    /// The Prometheus text exposition; `stats` fills the gauges.
    pub fn render(&self, stats: Option<InboxStats>) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "# HELP shopcase_build_info The host's version and the plugin contract versions it runs.\n# TYPE shopcase_build_info gauge\nshopcase_build_info{{version=\"{}\",wit=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            shopcase_contract::manifest::SUPPORTED_API_VERSIONS.join("+"),
        );
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        };
        counter(
            &mut out,
            "shopcase_webhooks_received_total",
            "Webhook requests received.",
            &self.received,
        );
        counter(
            &mut out,
            "shopcase_webhooks_accepted_total",
            "Webhooks committed as new events.",
            &self.accepted,
        );
        counter(
            &mut out,
            "shopcase_webhooks_duplicate_total",
            "Duplicate deliveries acknowledged and dropped.",
            &self.duplicates,
        );
        counter(
            &mut out,
            "shopcase_webhooks_stale_total",
            "Deliveries older than the maximum age, acknowledged and kept as stale.",
            &self.stale,
        );
        self.rejected.render(
            &mut out,
            "shopcase_webhooks_rejected_total",
            "Webhook requests rejected, by reason.",
            &["reason"],
        );
        self.inbound.render(
            &mut out,
            "shopcase_inbound_requests_total",
            "Inbound reports (POST /inbound/{source}), by source and outcome.",
            &["source", "outcome"],
        );
        self.ack.render(
            &mut out,
            "shopcase_webhook_ack_seconds",
            "Time to answer a webhook request.",
        );
        if let Some(s) = stats {
            let gauge = |out: &mut String, name: &str, help: &str, v: u64| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
            };
            gauge(
                &mut out,
                "shopcase_inbox_depth",
                "Events waiting for dispatch.",
                s.pending,
            );
            gauge(
                &mut out,
                "shopcase_inbox_ready",
                "Events claimable now.",
                s.ready,
            );
            gauge(
                &mut out,
                "shopcase_journal_open",
                "Journalled actions waiting for execution.",
                s.journal_pending,
            );
            gauge(
                &mut out,
                "shopcase_dead_letters_open",
                "Dead letters waiting for an admin.",
                s.dead_letters_open,
            );
            gauge(
                &mut out,
                "shopcase_quarantined_installations",
                "Plugins quarantined for a store.",
                s.quarantined,
            );
        }
        self.dispatch.render(
            &mut out,
            "shopcase_dispatch_latency_seconds",
            "Time from receipt to a plugin run journalled.",
        );
        self.plugin_runs.render(
            &mut out,
            "shopcase_plugin_runs_total",
            "Plugin runs, by plugin and outcome.",
            &["plugin", "outcome"],
        );
        self.actions.render(
            &mut out,
            "shopcase_actions_executed_total",
            "Journalled action executions, by family and outcome.",
            &["family", "outcome"],
        );
        self.privacy.render(
            &mut out,
            "shopcase_privacy_requests_total",
            "Privacy requests handled, by topic and outcome.",
            &["topic", "outcome"],
        );
        self.pruned.render(
            &mut out,
            "shopcase_pruned_total",
            "Rows of finished work deleted by retention, by what they were.",
            &["what"],
        );
        out
    }
}

/// Counter values at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Requests received.
    pub received: u64,
    /// New events.
    pub accepted: u64,
    /// Duplicates.
    pub duplicates: u64,
    /// Stale deliveries.
    pub stale: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_counts_keep_their_sets_apart() {
        let c = Labelled::default();
        for _ in 0..3 {
            c.inc(&["fraud", "ok"]);
        }
        c.inc(&["fraud", "trap"]);
        c.add(&["returns", "ok"], 5);
        c.inc(&["fraud", "ok"]);
        assert_eq!(c.get(&["fraud", "ok"]), 4);
        assert_eq!(c.get(&["fraud", "trap"]), 1);
        assert_eq!(c.get(&["returns", "ok"]), 5);
        assert_eq!(c.get(&["returns", "trap"]), 0);
        assert_eq!(c.get(&["fraud"]), 0, "a prefix is another set");
        let mut out = String::new();
        c.render(&mut out, "runs", "Runs.", &["plugin", "outcome"]);
        assert_eq!(
            out,
            "# HELP runs Runs.\n# TYPE runs counter\n\
             runs{plugin=\"fraud\",outcome=\"ok\"} 4\n\
             runs{plugin=\"fraud\",outcome=\"trap\"} 1\n\
             runs{plugin=\"returns\",outcome=\"ok\"} 5\n"
        );
    }

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.received();
        m.rejected("invalid-signature");
        m.rejected("invalid-signature");
        m.plugin_run("fraud", "ok");
        m.pruned("events", 3);
        m.pruned("events", 2);
        m.pruned("timers", 0);
        m.ack.observe(Duration::from_micros(700));
        m.ack.observe(Duration::from_millis(30));
        let text = m.render(Some(InboxStats {
            pending: 3,
            ..InboxStats::default()
        }));
        assert!(
            text.contains("shopcase_webhooks_received_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("shopcase_webhooks_rejected_total{reason=\"invalid-signature\"} 2\n")
        );
        assert!(text.contains("shopcase_plugin_runs_total{plugin=\"fraud\",outcome=\"ok\"} 1\n"));
        assert!(text.contains("shopcase_pruned_total{what=\"events\"} 5\n"));
        assert!(
            !text.contains("what=\"timers\""),
            "nothing deleted, no series"
        );
        assert!(text.contains("shopcase_webhook_ack_seconds_bucket{le=\"0.0005\"} 0\n"));
        assert!(text.contains("shopcase_webhook_ack_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("shopcase_webhook_ack_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("shopcase_webhook_ack_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("shopcase_webhook_ack_seconds_count 2\n"));
        assert!(text.contains("shopcase_inbox_depth 3\n"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "bad sample line {line:?}");
        }
    }
}
