//! A hostile plugin, built from source by `cargo xtask` for the sandbox's
//! hostile-plugin suite (`host/sandbox/tests/hostile.rs`). The order's tag
//! `do:<what>` selects what it does (tags reach every plugin, whatever its
//! data grants; any other field a test made up would be removed by the
//! host), else its `do` setting (how the field battery packages it), else
//! `ok`; each case must end with its named outcome, and the next event must
//! run normally.

#[allow(
    unsafe_code,
    reason = "wit-bindgen's generated bindings and export glue are unsafe"
)]
mod guest {
    wit_bindgen::generate!({
        path: "../../../wit/v0.1.0",
        world: "plugin",
    });

    use exports::shopcase::plugin::handler::Guest;
    use shopcase::plugin::host;
    use shopcase::plugin::types::*;

    struct Hostile;

    fn tag(order: u64, tags: Vec<String>) -> Action {
        Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
            target: Target::Order(order),
            tags,
        }))
    }

    fn open_case(order: u64, title: String, documents: Vec<Document>) -> Action {
        Action::OpenCase(OpenCase {
            key: CaseKey {
                case_type: "hostile".into(),
                subject: Subject::Order(order),
            },
            title,
            summary: String::new(),
            priority: Priority::Low,
            owner: None,
            owner_group: None,
            due: None,
            attributes: vec![],
            documents,
        })
    }

    /// Recursion whose frames live on the native Wasm stack (no locals in
    /// linear memory), so it exhausts `max_wasm_stack`.
    #[inline(never)]
    fn recurse(n: u64) -> u64 {
        if std::hint::black_box(n) == u64::MAX {
            n
        } else {
            recurse(n + 1).wrapping_mul(3).wrapping_add(n)
        }
    }

    impl Guest for Hostile {
        fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
            let payload: serde_json::Value =
                serde_json::from_str(&event.payload).unwrap_or_default();
            // The order's tag `do:<what>`, else the `do` setting: a served
            // host minimises payloads (a made-up field would be removed), so
            // the battery's hostile plugins are packaged with their
            // behaviour as the setting's default (and the `settings` grant).
            // Asking without that grant traps, so a manifest that sends it
            // events without a `do:` tag grants `settings`.
            let tags: Vec<String> = payload["tags"]
                .as_str()
                .unwrap_or_default()
                .split(',')
                .map(|t| t.trim().to_owned())
                .collect();
            let what = match tags.iter().find_map(|t| t.strip_prefix("do:")) {
                Some(w) => w.to_owned(),
                None => match host::setting("do") {
                    Some(host::SettingValue::Text(w)) => w,
                    _ => "ok".to_owned(),
                },
            };
            let order = event.resources.order_id.unwrap_or(0);
            match what.as_str() {
                "ok" => Ok(vec![tag(order, vec!["ok".into()])]),
                "infinite-loop" => {
                    let mut i: u64 = 0;
                    loop {
                        i = std::hint::black_box(i.wrapping_add(1));
                    }
                }
                "recurse" => Ok(vec![tag(order, vec![format!("{}", recurse(0))])]),
                "grow-loop" => {
                    let mut chunks = Vec::new();
                    loop {
                        chunks.push(std::hint::black_box(vec![7u8; 64 << 10]));
                    }
                }
                "huge-alloc" => {
                    let v = std::hint::black_box(vec![1u8; 1 << 30]);
                    Ok(vec![tag(order, vec![format!("{}", v.len())])])
                }
                "huge-output" => Ok(vec![open_case(
                    order,
                    "big".into(),
                    vec![Document {
                        name: "big.bin".into(),
                        content_type: "application/octet-stream".into(),
                        description: String::new(),
                        content: vec![0u8; 8 << 20],
                    }],
                )]),
                "log-flood" => {
                    for i in 0..200_000u32 {
                        host::log(host::Level::Info, &format!("line {i} of a flood"));
                    }
                    for i in 0..20_000u32 {
                        println!("stdout line {i}");
                    }
                    Ok(vec![])
                }
                "panic" => panic!("the hostile plugin panics on purpose"),
                "long-title" => Ok(vec![open_case(order, "x".repeat(10_000), vec![])]),
                "other-order" => Ok(vec![tag(order + 1, vec!["not-mine".into()])]),
                "bad-metafield-type" => Ok(vec![Action::Shopify(ShopifyOperation::SetMetafield(
                    Metafield {
                        target: Target::Order(order),
                        namespace: "shopcase".into(),
                        key: "case".into(),
                        type_: "bogus_type".into(),
                        value: "{}".into(),
                    },
                ))]),
                "kv-counter" => {
                    let n: u64 = host::kv_get("counter")
                        .map_err(|e| PluginError {
                            message: format!("{e:?}"),
                            retryable: true,
                        })?
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    host::kv_set("counter", &(n + 1).to_string(), Some(3600)).map_err(|e| {
                        PluginError {
                            message: format!("{e:?}"),
                            retryable: false,
                        }
                    })?;
                    Ok(vec![tag(order, vec![format!("count-{}", n + 1)])])
                }
                // Needs the history and gives up without it, as plugins
                // that pass a host error on do.
                "needs-history" => {
                    let customer = event.resources.customer_id.unwrap_or(0);
                    let h = host::customer_history(customer).map_err(|e| PluginError {
                        message: format!("host function failed: {e:?}"),
                        retryable: false,
                    })?;
                    Ok(vec![tag(
                        order,
                        vec![format!("orders-{}", h.number_of_orders)],
                    )])
                }
                "history" => {
                    let customer = event.resources.customer_id.unwrap_or(0);
                    let mine = host::customer_history(customer);
                    let other = host::customer_history(customer + 1);
                    let country = match &mine {
                        Ok(h) => h
                            .recent_orders
                            .first()
                            .and_then(|o| o.shipping_country.clone())
                            .unwrap_or_else(|| "none".into()),
                        Err(_) => "none".into(),
                    };
                    let mine = match mine {
                        Ok(h) => format!("orders-{}", h.number_of_orders),
                        Err(e) => format!("mine-{e:?}").chars().take(40).collect(),
                    };
                    let other = match other {
                        Ok(_) => "other-ok".to_owned(),
                        Err(host::HostError::InvalidArgument(_)) => "other-refused".to_owned(),
                        Err(_) => "other-error".to_owned(),
                    };
                    Ok(vec![tag(
                        order,
                        vec![mine, other, format!("country-{country}")],
                    )])
                }
                // Host calls in a loop: its own customer's history and
                // distinct keys, 5000 times each, counting what answered.
                "host-call-flood" => {
                    let customer = event.resources.customer_id.unwrap_or(0);
                    let (mut history, mut kv, mut quota) = (0u32, 0u32, 0u32);
                    for i in 0..5000 {
                        match host::customer_history(customer) {
                            Ok(_) => history += 1,
                            Err(host::HostError::QuotaExceeded(_)) => quota += 1,
                            Err(_) => {}
                        }
                        match host::kv_get(&format!("k{i}")) {
                            Ok(_) => kv += 1,
                            Err(host::HostError::QuotaExceeded(_)) => quota += 1,
                            Err(_) => {}
                        }
                    }
                    Ok(vec![tag(
                        order,
                        vec![
                            format!("history-{history}"),
                            format!("kv-{kv}"),
                            format!("quota-{quota}"),
                        ],
                    )])
                }
                // Looks up the case of its own order for each case type
                // tagged `case-type:<type>`, in tag order.
                "lookup" => {
                    let mut seen = Vec::new();
                    for t in tags.iter().filter_map(|t| t.strip_prefix("case-type:")) {
                        let key = CaseKey {
                            case_type: t.into(),
                            subject: Subject::Order(order),
                        };
                        seen.push(match host::linked_case(&key) {
                            Ok(Some(c)) => format!("found-{}", c.case_number),
                            Ok(None) => "none".to_owned(),
                            Err(host::HostError::InvalidArgument(_)) => "refused".to_owned(),
                            Err(_) => "error".to_owned(),
                        });
                    }
                    Ok(vec![tag(order, seen)])
                }
                // Sleeps for an hour through WASI (monotonic clock and poll).
                "sleep" => {
                    std::thread::sleep(std::time::Duration::from_secs(3600));
                    Ok(vec![tag(order, vec!["awake".into()])])
                }
                "entropy" => {
                    // Time and randomness through WASI: fixed per event.
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    let h = std::collections::hash_map::RandomState::new();
                    let r = std::hash::BuildHasher::hash_one(&h, 42u8);
                    Ok(vec![tag(
                        order,
                        vec![format!("t{now}"), format!("r{}", r % 1_000_000)],
                    )])
                }
                // Hands back the payload it was given, so tests can see exactly
                // what minimisation left in it.
                "echo" => Ok(vec![open_case(
                    order,
                    "echo".into(),
                    vec![Document {
                        name: "payload.json".into(),
                        content_type: "application/json".into(),
                        description: "the payload as the plugin saw it".into(),
                        content: event.payload.clone().into_bytes(),
                    }],
                )]),
                // Everything the sandbox lets it see — environment,
                // arguments, its settings, its customer's history,
                // the payload — handed back in a case's attributes, so the
                // battery can look for the host's secrets in it.
                "spy" => {
                    let mut seen = String::new();
                    seen.push_str(&format!("env={:?}\n", std::env::vars().collect::<Vec<_>>()));
                    seen.push_str(&format!(
                        "args={:?}\n",
                        std::env::args().collect::<Vec<_>>()
                    ));
                    // No files: a component importing `wasi:filesystem` is
                    // refused at load time (forbidden-import), so a spy
                    // cannot even ask.
                    seen.push_str(&format!("setting do={:?}\n", host::setting("do")));
                    let customer = event.resources.customer_id.unwrap_or(0);
                    seen.push_str(&format!("history={:?}\n", host::customer_history(customer)));
                    seen.push_str(&format!(
                        "event shop={} topic={}\n",
                        event.shop, event.topic
                    ));
                    seen.push_str(&event.payload);
                    let chars: Vec<char> = seen.chars().collect();
                    let attributes = chars
                        .chunks(4000)
                        .take(64)
                        .enumerate()
                        .map(|(i, c)| Attribute {
                            name: format!("spy{i}"),
                            value: c.iter().collect(),
                        })
                        .collect();
                    let mut case = open_case(order, "spy".into(), vec![]);
                    if let Action::OpenCase(c) = &mut case {
                        c.attributes = attributes;
                    }
                    Ok(vec![case])
                }
                "plugin-error" => Err(PluginError {
                    message: "the hostile plugin gives up".into(),
                    retryable: true,
                }),
                // A message far over the contract's 1000 characters.
                "long-error" => Err(PluginError {
                    message: "é".repeat(100_000),
                    retryable: false,
                }),
                other => Err(PluginError {
                    message: format!("unknown behaviour {other}"),
                    retryable: false,
                }),
            }
        }
    }

    export!(Hostile);
}
