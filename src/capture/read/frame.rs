//! The frame a reader hands out: its bytes, borrowed from the reader's
//! buffer or mapped window, with where and when it was captured.

use std::time::Duration;

/// One frame read from a capture, borrowed from the reader's buffer.
///
/// ```
/// use lola::capture::CaptureReader;
/// let mut reader = CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// let frame = reader.next_frame().unwrap().unwrap();
/// assert_eq!((frame.number, frame.offset, frame.link_type), (1, 24, 1));
/// assert_eq!((frame.orig_len, frame.data.len(), frame.comment), (52, 52, None));
/// assert_eq!(lola::check::format_time(frame.timestamp), "2026-11-25T10:05:30.494285Z");
/// ```
#[derive(Clone, Debug)]
pub struct RawFrame<'a> {
    /// 1-based frame number, as Wireshark counts.
    pub number: u64,
    /// Byte offset of the record or block in the file.
    pub offset: u64,
    /// Time since the Unix epoch.
    pub timestamp: Duration,
    /// LINKTYPE_ of the interface the frame was captured on.
    pub link_type: u32,
    /// Length of the frame on the wire (may exceed `data.len()` when the
    /// capture's snaplen cut it short).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Comment attached to the frame (pcapng `opt_comment`).
    pub comment: Option<String>,
    /// pcapng `epb_flags`: what the writer says about the frame (direction;
    /// bit 9, [`EPB_CHECKSUM_NOT_READY`]: its checksum was left to offload).
    pub flags: Option<u32>,
}

/// `epb_flags` bit 9: the checksum was not ready when the frame was captured
/// (left to checksum offload), so a checksum that does not verify is no error.
pub const EPB_CHECKSUM_NOT_READY: u32 = 1 << 9;

/// What takes every frame of a capture from
/// [`CaptureReader::visit_frames`](super::CaptureReader::visit_frames):
/// any `FnMut(&RawFrame)`, or a type whose `frame` is inlined into the
/// reading loop, as a closure with more than one call site there is not.
pub(crate) trait Visit {
    /// Takes the next frame.
    fn frame(&mut self, frame: &RawFrame<'_>);
}

impl<F: FnMut(&RawFrame<'_>)> Visit for F {
    #[inline(always)]
    fn frame(&mut self, frame: &RawFrame<'_>) {
        self(frame)
    }
}
