//! Circuit breakers per (store, service): see
//! [`shopcase_host_api::breaker`], where they live so that integrations
//! report through them too. This module adds their `/metrics` rendering.

pub use shopcase_host_api::breaker::*;

/// The breakers that hold calls back, in the Prometheus text format:
/// `shopcase_upstream_open{shop, service, state}` is 1 for each (store,
/// service) whose calls wait (`open`, `half-open`, `credentials-refused`).
pub(crate) fn render(states: &[BreakerState], out: &mut String) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "# HELP shopcase_upstream_open Stores whose calls to a service are held back by its circuit breaker, by state.\n# TYPE shopcase_upstream_open gauge"
    );
    for s in states.iter().filter(|s| s.state != "closed") {
        let _ = writeln!(
            out,
            "shopcase_upstream_open{{shop=\"{}\",service=\"{}\",state=\"{}\"}} 1",
            s.shop, s.service, s.state
        );
    }
}
