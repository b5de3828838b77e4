//! Who is told how a fleet run goes, as traits: the command displays it
//! (bars on a terminal, JSON lines otherwise: `commands::batch_progress`).

use std::sync::Arc;

use crate::apply::events::EventSink;

use super::report::ClusterResult;

/// The fleet's progress.
pub trait FleetProgress: Send + Sync {
    /// A cluster starts; what it does goes to the returned progress.
    fn start(&self, cluster: &str) -> Arc<dyn ClusterProgress>;
    /// The run ended: its summary line and exit code.
    fn finish(&self, summary_line: &str, exit_code: i32);
}

/// One cluster's share: the events of its apply or rollback (as an
/// [`EventSink`]), what it is doing, and its result.
pub trait ClusterProgress: EventSink {
    /// What the cluster is doing now (`reading`, `applying`...).
    fn phase(&self, what: &str);
    /// The cluster is done.
    fn done(&self, result: &ClusterResult);
}

/// Makes the fleet's progress once the run knows its command (`plan`,
/// `apply`...) and how many clusters it has.
pub(crate) type StartProgress = Arc<dyn Fn(&str, usize) -> Arc<dyn FleetProgress> + Send + Sync>;
