//! Planner speed on generated aws-auth `ConfigMaps` (`cargo bench --bench plan`).
//! Prints a Markdown table; figures go in docs/benchmarks.md. Timing is
//! reported, never asserted.

use std::time::Instant;

use aws_auth_migrate::core::planner::{plan_offline, SourceInfo};
use aws_auth_migrate::core::translate::Options;

/// An aws-auth manifest with `rows` rows in the shapes real clusters carry.
fn generate(rows: usize) -> String {
    let mut roles = String::new();
    let mut users = String::new();
    for i in 0..rows {
        match i % 5 {
            0 => roles.push_str(&format!(
                "    - rolearn: arn:aws:iam::111122223333:role/nodegroup-{i}\n      username: system:node:{{{{EC2PrivateDNSName}}}}\n      groups:\n        - system:bootstrappers\n        - system:nodes\n"
            )),
            1 => roles.push_str(&format!(
                "    - rolearn: arn:aws:iam::111122223333:role/admin-{i}\n      username: admin-{i}:{{{{SessionName}}}}\n      groups:\n        - system:masters\n        - platform\n"
            )),
            2 => roles.push_str(&format!(
                "    - rolearn: arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_{i:016x}\n      username: sso-dev:{{{{SessionName}}}}\n      groups:\n        - developers\n        - viewers\n"
            )),
            3 => roles.push_str(&format!(
                "    - rolearn: arn:aws:iam::444455556666:role/ci-{i}\n      username: ci-{i}\n      groups:\n        - deployers\n"
            )),
            _ => users.push_str(&format!(
                "    - userarn: arn:aws:iam::111122223333:user/person-{i}\n      username: person-{i}\n      groups:\n        - system:masters\n"
            )),
        }
    }
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n{roles}  mapUsers: |\n{users}"
    )
}

fn main() {
    println!("| rows | input bytes | entries | median plan time | runs |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for rows in [100, 1_000, 5_000, 7_000] {
        let input = generate(rows);
        let runs = if rows >= 5_000 { 15 } else { 40 };
        let mut times = Vec::new();
        let mut entries = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let plan = plan_offline(
                input.as_bytes(),
                SourceInfo {
                    kind: "file".into(),
                    path: None,
                },
                &Options::default(),
            )
            .expect("generated input plans");
            times.push(start.elapsed());
            entries = plan.entries.len();
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "| {rows} | {} | {entries} | {:.1} ms | {runs} |",
            input.len(),
            median.as_secs_f64() * 1000.0
        );
    }
}
