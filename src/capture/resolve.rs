//! Where an output path leads, found one component at a time as the kernel
//! would, with the kernel's protections for shared directories applied by
//! lola itself whatever the machine's sysctl says:
//!
//! - `fs.protected_symlinks`: a symbolic link in a sticky world-writable
//!   directory (the system's shared temporary directory, say) is followed
//!   only when it belongs to the caller or to the directory's owner. This
//!   holds for every link on the way, in any component of the path;
//! - `fs.protected_regular` and `fs.protected_fifos` (value 2): an existing
//!   regular file or FIFO in a sticky world- or group-writable directory is
//!   written only when it belongs to the caller or to the directory's owner.
//!
//! A refusal names the link (or file), its owner and the rule. The answer
//! carries the identity of the directory found, so that the writer can
//! check it still writes where the walk looked.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// How many symbolic links a path may go through (Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// Where an output path leads.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per output opened
pub(super) enum Resolved {
    /// An open descriptor of this process (`/dev/stdout`, `/dev/fd/N`).
    Descriptor(i32),
    /// A name in a directory: `existing` is what the name holds now (never
    /// a link or a directory), `None` for a name not yet taken.
    Entry {
        /// The directory, reached without any symbolic link.
        dir: PathBuf,
        /// Its (device, inode), as the walk found it.
        dir_id: (u64, u64),
        /// The last component.
        name: OsString,
        /// What is there now.
        existing: Option<fs::Metadata>,
    },
}

impl Resolved {
    /// The path of an entry: its directory joined with its name.
    pub(super) fn path(&self) -> Option<PathBuf> {
        match self {
            Resolved::Descriptor(_) => None,
            Resolved::Entry { dir, name, .. } => Some(dir.join(name)),
        }
    }

    /// True for a regular file or a name not yet taken: what a reader can
    /// open again and find the same bytes in.
    pub(super) fn is_file(&self) -> bool {
        match self {
            Resolved::Descriptor(_) => false,
            Resolved::Entry { existing, .. } => existing.as_ref().is_none_or(|m| m.is_file()),
        }
    }
}

enum Step {
    Root,
    Parent,
    Name(OsString),
}

fn steps_of(path: &Path) -> Vec<Step> {
    let mut steps: Vec<Step> = path
        .components()
        .filter_map(|c| match c {
            Component::RootDir => Some(Step::Root),
            Component::ParentDir => Some(Step::Parent),
            Component::Normal(name) => Some(Step::Name(name.to_os_string())),
            Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    steps.reverse();
    steps
}

/// Follows `path` to what it names, applying the protected-link and
/// protected-file rules at every step. Errors: `NotFound` for a missing
/// directory on the way, `IsADirectory`, `NotADirectory`, `ELOOP`, or a
/// refusal in words.
pub(super) fn resolve(path: &Path) -> io::Result<Resolved> {
    if let Some(fd) = descriptor_named(path) {
        return Ok(Resolved::Descriptor(fd));
    }
    let mut done = if path.has_root() {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    };
    let mut done_meta = fs::metadata(dir_or_dot(&done))?;
    let mut todo = steps_of(path);
    let mut links = 0;
    while let Some(step) = todo.pop() {
        let name = match step {
            Step::Root => {
                done = PathBuf::from("/");
                done_meta = fs::metadata(&done)?;
                continue;
            }
            Step::Parent => {
                // `done` holds no link, so its parent is found by words.
                if done.as_os_str().is_empty() || done.ends_with("..") {
                    done.push("..");
                } else if done != Path::new("/") {
                    done.pop();
                }
                done_meta = fs::metadata(dir_or_dot(&done))?;
                continue;
            }
            Step::Name(name) => name,
        };
        let candidate = done.join(&name);
        let last = todo.is_empty();
        if last && let Some(fd) = descriptor_named(&candidate) {
            return Ok(Resolved::Descriptor(fd));
        }
        match fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                may_follow(&done, &done_meta, &candidate, &meta)?;
                let to = fs::read_link(&candidate)?;
                // Relative to the link's own directory, as the kernel does.
                todo.extend(steps_of(&to));
            }
            Ok(meta) if meta.is_dir() => {
                if last {
                    return Err(io::Error::from(io::ErrorKind::IsADirectory));
                }
                done = candidate;
                done_meta = meta;
            }
            Ok(meta) if last => {
                if meta.file_type().is_block_device() {
                    // Writing a capture over a disk is never what was
                    // meant, and replacing its node would be no better.
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "is a block device; captures go to files, character devices, FIFOs or sockets",
                    ));
                }
                may_open(&done, &done_meta, &candidate, &meta)?;
                return Ok(entry(done, &done_meta, name, Some(meta)));
            }
            Ok(_) => return Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && last => {
                return Ok(entry(done, &done_meta, name, None));
            }
            Err(e) => return Err(e),
        }
    }
    // The path named a directory: `/`, `.`, `..`.
    Err(io::Error::from(io::ErrorKind::IsADirectory))
}

fn entry(
    dir: PathBuf,
    dir_meta: &fs::Metadata,
    name: OsString,
    existing: Option<fs::Metadata>,
) -> Resolved {
    Resolved::Entry {
        dir: dir_or_dot(&dir).to_path_buf(),
        dir_id: (dir_meta.dev(), dir_meta.ino()),
        name,
        existing,
    }
}

fn dir_or_dot(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }
}

/// A directory anyone may create names in, which only the sticky bit keeps
/// from renaming or removing each other's: `group` counts group-writable
/// ones too (value 2 of `protected_regular`).
fn shared(dir: &fs::Metadata, group: bool) -> Option<&'static str> {
    let mode = dir.mode();
    if mode & libc::S_ISVTX == 0 {
        None
    } else if mode & libc::S_IWOTH != 0 {
        Some("world-writable")
    } else if group && mode & libc::S_IWGRP != 0 {
        Some("group-writable")
    } else {
        None
    }
}

fn euid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// `fs.protected_symlinks`: in a sticky world-writable directory a link is
/// followed only when it belongs to the caller or to the directory's owner.
fn may_follow(
    dir: &Path,
    dir_meta: &fs::Metadata,
    link: &Path,
    meta: &fs::Metadata,
) -> io::Result<()> {
    let Some(how) = shared(dir_meta, false) else {
        return Ok(());
    };
    if meta.uid() == euid() || meta.uid() == dir_meta.uid() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "refusing to follow {}, a symbolic link owned by {} in the sticky {how} directory {} (owned by {}): the protected_symlinks rule follows such a link only for its owner or the directory's owner",
        link.display(),
        owner_name(meta.uid()),
        dir_or_dot(dir).display(),
        owner_name(dir_meta.uid()),
    )))
}

/// `fs.protected_regular` and `fs.protected_fifos`, value 2: in a sticky
/// world- or group-writable directory an existing regular file or FIFO is
/// written only when it belongs to the caller or to the directory's owner.
fn may_open(
    dir: &Path,
    dir_meta: &fs::Metadata,
    file: &Path,
    meta: &fs::Metadata,
) -> io::Result<()> {
    let (what, rule) = if meta.is_file() {
        ("regular file", "protected_regular")
    } else if meta.file_type().is_fifo() {
        ("FIFO", "protected_fifos")
    } else {
        return Ok(());
    };
    let Some(how) = shared(dir_meta, true) else {
        return Ok(());
    };
    if meta.uid() == euid() || meta.uid() == dir_meta.uid() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "refusing to write {}, a {what} owned by {} in the sticky {how} directory {} (owned by {}): the {rule} rule lets only its owner or the directory's owner open it there",
        file.display(),
        owner_name(meta.uid()),
        dir_or_dot(dir).display(),
        owner_name(dir_meta.uid()),
    )))
}

/// `nobody (uid 65534)`, or `uid 1234` for a user `/etc/passwd` does not name.
pub(super) fn owner_name(uid: u32) -> String {
    let name = fs::read_to_string("/etc/passwd").ok().and_then(|text| {
        text.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id: u32 = fields.nth(1)?.parse().ok()?;
            (id == uid).then(|| name.to_string())
        })
    });
    match name {
        Some(name) => format!("{name} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

/// The descriptor a path names, if it is one of `/dev/stdout`,
/// `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`, `/proc/thread-self/fd/N`
/// or `/proc/PID/fd/N` with this process's PID.
pub(super) fn descriptor_named(path: &Path) -> Option<i32> {
    let text = path.to_str()?;
    match text {
        "/dev/stdout" => return Some(1),
        "/dev/stderr" => return Some(2),
        _ => {}
    }
    let own = format!("/proc/{}/fd/", std::process::id());
    let number = ["/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/", &own]
        .iter()
        .find_map(|prefix| text.strip_prefix(prefix))?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_are_recognised_by_name() {
        assert_eq!(descriptor_named(Path::new("/dev/stdout")), Some(1));
        assert_eq!(descriptor_named(Path::new("/dev/stderr")), Some(2));
        assert_eq!(descriptor_named(Path::new("/dev/fd/7")), Some(7));
        assert_eq!(descriptor_named(Path::new("/proc/self/fd/12")), Some(12));
        let own = format!("/proc/{}/fd/3", std::process::id());
        assert_eq!(descriptor_named(Path::new(&own)), Some(3));
        assert_eq!(
            descriptor_named(Path::new("/proc/1/fd/3")),
            None,
            "not ours"
        );
        assert_eq!(descriptor_named(Path::new("/dev/fd/")), None);
        assert_eq!(descriptor_named(Path::new("/dev/fd/1x")), None);
        assert_eq!(descriptor_named(Path::new("stdout")), None);
    }

    /// Where a path leads: `file:PATH`, `new:PATH`, `fd:N` or the error kind.
    fn lead(path: &Path) -> String {
        match resolve(path) {
            Ok(Resolved::Descriptor(fd)) => format!("fd:{fd}"),
            Ok(r @ Resolved::Entry { .. }) => {
                let what = match &r {
                    Resolved::Entry { existing: None, .. } => "new",
                    Resolved::Entry {
                        existing: Some(m), ..
                    } if m.is_file() => "file",
                    _ => "special",
                };
                format!("{what}:{}", r.path().unwrap().display())
            }
            Err(e) => match e.raw_os_error() {
                Some(libc::ELOOP) => "loop".into(),
                _ => format!("{:?}", e.kind()),
            },
        }
    }

    #[test]
    fn paths_lead_through_links_in_any_component_to_what_they_name() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        let shown = |name: &str| format!("{}", at(name).display());
        fs::create_dir(at("sub")).unwrap();
        fs::write(at("sub/file.pcap"), b"old").unwrap();
        symlink("sub/file.pcap", at("one")).unwrap();
        symlink("one", at("two")).unwrap();
        symlink("../sub/file.pcap", at("sub/up")).unwrap();
        symlink("missing/new.pcap", at("dangling")).unwrap();
        symlink("/dev/null", at("null")).unwrap();
        symlink("/dev/stdout", at("out")).unwrap();
        symlink("sub", at("dir")).unwrap();
        symlink("loop-b", at("loop-a")).unwrap();
        symlink("loop-a", at("loop-b")).unwrap();
        assert_eq!(lead(&at("new.pcap")), format!("new:{}", shown("new.pcap")));
        assert_eq!(lead(&at("one")), format!("file:{}", shown("sub/file.pcap")));
        assert_eq!(lead(&at("two")), format!("file:{}", shown("sub/file.pcap")));
        assert_eq!(
            lead(&at("sub/up")),
            format!("file:{}", shown("sub/file.pcap"))
        );
        assert_eq!(
            lead(&at("dir/up")),
            format!("file:{}", shown("sub/file.pcap"))
        );
        assert_eq!(
            lead(&at("dir/new.pcap")),
            format!("new:{}", shown("sub/new.pcap"))
        );
        assert_eq!(
            lead(&at("dangling")),
            "NotFound",
            "its directory is missing"
        );
        assert_eq!(lead(&at("null")), "special:/dev/null");
        assert_eq!(lead(&at("out")), "fd:1");
        assert_eq!(lead(&at("dir")), "IsADirectory");
        assert_eq!(lead(&at("sub")), "IsADirectory");
        assert_eq!(lead(&at("loop-a")), "loop");
        assert_eq!(lead(&at("sub/file.pcap/x")), "NotADirectory");
        assert_eq!(lead(Path::new("/")), "IsADirectory");
    }

    #[test]
    fn shared_directories_are_sticky_and_writable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let mode = |m: u32| {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(m)).unwrap();
            let meta = fs::metadata(dir.path()).unwrap();
            (shared(&meta, false), shared(&meta, true))
        };
        assert_eq!(
            mode(0o1777),
            (Some("world-writable"), Some("world-writable"))
        );
        assert_eq!(mode(0o1770), (None, Some("group-writable")));
        assert_eq!(mode(0o0777), (None, None));
        assert_eq!(mode(0o1755), (None, None));
    }
}
