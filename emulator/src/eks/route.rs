//! Routing: EKS restJson1 paths (labels already percent-decoded) to operations.

/// An EKS operation with its path labels (already percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    ListClusters,
    DescribeCluster(String),
    UpdateClusterConfig(String),
    DescribeUpdate(String, String),
    CreateAccessEntry(String),
    ListAccessEntries(String),
    DescribeAccessEntry(String, String),
    UpdateAccessEntry(String, String),
    DeleteAccessEntry(String, String),
    AssociateAccessPolicy(String, String),
    ListAssociatedAccessPolicies(String, String),
    DisassociateAccessPolicy(String, String, String),
    ListAccessPolicies,
    TagResource(String),
    UntagResource(String),
    ListTagsForResource(String),
    ListNodegroups(String),
    DescribeNodegroup(String, String),
    ListFargateProfiles(String),
    DescribeFargateProfile(String, String),
}

impl Route {
    /// The operation name used for counters and faults.
    pub(crate) fn operation(&self) -> &'static str {
        match self {
            Route::ListClusters => "ListClusters",
            Route::DescribeCluster(_) => "DescribeCluster",
            Route::UpdateClusterConfig(_) => "UpdateClusterConfig",
            Route::DescribeUpdate(..) => "DescribeUpdate",
            Route::CreateAccessEntry(_) => "CreateAccessEntry",
            Route::ListAccessEntries(_) => "ListAccessEntries",
            Route::DescribeAccessEntry(..) => "DescribeAccessEntry",
            Route::UpdateAccessEntry(..) => "UpdateAccessEntry",
            Route::DeleteAccessEntry(..) => "DeleteAccessEntry",
            Route::AssociateAccessPolicy(..) => "AssociateAccessPolicy",
            Route::ListAssociatedAccessPolicies(..) => "ListAssociatedAccessPolicies",
            Route::DisassociateAccessPolicy(..) => "DisassociateAccessPolicy",
            Route::ListAccessPolicies => "ListAccessPolicies",
            Route::TagResource(_) => "TagResource",
            Route::UntagResource(_) => "UntagResource",
            Route::ListTagsForResource(_) => "ListTagsForResource",
            Route::ListNodegroups(_) => "ListNodegroups",
            Route::DescribeNodegroup(..) => "DescribeNodegroup",
            Route::ListFargateProfiles(_) => "ListFargateProfiles",
            Route::DescribeFargateProfile(..) => "DescribeFargateProfile",
        }
    }

    /// The cluster name the call is about, if any.
    pub(crate) fn cluster(&self) -> Option<String> {
        match self {
            Route::ListClusters | Route::ListAccessPolicies => None,
            Route::DescribeCluster(c)
            | Route::UpdateClusterConfig(c)
            | Route::DescribeUpdate(c, _)
            | Route::CreateAccessEntry(c)
            | Route::ListAccessEntries(c)
            | Route::DescribeAccessEntry(c, _)
            | Route::UpdateAccessEntry(c, _)
            | Route::DeleteAccessEntry(c, _)
            | Route::AssociateAccessPolicy(c, _)
            | Route::ListAssociatedAccessPolicies(c, _)
            | Route::DisassociateAccessPolicy(c, _, _)
            | Route::ListNodegroups(c)
            | Route::DescribeNodegroup(c, _)
            | Route::ListFargateProfiles(c)
            | Route::DescribeFargateProfile(c, _) => Some(c.clone()),
            Route::TagResource(arn)
            | Route::UntagResource(arn)
            | Route::ListTagsForResource(arn) => cluster_of_arn(arn),
        }
    }
}

/// `...:cluster/NAME` or `...:access-entry/NAME/...` → NAME.
pub(super) fn cluster_of_arn(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let rest = resource
        .strip_prefix("cluster/")
        .or_else(|| resource.strip_prefix("access-entry/"))?;
    rest.split('/').next().map(str::to_string)
}

/// Map method + decoded path segments to an operation.
pub(crate) fn route(method: &str, segs: &[String]) -> Option<Route> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method, s.as_slice()) {
        ("GET", ["clusters"]) => Some(Route::ListClusters),
        ("GET", ["access-policies"]) => Some(Route::ListAccessPolicies),
        ("GET", ["clusters", c]) => Some(Route::DescribeCluster(c.to_string())),
        ("POST", ["clusters", c, "update-config"]) => {
            Some(Route::UpdateClusterConfig(c.to_string()))
        }
        ("GET", ["clusters", c, "updates", id]) => {
            Some(Route::DescribeUpdate(c.to_string(), id.to_string()))
        }
        ("POST", ["clusters", c, "access-entries"]) => {
            Some(Route::CreateAccessEntry(c.to_string()))
        }
        ("GET", ["clusters", c, "access-entries"]) => Some(Route::ListAccessEntries(c.to_string())),
        ("GET", ["clusters", c, "node-groups"]) => Some(Route::ListNodegroups(c.to_string())),
        ("GET", ["clusters", c, "node-groups", ng]) => {
            Some(Route::DescribeNodegroup(c.to_string(), ng.to_string()))
        }
        ("GET", ["clusters", c, "fargate-profiles"]) => {
            Some(Route::ListFargateProfiles(c.to_string()))
        }
        ("GET", ["clusters", c, "fargate-profiles", fp]) => {
            Some(Route::DescribeFargateProfile(c.to_string(), fp.to_string()))
        }
        (_, ["tags", rest @ ..]) if !rest.is_empty() => {
            let arn = rest.join("/");
            match method {
                "POST" => Some(Route::TagResource(arn)),
                "DELETE" => Some(Route::UntagResource(arn)),
                "GET" => Some(Route::ListTagsForResource(arn)),
                _ => None,
            }
        }
        (_, ["clusters", c, "access-entries", rest @ ..]) if !rest.is_empty() => {
            // Tolerate unencoded slashes in the principal ARN.
            let cluster = c.to_string();
            let split = rest.iter().position(|p| *p == "access-policies");
            match split {
                None => {
                    let principal = rest.join("/");
                    match method {
                        "GET" => Some(Route::DescribeAccessEntry(cluster, principal)),
                        "POST" => Some(Route::UpdateAccessEntry(cluster, principal)),
                        "DELETE" => Some(Route::DeleteAccessEntry(cluster, principal)),
                        _ => None,
                    }
                }
                Some(k) if k > 0 => {
                    let principal = rest[..k].join("/");
                    let policy = rest[k + 1..].join("/");
                    match (method, policy.is_empty()) {
                        ("POST", true) => Some(Route::AssociateAccessPolicy(cluster, principal)),
                        ("GET", true) => {
                            Some(Route::ListAssociatedAccessPolicies(cluster, principal))
                        }
                        ("DELETE", false) => {
                            Some(Route::DisassociateAccessPolicy(cluster, principal, policy))
                        }
                        _ => None,
                    }
                }
                Some(_) => None,
            }
        }
        _ => None,
    }
}
