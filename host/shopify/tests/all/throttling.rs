//! Cost-based throttling: a burst is paced ahead of time and nothing is lost.

use std::collections::BTreeSet;

use futures::future::join_all;
use serde_json::json;
use shopcase_contract::ShopifyOperation;
use shopcase_contract::action::{TagsChange, Target};
use shopcase_shopify_emulator::{BucketConfig, EmulatorConfig, ThrottleAnswer};

use crate::support::{SHOP, TOKEN, env, env_with, fast_client_config};

fn tag(i: usize) -> ShopifyOperation {
    ShopifyOperation::TagsAdd(TagsChange {
        target: Target::Order(5001),
        tags: vec![format!("burst-{i}")],
    })
}

fn tiny_bucket(answer: ThrottleAnswer) -> EmulatorConfig {
    // Room for 3 mutations; 300 points a second come back.
    EmulatorConfig {
        bucket: BucketConfig {
            maximum_available: 30.0,
            restore_rate: 300.0,
        },
        throttle_answer: answer,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_burst_is_paced_ahead_of_time_and_nothing_is_lost() {
    let env = env_with(tiny_bucket(ThrottleAnswer::Ok), fast_client_config()).await;
    const N: usize = 40;
    let results = join_all((0..N).map(|i| {
        let client = env.client.clone();
        async move { client.apply(SHOP, &tag(i), &format!("burst:{i}")).await }
    }))
    .await;
    for r in &results {
        assert!(r.as_ref().is_ok_and(|a| a.is_done()), "{r:?}");
    }
    let tags: BTreeSet<String> = env
        .running
        .emulator
        .order(SHOP, 5001)
        .unwrap()
        .tags
        .into_iter()
        .collect();
    assert_eq!(tags.len(), N, "every tag arrived");
    assert_eq!(env.applied("tagsAdd").await.len(), N);
    let stats = env.running.emulator.stats();
    // Pacing starts with one probe, then knows the bucket: no throttling.
    assert_eq!(stats.throttled, 0, "{stats:?}");
    assert_eq!(stats.requests, N as u64);
}

#[tokio::test]
async fn two_clients_sharing_a_bucket_are_throttled_but_lose_nothing() {
    // Two host replicas on one store: each paces by its own estimate, so
    // Shopify does throttle them (here with 429s); every operation lands.
    let env = env_with(
        tiny_bucket(ThrottleAnswer::TooManyRequests),
        fast_client_config(),
    )
    .await;
    let other = env.client_with(fast_client_config(), TOKEN);
    const N: usize = 30;
    let results = join_all((0..N).map(|i| {
        let client = if i % 2 == 0 {
            env.client.clone()
        } else {
            other.clone()
        };
        async move { client.apply(SHOP, &tag(i), &format!("k{i}")).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        env.running.emulator.order(SHOP, 5001).unwrap().tags.len(),
        N
    );
    assert_eq!(env.applied("tagsAdd").await.len(), N);
    assert!(env.running.emulator.stats().requests >= N as u64);
}

#[tokio::test]
async fn throttled_answers_are_waited_out() {
    let env = env().await;
    env.fault(json!({"kind": "throttled", "operation": "tagsAdd", "count": 3}))
        .await;
    assert!(
        env.client
            .apply(SHOP, &tag(1), "k")
            .await
            .unwrap()
            .is_done()
    );
    assert_eq!(env.applied("tagsAdd").await.len(), 1);
    assert_eq!(env.running.emulator.stats().by_operation["tagsAdd"], 4);
}

#[tokio::test]
async fn endless_throttling_ends_as_a_transient_error() {
    let mut config = fast_client_config();
    config.max_throttle_waits = 2;
    let env = env_with(EmulatorConfig::default(), config).await;
    env.fault(json!({"kind": "throttled", "count": 1000})).await;
    let err = env.client.apply(SHOP, &tag(1), "k").await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(err.code(), "throttled");
    assert!(env.applied("tagsAdd").await.is_empty());
}
