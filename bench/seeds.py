"""Generators for bench/run: aws-auth ConfigMaps and eks-emulator seeds.

Seeds are written as JSON, which the emulator's YAML reader accepts as is.
Everything is deterministic: the same size gives the same bytes.
"""

import hashlib

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "us-east-1"
CLUSTER = "bench"
ADMIN_KEY = "AKIDADMIN"
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:user/admin"
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

# Every AWS operation the tool or the CLI loop may call; scenario D puts one
# token bucket on each (a bucket per operation, as AWS throttles per API).
AWS_OPERATIONS = [
    # EKS
    "ListClusters", "DescribeCluster", "UpdateClusterConfig", "DescribeUpdate",
    "CreateAccessEntry", "DescribeAccessEntry", "UpdateAccessEntry", "DeleteAccessEntry",
    "ListAccessEntries", "AssociateAccessPolicy", "DisassociateAccessPolicy",
    "ListAssociatedAccessPolicies", "ListAccessPolicies", "TagResource", "UntagResource",
    "ListTagsForResource",
    # IAM
    "GetRole", "GetUser", "ListRoles", "ListUsers",
    # STS
    "GetCallerIdentity", "AssumeRole",
]


def _h(text, n=12):
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def offline_aws_auth(rows):
    """An aws-auth manifest of `rows` rows in the shapes real clusters carry
    (the shapes of benches/plan.rs, with the longer names eksctl and IAM
    Identity Center generate): 5,000 rows come to 928,117 bytes (0.89 MiB), near the
    1 MiB ConfigMap limit."""
    roles, users = [], []
    for i in range(rows):
        k = i % 5
        if k == 0:
            roles.append(
                f"    - rolearn: arn:aws:iam::{ACCOUNT}:role/eksctl-prod-nodegroup-ng-{i:05d}-NodeInstanceRole-{_h(str(i)).upper()}\n"
                "      username: system:node:{{EC2PrivateDNSName}}\n"
                "      groups:\n        - system:bootstrappers\n        - system:nodes\n")
        elif k == 1:
            roles.append(
                f"    - rolearn: arn:aws:iam::{ACCOUNT}:role/platform-admin-{i:05d}\n"
                f"      username: platform-admin-{i:05d}:{{{{SessionName}}}}\n"
                "      groups:\n        - system:masters\n        - platform-operators\n")
        elif k == 2:
            roles.append(
                f"    - rolearn: arn:aws:iam::{ACCOUNT}:role/AWSReservedSSO_Developer_{i:016x}\n"
                "      username: sso-developer:{{SessionName}}\n"
                "      groups:\n        - developers\n        - viewers\n")
        elif k == 3:
            roles.append(
                f"    - rolearn: arn:aws:iam::{OTHER_ACCOUNT}:role/ci-deployer-pipeline-{i:05d}\n"
                f"      username: ci-deployer-pipeline-{i:05d}\n"
                "      groups:\n        - deployers\n        - release-managers\n")
        else:
            users.append(
                f"    - userarn: arn:aws:iam::{ACCOUNT}:user/person-{i:05d}@example.com\n"
                f"      username: person-{i:05d}@example.com\n"
                "      groups:\n        - system:masters\n")
    return ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\n"
            "data:\n  mapRoles: |\n" + "".join(roles) + "  mapUsers: |\n" + "".join(users))


def _base(faults, roles, users=()):
    return {
        "default_caller": {"account": ACCOUNT, "arn": ADMIN_ARN},
        "default_region": REGION,
        "credentials": {ADMIN_KEY: {"account": ACCOUNT, "arn": ADMIN_ARN}},
        "accounts": [{
            "id": ACCOUNT,
            "roles": [{"name": r} for r in roles],
            "users": [{"name": "admin"}] + [{"name": u} for u in users],
        }],
        "faults": faults,
    }


def latency_faults(ms):
    return {"seed": 1, "rules": [{"operation": "*", "latency_ms": ms}]}


def rate_limited_faults(ms, rate, burst):
    rules = [{"operation": "*", "latency_ms": ms}]
    rules += [{"operation": op, "rate_limit": {"rate": float(rate), "burst": float(burst)}}
              for op in AWS_OPERATIONS]
    return {"seed": 1, "rules": rules}


def live_plan_seed(existing, rows, faults):
    """Scenario B: a cluster in API_AND_CONFIG_MAP with `existing` access
    entries (each with one policy; none made by EKS) and an aws-auth of `rows`
    admin roles that exist in IAM."""
    roles = [f"app-{i:04d}" for i in range(rows)]
    map_roles = "".join(
        f"- rolearn: arn:aws:iam::{ACCOUNT}:role/{r}\n  username: {r}\n  groups: [system:masters]\n"
        for r in roles)
    entries = [{
        "principal_arn": f"arn:aws:iam::{ACCOUNT}:role/existing-{i:04d}",
        "username": f"existing-{i:04d}",
        "kubernetes_groups": ["team-viewers"],
        "policies": [{"policy": "AmazonEKSViewPolicy",
                      "scope": {"type": "namespace", "namespaces": [f"team-{i % 7}"]}}],
    } for i in range(existing)]
    seed = _base(faults, roles)
    seed["clusters"] = [{
        "name": CLUSTER, "account": ACCOUNT, "region": REGION,
        "authentication_mode": "API_AND_CONFIG_MAP",
        "bootstrap_cluster_creator_admin_permissions": False,
        "skip_eks_managed_entries": True,
        "access_entries": entries,
        "aws_auth": {"mapRoles": map_roles},
    }]
    return seed


def apply_principals(n):
    """Scenario C/D: what migrating `n` principals must leave in EKS, one
    entry and one policy each: (principal ARN, username, policy ARN)."""
    return [(f"arn:aws:iam::{ACCOUNT}:role/team-admin-{i:04d}", f"team-admin-{i:04d}", CLUSTER_ADMIN)
            for i in range(n)]


def apply_seed(n, faults):
    """Scenario C/D: a cluster in API_AND_CONFIG_MAP whose creator (the
    caller) holds the EKS-made admin entry, and an aws-auth of `n`
    `system:masters` roles (each becomes one STANDARD entry with
    AmazonEKSClusterAdminPolicy at cluster scope, the row's username kept)."""
    principals = apply_principals(n)
    map_roles = "".join(
        f"- rolearn: {arn}\n  username: {user}\n  groups: [system:masters]\n"
        for arn, user, _ in principals)
    seed = _base(faults, [arn.rsplit("/", 1)[1] for arn, _, _ in principals])
    seed["clusters"] = [{
        "name": CLUSTER, "account": ACCOUNT, "region": REGION,
        "authentication_mode": "API_AND_CONFIG_MAP",
        "bootstrap_cluster_creator_admin_permissions": True,
        "creator_arn": ADMIN_ARN,
        "aws_auth": {"mapRoles": map_roles},
    }]
    return seed


def fleet_seed(clusters, rows, faults):
    """Scenario E: `clusters` clusters in API_AND_CONFIG_MAP of one account
    and region, each with an aws-auth of `rows` admin roles that exist in IAM
    (the shape of benches/batch.rs)."""
    roles = [f"app-{i:04d}" for i in range(rows)]
    map_roles = "".join(
        f"- rolearn: arn:aws:iam::{ACCOUNT}:role/{r}\n  username: {r}\n  groups: [system:masters]\n"
        for r in roles)
    seed = _base(faults, roles)
    seed["clusters"] = [{
        "name": f"{CLUSTER}-{c:03d}", "account": ACCOUNT, "region": REGION,
        "authentication_mode": "API_AND_CONFIG_MAP",
        "bootstrap_cluster_creator_admin_permissions": True,
        "creator_arn": ADMIN_ARN,
        "aws_auth": {"mapRoles": map_roles},
    } for c in range(clusters)]
    return seed


def fleet_file(clusters, kubeconfig):
    """The fleet file of `batch plan` for fleet_seed's clusters (JSON is YAML)."""
    return {"defaults": {"region": REGION, "kubeconfig": kubeconfig},
            "clusters": [{"name": f"{CLUSTER}-{c:03d}"} for c in range(clusters)]}
