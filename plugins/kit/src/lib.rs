//! # shopcase-plugin-kit: what the first-party scenario plugins share
//!
//! The plugins under `plugins/` (order problems, fraud, returns, refund
//! approval, VIP escalation, delivery issues, case status write-back) each
//! turn Shopify and Core Case events into actions with the Rust SDK
//! (`shopcase-sdk`). What more than one of them needs lives here, so every
//! case carries the same order attributes and the same dossier layout, and
//! every plugin reads its settings and key-value state the same way.
//!
//! Everything here is pure and deterministic: "now" is always the event's
//! `triggered-at`, and the only state is the plugin's own key-value store.
//! Nothing here logs, so a plugin's `log` grant stays its own choice.
//!
//! # Layout
//! - [`text`]: tags that fit Shopify's limits, clipped text, file names and
//!   stable fingerprints;
//! - [`settings`]: settings read with defaults and bounds;
//! - [`state`]: JSON values and once-only markers in the key-value store;
//! - [`facts`]: the custom attributes every order case carries;
//! - [`dossier`]: Markdown documents (order dossier, customer history);
//! - [`order`]: the event's order and customer from the host's look-ups,
//!   for events that name the order by id only;
//! - [`tags`]: the tag convention every plugin follows (one name per
//!   situation, older spellings still read);
//! - [`inbound`]: helpdesk and carrier reports (`helpdesk/*`,
//!   `carrier/*`);
//! - [`lifecycle`]: priorities, and the status moves that resolve a case;
//! - [`assign`]: assignment rules that name a case's owner (a person) as
//!   well as its group;
//! - [`decision`]: the analyst's decision recorded on a case;
//! - [`refund`]: the refund that goes with cancelling a paid order
//!   (directly, or held for approval above a threshold);
//! - `testing` (native targets only): fixtures, harness and action finders
//!   for the plugins' tests.

pub mod assign;
pub mod decision;
pub mod dossier;
pub mod facts;
pub mod inbound;
pub mod lifecycle;
pub mod order;
pub mod refund;
pub mod settings;
pub mod state;
pub mod tags;
pub mod text;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
