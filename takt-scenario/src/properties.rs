//! Guest properties through the Antithesis SDK's local output.
//!
//! Programs instrumented with the Antithesis SDK (`antithesis_sdk` for Rust, and its
//! siblings for C, Go, Java, Python) write their assertions as JSON lines to the file
//! named by `ANTITHESIS_SDK_LOCAL_OUTPUT` when the Antithesis runtime is absent. takt
//! gives each process spec such a file, reads it after the run, and:
//! - fails the run on a violated property (an always-assertion seen false, an
//!   unreachable one reached), like a failed check;
//! - lists sometimes- and reachable-properties, so that an exploration can say which
//!   were never satisfied (not yet covered);
//! - counts the satisfied ones as features of the run's behaviour.
//!
//! Records are `{"antithesis_assert": {"display_type", "condition", "message",
//! "location": {"file", "begin_line"}, "hit", …}}`; every assertion site is announced
//! once with `hit: false` at start-up (`antithesis_init()`), so a site never reached is
//! known too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use takt_core::report::Property;

/// The most of one output file read (a guest could write any amount).
const MAX_OUTPUT: u64 = 16 << 20;

/// The SDK's variable naming its local output file.
pub const LOCAL_OUTPUT: &str = "ANTITHESIS_SDK_LOCAL_OUTPUT";

/// The local output file of process spec `k` (in the scenario's directory, beside the
/// nodes' directories, so no guest sees it in its own).
pub(crate) fn output_file(scenario_dir: &Path, k: usize) -> PathBuf {
    scenario_dir.join(format!("antithesis-{k}.jsonl"))
}

/// Reads and merges what the processes wrote (files that do not exist: nothing).
pub(crate) fn read(files: &[PathBuf]) -> Vec<Property> {
    let mut props: BTreeMap<(String, String), Property> = BTreeMap::new();
    for f in files {
        // The guest writes this file: only a regular file (a FIFO would block the read),
        // and no more of it than a sane SDK writes. The run is over: nothing changes it.
        if !std::fs::symlink_metadata(f).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let mut text = String::new();
        let read = std::fs::File::open(f).and_then(|file| {
            std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_OUTPUT), &mut text)
        });
        if read.is_err() {
            continue;
        }
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let a = &v["antithesis_assert"];
            let Some(kind) = a["display_type"].as_str() else {
                continue;
            };
            let message = a["message"].as_str().unwrap_or("").to_string();
            let location = format!(
                "{}:{}",
                a["location"]["file"].as_str().unwrap_or("?"),
                a["location"]["begin_line"].as_u64().unwrap_or(0)
            );
            let p = props
                .entry((message.clone(), location.clone()))
                .or_insert_with(|| Property {
                    kind: kind.to_string(),
                    message,
                    location,
                    passed: false,
                    failed: false,
                });
            if a["hit"].as_bool() == Some(true) {
                match a["condition"].as_bool() {
                    Some(true) => p.passed = true,
                    Some(false) => p.failed = true,
                    None => {}
                }
            }
        }
    }
    props.into_values().collect()
}

/// Merges the properties of several runs (an exploration's view).
pub fn merge(runs: &[Vec<Property>]) -> Vec<Property> {
    let mut all: BTreeMap<(String, String), Property> = BTreeMap::new();
    for props in runs {
        for p in props {
            let e = all
                .entry((p.message.clone(), p.location.clone()))
                .or_insert_with(|| p.clone());
            e.passed |= p.passed;
            e.failed |= p.failed;
        }
    }
    all.into_values().collect()
}

/// What failed, if a property was violated.
pub(crate) fn violation(props: &[Property]) -> Option<String> {
    props
        .iter()
        .find(|p| p.violated())
        .map(|p| format!("property violated (Antithesis SDK): {}", p.describe()))
}
