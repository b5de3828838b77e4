//! Fleet report parts: what each run (each shard, or the whole fleet as
//! shard 1 of 1) leaves for `batch report --merge`, where they are kept
//! ([`PartStore`]: the state directory today, S3 later), and the merge.
//! docs/batch.md, "Shards".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::report::{ClusterResult, FleetReport};
use super::shard::{Shard, ShardBy};
use crate::core::plan::Plan;
use crate::core::verify::Verification;
use crate::files;

/// One run's part of a fleet report (JSON `format_version` "1").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FleetPart {
    pub(crate) format_version: String,
    pub(crate) fleet_id: String,
    /// This part: `shard` of `shards` (1 of 1 for a run without `--shard`).
    pub(crate) shard: u32,
    pub(crate) shards: u32,
    pub(crate) shard_by: ShardBy,
    /// `plan`, `apply`, `verify`, `finalize` or `rollback`.
    pub(crate) command: String,
    /// Every selected cluster of the fleet (`account/region/name`), in the
    /// fleet's order, before the split: the merge orders by it.
    pub(crate) fleet_clusters: Vec<String>,
    /// This part's clusters, in its report's order.
    pub(crate) selected: Vec<String>,
    /// RFC 3339, UTC.
    pub(crate) started: String,
    pub(crate) finished: String,
    /// The fleet report of this part, as `--output json` prints it.
    pub(crate) report: FleetReport,
    /// Per cluster of the report, what its Markdown section shows (not in
    /// the report's JSON).
    pub(crate) details: Vec<Details>,
}

/// The per-cluster parts of the Markdown report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Details {
    pub(crate) plan: Option<Plan>,
    pub(crate) verification: Option<Verification>,
    pub(crate) text: Option<String>,
}

/// Who ran which part of which fleet, and when.
#[derive(Debug, Clone)]
pub(crate) struct PartInfo {
    pub(crate) fleet_id: String,
    pub(crate) shard: Shard,
    pub(crate) shard_by: ShardBy,
    pub(crate) fleet_clusters: Vec<String>,
    pub(crate) selected: Vec<String>,
    pub(crate) started: String,
    pub(crate) finished: String,
}

impl FleetPart {
    pub(crate) fn new(info: PartInfo, report: &FleetReport) -> FleetPart {
        FleetPart {
            format_version: "1".into(),
            fleet_id: info.fleet_id,
            shard: info.shard.index,
            shards: info.shard.count,
            shard_by: info.shard_by,
            command: report.command.clone(),
            fleet_clusters: info.fleet_clusters,
            selected: info.selected,
            started: info.started,
            finished: info.finished,
            details: report
                .clusters
                .iter()
                .map(|c| Details {
                    plan: c.plan.clone(),
                    verification: c.verification.clone(),
                    text: c.text.clone(),
                })
                .collect(),
            report: report.clone(),
        }
    }

    /// `shard-I-of-N.json`.
    pub(crate) fn file_name(&self) -> String {
        format!("shard-{}-of-{}.json", self.shard, self.shards)
    }
}

/// Where parts are kept: local files ([`LocalStore`]) or the S3 state
/// ([`S3Store`]).
pub(crate) trait PartStore {
    /// Saves `part`, replacing an earlier run of the same shard; returns
    /// where it went.
    fn save(&self, part: &FleetPart) -> Result<String>;
    /// Every part saved for `fleet_id` and `command`.
    fn load(&self, fleet_id: &str, command: &str) -> Result<Vec<FleetPart>>;
}

/// Parts as files: `{root}/{fleet id}/{command}/shard-I-of-N.json`
/// (0600, written whole or not at all), `root` being `{state_dir}/fleet`.
/// A part replaces the same shard's earlier one, and removes the parts of
/// another N (an earlier run split otherwise).
pub(crate) struct LocalStore {
    pub(crate) root: PathBuf,
}

impl LocalStore {
    /// `{state_dir}/fleet`.
    pub(crate) fn in_state_dir() -> Result<LocalStore> {
        Ok(LocalStore {
            root: crate::journal::state_dir()?.join("fleet"),
        })
    }

    pub(crate) fn dir(&self, fleet_id: &str, command: &str) -> PathBuf {
        self.root
            .join(crate::journal::safe_name(fleet_id))
            .join(crate::journal::safe_name(command))
    }
}

impl PartStore for LocalStore {
    fn save(&self, part: &FleetPart) -> Result<String> {
        let dir = self.dir(&part.fleet_id, &part.command);
        create_private_dir(&dir)?;
        let path = dir.join(part.file_name());
        let mut bytes =
            serde_json::to_vec_pretty(part).context("cannot encode the fleet report part")?;
        bytes.push(b'\n');
        files::write_private(&path, &bytes)?;
        // The parts of another split (another N) are an earlier run's:
        // this run replaces them, so the folder merges as one run.
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if part_name(&name).is_some_and(|(_, n)| n != part.shards) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(path.display().to_string())
    }

    fn load(&self, fleet_id: &str, command: &str) -> Result<Vec<FleetPart>> {
        read_dir(&self.dir(fleet_id, command))
    }
}

/// Parts in the S3 state: `{prefix}fleet/{fleet id}/{command}/shard-I-of-N.json`,
/// the layout of [`LocalStore`] under the state's prefix. As there, a part
/// replaces the same shard's earlier one and removes the parts of another N.
pub(crate) struct S3Store;

impl S3Store {
    fn folder(fleet_id: &str, command: &str) -> String {
        format!(
            "fleet/{}/{}/",
            crate::journal::safe_name(fleet_id),
            crate::journal::safe_name(command)
        )
    }
}

impl PartStore for S3Store {
    fn save(&self, part: &FleetPart) -> Result<String> {
        use crate::state::replica;
        let folder = S3Store::folder(&part.fleet_id, &part.command);
        let mut bytes =
            serde_json::to_vec_pretty(part).context("cannot encode the fleet report part")?;
        bytes.push(b'\n');
        let url = replica::put_object(&format!("{folder}{}", part.file_name()), bytes)?;
        for name in replica::list_names(&folder)? {
            if part_name(&name).is_some_and(|(_, n)| n != part.shards) {
                replica::delete_object(&format!("{folder}{name}"))?;
            }
        }
        Ok(url)
    }

    fn load(&self, fleet_id: &str, command: &str) -> Result<Vec<FleetPart>> {
        let folder = S3Store::folder(fleet_id, command);
        let mut parts = Vec::new();
        for (name, body) in crate::state::replica::list_objects(&folder)? {
            if part_name(&name).is_none() {
                continue;
            }
            parts.push(
                serde_json::from_slice(&body)
                    .with_context(|| format!("{folder}{name} is not a fleet report part"))?,
            );
        }
        Ok(parts)
    }
}

/// The store of this process's state: S3 with `--state s3://...`, else
/// the state directory.
pub(crate) fn store() -> Result<Box<dyn PartStore>> {
    if crate::state::s3_location().is_some() {
        return Ok(Box::new(S3Store));
    }
    Ok(Box::new(LocalStore::in_state_dir()?))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Reads one part file.
pub(crate) fn read_part(path: &Path) -> Result<FleetPart> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a fleet report part", path.display()))
}

/// `(I, N)` of a file named `shard-I-of-N.json`.
fn part_name(name: &str) -> Option<(u32, u32)> {
    let (i, n) = name
        .strip_prefix("shard-")?
        .strip_suffix(".json")?
        .split_once("-of-")?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

/// Every `shard-I-of-N.json` of `dir`, in name order.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<FleetPart>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| part_name(n).is_some())
        })
        .collect();
    paths.sort();
    paths.iter().map(|p| read_part(p)).collect()
}

/// Why parts cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MergeError {
    #[error("no fleet report parts to merge")]
    NoParts,
    #[error("the parts are not of one run: {what} {a} in shard {sa}, {b} in shard {sb}")]
    Mismatch {
        what: &'static str,
        a: String,
        sa: u32,
        b: String,
        sb: u32,
    },
    #[error("shard {0} is given twice")]
    Twice(u32),
    #[error("shard {shard} of {shards} is malformed: {why}")]
    Malformed {
        shard: u32,
        shards: u32,
        why: &'static str,
    },
}

/// The fleet report of all the parts, and the shards that are missing.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    pub(crate) fleet_id: String,
    pub(crate) command: String,
    pub(crate) shards: u32,
    pub(crate) missing: Vec<u32>,
    pub(crate) report: FleetReport,
}

/// Checks every part is of one fleet id, command, N, split and selection;
/// returns the report as one run of every present shard would have made
/// it (clusters in the fleet's order) and the shards missing.
pub(crate) fn merge(mut parts: Vec<FleetPart>) -> Result<Merged, MergeError> {
    parts.sort_by_key(|p| p.shard);
    let first = parts.first().ok_or(MergeError::NoParts)?.clone();
    let mut seen = Vec::new();
    for p in &parts {
        check_same(&first, p)?;
        if seen.contains(&p.shard) {
            return Err(MergeError::Twice(p.shard));
        }
        seen.push(p.shard);
        let malformed = |why| MergeError::Malformed {
            shard: p.shard,
            shards: p.shards,
            why,
        };
        if p.shard == 0 || p.shard > p.shards {
            return Err(malformed("its shard number is out of range"));
        }
        if p.selected.len() != p.report.clusters.len() || p.details.len() != p.selected.len() {
            return Err(malformed("its clusters and its report differ"));
        }
    }
    let position: BTreeMap<&str, usize> = first
        .fleet_clusters
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let mut clusters: Vec<(usize, ClusterResult)> = Vec::new();
    for p in &parts {
        for ((key, c), d) in p.selected.iter().zip(&p.report.clusters).zip(&p.details) {
            let mut c = c.clone();
            c.plan.clone_from(&d.plan);
            c.verification.clone_from(&d.verification);
            c.text.clone_from(&d.text);
            clusters.push((position.get(key.as_str()).copied().unwrap_or(usize::MAX), c));
        }
    }
    clusters.sort_by_key(|(i, _)| *i);
    let missing = (1..=first.shards).filter(|s| !seen.contains(s)).collect();
    Ok(Merged {
        report: FleetReport::new(
            &first.command,
            first.report.out_dir.clone(),
            clusters.into_iter().map(|(_, c)| c).collect(),
        ),
        fleet_id: first.fleet_id,
        command: first.command,
        shards: first.shards,
        missing,
    })
}

fn check_same(a: &FleetPart, b: &FleetPart) -> Result<(), MergeError> {
    let differ = |what, x: String, y: String| {
        if x == y {
            Ok(())
        } else {
            Err(MergeError::Mismatch {
                what,
                a: x,
                sa: a.shard,
                b: y,
                sb: b.shard,
            })
        }
    };
    differ("fleet id", a.fleet_id.clone(), b.fleet_id.clone())?;
    differ("command", a.command.clone(), b.command.clone())?;
    differ("N (shards)", a.shards.to_string(), b.shards.to_string())?;
    differ(
        "--shard-by",
        a.shard_by.as_str().into(),
        b.shard_by.as_str().into(),
    )?;
    if a.fleet_clusters != b.fleet_clusters {
        // The first cluster one selected and the other did not.
        let only = |x: &FleetPart, y: &FleetPart| {
            x.fleet_clusters
                .iter()
                .find(|k| !y.fleet_clusters.contains(k))
                .map(|k| format!("{k} selected"))
        };
        let (x, y) = match (only(a, b), only(b, a)) {
            (Some(x), _) => (x, "not".to_string()),
            (None, Some(y)) => ("not".to_string(), y),
            (None, None) => ("one order".to_string(), "another".to_string()),
        };
        differ("selection", x, y)?;
    }
    Ok(())
}

/// `shards 2/3, 3/3` (for the table and Markdown line).
pub(crate) fn missing_line(m: &Merged) -> Option<String> {
    if m.missing.is_empty() {
        return None;
    }
    let list: Vec<String> = m
        .missing
        .iter()
        .map(|s| format!("{s}/{}", m.shards))
        .collect();
    Some(format!(
        "Missing shard{} {}: their clusters are not in this report (fleet {}, batch {}).",
        if list.len() == 1 { "" } else { "s" },
        list.join(", "),
        m.fleet_id,
        m.command
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::report::Status;

    fn result(name: &str, status: Status) -> ClusterResult {
        let mut r = ClusterResult::new(name, Some("eu-west-1".into()), BTreeMap::new());
        r.status = status;
        r.text = Some(format!("text of {name}"));
        r
    }

    /// The parts of a fleet a..f split in `shards` (cluster i in shard
    /// i % shards + 1).
    fn parts(shards: u32) -> (Vec<FleetPart>, FleetReport) {
        let names = ["a", "b", "c", "d", "e", "f"];
        let keys: Vec<String> = names.iter().map(|n| format!("x/eu-west-1/{n}")).collect();
        let status = |i: usize| {
            if i == 2 {
                Status::Failed
            } else {
                Status::Changes
            }
        };
        let whole = FleetReport::new(
            "plan",
            PathBuf::from("/run"),
            names
                .iter()
                .enumerate()
                .map(|(i, n)| result(n, status(i)))
                .collect(),
        );
        let parts = (1..=shards)
            .map(|s| {
                let mine: Vec<usize> = (0..names.len())
                    .filter(|i| u32::try_from(*i).unwrap() % shards + 1 == s)
                    .collect();
                let report = FleetReport::new(
                    "plan",
                    PathBuf::from("/run"),
                    mine.iter().map(|&i| result(names[i], status(i))).collect(),
                );
                FleetPart::new(
                    PartInfo {
                        fleet_id: "fleet-0123456789ab".into(),
                        shard: Shard {
                            index: s,
                            count: shards,
                        },
                        shard_by: ShardBy::Cluster,
                        fleet_clusters: keys.clone(),
                        selected: mine.iter().map(|&i| keys[i].clone()).collect(),
                        started: "2026-12-02T17:00:00Z".into(),
                        finished: "2026-12-02T17:01:00Z".into(),
                    },
                    &report,
                )
            })
            .collect();
        (parts, whole)
    }

    #[test]
    fn merged_parts_are_the_report_of_one_run() {
        let (mut parts, whole) = parts(3);
        parts.reverse();
        let m = merge(parts).unwrap();
        assert!(m.missing.is_empty());
        assert_eq!(m.report, whole);
        assert_eq!(m.report.json(), whole.json());
        assert_eq!(m.report.markdown(), whole.markdown());
        assert_eq!(missing_line(&m), None);
    }

    #[test]
    fn a_missing_shard_is_named() {
        let (mut parts, _) = parts(3);
        parts.remove(1);
        let m = merge(parts).unwrap();
        assert_eq!(m.missing, vec![2]);
        assert_eq!(m.report.clusters.len(), 4);
        let names: Vec<&str> = m.report.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "d", "f"]);
        assert!(missing_line(&m).unwrap().starts_with("Missing shard 2/3:"));
    }

    #[test]
    fn parts_of_other_runs_are_refused() {
        let (three, _) = parts(3);
        let (two, _) = parts(2);
        let e = merge(vec![three[0].clone(), two[1].clone()]).unwrap_err();
        assert!(e.to_string().contains("N (shards) 3 in shard 1, 2"), "{e}");
        let mut other = three[1].clone();
        other.fleet_id = "other-000000000000".into();
        let e = merge(vec![three[0].clone(), other]).unwrap_err();
        assert!(e.to_string().contains("fleet id"), "{e}");
        let mut other = three[1].clone();
        other.command = "verify".into();
        assert!(matches!(
            merge(vec![three[0].clone(), other]),
            Err(MergeError::Mismatch {
                what: "command",
                ..
            })
        ));
        assert_eq!(
            merge(vec![three[0].clone(), three[0].clone()]).unwrap_err(),
            MergeError::Twice(1)
        );
        assert_eq!(merge(Vec::new()).unwrap_err(), MergeError::NoParts);
        let mut other = three[1].clone();
        other.fleet_clusters.pop();
        let e = merge(vec![three[0].clone(), other]).unwrap_err();
        assert!(
            e.to_string()
                .contains("selection x/eu-west-1/f selected in shard 1, not in shard 2"),
            "{e}"
        );
    }

    #[test]
    fn part_file_names() {
        assert_eq!(part_name("shard-2-of-3.json"), Some((2, 3)));
        assert_eq!(part_name("shard-2-of-3.json.tmp"), None);
        assert_eq!(part_name(".shard-2-of-3.json.tmp-12"), None);
        assert_eq!(part_name("shard-x-of-3.json"), None);
    }

    #[test]
    fn a_part_survives_its_file() {
        let (parts, _) = parts(2);
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore {
            root: dir.path().join("fleet"),
        };
        for p in &parts {
            let at = store.save(p).unwrap();
            assert!(at.ends_with(&format!("fleet-0123456789ab/plan/{}", p.file_name())));
        }
        let back = store.load("fleet-0123456789ab", "plan").unwrap();
        assert_eq!(back.len(), 2);
        // The report's Markdown-only fields travel in `details`.
        let json = |p: &[FleetPart]| serde_json::to_string(p).unwrap();
        assert_eq!(json(&back), json(&parts));
        assert_eq!(merge(back).unwrap().report, merge(parts).unwrap().report);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = store
                .dir("fleet-0123456789ab", "plan")
                .join("shard-1-of-2.json");
            let mode = std::fs::metadata(f).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A run of another N replaces the earlier split's parts.
        let (three, _) = super::tests::parts(3);
        store.save(&three[0]).unwrap();
        let now = store.load("fleet-0123456789ab", "plan").unwrap();
        assert_eq!(now.len(), 1);
        assert_eq!((now[0].shard, now[0].shards), (1, 3));
    }
}
