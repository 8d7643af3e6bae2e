//! Layer 4, judging: what the user expects ([`Expectation`], or an
//! expectation file in [`expect`]), held against every frame of a capture by
//! a [`Checker`], gives a [`Report`] with a [`Verdict`]; conversations and
//! their roles ([`flow`]), two frames field by field ([`frame_diff`]) and a
//! capture against a golden one ([`golden`]).
//!
//! May use: [`error`](crate::error), [`capture`](crate::capture) and
//! [`packet`](crate::packet). It returns typed values and builds no text for
//! a terminal, no JSON document, no JUnit case and no colour: that is
//! [`report`](crate::report)'s work. (A finding's `Display` is its own name
//! for itself, as an error's is.)
//!
//! One module per part: `expectation` (what is expected, and the checksum
//! policy as one table), `checker` (the state and one method per transport),
//! `report` (the typed findings: [`Failure`], [`Note`], [`FrameLine`]).
//!
//! The capture is streamed: memory does not grow with the file, only the
//! lists a report shows (each capped at [`LIST_CAP`] entries; counts are exact).

mod checker;
pub mod expect;
mod expectation;
pub mod flow;
pub mod frame_diff;
pub mod golden;
mod report;

use std::io::Read;
use std::path::Path;

pub use checker::Checker;
pub(crate) use expectation::Judgement;
pub use expectation::{ChecksumPolicy, Count, Expectation};
pub use report::{Failure, FrameLine, Note, OtherCounts, Report, Truncation, Verdict};

pub use crate::packet::summary::{format_time, quote_bytes};

use crate::capture::{CaptureReader, RawFrame, Visit};
use crate::error::Result;
use crate::packet::decode::{ChecksumState, Packet, Problem, Transport};

/// How many frames each list of a report keeps (counts stay exact).
pub const LIST_CAP: usize = 50;

/// The seed's port.
pub const SEED_PORT: u16 = 7456;
/// The seed's message.
pub const SEED_MESSAGE: &str = "Hello Lola";

/// Checks the capture at `path`; `-` reads standard input.
///
/// ```
/// use lola::{check_file, Expectation};
/// let report = check_file("fixtures/seed-ipv4.pcap".as_ref(), &Expectation::seed()).unwrap();
/// assert!(report.passed(), "{report}");
/// assert_eq!((report.file.as_str(), report.matched_count), ("fixtures/seed-ipv4.pcap", 1));
/// let err = check_file("fixtures/bad-magic.pcap".as_ref(), &Expectation::seed()).unwrap_err();
/// assert!(err.to_string().contains("bad magic number 0xdeadbeef"), "{err}");
/// ```
pub fn check_file(path: &Path, expectation: &Expectation) -> Result<Report> {
    if path == Path::new("-") {
        let stdin = std::io::stdin();
        let reader = CaptureReader::new(stdin.lock(), "-")?;
        return check_reader(reader, "-", expectation);
    }
    let reader = CaptureReader::open(path)?;
    check_reader(reader, &path.display().to_string(), expectation)
}

/// Checks the capture at `path` (`-`: standard input), admitting `drops`
/// besides what the file admits: for a capture lola recorded itself, the
/// frames the kernel reported it dropped
/// ([`Drops::by_kernel`](crate::capture::Drops::by_kernel)), which a pcap
/// file has no place for. A claim they could contradict (an exact count or
/// a maximum, "no TCP") fails with the count; a minimum passes with a
/// [`Note::Lost`]. A pcapng that repeats the kernel's count is not counted
/// twice.
///
/// ```
/// use lola::capture::Drops;
/// use lola::check::{check_file_admitting, Count, Note};
/// let seed = "fixtures/seed-ipv4.pcap".as_ref();
/// let exact = check_file_admitting(seed, &lola::Expectation::seed(), Drops::by_kernel(5)).unwrap();
/// assert!(!exact.passed());
/// assert_eq!(
///     exact.failures[0].to_string(),
///     "the capture admits 5 lost frames (the kernel dropped 5 while capturing): \"exactly 1 datagram\" and \"no TCP\" cannot be proven"
/// );
/// let at_least = lola::Expectation::seed().count(Count::AtLeast(1)).allow_tcp(true);
/// let report = check_file_admitting(seed, &at_least, Drops::by_kernel(5)).unwrap();
/// assert!(report.passed());
/// assert!(report.notes.iter().any(|n| matches!(n, Note::Lost { .. })));
/// ```
pub fn check_file_admitting(
    path: &Path,
    expectation: &Expectation,
    drops: crate::capture::Drops,
) -> Result<Report> {
    let (fail, none) = (Truncation::Fail, |_| {});
    if path == Path::new("-") {
        let stdin = std::io::stdin();
        let reader = CaptureReader::new(stdin.lock(), "-")?;
        return check_reader_admitting(reader, "-", expectation, fail, drops, none);
    }
    let reader = CaptureReader::open(path)?;
    let name = path.display().to_string();
    check_reader_admitting(reader, &name, expectation, fail, drops, none)
}

/// Checks a capture from any reader; `name` names it in the report.
///
/// ```
/// use lola::capture::CaptureReader;
/// let bytes = std::fs::read("fixtures/seed-ipv6.pcap").unwrap();
/// let reader = CaptureReader::new(&bytes[..], "in memory").unwrap();
/// let report = lola::check::check_reader(reader, "in memory", &lola::Expectation::seed()).unwrap();
/// assert!(report.passed(), "{report}");
/// assert_eq!(report.file, "in memory");
/// ```
pub fn check_reader<R: Read>(
    reader: CaptureReader<R>,
    name: &str,
    expectation: &Expectation,
) -> Result<Report> {
    check_reader_with_progress(reader, name, expectation, |_| {})
}

/// Like [`check_reader`], calling `progress` with the bytes read so far
/// every 65536 frames (for a progress bar on large files).
///
/// ```
/// use lola::capture::{encode_capture, CaptureFrame, CaptureReader, Format};
/// # use std::borrow::Cow;
/// # let data = Cow::Borrowed(&[0u8; 60][..]);
/// # let frame = CaptureFrame { timestamp: Default::default(), data, comment: None, flags: None };
/// # let mut file = Vec::new();
/// # encode_capture(&mut file, Format::Pcap, &vec![frame; 65_536]).unwrap();
/// // `file` holds 65536 frames of 60 bytes each.
/// let reader = CaptureReader::new(&file[..], "big.pcap").unwrap();
/// let mut calls = Vec::new();
/// let expectation = lola::Expectation::seed();
/// let report = lola::check::check_reader_with_progress(reader, "big.pcap", &expectation, |at| {
///     calls.push(at)
/// })
/// .unwrap();
/// assert_eq!(report.frames, 65_536);
/// assert_eq!(calls, [24 + 65_535 * (16 + 60)]); // once, at the byte where frame 65536 starts
/// ```
pub fn check_reader_with_progress<R: Read>(
    reader: CaptureReader<R>,
    name: &str,
    expectation: &Expectation,
    progress: impl FnMut(u64),
) -> Result<Report> {
    check_reader_with(reader, name, expectation, Truncation::Fail, progress)
}

/// Like [`check_reader_with_progress`], with what a capture cut short at
/// its end does: the frames before the cut are judged, and the cut is a
/// [`Failure::Truncated`] or a [`Note::Truncated`] as `truncated` says.
/// Other damage stays an error.
///
/// ```
/// use lola::capture::CaptureReader;
/// use lola::check::{check_reader_with, Truncation};
/// let mut bytes = std::fs::read("fixtures/seed-ipv4.pcap").unwrap();
/// bytes.truncate(bytes.len() - 5); // the writer was killed mid-record
/// let read = |t| {
///     let reader = CaptureReader::new(&bytes[..], "cut.pcap").unwrap();
///     check_reader_with(reader, "cut.pcap", &lola::Expectation::seed(), t, |_| {}).unwrap()
/// };
/// let strict = read(Truncation::Fail);
/// assert!(!strict.passed());
/// assert!(strict.failures_line().contains("cut short at byte 24"), "{strict}");
/// let lenient = read(Truncation::JudgeCompleteFrames);
/// assert_eq!((lenient.frames, lenient.matched_count), (0, 0)); // the only frame was cut
/// ```
pub fn check_reader_with<R: Read>(
    reader: CaptureReader<R>,
    name: &str,
    expectation: &Expectation,
    truncated: Truncation,
    progress: impl FnMut(u64),
) -> Result<Report> {
    let drops = crate::capture::Drops::default();
    check_reader_admitting(reader, name, expectation, truncated, drops, progress)
}

/// Like [`check_reader_with`], admitting `drops` besides what the capture
/// admits (see [`check_file_admitting`]).
pub fn check_reader_admitting<R: Read>(
    reader: CaptureReader<R>,
    name: &str,
    expectation: &Expectation,
    truncated: Truncation,
    drops: crate::capture::Drops,
    progress: impl FnMut(u64),
) -> Result<Report> {
    let listing = Listing {
        truncated,
        cap: LIST_CAP,
    };
    check_reader_listing(reader, name, expectation, listing, drops, progress)
}

/// What a check keeps besides its verdict: what a cut at the capture's end
/// does, and how many lines each frame list keeps (`cap`, [`LIST_CAP`] by
/// default; `usize::MAX` for every frame).
#[derive(Clone, Copy, Debug)]
pub struct Listing {
    /// What a capture cut short at its end does.
    pub truncated: Truncation,
    /// The most lines each frame list of the report keeps.
    pub cap: usize,
}

/// Like [`check_reader_admitting`], keeping `listing.cap` lines in each
/// frame list.
///
/// ```
/// use lola::capture::{CaptureReader, Drops};
/// use lola::check::{check_reader_listing, Listing, Truncation};
/// let reader = CaptureReader::open("fixtures/seed-ipv4-twice.pcap".as_ref()).unwrap();
/// let listing = Listing { truncated: Truncation::Fail, cap: 1 };
/// let expectation = lola::Expectation::seed();
/// let report = check_reader_listing(reader, "twice", &expectation, listing, Drops::default(), |_| {}).unwrap();
/// assert_eq!((report.matched_count, report.matched.len()), (2, 1));
/// ```
pub fn check_reader_listing<R: Read>(
    mut reader: CaptureReader<R>,
    name: &str,
    expectation: &Expectation,
    listing: Listing,
    drops: crate::capture::Drops,
    mut progress: impl FnMut(u64),
) -> Result<Report> {
    let mut checker = Checker::new(name, reader.format(), expectation)
        .truncation(listing.truncated)
        .list_cap(listing.cap);
    checker.admit_drops(drops);
    let read = reader.visit_frames(&mut Observe {
        checker: &mut checker,
        progress: &mut progress,
    });
    match read {
        Ok(()) => {}
        Err(crate::Error::Truncated { offset, what, .. }) => checker.cut_short(offset, what),
        Err(e) => return Err(e),
    }
    checker.admit_drops(reader.drops());
    Ok(checker.finish(reader.notes()))
}

/// The checker's side of the reading loop, inlined into it; `progress`
/// hears the offset reached every 65,536 frames.
struct Observe<'c, 'e, P> {
    checker: &'c mut Checker<'e>,
    progress: &'c mut P,
}

impl<P: FnMut(u64)> Visit for Observe<'_, '_, P> {
    #[inline(always)]
    fn frame(&mut self, frame: &RawFrame<'_>) {
        self.checker.observe(frame);
        if self.checker.frames().is_multiple_of(65_536) {
            (self.progress)(frame.offset);
        }
    }
}

/// The writer said the frame's checksum was not ready (`epb_flags` bit 9):
/// a UDP checksum that does not verify is partial by its word, not bad.
pub(crate) fn checksum_left_to_offload(packet: &mut Packet<'_>) {
    if let Transport::Udp(udp) = &mut packet.transport
        && let ChecksumState::Bad { expected } = udp.checksum.state
    {
        udp.checksum.state = ChecksumState::Partial { expected };
        packet.problems.retain(|p| {
            !matches!(
                p,
                Problem::BadChecksum {
                    field: "udp.checksum",
                    ..
                }
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use etherparse::Ipv4Header;

    use super::*;
    use crate::capture::{CaptureFrame, Format, encode_capture};
    use crate::{Datagram, build_frame};

    /// Splits the IPv4 frame's payload into fragments of `size` bytes (a
    /// multiple of 8), each with its own correct header, as a router would.
    fn fragment(frame: &[u8], size: usize) -> Vec<Vec<u8>> {
        let header = Ipv4Header::from_slice(&frame[14..]).unwrap().0;
        let payload = &frame[14 + header.header_len()..];
        payload
            .chunks(size)
            .enumerate()
            .map(|(i, chunk)| {
                let mut h = header.clone();
                h.identification = 0x1234;
                h.dont_fragment = false;
                h.more_fragments = (i + 1) * size < payload.len();
                h.fragment_offset =
                    etherparse::IpFragOffset::try_new((i * size / 8) as u16).unwrap();
                h.total_len = (h.header_len() + chunk.len()) as u16;
                h.header_checksum = h.calc_header_checksum();
                let mut out = frame[..14].to_vec();
                h.write(&mut out).unwrap();
                out.extend_from_slice(chunk);
                out
            })
            .collect()
    }

    fn check_frames(frames: &[Vec<u8>], expectation: &Expectation) -> Report {
        let frames: Vec<_> = frames
            .iter()
            .map(|f| CaptureFrame {
                timestamp: Duration::ZERO,
                data: Cow::Borrowed(&f[..]),
                comment: None,
                flags: None,
            })
            .collect();
        let mut file = Vec::new();
        encode_capture(&mut file, Format::Pcap, &frames).unwrap();
        check_reader(
            CaptureReader::new(&file[..], "t.pcap").unwrap(),
            "t.pcap",
            expectation,
        )
        .unwrap()
    }

    fn big_datagram() -> (Datagram, Vec<u8>) {
        let mut payload = b"Hello Lola".to_vec();
        payload.resize(3000, b'.');
        let d = Datagram::new(
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:7456".parse().unwrap(),
            payload,
        );
        let frame = build_frame(&d).unwrap();
        (d, frame)
    }

    #[test]
    fn fragments_are_reassembled_before_matching_and_never_counted_as_datagrams() {
        let (d, frame) = big_datagram();
        let mut frags = fragment(&frame, 1480);
        assert_eq!(frags.len(), 3);
        frags.swap(0, 2); // out of order, as they may be captured
        let report = check_frames(&frags, &Expectation::exactly(&d));
        assert!(report.passed(), "{report}");
        assert_eq!(report.matched_count, 1);
        assert_eq!(
            report.matched[0].frame, 3,
            "the datagram is whole at the last fragment"
        );
        assert_eq!(report.other.fragments, 3);
        assert!(
            report.notes.iter().any(|n| n
                .to_string()
                .contains("reassembled from the fragments in frames 1, 2, 3")),
            "{report}"
        );
    }

    /// The seed's frame with a UDP checksum that does not verify.
    fn seed_with_bad_udp_checksum() -> Vec<u8> {
        let d = Datagram::new(
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:7456".parse().unwrap(),
            b"Hello Lola".to_vec(),
        );
        let mut frame = build_frame(&d).unwrap();
        frame[40] ^= 0xff;
        frame
    }

    fn check_pcapng(frame: &[u8], flags: Option<u32>, dropped: u64, e: &Expectation) -> Report {
        let frames = [CaptureFrame {
            timestamp: Duration::ZERO,
            data: Cow::Borrowed(frame),
            comment: None,
            flags,
        }];
        let stats = crate::capture::CaptureStatistics {
            received: 1,
            dropped,
            at: Duration::from_secs(1),
        };
        let mut file = Vec::new();
        crate::capture::encode_capture_with(&mut file, Format::PcapNg, &frames, Some(stats))
            .unwrap();
        check_reader(
            CaptureReader::new(&file[..], "t.pcapng").unwrap(),
            "t.pcapng",
            e,
        )
        .unwrap()
    }

    #[test]
    fn a_checksum_the_writer_says_was_not_ready_is_partial_not_bad() {
        let frame = seed_with_bad_udp_checksum();
        let seed = Expectation::seed();
        let bad = check_pcapng(&frame, None, 0, &seed);
        assert!(!bad.passed(), "{bad}");
        assert_eq!(bad.offending[0].udp_checksum.as_deref(), Some("bad"));
        let flagged = crate::capture::EPB_CHECKSUM_NOT_READY | 1;
        let partial = check_pcapng(&frame, Some(flagged), 0, &seed);
        assert!(partial.passed(), "{partial}");
        assert_eq!(partial.matched[0].udp_checksum.as_deref(), Some("partial"));
        assert!(matches!(partial.notes[0], Note::PartialChecksums { .. }));
        let strict = seed.clone().checksums(ChecksumPolicy::Strict);
        assert!(!check_pcapng(&frame, Some(flagged), 0, &strict).passed());
    }

    #[test]
    fn a_capture_that_admits_drops_cannot_prove_exactly_n_or_no_tcp() {
        let d = Datagram::new(
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:7456".parse().unwrap(),
            b"Hello Lola".to_vec(),
        );
        let frame = build_frame(&d).unwrap();
        let seed = Expectation::seed();
        assert!(check_pcapng(&frame, None, 0, &seed).passed());
        let lost = check_pcapng(&frame, None, 2, &seed);
        assert!(!lost.passed());
        assert_eq!(
            lost.failures[0].to_string(),
            "the capture admits 2 lost frames (isb_ifdrop 2, isb_osdrop 0, epb_dropcount 0): \"exactly 1 datagram\" and \"no TCP\" cannot be proven"
        );
        let at_least = seed.clone().count(Count::AtLeast(1));
        let no_tcp = check_pcapng(&frame, None, 2, &at_least);
        assert_eq!(no_tcp.failures.len(), 1);
        assert!(no_tcp.failures[0].about_tcp() && !no_tcp.failures[0].about_count());
        assert!(check_pcapng(&frame, None, 2, &at_least.allow_tcp(true)).passed());
    }

    #[test]
    fn a_missing_fragment_is_reported_precisely() {
        let (d, frame) = big_datagram();
        let mut frags = fragment(&frame, 1480);
        frags.remove(1);
        let report = check_frames(&frags, &Expectation::exactly(&d));
        assert!(!report.passed());
        assert_eq!(report.matched_count, 0);
        assert!(
            report.notes.iter().any(|n| n.to_string().contains("frames 1, 2: fragments of a datagram 127.0.0.1 → 127.0.0.1 (id 0x1234) that never completed")),
            "{report}"
        );
    }
}
