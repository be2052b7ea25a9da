//! Each node its own filesystem: two redis servers with the same absolute `dir` keep
//! their own dumps and leave the host's untouched; files seeded with `put_file` and read
//! back with `read_file`; a node's layer kept across its restart; git's index (stat data)
//! byte-identical across runs; a crash losing what was never synced (the planted bug of
//! `durable_counter` found by exploration, its fsync'd variant never failing).

use std::path::Path;
use std::time::Duration;
use takt_scenario::{Process, Scenario, Status};

/// Names, sizes and modification times of the files under `dir` on the host.
fn host_listing(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    let m = e.metadata().ok()?;
                    Some((
                        e.file_name().to_string_lossy().into_owned(),
                        m.len(),
                        m.modified().ok()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn two_redis_servers_with_the_same_dir_keep_their_own_dumps() {
    let host_before = host_listing(Path::new("/var/lib/redis"));
    let s = Scenario::new();
    s.random_seed(7);
    s.completion_time(Duration::from_secs(2));
    let mut nodes = Vec::new();
    for name in ["red", "blue"] {
        let n = s.create_named_node(name);
        n.create_process(
            "/usr/bin/redis-server --port 6379 --dir /var/lib/redis --dbfilename dump.rdb \
             --save '' --appendonly no --protected-mode no",
        );
        n.create_process(
            Process::new("/bin/sh")
                .arg("-c")
                .arg(format!(
                    "redis-cli set colour {name}-value-from-{name} && redis-cli save"
                ))
                .start_after(Duration::from_millis(20))
                .must_finish(),
        );
        nodes.push((name, n));
    }
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        r.own_filesystems,
        "the nodes had no filesystem of their own\n{r}"
    );
    for (name, n) in &nodes {
        let dump = n
            .read_file("/var/lib/redis/dump.rdb")
            .unwrap_or_else(|e| panic!("{name}: {e}\n{r}"));
        let text = String::from_utf8_lossy(&dump);
        assert!(
            text.contains(&format!("{name}-value-from-{name}")),
            "{name}'s dump holds its own value: {text:?}"
        );
        for (other, _) in &nodes {
            if other != name {
                assert!(
                    !text.contains(&format!("{other}-value")),
                    "{name}'s dump holds {other}'s value: {text:?}"
                );
            }
        }
    }
    assert_eq!(
        host_listing(Path::new("/var/lib/redis")),
        host_before,
        "the host's /var/lib/redis changed"
    );
}

#[test]
fn put_file_seeds_a_node_and_read_file_reads_what_it_wrote() {
    // A host file the node deletes: hidden in the node (a whiteout), kept on the host.
    let host_file = std::env::temp_dir().join(format!("takt-fs-host-{}", std::process::id()));
    std::fs::write(&host_file, "the host's\n").unwrap();
    let s = Scenario::new();
    s.random_seed(1);
    let a = s.create_named_node("a");
    let b = s.create_named_node("b");
    a.put_file("/etc/takt-seeded.conf", "from the test\n");
    a.create_process(format!(
        "/bin/sh -c 'cat /etc/takt-seeded.conf && echo written-by-a > /tmp/takt-fs-note \
         && rm /etc/takt-seeded.conf && rm {}'",
        host_file.display()
    ));
    b.create_process("/bin/sh -c 'test ! -e /etc/takt-seeded.conf && test ! -e /tmp/takt-fs-note'");
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.stdout(0), "from the test\n");
    assert_eq!(
        r.processes[1].status,
        Status::Exited(0),
        "b sees neither file\n{r}"
    );
    assert_eq!(a.read_file("/tmp/takt-fs-note").unwrap(), b"written-by-a\n");
    assert!(b.read_file("/tmp/takt-fs-note").is_err());
    assert!(
        !Path::new("/tmp/takt-fs-note").exists(),
        "the host's /tmp was written"
    );
    assert!(
        a.read_file("/etc/takt-seeded.conf").is_err(),
        "a deleted the seeded file"
    );
    // Untouched files read through to the host's.
    assert_eq!(
        a.read_file("/etc/passwd").unwrap(),
        std::fs::read("/etc/passwd").unwrap()
    );
    assert!(a.read_file(&host_file).is_err(), "a deleted it");
    assert_eq!(b.read_file(&host_file).unwrap(), b"the host's\n");
    assert_eq!(std::fs::read(&host_file).unwrap(), b"the host's\n");
    let _ = std::fs::remove_file(&host_file);
}

#[test]
fn a_node_keeps_its_files_across_a_restart_and_not_across_runs() {
    let run = || {
        let s = Scenario::new();
        s.random_seed(3);
        s.completion_time(Duration::from_millis(400));
        let n = s.create_node();
        n.create_process(
            "/bin/sh -c 'cat /var/tmp/takt-count 2>/dev/null; echo x >> /var/tmp/takt-count && sync; sleep 1'",
        );
        s.crash(
            &n,
            Duration::from_millis(100),
            Some(Duration::from_millis(50)),
        );
        let r = s.run().unwrap_or_else(|e| panic!("{e}"));
        (r, n.read_file("/var/tmp/takt-count").unwrap())
    };
    let (r, count) = run();
    // The restarted process sees the first one's line (synced: a crash loses only
    // what was not durable).
    assert_eq!(
        r.stdout(0),
        "x\n",
        "the restart sees the first run's file\n{r}"
    );
    assert_eq!(count, b"x\nx\n");
    let (r2, _) = run();
    assert_eq!(
        r2.stdout(0),
        r.stdout(0),
        "a new run starts from the host's files"
    );
    assert!(!Path::new("/var/tmp/takt-count").exists());
}

/// `git init`, two commits, `git status` and `git log` in a node.
fn git_run(seed: u64) -> (takt_scenario::Report, Vec<u8>) {
    let s = Scenario::new();
    s.random_seed(seed);
    let n = s.create_named_node("dev");
    n.create_process(Process::new("/bin/sh").arg("-c").arg(
        "set -e; mkdir /srv/repo; cd /srv/repo; git init -q -b main .; \
             git config user.name takt; git config user.email takt@example.com; \
             echo one > a.txt; mkdir sub; echo two > sub/b.txt; \
             git add . && git commit -q -m first; echo three >> a.txt; \
             git status --porcelain; git commit -qam second; \
             git log --format='%H %ad %s' --date=raw; git status --porcelain",
    ));
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    let index = n.read_file("/srv/repo/.git/index").expect("the index");
    (r, index)
}

#[test]
fn git_init_commit_log_gives_the_same_run_ten_times() {
    let (first, index) = git_run(11);
    let out = first.stdout(0);
    assert!(out.starts_with(" M a.txt\n"), "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");
    // The index holds each file's stat data (inode, device, times): byte-identical runs
    // need takt's numbers and times, not the host's.
    for k in 1..10 {
        let (r, idx) = git_run(11);
        assert_eq!(r.stdout(0), out, "run {k}: output differs");
        assert_eq!(r.digest, first.digest, "run {k}: digest differs");
        assert!(idx == index, "run {k}: .git/index differs");
    }
}

/// The counter server of `durable_counter` (`mode`: `safe` or `unsafe`) on node `db`,
/// its client on `app`, and a crash of `db` at a time drawn from the seed (restarted
/// 5 ms later).
fn durable_counter(s: &Scenario, mode: &str, model: takt_scenario::CrashModel) {
    let bin = takt_tests::c_fixture("durable_counter");
    let bin = bin.to_string_lossy();
    s.crash_model(model);
    s.completion_time(Duration::from_secs(1));
    let db = s.create_named_node("db");
    db.put_file("/var/lib/counter/value", "0\n");
    db.create_process(format!("{bin} server 7000 {mode}"));
    s.create_named_node("app").create_process(
        Process::parse(&format!("{bin} client db 7000 40"))
            .start_after(Duration::from_millis(1))
            .must_finish(),
    );
    let at = Duration::from_micros(2_000 + (s.seed() % 41) * 500);
    s.crash(&db, at, Some(Duration::from_millis(5)));
}

#[test]
fn exploration_with_crashes_finds_an_acknowledged_write_that_was_never_synced() {
    use takt_scenario::{CrashModel, Error, Explore};
    let Err(Error::Failed(f)) = Explore::new()
        .seeds(20)
        .quiet(true)
        .run(|s| durable_counter(s, "unsafe", CrashModel::LoseUnsynced))
    else {
        panic!("20 seeds with crashes did not find the unsynced rename")
    };
    let out = f.report.stdout(1);
    assert!(
        out.contains("lost acknowledged write"),
        "{}\n{out}",
        f.reason
    );
    // Under the ext4 model the same bug can also leave the new name with no data.
    let mut empty = None;
    for seed in 0..40 {
        let s = Scenario::new();
        s.random_seed(seed);
        durable_counter(&s, "unsafe", CrashModel::Ext4Ordered);
        if let Err(Error::Failed(f)) = s.run() {
            let err = String::from_utf8_lossy(&f.report.processes[0].stderr).into_owned();
            if err.contains("is empty or short") {
                empty = Some(seed);
                break;
            }
        }
    }
    assert!(
        empty.is_some(),
        "40 seeds of the ext4 model never left an empty file"
    );
    // What the crash kept is a decision of the tape: the run replays from it, and the
    // shrunk failure keeps the crash's loss.
    let s = Scenario::new();
    s.random_seed(empty.unwrap());
    durable_counter(&s, "unsafe", CrashModel::Ext4Ordered);
    let Err(Error::Failed(f)) = s.run() else {
        panic!("the seed passed")
    };
    let tape = f.report.tape.clone().expect("a tape");
    assert!(
        tape.decisions
            .iter()
            .any(|d| matches!(d.choice, takt_core::tape::Choice::CrashKeep { .. })),
        "{tape:?}"
    );
    let r = Scenario::new();
    r.random_seed(tape.seed); // the crash time comes from the seed
    durable_counter(&r, "unsafe", CrashModel::Ext4Ordered);
    let Err(Error::Failed(g)) = r.replay_tape(tape).run() else {
        panic!("the tape passed")
    };
    assert_eq!(g.report.digest, f.report.digest);
    let build = |s: &Scenario| durable_counter(s, "unsafe", CrashModel::Ext4Ordered);
    let shrunk = takt_scenario::shrink::shrink(&build, &f, 200).unwrap();
    assert!(
        shrunk.summary().contains("kept only"),
        "{}",
        shrunk.summary()
    );
}

#[test]
fn the_same_server_with_its_fsyncs_is_never_found_failing() {
    use takt_scenario::{CrashModel, Explore};
    for model in [CrashModel::LoseUnsynced, CrashModel::Ext4Ordered] {
        let summary = Explore::new()
            .seeds(20)
            .quiet(true)
            .run(|s| durable_counter(s, "safe", model))
            .unwrap_or_else(|e| panic!("{model:?}: {e}"));
        assert_eq!(summary.passed.len(), 20, "{model:?}");
    }
}

#[test]
fn file_writes_fail_with_enospc_eio_and_come_back_short_at_a_rate() {
    let bin = takt_tests::c_fixture("file_faults");
    let s = Scenario::new();
    s.random_seed(4);
    s.fault_rate("write", 0.3).expect("a rate");
    s.create_node()
        .create_process(format!("{} writes 60", bin.display()));
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    let out = r.stdout(0);
    let mut lines = out.lines();
    let results: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(results.len(), 60, "{out}");
    let short = results
        .iter()
        .filter(|x| x.parse::<u32>().is_ok_and(|n| n < 100))
        .count();
    let errors = |e: &str| results.iter().filter(|x| **x == e).count();
    assert!(short > 0, "no short write: {out}");
    assert!(errors("ENOSPC") > 0 && errors("EIO") > 0, "{out}");
    assert_eq!(errors("EINTR"), 0, "a disk is not a slow device: {out}");
    // What the writes reported is what the file holds: a failed write wrote nothing,
    // a short one its first bytes.
    let size = lines.next().unwrap_or("").trim_start_matches("size ");
    let sum = lines.next().unwrap_or("").trim_start_matches("sum ");
    assert_eq!(size, sum, "{out}");
    assert!(
        r.faults
            .iter()
            .any(|(c, f, _)| c == "write" && f == "short"),
        "{:?}",
        r.faults
    );
}

#[test]
fn an_fsync_that_failed_with_eio_drops_the_dirty_data_even_if_the_next_succeeds() {
    let bin = takt_tests::c_fixture("file_faults");
    let mut seen = std::collections::BTreeMap::new();
    for seed in 0..80 {
        let s = Scenario::new();
        s.random_seed(seed);
        s.fault_rate("fsync", 0.5).expect("a rate");
        s.completion_time(Duration::from_millis(500));
        let n = s.create_node();
        // The file's name is durable before the run (a new name would need an fsync
        // of its directory too).
        n.put_file("/var/tmp/file-faults", "");
        n.create_process(format!("{} fsync", bin.display()));
        s.crash(&n, Duration::from_millis(100), None);
        let r = s.run().unwrap_or_else(|e| panic!("{e}"));
        let line = r.stdout(0).trim().to_string();
        let kept = n
            .read_file("/var/tmp/file-faults")
            .map(|b| b.len())
            .unwrap_or(0);
        match line.as_str() {
            // Made durable by the first fsync: the crash keeps it.
            l if l.starts_with("fsync ok") => assert_eq!(kept, 100, "seed {seed}: {l}"),
            // The write-back failed: the second fsync succeeds, but the data is gone.
            "fsync EIO ok" => assert_eq!(kept, 0, "seed {seed}: fsync EIO ok"),
            _ => {}
        }
        seen.insert(line, seed);
    }
    assert!(seen.contains_key("fsync EIO ok"), "{seen:?}");
    assert!(seen.keys().any(|l| l.starts_with("fsync ok")), "{seen:?}");
}

#[test]
fn without_a_mount_namespace_the_nodes_use_the_hosts_files_and_the_report_says_so() {
    // A layer that cannot be mounted stands for a user without the privilege to: the
    // run goes on with the host's files, and the report says so.
    let s = Scenario::new();
    s.random_seed(2);
    let n = s.create_node();
    n.create_process("/bin/sh -c 'echo from-the-node > note.txt'");
    let mut cfg = s.config().expect("valid");
    cfg.nodes[0].layer = Some(std::path::PathBuf::from("/nonexistent/takt-layer"));
    let r = takt_core::run(cfg).expect("run");
    assert_eq!(r.processes[0].status, Status::Exited(0), "{r}");
    assert!(!r.own_filesystems);
    assert!(
        r.notes
            .iter()
            .any(|(n, _)| n.contains("share the host's files")),
        "{:?}",
        r.notes
    );
    assert!(r.to_string().contains("no filesystem of their own"), "{r}");
    assert_eq!(
        std::fs::read(n.dir().join("note.txt")).unwrap(),
        b"from-the-node\n"
    );
}

#[test]
fn a_java_program_gives_the_same_digest_three_times() {
    // A JVM keeps /tmp/hsperfdata_<user>/<pid> and a killed one leaves it: on the host's
    // /tmp, each run found the last one's and three runs gave three digests.
    let dir = std::env::temp_dir().join(format!("takt-java-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("Hello.java"),
        "public class Hello { public static void main(String[] a) throws Exception { System.out.println(\"hello \" + a.length); Thread.sleep(60000); } }\n",
    )
    .unwrap();
    let javac = std::process::Command::new("javac")
        .arg(dir.join("Hello.java"))
        .status()
        .expect("javac (a JDK)");
    assert!(javac.success());
    let run = || {
        let s = Scenario::new();
        s.random_seed(9);
        // Killed at the completion time: the JVM leaves its perf-data file behind.
        s.completion_time(Duration::from_secs(20));
        s.create_node().create_process(
            Process::new("/usr/bin/java")
                .args(["-Xshare:off", "-XX:+UseSerialGC", "-cp"])
                .arg(dir.to_string_lossy().into_owned())
                .arg("Hello"),
        );
        s.run().unwrap_or_else(|e| panic!("{e}"))
    };
    let first = run();
    assert_eq!(first.stdout(0), "hello 0\n", "{first}");
    for k in 1..3 {
        assert_eq!(run().digest, first.digest, "run {k}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A node's directory is the scenario's host directory (`/tmp/takt-<pid>-<n>/<node>`,
/// new for every scenario), but a process sees it at `/takt/<node>`: its working
/// directory, `HOME` and collected-output path are the same in every run, so two
/// scenarios of one seed print the same and give one digest. Its mount table shows one
/// cgroup v2 mount, as `/proc/self/cgroup` and `/proc/cgroups` (all hierarchies 0) say.
#[test]
fn a_node_sees_its_directory_at_the_same_path_in_every_run() {
    let run = || {
        let s = Scenario::new();
        s.random_seed(4);
        let n = s.create_named_node("n");
        n.create_process(Process::new("/bin/sh").arg("-c").arg(
            "pwd; echo $HOME; echo $ANTITHESIS_SDK_LOCAL_OUTPUT; \
                 grep cgroup /proc/self/mountinfo | cut -d' ' -f5-; \
                 cut -f2 /proc/cgroups | sort | uniq -c | tr -s ' '; cat /proc/self/cgroup",
        ));
        (n.dir(), s.run().unwrap_or_else(|e| panic!("{e}")))
    };
    let (dir_a, a) = run();
    let (dir_b, b) = run();
    assert_ne!(dir_a, dir_b, "two scenarios, two host directories");
    assert!(a.own_filesystems, "the test needs root (mount namespaces)");
    assert_eq!(
        a.stdout(0),
        "/takt/n\n/takt/n\n/takt/antithesis-0.jsonl\n\
         /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 \
         rw,nsdelegate,memory_recursiveprot\n 14 0\n 1 hierarchy\n0::/\n",
        "{a}"
    );
    assert_eq!(a.stdout(0), b.stdout(0));
    assert_eq!(a.digest, b.digest);
}

/// What a crash of its node leaves of `mapped_file`'s writes through a shared mapping
/// (`mode`, see the fixture) under `model`: the restarted program's "found:" line.
fn mapped_after_crash(mode: &str, model: takt_scenario::CrashModel) -> String {
    let bin = takt_tests::c_fixture("mapped_file");
    let s = Scenario::new();
    s.random_seed(3);
    s.crash_model(model);
    s.completion_time(Duration::from_secs(1));
    let db = s.create_named_node("db");
    db.put_file("/var/lib/m/README", "");
    db.create_process(format!("{} {mode}", bin.display()));
    s.crash(
        &db,
        Duration::from_millis(20),
        Some(Duration::from_millis(5)),
    );
    let r = s.run().unwrap_or_else(|e| panic!("{mode}: {e}"));
    // Both lives of the program: the one the crash killed, and the restarted one.
    let out: String = r.lines.iter().map(|l| format!("{}\n", l.text)).collect();
    assert!(out.starts_with("mapped\n"), "{mode}: {out}");
    out.lines()
        .find_map(|l| l.strip_prefix("found: "))
        .unwrap_or_else(|| panic!("{mode}: no restart line in {out:?}"))
        .to_string()
}

#[test]
fn writes_through_a_shared_mapping_are_durable_after_msync_or_fsync_only() {
    use takt_scenario::CrashModel::{KeepAll, LoseUnsynced};
    let lost = "..........";
    for (mode, want) in [
        ("none", lost),
        ("async", lost),
        ("msync", "hello....."),
        ("fsync", "hello....."),
        ("msync-more", "hello....."),
    ] {
        assert_eq!(mapped_after_crash(mode, LoseUnsynced), want, "{mode}");
    }
    // Without the durability model a crash keeps everything the mapping wrote.
    assert_eq!(mapped_after_crash("msync-more", KeepAll), "helloworld");
    assert_eq!(mapped_after_crash("none", KeepAll), "hello.....");
}

/// `dirs` under takt: a directory of `n` files read with readdir, seekdir, rewinddir.
fn dirs(seed: u64, n: usize) -> (String, String) {
    let bin = takt_tests::c_fixture("dirs");
    let s = Scenario::new();
    s.random_seed(seed);
    s.create_node()
        .create_process(format!("{} /var/lib/d {n}", bin.display()));
    let r = s.run().unwrap_or_else(|e| panic!("dirs: {e}"));
    (r.stdout(0), r.digest)
}

#[test]
fn a_large_directory_reads_in_name_order_with_seekdir_and_rewinddir_working() {
    // 3,000 names take several of glibc's 32 KiB getdents64 buffers.
    let (out, digest) = dirs(4, 3000);
    assert!(out.contains("entries 3002 sorted yes\n"), "{out}");
    assert!(out.contains("first . .. f"), "{out}");
    assert!(out.contains("ino mismatches 0\n"), "{out}");
    assert!(out.contains("seekdir ok\n"), "{out}");
    assert!(out.contains("rewind 3003\n"), "{out}");
    assert_eq!(dirs(4, 3000), (out, digest), "same seed, same run");
}

#[test]
fn utimes_utime_and_futimesat_set_the_times_stat_shows_as_natively() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("file-meta-times");
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_string_lossy().into_owned();
    let f = takt_tests::Fixture::c("file_meta").with_args(&["times", &d]);
    let native = String::from_utf8(f.native().stdout).expect("utf-8");
    assert!(native.contains("after utime: atime 3000.000000000 mtime 4000.000000000"));
    assert_eq!(
        native.matches("(mtime is about now)").count(),
        2,
        "{native}"
    );
    assert_eq!(f.takt(5).stdout(0), native);
}

/// `file_meta ARGS /var/lib/x` on a node crashed 20 ms in and restarted: every line
/// both lives printed.
fn file_meta_across_a_crash(args: &str) -> Vec<String> {
    let bin = takt_tests::c_fixture("file_meta");
    let s = Scenario::new();
    s.random_seed(2);
    s.completion_time(Duration::from_secs(1));
    let db = s.create_named_node("db");
    db.put_file("/var/lib/x/README", "");
    db.create_process(format!("{} {args} /var/lib/x", bin.display()));
    s.crash(
        &db,
        Duration::from_millis(20),
        Some(Duration::from_millis(5)),
    );
    let r = s.run().unwrap_or_else(|e| panic!("{args}: {e}"));
    r.lines.iter().map(|l| l.text.clone()).collect()
}

#[test]
fn an_exchange_of_two_names_is_undone_by_a_crash_unless_its_directory_was_fsynced() {
    assert_eq!(
        file_meta_across_a_crash("exchange nosync"),
        ["exchanged", "a=A b=B"]
    );
    assert_eq!(
        file_meta_across_a_crash("exchange dirsync"),
        ["exchanged", "a=B b=A"]
    );
}

#[test]
fn data_the_kernel_copies_or_punches_into_a_file_is_lost_by_a_crash_unless_synced() {
    for how in ["copy", "sendfile"] {
        assert_eq!(
            file_meta_across_a_crash(&format!("overwrite {how}")),
            ["overwritten", "now a=BBBBBBBB", "a=AAAAAAAA"],
            "{how}"
        );
    }
    assert_eq!(
        file_meta_across_a_crash("overwrite punch"),
        ["overwritten", "now a=....AAAA", "a=AAAAAAAA"]
    );
}

/// A process's captured stdout is `/dev/null` in the kernel (takt's model takes the
/// writes) but shows as a pipe to `fstat`: GNU grep, which stops without printing when
/// its output is `/dev/null`, prints its match.
#[test]
fn captured_output_fstats_as_a_pipe_so_grep_prints() {
    let s = Scenario::new();
    s.random_seed(1);
    s.create_node().create_process(
        Process::new("/bin/sh").arg("-c").arg(
            "echo hello > g.txt; grep hello g.txt; \
             python3 -c 'import os, stat; print(stat.S_ISFIFO(os.fstat(1).st_mode), stat.S_ISFIFO(os.fstat(2).st_mode), stat.S_ISCHR(os.fstat(0).st_mode))'",
        ),
    );
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.stdout(0), "hello\nTrue True True\n", "{r}");
}

/// `/proc/self/mountinfo` is the same in every run: host mount ids and anonymous device
/// numbers (counters every run's new mounts move on) are renumbered, and the
/// scenario's host directory is written `/takt`. (Before, each run printed other ids
/// and every run had its own digest.)
#[test]
fn the_mount_table_is_the_same_in_every_run() {
    let run = || {
        let s = Scenario::new();
        s.random_seed(2);
        s.create_node()
            .create_process("/bin/cat /proc/self/mountinfo");
        s.run().unwrap_or_else(|e| panic!("{e}"))
    };
    let (a, b) = (run(), run());
    assert!(a.own_filesystems, "the test needs root (mount namespaces)");
    let table = a.stdout(0);
    assert!(table.starts_with("21 20 "), "{table}");
    assert!(!table.contains("/tmp/takt-"), "{table}");
    assert_eq!(table, b.stdout(0));
    assert_eq!(a.digest, b.digest);
}
