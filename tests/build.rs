//! Compiles every C fixture in `fixtures/c/*.c` into
//! `$OUT_DIR/fixtures/<name>` with `cc -O1 -g -Wall -Werror -pthread`, and
//! exports that directory to the crate as `TAKT_C_FIXTURES`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;

const CC: &str = "cc";
const CFLAGS: &[&str] = &["-O1", "-g", "-Wall", "-Werror", "-pthread"];

fn compile(src: &Path, out: &Path) -> Result<(), String> {
    let output = Command::new(CC)
        .args(CFLAGS)
        .arg("-o")
        .arg(out)
        .arg(src)
        .output()
        .map_err(|e| format!("cannot run `{CC}` for {}: {e}", src.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{CC} {} -o {} {}` failed ({}):\n{}{}",
            CFLAGS.join(" "),
            out.display(),
            src.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ))
    }
}

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let src_dir = manifest_dir.join("fixtures").join("c");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR")).join("fixtures");
    fs::create_dir_all(&out_dir).expect("create $OUT_DIR/fixtures");

    println!("cargo:rerun-if-changed=build.rs");
    // The directory itself, so that adding or removing a fixture reruns us.
    println!("cargo:rerun-if-changed={}", src_dir.display());
    println!(
        "cargo:rerun-if-changed={}",
        src_dir.join("net_prelude.h").display()
    );

    let mut sources: Vec<PathBuf> = fs::read_dir(&src_dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", src_dir.display()))
        .map(|entry| entry.expect("read_dir entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "c"))
        .collect();
    sources.sort();
    for src in &sources {
        println!("cargo:rerun-if-changed={}", src.display());
    }

    // Compile in parallel: each fixture is an independent program.
    let next = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    let workers = thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(sources.len().max(1));
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(src) = sources.get(i) else { break };
                let stem = src.file_stem().expect("fixture file name");
                if let Err(e) = compile(src, &out_dir.join(stem)) {
                    errors.lock().expect("errors lock").push(e);
                }
            });
        }
    });
    let errors = errors.into_inner().expect("errors lock");
    if !errors.is_empty() {
        panic!("failed to compile C fixtures:\n\n{}", errors.join("\n\n"));
    }

    println!("cargo:rustc-env=TAKT_C_FIXTURES={}", out_dir.display());
}
