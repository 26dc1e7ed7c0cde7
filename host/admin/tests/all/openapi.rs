//! The OpenAPI document is true: it describes exactly the routes the
//! router serves, every reference resolves, and every documented path
//! answers (401 without a token) when mounted in the pipeline.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use crate::support::*;

fn document() -> Value {
    serde_json::from_str(shopcase_admin::openapi_document()).expect("openapi.json is JSON")
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            assert!(
                METHODS.contains(&method.as_str()),
                "{path}: `{method}` is not a method"
            );
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn document_matches_router() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let served: BTreeSet<(String, String)> = shopcase_admin::api_routes()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p))
        .collect();
    let described = documented(&doc);
    let missing: Vec<_> = served.difference(&described).collect();
    let extra: Vec<_> = described.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes missing from openapi.json: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "openapi.json describes routes the router lacks: {extra:?}"
    );

    // Every reference resolves; operation ids are unique; every operation
    // that needs a token documents the 401.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        let ptr = r.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(ptr).is_some(), "unresolved {r}");
    }
    let mut ids = BTreeSet::new();
    for (method, path) in &described {
        let op = &doc["paths"][path][method.to_lowercase()];
        assert!(
            ids.insert(op["operationId"].as_str().unwrap().to_owned()),
            "duplicate id at {path}"
        );
        let public = op["security"] == serde_json::json!([]);
        assert_eq!(
            public,
            path == shopcase_admin::OPENAPI_PATH,
            "{path}: only the document is public"
        );
        if !public {
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} documents 401"
            );
        }
        // Path parameters are declared.
        for seg in path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(|c| c == '{' || c == '}');
            let declared = op["parameters"].as_array().into_iter().flatten().any(|p| {
                let p = match p.get("$ref") {
                    Some(r) => doc
                        .pointer(r.as_str().unwrap().trim_start_matches('#'))
                        .unwrap(),
                    None => p,
                };
                p["name"] == name && p["in"] == "path"
            });
            assert!(
                declared,
                "{method} {path}: path parameter `{name}` undeclared"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_answers_in_the_host() {
    let host = Host::new();
    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    for (method, path) in documented(&document()) {
        let concrete = path
            .replace("{shop}", SHOP_A)
            .replace("{plugin}", "tagger")
            .replace("{event_id}", "e1")
            .replace("{key}", "e1:tagger:0")
            .replace("{id}", "1");
        let a = r.call(None, &method, &concrete, None).await;
        if path == shopcase_admin::OPENAPI_PATH {
            assert_eq!(a.status, 200);
            assert_eq!(
                a.json,
                document(),
                "the served document is the embedded one"
            );
            assert!(
                a.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json")
            );
        } else {
            assert_eq!(a.status, 401, "{method} {concrete}: {}", a.text);
        }
    }
    // Unknown admin paths fall through to the host's JSON 404.
    let a = r.call(None, "GET", "/admin/api/nope", None).await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (404, Some("not-found"))
    );
    r.shutdown().await;
}
