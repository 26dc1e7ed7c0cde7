//! What one event costs each guest language: a fresh sandbox per event (new
//! `Store`, instantiate from the plugin's `InstancePre`, call `handle`,
//! validate, drop), measured through the real `shopcase_sandbox` runtime as
//! the dispatcher uses it ([`shopcase_sandbox::Plugin::invoke`]).
//!
//! Method (docs/polyglot-performance.md): build the host and this bench in
//! release; load each packaged plugin once (from the precompiled cache, as a
//! server restart would), run `warmup` events, then time `iterations`
//! events one after the other on one thread and report the median, p90 and
//! minimum wall time per event, plus the guest's own share (the budget's
//! `wall_time_us`), the fuel, and the component and precompiled sizes.
//!
//! The same event (a realistic ~4 KB order above the threshold, so every
//! plugin parses the payload, reads settings, logs and returns two actions)
//! goes to every language.

#![allow(
    dead_code,
    reason = "a toolkit for the xtask's commands: not every command uses every function"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use shopcase_contract::{EventFile, Manifest};
use shopcase_sandbox::{MemoryServices, Runtime, RuntimeConfig};

use crate::guests::Lang;

/// How a bench runs.
#[derive(Debug, Clone)]
pub(crate) struct BenchConfig {
    /// Events run and discarded before timing.
    pub(crate) warmup: usize,
    /// Events timed.
    pub(crate) iterations: usize,
    /// The precompiled-component cache (shared with `plugin run`/`test`).
    pub(crate) cache_dir: PathBuf,
    /// The sandbox configuration; the default is the server's.
    pub(crate) runtime: RuntimeConfig,
}

/// Per-event wall times, microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stats {
    /// Fastest event.
    pub(crate) min: f64,
    /// Median event.
    pub(crate) median: f64,
    /// 90th percentile.
    pub(crate) p90: f64,
}

impl Stats {
    fn of(mut samples: Vec<f64>) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Stats {
            min: samples[0],
            median: at(0.5),
            p90: at(0.9),
        }
    }
}

/// One plugin's figures.
#[derive(Debug, Clone)]
pub(crate) struct Measurement {
    /// The language.
    pub(crate) lang: Lang,
    /// The component file's size.
    pub(crate) component_bytes: u64,
    /// The precompiled artifact's size in the cache (0 if not found).
    pub(crate) precompiled_bytes: u64,
    /// Loading the plugin (cache hit: read, check, deserialize, link, probe).
    pub(crate) load: Duration,
    /// Fuel one event used.
    pub(crate) fuel: u64,
    /// Peak linear memory of one event, bytes.
    pub(crate) memory_bytes: u64,
    /// A whole event: `invoke` as the dispatcher calls it.
    pub(crate) per_event_us: Stats,
    /// The guest's share of it (the budget's wall time: running Wasm).
    pub(crate) guest_us: Stats,
}

/// Measure every plugin on the same event (its file path) with the plugin
/// manifest's default settings.
pub(crate) fn bench(
    plugins: &[(Lang, PathBuf)],
    event: &Path,
    config: &BenchConfig,
) -> Result<Vec<Measurement>> {
    let text =
        std::fs::read_to_string(event).with_context(|| format!("reading {}", event.display()))?;
    let event = EventFile::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", event.display()))?
        .to_event();
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(config.cache_dir.clone()),
        ..config.runtime.clone()
    })?;
    let mut out = Vec::new();
    for (lang, manifest_path) in plugins {
        let manifest = Manifest::load(manifest_path)?;
        let component = manifest.component()?.clone();
        // Compile once into the cache, so the timed load is a server restart's.
        drop(runtime.load(manifest_path)?);
        let started = Instant::now();
        let plugin = runtime.load(manifest_path)?;
        let load = started.elapsed();
        let settings = Arc::new(manifest.default_settings());
        let services: Arc<MemoryServices> = Arc::new(MemoryServices::new());
        let mut fuel = 0;
        let mut memory_bytes = 0;
        for _ in 0..config.warmup {
            let inv = plugin.invoke(&event, settings.clone(), services.clone());
            if let Err(f) = &inv.outcome {
                bail!("{lang}: the bench event failed: {f}");
            }
            fuel = inv.budget.fuel.used;
            memory_bytes = inv.budget.memory_bytes.used;
        }
        let mut per_event = Vec::with_capacity(config.iterations);
        let mut guest = Vec::with_capacity(config.iterations);
        for _ in 0..config.iterations {
            let started = Instant::now();
            let inv = plugin.invoke(&event, settings.clone(), services.clone());
            per_event.push(started.elapsed().as_secs_f64() * 1e6);
            guest.push(inv.budget.wall_time_us.used as f64);
        }
        out.push(Measurement {
            lang: *lang,
            component_bytes: std::fs::metadata(&component.path)?.len(),
            precompiled_bytes: precompiled_size(&config.cache_dir, &component.sha256),
            load,
            fuel,
            memory_bytes,
            per_event_us: Stats::of(per_event),
            guest_us: Stats::of(guest),
        });
    }
    Ok(out)
}

/// The cached artifact's size (`<sha256>-<engine hash>.cwasm`).
fn precompiled_size(dir: &Path, sha256: &str) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(sha256) && name.ends_with(".cwasm")
        })
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .max()
        .unwrap_or(0)
}

/// A Markdown table of the measurements.
pub(crate) fn report(ms: &[Measurement], config: &BenchConfig) -> String {
    let mut s = format!(
        "{} events per language after {} warm-up events; times in µs per event.\n\n\
         | language | component | precompiled | load | fuel/event | memory | per event: median | p90 | min | guest share (median) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        config.iterations, config.warmup
    );
    for m in ms {
        s.push_str(&format!(
            "| {} | {:.1} KB | {:.1} KB | {:.1} ms | {} | {:.1} MiB | {:.0} | {:.0} | {:.0} | {:.0} |\n",
            m.lang,
            m.component_bytes as f64 / 1000.0,
            m.precompiled_bytes as f64 / 1000.0,
            m.load.as_secs_f64() * 1000.0,
            m.fuel,
            m.memory_bytes as f64 / (1 << 20) as f64,
            m.per_event_us.median,
            m.per_event_us.p90,
            m.per_event_us.min,
            m.guest_us.median,
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_pick_order_statistics() {
        let s = Stats::of((1..=10).rev().map(f64::from).collect());
        assert_eq!((s.min, s.median, s.p90), (1.0, 6.0, 9.0));
        assert_eq!(Stats::of(vec![]).median, 0.0);
    }
}
