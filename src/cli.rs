//! The command-line flags, as clap parses them. Commands validate them into
//! their own option types before doing anything.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::live::{LiveFlags, DEFAULT_CONCURRENCY};

#[derive(Debug, Parser)]
#[command(
    name = "aws-auth-migrate",
    version,
    about = "Move Amazon EKS clusters off the aws-auth ConfigMap onto EKS access entries",
    long_about = None
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Where journals, backups and locks live (default:
    /// $AWS_AUTH_MIGRATE_STATE_DIR, else $XDG_STATE_HOME/aws-auth-migrate,
    /// else ~/.local/state/aws-auth-migrate). On an ephemeral CI runner, a
    /// directory that outlives the job (a shared volume, a cache).
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Where journals, saved batch plans, fleet report parts and locks
    /// live: a directory (as --state-dir), or s3://BUCKET/PREFIX, shared by
    /// every runner and every later run (docs/state.md). S3 uses the
    /// standard AWS credential chain and AWS_ENDPOINT_URL_S3; the bucket's
    /// region is ?region=REGION, else AWS_REGION.
    #[arg(
        long,
        global = true,
        value_name = "DIR|s3://BUCKET/PREFIX",
        env = "AWS_AUTH_MIGRATE_STATE",
        conflicts_with = "state_dir"
    )]
    pub state: Option<String>,

    /// Break the S3 state's locks held by the run with this id (a killed or
    /// vanished run: the lock error names it), then go on. Never needed
    /// for a local state, whose locks are taken over once their process is
    /// gone.
    #[arg(long, global = true, value_name = "ID")]
    pub force_unlock: Option<String>,

    /// Log what the tool does on stderr: -v the calls, retries, pacing and
    /// timings; -vv every AWS and Kubernetes request too. RUST_LOG, when
    /// set, overrides.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Log everything on stderr, the AWS SDK's and the Kubernetes client's
    /// own logs included (never credentials, tokens or signatures).
    #[arg(long, global = true)]
    pub debug: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Plan the access entries that carry over aws-auth, and show the plan.
    Plan(PlanArgs),
    /// Create the planned access entries and policy associations,
    /// journaling every change (a plan made now, a saved plan, or --resume).
    Apply(ApplyArgs),
    /// Undo the changes an apply recorded in its journal.
    Rollback(RollbackArgs),
    /// Check that every aws-auth row's access is carried by an access entry
    /// (exit 0 at parity, 2 when gaps remain).
    Verify(VerifyArgs),
    /// Remove from aws-auth the rows verify proves migrated, keeping the
    /// rest byte for byte (journaled; undone by rollback).
    PruneConfigmap(PruneArgs),
    /// Switch the cluster to API mode once nothing would be lost; with
    /// --delete-configmap, back up and delete aws-auth (journaled).
    Finalize(FinalizeArgs),
    /// Plan, apply, verify, finalize or roll back many clusters at once,
    /// from a fleet file (docs/batch.md).
    #[command(subcommand)]
    Batch(BatchCommand),
    /// Write the migration's target state as infrastructure code:
    /// Terraform, the terraform-aws-eks module's `access_entries`,
    /// CloudFormation or eksctl (entries that exist become imports).
    Export(ExportArgs),
    /// Print a shell completion script (bash, zsh, fish or powershell) on
    /// standard output.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on standard output; with --all DIR, write
    /// one page per command and subcommand into DIR instead.
    Man(ManArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum BatchCommand {
    /// Plan every cluster; save each plan in --out-dir (exit 2: changes
    /// planned, as plan --detailed-exitcode).
    Plan(BatchPlanArgs),
    /// Apply the saved plans of a batch plan run (--plans DIR), plans made
    /// now (--yes), or resume the applies of --out-dir (--resume).
    Apply(BatchApplyArgs),
    /// Verify every cluster (exit 2: gaps remain somewhere, as verify).
    Verify(BatchVerifyArgs),
    /// Finalize every cluster (switch to API mode; irreversible).
    Finalize(BatchFinalizeArgs),
    /// Roll back every apply recorded in --out-dir.
    Rollback(BatchRollbackArgs),
    /// Merge the fleet report parts of the shards of a run (--merge) into
    /// one fleet report (exit 2: a shard is missing).
    Report(BatchReportArgs),
}

/// Flags every batch command takes.
#[derive(Debug, Args)]
pub(crate) struct BatchCommon {
    /// The fleet file (YAML: defaults and clusters).
    #[arg(long, value_name = "FILE")]
    pub fleet: Option<PathBuf>,

    /// Folder for the plans, journals, manifest and reports of the run.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Only these clusters: a name glob or LABEL=VALUE; comma-separated
    /// terms must all match; repeat the flag for alternatives.
    #[arg(long, value_name = "SELECTOR")]
    pub select: Vec<String>,

    /// Clusters worked on at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: u16,

    /// Start no further cluster once one fails.
    #[arg(long)]
    pub fail_fast: bool,

    /// The fleet report's format on standard output (default: table).
    #[arg(long, value_enum)]
    pub output: Option<Format>,

    /// The older spelling of the report's format, kept hidden for one
    /// release; with it, --output keeps its older meaning (the progress:
    /// text or json), so that `--format json --output json` still works.
    #[arg(long, value_enum, hide = true)]
    pub format: Option<Format>,

    /// Progress on standard error: bars on a terminal (JSON lines
    /// otherwise), or always JSON lines.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,

    /// The fleet's id in its report parts (default: the fleet file's name
    /// and a hash of its cluster list; docs/batch.md, "Shards").
    #[arg(long, value_name = "ID")]
    pub fleet_id: Option<String>,
}

/// `--shard I/N` and `--shard-by` of batch plan, apply, verify, finalize.
#[derive(Debug, Default, Args)]
pub(crate) struct BatchShardArgs {
    /// Work on part I of N of the selected clusters (1-based: 1/3, 2/3,
    /// 3/3); each part's report is kept for batch report --merge.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// What one shard keeps together: each cluster on its own (a hash of
    /// account/region/name), or all the clusters of an account.
    #[arg(long, value_enum, default_value_t = ShardByArg::Cluster)]
    pub shard_by: ShardByArg,
}

/// `batch --shard-by`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShardByArg {
    /// A hash of each cluster's account/region/name.
    #[default]
    Cluster,
    /// A hash of the account: one account's clusters in one shard.
    Account,
}

/// The batch command whose parts `batch report --merge` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BatchCommandName {
    Plan,
    Apply,
    Verify,
    Finalize,
    Rollback,
}

#[derive(Debug, Args)]
pub(crate) struct BatchReportArgs {
    /// Merge the parts (required: the one thing batch report does).
    #[arg(long)]
    pub merge: bool,

    /// The fleet file whose parts to merge, from the state folder (its
    /// fleet id: the file's name and a hash of its cluster list).
    #[arg(long, value_name = "FILE", conflicts_with = "fleet_id")]
    pub fleet: Option<PathBuf>,

    /// The fleet id whose parts to merge, from the state folder.
    #[arg(long, value_name = "ID")]
    pub fleet_id: Option<String>,

    /// Which run's parts: plan, apply, verify, finalize or rollback.
    #[arg(long = "command", value_enum, value_name = "COMMAND")]
    pub batch_command: Option<BatchCommandName>,

    /// Read every shard-I-of-N.json of this folder instead.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["fleet", "fleet_id"])]
    pub from: Option<PathBuf>,

    /// Part files to merge (shard-I-of-N.json), instead.
    #[arg(value_name = "PART", conflicts_with_all = ["fleet", "fleet_id"])]
    pub parts: Vec<PathBuf>,

    /// The merged report's format on standard output (default: table).
    #[arg(long, value_enum)]
    pub output: Option<Format>,
}

impl BatchCommon {
    /// The report's format and the progress asked for: `--output` and
    /// `--progress`, or the older `--format F [--output text|json]`.
    pub(crate) fn report_and_progress(&self) -> anyhow::Result<(Format, ProgressArg)> {
        let Some(format) = self.format else {
            return Ok((self.output.unwrap_or(Format::Table), self.progress));
        };
        let progress = match self.output {
            None | Some(Format::Table) => self.progress,
            Some(Format::Json) => ProgressArg::Json,
            Some(Format::Markdown) => anyhow::bail!(
                "--format is the older spelling of --output: give the report's format once (--output {}), and the progress with --progress",
                format.name()
            ),
        };
        Ok((format, progress))
    }
}

/// `batch --progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProgressArg {
    /// Bars on a terminal, JSON lines otherwise.
    Auto,
    /// Always JSON lines.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct BatchPlanArgs {
    #[command(flatten)]
    pub common: BatchCommon,

    #[command(flatten)]
    pub shard: BatchShardArgs,

    /// Accepted for symmetry with plan: batch plan always exits 2 when
    /// changes are planned (0 when none, 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BatchApplyArgs {
    #[command(flatten)]
    pub common: BatchCommon,

    #[command(flatten)]
    pub shard: BatchShardArgs,

    /// Apply the saved plans of this batch plan folder (refused per
    /// cluster if stale); journals go to --out-dir (default: this folder).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["resume", "fleet"])]
    pub plans: Option<PathBuf>,

    /// Resume the interrupted applies recorded in --out-dir.
    #[arg(long)]
    pub resume: bool,

    /// Apply plans made now, unreviewed (needed without --plans or --resume).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BatchVerifyArgs {
    #[command(flatten)]
    pub common: BatchCommon,

    #[command(flatten)]
    pub shard: BatchShardArgs,

    /// Accepted for symmetry with plan: batch verify always exits 2 while
    /// gaps remain (0 at parity, 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BatchFinalizeArgs {
    #[command(flatten)]
    pub common: BatchCommon,

    #[command(flatten)]
    pub shard: BatchShardArgs,

    /// After the switch, back aws-auth up into the journal and delete it.
    #[arg(long)]
    pub delete_configmap: bool,

    /// Confirm the irreversible switch of every selected cluster.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Seconds to wait for each mode update.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub timeout: u64,

    /// Do not list managed node groups and Fargate profiles.
    #[arg(long)]
    pub skip_compute_check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BatchRollbackArgs {
    #[command(flatten)]
    pub common: BatchCommon,

    /// Undo even what someone changed since the apply, and roll back a
    /// cluster in API mode (which takes the migrated access away).
    #[arg(long)]
    pub force: bool,

    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// How to reach AWS and the cluster's Kubernetes API.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct Connection {
    /// AWS region of the cluster (default: `AWS_REGION` or the profile's).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// AWS profile (default: `AWS_PROFILE`, else the default chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Assume this role for every AWS call.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,

    /// Kubeconfig for aws-auth (default: KUBECONFIG or ~/.kube/config; with
    /// neither, an EKS token (--kube-auth auto), or the in-cluster service
    /// account with --kube-auth kubeconfig).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig context (default: the one the kubeconfig ties to the
    /// cluster: named by its ARN, or whose cluster entry is named by its ARN
    /// or points at its endpoint). A context of another cluster is refused;
    /// one that cannot be tied either way (a proxy, a tunnel) is used with a
    /// notice for reads, and needs --allow-unverified-context for changes.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// DANGEROUS: let commands that change the cluster use a --context (or
    /// the in-cluster service account) that cannot be tied to the cluster
    /// by its endpoint or ARN (a proxy, a tunnel). If it is another
    /// cluster, that cluster's aws-auth is migrated.
    #[arg(long)]
    pub allow_unverified_context: bool,

    /// How to reach the cluster's Kubernetes API: `kubeconfig`; `eks-token`
    /// (no kubeconfig: the endpoint and CA of DescribeCluster and a token
    /// minted as `aws eks get-token` does, from the same AWS credentials);
    /// `auto`: the kubeconfig when one of its contexts is the cluster's (or
    /// --context is given), else the EKS token. A current context of
    /// another cluster is still refused.
    #[arg(long, value_name = "HOW", value_enum, default_value_t = KubeAuthFlag::Auto)]
    pub kube_auth: KubeAuthFlag,
}

/// `--kube-auth`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum KubeAuthFlag {
    #[default]
    Auto,
    Kubeconfig,
    EksToken,
}

impl From<KubeAuthFlag> for crate::kube::KubeAuth {
    fn from(f: KubeAuthFlag) -> Self {
        match f {
            KubeAuthFlag::Auto => crate::kube::KubeAuth::Auto,
            KubeAuthFlag::Kubeconfig => crate::kube::KubeAuth::Kubeconfig,
            KubeAuthFlag::EksToken => crate::kube::KubeAuth::EksToken,
        }
    }
}

impl Connection {
    pub(crate) fn aws(&self) -> crate::aws::AwsOptions {
        crate::aws::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            role_arn: self.role_arn.clone(),
        }
    }

    /// The kube target; `changes_cluster`: whether the command writes
    /// (then an unverifiable context needs --allow-unverified-context).
    pub(crate) fn kube(&self, changes_cluster: bool) -> crate::kube::KubeTarget {
        crate::live::kube_target(
            self.kubeconfig.clone(),
            self.context.clone(),
            crate::kube::Unverified::from_flag(self.allow_unverified_context, changes_cluster),
            self.kube_auth.into(),
        )
    }

    /// The first flag given, for commands that need a cluster to use it.
    pub(crate) fn any_given(&self) -> Option<&'static str> {
        [
            (self.region.is_some(), "--region"),
            (self.profile.is_some(), "--profile"),
            (self.role_arn.is_some(), "--role-arn"),
            (self.kubeconfig.is_some(), "--kubeconfig"),
            (self.context.is_some(), "--context"),
            (self.allow_unverified_context, "--allow-unverified-context"),
            (self.kube_auth != KubeAuthFlag::Auto, "--kube-auth"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// A connection, plus how to read a cluster's state.
#[derive(Debug, Clone, Args)]
pub(crate) struct ClusterAccess {
    #[command(flatten)]
    pub conn: Connection,

    /// AWS calls in flight at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY, value_parser = concurrency_parser())]
    pub concurrency: NonZeroUsize,

    /// Read account ACCOUNT's IAM through this role, to check its principals
    /// (repeatable); principals of other accounts than the caller's are
    /// otherwise left unverified.
    #[arg(long, value_name = "ACCOUNT=ROLE_ARN")]
    pub iam_role_for: Vec<String>,
}

/// `--concurrency`: 1 to 64 (0 and 65 are refused with clap's range
/// error), as a `NonZeroUsize`.
fn concurrency_parser() -> impl TypedValueParser<Value = NonZeroUsize> {
    clap::value_parser!(u16)
        .range(1..=64)
        .try_map(|n| NonZeroUsize::try_from(usize::from(n)))
}

impl ClusterAccess {
    pub(crate) fn concurrency(&self) -> NonZeroUsize {
        self.concurrency
    }

    /// The live flags these give for `cluster`, with the command's
    /// `--policy-map`; `changes_cluster`: whether the command writes (see
    /// [`Connection::kube`]). No `--file`, `--allow-lossy` or
    /// `--merge-existing`: a command that has them sets them.
    pub(crate) fn live_flags<'a>(
        &'a self,
        cluster: &'a str,
        changes_cluster: bool,
        policy_map: Option<&'a Path>,
    ) -> LiveFlags<'a> {
        LiveFlags {
            cluster,
            aws: self.conn.aws(),
            kube: self.conn.kube(changes_cluster),
            file: None,
            concurrency: self.concurrency,
            iam_role_for: &self.iam_role_for,
            policy_map,
            allow_lossy: false,
            merge_existing: false,
        }
    }
}

/// `--output` of the commands that change a cluster (apply, rollback,
/// prune-configmap, finalize).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// For people: progress as it happens (a bar on a terminal), then a
    /// summary (`text` is the older name).
    #[value(alias = "text")]
    Table,
    /// For programs, on standard output: apply and rollback write one JSON
    /// object per line (each step, then the summary); prune-configmap and
    /// finalize write their report as one JSON document (progress goes to
    /// standard error).
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// A plan saved by `plan --cluster NAME --out FILE`: executed without
    /// asking (the saved plan is the approval), if the cluster still
    /// matches it.
    #[arg(long = "plan", value_name = "FILE", conflicts_with_all = ["cluster", "resume", "plan_file"])]
    pub plan: Option<PathBuf>,

    /// The saved plan as a positional argument (the older spelling of
    /// --plan FILE, still accepted).
    #[arg(value_name = "PLAN_FILE", hide = true, conflicts_with_all = ["cluster", "resume"])]
    pub plan_file: Option<PathBuf>,

    /// Finish an interrupted apply recorded in this journal.
    #[arg(long, value_name = "JOURNAL", conflicts_with = "cluster")]
    pub resume: Option<PathBuf>,

    /// Plan against this cluster now, show the plan, ask, and apply it.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    /// Read aws-auth from a file instead of the cluster.
    #[arg(long, short = 'f', value_name = "PATH")]
    pub file: Option<String>,

    /// YAML file saying what each group becomes (see plan --policy-map).
    #[arg(long, value_name = "FILE")]
    pub policy_map: Option<PathBuf>,

    /// Apply lossy entries too.
    #[arg(long)]
    pub allow_lossy: bool,

    /// Add what existing entries lack instead of reporting a conflict.
    #[arg(long)]
    pub merge_existing: bool,

    /// Switch a `CONFIG_MAP` cluster to `API_AND_CONFIG_MAP` first. Irreversible.
    #[arg(long)]
    pub enable_access_entries: bool,

    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Where to write the journal (default: printed at start and end, under
    /// $XDG_STATE_HOME/aws-auth-migrate/ or ~/.local/state/aws-auth-migrate/).
    /// Not with --resume, which continues the journal it names.
    #[arg(long, value_name = "PATH", conflicts_with = "resume")]
    pub journal: Option<PathBuf>,

    /// How to report progress and the summary.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    #[command(flatten)]
    pub access: ClusterAccess,
}

impl ApplyArgs {
    /// The saved plan: `--plan FILE`, or the positional `PLAN_FILE`.
    pub(crate) fn saved_plan(&self) -> Option<&Path> {
        self.plan.as_deref().or(self.plan_file.as_deref())
    }
}

#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    /// The journal of the apply to undo.
    #[arg(value_name = "JOURNAL", required_unless_present = "migration_id")]
    pub journal: Option<PathBuf>,

    /// Without the journal: delete the entries tagged with this migration id.
    #[arg(
        long,
        value_name = "ID",
        requires = "cluster",
        conflicts_with = "journal"
    )]
    pub migration_id: Option<String>,

    /// The cluster, with --migration-id.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    /// Undo even what someone changed since the apply, and roll back a
    /// cluster in API mode (which takes the migrated access away).
    #[arg(long)]
    pub force: bool,

    /// Where to write the rollback's own journal (default: beside the
    /// journal undone, `<journal>.rollback.jsonl`).
    #[arg(long = "journal", value_name = "PATH")]
    pub rollback_journal: Option<PathBuf>,

    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// How to report progress and the summary.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    /// AWS and Kubernetes access (the region defaults to the journal's;
    /// the kubeconfig restores aws-auth for prune-configmap and finalize journals).
    #[command(flatten)]
    pub conn: Connection,
}

/// `--output` of the commands that print a report (plan, verify, batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A table for the terminal (`text` is accepted for it).
    #[value(alias = "text")]
    Table,
    /// JSON (docs/plan-format.md for the plan).
    Json,
    /// Markdown, for a pull request.
    Markdown,
}

impl Format {
    /// The value's name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Markdown => "markdown",
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// Read aws-auth from a file (`-` for standard input): a `ConfigMap`
    /// manifest in YAML or JSON, a List holding it, or a bare data: block.
    #[arg(long, short = 'f', value_name = "PATH")]
    pub file: Option<String>,

    /// The plan's format on standard output (`--format` is the older
    /// spelling, kept hidden for one release).
    #[arg(long, alias = "format", value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// Also save the plan as JSON to this file (mode 0600): a saved plan,
    /// for apply --plan and export --plan.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// YAML file saying what each group becomes: policies, keep, rename.
    #[arg(long, value_name = "FILE")]
    pub policy_map: Option<PathBuf>,

    /// Exit 0 when there is nothing to do, 2 when changes are planned, 1 on
    /// error (without it: 0 whether or not changes are planned).
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// The cluster's AWS account (offline; default: inferred from the ARNs).
    #[arg(long, value_name = "ID", conflicts_with = "cluster")]
    pub account: Option<String>,

    /// The cluster's partition (offline; default: inferred from the ARNs).
    #[arg(long, value_name = "PARTITION", conflicts_with = "cluster")]
    pub partition: Option<String>,

    /// Plan against this EKS cluster: read aws-auth (unless --file), the
    /// access entries and IAM, and diff.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    /// AWS and Kubernetes access, with --cluster.
    #[command(flatten)]
    pub access: ClusterAccess,

    /// Where an access entry exists and lacks groups or policies of the row,
    /// plan an additive update instead of a conflict.
    #[arg(long, requires = "cluster")]
    pub merge_existing: bool,

    /// Include lossy entries in what would be applied.
    #[arg(long)]
    pub allow_lossy: bool,

    /// Compare each principal's rights before and after against this RBAC:
    /// the output of `kubectl get clusterroles,clusterrolebindings,roles,rolebindings
    /// -A -o yaml` (a List, or many documents). With --cluster, instead of
    /// reading RBAC from the cluster.
    #[arg(long, value_name = "FILE")]
    pub rbac: Option<String>,

    /// Print this principal's rights before and after, side by side,
    /// instead of the plan (needs RBAC: --rbac or --cluster).
    #[arg(long, value_name = "ARN")]
    pub explain: Option<String>,

    /// Write a policy map (mode 0600) giving groups the access policy that
    /// grants what their RBAC bindings do, to review and pass back with
    /// --policy-map (needs RBAC: --rbac or --cluster).
    #[arg(long, value_name = "FILE")]
    pub suggest_policies: Option<PathBuf>,
}

/// The cluster flags of verify, prune-configmap and finalize (as `plan --cluster`).
#[derive(Debug, Args)]
pub(crate) struct FinishClusterArgs {
    /// The EKS cluster.
    #[arg(long, value_name = "NAME")]
    pub cluster: String,

    #[command(flatten)]
    pub access: ClusterAccess,

    /// The policy map the entries were planned with.
    #[arg(long, value_name = "FILE")]
    pub policy_map: Option<PathBuf>,

    /// Rows whose access may be lost, by id (`mapRoles#3`, `mapAccounts#1`;
    /// comma-separated or repeated): each must be a gap or lossy row.
    #[arg(long, value_name = "ROW,...")]
    pub accept_gaps: Vec<String>,

    /// Principals (by ARN; comma-separated or repeated) whose rights through
    /// their access entry may be less than aws-auth gave them, or not shown
    /// equal: each must be one that `loses` or is `unproven`.
    #[arg(long, value_name = "ARN,...", value_delimiter = ',')]
    pub accept_access_loss: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    pub cluster: FinishClusterArgs,

    /// The report's format on standard output (`--format` is the older
    /// spelling, kept hidden for one release).
    #[arg(long, alias = "format", value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// Also save the report as JSON to this file (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Accepted for symmetry with plan: verify always behaves as with
    /// --detailed-exitcode (0 at parity, 2 while gaps remain, 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PruneArgs {
    #[command(flatten)]
    pub cluster: FinishClusterArgs,

    /// Show what would be removed, change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Write the journal here (default: the state directory).
    #[arg(long, value_name = "PATH", conflicts_with = "resume")]
    pub journal: Option<PathBuf>,

    /// Continue an interrupted prune-configmap journal.
    #[arg(long, value_name = "JOURNAL")]
    pub resume: Option<PathBuf>,

    /// The report: lines for people, or one JSON document on standard
    /// output (progress then goes to standard error).
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct FinalizeArgs {
    #[command(flatten)]
    pub cluster: FinishClusterArgs,

    /// After the switch, back aws-auth up into the journal and delete it.
    #[arg(long)]
    pub delete_configmap: bool,

    /// Do not ask for confirmation (required without a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Write the journal here (default: the state directory).
    #[arg(long, value_name = "PATH", conflicts_with = "resume")]
    pub journal: Option<PathBuf>,

    /// Continue an interrupted finalize journal.
    #[arg(long, value_name = "JOURNAL")]
    pub resume: Option<PathBuf>,

    /// Seconds to wait for the mode update.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub timeout: u64,

    /// Do not list managed node groups and Fargate profiles to check their
    /// roles (when the caller may not; aws-auth's node rows are still checked).
    #[arg(long)]
    pub skip_compute_check: bool,

    /// The report: lines for people, or one JSON document on standard
    /// output (progress then goes to standard error).
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

/// The infrastructure-code formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormatArg {
    /// `aws_eks_access_entry` and `aws_eks_access_policy_association`
    /// resources, with `import {}` blocks for what exists.
    Terraform,
    /// The `access_entries` input of terraform-aws-eks (v20+), with
    /// `import {}` blocks for the module's addresses.
    TerraformModule,
    /// `AWS::EKS::AccessEntry` resources, and the identifiers of those to import.
    #[value(name = "cloudformation")]
    CloudFormation,
    /// An eksctl `ClusterConfig` with `accessConfig.accessEntries`.
    Eksctl,
}

impl ExportFormatArg {
    /// `--format`'s value, or a one-line error naming the formats.
    pub(crate) fn parse(value: &str) -> anyhow::Result<ExportFormatArg> {
        ExportFormatArg::from_str(value, false).map_err(|_| {
            let names: Vec<String> = ExportFormatArg::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value)
                .map(|v| v.get_name().to_string())
                .collect();
            anyhow::anyhow!("--format {value:?} is not one of {}", names.join(", "))
        })
    }

    pub(crate) fn format(self) -> crate::core::export::ExportFormat {
        use crate::core::export::ExportFormat;
        match self {
            ExportFormatArg::Terraform => ExportFormat::Terraform,
            ExportFormatArg::TerraformModule => ExportFormat::TerraformModule,
            ExportFormatArg::CloudFormation => ExportFormat::CloudFormation,
            ExportFormatArg::Eksctl => ExportFormat::Eksctl,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The format to write: terraform, terraform-module, cloudformation or
    /// eksctl (docs/iac-export.md). Checked by the command, so that an
    /// unknown one is a one-line error.
    #[arg(long, value_name = "FORMAT")]
    pub format: String,

    /// Export a plan saved by `plan --out FILE` (its digest is checked; a
    /// live plan is checked against the cluster, and a stale one exported
    /// with a warning).
    #[arg(long = "plan", value_name = "FILE", conflicts_with_all = [
        "file", "cluster", "policy_map", "allow_lossy", "merge_existing", "account", "partition",
    ])]
    pub plan_file: Option<PathBuf>,

    /// Write here instead of standard output: the file, when the format
    /// gives one file (or into it, when it is a directory); the directory
    /// (created) when it gives several. Files are written with mode 0600.
    #[arg(long, value_name = "FILE|DIR")]
    pub out: Option<PathBuf>,

    /// Read aws-auth from a file (`-` for standard input), as plan --file.
    #[arg(long, short = 'f', value_name = "PATH")]
    pub file: Option<String>,

    /// YAML file saying what each group becomes (see plan --policy-map).
    #[arg(long, value_name = "FILE")]
    pub policy_map: Option<PathBuf>,

    /// The cluster's AWS account (offline; default: inferred from the ARNs).
    #[arg(long, value_name = "ID", conflicts_with = "cluster")]
    pub account: Option<String>,

    /// The cluster's partition (offline; default: inferred from the ARNs).
    #[arg(long, value_name = "PARTITION", conflicts_with = "cluster")]
    pub partition: Option<String>,

    /// Plan against this EKS cluster now (as plan --cluster): the entries
    /// that exist and match are exported as imports.
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    /// AWS and Kubernetes access, with --cluster or a live --plan.
    #[command(flatten)]
    pub access: ClusterAccess,

    /// Where an access entry exists and lacks groups or policies of the row,
    /// export the merged entry instead of leaving it out as a conflict.
    #[arg(long, requires = "cluster")]
    pub merge_existing: bool,

    /// Export lossy entries too.
    #[arg(long)]
    pub allow_lossy: bool,
}

impl ExportArgs {
    /// The `plan` flags these give, to plan exactly as `plan` does.
    pub(crate) fn plan_args(&self) -> PlanArgs {
        PlanArgs {
            file: self.file.clone(),
            output: Format::Json,
            out: None,
            policy_map: self.policy_map.clone(),
            detailed_exitcode: false,
            account: self.account.clone(),
            partition: self.partition.clone(),
            cluster: self.cluster.clone(),
            access: self.access.clone(),
            merge_existing: self.merge_existing,
            allow_lossy: self.allow_lossy,
            rbac: None,
            explain: None,
            suggest_policies: None,
        }
    }
}

/// The shells `completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShellArg {
    Bash,
    Zsh,
    Fish,
    #[value(name = "powershell")]
    PowerShell,
}

impl ShellArg {
    /// The shell's name, or a one-line error naming the shells.
    pub(crate) fn parse(value: &str) -> anyhow::Result<ShellArg> {
        ShellArg::from_str(value, false).map_err(|_| {
            let names: Vec<String> = ShellArg::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value)
                .map(|v| v.get_name().to_string())
                .collect();
            anyhow::anyhow!("shell {value:?} is not one of {}", names.join(", "))
        })
    }
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write one page per command into this folder (created):
    /// aws-auth-migrate.1, aws-auth-migrate-plan.1,
    /// aws-auth-migrate-batch-plan.1...
    #[arg(long, value_name = "DIR")]
    pub all: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish or powershell. Checked by the command,
    /// so that an unknown one is a one-line error.
    #[arg(value_name = "SHELL")]
    pub shell: String,
}
