//! Writing captures and reports to a path as `tcpdump -w` would, never
//! leaving half a file: regular files are replaced whole through a
//! temporary file renamed into place; links are followed where the kernel's
//! protections for shared directories would follow them, devices and FIFOs
//! written in place. Every output lola writes is opened by [`Output`].

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::Format;
use super::encode::{CaptureFrame, CaptureStatistics, FrameEncoder, WriteSummary, fits};
use super::resolve::{Resolved, resolve};
use super::temporary::Temporary;
use crate::error::{Error, Result};

/// Writes `frames` to `path` as `tcpdump -w` would, but never leaving half a
/// file or destroying what `path` is:
///
/// - a regular file (or a name not yet taken) is written whole or not at all:
///   the bytes go to a temporary file in the same directory, which is synced
///   and renamed over `path` only when complete, with mode 0666 less the
///   umask. A failure (a full disk, say) or SIGINT/SIGTERM leaves any
///   existing file untouched and no temporary file behind;
/// - a symbolic link is followed (through any chain, in any component) and
///   its target written that way in the target's own directory; the link
///   stays a link. In a sticky world-writable directory (like `/tmp`) a
///   link is followed only when it belongs to the caller or to the
///   directory's owner, and an existing file or FIFO there is written only
///   when it belongs to one of them: the kernel's `protected_symlinks`,
///   `protected_regular` and `protected_fifos` rules, kept whatever the
///   machine's sysctl says;
/// - a character device (`/dev/null`), FIFO or Unix socket is opened and
///   written in place: it stays what it is, and atomicity does not apply.
///   A FIFO is waited on until a reader opens it;
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
    write_capture_kept(path, format, frames, statistics).map(|(summary, _)| summary)
}

/// What a capture written by [`write_capture_kept`] can be judged from.
#[derive(Debug)]
pub enum Written {
    /// A regular file: open it again.
    File,
    /// A stream (standard output, a FIFO, a device, a socket) that cannot
    /// be read back: the bytes that went there.
    Bytes(Vec<u8>),
}

/// [`write_capture_with`], saying where the capture can be read again: a
/// regular file at `path`, or the bytes written to a FIFO, device, socket
/// or descriptor, which lola never re-opens (a FIFO's reader would get
/// nothing, `/dev/null` would read empty).
///
/// ```
/// use std::path::Path;
/// use lola::capture::{write_capture_kept, Format, Written};
/// let (summary, written) = write_capture_kept(Path::new("/dev/null"), Format::Pcap, &[], None).unwrap();
/// assert!(matches!(written, Written::Bytes(ref b) if b.len() as u64 == summary.bytes));
/// ```
pub fn write_capture_kept(
    path: &Path,
    format: Format,
    frames: &[CaptureFrame<'_>],
    statistics: Option<CaptureStatistics>,
) -> Result<(WriteSummary, Written)> {
    // Refused before a byte is written, so a device or FIFO gets nothing.
    for frame in frames {
        fits(frame, format).map_err(|e| io_err(path, e))?;
    }
    let (summary, (), written) = write_capture_streamed(path, format, |encoder| {
        for frame in frames {
            encoder.write(frame).map_err(|e| io_err(path, e))?;
        }
        Ok(((), statistics))
    })?;
    Ok((summary, written))
}

/// Writes a capture one frame at a time as `fill` produces them, to `path`
/// as [`write_capture`] would (whole or not at all, links judged, devices
/// and FIFOs in place): `fill` gets the encoder, writes frames as they
/// arrive, and returns its value with the counters for the pcapng
/// statistics block. Memory holds one frame, whatever `fill` writes; a
/// failure of `fill` leaves any existing file untouched.
///
/// ```
/// use std::borrow::Cow;
/// use lola::capture::{write_capture_streamed, CaptureFrame, CaptureReader, Format};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("s.pcapng");
/// let (summary, n, _) = write_capture_streamed(&path, Format::PcapNg, |encoder| {
///     let frame = CaptureFrame { timestamp: Default::default(), data: Cow::Borrowed(&[0u8; 60][..]), comment: None, flags: None };
///     for _ in 0..3 {
///         encoder.write(&frame).map_err(|e| lola::Error::Invalid(e.to_string()))?;
///     }
///     Ok((3, None))
/// })
/// .unwrap();
/// assert_eq!((summary.frames, n), (3, 3));
/// let mut reader = CaptureReader::open(&path).unwrap();
/// let mut frames = 0;
/// while reader.next_frame().unwrap().is_some() {
///     frames += 1;
/// }
/// assert_eq!(frames, 3);
/// ```
pub fn write_capture_streamed<T>(
    path: &Path,
    format: Format,
    fill: impl FnOnce(&mut FrameEncoder<&mut dyn Write>) -> Result<(T, Option<CaptureStatistics>)>,
) -> Result<(WriteSummary, T, Written)> {
    /// A FIFO, a device or standard output cannot be read back: what goes
    /// there is kept too, to be judged.
    struct Tee<'a> {
        out: &'a mut Output,
        kept: Option<Vec<u8>>,
    }
    impl Write for Tee<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = self.out.write(buf)?;
            if let Some(kept) = &mut self.kept {
                kept.extend_from_slice(&buf[..n]);
            }
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.out.flush()
        }
    }
    let mut out = Output::open(path, true)?;
    let kept = (!out.is_file()).then(Vec::new);
    let mut tee = Tee {
        out: &mut out,
        kept,
    };
    let (summary, value) = {
        let sink: &mut dyn Write = &mut tee;
        let mut encoder = FrameEncoder::new(sink, format).map_err(|e| io_err(path, e))?;
        let (value, statistics) = fill(&mut encoder)?;
        (
            encoder.finish(statistics).map_err(|e| io_err(path, e))?,
            value,
        )
    };
    let written = match tee.kept {
        Some(bytes) => Written::Bytes(bytes),
        None => Written::File,
    };
    out.finish()?;
    Ok((summary, value, written))
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
    let mut out = Output::create(path)?;
    out.write_all(bytes).map_err(|e| io_err(path, e))?;
    out.finish()
}

/// Answers, before any work is done, whether [`write_capture`] could write
/// `path`, so that a long capture is not thrown away at the end. Follows
/// symbolic links as the writer does, refusing the same links and files in
/// shared directories; a character device, FIFO or socket
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
    let resolved = resolve(path).map_err(|source| io_err(path, source))?;
    probe(&resolved).map_err(|source| io_err(path, source))
}

/// True when `path` leads (by the rules of [`write_capture`]) to a regular
/// file or a name not yet taken: a capture written there can be opened and
/// read again. False for standard output, FIFOs, devices, sockets, and
/// paths that cannot be written at all.
///
/// ```
/// use lola::capture::writes_a_file;
/// assert!(writes_a_file("new-capture.pcap".as_ref()));
/// assert!(!writes_a_file("/dev/null".as_ref()));
/// assert!(!writes_a_file("-".as_ref()));
/// ```
pub fn writes_a_file(path: &Path) -> bool {
    path != Path::new("-") && resolve(path).is_ok_and(|r| r.is_file())
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
    match resolve(path) {
        Ok(Resolved::Descriptor(1)) => true,
        Ok(Resolved::Descriptor(fd)) => os::identity_of_descriptor(fd) == Some(stdout),
        Ok(entry) => entry
            .path()
            .is_some_and(|p| os::identity_of_path(&p) == Some(stdout)),
        Err(_) => false,
    }
}

fn io_err(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An output being written: every file lola writes (captures, reports,
/// NDJSON rows, pictures, the step summary) is opened here, by the rules of
/// [`write_capture`]. A regular file is written to a temporary file that
/// [`Output::finish`] renames into place; dropped unfinished (an error) or
/// interrupted by a signal whose handler calls
/// [`remove_temporary_files`](super::remove_temporary_files), it leaves
/// nothing behind.
///
/// ```
/// use std::io::Write;
/// use lola::capture::Output;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("rows.ndjson");
/// let mut out = Output::create(&path).unwrap();
/// assert!(out.is_file());
/// writeln!(out, "{{}}").unwrap();
/// assert!(!path.exists(), "not there until finished");
/// out.finish().unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"{}\n");
/// ```
pub struct Output {
    path: PathBuf,
    sink: Sink,
}

enum Sink {
    Stdout(io::StdoutLock<'static>),
    Stream(BufWriter<fs::File>),
    Socket(BufWriter<std::os::unix::net::UnixStream>),
    File {
        out: BufWriter<fs::File>,
        temporary: Temporary,
        name: std::ffi::OsString,
    },
}

/// Room for the NDJSON rows of a large capture between system calls.
const BUFFER: usize = 1 << 20;

impl Output {
    /// Opens `path` for writing (`-` is a file named `-`).
    pub fn create(path: &Path) -> Result<Output> {
        Output::open(path, false)
    }

    /// Opens `path` for writing, `-` meaning standard output.
    pub fn create_or_stdout(path: &Path) -> Result<Output> {
        Output::open(path, true)
    }

    fn open(path: &Path, dash_is_stdout: bool) -> Result<Output> {
        let error = |source| io_err(path, source);
        let resolved = if dash_is_stdout && path == Path::new("-") {
            Resolved::Descriptor(1)
        } else {
            resolve(path).map_err(error)?
        };
        let sink = match resolved {
            // Through std's handle, so anything it buffered goes first.
            Resolved::Descriptor(1) => Sink::Stdout(io::stdout().lock()),
            Resolved::Descriptor(fd) => {
                Sink::Stream(BufWriter::new(os::duplicate(fd).map_err(error)?))
            }
            Resolved::Entry {
                dir,
                dir_id,
                name,
                existing,
            } => {
                let dir_fd = os::open_dir(&dir, dir_id).map_err(error)?;
                match existing {
                    Some(meta) if os::is_socket(&meta) => Sink::Socket(BufWriter::new(
                        os::connect(&dir.join(&name)).map_err(error)?,
                    )),
                    Some(meta) if !meta.is_file() => {
                        let special = os::open_in_place(&dir_fd, &name, &meta).map_err(error)?;
                        Sink::Stream(BufWriter::new(special))
                    }
                    _ => {
                        let (temporary, file) =
                            Temporary::create_in(dir_fd, "part").map_err(error)?;
                        Sink::File {
                            out: BufWriter::with_capacity(BUFFER, file),
                            temporary,
                            name,
                        }
                    }
                }
            }
        };
        Ok(Output {
            path: path.to_path_buf(),
            sink,
        })
    }

    /// Opens `path` to append to, by the same rules, never waiting: a FIFO
    /// without a reader, or one whose reader is not reading, is an error
    /// rather than a hang (for `$GITHUB_STEP_SUMMARY`).
    pub fn append(path: &Path) -> Result<Output> {
        let error = |source| io_err(path, source);
        let sink = match resolve(path).map_err(error)? {
            Resolved::Descriptor(fd) => {
                Sink::Stream(BufWriter::new(os::duplicate(fd).map_err(error)?))
            }
            Resolved::Entry {
                dir,
                dir_id,
                name,
                existing,
            } => {
                let dir_fd = os::open_dir(&dir, dir_id).map_err(error)?;
                let file = os::open_to_append(&dir_fd, &name, existing.as_ref()).map_err(error)?;
                Sink::Stream(BufWriter::new(file))
            }
        };
        Ok(Output {
            path: path.to_path_buf(),
            sink,
        })
    }

    /// True when the output is a regular file, replaced whole when finished.
    pub fn is_file(&self) -> bool {
        matches!(self.sink, Sink::File { .. })
    }

    /// Flushes, and renames the temporary file into place: the output is
    /// whole from here on. Errors name the path as given.
    pub fn finish(self) -> Result<()> {
        let error = |source| io_err(&self.path, source);
        match self.sink {
            Sink::Stdout(mut out) => out.flush().map_err(error),
            Sink::Stream(mut out) => out.flush().map_err(error),
            Sink::Socket(out) => {
                let stream = out.into_inner().map_err(|e| error(e.into_error()))?;
                stream.shutdown(std::net::Shutdown::Write).map_err(error)
            }
            Sink::File {
                out,
                temporary,
                name,
            } => {
                let file = out.into_inner().map_err(|e| error(e.into_error()))?;
                file.sync_all().map_err(error)?;
                drop(file);
                temporary.persist(&name).map_err(error)
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::Stdout(out) => out.write(buf),
            Sink::Stream(out) => out.write(buf),
            Sink::Socket(out) => out.write(buf),
            Sink::File { out, .. } => out.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(out) => out.write_all(buf),
            Sink::Stream(out) => out.write_all(buf),
            Sink::Socket(out) => out.write_all(buf),
            Sink::File { out, .. } => out.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout(out) => out.flush(),
            Sink::Stream(out) => out.flush(),
            Sink::Socket(out) => out.flush(),
            Sink::File { out, .. } => out.flush(),
        }
    }
}

/// Checks, without writing anything the user could see, that
/// [`Output::create`] would be allowed to write.
fn probe(resolved: &Resolved) -> io::Result<()> {
    match resolved {
        Resolved::Descriptor(fd) => os::descriptor_writable(*fd),
        Resolved::Entry {
            dir,
            dir_id,
            name,
            existing,
        } => match existing {
            // Opening a FIFO would wait for (and then disappoint) a reader;
            // ask the kernel about the effective user's permissions instead.
            Some(meta) if !meta.is_file() => os::access_write(&dir.join(name)),
            _ => {
                if let Some(meta) = existing {
                    os::may_replace(dir, meta)?;
                }
                let dir_fd = os::open_dir(dir, *dir_id)?;
                os::has_free_space(&dir_fd)?;
                let (temporary, _) = Temporary::create_in(dir_fd, "probe")?;
                drop(temporary);
                Ok(())
            }
        },
    }
}

/// What the rules of [`write_capture`] need from a Unix system.
mod os {
    use std::ffi::{CString, OsStr};
    use std::fs;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::path::Path;
    use std::time::Duration;

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
        fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }

    fn c_name(name: &OsStr) -> io::Result<CString> {
        CString::new(name.as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
    }

    /// Opens the directory the walk found, and refuses it if it is no
    /// longer that directory (someone swapped a component for a link
    /// since): what is written lands where the rules were checked.
    pub(super) fn open_dir(dir: &Path, id: (u64, u64)) -> io::Result<OwnedFd> {
        use std::os::unix::fs::OpenOptionsExt;
        // O_PATH: a directory one may write in but not list is fine.
        let file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)?;
        if identity_of_descriptor(file.as_raw_fd()) != Some(id) {
            return Err(io::Error::other(format!(
                "{} changed while lola was opening it",
                dir.display()
            )));
        }
        Ok(file.into())
    }

    fn open_at(dir: &OwnedFd, name: &OsStr, flags: i32) -> io::Result<fs::File> {
        let c = c_name(name)?;
        // SAFETY: a valid directory descriptor and NUL-terminated name.
        let fd = unsafe {
            libc::openat(
                dir.as_raw_fd(),
                c.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_CLOEXEC,
                0o666 as libc::c_uint,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        Ok(unsafe { fs::File::from_raw_fd(fd) })
    }

    fn same_file(file: &fs::File, meta: &fs::Metadata) -> io::Result<()> {
        if identity_of_descriptor(file.as_raw_fd()) != Some((meta.dev(), meta.ino())) {
            return Err(io::Error::other("changed while lola was opening it"));
        }
        Ok(())
    }

    fn set_blocking(file: &fs::File) -> io::Result<()> {
        // SAFETY: F_GETFL/F_SETFL on a descriptor this process owns.
        unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            if flags < 0
                || libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0
            {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// Opens a device or FIFO (the one the walk found, never a link put in
    /// its place) for writing without creating, truncating or making it
    /// the controlling terminal. A FIFO is waited on until a reader opens
    /// it; the wait ends with the process on SIGINT or SIGTERM.
    pub(super) fn open_in_place(
        dir: &OwnedFd,
        name: &OsStr,
        meta: &fs::Metadata,
    ) -> io::Result<fs::File> {
        loop {
            match open_at(dir, name, libc::O_WRONLY | libc::O_NONBLOCK) {
                Ok(file) => {
                    same_file(&file, meta)?;
                    set_blocking(&file)?;
                    return Ok(file);
                }
                // A FIFO with no reader yet.
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                    if crate::capture::temporary::interrupted() {
                        return Err(io::Error::other(
                            "interrupted while waiting for the FIFO's reader",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens a file to append to, creating it when `existing` is `None`;
    /// never waits on a FIFO, never blocks in a write.
    pub(super) fn open_to_append(
        dir: &OwnedFd,
        name: &OsStr,
        existing: Option<&fs::Metadata>,
    ) -> io::Result<fs::File> {
        let append = libc::O_WRONLY | libc::O_APPEND | libc::O_NONBLOCK;
        match existing {
            None => open_at(dir, name, append | libc::O_CREAT | libc::O_EXCL),
            Some(meta) if meta.file_type().is_socket() => Err(io::Error::other(
                "is a socket; a summary is appended to a file",
            )),
            Some(meta) => {
                let file = open_at(dir, name, append).map_err(|e| {
                    if e.raw_os_error() == Some(libc::ENXIO) {
                        io::Error::other("is a FIFO no one reads")
                    } else {
                        e
                    }
                })?;
                same_file(&file, meta)?;
                Ok(file)
            }
        }
    }

    pub(super) fn connect(path: &Path) -> io::Result<std::os::unix::net::UnixStream> {
        std::os::unix::net::UnixStream::connect(path)
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

    pub(super) fn is_socket(meta: &fs::Metadata) -> bool {
        meta.file_type().is_socket()
    }

    pub(super) fn duplicate(fd: i32) -> io::Result<fs::File> {
        // SAFETY: F_DUPFD_CLOEXEC creates a new descriptor (or fails with EBADF);
        // the original is not touched and the copy is owned right after.
        let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if copy < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `copy` is a fresh descriptor nobody else owns.
        Ok(unsafe { fs::File::from_raw_fd(copy) })
    }

    /// Write permission for the effective user, as open(2) would decide it.
    pub(super) fn access_write(path: &Path) -> io::Result<()> {
        let c = c_name(path.as_os_str())?;
        // SAFETY: faccessat reads a NUL-terminated path.
        if unsafe {
            libc::faccessat(
                libc::AT_FDCWD,
                c.as_ptr(),
                libc::W_OK,
                libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW,
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// In a sticky directory (like /tmp) only the owner of a file, the owner of
    /// the directory or root may rename over it (EPERM otherwise).
    pub(super) fn may_replace(dir: &Path, existing: &fs::Metadata) -> io::Result<()> {
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
    pub(super) fn has_free_space(dir: &OwnedFd) -> io::Result<()> {
        // SAFETY: statvfs is plain data; zeroed is a valid value.
        let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: a valid descriptor and a valid out-pointer.
        if unsafe { libc::fstatvfs(dir.as_raw_fd(), &mut stats) } != 0 {
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
