//! Unit tests of the aws-auth `ConfigMap` steps and the mode switch to API.

use std::collections::BTreeMap;

use super::*;

/// `still_as_left_configmap`, with the error as its message: the tests
/// compare texts.
fn still_as_left_configmap(
    step: &Step,
    observed: Option<&BTreeMap<String, String>>,
) -> Result<(), String> {
    super::still_as_left_configmap(step, observed).map_err(|e| e.to_string())
}
use crate::core::cluster::AuthMode;

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn backup() -> ConfigMapBackup {
    ConfigMapBackup {
        data: data(&[("mapRoles", "- rolearn: a\n# kept\n"), ("other", "x")]),
        labels: data(&[("team", "platform")]),
        annotations: BTreeMap::new(),
        resource_version: Some("7".into()),
    }
}

fn put() -> Step {
    Step::PutConfigMap {
        backup_data: data(&[("mapRoles", "- rolearn: a\n- rolearn: b\n")]),
        backup_resource_version: Some("7".into()),
        new_data: data(&[("mapRoles", "- rolearn: a\n")]),
        removed_rows: vec!["mapRoles#2".into()],
    }
}

#[test]
fn ops_serialise_and_are_cluster_wide() {
    let v = serde_json::to_value(Step::SwitchToApi {
        from_mode: AuthMode::ApiAndConfigMap,
    })
    .unwrap();
    assert_eq!(
        v,
        serde_json::json!({"op": "switch-to-api", "from_mode": "API_AND_CONFIG_MAP"})
    );
    for (s, op) in [
        (put(), "put-configmap"),
        (
            Step::DeleteConfigMap { backup: backup() },
            "delete-configmap",
        ),
        (
            Step::CreateConfigMap { backup: backup() },
            "create-configmap",
        ),
    ] {
        assert_eq!(s.op(), op);
        assert_eq!(s.principal_arn(), None);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.starts_with(&format!("{{\"op\":\"{op}\"")), "{json}");
        let back: Step = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}

#[test]
fn inverses() {
    match (Step::SwitchToApi {
        from_mode: AuthMode::ApiAndConfigMap,
    })
    .inverse()
    {
        Inverse::Irreversible { reason } => assert!(reason.contains("cannot be undone")),
        other => panic!("{other:?}"),
    }
    let Inverse::Undo { step: undo } = put().inverse() else {
        panic!("a put is undone")
    };
    assert_eq!(
        undo,
        Step::PutConfigMap {
            backup_data: data(&[("mapRoles", "- rolearn: a\n")]),
            backup_resource_version: None,
            new_data: data(&[("mapRoles", "- rolearn: a\n- rolearn: b\n")]),
            removed_rows: vec!["restore mapRoles#2".into()],
        }
    );
    assert_eq!(
        Step::DeleteConfigMap { backup: backup() }.inverse(),
        Inverse::Undo {
            step: Step::CreateConfigMap { backup: backup() }
        }
    );
    assert!(matches!(
        Step::CreateConfigMap { backup: backup() }.inverse(),
        Inverse::Irreversible { .. }
    ));
    // rollback_steps lists them in reverse, the switch as irreversible.
    let done = Outcome::Done {
        response: serde_json::json!({}),
    };
    let undos = rollback_steps(&[
        (put(), done.clone()),
        (
            Step::SwitchToApi {
                from_mode: AuthMode::ApiAndConfigMap,
            },
            done.clone(),
        ),
        (Step::DeleteConfigMap { backup: backup() }, done),
    ]);
    let ops: Vec<&str> = undos.iter().map(|u| u.step.op()).collect();
    assert_eq!(
        ops,
        vec!["delete-configmap", "switch-to-api", "put-configmap"]
    );
    assert!(matches!(undos[1].inverse, Inverse::Irreversible { .. }));
}

#[test]
fn settling_and_preconditions() {
    let s = put();
    let before = data(&[("mapRoles", "- rolearn: a\n- rolearn: b\n")]);
    let after = data(&[("mapRoles", "- rolearn: a\n")]);
    let other = data(&[("mapRoles", "- rolearn: c\n")]);
    assert_eq!(settle_configmap(&s, Some(&after)), Settled::Done);
    assert_eq!(settle_configmap(&s, Some(&before)), Settled::NotDone);
    assert!(matches!(
        settle_configmap(&s, Some(&other)),
        Settled::Diverged(_)
    ));
    assert!(matches!(settle_configmap(&s, None), Settled::Diverged(_)));
    assert_eq!(still_as_left_configmap(&s, Some(&before)), Ok(()));
    assert_eq!(
        still_as_left_configmap(&s, Some(&other)),
        Err("aws-auth changed since the tool read it (keys mapRoles)".into())
    );

    let del = Step::DeleteConfigMap { backup: backup() };
    assert_eq!(settle_configmap(&del, None), Settled::Done);
    assert_eq!(
        settle_configmap(&del, Some(&backup().data)),
        Settled::NotDone
    );
    assert_eq!(
        still_as_left_configmap(&del, None),
        Err("aws-auth no longer exists".into())
    );
    let create = Step::CreateConfigMap { backup: backup() };
    assert_eq!(
        settle_configmap(&create, Some(&backup().data)),
        Settled::Done
    );
    assert_eq!(settle_configmap(&create, None), Settled::NotDone);
    assert_eq!(
        still_as_left_configmap(&create, Some(&other)),
        Err("aws-auth exists again (someone recreated it)".into())
    );
    // Entry steps have no ConfigMap precondition.
    assert_eq!(
        configmap_precondition(&Step::SwitchToApi {
            from_mode: "X".into()
        }),
        None
    );

    let switch = Step::SwitchToApi {
        from_mode: AuthMode::ApiAndConfigMap,
    };
    assert_eq!(settle_mode(&switch, &AuthMode::Api, false), Settled::Done);
    assert_eq!(
        settle_mode(&switch, &AuthMode::ApiAndConfigMap, true),
        Settled::InProgress
    );
    assert_eq!(
        settle_mode(&switch, &AuthMode::ApiAndConfigMap, false),
        Settled::NotDone
    );
    assert!(matches!(
        settle_mode(&switch, &AuthMode::ConfigMap, false),
        Settled::Diverged(_)
    ));
}
