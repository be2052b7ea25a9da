//! poll, select and epoll on takt's pipes: readiness now, time-outs, waking.

use super::{err, Done, H, MEM};
use crate::handler::Remaining;
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

fn timespec(sec: i64, nsec: i64) -> Vec<u8> {
    [sec.to_le_bytes(), nsec.to_le_bytes()].concat()
}

/// `struct epoll_event { u32 events; u64 data }` (packed: 12 bytes).
fn epoll_event(events: i32, data: u64) -> Vec<u8> {
    let mut ev = (events as u32).to_le_bytes().to_vec();
    ev.extend_from_slice(&data.to_le_bytes());
    ev
}

#[test]
fn ppoll_checks_its_mask_and_waits_until_its_timespec() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    h.put(MEM, &pollfd(3, POLLIN));
    h.put(MEM + 0x40, &timespec(0, 2_000_000));
    h.put(MEM + 0x60, &0u64.to_le_bytes());
    let (fds, ts, mask) = (MEM, MEM + 0x40, MEM + 0x60);
    assert_eq!(h.sys(2, SYS_ppoll, &[fds, 1, ts, mask, 4]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_ppoll, &[fds, 1, ts, 0x1000, 8]), err(EFAULT));
    h.put(MEM + 0x50, &timespec(0, 1_000_000_000));
    assert_eq!(
        h.sys(2, SYS_ppoll, &[fds, 1, MEM + 0x50, 0, 8]),
        err(EINVAL)
    );
    assert_eq!(h.sys(2, SYS_ppoll, &[fds, 1, ts, mask, 8]), Done::Parked);
    h.clock(VTime::ZERO.plus_nanos(2_000_000));
    assert_eq!(h.done(2), Done::Ret(0), "timed out");
    // nfds is an unsigned int: the upper half of the register is not read.
    h.put(MEM, &pollfd(4, POLLOUT));
    assert_eq!(
        h.sys(2, SYS_ppoll, &[fds, 1 | 1 << 32, 0, 0, 8]),
        Done::Ret(1)
    );
    assert_eq!(h.get(MEM + 6, 2), POLLOUT.to_le_bytes());
}

#[test]
fn select_and_pselect6_report_ready_sets_and_empty_them_on_a_timeout() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    let (rd, wr) = (MEM, MEM + 8);
    let set = |fd: u32| (1u64 << fd).to_le_bytes();
    h.put(rd, &set(3));
    h.put(wr, &set(4));
    h.put(MEM + 0x40, &[0u8; 16]); // a zero timeval: poll once
    assert_eq!(
        h.sys(2, SYS_select, &[5, rd, wr, 0, MEM + 0x40]),
        Done::Ret(1)
    );
    assert_eq!(h.get(rd, 8), 0u64.to_le_bytes(), "nothing to read");
    assert_eq!(h.get(wr, 8), set(4), "room to write");
    assert_eq!(
        h.sys(2, SYS_select, &[-1i64 as u64, rd, 0, 0, 0]),
        err(EINVAL)
    );
    // pselect6: a 3 ms timespec; the sets are emptied and the time left is 0.
    h.put(rd, &set(3));
    h.put(MEM + 0x40, &timespec(0, 3_000_000));
    assert_eq!(
        h.sys(2, SYS_pselect6, &[4, rd, 0, 0, MEM + 0x40, 0]),
        Done::Parked
    );
    match &h.e.w.threads[&2].state {
        crate::world::State::Blocked(b) => {
            let zeroed = vec![(rd, vec![0u8; 8]), (MEM + 0x40, timespec(0, 0))];
            assert_eq!(b.timeout_writes, zeroed, "written if it times out");
            assert_eq!(b.remaining, Some(Remaining::Timespec(MEM + 0x40)));
        }
        other => panic!("not parked: {other:?}"),
    }
    h.clock(VTime::ZERO.plus_nanos(3_000_000));
    assert_eq!(h.done(2), Done::Ret(0));
    // Its sixth argument: a { sigset_t *, size_t } pair, read first.
    assert_eq!(
        h.sys(2, SYS_pselect6, &[4, rd, 0, 0, 0, 0x1000]),
        err(EFAULT)
    );
    h.put(
        MEM + 0x80,
        &[(MEM + 0x90).to_le_bytes(), 4u64.to_le_bytes()].concat(),
    );
    assert_eq!(
        h.sys(2, SYS_pselect6, &[4, rd, 0, 0, 0, MEM + 0x80]),
        err(EINVAL)
    );
    // Data ready: pselect6 returns it at once.
    h.put(MEM + 0x100, b"x");
    assert_eq!(h.sys(2, SYS_write, &[4, MEM + 0x100, 1]), Done::Ret(1));
    h.put(rd, &set(3));
    assert_eq!(h.sys(2, SYS_pselect6, &[4, rd, 0, 0, 0, 0]), Done::Ret(1));
    assert_eq!(h.get(rd, 8), set(3));
}

#[test]
fn epoll_create_takes_no_flags_from_its_size() {
    let mut h = H::new();
    let fdt = h.e.w.threads[&2].fdt;
    // epoll_create(size): a size with O_CLOEXEC's bit set is only a size.
    assert_eq!(
        h.sys(2, SYS_epoll_create, &[EPOLL_CLOEXEC as u64]),
        Done::Kernel
    );
    h.kernel(2, 5);
    assert!(!h.e.w.files.get(fdt, 5).expect("an epoll fd").cloexec);
    assert_eq!(
        h.sys(2, SYS_epoll_create1, &[EPOLL_CLOEXEC as u64]),
        Done::Kernel
    );
    h.kernel(2, 6);
    assert!(h.e.w.files.get(fdt, 6).expect("an epoll fd").cloexec);
    assert_eq!(h.sys(2, SYS_epoll_create1, &[0]), Done::Kernel);
    h.kernel(2, -(EMFILE as i64));
    assert_eq!(h.e.w.files.get(fdt, 7), None, "nothing made on a failure");
}

#[test]
fn epoll_pwait_and_pwait2_wait_with_their_masks_and_time_outs() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    assert_eq!(h.sys(2, SYS_epoll_create1, &[0]), Done::Kernel);
    h.kernel(2, 5);
    h.put(MEM, &epoll_event(EPOLLIN, 9));
    assert_eq!(
        h.sys(2, SYS_epoll_ctl, &[5, EPOLL_CTL_ADD as u64, 3, MEM]),
        Done::Ret(0)
    );
    let (events, mask) = (MEM + 0x100, MEM + 0x200);
    h.put(mask, &0u64.to_le_bytes());
    assert_eq!(
        h.sys(2, SYS_epoll_pwait, &[5, events, 4, 0, mask, 7]),
        err(EINVAL),
        "sigsetsize"
    );
    assert_eq!(
        h.sys(2, SYS_epoll_pwait, &[5, events, 4, 0, mask, 8]),
        Done::Ret(0)
    );
    h.put(MEM + 0x40, &timespec(0, 4_000_000));
    assert_eq!(
        h.sys(2, SYS_epoll_pwait2, &[5, events, 4, MEM + 0x40, mask, 8]),
        Done::Parked
    );
    h.clock(VTime::ZERO.plus_nanos(4_000_000));
    assert_eq!(h.done(2), Done::Ret(0));
    h.put(MEM + 0x300, b"y");
    assert_eq!(h.sys(2, SYS_write, &[4, MEM + 0x300, 1]), Done::Ret(1));
    assert_eq!(
        h.sys(2, SYS_epoll_pwait2, &[5, events, 4, 0, 0, 0]),
        Done::Ret(1)
    );
    assert_eq!(h.get(events, 12), epoll_event(EPOLLIN, 9));
    assert_eq!(
        h.sys(2, SYS_epoll_ctl, &[5, EPOLL_CTL_DEL as u64, 3, 0]),
        Done::Ret(0)
    );
    assert_eq!(
        h.sys(2, SYS_epoll_ctl, &[5, EPOLL_CTL_MOD as u64, 3, MEM]),
        err(ENOENT)
    );
}
