//! The fleet file (docs/batch.md): defaults, then clusters, each resolved
//! into a [`ClusterSpec`]; and `--select`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::apply::ApplyInputs;
use crate::kube::KubeAuth;

/// Settings every cluster inherits unless it says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Defaults {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    /// `auto`, `kubeconfig` or `eks-token` (`--kube-auth`).
    pub kube_auth: Option<KubeAuth>,
    pub policy_map: Option<PathBuf>,
    pub allow_lossy: Option<bool>,
    pub merge_existing: Option<bool>,
    pub enable_access_entries: Option<bool>,
    /// AWS calls (plan) or principals (apply) in flight at once, per cluster.
    pub concurrency: Option<usize>,
    #[serde(default)]
    pub iam_role_for: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// Per-cluster values of the settings that are otherwise fleet-wide.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Overrides {
    pub allow_lossy: Option<bool>,
    pub merge_existing: Option<bool>,
    pub enable_access_entries: Option<bool>,
    pub concurrency: Option<usize>,
    pub iam_role_for: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FleetCluster {
    pub name: String,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub context: Option<String>,
    /// Dangerous: apply and finalize through a `context` that cannot be
    /// tied to the cluster (`--allow-unverified-context`).
    #[serde(default)]
    pub allow_unverified_context: bool,
    pub kubeconfig: Option<PathBuf>,
    /// `auto`, `kubeconfig` or `eks-token` (`--kube-auth`).
    pub kube_auth: Option<KubeAuth>,
    pub policy_map: Option<PathBuf>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub overrides: Overrides,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fleet {
    #[serde(default)]
    pub defaults: Defaults,
    pub clusters: Vec<FleetCluster>,
}

/// One cluster, every setting resolved: how to reach it and how to plan it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSpec {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// What apply (and the live plan) is given; paths are absolute.
    pub inputs: ApplyInputs,
}

impl ClusterSpec {
    /// `name (region)`, or the name alone when the region comes from the
    /// profile or environment.
    pub fn label(&self) -> String {
        match &self.inputs.region {
            Some(r) => format!("{} ({r})", self.name),
            None => self.name.clone(),
        }
    }
}

/// `p` made absolute: `~/` is the home folder, a relative path is taken
/// from `base`.
fn absolute(base: &Path, p: &Option<PathBuf>) -> Option<PathBuf> {
    p.as_ref().map(|p| {
        if let (Ok(rest), Some(home)) = (p.strip_prefix("~"), std::env::var_os("HOME")) {
            PathBuf::from(home).join(rest)
        } else if p.is_absolute() {
            p.clone()
        } else {
            base.join(p)
        }
    })
}

impl Fleet {
    pub(crate) fn parse(text: &str) -> Result<Fleet> {
        // serde_yaml copies an aliased string for every alias: bound that
        // with the tree parser's alias limits first (see core::yaml::parse).
        if let Err(e) = crate::core::yaml::parse(text) {
            if e.kind != crate::core::yaml::ErrorKind::Syntax {
                anyhow::bail!("line {}: {}", e.line, e.message);
            }
        }
        let fleet: Fleet = serde_yaml::from_str(text).map_err(|e| match e.location() {
            Some(l) => anyhow::anyhow!("line {}: {e}", l.line()),
            None => anyhow::anyhow!("{e}"),
        })?;
        fleet.check()?;
        Ok(fleet)
    }

    pub(crate) fn load(path: &Path) -> Result<Fleet> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the fleet file {}", path.display()))?;
        Fleet::parse(&text).with_context(|| format!("fleet file {}", path.display()))
    }

    fn check(&self) -> Result<()> {
        if self.clusters.is_empty() {
            bail!("clusters: the fleet names no cluster");
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in self.clusters.iter().enumerate() {
            if c.name.trim().is_empty() {
                bail!("clusters[{i}]: name is empty");
            }
            let region = c.region.as_ref().or(self.defaults.region.as_ref());
            let profile = c.profile.as_ref().or(self.defaults.profile.as_ref());
            let role = c.role_arn.as_ref().or(self.defaults.role_arn.as_ref());
            if !seen.insert((c.name.clone(), region, profile, role)) {
                bail!(
                    "clusters[{i}]: cluster {} is listed twice with the same region and credentials",
                    c.name
                );
            }
            let conc = c.overrides.concurrency.or(self.defaults.concurrency);
            if let Some(n) = conc {
                if !(1..=64).contains(&n) {
                    bail!(
                        "clusters[{i}] ({}): concurrency {n} is not within 1-64",
                        c.name
                    );
                }
            }
        }
        Ok(())
    }

    /// Every cluster with the defaults applied; relative paths are taken
    /// from `base` (the fleet file's folder).
    pub(crate) fn specs(&self, base: &Path) -> Vec<ClusterSpec> {
        let d = &self.defaults;
        self.clusters
            .iter()
            .map(|c| {
                let mut labels = d.labels.clone();
                labels.extend(c.labels.clone());
                let o = &c.overrides;
                ClusterSpec {
                    name: c.name.clone(),
                    labels,
                    inputs: ApplyInputs {
                        cluster: c.name.clone(),
                        region: c.region.clone().or_else(|| d.region.clone()),
                        profile: c.profile.clone().or_else(|| d.profile.clone()),
                        role_arn: c.role_arn.clone().or_else(|| d.role_arn.clone()),
                        kubeconfig: absolute(base, &c.kubeconfig)
                            .or_else(|| absolute(base, &d.kubeconfig)),
                        context: c.context.clone(),
                        allow_unverified_context: c.allow_unverified_context,
                        kube_auth: c.kube_auth.or(d.kube_auth).unwrap_or_default(),
                        file: None,
                        policy_map: absolute(base, &c.policy_map)
                            .or_else(|| absolute(base, &d.policy_map)),
                        allow_lossy: o.allow_lossy.or(d.allow_lossy).unwrap_or(false),
                        merge_existing: o.merge_existing.or(d.merge_existing).unwrap_or(false),
                        concurrency: o
                            .concurrency
                            .or(d.concurrency)
                            // check() refused 0 (and all above 64).
                            .and_then(std::num::NonZeroUsize::new)
                            .unwrap_or(crate::live::DEFAULT_CONCURRENCY),
                        iam_role_for: o
                            .iam_role_for
                            .clone()
                            .unwrap_or_else(|| d.iam_role_for.clone()),
                        enable_access_entries: o
                            .enable_access_entries
                            .or(d.enable_access_entries)
                            .unwrap_or(false),
                    },
                }
            })
            .collect()
    }
}

/// `--select`: each value is a comma-separated list of terms that must all
/// match (`label=value`, or a name glob with `*` and `?`); a cluster is
/// selected when any value matches. No value selects every cluster.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selector {
    any_of: Vec<Vec<Term>>,
}

#[derive(Debug, Clone)]
enum Term {
    Label(String, String),
    Name(String),
}

impl Selector {
    pub(crate) fn parse(values: &[String]) -> Result<Selector> {
        let mut any_of = Vec::new();
        for v in values {
            let mut all = Vec::new();
            for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                all.push(match t.split_once('=') {
                    Some((k, val)) if !k.is_empty() => Term::Label(k.to_string(), val.to_string()),
                    Some(_) => bail!("--select {v:?}: a label term is LABEL=VALUE"),
                    None => Term::Name(t.to_string()),
                });
            }
            if all.is_empty() {
                bail!("--select {v:?} selects nothing: give a name glob or LABEL=VALUE");
            }
            any_of.push(all);
        }
        Ok(Selector { any_of })
    }

    pub(crate) fn matches(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.any_of.is_empty()
            || self.any_of.iter().any(|all| {
                all.iter().all(|t| match t {
                    Term::Label(k, v) => labels.get(k) == Some(v),
                    Term::Name(g) => glob(g, name),
                })
            })
    }
}

/// Shell-style glob: `*` any run, `?` one character; the rest literal.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLEET: &str = r"
defaults:
  region: eu-west-1
  profile: platform
  policy_map: maps/policy.yaml
  concurrency: 4
  labels: {tier: standard}
clusters:
  - name: prod-a
    labels: {env: prod}
  - name: prod-b
    region: us-east-1
    profile: other
    kubeconfig: /abs/kc
    context: ctx-b
    labels: {env: prod, tier: gold}
    overrides: {allow_lossy: true, concurrency: 2, merge_existing: true}
  - name: dev-a
    labels: {env: dev}
";

    #[test]
    fn defaults_apply_and_clusters_override() {
        let f = Fleet::parse(FLEET).unwrap();
        let s = f.specs(Path::new("/fleet"));
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].inputs.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s[0].inputs.profile.as_deref(), Some("platform"));
        assert_eq!(
            s[0].inputs.policy_map,
            Some(PathBuf::from("/fleet/maps/policy.yaml"))
        );
        assert_eq!(s[0].inputs.concurrency.get(), 4);
        assert_eq!(s[0].labels["tier"], "standard");
        assert!(!s[0].inputs.allow_lossy);
        assert_eq!(s[1].inputs.region.as_deref(), Some("us-east-1"));
        assert_eq!(s[1].inputs.profile.as_deref(), Some("other"));
        assert_eq!(s[1].inputs.kubeconfig, Some(PathBuf::from("/abs/kc")));
        assert_eq!(s[1].inputs.context.as_deref(), Some("ctx-b"));
        assert_eq!(s[1].labels["tier"], "gold");
        assert!(s[1].inputs.allow_lossy && s[1].inputs.merge_existing);
        assert_eq!(s[1].inputs.concurrency.get(), 2);
    }

    #[test]
    fn aliases_that_copy_too_much_are_refused() {
        let long = "x".repeat(1024);
        let mut text = format!("defaults:\n  region: &s {long}\nclusters: [");
        text.push_str(&vec!["*s"; 2000].join(", "));
        text.push_str("]\n");
        let err = Fleet::parse(&text).unwrap_err().to_string();
        assert!(
            err.starts_with("line 3: aliases expand the document to more than "),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() {
        let e = Fleet::parse("clusters:\n  - name: a\n    regoin: x\n").unwrap_err();
        assert!(format!("{e:#}").contains("unknown field `regoin`"), "{e:#}");
        assert!(format!("{e:#}").contains("line 3"), "{e:#}");
        assert!(Fleet::parse("defaults: {}\nclusters: []\n").is_err());
        assert!(Fleet::parse("clusters:\n  - name: a\n  - name: a\n").is_err());
        assert!(Fleet::parse("clusters:\n  - name: a\n    overrides: {concurrency: 0}\n").is_err());
    }

    #[test]
    fn kube_auth_per_cluster_or_from_the_defaults() {
        let f = Fleet::parse(
            "defaults: {kube_auth: eks-token}\nclusters:\n  - name: a\n  - name: b\n    kube_auth: kubeconfig\n",
        )
        .unwrap();
        let specs = f.specs(Path::new("/"));
        assert_eq!(specs[0].inputs.kube_auth, KubeAuth::EksToken);
        assert_eq!(specs[1].inputs.kube_auth, KubeAuth::Kubeconfig);
        let f = Fleet::parse("clusters:\n  - name: a\n").unwrap();
        assert_eq!(f.specs(Path::new("/"))[0].inputs.kube_auth, KubeAuth::Auto);
        assert!(Fleet::parse("clusters:\n  - name: a\n    kube_auth: token\n").is_err());
    }

    #[test]
    fn selection_by_glob_and_label() {
        let f = Fleet::parse(FLEET).unwrap();
        let specs = f.specs(Path::new("/"));
        let pick = |v: &[&str]| {
            let s = Selector::parse(
                &v.iter()
                    .map(std::string::ToString::to_string)
                    .collect::<Vec<_>>(),
            )
            .unwrap();
            specs
                .iter()
                .filter(|c| s.matches(&c.name, &c.labels))
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(&[]), ["prod-a", "prod-b", "dev-a"]);
        assert_eq!(pick(&["prod-*"]), ["prod-a", "prod-b"]);
        assert_eq!(pick(&["env=prod,tier=standard"]), ["prod-a"]);
        assert_eq!(pick(&["env=dev", "prod-?"]), ["prod-a", "prod-b", "dev-a"]);
        assert_eq!(pick(&["nothing*"]), Vec::<&str>::new());
        assert!(Selector::parse(&["=x".into()]).is_err());
    }

    #[test]
    fn the_shipped_example_parses() {
        let f = Fleet::parse(include_str!("../../examples/fleet.yaml")).unwrap();
        let s = f.specs(Path::new("/ex"));
        assert_eq!(s.len(), 5);
        assert_eq!(
            s[0].inputs.policy_map,
            Some(PathBuf::from("/ex/policy-map.yaml"))
        );
        assert!(s[0]
            .inputs
            .kubeconfig
            .as_ref()
            .unwrap()
            .ends_with(".kube/config"));
        assert!(!s[0].inputs.kubeconfig.as_ref().unwrap().starts_with("/ex"));
        assert!(s[3].inputs.merge_existing);
        assert!(s[4].inputs.enable_access_entries && s[4].inputs.allow_lossy);
    }

    #[test]
    fn globs() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*-prod-*", "eu-prod-1"));
        assert!(!glob("prod", "prod-1"));
    }
}
