//! The edge: stdout, the one-line error on stderr with the CLI's hints, and
//! the exit status.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use lola::Error;
use lola::check::expect::SetReport;
use lola::check::golden::DiffReport;
use lola::check::{Failure, Note, Report};
use lola::report::junit::Suite;
use lola::report::text::{TextStyle, printable, terminal_text};

/// How `lola` exits, as the README promises: 0 pass, 1 expectation not
/// met, 2 could not run (as grep and diff do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The verdict passed (or there was no verdict to give).
    Pass,
    /// The verdict failed.
    Fail,
    /// lola could not do what it was asked.
    Error,
    /// The program's own status: `lola exec` with nothing to judge exits
    /// as the program did (128 + N when signal N ended it, as shells say).
    Program(u8),
}

impl Exit {
    pub fn verdict(passed: bool) -> Exit {
        if passed { Exit::Pass } else { Exit::Fail }
    }

    /// The status lola exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Pass => 0,
            Exit::Fail => 1,
            Exit::Error => 2,
            Exit::Program(code) => code,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// True once a command's capture goes to standard output: from then on the
/// words for people go to stderr, so the capture stream stays clean.
static HUMANS_TO_STDERR: AtomicBool = AtomicBool::new(false);

/// Sends every later [`out`] to stderr when `capture_on_stdout`, as
/// `tcpdump -w -` does with its own messages.
pub fn humans_to_stderr(capture_on_stdout: bool) {
    HUMANS_TO_STDERR.store(capture_on_stdout, Ordering::Relaxed);
}

/// Writes to stdout (stderr once [`humans_to_stderr`] said the capture goes
/// there); a closed pipe (`lola check x | head -1`) is not an error.
pub fn out(text: impl std::fmt::Display) {
    // Names and payloads inside the text are shown, never obeyed.
    let text = text.to_string();
    let text = terminal_text(&text);
    if HUMANS_TO_STDERR.load(Ordering::Relaxed) {
        let _ = write!(io::stderr(), "{text}");
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = write!(stdout, "{text}").and_then(|_| stdout.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        let _ = writeln!(io::stderr(), "lola: cannot write to standard output: {e}");
    }
}

/// A JSON document and its newline.
pub fn out_json(text: &str) {
    out(format_args!("{text}\n"));
}

/// A command line clap refused, as lola's own errors look: `lola: `, the
/// problem (with clap's tip or the possible values) on one line, then a
/// usage line; exit 2. `--help` and `--version` print as clap prints them.
pub fn argument_error(e: &clap::Error, args: &[std::ffi::OsString]) -> Exit {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.exit_code() == 0 {
            Exit::Pass
        } else {
            Exit::Error
        };
    }
    if let Some(hint) = super::hints::hint(args, e) {
        let mut text = format!("lola: {}\n", printable(&hint.words));
        if let Some(line) = &hint.fixed {
            text += &format!("  try: {}\n", printable(&super::hints::shell_line(line)));
        }
        let _ = write!(io::stderr(), "{text}");
        return Exit::Error;
    }
    let text = argument_error_text(&e.to_string());
    let text = match suggested_alias(e, args) {
        Some((alias, name)) => text.replace(&format!("'{alias}'"), &format!("'{name}'")),
        None => text,
    };
    let _ = write!(io::stderr(), "{text}");
    Exit::Error
}

/// When clap suggests a flag by a hidden alias kept for old command lines
/// (`--count` for `--exactly`), the alias and the flag's own name, so that
/// the suggestion names what the help shows.
fn suggested_alias(e: &clap::Error, args: &[std::ffi::OsString]) -> Option<(String, String)> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(suggested)) = e.get(ContextKind::SuggestedArg) else {
        return None;
    };
    let alias = suggested.strip_prefix("--")?;
    let root = super::args::Cli::command();
    // The subcommand is the first argument that names one (`args` are
    // those after the program's name).
    let sub = args
        .iter()
        .filter_map(|a| a.to_str())
        .find_map(|a| root.find_subcommand(a))?;
    let arg = sub.get_arguments().find(|a| {
        a.get_long() != Some(alias) && a.get_all_aliases().is_some_and(|all| all.contains(&alias))
    })?;
    Some((suggested.clone(), format!("--{}", arg.get_long()?)))
}

/// clap's several-paragraph message → `lola: problem (tip)` and a usage line.
fn argument_error_text(clap_text: &str) -> String {
    let mut lines = clap_text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut problem = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    let mut extra = Vec::new();
    let mut usage = None;
    for line in lines {
        if let Some(u) = line.strip_prefix("Usage: ") {
            usage = Some(u.to_string());
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            extra.push(tip.to_string());
        } else if let Some(values) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            extra.push(values.to_string());
        } else if !line.starts_with("For more information") {
            // The rest of the problem: "the following required arguments
            // were not provided:" and the arguments.
            problem = format!("{problem} {line}");
        }
    }
    let mut text = format!("lola: {problem}");
    if !extra.is_empty() {
        text += &format!(" ({})", extra.join("; "));
    }
    text.push('\n');
    if let Some(usage) = usage {
        let command: Vec<&str> = usage
            .split_whitespace()
            .take_while(|w| !w.starts_with(['[', '<', '-']))
            .collect();
        text += &format!("usage: {usage}  ({} --help for more)\n", command.join(" "));
    }
    text
}

/// The subcommand being run, for hints that depend on it.
static COMMAND: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Names the subcommand being run (`exec`, `run`, ...), once, after parsing.
pub fn set_command(name: &'static str) {
    let _ = COMMAND.set(name);
}

/// `lola: ` and the error on one line of stderr.
pub fn error(e: &Error) {
    let _ = writeln!(io::stderr(), "lola: {}", printable(&error_line(e)));
}

/// `lola: `, the error and a command's own hint, on one line of stderr.
pub fn error_with_hint(e: &Error, hint: &str) {
    let _ = writeln!(io::stderr(), "lola: {}", printable(&format!("{e}; {hint}")));
}

/// The error's words with what the CLI adds: the flag it concerns, and
/// what to try instead.
fn error_line(e: &Error) -> String {
    match e {
        Error::Bind { source, .. } => format!("{e}{}", bind_hint(source)),
        Error::UnspecifiedDestination { .. } => format!("--to {e}"),
        Error::ObservedOverwritesOutput { .. } => format!("-o {e}"),
        Error::CaptureUnavailable { interface, .. }
            if interface == "lo" && !lola::host::sandbox::has_net_raw() =>
        {
            match COMMAND.get().copied() {
                Some("exec") => {
                    format!(
                        "{e}; without --host, exec records a lo of its own and needs no privilege"
                    )
                }
                _ => {
                    format!("{e}; --capture private (or auto) captures on a private lo without it")
                }
            }
        }
        _ => e.to_string(),
    }
}

fn bind_hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::AddrInUse => "; try --port 0",
        io::ErrorKind::PermissionDenied => "; ports below 1024 need root, try --port 0",
        _ => "",
    }
}

/// `--capture host` without CAP_NET_RAW: the error, before anything is
/// printed or sent (never `Just here on ...` and then a failure).
pub fn refuse_host_without_privilege(mode: lola::harness::CaptureMode) -> Result<(), Error> {
    if mode == lola::harness::CaptureMode::Host && !lola::host::sandbox::has_net_raw() {
        return Err(Error::CaptureUnavailable {
            interface: "lo".into(),
            reason: lola::host::live::Unavailable(
                "live capture needs CAP_NET_RAW (run as root, or: sudo setcap cap_net_raw+ep $(command -v lola))".into(),
            ),
        });
    }
    Ok(())
}

/// Makes every output path ready before any socket is opened or any frame
/// captured: missing parent directories are created (like pytest's
/// `--junitxml`), then [`lola::capture::check_writable`] answers whether the
/// file can be written. The first path that cannot be is the error, named.
pub fn prepare_outputs<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<(), Error> {
    for path in paths {
        if path == Path::new("-") {
            continue;
        }
        // The links and files on the way are judged before any directory is
        // made: a link another user planted is refused, not created through.
        match lola::capture::check_writable(path) {
            Ok(()) => continue,
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
            && !parent.exists()
        {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        lola::capture::check_writable(path)?;
    }
    Ok(())
}

/// When the command started, for the `timestamp` and `time` of JUnit
/// suites that are not timed one by one.
pub static STARTED: LazyLock<(SystemTime, Instant)> =
    LazyLock::new(|| (SystemTime::now(), Instant::now()));

/// Notes the time the command starts (call first thing in `main`).
pub fn start_clock() {
    LazyLock::force(&STARTED);
}

/// Writes the JUnit XML of `suites` to `path`, whole or not at all; each
/// suite stamped with the command's start and the time it has taken.
pub fn write_junit(path: &Path, suites: Vec<Suite>) -> Result<(), Error> {
    let (started, clock) = *STARTED;
    let suites: Vec<Suite> = suites
        .into_iter()
        .map(|suite| Suite {
            time: clock.elapsed(),
            timestamp: Some(started),
            ..suite
        })
        .collect();
    write_junit_suites(path, &suites)
}

/// Writes the JUnit XML of `suites` to `path`, whole or not at all, its
/// missing parent directories created first (like pytest's `--junitxml`).
pub fn write_junit_suites(path: &Path, suites: &[Suite]) -> Result<(), Error> {
    prepare_outputs([path])?;
    lola::capture::write_file_atomically(path, lola::report::junit::to_xml(suites).as_bytes())
}

/// The JUnit document of a command that could not run: one suite named
/// `suite`, whose one test case holds the error (exit 2 still leaves a
/// report for CI to show).
pub fn write_junit_error(path: &Path, suite: &str, file: &str, e: &Error) -> Result<(), Error> {
    let (started, clock) = *STARTED;
    // The capture in the suite's name, as the suites of a run that could
    // judge it have it.
    let name = if suite.contains(file) {
        suite.to_string()
    } else {
        format!("{suite} {file}")
    };
    let suite = Suite {
        time: clock.elapsed(),
        timestamp: Some(started),
        ..Suite::error(name, error_line(e))
    }
    .with_property("capture", file);
    write_junit_suites(path, &[suite])
}

/// On exit 2, the reports CI asked for still get written: the JUnit file
/// holds one `<error>` case in a suite named `suite`, and `--json` prints the
/// error document about `file`. Returns `e`, for the caller to pass on.
pub fn report_error(
    report: &super::args::ReportArgs,
    suite: &str,
    file: &str,
    e: Error,
) -> Result<Error, Error> {
    if let Some(path) = &report.junit {
        write_junit_error(path, suite, file, &e)?;
    }
    if report.json {
        out_json(&serde_json::to_string_pretty(&error_json(&e, file))?);
    }
    Ok(e)
}

/// The `--json` document of a command that could not run:
/// `{"schema_version", "file", "verdict": "error", "error": {"kind",
/// "message", "path", "offset"}}` (`path` and `offset` when known).
pub fn error_json(e: &Error, file: &str) -> lola::report::schema::ErrorDocument {
    lola::report::schema::ErrorDocument::new(e, file, error_line(e))
}

/// "frame" or "frames".
pub fn frames_word(n: usize) -> &'static str {
    if n == 1 { "frame" } else { "frames" }
}

/// How many lines each frame list of a report shows (`--frames`).
static FRAMES: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(lola::check::LIST_CAP);

/// Sets how many lines each frame list shows (`--frames N|all`).
pub fn set_frames(n: usize) {
    FRAMES.store(n, Ordering::Relaxed);
}

/// A check report as text, its verdict word in colour with `color`.
pub fn report_text_in(report: &Report, color: bool) -> String {
    let mut text = String::new();
    let style = TextStyle {
        color,
        note: &note_with_hint,
        frames: FRAMES.load(Ordering::Relaxed),
    };
    // Writing to a String cannot fail.
    let _ = report.write_text(&mut text, &style);
    text
}

/// An expectation file's report as text, its verdict word in colour with
/// `color`.
pub fn set_text_in(report: &SetReport, color: bool) -> String {
    let mut text = String::new();
    let _ = report.write_text(&mut text, color);
    text
}

/// A diff report as text, its verdict word in colour with `color`.
pub fn diff_text_in(report: &DiffReport, color: bool) -> String {
    let mut text = String::new();
    let _ = report.write_text(&mut text, color);
    text
}

/// A note's words, with the command-line flag that bears on it.
fn note_with_hint(note: &Note) -> String {
    match note {
        Note::TcpAllowed {
            segments,
            handshake,
        } => {
            let tcp = Failure::Tcp {
                segments: *segments,
                handshake: *handshake,
            };
            format!("{tcp} (allowed by --allow-tcp)")
        }
        Note::PartialChecksums { .. } => format!("{note}; --checksums strict fails it"),
        Note::Truncated { .. } => format!("{note} (--truncated judge-complete-frames)"),
        _ => note.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_errors_get_the_port_hint() {
        let addr = "127.0.0.1:7456".parse().unwrap();
        let in_use = Error::Bind {
            addr,
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert_eq!(
            error_line(&in_use),
            "cannot bind 127.0.0.1:7456: address in use; try --port 0"
        );
        let denied = Error::Bind {
            addr,
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            error_line(&denied),
            "cannot bind 127.0.0.1:7456: permission denied; ports below 1024 need root, try --port 0"
        );
    }

    #[test]
    fn errors_about_a_flag_name_it() {
        let e = Error::UnspecifiedDestination {
            addr: "0.0.0.0:7456".parse().unwrap(),
        };
        assert_eq!(
            error_line(&e),
            "--to 0.0.0.0:7456: the destination must be a concrete address such as 127.0.0.1 or ::1"
        );
    }

    #[test]
    fn argument_errors_are_one_line_and_a_usage_line() {
        let clap = "error: invalid value 'loose' for '--checksums <POLICY>'\n  [possible values: strict, lenient, ignore]\n\n  tip: a similar value exists: 'lenient'\n\nUsage: lola check [OPTIONS] <FILE>...\n\nFor more information, try '--help'.\n";
        assert_eq!(
            argument_error_text(clap),
            "lola: invalid value 'loose' for '--checksums <POLICY>' (possible values: strict, lenient, ignore; a similar value exists: 'lenient')\n\
             usage: lola check [OPTIONS] <FILE>...  (lola check --help for more)\n"
        );
    }

    #[test]
    fn missing_arguments_are_named_on_the_line() {
        let clap = "error: the following required arguments were not provided:\n  <FILE>...\n\nUsage: lola check <FILE>...\n\nFor more information, try '--help'.\n";
        assert!(
            argument_error_text(clap).starts_with(
                "lola: the following required arguments were not provided: <FILE>...\n"
            )
        );
    }

    #[test]
    fn exit_codes_are_the_documented_ones() {
        assert_eq!(Exit::verdict(true).code(), 0);
        assert_eq!(Exit::verdict(false).code(), 1);
        assert_eq!(Exit::Error.code(), 2);
    }
}
