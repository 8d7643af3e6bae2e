//! `lola build`: the frame of a datagram, written to a capture without any
//! socket; the same arguments give the same bytes.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use crate::capture::{CaptureFrame, Format, WriteSummary, write_capture};
use crate::error::Result;
use crate::packet::frame::{Datagram, build_frame};

/// What `build` wrote.
///
/// ```
/// use lola::{capture::Format, Datagram};
/// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), b"Hi".to_vec());
/// let dir = tempfile::tempdir().unwrap();
/// let built = lola::harness::build(&d, &dir.path().join("hi.pcap"), Format::Pcap).unwrap();
/// assert_eq!((built.written.frames, built.written.bytes), (1, 24 + 16 + 44));
/// ```
#[derive(Clone, Debug)]
pub struct BuildOutcome {
    /// The datagram the frame carries.
    pub datagram: Datagram,
    /// The file written (`-`: standard output).
    pub output: PathBuf,
    /// What was written.
    pub written: WriteSummary,
}

/// Writes the frame of `datagram` to `output` (`-`: standard output) with
/// a pcapng comment saying how it was made.
///
/// ```
/// use lola::{capture::{CaptureReader, Format}, Datagram};
/// let d = Datagram::new("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:7456".parse().unwrap(), b"Hi".to_vec());
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("hi.pcapng");
/// lola::harness::build(&d, &path, Format::PcapNg).unwrap();
/// let mut reader = CaptureReader::open(&path).unwrap();
/// let frame = reader.next_frame().unwrap().unwrap();
/// assert_eq!(frame.data, lola::build_frame(&d).unwrap().as_slice());
/// assert_eq!(frame.comment.as_deref(), Some("built by lola from 127.0.0.1:40000 → 127.0.0.1:7456 (2 bytes of payload)"));
/// ```
pub fn build(datagram: &Datagram, output: &Path, format: Format) -> Result<BuildOutcome> {
    let frame = CaptureFrame {
        timestamp: datagram.timestamp,
        data: Cow::Owned(build_frame(datagram)?),
        comment: Some(format!(
            "built by lola from {} → {} ({} bytes of payload)",
            datagram.src,
            datagram.dst,
            datagram.payload.len()
        )),
        flags: None,
    };
    let written = write_capture(output, format, &[frame])?;
    Ok(BuildOutcome {
        datagram: datagram.clone(),
        output: output.to_path_buf(),
        written,
    })
}
