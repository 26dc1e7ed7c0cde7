//! Print every GraphQL document the client sends, with the API versions
//! they must validate against and those known to reject one, as one JSON
//! object: what `cargo xtask test` checks against Shopify's published
//! Admin schemas (`xtask/src/schema.rs`).
//!
//! `cargo run -q -p shopcase-shopify --example graphql_documents`

fn main() {
    let out = serde_json::json!({
        "checked": shopcase_contract::event::CHECKED_API_VERSIONS,
        "refused": shopcase_contract::event::REFUSED_API_VERSIONS
            .iter()
            .map(|(v, why)| serde_json::json!({"version": v, "why": why}))
            .collect::<Vec<_>>(),
        "documents": shopcase_shopify::documents::all(),
    });
    println!("{out}");
}
