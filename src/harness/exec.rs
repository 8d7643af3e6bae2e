//! `lola exec` as a library call: run any program on a private `lo` and
//! record every frame it put there, from before it started until it ended.
//!
//! The program inherits the private network namespace (see
//! [`crate::host::sandbox`]), so the capture holds its frames and nothing else,
//! and ports such as 7456 are always free. It runs in a process group of
//! its own, so that a stop or a timeout reaches the children it started too.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use crate::capture::{Format, WriteSummary};
use crate::check::Expectation;
use crate::check::expect::{CheckReport, ExpectationSet};
use crate::error::{Error, Result};
use crate::host::live::{Capture, FlowFilter, LiveFrame, Stop};
use crate::host::sandbox::{self, Place};

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
/// assert!(!Ending::Stopped(2).failed(), "stopping was asked for");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It exited by itself with this status.
    Exited(i32),
    /// A signal lola did not send ended it.
    Killed(i32),
    /// It ran past the timeout and lola stopped it.
    TimedOut(Duration),
    /// lola received this signal (SIGINT, SIGTERM) and stopped it.
    Stopped(i32),
}

impl Ending {
    /// True when the program failed or was killed (not when lola was asked
    /// to stop it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use lola::harness::exec::Ending;
    /// assert!(Ending::TimedOut(Duration::from_secs(1)).failed());
    /// assert!(!Ending::Stopped(libc::SIGTERM).failed());
    /// ```
    pub fn failed(&self) -> bool {
        !matches!(self, Ending::Exited(0) | Ending::Stopped(_))
    }

    /// `exited`, `killed`, `timed_out` or `stopped`, for JSON.
    ///
    /// ```
    /// assert_eq!(lola::harness::exec::Ending::Killed(9).name(), "killed");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Ending::Exited(_) => "exited",
            Ending::Killed(_) => "killed",
            Ending::TimedOut(_) => "timed_out",
            Ending::Stopped(_) => "stopped",
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
            Ending::Stopped(s) => write!(f, "stopped by lola on {}", signal_name(*s)),
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
    /// killed, and `ignore_exit` was not asked for.
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
        self.ending.failed() && !self.ignore_exit
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

/// How long one recording slice lasts: how promptly the program's end, a
/// timeout or a signal is noticed.
const SLICE: Duration = Duration::from_millis(20);

/// Runs the program on a private `lo` (or the host's, with `host`), records
/// every frame there until it ends and for `linger` more, writes them to
/// `output` and checks them. `stop` is read as it runs: a signal number
/// there (set by a signal handler) stops the program with that signal, and
/// the frames seen so far are still written and judged.
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
    let Some(program) = options.program.first() else {
        return Err(Error::Invalid("no program to run".into()));
    };
    check_writable(&options.output)?;
    let (mut capture, place) = open(options.host, options.buffer_size)?;
    let mut child = spawn(program, &options.program[1..], options.stdout_to_stderr)?;
    let mut frames = Vec::new();
    let ending = supervise(&mut child, &mut capture, &mut frames, options.timeout, stop)
        .map_err(|e| e.into_error(program))?;
    let until = Instant::now() + options.linger;
    while Instant::now() < until && stop.load(Ordering::Relaxed) == 0 {
        let left = until.saturating_duration_since(Instant::now());
        frames.extend(capture.record(Stop::after(left.min(SLICE)))?);
    }
    let written = crate::harness::write_observed(
        &options.output,
        options.format,
        "lo",
        &frames,
        capture.statistics().ok(),
    )?;
    let report = CheckReport::of_file(&options.output, &options.expectation, options.set.as_ref())?;
    Ok(ExecOutcome {
        program: options.program.clone(),
        place,
        ending,
        output: options.output.clone(),
        written,
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
        Capture::open_with_buffer("lo", FlowFilter::default(), buffer_size).map_err(|reason| {
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

/// Records while the program runs; stops it on a signal to lola or at the
/// timeout (SIGTERM to its group, SIGKILL after [`GRACE`]); says how it ended.
fn supervise(
    child: &mut Child,
    capture: &mut Capture,
    frames: &mut Vec<LiveFrame>,
    timeout: Option<Duration>,
    stop: &AtomicI32,
) -> std::result::Result<Ending, Lost> {
    let started = Instant::now();
    let mut stopping: Option<(Ending, Instant)> = None;
    loop {
        frames.extend(capture.record(Stop::after(SLICE)).map_err(Lost::Capture)?);
        if let Some(status) = child.try_wait().map_err(Lost::Wait)? {
            return Ok(stopping.map_or_else(|| ended(status), |(ending, _)| ending));
        }
        match stopping {
            None => {
                let signal = stop.load(Ordering::Relaxed);
                if signal != 0 {
                    signal_group(child, signal);
                    stopping = Some((Ending::Stopped(signal), Instant::now()));
                } else if let Some(t) = timeout
                    && started.elapsed() >= t
                {
                    signal_group(child, libc::SIGTERM);
                    stopping = Some((Ending::TimedOut(t), Instant::now()));
                }
            }
            Some((_, since)) if since.elapsed() >= GRACE => signal_group(child, libc::SIGKILL),
            Some(_) => {}
        }
    }
}

fn spawn(program: &OsString, args: &[OsString], stdout_to_stderr: bool) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(program);
    command.args(args).process_group(0);
    if stdout_to_stderr {
        command.stdout(std::io::stderr());
    }
    command.spawn().map_err(|source| Error::Spawn {
        program: program.to_string_lossy().into_owned(),
        source,
    })
}

fn ended(status: ExitStatus) -> Ending {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Killed(signal),
        (None, None) => Ending::Exited(-1),
    }
}

/// Sends `signal` to the program's process group: it and its children.
fn signal_group(child: &Child, signal: i32) {
    // The group id is the child's pid (process_group(0)); the child is not
    // reaped yet, so the id cannot have been reused.
    // SAFETY: kill(2) with a negative pid signals that group only.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), signal);
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
            Ending::Stopped(libc::SIGINT).to_string(),
            "stopped by lola on SIGINT"
        );
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
