//! One store's backlog does not hold up another store: claims take events
//! round-robin across stores, so a quiet store's order waits for the
//! batches already claimed, not for the whole backlog.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::case;
use super::outage::drained;
use crate::world::{Paths, Spec, World};
use crate::{Report, Size};

pub(crate) async fn run(paths: &Paths, size: Size) -> Result<Vec<Report>> {
    let w = World::start(paths, Spec::new(2, size.backlog + 2)).await?;
    Ok(vec![
        case(
            "noisy-neighbour",
            "one store's backlog, another store's single order",
            neighbour(&w, size.backlog),
        )
        .await,
    ])
}

async fn neighbour(w: &World, backlog: u64) -> Result<Report> {
    // Store A's backlog arrives at once (32 deliveries at a time), all of
    // it acknowledged.
    let deliveries: Vec<_> = (1..=backlog).map(|i| w.order_created(0, i)).collect();
    for (status, answer) in super::ingest::post_all(w, deliveries).await? {
        anyhow::ensure!(status == 200, "store A's order refused: {status} {answer}");
    }
    // Then one order of store B.
    let a_done = |per: &std::collections::BTreeMap<u64, usize>| {
        (1..=backlog)
            .filter(|i| per.contains_key(&w.order_id(0, *i)))
            .count() as u64
    };
    let quiet_order = w.order_id(1, 1);
    let d = w.order_created(1, 1);
    let a_before = a_done(&w.cases_per_order().await?);
    let posted = Instant::now();
    w.post_until_acknowledged(&d).await?;
    let deadline = posted + Duration::from_secs(300);
    let (b_latency, a_then) = loop {
        let per = w.cases_per_order().await?;
        if per.contains_key(&quiet_order) {
            break (posted.elapsed(), a_done(&per));
        }
        if Instant::now() > deadline {
            anyhow::bail!("store B's case never came");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    drained(w, 1..backlog + 1, Duration::from_secs(600)).await?;
    let a_total = posted.elapsed();
    let waiting = backlog - a_before;
    let ahead = a_then - a_before;
    Ok(Report::new(
        "noisy-neighbour",
        format!("{backlog} orders of store A acknowledged at once, then one order of store B"),
    )
    .happened(
        format!(
            "when B's order came, {waiting} of A's were still without a case; B's case opened {:.2} s later, after {ahead} more of A's; A's backlog done {:.1} s after B's order",
            b_latency.as_secs_f64(),
            a_total.as_secs_f64()
        ),
        // A real backlog formed, and B's case did not wait for it: at most
        // the batches already claimed (2 workers × 32), the next one (B's,
        // filled with A's), and one batch of A's actions already journalled
        // ahead of B's: the Core Case executor takes the journal oldest
        // first, not store by store (a run at 101 of 200 exceeded 3 × 32
        // on a loaded machine; store-fair journal claims would tighten it).
        waiting >= backlog / 2 && ahead <= 4 * 32,
    )
    .figure("store B latency ms", b_latency.as_millis() as f64)
    .figure("store A cases opened first", ahead as f64)
    .figure("store A backlog", waiting as f64))
}
