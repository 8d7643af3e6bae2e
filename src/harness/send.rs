//! `lola send --capture`: one datagram from a client socket, and what the
//! send put on `lo`: the datagram itself, a reply, or the ICMP error of a
//! port nobody listens on.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{CaptureMode, DatagramWatch, open_capture, prepare_capture, write_observed};
use crate::capture::{Drops, Format, WriteSummary};
use crate::error::{Error, Result};
use crate::host::exchange::{Client, Event};
use crate::host::live::{FlowFilter, LiveFrame, Stop};
use crate::host::sandbox::Place;
use crate::packet::frame::Datagram;

/// How long a send's capture waits for the datagram to show up on `lo`.
const SEND_DEADLINE: Duration = Duration::from_secs(2);

/// What `lola send` does, with its defaults.
///
/// ```
/// use lola::harness::{CaptureMode, SendOptions};
/// let o = SendOptions::default();
/// assert_eq!((o.to.to_string(), o.from), ("127.0.0.1:7456".to_string(), None));
/// assert_eq!((o.capture, o.output.to_str()), (CaptureMode::Off, Some("send.pcap")));
/// ```
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// Where to send; must be a concrete address.
    pub to: SocketAddr,
    /// Where to send from (default: loopback of `to`'s family, any free port).
    pub from: Option<SocketAddr>,
    /// The datagram's payload.
    pub payload: Vec<u8>,
    /// Live capture on the loopback interface while sending.
    pub capture: CaptureMode,
    /// Where the captured frames go.
    pub output: PathBuf,
    /// pcap or pcapng.
    pub format: Format,
    /// How long the capture goes on after the datagram was seen.
    pub linger: Duration,
    /// The live capture's kernel buffer (its ring), in bytes.
    pub buffer_size: usize,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            to: super::RunOptions::default().to,
            from: None,
            payload: crate::check::SEED_MESSAGE.as_bytes().to_vec(),
            capture: CaptureMode::Off,
            output: PathBuf::from("send.pcap"),
            format: Format::Pcap,
            linger: Duration::from_millis(50),
            buffer_size: crate::host::live::DEFAULT_BUFFER_SIZE,
        }
    }
}

/// What one send did.
///
/// ```
/// use lola::harness::{send, SendOptions};
/// let server = lola::host::exchange::Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let options = SendOptions { to: server.local_addr(), ..SendOptions::default() };
/// let sent = send(&options, |_| {}).unwrap();
/// assert_eq!((sent.datagram.dst, sent.datagram.payload.as_slice()), (server.local_addr(), &b"Hello Lola"[..]));
/// assert!(sent.live.is_none() && sent.capture_note.is_none(), "capture is off by default");
/// ```
#[derive(Clone, Debug)]
pub struct SendOutcome {
    /// The datagram sent, from the client's bound address.
    pub datagram: Datagram,
    /// What the capture recorded, when there was one.
    pub live: Option<SentCapture>,
    /// Why there was no live capture, in `auto` mode.
    pub capture_note: Option<String>,
}

/// The frames a send's live capture recorded, and the file they went to.
///
/// ```
/// use lola::harness::{send, CaptureMode, SendOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let server = lola::host::exchange::Server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let options = SendOptions {
///     to: server.local_addr(),
///     capture: CaptureMode::Auto,
///     output: dir.path().join("send.pcap"),
///     ..SendOptions::default()
/// };
/// let sent = send(&options, |_| {}).unwrap();
/// match sent.live {
///     Some(live) => {
///         assert_eq!((live.written.frames, live.frames.len()), (1, 1));
///         assert!(lola::harness::is_datagram(&live.frames[0].data, &sent.datagram));
///     }
///     None => assert!(sent.capture_note.unwrap().starts_with("no live capture: ")),
/// }
/// ```
#[derive(Clone, Debug)]
pub struct SentCapture {
    /// Which `lo` the frames were captured on.
    pub place: Place,
    /// The file written.
    pub output: PathBuf,
    /// What was written.
    pub written: WriteSummary,
    /// The frames, in the order they were captured.
    pub frames: Vec<LiveFrame>,
    /// What the kernel reported it dropped while capturing (a pcap file has
    /// no place for it): when more than none, `frames` may not be all the
    /// send put on `lo`.
    pub drops: Drops,
}

/// Sends `payload` to `to` as one datagram; with a capture, records from
/// before the send until the datagram was seen on `lo` and `linger` more
/// (2 s at most), and writes the frames to `output`. `on_event` sees
/// [`Event::Sending`] just before the datagram leaves.
///
/// ```
/// use lola::harness::{send, SendOptions};
/// let to = "0.0.0.0:7456".parse().unwrap();
/// let err = send(&SendOptions { to, ..SendOptions::default() }, |_| {}).unwrap_err();
/// assert!(matches!(err, lola::Error::UnspecifiedDestination { .. }), "{err}");
/// ```
pub fn send(options: &SendOptions, mut on_event: impl FnMut(Event)) -> Result<SendOutcome> {
    let to = options.to;
    if to.ip().is_unspecified() {
        return Err(Error::UnspecifiedDestination { addr: to });
    }
    if options.capture != CaptureMode::Off {
        crate::capture::check_writable(&options.output)?;
    }
    // A private lo is a namespace of its own: enter it before binding.
    prepare_capture(options.capture)?;
    let client = Client::bind_for(to, options.from)?;
    let (capture, capture_note) = open_capture(
        options.capture,
        FlowFilter::pair(client.local_addr(), to),
        options.buffer_size,
    )?;
    on_event(Event::Sending(client.local_addr(), to));
    let sent_at = Instant::now();
    client.send(to, &options.payload)?;
    let datagram = Datagram::new(client.local_addr(), to, options.payload.clone());
    let live = match capture {
        None => None,
        Some((mut capture, place)) => {
            // Seen whole, or (larger than the MTU) with its last fragment.
            let mut watch = DatagramWatch::new(&datagram);
            let stop = Stop::at(sent_at + SEND_DEADLINE)
                .linger_after(options.linger, |f| watch.observe(&f.data));
            let frames = capture.record(stop)?;
            let statistics = capture.statistics().ok();
            // The kernel's wait on the socket's last close is not lola's.
            capture.close_detached();
            let written =
                write_observed(&options.output, options.format, "lo", &frames, statistics)?;
            Some(SentCapture {
                place,
                output: options.output.clone(),
                written,
                frames,
                drops: statistics.map(Drops::from).unwrap_or_default(),
            })
        }
    };
    Ok(SendOutcome {
        datagram,
        live,
        capture_note,
    })
}
