//! What every request handler shares: the state, the fault engine and the
//! call counters behind one `Arc`, and the lock that survives a panicking handler.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::faults::FaultEngine;
use crate::state::State;

/// Calls seen, per operation and per operation and cluster name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calls {
    pub by_operation: BTreeMap<String, u64>,
    /// operation → cluster name → count.
    pub by_operation_cluster: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Calls {
    /// Calls of `operation` (all clusters).
    pub fn count(&self, operation: &str) -> u64 {
        self.by_operation.get(operation).copied().unwrap_or(0)
    }

    /// Calls of `operation` about `cluster`.
    pub fn count_on(&self, operation: &str, cluster: &str) -> u64 {
        self.by_operation_cluster
            .get(operation)
            .and_then(|m| m.get(cluster))
            .copied()
            .unwrap_or(0)
    }

    /// Sum over every operation.
    pub fn total(&self) -> u64 {
        self.by_operation.values().sum()
    }

    pub fn record(&mut self, operation: &str, cluster: Option<&str>) {
        *self.by_operation.entry(operation.to_string()).or_insert(0) += 1;
        if let Some(c) = cluster {
            *self
                .by_operation_cluster
                .entry(operation.to_string())
                .or_default()
                .entry(c.to_string())
                .or_insert(0) += 1;
        }
    }
}

/// Everything the server threads share.
pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub faults: Mutex<FaultEngine>,
    pub calls: Mutex<Calls>,
    pub kubeconfig_path: PathBuf,
    request_counter: AtomicU64,
}

/// Lock, recovering from a poisoned mutex (a panicking handler must not wedge the emulator).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(state: State, faults: FaultEngine, kubeconfig_path: PathBuf) -> Self {
        Shared {
            state: Mutex::new(state),
            faults: Mutex::new(faults),
            calls: Mutex::new(Calls::default()),
            kubeconfig_path,
            request_counter: AtomicU64::new(0),
        }
    }

    pub(crate) fn request_id(&self) -> String {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed) + 1;
        format!("e0000000-0000-4000-8000-{n:012x}")
    }
}
