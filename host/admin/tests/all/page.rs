//! The admin page: served without a token (it holds no data), with strict
//! security headers, no inline script or style, and a script that never
//! writes HTML or uses cookies.

use std::sync::Arc;

use crate::support::*;

fn csp_directives(v: &str) -> Vec<String> {
    v.split(';')
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_with_strict_security_headers() {
    let host = Host::new();
    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    for (path, content_type) in [
        ("/admin/", "text/html"),
        ("/admin/app.js", "text/javascript"),
        ("/admin/app.css", "text/css"),
    ] {
        let a = r.call(None, "GET", path, None).await;
        assert_eq!(a.status, 200, "{path}");
        let h = |name: &str| a.headers[name].to_str().unwrap().to_owned();
        assert!(h("content-type").starts_with(content_type), "{path}");
        let csp = csp_directives(&h("content-security-policy"));
        for want in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'none'",
            "base-uri 'none'",
        ] {
            assert!(
                csp.iter().any(|d| d == want),
                "{path}: CSP lacks {want}: {csp:?}"
            );
        }
        assert!(!h("content-security-policy").contains("unsafe"), "{path}");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("referrer-policy"), "no-referrer");
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("cache-control"), "no-store");
        assert!(a.headers.get("set-cookie").is_none());
    }
    let a = r
        .client
        .get(format!("{}/admin", r.base))
        .send()
        .await
        .unwrap();
    assert_eq!(a.url().path(), "/admin/", "/admin redirects to the page");

    // The API's answers are not documents either.
    let a = r.call(None, "GET", "/stores", None).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.headers["x-content-type-options"], "nosniff");
    assert!(
        a.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert_eq!(a.headers["cache-control"], "no-store");
    r.shutdown().await;
}

#[test]
fn the_page_has_no_inline_code_and_writes_no_html() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/page");
    let html = std::fs::read_to_string(root.join("index.html")).unwrap();
    let js = std::fs::read_to_string(root.join("app.js")).unwrap();
    let lower = html.to_lowercase();
    assert_eq!(lower.matches("<script").count(), 1, "one script tag");
    assert!(lower.contains("<script src=\"/admin/app.js\" defer></script>"));
    assert!(!lower.contains("<style"), "no inline style block");
    assert!(!lower.contains(" style="), "no style attributes");
    for handler in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onerror=",
        "javascript:",
    ] {
        assert!(!lower.contains(handler), "inline handler {handler}");
    }
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "document.cookie",
        "localStorage",
    ] {
        assert!(!js.contains(sink), "app.js uses {sink}");
    }
    assert!(js.contains("sessionStorage"), "the token is kept per tab");
    assert!(js.contains("credentials: 'omit'"), "no ambient credentials");
}
