//! Shopify global ids (`gid://shopify/Order/5834211000321`). Our actions carry
//! numeric ids; the Admin GraphQL API speaks gids.

/// The gid of resource `kind` (e.g. `Order`) number `id`.
pub fn format(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The kind and number of a gid, e.g. `("Order", 7)`. Query strings
/// (`?...`) are not accepted.
pub fn parse(gid: &str) -> Option<(&str, u64)> {
    let rest = gid.strip_prefix("gid://shopify/")?;
    let (kind, id) = rest.split_once('/')?;
    let valid_kind = !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphanumeric());
    let valid_id = !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
    if !valid_kind || !valid_id {
        return None;
    }
    Some((kind, id.parse().ok()?))
}

/// The number of a gid of the given kind.
pub fn id_of(gid: &str, kind: &str) -> Option<u64> {
    parse(gid).filter(|(k, _)| *k == kind).map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_junk() {
        let g = format("Order", 5834211000321);
        assert_eq!(g, "gid://shopify/Order/5834211000321");
        assert_eq!(parse(&g), Some(("Order", 5834211000321)));
        assert_eq!(id_of(&g, "Order"), Some(5834211000321));
        assert_eq!(id_of(&g, "Customer"), None);
        for bad in [
            "",
            "gid://shopify/Order/",
            "gid://shopify//1",
            "gid://other/Order/1",
            "gid://shopify/Order/1a",
            "gid://shopify/Order/99999999999999999999999",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
