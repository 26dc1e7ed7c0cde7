//! Plugin settings: declared with a type and a default in the manifest,
//! chosen per store by the admin, read by the plugin through `host.setting`.

use serde::{Deserialize, Serialize};

/// The declared type of a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingType {
    Text,
    Integer,
    Number,
    Boolean,
    TextList,
}

impl SettingType {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => Self::Text,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "text-list" => Self::TextList,
            _ => return None,
        })
    }

    /// The manifest spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::TextList => "text-list",
        }
    }
}

/// A setting's value. In JSON (admin API, storage) it is the plain JSON
/// value: `"x"`, `3`, `2.5`, `true`, `["a","b"]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Boolean(bool),
    Integer(i64),
    Number(f64),
    Text(String),
    TextList(Vec<String>),
}

/// The longest text value, and the most entries in a list.
const MAX_TEXT: usize = 1024;
const MAX_LIST: usize = 256;

impl SettingValue {
    /// Read a value of type `ty` from TOML (manifest defaults).
    pub(crate) fn from_toml(v: &toml::Value, ty: SettingType) -> Result<SettingValue, String> {
        let json = serde_json::to_value(v).map_err(|e| e.to_string())?;
        SettingValue::from_json(&json, ty)
    }

    /// Read a value of type `ty` from JSON. Integers are accepted where a
    /// number is expected.
    pub fn from_json(v: &serde_json::Value, ty: SettingType) -> Result<SettingValue, String> {
        use serde_json::Value as J;
        Ok(match (ty, v) {
            (SettingType::Text, J::String(s)) => SettingValue::Text(s.clone()),
            (SettingType::Integer, J::Number(n)) if n.is_i64() => {
                SettingValue::Integer(n.as_i64().unwrap_or_default())
            }
            (SettingType::Number, J::Number(n)) => {
                SettingValue::Number(n.as_f64().unwrap_or_default())
            }
            (SettingType::Boolean, J::Bool(b)) => SettingValue::Boolean(*b),
            (SettingType::TextList, J::Array(items)) => SettingValue::TextList(
                items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .ok_or("expected a list of strings")
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (ty, _) => return Err(format!("expected {}", article(ty))),
        })
    }

    /// Read a value of type `ty` from a command-line string: `text` as is,
    /// numbers and booleans parsed, `text-list` comma-separated.
    pub fn from_cli(s: &str, ty: SettingType) -> Result<SettingValue, String> {
        let bad = || format!("`{s}` is not {}", article(ty));
        Ok(match ty {
            SettingType::Text => SettingValue::Text(s.to_owned()),
            SettingType::Integer => SettingValue::Integer(s.trim().parse().map_err(|_| bad())?),
            SettingType::Number => SettingValue::Number(s.trim().parse().map_err(|_| bad())?),
            SettingType::Boolean => SettingValue::Boolean(match s.trim() {
                "true" | "yes" | "on" => true,
                "false" | "no" | "off" => false,
                _ => return Err(bad()),
            }),
            SettingType::TextList => SettingValue::TextList(
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
        })
    }

    /// Whether the value has this type (integers count as numbers).
    fn has_type(&self, ty: SettingType) -> bool {
        matches!(
            (self, ty),
            (SettingValue::Text(_), SettingType::Text)
                | (SettingValue::Integer(_), SettingType::Integer)
                | (
                    SettingValue::Integer(_) | SettingValue::Number(_),
                    SettingType::Number
                )
                | (SettingValue::Boolean(_), SettingType::Boolean)
                | (SettingValue::TextList(_), SettingType::TextList)
        )
    }
}

impl std::fmt::Display for SettingValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingValue::Boolean(b) => write!(f, "{b}"),
            SettingValue::Integer(i) => write!(f, "{i}"),
            SettingValue::Number(n) => write!(f, "{n}"),
            SettingValue::Text(s) => write!(f, "{s:?}"),
            SettingValue::TextList(l) => write!(f, "{l:?}"),
        }
    }
}

fn article(ty: SettingType) -> &'static str {
    match ty {
        SettingType::Text => "a text",
        SettingType::Integer => "an integer",
        SettingType::Number => "a number",
        SettingType::Boolean => "a boolean",
        SettingType::TextList => "a list of texts",
    }
}

/// A setting as declared in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingSpec {
    #[serde(rename = "type")]
    pub ty: SettingType,
    pub default: SettingValue,
    pub description: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub choices: Option<Vec<String>>,
}

impl SettingSpec {
    /// Check a value against the declaration; integers given for a number
    /// setting become numbers.
    pub fn check(&self, v: SettingValue) -> Result<SettingValue, String> {
        if !v.has_type(self.ty) {
            return Err(format!("expected {}, got {v}", article(self.ty)));
        }
        let v = match (v, self.ty) {
            (SettingValue::Integer(i), SettingType::Number) => SettingValue::Number(i as f64),
            (v, _) => v,
        };
        let numeric = match &v {
            SettingValue::Integer(i) => Some(*i as f64),
            SettingValue::Number(n) => {
                if !n.is_finite() {
                    return Err(format!("{n} is not a finite number"));
                }
                Some(*n)
            }
            _ => None,
        };
        if let Some(n) = numeric {
            if let Some(min) = self.min
                && n < min
            {
                return Err(format!("{v} is less than the minimum {min}"));
            }
            if let Some(max) = self.max
                && n > max
            {
                return Err(format!("{v} is more than the maximum {max}"));
            }
        }
        match &v {
            SettingValue::Text(s) => {
                if s.len() > MAX_TEXT {
                    return Err(format!("longer than {MAX_TEXT} bytes"));
                }
                if let Some(choices) = &self.choices
                    && !choices.contains(s)
                {
                    return Err(format!("{v} is not one of {}", choices.join(", ")));
                }
            }
            SettingValue::TextList(l) => {
                if l.len() > MAX_LIST {
                    return Err(format!("more than {MAX_LIST} entries"));
                }
                if l.iter().any(|s| s.len() > MAX_TEXT) {
                    return Err(format!("an entry is longer than {MAX_TEXT} bytes"));
                }
            }
            _ => {}
        }
        Ok(v)
    }
}

/// A setting value that does not fit its declaration.
#[derive(Debug, Clone, thiserror::Error)]
#[error("setting `{setting}`: {message}")]
pub struct SettingError {
    pub setting: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_values_parse_by_type() {
        assert_eq!(
            SettingValue::from_cli("42", SettingType::Integer),
            Ok(SettingValue::Integer(42))
        );
        assert_eq!(
            SettingValue::from_cli("2.5", SettingType::Number),
            Ok(SettingValue::Number(2.5))
        );
        assert_eq!(
            SettingValue::from_cli("yes", SettingType::Boolean),
            Ok(SettingValue::Boolean(true))
        );
        assert_eq!(
            SettingValue::from_cli("VIP, Gold ,", SettingType::TextList),
            Ok(SettingValue::TextList(vec!["VIP".into(), "Gold".into()]))
        );
        assert_eq!(
            SettingValue::from_cli("x", SettingType::Integer),
            Err("`x` is not an integer".to_owned())
        );
    }

    #[test]
    fn json_values_round_trip() {
        for (v, ty) in [
            (SettingValue::Text("a".into()), SettingType::Text),
            (SettingValue::Integer(-3), SettingType::Integer),
            (SettingValue::Number(1.5), SettingType::Number),
            (SettingValue::Boolean(false), SettingType::Boolean),
            (
                SettingValue::TextList(vec!["a".into()]),
                SettingType::TextList,
            ),
        ] {
            let json = serde_json::to_value(&v).unwrap();
            assert_eq!(SettingValue::from_json(&json, ty).unwrap(), v);
        }
        assert!(SettingValue::from_json(&serde_json::json!(1.5), SettingType::Integer).is_err());
    }

    #[test]
    fn choices_and_ranges_are_enforced() {
        let spec = SettingSpec {
            ty: SettingType::Text,
            default: SettingValue::Text("low".into()),
            description: String::new(),
            min: None,
            max: None,
            choices: Some(vec!["low".into(), "high".into()]),
        };
        assert!(spec.check(SettingValue::Text("high".into())).is_ok());
        assert_eq!(
            spec.check(SettingValue::Text("mid".into())).unwrap_err(),
            "\"mid\" is not one of low, high"
        );
        let num = SettingSpec {
            ty: SettingType::Number,
            default: SettingValue::Number(1.0),
            description: String::new(),
            min: Some(0.0),
            max: None,
            choices: None,
        };
        assert_eq!(
            num.check(SettingValue::Integer(3)),
            Ok(SettingValue::Number(3.0))
        );
        assert!(num.check(SettingValue::Number(-0.5)).is_err());
        assert!(num.check(SettingValue::Number(f64::NAN)).is_err());
    }
}
