//! Checking what a plugin returned, before anything is journalled.
//!
//! This is the security boundary for output: a plugin may only return action
//! kinds and case types its manifest grants, may only name the event's own
//! order, customer, return and dispute, and every field must be within its
//! documented size and format. The first failing action fails the whole
//! list, so a plugin's output is taken entirely or not at all.

use crate::action::*;
use crate::event::Resources;
use crate::manifest::Grants;

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("action {index} ({kind}): {message}")]
pub struct InvalidAction {
    /// Position in the returned list, from 0.
    pub index: usize,
    /// The action's kind.
    pub kind: ActionKind,
    /// What is wrong, naming the field.
    pub message: String,
}

/// The most actions one invocation may return.
pub const MAX_ACTIONS: usize = 64;

/// What the actions are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub grants: &'a Grants,
    pub resources: &'a Resources,
    /// The event's `triggered-at`, for follow-up bounds.
    pub triggered_at: &'a str,
}

/// Check every action; the first problem is returned.
pub fn validate(actions: &[Action], scope: Scope<'_>) -> Result<(), InvalidAction> {
    if actions.len() > MAX_ACTIONS {
        return Err(InvalidAction {
            index: MAX_ACTIONS,
            kind: actions[MAX_ACTIONS].kind(),
            message: format!("more than {MAX_ACTIONS} actions"),
        });
    }
    for (index, action) in actions.iter().enumerate() {
        let kind = action.kind();
        check_action(action, scope).map_err(|message| InvalidAction {
            index,
            kind,
            message,
        })?;
    }
    Ok(())
}

type Check = Result<(), String>;

fn check_action(action: &Action, scope: Scope<'_>) -> Check {
    let kind = action.kind();
    if !scope.grants.actions.contains(&kind) {
        return Err(format!("the manifest does not grant action kind `{kind}`"));
    }
    if let Some(key) = action.case_key() {
        check_key(key, scope).map_err(|m| format!("key: {m}"))?;
    }
    match action {
        Action::OpenCase(a) => {
            text("title", &a.title, 1, 200)?;
            text("summary", &a.summary, 0, 4000)?;
            opt_name("owner", a.owner.as_deref())?;
            opt_name("owner-group", a.owner_group.as_deref())?;
            opt_time("due", a.due.as_deref())?;
            attributes(&a.attributes)?;
            if a.documents.len() > 10 {
                return Err("documents: more than 10".into());
            }
            for (i, d) in a.documents.iter().enumerate() {
                document(d).map_err(|m| format!("documents[{i}].{m}"))?;
            }
        }
        Action::UpdateCase(a) => {
            if let Some(r) = &a.reason {
                text("reason", r, 0, 1000)?;
            }
            if let Some(r) = &a.resolution {
                code("resolution.code", &r.code)?;
                text("resolution.notes", &r.notes, 0, 4000)?;
            }
            opt_name("owner", a.owner.as_deref())?;
            opt_name("owner-group", a.owner_group.as_deref())?;
            opt_time("due", a.due.as_deref())?;
            if let Some(l) = a.escalation_level
                && l > 5
            {
                return Err(format!("escalation-level: {l} is more than 5"));
            }
            attributes(&a.attributes)?;
        }
        Action::Comment(a) => text("text", &a.text, 1, 4000)?,
        Action::AttachDocument(a) => document(&a.document).map_err(|m| format!("document.{m}"))?,
        Action::CreateTask(a) => {
            text("title", &a.title, 1, 200)?;
            text("description", &a.description, 0, 4000)?;
            name("team", &a.team)?;
            opt_name("owner", a.owner.as_deref())?;
            opt_time("due", a.due.as_deref())?;
        }
        Action::RequestApproval(a) => {
            text("title", &a.title, 1, 200)?;
            text("description", &a.description, 0, 4000)?;
            name("approver-group", &a.approver_group)?;
            opt_time("due", a.due.as_deref())?;
            let op_kind = a.operation.kind();
            if !scope.grants.actions.contains(&op_kind) {
                return Err(format!(
                    "operation: the manifest does not grant action kind `{op_kind}` (held operations need their own grant)"
                ));
            }
            shopify(&a.operation, scope).map_err(|m| format!("operation.{m}"))?;
        }
        Action::FollowUp(a) => {
            let ok = !a.name.is_empty()
                && a.name.len() <= 64
                && a.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !ok {
                return Err("name: must be 1-64 letters, digits, `-`, `_` or `.`".into());
            }
            let due = crate::time::parse(&a.due).map_err(|e| format!("due: {e}"))?;
            if let Ok(now) = crate::time::parse(scope.triggered_at) {
                let latest = now
                    .checked_add(jiff::SignedDuration::from_hours(366 * 24))
                    .map_err(|e| e.to_string())?;
                if due > latest {
                    return Err("due: more than 366 days after the event".into());
                }
            }
            if a.data.len() > 4096 {
                return Err("data: longer than 4096 bytes".into());
            }
            serde_json::from_str::<serde_json::Value>(&a.data)
                .map_err(|e| format!("data: not JSON: {e}"))?;
        }
        Action::Shopify(op) => shopify(op, scope)?,
    }
    Ok(())
}

fn check_key(key: &CaseKey, scope: Scope<'_>) -> Check {
    if !is_case_type(&key.case_type) {
        return Err(format!(
            "case-type `{}` is not 1-64 of a-z, 0-9 and `-`",
            clip(&key.case_type)
        ));
    }
    if !scope.grants.case_types.contains(&key.case_type) {
        return Err(format!(
            "the manifest does not grant case type `{}`",
            key.case_type
        ));
    }
    let r = scope.resources;
    let (own, what) = match key.subject {
        Subject::Order(_) => (r.order_id, "order"),
        Subject::Return(_) => (r.return_id, "return"),
        Subject::Dispute(_) => (r.dispute_id, "dispute"),
        Subject::Customer(_) => (r.customer_id, "customer"),
    };
    own_id(what, key.subject.id(), own)
}

fn own_id(what: &str, id: u64, own: Option<u64>) -> Check {
    match own {
        Some(o) if o == id => Ok(()),
        Some(o) => Err(format!("{what} {id} is not this event's {what} ({o})")),
        None => Err(format!(
            "{what} {id} is not this event's: the event has no {what}"
        )),
    }
}

fn target(t: Target, scope: Scope<'_>) -> Check {
    match t {
        Target::Order(id) => own_id("order", id, scope.resources.order_id),
        Target::Customer(id) => own_id("customer", id, scope.resources.customer_id),
    }
    .map_err(|m| format!("target: {m}"))
}

fn shopify(op: &ShopifyOperation, scope: Scope<'_>) -> Check {
    let r = scope.resources;
    match op {
        ShopifyOperation::TagsAdd(t) | ShopifyOperation::TagsRemove(t) => {
            target(t.target, scope)?;
            if t.tags.is_empty() || t.tags.len() > 50 {
                return Err("tags: 1 to 50 tags".into());
            }
            for tag in &t.tags {
                if tag.trim().is_empty()
                    || tag.chars().count() > 40
                    || tag.contains(',')
                    || has_control(tag)
                {
                    return Err(format!(
                        "tags: `{}` must be 1-40 characters without commas",
                        clip(tag)
                    ));
                }
            }
        }
        ShopifyOperation::NoteAppend(n) => {
            target(n.target, scope)?;
            text("text", &n.text, 1, 1000)?;
        }
        ShopifyOperation::SetMetafield(m) => {
            target(m.target, scope)?;
            let ns = &m.namespace;
            if ns.len() < 3
                || ns.len() > 255
                || !ns
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err("namespace: 3-255 letters, digits, `-` or `_`".into());
            }
            if ns == "shopify" || ns.starts_with("app--") {
                return Err(format!("namespace: `{ns}` is reserved"));
            }
            if m.key.len() < 2
                || m.key.len() > 64
                || !m
                    .key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err("key: 2-64 letters, digits, `-` or `_`".into());
            }
            const TYPES: &[&str] = &[
                "boolean",
                "date",
                "date_time",
                "json",
                "money",
                "multi_line_text_field",
                "number_decimal",
                "number_integer",
                "single_line_text_field",
                "url",
            ];
            if !TYPES.contains(&m.ty.as_str()) {
                return Err(format!(
                    "type: `{}` is not one of {}",
                    clip(&m.ty),
                    TYPES.join(", ")
                ));
            }
            if m.value.len() > 65536 {
                return Err("value: longer than 64 KiB".into());
            }
            if m.ty == "json" {
                serde_json::from_str::<serde_json::Value>(&m.value)
                    .map_err(|e| format!("value: not JSON: {e}"))?;
            }
        }
        ShopifyOperation::HoldFulfillment(h) => {
            own_id("order", h.order_id, r.order_id).map_err(|m| format!("order-id: {m}"))?;
            text("notes", &h.notes, 0, 255)?;
            handle(&h.handle)?;
        }
        ShopifyOperation::ReleaseFulfillment(h) => {
            own_id("order", h.order_id, r.order_id).map_err(|m| format!("order-id: {m}"))?;
            handle(&h.handle)?;
        }
        ShopifyOperation::CancelOrder(c) => {
            own_id("order", c.order_id, r.order_id).map_err(|m| format!("order-id: {m}"))?;
            text("staff-note", &c.staff_note, 0, 255)?;
        }
        ShopifyOperation::ApproveReturn(a) => {
            own_id("return", a.return_id, r.return_id).map_err(|m| format!("return-id: {m}"))?;
        }
        ShopifyOperation::DeclineReturn(d) => {
            own_id("return", d.return_id, r.return_id).map_err(|m| format!("return-id: {m}"))?;
            text("note", &d.note, 0, 500)?;
        }
        ShopifyOperation::Refund(f) => {
            own_id("order", f.order_id, r.order_id).map_err(|m| format!("order-id: {m}"))?;
            money("amount", &f.amount)?;
            currency(&f.currency)?;
            text("note", &f.note, 0, 255)?;
        }
        ShopifyOperation::StoreCredit(s) => {
            own_id("customer", s.customer_id, r.customer_id)
                .map_err(|m| format!("customer-id: {m}"))?;
            money("amount", &s.amount)?;
            currency(&s.currency)?;
            opt_time("expires-at", s.expires_at.as_deref())?;
        }
    }
    Ok(())
}

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
}

/// The first 40 characters of untrusted text, for error messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).filter(|c| !c.is_control()).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

fn text(field: &str, s: &str, min: usize, max: usize) -> Check {
    let n = s.chars().count();
    if n < min {
        return Err(format!("{field}: must not be empty"));
    }
    if n > max {
        return Err(format!("{field}: {n} characters, more than {max}"));
    }
    if has_control(s) {
        return Err(format!("{field}: contains control characters"));
    }
    Ok(())
}

/// User and group names: 1-128 printable characters.
fn name(field: &str, s: &str) -> Check {
    text(field, s, 1, 128)
}

fn opt_name(field: &str, s: Option<&str>) -> Check {
    s.map_or(Ok(()), |s| name(field, s))
}

fn opt_time(field: &str, s: Option<&str>) -> Check {
    match s {
        Some(s) => crate::time::parse(s)
            .map(|_| ())
            .map_err(|e| format!("{field}: {e}")),
        None => Ok(()),
    }
}

fn code(field: &str, s: &str) -> Check {
    if s.is_empty()
        || s.len() > 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!(
            "{field}: `{}` must be 1-64 letters, digits, `-`, `_` or `.`",
            clip(s)
        ));
    }
    Ok(())
}

fn handle(s: &str) -> Check {
    if s.is_empty()
        || s.len() > 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    {
        return Err(format!(
            "handle: `{}` must be 1-64 of a-z, 0-9, `-`, `_` or `.`",
            clip(s)
        ));
    }
    Ok(())
}

fn attributes(attrs: &[Attribute]) -> Check {
    if attrs.len() > 64 {
        return Err("attributes: more than 64".into());
    }
    for a in attrs {
        if a.name.is_empty()
            || a.name.len() > 64
            || !a
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(format!(
                "attributes: name `{}` must be 1-64 letters, digits, `-` or `_`",
                clip(&a.name)
            ));
        }
        text(&format!("attributes.{}", a.name), &a.value, 0, 4096)?;
    }
    Ok(())
}

fn document(d: &Document) -> Check {
    if d.name.is_empty()
        || d.name.chars().count() > 128
        || d.name.contains(['/', '\\'])
        || d.name.starts_with('.')
        || has_control(&d.name)
    {
        return Err(format!(
            "name: `{}` must be 1-128 characters, no path separators, not starting with `.`",
            clip(&d.name)
        ));
    }
    let ct = &d.content_type;
    let ok_ct = ct.len() <= 100
        && ct.split_once('/').is_some_and(|(a, b)| {
            let tok = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"-+.".contains(&c))
            };
            tok(a) && tok(b.split(';').next().unwrap_or("").trim())
        });
    if !ok_ct {
        return Err(format!("content-type: `{}` is not a MIME type", clip(ct)));
    }
    text("description", &d.description, 0, 500)
}

/// Decimal strings with at most two decimals, more than zero, at most 12 digits before the point.
fn money(field: &str, s: &str) -> Check {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let ok = !int.is_empty()
        && int.len() <= 12
        && digits(int)
        && frac.len() <= 2
        && digits(frac)
        && !(s.contains('.') && frac.is_empty());
    if !ok {
        return Err(format!(
            "{field}: `{}` is not an amount like 129.90",
            clip(s)
        ));
    }
    if s.bytes().all(|b| b == b'0' || b == b'.') {
        return Err(format!("{field}: must be more than zero"));
    }
    Ok(())
}

fn currency(s: &str) -> Check {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "currency: `{}` is not an ISO 4217 code like EUR",
            clip(s)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants() -> Grants {
        Grants {
            actions: ActionKind::ALL.iter().copied().collect(),
            case_types: ["fraud-investigation".to_owned()].into(),
            ..Grants::default()
        }
    }

    fn resources() -> Resources {
        Resources {
            order_id: Some(10),
            customer_id: Some(20),
            return_id: Some(30),
            ..Resources::default()
        }
    }

    fn check(actions: &[Action], grants: &Grants) -> Result<(), String> {
        let r = resources();
        validate(
            actions,
            Scope {
                grants,
                resources: &r,
                triggered_at: "2026-11-26T10:00:00Z",
            },
        )
        .map_err(|e| e.to_string())
    }

    fn open(order: u64) -> Action {
        Action::OpenCase(OpenCase {
            key: CaseKey {
                case_type: "fraud-investigation".into(),
                subject: Subject::Order(order),
            },
            title: "Suspected fraud".into(),
            summary: "score 80".into(),
            priority: Priority::High,
            owner: None,
            owner_group: Some("fraud-team".into()),
            due: Some("2026-11-27T10:00:00Z".into()),
            attributes: vec![Attribute {
                name: "score".into(),
                value: "80".into(),
            }],
            documents: vec![],
        })
    }

    fn tags(target: Target, tags: &[&str]) -> Action {
        Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
            target,
            tags: tags.iter().map(|s| s.to_string()).collect(),
        }))
    }

    #[test]
    fn own_resources_pass() {
        check(&[open(10), tags(Target::Customer(20), &["vip"])], &grants()).unwrap();
    }

    #[test]
    fn another_order_is_refused() {
        let err = check(&[tags(Target::Order(10), &["a"]), open(11)], &grants()).unwrap_err();
        assert_eq!(
            err,
            "action 1 (open-case): key: order 11 is not this event's order (10)"
        );
        let err = check(&[tags(Target::Order(99), &["a"])], &grants()).unwrap_err();
        assert_eq!(
            err,
            "action 0 (tags-add): target: order 99 is not this event's order (10)"
        );
    }

    #[test]
    fn ungranted_kinds_and_case_types_are_refused() {
        let mut g = grants();
        g.actions.remove(&ActionKind::TagsAdd);
        let err = check(&[tags(Target::Order(10), &["a"])], &g).unwrap_err();
        assert!(
            err.contains("does not grant action kind `tags-add`"),
            "{err}"
        );

        let mut g = grants();
        g.case_types = ["other".to_owned()].into();
        let err = check(&[open(10)], &g).unwrap_err();
        assert!(
            err.contains("does not grant case type `fraud-investigation`"),
            "{err}"
        );
    }

    #[test]
    fn held_operations_need_their_own_grant() {
        let mut g = grants();
        g.actions.remove(&ActionKind::Refund);
        let a = Action::RequestApproval(RequestApproval {
            key: CaseKey {
                case_type: "fraud-investigation".into(),
                subject: Subject::Order(10),
            },
            title: "Refund 900".into(),
            description: String::new(),
            approver_group: "finance".into(),
            due: None,
            operation: ShopifyOperation::Refund(Refund {
                order_id: 10,
                amount: "900.00".into(),
                currency: "EUR".into(),
                note: String::new(),
                notify_customer: true,
            }),
        });
        let err = check(std::slice::from_ref(&a), &g).unwrap_err();
        assert!(
            err.contains("operation: the manifest does not grant action kind `refund`"),
            "{err}"
        );
        check(&[a], &grants()).unwrap();
    }

    #[test]
    fn sizes_and_formats_are_enforced() {
        let long_title = {
            let mut a = open(10);
            if let Action::OpenCase(o) = &mut a {
                o.title = "x".repeat(201);
            }
            a
        };
        assert!(
            check(&[long_title], &grants())
                .unwrap_err()
                .contains("title: 201 characters, more than 200")
        );
        assert!(
            check(&[tags(Target::Order(10), &["a,b"])], &grants())
                .unwrap_err()
                .contains("without commas")
        );
        let refund = |amount: &str, cur: &str| {
            Action::Shopify(ShopifyOperation::Refund(Refund {
                order_id: 10,
                amount: amount.into(),
                currency: cur.into(),
                note: String::new(),
                notify_customer: false,
            }))
        };
        for (amount, cur, want) in [
            ("12.5", "EUR", None),
            ("0.00", "EUR", Some("more than zero")),
            ("-1", "EUR", Some("not an amount")),
            ("1.234", "EUR", Some("not an amount")),
            ("1e3", "EUR", Some("not an amount")),
            ("12.", "EUR", Some("not an amount")),
            ("10", "eur", Some("ISO 4217")),
        ] {
            let r = check(&[refund(amount, cur)], &grants());
            match want {
                None => r.unwrap(),
                Some(w) => assert!(r.unwrap_err().contains(w), "{amount} {cur}"),
            }
        }
        let far = Action::FollowUp(FollowUp {
            name: "sla".into(),
            due: "2028-01-01T00:00:00Z".into(),
            data: "{}".into(),
        });
        assert!(
            check(&[far], &grants())
                .unwrap_err()
                .contains("more than 366 days")
        );
        // A due time already past is valid (an estimate that has passed):
        // the host fires it shortly after scheduling it.
        let past = Action::FollowUp(FollowUp {
            name: "sla".into(),
            due: "2026-11-25T10:00:00Z".into(),
            data: "{}".into(),
        });
        check(&[past], &grants()).unwrap();
    }

    #[test]
    fn too_many_actions_are_refused() {
        let many: Vec<_> = (0..=MAX_ACTIONS)
            .map(|_| tags(Target::Order(10), &["a"]))
            .collect();
        assert!(
            check(&many, &grants())
                .unwrap_err()
                .contains("more than 64 actions")
        );
    }
}
