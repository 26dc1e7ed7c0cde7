//! Hostile plugins in a served host: thirteen installations of the hostile
//! test component, each with every grant and one misbehaviour, beside the
//! fraud plugin on the same store. Each misbehaviour ends in its named
//! outcome, the host never goes down, and the fraud plugin's work is done.

use std::time::Duration;

use anyhow::Result;

use super::case;
use super::outage::{drained, effects};
use crate::world::{Paths, PluginSource, Spec, World};
use crate::{Report, Size};

/// `(behaviour, what it does)`.
const BEHAVIOURS: &[(&str, &str)] = &[
    ("infinite-loop", "loops forever"),
    ("recurse", "recurses without end"),
    ("grow-loop", "allocates 64 KiB at a time without end"),
    ("huge-alloc", "asks for 1 GiB at once"),
    ("huge-output", "returns an 8 MiB document"),
    ("log-flood", "logs 200,000 lines and prints 20,000"),
    ("panic", "panics"),
    ("long-title", "opens a case with a 10,000-character title"),
    ("other-order", "tags another order than the event's"),
    (
        "bad-metafield-type",
        "writes a metafield of a type Shopify does not have",
    ),
    (
        "sleep",
        "sleeps for an hour through WASI (the clock is the event's: it returns at once)",
    ),
    ("long-error", "fails with a 200,000-byte message"),
    ("host-call-flood", "calls host functions 10,000 times"),
];

pub(crate) async fn run(paths: &Paths, size: Size) -> Result<Vec<Report>> {
    let mut plugins = vec![PluginSource::FirstParty("fraud")];
    for (b, _) in BEHAVIOURS {
        plugins.push(PluginSource::Hostile {
            id: format!("hostile-{b}"),
            behaviour: (*b).to_owned(),
        });
    }
    let n = size.hostile_events;
    let spec = Spec::new(1, n + 5)
        .plugins(plugins)
        // Tighter than the defaults so a battery run is short; each limit
        // is still the one that must stop its misbehaviour.
        .tune("sandbox.caps", "deadline", "\"1500ms\"")
        .tune("sandbox.caps", "fuel", "400000000")
        .tune("dispatcher", "max-attempts", "2")
        .tune("dispatcher", "quarantine-after", "3");
    let mut w = World::start(paths, spec).await?;
    for i in 1..=n {
        let d = w.order_created(0, i);
        w.post_until_acknowledged(&d).await?;
    }
    drained(&w, 1..n + 1, Duration::from_secs(300)).await?;
    // The same process throughout: this group never restarts it.
    let alive = w.host_alive();
    let m = w.metrics().await?;
    let mut out = vec![];
    for (b, what) in BEHAVIOURS {
        let label = format!("plugin=\"hostile-{b}\"");
        let runs = m.sum("shopcase_plugin_runs_total", &[&label]);
        let ok = m.sum("shopcase_plugin_runs_total", &[&label, "outcome=\"ok\""]);
        let outcomes: Vec<String> = outcome_labels(&m, &label);
        // Two misbehaviours are not failures: flooding host calls meets
        // the budget (`quota-exceeded`) and the plugin goes on; a sleep
        // returns at once, the plugin's clock being the event's.
        let held = if *b == "host-call-flood" || *b == "sleep" {
            alive && runs >= 1.0
        } else {
            alive && runs >= 1.0 && ok == 0.0
        };
        out.push(
            Report::new(
                &format!("hostile:{b}"),
                format!("a plugin with every grant that {what}, on {n} orders"),
            )
            .happened(
                format!("{runs} runs: {}; host up: {alive}", outcomes.join(", ")),
                held,
            ),
        );
    }
    let case_report = case("hostile:neighbour-unharmed", "", async {
        let e = effects(&w, 1..n + 1).await?;
        // The hostile plugins' own dead letters and quarantines are
        // expected; the fraud plugin's work is what must be whole.
        let fraud_ok = e.one_case == e.orders && e.duplicate_holds == 0 && e.holds == e.orders;
        Ok(Report::new(
            "hostile:neighbour-unharmed",
            format!("the fraud plugin on the same store, the same {n} orders"),
        )
        .happened(
            format!(
                "{} orders with one fraud case, {} holds; host crashes: {}",
                e.one_case,
                e.holds,
                if alive { 0 } else { 1 }
            ),
            fraud_ok && alive,
        )
        .figure("hostile plugins", BEHAVIOURS.len() as f64)
        .figure("host crashes", if alive { 0.0 } else { 1.0 }))
    })
    .await;
    out.push(case_report);
    w.kill_host();
    Ok(out)
}

/// `outcome × count` for one plugin's runs.
fn outcome_labels(m: &crate::world::Metrics, plugin_label: &str) -> Vec<String> {
    m.series("shopcase_plugin_runs_total")
        .into_iter()
        .filter(|(k, _)| k.contains(plugin_label))
        .map(|(k, v)| {
            let outcome = k
                .split("outcome=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("?")
                .to_owned();
            format!("{outcome} ×{v}")
        })
        .collect()
}
