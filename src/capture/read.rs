//! Reading captures as a stream of frames.
//!
//! lola parses the pcap file header and records itself, with libpcap's rules
//! (`sf-pcap.c`): the versions it reads, the "modified" (Kuznetsov) record
//! format, link-type fields with FCS bits, the pre-2.3 swapped lengths. The
//! pcapng blocks are parsed in [`super::pcapng`], which says why not by
//! pcap-file. This module owns the buffering so that it knows the byte offset
//! of everything it reads, and it checks every length field from the file
//! against libpcap's limits and against what is left of the file *before* it
//! asks for that many bytes. The buffer never grows past one record or block
//! of at most [`MAX_BLOCK`] bytes.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::Drops;
use super::mmap::Windows;
use super::pcapng::{self, Interface, Order, Section};
use super::{Format, MAX_BLOCK, MAX_SNAPLEN, link_type_supported};
use crate::error::{Error, Result};

const PCAP_RECORD_HEADER: usize = 16;
/// Record header of the "modified" format (magic `0xa1b2cd34`, Alexey
/// Kuznetsov's patched libpcap): the usual 16 bytes, then `ifindex` (u32),
/// `protocol` (u16), `pkt_type` (u8) and a pad byte.
const KUZNETSOV_RECORD_HEADER: usize = 24;
/// `LT_FCS_LENGTH_PRESENT` of libpcap's `pcap/pcap.h`: the link-type field's
/// top nibble says how many 16-bit words of FCS end each frame.
const LT_FCS_LENGTH_PRESENT: u32 = 0x0400_0000;
/// `LT_RESERVED1`: must be zero (libpcap refuses the file otherwise).
const LT_RESERVED1: u32 = 0x03FF_0000;

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

/// Whether a pcap file's records hold the captured length before the
/// original length (2.4), after it (before 2.3), or either (2.3): libpcap's
/// `lengths_swapped`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lengths {
    InOrder,
    Swapped,
    /// Swapped when the "captured" length is the larger one.
    MaybeSwapped,
}

/// What a pcap magic number says: (big-endian, nanoseconds, record header
/// size). The four standard magics and the modified one, in both byte
/// orders; every other magic is not pcap.
fn pcap_magic(magic: &[u8]) -> Option<(bool, bool, usize)> {
    match magic {
        [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, false, PCAP_RECORD_HEADER)),
        [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, false, PCAP_RECORD_HEADER)),
        [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, true, PCAP_RECORD_HEADER)),
        [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, true, PCAP_RECORD_HEADER)),
        [0xa1, 0xb2, 0xcd, 0x34] => Some((true, false, KUZNETSOV_RECORD_HEADER)),
        [0x34, 0xcd, 0xb2, 0xa1] => Some((false, false, KUZNETSOV_RECORD_HEADER)),
        _ => None,
    }
}

/// A classic pcap file header, as libpcap reads it.
#[derive(Clone, Copy, Debug)]
struct PcapFile {
    big_endian: bool,
    nanos: bool,
    /// 16, or 24 for the modified format.
    record_header: usize,
    snaplen: u32,
    /// Captured lengths above this get a note: the snaplen when it is one
    /// libpcap honours, else `u32::MAX` (one compare per record).
    note_above: u32,
    /// The link-type field without its FCS bits.
    link_type: u32,
    /// Bytes of FCS at the end of every frame (stripped from what is read).
    fcs_len: u32,
    lengths: Lengths,
}

impl PcapFile {
    /// True for what tcpdump writes today (2.4, 16-byte records, no FCS):
    /// the record loop then skips every check the other variants need.
    fn plain(&self) -> bool {
        self.record_header == PCAP_RECORD_HEADER
            && self.lengths == Lengths::InOrder
            && self.fcs_len == 0
    }

    /// Parses the 24-byte file header; `Ok(None)` when the magic is not a
    /// pcap one. Refuses what libpcap refuses, naming it.
    fn parse(h: &[u8], notes: &mut Notes) -> std::result::Result<Option<PcapFile>, String> {
        let Some((big_endian, nanos, record_header)) = pcap_magic(&h[..4]) else {
            return Ok(None);
        };
        let order = Order { big: big_endian };
        let (major, minor) = (order.u16(h, 4), order.u16(h, 6));
        // libpcap reads 2.0 to 2.4, and 543.0 (DG/UX tcpdump, pre-2.3 order).
        let lengths = match (major, minor) {
            (2, 0..=2) | (543, 0) => Lengths::Swapped,
            (2, 3) => Lengths::MaybeSwapped,
            (2, 4) => Lengths::InOrder,
            _ => {
                return Err(format!(
                    "unsupported pcap version {major}.{minor} (libpcap reads 2.0 to 2.4)"
                ));
            }
        };
        let field = order.u32(h, 20);
        if field & LT_RESERVED1 != 0 {
            return Err(format!(
                "link-type field 0x{field:08x} has reserved bits 0x{:08x} set",
                field & LT_RESERVED1
            ));
        }
        let link_type = field & 0xffff;
        let fcs_len = if field & LT_FCS_LENGTH_PRESENT != 0 {
            (field >> 28) * 2
        } else {
            0
        };
        if fcs_len > 0 {
            notes.add(|| {
                format!(
                    "link-type field 0x{field:08x}: link type {link_type} with a {fcs_len}-byte FCS ending every frame; the FCS is not part of the frames lola reads"
                )
            });
        }
        if lengths == Lengths::Swapped {
            notes.add(|| {
                format!(
                    "pcap version {major}.{minor}: captured and original lengths read in the order before 2.3, as libpcap does"
                )
            });
        }
        let mut snaplen = order.u32(h, 16);
        if snaplen == 0 || snaplen > MAX_SNAPLEN {
            notes.add(|| {
                format!("file header claims snaplen {snaplen}; read as {MAX_SNAPLEN} like libpcap")
            });
        } else if record_header == KUZNETSOV_RECORD_HEADER && link_type == super::LINKTYPE_ETHERNET
        {
            // libpcap: such a capture may have been taken in cooked mode,
            // with a fake 14-byte Ethernet header added past the snaplen.
            snaplen += 14;
        }
        Ok(Some(PcapFile {
            big_endian,
            nanos,
            record_header,
            snaplen,
            note_above: if snaplen != 0 && snaplen <= MAX_SNAPLEN {
                snaplen
            } else {
                u32::MAX
            },
            link_type,
            fcs_len,
            lengths,
        }))
    }
}

enum Kind {
    Pcap(PcapFile),
    PcapNg {
        order: Order,
        section: Section,
        interfaces: Vec<Interface>,
    },
}

/// Reads pcap (both byte orders, micro- and nanosecond) and pcapng files.
///
/// ```
/// use std::borrow::Cow;
/// use std::time::Duration;
/// use lola::capture::{encode_capture, CaptureFrame, CaptureReader, Format};
/// let mut bytes = Vec::new();
/// let frame = CaptureFrame { timestamp: Duration::from_secs(7), data: Cow::Borrowed(&[1u8; 60]), comment: None, flags: None };
/// encode_capture(&mut bytes, Format::PcapNg, &[frame]).unwrap();
/// let mut reader = CaptureReader::new(&bytes[..], "mem.pcapng").unwrap();
/// let f = reader.next_frame().unwrap().unwrap();
/// assert_eq!((f.number, f.link_type, f.data.len()), (1, 1, 60));
/// assert!(reader.next_frame().unwrap().is_none());
/// ```
pub struct CaptureReader<R: Read> {
    source: Source<R>,
    kind: Kind,
    format: Format,
    frames: u64,
    notes: Notes,
    path: PathBuf,
    /// Refuse frames of a link type lola cannot decode (the default).
    decodable_only: bool,
    /// The latest Interface Statistics Block of each (section, interface).
    statistics: Vec<((u64, u32), pcapng::Statistics)>,
    /// Sections seen (pcapng), to key statistics by.
    sections: u64,
    /// Sum of `epb_dropcount`.
    dropped_between: u64,
}

impl CaptureReader<File> {
    /// Opens a capture file.
    ///
    /// ```
    /// use lola::capture::CaptureReader;
    /// assert!(CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).is_ok());
    /// let err = CaptureReader::open("fixtures/no-such.pcap".as_ref()).err().unwrap();
    /// assert_eq!(err.to_string(), "fixtures/no-such.pcap: no such file or directory");
    /// ```
    pub fn open(path: &Path) -> Result<CaptureReader<File>> {
        CaptureReader::open_with(path, true)
    }

    /// Opens a capture file whatever link type its frames have, for callers
    /// that copy or count frames without decoding them. [`open`](Self::open)
    /// refuses a link type lola cannot decode, once, for every caller.
    ///
    /// ```
    /// use lola::capture::CaptureReader;
    /// let path = "fixtures/link-unsupported.pcap".as_ref(); // LINKTYPE_USER0
    /// let err = CaptureReader::open(path).err().unwrap();
    /// assert!(err.to_string().contains("unsupported link type 147"), "{err}");
    /// let mut any = CaptureReader::open_any_link_type(path).unwrap();
    /// assert_eq!(any.next_frame().unwrap().unwrap().link_type, 147);
    /// ```
    pub fn open_any_link_type(path: &Path) -> Result<CaptureReader<File>> {
        CaptureReader::open_with(path, false)
    }

    /// Opens a regular file read in place through mapped windows of
    /// `window` bytes (rather than [`open`](Self::open)'s 4 MiB), or
    /// `Ok(None)` when it cannot be mapped. For the tests and fuzz targets
    /// that hold the mapped reader to the streaming one, records straddling
    /// many window ends.
    #[doc(hidden)]
    pub fn open_mapped(path: &Path, window: usize) -> Result<Option<CaptureReader<File>>> {
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        match Windows::with_window(file, window) {
            Some(windows) => {
                CaptureReader::with_source(Source::mapped(windows), path.to_path_buf(), true)
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn open_with(path: &Path, decodable_only: bool) -> Result<CaptureReader<File>> {
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: io::Error::from(io::ErrorKind::IsADirectory),
            });
        }
        // A regular file is read through a window of memory mapped from
        // it, with no copy (see `super::mmap`, also for a file that changes
        // size while it is read).
        if let Some(windows) = file.try_clone().ok().and_then(Windows::new) {
            return CaptureReader::with_source(
                Source::mapped(windows),
                path.to_path_buf(),
                decodable_only,
            );
        }
        // Otherwise a thread reads ahead, so that reading the file and
        // checking it overlap on two cores.
        match ReadAhead::spawn(file.try_clone().map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?) {
            Some(ahead) => {
                CaptureReader::with_source(Source::ahead(ahead), path.to_path_buf(), decodable_only)
            }
            None => {
                CaptureReader::with_source(Source::new(file), path.to_path_buf(), decodable_only)
            }
        }
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header (pcap) or first section header (pcapng) from
    /// `reader`; `path` is only used to name the file in errors.
    ///
    /// ```
    /// use lola::capture::CaptureReader;
    /// let bytes = std::fs::read("fixtures/seed-ipv4.pcap").unwrap();
    /// assert!(CaptureReader::new(&bytes[..], "seed-ipv4.pcap").is_ok());
    /// let err = CaptureReader::new(&b"GET / HTTP/1.1\r\n"[..], "notes.txt").err().unwrap();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "notes.txt: not a capture file: it starts with text (bad magic number) (at byte 0)"
    /// );
    /// ```
    pub fn new(reader: R, path: impl AsRef<Path>) -> Result<CaptureReader<R>> {
        CaptureReader::with_source(Source::new(reader), path.as_ref().to_path_buf(), true)
    }

    fn with_source(
        mut source: Source<R>,
        path: PathBuf,
        decodable_only: bool,
    ) -> Result<CaptureReader<R>> {
        let have = source.fill(24).map_err(|e| io_err(&path, e))?;
        if have == 0 {
            return Err(malformed(
                &path,
                0,
                "empty file: not a pcap or pcapng capture".into(),
            ));
        }
        let magic = source.peek(4.min(have));
        let is_pcapng = magic == [0x0a, 0x0d, 0x0d, 0x0a];
        let mut notes = Notes::default();
        let pcap = if have >= 24 {
            PcapFile::parse(source.peek(24), &mut notes).map_err(|e| malformed(&path, 0, e))?
        } else {
            None
        };
        if let Some(file) = pcap {
            // A pcap file has one link type: refuse it before reading any frame.
            if decodable_only && !link_type_supported(file.link_type) {
                return Err(Error::UnsupportedLinkType {
                    path,
                    link_type: file.link_type,
                    name: super::link_type_name(file.link_type),
                });
            }
            source.consume(24);
            return Ok(CaptureReader {
                source,
                kind: Kind::Pcap(file),
                format: Format::Pcap,
                frames: 0,
                notes,
                path,
                decodable_only,
                statistics: Vec::new(),
                sections: 0,
                dropped_between: 0,
            });
        }
        if !is_pcapng {
            if pcap_magic(magic).is_some() {
                return Err(malformed(
                    &path,
                    0,
                    format!("pcap file header cut short: {have} of 24 bytes"),
                ));
            }
            let magic = magic.to_vec();
            // The same prefix whatever the reader buffers or maps.
            let sniffed = source.fill(TEXT_SNIFF).map_err(|e| io_err(&path, e))?;
            let what = if looks_like_text(source.peek(sniffed.min(TEXT_SNIFF))) {
                "not a capture file: it starts with text (bad magic number)".to_string()
            } else {
                format!(
                    "not a capture file: bad magic number 0x{}",
                    magic.iter().map(|b| format!("{b:02x}")).collect::<String>()
                )
            };
            return Err(malformed(&path, 0, what));
        }
        let len = next_block_bytes(&mut source, &path, Order { big: false }, true)?;
        let (order, section) = pcapng::section(source.peek(len))
            .and_then(|(order, section)| {
                whole_block(source.peek(len), order).map(|()| (order, section))
            })
            .map_err(|e| malformed(&path, 0, e))?;
        source.consume(len);
        Ok(CaptureReader {
            source,
            kind: Kind::PcapNg {
                order,
                section,
                interfaces: Vec::new(),
            },
            format: Format::PcapNg,
            frames: 0,
            notes,
            path,
            decodable_only,
            statistics: Vec::new(),
            sections: 1,
            dropped_between: 0,
        })
    }

    /// The container format.
    ///
    /// ```
    /// use lola::capture::{CaptureReader, Format};
    /// let open = |path: &str| CaptureReader::open(path.as_ref()).unwrap();
    /// assert_eq!(open("fixtures/seed-ipv4.pcap").format(), Format::Pcap);
    /// assert_eq!(open("fixtures/fmt-dumpcap.pcapng").format(), Format::PcapNg);
    /// ```
    pub fn format(&self) -> Format {
        self.format
    }

    /// The frames the capture admits it lost, so far (pcapng only: pcap has
    /// no place to say it). Statistics blocks usually come last: ask after
    /// the last frame.
    ///
    /// ```
    /// use lola::capture::CaptureReader;
    /// let mut reader = CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
    /// while reader.next_frame().unwrap().is_some() {}
    /// assert_eq!(reader.drops().total(), 0);
    /// ```
    pub fn drops(&self) -> Drops {
        let (mut interface, mut os) = (0u64, 0u64);
        for (_, stats) in &self.statistics {
            interface = interface.saturating_add(stats.if_dropped.unwrap_or(0));
            os = os.saturating_add(stats.os_dropped.unwrap_or(0));
        }
        Drops {
            interface,
            os,
            between_frames: self.dropped_between,
            kernel: 0,
        }
    }

    /// Things lola tolerated while reading, as libpcap would (each one line).
    /// At most [`MAX_NOTES`] of them, then one line counting the rest.
    ///
    /// ```
    /// use lola::capture::CaptureReader;
    /// // Its one record holds 52 bytes, more than the file header's snaplen of 40.
    /// let path = "fixtures/lenient-caplen-over-snaplen.pcap";
    /// let mut reader = CaptureReader::open(path.as_ref()).unwrap();
    /// while reader.next_frame().unwrap().is_some() {}
    /// assert_eq!(
    ///     reader.notes(),
    ///     ["frame 1 (byte 24): 52 captured bytes exceed the file's snaplen 40; read anyway, as libpcap does"]
    /// );
    /// ```
    pub fn notes(&self) -> Vec<String> {
        self.notes.lines()
    }

    /// The file's link type, for pcap; for pcapng the link type of its first
    /// interface so far, if any.
    ///
    /// ```
    /// use lola::capture::{CaptureReader, LINKTYPE_ETHERNET, LINKTYPE_RAW};
    /// let raw = CaptureReader::open("fixtures/link-raw.pcap".as_ref()).unwrap();
    /// assert_eq!(raw.link_type(), Some(LINKTYPE_RAW));
    /// // A pcapng describes its interfaces as it goes: none before the first frame.
    /// let mut ng = CaptureReader::open("fixtures/hello-lola-ipv6.pcapng".as_ref()).unwrap();
    /// assert_eq!(ng.link_type(), None);
    /// ng.next_frame().unwrap();
    /// assert_eq!(ng.link_type(), Some(LINKTYPE_ETHERNET));
    /// ```
    pub fn link_type(&self) -> Option<u32> {
        match &self.kind {
            Kind::Pcap(file) => Some(file.link_type),
            Kind::PcapNg { interfaces, .. } => interfaces.first().map(|i| i.link_type),
        }
    }

    /// For pcapng, what the current section's header says (its version and
    /// text options, bytes that are not UTF-8 shown as `\xNN`); `None` for
    /// pcap.
    ///
    /// ```
    /// use lola::capture::CaptureReader;
    /// let ng = CaptureReader::open("fixtures/fmt-dumpcap.pcapng".as_ref()).unwrap();
    /// let section = ng.section().unwrap();
    /// assert_eq!(section.version, (1, 0));
    /// assert!(section.application.as_deref().unwrap().starts_with("Dumpcap (Wireshark) 4.0"));
    /// ```
    pub fn section(&self) -> Option<&Section> {
        match &self.kind {
            Kind::Pcap(_) => None,
            Kind::PcapNg { section, .. } => Some(section),
        }
    }

    /// The next frame, `None` at the end of the file, or an error naming the
    /// byte offset where the file stops making sense.
    ///
    /// ```
    /// use lola::capture::CaptureReader;
    /// let mut reader = CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
    /// let mut last = 0;
    /// while let Some(frame) = reader.next_frame().unwrap() {
    ///     last = frame.number;
    /// }
    /// assert_eq!(last, 8);
    /// let mut cut = CaptureReader::open("fixtures/bad-record-short.pcap".as_ref()).unwrap();
    /// assert!(cut.next_frame().unwrap_err().to_string().ends_with("(at byte 24)"));
    /// ```
    #[inline(always)]
    pub fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>> {
        // Most records of most captures are plain: read them inline.
        if let Kind::Pcap(file) = &self.kind
            && let Some(record) = if file.big_endian {
                plain_record::<true, R>(file, &self.source)
            } else {
                plain_record::<false, R>(file, &self.source)
            }
        {
            return Ok(Some(self.take_plain_record(record)));
        }
        match self.kind {
            Kind::Pcap(file) if file.plain() => self.next_pcap_frame::<true>(),
            Kind::Pcap(_) => self.next_pcap_frame::<false>(),
            Kind::PcapNg { .. } => self.next_pcapng_frame(),
        }
    }

    /// Calls `f` with every frame until the end of the file, or returns
    /// the error [`next_frame`](Self::next_frame) would. The same frames as
    /// a `next_frame` loop, for less work per frame: each frame is built
    /// where `f` reads it, not moved out of a `Result`.
    ///
    /// ```
    /// use lola::capture::CaptureReader;
    /// let mut reader = CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
    /// let mut numbers = Vec::new();
    /// reader.for_each_frame(|frame| numbers.push(frame.number)).unwrap();
    /// assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7, 8]);
    /// let mut cut = CaptureReader::open("fixtures/bad-record-short.pcap".as_ref()).unwrap();
    /// assert!(cut.for_each_frame(|_| {}).unwrap_err().to_string().ends_with("(at byte 24)"));
    /// ```
    #[inline(always)]
    pub fn for_each_frame(&mut self, mut f: impl FnMut(&RawFrame<'_>)) -> Result<()> {
        loop {
            if let Kind::Pcap(file) = &self.kind
                && let Some(record) = if file.big_endian {
                    plain_record::<true, R>(file, &self.source)
                } else {
                    plain_record::<false, R>(file, &self.source)
                }
            {
                f(&self.take_plain_record(record));
                continue;
            }
            let frame = match self.kind {
                Kind::Pcap(file) if file.plain() => self.next_pcap_frame::<true>()?,
                Kind::Pcap(_) => self.next_pcap_frame::<false>()?,
                Kind::PcapNg { .. } => self.next_pcapng_frame()?,
            };
            match frame {
                Some(frame) => f(&frame),
                None => return Ok(()),
            }
        }
    }

    /// The frame of a record [`plain_record`] read.
    #[inline(always)]
    fn take_plain_record(&mut self, record: PlainRecord) -> RawFrame<'_> {
        let Kind::Pcap(file) = &self.kind else {
            unreachable!("plain records are pcap records")
        };
        let (link_type, header) = (file.link_type, file.record_header);
        let offset = self.source.offset;
        self.frames += 1;
        self.source.consume(record.need);
        RawFrame {
            number: self.frames,
            offset,
            timestamp: record.timestamp,
            link_type,
            orig_len: record.orig_len,
            data: &self.source.consumed_slice(record.need)[header..],
            comment: None,
            flags: None,
        }
    }

    /// Any pcap record: the one [`plain_record`] passed over is read here,
    /// with every check and note.
    #[inline(never)]
    fn next_pcap_frame<const PLAIN: bool>(&mut self) -> Result<Option<RawFrame<'_>>> {
        let Kind::Pcap(file) = &self.kind else {
            unreachable!()
        };
        let file = *file;
        let record_header = if PLAIN {
            PCAP_RECORD_HEADER
        } else {
            file.record_header
        };
        let offset = self.source.offset;
        if !self.record_header_ready(record_header)? {
            return Ok(None);
        }
        // Record headers are read here rather than by pcap-file's
        // RawPcapPacket::from_slice: each field is checked against libpcap's
        // limits before any byte it counts is read, and this loop runs once
        // per frame of captures with millions of them.
        // The fields sit in the first 16 bytes of both record formats; a
        // fixed-size view lets the compiler drop the bounds checks.
        let Ok(head) = <&[u8; PCAP_RECORD_HEADER]>::try_from(self.source.peek(PCAP_RECORD_HEADER))
        else {
            unreachable!("fill made at least {record_header} bytes available")
        };
        // One byte order decision per record rather than one per field.
        let swap = file.big_endian;
        let field = |at: usize| {
            let v = u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
            if swap { v.swap_bytes() } else { v }
        };
        let (ts_sec, ts_frac, mut incl_len, mut orig_len) =
            (field(0), field(4), field(8), field(12));
        let mut swapped = false;
        if !PLAIN && file.lengths != Lengths::InOrder {
            // libpcap: a 2.3 file may have either order; the captured
            // length cannot exceed the original one.
            swapped = file.lengths == Lengths::Swapped || incl_len > orig_len;
            if swapped {
                std::mem::swap(&mut incl_len, &mut orig_len);
            }
        }
        if incl_len > MAX_SNAPLEN {
            return Err(malformed(
                &self.path,
                offset,
                format!(
                    "invalid packet capture length {incl_len}, bigger than maximum of {MAX_SNAPLEN}"
                ),
            ));
        }
        let nanos = record_nanos(&file, ts_frac).map_err(|e| malformed(&self.path, offset, e))?;
        let need = record_header + incl_len as usize;
        if self.source.available() < need {
            let have = self.source.fill(need).map_err(|e| io_err(&self.path, e))?;
            if have < need {
                return Err(truncated(
                    &self.path,
                    offset,
                    format!(
                        "record cut short: claims {incl_len} captured bytes, only {} left in the file",
                        have - record_header
                    ),
                ));
            }
        }
        self.frames += 1;
        let number = self.frames;
        let swapped_maybe = !PLAIN && swapped && file.lengths == Lengths::MaybeSwapped;
        self.note_record_lengths(&file, (number, offset), incl_len, orig_len, swapped_maybe);
        self.source.consume(need);
        let mut data = &self.source.consumed_slice(need)[record_header..];
        let mut orig_len = orig_len.max(incl_len);
        if !PLAIN && file.fcs_len > 0 {
            // The FCS is the last bytes on the wire: whatever of it the
            // snaplen left in the record goes, and the wire length shrinks.
            orig_len = orig_len.saturating_sub(file.fcs_len);
            data = &data[..data.len().min(orig_len as usize)];
        }
        Ok(Some(RawFrame {
            number,
            offset,
            timestamp: Duration::new(u64::from(ts_sec), nanos),
            link_type: file.link_type,
            orig_len,
            data,
            comment: None,
            flags: None,
        }))
    }

    /// Makes the record header at the cursor available: false at the end of
    /// the file, an error when the file ends inside the header. The common
    /// case needs no read: the record is already buffered.
    fn record_header_ready(&mut self, record_header: usize) -> Result<bool> {
        if self.source.available() >= record_header {
            return Ok(true);
        }
        let offset = self.source.offset;
        let have = self
            .source
            .fill(record_header)
            .map_err(|e| io_err(&self.path, e))?;
        if have == 0 {
            return Ok(false);
        }
        if have < record_header {
            return Err(truncated(
                &self.path,
                offset,
                format!("record header cut short: {have} of {record_header} bytes"),
            ));
        }
        Ok(true)
    }

    /// The notes a record's lengths deserve: beyond the snaplen (read
    /// anyway, as libpcap does), swapped (pre-2.3 order), or an original
    /// length shorter than what was captured.
    fn note_record_lengths(
        &mut self,
        file: &PcapFile,
        (number, offset): (u64, u64),
        incl_len: u32,
        orig_len: u32,
        swapped_maybe: bool,
    ) {
        if incl_len > file.note_above {
            self.notes.add(|| {
                format!(
                    "frame {number} (byte {offset}): {incl_len} captured bytes exceed the file's snaplen {}; read anyway, as libpcap does",
                    file.snaplen
                )
            });
        }
        if swapped_maybe {
            self.notes.add(|| {
                format!(
                    "frame {number} (byte {offset}): lengths in the order before pcap 2.3 (captured {orig_len} > original {incl_len}); swapped, as libpcap does"
                )
            });
        } else if orig_len < incl_len {
            self.notes.add(|| {
                format!(
                    "frame {number} (byte {offset}): original length {orig_len} is less than the {incl_len} captured bytes"
                )
            });
        }
    }

    /// Counts a pcapng packet (its number, the drops it admits) and notes
    /// what is odd about it; returns its frame number.
    fn count_packet(&mut self, packet: &pcapng::Packet, offset: u64) -> u64 {
        self.frames += 1;
        self.dropped_between = self
            .dropped_between
            .saturating_add(packet.drop_count.unwrap_or(0));
        let number = self.frames;
        let captured = packet.data.len() as u32;
        if packet.orig_len < captured {
            self.notes.add(|| {
                format!(
                    "frame {number} (byte {offset}): original length {} is less than the {captured} captured bytes",
                    packet.orig_len
                )
            });
        }
        if packet.bad_options {
            self.notes.add(|| {
                format!(
                    "frame {number} (byte {offset}): its options run past the end of the block; ignored"
                )
            });
        }
        number
    }

    #[inline(never)]
    fn next_pcapng_frame(&mut self) -> Result<Option<RawFrame<'_>>> {
        loop {
            let offset = self.source.offset;
            if self.source.fill(1).map_err(|e| io_err(&self.path, e))? == 0 {
                return Ok(None);
            }
            let Kind::PcapNg {
                order,
                section,
                interfaces,
            } = &mut self.kind
            else {
                unreachable!()
            };
            let path = &self.path;
            let len = next_block_bytes(&mut self.source, path, *order, false)?;
            let block = self.source.peek(len);
            // A section header's type reads the same in both byte orders.
            let block_type = order.u32(block, 0);
            let bad = |e: String| malformed(path, offset, e);
            if block_type == pcapng::SECTION_HEADER {
                let (new_order, new_section) = pcapng::section(block).map_err(bad)?;
                *order = new_order;
                *section = new_section;
            }
            whole_block(block, *order).map_err(bad)?;
            let packet = match block_type {
                pcapng::SECTION_HEADER => {
                    interfaces.clear();
                    self.sections += 1;
                    None
                }
                pcapng::INTERFACE_STATISTICS => {
                    let stats = pcapng::statistics(block, *order).map_err(bad)?;
                    let key = (self.sections, stats.interface);
                    self.statistics.retain(|(k, _)| *k != key);
                    self.statistics.push((key, stats));
                    None
                }
                pcapng::INTERFACE_DESCRIPTION => {
                    interfaces.push(pcapng::interface(block, *order).map_err(bad)?);
                    None
                }
                pcapng::ENHANCED_PACKET | pcapng::PACKET | pcapng::SIMPLE_PACKET => {
                    let (packet, timestamp, link_type) =
                        packet_block(block, block_type, *order, interfaces).map_err(bad)?;
                    if self.decodable_only && !link_type_supported(link_type) {
                        return Err(Error::UnsupportedLinkType {
                            path: self.path.clone(),
                            link_type,
                            name: super::link_type_name(link_type),
                        });
                    }
                    Some((packet, timestamp, link_type))
                }
                _ => None,
            };
            self.source.consume(len);
            let Some((packet, timestamp, link_type)) = packet else {
                continue;
            };
            let number = self.count_packet(&packet, offset);
            let captured = packet.data.len() as u32;
            let data = &self.source.consumed_slice(len)[packet.data];
            return Ok(Some(RawFrame {
                number,
                offset,
                timestamp,
                link_type,
                orig_len: packet.orig_len.max(captured),
                data,
                comment: packet.comment,
                flags: packet.flags,
            }));
        }
    }
}

/// A pcap record that needs none of libpcap's allowances, as read in place.
#[derive(Clone, Copy)]
struct PlainRecord {
    /// Record header and captured bytes.
    need: usize,
    timestamp: Duration,
    orig_len: u32,
}

/// The record at the cursor if it is whole in the buffer and plain: lengths
/// in order within the snaplen, the original no shorter than the captured,
/// a timestamp fraction under one second, no FCS to strip. What
/// `next_pcap_frame` makes of such a record, with no note, for a fraction
/// of its work; `None` sends every other record there.
#[inline(always)]
fn plain_record<const BIG_ENDIAN: bool, R: Read>(
    file: &PcapFile,
    source: &Source<R>,
) -> Option<PlainRecord> {
    if file.lengths != Lengths::InOrder || file.fcs_len != 0 {
        return None;
    }
    let rest = source.unconsumed();
    let head = rest.first_chunk::<PCAP_RECORD_HEADER>()?;
    let field = |at: usize| {
        let v = u32::from_le_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]]);
        if BIG_ENDIAN { v.swap_bytes() } else { v }
    };
    let (ts_sec, ts_frac, incl_len, orig_len) = (field(0), field(4), field(8), field(12));
    let (frac_limit, scale) = if file.nanos {
        (1_000_000_000, 1)
    } else {
        (1_000_000, 1000)
    };
    let need = file.record_header + incl_len as usize;
    let plain = incl_len <= file.note_above.min(MAX_SNAPLEN)
        && orig_len >= incl_len
        && ts_frac < frac_limit
        && rest.len() >= need;
    plain.then(|| PlainRecord {
        need,
        timestamp: Duration::new(u64::from(ts_sec), ts_frac * scale),
        orig_len,
    })
}

/// How many tolerated oddities a reader lists before it only counts them.
pub const MAX_NOTES: usize = 20;

/// Notes, capped: a file with a million odd records must not grow memory.
#[derive(Default)]
struct Notes {
    lines: Vec<String>,
    more: u64,
}

impl Notes {
    fn add(&mut self, line: impl FnOnce() -> String) {
        if self.lines.len() < MAX_NOTES {
            self.lines.push(line());
        } else {
            self.more += 1;
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = self.lines.clone();
        if self.more > 0 {
            lines.push(format!("... and {} more notes like these", self.more));
        }
        lines
    }
}

/// Checks the length of the pcapng block at the current position and makes
/// sure it is all in the buffer; returns its length.
fn next_block_bytes<R: Read>(
    source: &mut Source<R>,
    path: &Path,
    order: Order,
    first: bool,
) -> Result<usize> {
    let offset = source.offset;
    let have = source.fill(12).map_err(|e| io_err(path, e))?;
    if have < 12 {
        return Err(truncated(
            path,
            offset,
            format!("block header cut short: {have} of 12 bytes"),
        ));
    }
    let head = source.peek(12);
    let block_type = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let len_bytes = [head[4], head[5], head[6], head[7]];
    let len = if block_type == pcapng::SECTION_HEADER {
        // A section header carries its own byte order in the magic that follows.
        match [head[8], head[9], head[10], head[11]] {
            [0x1a, 0x2b, 0x3c, 0x4d] => u32::from_be_bytes(len_bytes),
            [0x4d, 0x3c, 0x2b, 0x1a] => u32::from_le_bytes(len_bytes),
            other => {
                return Err(malformed(
                    path,
                    offset,
                    format!(
                        "section header has bad byte-order magic 0x{}",
                        other.iter().map(|b| format!("{b:02x}")).collect::<String>()
                    ),
                ));
            }
        }
    } else if first {
        return Err(malformed(
            path,
            offset,
            "pcapng file does not start with a section header".into(),
        ));
    } else {
        order.u32(&len_bytes, 0)
    };
    if len < 12 {
        return Err(malformed(
            path,
            offset,
            format!("block length {len} is less than the minimum of 12"),
        ));
    }
    if len % 4 != 0 {
        return Err(malformed(
            path,
            offset,
            format!("block length {len} is not a multiple of 4"),
        ));
    }
    if len > MAX_BLOCK {
        return Err(malformed(
            path,
            offset,
            format!("block length {len} is bigger than the maximum of {MAX_BLOCK}"),
        ));
    }
    let have = source.fill(len as usize).map_err(|e| io_err(path, e))?;
    if have < len as usize {
        return Err(truncated(
            path,
            offset,
            format!("block claims {len} bytes, only {have} left in the file"),
        ));
    }
    Ok(len as usize)
}

/// Checks that a block's trailing length repeats its leading one.
fn whole_block(block: &[u8], order: Order) -> std::result::Result<(), String> {
    let (lead, trail) = (order.u32(block, 4), order.u32(block, block.len() - 4));
    if lead == trail {
        Ok(())
    } else {
        Err(format!(
            "block length {lead} at its start and {trail} at its end differ"
        ))
    }
}

/// A packet block (enhanced, obsolete or simple) with its time and the link
/// type of its interface.
fn packet_block(
    block: &[u8],
    block_type: u32,
    order: pcapng::Order,
    interfaces: &[pcapng::Interface],
) -> std::result::Result<(pcapng::Packet, Duration, u32), String> {
    let Some(first) = interfaces.first() else {
        return Err("packet block before any Interface Description Block".into());
    };
    let packet = match block_type {
        pcapng::SIMPLE_PACKET => pcapng::simple_packet(block, order, first.snaplen),
        t => pcapng::packet(block, order, t == pcapng::ENHANCED_PACKET),
    }?;
    let Some(interface) = interfaces.get(packet.interface as usize) else {
        return Err(format!(
            "packet on interface {} with no Interface Description Block",
            packet.interface
        ));
    };
    // A simple packet block carries no timestamp.
    let timestamp = match packet.timestamp {
        Some(raw) => interface.timestamp(raw)?,
        None => Duration::ZERO,
    };
    Ok((packet, timestamp, interface.link_type))
}

/// A record's fraction of a second in nanoseconds, refused (as libpcap does)
/// when it is a second or more.
fn record_nanos(file: &PcapFile, ts_frac: u32) -> std::result::Result<u32, String> {
    match file.nanos {
        false if ts_frac < 1_000_000 => Ok(ts_frac * 1000),
        true if ts_frac < 1_000_000_000 => Ok(ts_frac),
        nanos => {
            let unit = if nanos { "nano" } else { "micro" };
            Err(format!(
                "record timestamp has {ts_frac} {unit}seconds, more than one second"
            ))
        }
    }
}

fn malformed(path: &Path, offset: u64, what: String) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        offset,
        what,
    }
}

/// The file ends inside the record or block at `offset`: a typed end of
/// the stream, which a checker can judge the frames before.
fn truncated(path: &Path, offset: u64, what: String) -> Error {
    Error::Truncated {
        path: path.to_path_buf(),
        offset,
        what,
    }
}

fn io_err(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Bytes of a file that is not a capture looked at to say it is text.
const TEXT_SNIFF: usize = 1024;

fn looks_like_text(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes.iter().all(|&b| {
            b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80
        })
}

/// Room kept in front of each read-ahead chunk for the end of the previous
/// one: a record or block cut by a chunk boundary (at most [`MAX_BLOCK`]).
const HEADROOM: usize = MAX_BLOCK as usize;
/// Bytes read per chunk.
const CHUNK: usize = 1 << 20;
/// Chunk buffers in flight at most: one being checked, one being read, one
/// waiting. Memory: 3 × (HEADROOM + CHUNK), about 4 MiB.
const CHUNKS: usize = 3;

/// A thread that reads a file in chunks ahead of the checker.
struct ReadAhead {
    chunks: mpsc::Receiver<io::Result<(Vec<u8>, usize)>>,
    spare: mpsc::SyncSender<Vec<u8>>,
}

impl ReadAhead {
    /// Starts the thread; `None` if the system refuses one (then the
    /// caller reads directly).
    fn spawn(mut file: File) -> Option<ReadAhead> {
        let (tx, chunks) = mpsc::sync_channel(CHUNKS - 1);
        let (spare, spare_rx) = mpsc::sync_channel::<Vec<u8>>(CHUNKS);
        std::thread::Builder::new()
            .name("lola-read-ahead".into())
            .spawn(move || {
                let mut allocated = 0;
                loop {
                    let mut buf = match spare_rx.try_recv() {
                        Ok(buf) => buf,
                        Err(_) if allocated < CHUNKS => {
                            allocated += 1;
                            vec![0; HEADROOM + CHUNK]
                        }
                        Err(_) => match spare_rx.recv() {
                            Ok(buf) => buf,
                            Err(_) => return, // the reader is gone
                        },
                    };
                    let mut len = 0;
                    while len < CHUNK {
                        match file.read(&mut buf[HEADROOM + len..HEADROOM + CHUNK]) {
                            Ok(0) => break,
                            Ok(k) => len += k,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                return;
                            }
                        }
                    }
                    // A short chunk is the end of the file; dropping the
                    // sender after it tells the reader so.
                    if tx.send(Ok((buf, len))).is_err() || len < CHUNK {
                        return;
                    }
                }
            })
            .ok()?;
        Some(ReadAhead { chunks, spare })
    }
}

enum Input<R> {
    Direct(R),
    Ahead(ReadAhead),
    /// A regular file read in place: `buf` stays empty, the bytes are the
    /// current window's.
    Mapped(Windows),
}

/// A read buffer that knows the file offset of its first unconsumed byte.
struct Source<R> {
    input: Input<R>,
    buf: Vec<u8>,
    /// Start of unconsumed data in `buf`.
    start: usize,
    /// Start of the most recently consumed item (for `consumed_slice`).
    last: usize,
    /// End of valid data in `buf`.
    end: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
}

impl<R: Read> Source<R> {
    fn new(reader: R) -> Source<R> {
        Source::at_start(Input::Direct(reader), vec![0; 128 * 1024])
    }

    fn ahead(ahead: ReadAhead) -> Source<R> {
        Source::at_start(Input::Ahead(ahead), Vec::new())
    }

    /// Reads in place from `windows` (the first `fill` maps a window).
    fn mapped(windows: Windows) -> Source<R> {
        Source::at_start(Input::Mapped(windows), Vec::new())
    }

    /// A source at the start of `input`, buffering in `buf` where it reads.
    fn at_start(input: Input<R>, buf: Vec<u8>) -> Source<R> {
        Source {
            input,
            buf,
            start: 0,
            last: 0,
            end: 0,
            offset: 0,
            eof: false,
        }
    }

    /// The buffered bytes: the read buffer, or the mapped window.
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        match &self.input {
            Input::Mapped(windows) => windows.window(),
            _ => &self.buf,
        }
    }

    /// Makes at least `n` bytes available if the file has them; returns how
    /// many are available (less than `n` only at the end of the file).
    /// `n` is bounded by the callers (`MAX_BLOCK`), so is the buffer.
    fn fill(&mut self, n: usize) -> io::Result<usize> {
        if self.end - self.start >= n || self.eof {
            return Ok(self.end - self.start);
        }
        match &mut self.input {
            Input::Direct(reader) => {
                if self.start + n > self.buf.len() {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.last = 0;
                    self.start = 0;
                    if n > self.buf.len() {
                        self.buf.resize(n, 0);
                    }
                }
                while self.end - self.start < n {
                    match reader.read(&mut self.buf[self.end..]) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(k) => self.end += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            Input::Mapped(windows) => {
                // A new window from the first unconsumed byte: the one
                // behind it is unmapped.
                let base = windows.map(self.offset, n)?;
                let len = windows.window().len();
                self.start = usize::try_from(self.offset - base)
                    .unwrap_or(usize::MAX)
                    .min(len);
                self.last = self.start;
                self.end = len;
                self.eof = windows.at_end();
            }
            Input::Ahead(ahead) => {
                while self.end - self.start < n {
                    let (mut chunk, len) = match ahead.chunks.recv() {
                        Ok(Ok(chunk)) => chunk,
                        Ok(Err(e)) => return Err(e),
                        Err(_) => {
                            self.eof = true;
                            break;
                        }
                    };
                    // Carry what is left of this buffer in front of the new data.
                    let left = self.end - self.start;
                    let start = if left <= HEADROOM {
                        chunk[HEADROOM - left..HEADROOM]
                            .copy_from_slice(&self.buf[self.start..self.end]);
                        HEADROOM - left
                    } else {
                        // Only reachable past the callers' bounds: keep it correct anyway.
                        let mut merged = self.buf[self.start..self.end].to_vec();
                        merged.extend_from_slice(&chunk[HEADROOM..HEADROOM + len]);
                        let _ = ahead.spare.try_send(chunk);
                        chunk = merged;
                        0
                    };
                    let end = if start == 0 && left > HEADROOM {
                        chunk.len()
                    } else {
                        HEADROOM + len
                    };
                    let old = std::mem::replace(&mut self.buf, chunk);
                    if old.len() == HEADROOM + CHUNK {
                        let _ = ahead.spare.try_send(old);
                    }
                    self.start = start;
                    self.last = start;
                    self.end = end;
                }
            }
        }
        Ok(self.end - self.start)
    }

    /// The bytes buffered and not yet consumed.
    #[inline(always)]
    fn unconsumed(&self) -> &[u8] {
        &self.bytes()[self.start..self.end]
    }

    /// Bytes buffered and not yet consumed.
    #[inline]
    fn available(&self) -> usize {
        self.end - self.start
    }

    #[inline(always)]
    fn peek(&self, n: usize) -> &[u8] {
        &self.bytes()[self.start..self.start + n]
    }

    fn consume(&mut self, n: usize) {
        self.last = self.start;
        self.start += n;
        self.offset += n as u64;
    }

    /// The `n` bytes consumed by the last `consume(n)`.
    #[inline(always)]
    fn consumed_slice(&self, n: usize) -> &[u8] {
        &self.bytes()[self.last..self.last + n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_header() -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&MAX_SNAPLEN.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h
    }

    fn record(incl: u32, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&1u32.to_le_bytes());
        r.extend_from_slice(&2u32.to_le_bytes());
        r.extend_from_slice(&incl.to_le_bytes());
        r.extend_from_slice(&orig.to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<(u64, u64, Vec<u8>)>> {
        let mut reader = CaptureReader::new(bytes, "t.pcap")?;
        let mut out = Vec::new();
        while let Some(f) = reader.next_frame()? {
            out.push((f.number, f.offset, f.data.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn reads_records_with_offsets() {
        let mut file = pcap_header();
        file.extend(record(3, 3, b"abc"));
        file.extend(record(2, 60, b"de"));
        let frames = read_all(&file).unwrap();
        assert_eq!(
            frames,
            vec![(1, 24, b"abc".to_vec()), (2, 43, b"de".to_vec())]
        );
    }

    fn header_with(magic: u32, version: (u16, u16), link_field: u32) -> Vec<u8> {
        let mut h = pcap_header();
        h[0..4].copy_from_slice(&magic.to_le_bytes());
        h[4..6].copy_from_slice(&version.0.to_le_bytes());
        h[6..8].copy_from_slice(&version.1.to_le_bytes());
        h[20..24].copy_from_slice(&link_field.to_le_bytes());
        h
    }

    #[test]
    fn fcs_bits_of_the_link_type_field_are_masked_and_the_fcs_stripped() {
        // FCS length 2 × 16 bits; one whole frame, one cut by the snaplen
        // inside its FCS, one cut before it.
        let mut file = header_with(0xa1b2c3d4, (2, 4), 0x2400_0001);
        file.extend(record(8, 8, b"abcdFCS!"));
        file.extend(record(6, 8, b"abcdFC"));
        file.extend(record(3, 8, b"abc"));
        let mut reader = CaptureReader::new(&file[..], "fcs.pcap").unwrap();
        assert_eq!(reader.link_type(), Some(1));
        let mut got = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            got.push((f.data.to_vec(), f.orig_len));
        }
        assert_eq!(
            got,
            [
                (b"abcd".to_vec(), 4),
                (b"abcd".to_vec(), 4),
                (b"abc".to_vec(), 4)
            ]
        );
        // Without the "present" bit the length bits mean nothing.
        let file = header_with(0xa1b2c3d4, (2, 4), 0x2000_0001);
        let reader = CaptureReader::new(&file[..], "x.pcap").unwrap();
        assert_eq!(reader.link_type(), Some(1));
        let err = CaptureReader::new(&header_with(0xa1b2c3d4, (2, 4), 0x0001_0001)[..], "r.pcap")
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "r.pcap: link-type field 0x00010001 has reserved bits 0x00010000 set (at byte 0)"
        );
    }

    #[test]
    fn modified_records_have_24_byte_headers_in_both_byte_orders() {
        let mut le = header_with(0xa1b2cd34, (2, 4), 1);
        let mut rec = record(3, 3, b"");
        rec.extend([1, 0, 0, 0, 8, 0, 0, 0]);
        rec.extend(b"xyz");
        le.extend(&rec);
        le.extend(&rec);
        let frames = read_all(&le).unwrap();
        assert_eq!(frames, [(1, 24, b"xyz".to_vec()), (2, 51, b"xyz".to_vec())]);
        // The same file written big-endian.
        let mut be = Vec::new();
        be.extend(0xa1b2cd34u32.to_be_bytes());
        be.extend(2u16.to_be_bytes());
        be.extend(4u16.to_be_bytes());
        be.extend([0; 8]);
        be.extend(MAX_SNAPLEN.to_be_bytes());
        be.extend(1u32.to_be_bytes());
        for word in [1u32, 2, 3, 3, 1] {
            be.extend(word.to_be_bytes());
        }
        be.extend([8, 0, 0, 0]);
        be.extend(b"xyz");
        assert_eq!(read_all(&be).unwrap(), [(1, 24, b"xyz".to_vec())]);
    }

    #[test]
    fn versions_follow_libpcap() {
        // A record in the order before 2.3: "captured" 8 first, then the
        // 3 bytes it really holds. Swapped before 2.3, in 2.3 (8 > 3) and
        // in DG/UX's 543.0; read as written in 2.4 (and then cut short).
        for (version, outcome) in [
            ((2, 0), "read"),
            ((2, 2), "read"),
            ((2, 3), "read"),
            ((543, 0), "read"),
            (
                (2, 4),
                "record cut short: claims 8 captured bytes, only 3 left",
            ),
            (
                (1, 0),
                "unsupported pcap version 1.0 (libpcap reads 2.0 to 2.4)",
            ),
            ((2, 5), "unsupported pcap version 2.5"),
            ((3, 0), "unsupported pcap version 3.0"),
            ((543, 1), "unsupported pcap version 543.1"),
        ] {
            let mut file = header_with(0xa1b2c3d4, version, 1);
            file.extend(record(8, 3, b"abc"));
            match read_all(&file) {
                Ok(frames) => {
                    assert_eq!(outcome, "read", "{version:?}");
                    assert_eq!(frames, [(1, 24, b"abc".to_vec())]);
                }
                Err(e) => assert!(e.to_string().contains(outcome), "{version:?}: {e}"),
            }
        }
    }

    #[test]
    fn huge_captured_length_is_refused_like_libpcap() {
        let mut file = pcap_header();
        file.extend(record(u32::MAX, 10, b""));
        let err = read_all(&file).unwrap_err().to_string();
        assert_eq!(
            err,
            "t.pcap: invalid packet capture length 4294967295, bigger than maximum of 262144 (at byte 24)"
        );
    }

    #[test]
    fn cut_short_record_names_the_offset() {
        let mut file = pcap_header();
        file.extend(record(10, 10, b"abc"));
        let err = read_all(&file).unwrap_err().to_string();
        assert!(
            err.contains("record cut short: claims 10 captured bytes, only 3 left"),
            "{err}"
        );
        assert!(err.contains("at byte 24"), "{err}");
    }

    #[test]
    fn empty_and_text_files_are_named() {
        assert!(
            read_all(b"")
                .unwrap_err()
                .to_string()
                .contains("empty file")
        );
        let err = read_all(b"hello, this is not a capture\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("starts with text"), "{err}");
    }

    #[test]
    fn frames_larger_than_the_read_buffer_are_read_whole() {
        let mut file = pcap_header();
        let big = vec![7u8; MAX_SNAPLEN as usize];
        file.extend(record(MAX_SNAPLEN, MAX_SNAPLEN, &big));
        file.extend(record(1, 1, b"z"));
        let frames = read_all(&file).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].2.len(), MAX_SNAPLEN as usize);
        assert_eq!(frames[1].2, b"z");
    }

    /// Everything a reader says about a file: each frame as text, the
    /// notes, and the error that stopped it, if one did.
    fn everything<R: Read>(reader: Result<CaptureReader<R>>) -> (Vec<String>, Option<String>) {
        let mut reader = match reader {
            Ok(reader) => reader,
            Err(e) => return (Vec::new(), Some(e.to_string())),
        };
        let mut out = Vec::new();
        let error = loop {
            match reader.next_frame() {
                Ok(Some(f)) => out.push(format!(
                    "{} {} {:?} {} {} {:?} {:?}",
                    f.number, f.offset, f.timestamp, f.link_type, f.orig_len, f.data, f.comment
                )),
                Ok(None) => break None,
                Err(e) => break Some(e.to_string()),
            }
        };
        out.extend(reader.notes());
        (out, error)
    }

    /// A file read through a read-ahead thread, as `open` did before files were mapped.
    fn open_read_ahead(path: &Path) -> Result<CaptureReader<File>> {
        let file = File::open(path).unwrap();
        let ahead = ReadAhead::spawn(file).unwrap();
        CaptureReader::with_source(Source::ahead(ahead), path.to_path_buf(), true)
    }

    /// The mapped reader (on-demand windows of `window` bytes, and `open`'s
    /// windows mapped ahead by a thread), the read-ahead thread and the
    /// streaming reader agree on `bytes` written at `path`.
    fn assert_readers_agree(path: &Path, bytes: &[u8], windows: &[usize]) {
        std::fs::write(path, bytes).unwrap();
        let streamed = everything(CaptureReader::new(bytes, path));
        for &window in windows {
            let mapped = match CaptureReader::open_mapped(path, window) {
                // Only an empty file is not mapped (and is streamed instead).
                Ok(None) => {
                    assert!(bytes.is_empty(), "{} not mapped", path.display());
                    continue;
                }
                Ok(Some(mapped)) => everything(Ok(mapped)),
                Err(e) => everything::<File>(Err(e)),
            };
            assert_eq!(mapped, streamed, "{}, window {window}", path.display());
        }
        let opened = everything(CaptureReader::open(path));
        assert_eq!(opened, streamed, "{}, mapped ahead", path.display());
        // for_each_frame gives what a next_frame loop gives.
        if let Ok(mut reader) = CaptureReader::open(path) {
            let mut frames = Vec::new();
            let error = reader
                .for_each_frame(|f| {
                    frames.push(format!(
                        "{} {} {:?} {} {} {:?} {:?}",
                        f.number, f.offset, f.timestamp, f.link_type, f.orig_len, f.data, f.comment
                    ))
                })
                .err()
                .map(|e| e.to_string());
            frames.extend(reader.notes());
            assert_eq!(
                (frames, error),
                streamed,
                "{}, for_each_frame",
                path.display()
            );
        }
        let ahead = everything(open_read_ahead(path));
        assert_eq!(ahead, streamed, "{}, read ahead", path.display());
        // And the checker's report, word for word.
        assert_eq!(
            report(CaptureReader::open(path)),
            report(CaptureReader::new(bytes, path)),
            "{}: check reports differ",
            path.display()
        );
    }

    /// The seed expectation's report on a reader, as JSON, or the error.
    fn report<R: Read>(reader: Result<CaptureReader<R>>) -> std::result::Result<String, String> {
        let reader = reader.map_err(|e| e.to_string())?;
        crate::check::check_reader(reader, "f", &crate::Expectation::seed())
            .map(|r| serde_json::to_string(&r).unwrap())
            .map_err(|e| e.to_string())
    }

    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        out.sort();
        assert!(out.len() > 50, "{} fixtures", out.len());
        out
    }

    #[test]
    fn mapped_reader_agrees_with_the_streaming_reader_on_every_fixture() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in fixtures() {
            // Windows of one byte map one record or block at a time; of 61
            // and 4096 bytes, records straddle window ends everywhere.
            assert_readers_agree(&dir.path().join(&name), &bytes, &[1, 61, 4096, 1 << 20]);
        }
    }

    #[test]
    fn mapped_reader_agrees_with_the_streaming_reader_on_mutated_fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound.max(1) as u64) as usize
        };
        let mut files = 0;
        for (name, bytes) in fixtures() {
            for round in 0..24 {
                let mut m = bytes.clone();
                match round % 4 {
                    // Cut anywhere, mostly inside records.
                    0 => m.truncate(next(bytes.len() + 1)),
                    // A byte of a header (lengths, magic, version, options).
                    1 => {
                        let at = next(m.len().min(64));
                        if let Some(b) = m.get_mut(at) {
                            *b = [0, 0xff, 0x7f, 0x80][next(4)];
                        }
                    }
                    // Bytes anywhere.
                    2 => {
                        for _ in 0..3 {
                            let at = next(m.len());
                            if let Some(b) = m.get_mut(at) {
                                *b = next(256) as u8;
                            }
                        }
                    }
                    // Data appended past the end.
                    _ => m.extend((0..next(40)).map(|i| i as u8)),
                }
                let path = dir.path().join(format!("{round}-{name}"));
                assert_readers_agree(&path, &m, &[1, 61]);
                files += 1;
            }
        }
        assert!(files > 1000, "{files}");
    }

    #[test]
    fn a_mapped_file_that_shrinks_or_grows_while_read_is_read_as_it_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("changing.pcap");
        let mut file = pcap_header();
        for i in 0..8u8 {
            file.extend(record(100, 100, &[i; 100]));
        }
        std::fs::write(&path, &file).unwrap();
        // One-byte windows: each record is mapped when it is read, after
        // the file's size is read again.
        let mut reader = CaptureReader::open_mapped(&path, 1).unwrap().unwrap();
        for _ in 0..3 {
            reader.next_frame().unwrap().unwrap();
        }
        // Cut in the middle of the fifth record.
        let cut = 24 + 4 * 116 + 50;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut as u64)
            .unwrap();
        assert_eq!(reader.next_frame().unwrap().unwrap().data, [3; 100]);
        let err = reader.next_frame().unwrap_err().to_string();
        assert!(
            err.contains("record cut short: claims 100 captured bytes, only 34 left")
                && err.ends_with("(at byte 488)"),
            "{err}"
        );
        // A file that grows is read to its new end.
        std::fs::write(&path, &file[..24 + 2 * 116]).unwrap();
        let mut reader = CaptureReader::open_mapped(&path, 1).unwrap().unwrap();
        reader.next_frame().unwrap().unwrap();
        std::fs::write(&path, &file).unwrap();
        let mut last = 0;
        while let Some(f) = reader.next_frame().unwrap() {
            last = f.number;
        }
        assert_eq!(last, 8);
    }

    #[test]
    fn reading_ahead_gives_the_same_frames_as_reading_directly() {
        // Records of many sizes, so that some straddle every chunk boundary,
        // and one as large as a record may be.
        let mut file = pcap_header();
        let mut expected = Vec::new();
        let mut i = 0usize;
        while file.len() < 3 * CHUNK + 1000 {
            let len = if i == 7 {
                MAX_SNAPLEN as usize
            } else {
                (i * 7919) % 3000
            };
            let data: Vec<u8> = (0..len).map(|k| (k + i) as u8).collect();
            file.extend(record(len as u32, len as u32, &data));
            expected.push(data);
            i += 1;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pcap");
        std::fs::write(&path, &file).unwrap();
        let mut reader = CaptureReader::open(&path).unwrap();
        let mut got = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            got.push(f.data.to_vec());
        }
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "frames differ");
        // Every reader gives the same: streamed, read ahead, mapped ahead
        // (several 2 MiB windows), mapped on demand in small windows.
        assert_readers_agree(&path, &file, &[1, 4093, 65536]);
        // A file cut inside a record still reports where.
        std::fs::write(&path, &file[..file.len() - 1]).unwrap();
        let mut reader = CaptureReader::open(&path).unwrap();
        let err = loop {
            match reader.next_frame() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the cut was not noticed"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(err.contains("record cut short"), "{err}");
    }
}
