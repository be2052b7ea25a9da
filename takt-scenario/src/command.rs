//! Command lines and programs: splitting `"prog arg 'two words'"` the way a shell would
//! (quotes and backslashes; no variables, globs or pipes), finding the program in `PATH`,
//! checking it can be executed, and the environment processes start with.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Splits a command line into words: whitespace separates, `'…'` is literal, `"…"`
/// allows `\"` and `\\`, a backslash outside quotes escapes the next character.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated ' in command line {line:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => {
                                return Err(format!("unterminated \" in command line {line:?}"))
                            }
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated \" in command line {line:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => cur.push(c),
                    None => return Err(format!("trailing backslash in command line {line:?}")),
                }
            }
            '|' | '&' | ';' | '<' | '>' | '`' => {
                return Err(format!(
                    "{c:?} in command line {line:?}: takt runs programs directly, not through a shell \
                     (quote it, or run \"/bin/sh -c '…'\")"
                ));
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Finds `program` (a path, or a name in `PATH`) and checks it is an executable file.
pub fn resolve(program: &Path) -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = if program.components().count() > 1 || program.is_absolute() {
        vec![program.to_path_buf()]
    } else {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join(program)).collect())
            .unwrap_or_default()
    };
    let searched =
        candidates.len() != 1 || !(program.components().count() > 1 || program.is_absolute());
    let mut last = format!("{}: not found in PATH (ENOENT)", program.display());
    for c in candidates {
        match std::fs::metadata(&c) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !searched {
                    last = format!("{}: no such file (ENOENT)", c.display());
                }
            }
            Err(e) => last = format!("{}: {e}", c.display()),
            Ok(m) if m.is_dir() => last = format!("{}: is a directory (EACCES)", c.display()),
            Ok(m) if m.permissions().mode() & 0o111 == 0 => {
                last = format!("{}: not executable (EACCES): chmod +x it", c.display());
            }
            Ok(_) => return Ok(std::fs::canonicalize(&c).unwrap_or(c)),
        }
    }
    Err(last)
}

/// The environment a process starts with: the host's `PATH`, `HOME` set to the node's
/// directory, `LANG=C`, `TZ=UTC`. Nothing else leaks in from the test's environment.
pub fn default_env(node_dir: &Path) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    vec![
        ("PATH".into(), path),
        ("HOME".into(), node_dir.to_string_lossy().into_owned()),
        ("LANG".into(), "C".into()),
        ("TZ".into(), "UTC".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(split("a  b\tc").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            split(r#"x 'two words' "q\"x" a\ b"#).unwrap(),
            ["x", "two words", "q\"x", "a b"]
        );
        assert_eq!(split("''").unwrap(), [""]);
        assert!(split("a 'b").unwrap_err().contains("unterminated"));
        assert!(split("a | b").unwrap_err().contains("not through a shell"));
    }

    #[test]
    fn resolve_reports_missing_and_non_executable() {
        assert!(resolve(Path::new("sh")).is_ok());
        let e = resolve(Path::new("/nonexistent/prog")).unwrap_err();
        assert!(e.contains("ENOENT"), "{e}");
        let e = resolve(Path::new("/etc/passwd")).unwrap_err();
        assert!(e.contains("not executable"), "{e}");
    }
}
