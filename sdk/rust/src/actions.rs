//! Builders for the actions a plugin returns, and their conversions into
//! [`Action`].
//!
//! Each case action starts from a constructor with its required fields
//! ([`OpenCase::new`], [`UpdateCase::new`], [`Comment::internal`],
//! [`CreateTask::new`], [`RequestApproval::new`], [`FollowUp::at`], ...);
//! optional fields are chained; `.into()` makes an [`Action`]. The host checks
//! sizes and formats (see `wit/v0.1.0/types.wit`); these builders do not, so
//! the harness reports exactly what the host would.

use crate::{
    Action, AttachDocument, Attribute, CaseKey, CaseStatus, Comment, CreateTask, Document,
    FollowUp, OpenCase, Priority, RequestApproval, Resolution, ShopifyOperation, Subject,
    UpdateCase, Visibility,
};

impl CaseKey {
    /// A case key: a case type granted in the manifest and the event's own
    /// subject. See also [`crate::Event::order_key`] and friends.
    pub fn new(case_type: impl Into<String>, subject: Subject) -> CaseKey {
        CaseKey {
            case_type: case_type.into(),
            subject,
        }
    }
}

impl Subject {
    /// `order`, `return`, `dispute` or `customer`.
    pub fn kind(self) -> &'static str {
        match self {
            Subject::Order(_) => "order",
            Subject::Return(_) => "return",
            Subject::Dispute(_) => "dispute",
            Subject::Customer(_) => "customer",
        }
    }

    /// The Shopify id.
    pub fn id(self) -> u64 {
        match self {
            Subject::Order(i) | Subject::Return(i) | Subject::Dispute(i) | Subject::Customer(i) => {
                i
            }
        }
    }
}

impl Priority {
    /// Every priority, lowest first.
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Critical,
    ];

    /// The contract's spelling: `low`, `medium`, `high`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }

    /// From the contract's spelling (as in `corecase/case-updated`).
    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl CaseStatus {
    /// Every status.
    pub const ALL: [CaseStatus; 10] = [
        CaseStatus::New,
        CaseStatus::InProgress,
        CaseStatus::OnHold,
        CaseStatus::PendingApproval,
        CaseStatus::Approved,
        CaseStatus::Rejected,
        CaseStatus::Resolved,
        CaseStatus::Closed,
        CaseStatus::Cancelled,
        CaseStatus::Reopened,
    ];

    /// The contract's kebab-case spelling, e.g. `in-progress`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::InProgress => "in-progress",
            CaseStatus::OnHold => "on-hold",
            CaseStatus::PendingApproval => "pending-approval",
            CaseStatus::Approved => "approved",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Closed => "closed",
            CaseStatus::Cancelled => "cancelled",
            CaseStatus::Reopened => "reopened",
        }
    }

    /// From the kebab-case spelling (as in `corecase/case-updated`).
    pub fn parse(s: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the case is still being worked on (not resolved, closed or
    /// cancelled).
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseStatus::Resolved | CaseStatus::Closed | CaseStatus::Cancelled
        )
    }
}

impl Document {
    /// A file with any content type.
    pub fn new(
        name: impl Into<String>,
        content_type: impl Into<String>,
        description: impl Into<String>,
        content: impl Into<Vec<u8>>,
    ) -> Document {
        Document {
            name: name.into(),
            content_type: content_type.into(),
            description: description.into(),
            content: content.into(),
        }
    }

    /// A Markdown file (`text/markdown`), e.g. an order dossier.
    pub fn markdown(
        name: impl Into<String>,
        description: impl Into<String>,
        text: impl Into<String>,
    ) -> Document {
        Document::new(name, "text/markdown", description, text.into().into_bytes())
    }

    /// A plain text file (`text/plain`).
    pub fn text(
        name: impl Into<String>,
        description: impl Into<String>,
        text: impl Into<String>,
    ) -> Document {
        Document::new(name, "text/plain", description, text.into().into_bytes())
    }

    /// A JSON file (`application/json`), pretty-printed.
    pub fn json(
        name: impl Into<String>,
        description: impl Into<String>,
        value: &serde_json::Value,
    ) -> Document {
        // Serialising a `Value` cannot fail (its keys are strings).
        let bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
        Document::new(name, "application/json", description, bytes)
    }
}

impl Attribute {
    /// A case attribute.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Attribute {
        Attribute {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl OpenCase {
    /// Open (or update) the case for `key` with a title; the priority is
    /// `medium` until set.
    pub fn new(key: CaseKey, title: impl Into<String>) -> OpenCase {
        OpenCase {
            key,
            title: title.into(),
            summary: String::new(),
            priority: Priority::Medium,
            owner: None,
            owner_group: None,
            due: None,
            attributes: Vec::new(),
            documents: Vec::new(),
        }
    }

    /// What happened and what is asked of the case worker.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = summary.into();
        self
    }

    /// How urgent the case is.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Assign to one case worker.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// The team that owns the case.
    pub fn owner_group(mut self, group: impl Into<String>) -> Self {
        self.owner_group = Some(group.into());
        self
    }

    /// When the case is due (RFC 3339, or a [`crate::Timestamp`]).
    pub fn due(mut self, due: impl Into<String>) -> Self {
        self.due = Some(due.into());
        self
    }

    /// Add a custom attribute (kept in the order added).
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute::new(name, value));
        self
    }

    /// Attach a file when the case is opened.
    pub fn document(mut self, document: Document) -> Self {
        self.documents.push(document);
        self
    }
}

impl UpdateCase {
    /// Change the case linked to `key`; nothing changes until fields are set.
    pub fn new(key: CaseKey) -> UpdateCase {
        UpdateCase {
            key,
            status: None,
            reason: None,
            resolution: None,
            priority: None,
            owner: None,
            owner_group: None,
            due: None,
            escalation_level: None,
            attributes: Vec::new(),
        }
    }

    /// Move the case to a status (see [`CaseStatus`] for the legal moves).
    pub fn status(mut self, status: CaseStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Why the status changes, for the case history.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// How the case ended: a short code (e.g. `refund-issued`) and notes.
    pub fn resolution(mut self, code: impl Into<String>, notes: impl Into<String>) -> Self {
        self.resolution = Some(Resolution {
            code: code.into(),
            notes: notes.into(),
        });
        self
    }

    /// Change the priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Assign to one case worker.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Hand the case to a team.
    pub fn owner_group(mut self, group: impl Into<String>) -> Self {
        self.owner_group = Some(group.into());
        self
    }

    /// Change the due date (RFC 3339, or a [`crate::Timestamp`]).
    pub fn due(mut self, due: impl Into<String>) -> Self {
        self.due = Some(due.into());
        self
    }

    /// Set the escalation level, 0 (none) to 5.
    pub fn escalation_level(mut self, level: u8) -> Self {
        self.escalation_level = Some(level);
        self
    }

    /// Set a custom attribute (other attributes are kept).
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute::new(name, value));
        self
    }
}

impl Comment {
    /// A comment for case workers only.
    pub fn internal(key: CaseKey, text: impl Into<String>) -> Comment {
        Comment {
            key,
            text: text.into(),
            visibility: Visibility::Internal,
        }
    }

    /// A comment shown wherever Core Case shows public comments.
    pub fn public(key: CaseKey, text: impl Into<String>) -> Comment {
        Comment {
            key,
            text: text.into(),
            visibility: Visibility::Public,
        }
    }
}

impl AttachDocument {
    /// Attach a file to the case linked to `key`.
    pub fn new(key: CaseKey, document: Document) -> AttachDocument {
        AttachDocument { key, document }
    }
}

impl CreateTask {
    /// A work item on the case for a team.
    pub fn new(key: CaseKey, title: impl Into<String>, team: impl Into<String>) -> CreateTask {
        CreateTask {
            key,
            title: title.into(),
            description: String::new(),
            team: team.into(),
            owner: None,
            due: None,
        }
    }

    /// What is to be done.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// A named person in the team.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// When the task is due (RFC 3339, or a [`crate::Timestamp`]).
    pub fn due(mut self, due: impl Into<String>) -> Self {
        self.due = Some(due.into());
        self
    }
}

impl RequestApproval {
    /// Hold `operation` until `approver_group` approves it on the case linked
    /// to `key`. The operation needs its own grant too.
    pub fn new(
        key: CaseKey,
        title: impl Into<String>,
        approver_group: impl Into<String>,
        operation: impl Into<ShopifyOperation>,
    ) -> RequestApproval {
        RequestApproval {
            key,
            title: title.into(),
            description: String::new(),
            approver_group: approver_group.into(),
            due: None,
            operation: operation.into(),
        }
    }

    /// Why approval is needed.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// When the approval is due (RFC 3339, or a [`crate::Timestamp`]).
    pub fn due(mut self, due: impl Into<String>) -> Self {
        self.due = Some(due.into());
        self
    }
}

impl FollowUp {
    /// Be called again at `due` with a `timer/fired` event named `name`.
    /// Scheduling a name again replaces the pending timer. The data is `{}`
    /// until set.
    pub fn at(name: impl Into<String>, due: impl Into<String>) -> FollowUp {
        FollowUp {
            name: name.into(),
            due: due.into(),
            data: "{}".to_owned(),
        }
    }

    /// JSON handed back in the `timer/fired` payload (at most 4 KiB).
    pub fn data(mut self, data: &serde_json::Value) -> Self {
        self.data = data.to_string();
        self
    }
}

impl Action {
    /// The action's kind as granted in manifests, e.g. `open-case` or, for
    /// Shopify operations, the operation's name (`tags-add`).
    pub fn kind(&self) -> &'static str {
        match self {
            Action::OpenCase(_) => "open-case",
            Action::UpdateCase(_) => "update-case",
            Action::Comment(_) => "comment",
            Action::AttachDocument(_) => "attach-document",
            Action::CreateTask(_) => "create-task",
            Action::RequestApproval(_) => "request-approval",
            Action::FollowUp(_) => "follow-up",
            Action::Shopify(op) => op.kind(),
        }
    }

    /// The case this action is about, if it is a case action.
    pub fn case_key(&self) -> Option<&CaseKey> {
        match self {
            Action::OpenCase(a) => Some(&a.key),
            Action::UpdateCase(a) => Some(&a.key),
            Action::Comment(a) => Some(&a.key),
            Action::AttachDocument(a) => Some(&a.key),
            Action::CreateTask(a) => Some(&a.key),
            Action::RequestApproval(a) => Some(&a.key),
            Action::FollowUp(_) | Action::Shopify(_) => None,
        }
    }
}

macro_rules! into_action {
    ($($ty:ident),*) => {$(
        impl From<$ty> for Action {
            fn from(a: $ty) -> Action {
                Action::$ty(a)
            }
        }
    )*};
}

into_action!(
    OpenCase,
    UpdateCase,
    Comment,
    AttachDocument,
    CreateTask,
    RequestApproval,
    FollowUp
);

impl From<ShopifyOperation> for Action {
    fn from(op: ShopifyOperation) -> Action {
        Action::Shopify(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HoldReason, Target, shopify};

    fn key() -> CaseKey {
        CaseKey::new("fraud-investigation", Subject::Order(42))
    }

    #[test]
    fn open_case_builder_sets_every_field_in_order() {
        let a: Action = OpenCase::new(key(), "Suspicious order #1042")
            .summary("Score 80")
            .priority(Priority::High)
            .owner("alice")
            .owner_group("fraud-team")
            .due("2026-11-27T10:00:00Z")
            .attribute("orderName", "#1042")
            .attribute("score", "80")
            .document(Document::markdown("dossier.md", "Order dossier", "# #1042"))
            .into();
        let Action::OpenCase(o) = &a else {
            panic!("{a:?}")
        };
        assert_eq!(o.key, key());
        assert_eq!(o.title, "Suspicious order #1042");
        assert_eq!(o.summary, "Score 80");
        assert_eq!(o.priority, Priority::High);
        assert_eq!(o.owner.as_deref(), Some("alice"));
        assert_eq!(o.owner_group.as_deref(), Some("fraud-team"));
        assert_eq!(o.due.as_deref(), Some("2026-11-27T10:00:00Z"));
        let names: Vec<_> = o
            .attributes
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(names, [("orderName", "#1042"), ("score", "80")]);
        assert_eq!(o.documents[0].content_type, "text/markdown");
        assert_eq!(o.documents[0].content, b"# #1042");
        assert_eq!(a.kind(), "open-case");
        assert_eq!(a.case_key(), Some(&key()));
    }

    #[test]
    fn open_case_defaults_are_minimal() {
        let o = OpenCase::new(key(), "t");
        assert_eq!(o.priority, Priority::Medium);
        assert_eq!((o.owner, o.owner_group, o.due), (None, None, None));
        assert!(o.summary.is_empty() && o.attributes.is_empty() && o.documents.is_empty());
    }

    #[test]
    fn update_case_sets_only_what_is_asked() {
        let u = UpdateCase::new(key())
            .status(CaseStatus::Resolved)
            .reason("customer confirmed")
            .resolution("refund-issued", "refunded 20.00")
            .escalation_level(2)
            .attribute("decision", "release");
        assert_eq!(u.status, Some(CaseStatus::Resolved));
        assert_eq!(
            u.resolution.as_ref().map(|r| r.code.as_str()),
            Some("refund-issued")
        );
        assert_eq!(u.escalation_level, Some(2));
        assert_eq!(u.priority, None);
        assert_eq!(u.owner_group, None);
        assert_eq!(Action::from(u).kind(), "update-case");
    }

    #[test]
    fn other_case_actions() {
        let c = Comment::internal(key(), "note");
        assert_eq!(c.visibility, Visibility::Internal);
        assert_eq!(Comment::public(key(), "hi").visibility, Visibility::Public);
        let t = CreateTask::new(key(), "Check carrier scan", "carrier-management")
            .description("Call UPS")
            .due("2026-11-28T00:00:00Z");
        assert_eq!(t.team, "carrier-management");
        assert_eq!(t.owner, None);
        let r = RequestApproval::new(
            key(),
            "Refund 900.00 EUR",
            "finance-approvers",
            shopify::refund(42, "900.00", "EUR").note("goodwill"),
        )
        .description("Above the auto-refund limit");
        let ShopifyOperation::Refund(op) = &r.operation else {
            panic!("{r:?}")
        };
        assert_eq!(
            (op.order_id, op.amount.as_str(), op.note.as_str()),
            (42, "900.00", "goodwill")
        );
        let actions: Vec<Action> = vec![
            c.into(),
            t.into(),
            r.into(),
            AttachDocument::new(key(), Document::text("a.txt", "", "x")).into(),
            shopify::hold(42, HoldReason::HighRiskOfFraud, "fraud-review", "score 80").into(),
            shopify::tags_add(Target::Order(42), ["a"]).into(),
        ];
        let kinds: Vec<_> = actions.iter().map(Action::kind).collect();
        assert_eq!(
            kinds,
            [
                "comment",
                "create-task",
                "request-approval",
                "attach-document",
                "hold-fulfillment",
                "tags-add"
            ]
        );
        assert_eq!(actions[5].case_key(), None);
    }

    #[test]
    fn follow_up_data_is_json_text() {
        let f = FollowUp::at("sla-check", "2026-11-27T10:00:00Z");
        assert_eq!(f.data, "{}");
        let f = f.data(&serde_json::json!({"level": 1}));
        assert_eq!(f.data, r#"{"level":1}"#);
        let due = crate::Timestamp::parse("2026-11-26T10:00:00Z")
            .unwrap()
            .plus_days(1);
        assert_eq!(FollowUp::at("x", due).due, "2026-11-27T10:00:00Z");
    }

    #[test]
    fn documents_and_enums() {
        let d = Document::json("o.json", "order", &serde_json::json!({"a": 1}));
        assert_eq!(d.content_type, "application/json");
        assert_eq!(String::from_utf8(d.content).unwrap(), "{\n  \"a\": 1\n}");
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
        }
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CaseStatus::parse("IN_PROGRESS"), None);
        assert!(CaseStatus::OnHold.is_open() && !CaseStatus::Closed.is_open());
        assert_eq!(
            (Subject::Return(5).kind(), Subject::Return(5).id()),
            ("return", 5)
        );
    }
}
