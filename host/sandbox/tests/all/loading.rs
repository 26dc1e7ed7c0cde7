//! Load-time checks: hashes, imports, contract version, manifests.

use shopcase_contract::FailureKind;

use crate::support::*;

#[test]
fn forbidden_imports_are_refused_by_name() {
    let (_dir, path) = package("forbidden-import", BASE_MANIFEST);
    let err = runtime().load(&path).unwrap_err();
    assert_eq!(err.kind, FailureKind::ForbiddenImport, "{err}");
    assert!(err.message.contains("wasi:filesystem/"), "{err}");
    assert!(err.message.contains("plugins get no filesystem"), "{err}");
}

#[test]
fn a_tampered_component_fails_its_hash() {
    let (dir, path) = package("hostile", BASE_MANIFEST);
    let wasm = dir.path().join("pkg/hostile.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&wasm, bytes).unwrap();
    let err = runtime().load(&path).unwrap_err();
    assert_eq!(err.kind, FailureKind::HashMismatch, "{err}");
    // Store admins see this message: no path of the host in it.
    assert!(
        !err.message.contains(&*dir.path().to_string_lossy()),
        "{err}"
    );
    assert!(err.message.contains("`hostile.wasm`"), "{err}");
}

#[test]
fn a_component_built_against_another_contract_is_refused() {
    let (_dir, path) = package("wrong-contract", BASE_MANIFEST);
    let err = runtime().load(&path).unwrap_err();
    assert_eq!(err.kind, FailureKind::BadManifest, "{err}");
    assert!(
        err.message.contains("does not match plugin API 0.1.0"),
        "{err}"
    );
    assert!(
        err.message.contains("expected enum of 4 names, found 5"),
        "{err}"
    );
}

#[test]
fn a_source_manifest_is_not_loadable() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plugin.toml");
    std::fs::write(&p, BASE_MANIFEST).unwrap();
    let err = runtime().load(&p).unwrap_err();
    assert_eq!(err.kind, FailureKind::BadManifest);
    assert!(err.message.contains("source manifest"), "{err}");
}

#[test]
fn not_a_component_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.toml");
    std::fs::write(&src, BASE_MANIFEST).unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm\x01\0\0\0").unwrap();
    let out = shopcase_contract::manifest::package(&src, &junk, &dir.path().join("pkg")).unwrap();
    let err = runtime().load(&out).unwrap_err();
    assert_eq!(err.kind, FailureKind::BadManifest);
    assert!(err.message.contains("not a valid Wasm component"), "{err}");
}

#[test]
fn limits_are_capped_by_the_host() {
    let p = load(
        "hostile",
        &format!("{BASE_MANIFEST}\n[limits]\nmemory-mib = 100000\n"),
    );
    assert_eq!(
        p.limits().memory_bytes,
        shopcase_contract::Limits::DEFAULT_CAPS.memory_bytes
    );
}

#[test]
fn precompiled_cache_is_used_and_verified() {
    let cache = tempfile::tempdir().unwrap();
    let rt = shopcase_sandbox::Runtime::new(shopcase_sandbox::RuntimeConfig {
        cache_dir: Some(cache.path().to_owned()),
        max_concurrent: 2,
        ..Default::default()
    })
    .unwrap();
    let (_dir, path) = package("hostile", BASE_MANIFEST);
    rt.load(&path).unwrap();
    let files: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let cwasm = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("artifact cached");
    // Corrupt the artifact: it must be detected and recompiled, not loaded.
    let mut bytes = std::fs::read(cwasm).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(cwasm, &bytes).unwrap();
    let plugin = rt.load(&path).unwrap();
    let inv = run(&plugin, serde_json::json!({"tags": "do:ok"}));
    assert!(inv.outcome.is_ok());
    assert_ne!(
        std::fs::read(cwasm).unwrap(),
        bytes,
        "the corrupt artifact was replaced"
    );
}

/// Write access to the cache directory does not get code loaded: a valid
/// artifact of another component swapped in under this one's name, with a
/// matching plain sha256 beside it (what the cache used to check), fails
/// the tag under the host's key and is recompiled from the verified
/// component. A runtime with another key trusts none of the entries.
#[test]
fn a_planted_cache_entry_is_not_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let key_dir = tempfile::tempdir().unwrap();
    let key =
        shopcase_sandbox::CacheKey::load_or_create(&key_dir.path().join("cache.key")).unwrap();
    let runtime = |key: shopcase_sandbox::CacheKey| {
        shopcase_sandbox::Runtime::new(shopcase_sandbox::RuntimeConfig {
            cache_dir: Some(cache.path().to_owned()),
            cache_key: Some(key),
            max_concurrent: 2,
            ..Default::default()
        })
        .unwrap()
    };
    let rt = runtime(key.clone());
    let cwasm_files = || -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
            .collect();
        v.sort();
        v
    };
    // Two components in the cache: the hostile one and the scripted one.
    let (_h, hostile) = package("hostile", BASE_MANIFEST);
    rt.load(&hostile).unwrap();
    let hostile_file = cwasm_files().pop().expect("hostile cached");
    // `scripted` is built with the Rust SDK: plugin API 0.2.0.
    let scripted_manifest = BASE_MANIFEST
        .replace("id = \"hostile\"", "id = \"scripted\"")
        .replace("api = \"0.1.0\"", "api = \"0.2.0\"");
    let (_s, scripted) = package("scripted", &scripted_manifest);
    rt.load(&scripted).unwrap();
    let scripted_file = cwasm_files()
        .into_iter()
        .find(|p| *p != hostile_file)
        .expect("scripted cached");
    // The attacker swaps the scripted artifact in under the hostile name,
    // with the digest the old cache checked.
    let planted = std::fs::read(&scripted_file).unwrap();
    std::fs::write(&hostile_file, &planted).unwrap();
    std::fs::write(
        hostile_file.with_extension("cwasm.sha256"),
        shopcase_contract::manifest::sha256_hex(&planted),
    )
    .unwrap();
    let plugin = rt.load(&hostile).unwrap();
    let inv = run(&plugin, serde_json::json!({"tags": "do:ok"}));
    assert!(inv.outcome.is_ok(), "{:?}", inv.outcome);
    assert_ne!(
        std::fs::read(&hostile_file).unwrap(),
        planted,
        "the planted artifact was recompiled over, not loaded"
    );
    // Another key (another host, or a key file replaced) trusts nothing
    // this one cached: every entry is compiled again.
    let before = std::fs::read(hostile_file.with_extension("cwasm.tag")).unwrap();
    let other = runtime(shopcase_sandbox::CacheKey::random());
    other.load(&hostile).unwrap();
    assert_ne!(
        std::fs::read(hostile_file.with_extension("cwasm.tag")).unwrap(),
        before,
        "re-tagged under the other key"
    );
}
