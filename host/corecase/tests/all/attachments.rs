//! Attachments: multipart upload, listing with sha256, content round trip,
//! creation with files.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use shopcase_corecase::Error;
use shopcase_corecase::client::dto::NewAttachment;
use shopcase_corecase_emulator::{EmulatorConfig, Fault, FaultSpec};

use crate::support::{new_case, start, start_with};

fn pdf(len: usize) -> NewAttachment {
    // Every byte value, so encoding mistakes show.
    let content: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
    NewAttachment {
        name: "chargeback evidence.pdf".into(),
        content_type: "application/pdf".into(),
        description: Some("bank letter".into()),
        content: Bytes::from(content),
    }
}

#[tokio::test]
async fn upload_list_and_download_round_trip() {
    let env = start().await;
    let case = env.case("att-1").await;
    let file = pdf(200_000);
    let expected = hex::encode(Sha256::digest(&file.content));
    let meta = env
        .client
        .upload_attachment(&env.def, &case, &file, Some("k-att"))
        .await
        .unwrap();
    assert_eq!(meta.sha256, expected);
    assert_eq!(meta.size, 200_000);
    assert_eq!(meta.name, "chargeback evidence.pdf");
    assert_eq!(meta.content_type, "application/pdf");
    assert_eq!(meta.description.as_deref(), Some("bank letter"));
    let listed = env.client.list_attachments(&env.def, &case).await.unwrap();
    assert_eq!(listed, vec![meta.clone()]);
    let bytes = env
        .client
        .attachment_content(&env.def, &case, &meta.id)
        .await
        .unwrap();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), expected);
    assert_eq!(bytes, file.content);
}

#[tokio::test]
async fn a_reset_upload_is_retried_with_a_fresh_body_and_stored_once() {
    let env = start().await;
    let case = env.case("att-reset").await;
    env.emu
        .emulator()
        .inject_fault(
            FaultSpec::new(
                "POST",
                "/api/v1/case-definitions/*/cases/*/attachments",
                Fault::Reset,
            )
            .after_apply(),
        )
        .unwrap();
    // The retry's multipart boundary differs; the emulator fingerprints
    // the parts, so the key still matches and the first answer replays.
    env.client
        .upload_attachment(&env.def, &case, &pdf(1000), Some("k-once"))
        .await
        .unwrap();
    assert_eq!(
        env.client
            .list_attachments(&env.def, &case)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn create_with_files() {
    let env = start().await;
    let files = [
        pdf(10),
        NewAttachment {
            name: "order.json".into(),
            content_type: "application/json".into(),
            description: None,
            content: Bytes::from_static(b"{}"),
        },
    ];
    let created = env
        .client
        .create_case_with_files(
            &env.def,
            &new_case(&env.def, "att-create"),
            &files,
            "k-files",
        )
        .await
        .unwrap();
    let listed = env
        .client
        .list_attachments(&env.def, &created.case.id)
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        vec!["chargeback evidence.pdf", "order.json"]
    );
    assert_eq!(listed[1].sha256, hex::encode(Sha256::digest(b"{}")));
    // The same multipart create again: replayed, not duplicated.
    let again = env
        .client
        .create_case_with_files(
            &env.def,
            &new_case(&env.def, "att-create"),
            &files,
            "k-files",
        )
        .await
        .unwrap();
    assert_eq!(again.case.id, created.case.id);
    assert_eq!(env.case_count(), 1);
}

#[tokio::test]
async fn bad_files_are_refused() {
    let env = start_with(
        EmulatorConfig {
            max_attachment_bytes: 1000,
            ..EmulatorConfig::default()
        },
        |s| s,
    )
    .await;
    let case = env.case("att-bad").await;
    let err = env
        .client
        .upload_attachment(&env.def, &case, &pdf(1001), None)
        .await
        .unwrap_err();
    match &err {
        Error::Permanent {
            status: 413,
            exception,
            ..
        } => assert_eq!(exception, "AttachmentTooLarge"),
        other => panic!("{other:?}"),
    }
    let mut odd = pdf(10);
    odd.content_type = "not a type".into();
    let err = env
        .client
        .upload_attachment(&env.def, &case, &odd, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(
        env.count(
            "POST",
            "/api/v1/case-definitions/{defId}/cases/{caseId}/attachments"
        ),
        1,
        "refused before sending"
    );
}
