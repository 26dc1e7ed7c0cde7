//! Every GraphQL document the client can send, so that each can be checked
//! against the Admin schema Shopify publishes for every API version the
//! host accepts (`cargo xtask test` does, with the schemas of the npm
//! package `@shopify/dev-mcp`; `xtask/src/schema.rs`). The outcome of that
//! check is [`shopcase_contract::event::CHECKED_API_VERSIONS`] and
//! [`shopcase_contract::event::REFUSED_API_VERSIONS`], which the
//! configuration enforces.
//!
//! A test reads this crate's sources and fails when a document is sent
//! that [`all`] does not list, so the list cannot fall behind.

use serde::Serialize;

use crate::history::HISTORY;
use crate::subscriptions::docs as subscriptions;
use crate::writeback::doc;

/// One document: its operation name and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// The operation name (`query TagsAdd(...)` → `TagsAdd`).
    pub name: String,
    /// The document, as sent.
    pub text: String,
}

/// Every document the client sends, in no particular order.
pub fn all() -> Vec<Document> {
    [
        HISTORY,
        doc::TAGS_ADD,
        doc::TAGS_REMOVE,
        doc::ORDER_NOTE,
        doc::ORDER_TAGS,
        doc::CUSTOMER_TAGS,
        doc::ORDER_METAFIELD,
        doc::CUSTOMER_METAFIELD,
        doc::ORDER_UPDATE,
        doc::CUSTOMER_NOTE,
        doc::CUSTOMER_UPDATE,
        doc::METAFIELDS_SET,
        doc::FULFILLMENT_HOLDS,
        doc::HOLD,
        doc::RELEASE,
        doc::ORDER_CANCELLED,
        doc::ORDER_CANCEL,
        doc::RETURN_STATUS,
        doc::RETURN_APPROVE,
        doc::RETURN_DECLINE,
        doc::REFUND_STATE,
        doc::REFUND_CREATE,
        doc::STORE_CREDIT_STATE,
        doc::STORE_CREDIT,
        subscriptions::LIST,
        subscriptions::CREATE,
        subscriptions::UPDATE,
        subscriptions::DELETE,
        subscriptions::SCOPES,
        crate::orders::RISK,
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([crate::orders::order_document()])
    .map(|text| Document {
        name: operation_name(&text).unwrap_or("").to_owned(),
        text,
    })
    .collect()
}

/// `query Name(` / `mutation Name {` → `Name`.
fn operation_name(text: &str) -> Option<&str> {
    let rest = text
        .strip_prefix("query ")
        .or_else(|| text.strip_prefix("mutation "))?;
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    Some(&rest[..end]).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The operation names of the documents written in `source`: string
    /// literals that start with `query Name` or `mutation Name`.
    fn written_in(source: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for start in ["\"query ", "\"mutation "] {
            for (at, _) in source.match_indices(start) {
                if let Some(name) = operation_name(&source[at + 1..]) {
                    names.insert(name.to_owned());
                }
            }
        }
        names
    }

    #[test]
    fn every_document_the_crate_sends_is_listed_once_with_a_name() {
        let all = all();
        let listed: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
        assert!(listed.iter().all(|n| !n.is_empty()), "{listed:?}");
        let unique: BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(unique.len(), listed.len(), "a name twice: {listed:?}");

        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut written = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            // The GraphQL reader's own tests parse made-up documents.
            if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "graphql.rs")
            {
                written.extend(written_in(&std::fs::read_to_string(&path).unwrap()));
            }
        }
        let listed: BTreeSet<String> = unique.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            written, listed,
            "documents in src/ and documents::all() differ: add the new one to `all`"
        );
    }

    #[test]
    fn names_are_read_from_the_operation() {
        assert_eq!(
            operation_name("query OrderNote($id: ID!) { x }"),
            Some("OrderNote")
        );
        assert_eq!(operation_name("mutation TagsAdd { x }"), Some("TagsAdd"));
        assert_eq!(operation_name("query { x }"), None);
        assert_eq!(operation_name("{ x }"), None);
    }
}
