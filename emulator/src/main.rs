//! `eks-emulator --seed FILE [--port N] [--kubeconfig PATH]`: serve until Ctrl-C.

use std::path::PathBuf;

use clap::Parser;
use eks_emulator::{Emulator, StartOptions};

/// Local EKS access-entry API + IAM + STS + Kubernetes aws-auth emulator.
#[derive(Parser, Debug)]
#[command(name = "eks-emulator", version)]
struct Args {
    /// Seed file (YAML).
    #[arg(long)]
    seed: PathBuf,
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write the kubeconfig (default: a temp dir removed on exit).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Tokio worker threads.
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let emulator = Emulator::start_from_file(
        &args.seed,
        StartOptions {
            port: args.port,
            kubeconfig_path: args.kubeconfig,
            worker_threads: args.threads,
        },
    )?;
    println!("EKS_EMULATOR_ENDPOINT={}", emulator.endpoint_url());
    println!(
        "EKS_EMULATOR_KUBECONFIG={}",
        emulator.kubeconfig_path().display()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(tokio::signal::ctrl_c())?;
    emulator.stop();
    Ok(())
}
