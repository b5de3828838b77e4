//! The rollback precondition: before an undo, is the principal's entry
//! still as the tool left it?

use super::compare::{
    differences, has_tags, same_groups, same_scope, scope_of, show_scope, username_matches,
};
use super::inverse::{Inverse, Undo};
use super::model::Step;
use crate::core::existing::ExistingEntry;

/// Before an undo: is the resource still as the tool left it? `observed`
/// is the principal's entry now (`None`: no entry). An `Err` says what
/// changed; rollback reports it and skips the undo unless forced.
/// Irreversible undos have nothing to check.
pub fn still_as_left(undo: &Undo, observed: Option<&ExistingEntry>) -> Result<(), String> {
    if !matches!(undo.inverse, Inverse::Undo { .. }) {
        return Ok(());
    }
    let gone = |p: &str| format!("the entry for {p} no longer exists");
    match &undo.step {
        Step::EnableAccessEntries { .. } | Step::SwitchToApi { .. } => Ok(()),
        // The aws-auth steps carry their own precondition (the data they
        // expect, or absence), checked when they run: see
        // `still_as_left_configmap`.
        Step::PutConfigMap { .. } | Step::DeleteConfigMap { .. } | Step::CreateConfigMap { .. } => {
            Ok(())
        }
        Step::CreateEntry {
            principal_arn,
            entry_type,
            username,
            kubernetes_groups,
            tags,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            let mut what = Vec::new();
            if !has_tags(&e.tags, tags) {
                what.push("its tags no longer name this migration".to_string());
            }
            what.extend(differences(
                principal_arn,
                *entry_type,
                username,
                kubernetes_groups,
                e,
            ));
            let mut extra: Vec<String> = Vec::new();
            for p in &e.policies {
                match undo.covers.iter().find(|c| c.policy_arn == p.policy_arn) {
                    Some(c) if same_scope(&c.access_scope, &p.access_scope) => {}
                    Some(_) => {
                        extra.push(format!("{} now has scope {}", p.policy_arn, p.access_scope))
                    }
                    None => extra.push(format!("{} was associated by someone else", p.policy_arn)),
                }
            }
            what.extend(extra);
            if what.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the entry for {principal_arn} changed since this migration created it: {}",
                    what.join("; ")
                ))
            }
        }
        Step::AssociatePolicy {
            principal_arn,
            policy_arn,
            access_scope,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            match scope_of(e, policy_arn) {
                Some(h) if same_scope(h, access_scope) => Ok(()),
                h => Err(format!(
                    "{policy_arn} on {principal_arn} has scope {} since, not {access_scope} as left",
                    show_scope(h)
                )),
            }
        }
        Step::UpdateEntry {
            principal_arn,
            username,
            kubernetes_groups,
            ..
        } => {
            let e = observed.ok_or_else(|| gone(principal_arn))?;
            if username_matches(principal_arn, username, &e.username)
                && same_groups(&e.kubernetes_groups, kubernetes_groups)
            {
                Ok(())
            } else {
                Err(format!(
                    "the entry for {principal_arn} changed since this migration updated it: username {}, groups [{}]",
                    e.username.as_deref().unwrap_or("(default)"),
                    e.kubernetes_groups.join(", ")
                ))
            }
        }
        Step::DeleteEntry { .. } | Step::DisassociatePolicy { .. } => Ok(()),
    }
}
