//! `lola exec` as a library call: run any program on a private `lo` and
//! record every frame it put there, from before it started until it ended.
//!
//! The program inherits the private network namespace (see
//! [`crate::host::sandbox`]), so the capture holds its frames and nothing else,
//! and ports such as 7456 are always free. It runs under an init of lola's
//! in a PID namespace of its own ([`crate::host::tree`]), so that a stop, a
//! timeout or its end reaches every process it started, and none outlives
//! the run. Its standard input is `/dev/null` unless asked otherwise.
//! Frames go to the output file as they come: memory holds one at a time.

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use crate::capture::{
    CaptureFrame, Drops, Format, FrameEncoder, WriteSummary, write_capture_streamed,
};
use crate::check::Expectation;
use crate::check::expect::{CheckReport, ExpectationSet};
use crate::error::{Error, Result};
use crate::host::live::{Capture, FlowFilter, LiveFrame};
use crate::host::sandbox::{self, Place};
use crate::host::tree::{Event, Input, Poll, Status, Tree};

/// What `lola exec` does.
///
/// ```
/// let o = lola::harness::exec::ExecOptions::new(vec!["true".into()]);
/// assert_eq!(o.output.to_str(), Some("exec.pcap"));
/// assert!(!o.host && !o.ignore_exit && o.timeout.is_none());
/// assert_eq!(o.expectation, lola::Expectation::seed());
/// ```
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// The program and its arguments.
    pub program: Vec<OsString>,
    /// Where the capture goes.
    pub output: PathBuf,
    /// pcap or pcapng.
    pub format: Format,
    /// How long the capture goes on after the program ended.
    pub linger: Duration,
    /// How long the program may run before it is stopped.
    pub timeout: Option<Duration>,
    /// Capture on the host's `lo` instead of a private one.
    pub host: bool,
    /// Send the program's standard output to lola's standard error (so that
    /// lola's own stdout stays one JSON document).
    pub stdout_to_stderr: bool,
    /// What the capture must hold, as `lola check` judges it.
    pub expectation: Expectation,
    /// An expectation file to hold the capture against instead of
    /// `expectation` (`lola exec --expect FILE`).
    pub set: Option<ExpectationSet>,
    /// Judge by the verdict alone, even when the program failed.
    pub ignore_exit: bool,
    /// Give the program lola's standard input (and lola's process group,
    /// so that it may read a terminal); else it reads `/dev/null`.
    pub stdin: bool,
    /// The live capture's kernel buffer (its ring), in bytes.
    pub buffer_size: usize,
}

impl ExecOptions {
    /// `program` with the defaults: `exec.pcap`, 100 ms of linger, no
    /// timeout, a private `lo`, the seed's expectation.
    ///
    /// ```
    /// let o = lola::harness::exec::ExecOptions::new(vec!["sh".into(), "-c".into(), "true".into()]);
    /// assert_eq!((o.program.len(), o.linger.as_millis()), (3, 100));
    /// ```
    pub fn new(program: Vec<OsString>) -> ExecOptions {
        ExecOptions {
            program,
            output: PathBuf::from("exec.pcap"),
            format: Format::Pcap,
            linger: Duration::from_millis(100),
            timeout: None,
            host: false,
            stdout_to_stderr: false,
            expectation: Expectation::seed(),
            set: None,
            ignore_exit: false,
            stdin: false,
            buffer_size: crate::host::live::DEFAULT_BUFFER_SIZE,
        }
    }
}

/// How the program ended.
///
/// ```
/// use lola::harness::exec::Ending;
/// assert_eq!(Ending::Exited(0).to_string(), "exited with status 0");
/// assert!(!Ending::Exited(0).failed() && Ending::Exited(3).failed());
/// assert_eq!(Ending::Killed(9).to_string(), "killed by signal 9 (SIGKILL)");
/// assert!(Ending::Interrupted(15).failed(), "an interrupted run proves nothing");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It exited by itself with this status.
    Exited(i32),
    /// A signal lola did not send ended it.
    Killed(i32),
    /// It ran past the timeout and lola stopped it.
    TimedOut(Duration),
    /// lola received this signal (SIGINT, SIGTERM) and ended it, or cut the
    /// capture short after it ended: an error, whatever the capture holds.
    Interrupted(i32),
}

impl Ending {
    /// True unless the program exited with status 0 by itself.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lola::harness::exec::Ending;
    /// assert!(Ending::TimedOut(Duration::from_secs(1)).failed());
    /// assert!(Ending::Interrupted(libc::SIGTERM).failed());
    /// ```
    pub fn failed(&self) -> bool {
        !matches!(self, Ending::Exited(0))
    }

    /// True when lola was interrupted: the run is an error, never a pass,
    /// whatever `--ignore-exit` says.
    ///
    /// ```
    /// assert!(lola::harness::exec::Ending::Interrupted(libc::SIGINT).interrupted());
    /// ```
    pub fn interrupted(&self) -> bool {
        matches!(self, Ending::Interrupted(_))
    }

    /// `exited`, `killed`, `timed_out` or `interrupted`, for JSON.
    ///
    /// ```
    /// assert_eq!(lola::harness::exec::Ending::Killed(9).name(), "killed");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Ending::Exited(_) => "exited",
            Ending::Killed(_) => "killed",
            Ending::TimedOut(_) => "timed_out",
            Ending::Interrupted(_) => "interrupted",
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        _ => "?",
    }
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Exited(code) => write!(f, "exited with status {code}"),
            Ending::Killed(s) => write!(f, "killed by signal {s} ({})", signal_name(*s)),
            Ending::TimedOut(after) => write!(
                f,
                "still running after {}; stopped by lola",
                humantime::format_duration(*after)
            ),
            Ending::Interrupted(s) => write!(f, "interrupted: lola received {}", signal_name(*s)),
        }
    }
}

/// Everything one `exec` produced.
///
/// ```
/// use std::sync::atomic::AtomicI32;
/// use lola::harness::exec::{exec, Ending, ExecOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let mut options = ExecOptions::new(vec!["sh".into(), "-c".into(), "exit 3".into()]);
/// options.output = dir.path().join("quiet.pcap");
/// match exec(&options, &AtomicI32::new(0)) {
///     Ok(outcome) => {
///         assert_eq!(outcome.ending, Ending::Exited(3));
///         assert_eq!(outcome.written.frames, 0, "nothing crossed its lo");
///         assert!(!outcome.report.passed(), "no datagram");
///         assert!(outcome.exit_failed(), "a failing program decides the exit");
///     }
///     // Where no private lo may be made, it says why.
///     Err(e) => assert!(e.to_string().starts_with("cannot make a private lo: "), "{e}"),
/// }
/// ```
#[derive(Clone, Debug)]
pub struct ExecOutcome {
    /// The program and its arguments.
    pub program: Vec<OsString>,
    /// Which `lo` was recorded.
    pub place: Place,
    /// How the program ended.
    pub ending: Ending,
    /// The capture written.
    pub output: PathBuf,
    /// What was written.
    pub written: WriteSummary,
    /// Why the capture missed part of the run, if it did (`lo` taken down).
    pub capture_gap: Option<CaptureGap>,
    /// `lola check` of the capture against [`ExecOptions::set`] when given,
    /// else against [`ExecOptions::expectation`].
    pub report: CheckReport,
    /// [`ExecOptions::ignore_exit`], as asked.
    pub ignore_exit: bool,
}

impl ExecOutcome {
    /// The program's name (its first word), for messages.
    ///
    /// ```
    /// # use lola::harness::exec::*;
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let mut options = ExecOptions::new(vec!["true".into()]);
    /// # options.output = dir.path().join("t.pcap");
    /// # if let Ok(outcome) = exec(&options, &std::sync::atomic::AtomicI32::new(0)) {
    /// assert_eq!(outcome.name(), "true");
    /// # }
    /// ```
    pub fn name(&self) -> String {
        self.program
            .first()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// True when the program's ending decides the exit: it failed or was
    /// killed, and `ignore_exit` was not asked for; or lola was interrupted.
    ///
    /// ```
    /// # use lola::harness::exec::*;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let mut options = ExecOptions::new(vec!["sh".into(), "-c".into(), "exit 3".into()]);
    /// # options.output = dir.path().join("t.pcap");
    /// options.expectation = options.expectation.count(lola::Count::Exactly(0));
    /// # if let Ok(outcome) = exec(&options, &std::sync::atomic::AtomicI32::new(0)) {
    /// assert!(outcome.report.passed() && outcome.exit_failed());
    /// options.ignore_exit = true;
    /// let outcome = exec(&options, &std::sync::atomic::AtomicI32::new(0)).unwrap();
    /// assert!(!outcome.exit_failed() && outcome.passed());
    /// # }
    /// ```
    pub fn exit_failed(&self) -> bool {
        self.ending.failed() && (!self.ignore_exit || self.ending.interrupted())
    }

    /// True when the capture passed its check and the program's ending
    /// does not fail the run.
    ///
    /// ```
    /// # use lola::harness::exec::*;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let mut options = ExecOptions::new(vec!["sh".into(), "-c".into(), "exit 3".into()]);
    /// # options.output = dir.path().join("t.pcap");
    /// options.expectation = options.expectation.count(lola::Count::Exactly(0));
    /// # if let Ok(outcome) = exec(&options, &std::sync::atomic::AtomicI32::new(0)) {
    /// assert!(!outcome.passed(), "the program failed");
    /// # }
    /// ```
    pub fn passed(&self) -> bool {
        self.report.passed() && !self.exit_failed()
    }
}

/// Grace between SIGTERM and SIGKILL when lola stops the program.
const GRACE: Duration = Duration::from_secs(2);

/// How long the capture waits for a frame before it looks at the program,
/// the clock and lola's signals: the most a run's end can be late by.
const SLICE: Duration = Duration::from_millis(2);

/// How long frames may arrive back to back before the program is looked at.
const BURST: Duration = Duration::from_millis(1);

/// How long, at the end, lola waits at most for frames the kernel queued
/// but holds in a ring block not yet handed over (its timer is 4 ms): what
/// has not come by then is counted as dropped, never lost unsaid.
const SETTLE: Duration = Duration::from_millis(50);

/// How long a program may stay stopped, with no timeout to end it, before
/// the caller hears of it.
pub const STOPPED_NOTICE: Duration = Duration::from_secs(1);

/// Something worth saying while the program runs, before there is a
/// verdict: handed to [`exec_with`]'s `notice` as it happens.
///
/// ```
/// use std::time::Duration;
/// use lola::harness::exec::Notice;
/// let n = Notice::Stopped { signal: libc::SIGTTIN, after: Duration::from_secs(1) };
/// assert_eq!(n.to_string(), "stopped by signal 21 (SIGTTIN) for 1s; waiting for it to continue");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The program was stopped by `signal` `after` ago and has not
    /// continued; with no timeout, lola waits for it.
    Stopped {
        /// SIGSTOP, SIGTSTP, SIGTTIN or SIGTTOU.
        signal: i32,
        /// How long it has been stopped.
        after: Duration,
    },
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Stopped { signal, after } => write!(
                f,
                "stopped by signal {signal} ({}) for {}; waiting for it to continue",
                signal_name(*signal),
                humantime::format_duration(*after)
            ),
        }
    }
}

/// Why the capture missed part of the run, while the program went on.
///
/// ```
/// use std::time::Duration;
/// use lola::harness::exec::CaptureGap;
/// let gap = CaptureGap::LoDown { after: Duration::from_millis(200) };
/// assert_eq!(gap.to_string(), "lo went down 200ms into the run (network is down): the capture holds what crossed it before and after");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureGap {
    /// `lo` was taken down (by the program, most likely); nothing crosses
    /// a `lo` that is down, and the capture goes on if it comes back up.
    LoDown {
        /// How long after the program started.
        after: Duration,
    },
    /// The capture failed for another reason and recorded nothing after.
    Failed {
        /// How long after the program started.
        after: Duration,
        /// What the kernel said.
        cause: String,
    },
}

impl std::fmt::Display for CaptureGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureGap::LoDown { after } => write!(
                f,
                "lo went down {} into the run (network is down): the capture holds what crossed it before and after",
                humantime::format_duration(rounded(*after))
            ),
            CaptureGap::Failed { after, cause } => write!(
                f,
                "the capture failed {} into the run ({cause}): it holds what came before",
                humantime::format_duration(rounded(*after))
            ),
        }
    }
}

/// `d` to the millisecond, for words.
fn rounded(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// Runs the program on a private `lo` (or the host's, with `host`), records
/// every frame there until it ends and for `linger` more, streaming them to
/// `output` as they come, and checks the capture. `stop` is read as it
/// runs: a signal number there (set by a signal handler) ends the program
/// and its tree, the frames seen so far are still written and judged, and
/// the ending is [`Ending::Interrupted`], an error.
///
/// The program runs under lola's init in a PID namespace of its own (see
/// [`crate::host::tree`]): when it ends, is timed out or lola is stopped,
/// every process it started ends with it.
///
/// Call it from a single-threaded process: a private `lo` is a namespace
/// this process enters for good.
///
/// ```no_run
/// use std::sync::atomic::AtomicI32;
/// let options = lola::harness::exec::ExecOptions::new(vec!["sh".into(), "-c".into(), "true".into()]);
/// let outcome = lola::harness::exec::exec(&options, &AtomicI32::new(0)).unwrap();
/// assert_eq!(outcome.ending, lola::harness::exec::Ending::Exited(0));
/// ```
pub fn exec(options: &ExecOptions, stop: &AtomicI32) -> Result<ExecOutcome> {
    exec_with(options, stop, |_| {})
}

/// [`exec`], telling `notice` what is worth saying while the program runs
/// (a program stopped with no timeout to end it).
pub fn exec_with(
    options: &ExecOptions,
    stop: &AtomicI32,
    mut notice: impl FnMut(&Notice),
) -> Result<ExecOutcome> {
    let Some(program) = options.program.first() else {
        return Err(Error::Invalid("no program to run".into()));
    };
    check_writable(&options.output)?;
    let (mut capture, place) = open(options.host, options.buffer_size)?;
    let input = if options.stdin {
        Input::Inherit
    } else {
        Input::Null
    };
    let (written, (ending, gap, statistics), kept) =
        write_capture_streamed(&options.output, options.format, |encoder| {
            let mut tree = Tree::spawn(
                program,
                &options.program[1..],
                input,
                options.stdout_to_stderr,
            )
            .map_err(|source| Error::Spawn {
                program: program.to_string_lossy().into_owned(),
                source,
            })?;
            let mut recorder = Recorder {
                capture: &mut capture,
                encoder,
                output: &options.output,
                comment: crate::harness::captured_comment("lo"),
                started: Instant::now(),
                gap: None,
                wake: None,
            };
            let ending = supervise(&mut tree, &mut recorder, options.timeout, stop, &mut notice)
                .map_err(|e| e.into_error(program))?;
            // The init's pipe is at its end from here on: no more waking.
            recorder.wake = None;
            // The init is gone once the program is: every process of the
            // tree has been killed and reaped.
            tree.wait();
            let until = Instant::now() + options.linger;
            while recorder.recording() && stop.load(Ordering::Relaxed) == 0 {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                recorder.record_for(left.min(SLICE))?;
            }
            // A signal during the linger cut the capture short: no pass.
            let ending = match (ending, stop.load(Ordering::Relaxed)) {
                (Ending::Interrupted(s), _) => Ending::Interrupted(s),
                (ending, 0) => ending,
                (_, signal) => Ending::Interrupted(signal),
            };
            // The end: no frame is queued from here on, and every frame the
            // kernel queued is written, or counted as dropped below.
            if recorder.recording() && recorder.capture.close_intake().is_ok() {
                recorder.record_queued(Instant::now() + SETTLE)?;
            }
            let gap = recorder.gap.take();
            // Read once, after the last frame: the same count goes to the
            // pcapng statistics block and, whatever the format, to the verdict.
            let statistics = capture.final_statistics().ok();
            Ok(((ending, gap, statistics), statistics))
        })?;
    capture.close_detached();
    let drops = statistics.map(Drops::from).unwrap_or_default();
    // A FIFO or a device is judged from what was written, never re-opened.
    let report = CheckReport::of_written(
        &options.output,
        &kept,
        &options.expectation,
        options.set.as_ref(),
        drops,
    )?;
    Ok(ExecOutcome {
        program: options.program.clone(),
        place,
        ending,
        output: options.output.clone(),
        written,
        capture_gap: gap,
        report,
        ignore_exit: options.ignore_exit,
    })
}

/// Enters a private `lo` (unless `host`) and opens a capture keeping every
/// frame on it.
fn open(host: bool, buffer_size: usize) -> Result<(Capture, Place)> {
    let place = if host {
        Place::Host
    } else {
        sandbox::enter_private()
            .map(Place::Private)
            .map_err(|blocked| Error::PrivateLo { blocked })?
    };
    let capture =
        Capture::open_at_once("lo", FlowFilter::default(), buffer_size).map_err(|reason| {
            Error::CaptureUnavailable {
                interface: match place {
                    Place::Host => "lo".into(),
                    Place::Private(_) => place.to_string(),
                },
                reason,
            }
        })?;
    Ok((capture, place))
}

/// The capture and the file it streams to: frames go from one to the
/// other as they come, none is kept.
struct Recorder<'a, W: std::io::Write> {
    capture: &'a mut Capture,
    encoder: &'a mut FrameEncoder<W>,
    output: &'a Path,
    comment: String,
    started: Instant,
    /// Set when the capture broke; [`CaptureGap::Failed`] ends recording.
    gap: Option<CaptureGap>,
    /// While the program runs: the init's report pipe, which cuts a wait
    /// for frames short, so that the program's end is seen at once.
    wake: Option<std::os::fd::RawFd>,
}

impl<W: std::io::Write> Recorder<'_, W> {
    /// False once the capture failed for good.
    fn recording(&self) -> bool {
        !matches!(self.gap, Some(CaptureGap::Failed { .. }))
    }

    /// Writes the frames that come within `wait`, returning when none came
    /// in that time or after a [`BURST`] of them.
    fn record_for(&mut self, wait: Duration) -> Result<()> {
        let burst = Instant::now();
        while self.recording() {
            let next = match self.wake {
                // SAFETY: the descriptor belongs to the Tree, which outlives
                // the recording (set in `supervise` only).
                Some(fd) => self
                    .capture
                    .next_or(wait, unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }),
                None => self.capture.next(wait),
            };
            match next {
                Ok(Some(frame)) => self.write(&frame)?,
                Ok(None) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(()),
                Err(e) => {
                    let after = self.started.elapsed();
                    self.gap = Some(match e.raw_os_error() {
                        // The socket stays bound: it records again once lo
                        // is back up.
                        Some(libc::ENETDOWN) => CaptureGap::LoDown { after },
                        _ => CaptureGap::Failed {
                            after,
                            cause: crate::error::describe_io(&e),
                        },
                    });
                    return Ok(());
                }
            }
            if burst.elapsed() >= BURST {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Writes every frame the kernel still holds for the capture, waiting
    /// until `deadline` at most for those in a ring block not handed over.
    fn record_queued(&mut self, deadline: Instant) -> Result<()> {
        while self.recording() {
            match self.capture.next_queued(deadline) {
                Ok(Some(frame)) => self.write(&frame)?,
                // What is left is counted as dropped (final_statistics).
                Ok(None) | Err(_) => break,
            }
        }
        Ok(())
    }

    fn write(&mut self, frame: &LiveFrame) -> Result<()> {
        let frame = CaptureFrame {
            timestamp: frame.timestamp,
            data: Cow::Borrowed(&frame.data[..]),
            comment: Some(self.comment.clone()),
            flags: Some(frame.flags).filter(|&flags| flags != 0),
        };
        self.encoder.write(&frame).map_err(|source| Error::Io {
            path: self.output.to_path_buf(),
            source,
        })
    }
}

/// Why supervising the program stopped short.
enum Lost {
    Capture(Error),
    Wait(std::io::Error),
}

impl Lost {
    fn into_error(self, program: &OsString) -> Error {
        match self {
            Lost::Capture(e) => e,
            Lost::Wait(source) => Error::Wait {
                program: program.to_string_lossy().into_owned(),
                source,
            },
        }
    }
}

/// Records while the program runs; ends its tree on a signal to lola or at
/// the timeout (SIGTERM to every process of it, SIGKILL after [`GRACE`]);
/// says how it ended.
fn supervise<W: std::io::Write>(
    tree: &mut Tree,
    recorder: &mut Recorder<'_, W>,
    timeout: Option<Duration>,
    stop: &AtomicI32,
    notice: &mut impl FnMut(&Notice),
) -> std::result::Result<Ending, Lost> {
    let started = Instant::now();
    let mut stopping: Option<(Ending, Instant)> = None;
    let mut killed = false;
    // Since when, and by which signal, the program is stopped; whether the
    // caller was told.
    let mut stopped: Option<(i32, Instant, bool)> = None;
    // The init's reports cut the capture's waits short (reset by the caller).
    recorder.wake = Some(std::os::fd::AsRawFd::as_raw_fd(&tree.events()));
    loop {
        // With a capture, its wait is the loop's; without one (it failed),
        // the init's pipe is waited on instead.
        let mut wait = if recorder.recording() {
            recorder.record_for(SLICE).map_err(Lost::Capture)?;
            Duration::ZERO
        } else {
            SLICE
        };
        loop {
            match tree.poll_event(wait).map_err(Lost::Wait)? {
                Poll::Nothing => break,
                Poll::Event(Event::Ended(status)) => {
                    return Ok(stopping.map_or_else(|| ended(status), |(ending, _)| ending));
                }
                Poll::Closed => {
                    return match stopping {
                        Some((ending, _)) => Ok(ending),
                        None => Err(Lost::Wait(std::io::Error::other(
                            "lola's init ended without saying how the program did",
                        ))),
                    };
                }
                Poll::Event(Event::Stopped(signal)) => {
                    stopped = Some((signal, Instant::now(), false));
                }
                Poll::Event(Event::Continued) => stopped = None,
            }
            wait = Duration::ZERO;
        }
        match stopping {
            None => {
                let signal = stop.load(Ordering::Relaxed);
                if signal != 0 {
                    tree.signal(signal);
                    stopping = Some((Ending::Interrupted(signal), Instant::now()));
                } else if let Some(t) = timeout
                    && started.elapsed() >= t
                {
                    tree.signal(libc::SIGTERM);
                    stopping = Some((Ending::TimedOut(t), Instant::now()));
                }
            }
            Some((_, since)) if since.elapsed() >= GRACE && !killed => {
                tree.kill();
                killed = true;
            }
            Some(_) => {}
        }
        if let Some((signal, since, told)) = &mut stopped
            && !*told
            && timeout.is_none()
            && stopping.is_none()
            && since.elapsed() >= STOPPED_NOTICE
        {
            notice(&Notice::Stopped {
                signal: *signal,
                after: Duration::from_secs(since.elapsed().as_secs()),
            });
            *told = true;
        }
    }
}

fn ended(status: Status) -> Ending {
    match status {
        Status::Exited(code) => Ending::Exited(code),
        Status::Killed(signal) => Ending::Killed(signal),
    }
}

/// Refuses, before the program runs, an output path that is standard
/// output, a directory, or in a missing directory.
fn check_writable(output: &Path) -> Result<()> {
    if output == Path::new("-") {
        return Err(Error::Invalid(
            "exec writes the capture to a file and reads it back; give -o a file name".into(),
        ));
    }
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let kind = if output.is_dir() {
        std::io::ErrorKind::IsADirectory
    } else if !dir.is_dir() {
        std::io::ErrorKind::NotFound
    } else {
        return Ok(());
    };
    Err(Error::Io {
        path: output.to_path_buf(),
        source: std::io::Error::from(kind),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_say_what_happened_and_whether_it_failed() {
        assert_eq!(
            Ending::Interrupted(libc::SIGINT).to_string(),
            "interrupted: lola received SIGINT"
        );
        assert!(Ending::Interrupted(libc::SIGINT).failed());
        assert!(Ending::TimedOut(Duration::from_secs(1)).failed());
        assert!(Ending::Killed(libc::SIGSEGV).failed());
        assert_eq!(Ending::Exited(1).name(), "exited");
    }

    #[test]
    fn outputs_that_cannot_be_written_are_refused_before_running() {
        assert!(check_writable(Path::new("-")).is_err());
        assert!(check_writable(Path::new("/no/such/dir/x.pcap")).is_err());
        assert!(check_writable(Path::new("x.pcap")).is_ok());
    }
}
