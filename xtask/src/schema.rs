//! The host's GraphQL documents against Shopify's published Admin schemas
//! (part of `test`).
//!
//! Shopify publishes its Admin schema per API version; the npm package
//! `@shopify/dev-mcp` ships them as introspection JSON
//! (`dist/data/admin_<version>.json.gz`). This step:
//!
//! 1. fetches that package's tarball with `npm pack` (pinned version,
//!    checked against its published SHA-512; nothing of it is run) into
//!    `target/guest-tools/shopify-schema/`, and installs `graphql`
//!    (graphql-js, pinned by `xtask/schema/package-lock.json`) beside it;
//! 2. prints every document the client sends
//!    (`cargo run -p shopcase-shopify --example graphql_documents`);
//! 3. validates each against each version's schema (`xtask/schema/validate.mjs`);
//! 4. requires every version of
//!    `shopcase_contract::event::CHECKED_API_VERSIONS` to accept every
//!    document, and every version of `REFUSED_API_VERSIONS` to still
//!    reject one (so that the configuration refuses exactly what fails).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha512};

use crate::guests::{Guests, is_stamped, stamp_dir};
use crate::{cargo, root};

/// The package holding the schemas, and its tarball's SHA-512 as the npm
/// registry publishes it (`npm view @shopify/dev-mcp@1.16.0 dist.integrity`,
/// in hex).
const SCHEMA_PACKAGE: &str = "@shopify/dev-mcp@1.16.0";
const SCHEMA_TARBALL: &str = "shopify-dev-mcp-1.16.0.tgz";
const SCHEMA_SHA512: &str = "b6a8119caeec4218dec3e86dc6d95e4c7db79d70797d972cae15a0124a26b28ac65ef2ce0769a1daea70666f2ecee4c3353667aad2cc7bae3223087ab366b0b7";

/// Run the check; prints one line per API version.
pub(crate) fn check(guests: &Guests) -> Result<()> {
    let dir = guests.tools_dir().join("shopify-schema");
    let data = schemas(&dir)?;
    let node_dir = graphql_js(&dir)?;

    let out = cargo()
        .args([
            "run",
            "-q",
            "-p",
            "shopcase-shopify",
            "--example",
            "graphql_documents",
        ])
        .current_dir(root())
        .output()
        .context("cannot run the graphql_documents example")?;
    if !out.status.success() {
        bail!(
            "the graphql_documents example failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listing: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("graphql_documents printed no JSON")?;
    let documents = dir.join("documents.json");
    std::fs::write(&documents, &out.stdout)?;

    // Beside its node_modules: an ES module resolves `graphql` from where
    // it lies.
    let script = node_dir.join("validate.mjs");
    std::fs::copy(root().join("xtask/schema/validate.mjs"), &script)?;
    let out = Command::new("node")
        .arg(&script)
        .arg(&data)
        .arg(&documents)
        .current_dir(&node_dir)
        .output()
        .context("cannot run node (installed with the JavaScript toolchain)")?;
    if !out.status.success() {
        bail!(
            "validate.mjs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let results: BTreeMap<String, BTreeMap<String, Vec<String>>> =
        serde_json::from_slice(&out.stdout).context("validate.mjs printed no JSON")?;
    judge(&listing, &results)
}

/// Decide: checked versions accept everything, refused ones still reject
/// something, others are reported.
fn judge(
    listing: &serde_json::Value,
    results: &BTreeMap<String, BTreeMap<String, Vec<String>>>,
) -> Result<()> {
    let strings = |key: &str| -> Vec<String> {
        listing[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().or_else(|| v["version"].as_str()))
            .map(str::to_owned)
            .collect()
    };
    let (checked, refused) = (strings("checked"), strings("refused"));
    let documents = listing["documents"].as_array().map_or(0, Vec::len);
    let mut problems = Vec::new();
    for (version, docs) in results {
        let rejected: Vec<String> = docs
            .iter()
            .filter(|(_, errors)| !errors.is_empty())
            .map(|(name, errors)| format!("{name}: {}", errors.join("; ")))
            .collect();
        let role = if checked.contains(version) {
            if !rejected.is_empty() {
                problems.push(format!(
                    "{version} is in CHECKED_API_VERSIONS but its schema rejects: {}",
                    rejected.join(" | ")
                ));
            }
            "checked"
        } else if refused.contains(version) {
            if rejected.is_empty() {
                problems.push(format!(
                    "{version} is in REFUSED_API_VERSIONS but its schema accepts every document: \
                     move it to CHECKED_API_VERSIONS"
                ));
            }
            "refused"
        } else {
            "not used"
        };
        let verdict = if rejected.is_empty() {
            format!("all {documents} documents valid")
        } else {
            format!("rejects {}", rejected.join(" | "))
        };
        eprintln!("    {version:<9} {role:<9} {verdict}");
    }
    for version in checked.iter().chain(&refused) {
        if !results.contains_key(version) {
            problems.push(format!(
                "{version} is listed in shopcase_contract::event but {SCHEMA_PACKAGE} has no schema for it"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(
            "the GraphQL documents and Shopify's schemas disagree:\n  {}",
            problems.join("\n  ")
        )
    }
}

/// The schemas, extracted from the pinned, verified tarball (cached).
fn schemas(dir: &Path) -> Result<std::path::PathBuf> {
    let data = dir.join("package/dist/data");
    if is_stamped(dir, SCHEMA_SHA512) && data.is_dir() {
        return Ok(data);
    }
    std::fs::create_dir_all(dir)?;
    eprintln!("    fetching {SCHEMA_PACKAGE} (npm pack) for Shopify's Admin schemas");
    crate::run(
        Command::new("npm")
            .args(["pack", SCHEMA_PACKAGE, "--silent", "--pack-destination"])
            .arg(dir),
    )
    .context("`npm pack` failed (is the npm registry reachable?)")?;
    let tarball = dir.join(SCHEMA_TARBALL);
    let bytes = std::fs::read(&tarball)
        .with_context(|| format!("npm pack left no {}", tarball.display()))?;
    let digest = hex::encode(Sha512::digest(&bytes));
    if digest != SCHEMA_SHA512 {
        bail!(
            "{SCHEMA_PACKAGE} does not have the published SHA-512 (got {digest}): refusing to use it"
        );
    }
    let _ = std::fs::remove_dir_all(dir.join("package"));
    crate::run(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(dir)
            .arg("--wildcards")
            .arg("package/dist/data/admin_*.json.gz"),
    )
    .context("cannot extract the Admin schemas from the tarball")?;
    std::fs::remove_file(&tarball)?;
    stamp_dir(dir, SCHEMA_SHA512)?;
    Ok(data)
}

/// graphql-js, `npm ci` from the committed lock file (cached).
fn graphql_js(dir: &Path) -> Result<std::path::PathBuf> {
    let src = root().join("xtask/schema");
    let node_dir = dir.join("node");
    let manifest = std::fs::read(src.join("package.json"))?;
    let lock = std::fs::read(src.join("package-lock.json"))?;
    let stamp = shopcase_contract::manifest::sha256_hex(&[manifest, lock.clone()].concat());
    if is_stamped(&node_dir, &stamp) && node_dir.join("node_modules/graphql").is_dir() {
        return Ok(node_dir);
    }
    std::fs::create_dir_all(&node_dir)?;
    std::fs::copy(src.join("package.json"), node_dir.join("package.json"))?;
    std::fs::write(node_dir.join("package-lock.json"), &lock)?;
    crate::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&node_dir),
    )
    .context("`npm ci` of xtask/schema failed (is the npm registry reachable?)")?;
    stamp_dir(&node_dir, &stamp)?;
    Ok(node_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per version, per document, its errors.
    type Table<'a> = &'a [(&'a str, &'a [(&'a str, &'a [&'a str])])];

    fn results(entries: Table<'_>) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
        entries
            .iter()
            .map(|(v, docs)| {
                let docs = docs
                    .iter()
                    .map(|(n, e)| (n.to_string(), e.iter().map(|s| s.to_string()).collect()))
                    .collect();
                (v.to_string(), docs)
            })
            .collect()
    }

    fn listing() -> serde_json::Value {
        serde_json::json!({
            "checked": ["2026-07"],
            "refused": [{"version": "2025-10", "why": "old"}],
            "documents": [{"name": "A", "text": "query A { x }"}],
        })
    }

    #[test]
    fn checked_versions_must_accept_everything_and_refused_ones_still_reject_something() {
        let ok = results(&[
            ("2025-10", &[("A", &["Unknown directive"])]),
            ("2026-07", &[("A", &[])]),
            ("unstable", &[("A", &["whatever"])]),
        ]);
        judge(&listing(), &ok).unwrap();

        let checked_rejects = results(&[
            ("2025-10", &[("A", &["Unknown directive"])]),
            ("2026-07", &[("A", &["Cannot query field"])]),
        ]);
        let err = judge(&listing(), &checked_rejects).unwrap_err().to_string();
        assert!(err.contains("2026-07 is in CHECKED_API_VERSIONS"), "{err}");

        let refused_accepts = results(&[("2025-10", &[("A", &[])]), ("2026-07", &[("A", &[])])]);
        let err = judge(&listing(), &refused_accepts).unwrap_err().to_string();
        assert!(err.contains("move it to CHECKED_API_VERSIONS"), "{err}");

        let missing = results(&[("2025-10", &[("A", &["x"])])]);
        let err = judge(&listing(), &missing).unwrap_err().to_string();
        assert!(err.contains("2026-07 is listed"), "{err}");
    }
}
