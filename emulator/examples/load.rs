//! A bounded load loop against a running emulator, over loopback only.
//!
//! `cargo run --release -p eks-emulator --example load -- http://127.0.0.1:PORT [REQUESTS] [CONNECTIONS]`
//!
//! Each connection is an HTTP/1.1 keep-alive stream sending a fixed mix of
//! calls the migration tool makes (`DescribeCluster`, `ListAccessEntries`,
//! `DescribeAccessEntry`, IAM `GetRole`, kube GET aws-auth) against the seed in
//! `emulator/conformance/seed.yaml`. Prints requests per second.

use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDADMIN/20260101/us-east-1/eks/aws4_request, SignedHeaders=host;x-amz-date, Signature=0";
const IAM_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDADMIN/20260101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=0";

fn requests(host: &str) -> Vec<Vec<u8>> {
    let get = |path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {AUTH}\r\n\r\n").into_bytes()
    };
    let form = "Action=GetRole&Version=2010-05-08&RoleName=dev";
    vec![
        get("/clusters/demo"),
        get("/clusters/demo/access-entries?maxResults=100"),
        get("/clusters/demo/access-entries/arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fdev"),
        format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nAuthorization: {IAM_AUTH}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )
        .into_bytes(),
        get("/k8s/111122223333/us-east-1/demo/api/v1/namespaces/kube-system/configmaps/aws-auth"),
    ]
}

async fn worker(addr: String, count: usize) -> std::io::Result<(usize, usize)> {
    let stream = TcpStream::connect(&addr).await?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let reqs = requests(&addr);
    let (mut ok, mut bad) = (0, 0);
    let mut line = String::new();
    for i in 0..count {
        write.write_all(&reqs[i % reqs.len()]).await?;
        line.clear();
        read.read_line(&mut line).await?;
        let status: u16 = line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            read.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        read.read_exact(&mut body).await?;
        if status == 200 || status == 404 {
            ok += 1;
        } else {
            bad += 1;
        }
    }
    Ok((ok, bad))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let total: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let conns: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(8).max(1);
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    if !addr.starts_with("127.0.0.1:") {
        anyhow::bail!("loopback only: give http://127.0.0.1:PORT");
    }
    let start = Instant::now();
    let handles: Vec<_> = (0..conns)
        .map(|_| tokio::spawn(worker(addr.clone(), total / conns)))
        .collect();
    let (mut ok, mut bad) = (0, 0);
    for h in handles {
        let (o, b) = h.await??;
        ok += o;
        bad += b;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} requests ({ok} ok, {bad} unexpected) over {conns} connections in {secs:.2} s: {:.0} req/s",
        ok + bad,
        (ok + bad) as f64 / secs
    );
    Ok(())
}
