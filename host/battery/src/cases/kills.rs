//! The host killed: SIGKILL at arbitrary moments under load, an abort at
//! each step of the pipeline (the test fault points), and an event that
//! kills the host every time it runs. Everything acknowledged ends in
//! exactly one case and one hold; the poison event ends as a dead letter.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::case;
use super::outage::{drained, effects};
use crate::world::{Delivery, Paths, Spec, World};
use crate::{Report, Size};

/// The fault points, each in its own case.
const FAULT_POINTS: &[(&str, &str)] = &[
    (
        "abort-after-inbox-commit",
        "after the inbox commit, before the 200",
    ),
    (
        "abort-before-journal",
        "after the plugins ran, before their actions were journalled",
    ),
    (
        "abort-after-journal",
        "right after the actions were journalled",
    ),
    (
        "abort-after-execute",
        "after an action was executed, before it was marked done",
    ),
    (
        "abort-after-case-create",
        "after Core Case created the case, before the host recorded it",
    ),
];

pub(crate) async fn run(paths: &Paths, size: Size) -> Result<Vec<Report>> {
    let per_kill = 2;
    // Short leases: work a killed process held is taken over after 6 s
    // instead of a minute, so a case of many kills runs in minutes.
    let spec = Spec::new(1, size.kills * per_kill + 40)
        .tune("sandbox.caps", "deadline", "\"2500ms\"")
        .tune("dispatcher", "lease", "\"6s\"")
        .tune("executor", "lease", "\"6s\"");
    let mut w = World::start(paths, spec).await?;
    let mut next = 1u64;
    let mut out = vec![];
    for (point, when) in FAULT_POINTS {
        let order = next;
        next += 1;
        out.push(case(point, when, fault_point(&mut w, point, when, order)).await);
    }
    let order = next;
    next += 3;
    out.push(
        case(
            "poison-event",
            "an event that aborts the host every time it runs",
            poison(&mut w, order),
        )
        .await,
    );
    // Whatever happened, the next cases start from a host without the
    // fault armed.
    w.kill_host();
    w.start_host(None)?;
    let from = next;
    next += 10;
    out.push(
        case(
            "sigterm-drains",
            "SIGTERM with work in flight",
            sigterm(&mut w, from, 10),
        )
        .await,
    );
    let from = next;
    out.push(
        case(
            "sigkill-under-load",
            "SIGKILL at arbitrary moments while orders arrive",
            kills(&mut w, from, size.kills, per_kill),
        )
        .await,
    );
    Ok(out)
}

/// A small deterministic generator: the kill moments are arbitrary but the
/// same on every run.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

async fn fault_point(w: &mut World, point: &str, when: &str, order: u64) -> Result<Report> {
    w.kill_host();
    w.start_host(Some(point))?;
    let d = w.order_created(0, order);
    // The first answer may never come: the process aborts.
    let first = w.post(&d).await;
    let aborted = w.host_exits(Duration::from_secs(60)).await?;
    w.kill_host();
    w.start_host(None)?;
    // Shopify delivers again until it gets a 200, with the same ids.
    let answer = w.post_until_acknowledged(&d).await?;
    drained(w, order..order + 1, Duration::from_secs(120)).await?;
    let e = effects(w, order..order + 1).await?;
    let r = Report::new(
        point,
        format!("one order; the host aborted {when}; restarted; Shopify redelivered"),
    )
    .happened(
        format!(
            "first answer: {}; aborted: {aborted}; redelivery answered `{}`; {}",
            match &first {
                Ok((s, b)) => format!("{s} {}", b["status"]),
                Err(_) => "none (connection dropped)".into(),
            },
            answer["status"],
            e.describe()
        ),
        aborted && e.clean(),
    );
    Ok(e.figures(r))
}

async fn poison(w: &mut World, order: u64) -> Result<Report> {
    let d = w.order_created(0, order);
    let fault = format!("abort-running:{}", d.webhook_id);
    w.kill_host();
    w.start_host(Some(&fault))?;
    // The host may die running the poison event before its answer is
    // written, and again at each restart: delivered as Shopify would (the
    // same ids until a 200), restarted as a supervisor would.
    let mut crashes = post_supervised(w, &d, &fault).await?;
    // Two good orders behind it.
    for o in order + 1..order + 3 {
        let good = w.order_created(0, o);
        crashes += post_supervised(w, &good, &fault).await?;
    }
    // Restart it each time it dies, the fault still armed, as a process
    // supervisor would. A crashed claim is taken over when its lease
    // expires (6 s here), so each crash comes a lease after the last.
    loop {
        let died = w.host_exits(Duration::from_secs(20)).await?;
        if !died {
            break;
        }
        crashes += 1;
        w.start_host(Some(&fault))?;
        if crashes >= 8 {
            break;
        }
    }
    let survived = w.host_alive();
    drained(w, order + 1..order + 3, Duration::from_secs(120)).await?;
    let letters = w.dead_letters().await?;
    let poison = letters
        .iter()
        .filter(|l| l.to_string().contains("poison"))
        .count();
    let good = effects(w, order + 1..order + 3).await?;
    // The poison letter is the one dead letter expected here.
    let good_ok = good.one_case == 2 && good.duplicate_holds == 0 && good.quarantined == 0.0;
    // Clear it so later cases count from zero.
    for l in &letters {
        if let Some(id) = l["id"].as_i64() {
            let _ = w
                .admin(
                    reqwest::Method::POST,
                    &format!("/dead-letters/{id}/discard"),
                    Some(serde_json::json!({})),
                )
                .await;
        }
    }
    Ok(Report::new(
        "poison-event",
        "an order whose run aborts the host every time (fault point armed on every restart), two good orders behind it",
    )
    .happened(
        format!(
            "the host crashed {crashes} times, then set the event aside as a `poison` dead letter ({poison}) and stayed up: {survived}; the good orders: {}",
            good.describe()
        ),
        poison == 1 && survived && crashes <= 5 && good_ok,
    )
    .figure("crashes before it was set aside", crashes as f64))
}

/// Deliver `d` until it is acknowledged, restarting the host (with
/// `fault` armed) whenever it has died; the restarts it took.
async fn post_supervised(w: &mut World, d: &Delivery, fault: &str) -> Result<u32> {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut restarts = 0;
    loop {
        if !w.host_alive() {
            w.kill_host();
            w.start_host(Some(fault))?;
            restarts += 1;
        }
        match w.post(d).await {
            Ok((200, _)) => return Ok(restarts),
            Ok((status, body)) if status < 500 => {
                anyhow::bail!("delivery {} refused: HTTP {status} {body}", d.webhook_id)
            }
            other if Instant::now() > deadline => {
                anyhow::bail!("delivery {} never acknowledged: {other:?}", d.webhook_id)
            }
            // Down (or dying): try again in a moment.
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn sigterm(w: &mut World, from: u64, n: u64) -> Result<Report> {
    if w.host.is_none() {
        w.start_host(None)?;
    }
    for i in from..from + n {
        let d = w.order_created(0, i);
        w.post_until_acknowledged(&d).await?;
    }
    let host = w.host.take().context("no host")?;
    let t = Instant::now();
    let clean = host.stop(Duration::from_secs(60));
    let stopped_in = t.elapsed();
    w.start_host(None)?;
    drained(w, from..from + n, Duration::from_secs(120)).await?;
    let e = effects(w, from..from + n).await?;
    Ok(e.figures(
        Report::new(
            "sigterm-drains",
            format!("{n} orders acknowledged, then SIGTERM at once (a deploy); restarted"),
        )
        .happened(
            format!(
                "exited cleanly: {clean} after {:.1} s; {}",
                stopped_in.as_secs_f64(),
                e.describe()
            ),
            clean && e.clean(),
        ),
    ))
}

async fn kills(w: &mut World, from: u64, kills: u64, per_kill: u64) -> Result<Report> {
    let mut rng = Lcg(0x5eed);
    let mut next = from;
    let started = Instant::now();
    let mut unanswered: Vec<crate::world::Delivery> = vec![];
    let mut first_unanswered = 0;
    for _ in 0..kills {
        if w.host.is_none() {
            w.start_host(None)?;
        }
        // Shopify delivers again what was never acknowledged.
        for d in std::mem::take(&mut unanswered) {
            if !matches!(w.post(&d).await, Ok((200, _))) {
                unanswered.push(d);
            }
        }
        // Orders arrive; a delivery cut off by a kill is delivered again.
        for _ in 0..per_kill {
            let d = w.order_created(0, next);
            next += 1;
            if !matches!(w.post(&d).await, Ok((200, _))) {
                first_unanswered += 1;
                unanswered.push(d);
            }
        }
        // Let the pipeline get somewhere, then kill it mid-flight.
        tokio::time::sleep(Duration::from_millis(rng.next(600))).await;
        w.kill_host();
    }
    w.start_host(None)?;
    for d in std::mem::take(&mut unanswered) {
        w.post_until_acknowledged(&d).await?;
    }
    let range = from..next;
    drained(w, range.clone(), Duration::from_secs(300)).await?;
    let e = effects(w, range).await?;
    let r = Report::new(
        "sigkill-under-load",
        format!(
            "{kills} SIGKILLs, each 0–600 ms after {per_kill} orders arrived ({} orders)",
            next - from
        ),
    )
    .happened(
        format!(
            "{} s in all; deliveries delivered again (no answer the first time): {first_unanswered}; {}",
            started.elapsed().as_secs(),
            e.describe()
        ),
        e.clean(),
    )
    .figure("kills", kills as f64);
    Ok(e.figures(r))
}
