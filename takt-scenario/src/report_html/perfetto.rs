//! Chrome trace-event JSON of a run (what ui.perfetto.dev and chrome://tracing open):
//! `M` events name every process (node, program, pid) and thread; each syscall is an `X`
//! slice on virtual time (a blocking call lasts from its block to its completion);
//! errors and injected faults are `i` instants; each message is a flow from a slice
//! nested in the send (`bind_id`, `flow_out`) to one nested in the receive (`flow_in`),
//! so one call can start or end several flows.

use super::{Kind, RunView, ERROR, FAULT};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Slices shorter than this (µs) are drawn with this length.
const MIN_DUR_US: f64 = 0.2;
/// The nested slices that carry flows (µs).
const FLOW_DUR_US: f64 = 0.05;

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// The whole trace as a JSON string.
pub(super) fn chrome_trace(v: &RunView) -> String {
    let mut out: Vec<Value> = Vec::new();
    let mut named = BTreeMap::new();
    for (i, l) in v.lanes.iter().enumerate() {
        let node = v.nodes.get(l.node).map_or("?", |n| n.0.as_str());
        if named.insert(l.pid, ()).is_none() {
            out.push(
                json!({"ph": "M", "name": "process_name", "pid": l.pid, "tid": 0,
                "args": {"name": format!("{node}: {} (pid {})", l.program, l.pid)}}),
            );
            out.push(
                json!({"ph": "M", "name": "process_sort_index", "pid": l.pid, "tid": 0,
                "args": {"sort_index": l.node * 100_000 + l.pid as usize}}),
            );
        }
        out.push(
            json!({"ph": "M", "name": "thread_name", "pid": l.pid, "tid": l.tid,
            "args": {"name": format!("{node} {}/{}", l.pid, l.tid)}}),
        );
        out.push(
            json!({"ph": "M", "name": "thread_sort_index", "pid": l.pid, "tid": l.tid,
            "args": {"sort_index": i}}),
        );
    }
    // Where each blocking call began: (lane, completion time) → block time.
    let began: BTreeMap<(usize, u64), u64> = v.spans.iter().map(|s| ((s.0, s.2), s.1)).collect();
    let start = |m: usize| {
        let mark = &v.marks[m];
        began.get(&(mark.1, mark.0)).copied().unwrap_or(mark.0)
    };
    let mut flows: BTreeMap<usize, Vec<(usize, bool)>> = BTreeMap::new();
    for (k, a) in v.arrows.iter().enumerate() {
        flows.entry(a.0).or_default().push((k, true));
        flows.entry(a.1).or_default().push((k, false));
    }
    for (m, mark) in v.marks.iter().enumerate() {
        let lane = &v.lanes[mark.1];
        let (pid, tid) = (lane.pid, lane.tid);
        let t0 = start(m);
        let name = mark.5.split('(').next().unwrap_or("").to_string();
        match mark.2 {
            Kind::Call => {
                let dur = (us(mark.0) - us(t0)).max(MIN_DUR_US);
                out.push(
                    json!({"ph": "X", "name": name, "cat": v.families[mark.3 as usize],
                    "pid": pid, "tid": tid, "ts": us(t0), "dur": dur, "args": {"call": mark.5}}),
                );
                for &(k, sent) in flows.get(&m).map_or(&[][..], |f| f.as_slice()) {
                    let at = if sent { us(t0) } else { us(mark.0) };
                    let dir = if sent { "flow_out" } else { "flow_in" };
                    let mut e = json!({"ph": "X", "name": if sent { "send" } else { "receive" },
                        "cat": "message", "pid": pid, "tid": tid, "ts": at, "dur": FLOW_DUR_US,
                        "bind_id": k});
                    e[dir] = json!(true);
                    out.push(e);
                }
            }
            _ => out.push(json!({"ph": "i", "s": "t", "name": format!("{:?}", mark.2)
                .to_lowercase(), "pid": pid, "tid": tid, "ts": us(mark.0),
                "args": {"what": mark.5}})),
        }
        if mark.4 & (ERROR | FAULT) != 0 && mark.2 == Kind::Call {
            let what = if mark.4 & FAULT != 0 {
                "fault"
            } else {
                "error"
            };
            out.push(
                json!({"ph": "i", "s": "t", "name": what, "pid": pid, "tid": tid,
                "ts": us(mark.0), "args": {"call": mark.5}}),
            );
        }
    }
    if let Some(f) = &v.failure {
        out.push(
            json!({"ph": "i", "s": "g", "name": "FAILED", "pid": 0, "tid": 0,
            "ts": us(f.time), "args": {"reason": f.reason, "rerun": f.rerun}}),
        );
    }
    json!({"traceEvents": out, "displayTimeUnit": "ns",
        "otherData": {"seed": v.seed, "digest": v.digest}})
    .to_string()
}
