//! The host calls a script makes: `"calls": [<call>, ...]`, in order.
//!
//! A call is a JSON object with `"op"` and its arguments:
//!
//! | op | arguments | answer recorded |
//! |---|---|---|
//! | `kv-get` | `key` | `Ok(Some("v"))`, `Ok(None)` or the host error |
//! | `kv-set` | `key`, `value`, `ttl` (seconds, optional) | `Ok(())` or the host error |
//! | `kv-delete` | `key` | `Ok(())` or the host error |
//! | `log` | `level` (`trace` … `error`, default `info`), `message` | `logged` |
//! | `setting` | `name` | the setting's value, or `None` |
//! | `history` | `customer` (an id) | the customer summary, or the host error |
//! | `linked-case` | `case_type`, `subject` (`{"order": 1}`, …) | the case, or the host error |
//! | `panic` | `message` | (the plugin panics: a trap) |
//!
//! Every call may have `"times": n` (default 1): it is made `n` times, and
//! `{i}` in its text arguments is replaced by the repetition's number
//! (0, 1, …). A text argument is a string, or `{"repeat": "é", "n": 600}`
//! for long text (the string repeated `n` times, then `{i}` replaced).
//!
//! The answers, in the SDK types' `Debug` form (identical natively and in
//! the component), are collected per call: one line per run of identical
//! answers, `"<count>× <answer>"`.

use serde_json::Value;
use shopcase_sdk::{
    Action, AttachDocument, CaseKey, Document, Event, Level, PluginError, Subject, host, kv,
};

/// Make the calls of `list`; the report of their answers.
pub(crate) fn run(list: &Value) -> Result<Value, PluginError> {
    let calls = list
        .as_array()
        .ok_or_else(|| PluginError::new("`calls` is not a list"))?;
    let mut report = Vec::with_capacity(calls.len());
    for (n, call) in calls.iter().enumerate() {
        let times = call["times"].as_u64().unwrap_or(1);
        let mut answers: Vec<(u64, String)> = Vec::new();
        for i in 0..times {
            let answer = one(call, i).map_err(|m| {
                PluginError::new(format!(
                    "call {n} ({}): {m}",
                    call["op"].as_str().unwrap_or("?")
                ))
            })?;
            match answers.last_mut() {
                Some((count, last)) if *last == answer => *count += 1,
                _ => answers.push((1, answer)),
            }
        }
        report.push(Value::from(
            answers
                .into_iter()
                .map(|(count, a)| format!("{count}× {a}"))
                .collect::<Vec<_>>(),
        ));
    }
    Ok(Value::from(report))
}

/// The report as an action: a JSON document on the event's order.
pub(crate) fn report_action(event: &Event, report: Value) -> Action {
    Action::AttachDocument(AttachDocument {
        key: CaseKey {
            case_type: "scripted".into(),
            subject: Subject::Order(event.resources.order_id.unwrap_or(0)),
        },
        document: Document {
            name: "host-calls.json".into(),
            content_type: "application/json".into(),
            description: String::new(),
            content: report.to_string().into_bytes(),
        },
    })
}

/// A text argument, for repetition `i`.
fn text(v: &Value, i: u64) -> Result<String, String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let unit = o
                .get("repeat")
                .and_then(Value::as_str)
                .ok_or("a long text needs `repeat`")?;
            let n = o
                .get("n")
                .and_then(Value::as_u64)
                .ok_or("a long text needs `n`")?;
            unit.repeat(usize::try_from(n).map_err(|e| e.to_string())?)
        }
        _ => return Err(format!("not text: {v}")),
    };
    Ok(s.replace("{i}", &i.to_string()))
}

fn arg(call: &Value, name: &str, i: u64) -> Result<String, String> {
    text(&call[name], i).map_err(|m| format!("`{name}`: {m}"))
}

fn level(v: &Value) -> Result<Level, String> {
    Ok(match v.as_str().unwrap_or("info") {
        "trace" => Level::Trace,
        "debug" => Level::Debug,
        "info" => Level::Info,
        "warn" => Level::Warn,
        "error" => Level::Error,
        other => return Err(format!("unknown level `{other}`")),
    })
}

fn subject(v: &Value) -> Result<Subject, String> {
    let id = |k: &str| v[k].as_u64();
    if let Some(i) = id("order") {
        Ok(Subject::Order(i))
    } else if let Some(i) = id("return") {
        Ok(Subject::Return(i))
    } else if let Some(i) = id("dispute") {
        Ok(Subject::Dispute(i))
    } else if let Some(i) = id("customer") {
        Ok(Subject::Customer(i))
    } else {
        Err(format!("not a subject: {v}"))
    }
}

/// Make one call; its answer.
fn one(call: &Value, i: u64) -> Result<String, String> {
    Ok(match call["op"].as_str().unwrap_or_default() {
        "kv-get" => format!("{:?}", kv::get(&arg(call, "key", i)?)),
        "kv-set" => {
            let ttl = match &call["ttl"] {
                Value::Null => None,
                t => Some(
                    t.as_u64()
                        .and_then(|t| u32::try_from(t).ok())
                        .ok_or("`ttl` is not a u32")?,
                ),
            };
            format!(
                "{:?}",
                kv::set(&arg(call, "key", i)?, &arg(call, "value", i)?, ttl)
            )
        }
        "kv-delete" => format!("{:?}", kv::delete(&arg(call, "key", i)?)),
        "log" => {
            host::log(level(&call["level"])?, &arg(call, "message", i)?);
            "logged".to_owned()
        }
        "setting" => format!("{:?}", host::setting(&arg(call, "name", i)?)),
        "history" => {
            let customer = call["customer"].as_u64().ok_or("`customer` is not an id")?;
            format!("{:?}", host::customer_history(customer))
        }
        "linked-case" => {
            let key = CaseKey {
                case_type: arg(call, "case_type", i)?,
                subject: subject(&call["subject"])?,
            };
            format!("{:?}", host::linked_case(&key))
        }
        "panic" => panic!("{}", arg(call, "message", i)?),
        other => return Err(format!("unknown op `{other}`")),
    })
}
