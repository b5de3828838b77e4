use serde_json::{json, Value};

use super::access_entries::{
    validate_username, MSG_BAD_FORMAT, MSG_INVALID_PRINCIPAL, MSG_IN_USE, MSG_SLR,
};
use super::access_policies::MSG_NOT_STANDARD;
use super::*;
use crate::seed::{self, Seed};
use crate::state::{MODE_API, MODE_BOTH, MODE_CONFIG_MAP};

const A: &str = "111122223333";

fn world(mode: &str) -> State {
    let seed = Seed::default()
        .with_caller("AKID", A, "arn:aws:iam::111122223333:user/admin")
        .with_role(A, "/", "dev")
        .with_role(A, "/sso/", "Admin")
        .with_role("444455556666", "/", "other")
        .with_user(A, "/", "bob")
        .with_cluster(seed::Cluster::new("c1", A, "us-east-1").mode(mode));
    State::from_seed(&seed, "http://127.0.0.1:1").expect("seed")
}

fn ctx() -> Ctx {
    Ctx {
        account: A.into(),
        region: "us-east-1".into(),
    }
}

fn call(s: &mut State, method: &str, path: &str, body: &str) -> Result<Value, ApiError> {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let r = route(method, &segs).expect("route");
    handle(s, &ctx(), &r, &[], body.as_bytes())
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[test]
fn routes_decoded_labels() {
    let segs: Vec<String> = [
        "clusters",
        "c",
        "access-entries",
        "arn:aws:iam::1:role/a/b",
        "access-policies",
        "arn:x/y",
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .collect();
    assert_eq!(
        route("DELETE", &segs),
        Some(Route::DisassociateAccessPolicy(
            "c".into(),
            "arn:aws:iam::1:role/a/b".into(),
            "arn:x/y".into()
        ))
    );
}

#[test]
fn config_map_mode_refuses_entry_calls() {
    let mut s = world(MODE_CONFIG_MAP);
    let e = call(&mut s, "GET", "/clusters/c1/access-entries", "").unwrap_err();
    assert_eq!(
        (e.status, e.code.as_str(), e.message.as_str()),
        (400, "InvalidRequestException", MSG_MODE)
    );
}

#[test]
fn create_rules() {
    let mut s = world(MODE_BOTH);
    let p = "/clusters/c1/access-entries";
    let cases = [
        (r#"{"principalArn":"arn:aws:sts::111122223333:assumed-role/dev/x"}"#, MSG_BAD_FORMAT.to_string()),
        (r#"{"principalArn":"arn:aws:iam::111122223333:role/aws-service-role/emr.amazonaws.com/x"}"#, MSG_SLR.to_string()),
        (r#"{"principalArn":"arn:aws:iam::111122223333:role/Admin"}"#, MSG_INVALID_PRINCIPAL.to_string()),
        (r#"{"principalArn":"arn:aws:iam::111122223333:role/dev","kubernetesGroups":["system:masters"]}"#,
         "The kubernetes group name system:masters is invalid, it cannot start with system:".to_string()),
        (r#"{"principalArn":"arn:aws:iam::111122223333:role/dev","username":"eks:x"}"#, "The username must not begin with eks:".to_string()),
        (r#"{"principalArn":"arn:aws:iam::111122223333:role/dev","username":"john{{SessionName}}"}"#,
         "The username john{{SessionName}} is invalid: {{SessionName}} must be preceded by a ':'.".to_string()),
        (r#"{"principalArn":"arn:aws:iam::111122223333:role/dev","type":"EC2_LINUX","kubernetesGroups":["a"]}"#,
         "Kubernetes groups cannot be specified for access entries of type EC2_LINUX.".to_string()),
        (r#"{"principalArn":"arn:aws:iam::444455556666:role/other","type":"FARGATE_LINUX"}"#,
         "The principalArn of an access entry of type FARGATE_LINUX must belong to the cluster's account 111122223333.".to_string()),
    ];
    for (body, msg) in cases {
        let e = call(&mut s, "POST", p, body).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (400, "InvalidParameterException"),
            "{body}"
        );
        assert_eq!(e.message, msg, "{body}");
    }
    let ok = call(&mut s, "POST", p, r#"{"principalArn":"arn:aws:iam::111122223333:role/sso/admin","username":"jo:hn{{SessionName}}","clientRequestToken":"t1"}"#).expect("create");
    assert_eq!(ok["accessEntry"]["username"], "jo:hn{{SessionName}}");
    let again = call(
        &mut s,
        "POST",
        p,
        r#"{"principalArn":"arn:aws:iam::111122223333:role/sso/admin","clientRequestToken":"t1"}"#,
    )
    .expect("idempotent");
    assert_eq!(
        again["accessEntry"]["accessEntryArn"],
        ok["accessEntry"]["accessEntryArn"]
    );
    let dup = call(
        &mut s,
        "POST",
        p,
        r#"{"principalArn":"arn:aws:iam::111122223333:role/sso/admin","clientRequestToken":"t2"}"#,
    )
    .unwrap_err();
    assert_eq!((dup.status, dup.message.as_str()), (409, MSG_IN_USE));
}

#[test]
fn update_resets_omitted_fields_and_node_entries_refuse_policies() {
    let mut s = world(MODE_API);
    let role = "arn:aws:iam::111122223333:role/dev";
    call(
        &mut s,
        "POST",
        "/clusters/c1/access-entries",
        &format!(r#"{{"principalArn":"{role}","username":"dev","kubernetesGroups":["g"]}}"#),
    )
    .expect("create");
    let u = call(
        &mut s,
        "POST",
        &format!("/clusters/c1/access-entries/{}", enc(role)),
        "{}",
    )
    .expect("update");
    assert_eq!(u["accessEntry"]["kubernetesGroups"], json!([]));
    assert_eq!(
        u["accessEntry"]["username"],
        "arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}"
    );
    call(
        &mut s,
        "DELETE",
        &format!("/clusters/c1/access-entries/{}", enc(role)),
        "",
    )
    .expect("delete");
    call(
        &mut s,
        "POST",
        "/clusters/c1/access-entries",
        &format!(r#"{{"principalArn":"{role}","type":"EC2_LINUX"}}"#),
    )
    .expect("node");
    let e = call(&mut s, "POST", &format!("/clusters/c1/access-entries/{}/access-policies", enc(role)),
        r#"{"policyArn":"arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy","accessScope":{"type":"cluster"}}"#).unwrap_err();
    assert_eq!(e.message, MSG_NOT_STANDARD);
}

#[test]
fn mode_changes_are_forward_one_step() {
    let mut s = world(MODE_CONFIG_MAP);
    let e = call(
        &mut s,
        "POST",
        "/clusters/c1/update-config",
        r#"{"accessConfig":{"authenticationMode":"API"}}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "Unsupported authentication mode update from CONFIG_MAP to API"
    );
    let ok = call(
        &mut s,
        "POST",
        "/clusters/c1/update-config",
        r#"{"accessConfig":{"authenticationMode":"API_AND_CONFIG_MAP"}}"#,
    )
    .expect("update");
    assert_eq!(ok["update"]["status"], "InProgress");
    let busy = call(
        &mut s,
        "POST",
        "/clusters/c1/update-config",
        r#"{"accessConfig":{"authenticationMode":"API_AND_CONFIG_MAP"}}"#,
    )
    .unwrap_err();
    assert_eq!(busy.status, 409);
    assert_eq!(
        busy.message,
        format!(
            "Cannot AccessConfigUpdate because cluster c1 currently has update {} in progress",
            ok["update"]["id"].as_str().unwrap_or("")
        )
    );
}

#[test]
fn node_groups_and_fargate_profiles_come_from_the_seed() {
    let seed = Seed::default()
        .with_caller("AKID", A, "arn:aws:iam::111122223333:user/admin")
        .with_cluster(
            seed::Cluster::new("c1", A, "us-east-1")
                .node_group("lin", "arn:aws:iam::111122223333:role/node", false)
                .node_group("win", "arn:aws:iam::111122223333:role/winnode", true)
                .node_group("gpu", "arn:aws:iam::111122223333:role/gpu", false)
                .fargate_profile("fp", "arn:aws:iam::111122223333:role/fargate"),
        );
    let mut s = State::from_seed(&seed, "http://127.0.0.1:1").expect("seed");
    let segs = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        route("GET", &segs("clusters/c1/node-groups/win")),
        Some(Route::DescribeNodegroup("c1".into(), "win".into()))
    );
    assert_eq!(
        route("GET", &segs("clusters/c1/fargate-profiles")).map(|r| r.operation()),
        Some("ListFargateProfiles")
    );
    assert_eq!(route("POST", &segs("clusters/c1/node-groups")), None);

    let mut q = vec![("maxResults".to_string(), "2".to_string())];
    let first =
        handle(&mut s, &ctx(), &Route::ListNodegroups("c1".into()), &q, b"").expect("page 1");
    assert_eq!(first["nodegroups"], json!(["lin", "win"]));
    let token = first["nextToken"].as_str().expect("token").to_string();
    q.push(("nextToken".into(), token));
    let second =
        handle(&mut s, &ctx(), &Route::ListNodegroups("c1".into()), &q, b"").expect("page 2");
    assert_eq!(second, json!({"nodegroups": ["gpu"]}));

    let win = call(&mut s, "GET", "/clusters/c1/node-groups/win", "").expect("win");
    let ng = &win["nodegroup"];
    assert_eq!(ng["amiType"], "WINDOWS_CORE_2022_x86_64");
    assert_eq!(ng["nodeRole"], "arn:aws:iam::111122223333:role/winnode");
    assert_eq!(ng["status"], "ACTIVE");
    assert_eq!(ng["clusterName"], "c1");
    let arn = ng["nodegroupArn"].as_str().unwrap_or_default();
    assert!(
        arn.starts_with("arn:aws:eks:us-east-1:111122223333:nodegroup/c1/win/"),
        "{arn}"
    );
    let again = call(&mut s, "GET", "/clusters/c1/node-groups/win", "").expect("again");
    assert_eq!(again["nodegroup"]["nodegroupArn"], ng["nodegroupArn"]);
    let lin = call(&mut s, "GET", "/clusters/c1/node-groups/lin", "").expect("lin");
    assert_eq!(lin["nodegroup"]["amiType"], "AL2023_x86_64_STANDARD");

    let fp = call(&mut s, "GET", "/clusters/c1/fargate-profiles/fp", "").expect("fp");
    assert_eq!(
        fp["fargateProfile"]["podExecutionRoleArn"],
        "arn:aws:iam::111122223333:role/fargate"
    );
    assert_eq!(fp["fargateProfile"]["status"], "ACTIVE");

    for (path, msg) in [
        (
            "/clusters/c1/node-groups/nope",
            "No node group found for name: nope.",
        ),
        (
            "/clusters/c1/fargate-profiles/nope",
            "No Fargate Profile found with name: nope.",
        ),
        ("/clusters/zz/node-groups", "No cluster found for name: zz."),
        (
            "/clusters/zz/fargate-profiles/fp",
            "No cluster found for name: zz.",
        ),
    ] {
        let e = call(&mut s, "GET", path, "").unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (404, "ResourceNotFoundException", msg),
            "{path}"
        );
    }
}

#[test]
fn username_validation_table() {
    for ok in [
        "a",
        "jo:hn{{SessionName}}",
        "x:{{SessionNameRaw}}",
        "admin:{{SessionName}}:{{SessionName}}",
    ] {
        assert!(validate_username(ok).is_ok(), "{ok}");
    }
    for bad in [
        "system:x",
        "aws:x",
        "amazon:x",
        "iam:x",
        "{{SessionName}}",
        "a{{SessionNameRaw}}",
    ] {
        assert!(validate_username(bad).is_err(), "{bad}");
    }
}
