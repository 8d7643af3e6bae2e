//! `lola compare`: the same message over TCP and over UDP, each recorded live
//! on `lo` (or synthesized where that is not permitted), and the negative
//! control that shows the checker tells them apart.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{CaptureMode, captured_comment, open_capture, prepare_capture, synthesize};
use crate::capture::{
    CaptureFrame, CaptureReader, CaptureStatistics, Drops, Format, WriteSummary, Written,
    write_capture_kept,
};
use crate::check::flow::{self, Conversation, Flows};
use crate::check::{Expectation, Report, Truncation, check_file_admitting, check_reader_admitting};
use crate::error::{Error, Result};
use crate::host::exchange::{Pair, TcpExchange, TcpServer};
use crate::host::live::{Capture, FlowFilter, LiveFrame, Stop};
use crate::host::sandbox::Place;

/// What `lola compare` does, with its defaults.
///
/// ```
/// use std::time::Duration;
/// let o = lola::harness::CompareOptions::default();
/// assert_eq!((o.to.port(), o.payload.as_slice()), (7456, &b"Hello Lola"[..]));
/// assert_eq!((o.timeout, o.linger), (Duration::from_secs(2), Duration::from_millis(50)));
/// ```
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// Where both servers listen (port 0: any free port).
    pub to: SocketAddr,
    /// The message both carry.
    pub payload: Vec<u8>,
    /// Where `tcp.pcap` and `udp.pcap` go.
    pub out_dir: PathBuf,
    /// pcap or pcapng.
    pub format: Format,
    /// How long each exchange may take.
    pub timeout: Duration,
    /// Live capture, or synthesized frames where it is not possible.
    pub capture: CaptureMode,
    /// How long each live capture goes on after the exchange.
    pub linger: Duration,
    /// Each live capture's kernel buffer (its ring), in bytes.
    pub buffer_size: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            to: super::RunOptions::default().to,
            payload: crate::check::SEED_MESSAGE.as_bytes().to_vec(),
            out_dir: PathBuf::from("."),
            format: Format::Pcap,
            timeout: Duration::from_secs(2),
            capture: CaptureMode::Auto,
            linger: Duration::from_millis(50),
            buffer_size: crate::host::live::DEFAULT_BUFFER_SIZE,
        }
    }
}

/// One side of the comparison.
///
/// ```
/// use lola::harness::{compare, CaptureMode, CompareOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let options = CompareOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     out_dir: dir.path().to_path_buf(),
///     capture: CaptureMode::Off,
///     ..CompareOptions::default()
/// };
/// let tcp = compare(&options).unwrap().tcp;
/// assert_eq!((tcp.path, tcp.live, tcp.written.frames), (dir.path().join("tcp.pcap"), false, 8));
/// assert_eq!(tcp.flows.conversations[0].handshake, 3);
/// assert!(!tcp.check.passed() && tcp.check.tcp_count == 8, "the checker flags TCP");
/// ```
#[derive(Clone, Debug)]
pub struct Side {
    /// The capture written.
    pub path: PathBuf,
    /// True when captured live; false when synthesized.
    pub live: bool,
    /// Which `lo` it was captured on, when captured live.
    pub place: Option<Place>,
    /// What was written.
    pub written: WriteSummary,
    /// Its conversations.
    pub flows: Flows,
    /// `lola check` of the capture, expecting the message over UDP to the
    /// side's server port.
    pub check: Report,
}

impl Side {
    /// The side's conversation, if its capture holds one.
    ///
    /// ```
    /// use lola::harness::{compare, CaptureMode, CompareOptions};
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = CompareOptions {
    ///     to: "127.0.0.1:0".parse().unwrap(),
    ///     out_dir: dir.path().to_path_buf(),
    ///     capture: CaptureMode::Off,
    ///     ..CompareOptions::default()
    /// };
    /// let outcome = compare(&options).unwrap();
    /// assert_eq!(outcome.udp.conversation().unwrap().protocol, "UDP");
    /// ```
    pub fn conversation(&self) -> Option<&Conversation> {
        self.flows.conversations.first()
    }
}

/// Both sides, TCP and UDP.
///
/// ```
/// use lola::harness::{compare, CaptureMode, CompareOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let options = CompareOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     out_dir: dir.path().to_path_buf(),
///     capture: CaptureMode::Off,
///     ..CompareOptions::default()
/// };
/// let outcome = compare(&options).unwrap();
/// assert_eq!(outcome.tcp.flows.conversations[0].frames, 8);
/// assert_eq!(outcome.udp.flows.conversations[0].frames, 1);
/// assert_eq!(outcome.capture_note, None, "no capture was asked for");
/// ```
#[derive(Clone, Debug)]
pub struct CompareOutcome {
    /// One TCP connection carrying the message.
    pub tcp: Side,
    /// One UDP datagram carrying it.
    pub udp: Side,
    /// Why the frames were synthesized, when they were.
    pub capture_note: Option<String>,
}

impl CompareOutcome {
    /// The negative control: true when the checker failed the TCP capture
    /// for its TCP segments and passed the UDP one. A checker that passed
    /// both would prove nothing.
    ///
    /// ```
    /// use lola::harness::{compare, CaptureMode, CompareOptions};
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = CompareOptions {
    ///     to: "127.0.0.1:0".parse().unwrap(),
    ///     out_dir: dir.path().to_path_buf(),
    ///     capture: CaptureMode::Off,
    ///     ..CompareOptions::default()
    /// };
    /// let outcome = compare(&options).unwrap();
    /// assert!(outcome.demonstrated());
    /// assert!(!outcome.tcp.check.passed() && outcome.udp.check.passed());
    /// ```
    pub fn demonstrated(&self) -> bool {
        !self.tcp.check.passed() && self.tcp.check.tcp_count > 0 && self.udp.check.passed()
    }
}

/// Runs a real TCP exchange and a real UDP exchange with the same message,
/// captures both live on `lo` (or, where that is not permitted, synthesizes
/// both), and writes `tcp.pcap` and `udp.pcap` into `out_dir`.
///
/// ```
/// use lola::harness::{compare, CompareOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let options = CompareOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     out_dir: dir.path().to_path_buf(),
///     ..CompareOptions::default() // capture: Auto
/// };
/// let outcome = compare(&options).unwrap();
/// // Captured live as root; otherwise synthesized, with a note saying why.
/// assert_eq!(outcome.tcp.live, outcome.capture_note.is_none());
/// assert!(dir.path().join("tcp.pcap").exists() && dir.path().join("udp.pcap").exists());
/// let udp = &outcome.udp.flows.conversations[0];
/// assert_eq!((udp.protocol, udp.data), ("UDP", 1));
/// ```
pub fn compare(options: &CompareOptions) -> Result<CompareOutcome> {
    let ext = match options.format {
        Format::Pcap => "pcap",
        Format::PcapNg => "pcapng",
    };
    if !options.out_dir.is_dir() {
        return Err(Error::Io {
            path: options.out_dir.clone(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    let path = |name: &str| options.out_dir.join(format!("{name}.{ext}"));

    // TCP: listen, then capture, then connect; where to capture is decided
    // before the first socket is bound.
    prepare_capture(options.capture)?;
    let server = TcpServer::bind(options.to)?;
    let port = server.local_addr().port();
    let (capture, tcp_note) = open_capture(
        options.capture,
        FlowFilter::ports(vec![port]),
        options.buffer_size,
    )?;
    let tcp = server.exchange(&options.payload, options.timeout)?;
    let tcp_place = capture.as_ref().map(|(_, place)| *place);
    let (tcp_frames, tcp_stats) = match capture {
        Some((c, _)) => record_all(c, options)?,
        None => (synthesize_tcp(&tcp)?, None),
    };

    // UDP: the same address and, where it is free, the same port.
    let udp_to = SocketAddr::new(options.to.ip(), port);
    let pair = Pair::bind(udp_to).or_else(|_| Pair::bind(SocketAddr::new(options.to.ip(), 0)))?;
    let (client, server) = (pair.client.local_addr(), pair.server.local_addr());
    let (capture, udp_note) = open_capture(
        options.capture,
        FlowFilter::pair(client, server),
        options.buffer_size,
    )?;
    let udp = pair.exchange(&options.payload, options.timeout)?;
    let udp_place = capture.as_ref().map(|(_, place)| *place);
    let (udp_frames, udp_stats) = match capture {
        Some((c, _)) => record_all(c, options)?,
        None => {
            let frame = synthesize(&udp.received)?;
            let frames = vec![LiveFrame {
                timestamp: frame.timestamp,
                orig_len: frame.data.len() as u32,
                data: frame.data.into_owned(),
                flags: 0,
            }];
            (frames, None)
        }
    };
    Ok(CompareOutcome {
        tcp: side(path("tcp"), &tcp_frames, tcp_place, tcp_stats, options)?,
        udp: side(path("udp"), &udp_frames, udp_place, udp_stats, options)?,
        capture_note: tcp_note.or(udp_note),
    })
}

/// Everything the capture holds until `linger` passes with nothing new, and
/// what the kernel says it dropped meanwhile.
fn record_all(
    mut capture: Capture,
    options: &CompareOptions,
) -> Result<(Vec<LiveFrame>, Option<CaptureStatistics>)> {
    let frames = capture.record(Stop::after(options.timeout).when_quiet(options.linger));
    let statistics = capture.statistics().ok();
    // The kernel's wait on the socket's last close is not lola's: the UDP
    // half starts without it.
    capture.close_detached();
    Ok((frames?, statistics))
}

/// Writes one side's frames to `path`, reads its conversations back and
/// checks it as `lola check` would: the message over UDP to the server port
/// its conversation shows. What the kernel dropped while capturing goes to
/// the file (pcapng) and, whatever the format, to the check.
fn side(
    path: PathBuf,
    frames: &[LiveFrame],
    place: Option<Place>,
    statistics: Option<CaptureStatistics>,
    options: &CompareOptions,
) -> Result<Side> {
    let comment = if place.is_some() {
        captured_comment("lo")
    } else {
        "synthesized by lola from the socket calls of the exchange".to_string()
    };
    let capture_frames: Vec<CaptureFrame<'_>> = frames
        .iter()
        .map(|f| CaptureFrame {
            timestamp: f.timestamp,
            data: Cow::Borrowed(&f.data[..]),
            comment: Some(comment.clone()),
            flags: place.map(|_| f.flags),
        })
        .collect();
    let (written, kept) = write_capture_kept(&path, options.format, &capture_frames, statistics)?;
    let drops = statistics.map(Drops::from).unwrap_or_default();
    // A regular file is read back; what went to a FIFO or a device is
    // judged from the bytes lola wrote, never re-opened.
    let (flows, check) = match kept {
        Written::File => {
            let flows = flow::flows(CaptureReader::open(&path)?)?;
            let check = negative_control_check(&path, &flows, drops, options)?;
            (flows, check)
        }
        Written::Bytes(bytes) => {
            let name = path.display().to_string();
            let flows = flow::flows(CaptureReader::new(&bytes[..], &name)?)?;
            let expectation = negative_control(&flows, options);
            let reader = CaptureReader::new(&bytes[..], &name)?;
            let check = check_reader_admitting(
                reader,
                &name,
                &expectation,
                Truncation::Fail,
                drops,
                |_| {},
            )?;
            (flows, check)
        }
    };
    Ok(Side {
        path,
        live: place.is_some(),
        place,
        written,
        flows,
        check,
    })
}

/// The check of one side: the message, to the server port of the side's
/// conversation (or of `--to` when it has none).
fn negative_control_check(
    path: &Path,
    flows: &Flows,
    drops: Drops,
    options: &CompareOptions,
) -> Result<Report> {
    check_file_admitting(path, &negative_control(flows, options), drops)
}

/// What one side is checked against: the message, to the server port of the
/// side's conversation (or of `--to` when it has none).
fn negative_control(flows: &Flows, options: &CompareOptions) -> Expectation {
    let port = flows
        .conversations
        .first()
        .map_or(options.to.port(), |c| c.right.port());
    Expectation::seed()
        .dst_port(port)
        .payload(options.payload.as_slice())
}

/// The eight frames of the TCP exchange, built with etherparse, timed by the
/// socket calls that caused them.
fn synthesize_tcp(tcp: &TcpExchange) -> Result<Vec<LiveFrame>> {
    let segments = crate::packet::frame::tcp_conversation(&tcp.received);
    let mid = |a: Duration, b: Duration| a + (b.saturating_sub(a)) / 2;
    let step = tcp.closed_at.saturating_sub(tcp.sent_at) / 5;
    let times = [
        tcp.connect_at,
        mid(tcp.connect_at, tcp.connected_at),
        tcp.connected_at,
        tcp.sent_at,
        tcp.sent_at + step,
        tcp.sent_at + step * 2,
        tcp.sent_at + step * 3,
        tcp.sent_at + step * 4,
    ];
    segments
        .iter()
        .zip(times)
        .map(|(segment, timestamp)| {
            let data = crate::packet::frame::build_tcp_frame(tcp.client, tcp.server, segment)?;
            Ok(LiveFrame {
                timestamp,
                orig_len: data.len() as u32,
                data,
                flags: 0,
            })
        })
        .collect()
}
