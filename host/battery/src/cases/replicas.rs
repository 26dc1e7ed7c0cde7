//! Several replicas on one PostgreSQL database, one of them killed with
//! SIGKILL every few seconds and restarted while orders arrive, posted
//! round-robin to all of them as a load balancer would (a replica that does
//! not answer is skipped for the next). Everything acknowledged must be
//! dispatched, each order must end in exactly one case and one hold, each
//! journalled Shopify action applied once, and each store's events claimed
//! oldest first all along.
//!
//! Needs `SHOPCASE_TEST_DATABASE_URL` (a database it may create a schema
//! in); `cargo xtask battery` and `cargo xtask test` provide it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::case;
use super::kills::Lcg;
use super::outage::{drained_of, effects_of};
use crate::world::{Paths, Spec, World};
use crate::{Report, Size};

/// The variable naming the database.
pub(crate) const URL_VAR: &str = "SHOPCASE_TEST_DATABASE_URL";

/// The replicas sharing the database.
const REPLICAS: usize = 3;

/// The database the replicas share, or why there is none.
pub(crate) fn database_url() -> Result<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Ok(url),
        _ => bail!(
            "the replicas group needs PostgreSQL: set {URL_VAR} to a database the battery may \
             create a schema in (`eval \"$(cargo xtask postgres start)\"` starts one), or run it \
             through `cargo xtask battery`, which starts one when the variable is not set"
        ),
    }
}

/// The world of the replica cases: `REPLICAS` hosts on one schema.
pub(crate) fn spec(url: &str, stores: usize, orders: u64, replicas: usize) -> Spec {
    Spec::new(stores, orders)
        .on_postgres(url, replicas)
        .tune("sandbox.caps", "deadline", "\"2500ms\"")
        // A shared development server has 100 connections: three replicas
        // of 10 leave room for the rest of its users.
        .tune("storage", "pool-size", "10")
        // Short leases, as in the kills group: work a killed replica held
        // is taken over after 6 s instead of a minute.
        .tune("dispatcher", "lease", "\"6s\"")
        .tune("executor", "lease", "\"6s\"")
    // `poison-after` stays at its default (3): a death counts only
    // against work its holder had started, so work taken over from a
    // killed replica and still waiting in the next one killed is not
    // set aside (storage migration 10); no dead letter is allowed.
}

pub(crate) async fn run(paths: &Paths, size: Size) -> Result<Vec<Report>> {
    let url = database_url()?;
    let w = Arc::new(
        World::start(
            paths,
            spec(&url, size.replica_stores, size.replica_orders, REPLICAS),
        )
        .await?,
    );
    let tried = "SIGKILL of one replica of three every few seconds while orders arrive";
    Ok(vec![
        case("replica-kills", tried, kills(w.clone(), size)).await,
    ])
}

/// Each store's orders, the stores interleaved: (store, n).
fn all_orders(stores: usize, per_store: u64) -> Vec<(usize, u64)> {
    (1..=per_store)
        .flat_map(|n| (0..stores).map(move |s| (s, n)))
        .collect()
}

/// What one store's poster saw.
#[derive(Debug, Default)]
struct Posted {
    /// Time to the acknowledgement (retries against other replicas
    /// included), per order.
    ack: Vec<Duration>,
    /// Orders that needed more than one post.
    retried: u64,
    /// Answers other than `accepted` (a retry finding the first post's
    /// event: `duplicate`).
    not_accepted: u64,
}

async fn kills(w: Arc<World>, size: Size) -> Result<Report> {
    let stores = w.stores.len();
    let per_store = size.replica_orders;
    let orders = all_orders(stores, per_store);
    let replicas = w.replica_count();
    let every = Duration::from_millis(size.kill_every_ms);
    // Two bursts of orders per kill: one just before it (so that the kill
    // lands on work in flight), one while the killed replica is down (so
    // that posts find it gone and go to the next one).
    let bursts = (2 * size.replica_kills).max(1) as usize;
    let burst = orders.len().div_ceil(bursts);
    let pg = w.pg().context("not a PostgreSQL world")?;
    let db = pg.client().await?;
    let started = Instant::now();
    let stop_sampling = AtomicBool::new(false);
    let turn = AtomicUsize::new(0);

    // One burst through the load balancer: its orders at once (a burst
    // holds at most one order per store, and a store's next order comes
    // in a later burst, after this one was acknowledged: each store's
    // deliveries are ordered), each post to the next replica.
    let post_burst = |chunk: &[(usize, u64)]| {
        let (w, turn) = (&w, &turn);
        let chunk = chunk.to_vec();
        async move {
            let answers = futures::future::try_join_all(chunk.iter().map(|&(s, n)| async move {
                let d = w.order_created(s, n);
                let first = turn.fetch_add(1, Ordering::Relaxed) % replicas;
                let t = Instant::now();
                let (answer, tries) = w.post_balanced(first, &d, Duration::from_secs(120)).await?;
                anyhow::Ok((t.elapsed(), tries, answer))
            }))
            .await?;
            let mut p = Posted::default();
            for (ack, tries, answer) in answers {
                p.ack.push(ack);
                p.retried += u64::from(tries > 1);
                p.not_accepted += u64::from(answer["status"] != "accepted");
            }
            anyhow::Ok(p)
        }
    };

    // Orders and kills: every few seconds (± half), a burst, a SIGKILL of
    // a replica 0–400 ms later, the next burst at once while it is down,
    // and its restart 0.5–1.5 s after the kill (as a supervisor would;
    // the start blocks until it serves, so on a blocking thread). One
    // replica is down at a time: the next kill waits for the restart.
    let mut rng = Lcg(0x0dd_5eed);
    let mut chunks = orders.chunks(burst);
    let killing = async {
        let mut posted = vec![];
        let mut restarts: Vec<Duration> = vec![];
        let mut down_at: Vec<Duration> = vec![];
        for _ in 0..size.replica_kills {
            let round = Instant::now();
            if let Some(c) = chunks.next() {
                posted.push(post_burst(c).await?);
            }
            tokio::time::sleep(Duration::from_millis(rng.next(400))).await;
            let i = rng.next(replicas as u64) as usize;
            let down = Duration::from_millis(500 + rng.next(1000));
            w.kill_replica(i);
            let killed = Instant::now();
            let restart = {
                let w = w.clone();
                tokio::task::spawn_blocking(move || {
                    std::thread::sleep(down);
                    w.start_replica(i)
                })
            };
            if let Some(c) = chunks.next() {
                posted.push(post_burst(c).await?);
            }
            restart.await.context("the restart thread")??;
            restarts.push(killed.elapsed().saturating_sub(down));
            down_at.push(killed.elapsed());
            let wait = every / 2 + Duration::from_millis(rng.next(every.as_millis() as u64));
            tokio::time::sleep(wait.saturating_sub(round.elapsed())).await;
        }
        // What is left, if any.
        for c in chunks.by_ref() {
            posted.push(post_burst(c).await?);
        }
        anyhow::Ok((posted, restarts, down_at))
    };

    // The order check: sampled all along, each sample one statement (one
    // snapshot of the inbox, between commits).
    let sampling = async {
        let mut s = OrderSamples::default();
        while !stop_sampling.load(Ordering::Relaxed) {
            s.sample(&db).await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        s.sample(&db).await?;
        anyhow::Ok(s)
    };

    let work = async {
        let (posted, restarts, down) = killing.await?;
        let posted_in = started.elapsed();
        // Every replica runs again; wait for all of it to be done.
        drained_of(&w, &orders, Duration::from_secs(300)).await?;
        let drained_in = started.elapsed();
        stop_sampling.store(true, Ordering::Relaxed);
        anyhow::Ok((posted, restarts, down, posted_in, drained_in))
    };
    let (work, samples) = tokio::join!(work, sampling);
    stop_sampling.store(true, Ordering::Relaxed);
    let (posted, restarts, down, posted_in, drained_in) = work?;
    let samples = samples?;

    let roles = roles_settled(&w, Duration::from_secs(20)).await?;
    let e = effects_of(&w, &orders).await?;
    let count = |sql: &'static str| {
        let db = &db;
        async move {
            let n: i64 = db.query_one(sql, &[]).await?.get(0);
            anyhow::Ok(n)
        }
    };
    let stored = count("SELECT count(*) FROM inbox WHERE source = 'shopify'").await?;
    let undone = count("SELECT count(*) FROM inbox WHERE status <> 'done'").await?;
    let undispatched = count("SELECT count(*) FROM dispatch WHERE status <> 'done'").await?;
    let open_journal = count("SELECT count(*) FROM journal WHERE status <> 'done'").await?;
    let letters = count("SELECT count(*) FROM dead_letters").await?;
    let taken_over = count("SELECT count(*) FROM inbox WHERE claims > 1").await?;
    let actions_taken_over =
        count("SELECT count(*) FROM journal WHERE taken_from IS NOT NULL").await?;
    let shopify_journalled =
        count("SELECT count(*) FROM journal WHERE family = 'shopify' AND status = 'done'").await?;

    // Every case once: no external reference twice.
    let mut references: BTreeMap<String, u64> = BTreeMap::new();
    for c in w.cases().await? {
        if let Some(r) = c
            .pointer("/caseProperties/defaultAttributes/externalReference")
            .and_then(|r| r.as_str())
        {
            *references.entry(r.to_owned()).or_default() += 1;
        }
    }
    let twice_referenced = references.values().filter(|n| **n > 1).count();
    // Every journalled Shopify action applied once: as many mutations as
    // journalled actions, none applied twice to one target.
    let mutations = w.mutations().await?;
    let mut applied: BTreeMap<(String, String), u64> = BTreeMap::new();
    for m in &mutations {
        let key = (
            m["operation"].as_str().unwrap_or("?").to_owned(),
            m["target"].as_str().unwrap_or("?").to_owned(),
        );
        *applied.entry(key).or_default() += 1;
    }
    let applied_twice = applied.values().filter(|n| **n > 1).count();

    let mut ack: Vec<Duration> = posted.iter().flat_map(|p| p.ack.clone()).collect();
    ack.sort();
    let p99 = ack
        .get((ack.len() * 99).div_ceil(100).saturating_sub(1))
        .copied()
        .unwrap_or_default();
    let retried: u64 = posted.iter().map(|p| p.retried).sum();
    let not_accepted: u64 = posted.iter().map(|p| p.not_accepted).sum();
    let kills = restarts.len();
    let mean = |d: &[Duration]| d.iter().sum::<Duration>().as_secs_f64() / (d.len().max(1) as f64);

    let held = e.clean()
        && stored == orders.len() as i64
        && undone == 0
        && undispatched == 0
        && open_journal == 0
        && letters == 0
        && twice_referenced == 0
        && references.len() == orders.len()
        && applied_twice == 0
        && mutations.len() as i64 == shopify_journalled
        && samples.violations.is_empty()
        && samples.samples > 0
        && roles.settled;
    let r = Report::new(
        "replica-kills",
        format!(
            "{} orders of {stores} stores posted round-robin to {replicas} replicas on one PostgreSQL schema in bursts over {:.0} s (a replica not answering skipped for the next), while a replica was killed with SIGKILL {kills} times, every {:.1} s on average, 0–400 ms after a burst, and restarted 0.5–1.5 s later",
            orders.len(),
            posted_in.as_secs_f64(),
            every.as_secs_f64()
        ),
    )
    .happened(
        format!(
            "all acknowledged ({retried} after a post to a killed replica, {not_accepted} of them as duplicates of the first post); p99 acknowledgement {} ms; replicas down {:.1} s on average (their start {:.2} s); all done {:.0} s after the first order; inbox: {stored} stored, {undone} not done, {undispatched} dispatch rows not done, {taken_over} events claimed more than once; journal: {open_journal} open, {actions_taken_over} actions taken over from a killed replica; {letters} dead letters; cases: {} references, {twice_referenced} twice; Shopify: {} mutations for {shopify_journalled} journalled actions, {applied_twice} applied twice; order: {} samples of the inbox ({} with events waiting), {}; roles after the last kill: {}; {}",
            p99.as_millis(),
            mean(&down),
            mean(&restarts),
            drained_in.as_secs_f64(),
            references.len(),
            mutations.len(),
            samples.samples,
            samples.with_waiting,
            if samples.violations.is_empty() {
                "no store's event claimed while an older one waited unclaimed".to_owned()
            } else {
                format!(
                    "{} times a store's event was claimed while an older one waited unclaimed: {}",
                    samples.violations.len(),
                    samples.violations.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
                )
            },
            roles.describe(),
            e.describe()
        ),
        held,
    )
    .figure("kills", kills as f64)
    .figure("p99 ack ms", p99.as_millis() as f64)
    .figure("events claimed more than once", taken_over as f64)
    .figure("seconds", drained_in.as_secs().max(1) as f64);
    Ok(e.figures(r))
}

/// Which replicas lead the singleton roles once the kills are over.
#[derive(Debug)]
struct Roles {
    /// Every role led by exactly one replica.
    settled: bool,
    /// Per role, the replicas leading it (from each one's `/metrics`).
    leaders: BTreeMap<String, Vec<usize>>,
    waited: Duration,
}

impl Roles {
    fn describe(&self) -> String {
        let each: Vec<String> = self
            .leaders
            .iter()
            .map(|(role, who)| format!("{role} led by {} replica(s)", who.len()))
            .collect();
        if self.leaders.is_empty() {
            "no replica reported a role".into()
        } else {
            format!(
                "{} ({} after {:.1} s)",
                each.join(", "),
                if self.settled {
                    "each by one"
                } else {
                    "NOT each by one"
                },
                self.waited.as_secs_f64()
            )
        }
    }
}

/// Wait (at most `within`) until each singleton role a replica contends
/// for is led by exactly one replica, as `shopcase_role_leader{role}` on
/// each replica's `/metrics` says: a killed leader's roles must have been
/// taken over, and no two replicas may run one.
async fn roles_settled(w: &World, within: Duration) -> Result<Roles> {
    let started = Instant::now();
    loop {
        let mut leaders: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for i in 0..w.replica_count() {
            let text = w
                .http
                .get(format!("{}/metrics", w.replica_url(i)))
                .send()
                .await?
                .text()
                .await?;
            for line in text.lines() {
                let Some(rest) = line.strip_prefix("shopcase_role_leader{role=\"") else {
                    continue;
                };
                let Some((role, value)) = rest.split_once("\"} ") else {
                    continue;
                };
                let who = leaders.entry(role.to_owned()).or_default();
                if value.trim() == "1" {
                    who.push(i);
                }
            }
        }
        let settled = !leaders.is_empty() && leaders.values().all(|who| who.len() == 1);
        if settled || started.elapsed() >= within {
            return Ok(Roles {
                settled,
                leaders,
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The order check, sampled: within a store, no event is claimed (or done)
/// while an older one of the same store waits, due and never claimed. A
/// claim takes a store's events oldest first (see the PostgreSQL inbox's
/// module doc), so every snapshot between commits shows a store's
/// claimed-or-done events older than its never-claimed ones; an event
/// given back, retried later or taken over after a lease is not "never
/// claimed" (its `claims`), so leases and retry times are left aside, as
/// the guarantee says. Webhook events only: the battery posts a store's
/// next order after the last was acknowledged, so their `seq` is their
/// arrival order (host-made events, timers and Core Case updates, are
/// inserted by other transactions whose commit order need not be their
/// `seq` order).
#[derive(Debug, Default)]
struct OrderSamples {
    samples: u64,
    /// Samples in which some event waited unclaimed (the check had
    /// something to compare).
    with_waiting: u64,
    violations: Vec<String>,
}

const ORDER_SQL: &str = "
    WITH ev AS (
        SELECT shop, seq, status, claimed_by, claims, next_attempt_at FROM inbox
        WHERE source = 'shopify'
    ), waiting AS (
        SELECT shop, min(seq) AS seq FROM ev
        WHERE status = 'pending' AND claims = 0 AND claimed_by IS NULL
          AND next_attempt_at <= (extract(epoch FROM clock_timestamp()) * 1000)::bigint
        GROUP BY shop
    )
    SELECT ev.shop, w.seq, ev.seq, ev.status, ev.claims FROM ev JOIN waiting w ON ev.shop = w.shop
    WHERE ev.seq > w.seq AND (ev.status <> 'pending' OR ev.claimed_by IS NOT NULL OR ev.claims > 0)
    ORDER BY ev.shop, ev.seq";

impl OrderSamples {
    async fn sample(&mut self, db: &tokio_postgres::Client) -> Result<()> {
        let rows = db.query(ORDER_SQL, &[]).await?;
        self.samples += 1;
        let waiting: i64 = db
            .query_one(
                "SELECT count(*) FROM inbox WHERE source = 'shopify' AND status = 'pending' AND claims = 0",
                &[],
            )
            .await?
            .get(0);
        self.with_waiting += u64::from(waiting > 0);
        for r in rows {
            let (shop, waiting, seq, status, claims): (String, i64, i64, String, i64) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            self.violations.push(format!(
                "{shop}: event {seq} {status} ({claims} claims) while {waiting} waited"
            ));
        }
        Ok(())
    }
}
