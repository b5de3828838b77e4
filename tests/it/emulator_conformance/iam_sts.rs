//! IAM lookups and paging; STS `AssumeRole` and `GetCallerIdentity`.

use super::{
    base_seed, eks, err_of, iam, role, start, sts, A, ADMIN_ARN, ADMIN_KEY, B, B_KEY, REGION,
};

#[tokio::test]
async fn iam_lookups_and_paging() {
    let emu = start(
        base_seed().with_account(
            eks_emulator::seed::Account::new(A)
                .role("/team/", "t1")
                .role("/team/", "t2")
                .role("/team/sub/", "t3"),
        ),
    );
    let i = iam(&emu, ADMIN_KEY);
    let r = i
        .get_role()
        .role_name("AWSReservedSSO_Admin_abc123")
        .send()
        .await
        .expect("get role");
    let role = r.role().expect("role");
    assert_eq!(role.path(), "/aws-reserved/sso.amazonaws.com/");
    assert_eq!(
        role.arn(),
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_abc123"
    );
    assert!(role.role_id().starts_with("AROA"));
    let e = i.get_role().role_name("cross").send().await.unwrap_err();
    assert_eq!(
        err_of(&e),
        (
            "NoSuchEntity".into(),
            "The role with name cross cannot be found.".into()
        )
    );
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(404));
    let u = i
        .get_user()
        .user_name("bob")
        .send()
        .await
        .expect("get user");
    assert_eq!(
        u.user().map(aws_sdk_iam::types::User::arn),
        Some("arn:aws:iam::111122223333:user/ops/bob")
    );
    let me = i.get_user().send().await.expect("caller user");
    assert_eq!(
        me.user().map(aws_sdk_iam::types::User::user_name),
        Some("admin")
    );

    let pages: Vec<_> = i
        .list_roles()
        .path_prefix("/team/")
        .max_items(2)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("pages");
    assert_eq!(pages.len(), 2);
    assert!(pages[0].is_truncated());
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.roles().iter().map(|r| r.role_name().to_string()))
        .collect();
    assert_eq!(names, ["t1", "t2", "t3"]);
    let all = i.list_roles().send().await.expect("all");
    assert_eq!(all.roles().len(), 9);
    assert!(!all.is_truncated());

    let b = iam(&emu, B_KEY);
    let r = b.get_role().role_name("dev").send().await.expect("b dev");
    assert_eq!(
        r.role().map(aws_sdk_iam::types::Role::arn),
        Some("arn:aws:iam::444455556666:role/dev")
    );
}

#[tokio::test]
async fn assume_role_then_caller_identity() {
    let emu = start(base_seed());
    let s = sts(&emu, ADMIN_KEY, "secret", None);
    let me = s.get_caller_identity().send().await.expect("whoami");
    assert_eq!(me.arn(), Some(ADMIN_ARN));
    assert_eq!(me.account(), Some(A));
    assert!(me.user_id().is_some_and(|u| u.starts_with("AIDA")));

    let out = s
        .assume_role()
        .role_arn(role(B, "cross"))
        .role_session_name("migrator")
        .send()
        .await
        .expect("assume");
    let creds = out.credentials().expect("creds");
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(
        out.assumed_role_user()
            .map(aws_sdk_sts::types::AssumedRoleUser::arn),
        Some("arn:aws:sts::444455556666:assumed-role/cross/migrator")
    );
    let assumed = sts(
        &emu,
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_string()),
    );
    let who = assumed
        .get_caller_identity()
        .send()
        .await
        .expect("whoami assumed");
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::444455556666:assumed-role/cross/migrator")
    );
    assert_eq!(who.account(), Some(B));
    assert!(who.user_id().is_some_and(|u| u.ends_with(":migrator")));
    // The temporary keys act in the role's account.
    let c = eks(&emu, creds.access_key_id(), REGION);
    assert!(c.describe_cluster().name("b-cluster").send().await.is_ok());

    let e = s
        .assume_role()
        .role_arn(role(A, "ghost"))
        .role_session_name("x1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err_of(&e), ("AccessDenied".into(), format!("User: {ADMIN_ARN} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/ghost")));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
}
