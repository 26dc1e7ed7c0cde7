//! The sandbox's cost per event, against the same plugin run natively.
//!
//! Run with `cargo xtask bench` (release build; components built first).
//!
//! Both sides do the host's work for one event with the
//! `high-value-order` example plugin and a realistic 4–5 KB order:
//! - **native**: the SDK harness built from the plugin's manifest calls the
//!   plugin's Rust code directly: payload minimisation, the plugin logic,
//!   conversion to the host's actions, output-size check and validation;
//! - **sandbox**: `Plugin::invoke` with every limit on: minimisation, a
//!   fresh `Store`, instantiation from the `InstancePre`, the call (the same
//!   logic compiled to Wasm), lifting, output-size check and validation.
//!
//! The two are interleaved in one loop so machine noise hits both alike.
//! Printed: median and p99 per event, and the median ratio.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shopcase_sandbox::{NoServices, Runtime, RuntimeConfig};
use shopcase_sdk::harness::Harness;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    // `cargo bench` passes `--bench`; also accept an iteration count.
    let iterations: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);

    let example = workspace().join("examples/rust/high-value-order");
    let wasm_dir = std::env::var_os("SHOPCASE_WASM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/wasm32-wasip2/plugin"));
    let wasm = wasm_dir.join("high_value_order.wasm");
    assert!(
        wasm.exists(),
        "{} is missing: run `cargo xtask bench`",
        wasm.display()
    );
    let pkg = tempfile::tempdir().expect("tempdir");
    let manifest =
        shopcase_contract::manifest::package(&example.join("plugin.toml"), &wasm, pkg.path())
            .expect("package the example");

    let event_file = workspace().join("examples/events/order-high-value.json");
    let text = std::fs::read_to_string(&event_file).expect("event file");
    let file = shopcase_contract::EventFile::parse(&text).expect("event");
    let host_event = file.to_event();
    let sdk_event = shopcase_sdk::Event::from_file_json(&text).expect("sdk event");

    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let plugin = runtime.load(&manifest).expect("load");
    let settings = Arc::new(plugin.manifest().default_settings());
    let services: Arc<dyn shopcase_sandbox::HostServices> = Arc::new(NoServices);
    let mut harness = Harness::from_manifest(example.join("plugin.toml")).expect("harness");

    // Same answer both ways, or the comparison means nothing.
    let native = harness
        .run::<high_value_order::HighValueOrder>(&sdk_event)
        .expect("native run");
    let sandboxed = plugin.invoke(&host_event, settings.clone(), services.clone());
    let sandboxed = sandboxed.outcome.expect("sandbox run");
    assert_eq!(
        native.journal, sandboxed,
        "native and sandboxed actions differ"
    );

    // Parts of the per-event cost, for the docs: minimisation alone (both
    // sides pay it), and the plugin logic alone (harness without manifest:
    // no minimisation, no grant checks).
    let grants = plugin.manifest().grants.clone();
    let mut bare = Harness::new();
    let mut t_minimise = Vec::with_capacity(iterations);
    let mut t_logic = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        std::hint::black_box(shopcase_contract::minimise::minimise_text(
            &host_event.payload,
            &host_event.topic,
            &grants,
        ));
        t_minimise.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(
            bare.run::<high_value_order::HighValueOrder>(&sdk_event)
                .is_ok(),
        );
        t_logic.push(start.elapsed());
    }
    t_minimise.sort();
    t_logic.sort();

    let warmup = iterations / 10;
    let mut t_native = Vec::with_capacity(iterations);
    let mut t_sandbox = Vec::with_capacity(iterations);
    let mut fuel = 0;
    let mut t_store = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let start = Instant::now();
        let run = harness.run::<high_value_order::HighValueOrder>(&sdk_event);
        let native = start.elapsed();
        std::hint::black_box(run.is_ok());

        let start = Instant::now();
        let inv = plugin.invoke(&host_event, settings.clone(), services.clone());
        let sandbox = start.elapsed();
        assert!(inv.outcome.is_ok());
        fuel = inv.budget.fuel.used;
        let in_store = Duration::from_micros(inv.budget.wall_time_us.used);

        if i >= warmup {
            t_native.push(native);
            t_sandbox.push(sandbox);
            t_store.push(in_store);
        }
    }
    t_native.sort();
    t_sandbox.sort();
    t_store.sort();
    let (n50, n99) = (percentile(&t_native, 0.5), percentile(&t_native, 0.99));
    let (s50, s99) = (percentile(&t_sandbox, 0.5), percentile(&t_sandbox, 0.99));
    let payload = host_event.payload.len();
    println!("sandbox benchmark: high-value-order, {payload}-byte order, {iterations} events each");
    println!(
        "  native  (harness, same host checks)  median {:>8.1} µs   p99 {:>8.1} µs",
        us(n50),
        us(n99)
    );
    println!(
        "  sandbox (fresh store per event)      median {:>8.1} µs   p99 {:>8.1} µs",
        us(s50),
        us(s99)
    );
    println!(
        "  ratio (median sandbox / native)      {:.2}x",
        us(s50) / us(n50)
    );
    println!("  fuel per event                       {fuel}");
    println!("parts:");
    println!(
        "  payload minimisation alone           median {:>8.1} µs",
        us(percentile(&t_minimise, 0.5))
    );
    println!(
        "  native plugin logic alone            median {:>8.1} µs",
        us(percentile(&t_logic, 0.5))
    );
    println!(
        "  in the store: instantiate + call     median {:>8.1} µs",
        us(percentile(&t_store, 0.5))
    );
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
