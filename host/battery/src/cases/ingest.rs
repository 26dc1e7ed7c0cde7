//! Forged, malformed, replayed and misaddressed webhooks: what is refused
//! is refused with its code and stores nothing; what was already accepted
//! is a duplicate, whatever ids it comes back with; a privacy request that
//! does not fit its topic or store deletes nothing.

use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use super::case;
use crate::world::{Delivery, Spec, World, sign};
use crate::{Report, Size};

pub(crate) async fn run(paths: &crate::world::Paths, size: Size) -> Result<Vec<Report>> {
    let orders = size.replays.max(20) + 20;
    let w = World::start(paths, Spec::new(2, orders)).await?;
    let mut out = vec![];
    let mut captured = vec![];
    out.push(
        case(
            "forged-signature",
            "webhooks signed with a wrong secret",
            forged(&w, size.forged),
        )
        .await,
    );
    out.push(
        case(
            "unsigned",
            "webhooks with no signature header",
            unsigned(&w, 100),
        )
        .await,
    );
    out.push(
        case(
            "signed-for-another-store",
            "store A's body and signature addressed to store B",
            other_store(&w, 100),
        )
        .await,
    );
    out.push(
        case(
            "unknown-store",
            "a store this host does not serve",
            unknown_store(&w),
        )
        .await,
    );
    out.push(
        case(
            "host-only-topics",
            "signed `corecase/case-updated` and `timer/fired` deliveries",
            reserved_topics(&w),
        )
        .await,
    );
    out.push(
        case(
            "malformed-bodies",
            "signed bodies that are not a JSON object: text, an array, empty, truncated",
            malformed(&w),
        )
        .await,
    );
    out.push(case("oversized-body", "a signed 2 MiB body", oversized(&w)).await);
    out.push(
        case(
            "triggered-in-the-future",
            "X-Shopify-Triggered-At one day ahead",
            future(&w),
        )
        .await,
    );
    out.push(
        case(
            "stale-delivery",
            "X-Shopify-Triggered-At three days ago (max-age 48 h)",
            stale(&w),
        )
        .await,
    );
    out.push(
        case(
            "host-key-webhook-id",
            "a webhook id shaped like the host's own keys (`timer:…`)",
            host_key_id(&w),
        )
        .await,
    );
    out.push(
        case(
            "shopify-redelivery",
            "every delivery posted twice with the same ids (Shopify's retry)",
            redelivery(&w, size.replays, &mut captured),
        )
        .await,
    );
    out.push(
        case(
            "replay-with-fresh-ids",
            "captured bodies replayed with fresh webhook and event ids",
            replay_fresh(&w, &captured),
        )
        .await,
    );
    out.push(
        case(
            "shop-redact-for-a-live-store",
            "a signed `shop/redact` for a store that never uninstalled",
            shop_redact_live(&w, orders),
        )
        .await,
    );
    out.push(
        case(
            "privacy-request-wrong-shape",
            "a `customers/redact` body delivered as `shop/redact`",
            redact_swapped(&w),
        )
        .await,
    );
    out.push(
        case(
            "privacy-request-for-another-store",
            "a `shop/redact` naming store B delivered for store A",
            redact_other_store(&w),
        )
        .await,
    );
    Ok(out)
}

/// Accepted webhooks so far.
async fn accepted(w: &World) -> Result<f64> {
    Ok(w.metrics().await?.get("shopcase_webhooks_accepted_total"))
}

/// Post every delivery, 32 at a time; each answer.
pub(crate) async fn post_all(w: &World, deliveries: Vec<Delivery>) -> Result<Vec<(u16, Value)>> {
    let mut out = Vec::with_capacity(deliveries.len());
    for chunk in deliveries.chunks(32) {
        let answers = futures::future::join_all(chunk.iter().map(|d| w.post(d))).await;
        for a in answers {
            out.push(a?);
        }
    }
    Ok(out)
}

/// How many answers have this status and error code.
fn count(answers: &[(u16, Value)], status: u16, code: &str) -> usize {
    answers
        .iter()
        .filter(|(s, b)| {
            *s == status && (code.is_empty() || b["error"] == code || b["status"] == code)
        })
        .count()
}

async fn refused_all(
    w: &World,
    name: &str,
    tried: String,
    deliveries: Vec<Delivery>,
    status: u16,
    code: &str,
) -> Result<Report> {
    let before = accepted(w).await?;
    let n = deliveries.len();
    let answers = post_all(w, deliveries).await?;
    let refused = count(&answers, status, code);
    let stored = accepted(w).await? - before;
    let other: Vec<String> = answers
        .iter()
        .filter(|(s, b)| !(*s == status && b["error"] == code))
        .take(3)
        .map(|(s, b)| format!("{s} {b}"))
        .collect();
    Ok(Report::new(name, tried)
        .happened(
            format!(
                "{refused} of {n} refused with {status} `{code}`; {stored} stored{}",
                if other.is_empty() {
                    String::new()
                } else {
                    format!("; other answers: {}", other.join(", "))
                }
            ),
            refused == n && stored == 0.0,
        )
        .figure("refused", refused as f64)
        .figure("stored", stored))
}

async fn forged(w: &World, n: u64) -> Result<Report> {
    let deliveries: Vec<Delivery> = (0..n)
        .map(|i| {
            let mut d = w.order_created(0, 1 + i % 5);
            d.hmac = sign(&format!("not-the-secret-{i}"), &d.body);
            d
        })
        .collect();
    refused_all(
        w,
        "forged-signature",
        format!("{n} webhooks signed with a wrong secret"),
        deliveries,
        401,
        "invalid-signature",
    )
    .await
}

async fn unsigned(w: &World, n: u64) -> Result<Report> {
    let deliveries: Vec<Delivery> = (0..n)
        .map(|_| {
            let mut d = w.order_created(0, 1);
            d.hmac.clear();
            d
        })
        .collect();
    // An empty header is as good as none: refused before any lookup.
    let before = accepted(w).await?;
    let answers = post_all(w, deliveries).await?;
    let refused = answers.iter().filter(|(s, _)| *s == 401).count();
    let stored = accepted(w).await? - before;
    Ok(
        Report::new("unsigned", format!("{n} webhooks with an empty signature"))
            .happened(
                format!("{refused} of {n} refused with 401; {stored} stored"),
                refused as u64 == n && stored == 0.0,
            )
            .figure("stored", stored),
    )
}

async fn other_store(w: &World, n: u64) -> Result<Report> {
    let deliveries: Vec<Delivery> = (0..n)
        .map(|i| {
            let mut d = w.order_created(0, 1 + i % 5);
            d.shop = w.stores[1].domain.clone();
            d
        })
        .collect();
    refused_all(
        w,
        "signed-for-another-store",
        format!("{n} of store A's signed bodies addressed to store B"),
        deliveries,
        401,
        "invalid-signature",
    )
    .await
}

async fn unknown_store(w: &World) -> Result<Report> {
    let deliveries: Vec<Delivery> = (0..20)
        .map(|_| {
            let mut d = w.order_created(0, 1);
            d.shop = "nobody-here.myshopify.com".into();
            d
        })
        .collect();
    refused_all(
        w,
        "unknown-store",
        "20 signed webhooks for a store this host does not serve".into(),
        deliveries,
        404,
        "unknown-shop",
    )
    .await
}

async fn reserved_topics(w: &World) -> Result<Report> {
    let mut deliveries = vec![];
    for topic in ["corecase/case-updated", "timer/fired"] {
        for _ in 0..5 {
            deliveries.push(w.delivery(
                0,
                topic,
                json!({"case": {"id": "c-1", "case_type": "fraud-investigation", "status": "closed"}}),
            ));
        }
    }
    refused_all(
        w,
        "host-only-topics",
        "10 correctly signed deliveries of the host's own topics".into(),
        deliveries,
        400,
        "reserved-topic",
    )
    .await
}

async fn malformed(w: &World) -> Result<Report> {
    let bodies: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text", b"hello, shopcase".to_vec(), "invalid-json"),
        ("array", b"[1, 2, 3]".to_vec(), "invalid-json"),
        (
            "truncated",
            b"{\"id\": 12, \"name\": \"#1".to_vec(),
            "invalid-json",
        ),
        ("a number", b"42".to_vec(), "invalid-json"),
        ("empty", vec![], "empty-body"),
    ];
    let before = accepted(w).await?;
    let mut lines = vec![];
    let mut held = true;
    for (what, body, code) in bodies {
        let mut d = w.delivery(0, "orders/create", json!({}));
        d.hmac = sign(&w.stores[0].webhook_secret, &body);
        d.body = body;
        let (status, answer) = w.post(&d).await?;
        let ok = status == 400 && answer["error"] == code;
        held &= ok;
        lines.push(format!("{what}: {status} {}", answer["error"]));
    }
    let stored = accepted(w).await? - before;
    Ok(Report::new(
        "malformed-bodies",
        "signed bodies that are not a JSON object",
    )
    .happened(
        format!("{}; {stored} stored", lines.join(", ")),
        held && stored == 0.0,
    ))
}

async fn oversized(w: &World) -> Result<Report> {
    let mut d = w.delivery(0, "orders/create", json!({}));
    let mut payload = json!({"id": 1, "note": "x".repeat(2 << 20)});
    payload["name"] = json!("#big");
    d.body = serde_json::to_vec(&payload)?;
    d.hmac = sign(&w.stores[0].webhook_secret, &d.body);
    let before = accepted(w).await?;
    let answer = w.post(&d).await;
    let stored = accepted(w).await? - before;
    // The host refuses on the declared length, before reading the body, and
    // closes the connection (it never drains what it refused). A client
    // still writing then reads the 413, or, depending on timing, sees the
    // connection closed under its write: both are the refusal, as with any
    // server that does not drain; what must hold is that nothing is stored.
    let (what, refused) = match &answer {
        Ok((413, b)) if b["error"] == "body-too-large" => {
            ("refused with 413 `body-too-large`".to_owned(), true)
        }
        Ok((s, b)) => (format!("answered {s} {b}"), false),
        Err(e) if closed_while_sending(e) => (
            "the connection closed by the host while the body was still being sent (its 413 unread)"
                .to_owned(),
            true,
        ),
        Err(e) => (format!("error: {e:#}"), false),
    };
    Ok(Report::new(
        "oversized-body",
        "a signed 2 MiB body (max-body-bytes is 1 MiB)",
    )
    .happened(format!("{what}; {stored} stored"), refused && stored == 0.0)
    .figure("stored", stored))
}

/// Whether a post failed because the server closed the connection while
/// the request body was still being written (broken pipe, reset).
fn closed_while_sending(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(c);
        while let Some(err) = source {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && matches!(
                    io.kind(),
                    std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                )
            {
                return true;
            }
            source = err.source();
        }
        false
    })
}

fn shifted(d: &mut Delivery, secs: i64) {
    let t = shopcase_contract::time::Timestamp::now()
        + shopcase_contract::time::SignedDuration::from_secs(secs);
    d.triggered_at = shopcase_contract::time::format(t);
}

async fn future(w: &World) -> Result<Report> {
    let mut deliveries = vec![];
    for n in 1..=5 {
        let mut d = w.order_created(0, n);
        shifted(&mut d, 24 * 3600);
        deliveries.push(d);
    }
    refused_all(
        w,
        "triggered-in-the-future",
        "5 signed orders whose X-Shopify-Triggered-At is a day ahead (max-clock-skew 5 min)".into(),
        deliveries,
        400,
        "triggered-in-future",
    )
    .await
}

async fn stale(w: &World) -> Result<Report> {
    let before = accepted(w).await?;
    let mut stale = 0;
    for n in 1..=5 {
        let mut d = w.order_created(0, n);
        shifted(&mut d, -3 * 24 * 3600);
        let (status, answer) = w.post(&d).await?;
        if status == 200 && answer["status"] == "stale" {
            stale += 1;
        }
    }
    let stored = accepted(w).await? - before;
    Ok(Report::new(
        "stale-delivery",
        "5 signed orders triggered three days ago (max-age 48 h)",
    )
    .happened(
        format!(
            "{stale} of 5 acknowledged as `stale` (so Shopify stops retrying), {stored} dispatched"
        ),
        stale == 5 && stored == 0.0,
    ))
}

async fn host_key_id(w: &World) -> Result<Report> {
    let mut deliveries = vec![];
    for prefix in ["timer:", "corecase:", "privacy:x:"] {
        let mut d = w.order_created(0, 2);
        d.webhook_id = format!("{prefix}{}", uuid::Uuid::new_v4());
        deliveries.push(d);
    }
    refused_all(
        w,
        "host-key-webhook-id",
        "3 signed orders whose webhook id has the host's `kind:` form".into(),
        deliveries,
        400,
        "invalid-header",
    )
    .await
}

/// Post fresh orders `from..from+n` of store 0 and wait until each has
/// its case.
async fn fresh_orders(w: &World, from: u64, n: u64) -> Result<Vec<Delivery>> {
    let deliveries: Vec<Delivery> = (from..from + n).map(|i| w.order_created(0, i)).collect();
    for d in &deliveries {
        let (status, answer) = w.post(d).await?;
        if status != 200 || answer["status"] != "accepted" {
            bail!("order {} not accepted: {status} {answer}", d.webhook_id);
        }
    }
    w.settle(Duration::from_millis(300), Duration::from_secs(300))
        .await?;
    Ok(deliveries)
}

async fn redelivery(w: &World, n: u64, captured: &mut Vec<Delivery>) -> Result<Report> {
    let deliveries = fresh_orders(w, 1, n).await?;
    captured.extend(deliveries.iter().cloned());
    let before = accepted(w).await?;
    let answers = post_all(w, deliveries.clone()).await?;
    let duplicates = count(&answers, 200, "duplicate");
    let stored = accepted(w).await? - before;
    w.settle(Duration::from_millis(300), Duration::from_secs(120))
        .await?;
    let per = w.cases_per_order().await?;
    let ids: Vec<u64> = (1..=n).map(|i| w.order_id(0, i)).collect();
    let once = ids.iter().filter(|id| per.get(id) == Some(&1)).count();
    Ok(Report::new(
        "shopify-redelivery",
        format!("{n} orders, each delivered twice with the same ids"),
    )
    .happened(
        format!("{duplicates} of {n} second deliveries answered `duplicate`, {stored} stored; {once} of {n} orders have exactly one case"),
        duplicates as u64 == n && stored == 0.0 && once as u64 == n,
    )
    .figure("dispatched twice", (n - once as u64) as f64))
}

async fn replay_fresh(w: &World, captured: &[Delivery]) -> Result<Report> {
    // The bodies of the previous case's deliveries, byte for byte with
    // their signatures, as an attacker who captured them would send them:
    // new ids, a fresh Triggered-At.
    let n = captured.len();
    let replays: Vec<Delivery> = captured
        .iter()
        .map(|d| {
            let mut r = d.with_fresh_ids();
            r.triggered_at = crate::world::now();
            r
        })
        .collect();
    let before = accepted(w).await?;
    let answers = post_all(w, replays).await?;
    let duplicates = count(&answers, 200, "duplicate");
    let stored = accepted(w).await? - before;
    Ok(Report::new(
        "replay-with-fresh-ids",
        format!("{n} captured bodies replayed with fresh webhook and event ids"),
    )
    .happened(
        format!("{duplicates} of {n} answered `duplicate`; {stored} dispatched"),
        duplicates == n && stored == 0.0,
    )
    .figure("replays", n as f64)
    .figure("dispatched", stored))
}

async fn fraud_enabled(w: &World, store: usize) -> Result<bool> {
    let (status, v) = w
        .admin(
            reqwest::Method::GET,
            &format!("/stores/{}/installations/fraud", w.stores[store].domain),
            None,
        )
        .await?;
    Ok(status == 200 && v["enabled"] == true)
}

/// After a privacy request that must not delete anything: the store's
/// installation is there and a new order still gets its case.
async fn still_served(w: &World, order_n: u64) -> Result<(bool, bool)> {
    let enabled = fraud_enabled(w, 0).await?;
    let d = w.order_created(0, order_n);
    w.post_until_acknowledged(&d).await?;
    w.settle(Duration::from_millis(300), Duration::from_secs(120))
        .await?;
    let per = w.cases_per_order().await?;
    Ok((enabled, per.get(&w.order_id(0, order_n)) == Some(&1)))
}

async fn privacy_outcomes(w: &World) -> Result<Vec<Value>> {
    let (_, v) = w
        .admin(
            reqwest::Method::GET,
            &format!("/privacy-requests?shop={}", w.stores[0].domain),
            None,
        )
        .await?;
    Ok(v["privacy_requests"]
        .as_array()
        .or_else(|| v["requests"].as_array())
        .cloned()
        .unwrap_or_default())
}

async fn shop_redact_live(w: &World, orders: u64) -> Result<Report> {
    let s = &w.stores[0];
    let d = w.delivery(
        0,
        "shop/redact",
        json!({"shop_id": 1, "shop_domain": s.domain}),
    );
    let answer = w.post_until_acknowledged(&d).await?;
    w.settle(Duration::from_millis(300), Duration::from_secs(60))
        .await?;
    let (enabled, served) = still_served(w, orders - 2).await?;
    let requests = privacy_outcomes(w).await?;
    Ok(Report::new(
        "shop-redact-for-a-live-store",
        "a signed `shop/redact` for a store with no `app/uninstalled`",
    )
    .happened(
        format!(
            "acknowledged ({}); installation still enabled: {enabled}; a new order still got its case: {served}; privacy requests recorded: {}",
            answer["status"],
            requests.len()
        ),
        enabled && served,
    ))
}

async fn dead_letter_reasons(w: &World) -> Result<Vec<String>> {
    Ok(w.dead_letters()
        .await?
        .iter()
        .map(|d| d.to_string())
        .collect())
}

async fn redact_swapped(w: &World) -> Result<Report> {
    let s = &w.stores[0];
    let before = dead_letter_reasons(w).await?.len();
    let d = w.delivery(
        0,
        "shop/redact",
        json!({"shop_id": 1, "shop_domain": s.domain,
               "customer": {"id": 9_000_000_001u64, "email": "a@example.com", "phone": null},
               "orders_to_redact": [w.order_id(0, 1)]}),
    );
    w.post_until_acknowledged(&d).await?;
    w.settle(Duration::from_millis(300), Duration::from_secs(60))
        .await?;
    let letters = dead_letter_reasons(w).await?;
    let bad = letters
        .iter()
        .filter(|l| l.contains("bad-privacy-request"))
        .count();
    let (enabled, served) = still_served(w, orders_left(w, 3)).await?;
    Ok(Report::new(
        "privacy-request-wrong-shape",
        "a `customers/redact` body (customer, orders) delivered as `shop/redact`",
    )
    .happened(
        format!(
            "dead letters `bad-privacy-request`: {bad} (of {} new); installation still enabled: {enabled}; a new order still got its case: {served}",
            letters.len() - before
        ),
        bad >= 1 && enabled && served,
    ))
}

async fn redact_other_store(w: &World) -> Result<Report> {
    let before = dead_letter_reasons(w)
        .await?
        .iter()
        .filter(|l| l.contains("bad-privacy-request"))
        .count();
    let d = w.delivery(
        0,
        "shop/redact",
        json!({"shop_id": 2, "shop_domain": w.stores[1].domain}),
    );
    w.post_until_acknowledged(&d).await?;
    w.settle(Duration::from_millis(300), Duration::from_secs(60))
        .await?;
    let after = dead_letter_reasons(w)
        .await?
        .iter()
        .filter(|l| l.contains("bad-privacy-request"))
        .count();
    let b_enabled = fraud_enabled(w, 1).await?;
    let (enabled, served) = still_served(w, orders_left(w, 4)).await?;
    Ok(Report::new(
        "privacy-request-for-another-store",
        "a `shop/redact` naming store B, delivered (and signed) for store A",
    )
    .happened(
        format!(
            "new `bad-privacy-request` dead letters: {}; store A enabled: {enabled}, store B enabled: {b_enabled}; a new order still got its case: {served}",
            after - before
        ),
        after > before && enabled && b_enabled && served,
    ))
}

/// An order near the end of the seeded range, kept for the privacy cases.
fn orders_left(w: &World, k: u64) -> u64 {
    w.seeded_orders() - k
}
