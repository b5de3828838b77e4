//! STS over the AWS query protocol: `GetCallerIdentity` and `AssumeRole`, which
//! issues temporary keys that later calls are attributed to.

use crate::arn::{IamPrincipal, PrincipalKind};
use crate::error::ApiError;
use crate::seed::Identity;
use crate::state::{derive_id, now, rfc3339, State};
use crate::xml::{el, envelope, param};

pub(crate) const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Is this an STS action the emulator knows?
pub(crate) fn is_sts_action(action: &str) -> bool {
    matches!(action, "GetCallerIdentity" | "AssumeRole")
}

/// The `UserId` STS reports for an identity.
fn user_id(state: &State, caller: &Identity) -> String {
    if let Some(rest) = caller.arn.split_once(":assumed-role/").map(|(_, r)| r) {
        let mut parts = rest.splitn(2, '/');
        let role = parts.next().unwrap_or_default();
        let session = parts.next().unwrap_or_default();
        let id = state
            .find_role(&caller.account, role)
            .map_or_else(|| derive_id("AROA", role), |r| r.id.clone());
        return format!("{id}:{session}");
    }
    if let Ok(p) = IamPrincipal::parse(&caller.arn) {
        let found = match p.kind {
            PrincipalKind::User => state.find_user(&p.account, &p.name).map(|u| u.id.clone()),
            PrincipalKind::Role => state.find_role(&p.account, &p.name).map(|r| r.id.clone()),
        };
        if let Some(id) = found {
            return id;
        }
    }
    derive_id("AIDA", &caller.arn)
}

fn valid_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// Handle one STS action; returns the XML body of the 200 answer.
pub(crate) fn handle(
    state: &mut State,
    caller: &Identity,
    action: &str,
    params: &[(String, String)],
    request_id: &str,
) -> Result<String, ApiError> {
    let inner = match action {
        "GetCallerIdentity" => format!(
            "{}{}{}",
            el("Arn", &caller.arn),
            el("UserId", &user_id(state, caller)),
            el("Account", &caller.account)
        ),
        "AssumeRole" => {
            let role_arn = param(params, "RoleArn").unwrap_or_default().to_string();
            let session = param(params, "RoleSessionName")
                .unwrap_or_default()
                .to_string();
            if !valid_session_name(&session) {
                return Err(ApiError::new(
                    400,
                    "ValidationError",
                    format!("1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"),
                ));
            }
            let duration: i64 = match param(params, "DurationSeconds") {
                None => 3600,
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|d| (900..=43200).contains(d))
                    .ok_or_else(|| {
                        ApiError::new(
                            400,
                            "ValidationError",
                            format!("The requested DurationSeconds {v} is not valid."),
                        )
                    })?,
            };
            let denied = || {
                ApiError::new(
                    403,
                    "AccessDenied",
                    format!(
                        "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                        caller.arn
                    ),
                )
            };
            let principal = IamPrincipal::parse(&role_arn).map_err(|_| denied())?;
            if principal.kind != PrincipalKind::Role || !state.principal_exists(&principal) {
                return Err(denied());
            }
            let role = state
                .find_role(&principal.account, &principal.name)
                .ok_or_else(denied)?
                .clone();
            let n = state.next_counter();
            let access_key_id = derive_id("ASIA", &format!("key-{n}-{role_arn}"))[..20].to_string();
            let secret = derive_id("", &format!("secret-{n}")).repeat(3)[..40].to_string();
            let token = format!("EMULATOR-SESSION-{}", derive_id("", &format!("token-{n}")));
            let assumed_arn = format!(
                "arn:{}:sts::{}:assumed-role/{}/{session}",
                principal.partition, principal.account, role.name
            );
            state.secrets.insert(access_key_id.clone(), secret.clone());
            state.credentials.insert(
                access_key_id.clone(),
                Identity {
                    account: principal.account.clone(),
                    arn: assumed_arn.clone(),
                },
            );
            let expiration = rfc3339(now() + duration as f64);
            format!(
                "<Credentials>{}{}{}{}</Credentials><AssumedRoleUser>{}{}</AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>",
                el("AccessKeyId", &access_key_id),
                el("SecretAccessKey", &secret),
                el("SessionToken", &token),
                el("Expiration", &expiration),
                el("AssumedRoleId", &format!("{}:{session}", role.id)),
                el("Arn", &assumed_arn),
            )
        }
        other => {
            return Err(ApiError::new(
                400,
                "InvalidAction",
                format!("Could not find operation {other} for version 2011-06-15"),
            ))
        }
    };
    Ok(envelope(action, NAMESPACE, &inner, request_id))
}
