//! `shopcase corecase check --config C [--write] [--case-type T] [--json]`:
//! the real Core Case client against the configured tenant, point by point,
//! so a first deployment learns at once which parts of the contract
//! (`spec/corecase-api.md`) hold there and which differ.
//!
//! Read-only by default: the token, the case definitions, and each
//! configured case type's definition. With `--write`, a probe case goes
//! through the whole life a case of shopcase's has — create (with an
//! idempotency key, then again with the same key), read, update, comment,
//! attachment, task, status changes, `updatedSince` listing — and is
//! resolved and closed at the end.
//!
//! Exit codes (the runner's table): 0 every point holds, 1 some differ, 2
//! the configuration cannot be used.

use std::path::PathBuf;

use serde::Serialize;
use shopcase_contract::action::{CaseStatus, Priority, Visibility};
use shopcase_contract::time::Timestamp;
use shopcase_corecase::CoreCaseClient;
use shopcase_corecase::client::dto::{
    CaseDataUpdate, CaseQuery, CaseTypeRef, NewAttachment, NewCase, NewCaseProperties, NewComment,
    NewDefaultAttributes, NewTask, ResolutionInput, StatusChange, TaskKind,
};
use shopcase_corecase_integration::CoreCase;
use shopcase_pipeline::Config;

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum CorecaseCommand {
    /// Check the Core Case tenant of a configuration, point by point.
    Check(CheckArgs),
}

impl CorecaseCommand {
    /// `--json` was given.
    pub(crate) fn json(&self) -> bool {
        let CorecaseCommand::Check(args) = self;
        args.json
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The host's configuration (its `[corecase]` table).
    #[arg(long)]
    config: PathBuf,
    /// Also open a probe case and take it through its life (it is closed
    /// at the end, and its title says it is a probe).
    #[arg(long)]
    write: bool,
    /// The configured case type to probe with (default: the first one).
    #[arg(long)]
    case_type: Option<String>,
    /// Print the points as one JSON object.
    #[arg(long)]
    json: bool,
}

/// One point of the contract and how the tenant answered it.
#[derive(Debug, Serialize)]
struct Point {
    name: &'static str,
    holds: bool,
    detail: String,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    tenant: String,
    points: Vec<Point>,
}

impl Report {
    fn add(&mut self, name: &'static str, result: Result<String, String>) -> bool {
        let holds = result.is_ok();
        let detail = result.unwrap_or_else(|e| e);
        self.points.push(Point {
            name,
            holds,
            detail,
        });
        holds
    }
}

pub(crate) async fn run(cmd: CorecaseCommand) -> Result<Exit, CliError> {
    let CorecaseCommand::Check(args) = cmd;
    let config = Config::load(&args.config).map_err(CliError::bad_config)?;
    let Some(core) = CoreCase::from_config(&config).map_err(CliError::bad_config)? else {
        return Err(CliError::bad_config(format!(
            "{} has no [corecase] table: nothing to check",
            args.config.display()
        )));
    };
    let report = check(&core, &args).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("Core Case tenant {}:", report.tenant);
        for p in &report.points {
            println!(
                "  {:<6} {:<28} {}",
                if p.holds { "ok" } else { "DIFFERS" },
                p.name,
                p.detail
            );
        }
        let differ = report.points.iter().filter(|p| !p.holds).count();
        println!(
            "{} point(s) checked, {} differ{}",
            report.points.len(),
            differ,
            if args.write {
                ""
            } else {
                " (read-only; --write also takes a probe case through its life)"
            }
        );
    }
    Ok(Exit::done_if(report.points.iter().all(|p| p.holds)))
}

async fn check(core: &CoreCase, args: &CheckArgs) -> Report {
    let client = core.client();
    let settings = core.settings();
    let mut r = Report {
        tenant: format!(
            "{} at {}",
            client.settings().tenant_id,
            client.settings().api_base
        ),
        ..Report::default()
    };

    // The token and the definitions: nothing else works without them.
    let definitions = match client.list_case_definitions().await {
        Ok(d) => d,
        Err(e) => {
            r.add("token and case definitions", Err(e.to_string()));
            return r;
        }
    };
    r.add(
        "token and case definitions",
        Ok(format!(
            "a token was granted; {} case definition(s)",
            definitions.len()
        )),
    );
    for (case_type, d) in &settings.case_types {
        let found = definitions.iter().find(|x| x.id == d.id);
        r.add(
            "case type's definition",
            match found {
                Some(x) => Ok(format!("{case_type} → {} ({})", x.name, x.id)),
                None => Err(format!(
                    "{case_type} → {}: no such definition in the tenant",
                    d.id
                )),
            },
        );
    }
    if settings.discover_case_types {
        r.add(
            "case type discovery",
            Ok(format!(
                "on: plugin case types are looked up by name among {}",
                definitions
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    if !args.write {
        return r;
    }

    // The probe case's definition.
    let definition = match &args.case_type {
        Some(t) => settings
            .case_types
            .get(t)
            .map(|d| d.id.clone())
            .or_else(|| {
                settings
                    .discover_case_types
                    .then(|| {
                        definitions
                            .iter()
                            .find(|d| &d.name == t)
                            .map(|d| d.id.clone())
                    })
                    .flatten()
            }),
        None => settings
            .case_types
            .values()
            .next()
            .map(|d| d.id.clone())
            .or_else(|| definitions.first().map(|d| d.id.clone())),
    };
    let Some(def) = definition else {
        r.add(
            "probe case",
            Err(
                "no case definition to probe with: configure a case type or pass --case-type"
                    .into(),
            ),
        );
        return r;
    };
    probe(client, &def, &mut r).await;
    r
}

/// Take one probe case through its life; each step is a point.
async fn probe(client: &CoreCaseClient, def: &str, r: &mut Report) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let reference = format!("shopcase-check:{run}");
    let key = format!("shopcase-check-{run}");
    let before = Timestamp::now();
    let new_case = NewCase {
        case_type: CaseTypeRef { id: def.to_owned() },
        case_config_id: None,
        case_properties: NewCaseProperties {
            default_attributes: NewDefaultAttributes {
                case_title: "shopcase contract check (probe case, closed at the end)".into(),
                summary: Some("Opened by `shopcase corecase check --write`.".into()),
                priority: Priority::Low,
                assignee: None,
                assignee_group: None,
                due_date: None,
                external_reference: reference.clone(),
            },
            custom_attributes: Default::default(),
        },
    };
    let created = match client.create_case(def, &new_case, &key).await {
        Ok(c) => c,
        Err(e) => {
            r.add("create a case", Err(e.to_string()));
            return;
        }
    };
    let id = created.case.id.clone();
    r.add(
        "create a case",
        Ok(format!("{} ({id})", created.case.case_number)),
    );
    r.add(
        "create again, same key",
        match client.create_case(def, &new_case, &key).await {
            Ok(again) if again.case.id == id => Ok("the same case, not a second one".into()),
            Ok(again) => Err(format!(
                "a second case {} was opened: Idempotency-Key is not honoured",
                again.case.case_number
            )),
            Err(e) => Err(e.to_string()),
        },
    );
    r.add(
        "find by externalReference",
        match client
            .find_case_by_external_reference(def, &reference)
            .await
        {
            Ok(Some(c)) if c.id == id => Ok("found".into()),
            Ok(_) => Err("not found by its externalReference".into()),
            Err(e) => Err(e.to_string()),
        },
    );
    let update = CaseDataUpdate {
        priority: Some(Priority::Medium),
        escalation_level: Some(1),
        ..CaseDataUpdate::default()
    };
    r.add(
        "update case data",
        match client.update_case_data(def, &id, &update, None).await {
            Ok(c) if c.priority() == Some(Priority::Medium) => Ok("priority changed".into()),
            Ok(c) => Err(format!("answered priority {:?}", c.priority())),
            Err(e) => Err(e.to_string()),
        },
    );
    let comment = NewComment {
        text: "Contract check: comments work.".into(),
        visibility: Visibility::Internal,
    };
    r.add(
        "add a comment",
        client
            .add_comment(def, &id, &comment, Some(&format!("{key}-comment")))
            .await
            .map(|c| format!("comment {}", c.id))
            .map_err(|e| e.to_string()),
    );
    let file = NewAttachment {
        name: "shopcase-check.txt".into(),
        content_type: "text/plain".into(),
        description: Some("contract check".into()),
        content: bytes::Bytes::from_static(b"shopcase contract check\n"),
    };
    r.add(
        "upload an attachment",
        client
            .upload_attachment(def, &id, &file, Some(&format!("{key}-file")))
            .await
            .map(|a| format!("attachment {}", a.id))
            .map_err(|e| e.to_string()),
    );
    let task = NewTask {
        title: "Contract check task".into(),
        description: None,
        kind: TaskKind::Task,
        assignee_group: None,
        assignee: None,
        due_date: None,
    };
    r.add(
        "create a task",
        match client
            .create_task(def, &id, &task, Some(&format!("{key}-task")))
            .await
        {
            Ok(t) => match client.list_tasks(def, &id).await {
                Ok(tasks) if tasks.iter().any(|x| x.id == t.id) => {
                    Ok(format!("task {} listed", t.id))
                }
                Ok(_) => Err("created, but not listed with the case's tasks".into()),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        },
    );
    let query = CaseQuery {
        updated_since: Some(before),
        ..CaseQuery::default()
    };
    r.add(
        "list with updatedSince",
        match client.list_all_cases(def, &query).await {
            Ok(cases) if cases.iter().any(|c| c.id == id) => {
                Ok("the changed case is listed".into())
            }
            Ok(_) => Err("the probe case changed after `updatedSince` but is not listed".into()),
            Err(e) => Err(e.to_string()),
        },
    );
    for (status, name) in [
        (CaseStatus::InProgress, "status IN_PROGRESS"),
        (CaseStatus::Resolved, "status RESOLVED"),
        (CaseStatus::Closed, "status CLOSED"),
    ] {
        let mut change = StatusChange::to(status);
        if status == CaseStatus::Resolved {
            change.resolution = Some(ResolutionInput {
                code: "CONTRACT_CHECK".into(),
                notes: "Probe case of `shopcase corecase check`.".into(),
            });
        }
        r.add(
            name,
            match client.change_status(def, &id, &change, None).await {
                Ok(c) if c.status() == Some(status) => Ok("changed".into()),
                Ok(c) => Err(format!("answered status {}", c.status)),
                Err(e) => Err(e.to_string()),
            },
        );
    }
}
