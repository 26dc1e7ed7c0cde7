//! The actions a plugin returns, in the host's own (version-independent)
//! form. Each supported WIT version converts its generated types into these;
//! the action journal stores them as JSON (`{"kind": "open-case", ...}`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Case priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

impl Priority {
    /// Core Case's spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            Priority::Low => "LOW",
            Priority::Medium => "MEDIUM",
            Priority::High => "HIGH",
            Priority::Critical => "CRITICAL",
        }
    }

    /// From Core Case's spelling.
    pub fn from_api(s: &str) -> Option<Priority> {
        Some(match s {
            "LOW" => Priority::Low,
            "MEDIUM" => Priority::Medium,
            "HIGH" => Priority::High,
            "CRITICAL" => Priority::Critical,
            _ => return None,
        })
    }
}

/// Case lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseStatus {
    New,
    InProgress,
    OnHold,
    PendingApproval,
    Approved,
    Rejected,
    Resolved,
    Closed,
    Cancelled,
    Reopened,
}

impl CaseStatus {
    /// Every status.
    pub const ALL: &[CaseStatus] = &[
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

    /// Core Case's spelling, e.g. `IN_PROGRESS`.
    pub fn as_api(self) -> &'static str {
        match self {
            CaseStatus::New => "NEW",
            CaseStatus::InProgress => "IN_PROGRESS",
            CaseStatus::OnHold => "ON_HOLD",
            CaseStatus::PendingApproval => "PENDING_APPROVAL",
            CaseStatus::Approved => "APPROVED",
            CaseStatus::Rejected => "REJECTED",
            CaseStatus::Resolved => "RESOLVED",
            CaseStatus::Closed => "CLOSED",
            CaseStatus::Cancelled => "CANCELLED",
            CaseStatus::Reopened => "REOPENED",
        }
    }

    /// From Core Case's spelling.
    pub fn from_api(s: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.iter().copied().find(|c| c.as_api() == s)
    }

    /// Lowercase kebab spelling, as in tags (`case:fraud:in-progress`).
    pub fn as_kebab(self) -> &'static str {
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

    /// Whether the case is still being worked on.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseStatus::Resolved | CaseStatus::Closed | CaseStatus::Cancelled
        )
    }
}

/// What a case is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    Order(u64),
    Return(u64),
    Dispute(u64),
    Customer(u64),
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

    /// The id.
    pub fn id(self) -> u64 {
        match self {
            Subject::Order(i) | Subject::Return(i) | Subject::Dispute(i) | Subject::Customer(i) => {
                i
            }
        }
    }
}

/// One case: type and subject.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CaseKey {
    pub case_type: String,
    pub subject: Subject,
}

impl CaseKey {
    /// The Core Case `externalReference`: `<shop>:<kind>:<id>:<case type>`.
    pub fn external_reference(&self, shop: &str) -> String {
        format!(
            "{shop}:{}:{}:{}",
            self.subject.kind(),
            self.subject.id(),
            self.case_type
        )
    }
}

impl fmt::Display for CaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.case_type,
            self.subject.kind(),
            self.subject.id()
        )
    }
}

/// A custom attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

/// A file for a case. `content` is base64 in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub name: String,
    pub content_type: String,
    pub description: String,
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCase {
    pub key: CaseKey,
    pub title: String,
    pub summary: String,
    pub priority: Priority,
    pub owner: Option<String>,
    pub owner_group: Option<String>,
    pub due: Option<String>,
    pub attributes: Vec<Attribute>,
    pub documents: Vec<Document>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub code: String,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCase {
    pub key: CaseKey,
    pub status: Option<CaseStatus>,
    pub reason: Option<String>,
    pub resolution: Option<Resolution>,
    pub priority: Option<Priority>,
    pub owner: Option<String>,
    pub owner_group: Option<String>,
    pub due: Option<String>,
    pub escalation_level: Option<u8>,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Visibility {
    Internal,
    Public,
}

impl Visibility {
    /// Core Case's spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            Visibility::Internal => "INTERNAL",
            Visibility::Public => "PUBLIC",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub key: CaseKey,
    pub text: String,
    pub visibility: Visibility,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachDocument {
    pub key: CaseKey,
    pub document: Document,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTask {
    pub key: CaseKey,
    pub title: String,
    pub description: String,
    pub team: String,
    pub owner: Option<String>,
    pub due: Option<String>,
}

/// The event's own order or customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Order(u64),
    Customer(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsChange {
    pub target: Target,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteAppend {
    pub target: Target,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metafield {
    pub target: Target,
    pub namespace: String,
    pub key: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HoldReason {
    AwaitingPayment,
    HighRiskOfFraud,
    IncorrectAddress,
    InventoryOutOfStock,
    UnknownDeliveryDate,
    AwaitingReturnItems,
    Other,
}

impl HoldReason {
    /// Shopify's `FulfillmentHoldReason` spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            HoldReason::AwaitingPayment => "AWAITING_PAYMENT",
            HoldReason::HighRiskOfFraud => "HIGH_RISK_OF_FRAUD",
            HoldReason::IncorrectAddress => "INCORRECT_ADDRESS",
            HoldReason::InventoryOutOfStock => "INVENTORY_OUT_OF_STOCK",
            HoldReason::UnknownDeliveryDate => "UNKNOWN_DELIVERY_DATE",
            HoldReason::AwaitingReturnItems => "AWAITING_RETURN_ITEMS",
            HoldReason::Other => "OTHER",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldFulfillment {
    pub order_id: u64,
    pub reason: HoldReason,
    pub notes: String,
    pub handle: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseFulfillment {
    pub order_id: u64,
    pub handle: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancelReason {
    Customer,
    Declined,
    Fraud,
    Inventory,
    Staff,
    Other,
}

impl CancelReason {
    /// Shopify's `OrderCancelReason` spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            CancelReason::Customer => "CUSTOMER",
            CancelReason::Declined => "DECLINED",
            CancelReason::Fraud => "FRAUD",
            CancelReason::Inventory => "INVENTORY",
            CancelReason::Staff => "STAFF",
            CancelReason::Other => "OTHER",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelOrder {
    pub order_id: u64,
    pub reason: CancelReason,
    pub restock: bool,
    pub notify_customer: bool,
    pub staff_note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproveReturn {
    pub return_id: u64,
    pub notify_customer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeclineReason {
    FinalSale,
    ReturnPeriodEnded,
    Other,
}

impl DeclineReason {
    /// Shopify's `ReturnDeclineReason` spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            DeclineReason::FinalSale => "FINAL_SALE",
            DeclineReason::ReturnPeriodEnded => "RETURN_PERIOD_ENDED",
            DeclineReason::Other => "OTHER",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclineReturn {
    pub return_id: u64,
    pub reason: DeclineReason,
    pub note: String,
    pub notify_customer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub order_id: u64,
    pub amount: String,
    pub currency: String,
    pub note: String,
    pub notify_customer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCredit {
    pub customer_id: u64,
    pub amount: String,
    pub currency: String,
    pub expires_at: Option<String>,
    pub notify_customer: bool,
}

/// An operation on the event's store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ShopifyOperation {
    TagsAdd(TagsChange),
    TagsRemove(TagsChange),
    NoteAppend(NoteAppend),
    SetMetafield(Metafield),
    HoldFulfillment(HoldFulfillment),
    ReleaseFulfillment(ReleaseFulfillment),
    CancelOrder(CancelOrder),
    ApproveReturn(ApproveReturn),
    DeclineReturn(DeclineReturn),
    Refund(Refund),
    StoreCredit(StoreCredit),
}

impl ShopifyOperation {
    /// The grant this operation needs.
    pub fn kind(&self) -> ActionKind {
        match self {
            ShopifyOperation::TagsAdd(_) => ActionKind::TagsAdd,
            ShopifyOperation::TagsRemove(_) => ActionKind::TagsRemove,
            ShopifyOperation::NoteAppend(_) => ActionKind::NoteAppend,
            ShopifyOperation::SetMetafield(_) => ActionKind::SetMetafield,
            ShopifyOperation::HoldFulfillment(_) => ActionKind::HoldFulfillment,
            ShopifyOperation::ReleaseFulfillment(_) => ActionKind::ReleaseFulfillment,
            ShopifyOperation::CancelOrder(_) => ActionKind::CancelOrder,
            ShopifyOperation::ApproveReturn(_) => ActionKind::ApproveReturn,
            ShopifyOperation::DeclineReturn(_) => ActionKind::DeclineReturn,
            ShopifyOperation::Refund(_) => ActionKind::Refund,
            ShopifyOperation::StoreCredit(_) => ActionKind::StoreCredit,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestApproval {
    pub key: CaseKey,
    pub title: String,
    pub description: String,
    pub approver_group: String,
    pub due: Option<String>,
    pub operation: ShopifyOperation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub name: String,
    pub due: String,
    pub data: String,
}

/// Something a plugin asks the host to do.
///
/// JSON: `{"kind": "<action kind>", ...fields}`; Shopify operations are
/// flattened (`{"kind": "tags-add", "target": ..., "tags": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    OpenCase(OpenCase),
    UpdateCase(UpdateCase),
    Comment(Comment),
    AttachDocument(AttachDocument),
    CreateTask(CreateTask),
    RequestApproval(RequestApproval),
    FollowUp(FollowUp),
    #[serde(untagged)]
    Shopify(ShopifyOperation),
}

impl Action {
    /// The grant this action needs.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::OpenCase(_) => ActionKind::OpenCase,
            Action::UpdateCase(_) => ActionKind::UpdateCase,
            Action::Comment(_) => ActionKind::Comment,
            Action::AttachDocument(_) => ActionKind::AttachDocument,
            Action::CreateTask(_) => ActionKind::CreateTask,
            Action::RequestApproval(_) => ActionKind::RequestApproval,
            Action::FollowUp(_) => ActionKind::FollowUp,
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

/// Action kinds, as granted in manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    OpenCase,
    UpdateCase,
    Comment,
    AttachDocument,
    CreateTask,
    RequestApproval,
    FollowUp,
    TagsAdd,
    TagsRemove,
    NoteAppend,
    SetMetafield,
    HoldFulfillment,
    ReleaseFulfillment,
    CancelOrder,
    ApproveReturn,
    DeclineReturn,
    Refund,
    StoreCredit,
}

impl ActionKind {
    /// Every kind.
    pub const ALL: &[ActionKind] = &[
        ActionKind::OpenCase,
        ActionKind::UpdateCase,
        ActionKind::Comment,
        ActionKind::AttachDocument,
        ActionKind::CreateTask,
        ActionKind::RequestApproval,
        ActionKind::FollowUp,
        ActionKind::TagsAdd,
        ActionKind::TagsRemove,
        ActionKind::NoteAppend,
        ActionKind::SetMetafield,
        ActionKind::HoldFulfillment,
        ActionKind::ReleaseFulfillment,
        ActionKind::CancelOrder,
        ActionKind::ApproveReturn,
        ActionKind::DeclineReturn,
        ActionKind::Refund,
        ActionKind::StoreCredit,
    ];

    /// The manifest spelling, e.g. `hold-fulfillment`.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::OpenCase => "open-case",
            ActionKind::UpdateCase => "update-case",
            ActionKind::Comment => "comment",
            ActionKind::AttachDocument => "attach-document",
            ActionKind::CreateTask => "create-task",
            ActionKind::RequestApproval => "request-approval",
            ActionKind::FollowUp => "follow-up",
            ActionKind::TagsAdd => "tags-add",
            ActionKind::TagsRemove => "tags-remove",
            ActionKind::NoteAppend => "note-append",
            ActionKind::SetMetafield => "set-metafield",
            ActionKind::HoldFulfillment => "hold-fulfillment",
            ActionKind::ReleaseFulfillment => "release-fulfillment",
            ActionKind::CancelOrder => "cancel-order",
            ActionKind::ApproveReturn => "approve-return",
            ActionKind::DeclineReturn => "decline-return",
            ActionKind::Refund => "refund",
            ActionKind::StoreCredit => "store-credit",
        }
    }

    /// From the manifest spelling.
    pub fn parse(s: &str) -> Option<ActionKind> {
        ActionKind::ALL.iter().copied().find(|k| k.name() == s)
    }

    /// Whether the action acts on a Core Case case.
    pub fn is_case_action(self) -> bool {
        matches!(
            self,
            ActionKind::OpenCase
                | ActionKind::UpdateCase
                | ActionKind::Comment
                | ActionKind::AttachDocument
                | ActionKind::CreateTask
                | ActionKind::RequestApproval
        )
    }

    /// Whether the action is a Shopify operation.
    pub fn is_shopify(self) -> bool {
        !self.is_case_action() && self != ActionKind::FollowUp
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Case types: 1-64 of `a-z0-9-`.
pub fn is_case_type(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_serialise_flat_with_their_kind() {
        let a = Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
            target: Target::Order(7),
            tags: vec!["fraud-review".into()],
        }));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "tags-add", "target": {"order": 7}, "tags": ["fraud-review"]})
        );
        let back: Action = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);

        let f = Action::FollowUp(FollowUp {
            name: "sla".into(),
            due: "2026-11-27T00:00:00Z".into(),
            data: "{}".into(),
        });
        let json = serde_json::to_string(&f).unwrap();
        assert!(json.starts_with(r#"{"kind":"follow-up""#), "{json}");
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), f);
    }

    #[test]
    fn documents_are_base64_in_json() {
        let d = Document {
            name: "a.txt".into(),
            content_type: "text/plain".into(),
            description: String::new(),
            content: b"hi".to_vec(),
        };
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["content"], "aGk=");
        assert_eq!(serde_json::from_value::<Document>(json).unwrap(), d);
    }

    #[test]
    fn kinds_round_trip_and_classify() {
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::parse(k.name()), Some(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
        assert!(ActionKind::RequestApproval.is_case_action());
        assert!(ActionKind::Refund.is_shopify());
        assert!(!ActionKind::FollowUp.is_shopify());
    }

    #[test]
    fn external_reference_names_shop_subject_and_type() {
        let k = CaseKey {
            case_type: "fraud-investigation".into(),
            subject: Subject::Order(5834211000321),
        };
        assert_eq!(
            k.external_reference("shop.myshopify.com"),
            "shop.myshopify.com:order:5834211000321:fraud-investigation"
        );
    }
}
