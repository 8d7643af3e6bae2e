//! The captures `lola check` arguments name: a directory stands for every
//! pcap and pcapng file under it (recursively, to `--max-depth`), and a
//! name with `*`, `?` or `[` that is not a file (a glob the shell did not
//! expand, as in a quoted CI variable) for the files it matches, `**`
//! crossing directories (globset). Sorted by path; a directory or glob that
//! names no capture is an error, as in a shell with `failglob`.

use std::path::{Path, PathBuf};

use lola::Error;

/// The files `args` name, in argument order, each directory's and glob's
/// sorted by path. `max_depth` limits how deep a directory is walked (1:
/// the files directly in it).
pub fn expand(args: &[PathBuf], max_depth: Option<usize>) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for arg in args {
        if arg.is_dir() {
            let mut found = Vec::new();
            walk(arg, 1, max_depth, &mut |p| {
                if is_capture_name(p) {
                    found.push(p.to_path_buf());
                }
            })?;
            if found.is_empty() {
                return Err(Error::Invalid(format!(
                    "{}: a directory with no .pcap or .pcapng file{}",
                    arg.display(),
                    if max_depth.is_some() {
                        " within --max-depth"
                    } else {
                        ""
                    }
                )));
            }
            found.sort();
            files.append(&mut found);
            continue;
        }
        let text = arg.to_string_lossy();
        if !arg.exists() && text.contains(['*', '?', '[']) {
            let mut found = glob(&text, max_depth)?;
            if found.is_empty() {
                return Err(Error::Invalid(format!(
                    "{}: no file matches",
                    arg.display()
                )));
            }
            found.sort();
            files.append(&mut found);
            continue;
        }
        files.push(arg.clone());
    }
    Ok(files)
}

fn is_capture_name(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["pcap", "pcapng", "cap"]
            .iter()
            .any(|c| e.eq_ignore_ascii_case(c))
    })
}

/// The files matching `pattern`: walked from the longest leading part
/// without a wildcard, `*` and `?` staying within one name, `**` crossing
/// directories, names starting with `.` matched only by a pattern that
/// starts them with `.`.
fn glob(pattern: &str, max_depth: Option<usize>) -> Result<Vec<PathBuf>, Error> {
    let matcher = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| Error::Invalid(format!("{pattern}: not a glob: {e}")))?
        .compile_matcher();
    let parts: Vec<&str> = pattern.split('/').collect();
    let literal = parts
        .iter()
        .take_while(|p| !p.contains(['*', '?', '[']))
        .count();
    let base = parts[..literal].join("/");
    let (root, strip) = match base.as_str() {
        "" if pattern.starts_with('/') => (PathBuf::from("/"), false),
        "" => (PathBuf::from("."), true),
        b => (PathBuf::from(b), false),
    };
    let rest = &parts[literal..];
    let depth = if rest.contains(&"**") || rest.iter().any(|p| p.contains("**")) {
        max_depth
    } else {
        Some(rest.len())
    };
    let dotted = rest.iter().any(|p| p.starts_with('.'));
    let mut found = Vec::new();
    if !root.is_dir() {
        return Ok(found);
    }
    walk(&root, 1, depth, &mut |p| {
        let p = if strip {
            p.strip_prefix(".").unwrap_or(p)
        } else {
            p
        };
        let hidden = p
            .strip_prefix(&base)
            .unwrap_or(p)
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        if matcher.is_match(p) && (dotted || !hidden) {
            found.push(p.to_path_buf());
        }
    })?;
    Ok(found)
}

/// Calls `each` with every file under `dir`, `depth` being `dir`'s
/// entries' depth (1); symbolic links to directories are not followed, so a
/// link to an ancestor cannot loop.
fn walk(
    dir: &Path,
    depth: usize,
    max_depth: Option<usize>,
    each: &mut dyn FnMut(&Path),
) -> Result<(), Error> {
    if max_depth.is_some_and(|m| depth > m) {
        return Ok(());
    }
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            walk(&path, depth + 1, max_depth, each)?;
        } else if !(kind.is_symlink() && path.is_dir()) {
            each(&path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "a.pcap",
            "b.pcapng",
            ".hidden.pcap",
            "x/c.pcap",
            "x/y/d.pcap",
            "x/y/notes.txt",
        ] {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"").unwrap();
        }
        dir
    }

    fn names(root: &Path, files: Vec<PathBuf>) -> Vec<String> {
        files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn a_directory_is_walked_to_max_depth() {
        let t = tree();
        let all = expand(&[t.path().to_path_buf()], None).unwrap();
        assert_eq!(
            names(t.path(), all),
            [
                ".hidden.pcap",
                "a.pcap",
                "b.pcapng",
                "x/c.pcap",
                "x/y/d.pcap"
            ]
        );
        let top = expand(&[t.path().to_path_buf()], Some(1)).unwrap();
        assert_eq!(names(t.path(), top), [".hidden.pcap", "a.pcap", "b.pcapng"]);
    }

    #[test]
    fn double_star_crosses_directories_and_star_does_not() {
        let t = tree();
        let p = |s: &str| PathBuf::from(format!("{}/{s}", t.path().display()));
        let deep = expand(&[p("**/*.pcap")], None).unwrap();
        assert_eq!(names(t.path(), deep), ["a.pcap", "x/c.pcap", "x/y/d.pcap"]);
        let flat = expand(&[p("*.pcap")], None).unwrap();
        assert_eq!(names(t.path(), flat), ["a.pcap"]);
        let one = expand(&[p("x/?/*.pcap")], None).unwrap();
        assert_eq!(names(t.path(), one), ["x/y/d.pcap"]);
        assert!(expand(&[p("**/*.nothing")], None).is_err());
    }
}
