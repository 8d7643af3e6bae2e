//! Layer 0, the one error type of the library: everything that stops lola
//! from producing a verdict. A verdict that says "no" is not an error; it is
//! a [`Report`](crate::check::Report) whose `passed()` is false.
//!
//! May use: nothing of the crate. The causes it carries are defined beside
//! it ([`cause`]).

pub mod cause;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Why lola could not do what it was asked.
///
/// Every variant names the address, file or byte offset involved, and its
/// `Display` is one line meant for a person (the CLI prints it after `lola: `).
///
/// ```
/// use std::time::Duration;
/// use lola::Error;
/// let path = "fixtures/bad-caplen-huge.pcap".as_ref();
/// let err = lola::check_file(path, &lola::Expectation::seed()).unwrap_err();
/// assert!(matches!(err, Error::Malformed { offset: 24, .. }), "{err}");
/// let timeout = Error::Timeout { addr: "127.0.0.1:7456".parse().unwrap(), after: Duration::from_secs(2) };
/// assert_eq!(timeout.to_string(), "no datagram reached 127.0.0.1:7456 within 2s");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket could not be bound.
    #[error("cannot bind {addr}: {}", describe_io(.source))]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },

    /// A datagram could not be sent.
    #[error("cannot send to {to}: {}", describe_io(.source))]
    Send {
        /// The destination.
        to: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },

    /// Receiving on the server socket failed for a reason other than time.
    #[error("cannot receive on {addr}: {}", describe_io(.source))]
    Receive {
        /// The server address.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },

    /// A send put only part of the datagram on the wire.
    #[error("sent only {sent} of {len} bytes to {to}")]
    ShortSend {
        /// The destination.
        to: SocketAddr,
        /// Bytes sent.
        sent: usize,
        /// Bytes of the payload.
        len: usize,
    },

    /// Nothing arrived before the deadline.
    #[error("no datagram reached {addr} within {}", humantime::format_duration(*.after))]
    Timeout {
        /// The server address.
        addr: SocketAddr,
        /// How long lola waited.
        after: Duration,
    },

    /// A file could not be opened, read, created or renamed into place.
    #[error("{}: {}", .path.display(), describe_io(.source))]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },

    /// Of two files, the first was written whole and the second could not
    /// be (a full disk, say): the first stays, the second is not there.
    #[error("wrote {} ({frames} {}); {source}, not written", .written.display(), if *.frames == 1 { "frame" } else { "frames" })]
    SecondFileNotWritten {
        /// The file written whole.
        written: PathBuf,
        /// Frames in it.
        frames: usize,
        /// Why the second file was not written (it names that file).
        source: Box<Error>,
    },

    /// A capture file is malformed; `offset` is the byte where the damage is.
    #[error("{}: {what} (at byte {offset})", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Byte offset of the record or block that is wrong.
        offset: u64,
        /// What is wrong, in words.
        what: String,
    },

    /// A capture file ends inside a record or block, as when the program
    /// writing it was killed: the frames before `offset` are whole. Its
    /// words are those of [`Error::Malformed`]; `lola check` turns it into a
    /// finding about the frames it could read.
    #[error("{}: {what} (at byte {offset})", .path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Byte offset of the record or block that is cut.
        offset: u64,
        /// What is missing, in words.
        what: String,
    },

    /// A capture uses a link-layer type lola cannot decode.
    #[error("{}: unsupported link type {link_type} ({}); lola reads Ethernet, raw IP, Linux cooked (SLL, SLL2), BSD loopback, PPP, Cisco HDLC, Frame Relay, 802.11 (bare, radiotap, PPI), ARCnet, IPoIB, NFLOG, PKTAP and Solaris ipnet captures", .path.display(), .name)]
    UnsupportedLinkType {
        /// The file.
        path: PathBuf,
        /// The LINKTYPE_ value.
        link_type: u32,
        /// libpcap's name for it ([`link_type_name`](crate::capture::link_type_name)).
        name: &'static str,
    },

    /// A live capture could not start: no permission, no such interface,
    /// an interface that is not Ethernet-like.
    #[error("cannot capture on {interface}: {reason}")]
    CaptureUnavailable {
        /// The interface asked for.
        interface: String,
        /// Why not, in words a person can act on.
        reason: cause::Unavailable,
    },

    /// A live capture failed while it was recording.
    #[error("live capture on {interface} failed: {}", describe_io(.source))]
    Capture {
        /// The interface.
        interface: String,
        /// What the operating system said.
        source: io::Error,
    },

    /// No private `lo` could be made: the kernel or a security module
    /// refuses the namespaces (see [`crate::host::sandbox`]).
    #[error("cannot make a private lo: {blocked}; fix: {}", .blocked.fix())]
    PrivateLo {
        /// Why not, as a typed cause with its fix.
        blocked: cause::Blocked,
    },

    /// `lola exec` could not start the program.
    #[error("cannot run {program}: {}", describe_io(.source))]
    Spawn {
        /// The program, as given.
        program: String,
        /// What the operating system said.
        source: io::Error,
    },

    /// `lola exec` could not learn whether the program had ended.
    #[error("lost track of {program}: {}", describe_io(.source))]
    Wait {
        /// The program, as given.
        program: String,
        /// What the operating system said.
        source: io::Error,
    },

    /// An exchange was asked to send to the unspecified address (`0.0.0.0`,
    /// `::`), which names no socket to send to.
    #[error("{addr}: the destination must be a concrete address such as 127.0.0.1 or ::1")]
    UnspecifiedDestination {
        /// The address given.
        addr: SocketAddr,
    },

    /// The observed capture of a run would be written over the run's own
    /// output (a file name without an extension).
    #[error("{}: the observed capture would overwrite it; use a name with an extension", .path.display())]
    ObservedOverwritesOutput {
        /// The output path.
        path: PathBuf,
    },

    /// A report could not be rendered as JSON.
    #[error("cannot render the JSON report: {0}")]
    Json(#[from] serde_json::Error),

    /// The arguments cannot describe a frame or an exchange (mixed address
    /// families, a payload too large for one datagram, bad hex, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The exit code the CLI uses for this error: always 2, "could not run",
    /// as grep and diff do. Exit 1 is reserved for a verdict that failed.
    ///
    /// ```
    /// let err = lola::Error::Invalid("bad hex".into());
    /// assert_eq!(err.exit_code(), 2);
    /// ```
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// A result with lola's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns an `io::Error` into the short lower-case words a person expects in a
/// one-line message (`address in use`), without Rust's `(os error 98)` suffix.
///
/// ```
/// use std::io;
/// use lola::error::describe_io;
/// assert_eq!(describe_io(&io::Error::from(io::ErrorKind::AddrInUse)), "address in use");
/// assert_eq!(describe_io(&io::Error::other("Device busy (os error 16)")), "device busy");
/// ```
pub fn describe_io(e: &io::Error) -> String {
    use io::ErrorKind::*;
    let words = match e.kind() {
        AddrInUse => "address in use",
        AddrNotAvailable => "address not available on this host",
        PermissionDenied => "permission denied",
        NotFound => "no such file or directory",
        AlreadyExists => "already exists",
        ConnectionRefused => "connection refused (nobody listens there)",
        IsADirectory => "is a directory",
        NotADirectory => "a path component is not a directory",
        ReadOnlyFilesystem => "read-only file system",
        StorageFull => "no space left on device",
        UnexpectedEof => "unexpected end of file",
        _ => {
            let text = e.to_string();
            let text = match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let mut chars = text.chars();
            return match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            };
        }
    };
    words.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_error_names_the_address_and_no_flag() {
        let e = Error::Bind {
            addr: "127.0.0.1:7456".parse().unwrap(),
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert_eq!(e.to_string(), "cannot bind 127.0.0.1:7456: address in use");
    }

    #[test]
    fn capture_failure_names_the_interface() {
        let e = Error::Capture {
            interface: "lo".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            e.to_string(),
            "live capture on lo failed: permission denied"
        );
    }

    #[test]
    fn os_error_suffix_is_dropped() {
        let e = io::Error::from_raw_os_error(libc_enetunreach());
        let text = describe_io(&e);
        assert!(!text.contains("os error"), "{text}");
        assert!(text.chars().next().unwrap().is_lowercase(), "{text}");
    }

    fn libc_enetunreach() -> i32 {
        101 // ENETUNREACH on Linux; any errno with a kind of `Other` will do
    }
}
