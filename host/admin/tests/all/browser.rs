//! The admin page end to end, in headless Chromium: sign in with a store
//! admin's token, enable a plugin with settings (first an invalid one, the
//! host's message naming the setting), see the event it handled, and retry
//! the dead letter its action left.
//!
//! Needs Chromium (Debian's `chromium`; `cargo xtask test` installs it and
//! sets `SHOPCASE_CHROMIUM` and `SHOPCASE_REQUIRE_BROWSER=1`). Without it the
//! test is skipped with a message, unless `SHOPCASE_REQUIRE_BROWSER=1`,
//! where it fails.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use shopcase_store::{ApiRole, JournalStatus};

use crate::cdp::{Browser, find_chromium};
use crate::support::*;

fn chromium_or_skip() -> Option<std::path::PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        let msg = "Chromium not found: install Debian's `chromium` package (`apt-get install chromium`) \
                   or set SHOPCASE_CHROMIUM to a Chromium binary; `cargo xtask test` installs it";
        if std::env::var("SHOPCASE_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("{msg} (SHOPCASE_REQUIRE_BROWSER=1)");
        }
        eprintln!("skipping the browser test: {msg}");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_enables_a_plugin_and_retries_a_dead_letter_in_the_page() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let host = Host::new();
    host.add_plugin("tagger", "1.0.0");
    let executor = Arc::new(SwitchExecutor::default());
    executor.broken.store(true, Ordering::SeqCst);
    let r = host.start(executor.clone()).await;
    let token = r.token("a-admin", ApiRole::StoreAdmin, &[SHOP_A]).await;
    // Shopify has stopped answering for store A (its last error written
    // as markup: shown as text).
    for _ in 0..r.breakers.threshold() {
        r.breakers.record(
            SHOP_A,
            shopcase_pipeline::breaker::Service::Shopify,
            &shopcase_pipeline::breaker::Outcome::Unavailable(
                "<img src=x onerror=\"window.injected=true\">".into(),
            ),
        );
    }

    let browser = Browser::launch(&chromium);
    let page = browser.new_page().await;
    page.goto(&format!("{}/admin/", r.base)).await;

    // Sign in.
    page.fill("#token", &token).await;
    page.click("#sign-in").await;
    let store_a = format!(".store[data-shop=\"{SHOP_A}\"]");
    page.wait_for(
        "store A's card",
        &format!("!!document.querySelector('{store_a}')"),
    )
    .await;
    assert_eq!(
        page.eval(&format!(
            "!!document.querySelector('.store[data-shop=\"{SHOP_B}\"]')"
        ))
        .await,
        false,
        "a store admin sees only its store"
    );
    page.wait_for(
        "the notice that store A's Shopify calls wait",
        &format!(
            "(() => {{ const n = document.querySelector('{store_a} [data-upstream=\"shopify\"]'); \
             return !!n && n.textContent.includes('Shopify is not answering') && n.textContent.includes('<img'); }})()"
        ),
    )
    .await;
    assert!(
        page.text("#who-name")
            .await
            .as_str()
            .unwrap()
            .contains("a-admin (store-admin"),
    );

    // Enable with settings: an invalid value first, then a valid one.
    let open = format!("{store_a} button[data-action=\"open-enable\"][data-plugin=\"tagger\"]");
    page.click(&open).await;
    page.fill("#setting-threshold", "150").await;
    page.click("button[data-action=\"save-enable\"]").await;
    page.wait_for(
        "the setting error",
        "(() => { const e = document.querySelector('.settings-form .form-error'); \
         return !!e && !e.hidden && e.textContent.includes('setting `threshold`'); })()",
    )
    .await;
    assert!(
        r.storage
            .installation(SHOP_A, "tagger")
            .await
            .unwrap()
            .is_none(),
        "nothing enabled by the refused request"
    );
    page.fill("#setting-threshold", "80").await;
    page.click("button[data-action=\"save-enable\"]").await;
    page.wait_for(
        "the plugin enabled",
        &format!(
            "(() => {{ const row = document.querySelector('{store_a} tr[data-plugin=\"tagger\"]'); \
             return !!row && row.textContent.includes('enabled') && row.textContent.includes('threshold=80'); }})()"
        ),
    )
    .await;
    let inst = r
        .storage
        .installation(SHOP_A, "tagger")
        .await
        .unwrap()
        .unwrap();
    assert!(inst.enabled);
    assert_eq!(
        serde_json::to_value(&inst.settings).unwrap(),
        serde_json::json!({"threshold": 80})
    );
    assert!(inst.enabled_by.unwrap().starts_with("a-admin (token tok_"));

    // An event flows to the plugin; its action fails for good.
    let event = r.order(SHOP_A, "w-browser", 4242, "ok").await;
    r.done(&event).await;
    let key = format!("{event}:tagger:0");
    let s = r.storage.clone();
    let k = key.clone();
    eventually("the action is dead-lettered", || {
        let (s, k) = (s.clone(), k.clone());
        async move {
            s.journal_entry(&k)
                .await
                .unwrap()
                .is_some_and(|j| j.status == JournalStatus::Dead)
        }
    })
    .await;
    let dead = r
        .storage
        .dead_letters(Some(SHOP_A), true, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let id = dead[0].id;

    // The event, with the plugin's outcome, in the Events tab.
    page.click("button[data-tab=\"events\"]").await;
    page.click(&format!(
        "button[data-action=\"event-detail\"][data-event=\"{event}\"]"
    ))
    .await;
    page.wait_for(
        "the event's plugin run",
        "(() => { const r = document.querySelector('.run[data-plugin=\"tagger\"]'); \
         return !!r && r.textContent.includes('tags-add') && r.textContent.includes('dead'); })()",
    )
    .await;

    // Fix the cause, retry in the Dead letters tab.
    executor.broken.store(false, Ordering::SeqCst);
    let calls_before = executor.calls.load(Ordering::SeqCst);
    page.click("button[data-tab=\"dead-letters\"]").await;
    let retry = format!("tr[data-dead-letter=\"{id}\"] button[data-action=\"retry\"]");
    page.click(&retry).await;
    page.wait_for(
        "the retry confirmed",
        &format!(
            "document.querySelector('#notice').textContent.includes('Dead letter {id} put back') \
             && !document.querySelector('tr[data-dead-letter=\"{id}\"]')"
        ),
    )
    .await;
    let k = key.clone();
    eventually("the retried action is done", || {
        let (s, k) = (s.clone(), k.clone());
        async move {
            s.journal_entry(&k)
                .await
                .unwrap()
                .is_some_and(|j| j.status == JournalStatus::Done)
        }
    })
    .await;
    assert_eq!(
        executor.calls.load(Ordering::SeqCst),
        calls_before + 1,
        "run once more"
    );
    let letter = r.storage.dead_letter(id).await.unwrap().unwrap();
    assert!(letter.resolved_by.unwrap().starts_with("a-admin (token "));

    // A privacy request the host carried out, in the Privacy requests tab.
    r.storage
        .record_privacy(shopcase_store::PrivacyRecord {
            shop: SHOP_A.into(),
            topic: "customers/redact".into(),
            customer_id: Some(7001),
            event_id: event.clone(),
            file: None,
            summary: serde_json::json!({"events": 1}),
            at: shopcase_store::Timestamp::now(),
            body_sha256: None,
        })
        .await
        .unwrap();
    page.click("button[data-tab=\"privacy\"]").await;
    page.wait_for(
        "the privacy request listed",
        &format!(
            "(() => {{ const t = document.querySelector('#privacy-table tbody').textContent; \
             return t.includes('customers/redact') && t.includes('7001') && t.includes('{event}'); }})()"
        ),
    )
    .await;

    let problems = browser.problems();
    assert!(
        problems.is_empty(),
        "the page logged errors or CSP violations: {problems:#?}"
    );
    // The policy is enforced, and a violation would have been seen: an
    // injected inline script is refused and reported.
    page.eval(
        "(() => { const s = document.createElement('script'); \
         s.textContent = 'window.injected = true'; document.head.append(s); })()",
    )
    .await;
    assert_eq!(
        page.eval("window.injected === true").await,
        false,
        "inline script ran"
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while browser.problems().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        !browser.problems().is_empty(),
        "the CSP violation was reported"
    );
    browser.close().await;
    r.shutdown().await;
}
