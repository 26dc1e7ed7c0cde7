//! Priorities, and the status moves that close a case within Core Case's
//! lifecycle (`new → in-progress ↔ on-hold → pending-approval → approved |
//! rejected → resolved → closed`; `resolved` is reachable from
//! `in-progress`, `approved` and `rejected` only).

use shopcase_sdk::{Action, CaseKey, CaseStatus, Priority, UpdateCase};

use crate::text::clip;

/// `low` 0 … `critical` 3, to compare priorities.
pub fn rank(p: Priority) -> u8 {
    match p {
        Priority::Low => 0,
        Priority::Medium => 1,
        Priority::High => 2,
        Priority::Critical => 3,
    }
}

/// The more urgent of two priorities.
pub fn max(a: Priority, b: Priority) -> Priority {
    if rank(b) > rank(a) { b } else { a }
}

/// One step more urgent (`critical` stays `critical`).
pub fn raise(p: Priority) -> Priority {
    match p {
        Priority::Low => Priority::Medium,
        Priority::Medium => Priority::High,
        Priority::High | Priority::Critical => Priority::Critical,
    }
}

/// The `update-case` actions that take a case from `current` to `resolved`
/// with a resolution (its notes also the reason, cut to the reason's 1000
/// characters), through `in-progress` when the lifecycle requires it.
/// Empty when the case is already closed or cancelled, or waits for an
/// approval (an approval must be decided, not bypassed).
pub fn resolve(key: &CaseKey, current: CaseStatus, code: &str, notes: &str) -> Vec<Action> {
    let done = || {
        UpdateCase::new(key.clone())
            .status(CaseStatus::Resolved)
            .reason(clip(notes, 1000))
            .resolution(code, notes)
            .into()
    };
    match current {
        CaseStatus::InProgress | CaseStatus::Approved | CaseStatus::Rejected => vec![done()],
        CaseStatus::New | CaseStatus::OnHold | CaseStatus::Reopened => vec![
            UpdateCase::new(key.clone())
                .status(CaseStatus::InProgress)
                .reason("picked up by the plugin to record the outcome")
                .into(),
            done(),
        ],
        CaseStatus::PendingApproval
        | CaseStatus::Resolved
        | CaseStatus::Closed
        | CaseStatus::Cancelled => vec![],
    }
}

/// Cancel an open case (allowed from every open status).
pub fn cancel(key: &CaseKey, current: CaseStatus, code: &str, notes: &str) -> Vec<Action> {
    if !current.is_open() {
        return vec![];
    }
    vec![
        UpdateCase::new(key.clone())
            .status(CaseStatus::Cancelled)
            .reason(clip(notes, 1000))
            .resolution(code, notes)
            .into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_sdk::Subject;

    fn statuses(actions: &[Action]) -> Vec<CaseStatus> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::UpdateCase(u) => u.status,
                _ => None,
            })
            .collect()
    }

    #[test]
    fn resolving_follows_the_lifecycle() {
        let key = CaseKey::new("x", Subject::Order(1));
        use CaseStatus::*;
        assert_eq!(statuses(&resolve(&key, InProgress, "c", "n")), [Resolved]);
        assert_eq!(statuses(&resolve(&key, Approved, "c", "n")), [Resolved]);
        assert_eq!(
            statuses(&resolve(&key, New, "c", "n")),
            [InProgress, Resolved]
        );
        assert_eq!(
            statuses(&resolve(&key, OnHold, "c", "n")),
            [InProgress, Resolved]
        );
        for s in [PendingApproval, Resolved, Closed, Cancelled] {
            assert!(resolve(&key, s, "c", "n").is_empty(), "{s:?}");
        }
        assert_eq!(statuses(&cancel(&key, OnHold, "c", "n")), [Cancelled]);
        assert!(cancel(&key, Closed, "c", "n").is_empty());
    }

    #[test]
    fn priorities_order_and_raise() {
        assert_eq!(max(Priority::Low, Priority::High), Priority::High);
        assert_eq!(max(Priority::Critical, Priority::High), Priority::Critical);
        assert_eq!(raise(Priority::Medium), Priority::High);
        assert_eq!(raise(Priority::Critical), Priority::Critical);
        assert!(rank(Priority::Low) < rank(Priority::Medium));
    }
}
