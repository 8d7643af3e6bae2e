//! Captures written one frame at a time ([`FrameEncoder`]): the pcap or
//! pcapng bytes of each frame as it arrives, so that a long capture never
//! sits in memory. [`super::write`] encodes whole lists of frames with it.

use std::borrow::Cow;
use std::io::{self, Write};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapTsResolution, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption, InterfaceTsResolution,
};
use pcap_file::pcapng::blocks::interface_statistics::{
    InterfaceStatisticsBlock, InterfaceStatisticsOption,
};
use pcap_file::pcapng::blocks::opt_common::CommonOption;
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::{DataLink, Endianness};

use std::time::Duration;

use super::{Format, MAX_SNAPLEN};

/// One frame to write: Ethernet bytes, the time it was seen, and (pcapng only)
/// a comment saying what it is.
///
/// ```
/// use std::borrow::Cow;
/// use lola::capture::{encode_capture, CaptureFrame, CaptureReader, Format};
/// let data = Cow::Borrowed(&[0u8; 60][..]);
/// let frame = CaptureFrame { timestamp: Default::default(), data, comment: Some("zeros".into()), flags: None };
/// let mut bytes = Vec::new();
/// encode_capture(&mut bytes, Format::PcapNg, &[frame]).unwrap();
/// let mut reader = CaptureReader::new(&bytes[..], "mem.pcapng").unwrap();
/// assert_eq!(reader.next_frame().unwrap().unwrap().comment.as_deref(), Some("zeros"));
/// ```
#[derive(Clone, Debug)]
pub struct CaptureFrame<'a> {
    /// Time since the Unix epoch.
    pub timestamp: Duration,
    /// The whole Ethernet frame.
    pub data: Cow<'a, [u8]>,
    /// Shown by Wireshark as the packet comment (`frame.comment`); pcap drops it.
    pub comment: Option<String>,
    /// pcapng `epb_flags` (direction; bit 9: checksum not ready); pcap drops it.
    pub flags: Option<u32>,
}

/// A capture's counters, written after the frames as a pcapng Interface
/// Statistics Block (`isb_ifrecv`, `isb_ifdrop`), as dumpcap writes them;
/// pcap has no place for them.
///
/// ```
/// use std::borrow::Cow;
/// use std::time::Duration;
/// use lola::capture::{encode_capture_with, CaptureFrame, CaptureReader, CaptureStatistics, Format};
/// let frame = CaptureFrame { timestamp: Duration::ZERO, data: Cow::Borrowed(&[0u8; 60]), comment: None, flags: Some(1) };
/// let stats = CaptureStatistics { received: 2, dropped: 1, at: Duration::from_secs(1) };
/// let mut bytes = Vec::new();
/// encode_capture_with(&mut bytes, Format::PcapNg, &[frame], Some(stats)).unwrap();
/// let mut reader = CaptureReader::new(&bytes[..], "mem.pcapng").unwrap();
/// assert_eq!(reader.next_frame().unwrap().unwrap().flags, Some(1));
/// assert!(reader.next_frame().unwrap().is_none());
/// assert_eq!(reader.drops().interface, 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaptureStatistics {
    /// Frames the capture received (after the kernel's filter).
    pub received: u64,
    /// Frames it dropped (its buffer was full).
    pub dropped: u64,
    /// When the counters were read, since the Unix epoch.
    #[serde(skip)]
    pub at: Duration,
}

/// What [`write_capture`](super::write_capture) wrote.
///
/// ```
/// use lola::capture::{write_capture, Format, WriteSummary};
/// # use std::borrow::Cow;
/// # let data = Cow::Borrowed(&[0u8; 60][..]);
/// # let frame = lola::capture::CaptureFrame { timestamp: Default::default(), data, comment: None, flags: None };
/// let dir = tempfile::tempdir().unwrap();
/// let summary = write_capture(&dir.path().join("a.pcap"), Format::Pcap, &[frame]).unwrap();
/// // A 24-byte file header, then a 16-byte record header and the 60-byte frame.
/// assert_eq!(summary, WriteSummary { format: Format::Pcap, frames: 1, bytes: 24 + 16 + 60 });
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WriteSummary {
    /// The container format.
    pub format: Format,
    /// How many frames.
    pub frames: usize,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// Why `frame` cannot be written as `format`, if it cannot.
pub(super) fn fits(frame: &CaptureFrame<'_>, format: Format) -> io::Result<()> {
    if frame.data.len() > MAX_SNAPLEN as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "frame of {} bytes exceeds the snaplen {MAX_SNAPLEN}",
                frame.data.len()
            ),
        ));
    }
    if frame.timestamp.as_secs() > u64::from(u32::MAX) && format == Format::Pcap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "timestamp after 2106-02-07 does not fit in a pcap record",
        ));
    }
    Ok(())
}

/// A capture written one frame at a time, as frames arrive: the file's
/// header when made, a record per [`FrameEncoder::write`], and (pcapng)
/// the counters at [`FrameEncoder::finish`]. Nothing but the frame being
/// written is held in memory.
///
/// pcap: little-endian, microsecond timestamps, version 2.4, snaplen 262144
/// (what tcpdump writes on x86). pcapng: one little-endian section naming
/// lola as the application, one interface `lo` with nanosecond timestamps,
/// one Enhanced Packet Block per frame carrying its comment and flags.
///
/// ```
/// use std::borrow::Cow;
/// use lola::capture::{CaptureFrame, Format, FrameEncoder};
/// let frame = CaptureFrame { timestamp: Default::default(), data: Cow::Borrowed(&[0u8; 60][..]), comment: None, flags: None };
/// let mut out = Vec::new();
/// let mut encoder = FrameEncoder::new(&mut out, Format::Pcap).unwrap();
/// encoder.write(&frame).unwrap();
/// encoder.write(&frame).unwrap();
/// let summary = encoder.finish(None).unwrap();
/// assert_eq!((summary.frames, summary.bytes), (2, 24 + 2 * (16 + 60)));
/// assert_eq!(out.len(), 24 + 2 * (16 + 60));
/// ```
pub struct FrameEncoder<W: Write> {
    writer: Encoding<W>,
    format: Format,
    frames: usize,
}

enum Encoding<W: Write> {
    Pcap(PcapWriter<CountingWriter<W>>),
    PcapNg(PcapNgWriter<CountingWriter<W>>),
}

impl<W: Write> FrameEncoder<W> {
    /// Starts a capture in `out`: writes the file's header (pcap) or its
    /// section and interface blocks (pcapng).
    pub fn new(out: W, format: Format) -> io::Result<FrameEncoder<W>> {
        let out = CountingWriter {
            inner: out,
            count: 0,
        };
        let writer = match format {
            Format::Pcap => Encoding::Pcap(pcap_writer(out)?),
            Format::PcapNg => Encoding::PcapNg(pcapng_writer(out)?),
        };
        Ok(FrameEncoder {
            writer,
            format,
            frames: 0,
        })
    }

    /// Appends one frame. Refuses a frame over the snaplen, or (pcap) one
    /// stamped after 2106.
    pub fn write(&mut self, frame: &CaptureFrame<'_>) -> io::Result<()> {
        fits(frame, self.format)?;
        match &mut self.writer {
            Encoding::Pcap(writer) => {
                let len = frame.data.len() as u32;
                let packet = PcapPacket::new(frame.timestamp, len, Cow::Borrowed(&frame.data[..]))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
                writer.write_packet(&packet).map_err(io_error)?;
            }
            Encoding::PcapNg(writer) => {
                let mut options = Vec::new();
                if let Some(text) = &frame.comment {
                    options.push(EnhancedPacketOption::Common(CommonOption::Comment(
                        Cow::Borrowed(text.as_str()),
                    )));
                }
                if let Some(flags) = frame.flags {
                    options.push(EnhancedPacketOption::Flags(flags));
                }
                let packet = EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: frame.timestamp,
                    original_len: frame.data.len() as u32,
                    data: Cow::Borrowed(&frame.data[..]),
                    options,
                };
                writer.write_pcapng_block(packet).map_err(io_error)?;
            }
        }
        self.frames += 1;
        Ok(())
    }

    /// How many frames were written so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Ends the capture: (pcapng) an Interface Statistics Block with
    /// `statistics`, then a flush. Says what was written.
    pub fn finish(self, statistics: Option<CaptureStatistics>) -> io::Result<WriteSummary> {
        let mut out = match self.writer {
            Encoding::Pcap(writer) => writer.into_inner(),
            Encoding::PcapNg(mut writer) => {
                if let Some(stats) = statistics {
                    let block = InterfaceStatisticsBlock {
                        interface_id: 0,
                        timestamp: stats.at,
                        options: vec![
                            InterfaceStatisticsOption::IsbIfRecv(stats.received),
                            InterfaceStatisticsOption::IsbIfDrop(stats.dropped),
                        ],
                    };
                    writer.write_pcapng_block(block).map_err(io_error)?;
                }
                writer.into_inner()
            }
        };
        out.flush()?;
        Ok(WriteSummary {
            format: self.format,
            frames: self.frames,
            bytes: out.count,
        })
    }
}

/// A little-endian pcap writer, as tcpdump writes on x86.
fn pcap_writer<W: Write>(out: W) -> io::Result<PcapWriter<W>> {
    // Not PcapHeader::default(): that one is big-endian.
    let header = PcapHeader {
        version_major: 2,
        version_minor: 4,
        ts_correction: 0,
        ts_accuracy: 0,
        snaplen: MAX_SNAPLEN,
        datalink: DataLink::ETHERNET,
        ts_resolution: PcapTsResolution::MicroSecond,
        endianness: Endianness::Little,
    };
    PcapWriter::with_header(out, header).map_err(io_error)
}

/// A pcapng writer with one section naming lola and one interface `lo`.
fn pcapng_writer<W: Write>(out: W) -> io::Result<PcapNgWriter<W>> {
    let section = SectionHeaderBlock {
        endianness: Endianness::Little,
        major_version: 1,
        minor_version: 0,
        section_length: -1,
        options: vec![
            SectionHeaderOption::Hardware(Cow::Borrowed(std::env::consts::ARCH)),
            SectionHeaderOption::OS(Cow::Owned(os_name())),
            SectionHeaderOption::UserApplication(Cow::Borrowed(concat!(
                "lola ",
                env!("CARGO_PKG_VERSION")
            ))),
        ],
    };
    let mut writer = PcapNgWriter::with_section_header(out, section).map_err(io_error)?;
    let interface = InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: MAX_SNAPLEN,
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Borrowed("lo")),
            InterfaceDescriptionOption::IfTsResol(InterfaceTsResolution::NANO),
        ],
    };
    writer.write_pcapng_block(interface).map_err(io_error)?;
    Ok(writer)
}

fn os_name() -> String {
    let os = std::env::consts::OS;
    let mut chars = os.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => os.to_string(),
    }
}

fn io_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> io::Error {
    // pcap-file wraps the io::Error of the writer; surface that one if present.
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return io::Error::new(io.kind(), io.to_string());
        }
        source = s.source();
    }
    io::Error::other(e.to_string())
}

struct CountingWriter<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
