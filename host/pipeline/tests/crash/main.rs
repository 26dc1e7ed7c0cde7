//! Crash recovery with real processes: the host runs as a child process,
//! is killed with SIGKILL or made to abort at a test-only fault point
//! (`SHOPCASE_TEST_FAULT`), and is restarted on the same data directory.
//! Nothing acknowledged is lost, nothing is journalled (or applied in
//! Shopify or Core Case) twice.
//!
//! A `harness = false` binary: `main` is either
//!
//! - a child host, when [`child::KIND_ENV`] names one (`pipeline`,
//!   `corecase` or `shopify`) and [`child::CONFIG_ENV`] its configuration
//!   file; the tests start it by running this executable again
//!   (`std::env::current_exe()`) with those variables set. It runs no test.
//! - otherwise the test runner of [`harness`]: every test below, one after
//!   the other (they spawn processes), each in its own Tokio runtime.
//!
//! - `pipeline`: the plain host killed between accept, dispatch, journal
//!   and execution; SIGTERM; events and actions that kill it every time.
//! - `corecase`: killed between Core Case's answer to a case creation and
//!   the journal's acknowledgement.
//! - `shopify`: aborted while Shopify operations are in flight.
//!
//! Needs the test components, like the `all` tests: `cargo xtask
//! build-plugins`.

// The helpers of the `all` tests, included rather than copied. Each is
// used here only in part (the rest serves the `all` tests), hence the
// `dead_code` allowances.
#[allow(dead_code, reason = "shared with the `all` tests; used here in part")]
#[path = "../all/support.rs"]
mod support;

#[allow(dead_code, reason = "shared with the `all` tests; used here in part")]
#[path = "../all/corecase/support.rs"]
mod corecase_support;

#[allow(dead_code, reason = "shared with the `all` tests; used here in part")]
#[path = "../all/shopify_support.rs"]
mod shopify_support;

mod child;
mod harness;

mod corecase;
mod pipeline;
mod shopify;

use harness::Test;

/// A test: `module::function`, an `async fn()` run to completion in a
/// multi-threaded Tokio runtime of its own.
macro_rules! test {
    ($module:ident :: $name:ident) => {
        Test {
            name: concat!(stringify!($module), "::", stringify!($name)),
            run: || harness::block_on($module::$name()),
        }
    };
}

/// Every crash test, in the order they run.
const TESTS: &[Test] = &[
    test!(pipeline::killed_between_accept_and_dispatch_loses_nothing),
    test!(pipeline::killed_between_dispatch_and_journal_runs_again_once),
    test!(pipeline::killed_right_after_journalling_does_not_journal_twice),
    test!(pipeline::sigterm_drains_and_a_restart_finishes_the_rest),
    test!(pipeline::an_executor_killed_after_executing_runs_again_idempotently),
    test!(pipeline::an_event_that_kills_the_host_every_time_ends_as_a_poison_dead_letter),
    test!(pipeline::events_claimed_beside_a_poison_event_are_not_set_aside_with_it),
    test!(pipeline::actions_claimed_beside_a_poison_action_are_not_set_aside_with_it),
    test!(corecase::killed_between_the_create_call_and_its_acknowledgement_no_duplicate_case),
    test!(shopify::a_host_killed_mid_action_applies_each_operation_once),
];

fn main() -> std::process::ExitCode {
    if let Some(child) = child::from_env() {
        child.run();
        return std::process::ExitCode::SUCCESS;
    }
    harness::main(TESTS)
}
