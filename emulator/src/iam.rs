//! IAM over the AWS query protocol: `GetRole`, `GetUser`, `ListRoles`, `ListUsers`,
//! always in the caller's own account.

use crate::error::ApiError;
use crate::seed::Identity;
use crate::state::{rfc3339, IamRole, IamUser, State};
use crate::xml::{el, envelope, param};

pub(crate) const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

fn no_such_entity(message: String) -> ApiError {
    ApiError::new(404, "NoSuchEntity", message)
}

fn role_xml(r: &IamRole) -> String {
    let doc = r
        .assume_role_policy_document
        .as_deref()
        .map(|d| {
            el(
                "AssumeRolePolicyDocument",
                &percent_encoding::utf8_percent_encode(d, percent_encoding::NON_ALPHANUMERIC)
                    .to_string(),
            )
        })
        .unwrap_or_default();
    format!(
        "{}{}{}{}{}{doc}<MaxSessionDuration>3600</MaxSessionDuration>",
        el("Path", &r.path),
        el("RoleName", &r.name),
        el("RoleId", &r.id),
        el("Arn", &r.arn),
        el("CreateDate", &rfc3339(r.created_at)),
    )
}

fn user_xml(u: &IamUser) -> String {
    format!(
        "{}{}{}{}{}",
        el("Path", &u.path),
        el("UserName", &u.name),
        el("UserId", &u.id),
        el("Arn", &u.arn),
        el("CreateDate", &rfc3339(u.created_at)),
    )
}

/// `(offset, max_items)` from `Marker` and `MaxItems` (1..=1000, default 100).
fn paging(params: &[(String, String)]) -> Result<(usize, usize), ApiError> {
    let max = match param(params, "MaxItems") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(ApiError::new(
                    400,
                    "ValidationError",
                    format!("1 validation error detected: Value '{v}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"),
                ))
            }
        },
    };
    let offset = match param(params, "Marker") {
        None | Some("") => 0,
        Some(m) => m
            .strip_prefix("emu-marker-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ApiError::new(400, "ValidationError", "Invalid Marker."))?,
    };
    Ok((offset, max))
}

fn list<T>(
    items: &[T],
    params: &[(String, String)],
    path_of: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> String,
    list_tag: &str,
) -> Result<String, ApiError> {
    let prefix = param(params, "PathPrefix").unwrap_or("/");
    let (offset, max) = paging(params)?;
    let matching: Vec<&T> = items
        .iter()
        .filter(|i| path_of(i).starts_with(prefix))
        .collect();
    let start = offset.min(matching.len());
    let end = start.saturating_add(max).min(matching.len());
    let members: String = matching[start..end]
        .iter()
        .map(|i| format!("<member>{}</member>", render(i)))
        .collect();
    let truncated = end < matching.len();
    let marker = if truncated {
        el("Marker", &format!("emu-marker-{end}"))
    } else {
        String::new()
    };
    Ok(format!(
        "<IsTruncated>{truncated}</IsTruncated>{marker}<{list_tag}>{members}</{list_tag}>"
    ))
}

/// Handle one IAM action; returns the XML body of the 200 answer.
pub(crate) fn handle(
    state: &State,
    caller: &Identity,
    action: &str,
    params: &[(String, String)],
    request_id: &str,
) -> Result<String, ApiError> {
    let account = state.accounts.get(&caller.account);
    let inner = match action {
        "GetRole" => {
            let name = param(params, "RoleName").unwrap_or_default();
            let role = state.find_role(&caller.account, name).ok_or_else(|| {
                no_such_entity(format!("The role with name {name} cannot be found."))
            })?;
            format!("<Role>{}</Role>", role_xml(role))
        }
        "GetUser" => {
            let name = match param(params, "UserName") {
                Some(n) => n.to_string(),
                None => caller
                    .arn
                    .split_once(":user/")
                    .map(|(_, rest)| rest.rsplit('/').next().unwrap_or(rest).to_string())
                    .ok_or_else(|| {
                        ApiError::new(
                            400,
                            "ValidationError",
                            "Must specify userName when calling with non-User credentials",
                        )
                    })?,
            };
            let user = state.find_user(&caller.account, &name).ok_or_else(|| {
                no_such_entity(format!("The user with name {name} cannot be found."))
            })?;
            format!("<User>{}</User>", user_xml(user))
        }
        "ListRoles" => {
            let roles = account.map(|a| a.roles.as_slice()).unwrap_or_default();
            list(roles, params, |r| r.path.as_str(), role_xml, "Roles")?
        }
        "ListUsers" => {
            let users = account.map(|a| a.users.as_slice()).unwrap_or_default();
            list(users, params, |u| u.path.as_str(), user_xml, "Users")?
        }
        other => {
            return Err(ApiError::new(
                400,
                "InvalidAction",
                format!("Could not find operation {other} for version 2010-05-08"),
            ))
        }
    };
    Ok(envelope(action, NAMESPACE, &inner, request_id))
}
