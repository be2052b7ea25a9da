//! poll, select and epoll on takt's pipes: readiness now, time-outs, waking.

use super::{err, Done, H, MEM};
use crate::time::VTime;
use libc::*;

fn pollfd(fd: i32, events: i16) -> Vec<u8> {
    let mut v = fd.to_le_bytes().to_vec();
    v.extend_from_slice(&events.to_le_bytes());
    v.extend_from_slice(&0i16.to_le_bytes());
    v
}

#[test]
fn poll_reports_what_is_ready_and_times_out_on_the_virtual_clock() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    let fds = [pollfd(3, POLLIN), pollfd(4, POLLOUT)].concat();
    h.put(MEM, &fds);
    assert_eq!(
        h.sys(2, SYS_poll, &[MEM, 2, 0]),
        Done::Ret(1),
        "only the write end"
    );
    assert_eq!(h.get(MEM + 6, 2), 0i16.to_le_bytes(), "no POLLIN yet");
    assert_eq!(h.get(MEM + 14, 2), POLLOUT.to_le_bytes());
    // Only the read end, 10 ms: parked until the clock passes the deadline.
    h.put(MEM, &pollfd(3, POLLIN));
    assert_eq!(h.sys(2, SYS_poll, &[MEM, 1, 10]), Done::Parked);
    h.clock(VTime::ZERO.plus_nanos(10_000_000));
    assert_eq!(h.done(2), Done::Ret(0), "timed out");
    // Data wakes a waiting poll.
    h.process(3, 0);
    h.share(2, 3, &[3, 4]);
    assert_eq!(h.sys(2, SYS_poll, &[MEM, 1, u64::MAX]), Done::Parked);
    h.put(MEM + 0x100, b"x");
    assert_eq!(h.sys(3, SYS_write, &[4, MEM + 0x100, 1]), Done::Ret(1));
    assert_eq!(h.wake(2), Done::Ret(1));
    assert_eq!(h.get(MEM + 6, 2), POLLIN.to_le_bytes());
}

#[test]
fn poll_refuses_more_fds_than_its_limit_and_flags_bad_ones() {
    let mut h = H::new();
    assert_eq!(h.sys(2, SYS_poll, &[MEM, 1 << 30, 0]), err(EINVAL));
    h.pipe(2, 3, 4, 0);
    // A closed-looking fd number takt does not know goes to the kernel; a negative
    // one is ignored.
    h.put(MEM, &[pollfd(-1, POLLIN), pollfd(4, POLLOUT)].concat());
    assert_eq!(h.sys(2, SYS_poll, &[MEM, 2, 0]), Done::Ret(1));
    assert_eq!(h.get(MEM + 6, 2), 0i16.to_le_bytes());
}

#[test]
fn epoll_waits_for_a_registered_pipe_and_reports_its_data() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    assert_eq!(h.sys(2, SYS_epoll_create1, &[0]), Done::Kernel);
    h.kernel(2, 5);
    // struct epoll_event { u32 events; u64 data } (packed: 12 bytes).
    let mut ev = (EPOLLIN as u32).to_le_bytes().to_vec();
    ev.extend_from_slice(&77u64.to_le_bytes());
    h.put(MEM, &ev);
    assert_eq!(
        h.sys(2, SYS_epoll_ctl, &[5, EPOLL_CTL_ADD as u64, 3, MEM]),
        Done::Ret(0)
    );
    assert_eq!(
        h.sys(2, SYS_epoll_ctl, &[5, EPOLL_CTL_ADD as u64, 3, MEM]),
        err(EEXIST)
    );
    assert_eq!(
        h.sys(2, SYS_epoll_ctl, &[5, 99, 3, MEM]),
        err(EINVAL),
        "bad op"
    );
    assert_eq!(
        h.sys(2, SYS_epoll_wait, &[5, MEM + 0x100, 4, 0]),
        Done::Ret(0)
    );
    assert_eq!(
        h.sys(2, SYS_epoll_wait, &[5, MEM + 0x100, 0, 0]),
        err(EINVAL)
    );
    h.put(MEM + 0x200, b"hi");
    assert_eq!(h.sys(2, SYS_write, &[4, MEM + 0x200, 2]), Done::Ret(2));
    assert_eq!(
        h.sys(2, SYS_epoll_wait, &[5, MEM + 0x100, 4, 0]),
        Done::Ret(1)
    );
    assert_eq!(h.get(MEM + 0x100, 4), (EPOLLIN as u32).to_le_bytes());
    assert_eq!(h.get(MEM + 0x104, 8), 77u64.to_le_bytes());
}
