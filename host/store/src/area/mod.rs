//! The storage areas: one trait per area, with the values only it uses
//! (values shared by several areas are in [`crate::model`]).
//!
//! Each area mirrors a file of the SQLite implementation
//! (`sqlite/<area>.rs`), so a second backend can be written area by area.

pub mod admin;
pub mod coordination;
pub mod inbox;
pub mod journal;
pub mod kv;
pub mod links;
pub mod privacy;
pub mod timers;
