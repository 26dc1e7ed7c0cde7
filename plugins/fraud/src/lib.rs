//! # fraud: risk-scored orders as fraud investigations
//!
//! Scores every new order on risk signals; at or above the store's
//! `score-threshold` it opens a `fraud-investigation` case with an evidence
//! document, holds the order's fulfilment (handle `fraud-review`), tags it,
//! and sets a timer at the review's due date. The analyst's decision in
//! Core Case (case attribute `decision`: `cancel`, `hold`, `release`) is
//! carried out in Shopify. Rules, settings and grants for admins are in
//! `docs/scenarios.md`.
//!
//! Signals (points are settings; each has a code, its points and a reason):
//! Shopify's risk assessment (high, medium; fetched with `order-risk` when
//! the order arrives), account age and unverified email, IP country vs
//! shipping country (from admin-listed IP ranges), high value on a first
//! order (graded by how far past the first-order value), an order far above
//! the customer's average, many units of one high-value line, billing vs
//! shipping mismatch (country, state, postal code), order velocity,
//! freight-forwarder and mail-drop addresses, and a bonus when the account,
//! the order value and the destination all have signals. The score is their
//! sum, capped at 100.
//!
//! Every scored order gets the breakdown as a metafield
//! (`shopcase.fraud-score`, JSON), below the threshold too, so the merchant
//! sees what was scored and why nothing happened.
//!
//! Shopify's risk assessment may also arrive (or change) after the order
//! (`orders/risk_assessment_changed`), so an order with any signal is
//! remembered (key-value store, 30 days) and re-scored when it comes.
//!
//! ```text
//! cargo test -p fraud
//! cargo build -p fraud --target wasm32-wasip2 --profile plugin
//! ```
//!
//! # Layout
//! - this file: the [`Fraud`] plugin, settings, the per-order memory, and
//!   the order and risk assessment handlers;
//! - `signals`: the signals and the score (pure);
//! - `ip`: admin-listed IP ranges (`CIDR=COUNTRY`);
//! - `evidence`: the evidence document;
//! - `review`: decisions (`corecase/case-updated`) and overdue reviews
//!   (`timer/fired`).

mod evidence;
mod ip;
mod review;
mod signals;

use plugin_kit::facts::{order_attributes, order_ref_attributes, with_attributes};
use plugin_kit::{settings, state, text};
use serde::{Deserialize, Serialize};
use shopcase_sdk::{
    Action, CaseKey, Comment, Event, FollowUp, HoldReason, OpenCase, Plugin, PluginError, Priority,
    Target, Timestamp, host, shopify,
};

use signals::{Extra, Rules, ShopifyRisk, Signal};

/// The case type this plugin opens (granted in `plugin.toml`).
pub const CASE_TYPE: &str = "fraud-investigation";

/// The handle of the fulfilment hold this plugin places and releases.
pub const HOLD_HANDLE: &str = "fraud-review";

/// The name of the timer set at the review's due date.
pub const REVIEW_TIMER: &str = "fraud-review-due";

/// The metafield on every scored order: namespace, key (type `json`).
pub const SCORE_METAFIELD: (&str, &str) = ("shopcase", "fraud-score");

/// How many times an overdue review is escalated.
pub(crate) const MAX_ESCALATIONS: u64 = 3;

/// The plugin.
#[derive(Debug)]
pub struct Fraud;

impl Plugin for Fraud {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let actions = match event.topic.as_str() {
            "orders/create" => on_order(event),
            "orders/risk_assessment_changed" => on_risk_assessment(event),
            "corecase/case-updated" => review::on_case_updated(event),
            "timer/fired" => review::on_timer(event),
            _ => Ok(vec![]),
        }?;
        // Every case gets its owner by the store's assignment rules.
        plugin_kit::assign::owners(actions)
    }
}

shopcase_sdk::export_plugin!(Fraud);

/// The settings that are not scoring rules.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) threshold: i64,
    pub(crate) critical: i64,
    pub(crate) owner_group: String,
    pub(crate) review_hours: i64,
    pub(crate) hold: bool,
    pub(crate) tag: Option<String>,
    pub(crate) decision_attribute: String,
    pub(crate) notify_on_cancel: bool,
}

impl Settings {
    pub(crate) fn read() -> Settings {
        Settings {
            threshold: settings::int("score-threshold", 60, 1, 100),
            critical: settings::int("critical-score", 85, 1, 100),
            owner_group: text::clip(&settings::text("owner-group", "fraud-team"), 128),
            review_hours: settings::int("review-hours", 24, 1, 336),
            hold: settings::flag("hold-fulfillment", true),
            tag: text::tag(&settings::text("tag", "fraud-review")),
            decision_attribute: settings::text("decision-attribute", "decision"),
            notify_on_cancel: settings::flag("notify-customer-on-cancel", false),
        }
    }
}

fn read_rules() -> Rules {
    let points = |name: &str, default: i64| settings::int(name, default, 0, 100);
    let (ip_ranges, bad) = ip::parse_ranges(&settings::list("ip-country-ranges", &[]));
    if !bad.is_empty() {
        shopcase_sdk::warn!(
            "ip-country-ranges: ignored malformed entries (want CIDR=COUNTRY): {}",
            bad.join(", ")
        );
    }
    Rules {
        shopify_high: points("points-shopify-high-risk", 60),
        shopify_medium: points("points-shopify-medium-risk", 30),
        ip_mismatch: points("points-ip-country-mismatch", 25),
        first_order_high_value: points("points-first-order-high-value", 25),
        billing_shipping: points("points-billing-shipping-mismatch", 20),
        velocity: points("points-velocity", 20),
        forwarder: points("points-freight-forwarder", 25),
        new_account: points("points-new-account", 15),
        unverified_email: points("points-unverified-email", 10),
        above_average: points("points-above-customer-average", 20),
        concentration: points("points-quantity-concentration", 15),
        mail_drop: points("points-mail-drop", 20),
        combination: points("points-combination", 10),
        first_order_value_cents: settings::cents("first-order-value", 500.0),
        velocity_orders: settings::int("velocity-orders", 3, 2, 50),
        velocity_hours: settings::int("velocity-hours", 24, 1, 720),
        new_account_days: settings::int("new-account-days", 7, 1, 365),
        average_multiple: settings::int("customer-average-multiple", 5, 2, 100),
        concentration_quantity: settings::int("concentration-quantity", 5, 2, 1000),
        concentration_value_cents: settings::cents("concentration-value", 500.0),
        forwarder_keywords: settings::list(
            "forwarder-keywords",
            &[
                "forwarder",
                "forwarding",
                "freight",
                "reship",
                "shipito",
                "myus",
                "planet express",
                "stackry",
                "borderlinx",
            ],
        ),
        forwarder_postal_codes: settings::list(
            "forwarder-postal-codes",
            &["US:19720", "US:19808", "US:97230", "US:97218", "US:33166"],
        ),
        mail_drop_keywords: settings::list("mail-drop-keywords", MAIL_DROP_KEYWORDS),
        ip_ranges,
    }
}

/// The default `mail-drop-keywords`.
pub(crate) const MAIL_DROP_KEYWORDS: &[&str] = &[
    "po box",
    "p o box",
    "pobox",
    "post office box",
    "postfach",
    "packstation",
    "parcel locker",
    "paketbox",
    "pmb",
    "private mailbox",
    "mail drop",
    "maildrop",
    "poste restante",
    "general delivery",
];

/// What the plugin remembers about a scored order (key `order:<id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Assessment {
    /// The order's signals, Shopify's risk assessment included.
    #[serde(default)]
    pub(crate) signals: Vec<Signal>,
    /// Shopify's latest risk level, if one arrived.
    #[serde(default)]
    pub(crate) shopify_level: Option<String>,
    /// Shopify's recommendation, when fetched with the order.
    #[serde(default)]
    pub(crate) shopify_recommendation: Option<String>,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) total: String,
    #[serde(default)]
    pub(crate) currency: String,
    #[serde(default)]
    pub(crate) case_opened: bool,
    #[serde(default)]
    pub(crate) due: Option<String>,
    /// Whether this plugin holds the order's fulfilment.
    #[serde(default)]
    pub(crate) held: bool,
    /// Whether this plugin tagged the order.
    #[serde(default)]
    pub(crate) tagged: bool,
}

impl Assessment {
    fn key(order_id: u64) -> String {
        format!("order:{order_id}")
    }

    pub(crate) fn load(order_id: u64) -> Result<Assessment, PluginError> {
        Ok(state::get_json(&Assessment::key(order_id))?.unwrap_or_default())
    }

    pub(crate) fn save(&self, order_id: u64) -> Result<(), PluginError> {
        // An order with a case is remembered as long as a review may last.
        let days = if self.case_opened { 90 } else { 30 };
        state::set_json(&Assessment::key(order_id), self, Some(state::days(days)))
    }

    fn score(&self) -> i64 {
        signals::score(&self.signals)
    }

    /// Replace the signals computed from the order, keeping Shopify's.
    fn set_order_signals(&mut self, new: Vec<Signal>) {
        self.signals.retain(|s| s.code == "shopify-risk");
        let shopify = std::mem::take(&mut self.signals);
        self.signals = new;
        self.signals.extend(shopify);
    }

    /// Replace Shopify's signal.
    fn set_shopify_signal(&mut self, signal: Option<Signal>) {
        self.signals.retain(|s| s.code != "shopify-risk");
        self.signals.extend(signal);
    }

    fn label(&self, order_id: u64) -> String {
        if self.name.is_empty() {
            format!("order {order_id}")
        } else {
            self.name.clone()
        }
    }
}

/// The part of an `orders/create` payload the typed view does not keep
/// apart: whether `verified_email` is there at all (absent or `null` is
/// unknown, not unverified).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawOrder {
    customer: Option<RawCustomer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawCustomer {
    verified_email: Option<bool>,
}

/// Shopify's assessment of the order as the host answers it now: `Ok(None)`
/// when it could not be fetched (logged; the later
/// `orders/risk_assessment_changed` adds it).
fn fetch_shopify_risk(order_id: u64) -> Option<ShopifyRisk> {
    match host::order_risk(order_id) {
        Ok(summary) => Some(ShopifyRisk::from_summary(&summary)),
        Err(e) => {
            shopcase_sdk::warn!(
                "Shopify's risk assessment of order {order_id} is not available ({e:?}): scored without it"
            );
            None
        }
    }
}

/// What scoring led to, for the metafield.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Below the threshold: the metafield is all.
    BelowThreshold,
    /// A case was opened (and the order held) by this event.
    CaseOpened,
    /// The order's case was already open; it was updated.
    UnderReview,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::BelowThreshold => "below-threshold",
            Outcome::CaseOpened => "case-opened",
            Outcome::UnderReview => "under-review",
        }
    }
}

/// The `shopcase.fraud-score` metafield: the score, the threshold, every
/// signal with its points and reason, Shopify's assessment, the outcome and
/// when it was scored (the event's time).
fn score_metafield(
    order_id: u64,
    a: &Assessment,
    s: &Settings,
    outcome: Outcome,
    scored_at: Timestamp,
    shopify_note: Option<&str>,
) -> Action {
    let signals: Vec<serde_json::Value> = a
        .signals
        .iter()
        .map(|sig| {
            serde_json::json!({
                "signal": sig.code,
                "points": sig.points,
                "reason": text::clip(&sig.detail, 500),
            })
        })
        .collect();
    let shopify = a.shopify_level.as_ref().map(|level| {
        serde_json::json!({
            "level": level,
            "recommendation": a.shopify_recommendation,
        })
    });
    let mut value = serde_json::json!({
        "score": a.score(),
        "threshold": s.threshold,
        "outcome": outcome.as_str(),
        "signals": signals,
        "shopify_risk": shopify,
        "scored_at": scored_at.to_string(),
    });
    if let Some(note) = shopify_note {
        value["note"] = serde_json::Value::from(note);
    }
    let (namespace, key) = SCORE_METAFIELD;
    shopify::set_metafield(
        Target::Order(order_id),
        namespace,
        key,
        "json",
        value.to_string(),
    )
    .into()
}

/// `orders/create`: score the order.
fn on_order(event: &Event) -> Result<Vec<Action>, PluginError> {
    let order = event.order()?;
    if order.test || order.is_cancelled() {
        return Ok(vec![]);
    }
    let order_id = event.order_id()?;
    let s = Settings::read();
    let rules = read_rules();
    let now = event.triggered_at()?;
    let history = match event.resources.customer_id {
        Some(id) => Some(host::customer_history(id)?),
        None => None,
    };
    let raw: RawOrder = event.payload().unwrap_or_default();
    let extra = Extra {
        verified_email: raw.customer.and_then(|c| c.verified_email),
    };
    let shopify_risk = fetch_shopify_risk(order_id);

    let mut a = Assessment::load(order_id)?;
    a.set_order_signals(signals::order_signals(
        &order,
        history.as_ref(),
        extra,
        now,
        &rules,
    ));
    let note = match &shopify_risk {
        Some(risk) => {
            if risk.level.is_some() {
                a.set_shopify_signal(risk.signal(&rules));
                a.shopify_level = risk.level.clone();
                a.shopify_recommendation = Some(risk.recommendation.clone());
            }
            None
        }
        None => Some(
            "Shopify's risk assessment was not available when the order was scored; it is added when Shopify sends it.",
        ),
    };
    a.name = order.name.clone();
    a.total = order.total_price.clone();
    a.currency = order.currency.clone();
    let score = a.score();
    if score < s.threshold && !a.case_opened {
        if !a.signals.is_empty() || a.shopify_level.is_some() {
            a.save(order_id)?;
        }
        shopcase_sdk::info!(
            "order {} scored {score}, below the threshold {}",
            order.name,
            s.threshold
        );
        return Ok(vec![score_metafield(
            order_id,
            &a,
            &s,
            Outcome::BelowThreshold,
            now,
            note,
        )]);
    }

    let key = event.order_key(CASE_TYPE)?;
    let first = !a.case_opened;
    let mut case = case_for(&key, &mut a, order_id, &s, now);
    case = with_attributes(case, order_attributes(&event.shop, &order));
    if first {
        case = case.document(evidence::evidence(
            &order,
            &a.signals,
            score,
            s.threshold,
            history.as_ref(),
            a.shopify_level.as_deref(),
        ));
    }
    let mut actions: Vec<Action> = vec![case.into()];
    let outcome = if first {
        actions.extend(open_effects(order_id, &mut a, &s));
        Outcome::CaseOpened
    } else {
        Outcome::UnderReview
    };
    actions.push(score_metafield(order_id, &a, &s, outcome, now, note));
    a.save(order_id)?;
    shopcase_sdk::info!(
        "order {} scored {score} ({})",
        order.name,
        a.signals
            .iter()
            .map(|s| s.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(actions)
}

/// The payload of `orders/risk_assessment_changed`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RiskAssessment {
    /// `high`, `medium`, `low`, `none`, `pending`.
    risk_level: String,
    /// The app that assessed, if not Shopify.
    provider_title: Option<String>,
}

/// `orders/risk_assessment_changed`: add Shopify's assessment to the score.
fn on_risk_assessment(event: &Event) -> Result<Vec<Action>, PluginError> {
    let risk: RiskAssessment = event.payload()?;
    let order_id = event.order_id()?;
    let s = Settings::read();
    let rules = read_rules();
    let now = event.triggered_at()?;

    let mut a = Assessment::load(order_id)?;
    let level = risk.risk_level.trim().to_ascii_lowercase();
    if level.is_empty() {
        shopcase_sdk::warn!("risk assessment of order {order_id} without a risk_level: ignored");
        return Ok(vec![]);
    }
    if a.shopify_level.as_deref() == Some(level.as_str()) {
        return Ok(vec![]);
    }
    let before = a.score();
    a.set_shopify_signal(signals::shopify_risk_signal(
        &level,
        risk.provider_title.as_deref(),
        &rules,
    ));
    a.shopify_level = Some(level.clone());
    // The webhook has no recommendation: an earlier fetched one is stale.
    a.shopify_recommendation = None;
    let score = a.score();
    let key = event.order_key(CASE_TYPE)?;

    if a.case_opened {
        let case = case_for(&key, &mut a, order_id, &s, now);
        let comment = Comment::internal(
            key.clone(),
            format!("Shopify's risk assessment is now {level}: risk score {before} → {score}."),
        );
        let metafield = score_metafield(order_id, &a, &s, Outcome::UnderReview, now, None);
        a.save(order_id)?;
        return Ok(vec![case.into(), comment.into(), metafield]);
    }
    if score < s.threshold {
        a.save(order_id)?;
        return Ok(vec![score_metafield(
            order_id,
            &a,
            &s,
            Outcome::BelowThreshold,
            now,
            None,
        )]);
    }
    let label = a.label(order_id);
    let doc = evidence::evidence_from_memory(order_id, &a, &label, score, s.threshold);
    let mut case = case_for(&key, &mut a, order_id, &s, now);
    case = with_attributes(
        case,
        order_ref_attributes(&event.shop, Some(order_id), event.resources.customer_id),
    )
    .document(doc);
    let mut actions: Vec<Action> = vec![case.into()];
    actions.extend(open_effects(order_id, &mut a, &s));
    actions.push(score_metafield(
        order_id,
        &a,
        &s,
        Outcome::CaseOpened,
        now,
        None,
    ));
    a.save(order_id)?;
    shopcase_sdk::info!("{label}: Shopify risk {level}, score {score}");
    Ok(actions)
}

/// The case as the assessment stands: title, summary, priority from the
/// score, owner group, due date (set once), risk attributes.
fn case_for(
    key: &CaseKey,
    a: &mut Assessment,
    order_id: u64,
    s: &Settings,
    now: Timestamp,
) -> OpenCase {
    let score = a.score();
    let due = a
        .due
        .get_or_insert_with(|| now.plus_hours(s.review_hours).to_string())
        .clone();
    let label = a.label(order_id);
    let mut summary = format!(
        "Risk score {score} of 100 (threshold {}). Signals:\n",
        s.threshold
    );
    for sig in &a.signals {
        summary.push_str(&format!("- {} (+{})\n", sig.detail, sig.points));
    }
    summary.push_str(&match &a.shopify_level {
        Some(level) => format!("\nShopify's risk assessment: {level}.\n"),
        None => "\nShopify's risk assessment: none yet.\n".to_owned(),
    });
    summary.push_str(&format!(
        "\nFulfilment is held while this case is open. Record the decision in the case attribute `{}`: `cancel` cancels the order (reason fraud, items restocked), `hold` keeps it on hold, `release` releases it to ship.",
        s.decision_attribute
    ));
    let priority = if score >= s.critical {
        Priority::Critical
    } else {
        Priority::High
    };
    let codes: Vec<&str> = a.signals.iter().map(|s| s.code.as_str()).collect();
    let mut case = OpenCase::new(
        key.clone(),
        text::clip(
            &format!("Possible fraud on {label}: risk score {score}"),
            200,
        ),
    )
    .summary(text::clip(&summary, 4000))
    .priority(priority)
    .owner_group(s.owner_group.clone())
    .due(due)
    .attribute("riskScore", score.to_string())
    .attribute("riskSignals", codes.join(","));
    if let Some(level) = &a.shopify_level {
        case = case.attribute("shopifyRiskLevel", level);
    }
    case
}

/// What opening a case sets off: the hold, the tag, the review timer.
fn open_effects(order_id: u64, a: &mut Assessment, s: &Settings) -> Vec<Action> {
    let mut actions = Vec::new();
    a.case_opened = true;
    if s.hold && !a.held {
        actions.push(
            shopify::hold(
                order_id,
                HoldReason::HighRiskOfFraud,
                HOLD_HANDLE,
                format!("Fraud review: risk score {}.", a.score()),
            )
            .into(),
        );
        a.held = true;
    }
    if let Some(tag) = &s.tag
        && !a.tagged
    {
        actions.push(shopify::tags_add(Target::Order(order_id), [tag.clone()]).into());
        a.tagged = true;
    }
    if let Some(due) = &a.due {
        actions.push(
            FollowUp::at(REVIEW_TIMER, due.clone())
                .data(&serde_json::json!({ "escalation": 1 }))
                .into(),
        );
    }
    actions
}
