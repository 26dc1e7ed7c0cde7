//! The harness/sandbox cross-check (test only; nothing to link against).
//!
//! The host's rules for host calls live once, in
//! `shopcase_contract::host_rules`, and are applied by the real sandbox
//! (`host/sandbox`) and by the SDK's native test harness
//! (`shopcase_sdk::harness`), which partners' `cargo test` uses. This crate
//! proves the two give identical outcomes: it runs the `scripted` test
//! plugin (`tests/programs/scripted`), whose event carries a script of host
//! calls and actions, natively through the harness and as a component
//! through `shopcase_sandbox::Runtime`, for every case of a corpus of
//! normal and hostile scripts, and compares
//! - the outcome: the actions (with the answer of every host call the
//!   script made), or the failure kind, and for `plugin-error`,
//!   `invalid-action` and `grant-denied` the message (and retryability);
//! - the log lines as recorded (levels, flattened and truncated text) and,
//!   on success, the lines dropped for the log cap;
//! - the key-value writes to commit (values and expiry), and what later
//!   events of the same case read back.
//!
//! Fuel, memory and time budgets are not compared (the harness does not
//! emulate them), nor what a component writes to stdout/stderr: on a trap
//! the sandbox logs the panic message it printed, which native code cannot
//! capture, so there the harness's lines must be the sandbox's first ones.
//!
//! Run it with `cargo test -p shopcase-crosscheck`; the `scripted`
//! component is built on demand (`shopcase_testkit::wasm`), or taken from
//! `SHOPCASE_WASM_DIR`.

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod sides;
