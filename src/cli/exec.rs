//! `lola exec`: run a program on a private lo, write what it put there,
//! check it.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};

use lola::Error;
use lola::capture::Format;
use lola::check::expect::{CheckReport, ExpectationSet};
use lola::harness::exec::{ExecOptions, ExecOutcome, Notice, exec_with};
use lola::report::junit::Suite;

use super::args::ExecArgs;
use super::output::{
    Exit, STARTED, frames_word, out, out_json, prepare_outputs, report_error, report_text_in,
    write_junit, write_junit_suites,
};
use super::pictures::{check_report_path, flows_of, write_report};

pub fn run(args: ExecArgs) -> Result<Exit, Error> {
    super::draw::note_old_spelling("exec", "--count", "--exactly");
    let (output, format) = args.output();
    let outcome = match start(&args, output.clone(), format) {
        Ok(outcome) => outcome,
        Err(e) => {
            let file = output.display().to_string();
            let suite = format!("lola exec {file}");
            return Err(report_error(&args.report, &suite, &file, e)?);
        }
    };
    // --report with --expect is refused by the argument parser: the HTML
    // report draws the built-in check only.
    if let (Some(path), CheckReport::Builtin(report)) = (&args.html_report, &outcome.report) {
        let flows = flows_of(&outcome.output)?;
        write_report(path, &lola::report::html::check(report, flows.as_ref()))?;
    }
    if let Some(path) = &args.report.junit {
        if outcome.ending.interrupted() {
            write_interrupted_junit(path, &outcome)?;
        } else {
            write_junit(path, lola::report::junit::exec_suites(&outcome))?;
        }
    }
    if args.report.json {
        out_json(&outcome.to_json()?);
    } else if !args.quiet {
        print_text(&outcome, args.color.color());
    }
    if outcome.ending.interrupted() {
        let _ = writeln!(
            io::stderr(),
            "lola: {} {}; the capture so far was written and judged, but an interrupted run proves nothing",
            outcome.name(),
            outcome.ending
        );
        return Ok(Exit::Error);
    }
    if outcome.exit_failed() {
        let _ = writeln!(
            io::stderr(),
            "lola: {} {}; the capture was written and judged (--ignore-exit exits by the verdict alone)",
            lola::report::text::printable(&outcome.name()),
            outcome.ending
        );
        return Ok(Exit::Error);
    }
    Ok(Exit::verdict(outcome.report.passed()))
}

/// The expectation file read, every output made ready, then the program
/// run: a bad file or path stops exec before the program starts.
fn start(args: &ExecArgs, output: PathBuf, format: Format) -> Result<ExecOutcome, Error> {
    let set = match &args.expect_file {
        Some(path) => Some(ExpectationSet::read(path)?),
        None => None,
    };
    let options = ExecOptions {
        program: args.command.clone(),
        output,
        format,
        linger: args.linger,
        timeout: args.timeout,
        host: args.host,
        stdout_to_stderr: args.report.json,
        expectation: args.expect.expectation(),
        set,
        ignore_exit: args.ignore_exit,
        stdin: args.stdin,
        buffer_size: args.live.bytes(),
    };
    prepare_outputs([options.output.as_path()])?;
    check_report_path(args.html_report.as_deref())?;
    let name = options.program[0].to_string_lossy().into_owned();
    exec_with(&options, signals::install(), |notice| {
        let hint = match notice {
            Notice::Stopped { .. } => "; Ctrl-C ends it, --timeout bounds it, SIGCONT resumes it",
        };
        let _ = writeln!(io::stderr(), "lola: {name} is {notice}{hint}");
    })
}

/// The JUnit file of an interrupted run: the capture's cases as judged, and
/// an `<error>` saying the run was interrupted.
fn write_interrupted_junit(path: &std::path::Path, outcome: &ExecOutcome) -> Result<(), Error> {
    let suites = lola::report::junit::exec_suites(outcome)
        .into_iter()
        .map(|suite| Suite {
            time: STARTED.1.elapsed(),
            timestamp: Some(STARTED.0),
            error: Some(format!("{} {}", outcome.name(), outcome.ending)),
            ..suite
        })
        .collect::<Vec<_>>();
    write_junit_suites(path, &suites)
}

fn print_text(outcome: &ExecOutcome, color: bool) {
    out(format_args!("{} {}\n", outcome.name(), outcome.ending));
    out(format_args!(
        "captured on {}: {} {}; wrote {} ({}, {} bytes)\n",
        outcome.place,
        outcome.written.frames,
        frames_word(outcome.written.frames),
        outcome.output.display(),
        outcome.written.format,
        outcome.written.bytes
    ));
    if let Some(gap) = &outcome.capture_gap {
        out(format_args!("note: {gap}\n"));
    }
    match &outcome.report {
        CheckReport::Builtin(report) => out(report_text_in(report, color)),
        CheckReport::Set(report) => out(report),
    }
}

/// SIGINT and SIGTERM to lola end the program and its tree with the same
/// signal; the frames so far are still written and judged, and the run is an
/// error (exit 2).
mod signals {
    use super::{AtomicI32, Ordering};

    /// The signal lola received, 0 until one comes.
    static STOP: AtomicI32 = AtomicI32::new(0);

    extern "C" fn on_signal(signal: libc::c_int) {
        STOP.store(signal, Ordering::Relaxed);
        // An output waiting for a FIFO's reader gives up.
        lola::capture::interrupt();
    }

    pub fn install() -> &'static AtomicI32 {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
        &STOP
    }
}
