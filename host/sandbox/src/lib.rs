//! The shopcase plugin sandbox.
//!
//! Everything a security reviewer needs to read about how plugin code runs
//! is in this crate (and the pure contract checks in `shopcase-contract`).
//! It has no network, HTTP or storage dependency: the caller hands it an
//! event and a [`HostServices`] implementation and gets back an
//! [`Invocation`].
//!
//! # Layout
//! - [`runtime`]: the one shared `Engine` (pooling allocator, fuel, epochs,
//!   stack limit), the on-disk cache of precompiled components, and loading
//!   a plugin: manifest → sha256 check → import check → `InstancePre`.
//! - [`plugin`]: a loaded plugin and [`Plugin::invoke`]: a fresh `Store`
//!   per event with every limit on, and the classification of every way a
//!   call can end into a named [`FailureKind`].
//! - `state`: what a `Store` holds for one invocation: limits, the log
//!   buffer, the key-value overlay, grants, and lazily built WASI.
//! - `wasi`: the locked-down WASI subset for toolchains that import it.
//! - `imports`: the allowed-import policy checked at load time.
//! - [`services`]: the [`HostServices`] trait the embedder implements.
//! - `v0_1_0`, `v0_2_0`: bindings and host functions for
//!   `shopcase:plugin@0.1.0` and `@0.2.0`, one module per WIT version, both
//!   converting into the host's types. The runtime links both, and a
//!   plugin's manifest (`plugin.api`) picks which one it is run with
//!   (`Plugin` keeps an enum over versions), so 0.1.0 plugins keep running
//!   beside 0.2.0 ones.

pub mod cache;
pub mod plugin;
pub mod runtime;
pub mod services;

mod imports;
mod state;
mod v0_1_0;
mod v0_2_0;
mod wasi;

pub use cache::CacheKey;
pub use plugin::{
    Budget, Failure, Invocation, KvChanges, KvRead, KvWrite, LogLevel, LogLine, Plugin,
};
pub use runtime::{LoadError, Runtime, RuntimeConfig};
pub use services::{HostError, HostServices, KvEntry, KvUsage, MemoryServices, NoServices};
pub use shopcase_contract::FailureKind;
pub use state::{MAX_HOST_CALLS, MAX_HOST_TIME};
