//! Eight scenarios in parallel threads of one test binary: no cross-talk (each gives
//! what it gives alone), all deterministic.

use takt_tests::Fixture;

#[test]
fn eight_parallel_scenarios_match_their_sequential_runs() {
    let fixtures = [
        Fixture::c("threads_condvar"),
        Fixture::c("pipes"),
        Fixture::c("fork_exec_wait"),
        Fixture::rust("rust_threads"),
        Fixture::c("clocks"),
        Fixture::c("random"),
        Fixture::rust("rust_hashmap"),
        Fixture::python("py_threads_random_time"),
    ];
    let alone: Vec<(String, String)> = fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let r = f.takt(100 + i as u64);
            (r.stdout(0), r.digest)
        })
        .collect();
    for round in 0..3 {
        let together: Vec<(String, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = fixtures
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    s.spawn(move || {
                        let r = f.takt(100 + i as u64);
                        (r.stdout(0), r.digest)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("scenario thread"))
                .collect()
        });
        for (i, (a, b)) in alone.iter().zip(&together).enumerate() {
            assert_eq!(
                a, b,
                "round {round}: {} differs when run in parallel",
                fixtures[i].name
            );
        }
    }
}
