//! Encoding captures with `pcap-file`: little-endian pcap like tcpdump's,
//! or an annotated pcapng (comments, flags, the capture's counters).

use std::borrow::Cow;
use std::io::{self, Write};
use std::time::Duration;

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
    let mut out = CountingWriter {
        inner: out,
        count: 0,
    };
    for frame in frames {
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
    }
    match format {
        Format::Pcap => encode_pcap(&mut out, frames)?,
        Format::PcapNg => encode_pcapng(&mut out, frames, statistics)?,
    }
    out.flush()?;
    Ok(out.count)
}

/// Frames as a little-endian pcap, as tcpdump writes on x86.
fn encode_pcap<W: Write>(out: &mut W, frames: &[CaptureFrame<'_>]) -> io::Result<()> {
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
    let mut writer = PcapWriter::with_header(out, header).map_err(io_error)?;
    for frame in frames {
        let len = frame.data.len() as u32;
        let packet = PcapPacket::new(frame.timestamp, len, Cow::Borrowed(&frame.data[..]))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        writer.write_packet(&packet).map_err(io_error)?;
    }
    Ok(())
}

/// Frames as one pcapng section naming lola, one interface `lo`, an
/// Enhanced Packet Block per frame and, with `statistics`, an Interface
/// Statistics Block after them.
fn encode_pcapng<W: Write>(
    out: &mut W,
    frames: &[CaptureFrame<'_>],
    statistics: Option<CaptureStatistics>,
) -> io::Result<()> {
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
    for frame in frames {
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
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
