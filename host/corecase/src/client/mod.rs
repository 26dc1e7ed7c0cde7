//! The Core Case REST client.
//!
//! # Mapping to the API
//!
//! | method | request |
//! |---|---|
//! | [`CoreCaseClient::list_case_definitions`] | `GET /api/v1/case-definitions` |
//! | [`CoreCaseClient::create_case`] | `POST /api/v1/case-definitions/{defId}/cases` + `Idempotency-Key` |
//! | [`CoreCaseClient::create_case_with_files`] | the same, `multipart/form-data` (`caseInstance` + `files[]`) |
//! | [`CoreCaseClient::get_case`] | `GET …/cases/{caseId}` |
//! | [`CoreCaseClient::update_case_data`] | `PUT …/cases/{caseId}/case-data`, optional `If-Match` |
//! | [`CoreCaseClient::change_status`] | `POST …/cases/{caseId}/status` |
//! | [`CoreCaseClient::add_comment`], [`list_comments`](CoreCaseClient::list_comments) | `POST`/`GET …/comments` |
//! | [`CoreCaseClient::upload_attachment`], [`list_attachments`](CoreCaseClient::list_attachments), [`attachment_content`](CoreCaseClient::attachment_content) | `POST`/`GET …/attachments`, `GET …/attachments/{id}/content` |
//! | [`CoreCaseClient::history`] | `GET …/history` |
//! | [`CoreCaseClient::create_task`], [`list_tasks`](CoreCaseClient::list_tasks), [`complete_task`](CoreCaseClient::complete_task) | `POST`/`GET …/tasks`, `POST …/tasks/{taskId}/complete` |
//! | [`CoreCaseClient::list_cases`], [`list_cases_next`](CoreCaseClient::list_cases_next), [`list_all_cases`](CoreCaseClient::list_all_cases) | `GET …/cases?updatedSince=&page=&items-per-page=` and `_links.next.href` |
//! | [`CoreCaseClient::find_case_by_external_reference`] | `GET …/cases?externalReference=` |
//!
//! Authentication is OAuth2 client credentials: `POST
//! {auth-base}/tenants/{tenant-id}/oauth2/token` (form-encoded, HTTP Basic),
//! cached, refreshed 60 s before `expires_in` runs out (or half-way for
//! short-lived tokens), one refresh at a time however many callers wait.
//!
//! # Retries and errors
//!
//! See [`transport`] for the policy and [`Error`]/[`ErrorClass`] for what a
//! caller gets. In short: 429/5xx/timeouts/connection failures are retried
//! with jittered exponential backoff honouring `Retry-After`; a 401 gets one
//! token refresh and one retry; 409/412 are conflicts; other 4xx are
//! permanent. Every POST that creates something may carry a caller-chosen
//! `Idempotency-Key` (creating a case requires one): the executor passes a
//! deterministic key per journalled action, so a retry — now or after a
//! crash — is answered with the first result instead of applied twice.
//! Creating a case is also protected by `externalReference`: a 409
//! `DuplicateExternalReference` adopts the existing case
//! ([`CreatedCase::adopted`]).
//!
//! # Pointing it at a real tenant
//!
//! Only configuration changes ([`CoreCaseConfig`]): `api-base` and
//! `auth-base` become the tenant's API gateway URLs (https), `tenant-id`
//! and `client-id` those of the OAuth2 client registered for shopcase, and
//! the secret comes from `client-secret-env` or `client-secret-file`. Map
//! case-type names to definition ids with
//! [`CoreCaseClient::list_case_definitions`]. Nothing is ever logged but
//! operation names, statuses and error texts: no token, secret or case body.
//!
//! ```no_run
//! # async fn demo() -> Result<(), shopcase_corecase::Error> {
//! use shopcase_contract::action::Priority;
//! use shopcase_corecase::client::dto::NewCase;
//! use shopcase_corecase::{CoreCaseClient, CoreCaseConfig};
//!
//! let config: CoreCaseConfig = serde_json::from_str(r#"{
//!     "api-base": "http://127.0.0.1:8081", "auth-base": "http://127.0.0.1:8081",
//!     "tenant-id": "shopcase-dev", "client-id": "shopcase-dev",
//!     "client-secret-env": "SHOPCASE_CORECASE_SECRET"}"#).unwrap();
//! let client = CoreCaseClient::from_config(&config)?;
//! let defs = client.list_case_definitions().await?;
//! let fraud = defs.iter().find(|d| d.name == "fraud-investigation").unwrap();
//! let new = NewCase::new(&fraud.id, "Possible fraud on #1042", Priority::High,
//!                        "shop.myshopify.com:order:5834211000321:fraud");
//! let created = client.create_case(&fraud.id, &new, "evt-1:fraud:0").await?;
//! println!("{} {}", created.case.case_number, created.adopted);
//! # Ok(()) }
//! ```

pub mod config;
pub mod dto;
pub mod error;
pub mod transport;

use std::sync::Arc;

use bytes::Bytes;
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

pub use config::{ClientSettings, CoreCaseConfig, RetryConfig};
pub use dto::CreatedCase;
use dto::{
    Attachment, AttachmentMetadata, Case, CaseDataUpdate, CaseDefinition, CasePage, CaseQuery,
    Comment, HistoryEntry, Listing, NewAttachment, NewCase, NewComment, NewTask, StatusChange,
    Task, TaskCompletion,
};
pub use error::{Error, ErrorClass};
use transport::{Answer, Call, FilePart, Payload, TokenCache};

/// Most pages [`CoreCaseClient::list_all_cases`] follows before it decides
/// the server is looping.
const MAX_PAGES: usize = 10_000;

/// A Core Case client. Cheap to clone; clones share the token cache and the
/// connection pool.
#[derive(Debug, Clone)]
pub struct CoreCaseClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    settings: ClientSettings,
    tokens: TokenCache,
}

impl CoreCaseClient {
    /// A client from the `[corecase]` configuration (resolves the secret).
    pub fn from_config(config: &CoreCaseConfig) -> Result<CoreCaseClient, Error> {
        CoreCaseClient::new(config.resolve()?)
    }

    /// A client from resolved settings.
    pub fn new(settings: ClientSettings) -> Result<CoreCaseClient, Error> {
        CoreCaseClient::with_token_clock(settings, std::sync::Arc::new(tokio::time::Instant::now))
    }

    /// A client whose token cache reads `clock` to decide when a token is
    /// due for refresh: tests move time without waiting for it.
    pub fn with_token_clock(
        settings: ClientSettings,
        clock: transport::TokenClock,
    ) -> Result<CoreCaseClient, Error> {
        settings.validate()?;
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(
                settings
                    .request_timeout
                    .min(std::time::Duration::from_secs(10)),
            )
            // A redirect would carry the bearer token somewhere unplanned.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("shopcase/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(CoreCaseClient {
            inner: Arc::new(Inner {
                http,
                settings,
                tokens: TokenCache::with_clock(clock),
            }),
        })
    }

    /// The settings in use (the secret prints as `[redacted]`).
    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    // ------------------------------------------------------------ plumbing

    fn url(&self, segments: &[&str]) -> Result<Url, Error> {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        transport::join(&self.inner.settings.api_base, &all)
    }

    async fn run(&self, call: Call<'_>) -> Result<Answer, Error> {
        transport::execute(
            &self.inner.http,
            &self.inner.settings,
            &self.inner.tokens,
            &call,
        )
        .await
    }

    async fn run_json<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, Error> {
        let op = call.operation;
        let answer = self.run(call).await?;
        serde_json::from_slice(&answer.body).map_err(|e| Error::Protocol {
            operation: op,
            detail: e.to_string(),
        })
    }

    async fn run_list<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<Listing<T>, Error> {
        let op = call.operation;
        let answer = self.run(call).await?;
        Listing::parse(&answer.body).map_err(|detail| Error::Protocol {
            operation: op,
            detail,
        })
    }

    fn get(op: &'static str, url: Url) -> Call<'static> {
        Call {
            operation: op,
            method: Method::GET,
            url,
            payload: Payload::Empty,
            idempotency_key: None,
            if_match: None,
        }
    }

    fn json_call<'a, B: serde::Serialize + ?Sized>(
        op: &'static str,
        method: Method,
        url: Url,
        body: &B,
        idempotency_key: Option<&'a str>,
    ) -> Result<Call<'a>, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::InvalidInput {
            operation: op,
            detail: e.to_string(),
        })?;
        if let Some(key) = idempotency_key {
            check_key(op, key)?;
        }
        Ok(Call {
            operation: op,
            method,
            url,
            payload: Payload::Json(Bytes::from(bytes)),
            idempotency_key,
            if_match: None,
        })
    }

    // ------------------------------------------------------------ definitions

    /// `GET /case-definitions`: the tenant's case types.
    pub async fn list_case_definitions(&self) -> Result<Vec<CaseDefinition>, Error> {
        let url = self.url(&["case-definitions"])?;
        Ok(self
            .run_list(Self::get("list-case-definitions", url))
            .await?
            .items)
    }

    // ------------------------------------------------------------ cases

    /// Create a case, safe to repeat: `idempotency_key` (deterministic, from
    /// the caller's journal) makes a retried request answer the first
    /// result, and a 409 `DuplicateExternalReference` adopts the existing
    /// case (`adopted: true`).
    pub async fn create_case(
        &self,
        definition_id: &str,
        case: &NewCase,
        idempotency_key: &str,
    ) -> Result<CreatedCase, Error> {
        const OP: &str = "create-case";
        let url = self.url(&["case-definitions", definition_id, "cases"])?;
        let call = Self::json_call(OP, Method::POST, url, case, Some(idempotency_key))?;
        self.adopting(
            definition_id,
            case.external_reference(),
            self.run_json(call).await,
        )
        .await
    }

    /// [`CoreCaseClient::create_case`] with files, as one multipart request:
    /// a `caseInstance` JSON part and one `files[]` part per file.
    pub async fn create_case_with_files(
        &self,
        definition_id: &str,
        case: &NewCase,
        files: &[NewAttachment],
        idempotency_key: &str,
    ) -> Result<CreatedCase, Error> {
        const OP: &str = "create-case";
        check_key(OP, idempotency_key)?;
        let url = self.url(&["case-definitions", definition_id, "cases"])?;
        let instance = serde_json::to_vec(case).map_err(|e| Error::InvalidInput {
            operation: OP,
            detail: e.to_string(),
        })?;
        let mut parts = vec![FilePart {
            name: "caseInstance".into(),
            file_name: None,
            content_type: "application/json".into(),
            data: Bytes::from(instance),
        }];
        parts.extend(files.iter().map(|f| FilePart {
            name: "files[]".into(),
            file_name: Some(f.name.clone()),
            content_type: f.content_type.clone(),
            data: f.content.clone(),
        }));
        let call = Call {
            operation: OP,
            method: Method::POST,
            url,
            payload: Payload::Multipart(parts),
            idempotency_key: Some(idempotency_key),
            if_match: None,
        };
        self.adopting(
            definition_id,
            case.external_reference(),
            self.run_json(call).await,
        )
        .await
    }

    async fn adopting(
        &self,
        definition_id: &str,
        external_reference: &str,
        created: Result<Case, Error>,
    ) -> Result<CreatedCase, Error> {
        match created {
            Ok(case) => Ok(CreatedCase {
                case,
                adopted: false,
            }),
            Err(Error::DuplicateExternalReference {
                existing_case_id: Some(id),
                ..
            }) => {
                tracing::info!(case_id = %id, "Core Case already has this externalReference; adopting the case");
                Ok(CreatedCase {
                    case: self.get_case(definition_id, &id).await?,
                    adopted: true,
                })
            }
            Err(Error::DuplicateExternalReference {
                existing_case_id: None,
                operation,
                message,
            }) => {
                // The answer did not say which case: look it up.
                match self
                    .find_case_by_external_reference(definition_id, external_reference)
                    .await?
                {
                    Some(case) => Ok(CreatedCase {
                        case,
                        adopted: true,
                    }),
                    None => Err(Error::Conflict {
                        operation,
                        exception: "DuplicateExternalReference".into(),
                        message,
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// `GET …/cases/{caseId}`.
    pub async fn get_case(&self, definition_id: &str, case_id: &str) -> Result<Case, Error> {
        let url = self.url(&["case-definitions", definition_id, "cases", case_id])?;
        self.run_json(Self::get("get-case", url)).await
    }

    /// `PUT …/case-data`. With `if_match` (the `lastUpdatedOn` read
    /// earlier), a concurrent change makes it fail with
    /// [`Error::PreconditionFailed`] instead of overwriting.
    pub async fn update_case_data(
        &self,
        definition_id: &str,
        case_id: &str,
        update: &CaseDataUpdate,
        if_match: Option<&str>,
    ) -> Result<Case, Error> {
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "case-data",
        ])?;
        let mut call = Self::json_call("update-case-data", Method::PUT, url, &update.wire(), None)?;
        call.if_match = if_match;
        self.run_json(call).await
    }

    /// `POST …/status`. An illegal transition is [`Error::Conflict`]. Pass an
    /// `idempotency_key` so a retry after a lost answer is not refused as
    /// "already in that status".
    pub async fn change_status(
        &self,
        definition_id: &str,
        case_id: &str,
        change: &StatusChange,
        idempotency_key: Option<&str>,
    ) -> Result<Case, Error> {
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "status",
        ])?;
        self.run_json(Self::json_call(
            "change-status",
            Method::POST,
            url,
            change,
            idempotency_key,
        )?)
        .await
    }

    /// `GET …/cases` with filters: one page. Follow
    /// [`CasePage::next`] with [`CoreCaseClient::list_cases_next`].
    pub async fn list_cases(
        &self,
        definition_id: &str,
        query: &CaseQuery,
    ) -> Result<CasePage, Error> {
        let mut url = self.url(&["case-definitions", definition_id, "cases"])?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(r) = &query.external_reference {
                q.append_pair("externalReference", r);
            }
            if !query.statuses.is_empty() {
                let list: Vec<&str> = query.statuses.iter().map(|s| s.as_api()).collect();
                q.append_pair("status", &list.join(","));
            }
            if let Some(t) = query.updated_since {
                q.append_pair("updatedSince", &crate::api_time::format(t));
            }
            if let Some(p) = query.page {
                q.append_pair("page", &p.to_string());
            }
            if let Some(n) = query.items_per_page {
                q.append_pair("items-per-page", &n.to_string());
            }
            if query.include_total {
                q.append_pair("include-total", "true");
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        self.page(Self::get("list-cases", url)).await
    }

    /// The page at `next` (a [`CasePage::next`] link). The link must point
    /// at `api-base`'s origin: the bearer token is not sent elsewhere.
    pub async fn list_cases_next(&self, next: &Url) -> Result<CasePage, Error> {
        if next.origin() != self.inner.settings.api_base.origin() {
            return Err(Error::Protocol {
                operation: "list-cases",
                detail: format!("next link `{next}` leaves api-base's origin"),
            });
        }
        self.page(Self::get("list-cases", next.clone())).await
    }

    async fn page(&self, call: Call<'_>) -> Result<CasePage, Error> {
        let base = call.url.clone();
        let listing: Listing<Case> = self.run_list(call).await?;
        let next = match listing.next {
            // Relative links resolve against the page they came from.
            Some(href) => Some(base.join(&href).map_err(|e| Error::Protocol {
                operation: "list-cases",
                detail: format!("next link `{href}`: {e}"),
            })?),
            None => None,
        };
        Ok(CasePage {
            cases: listing.items,
            total: listing.total,
            next,
        })
    }

    /// Every matching case, following `next` links to the end.
    pub async fn list_all_cases(
        &self,
        definition_id: &str,
        query: &CaseQuery,
    ) -> Result<Vec<Case>, Error> {
        let mut page = self.list_cases(definition_id, query).await?;
        let mut all = std::mem::take(&mut page.cases);
        let mut seen = std::collections::HashSet::new();
        while let Some(next) = page.next.take() {
            if !seen.insert(next.clone()) || seen.len() > MAX_PAGES {
                return Err(Error::Protocol {
                    operation: "list-cases",
                    detail: format!("paging loops at `{next}`"),
                });
            }
            page = self.list_cases_next(&next).await?;
            all.append(&mut page.cases);
        }
        Ok(all)
    }

    /// The case with this `externalReference`, if any.
    pub async fn find_case_by_external_reference(
        &self,
        definition_id: &str,
        external_reference: &str,
    ) -> Result<Option<Case>, Error> {
        let query = CaseQuery {
            external_reference: Some(external_reference.into()),
            ..CaseQuery::default()
        };
        let page = self.list_cases(definition_id, &query).await?;
        // Filter again: a server that ignored the filter must not hand us
        // somebody else's case.
        Ok(page
            .cases
            .into_iter()
            .find(|c| c.external_reference() == Some(external_reference)))
    }

    // ------------------------------------------------------------ comments

    /// `POST …/comments`.
    pub async fn add_comment(
        &self,
        definition_id: &str,
        case_id: &str,
        comment: &NewComment,
        idempotency_key: Option<&str>,
    ) -> Result<Comment, Error> {
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "comments",
        ])?;
        self.run_json(Self::json_call(
            "add-comment",
            Method::POST,
            url,
            comment,
            idempotency_key,
        )?)
        .await
    }

    /// `GET …/comments`.
    pub async fn list_comments(
        &self,
        definition_id: &str,
        case_id: &str,
    ) -> Result<Vec<Comment>, Error> {
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "comments",
        ])?;
        Ok(self.run_list(Self::get("list-comments", url)).await?.items)
    }

    // ------------------------------------------------------------ attachments

    /// `POST …/attachments` (multipart: `file` + `metadata`).
    pub async fn upload_attachment(
        &self,
        definition_id: &str,
        case_id: &str,
        file: &NewAttachment,
        idempotency_key: Option<&str>,
    ) -> Result<Attachment, Error> {
        const OP: &str = "upload-attachment";
        if let Some(key) = idempotency_key {
            check_key(OP, key)?;
        }
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "attachments",
        ])?;
        let metadata = AttachmentMetadata {
            name: &file.name,
            content_type: &file.content_type,
            description: file.description.as_deref(),
        };
        let metadata = serde_json::to_vec(&metadata).map_err(|e| Error::InvalidInput {
            operation: OP,
            detail: e.to_string(),
        })?;
        let parts = vec![
            FilePart {
                name: "file".into(),
                file_name: Some(file.name.clone()),
                content_type: file.content_type.clone(),
                data: file.content.clone(),
            },
            FilePart {
                name: "metadata".into(),
                file_name: None,
                content_type: "application/json".into(),
                data: Bytes::from(metadata),
            },
        ];
        let call = Call {
            operation: OP,
            method: Method::POST,
            url,
            payload: Payload::Multipart(parts),
            idempotency_key,
            if_match: None,
        };
        self.run_json(call).await
    }

    /// `GET …/attachments`.
    pub async fn list_attachments(
        &self,
        definition_id: &str,
        case_id: &str,
    ) -> Result<Vec<Attachment>, Error> {
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "attachments",
        ])?;
        Ok(self
            .run_list(Self::get("list-attachments", url))
            .await?
            .items)
    }

    /// `GET …/attachments/{id}/content`: the bytes.
    pub async fn attachment_content(
        &self,
        definition_id: &str,
        case_id: &str,
        attachment_id: &str,
    ) -> Result<Bytes, Error> {
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "attachments",
            attachment_id,
            "content",
        ])?;
        Ok(self.run(Self::get("attachment-content", url)).await?.body)
    }

    // ------------------------------------------------------------ history

    /// `GET …/history`.
    pub async fn history(
        &self,
        definition_id: &str,
        case_id: &str,
    ) -> Result<Vec<HistoryEntry>, Error> {
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "history",
        ])?;
        Ok(self.run_list(Self::get("history", url)).await?.items)
    }

    // ------------------------------------------------------------ tasks

    /// `POST …/tasks`. An APPROVAL task moves the case to `PENDING_APPROVAL`.
    pub async fn create_task(
        &self,
        definition_id: &str,
        case_id: &str,
        task: &NewTask,
        idempotency_key: Option<&str>,
    ) -> Result<Task, Error> {
        let url = self.url(&["case-definitions", definition_id, "cases", case_id, "tasks"])?;
        self.run_json(Self::json_call(
            "create-task",
            Method::POST,
            url,
            task,
            idempotency_key,
        )?)
        .await
    }

    /// `GET …/tasks`.
    pub async fn list_tasks(&self, definition_id: &str, case_id: &str) -> Result<Vec<Task>, Error> {
        let url = self.url(&["case-definitions", definition_id, "cases", case_id, "tasks"])?;
        Ok(self.run_list(Self::get("list-tasks", url)).await?.items)
    }

    /// `POST …/tasks/{taskId}/complete` (what an analyst does; the host uses
    /// it in tests and demos).
    pub async fn complete_task(
        &self,
        definition_id: &str,
        case_id: &str,
        task_id: &str,
        completion: &TaskCompletion,
        idempotency_key: Option<&str>,
    ) -> Result<Task, Error> {
        let url = self.url(&[
            "case-definitions",
            definition_id,
            "cases",
            case_id,
            "tasks",
            task_id,
            "complete",
        ])?;
        self.run_json(Self::json_call(
            "complete-task",
            Method::POST,
            url,
            completion,
            idempotency_key,
        )?)
        .await
    }

    /// Core Case's id for each definition name, e.g. to check a deployment's
    /// case-type mapping at start-up.
    pub async fn definition_ids(
        &self,
    ) -> Result<std::collections::BTreeMap<String, String>, Error> {
        Ok(self
            .list_case_definitions()
            .await?
            .into_iter()
            .map(|d| (d.name, d.id))
            .collect())
    }
}

/// An `Idempotency-Key` must be a non-empty visible-ASCII header value of
/// at most 255 bytes.
fn check_key(op: &'static str, key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidInput {
            operation: op,
            detail: "Idempotency-Key must be 1–255 visible ASCII characters".into(),
        });
    }
    Ok(())
}
