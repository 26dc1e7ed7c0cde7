//! The decision an analyst records on a case, as a custom attribute (by
//! default `decision`), read from `corecase/case-updated`.

use shopcase_sdk::views::CaseUpdated;

use crate::text::normalise;

/// The normalised value of the decision attribute (`" Keep on hold"` →
/// `keep-on-hold`), or `None` when it is absent or blank.
pub fn decision(update: &CaseUpdated, attribute: &str) -> Option<String> {
    let value = normalise(update.attribute(attribute)?);
    (!value.is_empty()).then_some(value)
}

/// A case attribute as text, trimmed; `None` when absent or blank.
pub fn attribute<'a>(update: &'a CaseUpdated, name: &str) -> Option<&'a str> {
    let v = update.attribute(name)?.trim();
    (!v.is_empty()).then_some(v)
}
