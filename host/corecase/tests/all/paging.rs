//! Listing: filters, `updatedSince` (inclusive), paging by `_links.next`.

use shopcase_contract::action::{CaseStatus, Priority};
use shopcase_corecase::Error;
use shopcase_corecase::client::dto::{CaseDataUpdate, CaseQuery, StatusChange};

use crate::support::start;

#[tokio::test]
async fn pages_follow_next_links_in_last_updated_order() {
    let env = start().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(env.case(&format!("page-{i}")).await);
    }
    let query = CaseQuery {
        items_per_page: Some(3),
        include_total: true,
        ..CaseQuery::default()
    };
    let first = env.client.list_cases(&env.def, &query).await.unwrap();
    assert_eq!(first.cases.len(), 3);
    assert_eq!(first.total, Some(7));
    let next = first.next.clone().expect("a second page");
    assert!(
        next.as_str().contains("page=2") && next.as_str().contains("items-per-page=3"),
        "{next}"
    );
    let second = env.client.list_cases_next(&next).await.unwrap();
    let third = env
        .client
        .list_cases_next(second.next.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(third.cases.len(), 1);
    assert!(third.next.is_none(), "the last page has no next link");

    let all = env.client.list_all_cases(&env.def, &query).await.unwrap();
    let listed: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        listed,
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        "ascending lastUpdatedOn = creation order"
    );
    assert!(
        all.windows(2)
            .all(|w| w[0].last_updated_on() < w[1].last_updated_on())
    );
}

#[tokio::test]
async fn updated_since_is_inclusive_and_sees_later_changes() {
    let env = start().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(env.case(&format!("since-{i}")).await);
    }
    let mark = env
        .client
        .get_case(&env.def, &ids[3])
        .await
        .unwrap()
        .last_updated_on()
        .unwrap();
    let query = CaseQuery {
        updated_since: Some(mark),
        items_per_page: Some(2),
        ..CaseQuery::default()
    };
    let since: Vec<String> = env
        .client
        .list_all_cases(&env.def, &query)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        since,
        ids[3..].to_vec(),
        "cases 3, 4, 5: inclusive of the mark"
    );

    // Changing an old case brings it past the mark, at the end.
    let update = CaseDataUpdate {
        priority: Some(Priority::Low),
        ..Default::default()
    };
    env.client
        .update_case_data(&env.def, &ids[0], &update, None)
        .await
        .unwrap();
    let since: Vec<String> = env
        .client
        .list_all_cases(&env.def, &query)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        since,
        vec![
            ids[3].clone(),
            ids[4].clone(),
            ids[5].clone(),
            ids[0].clone()
        ]
    );
}

#[tokio::test]
async fn status_and_reference_filters() {
    let env = start().await;
    let a = env.case("filter-a").await;
    let b = env.case("filter-b").await;
    env.client
        .change_status(
            &env.def,
            &b,
            &StatusChange::to(CaseStatus::InProgress),
            None,
        )
        .await
        .unwrap();
    let q = CaseQuery {
        statuses: vec![CaseStatus::InProgress, CaseStatus::OnHold],
        ..CaseQuery::default()
    };
    let in_progress = env.client.list_all_cases(&env.def, &q).await.unwrap();
    assert_eq!(
        in_progress.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        vec![b.clone()]
    );
    let q = CaseQuery {
        external_reference: Some("filter-a".into()),
        ..CaseQuery::default()
    };
    assert_eq!(
        env.client.list_all_cases(&env.def, &q).await.unwrap()[0].id,
        a
    );
    // Other definitions are not mixed in.
    let other = shopcase_corecase_emulator::definition_id("complaint").to_string();
    assert!(
        env.client
            .list_all_cases(&other, &CaseQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn bad_paging_parameters_are_permanent_errors() {
    let env = start().await;
    let q = CaseQuery {
        items_per_page: Some(1000),
        ..CaseQuery::default()
    };
    let err = env.client.list_cases(&env.def, &q).await.unwrap_err();
    assert!(
        matches!(err, Error::Permanent { status: 400, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn next_links_to_another_origin_are_refused() {
    let env = start().await;
    let foreign =
        url::Url::parse("https://elsewhere.example/api/v1/case-definitions/x/cases?page=2")
            .unwrap();
    let err = env.client.list_cases_next(&foreign).await.unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
}
