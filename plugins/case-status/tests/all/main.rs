//! case-status under the SDK harness, built from its own `plugin.toml`, on
//! realistic `corecase/case-updated` events from `tests/fixtures/`.

use case_status::CaseStatusWriteBack;
use plugin_kit::testing::*;
use shopcase_sdk::harness::{Harness, Run};
use shopcase_sdk::{ShopifyOperation, Target};

const ORDER_2010: u64 = 5_900_000_102_010;
const ORDER_2040: u64 = 5_900_000_102_040;
const MARCO: u64 = 7_100_000_002;
const JONAS: u64 = 7_100_000_005;

fn fx() -> Fixtures {
    Fixtures::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_on(h: &mut Harness, name: &str) -> Run {
    h.run::<CaseStatusWriteBack>(&fx().event(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fresh(name: &str) -> Run {
    run_on(&mut fx().harness(), name)
}

fn added(run: &Run) -> Vec<String> {
    operations(&run.actions)
        .into_iter()
        .filter_map(|op| match op {
            ShopifyOperation::TagsAdd(t) => Some(t.tags.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn notes(run: &Run) -> Vec<(Target, &str)> {
    operations(&run.actions)
        .into_iter()
        .filter_map(|op| match op {
            ShopifyOperation::NoteAppend(n) => Some((n.target, n.text.as_str())),
            _ => None,
        })
        .collect()
}

fn metafield(run: &Run) -> (Target, serde_json::Value) {
    operations(&run.actions)
        .into_iter()
        .find_map(|op| match op {
            ShopifyOperation::SetMetafield(m) => {
                assert_eq!(
                    (m.namespace.as_str(), m.key.as_str(), m.type_.as_str()),
                    ("corecase", "case", "json")
                );
                Some((m.target, serde_json::from_str(&m.value).unwrap()))
            }
            _ => None,
        })
        .expect("a metafield")
}

#[test]
fn a_status_change_tags_notes_and_sets_the_metafield() {
    let run = fresh("case-updated-fraud-resolved");
    assert_eq!(
        kinds(&run.actions),
        ["tags-remove", "tags-add", "note-append", "set-metafield"]
    );
    let ShopifyOperation::TagsRemove(removed) = operations(&run.actions)[0] else {
        panic!()
    };
    assert_eq!(removed.target, Target::Order(ORDER_2010));
    assert_eq!(removed.tags.len(), 9);
    assert!(
        removed
            .tags
            .contains(&"case:fraud-investigation:in-progress".to_owned())
    );
    assert!(
        removed
            .tags
            .contains(&"case:fraud-investigation:pending".to_owned())
    );
    assert_eq!(added(&run), ["case:fraud-investigation:resolved"]);
    assert_eq!(
        notes(&run),
        [(
            Target::Order(ORDER_2010),
            "Core Case CASE-000210 (fraud-investigation): resolved (order-cancelled) on 2026-11-26."
        )]
    );
    let (target, value) = metafield(&run);
    assert_eq!(target, Target::Order(ORDER_2010));
    assert_eq!(
        value,
        serde_json::json!({
            "id": "9f8e7d6c-2010-4b5a-8c7d-6e5f4a3b2010",
            "number": "CASE-000210",
            "type": "fraud-investigation",
            "status": "resolved",
            "priority": "high",
            "escalation_level": 0,
            "resolution": "order-cancelled",
            "link": "https://corecase.example/case/9f8e7d6c-2010-4b5a-8c7d-6e5f4a3b2010",
            "updated_at": "2026-11-26T09:31:00.000Z"
        })
    );
}

#[test]
fn updates_that_change_neither_status_nor_escalation_write_nothing() {
    let mut h = fx().harness();
    assert_eq!(
        run_on(&mut h, "case-updated-fraud-in-progress")
            .actions
            .len(),
        4
    );
    assert!(
        run_on(&mut h, "case-updated-fraud-in-progress")
            .actions
            .is_empty(),
        "the same update again"
    );
    assert!(
        run_on(&mut h, "case-updated-fraud-task-added")
            .actions
            .is_empty(),
        "a task is not a status"
    );
    let run = run_on(&mut h, "case-updated-fraud-resolved");
    assert_eq!(added(&run), ["case:fraud-investigation:resolved"]);
}

#[test]
fn escalations_add_a_customer_note() {
    let mut h = fx().harness();
    let run = run_on(&mut h, "case-updated-vip-escalated-1");
    assert_eq!(
        kinds(&run.actions),
        [
            "tags-remove",
            "tags-add",
            "note-append",
            "set-metafield",
            "note-append"
        ]
    );
    assert_eq!(added(&run), ["case:vip-escalation:in-progress"]);
    assert_eq!(
        notes(&run)[1],
        (
            Target::Customer(MARCO),
            "Escalation: Core Case CASE-000540 (vip-escalation) at level 1, priority critical on 2026-11-27."
        )
    );
    // Same status, one level up: the metafield and a customer note only.
    let run = run_on(&mut h, "case-updated-vip-escalated-2");
    assert_eq!(kinds(&run.actions), ["set-metafield", "note-append"]);
    assert_eq!(
        metafield(&run),
        (Target::Order(ORDER_2040), metafield(&run).1)
    );
    assert_eq!(metafield(&run).1["escalation_level"], 2);
    assert!(notes(&run)[0].1.contains("at level 2"));

    let mut h = fx().harness().setting("customer-note-on-escalation", false);
    assert_eq!(
        kinds(&run_on(&mut h, "case-updated-vip-escalated-1").actions).len(),
        4
    );
}

#[test]
fn cases_about_a_customer_write_to_the_customer() {
    let run = fresh("case-updated-vip-customer-escalated");
    assert_eq!(
        kinds(&run.actions),
        [
            "tags-remove",
            "tags-add",
            "note-append",
            "set-metafield",
            "note-append"
        ]
    );
    for op in operations(&run.actions) {
        let target = match op {
            ShopifyOperation::TagsAdd(t) | ShopifyOperation::TagsRemove(t) => t.target,
            ShopifyOperation::NoteAppend(n) => n.target,
            ShopifyOperation::SetMetafield(m) => m.target,
            other => panic!("{other:?}"),
        };
        assert_eq!(target, Target::Customer(JONAS));
    }
}

#[test]
fn long_types_and_statuses_fit_shopifys_tag_limit() {
    let run = fresh("case-updated-delivery-pending-approval");
    assert_eq!(added(&run), ["case:delivery-investigation:pending"]);
    let mut h = fx().harness().setting("tag-prefix", "corecase-status");
    let run = run_on(&mut h, "case-updated-delivery-resolved");
    let tag = &added(&run)[0];
    // The type no longer fits whole: cut, with a hash of the full type.
    assert!(tag.starts_with("corecase-s:delivery-inv-"), "{tag}");
    assert!(
        tag.ends_with(":resolved") && tag.chars().count() <= 40,
        "{tag}"
    );
}

#[test]
fn a_case_without_an_order_or_customer_to_show_it_on_writes_nothing() {
    let run = fresh("case-updated-return-without-order");
    assert!(run.actions.is_empty());
    assert!(run.logs[0].message.contains("no order or customer"));
}

#[test]
fn settings_choose_the_case_types_and_what_is_written() {
    let mut h = fx().harness().setting("case-types", vec!["vip-escalation"]);
    assert!(
        run_on(&mut h, "case-updated-fraud-resolved")
            .actions
            .is_empty()
    );
    let mut h = fx()
        .harness()
        .setting("status-tags", false)
        .setting("order-notes", false)
        .setting("metafield-namespace", "shopcase");
    let run = run_on(&mut h, "case-updated-fraud-resolved");
    assert_eq!(kinds(&run.actions), ["set-metafield"]);
    let ShopifyOperation::SetMetafield(m) = operations(&run.actions)[0] else {
        panic!()
    };
    assert_eq!(m.namespace, "shopcase");
    let mut h = fx().harness().setting("metafield-namespace", "shopify");
    assert!(
        h.run::<CaseStatusWriteBack>(&fx().event("case-updated-fraud-resolved"))
            .is_err(),
        "the host refuses reserved namespaces"
    );
}

#[test]
fn the_demo_scenario_files_trigger_the_documented_actions() {
    let mut h = fx().harness();
    let full: &[&str] = &["tags-remove", "tags-add", "note-append", "set-metafield"];
    let escalated: &[&str] = &[
        "tags-remove",
        "tags-add",
        "note-append",
        "set-metafield",
        "note-append",
    ];
    let expected: &[(&str, &[&str])] = &[
        ("01-case-updated-fraud-in-progress", full),
        ("02-case-updated-fraud-resolved", full),
        ("03-case-updated-vip-escalated-1", escalated),
        (
            "04-case-updated-vip-escalated-2",
            &["set-metafield", "note-append"],
        ),
        ("05-case-updated-vip-customer-escalated", escalated),
        ("06-case-updated-delivery-resolved", full),
    ];
    let files = fx().scenarios("case-status");
    assert_eq!(files.len(), expected.len());
    for ((name, event), (want_name, want)) in files.iter().zip(expected) {
        assert_eq!(name, want_name);
        let run = h
            .run::<CaseStatusWriteBack>(event)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(kinds(&run.actions), *want, "{name}");
    }
}
