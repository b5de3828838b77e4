//! No request input may panic the emulator: random methods, paths, queries
//! and bodies thrown at every front end.

use crate::eks::{self, Ctx};
use crate::seed::{self, AccessEntry, Seed};
use crate::state::State;
use crate::{iam, kube, sts};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "clusters",
    "c1",
    "access-entries",
    "access-policies",
    "update-config",
    "updates",
    "tags",
    "arn:aws:iam::111122223333:role/dev",
    "arn:aws:eks:us-east-1:111122223333:cluster/c1",
    "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    "",
    "%",
    "\u{e9}",
    "..",
    "api",
    "v1",
    "namespaces",
    "kube-system",
    "configmaps",
    "aws-auth",
    "apis",
    "rbac.authorization.k8s.io",
    "rolebindings",
    "clusterrolebindings",
    "roles",
    "clusterroles",
    "version",
    "role",
    "arn:",
    "arn:aws:iam::111122223333:role/aws-service-role/x/y",
    "user",
];

const BODIES: &[&str] = &[
    "", "{", "[]", "null", "{\"principalArn\":5}", "{\"principalArn\":\"arn:aws:iam::111122223333:role/dev\",\"kubernetesGroups\":[1]}",
    "{\"principalArn\":\"arn:aws:iam::111122223333:role/dev\",\"type\":\"EC2_LINUX\"}",
    "{\"principalArn\":\"arn:aws:iam::111122223333:role/dev\",\"username\":\"{{SessionName}}{{SessionNameRaw}}\"}",
    "{\"policyArn\":\"arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy\",\"accessScope\":{\"type\":\"namespace\",\"namespaces\":[\"\"]}}",
    "{\"accessConfig\":{\"authenticationMode\":\"API\"}}", "{\"accessConfig\":7}", "{\"tags\":{\"a\":1}}",
    "{\"metadata\":{\"name\":\"aws-auth\",\"resourceVersion\":\"x\"},\"data\":{\"a\":1}}",
    "{\"metadata\":[],\"data\":\"x\"}", "\u{0}\u{ff}", "a: [b",
];

const QUERIES: &[&str] = &[
    "",
    "maxResults=0",
    "maxResults=abc",
    "maxResults=100",
    "nextToken=emu-page-99999999999999999999",
    "nextToken=zzz",
    "tagKeys=a",
    "dryRun=All",
    "associatedPolicyArn=x",
    "limit=1",
    "limit=-3",
    "limit=x",
    "limit=2&continue=emu1:1:default/x",
    "continue=emu1::",
    "continue=emu1:12:",
    "continue=zzz",
];

fn world() -> State {
    let seed = Seed::default()
        .with_role("111122223333", "/", "dev")
        .with_cluster(
            seed::Cluster::new("c1", "111122223333", "us-east-1")
                .mode("API_AND_CONFIG_MAP")
                .access_entry(
                    AccessEntry::new("arn:aws:iam::111122223333:role/dev")
                        .cluster_policy("AmazonEKSViewPolicy"),
                )
                .aws_auth([("mapRoles", "x")])
                .bootstrap_rbac()
                .forbid_rbac_list("roles")
                .cluster_role(
                    seed::RbacRole::cluster("loop", vec![])
                        .aggregating(&[])
                        .labelled("a", "b"),
                ),
        );
    State::from_seed(&seed, "http://127.0.0.1:1").expect("seed")
}

#[test]
fn random_requests_never_panic() {
    let mut s = world();
    let mut rng = Rng(7);
    let ctx = Ctx {
        account: "111122223333".into(),
        region: "us-east-1".into(),
    };
    for _ in 0..20_000 {
        let method = rng.pick(&["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]);
        let len = (rng.next() % 8) as usize;
        let prefix: &[&str] = match rng.next() % 5 {
            0 => &["clusters", "c1", "access-entries"],
            1 => &["api", "v1", "namespaces", "kube-system", "configmaps"],
            2 => &["clusters", "c1"],
            3 => &["apis", "rbac.authorization.k8s.io", "v1"],
            _ => &[],
        };
        let segs: Vec<String> = prefix
            .iter()
            .map(std::string::ToString::to_string)
            .chain((0..len % 4).map(|_| rng.pick(WORDS).to_string()))
            .collect();
        let query: Vec<(String, String)> = form_urlencoded::parse(rng.pick(QUERIES).as_bytes())
            .into_owned()
            .collect();
        let body = rng.pick(BODIES).as_bytes();
        if let Some(route) = eks::route(method, &segs) {
            let _ = eks::handle(&mut s, &ctx, &route, &query, body);
            let _ = route.cluster();
        }
        let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let _ = kube::operation(method, &refs);
        let ct = rng.pick(&[
            "application/json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "",
        ]);
        let _ = kube::handle(&mut s, 0, method, &refs, &query, ct, body);
        let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        let caller = s.caller(None);
        let action = rng.pick(&[
            "GetRole",
            "GetUser",
            "ListRoles",
            "ListUsers",
            "AssumeRole",
            "GetCallerIdentity",
            "Nope",
            "",
        ]);
        let _ = iam::handle(&s, &caller, action, &params, "r");
        let _ = sts::handle(&mut s, &caller, action, &params, "r");
    }
}

#[test]
fn odd_query_parameters_never_panic() {
    let mut s = world();
    let caller = s.caller(None);
    for p in [
        vec![("MaxItems", "0")],
        vec![("MaxItems", "99999999999999999999")],
        vec![("Marker", "emu-marker-99999999999")],
        vec![("Marker", "x")],
        vec![
            ("RoleArn", "arn:aws:iam::111122223333:role/dev"),
            ("RoleSessionName", "s"),
            ("DurationSeconds", "-1"),
        ],
        vec![
            ("RoleArn", "arn:aws:iam::111122223333:role/dev"),
            ("RoleSessionName", "\u{e9}\u{e9}"),
        ],
    ] {
        let params: Vec<(String, String)> = p
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for action in ["ListRoles", "ListUsers", "AssumeRole"] {
            let _ = iam::handle(&s, &caller, action, &params, "r");
            let _ = sts::handle(&mut s, &caller, action, &params, "r");
        }
    }
}
