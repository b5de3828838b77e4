//! The whole migration on the emulator, as a platform team runs it:
//! plan, apply, verify, prune-configmap, finalize --delete-configmap.

use eks_emulator::seed::{Cluster, Seed};
use eks_emulator::Emulator;

use crate::cmd::{against, Cmd, Output};

const A: &str = "111122223333";
const REGION: &str = "eu-west-1";
const KEY: &str = "AKIDADMIN";

fn role(name: &str) -> String {
    format!("arn:aws:iam::{A}:role/{name}")
}

struct Env {
    emu: Emulator,
    dir: tempfile::TempDir,
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Cmd {
        let kubeconfig = self.emu.kubeconfig_path().display().to_string();
        against(&self.emu.endpoint_url(), KEY, REGION, self.dir.path())
            .args(args)
            .args(["--kubeconfig", &kubeconfig])
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).run()
    }

    fn entries(&self) -> Vec<String> {
        let c = self.emu.cluster_state("prod").unwrap();
        c.access_entries
            .values()
            .map(|e| {
                let mut groups = e.kubernetes_groups.clone();
                groups.sort();
                let policies: Vec<String> = e.policies.keys().cloned().collect();
                format!(
                    "{} {} {:?} {groups:?} {policies:?}",
                    e.principal_arn, e.entry_type, e.username
                )
            })
            .collect()
    }
}

fn ok(out: &Output) {
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

#[test]
fn full_migration_ends_in_api_mode_with_nothing_lost() {
    let map_roles = format!(
        "# nodes\n\
         - rolearn: {nodes}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n\
         # platform admins: the caller\n\
         - rolearn: {admin}\n  username: admin:{{{{SessionName}}}}\n  groups:\n    - system:masters\n\
         - rolearn: {dev}\n  username: dev\n  groups:\n    - devs\n",
        nodes = role("nodes"),
        admin = role("platform-admin"),
        dev = role("dev"),
    );
    let seed = Seed::default()
        .with_caller(
            KEY,
            A,
            "arn:aws:sts::111122223333:assumed-role/platform-admin/me",
        )
        .with_role(A, "/", "nodes")
        .with_role(A, "/", "platform-admin")
        .with_role(A, "/", "dev")
        .with_update_duration_ms(150)
        .with_cluster(
            Cluster::new("prod", A, REGION)
                .version("1.31", "eks.1")
                .node_group("general", &role("nodes"), false)
                .aws_auth([("mapRoles", map_roles.clone())]),
        );
    let env = Env {
        emu: Emulator::start(seed).expect("emulator starts"),
        dir: tempfile::tempdir().unwrap(),
    };

    // 1. The plan: CONFIG_MAP mode, three entries to create.
    let plan = env.run(&["plan", "--cluster", "prod", "--format", "json"]);
    ok(&plan);
    let v = plan.json();
    assert_eq!(v["cluster"]["authentication_mode"], "CONFIG_MAP");
    assert_eq!(v["summary"]["create"], 3);

    // 2. Apply, switching the mode first. EKS makes the node group's entry.
    let apply = env.run(&[
        "apply",
        "--cluster",
        "prod",
        "--yes",
        "--enable-access-entries",
    ]);
    ok(&apply);
    let applied = env.entries();
    assert_eq!(applied.len(), 3, "{applied:?}");

    // 3. Verify: parity.
    let verify = env.run(&["verify", "--cluster", "prod", "--format", "json"]);
    ok(&verify);
    assert_eq!(verify.json()["parity"], true);

    // 4. Prune the migrated rows out of aws-auth.
    ok(&env.run(&["prune-configmap", "--cluster", "prod", "--yes"]));
    let left = env.emu.aws_auth("prod").unwrap().unwrap_or_default();
    assert!(
        !left.get("mapRoles").is_some_and(|r| r.contains("rolearn")),
        "every row was migrated, so none is left: {left:?}"
    );

    // 5. Finalize: API mode, aws-auth deleted (backed up in the journal).
    let journal = env.dir.path().join("finalize.jsonl").display().to_string();
    let fin = env.run(&[
        "finalize",
        "--cluster",
        "prod",
        "--yes",
        "--delete-configmap",
        "--journal",
        &journal,
    ]);
    ok(&fin);
    let state = env.emu.cluster_state("prod").unwrap();
    assert_eq!(state.authentication_mode, "API");
    assert_eq!(env.emu.aws_auth("prod").unwrap(), None);
    // Every principal keeps the access it had: the entries are untouched.
    assert_eq!(env.entries(), applied);

    // The deletion is undoable: rollback recreates aws-auth from the backup
    // and says the mode switch cannot be undone.
    let rb = env.run(&["rollback", &journal, "--yes"]);
    assert_eq!(rb.code, 0, "{}\n{}", rb.stdout, rb.stderr);
    assert!(
        rb.stdout.contains("cannot be undone: switch-to-api"),
        "{}",
        rb.stdout
    );
    assert!(env.emu.aws_auth("prod").unwrap().is_some());
}
