//! Writing captures with `pcap-file`: little-endian pcap like tcpdump's, or an
//! annotated pcapng. Regular files are replaced whole through a temporary
//! file renamed into place; links are followed, devices and FIFOs written
//! in place.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::Format;
use super::stream::{CaptureFrame, CaptureStatistics, FrameEncoder, WriteSummary, fits};
use crate::error::{Error, Result};

/// Encodes `frames` as a capture of Ethernet frames into `out`.
///
/// pcap: little-endian, microsecond timestamps, version 2.4, snaplen 262144
/// (what tcpdump writes on x86). pcapng: one little-endian section naming lola
/// as the application, one interface `lo` with nanosecond timestamps, one
/// Enhanced Packet Block per frame carrying its comment.
///
/// ```
/// use std::borrow::Cow;
/// use std::time::Duration;
/// use lola::capture::{encode_capture, CaptureFrame, Format};
/// let frame = CaptureFrame { timestamp: Duration::ZERO, data: Cow::Borrowed(&[0u8; 60]), comment: None, flags: None };
/// let mut out = Vec::new();
/// let bytes = encode_capture(&mut out, Format::Pcap, &[frame]).unwrap();
/// assert_eq!(bytes, 24 + 16 + 60);
/// assert_eq!(&out[..4], &[0xd4, 0xc3, 0xb2, 0xa1]); // little-endian magic
/// ```
pub fn encode_capture<W: Write>(
    out: W,
    format: Format,
    frames: &[CaptureFrame<'_>],
) -> io::Result<u64> {
    encode_capture_with(out, format, frames, None)
}

/// [`encode_capture`], and (pcapng) the capture's counters after the frames.
pub fn encode_capture_with<W: Write>(
    out: W,
    format: Format,
    frames: &[CaptureFrame<'_>],
    statistics: Option<CaptureStatistics>,
) -> io::Result<u64> {
    // Refused before a byte is written, so a device or FIFO gets nothing.
    for frame in frames {
        fits(frame, format)?;
    }
    let mut encoder = FrameEncoder::new(out, format)?;
    for frame in frames {
        encoder.write(frame)?;
    }
    Ok(encoder.finish(statistics)?.bytes)
}

/// Writes `frames` to `path` as `tcpdump -w` would, but never leaving half a
/// file or destroying what `path` is:
///
/// - a regular file (or a name not yet taken) is written whole or not at all:
///   the bytes go to a temporary file in the same directory, which is synced
///   and renamed over `path` only when complete, with mode 0666 less the
///   umask. A failure (a full disk, say) leaves any existing file untouched
///   and no temporary file behind;
/// - a symbolic link is followed (through any chain) and its target written
///   that way in the target's own directory; the link stays a link;
/// - a character device (`/dev/null`), FIFO or Unix socket is opened and
///   written in place: it stays what it is, and atomicity does not apply;
/// - `-`, `/dev/stdout`, `/dev/fd/N` and `/proc/self/fd/N` write to that
///   descriptor of this process.
///
/// Errors name `path` as given. A directory or a block device is refused.
///
/// ```
/// use lola::capture::{write_capture, Format};
/// use lola::{Datagram, Expectation};
/// let datagram = Datagram::new(
///     "127.0.0.1:40000".parse().unwrap(),
///     "127.0.0.1:7456".parse().unwrap(),
///     b"Hello Lola".to_vec(),
/// );
/// let frame = lola::harness::synthesize(&datagram).unwrap();
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("hello.pcap");
/// let summary = write_capture(&path, Format::Pcap, &[frame.clone()]).unwrap();
/// assert_eq!(std::fs::metadata(&path).unwrap().len(), summary.bytes);
/// assert!(lola::check_file(&path, &Expectation::exactly(&datagram)).unwrap().passed());
/// // Through a symbolic link: the target is written, the link stays.
/// let link = dir.path().join("link.pcap");
/// std::os::unix::fs::symlink("hello.pcap", &link).unwrap();
/// write_capture(&link, Format::PcapNg, &[frame]).unwrap();
/// assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
/// assert_eq!(std::fs::read(&path).unwrap()[..4], [0x0a, 0x0d, 0x0d, 0x0a]);
/// ```
pub fn write_capture(
    path: &Path,
    format: Format,
    frames: &[CaptureFrame<'_>],
) -> Result<WriteSummary> {
    write_capture_with(path, format, frames, None)
}

/// [`write_capture`], and (pcapng) the capture's counters after the frames.
pub fn write_capture_with(
    path: &Path,
    format: Format,
    frames: &[CaptureFrame<'_>],
    statistics: Option<CaptureStatistics>,
) -> Result<WriteSummary> {
    let target = if path == Path::new("-") {
        Target::Descriptor(1)
    } else {
        Target::of(path).map_err(|source| io_err(path, source))?
    };
    let bytes = target
        .write_with(|out| encode_capture_with(out, format, frames, statistics))
        .map_err(|source| io_err(path, source))?;
    Ok(WriteSummary {
        format,
        frames: frames.len(),
        bytes,
    })
}

/// Writes a capture to `path` by the rules of [`write_capture`] (a regular
/// file whole or not at all, a link's target, a device or FIFO in place),
/// frame by frame as `fill` hands them to the [`FrameEncoder`]: memory holds
/// one frame, however many are written. `fill` returns its own value and
/// the counters to end a pcapng with; when it fails, its error is returned
/// and a regular file is left as it was.
///
/// ```
/// use std::borrow::Cow;
/// use lola::capture::{write_capture_streamed, CaptureFrame, Format};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("streamed.pcap");
/// let (summary, seen) = write_capture_streamed(&path, Format::Pcap, |encoder| {
///     let data = [0u8; 60];
///     for _ in 0..3 {
///         let frame = CaptureFrame { timestamp: Default::default(), data: Cow::Borrowed(&data[..]), comment: None, flags: None };
///         encoder.write(&frame).map_err(|source| lola::Error::Io { path: "streamed.pcap".into(), source })?;
///     }
///     Ok(("three", None))
/// })
/// .unwrap();
/// assert_eq!((summary.frames, seen), (3, "three"));
/// assert_eq!(std::fs::metadata(&path).unwrap().len(), summary.bytes);
/// // A failing producer leaves nothing behind.
/// let failed = write_capture_streamed(&dir.path().join("no.pcap"), Format::Pcap, |_| -> lola::Result<((), _)> {
///     Err(lola::Error::Invalid("no program to run".into()))
/// });
/// assert_eq!(failed.unwrap_err().to_string(), "no program to run");
/// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
/// ```
pub fn write_capture_streamed<T>(
    path: &Path,
    format: Format,
    fill: impl FnOnce(&mut FrameEncoder<&mut dyn Write>) -> Result<(T, Option<CaptureStatistics>)>,
) -> Result<(WriteSummary, T)> {
    let target = Target::of(path).map_err(|source| io_err(path, source))?;
    // An error of `fill` is carried out past write_with, which speaks io.
    let mut failed = None;
    let written = target.write_with(|out| {
        let mut encoder = FrameEncoder::new(out, format)?;
        match fill(&mut encoder) {
            Ok((value, statistics)) => Ok((encoder.finish(statistics)?, value)),
            Err(e) => {
                failed = Some(e);
                Err(io::Error::other("the capture's producer failed"))
            }
        }
    });
    match (written, failed) {
        (_, Some(e)) => Err(e),
        (Ok(written), None) => Ok(written),
        (Err(source), None) => Err(io_err(path, source)),
    }
}

/// Writes `bytes` to `path` by the same rules as [`write_capture`] (for
/// reports: JUnit XML, JSON): a regular file whole or not at all, a link's
/// target, a device or FIFO in place. `-` is a file named `-` here.
///
/// ```
/// use lola::capture::write_file_atomically;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("report.json");
/// write_file_atomically(&path, b"{}").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"{}");
/// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
/// assert!(write_file_atomically(&dir.path().join("no/such/dir.json"), b"{}").is_err());
/// ```
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let target = Target::of(path).map_err(|source| io_err(path, source))?;
    target
        .write_with(|out| out.write_all(bytes))
        .map_err(|source| io_err(path, source))
}

/// Answers, before any work is done, whether [`write_capture`] could write
/// `path`, so that a long capture is not thrown away at the end. Follows
/// symbolic links as the writer does; a character device, FIFO or socket
/// must be writable by this process; for a regular file (or a new name) a
/// temporary file is created in the target's directory and removed again,
/// which catches a missing directory, a read-only file system and missing
/// permissions; a file system with no free block left says "no space left
/// on device". `-` (standard output) is always fine.
///
/// ```
/// use lola::capture::check_writable;
/// let dir = tempfile::tempdir().unwrap();
/// check_writable(&dir.path().join("new.pcap")).unwrap();
/// assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");
/// let err = check_writable(&dir.path().join("no/such/dir.pcap")).unwrap_err();
/// assert!(err.to_string().ends_with("dir.pcap: no such file or directory"), "{err}");
/// let err = check_writable(dir.path()).unwrap_err();
/// assert!(err.to_string().ends_with(": is a directory"), "{err}");
/// check_writable("/dev/null".as_ref()).unwrap();
/// ```
pub fn check_writable(path: &Path) -> Result<()> {
    if path == Path::new("-") {
        return Ok(());
    }
    let target = Target::of(path).map_err(|source| io_err(path, source))?;
    target.probe().map_err(|source| io_err(path, source))
}

/// True when writing `path` lands on this process's standard output: `-`,
/// `/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`, a link to one of them, or
/// any path naming the pipe, terminal or file that standard output is. A
/// command that prints a summary after writing its capture keeps quiet
/// then, so the capture is not followed by text.
///
/// ```
/// use lola::capture::is_standard_output;
/// assert!(is_standard_output("-".as_ref()));
/// assert!(is_standard_output("/dev/stdout".as_ref()));
/// assert!(is_standard_output("/proc/self/fd/1".as_ref()));
/// assert!(!is_standard_output("no-such-file.pcap".as_ref()));
/// ```
pub fn is_standard_output(path: &Path) -> bool {
    if path == Path::new("-") {
        return true;
    }
    let Some(stdout) = os::identity_of_descriptor(1) else {
        return false;
    };
    match Target::of(path) {
        Ok(Target::Descriptor(1)) => true,
        Ok(Target::Descriptor(fd)) => os::identity_of_descriptor(fd) == Some(stdout),
        Ok(Target::Device(p) | Target::Socket(p) | Target::File(p)) => {
            os::identity_of_path(&p) == Some(stdout)
        }
        Err(_) => false,
    }
}

fn io_err(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What a path given to `-o` really is, once symbolic links are followed.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// An open descriptor of this process (`-`, `/dev/stdout`, `/dev/fd/N`).
    Descriptor(i32),
    /// A character device or FIFO: opened and written in place.
    Device(PathBuf),
    /// A Unix socket: connected to and written.
    Socket(PathBuf),
    /// A regular file, or a name to create: replaced through a temporary file.
    File(PathBuf),
}

/// How many symbolic links a path may go through (Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

impl Target {
    fn of(path: &Path) -> io::Result<Target> {
        let resolved = match follow_links(path)? {
            Followed::Descriptor(fd) => return Ok(Target::Descriptor(fd)),
            Followed::Path(p) => p,
        };
        let meta = match fs::metadata(&resolved) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Target::File(resolved)),
            Err(e) => return Err(e),
        };
        let kind = meta.file_type();
        if kind.is_file() {
            Ok(Target::File(resolved))
        } else if kind.is_dir() {
            Err(io::Error::from(io::ErrorKind::IsADirectory))
        } else if os::is_device_or_fifo(&kind) {
            Ok(Target::Device(resolved))
        } else if os::is_socket(&kind) {
            Ok(Target::Socket(resolved))
        } else {
            // A block device: writing a capture over a disk is never what
            // was meant, and replacing its node would be no better.
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a block device; captures go to files, character devices, FIFOs or sockets",
            ))
        }
    }

    /// Runs `encode` against the target and returns what it returned, with
    /// the rules of [`write_capture`].
    fn write_with<T>(&self, encode: impl FnOnce(&mut dyn Write) -> io::Result<T>) -> io::Result<T> {
        match self {
            Target::Descriptor(1) => {
                // Through std's handle, so anything it buffered goes first.
                let stdout = io::stdout();
                let mut lock = stdout.lock();
                let value = encode(&mut lock)?;
                lock.flush()?;
                Ok(value)
            }
            Target::Descriptor(fd) => {
                let file = os::duplicate(*fd)?;
                let mut out = BufWriter::new(file);
                let value = encode(&mut out)?;
                out.flush()?;
                Ok(value)
            }
            Target::Device(path) => {
                let file = os::open_in_place(path)?;
                let mut out = BufWriter::new(file);
                let value = encode(&mut out)?;
                out.flush()?;
                Ok(value)
            }
            Target::Socket(path) => os::write_to_socket(path, encode),
            Target::File(path) => {
                let temp = tempfile::Builder::new()
                    .prefix(".lola-")
                    .suffix(".part")
                    .tempfile_in(directory_of(path))?;
                let value = {
                    let mut out = BufWriter::new(temp.as_file());
                    let value = encode(&mut out)?;
                    out.flush()?;
                    value
                };
                temp.as_file().sync_all()?;
                set_readable_permissions(temp.as_file())?;
                // On any error above `temp` is dropped, which removes it.
                temp.persist(path).map_err(|e| e.error)?;
                Ok(value)
            }
        }
    }

    /// Checks, without writing anything the user could see, that
    /// [`Target::write_with`] would be allowed to write.
    fn probe(&self) -> io::Result<()> {
        match self {
            Target::Descriptor(fd) => os::descriptor_writable(*fd),
            // Opening a FIFO would wait for (and then disappoint) a reader;
            // ask the kernel about the effective user's permissions instead.
            Target::Device(path) | Target::Socket(path) => os::access_write(path),
            Target::File(path) => {
                let dir = directory_of(path);
                if let Ok(existing) = fs::metadata(path) {
                    os::may_replace(dir, &existing)?;
                }
                tempfile::Builder::new()
                    .prefix(".lola-")
                    .suffix(".probe")
                    .tempfile_in(dir)?
                    .close()?;
                os::has_free_space(dir)
            }
        }
    }
}

enum Followed {
    Descriptor(i32),
    Path(PathBuf),
}

/// Follows the symbolic links at the end of `path` the way open(2) would,
/// stopping at a path naming one of this process's descriptors (whose
/// procfs link text, like `pipe:[1234]`, is no path to follow).
fn follow_links(path: &Path) -> io::Result<Followed> {
    let mut current = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        if let Some(fd) = descriptor_named(&current) {
            return Ok(Followed::Descriptor(fd));
        }
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let to = fs::read_link(&current)?;
                current = if to.is_absolute() {
                    to
                } else {
                    // Relative to the link's own directory, as the kernel does.
                    current.parent().unwrap_or(Path::new("")).join(to)
                };
            }
            Ok(_) => return Ok(Followed::Path(current)),
            // A dangling link: its target is the file to create.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Followed::Path(current)),
            Err(e) => return Err(e),
        }
    }
    Err(os::too_many_links())
}

/// The descriptor a path names, if it is one of `/dev/stdout`,
/// `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`, `/proc/thread-self/fd/N`
/// or `/proc/PID/fd/N` with this process's PID.
fn descriptor_named(path: &Path) -> Option<i32> {
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

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// tempfile creates files with mode 0600; a capture is as readable as what
/// tcpdump writes (0666 less the umask).
#[cfg(unix)]
fn set_readable_permissions(file: &fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let umask = current_umask();
    file.set_permissions(fs::Permissions::from_mode(0o666 & !umask))
}

#[cfg(unix)]
fn current_umask() -> u32 {
    // /proc/self/status has "Umask:\t0022" on Linux >= 4.7; elsewhere assume 022.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

#[cfg(not(unix))]
fn set_readable_permissions(_file: &fs::File) -> io::Result<()> {
    Ok(())
}

/// What the rules of [`write_capture`] need from a Unix system.
#[cfg(unix)]
mod os {
    use std::fs;
    use std::io::{self, BufWriter, Write};
    use std::path::Path;

    /// The (device, inode) of what descriptor `fd` is open on.
    pub(super) fn identity_of_descriptor(fd: i32) -> Option<(u64, u64)> {
        // SAFETY: stat is plain data; zeroed is a valid value.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat writes into the valid `stat`.
        if unsafe { libc::fstat(fd, &mut stat) } != 0 {
            return None;
        }
        Some((stat.st_dev, stat.st_ino))
    }

    /// The (device, inode) of the file `path` names.
    pub(super) fn identity_of_path(path: &Path) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }

    pub(super) fn too_many_links() -> io::Error {
        io::Error::from_raw_os_error(libc::ELOOP)
    }

    /// Connects to the listening socket at `path`, writes, and closes the
    /// writing half so the reader sees the end.
    pub(super) fn write_to_socket<T>(
        path: &Path,
        encode: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    ) -> io::Result<T> {
        let stream = std::os::unix::net::UnixStream::connect(path)?;
        let mut out = BufWriter::new(&stream);
        let value = encode(&mut out)?;
        out.flush()?;
        drop(out);
        stream.shutdown(std::net::Shutdown::Write)?;
        Ok(value)
    }

    /// EBADF for a descriptor that is closed or open read-only.
    pub(super) fn descriptor_writable(fd: i32) -> io::Result<()> {
        // SAFETY: F_GETFL only reads the descriptor's flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        if flags & libc::O_ACCMODE == libc::O_RDONLY {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        Ok(())
    }

    pub(super) fn is_device_or_fifo(kind: &fs::FileType) -> bool {
        use std::os::unix::fs::FileTypeExt;
        kind.is_char_device() || kind.is_fifo()
    }

    pub(super) fn is_socket(kind: &fs::FileType) -> bool {
        use std::os::unix::fs::FileTypeExt;
        kind.is_socket()
    }

    /// Opens a device or FIFO for writing without creating, truncating or
    /// making it the controlling terminal.
    pub(super) fn open_in_place(path: &Path) -> io::Result<fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(path)
    }

    pub(super) fn duplicate(fd: i32) -> io::Result<fs::File> {
        // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor (or fails with EBADF);
        // the original is not touched and the copy is owned right after.
        let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if copy < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `copy` is a fresh descriptor nobody else owns.
        Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(copy) })
    }

    fn c_path(path: &Path) -> io::Result<std::ffi::CString> {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
    }

    /// Write permission for the effective user, as open(2) would decide it.
    pub(super) fn access_write(path: &Path) -> io::Result<()> {
        let c = c_path(path)?;
        // SAFETY: faccessat reads a NUL-terminated path.
        if unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) } != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// In a sticky directory (like /tmp) only the owner of a file, the owner of
    /// the directory or root may rename over it (EPERM otherwise).
    pub(super) fn may_replace(dir: &Path, existing: &fs::Metadata) -> io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let dir_meta = fs::metadata(dir)?;
        // SAFETY: geteuid cannot fail.
        let euid = unsafe { libc::geteuid() };
        let sticky = dir_meta.mode() & libc::S_ISVTX != 0;
        if sticky && euid != 0 && existing.uid() != euid && dir_meta.uid() != euid {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
        Ok(())
    }

    /// ENOSPC when the file system holding `dir` has no block left for this
    /// user (root may use the reserved ones). File systems that report no
    /// size at all (some FUSE ones) pass.
    pub(super) fn has_free_space(dir: &Path) -> io::Result<()> {
        let c = c_path(dir)?;
        // SAFETY: statvfs is plain data; zeroed is a valid value.
        let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: a NUL-terminated path and a valid out-pointer.
        if unsafe { libc::statvfs(c.as_ptr(), &mut stats) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: geteuid cannot fail.
        let free = if unsafe { libc::geteuid() } == 0 {
            stats.f_bfree
        } else {
            stats.f_bavail
        };
        if stats.f_blocks > 0 && free == 0 {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        Ok(())
    }
}

/// Elsewhere: regular files only, no descriptors by name, no checks beyond
/// creating the temporary file.
#[cfg(not(unix))]
mod os {
    use std::fs;
    use std::io::{self, Write};
    use std::path::Path;

    fn unsupported() -> io::Error {
        io::Error::new(io::ErrorKind::Unsupported, "only supported on Unix")
    }
    pub(super) fn identity_of_descriptor(_fd: i32) -> Option<(u64, u64)> {
        None
    }
    pub(super) fn identity_of_path(_path: &Path) -> Option<(u64, u64)> {
        None
    }
    pub(super) fn too_many_links() -> io::Error {
        io::Error::other("too many levels of symbolic links")
    }
    pub(super) fn write_to_socket<T>(
        _path: &Path,
        _encode: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    ) -> io::Result<T> {
        Err(unsupported())
    }
    pub(super) fn descriptor_writable(_fd: i32) -> io::Result<()> {
        Err(unsupported())
    }
    pub(super) fn is_device_or_fifo(_kind: &fs::FileType) -> bool {
        false
    }
    pub(super) fn is_socket(_kind: &fs::FileType) -> bool {
        false
    }
    pub(super) fn open_in_place(path: &Path) -> io::Result<fs::File> {
        fs::OpenOptions::new().write(true).open(path)
    }
    pub(super) fn duplicate(_fd: i32) -> io::Result<fs::File> {
        Err(unsupported())
    }
    pub(super) fn access_write(_path: &Path) -> io::Result<()> {
        Ok(())
    }
    pub(super) fn may_replace(_dir: &Path, _existing: &fs::Metadata) -> io::Result<()> {
        Ok(())
    }
    pub(super) fn has_free_space(_dir: &Path) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::MAX_SNAPLEN;
    use std::borrow::Cow;
    use std::time::Duration;

    fn frame() -> CaptureFrame<'static> {
        CaptureFrame {
            timestamp: Duration::new(1_700_000_000, 123_456_789),
            data: Cow::Owned(vec![0xab; 52]),
            comment: Some("synthesized".into()),
            flags: None,
        }
    }

    #[test]
    fn pcap_is_little_endian_with_tcpdump_snaplen() {
        let mut out = Vec::new();
        encode_capture(&mut out, Format::Pcap, &[frame()]).unwrap();
        assert_eq!(&out[0..4], &0xa1b2c3d4u32.to_le_bytes());
        assert_eq!(&out[16..20], &MAX_SNAPLEN.to_le_bytes());
        assert_eq!(&out[20..24], &1u32.to_le_bytes());
        // record header: seconds, microseconds (truncated), incl_len, orig_len
        assert_eq!(&out[24..28], &1_700_000_000u32.to_le_bytes());
        assert_eq!(&out[28..32], &123_456u32.to_le_bytes());
        assert_eq!(&out[32..36], &52u32.to_le_bytes());
        assert_eq!(out.len(), 24 + 16 + 52);
    }

    #[test]
    fn pcapng_starts_with_a_little_endian_section() {
        let mut out = Vec::new();
        let n = encode_capture(&mut out, Format::PcapNg, &[frame()]).unwrap();
        assert_eq!(n as usize, out.len());
        assert_eq!(&out[0..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(&out[8..12], &[0x4d, 0x3c, 0x2b, 0x1a]);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("lola "), "application name");
        assert!(text.contains("synthesized"), "packet comment");
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep.pcap");
        fs::write(&path, b"good").unwrap();
        let too_big = CaptureFrame {
            timestamp: Duration::ZERO,
            data: Cow::Owned(vec![0; MAX_SNAPLEN as usize + 1]),
            comment: None,
            flags: None,
        };
        assert!(write_capture(&path, Format::Pcap, &[too_big]).is_err());
        assert_eq!(fs::read(&path).unwrap(), b"good");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

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

    #[test]
    fn targets_follow_links_to_what_they_name() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
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
        let file = |p: &str| Target::File(at(p));
        assert_eq!(Target::of(&at("new.pcap")).unwrap(), file("new.pcap"));
        assert_eq!(Target::of(&at("one")).unwrap(), file("sub/file.pcap"));
        assert_eq!(Target::of(&at("two")).unwrap(), file("sub/file.pcap"));
        assert_eq!(
            Target::of(&at("sub/up")).unwrap(),
            file("sub/../sub/file.pcap")
        );
        assert_eq!(
            Target::of(&at("dangling")).unwrap(),
            file("missing/new.pcap")
        );
        assert_eq!(
            Target::of(&at("null")).unwrap(),
            Target::Device("/dev/null".into())
        );
        assert_eq!(Target::of(&at("out")).unwrap(), Target::Descriptor(1));
        let kind = |p: &str| Target::of(&at(p)).unwrap_err().kind();
        assert_eq!(kind("dir"), io::ErrorKind::IsADirectory);
        assert_eq!(kind("sub"), io::ErrorKind::IsADirectory);
        assert_eq!(
            Target::of(&at("loop-a")).unwrap_err().raw_os_error(),
            Some(libc::ELOOP)
        );
        assert_eq!(kind("sub/file.pcap/x"), io::ErrorKind::NotADirectory);
    }

    #[test]
    fn errors_name_the_path_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.pcap");
        std::os::unix::fs::symlink("no/such/dir/x.pcap", &link).unwrap();
        let err = write_capture(&link, Format::Pcap, &[frame()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: no such file or directory", link.display())
        );
        let err = write_file_atomically(dir.path(), b"{}").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: is a directory", dir.path().display())
        );
    }

    #[test]
    fn check_writable_leaves_nothing_behind_and_finds_what_would_fail() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("old.pcap");
        fs::write(&existing, b"old").unwrap();
        check_writable(&existing).unwrap();
        check_writable(&dir.path().join("new.pcap")).unwrap();
        check_writable(Path::new("-")).unwrap();
        check_writable(Path::new("/dev/null")).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["old.pcap"]);
        assert_eq!(fs::read(&existing).unwrap(), b"old");
        let kind = |p: &Path| match check_writable(p) {
            Err(Error::Io { source, .. }) => source.kind(),
            other => panic!("{p:?}: {other:?}"),
        };
        assert_eq!(kind(&dir.path().join("no/x.pcap")), io::ErrorKind::NotFound);
        assert_eq!(kind(&existing.join("x.pcap")), io::ErrorKind::NotADirectory);
        assert_eq!(kind(dir.path()), io::ErrorKind::IsADirectory);
    }

    #[test]
    fn a_closed_or_read_only_descriptor_is_not_writable() {
        let file = tempfile::tempfile().unwrap();
        let read_only = fs::File::open("/dev/null").unwrap();
        use std::os::fd::AsRawFd;
        let name = |fd: i32| PathBuf::from(format!("/dev/fd/{fd}"));
        check_writable(&name(file.as_raw_fd())).unwrap();
        let err = check_writable(&name(read_only.as_raw_fd())).unwrap_err();
        assert!(err.to_string().ends_with("bad file descriptor"), "{err}");
        // Far above RLIMIT_NOFILE: never open.
        let closed = name(i32::MAX - 1);
        assert!(check_writable(&closed).is_err());
        assert!(write_capture(&closed, Format::Pcap, &[frame()]).is_err());
    }
}
