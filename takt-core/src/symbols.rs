//! Names of code addresses, for messages: which function a spinning thread is in.
//!
//! Given a tracee's instruction address, finds the mapping in `/proc/<pid>/maps`, opens
//! the mapped file through `/proc/<pid>/map_files/` (so a node's own filesystem view is
//! respected), turns the address into the ELF file's virtual address with its program
//! headers, and looks it up in `.symtab` (else `.dynsym`) or, for a Go binary stripped
//! of those, in its `.gopclntab` (the function table the Go runtime itself uses for
//! tracebacks, formats of Go 1.18 to 1.24). Only messages use this: nothing decided by
//! the engine depends on it.
//!
//! The file is the guest's, so hostile input: every offset and size read from it is
//! checked before use, reads are bounded (64 MiB at most), and any inconsistency gives
//! `None`, never a panic.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// The largest symbol table or string read whole (bytes).
const MAX_TABLE: u64 = 64 << 20;

/// `0x4a1b2c (runtime.bgsweep+0x5c in /usr/bin/etcd)` when the address has a name, else
/// `0x4a1b2c (in /usr/bin/etcd)` or just `0x4a1b2c`.
pub fn place(pid: i32, ip: u64) -> String {
    match lookup(pid, ip) {
        Some((path, Some((name, off)))) => format!("{ip:#x} ({name}+{off:#x} in {path})"),
        Some((path, None)) => format!("{ip:#x} (in {path})"),
        None => format!("{ip:#x}"),
    }
}

/// The mapped file's path and, if found, the function and the offset in it.
fn lookup(pid: i32, ip: u64) -> Option<(String, Option<(String, u64)>)> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).ok()?;
    for line in maps.lines() {
        let mut f = line.split_whitespace();
        let (range, _perms, offset) = (f.next()?, f.next()?, f.next()?);
        let (_dev, _inode) = (f.next()?, f.next()?);
        let path = f.next().unwrap_or("");
        let (lo, hi) = range.split_once('-')?;
        let (lo, hi) = (
            u64::from_str_radix(lo, 16).ok()?,
            u64::from_str_radix(hi, 16).ok()?,
        );
        if !(lo..hi).contains(&ip) {
            continue;
        }
        if !path.starts_with('/') {
            return None;
        }
        let file_off = u64::from_str_radix(offset, 16).ok()?.checked_add(ip - lo)?;
        let mut file = File::open(format!("/proc/{pid}/map_files/{range}"))
            .or_else(|_| File::open(path))
            .ok()?;
        let name = Elf::read(&mut file).and_then(|e| e.symbolize(&mut file, file_off));
        return Some((path.to_string(), name));
    }
    None
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Where an ELF image's bytes come from: a file, or an image already in memory (a
/// vDSO).
trait Source {
    /// `len` bytes at offset `off`; `None` past the end or over [`MAX_TABLE`].
    fn bytes(&mut self, off: u64, len: u64) -> Option<Vec<u8>>;
}

impl Source for File {
    fn bytes(&mut self, off: u64, len: u64) -> Option<Vec<u8>> {
        if len > MAX_TABLE {
            return None;
        }
        self.seek(SeekFrom::Start(off)).ok()?;
        let mut buf = vec![0; usize::try_from(len).ok()?];
        self.read_exact(&mut buf).ok()?;
        Some(buf)
    }
}

impl Source for &[u8] {
    fn bytes(&mut self, off: u64, len: u64) -> Option<Vec<u8>> {
        let start = usize::try_from(off).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        Some(self.get(start..end)?.to_vec())
    }
}

fn read_at(src: &mut impl Source, off: u64, len: u64) -> Option<Vec<u8>> {
    src.bytes(off, len)
}

/// The value and size of the function `name` in the dynamic symbol table (`.dynsym`)
/// of an ELF image in memory (the vDSO: its values are offsets in the image).
pub(crate) fn dynamic_function(image: &[u8], name: &str) -> Option<(u64, u64)> {
    let mut src = image;
    let elf = Elf::read(&mut src)?;
    let s = elf.sections.iter().find(|s| s.kind == 11)?;
    let syms = read_at(&mut src, s.offset, s.size)?;
    let strs = elf.sections.get(usize::try_from(s.link).ok()?)?;
    let strtab = read_at(&mut src, strs.offset, strs.size)?;
    syms.chunks_exact(24).find_map(|e| {
        let n = usize::try_from(u32_at(e, 0)?).ok()?;
        (e[4] & 0xf == 2 && name_at(&strtab, n)? == name).then_some((u64_at(e, 8)?, u64_at(e, 16)?))
    })
}

/// A NUL-terminated name at `at` in `table`.
fn name_at(table: &[u8], at: usize) -> Option<String> {
    let rest = table.get(at..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

struct Section {
    name: u32,
    kind: u32,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
}

/// What is needed of an ELF64 little-endian file: program and section headers.
struct Elf {
    /// PT_LOAD segments: (file offset, file size, virtual address).
    loads: Vec<(u64, u64, u64)>,
    sections: Vec<Section>,
    shstr: Vec<u8>,
}

impl Elf {
    fn read(file: &mut impl Source) -> Option<Elf> {
        let h = read_at(file, 0, 64)?;
        if h.get(..6)? != b"\x7fELF\x02\x01" {
            return None;
        }
        let (phoff, shoff) = (u64_at(&h, 0x20)?, u64_at(&h, 0x28)?);
        let (phsize, phnum) = (u16_at(&h, 0x36)?, u16_at(&h, 0x38)?);
        let (shsize, shnum, shstrndx) = (u16_at(&h, 0x3a)?, u16_at(&h, 0x3c)?, u16_at(&h, 0x3e)?);
        if phsize < 56 || shsize < 64 {
            return None;
        }
        let ph = read_at(file, phoff, u64::from(phsize) * u64::from(phnum))?;
        let loads = (0..usize::from(phnum))
            .filter_map(|i| {
                let at = i * usize::from(phsize);
                (u32_at(&ph, at)? == 1).then_some(())?;
                Some((
                    u64_at(&ph, at + 8)?,
                    u64_at(&ph, at + 32)?,
                    u64_at(&ph, at + 16)?,
                ))
            })
            .collect();
        let sh = read_at(file, shoff, u64::from(shsize) * u64::from(shnum))?;
        let sections: Vec<Section> = (0..usize::from(shnum))
            .filter_map(|i| {
                let at = i * usize::from(shsize);
                Some(Section {
                    name: u32_at(&sh, at)?,
                    kind: u32_at(&sh, at + 4)?,
                    addr: u64_at(&sh, at + 16)?,
                    offset: u64_at(&sh, at + 24)?,
                    size: u64_at(&sh, at + 32)?,
                    link: u32_at(&sh, at + 40)?,
                })
            })
            .collect();
        let s = sections.get(usize::from(shstrndx))?;
        let shstr = read_at(file, s.offset, s.size)?;
        Some(Elf {
            loads,
            sections,
            shstr,
        })
    }

    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| {
            usize::try_from(s.name)
                .ok()
                .and_then(|n| name_at(&self.shstr, n))
                .is_some_and(|n| n == name)
        })
    }

    /// The function containing file offset `off`, and the offset in it.
    fn symbolize(&self, file: &mut File, off: u64) -> Option<(String, u64)> {
        let vaddr = self.loads.iter().find_map(|&(o, size, va)| {
            (o..o.saturating_add(size))
                .contains(&off)
                .then(|| va.checked_add(off - o))
                .flatten()
        })?;
        self.symtab(file, vaddr)
            .or_else(|| self.gopclntab(file, vaddr))
    }

    /// `.symtab` (else `.dynsym`): the FUNC symbol whose range holds `vaddr`.
    fn symtab(&self, file: &mut File, vaddr: u64) -> Option<(String, u64)> {
        let s = self
            .sections
            .iter()
            .find(|s| s.kind == 2)
            .or_else(|| self.sections.iter().find(|s| s.kind == 11))?;
        let syms = read_at(file, s.offset, s.size)?;
        let strs = self.sections.get(usize::try_from(s.link).ok()?)?;
        let mut best: Option<(u32, u64)> = None;
        for e in syms.chunks_exact(24) {
            let (name, info, value, size) = (u32_at(e, 0)?, e[4], u64_at(e, 8)?, u64_at(e, 16)?);
            if info & 0xf == 2 && value <= vaddr && vaddr < value.saturating_add(size.max(1)) {
                best = Some((name, vaddr - value));
                break;
            }
        }
        let (name, off) = best?;
        let strtab = read_at(file, strs.offset, strs.size)?;
        Some((name_at(&strtab, usize::try_from(name).ok()?)?, off))
    }

    /// Go's function table (`pcHeader` of Go 1.18+, 64-bit): binary search of the
    /// `functab` for `vaddr`, then the `_func`'s name.
    fn gopclntab(&self, file: &mut File, vaddr: u64) -> Option<(String, u64)> {
        let s = self.section(".gopclntab")?;
        let h = read_at(file, s.offset, 72)?;
        let magic = u32_at(&h, 0)?;
        if !matches!(magic, 0xffff_fff0 | 0xffff_fff1) || h[7] != 8 {
            return None;
        }
        let nfunc = u64_at(&h, 8)?;
        // Go 1.18 and 1.19 write the text start; later ones 0 (then `.text`'s address).
        let text = match u64_at(&h, 24)? {
            0 => self.section(".text")?.addr,
            t => t,
        };
        let (nameoff, pcln) = (u64_at(&h, 32)?, u64_at(&h, 64)?);
        let rel = u32::try_from(vaddr.checked_sub(text)?).ok()?;
        let ftab = s.offset.checked_add(pcln)?;
        let entry = |file: &mut File, i: u64| -> Option<(u32, u32)> {
            let b = read_at(file, ftab.checked_add(i.checked_mul(8)?)?, 8)?;
            Some((u32_at(&b, 0)?, u32_at(&b, 4)?))
        };
        // The last entry whose start is at or below `rel` (at most 64 halvings).
        let (mut lo, mut hi) = (0u64, nfunc.min(1 << 32));
        while hi.saturating_sub(lo) > 1 {
            let mid = lo + (hi - lo) / 2;
            if entry(file, mid)?.0 <= rel {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let (start, funcoff) = entry(file, lo)?;
        if start > rel {
            return None;
        }
        let f = read_at(file, ftab.checked_add(u64::from(funcoff))?, 8)?;
        let name = u64::from(u32_at(&f, 4)?);
        let at = s.offset.checked_add(nameoff)?.checked_add(name)?;
        let bytes = read_at(file, at, 256.min(s.size))?;
        Some((name_at(&bytes, 0)?, u64::from(rel - start)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_function_of_this_test_binary_has_its_name() {
        let ip = a_function_of_this_test_binary_has_its_name as *const () as usize as u64;
        let p = super::place(std::process::id() as i32, ip);
        // A mangled Rust name (takt does not demangle), at offset 0.
        assert!(
            p.contains("a_function_of_this_test_binary_has_its_name"),
            "{p}"
        );
        assert!(p.contains("+0x0 in /"), "{p}");
        assert_eq!(super::place(std::process::id() as i32, 8), "0x8");
    }
}
