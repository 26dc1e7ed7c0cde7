//! # shopcase-sdk: write shopcase plugins in Rust
//!
//! A shopcase plugin is a WebAssembly component that turns one event (a
//! Shopify webhook, a Core Case update, a timer) into a list of typed
//! actions the host validates and executes. This crate wraps the WIT
//! contract (`wit/v0.2.0`, package `shopcase:plugin@0.2.0`, whose host
//! functions include [`host::order`] and [`host::order_risk`]) so a plugin
//! is a plain Rust function, testable natively with `cargo test`. A plugin
//! built with it declares `api = "0.2.0"` in its `plugin.toml`.
//!
//! ## A complete plugin
//!
//! ```no_run
//! use shopcase_sdk::{Action, Event, OpenCase, Plugin, PluginError, Priority, Target, host, shopify};
//!
//! struct BigOrders;
//!
//! impl Plugin for BigOrders {
//!     fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
//!         let order = event.order()?;
//!         let threshold = host::setting_number("threshold", 500.0);
//!         let Some(total) = order.total_price_f64() else {
//!             return Err(PluginError::new("order payload has no total_price"));
//!         };
//!         if order.test || total < threshold {
//!             return Ok(vec![]);
//!         }
//!         shopcase_sdk::info!("order {} is big: {}", order.name, order.total_price);
//!         Ok(vec![
//!             OpenCase::new(event.order_key("big-order")?, format!("Big order {}", order.name))
//!                 .priority(Priority::High)
//!                 .owner_group("sales-ops")
//!                 .attribute("orderName", &order.name)
//!                 .into(),
//!             shopify::tags_add(Target::Order(event.order_id()?), ["big-order"]).into(),
//!         ])
//!     }
//! }
//!
//! shopcase_sdk::export_plugin!(BigOrders);
//! ```
//!
//! Its `Cargo.toml` needs `crate-type = ["cdylib", "rlib"]` under `[lib]`
//! (the component, and native tests) and a dependency on `shopcase-sdk`; its
//! `plugin.toml` grants what it uses:
//!
//! ```toml
//! [plugin]
//! id = "big-orders"
//! version = "0.1.0"
//! api = "0.2.0"
//! topics = ["orders/create"]
//!
//! [grants]
//! actions = ["open-case", "tags-add"]
//! host = ["log", "settings"]
//! case-types = ["big-order"]
//!
//! [settings.threshold]
//! type = "number"
//! default = 500
//! ```
//!
//! Build the component with
//! `cargo build --target wasm32-wasip2 --profile plugin`, and test the logic
//! natively with the [`harness`], which enforces that manifest:
//!
//! ```ignore
//! use shopcase_sdk::harness::Harness;
//! let mut harness = Harness::from_manifest("plugin.toml")?.setting("threshold", 1000);
//! let run = harness.run::<BigOrders>(&Event::from_file("fixtures/order.json")?)?;
//! assert_eq!(run.actions.len(), 2);
//! assert_eq!(run.messages(), ["order #1042 is big: 1243.87"]);
//! ```
//!
//! See `examples/rust/high-value-order` for a complete plugin with tests and
//! language-neutral fixtures.
//!
//! ## Layout
//! - this file: the [`Plugin`] trait, [`export_plugin!`], the log macros and
//!   the re-exported WIT types under friendly names;
//! - `bindings` (hidden): the `wit_bindgen::generate!` output;
//! - `actions`: builders for the case actions ([`OpenCase::new`] ...) and
//!   conversions into [`Action`]; [`shopify`]: the Shopify operations;
//! - `event`: [`Event`] helpers (typed payloads, own ids, case keys, time);
//! - [`views`]: tolerant serde views of the payloads of every topic the
//!   scenarios use;
//! - [`host`] and [`kv`]: the host functions;
//! - [`money`] and [`time`]: decimal amounts without floats, RFC 3339
//!   timestamps without a date crate;
//! - `error`: [`PluginError`] constructors and the [`HostError`] conversion;
//! - [`harness`] (native targets only): runs a plugin like the host does, with
//!   grants, minimisation and validation, and records what it did.
//!
//! On `wasm32` the host functions call the WIT imports; on other targets they
//! call the harness (a permissive empty one outside [`harness::Harness::run`]),
//! because the generated import functions cannot run natively.

#![warn(missing_docs)]

/// The generated WIT bindings. Use the re-exports at the crate root instead;
/// this module is public only because [`export_plugin!`] expands to code in
/// the plugin's crate that names it.
#[doc(hidden)]
#[allow(missing_docs, reason = "generated; the WIT documents every item")]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.2.0",
        world: "plugin",
        // The export macro is used from plugin crates, through `export_plugin!`.
        pub_export_macro: true,
        export_macro_name: "__export_plugin",
        default_bindings_module: "shopcase_sdk::bindings",
        // Tests compare actions; nothing here holds a secret.
        additional_derives: [PartialEq],
    });
}

mod actions;
mod error;
mod event;
pub mod host;
pub mod kv;
pub mod money;
pub mod shopify;
pub mod time;
pub mod views;

#[cfg(not(target_arch = "wasm32"))]
pub mod harness;

pub use bindings::shopcase::plugin::host::{
    Address, CaseSummary, CustomerSummary, Fulfillment, HostError, Level, LineItem, Money,
    OrderDetails, OrderSummary, RiskAssessment, RiskFact, RiskLevel, RiskRecommendation,
    RiskSentiment, RiskSummary, SettingValue, Transaction,
};
pub use bindings::shopcase::plugin::types::{
    Action, AttachDocument, Attribute, CancelReason, CaseKey, CaseStatus, Comment, CreateTask,
    DeclineReason, Document, Event, FollowUp, HoldReason, OpenCase, PluginError, Priority,
    RequestApproval, Resolution, Resources, ShopifyOperation, Subject, Target, UpdateCase,
    Visibility,
};
pub use time::Timestamp;

/// A plugin: one function from an event to the actions the host should take.
///
/// Return `Ok(vec![])` when the event needs nothing, and
/// [`PluginError::new`] (or [`PluginError::retry_later`]) when it cannot be
/// handled. Panics trap the sandbox (outcome `trap`): return errors instead.
///
/// Export the implementing type with [`export_plugin!`].
pub trait Plugin {
    /// Handle one event. Called once per event in a fresh sandbox.
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError>;
}

/// Export a [`Plugin`] as the component's `handler` interface.
///
/// ```ignore
/// struct MyPlugin;
/// impl shopcase_sdk::Plugin for MyPlugin { /* ... */ }
/// shopcase_sdk::export_plugin!(MyPlugin);
/// ```
///
/// On `wasm32` this emits the component exports; on other targets it only
/// checks that the type is a plugin (tests call it through the harness).
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        // A clear error here, at the macro call, when the type is not a plugin.
        const _: fn() = || {
            fn must_implement_plugin<P: $crate::Plugin>() {}
            must_implement_plugin::<$plugin>();
        };
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            // wit-bindgen's export macro takes a plain identifier, so a local
            // type bridges the generated `Guest` trait to `Plugin`.
            struct ShopcasePluginExport;
            impl $crate::bindings::exports::shopcase::plugin::handler::Guest for ShopcasePluginExport {
                fn handle(
                    event: $crate::Event,
                ) -> ::core::result::Result<::std::vec::Vec<$crate::Action>, $crate::PluginError> {
                    $crate::__private::handle::<$plugin>(event)
                }
            }
            $crate::bindings::__export_plugin!(ShopcasePluginExport with_types_in $crate::bindings);
        };
    };
}

/// Log at a level with `format!` arguments: `shopcase_sdk::log!(Level::Info, "x = {}", x)`.
///
/// Needs the `log` host grant.
#[macro_export]
macro_rules! log {
    ($level:expr, $($arg:tt)+) => {
        $crate::host::log($level, &::std::format!($($arg)+))
    };
}

/// Log at `trace` level with `format!` arguments. Needs the `log` grant.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Trace, $($arg)+) };
}

/// Log at `debug` level with `format!` arguments. Needs the `log` grant.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Debug, $($arg)+) };
}

/// Log at `info` level with `format!` arguments. Needs the `log` grant.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Info, $($arg)+) };
}

/// Log at `warn` level with `format!` arguments. Needs the `log` grant.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Warn, $($arg)+) };
}

/// Log at `error` level with `format!` arguments. Needs the `log` grant.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log!($crate::Level::Error, $($arg)+) };
}

/// Support for [`export_plugin!`]; not a public API.
#[doc(hidden)]
pub mod __private {
    use crate::{Action, Event, Plugin, PluginError};

    /// Run a plugin on an event the host handed over.
    pub fn handle<P: Plugin>(event: Event) -> Result<Vec<Action>, PluginError> {
        P::handle(&event).map_err(crate::error::clamp)
    }
}
