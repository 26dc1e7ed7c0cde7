//! Named owners: assignment rules that give a new case a Core Case
//! assignee (a named case worker) as well as its group.
//!
//! Every first-party plugin has a `text-list` setting `assignment-rules`,
//! read top to bottom, the first matching rule winning:
//!
//! ```text
//! type=fraud-investigation amount>=1000 -> @senior-fraud maria.k
//! country=US|CA -> ann.lee, bob.ray, chen.wu
//! priority=critical -> duty.manager
//! -> @customer-care
//! ```
//!
//! - **Conditions** (all must hold; none: always): `type=` a case type,
//!   `country=` the case's `shippingCountry` attribute, `priority=` `low`,
//!   `medium`, `high` or `critical`, `amount>=N` / `amount<N` on the case's
//!   amount (its first attribute of `amount`, `refundAmount`,
//!   `disputedAmount`, `totalPrice`). Alternatives are separated by `|`.
//! - **After `->`:** an optional `@group` (replaces the case's owner group)
//!   and the owners, separated by commas. One owner is the assignee; several
//!   take turns (round-robin, one counter per rule, kept in the key-value
//!   store) — and a case keeps the owner it was first given when the plugin
//!   sends it again.
//!
//! A rule that cannot be read is skipped and reported, so the plugin can log
//! it; a bad rule never stops a case from opening.

use shopcase_sdk::{Action, OpenCase, PluginError, Priority};

use crate::state;

/// The setting the rules are read from.
pub const SETTING: &str = "assignment-rules";

/// How long a case remembers that a rule assigned it (one key per assigned
/// case counts against the plugin's key-value quota, so not for ever: a case
/// the plugin sends again after this long is assigned by the rules anew).
const REMEMBER_DAYS: i64 = 90;

/// One assignment rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    case_types: Vec<String>,
    countries: Vec<String>,
    priorities: Vec<Priority>,
    min_amount: Option<f64>,
    below_amount: Option<f64>,
    group: Option<String>,
    owners: Vec<String>,
}

/// Why a rule could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The rule as written.
    pub rule: String,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "assignment rule `{}` is skipped: {}",
            self.rule, self.reason
        )
    }
}

fn priority(s: &str) -> Option<Priority> {
    match s.to_ascii_lowercase().as_str() {
        "low" => Some(Priority::Low),
        "medium" => Some(Priority::Medium),
        "high" => Some(Priority::High),
        "critical" => Some(Priority::Critical),
        _ => None,
    }
}

/// A Core Case user or group name: letters, digits, `.`, `_`, `-`, `@`
/// inside, at most 128 characters.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

impl Rule {
    /// Reads one rule.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let err = |reason: String| RuleError {
            rule: text.to_owned(),
            reason,
        };
        let (when, then) = text
            .split_once("->")
            .ok_or_else(|| err("no `->` between the conditions and the owners".into()))?;
        let mut rule = Rule {
            case_types: vec![],
            countries: vec![],
            priorities: vec![],
            min_amount: None,
            below_amount: None,
            group: None,
            owners: vec![],
        };
        for cond in when.split_whitespace() {
            let alternatives = |v: &str| -> Vec<String> {
                v.split('|')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            if let Some(v) = cond.strip_prefix("amount>=") {
                rule.min_amount = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| err(format!("`{v}` is not an amount")))?,
                );
            } else if let Some(v) = cond.strip_prefix("amount<") {
                rule.below_amount = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| err(format!("`{v}` is not an amount")))?,
                );
            } else if let Some(v) = cond.strip_prefix("type=") {
                rule.case_types = alternatives(v);
            } else if let Some(v) = cond.strip_prefix("country=") {
                rule.countries = alternatives(v)
                    .into_iter()
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
            } else if let Some(v) = cond.strip_prefix("priority=") {
                rule.priorities = alternatives(v)
                    .iter()
                    .map(|p| priority(p).ok_or_else(|| err(format!("`{p}` is not a priority"))))
                    .collect::<Result<_, _>>()?;
            } else {
                return Err(err(format!(
                    "`{cond}` is not a condition (type=, country=, priority=, amount>=, amount<)"
                )));
            }
        }
        let mut then = then.trim();
        if let Some(rest) = then.strip_prefix('@') {
            let (group, owners) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if !is_name(group) {
                return Err(err(format!("`{group}` is not a group name")));
            }
            rule.group = Some(group.to_owned());
            then = owners.trim();
        }
        for owner in then.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            if !is_name(owner) {
                return Err(err(format!("`{owner}` is not a user name")));
            }
            rule.owners.push(owner.to_owned());
        }
        if rule.owners.is_empty() && rule.group.is_none() {
            return Err(err("names no owner and no group".into()));
        }
        Ok(rule)
    }

    fn matches(&self, case: &OpenCase) -> bool {
        let attr = |name: &str| {
            case.attributes
                .iter()
                .rev()
                .find(|a| a.name == name)
                .map(|a| a.value.as_str())
        };
        if !self.case_types.is_empty() && !self.case_types.contains(&case.key.case_type) {
            return false;
        }
        if !self.countries.is_empty() {
            let country = attr("shippingCountry").unwrap_or("").to_ascii_uppercase();
            if !self.countries.contains(&country) {
                return false;
            }
        }
        if !self.priorities.is_empty() && !self.priorities.contains(&case.priority) {
            return false;
        }
        if self.min_amount.is_some() || self.below_amount.is_some() {
            let amount = ["amount", "refundAmount", "disputedAmount", "totalPrice"]
                .iter()
                .find_map(|n| attr(n))
                .and_then(|v| v.trim().parse::<f64>().ok());
            let Some(amount) = amount else {
                return false;
            };
            if self.min_amount.is_some_and(|m| amount < m)
                || self.below_amount.is_some_and(|b| amount >= b)
            {
                return false;
            }
        }
        true
    }
}

/// Reads every rule; the ones that cannot be read come back as errors.
pub fn parse_rules(texts: &[String]) -> (Vec<Rule>, Vec<RuleError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for t in texts.iter().filter(|t| !t.trim().is_empty()) {
        match Rule::parse(t) {
            Ok(r) => rules.push(r),
            Err(e) => errors.push(e),
        }
    }
    (rules, errors)
}

/// What a case was given when a rule first matched it, remembered so the
/// same `open-case` sent again (an update, a reminder) leaves the owner as
/// Core Case has it now: an analyst may have reassigned the case since.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Given {
    owner: Option<String>,
    group: Option<String>,
}

/// Gives every `open-case` in `actions` the owner (and group) of the first
/// rule it matches, unless the plugin named an owner itself, the first
/// time the case is sent; sent again, the owner is left as Core Case has
/// it (and a rule's group is kept). Round-robin turns and what each case
/// was given are kept in the key-value store (grant `kv`). Returns the
/// rules that could not be read, for the plugin to log.
pub fn apply(actions: &mut [Action], texts: &[String]) -> Result<Vec<RuleError>, PluginError> {
    let (rules, errors) = parse_rules(texts);
    if rules.is_empty() {
        return Ok(errors);
    }
    for action in actions.iter_mut() {
        let Action::OpenCase(case) = action else {
            continue;
        };
        if case.owner.is_some() {
            continue;
        }
        let Some((index, rule)) = first_match(&rules, case) else {
            continue;
        };
        let remembered = case_key(case);
        if let Some(given) = state::get_json::<Given>(&remembered)? {
            if given.group.is_some() {
                case.owner_group = given.group;
            }
            continue;
        }
        if let Some(group) = &rule.group {
            case.owner_group = Some(group.clone());
        }
        case.owner = match rule.owners.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(turn(index, many)?),
        };
        let given = Given {
            owner: case.owner.clone(),
            group: rule.group.clone(),
        };
        state::set_json(&remembered, &given, Some(state::days(REMEMBER_DAYS)))?;
    }
    Ok(errors)
}

/// The first rule `case` matches, with its index.
pub fn first_match<'r>(rules: &'r [Rule], case: &OpenCase) -> Option<(usize, &'r Rule)> {
    rules.iter().enumerate().find(|(_, r)| r.matches(case))
}

/// [`apply`] with the plugin's `assignment-rules` setting; rules that cannot
/// be read are logged as warnings (every first-party plugin has `log`).
pub fn owners(mut actions: Vec<Action>) -> Result<Vec<Action>, PluginError> {
    let texts = crate::settings::list(SETTING, &[]);
    for e in apply(&mut actions, &texts)? {
        shopcase_sdk::warn!("{e}");
    }
    Ok(actions)
}

fn case_key(case: &OpenCase) -> String {
    let subject = case.key.subject;
    format!(
        "assign:case:{}:{}:{}",
        case.key.case_type,
        subject_kind(subject),
        subject_id(subject)
    )
}

/// The next owner of a round-robin rule.
fn turn(index: usize, owners: &[String]) -> Result<String, PluginError> {
    // The counter names the rule's owners, so editing the rule starts over.
    let counter = format!("assign:turn:{index}:{}", crate::text::fingerprint(owners));
    let next: u64 = state::get_json(&counter)?.unwrap_or(0);
    let owner = owners[(next % owners.len() as u64) as usize].clone();
    state::set_json(&counter, &(next + 1), Some(state::days(REMEMBER_DAYS)))?;
    Ok(owner)
}

fn subject_kind(s: shopcase_sdk::Subject) -> &'static str {
    match s {
        shopcase_sdk::Subject::Order(_) => "order",
        shopcase_sdk::Subject::Customer(_) => "customer",
        shopcase_sdk::Subject::Return(_) => "return",
        shopcase_sdk::Subject::Dispute(_) => "dispute",
    }
}

fn subject_id(s: shopcase_sdk::Subject) -> u64 {
    match s {
        shopcase_sdk::Subject::Order(id)
        | shopcase_sdk::Subject::Customer(id)
        | shopcase_sdk::Subject::Return(id)
        | shopcase_sdk::Subject::Dispute(id) => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_sdk::{Attribute, CaseKey, Subject};

    fn case(case_type: &str, id: u64, attrs: &[(&str, &str)], priority: Priority) -> OpenCase {
        let mut c =
            OpenCase::new(CaseKey::new(case_type, Subject::Order(id)), "t").priority(priority);
        c.owner_group = Some("team".into());
        c.attributes = attrs.iter().map(|(n, v)| Attribute::new(*n, *v)).collect();
        c
    }

    #[test]
    fn rules_read_their_conditions_group_and_owners() {
        let r = Rule::parse(
            "type=fraud-investigation amount>=1000 country=us|ca -> @senior maria.k, tom",
        )
        .unwrap();
        assert_eq!(r.case_types, ["fraud-investigation"]);
        assert_eq!(r.countries, ["US", "CA"]);
        assert_eq!(r.min_amount, Some(1000.0));
        assert_eq!(r.group.as_deref(), Some("senior"));
        assert_eq!(r.owners, ["maria.k", "tom"]);
        assert_eq!(
            Rule::parse("-> @care").unwrap().owners,
            Vec::<String>::new()
        );
        for (bad, why) in [
            ("type=x maria", "no `->`"),
            ("colour=red -> ann", "is not a condition"),
            ("amount>=lots -> ann", "`lots` is not an amount"),
            ("priority=urgent -> ann", "`urgent` is not a priority"),
            ("-> ann smith", "`ann smith` is not a user name"),
            ("type=x ->", "names no owner and no group"),
        ] {
            let e = Rule::parse(bad).unwrap_err();
            assert!(e.reason.contains(why), "{bad}: {}", e.reason);
        }
    }

    #[test]
    fn conditions_match_type_country_priority_and_amount() {
        let big_us = case(
            "fraud-investigation",
            1,
            &[("totalPrice", "1500.00"), ("shippingCountry", "US")],
            Priority::High,
        );
        let small_de = case(
            "fraud-investigation",
            2,
            &[("totalPrice", "99.00"), ("shippingCountry", "DE")],
            Priority::Low,
        );
        let r = |t: &str| Rule::parse(t).unwrap();
        assert!(r("amount>=1000 -> a").matches(&big_us));
        assert!(!r("amount>=1000 -> a").matches(&small_de));
        assert!(r("amount<100 -> a").matches(&small_de));
        assert!(r("country=DE|AT -> a").matches(&small_de));
        assert!(!r("country=DE|AT -> a").matches(&big_us));
        assert!(r("priority=high|critical -> a").matches(&big_us));
        assert!(!r("type=return-request -> a").matches(&big_us));
        // The dispute's own amount comes before the order total.
        let dispute = case(
            "refund-dispute",
            3,
            &[("disputedAmount", "50.00"), ("totalPrice", "900.00")],
            Priority::High,
        );
        assert!(r("amount<100 -> a").matches(&dispute));
        // No amount at all: an amount condition does not hold.
        let none = case("complaint", 4, &[], Priority::Medium);
        assert!(!r("amount<100 -> a").matches(&none));
        assert!(r("-> a").matches(&none));
    }

    #[test]
    fn the_first_matching_rule_wins_and_bad_rules_are_reported() {
        let texts: Vec<String> = [
            "amount>=1000 -> @senior-fraud maria.k",
            "nonsense",
            "country=DE -> jonas",
            "-> @customer-care",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let (rules, errors) = parse_rules(&texts);
        assert_eq!(rules.len(), 3);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().contains("`nonsense`"),
            "{}",
            errors[0]
        );
        let index = |c: &OpenCase| first_match(&rules, c).map(|(i, _)| i);
        assert_eq!(
            index(&case(
                "fraud-investigation",
                1,
                &[("totalPrice", "1500.00")],
                Priority::High
            )),
            Some(0)
        );
        assert_eq!(
            index(&case(
                "fraud-investigation",
                2,
                &[("totalPrice", "10.00"), ("shippingCountry", "DE")],
                Priority::High
            )),
            Some(1)
        );
        assert_eq!(
            index(&case(
                "fraud-investigation",
                3,
                &[("totalPrice", "10.00")],
                Priority::High
            )),
            Some(2)
        );
    }
}
