//! Reading captures as a stream of frames: [`CaptureReader`] opens a file,
//! tells pcap from pcapng by its first bytes and hands the frames out one
//! by one, with the notes and drops the file admits.
//!
//! The formats are read in [`pcap`] (file header and records, with
//! libpcap's rules) and [`pcapng`] (block by block); both ask a [`Source`]
//! for bytes, which knows the byte offset of everything it holds and reads
//! a stream into a buffer, a file ahead on a thread, or a regular file in
//! place through windows mapped from it ([`mmap`]). Every length field from
//! the file is checked against libpcap's limits and against what is left of
//! the file *before* that many bytes are asked for, so the buffer never
//! grows past one record or block of at most [`MAX_BLOCK`] bytes.
//!
//! [`MAX_BLOCK`]: crate::capture::MAX_BLOCK

mod frame;
mod mmap;
mod notes;
mod pcap;
mod pcapng;
mod sigbus;
mod source;

use crate::capture::Drops;
pub(crate) use frame::Visit;
pub use frame::{EPB_CHECKSUM_NOT_READY, RawFrame};
pub use notes::MAX_NOTES;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use mmap::Windows;
use notes::{Notes, io_err, malformed};
use pcap::PcapFile;
use pcapng::PcapNg;
use source::{ReadAhead, Source};

use crate::capture::pcapng::Section;
use crate::capture::{Format, link_type_name, link_type_supported};
use crate::error::{Error, Result};

/// The format being read, and what its reader keeps between frames.
enum Kind {
    Pcap(PcapFile),
    PcapNg(PcapNg),
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
        // it, with no copy (see `mmap`, also for a file that changes
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
        let magic = source.peek(4.min(have)).to_vec();
        let is_pcapng = magic == [0x0a, 0x0d, 0x0d, 0x0a];
        let mut notes = Notes::default();
        let pcap = if have >= 24 {
            PcapFile::parse(source.peek(24), &mut notes)
        } else {
            Ok(None)
        };
        // Read from a window the file shrank under: start again from the
        // file as it is now.
        if !source.intact() || pcap.is_err() && !source.error_stands() {
            return CaptureReader::with_source(source, path, decodable_only);
        }
        let pcap = pcap.map_err(|e| malformed(&path, 0, e))?;
        if let Some(file) = pcap {
            // A pcap file has one link type: refuse it before reading any frame.
            if decodable_only && !link_type_supported(file.link_type) {
                return Err(Error::UnsupportedLinkType {
                    path,
                    link_type: file.link_type,
                    name: link_type_name(file.link_type),
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
            });
        }
        if !is_pcapng {
            if pcap::pcap_magic(&magic).is_some() {
                return Err(malformed(
                    &path,
                    0,
                    format!("pcap file header cut short: {have} of 24 bytes"),
                ));
            }
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
        let pcapng = PcapNg::start(&mut source, &path)?;
        Ok(CaptureReader {
            source,
            kind: Kind::PcapNg(pcapng),
            format: Format::PcapNg,
            frames: 0,
            notes,
            path,
            decodable_only,
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
        match &self.kind {
            Kind::Pcap(_) => Drops::default(),
            Kind::PcapNg(pcapng) => pcapng.drops(),
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
            Kind::PcapNg(pcapng) => pcapng.link_type(),
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
            Kind::PcapNg(pcapng) => Some(pcapng.section()),
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
                pcap::plain_record::<true, R>(file, &self.source)
            } else {
                pcap::plain_record::<false, R>(file, &self.source)
            }
        {
            let frame = pcap::take_plain_record(file, &mut self.source, &mut self.frames, record);
            return Ok(Some(frame));
        }
        self.next_any_frame()
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
        self.visit_frames(&mut f)
    }

    /// [`for_each_frame`](Self::for_each_frame) with a [`Visit`]or.
    #[inline(always)]
    pub(crate) fn visit_frames(&mut self, f: &mut impl Visit) -> Result<()> {
        loop {
            // A run of plain records or packet blocks in place, then the
            // one after it (not plain, or not whole in the buffer) with
            // every check.
            let (bytes, offset) = (self.source.unconsumed(), self.source.offset);
            let frames = &mut self.frames;
            let used = match &self.kind {
                Kind::Pcap(file) if file.big_endian => {
                    pcap::plain_run::<true>(file, bytes, offset, frames, f)
                }
                Kind::Pcap(file) => pcap::plain_run::<false>(file, bytes, offset, frames, f),
                Kind::PcapNg(ng) if ng.big_endian() => {
                    ng.plain_run::<true>(bytes, offset, frames, self.decodable_only, f)
                }
                Kind::PcapNg(ng) => {
                    ng.plain_run::<false>(bytes, offset, frames, self.decodable_only, f)
                }
            };
            self.source.consume(used);
            match self.next_any_frame()? {
                Some(frame) => f.frame(&frame),
                None => return Ok(()),
            }
        }
    }

    /// The next frame of any kind: a pcap record that is not plain, or
    /// one not whole in the buffer; a pcapng block.
    #[inline(always)]
    fn next_any_frame(&mut self) -> Result<Option<RawFrame<'_>>> {
        let (source, path) = (&mut self.source, &self.path);
        let (frames, notes) = (&mut self.frames, &mut self.notes);
        match &mut self.kind {
            Kind::Pcap(file) if file.plain() => {
                pcap::next_record::<true, R>(file, source, path, frames, notes)
            }
            Kind::Pcap(file) => pcap::next_record::<false, R>(file, source, path, frames, notes),
            Kind::PcapNg(pcapng) => {
                pcapng.next_frame(source, path, frames, notes, self.decodable_only)
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::MAX_SNAPLEN;

    /// A pcap 2.4 file header, little-endian, microseconds, Ethernet.
    pub(super) fn pcap_header() -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&MAX_SNAPLEN.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        h
    }

    /// A 16-byte record header with `incl` and `orig` lengths, then `data`.
    pub(super) fn record(incl: u32, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&1u32.to_le_bytes());
        r.extend_from_slice(&2u32.to_le_bytes());
        r.extend_from_slice(&incl.to_le_bytes());
        r.extend_from_slice(&orig.to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    /// Every frame of `bytes` streamed: (number, offset, data).
    pub(super) fn read_all(bytes: &[u8]) -> Result<Vec<(u64, u64, Vec<u8>)>> {
        let mut reader = CaptureReader::new(bytes, "t.pcap")?;
        let mut out = Vec::new();
        while let Some(f) = reader.next_frame()? {
            out.push((f.number, f.offset, f.data.to_vec()));
        }
        Ok(out)
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
}
