//! `eks-emulator`: a local stand-in for the EKS access-entry API, IAM, STS and
//! each cluster's Kubernetes API (the aws-auth `ConfigMap` and RBAC objects),
//! served on one plain-HTTP port on 127.0.0.1 for the real AWS SDKs, the AWS
//! CLI and kube. See `docs/emulator.md`.
//!
//! ```no_run
//! use eks_emulator::{Emulator, seed::{Seed, Cluster}};
//! let emu = Emulator::start(
//!     Seed::default()
//!         .with_caller("AKIDADMIN", "111122223333", "arn:aws:iam::111122223333:user/admin")
//!         .with_cluster(Cluster::new("prod", "111122223333", "eu-west-1").mode("API_AND_CONFIG_MAP")),
//! ).expect("start");
//! println!("{}", emu.endpoint_url());
//! ```

#![warn(unreachable_pub)]

// Public: the seed format and the typed cluster state `cluster_state` returns.
pub mod seed;
pub mod state;

mod admin;
mod arn;
mod bootstrap_rbac;
mod eks;
mod eks_token;
mod error;
mod faults;
mod iam;
mod kube;
mod kube_rbac;
mod kubeconfig;
mod policies;
mod response;
mod server;
mod shared;
mod sigv4;
mod sts;
mod xml;

#[cfg(test)]
mod robustness;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

pub use error::EmulatorError;
pub use faults::{FailNth, FaultRule, Faults, RateLimit};
pub use seed::Seed;
pub use shared::Calls;

use shared::Shared;

/// Where and how to start.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Port on 127.0.0.1; 0 (default) picks a free one.
    pub port: u16,
    /// Where to write the kubeconfig; default: a temp dir owned by the emulator.
    pub kubeconfig_path: Option<PathBuf>,
    /// Tokio worker threads (default 2).
    pub worker_threads: Option<usize>,
}

/// A running emulator. Stops (and removes its temp dir) on drop.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
    temp_dir: Option<PathBuf>,
}

impl Emulator {
    /// Start on a free port of 127.0.0.1 with a kubeconfig in a temp dir.
    pub fn start(seed: Seed) -> Result<Emulator, EmulatorError> {
        Self::start_with(seed, StartOptions::default())
    }

    /// Start from a YAML seed file.
    pub fn start_from_file(path: &Path, options: StartOptions) -> Result<Emulator, EmulatorError> {
        let text = std::fs::read_to_string(path)?;
        Self::start_with(Seed::from_yaml(&text)?, options)
    }

    /// Start with explicit options.
    pub fn start_with(seed: Seed, options: StartOptions) -> Result<Emulator, EmulatorError> {
        let std_listener =
            std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, options.port)))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let state = state::State::from_seed(&seed, &base_url)?;

        let (kubeconfig_path, temp_dir) = if let Some(p) = options.kubeconfig_path {
            (p, None)
        } else {
            let dir = std::env::temp_dir().join(format!(
                "eks-emulator-{}-{}",
                std::process::id(),
                addr.port()
            ));
            std::fs::create_dir_all(&dir)?;
            (dir.join("kubeconfig"), Some(dir))
        };
        let shared = Arc::new(Shared::new(
            state,
            faults::FaultEngine::new(seed.faults.clone()),
            kubeconfig_path,
        ));
        admin::write_kubeconfig(&shared)?;

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.worker_threads.unwrap_or(2).max(1))
            .enable_all()
            .thread_name("eks-emulator")
            .build()?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(shared.clone());
        let thread = std::thread::Builder::new()
            .name("eks-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => {
                            let _ = ready_tx.send(Ok(()));
                            l
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let mut graceful = rx.clone();
                    let mut hard = rx;
                    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                        let _ = graceful.changed().await;
                    });
                    // Graceful shutdown waits for open connections; give them a second.
                    tokio::select! {
                        _ = server => {}
                        () = async move {
                            let _ = hard.changed().await;
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        } => {}
                    }
                });
                runtime.shutdown_timeout(std::time::Duration::from_millis(200));
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => return Err(EmulatorError::Seed("server thread died".into())),
        }
        Ok(Emulator {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
            temp_dir,
        })
    }

    /// `http://127.0.0.1:PORT`: the endpoint for EKS, IAM and STS clients.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The kubeconfig: one context per cluster, named by the cluster ARN.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.shared.kubeconfig_path
    }

    /// Kubernetes API base URL of a cluster (`http://127.0.0.1:PORT/k8s/ACCOUNT/REGION/NAME`).
    pub fn kube_url(&self, cluster: &str) -> Result<String, EmulatorError> {
        let idx = self.cluster(cluster)?;
        Ok(shared::lock(&self.shared.state).clusters[idx]
            .endpoint
            .clone())
    }

    /// ARN of a cluster (also its kubeconfig context name).
    pub fn cluster_arn(&self, cluster: &str) -> Result<String, EmulatorError> {
        let idx = self.cluster(cluster)?;
        Ok(shared::lock(&self.shared.state).clusters[idx].arn.clone())
    }

    /// The full state dump (same as `GET /_emulator/state`).
    pub fn state(&self) -> serde_json::Value {
        admin::state_dump(&self.shared)
    }

    /// A typed copy of one cluster's state (entries, policies, updates, aws-auth, ...).
    pub fn cluster_state(&self, cluster: &str) -> Result<state::Cluster, EmulatorError> {
        let idx = self.cluster(cluster)?;
        let mut st = shared::lock(&self.shared.state);
        st.tick(state::now());
        Ok(st.clusters[idx].clone())
    }

    /// Calls seen so far.
    pub fn calls(&self) -> Calls {
        admin::calls(&self.shared)
    }

    pub fn reset_calls(&self) {
        admin::reset_calls(&self.shared);
    }

    /// Replace the fault rules (and restart their counters, buckets and PRNG).
    pub fn set_faults(&self, faults: Faults) {
        admin::set_faults(&self.shared, faults);
    }

    pub fn faults(&self) -> Faults {
        admin::faults(&self.shared)
    }

    fn cluster(&self, name: &str) -> Result<usize, EmulatorError> {
        admin::cluster_index(&self.shared, name, None, None)
            .map_err(|e| EmulatorError::NotFound(e.message))
    }

    /// Add a cluster at run time (the kubeconfig is rewritten).
    pub fn add_cluster(&self, cluster: &seed::Cluster) -> Result<(), EmulatorError> {
        admin::add_cluster(&self.shared, cluster).map_err(|e| EmulatorError::Seed(e.message))
    }

    /// The aws-auth `data` of a cluster, or `None` when the `ConfigMap` is absent.
    pub fn aws_auth(
        &self,
        cluster: &str,
    ) -> Result<Option<BTreeMap<String, String>>, EmulatorError> {
        let idx = self.cluster(cluster)?;
        Ok(shared::lock(&self.shared.state).aws_auth_data(idx))
    }

    /// Create or replace aws-auth behind the tool's back (bumps resourceVersion).
    pub fn put_aws_auth(
        &self,
        cluster: &str,
        data: BTreeMap<String, String>,
    ) -> Result<(), EmulatorError> {
        let idx = self.cluster(cluster)?;
        admin::put_aws_auth(&self.shared, idx, data);
        Ok(())
    }

    pub fn delete_aws_auth(&self, cluster: &str) -> Result<(), EmulatorError> {
        let idx = self.cluster(cluster)?;
        admin::delete_aws_auth(&self.shared, idx);
        Ok(())
    }

    /// Create or replace an access entry without any validation.
    pub fn upsert_access_entry(
        &self,
        cluster: &str,
        entry: &seed::AccessEntry,
    ) -> Result<(), EmulatorError> {
        let idx = self.cluster(cluster)?;
        admin::upsert_access_entry(&self.shared, idx, entry);
        Ok(())
    }

    /// Remove an access entry; false when there was none.
    pub fn delete_access_entry(
        &self,
        cluster: &str,
        principal_arn: &str,
    ) -> Result<bool, EmulatorError> {
        let idx = self.cluster(cluster)?;
        Ok(admin::delete_access_entry(&self.shared, idx, principal_arn))
    }

    /// Force a cluster's authentication mode (no update record, no EKS-made entries).
    pub fn set_authentication_mode(&self, cluster: &str, mode: &str) -> Result<(), EmulatorError> {
        let idx = self.cluster(cluster)?;
        admin::set_authentication_mode(&self.shared, idx, mode)
            .map_err(|e| EmulatorError::Seed(e.message))
    }

    /// Add or replace an IAM role.
    pub fn put_role(&self, account: &str, role: &seed::Role) -> Result<(), EmulatorError> {
        admin::add_role(&self.shared, account, role).map_err(|e| EmulatorError::Seed(e.message))
    }

    /// Delete an IAM role; false when there was none.
    pub fn delete_role(&self, account: &str, name: &str) -> bool {
        admin::delete_role(&self.shared, account, name)
    }

    /// Stop serving now (drop does the same).
    pub fn stop(mut self) {
        self.shutdown_inner();
    }

    fn shutdown_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(dir) = self.temp_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown_inner();
    }
}
