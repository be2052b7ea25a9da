//! Files as programs see them under takt, and as a node's disk keeps them.
//!
//! Three parts, none of which touches ptrace:
//!
//! - [`Ids`]: inode and device numbers assigned by takt in first-seen order per run, so
//!   `stat`, `statx`, `fstat` and `getdents` never show the host's (which differ from run
//!   to run as files are created on the host's disk).
//! - [`TimeBook`]: timestamps on the virtual clock for every file a run created or
//!   changed, set by the calls that change them; files from the layer below carry one
//!   fixed time, the virtual epoch (2026-01-01T00:00:00Z).
//! - [`Disk`]: which of a node's writes are durable, and what a crash leaves.
//!
//! # The durability model
//!
//! A write reaches the page cache; it is *durable* once the disk has it. The rules, per
//! node (after Linux's documented semantics of each call, ext4 in `data=ordered` mode,
//! and the persistence models of ALICE, Pillai et al., OSDI'14, and CrashMonkey, Mohan et
//! al., OSDI'18):
//!
//! 1. `write`, `pwrite`, `writev`, `ftruncate`… change a file's data in the page cache only.
//! 2. `fsync(fd)` and `fdatasync(fd)` make that file's data and size durable.
//!    `sync_file_range` with `SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER` is
//!    counted as an `fdatasync` of the file (Linux writes the range back, without the
//!    disk cache flush; takt does not model that difference). A file opened `O_SYNC` or
//!    `O_DSYNC` has every write durable when it returns.
//! 3. Names (creating, unlinking, renaming a file or directory, a link) are changes of
//!    their directory: durable once that directory is fsynced (for a rename, either
//!    directory). A rename is atomic: after a crash the name points at the old file or
//!    the new one, never at neither.
//! 4. `sync()` and `syncfs()` make everything of the node durable.
//! 5. On a crash ([`CrashModel::LoseUnsynced`], the default) everything not durable is
//!    lost: each file's data goes back to its last durable state, then the names go back,
//!    newest change first.
//! 6. An injected `EIO` from `fsync` (a failed write-back) is reported once, and the
//!    file's dirty pages are dropped as Linux does since 4.13 (errseq): a later `fsync`
//!    succeeds, but the writes before the failure are never durable and a crash loses
//!    them. `ENOSPC`, `EIO` and short writes on `write`/`pwrite64`/`writev`/`pwritev`
//!    are injected at the rates a test names for those calls.
//! 7. [`CrashModel::Ext4Ordered`] (seeded) leaves what ext4 with `data=ordered` and
//!    delayed allocation can leave after a power loss: the journal commits name changes
//!    in order, so a prefix of the non-durable name changes survives (any `fsync` commits
//!    the journal: every name change before it is durable, rule 3 being ext4's stricter
//!    behaviour here); each file independently keeps a prefix of its non-durable writes
//!    (its pages were written back in order up to some point). A file renamed over an
//!    old one without an `fsync` can thus survive as the new name with none of its data:
//!    the zero-length file of ext4's delayed allocation.
//!
//! 8. Writes through a shared file mapping (`mmap` with `MAP_SHARED` of a file opened
//!    for writing) are page-cache changes takt cannot see one by one: from the `mmap`,
//!    the mapped part of the file counts as overwritten (its contents then are kept to
//!    undo). `msync(MS_SYNC)` of the mapping, and `fsync`/`fdatasync` of the file, make
//!    them durable (counted as an `fdatasync` of the whole file, as rule 2 counts
//!    `sync_file_range`); the mapping is then dirty again from that moment. `msync`
//!    with `MS_ASYNC` only schedules write-back (a no-op since Linux 2.6.19): nothing
//!    becomes durable. `munmap` writes nothing back. A crash loses what the mappings
//!    wrote since they were last made durable (under `Ext4Ordered`, a mapping's
//!    changes are one write in the file's sequence).
//!
//! Not modelled: the kernel's periodic write-back of dirty pages (after 30 s by default)
//! does not happen; a shared mapping larger than [`MAX_MAPPED_UNDO`] is undone in its
//! first [`MAX_MAPPED_UNDO`] bytes only; a mapping counts as live until its process
//! exits or execs, or [`MAX_MAPPINGS`] newer ones push it out; what a node keeps past [`MAX_UNDO_BYTES`] of overwritten bytes,
//! [`MAX_DIRTY_FILES`] dirty files or [`MAX_NAME_OPS`] name changes counts as written
//! back. Only files reached through the calls takt traps are tracked.

use crate::time::VTime;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A file as the host knows it: (device, inode).
pub type HostId = (u64, u64);

/// A timestamp: seconds and nanoseconds since the Unix epoch.
pub type Stamp = (i64, i64);

/// The first inode number takt hands out.
const FIRST_INO: u64 = 2;

/// Inode and device numbers in first-seen order.
#[derive(Debug)]
pub struct Ids {
    inos: BTreeMap<HostId, u64>,
    devs: BTreeMap<u64, u64>,
    next: u64,
}

impl Default for Ids {
    fn default() -> Self {
        Ids {
            inos: BTreeMap::new(),
            devs: BTreeMap::new(),
            next: FIRST_INO,
        }
    }
}

/// How many distinct files a run may number before numbers are reused (a bound on the
/// tracer's memory; a run that sees more files gets numbers modulo this, noted).
pub const MAX_FILES: usize = 1 << 20;

impl Ids {
    /// The inode number takt shows for `id`.
    pub fn ino(&mut self, id: HostId) -> u64 {
        if let Some(&n) = self.inos.get(&id) {
            return n;
        }
        self.number(id)
    }

    /// A new number for `id`: the host reused the inode of a file gone since.
    pub fn fresh(&mut self, id: HostId) -> u64 {
        self.number(id)
    }

    fn number(&mut self, id: HostId) -> u64 {
        if self.inos.len() >= MAX_FILES {
            self.inos.clear();
        }
        let n = self.next;
        self.next = self.next.saturating_add(1);
        self.inos.insert(id, n);
        n
    }

    /// Whether `id` was seen already.
    pub fn known(&self, id: HostId) -> bool {
        self.inos.contains_key(&id)
    }

    /// The device number takt shows for host device `dev`: `0:(32+k)` for the k-th
    /// device seen (anonymous devices, as overlayfs and tmpfs have).
    pub fn dev(&mut self, dev: u64) -> u64 {
        let k = self.devs.len() as u64;
        let minor = *self.devs.entry(dev).or_insert(32u64.saturating_add(k));
        libc::makedev(0, minor as u32)
    }
}

/// A file's times as takt shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    /// Last access (takt shows the last modification: no atime updates, as `noatime`).
    pub atime: Stamp,
    /// Last data change.
    pub mtime: Stamp,
    /// Last status change.
    pub ctime: Stamp,
}

/// The virtual times of files the run created or changed.
#[derive(Debug, Default)]
pub struct TimeBook {
    map: BTreeMap<HostId, Times>,
}

impl TimeBook {
    /// Data changed at `now` (mtime and ctime).
    pub fn data(&mut self, id: HostId, now: Stamp) {
        self.map.insert(
            id,
            Times {
                atime: now,
                mtime: now,
                ctime: now,
            },
        );
    }

    /// Status changed at `now` (ctime only; a file never seen changed gets `base` for
    /// the other times).
    pub fn status(&mut self, id: HostId, now: Stamp, base: Stamp) {
        let t = self.map.entry(id).or_insert(Times {
            atime: base,
            mtime: base,
            ctime: base,
        });
        t.ctime = now;
    }

    /// `utimensat` set the times explicitly.
    pub fn set(&mut self, id: HostId, atime: Stamp, mtime: Stamp, now: Stamp) {
        self.map.insert(
            id,
            Times {
                atime,
                mtime,
                ctime: now,
            },
        );
    }

    /// The times recorded for `id`.
    pub fn get(&self, id: HostId) -> Option<Times> {
        self.map.get(&id).copied()
    }
}

/// A stamp for virtual time `t` (seconds since the virtual epoch added).
pub fn stamp(t: VTime) -> Stamp {
    let ns = t.as_nanos();
    let secs = (crate::time::EPOCH_SECS).saturating_add(ns / 1_000_000_000);
    (secs as i64, (ns % 1_000_000_000) as i64)
}

/// One directory entry as `getdents64` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirent {
    /// The file (its host inode; takt numbers it when it is shown).
    pub ino: HostId,
    /// `d_type` (`DT_REG`, `DT_DIR`…).
    pub kind: u8,
    /// The name.
    pub name: Vec<u8>,
}

/// The most entries of a directory takt lists itself, in name order (a larger one is
/// read by the kernel, each call's entries sorted).
pub const MAX_LISTED: usize = 1 << 16;

/// How many directory listings are kept at once (one per directory fd being read).
pub const MAX_LISTINGS: usize = 64;

/// A directory's entries in name order, as one fd reads them.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The directory.
    pub dir: HostId,
    /// Its entries, sorted by name (bytes).
    pub entries: Vec<Dirent>,
}

/// The listings of the directory fds being read, keyed by (fd table, fd).
#[derive(Debug, Default)]
pub struct Listings {
    map: BTreeMap<(usize, i32), Listing>,
}

impl Listings {
    /// The listing of `key` if it is one of directory `dir`.
    pub fn of(&self, key: (usize, i32), dir: HostId) -> Option<&Listing> {
        self.map.get(&key).filter(|l| l.dir == dir)
    }

    /// Keeps `l` for `key` (past [`MAX_LISTINGS`], another one is dropped: it is listed
    /// again when next read).
    pub fn put(&mut self, key: (usize, i32), l: Listing) {
        if self.map.len() >= MAX_LISTINGS && !self.map.contains_key(&key) {
            self.map.pop_first();
        }
        self.map.insert(key, l);
    }

    /// Forgets `key`'s listing.
    pub fn drop_key(&mut self, key: (usize, i32)) {
        self.map.remove(&key);
    }
}

/// Encodes `entries[from..]` as `struct linux_dirent64` records, as many as fit in
/// `count` bytes; `ino` gives the inode number shown for each. `d_off` of an entry is
/// the index of the next one (what `lseek` and `seekdir` then take). Returns the bytes
/// and how many entries they hold (0: not even the first fits).
pub fn encode_dirents(
    entries: &[Dirent],
    from: usize,
    count: usize,
    mut ino: impl FnMut(HostId) -> u64,
) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut n = 0usize;
    for (i, d) in entries.iter().enumerate().skip(from) {
        let reclen = 19usize
            .saturating_add(d.name.len())
            .saturating_add(1)
            .next_multiple_of(8);
        if out.len().saturating_add(reclen) > count || reclen > usize::from(u16::MAX) {
            break;
        }
        let next = i.saturating_add(1) as i64;
        out.extend_from_slice(&ino(d.ino).to_ne_bytes());
        out.extend_from_slice(&next.to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.push(d.kind);
        out.extend_from_slice(&d.name);
        let pad = reclen.saturating_sub(19usize.saturating_add(d.name.len()));
        out.resize(out.len().saturating_add(pad), 0);
        n = n.saturating_add(1);
    }
    (out, n)
}

/// What a crash leaves of the writes that were not durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrashModel {
    /// Every write and name change that was not made durable is lost (the default).
    #[default]
    LoseUnsynced,
    /// Seeded: what ext4 in `data=ordered` mode could leave after a power loss (a prefix
    /// of the name changes, a prefix of each file's writes).
    Ext4Ordered,
    /// Nothing is lost (takt before per-node durability: a crash keeps every write).
    KeepAll,
}

/// The most overwritten bytes a node keeps to undo (beyond, older writes count as
/// written back).
pub const MAX_UNDO_BYTES: usize = 256 << 20;

/// The most non-durable name changes a node keeps (each may hold a file open in the
/// tracer); past it the oldest counts as committed, as ext4's journal commits every 5 s.
pub const MAX_NAME_OPS: usize = 4096;

/// The most files with non-durable writes a node tracks (each holds a file open in the
/// tracer); past it, a further file's writes count as written back.
pub const MAX_DIRTY_FILES: usize = 4096;

/// The most bytes of one shared mapping kept to undo it.
pub const MAX_MAPPED_UNDO: u64 = 16 << 20;

/// The most live shared file mappings a node tracks (past it, the oldest is forgotten:
/// its later writes count as written back).
pub const MAX_MAPPINGS: usize = 256;

/// A shared, writable mapping of a file: its writes are not seen one by one.
#[derive(Debug)]
pub struct Mapping {
    /// The process (virtual pid) that mapped it.
    pub pid: i32,
    /// Its address range in that process, `[start, end)`.
    pub start: u64,
    /// End of the range.
    pub end: u64,
    /// The file offset the range starts at.
    pub offset: u64,
    /// The file.
    pub id: HostId,
    /// The tracer's own handle on the file.
    pub file: std::fs::File,
}

/// One non-durable write to a file: enough to undo it.
#[derive(Debug)]
pub struct Undo {
    /// Where it wrote.
    pub offset: u64,
    /// The bytes it overwrote (within the file's size before it).
    pub old: Vec<u8>,
    /// The file's size before it.
    pub size_before: u64,
}

/// A file with non-durable writes.
#[derive(Debug)]
pub struct DirtyFile {
    /// The tracer's own handle on the file (kept open: the file may be renamed or
    /// unlinked meanwhile).
    pub file: std::fs::File,
    /// Its writes since it was last durable, oldest first.
    pub writes: Vec<Undo>,
    /// When it became dirty (a count per disk): the order of the crash model's draws,
    /// which must not depend on the host's inode numbers (they differ between runs).
    pub seq: u64,
}

/// A name change that is not durable yet.
#[derive(Debug)]
pub enum NameOp {
    /// `path` was created (a file, directory, link or symlink).
    Created {
        /// The name (absolute, as the node sees it).
        path: PathBuf,
        /// Its directory.
        dir: HostId,
    },
    /// `path` was removed; `kept` is the file it named (to put back), or a directory.
    Removed {
        /// The name.
        path: PathBuf,
        /// Its directory.
        dir: HostId,
        /// What it named.
        kept: Kept,
    },
    /// `a` and `b` were exchanged (`renameat2` with `RENAME_EXCHANGE`).
    Exchanged {
        /// One name.
        a: PathBuf,
        /// The other.
        b: PathBuf,
        /// `a`'s directory.
        a_dir: HostId,
        /// `b`'s directory.
        b_dir: HostId,
    },
    /// `from` was renamed to `to`, replacing `replaced`.
    Renamed {
        /// Old name.
        from: PathBuf,
        /// New name.
        to: PathBuf,
        /// Old name's directory.
        from_dir: HostId,
        /// New name's directory.
        to_dir: HostId,
        /// What `to` named before, if anything.
        replaced: Option<Kept>,
    },
}

/// Permission bits, user and group of a kept entry.
pub type Owner = (u32, u32, u32);

/// What a removed or replaced name referred to, kept to be put back.
#[derive(Debug)]
pub enum Kept {
    /// A regular file: the tracer's handle on it (its inode lives on while held) and
    /// its permission bits and owner.
    File(std::fs::File, Owner),
    /// A directory (empty: Linux removes only empty ones), with its permission bits
    /// and owner.
    Dir(Owner),
    /// A symbolic link to this target.
    Symlink(PathBuf),
    /// Something takt does not put back (a device node, a FIFO, a socket).
    Other,
}

impl NameOp {
    /// Whether an fsync of directory `dir` makes it durable.
    fn in_dir(&self, d: HostId) -> bool {
        match self {
            NameOp::Created { dir, .. } | NameOp::Removed { dir, .. } => *dir == d,
            NameOp::Renamed {
                from_dir, to_dir, ..
            } => *from_dir == d || *to_dir == d,
            NameOp::Exchanged { a_dir, b_dir, .. } => *a_dir == d || *b_dir == d,
        }
    }
}

/// A node's disk: what is not durable yet.
#[derive(Debug, Default)]
pub struct Disk {
    /// Files with non-durable writes.
    pub files: BTreeMap<HostId, DirtyFile>,
    /// Non-durable name changes, oldest first.
    pub names: Vec<NameOp>,
    /// Overwritten bytes kept for undo.
    pub undo_bytes: usize,
    /// Writes whose write-back failed (`fsync` reported `EIO`): they are lost at a crash
    /// whatever comes after, as Linux drops the pages' dirty state (oldest first).
    pub doomed: Vec<DirtyFile>,
    /// Files that became dirty so far (numbers [`DirtyFile::seq`]).
    pub dirtied: u64,
    /// Live shared writable mappings of files, oldest first.
    pub maps: Vec<Mapping>,
}

impl Disk {
    /// A new shared writable mapping (the oldest is forgotten past [`MAX_MAPPINGS`]).
    pub fn mapped(&mut self, m: Mapping) {
        if self.maps.len() >= MAX_MAPPINGS {
            self.maps.remove(0);
        }
        self.maps.push(m);
    }

    /// The files mapped in `[start, end)` of process `pid`: by its own mappings, else
    /// (a child after `fork` shares its parent's) by those of any process of the node.
    pub fn mapped_in(&self, pid: i32, start: u64, end: u64) -> Vec<HostId> {
        let meets = |m: &&Mapping| m.start < end.max(start.saturating_add(1)) && start < m.end;
        let mut ids: Vec<HostId> = self
            .maps
            .iter()
            .filter(|m| m.pid == pid)
            .filter(meets)
            .map(|m| m.id)
            .collect();
        if ids.is_empty() {
            ids = self.maps.iter().filter(meets).map(|m| m.id).collect();
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Process `pid` exited or replaced its image: its mappings are gone.
    pub fn unmapped_all(&mut self, pid: i32) {
        self.maps.retain(|m| m.pid != pid);
    }

    /// `fsync`/`fdatasync` of a regular file: its data is durable.
    pub fn synced_file(&mut self, id: HostId, model: CrashModel) {
        if let Some(f) = self.files.remove(&id) {
            self.undo_bytes = self
                .undo_bytes
                .saturating_sub(f.writes.iter().map(|w| w.old.len()).sum());
        }
        if model == CrashModel::Ext4Ordered {
            // ext4's fsync commits the running journal transaction: every name change.
            self.names.clear();
        }
    }

    /// `fsync` of a directory: its name changes are durable (under ext4, every one).
    pub fn synced_dir(&mut self, id: HostId, model: CrashModel) {
        if model == CrashModel::Ext4Ordered {
            self.names.clear();
        } else {
            self.names.retain(|op| !op.in_dir(id));
        }
    }

    /// Records a non-durable name change (the oldest counts as committed past
    /// [`MAX_NAME_OPS`]).
    pub fn named(&mut self, op: NameOp) {
        if self.names.len() >= MAX_NAME_OPS {
            self.names.remove(0);
        }
        self.names.push(op);
    }

    /// A write-back of `id` failed: its non-durable writes can no longer become durable.
    pub fn writeback_failed(&mut self, id: HostId) {
        if let Some(f) = self.files.remove(&id) {
            self.doomed.push(f);
        }
    }

    /// `sync`/`syncfs`: everything is durable (but what a failed write-back dropped).
    pub fn synced_all(&mut self) {
        self.files.clear();
        self.names.clear();
        self.undo_bytes = 0;
    }

    /// Records a write (undo information made by the caller); returns false when the
    /// undo budget is spent (the caller then counts the file as written back).
    pub fn wrote(
        &mut self,
        id: HostId,
        file: impl FnOnce() -> Option<std::fs::File>,
        w: Undo,
    ) -> bool {
        if self.undo_bytes.saturating_add(w.old.len()) > MAX_UNDO_BYTES {
            self.files.remove(&id);
            return false;
        }
        let full = self.files.len().saturating_add(self.doomed.len()) >= MAX_DIRTY_FILES;
        let entry = match self.files.entry(id) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(_) if full => return false,
            std::collections::btree_map::Entry::Vacant(v) => match file() {
                Some(f) => {
                    self.dirtied = self.dirtied.saturating_add(1);
                    v.insert(DirtyFile {
                        file: f,
                        writes: Vec::new(),
                        seq: self.dirtied,
                    })
                }
                None => return false,
            },
        };
        self.undo_bytes = self.undo_bytes.saturating_add(w.old.len());
        entry.writes.push(w);
        true
    }

    /// What survives a crash under `model`: for each dirty file, how many of its writes
    /// (a prefix) to keep, and how many name changes (a prefix). `draw(n)` returns a
    /// seeded number in `0..=n`.
    pub fn survivors(
        &self,
        model: CrashModel,
        mut draw: impl FnMut(usize) -> usize,
    ) -> (BTreeMap<HostId, usize>, usize) {
        match model {
            CrashModel::KeepAll => (
                self.files
                    .iter()
                    .map(|(id, f)| (*id, f.writes.len()))
                    .collect(),
                self.names.len(),
            ),
            CrashModel::LoseUnsynced => (self.files.keys().map(|id| (*id, 0)).collect(), 0),
            CrashModel::Ext4Ordered => {
                let names = draw(self.names.len());
                // In the order the files became dirty, not by host inode.
                let mut order: Vec<(&HostId, &DirtyFile)> = self.files.iter().collect();
                order.sort_by_key(|(_, f)| f.seq);
                let files = order
                    .into_iter()
                    .map(|(id, f)| (*id, draw(f.writes.len())))
                    .collect();
                (files, names)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_first_seen_order() {
        let mut ids = Ids::default();
        assert_eq!(ids.ino((9, 500)), 2);
        assert_eq!(ids.ino((9, 7)), 3);
        assert_eq!(ids.ino((9, 500)), 2);
        assert_eq!(ids.fresh((9, 500)), 4);
        assert_eq!(ids.dev(77), libc::makedev(0, 32));
        assert_eq!(ids.dev(5), libc::makedev(0, 33));
        assert_eq!(ids.dev(77), libc::makedev(0, 32));
    }

    #[test]
    fn fsync_of_a_directory_makes_its_names_durable() {
        let mut d = Disk::default();
        d.names.push(NameOp::Created {
            path: "/a/x".into(),
            dir: (1, 1),
        });
        d.names.push(NameOp::Created {
            path: "/b/y".into(),
            dir: (1, 2),
        });
        d.synced_dir((1, 1), CrashModel::LoseUnsynced);
        assert_eq!(d.names.len(), 1);
        d.synced_dir((1, 9), CrashModel::Ext4Ordered);
        assert!(d.names.is_empty());
    }

    #[test]
    fn name_changes_are_bounded_oldest_first() {
        let mut d = Disk::default();
        for i in 0..MAX_NAME_OPS + 3 {
            d.named(NameOp::Created {
                path: format!("/f{i}").into(),
                dir: (1, 1),
            });
        }
        assert_eq!(d.names.len(), MAX_NAME_OPS);
        assert!(
            matches!(&d.names[0], NameOp::Created { path, .. } if path == std::path::Path::new("/f3"))
        );
    }

    #[test]
    fn a_failed_write_back_stays_lost_after_a_later_fsync() {
        let mut d = Disk::default();
        let file = || std::fs::File::open("/dev/null").ok();
        let w = || Undo {
            offset: 0,
            old: Vec::new(),
            size_before: 0,
        };
        assert!(d.wrote((1, 5), file, w()));
        d.writeback_failed((1, 5));
        d.synced_file((1, 5), CrashModel::LoseUnsynced);
        d.synced_all();
        assert_eq!(d.doomed.len(), 1, "fsync and sync do not bring it back");
        assert!(d.files.is_empty());
    }

    #[test]
    fn dirents_encode_as_linux_dirent64_with_indices_as_offsets() {
        let d = |name: &str| Dirent {
            ino: (1, name.len() as u64),
            kind: 8,
            name: name.as_bytes().to_vec(),
        };
        let long = "b".repeat(42);
        let entries = [d("."), d("a"), d(&long)];
        let (bytes, n) = encode_dirents(&entries, 0, 4096, |id| id.1 + 100);
        assert_eq!(n, 3);
        // "." and "a" take 24 bytes each; the long name 19 + 42 + 1 = 62, padded to 64.
        assert_eq!(bytes.len(), 24 + 24 + 64);
        assert_eq!(u64::from_ne_bytes(bytes[0..8].try_into().unwrap()), 101);
        assert_eq!(i64::from_ne_bytes(bytes[8..16].try_into().unwrap()), 1);
        assert_eq!(u16::from_ne_bytes([bytes[16], bytes[17]]), 24);
        assert_eq!(bytes[18], 8);
        assert_eq!(&bytes[19..21], b".\0");
        assert_eq!(i64::from_ne_bytes(bytes[56..64].try_into().unwrap()), 3);
        // As many as fit; none when the first does not; from a position.
        assert_eq!(encode_dirents(&entries, 0, 60, |_| 0).1, 2);
        assert_eq!(encode_dirents(&entries, 2, 63, |_| 0).1, 0);
        let (b, n) = encode_dirents(&entries, 1, 4096, |_| 0);
        assert_eq!((b.len(), n), (88, 2));
        assert_eq!(encode_dirents(&entries, 3, 4096, |_| 0).1, 0);
    }

    #[test]
    fn listings_are_bounded_and_keyed_by_directory() {
        let mut l = Listings::default();
        for fd in 0..(MAX_LISTINGS as i32 + 5) {
            l.put(
                (1, fd),
                Listing {
                    dir: (1, 7),
                    entries: Vec::new(),
                },
            );
        }
        assert_eq!(l.map.len(), MAX_LISTINGS);
        assert!(l.of((1, MAX_LISTINGS as i32 + 4), (1, 7)).is_some());
        assert!(
            l.of((1, MAX_LISTINGS as i32 + 4), (1, 8)).is_none(),
            "another dir"
        );
        l.drop_key((1, MAX_LISTINGS as i32 + 4));
        assert!(l.of((1, MAX_LISTINGS as i32 + 4), (1, 7)).is_none());
    }

    #[test]
    fn survivors_follow_the_model() {
        let mut d = Disk::default();
        for _ in 0..3 {
            d.names.push(NameOp::Created {
                path: "/x".into(),
                dir: (1, 1),
            });
        }
        assert_eq!(d.survivors(CrashModel::LoseUnsynced, |_| 1).1, 0);
        assert_eq!(d.survivors(CrashModel::KeepAll, |_| 1).1, 3);
        assert_eq!(d.survivors(CrashModel::Ext4Ordered, |n| n.min(2)).1, 2);
    }
}
