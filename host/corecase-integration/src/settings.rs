//! `[corecase]` in `shopcase.toml`: the Core Case client's own keys (see
//! `shopcase_corecase::CoreCaseConfig`: URLs, tenant, client id and secret,
//! timeouts, `[corecase.retry]`) plus what the host adds: the case-type
//! mapping, the poller and the execution bound. Unknown keys are refused
//! with their name.
//!
//! ```toml
//! [corecase]
//! api-base = "https://na-1.api.example.opentext.com"
//! auth-base = "https://na-1.api.example.opentext.com"
//! tenant-id = "a1b2c3"
//! client-id = "shopcase-prod"
//! client-secret-env = "SHOPCASE_CORECASE_SECRET"   # or client-secret-file
//! request-timeout = "30s"
//! poll-interval = "30s"        # how often changed cases are read back
//! poll-overlap = "5s"          # re-read this much before the high-water mark
//! poll-page-size = 100         # items-per-page of the poller's listing
//! execute-timeout = "45s"      # one journalled case action; default 3/4 of executor.lease
//! discover-case-types = true   # case types not listed below: the tenant's definition of that name
//! case-url = "https://tenant.example/case/{id}"   # `link` in case-updated events ({id}, {number})
//!
//! [corecase.case-types]        # plugin case type = case definition id
//! fraud-investigation = "7c0e5b1a-…"
//! refund-approval = { id = "1f2e…", case-config-id = "9a8b…" }
//!
//! [corecase.retry]             # the client's retries within one execution
//! base = "200ms"
//! max = "10s"
//! max-attempts = 6
//! max-retry-after = "60s"
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use shopcase_corecase::{ClientSettings, CoreCaseConfig};

use shopcase_config::{Config, ConfigError, parse_duration};

/// A case definition a case type maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionRef {
    /// The definition id.
    pub id: String,
    /// The case configuration new cases use, when known (sent as
    /// `caseConfigId`).
    pub case_config_id: Option<String>,
}

/// The checked `[corecase]` section.
#[derive(Debug, Clone)]
pub struct CoreCaseSettings {
    /// The client's configuration (secret not yet resolved).
    pub client: CoreCaseConfig,
    /// Plugin case type → case definition.
    pub case_types: BTreeMap<String, DefinitionRef>,
    /// Look up case types missing from `case_types` among the tenant's
    /// definitions, by name.
    pub discover_case_types: bool,
    /// How often the poller reads changed cases.
    pub poll_interval: Duration,
    /// How far before the high-water mark each poll starts (Core Case may
    /// stamp a change before it becomes visible).
    pub poll_overlap: Duration,
    /// Cases per page of the poller's listing.
    pub poll_page_size: u32,
    /// The longest one journalled case action may take, all requests and
    /// retries included; shorter than `executor.lease`, so an execution
    /// never outlives its claim.
    pub execute_timeout: Duration,
    /// A template for the case's address in Core Case's UI (`{id}`,
    /// `{number}`), the `link` of case-updated events.
    pub case_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawDefinition {
    Id(String),
    Full(RawDefinitionTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDefinitionTable {
    id: String,
    case_config_id: Option<String>,
}

/// The pipeline's own keys of `[corecase]`; the rest is the client's.
const OWN_KEYS: &[&str] = &[
    "case-types",
    "discover-case-types",
    "poll-interval",
    "poll-overlap",
    "poll-page-size",
    "execute-timeout",
    "case-url",
];

impl CoreCaseSettings {
    /// Check `config.corecase`; `None` when there is no `[corecase]`.
    pub fn from_config(config: &Config) -> Result<Option<CoreCaseSettings>, ConfigError> {
        config
            .corecase
            .as_ref()
            .map(|v| CoreCaseSettings::parse(v, &config.path, config.executor.lease))
            .transpose()
    }

    /// Check a `[corecase]` table; `file` names it in errors, `lease` is
    /// `executor.lease`.
    pub fn parse(
        section: &toml::Value,
        file: &Path,
        lease: Duration,
    ) -> Result<CoreCaseSettings, ConfigError> {
        let at = |key: &str, message: String| ConfigError {
            file: file.to_owned(),
            key: Some(format!("corecase.{key}")),
            message,
        };
        let Some(table) = section.as_table() else {
            return Err(ConfigError {
                file: file.to_owned(),
                key: Some("corecase".into()),
                message: "must be a table".into(),
            });
        };
        let mut client = table.clone();
        let mut own = toml::Table::new();
        for k in OWN_KEYS {
            if let Some(v) = client.remove(*k) {
                own.insert((*k).to_owned(), v);
            }
        }
        let mut client: CoreCaseConfig =
            toml::Value::Table(client)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError {
                    file: file.to_owned(),
                    key: Some("corecase".into()),
                    message: e.message().trim_end().to_owned(),
                })?;
        // Like every other path in the file: relative to the file.
        if let Some(p) = client.client_secret_file.take() {
            let base = file.parent().unwrap_or(Path::new("."));
            client.client_secret_file = Some(if p.is_absolute() { p } else { base.join(p) });
        }

        let text = |key: &str| -> Result<Option<String>, ConfigError> {
            match own.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(at(key, "must be a string".into())),
            }
        };
        let dur = |key: &str, default: Duration| -> Result<Duration, ConfigError> {
            match text(key)? {
                None => Ok(default),
                Some(s) => parse_duration(&s).map_err(|m| at(key, m)),
            }
        };
        let poll_interval = dur("poll-interval", Duration::from_secs(30))?;
        if poll_interval.is_zero() {
            return Err(at("poll-interval", "must be longer than 0".into()));
        }
        let poll_overlap = dur("poll-overlap", Duration::from_secs(5))?;
        let poll_page_size = match own.get("poll-page-size") {
            None => 100,
            Some(toml::Value::Integer(n)) if (1..=1000).contains(n) => *n as u32,
            Some(_) => {
                return Err(at(
                    "poll-page-size",
                    "must be an integer from 1 to 1000".into(),
                ));
            }
        };
        let execute_timeout = match text("execute-timeout")? {
            None => lease.mul_f64(0.75),
            Some(s) => {
                let t = parse_duration(&s).map_err(|m| at("execute-timeout", m))?;
                if t.is_zero() || t >= lease {
                    return Err(at(
                        "execute-timeout",
                        format!(
                            "must be longer than 0 and shorter than `executor.lease` ({} ms): an execution still running when its claim ends could be claimed again",
                            lease.as_millis()
                        ),
                    ));
                }
                t
            }
        };
        let discover_case_types = match own.get("discover-case-types") {
            None => true,
            Some(toml::Value::Boolean(b)) => *b,
            Some(_) => return Err(at("discover-case-types", "must be true or false".into())),
        };
        let case_url = text("case-url")?;
        if let Some(u) = &case_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(at(
                "case-url",
                format!("`{u}` is not an http(s) URL template"),
            ));
        }
        let mut case_types = BTreeMap::new();
        if let Some(v) = own.get("case-types") {
            let Some(t) = v.as_table() else {
                return Err(at(
                    "case-types",
                    "must be a table of case type = definition id".into(),
                ));
            };
            for (name, def) in t {
                let key = format!("case-types.{name}");
                if !shopcase_contract::action::is_case_type(name) {
                    return Err(at(&key, "a case type is 1-64 of a-z, 0-9 and `-`".into()));
                }
                let raw: RawDefinition = def.clone().try_into().map_err(|e: toml::de::Error| {
                    at(
                        &key,
                        format!(
                            "must be a definition id or {{ id = \"…\", case-config-id = \"…\" }}: {}",
                            e.message().trim_end()
                        ),
                    )
                })?;
                let d = match raw {
                    RawDefinition::Id(id) => DefinitionRef {
                        id,
                        case_config_id: None,
                    },
                    RawDefinition::Full(t) => DefinitionRef {
                        id: t.id,
                        case_config_id: t.case_config_id,
                    },
                };
                if d.id.trim().is_empty() {
                    return Err(at(&key, "the definition id is empty".into()));
                }
                case_types.insert(name.clone(), d);
            }
        }
        if case_types.is_empty() && !discover_case_types {
            return Err(at(
                "case-types",
                "no case type is mapped and `discover-case-types` is off: no case could be opened"
                    .into(),
            ));
        }
        Ok(CoreCaseSettings {
            client,
            case_types,
            discover_case_types,
            poll_interval,
            poll_overlap,
            poll_page_size,
            execute_timeout,
            case_url,
        })
    }

    /// The client settings, with the secret read from the environment or
    /// its file. The error names the key, never the secret.
    pub fn resolve_client(&self, file: &Path) -> Result<ClientSettings, ConfigError> {
        self.client.resolve().map_err(|e| ConfigError {
            file: file.to_owned(),
            key: Some("corecase".into()),
            message: e.to_string(),
        })
    }

    /// The case's address in Core Case's UI, if `case-url` is set.
    pub fn case_link(&self, case_id: &str, case_number: &str) -> Option<String> {
        self.case_url
            .as_ref()
            .map(|t| t.replace("{id}", case_id).replace("{number}", case_number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
api-base = "http://127.0.0.1:8081"
auth-base = "http://127.0.0.1:8081"
tenant-id = "shopcase-dev"
client-id = "shopcase-dev"
client-secret-env = "SHOPCASE_CORECASE_SECRET"
"#;

    fn parse(extra: &str) -> Result<CoreCaseSettings, String> {
        let v: toml::Value =
            toml::from_str(&format!("{BASE}{extra}")).map_err(|e| e.to_string())?;
        CoreCaseSettings::parse(
            &v,
            Path::new("/etc/shopcase/shopcase.toml"),
            Duration::from_secs(60),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_the_mapping() {
        let s = parse(
            r#"
case-url = "https://tenant.example/case/{id}"
[case-types]
fraud-investigation = "def-1"
refund-approval = { id = "def-2", case-config-id = "cfg-2" }
[retry]
max-attempts = 3
"#,
        )
        .unwrap();
        assert_eq!(s.poll_interval, Duration::from_secs(30));
        assert_eq!(s.poll_overlap, Duration::from_secs(5));
        assert_eq!(s.poll_page_size, 100);
        assert_eq!(s.execute_timeout, Duration::from_secs(45));
        assert!(s.discover_case_types);
        assert_eq!(s.client.retry.max_attempts, 3);
        assert_eq!(s.client.tenant_id, "shopcase-dev");
        assert_eq!(
            s.case_types["refund-approval"],
            DefinitionRef {
                id: "def-2".into(),
                case_config_id: Some("cfg-2".into())
            }
        );
        assert_eq!(s.case_types["fraud-investigation"].case_config_id, None);
        assert_eq!(
            s.case_link("c1", "CASE-1").as_deref(),
            Some("https://tenant.example/case/c1")
        );
    }

    #[test]
    fn errors_name_the_key() {
        for (extra, want) in [
            (
                "poll-interval = \"soon\"",
                "`corecase.poll-interval`: `soon` is not a duration",
            ),
            (
                "poll-interval = \"0s\"",
                "`corecase.poll-interval`: must be longer than 0",
            ),
            (
                "poll-page-size = 0",
                "`corecase.poll-page-size`: must be an integer",
            ),
            (
                "execute-timeout = \"90s\"",
                "`corecase.execute-timeout`: must be longer than 0 and shorter than `executor.lease`",
            ),
            (
                "discover-case-types = \"yes\"",
                "`corecase.discover-case-types`: must be true or false",
            ),
            (
                "case-url = \"tenant/{id}\"",
                "`corecase.case-url`: `tenant/{id}` is not an http(s)",
            ),
            (
                "client-secret = \"oops\"",
                "`corecase`: unknown field `client-secret`",
            ),
            (
                "[case-types]\nFraud = \"d\"",
                "`corecase.case-types.Fraud`: a case type is",
            ),
            (
                "[case-types]\nfraud = 3",
                "`corecase.case-types.fraud`: must be a definition id",
            ),
            (
                "[case-types]\nfraud = { id = \"d\", config = \"x\" }",
                "`corecase.case-types.fraud`: must be a definition id",
            ),
            (
                "discover-case-types = false",
                "`corecase.case-types`: no case type is mapped",
            ),
        ] {
            let err = parse(extra).unwrap_err();
            assert!(
                err.starts_with("/etc/shopcase/shopcase.toml: ") && err.contains(want),
                "want {want:?} in {err:?}"
            );
        }
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let text = include_str!("../../../examples/shopcase.toml");
        let v: toml::Value = toml::from_str(text).unwrap();
        let s = CoreCaseSettings::parse(
            &v["corecase"],
            Path::new("examples/shopcase.toml"),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(s.poll_interval, Duration::from_secs(30));
        assert_eq!(s.client.retry.max_attempts, 6);
        assert!(s.case_types.is_empty() && s.discover_case_types);
        assert!(s.client.warnings.is_empty(), "the example uses no old key");
        assert_eq!(s.client.request_timeout.get(), Duration::from_secs(30));
    }

    #[test]
    fn the_secret_is_resolved_from_a_file_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corecase.secret");
        std::fs::write(&path, "s3cret-value\n").unwrap();
        // Relative to the configuration file, like every path in it.
        let v: toml::Value = toml::from_str(&format!(
            "{}client-secret-file = \"corecase.secret\"\n",
            BASE.replace("client-secret-env = \"SHOPCASE_CORECASE_SECRET\"\n", ""),
        ))
        .unwrap();
        let file = dir.path().join("shopcase.toml");
        let s = CoreCaseSettings::parse(&v, &file, Duration::from_secs(60)).unwrap();
        let client = s.resolve_client(&file).unwrap();
        assert_eq!(client.client_secret.expose(), "s3cret-value");
        assert!(!format!("{client:?}{s:?}").contains("s3cret-value"));
        // A missing secret names the key.
        let v: toml::Value = toml::from_str(&format!(
            "{}client-secret-file = \"/nonexistent/secret\"\n",
            BASE.replace("client-secret-env = \"SHOPCASE_CORECASE_SECRET\"\n", ""),
        ))
        .unwrap();
        let s = CoreCaseSettings::parse(&v, &file, Duration::from_secs(60)).unwrap();
        let e = s.resolve_client(&file).unwrap_err().to_string();
        assert!(
            e.contains("`corecase`") && e.contains("client-secret-file"),
            "{e}"
        );
    }
}
