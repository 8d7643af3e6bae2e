//! `lola run` as a library call: the exchange, the frame, the file, the check.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::str::FromStr;
use std::time::Instant;

use crate::capture::{CaptureFrame, Format, WriteSummary, write_capture};
use crate::check::{ChecksumPolicy, Expectation, Report, check_file};
use crate::compare::{Comparison, compare_frames};
use crate::decode::{Transport, decode};
use crate::error::{Error, Result};
use crate::exchange::{Event, Exchange, Pair};
use crate::frame::{Datagram, build_frame};
use crate::live::{self, FlowFilter, LiveFrame};
use crate::sandbox::{self, Place};

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
    /// [`crate::sandbox`]), or fail where the kernel forbids them.
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
/// `Ok(None)` without one for `off`.
///
/// ```
/// use lola::harness::{prepare_capture, CaptureMode};
/// use lola::sandbox::Place;
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
            Err(b) => {
                return Err(Error::Invalid(format!(
                    "cannot make a private lo: {b}; fix: {}",
                    b.fix()
                )));
            }
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

/// What `lola run` does, with its defaults.
///
/// ```
/// use lola::{capture::Format, harness::CaptureMode, RunOptions};
/// let o = RunOptions::default();
/// assert_eq!((o.to.to_string(), o.payload.as_slice()), ("127.0.0.1:7456".into(), &b"Hello Lola"[..]));
/// assert_eq!((o.output.to_str(), o.format), (Some("hello-lola.pcap"), Format::Pcap));
/// assert_eq!(o.capture, CaptureMode::Auto);
/// ```
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Where the server binds and the client sends (port 0: any free port).
    pub to: SocketAddr,
    /// The datagram's payload.
    pub payload: Vec<u8>,
    /// Where the capture goes.
    pub output: PathBuf,
    /// pcap or pcapng.
    pub format: Format,
    /// How long the server waits for the datagram.
    pub timeout: Duration,
    /// Live capture on the loopback interface.
    pub capture: CaptureMode,
    /// How long the live capture goes on after the datagram was seen.
    pub linger: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            to: SocketAddr::from(([127, 0, 0, 1], crate::check::SEED_PORT)),
            payload: crate::check::SEED_MESSAGE.as_bytes().to_vec(),
            output: PathBuf::from("hello-lola.pcap"),
            format: Format::Pcap,
            timeout: Duration::from_secs(2),
            capture: CaptureMode::Auto,
            linger: DEFAULT_LINGER,
        }
    }
}

/// Everything one run produced.
///
/// ```
/// use lola::{harness::CaptureMode, RunOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let options = RunOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     output: dir.path().join("hello.pcap"),
///     capture: CaptureMode::Off,
///     ..RunOptions::default()
/// };
/// let outcome = lola::harness::run(&options, |_| {}).unwrap();
/// assert_eq!((outcome.written.frames, outcome.output), (1, dir.path().join("hello.pcap")));
/// assert_eq!(outcome.exchange.received.payload, b"Hello Lola");
/// assert!(outcome.report.passed() && outcome.live.is_none());
/// ```
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// What the sockets saw.
    pub exchange: Exchange,
    /// The file written.
    pub output: PathBuf,
    /// What was written.
    pub written: WriteSummary,
    /// The check of the written file against the datagram the server received.
    pub report: Report,
    /// What the live capture saw, when there was one.
    pub live: Option<LiveOutcome>,
    /// Why there was no live capture, in `auto` mode.
    pub capture_note: Option<String>,
}

impl RunOutcome {
    /// True when the synthesized file passes its check and, with a live
    /// capture, the observed frames pass theirs and the synthesized frame
    /// differs from the observed one only where it is expected to.
    ///
    /// ```
    /// use lola::RunOptions;
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = RunOptions {
    ///     to: "127.0.0.1:0".parse().unwrap(),
    ///     output: dir.path().join("hello.pcap"),
    ///     ..RunOptions::default() // capture: Auto
    /// };
    /// let outcome = lola::harness::run(&options, |_| {}).unwrap();
    /// // Captured live (as root), the observed frame had to agree too; else a note says why not.
    /// assert_eq!(outcome.live.is_some(), outcome.capture_note.is_none());
    /// assert!(outcome.passed());
    /// ```
    pub fn passed(&self) -> bool {
        self.report.passed()
            && self.live.as_ref().is_none_or(|l| {
                l.report.passed() && l.comparison.as_ref().is_some_and(Comparison::equivalent)
            })
    }
}

/// What a live capture during `run` recorded and how it compares.
///
/// ```
/// use lola::RunOptions;
/// let dir = tempfile::tempdir().unwrap();
/// let options = RunOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     output: dir.path().join("hello.pcap"),
///     ..RunOptions::default() // capture: Auto
/// };
/// let outcome = lola::harness::run(&options, |_| {}).unwrap();
/// match &outcome.live {
///     Some(live) => {
///         assert_eq!(live.output, dir.path().join("hello.observed.pcap"));
///         assert!(live.report.passed() && live.comparison.as_ref().unwrap().equivalent());
///     }
///     None => assert!(outcome.capture_note.unwrap().starts_with("no live capture: ")),
/// }
/// ```
#[derive(Clone, Debug)]
pub struct LiveOutcome {
    /// Which `lo` the frames were captured on.
    pub place: Place,
    /// Where the observed frames were written.
    pub output: PathBuf,
    /// What was written.
    pub written: WriteSummary,
    /// The check of the observed frames: exactly the datagram, no TCP.
    pub report: Report,
    /// The synthesized frame against the observed datagram, when one was seen.
    pub comparison: Option<Comparison>,
}

/// `hello-lola.pcap` → `hello-lola.observed.pcap`.
///
/// ```
/// use std::path::Path;
/// use lola::harness::observed_path;
/// let observed = observed_path(Path::new("out/hello-lola.pcap"));
/// assert_eq!(observed, Path::new("out/hello-lola.observed.pcap"));
/// assert_eq!(observed_path(Path::new("capture")), Path::new("capture.observed"));
/// ```
pub fn observed_path(output: &Path) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match output.extension() {
        Some(ext) => format!("{stem}.observed.{}", ext.to_string_lossy()),
        None => format!("{stem}.observed"),
    };
    output.with_file_name(name)
}

/// The pcapng comment for a captured frame.
///
/// ```
/// assert_eq!(lola::harness::captured_comment("lo"), "captured on lo by lola");
/// ```
pub fn captured_comment(interface: &str) -> String {
    format!("captured on {interface} by lola")
}

/// Opens a live capture according to `mode` (see [`prepare_capture`]):
/// `Ok(None)` with a note when `auto` cannot capture here.
///
/// ```
/// use lola::harness::{open_capture, CaptureMode};
/// use lola::live::FlowFilter;
/// let (capture, note) = open_capture(CaptureMode::Off, FlowFilter::default()).unwrap();
/// assert!(capture.is_none() && note.is_none());
/// // Auto does not fail for want of privileges: it captures, or says why not.
/// let (capture, note) = open_capture(CaptureMode::Auto, FlowFilter::ports(vec![7456])).unwrap();
/// assert_eq!(capture.is_some(), note.is_none());
/// ```
pub fn open_capture(
    mode: CaptureMode,
    filter: FlowFilter,
) -> Result<(Option<live::Capture>, Option<String>)> {
    let place = match prepare_capture(mode)? {
        (Some(place), _) => place,
        (None, note) => return Ok((None, note)),
    };
    match live::Capture::open("lo", filter) {
        Ok(c) => Ok((Some(c), None)),
        Err(e) if mode == CaptureMode::Auto => Ok((None, Some(format!("no live capture: {e}")))),
        Err(e) if place == Place::Host => Err(Error::Invalid(format!("cannot capture on lo: {e}"))),
        Err(e) => Err(Error::Invalid(format!("cannot capture on {place}: {e}"))),
    }
}

/// Writes captured frames to `path`.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::capture::{CaptureReader, Format};
/// let data = lola::build_frame(&d).unwrap();
/// let frame = lola::live::LiveFrame { timestamp: d.timestamp, orig_len: data.len() as u32, data };
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("hello.observed.pcapng");
/// assert_eq!(lola::harness::write_observed(&path, Format::PcapNg, &[frame]).unwrap().frames, 1);
/// let mut reader = CaptureReader::open(&path).unwrap();
/// let comment = reader.next_frame().unwrap().unwrap().comment;
/// assert_eq!(comment.as_deref(), Some("captured on lo by lola"));
/// ```
pub fn write_observed(path: &Path, format: Format, frames: &[LiveFrame]) -> Result<WriteSummary> {
    let frames: Vec<CaptureFrame<'_>> = frames
        .iter()
        .map(|f| CaptureFrame {
            timestamp: f.timestamp,
            data: Cow::Borrowed(&f.data[..]),
            comment: Some(captured_comment("lo")),
        })
        .collect();
    write_capture(path, format, &frames)
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

/// The pcapng comment for a synthesized frame.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// let d = d.at(std::time::Duration::from_secs(1_795_601_130));
/// assert_eq!(
///     lola::harness::synthesized_comment(&d),
///     "synthesized by lola from the datagram the server received at 2026-11-25T10:05:30.000000Z"
/// );
/// ```
pub fn synthesized_comment(datagram: &Datagram) -> String {
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
    })
}

/// Sends the datagram over loopback, writes the frame the server's view
/// implies, reads the file back and checks it holds exactly that datagram
/// and no TCP.
///
/// ```
/// // The defaults with a free port and a file in a temporary directory.
/// let dir = tempfile::tempdir().unwrap();
/// let options = lola::RunOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     output: dir.path().join("hello-lola.pcap"),
///     ..Default::default()
/// };
/// let outcome = lola::harness::run(&options, |_| {}).unwrap();
/// assert!(outcome.report.passed());
/// ```
pub fn run(options: &RunOptions, mut on_event: impl FnMut(Event)) -> Result<RunOutcome> {
    // Refuse what cannot be one datagram before any socket is touched.
    Datagram::new(options.to, options.to, options.payload.clone())
        .validate()
        .or_else(|e| {
            if options.to.ip().is_unspecified() {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    check_writable(&options.output)?;
    let observed = observed_path(&options.output);
    if options.capture != CaptureMode::Off && observed == options.output {
        return Err(Error::Invalid(format!(
            "-o {}: the observed capture would overwrite it; use a name with an extension",
            options.output.display()
        )));
    }
    // Where to capture is decided before any socket is bound: a private lo
    // means a namespace of its own, and sockets bound earlier stay outside.
    prepare_capture(options.capture)?;
    let pair = Pair::bind(options.to)?;
    let (server, client) = (pair.server.local_addr(), pair.client.local_addr());
    on_event(Event::Listening(server));
    // The capture starts before the client sends, filtered to this run's
    // own addresses and ports.
    let (mut capture, capture_note) =
        open_capture(options.capture, FlowFilter::pair(client, server))?;
    on_event(Event::Sending(client, server));
    let started = Instant::now();
    let exchange = pair.exchange(&options.payload, options.timeout)?;
    let frame = synthesize(&exchange.received)?;
    let synthesized = frame.data.clone().into_owned();
    let written = write_capture(&options.output, options.format, &[frame])?;
    let report = check_output(&options.output, &exchange.received)?;
    let live = match capture.as_mut() {
        None => None,
        Some(capture) => {
            let deadline = started + options.timeout + options.linger;
            let d = &exchange.received;
            let frames = live::collect_until(capture, deadline, options.linger, |frames| {
                frames.iter().any(|f| is_datagram(&f.data, d))
            })
            .map_err(|e| {
                Error::Invalid(format!(
                    "live capture on lo failed: {}",
                    crate::error::describe_io(&e)
                ))
            })?;
            let written = write_observed(&observed, options.format, &frames)?;
            let expectation = Expectation::exactly(d).checksums(ChecksumPolicy::Lenient);
            let report = check_file(&observed, &expectation)?;
            let comparison = frames
                .iter()
                .find(|f| is_datagram(&f.data, d))
                .map(|f| compare_frames(&synthesized, &f.data));
            Some(LiveOutcome {
                place: Place::current(),
                output: observed,
                written,
                report,
                comparison,
            })
        }
    };
    Ok(RunOutcome {
        exchange,
        output: options.output.clone(),
        written,
        report,
        live,
        capture_note,
    })
}

/// Refuses, before any datagram is sent, an output path whose directory is
/// missing or that names a directory.
fn check_writable(output: &Path) -> Result<()> {
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |path: &Path, kind| {
        Err(Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(kind),
        })
    };
    if output.is_dir() {
        return fail(output, std::io::ErrorKind::IsADirectory);
    }
    if !dir.is_dir() {
        return fail(output, std::io::ErrorKind::NotFound);
    }
    Ok(())
}

fn check_output(path: &Path, datagram: &Datagram) -> Result<Report> {
    // Strict: lola computed these checksums itself, so anything but correct is a bug.
    let expectation =
        Expectation::exactly(datagram).checksums(crate::check::ChecksumPolicy::Strict);
    check_file(path, &expectation)
}

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
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            to: RunOptions::default().to,
            payload: crate::check::SEED_MESSAGE.as_bytes().to_vec(),
            out_dir: PathBuf::from("."),
            format: Format::Pcap,
            timeout: Duration::from_secs(2),
            capture: CaptureMode::Auto,
            linger: Duration::from_millis(50),
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
/// ```
#[derive(Clone, Debug)]
pub struct Side {
    /// The capture written.
    pub path: PathBuf,
    /// True when captured live; false when synthesized.
    pub live: bool,
    /// What was written.
    pub written: WriteSummary,
    /// Its conversations.
    pub flows: crate::flow::Flows,
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
    let (tcp_path, udp_path) = (
        options.out_dir.join(format!("tcp.{ext}")),
        options.out_dir.join(format!("udp.{ext}")),
    );

    // TCP: listen, then capture, then connect; where to capture is decided
    // before the first socket is bound.
    prepare_capture(options.capture)?;
    let server = crate::exchange::TcpServer::bind(options.to)?;
    let port = server.local_addr().port();
    let (mut capture, mut note) = open_capture(options.capture, FlowFilter::ports(vec![port]))?;
    let tcp = server.exchange(&options.payload, options.timeout)?;
    let tcp_frames: Vec<LiveFrame> = match capture.as_mut() {
        Some(c) => collect_all(c, options)?,
        None => synthesize_tcp(&tcp)?,
    };
    let tcp_live = capture.is_some();
    drop(capture);

    // UDP: the same address and, where it is free, the same port.
    let udp_to = SocketAddr::new(options.to.ip(), port);
    let pair = Pair::bind(udp_to).or_else(|_| Pair::bind(SocketAddr::new(options.to.ip(), 0)))?;
    let (client, server) = (pair.client.local_addr(), pair.server.local_addr());
    let (mut capture, udp_note) = open_capture(options.capture, FlowFilter::pair(client, server))?;
    note = note.or(udp_note);
    let udp = pair.exchange(&options.payload, options.timeout)?;
    let udp_frames: Vec<LiveFrame> = match capture.as_mut() {
        Some(c) => collect_all(c, options)?,
        None => {
            let frame = synthesize(&udp.received)?;
            vec![LiveFrame {
                timestamp: frame.timestamp,
                orig_len: frame.data.len() as u32,
                data: frame.data.into_owned(),
            }]
        }
    };
    let udp_live = capture.is_some();

    let side = |path: PathBuf, frames: &[LiveFrame], live: bool| -> Result<Side> {
        let comment = |_: &LiveFrame| {
            if live {
                captured_comment("lo")
            } else {
                "synthesized by lola from the socket calls of the exchange".to_string()
            }
        };
        let capture_frames: Vec<CaptureFrame<'_>> = frames
            .iter()
            .map(|f| CaptureFrame {
                timestamp: f.timestamp,
                data: Cow::Borrowed(&f.data[..]),
                comment: Some(comment(f)),
            })
            .collect();
        let written = write_capture(&path, options.format, &capture_frames)?;
        let flows = crate::flow::flows(
            crate::capture::CaptureReader::open(&path)?,
            &path.display().to_string(),
        )?;
        Ok(Side {
            path,
            live,
            written,
            flows,
        })
    };
    Ok(CompareOutcome {
        tcp: side(tcp_path, &tcp_frames, tcp_live)?,
        udp: side(udp_path, &udp_frames, udp_live)?,
        capture_note: note,
    })
}

/// Everything the capture holds until `linger` passes with nothing new.
fn collect_all(capture: &mut live::Capture, options: &CompareOptions) -> Result<Vec<LiveFrame>> {
    let deadline = Instant::now() + options.timeout;
    let mut frames = Vec::new();
    while let Some(frame) = capture
        .next(
            options
                .linger
                .min(deadline.saturating_duration_since(Instant::now())),
        )
        .map_err(|e| {
            Error::Invalid(format!(
                "live capture on lo failed: {}",
                crate::error::describe_io(&e)
            ))
        })?
    {
        frames.push(frame);
        if Instant::now() >= deadline {
            break;
        }
    }
    Ok(frames)
}

/// The eight frames of the TCP exchange, built with etherparse, timed by the
/// socket calls that caused them.
fn synthesize_tcp(tcp: &crate::exchange::TcpExchange) -> Result<Vec<LiveFrame>> {
    let segments = crate::frame::tcp_conversation(&tcp.received);
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
            let data = crate::frame::build_tcp_frame(tcp.client, tcp.server, segment)?;
            Ok(LiveFrame {
                timestamp,
                orig_len: data.len() as u32,
                data,
            })
        })
        .collect()
}
