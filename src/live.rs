//! Planning against a live cluster: gather what the cluster, EKS and IAM
//! say ([`gather`], all the I/O), then compute the plan from it ([`plan`],
//! pure). `apply` reuses both, and the clients of [`crate::aws`].

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::aws::{self, AwsOptions, Caller, Clients, ClusterFacts};
use crate::core::cluster::ClusterStatus;
use crate::core::diff::{self, sha256_hex, ExistingEntry, Fingerprint};
use crate::core::lockout;
use crate::core::plan::{ClusterRef, Plan};
use crate::core::planner::{self, SourceInfo};
use crate::core::resolve::{self, Lookup};
use crate::core::translate::Options;
use crate::files;
use crate::kube::{self, KubeTarget};

/// Default number of calls in flight at once (`unwrap` is evaluated at
/// compile time).
pub(crate) const DEFAULT_CONCURRENCY: NonZeroUsize = NonZeroUsize::new(8).unwrap();

/// The flags of a command that reads a live cluster, as given: on the
/// command line (`plan --cluster`, apply, verify, prune-configmap,
/// finalize), in an apply's run file, or in a fleet entry.
/// [`LiveOptions::from_flags`] checks them into the options.
#[derive(Debug, Clone)]
pub struct LiveFlags<'a> {
    pub cluster: &'a str,
    pub aws: AwsOptions,
    pub kube: KubeTarget,
    /// `--file`: read aws-auth from this file (or `-`) instead of the cluster.
    pub file: Option<&'a str>,
    pub concurrency: NonZeroUsize,
    /// `--iam-role-for ACCOUNT=ROLE_ARN` values, unparsed.
    pub iam_role_for: &'a [String],
    /// `--policy-map`, unread.
    pub policy_map: Option<&'a Path>,
    pub allow_lossy: bool,
    pub merge_existing: bool,
}

/// Everything a live plan is asked for.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub cluster: String,
    pub aws: AwsOptions,
    pub kube: KubeTarget,
    /// Read aws-auth from this file (or `-`) instead of the cluster.
    pub file: Option<String>,
    pub concurrency: NonZeroUsize,
    /// `--iam-role-for ACCOUNT=ROLE_ARN`: account → role to read its IAM.
    pub iam_roles: BTreeMap<String, String>,
    pub merge_existing: bool,
    /// Policy map and `--allow-lossy`; account and partition come from the
    /// cluster.
    pub translate: Options,
    /// Read RBAC with aws-auth (when aws-auth comes from the cluster), for
    /// the access analysis: set by `plan` and verify, off for everything
    /// else (four list calls nobody would read).
    pub read_rbac: bool,
}

impl LiveOptions {
    /// The one way live options are made: reads and checks the policy
    /// map, then parses `--iam-role-for` (errors in that order).
    pub fn from_flags(flags: LiveFlags<'_>) -> Result<LiveOptions> {
        let policy_map = files::policy_map(flags.policy_map)?;
        Ok(LiveOptions {
            cluster: flags.cluster.to_string(),
            aws: flags.aws,
            kube: flags.kube,
            file: flags.file.map(str::to_string),
            concurrency: flags.concurrency,
            iam_roles: parse_iam_roles(flags.iam_role_for)?,
            merge_existing: flags.merge_existing,
            translate: Options {
                // Both come from the cluster (see [`cluster_options`]).
                account: None,
                partition: None,
                allow_lossy: flags.allow_lossy,
                policy_map,
            },
            read_rbac: false,
        })
    }
}

/// aws-auth as the core reads it, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsAuthSource {
    /// The bytes handed to the core's input reader: the file, or the
    /// `ConfigMap` serialised as a JSON manifest.
    pub bytes: Vec<u8>,
    pub kind: String,
    pub path: Option<String>,
    /// SHA-256 of the content: the file's bytes, or the `ConfigMap`'s data
    /// (canonical JSON, without the resourceVersion).
    pub sha256: String,
    pub resource_version: Option<String>,
    /// The kubeconfig context read from, for a `ConfigMap`.
    pub context: Option<String>,
    /// When the kube connection could not be tied to the cluster (and that
    /// was allowed): a plan notice.
    pub context_notice: Option<String>,
}

/// What a live plan is computed from.
#[derive(Debug, Clone)]
pub struct LivePlanInputs {
    pub caller: Caller,
    pub cluster: ClusterFacts,
    pub aws_auth: AwsAuthSource,
    /// Sorted by principal ARN; empty in `CONFIG_MAP` mode.
    pub existing: Vec<ExistingEntry>,
    /// IAM's answer for each planned principal, keyed by its ARN as planned.
    pub iam: BTreeMap<String, Lookup>,
    /// RBAC, read with aws-auth from the cluster (None with `--file`).
    pub(crate) rbac: Option<RbacInput>,
}

use crate::core::access_report::RbacSource;

/// RBAC as read for the access analysis, and where it came from.
pub(crate) type RbacInput = (
    crate::core::rbac::model::Snapshot,
    crate::core::access_report::RbacSource,
);

/// As [`run`], and RBAC read from the cluster when `rbac` is set and
/// aws-auth comes from the cluster (the same Kubernetes connection).
pub(crate) async fn run_with_rbac(
    opts: &LiveOptions,
    rbac: bool,
) -> Result<(Plan, Option<RbacInput>)> {
    let opts = LiveOptions {
        read_rbac: rbac,
        ..opts.clone()
    };
    let clients = Clients::connect(&opts.aws, &opts.iam_roles).await?;
    let mut inputs = gather(&clients, &opts).await?;
    let plan = plan(&inputs, &opts.translate, opts.merge_existing)?;
    Ok((plan, inputs.rbac.take()))
}

/// Builds the clients and reads everything but RBAC: the live plan export
/// and apply work from.
pub(crate) async fn run(opts: &LiveOptions) -> Result<Plan> {
    Ok(run_with_rbac(opts, false).await?.0)
}

/// `DescribeCluster` and `GetCallerIdentity`, with the cluster checked: it
/// exists and its platform version supports access entries.
pub(crate) async fn cluster_and_caller(
    clients: &Clients,
    cluster: &str,
) -> Result<(ClusterFacts, Caller)> {
    let started = Instant::now();
    let (facts, caller) = tokio::join!(clients.eks.describe_cluster(cluster), clients.sts.caller());
    let facts = match (facts, &caller) {
        (Err(e), Ok(who)) => return Err(e.for_caller(&who.arn).into()),
        (facts, _) => facts?,
    };
    let caller = caller?;
    tracing::info!(
        cluster,
        caller = caller.arn,
        elapsed_ms = ms(started),
        "phase: cluster and caller (DescribeCluster, GetCallerIdentity)"
    );
    if let Err(why) = aws::eks::check_platform(&facts.name, &facts.version, &facts.platform_version)
    {
        bail!(why);
    }
    Ok((facts, caller))
}

/// Reads aws-auth from the file or the cluster, and RBAC through the same
/// connection when asked (`read_rbac`) and aws-auth comes from the cluster.
pub(crate) async fn read_aws_auth(
    clients: &Clients,
    opts: &LiveOptions,
    facts: &ClusterFacts,
) -> Result<(AwsAuthSource, Option<RbacInput>)> {
    if let Some(path) = &opts.file {
        let bytes = files::read_input(path)?;
        let (kind, shown) = if path == "-" {
            ("stdin", None)
        } else {
            ("file", Some(path.clone()))
        };
        return Ok((
            AwsAuthSource {
                sha256: sha256_hex(&bytes),
                bytes,
                kind: kind.into(),
                path: shown,
                // Read from the file by the core when it has one.
                resource_version: None,
                context: None,
                context_notice: None,
            },
            None,
        ));
    }
    let target = with_eks_access(clients, &opts.kube, facts).await?;
    let conn =
        kube::client_for(&target, &facts.name, &facts.arn, facts.endpoint.as_deref()).await?;
    let rbac_client = conn.client.clone();
    let read_rbac = async {
        if !opts.read_rbac {
            return Ok(None);
        }
        let snapshot = kube::rbac::read_rbac(&rbac_client).await?;
        let source = RbacSource {
            kind: "cluster".into(),
            path: None,
            roles: snapshot.roles.len(),
            bindings: snapshot.bindings.len(),
            incomplete: snapshot.incomplete.clone(),
            skipped: Vec::new(),
        };
        Ok::<_, anyhow::Error>(Some((snapshot, source)))
    };
    let (fetched, rbac) = tokio::join!(
        kube::get_aws_auth(conn.client, &facts.name, &conn.context),
        read_rbac
    );
    let fetched = fetched?;
    let rbac = rbac?;
    Ok((
        AwsAuthSource {
            bytes: fetched.manifest().into_bytes(),
            kind: "cluster".into(),
            path: Some("kube-system/aws-auth".into()),
            sha256: sha256_hex(fetched.content().as_bytes()),
            resource_version: fetched.resource_version.clone(),
            context: Some(conn.context),
            context_notice: conn.unmatched,
        },
        rbac,
    ))
}

/// Every access entry with its policies; none (and no call) in `CONFIG_MAP` mode.
pub(crate) async fn read_existing(
    clients: &Clients,
    facts: &ClusterFacts,
    concurrency: NonZeroUsize,
) -> Result<Vec<ExistingEntry>> {
    if !facts.has_access_entries() {
        return Ok(Vec::new());
    }
    Ok(clients
        .eks
        .existing_entries(&facts.name, concurrency)
        .await?)
}

/// The translation options for this cluster: its account and partition.
pub(crate) fn cluster_options(opts: &Options, facts: &ClusterFacts) -> Options {
    Options {
        account: Some(facts.account.clone()),
        partition: Some(facts.partition.clone()),
        ..opts.clone()
    }
}

/// All the I/O of a live plan. Calls: `DescribeCluster`, `GetCallerIdentity`,
/// one GET of aws-auth (unless `--file`) and, with `read_rbac`, the four
/// RBAC lists beside it (pages of 500), `ListAccessEntries` plus
/// `DescribeAccessEntry` and `ListAssociatedAccessPolicies` per existing entry
/// (not in `CONFIG_MAP` mode), and one GetRole/GetUser per principal of the
/// caller's (or an `--iam-role-for`) account, or one paged
/// ListRoles/ListUsers (1,000 a page) per account with more than 10 to
/// check. The IAM lookups overlap the reads of the existing entries.
pub(crate) async fn gather(clients: &Clients, opts: &LiveOptions) -> Result<LivePlanInputs> {
    let (cluster, caller) = cluster_and_caller(clients, &opts.cluster).await?;
    let concurrency = opts.concurrency;
    // Two independent chains run side by side: aws-auth then the IAM
    // lookups of its principals; the access entries then their details.
    let topts = cluster_options(&opts.translate, &cluster);
    let readers = clients.iam_readers(&caller.account);
    let from_aws_auth = async {
        let started = Instant::now();
        let (aws_auth, rbac) = read_aws_auth(clients, opts, &cluster).await?;
        tracing::info!(
            source = aws_auth.kind,
            rbac = rbac.is_some(),
            elapsed_ms = ms(started),
            "phase: aws-auth read"
        );
        let draft = core_plan(&aws_auth, &topts)?;
        let principals = resolve::principals(&draft.entries);
        let started = Instant::now();
        let iam = aws::iam::lookup_all(&readers, &principals, concurrency).await?;
        tracing::info!(
            principals = principals.len(),
            elapsed_ms = ms(started),
            "phase: IAM lookups"
        );
        Ok::<_, anyhow::Error>((aws_auth, iam, rbac))
    };
    let existing = async {
        let started = Instant::now();
        let existing = read_existing(clients, &cluster, concurrency).await;
        if let Ok(entries) = &existing {
            tracing::info!(
                entries = entries.len(),
                elapsed_ms = ms(started),
                "phase: access entries read"
            );
        }
        existing
    };
    let (from_aws_auth, existing) = tokio::join!(from_aws_auth, existing);
    let (aws_auth, iam, rbac) = from_aws_auth.map_err(|e| for_caller(e, &caller))?;
    let existing = existing.map_err(|e| for_caller(e, &caller))?;
    Ok(LivePlanInputs {
        caller,
        cluster,
        aws_auth,
        existing,
        iam,
        rbac,
    })
}

/// Milliseconds since `started`, for the phase timings of `-v`.
fn ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// An AWS error of an EKS call names the caller it refused
/// ([`aws::AwsError::for_caller`]); any other error is kept.
fn for_caller(err: anyhow::Error, caller: &Caller) -> anyhow::Error {
    match err.downcast::<aws::AwsError>() {
        Ok(aws) => aws.for_caller(&caller.arn).into(),
        Err(other) => other,
    }
}

fn core_plan(src: &AwsAuthSource, opts: &Options) -> Result<Plan> {
    let shown = match (&src.kind[..], &src.path, &src.context) {
        ("stdin", _, _) => "standard input".to_string(),
        ("cluster", _, Some(ctx)) => format!("aws-auth of context {ctx}"),
        (_, Some(p), _) => p.clone(),
        _ => "aws-auth".to_string(),
    };
    planner::plan_offline(
        &src.bytes,
        SourceInfo {
            kind: src.kind.clone(),
            path: src.path.clone(),
        },
        opts,
    )
    .with_context(|| shown)
}

/// The live plan, from what [`gather`] read. Pure: the same inputs give the
/// same plan, byte for byte once rendered.
pub(crate) fn plan(inputs: &LivePlanInputs, opts: &Options, merge_existing: bool) -> Result<Plan> {
    let facts = &inputs.cluster;
    let mut plan = core_plan(&inputs.aws_auth, &cluster_options(opts, facts))?;
    plan.source.sha256.clone_from(&inputs.aws_auth.sha256);
    if inputs.aws_auth.resource_version.is_some() {
        plan.source
            .resource_version
            .clone_from(&inputs.aws_auth.resource_version);
    }
    plan.cluster = ClusterRef {
        name: Some(facts.name.clone()),
        region: Some(facts.region.clone()),
        account: Some(facts.account.clone()),
        partition: facts.partition.clone(),
        account_source: "cluster".into(),
        authentication_mode: Some(facts.authentication_mode.clone()),
    };
    if let Some(notice) = &inputs.aws_auth.context_notice {
        plan.notices.push(notice.clone());
    }
    if let Some(status) = facts
        .status
        .as_ref()
        .filter(|s| **s != ClusterStatus::Active)
    {
        plan.notices
            .push(format!("the cluster's status is {status}, not ACTIVE"));
    }
    if !facts.has_access_entries() {
        plan.notices.push(
            "the cluster is in CONFIG_MAP mode: no access entries exist yet; switching to API_AND_CONFIG_MAP makes EKS create entries for managed node group and Fargate roles (and the cluster creator) itself".into(),
        );
    }

    resolve::apply(&mut plan.entries, &mut plan.mappings, &inputs.iam);
    diff::diff(&mut plan.entries, &inputs.existing, merge_existing);
    let node_rows = lockout::node_rows(&plan.entries, &plan.mappings);
    plan.lockout = Some(lockout::analyse(
        Some(inputs.caller.arn.as_str()).filter(|a| !a.is_empty()),
        &plan.entries,
        &inputs.existing,
        &node_rows,
    ));
    plan.fingerprint = Some(Fingerprint::compute(
        &plan.source.sha256,
        plan.source.resource_version.as_deref(),
        &facts.authentication_mode,
        &inputs.existing,
    ));
    plan.existing = Some(inputs.existing.clone());
    plan.summarize();
    Ok(plan)
}

/// Parses `--iam-role-for ACCOUNT=ROLE_ARN` values.
fn parse_iam_roles(values: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for v in values {
        let Some((account, role)) = v.split_once('=') else {
            bail!("--iam-role-for {v:?}: expected ACCOUNT=ROLE_ARN");
        };
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            bail!("--iam-role-for {v:?}: {account:?} is not a 12-digit AWS account ID");
        }
        match crate::core::arn::classify(role) {
            crate::core::arn::ArnClass::Principal(p)
                if p.kind == crate::core::arn::PrincipalKind::Role =>
            {
                if p.account != account {
                    bail!("--iam-role-for {v:?}: the role is in account {}, not {account}: a role of the account itself is needed to read its IAM", p.account);
                }
            }
            _ => bail!("--iam-role-for {v:?}: {role:?} is not an IAM role ARN"),
        }
        if out.insert(account.to_string(), role.to_string()).is_some() {
            bail!("--iam-role-for names account {account} twice");
        }
    }
    Ok(out)
}

/// Where the kubeconfig flags point, and whether a context that cannot be
/// tied to the cluster may be used (see [`kube::Unverified`]).
pub(crate) fn kube_target(
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    unverified: kube::Unverified,
    auth: kube::KubeAuth,
) -> KubeTarget {
    KubeTarget {
        kubeconfig,
        context,
        unverified,
        auth,
        eks_access: None,
    }
}

/// `target`, with the endpoint, CA and a fresh EKS token of the cluster
/// when it reaches the cluster that way ([`kube::uses_eks_token`]): the
/// token from the credentials (and assumed role) of the EKS calls.
pub(crate) async fn with_eks_access(
    clients: &Clients,
    target: &KubeTarget,
    facts: &ClusterFacts,
) -> Result<KubeTarget> {
    let endpoint = facts.endpoint.as_deref();
    if !kube::uses_eks_token(target, &facts.arn, endpoint) {
        return Ok(target.clone());
    }
    let Some(endpoint) = endpoint else {
        // Said by kube::client_for, which knows the flag.
        return Ok(target.clone());
    };
    let token = clients.eks_token(&facts.name).await?;
    tracing::info!(
        cluster = facts.name,
        endpoint,
        "Kubernetes API through the EKS token (no kubeconfig context)"
    );
    Ok(KubeTarget {
        eks_access: Some(Box::new(kube::EksAccess {
            endpoint: endpoint.to_string(),
            certificate_authority: facts.certificate_authority.clone(),
            token,
        })),
        ..target.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_role_flags() {
        let ok = parse_iam_roles(&["444455556666=arn:aws:iam::444455556666:role/reader".into()])
            .unwrap();
        assert_eq!(ok["444455556666"], "arn:aws:iam::444455556666:role/reader");
        assert!(parse_iam_roles(&["444455556666".into()]).is_err());
        assert!(parse_iam_roles(&["4444=arn:aws:iam::444455556666:role/r".into()]).is_err());
        assert!(
            parse_iam_roles(&["444455556666=arn:aws:iam::111122223333:role/r".into()]).is_err()
        );
        assert!(
            parse_iam_roles(&["444455556666=arn:aws:iam::444455556666:user/r".into()]).is_err()
        );
    }
}
