//! The visual report of a large run: a run of about 200,000 events (syscall_heavy with
//! 14,000 iterations on three threads), its report's size, and the time headless
//! Chromium takes to load it and run its script (`--dump-dom` returns after the load),
//! against the same for a blank page, measured in the same run. Targets: under 20 MB,
//! under 5 s.
//!
//! Run: `cargo bench -p takt-benches --bench report` (needs scripts/setup's chromium).

use std::path::Path;
use std::process::Command;
use std::time::Instant;
use takt_scenario::ReportExt;
use takt_tests::Fixture;

/// Seconds for headless Chromium to load `page` and dump its DOM (best of 3).
fn render(page: &Path) -> (f64, String) {
    let mut best = f64::INFINITY;
    let mut dom = String::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let out = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--window-size=1400,1000",
                "--dump-dom",
            ])
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium (scripts/setup installs it)");
        best = best.min(t0.elapsed().as_secs_f64());
        dom = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    (best, dom)
}

fn main() {
    let s = Fixture::c("syscall_heavy")
        .with_args(&["14000"])
        .scenario(1);
    s.keep_full_trace(true);
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    let dir = std::env::temp_dir().join(format!("takt-report-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let page = dir.join("large.html");
    r.write_html(&page).expect("write the report");
    let blank = dir.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").expect("write");
    let mb = std::fs::metadata(&page).expect("report").len() as f64 / 1e6;
    let (t_blank, _) = render(&blank);
    let (t_page, dom) = render(&page);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the report's script did not finish"
    );
    println!(
        "report of a run of {} events: {mb:.1} MB (target < 20 MB)",
        r.events
    );
    println!(
        "renders in headless Chromium in {t_page:.2} s; a blank page in {t_blank:.2} s (target < 5 s)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
