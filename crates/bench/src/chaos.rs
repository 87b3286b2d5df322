//! The bank test under disruption: while customers submit, cancel and hurry transfers through every node
//! of a [`Cluster`], its back offices are killed and restarted, slowed, made to fail and to drop replies
//! after doing the work, and its nodes are killed and restarted. Then everything is brought back, every
//! queued transfer must end, and the bank audit runs as usual (money conserved per currency, each
//! transfer executed once or cancelled or failed with nothing moved, no hold left, ledgers balanced).

use crate::bank::{Bank, BankOptions, BankReport};
use crate::cluster::Cluster;
use bankgate_backoffice_http::FaultSettings;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// The load; `operations` bounds it, and it also stops when the disruptions are over.
    pub bank: BankOptions,
    /// How long each disruption lasts.
    pub outage: Duration,
    /// The calm after each disruption.
    pub calm: Duration,
    /// Times through [`SCHEDULE`].
    pub rounds: usize,
}

/// One thing that goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disruption {
    /// The back-office process dies and comes back later.
    KillBackOffice(&'static str),
    /// Every call takes this long more (under the call deadline).
    SlowBackOffice(&'static str, u64),
    /// Half the calls fail without doing anything.
    FailingBackOffice(&'static str),
    /// A third of the calls do the work and the reply never arrives.
    DropReplies(&'static str),
    /// A bankgate node dies (the round picks which) and comes back later.
    KillNode,
}

impl fmt::Display for Disruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disruption::KillBackOffice(id) => write!(f, "kill back office {id}"),
            Disruption::SlowBackOffice(id, ms) => write!(f, "slow back office {id} by {ms} ms"),
            Disruption::FailingBackOffice(id) => write!(f, "back office {id} fails half its calls"),
            Disruption::DropReplies(id) => {
                write!(f, "back office {id} drops a third of its replies")
            }
            Disruption::KillNode => write!(f, "kill a bankgate node"),
        }
    }
}

/// What each round goes through, in order.
pub const SCHEDULE: [Disruption; 6] = [
    Disruption::KillBackOffice("sandbox-b"),
    Disruption::DropReplies("sandbox-a"),
    Disruption::KillNode,
    Disruption::SlowBackOffice("sandbox-b", 300),
    Disruption::FailingBackOffice("sandbox-a"),
    Disruption::KillBackOffice("sandbox-a"),
];

pub struct ChaosReport {
    pub bank: BankReport,
    /// What was done, in order.
    pub disruptions: Vec<String>,
}

impl ChaosReport {
    pub fn print(&self) {
        for disruption in &self.disruptions {
            println!("disrupted: {disruption}");
        }
        self.bank.print();
    }
}

/// Runs the load and the disruptions together, heals the cluster, settles and audits.
pub async fn run_chaos(
    cluster: &mut Cluster,
    options: &ChaosOptions,
) -> anyhow::Result<ChaosReport> {
    let bank = Arc::new(Bank::open(cluster.clients()).await?);
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (bank, stop, options) = (bank.clone(), stop.clone(), options.bank.clone());
        tokio::spawn(async move { bank.submit(&options, Some(stop)).await })
    };
    let mut disruptions = Vec::new();
    for round in 0..options.rounds {
        for disruption in SCHEDULE {
            let what = disrupt(cluster, disruption, round).await?;
            tokio::time::sleep(options.outage).await;
            cluster.heal().await?;
            disruptions.push(what);
            tokio::time::sleep(options.calm).await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let submitted = load.await??;
    cluster.heal().await?;
    let mut report = bank.settle(submitted).await?;
    report.check_ledgers(&cluster.ledger_reports().await?);
    Ok(ChaosReport {
        bank: report,
        disruptions,
    })
}

/// Applies one disruption; [`Cluster::heal`] undoes any of them.
async fn disrupt(
    cluster: &mut Cluster,
    disruption: Disruption,
    round: usize,
) -> anyhow::Result<String> {
    match disruption {
        Disruption::KillBackOffice(id) => cluster.back_office(id).kill().await,
        Disruption::SlowBackOffice(id, latency_ms) => {
            cluster.back_office(id).set_faults(FaultSettings {
                latency_ms,
                ..FaultSettings::default()
            })?;
        }
        Disruption::FailingBackOffice(id) => {
            cluster.back_office(id).set_faults(FaultSettings {
                error_rate: 0.5,
                ..FaultSettings::default()
            })?;
        }
        Disruption::DropReplies(id) => {
            cluster.back_office(id).set_faults(FaultSettings {
                drop_reply_rate: 0.33,
                ..FaultSettings::default()
            })?;
        }
        Disruption::KillNode => {
            let index = round % cluster.nodes.len();
            cluster.nodes[index].kill().await;
            return Ok(format!("kill bankgate {}", cluster.nodes[index].name));
        }
    }
    Ok(disruption.to_string())
}
