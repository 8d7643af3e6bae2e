//! Writing captures with `pcap-file`: little-endian pcap like tcpdump's, or an
//! annotated pcapng, always through a temporary file renamed into place.

use std::borrow::Cow;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapTsResolution, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption, InterfaceTsResolution,
};
use pcap_file::pcapng::blocks::opt_common::CommonOption;
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::{DataLink, Endianness};

use super::{Format, MAX_SNAPLEN};
use crate::error::{Error, Result};

/// One frame to write: Ethernet bytes, the time it was seen, and (pcapng only)
/// a comment saying what it is.
///
/// ```
/// use std::borrow::Cow;
/// use lola::capture::{encode_capture, CaptureFrame, CaptureReader, Format};
/// let data = Cow::Borrowed(&[0u8; 60][..]);
/// let frame = CaptureFrame { timestamp: Default::default(), data, comment: Some("zeros".into()) };
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
}

/// What [`write_capture`] wrote.
///
/// ```
/// use lola::capture::{write_capture, Format, WriteSummary};
/// # use std::borrow::Cow;
/// # let data = Cow::Borrowed(&[0u8; 60][..]);
/// # let frame = lola::capture::CaptureFrame { timestamp: Default::default(), data, comment: None };
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
/// let frame = CaptureFrame { timestamp: Duration::ZERO, data: Cow::Borrowed(&[0u8; 60]), comment: None };
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
        Format::Pcap => {
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
            let mut writer = PcapWriter::with_header(&mut out, header).map_err(io_error)?;
            for frame in frames {
                let len = frame.data.len() as u32;
                let packet = PcapPacket::new(frame.timestamp, len, Cow::Borrowed(&frame.data[..]))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
                writer.write_packet(&packet).map_err(io_error)?;
            }
        }
        Format::PcapNg => {
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
            let mut writer =
                PcapNgWriter::with_section_header(&mut out, section).map_err(io_error)?;
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
                let options = match &frame.comment {
                    Some(text) => vec![EnhancedPacketOption::Common(CommonOption::Comment(
                        Cow::Borrowed(text.as_str()),
                    ))],
                    None => Vec::new(),
                };
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
    }
    out.flush()?;
    Ok(out.count)
}

/// Writes `frames` to `path` whole or not at all: the bytes go to a temporary
/// file in the same directory, which is synced and renamed over `path` only
/// when complete. A failure leaves any existing file at `path` untouched.
/// The path `-` means standard output.
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
/// let summary = write_capture(&path, Format::Pcap, &[frame]).unwrap();
/// assert_eq!(std::fs::metadata(&path).unwrap().len(), summary.bytes);
/// assert!(lola::check_file(&path, &Expectation::exactly(&datagram)).unwrap().passed());
/// ```
pub fn write_capture(
    path: &Path,
    format: Format,
    frames: &[CaptureFrame<'_>],
) -> Result<WriteSummary> {
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        let stdout = io::stdout();
        let bytes = encode_capture(stdout.lock(), format, frames).map_err(io_err)?;
        return Ok(WriteSummary {
            format,
            frames: frames.len(),
            bytes,
        });
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(io_err(io::Error::from(io::ErrorKind::IsADirectory)));
    }
    let temp = tempfile::Builder::new()
        .prefix(".lola-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(io_err)?;
    let bytes = {
        let mut buffered = BufWriter::new(temp.as_file());
        let bytes = encode_capture(&mut buffered, format, frames).map_err(io_err)?;
        buffered.flush().map_err(io_err)?;
        bytes
    };
    temp.as_file().sync_all().map_err(io_err)?;
    set_readable_permissions(temp.as_file()).map_err(io_err)?;
    temp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(WriteSummary {
        format,
        frames: frames.len(),
        bytes,
    })
}

/// Writes `bytes` to `path` whole or not at all, like [`write_capture`]
/// (for reports: JUnit XML, JSON).
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
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".lola-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(io_err)?;
    temp.write_all(bytes).map_err(io_err)?;
    temp.as_file().sync_all().map_err(io_err)?;
    set_readable_permissions(temp.as_file()).map_err(io_err)?;
    temp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
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
        };
        assert!(write_capture(&path, Format::Pcap, &[too_big]).is_err());
        assert_eq!(fs::read(&path).unwrap(), b"good");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }
}
