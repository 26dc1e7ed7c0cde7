//! Secrets and store boundaries: a plugin with every grant hunts for the
//! host's secrets (environment, arguments, files, its settings, history,
//! payload) and hands back what it saw; the logs are searched for them; a
//! store-admin reaches for another store; the admin API is flooded without
//! a token.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;

use super::case;
use super::outage::drained;
use crate::world::{Paths, PluginSource, Spec, World};
use crate::{Report, Size};

pub(crate) async fn run(paths: &Paths, size: Size) -> Result<Vec<Report>> {
    let spec = Spec::new(2, 20).plugins(vec![
        PluginSource::FirstParty("fraud"),
        PluginSource::Hostile {
            id: "spy".into(),
            behaviour: "spy".into(),
        },
    ]);
    let w = World::start(paths, spec).await?;
    // Some traffic on both stores first: the secrets are in use.
    for store in 0..2 {
        for i in 1..=3 {
            let d = w.order_created(store, i);
            w.post_until_acknowledged(&d).await?;
        }
    }
    drained(&w, 1..4, Duration::from_secs(180)).await?;
    let mut out = vec![];
    out.push(
        case(
            "canary-secrets-seen-by-plugins",
            "a plugin with every grant looks for secrets",
            spy(&w),
        )
        .await,
    );
    out.push(case("secrets-in-logs", "the logs searched for secrets", logs(&w)).await);
    out.push(
        case(
            "store-admin-reaches-another-store",
            "a store-admin token of store A asks for store B",
            cross_store(&w),
        )
        .await,
    );
    out.push(
        case(
            "admin-api-forged-tokens",
            "requests with made-up bearer tokens",
            forged_tokens(&w),
        )
        .await,
    );
    out.push(
        case(
            "admin-api-anonymous-flood",
            "a flood of requests without a token",
            anonymous_flood(&w, size.anonymous_flood),
        )
        .await,
    );
    Ok(out)
}

/// How many canaries occur in `text`.
fn canaries_in(w: &World, text: &str) -> usize {
    w.canaries
        .iter()
        .filter(|c| text.contains(c.as_str()))
        .count()
}

async fn spy(w: &World) -> Result<Report> {
    let cases = w.cases().await?;
    let spied: Vec<&serde_json::Value> = cases
        .iter()
        .filter(|c| c.to_string().contains("spy0"))
        .collect();
    let seen: String = spied.iter().map(|c| c.to_string()).collect();
    let everything = format!(
        "{}{}",
        serde_json::to_string(&cases)?,
        serde_json::to_string(&w.mutations().await?)?
    );
    let found = canaries_in(w, &everything);
    let ran = seen.contains("env=") && seen.contains("history=");
    Ok(Report::new(
        "canary-secrets-seen-by-plugins",
        format!(
            "a plugin with every grant dumps its environment, arguments, settings, a customer's history and the payload into case attributes, on 6 orders of 2 stores; {} canary secrets (webhook secrets, Shopify tokens, the Core Case client secret, the admin token) searched for in every case and every Shopify mutation",
            w.canaries.len()
        ),
    )
    .happened(
        format!(
            "{} spy cases written (it ran: {ran}); canary secrets found: {found}",
            spied.len()
        ),
        ran && found == 0,
    )
    .figure("canary secrets seen by plugins", found as f64))
}

async fn logs(w: &World) -> Result<Report> {
    let log = w.host_log();
    let lines = log.lines().count();
    let found = canaries_in(w, &log);
    let (_, stores) = w.admin(reqwest::Method::GET, "/stores", None).await?;
    let in_api = canaries_in(w, &stores.to_string());
    Ok(Report::new(
        "secrets-in-logs",
        "the host's log (RUST_LOG=info, every line since start) and the admin API's store listing searched for every secret",
    )
    .happened(
        format!("{lines} log lines: {found} secrets; store listing: {in_api} secrets"),
        lines > 0 && found == 0 && in_api == 0,
    )
    .figure("secrets in logs", found as f64))
}

async fn cross_store(w: &World) -> Result<Report> {
    let token = w.store_admin_token(0, "store-a-admin")?;
    {
        let a = &w.stores[0].domain;
        let b = &w.stores[1].domain;
        // One of store B's events, by id.
        let (_, events) = w
            .admin(
                reqwest::Method::GET,
                &format!("/events?shop={b}&limit=1"),
                None,
            )
            .await?;
        let b_event = events["events"][0]["event_id"]
            .as_str()
            .unwrap_or("missing")
            .to_owned();
        let get = reqwest::Method::GET;
        let post = reqwest::Method::POST;
        let probes: Vec<(reqwest::Method, String, Option<serde_json::Value>)> = vec![
            (get.clone(), format!("/stores/{b}"), None),
            (
                get.clone(),
                format!("/stores/{b}/installations/fraud"),
                None,
            ),
            (
                post.clone(),
                format!("/stores/{b}/installations/fraud/disable"),
                None,
            ),
            (
                post.clone(),
                format!("/stores/{b}/installations/spy/enable"),
                Some(json!({})),
            ),
            (get.clone(), format!("/events?shop={b}"), None),
            (get.clone(), format!("/events/{b_event}"), None),
            (get.clone(), format!("/journal?shop={b}"), None),
            (get.clone(), format!("/dead-letters?shop={b}"), None),
            (get.clone(), format!("/case-links?shop={b}"), None),
            (get.clone(), format!("/privacy-requests?shop={b}"), None),
            (get.clone(), format!("/audit?shop={b}"), None),
        ];
        let mut refused = 0;
        let mut leaked = vec![];
        for (method, path, body) in &probes {
            let (status, answer) = w
                .admin_as(&token, method.clone(), path, body.clone())
                .await?;
            if status == 403 || status == 404 {
                refused += 1;
            } else {
                leaked.push(format!("{method} {path} → {status}"));
            }
            if answer.to_string().contains(&w.order_id(1, 1).to_string()) {
                leaked.push(format!("{method} {path} named store B's order"));
            }
        }
        // Its own store answers, and lists only its own.
        let (own, _) = w
            .admin_as(&token, get.clone(), &format!("/stores/{a}"), None)
            .await?;
        let (_, listing) = w.admin_as(&token, get.clone(), "/events", None).await?;
        let foreign = listing["events"]
            .as_array()
            .map(|e| e.iter().filter(|e| e["shop"] == b.as_str()).count())
            .unwrap_or(0);
        let b_still_enabled = {
            let (_, v) = w
                .admin(get, &format!("/stores/{b}/installations/fraud"), None)
                .await?;
            v["enabled"] == true
        };
        Ok(Report::new(
            "store-admin-reaches-another-store",
            format!(
                "a store-admin token for store A: {} requests on store B (read, disable, enable, events by id, journal, dead letters, links, privacy, audit) and an unfiltered event listing",
                probes.len()
            ),
        )
        .happened(
            format!(
                "{refused} of {} refused; leaks: {}; own store: HTTP {own}; store B events in its listing: {foreign}; store B's plugin still enabled: {b_still_enabled}",
                probes.len(),
                if leaked.is_empty() { "none".into() } else { leaked.join("; ") }
            ),
            refused == probes.len() && leaked.is_empty() && own == 200 && foreign == 0 && b_still_enabled,
        )
        .figure("cross-store answers", leaked.len() as f64))
    }
}

async fn forged_tokens(w: &World) -> Result<Report> {
    let n = 200;
    let mut refused = 0;
    for i in 0..n {
        let token = format!("sca_{}{i}", uuid::Uuid::new_v4().simple());
        let (status, _) = w
            .admin_as(&token, reqwest::Method::GET, "/stores", None)
            .await?;
        if status == 401 {
            refused += 1;
        }
    }
    Ok(Report::new(
        "admin-api-forged-tokens",
        format!("{n} admin API requests with made-up bearer tokens"),
    )
    .happened(format!("{refused} of {n} refused with 401"), refused == n))
}

async fn anonymous_flood(w: &World, n: u64) -> Result<Report> {
    let denied = |w: &World| -> Result<i64> {
        w.db_count("SELECT count(*) FROM audit WHERE action = 'access.denied'")
    };
    let before = denied(w)?;
    let url = format!(
        "{}/admin/api/stores",
        w.host.as_ref().context("no host")?.url()
    );
    let started = std::time::Instant::now();
    let mut refused = 0;
    for _ in 0..n {
        let status = w.http.get(&url).send().await?.status().as_u16();
        if status == 401 {
            refused += 1;
        }
    }
    let minutes = started.elapsed().as_secs() / 60 + 1;
    let audited = denied(w)? - before;
    // At most 600 a minute one by one, and one summary per minute after.
    let bound = 601 * minutes as i64;
    // The host still answers a webhook at once.
    let d = w.order_created(0, 10);
    let t = std::time::Instant::now();
    let (status, _) = w.post(&d).await?;
    let ack = t.elapsed().as_millis();
    Ok(Report::new(
        "admin-api-anonymous-flood",
        format!("{n} admin API requests without a token"),
    )
    .happened(
        format!(
            "{refused} refused with 401; {audited} audit records written (bound {bound} over {minutes} minute(s)); a webhook right after: HTTP {status} in {ack} ms"
        ),
        refused == n && audited <= bound && audited > 0 && status == 200,
    )
    .figure("audit records", audited as f64))
}
