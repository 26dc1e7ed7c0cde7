//! The case lifecycle both the emulator and the client's callers agree on.
//!
//! From the spec:
//!
//! ```text
//! NEW → IN_PROGRESS ↔ ON_HOLD → PENDING_APPROVAL → APPROVED | REJECTED → RESOLVED → CLOSED
//! CANCELLED from any open state;  CLOSED → REOPENED → IN_PROGRESS
//! ```
//!
//! Read as a graph, with the choices the spec leaves open made explicit:
//! - a case may be resolved straight from `IN_PROGRESS` (most cases never
//!   need an approval);
//! - `PENDING_APPROVAL` is reachable from `NEW`, `IN_PROGRESS` and
//!   `ON_HOLD`; through the task API ([`opens_approval`]) from any open
//!   state, because opening an APPROVAL task always moves the case there;
//! - "open" means not `RESOLVED`, `CLOSED` or `CANCELLED`
//!   ([`CaseStatus::is_open`]);
//! - a transition to the current status is illegal (the API answers 409):
//!   callers make status changes retry-safe with an `Idempotency-Key`.

use shopcase_contract::action::CaseStatus;

/// The statuses a case in `from` may move to through `POST …/status`.
pub fn next_states(from: CaseStatus) -> &'static [CaseStatus] {
    use CaseStatus::*;
    match from {
        New => &[InProgress, OnHold, PendingApproval, Cancelled],
        InProgress => &[OnHold, PendingApproval, Resolved, Cancelled],
        OnHold => &[InProgress, PendingApproval, Cancelled],
        PendingApproval => &[Approved, Rejected, Cancelled],
        Approved | Rejected => &[Resolved, Cancelled],
        Resolved => &[Closed],
        Closed => &[Reopened],
        Reopened => &[InProgress, Cancelled],
        Cancelled => &[],
    }
}

/// Whether `POST …/status` may move a case from `from` to `to`.
pub fn can_transition(from: CaseStatus, to: CaseStatus) -> bool {
    next_states(from).contains(&to)
}

/// Whether opening an APPROVAL task on a case in `status` is allowed (and
/// moves it to `PENDING_APPROVAL`).
pub fn opens_approval(status: CaseStatus) -> bool {
    status.is_open()
}

/// The status a `PENDING_APPROVAL` case takes when its last open APPROVAL
/// task is completed: `REJECTED` if any approval of the round was rejected.
pub fn approval_outcome(any_rejected: bool) -> CaseStatus {
    if any_rejected {
        CaseStatus::Rejected
    } else {
        CaseStatus::Approved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    #[test]
    fn the_happy_paths_are_allowed() {
        for path in [
            &[New, InProgress, OnHold, InProgress, Resolved, Closed][..],
            &[New, InProgress, PendingApproval, Approved, Resolved, Closed],
            &[
                New,
                PendingApproval,
                Rejected,
                Resolved,
                Closed,
                Reopened,
                InProgress,
            ],
            &[New, OnHold, PendingApproval, Cancelled],
        ] {
            for w in path.windows(2) {
                assert!(can_transition(w[0], w[1]), "{:?} -> {:?}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn illegal_transitions_are_refused() {
        for (from, to) in [
            (New, Resolved),
            (New, Closed),
            (InProgress, Approved),
            (PendingApproval, InProgress),
            (Resolved, InProgress),
            (Resolved, Cancelled),
            (Closed, InProgress),
            (Cancelled, InProgress),
            (Cancelled, Reopened),
            (Reopened, Resolved),
        ] {
            assert!(
                !can_transition(from, to),
                "{from:?} -> {to:?} must be illegal"
            );
        }
    }

    #[test]
    fn no_status_moves_to_itself() {
        for &s in CaseStatus::ALL {
            assert!(!can_transition(s, s), "{s:?}");
        }
    }

    #[test]
    fn cancel_is_possible_from_every_open_state_and_only_there() {
        for &s in CaseStatus::ALL {
            if s == Cancelled {
                continue;
            }
            assert_eq!(can_transition(s, Cancelled), s.is_open(), "{s:?}");
        }
    }

    #[test]
    fn every_state_but_cancelled_has_a_way_on() {
        for &s in CaseStatus::ALL {
            assert_eq!(next_states(s).is_empty(), s == Cancelled, "{s:?}");
        }
    }

    #[test]
    fn approvals() {
        assert!(opens_approval(New));
        assert!(opens_approval(Approved));
        assert!(!opens_approval(Resolved));
        assert!(!opens_approval(Cancelled));
        assert_eq!(approval_outcome(false), Approved);
        assert_eq!(approval_outcome(true), Rejected);
    }
}
