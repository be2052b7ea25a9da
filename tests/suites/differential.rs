//! Differential tests: each fixture's transcript under takt matches its native run,
//! except the lines that are virtualized (`virt `) or schedule-dependent (`sched `) on
//! purpose (see tests/fixtures/README.md for the list and why).

use takt_tests::{comparable, syscall_fixtures};

#[test]
fn transcripts_match_native_runs() {
    let mut failures = Vec::new();
    for f in syscall_fixtures() {
        let native = f.native();
        assert!(
            native.status.success(),
            "{} failed natively: {}",
            f.name,
            String::from_utf8_lossy(&native.stderr)
        );
        let native = comparable(&String::from_utf8_lossy(&native.stdout));
        let takt = comparable(&f.takt(77).stdout(0));
        if native != takt {
            failures.push(format!(
                "--- {} native\n{native}--- {} takt\n{takt}",
                f.name, f.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "transcripts differ:\n{}",
        failures.join("\n")
    );
}
