//! `shopcase plugin new`: a plugin project that builds and passes its
//! fixtures as generated, in Rust, JavaScript or Python.
//!
//! Every project has the same behaviour (tag orders whose total reaches the
//! `min-total` setting), the least grants it needs (`tags-add`; `log` and
//! `settings`; no personal data), two fixtures (one order above, one below)
//! and a README with the build and test commands. Only the source file and
//! the language's project file differ:
//! - Rust: `Cargo.toml` (its own workspace, the `plugin` profile, and
//!   `shopcase-sdk` by path) and `src/lib.rs`;
//! - JavaScript: `package.json` (for editors and npm dependencies) and
//!   `src/plugin.js`;
//! - Python: `src/plugin.py`.

use std::path::{Path, PathBuf};

use super::{Lang, NewArgs, bad};
use crate::runner::CliError;

pub(super) fn run(args: &NewArgs) -> Result<(), CliError> {
    let id = &args.name;
    if !shopcase_contract::manifest::is_id(id) {
        return Err(bad(format!(
            "`{id}` is not a plugin id (1-64 lowercase letters, digits and `-`, starting with a letter)"
        )));
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(id));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(bad(format!(
            "{} already exists and is not empty",
            dir.display()
        )));
    }

    let files = match args.lang {
        Lang::Rust => {
            let sdk = rust_sdk(args.rust_sdk.as_deref())?;
            rust_files(id, &sdk)
        }
        Lang::Js => js_files(id),
        Lang::Python => python_files(id),
    };
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| bad(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| bad(format!("cannot write {}: {e}", path.display())))?;
    }
    // The generated manifest must be valid as written.
    shopcase_contract::Manifest::load(&dir.join("plugin.toml")).map_err(|e| bad(e.to_string()))?;
    println!("created {} plugin `{id}` in {}", args.lang, dir.display());
    println!("next:");
    println!("  shopcase plugin build --dir {}", dir.display());
    println!(
        "  shopcase plugin test --plugin {} --fixtures {}",
        dir.join("dist").join(id).display(),
        dir.join("fixtures").display()
    );
    Ok(())
}

/// The Rust SDK to depend on: given, or the repository this binary was
/// built in (`<repo>/target/<profile>/shopcase` → `<repo>/sdk/rust`).
fn rust_sdk(given: Option<&Path>) -> Result<PathBuf, CliError> {
    let found = match given {
        Some(p) => Some(p.to_owned()),
        None => std::env::current_exe().ok().and_then(|exe| {
            exe.ancestors()
                .map(|a| a.join("sdk/rust"))
                .find(|p| p.join("Cargo.toml").is_file())
        }),
    };
    let sdk = found.ok_or_else(|| {
        bad("cannot find the shopcase-sdk crate: pass --rust-sdk <shopcase repository>/sdk/rust (or set SHOPCASE_RUST_SDK)")
    })?;
    if !sdk.join("Cargo.toml").is_file() {
        return Err(bad(format!(
            "{} has no Cargo.toml: it is not the shopcase-sdk crate",
            sdk.display()
        )));
    }
    std::fs::canonicalize(&sdk).map_err(|e| bad(format!("{}: {e}", sdk.display())))
}

/// The default tag: the plugin id, within Shopify's 40 characters.
fn default_tag(id: &str) -> &str {
    &id[..id.len().min(40)]
}

fn manifest(id: &str, lang: Lang) -> String {
    format!(
        r#"# {id}: tags orders whose total reaches the `min-total` setting.
#
# This is the source manifest. `shopcase plugin build` adds the [component]
# table (file name and sha256) when it packages the plugin.

[plugin]
id = "{id}"
version = "0.1.0"
name = "{id}"
description = "Tags orders whose total reaches a minimum."
# The WIT contract the plugin is built against (shopcase:plugin@{api}).
api = "{api}"
topics = ["orders/create"]

# The least the plugin needs; a security reviewer approves exactly this.
[grants]
# Add tags to the event's own order; nothing else.
actions = ["tags-add"]
# One log line per tagged order, and its settings.
host = ["log", "settings"]
# No personal data: names, emails, addresses, browser and card details are
# removed from the payload before the plugin sees it.
data = []
{limits}
[settings.min-total]
type = "number"
default = 100
min = 0
description = "Orders whose total_price is at least this are tagged."

[settings.tag]
type = "text"
default = "{tag}"
description = "The tag added (at most 40 characters, no commas)."
"#,
        tag = default_tag(id),
        // The Rust SDK binds plugin API 0.2.0; the JavaScript and Python
        // SDKs bind 0.1.0.
        api = match lang {
            Lang::Rust => "0.2.0",
            Lang::Js | Lang::Python => "0.1.0",
        },
        limits = match lang {
            Lang::Rust => "",
            // Interpreters need more than a Rust plugin's defaults leave
            // spare; see the plugin guide's "Limits".
            Lang::Js =>
                "\n# A JavaScript engine runs inside the component.\n[limits]\nfuel = 20_000_000\nmemory-mib = 32\n",
            Lang::Python =>
                "\n# A Python interpreter runs inside the component.\n[limits]\nfuel = 10_000_000\nmemory-mib = 32\n",
        }
    )
}

fn readme(id: &str, lang: Lang) -> String {
    let edit = match lang {
        Lang::Rust => "src/lib.rs",
        Lang::Js => "src/plugin.js",
        Lang::Python => "src/plugin.py",
    };
    let tools = match lang {
        Lang::Rust => "Rust with the `wasm32-wasip2` target (`rustup target add wasm32-wasip2`).",
        Lang::Js => {
            "Node.js 18+ and the JavaScript toolchain: in the shopcase repository `cargo xtask` installs it \
             into `target/guest-tools` (pass `--tools <repo>/target/guest-tools` or set `SHOPCASE_GUEST_TOOLS`)."
        }
        Lang::Python => {
            "componentize-py 0.25.1: in the shopcase repository `cargo xtask` installs it into \
             `target/guest-tools` (pass `--tools <repo>/target/guest-tools` or set `SHOPCASE_GUEST_TOOLS`)."
        }
    };
    format!(
        r#"# {id}

A shopcase plugin in {lang}: on `orders/create`, orders whose total reaches
the `min-total` setting get the `tag` setting as a tag.

Edit `{edit}` and `plugin.toml`, then build and run the conformance fixtures
in the same sandbox the server uses:

```sh
shopcase plugin build --dir .
shopcase plugin test --plugin dist/{id} --fixtures fixtures
```

Needs: {tools}

Add a fixture for every case the plugin handles: `fixtures/events/<name>.json`
(an event file) and `fixtures/expected/<name>.json` (settings, and the
expected actions or error, and log lines). See docs/plugin-guide.md in the
shopcase repository.
"#,
        lang = lang,
    )
}

fn gitignore() -> String {
    "/dist/\n/target/\n/node_modules/\n__pycache__/\n".to_owned()
}

fn rust_files(id: &str, sdk: &Path) -> Vec<(PathBuf, String)> {
    let cargo = format!(
        r#"[package]
name = "{id}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# A Wasm component (cdylib).
crate-type = ["cdylib"]

[dependencies]
# The shopcase SDK, at the version of the host that runs the plugin. Here by
# path to a shopcase checkout; a partner outside it depends on the same crate
# by git (`shopcase-sdk = {{ git = "<shopcase repository>", tag = "v0.1.0" }}`)
# or from a private registry.
shopcase-sdk = {{ path = "{sdk}" }}

# Small, fast components (`shopcase plugin build` builds with it).
[profile.plugin]
inherits = "release"
opt-level = "s"
lto = true
codegen-units = 1
strip = true
panic = "abort"

# The plugin is its own workspace, wherever it is created.
[workspace]
"#,
        sdk = sdk.display().to_string().replace('\\', "/")
    );
    let lib = format!(
        r#"//! {id}: on `orders/create`, tag orders whose total reaches the
//! `min-total` setting with the `tag` setting.
//!
//! Build and test: `shopcase plugin build --dir .` then
//! `shopcase plugin test --plugin dist/{id} --fixtures fixtures`.

use shopcase_sdk::{{Action, Event, Plugin, PluginError, Target, host, shopify}};

struct ThisPlugin;

impl Plugin for ThisPlugin {{
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {{
        let order = event.order()?;
        let Some(total) = order.total_price_f64() else {{
            return Err(PluginError::new("order payload has no total_price"));
        }};
        if order.test || total < host::setting_number("min-total", 100.0) {{
            return Ok(vec![]);
        }}
        let tag = host::setting_text("tag", "{tag}");
        shopcase_sdk::info!("tagging order {{}}: {{}} {{}}", order.name, order.total_price, order.currency);
        Ok(vec![shopify::tags_add(Target::Order(event.order_id()?), [tag]).into()])
    }}
}}

shopcase_sdk::export_plugin!(ThisPlugin);
"#,
        tag = default_tag(id)
    );
    let mut files = common_files(id, Lang::Rust);
    files.push(("Cargo.toml".into(), cargo));
    files.push(("src/lib.rs".into(), lib));
    files
}

fn js_files(id: &str) -> Vec<(PathBuf, String)> {
    let package = format!(
        r#"{{
  "name": "{id}",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "description": "A shopcase plugin: tags orders whose total reaches a minimum.",
  "scripts": {{
    "build": "shopcase plugin build --dir .",
    "test": "shopcase plugin test --plugin dist/{id} --fixtures fixtures"
  }}
}}
"#
    );
    let source = format!(
        r#"// {id}: on `orders/create`, tag orders whose total reaches the
// `min-total` setting with the `tag` setting.
//
// `@shopcase/sdk` is bundled in by `shopcase plugin build`; the component
// exports `handler`.

import {{ definePlugin, PluginError, Target, host, log, shopify }} from '@shopcase/sdk';

export const handler = definePlugin((event) => {{
  const order = event.order();
  const total = order.totalPriceNumber();
  if (total === undefined) {{
    throw new PluginError('order payload has no total_price');
  }}
  if (order.test || total < host.settingNumber('min-total', 100)) {{
    return [];
  }}
  const tag = host.settingText('tag', '{tag}');
  log.info(`tagging order ${{order.name}}: ${{order.totalPrice}} ${{order.currency}}`);
  // The order id from the envelope: an exact BigInt.
  return [shopify.tagsAdd(Target.order(event.orderId()), [tag])];
}});
"#,
        tag = default_tag(id)
    );
    let mut files = common_files(id, Lang::Js);
    files.push(("package.json".into(), package));
    files.push(("src/plugin.js".into(), source));
    files
}

fn python_files(id: &str) -> Vec<(PathBuf, String)> {
    let source = format!(
        r#""""{id}: on ``orders/create``, tag orders whose total reaches the
``min-total`` setting with the ``tag`` setting.

``shopcase_sdk`` is put on the component's path by ``shopcase plugin build``;
the component exports ``Handler``.
"""

from collections.abc import Sequence

from shopcase_sdk import ActionLike, Event, PluginError, Target, host, log, plugin, shopify


def handle(event: Event) -> Sequence[ActionLike]:
    order = event.order()
    total = order.total_price_float()
    if total is None:
        raise PluginError("order payload has no total_price")
    if order.test or total < host.setting_number("min-total", 100.0):
        return []
    tag = host.setting_text("tag", "{tag}")
    log.info(f"tagging order {{order.name}}: {{order.total_price}} {{order.currency}}")
    return [shopify.tags_add(Target.order(event.order_id()), [tag])]


Handler = plugin(handle)
"#,
        tag = default_tag(id)
    );
    let mut files = common_files(id, Lang::Python);
    files.push(("src/plugin.py".into(), source));
    files
}

/// The manifest, README, .gitignore and the two fixtures.
fn common_files(id: &str, lang: Lang) -> Vec<(PathBuf, String)> {
    let tag = default_tag(id);
    vec![
        ("plugin.toml".into(), manifest(id, lang)),
        ("README.md".into(), readme(id, lang)),
        (".gitignore".into(), gitignore()),
        (
            "fixtures/events/big-order.json".into(),
            order_event(1001, "#1001", "250.00", "w-1001"),
        ),
        (
            "fixtures/expected/big-order.json".into(),
            format!(
                r##"{{
  "description": "At least min-total (default 100): the order is tagged and one line is logged.",
  "actions": [
    {{"kind": "tags-add", "target": {{"order": 5800000001001}}, "tags": ["{tag}"]}}
  ],
  "logs": [
    {{"level": "info", "message": "tagging order #1001: 250.00 EUR"}}
  ]
}}
"##
            ),
        ),
        (
            "fixtures/events/small-order.json".into(),
            order_event(1002, "#1002", "20.00", "w-1002"),
        ),
        (
            "fixtures/expected/small-order.json".into(),
            r#"{
  "description": "Below min-total: nothing to do.",
  "actions": [],
  "logs": []
}
"#
            .to_owned(),
        ),
    ]
}

/// A small `orders/create` event file.
fn order_event(n: u64, name: &str, total: &str, webhook: &str) -> String {
    format!(
        r#"{{
  "topic": "orders/create",
  "shop": "demo-store.myshopify.com",
  "webhook_id": "{webhook}",
  "triggered_at": "2026-11-26T10:00:00Z",
  "payload": {{
    "id": {id},
    "name": "{name}",
    "email": "alex@example.com",
    "created_at": "2026-11-26T10:00:00Z",
    "currency": "EUR",
    "total_price": "{total}",
    "subtotal_price": "{total}",
    "financial_status": "paid",
    "test": false,
    "tags": "",
    "customer": {{"id": 7000000000{n}, "email": "alex@example.com", "first_name": "Alex"}},
    "line_items": [
      {{"id": 1530000000{n}, "title": "Walnut desk lamp", "quantity": 1, "price": "{total}", "sku": "LAMP-1"}}
    ]
  }}
}}
"#,
        id = 5_800_000_000_000u64 + n
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_gets_a_valid_manifest_and_fixtures() {
        for lang in [Lang::Rust, Lang::Js, Lang::Python] {
            let text = manifest("big-orders", lang);
            let m = shopcase_contract::Manifest::parse(&text, Path::new("plugin.toml")).unwrap();
            assert_eq!(m.id, "big-orders");
            assert_eq!(m.grants.actions.len(), 1, "least grants");
            assert!(m.grants.data.is_empty());
            for (path, text) in common_files("big-orders", lang) {
                if path.extension().is_some_and(|e| e == "json") {
                    let v: serde_json::Value =
                        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                    if path.starts_with("fixtures/events") {
                        shopcase_contract::EventFile::parse(&v.to_string()).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn long_ids_give_a_tag_within_shopify_limits() {
        let id = "a".repeat(64);
        assert_eq!(default_tag(&id).len(), 40);
        assert_eq!(default_tag("big-orders"), "big-orders");
    }

    #[test]
    fn a_bad_id_or_a_used_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let args = |name: &str, d: &Path| NewArgs {
            lang: Lang::Js,
            name: name.to_owned(),
            dir: Some(d.to_owned()),
            rust_sdk: None,
        };
        let err = run(&args("Big_Orders", &dir.path().join("x")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a plugin id"), "{err}");
        std::fs::write(dir.path().join("taken"), "").unwrap();
        let err = run(&args("big-orders", dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("already exists and is not empty"), "{err}");
        run(&args("big-orders", &dir.path().join("fresh"))).unwrap();
        assert!(dir.path().join("fresh/src/plugin.js").is_file());
    }
}
