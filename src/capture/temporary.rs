//! Temporary files that become outputs, and the one list of them a signal
//! handler may read: [`remove_temporary_files`] unlinks every one still
//! being written, so that SIGINT or SIGTERM leaves the original file or the
//! whole new one, never a `.lola-*.part` beside them.

use std::ffi::{CString, OsStr};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

/// A temporary file being written, registered until it is renamed into
/// place or dropped (which removes it).
struct Entry {
    dir: i32,
    name: CString,
    /// For a directory of numbered files: its descriptor, how many files
    /// (`0.SUFFIX`, `1.SUFFIX`, ...) and their suffix, removed before it.
    numbered: Option<(i32, usize, CString)>,
}

/// How many temporary files may be registered at once; beyond that a file
/// is still removed on error, only not by the signal handler.
const SLOTS: usize = 64;

static REGISTRY: [AtomicPtr<Entry>; SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

/// Removes every temporary file lola is writing. Safe to call from a signal
/// handler (it only reads atomics and calls `unlinkat`); a command's
/// SIGINT/SIGTERM handler calls it before the process dies.
pub fn remove_temporary_files() {
    // Files first, then the directories that may have held some of them.
    for directories in [false, true] {
        for slot in &REGISTRY {
            let entry = slot.load(Ordering::Acquire);
            if entry.is_null() {
                continue;
            }
            // SAFETY: entries are leaked, never freed, so the pointer stays
            // valid; unlinkat is async-signal-safe, and the names are built
            // in a buffer on the stack.
            unsafe {
                let entry = &*entry;
                match &entry.numbered {
                    None if !directories => {
                        libc::unlinkat(entry.dir, entry.name.as_ptr(), 0);
                    }
                    Some((dir, count, suffix)) if directories => {
                        for i in 0..*count {
                            let mut buffer = [0u8; 64];
                            if numbered_name(i, suffix.as_bytes(), &mut buffer) {
                                libc::unlinkat(*dir, buffer.as_ptr().cast(), 0);
                            }
                        }
                        libc::unlinkat(entry.dir, entry.name.as_ptr(), libc::AT_REMOVEDIR);
                    }
                    _ => {}
                }
            }
        }
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Says that lola was asked to stop (SIGINT, SIGTERM): an output that would
/// wait (a FIFO no one reads yet) gives up instead. Safe to call from a
/// signal handler.
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Whether [`interrupt`] was called.
pub(super) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// A directory opened only to name things in it (`O_PATH`): no read
/// permission needed.
fn open_path(dir: &std::path::Path) -> io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)?;
    Ok(file.into())
}

/// Writes `{i}{suffix}` and a NUL into `buffer` without allocating (for a
/// signal handler); false when it does not fit.
fn numbered_name(i: usize, suffix: &[u8], buffer: &mut [u8; 64]) -> bool {
    let mut digits = [0u8; 20];
    let (mut n, mut len) = (i, 0);
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if len + suffix.len() + 1 > buffer.len() {
        return false;
    }
    for k in 0..len {
        buffer[k] = digits[len - 1 - k];
    }
    buffer[len..len + suffix.len()].copy_from_slice(suffix);
    buffer[len + suffix.len()] = 0;
    true
}

fn register(entry: Entry) -> Option<usize> {
    let entry = Box::into_raw(Box::new(entry));
    for (i, slot) in REGISTRY.iter().enumerate() {
        if slot
            .compare_exchange(
                std::ptr::null_mut(),
                entry,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            return Some(i);
        }
    }
    // SAFETY: not shared with the registry: no slot took it.
    drop(unsafe { Box::from_raw(entry) });
    None
}

fn unregister(slot: Option<usize>) {
    if let Some(i) = slot {
        // The entry is left allocated: a signal handler on another thread
        // may still be reading it.
        REGISTRY[i].store(std::ptr::null_mut(), Ordering::Release);
    }
}

/// A private directory of numbered files (`0.ndjson`, `1.ndjson`, ...)
/// beside an output, for parts joined into it at the end: removed with
/// its files when dropped, or by [`remove_temporary_files`] on a signal.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let parts = lola::capture::NumberedDir::create_in(dir.path(), 2, ".ndjson").unwrap();
/// std::fs::write(parts.file(0), b"{}").unwrap();
/// assert!(parts.file(1).ends_with("1.ndjson"));
/// drop(parts);
/// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
/// ```
pub struct NumberedDir {
    path: std::path::PathBuf,
    suffix: String,
    count: usize,
    slot: Option<usize>,
    _dir: OwnedFd,
    _parent: OwnedFd,
}

impl NumberedDir {
    /// Makes `.lola-PID-N.parts` (mode 0700) in `parent` for `count` files
    /// ending in `suffix`.
    pub fn create_in(
        parent: &std::path::Path,
        count: usize,
        suffix: &str,
    ) -> io::Result<NumberedDir> {
        let parent_fd = open_path(parent)?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(".lola-{}-{n}.parts", std::process::id());
        let c = CString::new(name.clone()).map_err(io::Error::other)?;
        // SAFETY: a valid descriptor and NUL-terminated name.
        if unsafe { libc::mkdirat(parent_fd.as_raw_fd(), c.as_ptr(), 0o700) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let path = parent.join(&name);
        let dir = match open_path(&path) {
            Ok(dir) => dir,
            Err(e) => {
                // SAFETY: as above.
                unsafe { libc::unlinkat(parent_fd.as_raw_fd(), c.as_ptr(), libc::AT_REMOVEDIR) };
                return Err(e);
            }
        };
        let suffix_c = CString::new(suffix).map_err(io::Error::other)?;
        let slot = register(Entry {
            dir: parent_fd.as_raw_fd(),
            name: c,
            numbered: Some((dir.as_raw_fd(), count, suffix_c)),
        });
        Ok(NumberedDir {
            path,
            suffix: suffix.to_string(),
            count,
            slot,
            _dir: dir,
            _parent: parent_fd,
        })
    }

    /// The path of the `i`th file.
    pub fn file(&self, i: usize) -> std::path::PathBuf {
        self.path.join(format!("{i}{}", self.suffix))
    }
}

impl Drop for NumberedDir {
    fn drop(&mut self) {
        for i in 0..self.count {
            let _ = fs::remove_file(self.file(i));
        }
        let _ = fs::remove_dir(&self.path);
        unregister(self.slot.take());
    }
}

/// A temporary file in an open directory, removed when dropped unless
/// [`Temporary::persist`] renamed it into place.
pub(super) struct Temporary {
    dir: OwnedFd,
    name: CString,
    slot: Option<usize>,
    persisted: bool,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Temporary {
    /// Creates `.lola-PID-N.part` in `dir` (mode 0666 less the umask, as
    /// tcpdump's files are), never following a link nor taking a name that
    /// exists. Returns it with the file open for writing.
    pub(super) fn create_in(dir: OwnedFd, suffix: &str) -> io::Result<(Temporary, fs::File)> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = format!(".lola-{}-{n}-{nanos:x}.{suffix}", std::process::id());
            let name = CString::new(name).map_err(io::Error::other)?;
            // SAFETY: a valid directory descriptor and NUL-terminated name.
            let fd = unsafe {
                libc::openat(
                    dir.as_raw_fd(),
                    name.as_ptr(),
                    libc::O_WRONLY
                        | libc::O_CREAT
                        | libc::O_EXCL
                        | libc::O_NOFOLLOW
                        | libc::O_CLOEXEC,
                    0o666 as libc::c_uint,
                )
            };
            if fd < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::AlreadyExists {
                    continue;
                }
                return Err(e);
            }
            // SAFETY: a fresh descriptor nobody else owns.
            let file = unsafe { fs::File::from_raw_fd(fd) };
            let mut temporary = Temporary {
                dir,
                name,
                slot: None,
                persisted: false,
            };
            temporary.register();
            return Ok((temporary, file));
        }
        Err(io::Error::from(io::ErrorKind::AlreadyExists))
    }

    fn register(&mut self) {
        self.slot = register(Entry {
            dir: self.dir.as_raw_fd(),
            name: self.name.clone(),
            numbered: None,
        });
    }

    fn unregister(&mut self) {
        unregister(self.slot.take());
    }

    /// Renames the file (written and synced) over `name` in its directory.
    pub(super) fn persist(mut self, name: &OsStr) -> io::Result<()> {
        let to = CString::new(name.as_bytes()).map_err(io::Error::other)?;
        // SAFETY: valid descriptors and NUL-terminated names.
        let rc = unsafe {
            libc::renameat(
                self.dir.as_raw_fd(),
                self.name.as_ptr(),
                self.dir.as_raw_fd(),
                to.as_ptr(),
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        self.persisted = true;
        self.unregister();
        Ok(())
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.persisted {
            // SAFETY: valid descriptor and NUL-terminated name.
            unsafe {
                libc::unlinkat(self.dir.as_raw_fd(), self.name.as_ptr(), 0);
            }
        }
        self.unregister();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_dir(path: &std::path::Path) -> OwnedFd {
        fs::File::open(path).unwrap().into()
    }

    fn names_in(dir: &std::path::Path) -> Vec<std::ffi::OsString> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect()
    }

    #[test]
    fn numbered_names_are_built_without_allocating() {
        let mut buffer = [0u8; 64];
        assert!(numbered_name(0, b".ndjson", &mut buffer));
        assert_eq!(&buffer[..9], b"0.ndjson\0");
        assert!(numbered_name(1207, b".x", &mut buffer));
        assert_eq!(&buffer[..7], b"1207.x\0");
        assert!(!numbered_name(1, &[b'a'; 63], &mut buffer));
    }

    #[test]
    fn a_dropped_file_is_removed_and_a_persisted_one_renamed() {
        let dir = tempfile::tempdir().unwrap();
        let (dropped, _) = Temporary::create_in(open_dir(dir.path()), "part").unwrap();
        assert_eq!(names_in(dir.path()).len(), 1);
        assert!(
            REGISTRY
                .iter()
                .any(|s| !s.load(Ordering::Relaxed).is_null())
        );
        drop(dropped);
        assert!(names_in(dir.path()).is_empty());
        let (persisted, mut file) = Temporary::create_in(open_dir(dir.path()), "part").unwrap();
        io::Write::write_all(&mut file, b"whole").unwrap();
        persisted.persist(OsStr::new("done")).unwrap();
        assert_eq!(names_in(dir.path()), ["done"]);
        assert_eq!(fs::read(dir.path().join("done")).unwrap(), b"whole");
    }
}
