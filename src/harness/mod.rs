//! Layer 5, the commands as library calls: [`run`] (the exchange, the frame,
//! the file, the check), [`compare`] (TCP next to UDP, with its negative
//! control), [`send`] (one datagram, recorded live), [`build`] (a frame
//! without a socket) and [`exec`] (a program of the user's, recorded and
//! judged). Each returns a typed outcome.
//!
//! May use every layer below it: [`error`](crate::error),
//! [`capture`](crate::capture), [`packet`](crate::packet),
//! [`host`](crate::host) and [`check`](crate::check). Reports of its
//! outcomes are [`report`](crate::report)'s.

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crate::capture::{
    CaptureFrame, CaptureStatistics, Format, WriteSummary, Written, write_capture_kept,
};
use crate::error::{Error, Result};
use crate::host::live::{self, FlowFilter, LiveFrame};
use crate::host::sandbox::{self, Place};
use crate::packet::decode::{Transport, decode};
use crate::packet::frame::{Datagram, build_frame};
use crate::packet::reassembly::{Outcome, Reassembler};

mod build;
mod compare;
pub mod exec;
mod run;
mod send;

pub use build::{BuildOutcome, build};
pub use compare::{CompareOptions, CompareOutcome, Side, compare};
pub use run::{LiveOutcome, RunOptions, RunOutcome, observed_path, run};
pub use send::{SendOptions, SendOutcome, SentCapture, send};

/// Whether `run` also records what really crossed the loopback interface,
/// and on which `lo`.
///
/// ```
/// use lola::harness::CaptureMode;
/// assert_eq!(CaptureMode::default(), CaptureMode::Auto);
/// assert_eq!("off".parse(), Ok(CaptureMode::Off));
/// assert_eq!("live".parse(), Ok(CaptureMode::Host), "live is the old name of host");
/// assert_eq!("private".parse(), Ok(CaptureMode::Private));
/// assert!("always".parse::<CaptureMode>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureMode {
    /// Capture on the host's `lo`, or fail (exit 2) where the process may not.
    Host,
    /// Capture on a private `lo` in namespaces lola creates (see
    /// [`crate::host::sandbox`]), or fail where the kernel forbids them.
    Private,
    /// The host's `lo` where the process may capture there (root,
    /// `CAP_NET_RAW`); else a private `lo`; else say why and go on.
    #[default]
    Auto,
    /// Do not capture.
    Off,
}

impl FromStr for CaptureMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "host" | "live" => Ok(CaptureMode::Host),
            "private" => Ok(CaptureMode::Private),
            "auto" => Ok(CaptureMode::Auto),
            "off" => Ok(CaptureMode::Off),
            _ => Err(format!(
                "unknown capture mode {s:?}: expected host, private, auto or off"
            )),
        }
    }
}

/// Decides where a capture in `mode` happens, entering a private network
/// namespace now when that is the answer: call it before any socket is
/// bound (sockets bound earlier stay on the host) and before any thread
/// starts. `Ok(None)` with a note when `auto` cannot capture anywhere;
/// `Ok(None)` without one for `off`. Calling it again gives the same answer.
///
/// ```
/// use lola::harness::{prepare_capture, CaptureMode};
/// use lola::host::sandbox::Place;
/// assert_eq!(prepare_capture(CaptureMode::Off).unwrap(), (None, None));
/// assert_eq!(prepare_capture(CaptureMode::Host).unwrap(), (Some(Place::Host), None));
/// ```
pub fn prepare_capture(mode: CaptureMode) -> Result<(Option<Place>, Option<String>)> {
    let private = || sandbox::enter_private().map(Place::Private);
    Ok(match mode {
        CaptureMode::Off => (None, None),
        CaptureMode::Host => (Some(Place::Host), None),
        CaptureMode::Private => match private() {
            Ok(place) => (Some(place), None),
            Err(blocked) => return Err(Error::PrivateLo { blocked }),
        },
        CaptureMode::Auto => match sandbox::entered() {
            Some(i) => (Some(Place::Private(i)), None),
            None if sandbox::has_net_raw() => (Some(Place::Host), None),
            None => match private() {
                Ok(place) => (Some(place), None),
                Err(b) => (
                    None,
                    Some(format!(
                        "no live capture: no CAP_NET_RAW for the host lo, and no private lo: {b}; fix: {}",
                        b.fix()
                    )),
                ),
            },
        },
    })
}

/// How long a live capture goes on after the datagram was seen, so that a
/// reply, an ICMP error or a stray TCP segment would be caught too.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(20);

/// The pcapng comment for a captured frame.
pub(crate) fn captured_comment(interface: &str) -> String {
    format!("captured on {interface} by lola")
}

/// A live capture on `lo` and the `lo` it records.
pub(crate) type Opened = (live::Capture, Place);

/// Opens a live capture on `lo` according to `mode` (see
/// [`prepare_capture`]): `Ok(None)` with a note when `auto` cannot capture
/// here.
pub(crate) fn open_capture(
    mode: CaptureMode,
    filter: FlowFilter,
    buffer_size: usize,
) -> Result<(Option<Opened>, Option<String>)> {
    let place = match prepare_capture(mode)? {
        (Some(place), _) => place,
        (None, note) => return Ok((None, note)),
    };
    match live::Capture::open_with_buffer("lo", filter, buffer_size) {
        Ok(c) => Ok((Some((c, place)), None)),
        Err(e) if mode == CaptureMode::Auto => Ok((None, Some(format!("no live capture: {e}")))),
        Err(reason) => Err(Error::CaptureUnavailable {
            interface: match place {
                Place::Host => "lo".into(),
                Place::Private(_) => place.to_string(),
            },
            reason,
        }),
    }
}

/// Opens a live capture on `interface`, which must be Ethernet-like (`lo`,
/// `eth0`, ...): the frames lola decodes live are Ethernet frames.
///
/// ```
/// use lola::harness::capture_on;
/// use lola::host::live::FlowFilter;
/// let err = capture_on("no-such-if0", FlowFilter::default()).err().unwrap();
/// assert!(err.to_string().starts_with("cannot capture on no-such-if0: "), "{err}");
/// match capture_on("lo", FlowFilter::ports(vec![7456])) {
///     Ok(capture) => assert_eq!(capture.interface(), "lo"), // root, or CAP_NET_RAW
///     Err(e) => assert!(e.to_string().contains("CAP_NET_RAW"), "{e}"),
/// }
/// ```
pub fn capture_on(interface: &str, filter: FlowFilter) -> Result<live::Capture> {
    capture_on_with_buffer(interface, filter, live::DEFAULT_BUFFER_SIZE)
}

/// [`capture_on`] with a kernel buffer (the capture ring) of at least
/// `buffer_size` bytes, as `lola capture -B KIB` asks.
///
/// ```
/// use lola::harness::capture_on_with_buffer;
/// use lola::host::live::FlowFilter;
/// if let Ok(capture) = capture_on_with_buffer("lo", FlowFilter::ports(vec![7456]), 4 << 20) {
///     assert_eq!(capture.ring_size(), Some(4 << 20));
/// }
/// ```
pub fn capture_on_with_buffer(
    interface: &str,
    filter: FlowFilter,
    buffer_size: usize,
) -> Result<live::Capture> {
    // ARPHRD_ETHER (1) and ARPHRD_LOOPBACK (772) carry Ethernet headers.
    let ethernet_like = std::fs::read_to_string(format!("/sys/class/net/{interface}/type"))
        .map(|t| matches!(t.trim(), "1" | "772"))
        .unwrap_or(true);
    let unavailable = |reason| Error::CaptureUnavailable {
        interface: interface.to_string(),
        reason,
    };
    if !ethernet_like {
        return Err(unavailable(live::Unavailable(
            "only Ethernet-like interfaces (lo, ethN) are supported".into(),
        )));
    }
    live::Capture::open_with_buffer(interface, filter, buffer_size).map_err(unavailable)
}

/// Writes frames captured on `interface` to `path`, each with the pcapng
/// comment `captured on INTERFACE by lola`.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::capture::{CaptureReader, Format};
/// let data = lola::build_frame(&d).unwrap();
/// use lola::capture::{CaptureStatistics, EPB_CHECKSUM_NOT_READY};
/// let flags = lola::host::live::INBOUND | EPB_CHECKSUM_NOT_READY;
/// let frame = lola::host::live::LiveFrame { timestamp: d.timestamp, orig_len: data.len() as u32, data, flags };
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("hello.observed.pcapng");
/// let stats = CaptureStatistics { received: 2, dropped: 0, at: d.timestamp };
/// let written = lola::harness::write_observed(&path, Format::PcapNg, "lo", &[frame], Some(stats));
/// assert_eq!(written.unwrap().frames, 1);
/// let mut reader = CaptureReader::open(&path).unwrap();
/// let frame = reader.next_frame().unwrap().unwrap();
/// assert_eq!(frame.comment.as_deref(), Some("captured on lo by lola"));
/// assert_eq!(frame.flags, Some(flags));
/// ```
pub fn write_observed(
    path: &Path,
    format: Format,
    interface: &str,
    frames: &[LiveFrame],
    statistics: Option<CaptureStatistics>,
) -> Result<WriteSummary> {
    write_observed_kept(path, format, interface, frames, statistics).map(|(summary, _)| summary)
}

/// [`write_observed`], saying where the capture can be judged from: the
/// file, or the bytes that went to a FIFO, device or standard output.
pub fn write_observed_kept(
    path: &Path,
    format: Format,
    interface: &str,
    frames: &[LiveFrame],
    statistics: Option<CaptureStatistics>,
) -> Result<(WriteSummary, Written)> {
    write_capture_kept(
        path,
        format,
        &observed_frames(interface, frames),
        statistics,
    )
}

/// Records what `capture` sees into `path` as it arrives, until `stop` says
/// so, each frame with the pcapng comment `captured on INTERFACE by lola`:
/// memory holds one frame however long the capture runs, and `path` is
/// written by the rules of [`write_capture`](crate::capture::write_capture)
/// (whole or not at all). Returns what was written; the kernel's counters,
/// read once after the last frame (a pcapng's statistics block carries them
/// too); and, for a FIFO, a device or standard output, the bytes that went
/// there, to be judged.
pub fn record_observed(
    path: &Path,
    format: Format,
    capture: &mut live::Capture,
    stop: live::Stop<'_>,
) -> Result<(WriteSummary, Option<CaptureStatistics>, Written)> {
    let comment = captured_comment(capture.interface());
    let (summary, statistics, written) =
        crate::capture::write_capture_streamed(path, format, |encoder| {
            capture.record_each(stop, |f| {
                let frame = CaptureFrame {
                    timestamp: f.timestamp,
                    data: Cow::Borrowed(&f.data[..]),
                    comment: Some(comment.clone()),
                    flags: Some(f.flags).filter(|&flags| flags != 0),
                };
                encoder.write(&frame).map_err(|source| Error::Io {
                    path: path.to_path_buf(),
                    source,
                })
            })?;
            let statistics = capture.statistics().ok();
            Ok((statistics, statistics))
        })?;
    Ok((summary, statistics, written))
}

/// Frames captured live on `interface` as they are written: with their
/// comment and the kernel's flags.
pub(crate) fn observed_frames<'a>(
    interface: &str,
    frames: &'a [LiveFrame],
) -> Vec<CaptureFrame<'a>> {
    frames
        .iter()
        .map(|f| CaptureFrame {
            timestamp: f.timestamp,
            data: Cow::Borrowed(&f.data[..]),
            comment: Some(captured_comment(interface)),
            flags: Some(f.flags).filter(|&flags| flags != 0),
        })
        .collect()
}

/// True when `frame` is the UDP datagram `d` (its endpoints and payload).
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::harness::is_datagram;
/// let frame = lola::build_frame(&d).unwrap();
/// assert!(is_datagram(&frame, &d));
/// let other = lola::Datagram { payload: b"Hi".to_vec(), ..d.clone() };
/// assert!(!is_datagram(&frame, &other));
/// ```
pub fn is_datagram(frame: &[u8], d: &Datagram) -> bool {
    let p = decode(crate::capture::LINKTYPE_ETHERNET, frame, frame.len());
    matches!(&p.transport, Transport::Udp(u) if u.payload == d.payload.as_slice())
        && p.endpoints() == Some((d.src, d.dst))
}

/// Watches live frames for the datagram `d`, whole in one frame or in IP
/// fragments: fragments are reassembled as they come, and the datagram is
/// seen when the frame that completes it arrives.
///
/// ```
/// use lola::harness::DatagramWatch;
/// # let mut reader = lola::capture::CaptureReader::open("fixtures/frag-ipv4.pcap".as_ref()).unwrap();
/// # let mut frames = Vec::new();
/// # while let Some(f) = reader.next_frame().unwrap() { frames.push(f.data.to_vec()); }
/// // A 3000-byte datagram 127.0.0.1:48404 → 127.0.0.1:7456 in three fragments.
/// let mut payload = b"Hello Lola".to_vec();
/// payload.resize(3000, b'.');
/// let d = lola::Datagram::new(
///     "127.0.0.1:48404".parse().unwrap(),
///     "127.0.0.1:7456".parse().unwrap(),
///     payload,
/// );
/// let mut watch = DatagramWatch::new(&d);
/// let seen: Vec<bool> = frames.iter().map(|f| watch.observe(f)).collect();
/// assert_eq!(seen, [false, false, true], "seen with its last fragment");
/// let whole = watch.frame().unwrap();
/// assert_eq!(whole.len(), 14 + 20 + 8 + 3000, "one frame rebuilt from the fragments");
/// assert!(lola::harness::is_datagram(whole, &d));
/// ```
pub struct DatagramWatch<'a> {
    datagram: &'a Datagram,
    reassembler: Reassembler,
    /// Frames seen, and the first fragments by frame number.
    frames: u64,
    firsts: Vec<(u64, Vec<u8>)>,
    /// The datagram's frame once seen (rebuilt when it came in fragments).
    seen: Option<(Vec<u8>, bool)>,
}

/// First fragments remembered while their datagram is reassembled.
const FIRST_FRAGMENTS: usize = 64;

impl<'a> DatagramWatch<'a> {
    /// Watches for `datagram`.
    pub fn new(datagram: &'a Datagram) -> DatagramWatch<'a> {
        DatagramWatch {
            datagram,
            reassembler: Reassembler::default(),
            frames: 0,
            firsts: Vec::new(),
            seen: None,
        }
    }

    /// Looks at the next frame: true when it is the datagram, or the
    /// fragment that completes it (only the first time).
    pub fn observe(&mut self, frame: &[u8]) -> bool {
        self.frames += 1;
        if self.seen.is_some() {
            return false;
        }
        if is_datagram(frame, self.datagram) {
            self.seen = Some((frame.to_vec(), false));
            return true;
        }
        let packet = decode(crate::capture::LINKTYPE_ETHERNET, frame, frame.len());
        let (Some(ip), Transport::Fragment(bytes)) = (&packet.ip, &packet.transport) else {
            return false;
        };
        let Some(info) = ip.frag else {
            return false;
        };
        if info.offset == 0 {
            if self.firsts.len() >= FIRST_FRAGMENTS {
                self.firsts.remove(0);
            }
            self.firsts.push((self.frames, frame.to_vec()));
        }
        let Outcome::Complete { payload, frames } =
            self.reassembler
                .add(ip.src, ip.dst, &info, self.frames, bytes)
        else {
            return false;
        };
        let first = self
            .firsts
            .iter()
            .find(|(n, _)| frames.contains(n))
            .and_then(|(_, f)| rebuild(f, &payload));
        match first {
            Some(whole) if is_datagram(&whole, self.datagram) => {
                self.seen = Some((whole, true));
                true
            }
            _ => false,
        }
    }

    /// The datagram's frame as it crossed `lo`, once seen: the frame itself,
    /// or, when it came in fragments, one frame made of the first
    /// fragment's headers (fragmentation fields cleared, lengths and the
    /// IPv4 header checksum recomputed) and the reassembled payload.
    pub fn frame(&self) -> Option<&[u8]> {
        self.seen.as_ref().map(|(f, _)| f.as_slice())
    }

    /// True when the datagram was seen in fragments.
    pub fn reassembled(&self) -> bool {
        self.seen.as_ref().is_some_and(|(_, r)| *r)
    }
}

/// One Ethernet frame holding a reassembled datagram: `first` is its first
/// fragment (Ethernet, then IPv4, or IPv6 directly followed by its Fragment
/// header), `payload` the reassembled IP payload. `None` for any other
/// layout or a payload too long for one packet.
fn rebuild(first: &[u8], payload: &[u8]) -> Option<Vec<u8>> {
    use crate::packet::wire::field::{ethernet, ipv4, ipv6};
    let ip = first.get(ethernet::HEADER_LEN..)?;
    let mut frame = first.get(..ethernet::HEADER_LEN)?.to_vec();
    match ip.first()? >> 4 {
        4 => {
            let header_len = usize::from(ip[0] & 0x0f) * 4;
            let mut header = ip.get(..header_len)?.to_vec();
            let total = u16::try_from(header_len + payload.len()).ok()?;
            header[ipv4::LENGTH].copy_from_slice(&total.to_be_bytes());
            // Keep the reserved and DF bits; clear MF and the offset.
            header[ipv4::FLAGS_FRAG.start] &= 0xc0;
            header[ipv4::FLAGS_FRAG.start + 1] = 0;
            header[ipv4::CHECKSUM].copy_from_slice(&[0, 0]);
            let sum = etherparse::Ipv4HeaderSlice::from_slice(&header)
                .ok()?
                .to_header()
                .calc_header_checksum();
            header[ipv4::CHECKSUM].copy_from_slice(&sum.to_be_bytes());
            frame.extend_from_slice(&header);
        }
        6 => {
            const FRAGMENT: u8 = 44;
            let mut header = ip.get(..ipv6::HEADER_LEN)?.to_vec();
            if header[ipv6::NEXT_HEADER] != FRAGMENT {
                return None;
            }
            let fragment_header = ip.get(ipv6::HEADER_LEN..ipv6::HEADER_LEN + 8)?;
            header[ipv6::NEXT_HEADER] = fragment_header[0];
            let len = u16::try_from(payload.len()).ok()?;
            header[ipv6::PAYLOAD_LEN].copy_from_slice(&len.to_be_bytes());
            frame.extend_from_slice(&header);
        }
        _ => return None,
    }
    frame.extend_from_slice(payload);
    Some(frame)
}

/// The pcapng comment for a synthesized frame.
pub(crate) fn synthesized_comment(datagram: &Datagram) -> String {
    format!(
        "synthesized by lola from the datagram the server received at {}",
        crate::check::format_time(datagram.timestamp)
    )
}

/// The capture frame for a datagram.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// let frame = lola::harness::synthesize(&d).unwrap();
/// assert_eq!(frame.data.as_ref(), lola::build_frame(&d).unwrap().as_slice());
/// assert_eq!(frame.timestamp, d.timestamp);
/// assert!(frame.comment.unwrap().starts_with("synthesized by lola"));
/// ```
pub fn synthesize(datagram: &Datagram) -> Result<CaptureFrame<'static>> {
    Ok(CaptureFrame {
        timestamp: datagram.timestamp,
        data: Cow::Owned(build_frame(datagram)?),
        comment: Some(synthesized_comment(datagram)),
        flags: None,
    })
}
