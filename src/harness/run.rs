//! `lola run`: send the datagram over loopback, write the frame the server's
//! view implies, check it; record what really crossed `lo` beside it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{
    CaptureMode, DEFAULT_LINGER, DatagramWatch, observed_frames, open_capture, prepare_capture,
    synthesize, write_observed,
};
use crate::capture::{
    CaptureFrame, CaptureReader, Drops, Format, WriteSummary, Written, check_writable,
    encode_capture, is_standard_output, write_capture_kept, writes_a_file,
};
use crate::check::frame_diff::{Comparison, DiffRules, compare_frames, compare_reassembled};
use crate::check::golden::{DiffReport, diff_files};
use crate::check::{
    ChecksumPolicy, Expectation, Report, Truncation, check_file, check_file_admitting,
    check_reader, check_reader_admitting,
};
use crate::error::{Error, Result};
use crate::host::exchange::{Event, Exchange, Pair};
use crate::host::live::{Capture, FlowFilter, Stop};
use crate::host::sandbox::Place;
use crate::packet::frame::Datagram;

/// What `lola run` does, with its defaults.
///
/// ```
/// use lola::{capture::Format, harness::CaptureMode, RunOptions};
/// let o = RunOptions::default();
/// assert_eq!((o.to.to_string(), o.payload.as_slice()), ("127.0.0.1:7456".into(), &b"Hello Lola"[..]));
/// assert_eq!((o.output.to_str(), o.format), (Some("hello-lola.pcap"), Format::Pcap));
/// assert_eq!((o.capture, o.expect_like), (CaptureMode::Auto, None));
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
    /// A golden capture the written one must diff equal to (see
    /// [`diff_files`]); with port 0 the server's port may differ too.
    pub expect_like: Option<PathBuf>,
    /// The live capture's kernel buffer (its ring), in bytes.
    pub buffer_size: usize,
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
            expect_like: None,
            buffer_size: crate::host::live::DEFAULT_BUFFER_SIZE,
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
    /// The diff against the golden capture of [`RunOptions::expect_like`].
    pub like: Option<DiffReport>,
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
            && self.like.as_ref().is_none_or(DiffReport::same)
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
///         assert_eq!(live.output, Some(dir.path().join("hello.observed.pcap")));
///         assert!(live.report.passed() && live.comparison.as_ref().unwrap().equivalent());
///     }
///     None => assert!(outcome.capture_note.unwrap().starts_with("no live capture: ")),
/// }
/// ```
#[derive(Clone, Debug)]
pub struct LiveOutcome {
    /// Which `lo` the frames were captured on.
    pub place: Place,
    /// Where the observed frames were written (`None` when the capture went
    /// to standard output: they were checked, not written).
    pub output: Option<PathBuf>,
    /// What was written.
    pub written: WriteSummary,
    /// The check of the observed frames: exactly the datagram, no TCP.
    pub report: Report,
    /// The synthesized frame against the observed datagram, when one was seen.
    pub comparison: Option<Comparison>,
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
    let observed = refuse_early(options)?;
    // Where to capture is decided before any socket is bound: a private lo
    // is a namespace of its own, and sockets bound earlier stay outside.
    prepare_capture(options.capture)?;
    let pair = Pair::bind(options.to)?;
    let (server, client) = (pair.server.local_addr(), pair.client.local_addr());
    on_event(Event::Listening(server));
    // The capture starts before the client sends, filtered to this run's
    // own addresses and ports.
    let (capture, capture_note) = open_capture(
        options.capture,
        FlowFilter::pair(client, server),
        options.buffer_size,
    )?;
    on_event(Event::Sending(client, server));
    let started = Instant::now();
    let exchange = pair.exchange(&options.payload, options.timeout)?;
    let frame = synthesize(&exchange.received)?;
    let synthesized = frame.data.clone().into_owned();
    // A FIFO, a device or standard output cannot be read back: the check
    // reads the bytes that were written there.
    let (written, kept) = write_capture_kept(&options.output, options.format, &[frame], None)?;
    let report = match kept {
        Written::File => check_output(&options.output, &exchange.received)?,
        Written::Bytes(bytes) => check_bytes(&options.output, &bytes, &exchange.received)?,
    };
    let live = match capture {
        None => None,
        Some((mut capture, place)) => {
            let deadline = started + options.timeout + options.linger;
            let observation = Observation {
                place,
                path: observed,
                datagram: &exchange.received,
                synthesized: &synthesized,
            };
            let outcome = observation.record(&mut capture, deadline, options, written.frames);
            // The kernel's wait on the socket's last close is not lola's.
            capture.close_detached();
            Some(outcome?)
        }
    };
    let like = match &options.expect_like {
        Some(golden) => {
            let rules = DiffRules {
                ephemeral_server: options.to.port() == 0,
                ..DiffRules::default()
            };
            Some(diff_files(golden, &options.output, &rules)?)
        }
        None => None,
    };
    Ok(RunOutcome {
        exchange,
        output: options.output.clone(),
        written,
        report,
        live,
        capture_note,
        like,
    })
}

/// Refuses what cannot be one datagram or cannot be written before any
/// socket is touched; returns where the observed capture will go (`None`:
/// the capture goes to standard output, and the observed frames are
/// checked but not written).
fn refuse_early(options: &RunOptions) -> Result<Option<PathBuf>> {
    // An unspecified address is refused by the bind, with its own words.
    if !options.to.ip().is_unspecified() {
        Datagram::new(options.to, options.to, options.payload.clone()).validate()?;
    }
    check_writable(&options.output)?;
    if is_standard_output(&options.output) || !writes_a_file(&options.output) {
        if options.expect_like.is_some() {
            let place = if is_standard_output(&options.output) {
                "standard output".to_string()
            } else {
                format!("{}, which is no regular file,", options.output.display())
            };
            return Err(Error::Invalid(format!(
                "a capture written to {place} cannot be diffed against a golden capture; write it to a file"
            )));
        }
        return Ok(None);
    }
    let observed = observed_path(&options.output);
    if options.capture != CaptureMode::Off {
        if observed == options.output {
            return Err(Error::ObservedOverwritesOutput {
                path: options.output.clone(),
            });
        }
        check_writable(&observed)?;
    }
    Ok(Some(observed))
}

/// What the live capture of a run is for: the datagram the server received
/// and the frame lola synthesized from it.
struct Observation<'a> {
    place: Place,
    path: Option<PathBuf>,
    datagram: &'a Datagram,
    synthesized: &'a [u8],
}

impl Observation<'_> {
    /// Records until the datagram was seen and `linger` more, writes the
    /// frames, checks them and compares the datagram's frame with lola's.
    /// `written_frames` is what the synthesized capture holds, for the
    /// error that says it was written when the observed one could not be.
    fn record(
        self,
        capture: &mut Capture,
        deadline: Instant,
        options: &RunOptions,
        written_frames: usize,
    ) -> Result<LiveOutcome> {
        let d = self.datagram;
        let mut watch = DatagramWatch::new(d);
        let stop = Stop::at(deadline).linger_after(options.linger, |f| watch.observe(&f.data));
        let frames = capture.record(stop)?;
        let expectation = Expectation::exactly(d).checksums(ChecksumPolicy::Lenient);
        // Read once: what the kernel dropped goes to the file (pcapng) and,
        // whatever the format, to the verdict.
        let statistics = capture.statistics().ok();
        let drops = statistics.map(Drops::from).unwrap_or_default();
        let (written, report) = match &self.path {
            Some(path) => {
                let written = write_observed(path, options.format, "lo", &frames, statistics)
                    .map_err(
                        // The synthesized capture is whole; say so beside why
                        // the observed one is not.
                        |e| Error::SecondFileNotWritten {
                            written: options.output.clone(),
                            frames: written_frames,
                            source: Box::new(e),
                        },
                    )?;
                (written, check_file_admitting(path, &expectation, drops)?)
            }
            None => {
                let frames = observed_frames("lo", &frames);
                let name = "the observed frames";
                let bytes = encode(Path::new(name), options.format, &frames)?;
                let reader = CaptureReader::new(&bytes[..], name)?;
                let report = check_reader_admitting(
                    reader,
                    name,
                    &expectation,
                    Truncation::Fail,
                    drops,
                    |_| {},
                )?;
                (summary(options.format, frames.len(), &bytes), report)
            }
        };
        // The datagram as it crossed lo, reassembled when it came in fragments.
        let mut watch = DatagramWatch::new(d);
        let seen = frames.iter().any(|f| watch.observe(&f.data));
        let comparison = match watch.frame() {
            Some(observed) if seen && watch.reassembled() => {
                Some(compare_reassembled(self.synthesized, observed))
            }
            Some(observed) if seen => Some(compare_frames(self.synthesized, observed)),
            _ => None,
        };
        Ok(LiveOutcome {
            place: self.place,
            output: self.path,
            written,
            report,
            comparison,
        })
    }
}

/// `hello-lola.pcap` → `hello-lola.observed.pcap`: where a run writes what it
/// captured live (not written when the capture goes to standard output).
///
/// ```
/// use std::path::Path;
/// let observed = lola::harness::observed_path(Path::new("out/hello-lola.pcap"));
/// assert_eq!(observed, Path::new("out/hello-lola.observed.pcap"));
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

/// `frames` encoded as a capture; errors name `path`.
fn encode(path: &Path, format: Format, frames: &[CaptureFrame<'_>]) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    encode_capture(&mut bytes, format, frames).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(bytes)
}

fn summary(format: Format, frames: usize, bytes: &[u8]) -> WriteSummary {
    WriteSummary {
        format,
        frames,
        bytes: bytes.len() as u64,
    }
}

/// Checks the capture lola wrote to a stream (standard output, a FIFO, a
/// device), from its bytes.
fn check_bytes(path: &Path, bytes: &[u8], datagram: &Datagram) -> Result<Report> {
    let name = path.display().to_string();
    let expectation = Expectation::exactly(datagram).checksums(ChecksumPolicy::Strict);
    check_reader(CaptureReader::new(bytes, &name)?, &name, &expectation)
}

fn check_output(path: &Path, datagram: &Datagram) -> Result<Report> {
    // Strict: lola computed these checksums itself, so anything but correct is a bug.
    let expectation = Expectation::exactly(datagram).checksums(ChecksumPolicy::Strict);
    check_file(path, &expectation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_capture_sits_beside_the_output() {
        let observed = observed_path(Path::new("out/hello-lola.pcap"));
        assert_eq!(observed, Path::new("out/hello-lola.observed.pcap"));
        assert_eq!(
            observed_path(Path::new("capture")),
            Path::new("capture.observed")
        );
    }

    #[test]
    fn an_unwritable_output_is_refused_before_any_socket() {
        let dir = tempfile::tempdir().unwrap();
        let missing = RunOptions {
            output: dir.path().join("no-such-dir/hello.pcap"),
            ..RunOptions::default()
        };
        let err = refuse_early(&missing).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        let fine = RunOptions {
            output: dir.path().join("hello.pcap"),
            ..RunOptions::default()
        };
        assert_eq!(
            refuse_early(&fine).unwrap(),
            Some(dir.path().join("hello.observed.pcap"))
        );
    }
}
