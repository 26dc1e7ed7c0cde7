//! The cases, by group. A group starts the world its cases share and
//! returns one report per case; a group that cannot start is one failed
//! report naming why.

use std::future::Future;
use std::pin::Pin;

use anyhow::Result;

use crate::world::Paths;
use crate::{Report, Size};

mod fairness;
mod hostile;
mod ingest;
mod kills;
mod outage;
mod replicas;
mod secrets;

type Run = for<'a> fn(&'a Paths, Size) -> Pin<Box<dyn Future<Output = Result<Vec<Report>>> + 'a>>;

/// A group of cases.
pub(crate) struct Group {
    pub(crate) name: &'static str,
    pub(crate) run: Run,
}

/// Every group, in the order they run.
pub(crate) const GROUPS: &[Group] = &[
    Group {
        name: "forgery-and-replay",
        run: |p, s| Box::pin(ingest::run(p, s)),
    },
    Group {
        name: "outages",
        run: |p, s| Box::pin(outage::run(p, s)),
    },
    Group {
        name: "kills",
        run: |p, s| Box::pin(kills::run(p, s)),
    },
    Group {
        name: "hostile-plugins",
        run: |p, s| Box::pin(hostile::run(p, s)),
    },
    Group {
        name: "secrets-and-stores",
        run: |p, s| Box::pin(secrets::run(p, s)),
    },
    Group {
        name: "fairness",
        run: |p, s| Box::pin(fairness::run(p, s)),
    },
    Group {
        name: "replicas",
        run: |p, s| Box::pin(replicas::run(p, s)),
    },
];

/// Run a case body; an error inside it is that case's failure, not the
/// group's.
pub(crate) async fn case<F>(name: &str, tried: &str, body: F) -> Report
where
    F: Future<Output = Result<Report>>,
{
    eprintln!("   … {name}");
    match body.await {
        Ok(r) => r,
        Err(e) => Report::new(name, tried).happened(format!("error: {e:#}"), false),
    }
}
