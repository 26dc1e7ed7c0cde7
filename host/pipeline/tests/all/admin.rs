//! Store administration rules (shared by the CLI and the admin API).

use std::sync::Arc;

use shopcase_admin::{Admin, AdminError, EnableRequest, SetRequest, SettingInput};
use shopcase_store::{SqliteStorage, Storage};

use crate::support::*;

fn admin(host: &Host) -> Admin {
    let storage: Arc<dyn Storage> =
        Arc::new(SqliteStorage::open(&host.data_dir(), Default::default()).unwrap());
    Admin::new(storage, &host.config())
}

fn enable(
    shop: &str,
    plugin: &str,
    version: Option<&str>,
    settings: &[(&str, &str)],
) -> EnableRequest {
    EnableRequest {
        shop: shop.into(),
        plugin: plugin.into(),
        version: version.map(str::to_owned),
        settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), SettingInput::Text((*v).to_owned())))
            .collect(),
        actor: "ops@example.com".into(),
    }
}

const SETTINGS: &str = "[settings.threshold]\ntype = \"integer\"\ndefault = 60\nmin = 0\nmax = 100\n\n[settings.tags]\ntype = \"text-list\"\ndefault = [\"VIP\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_checks_store_plugin_version_and_settings() {
    let host = Host::new(0);
    for version in ["1.0.0", "1.2.0"] {
        package(
            &host.plugins_dir(),
            &PluginSpec {
                version,
                settings: SETTINGS,
                ..PluginSpec::new("fraud")
            },
            true,
        );
    }
    let a = admin(&host);
    let err = |e: AdminError| e.to_string();

    let cases: Vec<(EnableRequest, &str)> = vec![
        (
            enable("nope.myshopify.com", "fraud", None, &[]),
            "store `nope.myshopify.com` is not configured (configured: a.myshopify.com, b.myshopify.com)",
        ),
        (
            enable(SHOP_A, "missing", None, &[]),
            "plugin `missing` is not in",
        ),
        (
            enable(SHOP_A, "fraud", Some("9.9.9"), &[]),
            "has no version 9.9.9",
        ),
        (
            enable(SHOP_A, "fraud", None, &[("threshold", "101")]),
            "setting `threshold`: 101 is more than the maximum 100",
        ),
        (
            enable(SHOP_A, "fraud", None, &[("threshold", "high")]),
            "setting `threshold`: `high` is not an integer",
        ),
        (
            enable(SHOP_A, "fraud", None, &[("thresold", "5")]),
            "setting `thresold`: plugin `fraud` has no such setting (it has: tags, threshold)",
        ),
        (
            EnableRequest {
                actor: " ".into(),
                ..enable(SHOP_A, "fraud", None, &[])
            },
            "say who makes the change",
        ),
    ];
    for (req, want) in cases {
        let got = err(a.enable(req).await.unwrap_err());
        assert!(got.contains(want), "want {want:?} in {got:?}");
    }
    assert!(
        a.storage().installations(None).await.unwrap().is_empty(),
        "nothing written on refusal"
    );

    // Newest version by default; settings parsed by their declared type.
    let inst = a
        .enable(enable(
            SHOP_A,
            "fraud",
            None,
            &[("threshold", "75"), ("tags", "VIP, Gold")],
        ))
        .await
        .unwrap();
    assert_eq!(inst.version, "1.2.0");
    assert_eq!(
        serde_json::to_value(&inst.settings).unwrap(),
        serde_json::json!({"threshold": 75, "tags": ["VIP", "Gold"]})
    );
    assert_eq!(inst.enabled_by.as_deref(), Some("ops@example.com"));

    // Pin an older version, change and reset settings, disable.
    let inst = a
        .set(SetRequest {
            shop: SHOP_A.into(),
            plugin: "fraud".into(),
            version: Some("1.0.0".into()),
            settings: vec![(
                "threshold".into(),
                SettingInput::Json(serde_json::json!(80)),
            )],
            unset: vec!["tags".into()],
            actor: "lead@example.com".into(),
            ..SetRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (inst.version.as_str(), inst.updated_by.as_str()),
        ("1.0.0", "lead@example.com")
    );
    assert_eq!(
        serde_json::to_value(&inst.settings).unwrap(),
        serde_json::json!({"threshold": 80})
    );
    let inst = a
        .disable(SHOP_A, "fraud", "lead@example.com")
        .await
        .unwrap();
    assert!(!inst.enabled);
    assert_eq!(inst.settings.len(), 1, "settings kept while disabled");

    let nothing = a
        .set(SetRequest {
            shop: SHOP_A.into(),
            plugin: "fraud".into(),
            actor: "x".into(),
            ..SetRequest::default()
        })
        .await;
    assert!(err(nothing.unwrap_err()).contains("nothing to change"));
    let not_q = a
        .set(SetRequest {
            shop: SHOP_A.into(),
            plugin: "fraud".into(),
            unquarantine: true,
            actor: "x".into(),
            ..SetRequest::default()
        })
        .await;
    assert!(err(not_q.unwrap_err()).contains("is not quarantined"));
    assert!(
        err(a.disable(SHOP_B, "fraud", "x").await.unwrap_err())
            .contains("is not installed for `b.myshopify.com`")
    );

    // Every change is in the audit log with who did it.
    let log = a.storage().audit_log(Some(SHOP_A), 10).await.unwrap();
    let actions: Vec<_> = log
        .iter()
        .map(|e| (e.entry.action.as_str(), e.entry.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("installation.disable", "lead@example.com"),
            ("installation.set", "lead@example.com"),
            ("installation.enable", "ops@example.com"),
        ]
    );
    assert_eq!(log[1].entry.details["before"]["version"], "1.2.0");

    let listed = a.list().await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.domain.as_str()).collect::<Vec<_>>(),
        [SHOP_A, SHOP_B]
    );
    assert_eq!(listed[0].installations.len(), 1);
    assert!(listed[0].installations[0].problem.is_none());
}
