//! Claims to implement `shopcase:plugin@0.1.0` but was built against a
//! tampered WIT where `priority` has an extra case, so it could return a
//! priority the host does not know. The host's type check refuses it at
//! load time.

#[allow(
    unsafe_code,
    reason = "wit-bindgen's generated bindings and export glue are unsafe"
)]
mod guest {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
    });

    use exports::shopcase::plugin::handler::Guest;
    use shopcase::plugin::types::*;

    struct Wrong;

    impl Guest for Wrong {
        fn handle(event: Event) -> Result<Vec<Action>, PluginError> {
            Ok(vec![Action::OpenCase(OpenCase {
                key: CaseKey {
                    case_type: "hostile".into(),
                    subject: Subject::Order(event.resources.order_id.unwrap_or(0)),
                },
                title: "unknown priority".into(),
                summary: String::new(),
                priority: Priority::Apocalyptic,
                owner: None,
                owner_group: None,
                due: None,
                attributes: vec![],
                documents: vec![],
            })])
        }
    }

    export!(Wrong);
}
