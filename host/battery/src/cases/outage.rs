//! Upstreams that go away: Shopify and Core Case down (the network cut by
//! the proxies), credentials refused, throttling, server errors and lost
//! answers. Every event still ends in exactly one case and one hold per
//! order, with nothing dead-lettered and no plugin quarantined.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};

use super::case;
use crate::world::{Paths, Spec, World};
use crate::{Report, Size};

pub(crate) async fn run(paths: &Paths, size: Size) -> Result<Vec<Report>> {
    let n = size.outage_events;
    // Eight batches of orders: three outages, four fault kinds, one spare.
    let w = World::start(paths, Spec::new(1, n * 8 + 10)).await?;
    let mut next = 1u64;
    let mut batch = |k: u64| {
        let from = next;
        next += k;
        from..from + k
    };
    let mut out = vec![];
    let b = batch(n);
    out.push(
        case(
            "shopify-and-corecase-down",
            "both services cut",
            outage(
                &w,
                "shopify-and-corecase-down",
                b,
                size.outage_secs,
                true,
                true,
            ),
        )
        .await,
    );
    let b = batch(n);
    out.push(
        case(
            "shopify-down",
            "Shopify cut",
            outage(&w, "shopify-down", b, size.outage_secs, true, false),
        )
        .await,
    );
    let b = batch(n);
    out.push(
        case(
            "corecase-down",
            "Core Case cut",
            outage(&w, "corecase-down", b, size.outage_secs, false, true),
        )
        .await,
    );
    let b = batch(n.min(20));
    out.push(
        case(
            "corecase-credentials-refused",
            "Core Case refusing the client's credentials",
            credentials_refused(&w, b),
        )
        .await,
    );
    let b = batch(n.min(20));
    out.push(
        case(
            "corecase-server-errors",
            "Core Case answering 503",
            corecase_fault(
                &w,
                "corecase-server-errors",
                b,
                json!({"method": "POST", "path": "/api/v1/case-definitions/*/cases",
                       "count": 10, "fault": {"kind": "status", "status": 503, "retryAfter": 0.2}}),
                "the next 10 case creations answered 503 with Retry-After",
            ),
        )
        .await,
    );
    let b = batch(n.min(20));
    out.push(
        case(
            "corecase-answer-lost",
            "Core Case creating the case, the answer lost",
            corecase_fault(
                &w,
                "corecase-answer-lost",
                b,
                json!({"method": "POST", "path": "/api/v1/case-definitions/*/cases",
                       "count": 10, "afterApply": true, "fault": {"kind": "reset"}}),
                "the next 10 case creations applied, then the connection dropped before the answer",
            ),
        )
        .await,
    );
    let b = batch(n.min(20));
    out.push(
        case(
            "shopify-throttled",
            "Shopify throttling",
            shopify_fault(
                &w,
                "shopify-throttled",
                b,
                json!({"kind": "throttled", "count": 15}),
                "the next 15 Admin API calls throttled (cost exceeded)",
            ),
        )
        .await,
    );
    let b = batch(n.min(20));
    out.push(
        case(
            "shopify-answer-lost",
            "Shopify applying a mutation, the answer lost",
            shopify_fault(
                &w,
                "shopify-answer-lost",
                b,
                json!({"kind": "reset-after-apply", "count": 10, "operation": "fulfillmentOrderHold"}),
                "the next 10 holds applied, then the connection dropped before the answer",
            ),
        )
        .await,
    );
    Ok(out)
}

/// Post orders `range` of store 0; all must be accepted.
async fn post_orders(w: &World, range: std::ops::Range<u64>) -> Result<()> {
    for i in range {
        let d = w.order_created(0, i);
        let (status, answer) = w.post(&d).await?;
        if status != 200 || answer["status"] != "accepted" {
            bail!("order {i} not accepted: {status} {answer}");
        }
    }
    Ok(())
}

/// What the orders of `range` ended with.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) orders: u64,
    /// Orders with exactly one case.
    pub(crate) one_case: u64,
    /// Orders with more than one.
    pub(crate) duplicate_cases: u64,
    /// Orders with no case.
    pub(crate) lost: u64,
    /// Fulfilment holds applied more than once for one fulfilment order.
    pub(crate) duplicate_holds: u64,
    /// Holds applied.
    pub(crate) holds: u64,
    pub(crate) dead_letters: f64,
    /// The open dead letters by what failed and why (`action/poison`).
    pub(crate) letter_kinds: BTreeMap<String, u64>,
    pub(crate) quarantined: f64,
}

impl Effects {
    pub(crate) fn clean(&self) -> bool {
        self.one_case == self.orders
            && self.duplicate_holds == 0
            && self.holds == self.orders
            && self.dead_letters == 0.0
            && self.quarantined == 0.0
    }

    pub(crate) fn describe(&self) -> String {
        let kinds = if self.letter_kinds.is_empty() {
            String::new()
        } else {
            let k: Vec<String> = self
                .letter_kinds
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            format!(" ({})", k.join(", "))
        };
        format!(
            "{} orders: {} with one case, {} lost, {} duplicated; {} holds applied ({} twice); {} dead-lettered{kinds}, {} quarantined",
            self.orders,
            self.one_case,
            self.lost,
            self.duplicate_cases,
            self.holds,
            self.duplicate_holds,
            self.dead_letters,
            self.quarantined
        )
    }

    pub(crate) fn figures(&self, r: Report) -> Report {
        r.figure("events", self.orders as f64)
            .figure("lost", self.lost as f64)
            .figure("duplicate cases", self.duplicate_cases as f64)
            .figure("duplicate holds", self.duplicate_holds as f64)
            .figure("dead-lettered", self.dead_letters)
            .figure("quarantined", self.quarantined)
    }
}

/// Count the effects of store 0's orders `range`.
pub(crate) async fn effects(w: &World, range: std::ops::Range<u64>) -> Result<Effects> {
    effects_of(w, &store_0(range)).await
}

/// Store 0's orders `range`, as `(store, n)`.
fn store_0(range: std::ops::Range<u64>) -> Vec<(usize, u64)> {
    range.map(|i| (0, i)).collect()
}

/// Count the effects of the orders `(store, n)`.
pub(crate) async fn effects_of(w: &World, orders: &[(usize, u64)]) -> Result<Effects> {
    let per = w.cases_per_order().await?;
    let mut e = Effects::default();
    for &(store, i) in orders {
        e.orders += 1;
        match per.get(&w.order_id(store, i)).copied().unwrap_or(0) {
            0 => e.lost += 1,
            1 => e.one_case += 1,
            _ => e.duplicate_cases += 1,
        }
    }
    // Each battery order has one fulfilment order; the fraud plugin holds
    // it. The order's state in Shopify says whether it is held; the
    // mutation log says how many times a hold was applied.
    let mut fulfillment_orders: std::collections::BTreeSet<String> = Default::default();
    for &(store, i) in orders {
        let order = w.shopify_order(store, i).await?;
        let mut held = false;
        for fo in order["fulfillment_orders"].as_array().into_iter().flatten() {
            if fo["holds"].as_array().is_some_and(|h| !h.is_empty()) {
                held = true;
            }
            if let Some(id) = fo["id"].as_u64() {
                fulfillment_orders.insert(format!("gid://shopify/FulfillmentOrder/{id}"));
            }
        }
        if held {
            e.holds += 1;
        }
    }
    let mut applied: BTreeMap<String, u64> = BTreeMap::new();
    for m in w.mutations().await? {
        if m["operation"] == "fulfillmentOrderHold"
            && let Some(t) = m["target"].as_str()
            && fulfillment_orders.contains(t)
        {
            *applied.entry(t.to_owned()).or_default() += 1;
        }
    }
    e.duplicate_holds = applied.values().filter(|n| **n > 1).count() as u64;
    let m = w.metrics().await?;
    e.dead_letters = m.get("shopcase_dead_letters_open");
    if e.dead_letters > 0.0 {
        for l in w.dead_letters().await? {
            if l["state"] == "open" {
                let k = format!(
                    "{}/{}",
                    l["what"].as_str().unwrap_or("?"),
                    l["failure"]["kind"].as_str().unwrap_or("?")
                );
                *e.letter_kinds.entry(k).or_default() += 1;
            }
        }
    }
    e.quarantined = m.get("shopcase_quarantined_installations");
    Ok(e)
}

/// Wait until every order of `range` has a case and the host is idle.
pub(crate) async fn drained(
    w: &World,
    range: std::ops::Range<u64>,
    within: Duration,
) -> Result<()> {
    drained_of(w, &store_0(range), within).await
}

/// Wait until every order `(store, n)` has a case and the host is idle.
pub(crate) async fn drained_of(w: &World, orders: &[(usize, u64)], within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let per = w.cases_per_order().await?;
        let missing = orders
            .iter()
            .filter(|(store, i)| !per.contains_key(&w.order_id(*store, *i)))
            .count();
        if missing == 0 {
            break;
        }
        if Instant::now() > deadline {
            // Report what happened rather than fail here: the effects say.
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    w.settle(
        Duration::from_millis(500),
        left.max(Duration::from_secs(30)),
    )
    .await
}

async fn outage(
    w: &World,
    name: &str,
    range: std::ops::Range<u64>,
    secs: u64,
    shopify: bool,
    corecase: bool,
) -> Result<Report> {
    let n = range.end - range.start;
    if shopify {
        w.shopify_proxy.down();
    }
    if corecase {
        w.corecase_proxy.down();
    }
    let started = Instant::now();
    post_orders(w, range.clone()).await?;
    // The outage lasts its length whatever the host does meanwhile.
    let rest = Duration::from_secs(secs).saturating_sub(started.elapsed());
    tokio::time::sleep(rest).await;
    let refused = w.shopify_proxy.refused() + w.corecase_proxy.refused();
    let open_during = w
        .metrics()
        .await?
        .sum("shopcase_upstream_open", &[])
        .max(0.0);
    // What the store's own admin is shown meanwhile.
    let store = &w.stores[0];
    let token = w.store_admin_token(0, &format!("{name}-store-admin"))?;
    let (view_status, view) = w
        .admin_as(
            &token,
            reqwest::Method::GET,
            &format!("/stores/{}", store.domain),
            None,
        )
        .await?;
    let shown: Vec<String> = view["upstreams"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            format!(
                "{} {}",
                u["service"].as_str().unwrap_or("?"),
                u["state"].as_str().unwrap_or("?")
            )
        })
        .collect();
    w.shopify_proxy.up();
    w.corecase_proxy.up();
    let back = Instant::now();
    drained(w, range.clone(), Duration::from_secs(240)).await?;
    let recovery = back.elapsed().as_secs_f64();
    let e = effects(w, range).await?;
    let r = Report::new(
        name,
        format!(
            "{n} orders posted while {} {} down for {secs} s",
            match (shopify, corecase) {
                (true, true) => "Shopify and Core Case were",
                (true, false) => "Shopify was",
                _ => "Core Case was",
            },
            ""
        )
        .replace("  ", " "),
    )
    .happened(
        format!(
            "{} connections refused, breakers open at the end: {open_during} (the store admin's view: {}); after it came back, all done in {recovery:.1} s; {}",
            refused,
            if view_status != 200 {
                format!("HTTP {view_status} {view}")
            } else if shown.is_empty() {
                "nothing waits".to_owned()
            } else {
                shown.join(", ")
            },
            e.describe()
        ),
        e.clean() && (open_during == 0.0 || !shown.is_empty()),
    );
    Ok(e.figures(r)
        .figure("recovery seconds", (recovery * 10.0).round() / 10.0))
}

async fn credentials_refused(w: &World, range: std::ops::Range<u64>) -> Result<Report> {
    let n = range.end - range.start;
    let emulator = w.corecase.url();
    // Every token request refused, the current tokens expired: the host's
    // next call needs a token it cannot get.
    let spec = json!({"method": "POST", "path": "/tenants/*/oauth2/token", "count": 10000,
                      "fault": {"kind": "status", "status": 401}});
    w.http
        .post(format!("{emulator}/_emulator/faults"))
        .json(&spec)
        .send()
        .await?
        .error_for_status()?;
    w.http
        .post(format!("{emulator}/_emulator/expire-tokens"))
        .send()
        .await?
        .error_for_status()?;
    post_orders(w, range.clone()).await?;
    // Wait for the host to notice: the Core Case breaker opens.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut open = 0.0;
    while Instant::now() < deadline {
        open = w
            .metrics()
            .await?
            .sum("shopcase_upstream_open", &["corecase"]);
        if open > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead_while_refused = w.metrics().await?.get("shopcase_dead_letters_open");
    let readyz: Value = w
        .http
        .get(format!(
            "{}/readyz",
            w.host.as_ref().map(|h| h.url()).unwrap_or_default()
        ))
        .send()
        .await?
        .json()
        .await
        .unwrap_or(Value::Null);
    // The admin fixes the credentials.
    w.http
        .delete(format!("{emulator}/_emulator/faults"))
        .send()
        .await?
        .error_for_status()?;
    drained(w, range.clone(), Duration::from_secs(240)).await?;
    let e = effects(w, range).await?;
    let r = Report::new(
        "corecase-credentials-refused",
        format!("{n} orders while Core Case refused the client's credentials (401 on every token request), then the credentials fixed"),
    )
    .happened(
        format!(
            "the Core Case breaker opened ({open} open; /readyz upstreams: {}); dead letters while refused: {dead_while_refused}; after the fix: {}",
            readyz.get("upstreams").cloned().unwrap_or(Value::Null),
            e.describe()
        ),
        open > 0.0 && dead_while_refused == 0.0 && e.clean(),
    );
    Ok(e.figures(r))
}

async fn corecase_fault(
    w: &World,
    name: &str,
    range: std::ops::Range<u64>,
    spec: Value,
    what: &str,
) -> Result<Report> {
    let n = range.end - range.start;
    w.http
        .post(format!("{}/_emulator/faults", w.corecase.url()))
        .json(&spec)
        .send()
        .await?
        .error_for_status()?;
    post_orders(w, range.clone()).await?;
    drained(w, range.clone(), Duration::from_secs(240)).await?;
    let e = effects(w, range).await?;
    let r = Report::new(name, format!("{n} orders; {what}")).happened(e.describe(), e.clean());
    Ok(e.figures(r))
}

async fn shopify_fault(
    w: &World,
    name: &str,
    range: std::ops::Range<u64>,
    spec: Value,
    what: &str,
) -> Result<Report> {
    let n = range.end - range.start;
    w.http
        .post(format!("{}/_emulator/faults", w.shopify.url()))
        .json(&spec)
        .send()
        .await?
        .error_for_status()?;
    post_orders(w, range.clone()).await?;
    drained(w, range.clone(), Duration::from_secs(240)).await?;
    let e = effects(w, range).await?;
    let r = Report::new(name, format!("{n} orders; {what}")).happened(e.describe(), e.clean());
    Ok(e.figures(r))
}
