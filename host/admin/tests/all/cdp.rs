//! A small Chrome DevTools Protocol client for the browser test: headless
//! Chromium driven over `--remote-debugging-pipe` (JSON messages ended by
//! NUL on file descriptors 3 and 4), so no WebSocket library, no Node and
//! no browser download are needed: only Debian's `chromium`.
//!
//! Clicks and typing are real input events (`Input.dispatchMouseEvent`,
//! `Input.insertText`) at the element's position, as a person's would be.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::oneshot;

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// Where Chromium is, if anywhere: `SHOPCASE_CHROMIUM`, else the usual
/// Debian and other paths.
pub(crate) fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SHOPCASE_CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
        "/usr/bin/google-chrome-stable",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// A headless Chromium process.
pub(crate) struct Browser {
    child: Child,
    stdin: Mutex<ChildStdin>,
    pending: Pending,
    /// Console messages, exceptions and log entries, in order.
    events: Arc<Mutex<Vec<Value>>>,
    next_id: AtomicU64,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Start Chromium headless with a fresh profile.
    pub(crate) fn launch(chromium: &Path) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(profile.path().join("chromium.log")).unwrap();
        // The shell moves our pipes to the descriptors Chromium reads (3)
        // and writes (4) the protocol on; no unsafe `pre_exec` needed.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--window-size=1280,1000",
                "--remote-debugging-pipe",
            ])
            .arg(format!(
                "--user-data-dir={}",
                profile.path().join("profile").display()
            ))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let pending: Pending = Arc::default();
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (p, ev) = (pending.clone(), events.clone());
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                let Ok(msg) = serde_json::from_slice::<Value>(&buf) else {
                    continue;
                };
                if let Some(id) = msg.get("id").and_then(Value::as_u64) {
                    if let Some(tx) = p.lock().unwrap().remove(&id) {
                        let _ = tx.send(msg);
                    }
                } else if matches!(
                    msg["method"].as_str(),
                    Some("Runtime.consoleAPICalled" | "Runtime.exceptionThrown" | "Log.entryAdded")
                ) {
                    ev.lock().unwrap().push(msg);
                }
            }
        });
        Browser {
            child,
            stdin: Mutex::new(stdin),
            pending,
            events,
            next_id: AtomicU64::new(1),
            profile,
        }
    }

    /// Send a command (to a page's session, or to the browser) and wait
    /// for its result; a protocol error fails the test.
    pub(crate) async fn send(&self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        {
            let mut w = self.stdin.lock().unwrap();
            let mut bytes = serde_json::to_vec(&msg).unwrap();
            bytes.push(0);
            w.write_all(&bytes).unwrap();
            w.flush().unwrap();
        }
        let reply = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .unwrap_or_else(|_| panic!("Chromium did not answer {method}; {}", self.log_tail()))
            .unwrap_or_else(|_| panic!("Chromium exited during {method}; {}", self.log_tail()));
        if let Some(e) = reply.get("error") {
            panic!("{method} failed: {e}");
        }
        reply["result"].clone()
    }

    /// A new tab, attached.
    pub(crate) async fn new_page(&self) -> Page<'_> {
        let target = self
            .send(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = self
            .send(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        let page = Page {
            browser: self,
            session: attached["sessionId"].as_str().unwrap().to_owned(),
        };
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            page.cmd(domain, json!({})).await;
        }
        page
    }

    /// Console errors, uncaught exceptions and security (CSP) reports.
    pub(crate) fn problems(&self) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|m| match m["method"].as_str() {
                Some("Runtime.exceptionThrown") => true,
                Some("Runtime.consoleAPICalled") => m["params"]["type"] == "error",
                Some("Log.entryAdded") => {
                    let e = &m["params"]["entry"];
                    e["source"] == "security"
                        || e["text"]
                            .as_str()
                            .is_some_and(|t| t.contains("Content Security Policy"))
                }
                _ => false,
            })
            .cloned()
            .collect()
    }

    fn log_tail(&self) -> String {
        let log =
            std::fs::read_to_string(self.profile.path().join("chromium.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "Chromium's last log lines:\n{}",
            lines[lines.len().saturating_sub(15)..].join("\n")
        )
    }

    /// Close the browser.
    pub(crate) async fn close(mut self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(5),
            self.send(None, "Browser.close", json!({})),
        )
        .await;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tab.
pub(crate) struct Page<'a> {
    browser: &'a Browser,
    session: String,
}

impl Page<'_> {
    async fn cmd(&self, method: &str, params: Value) -> Value {
        self.browser.send(Some(&self.session), method, params).await
    }

    /// Open `url` and wait until it has loaded.
    pub(crate) async fn goto(&self, url: &str) {
        let r = self.cmd("Page.navigate", json!({"url": url})).await;
        assert!(r.get("errorText").is_none(), "cannot open {url}: {r}");
        self.wait_for("the page loaded", "document.readyState === 'complete'")
            .await;
    }

    /// Evaluate a JavaScript expression (awaiting a promise) and return its
    /// JSON value; an exception fails the test.
    pub(crate) async fn eval(&self, expression: &str) -> Value {
        let r = self
            .cmd(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("`{expression}` threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Wait (bounded) until the expression is true.
    pub(crate) async fn wait_for(&self, what: &str, expression: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if self.eval(expression).await == json!(true) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let body = self
                    .eval("document.body ? document.body.innerText : ''")
                    .await;
                panic!("timed out waiting for {what} (`{expression}`); the page shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait for a visible element and click its middle with the mouse.
    pub(crate) async fn click(&self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        self.wait_for(
            &format!("`{selector}` to be visible"),
            &format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return false; \
                 const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; }})()"
            ),
        )
        .await;
        let at = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); e.scrollIntoView({{block: 'center'}}); \
                 const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
            ))
            .await;
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.cmd(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await;
        }
    }

    /// Click into a text field, select what it holds and type `text` over it.
    pub(crate) async fn fill(&self, selector: &str, text: &str) {
        self.click(selector).await;
        let sel = serde_json::to_string(selector).unwrap();
        self.eval(&format!("document.querySelector({sel}).select()"))
            .await;
        self.cmd("Input.insertText", json!({"text": text})).await;
    }

    /// The trimmed text of an element (`null` if absent).
    pub(crate) async fn text(&self, selector: &str) -> Value {
        let sel = serde_json::to_string(selector).unwrap();
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); return e ? e.textContent.trim() : null; }})()"
        ))
        .await
    }
}
