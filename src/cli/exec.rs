//! `lola exec`: run a program on a private lo, write what it put there,
//! check it; or, with nothing to check, record it and write an expectation
//! draft.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use lola::Error;
use lola::capture::Format;
use lola::check::expect::{
    CheckReport, ExpectationSet, RecordOptions, check_file_with_set, record_file,
};
use lola::check::flow::Flows;
use lola::harness::exec::{Ending, ExecOptions, ExecOutcome, Notice, exec_with};
use lola::report::DraftDocument;
use lola::report::junit::Suite;

use super::args::ExecArgs;
use super::output::{
    Exit, STARTED, frames_word, out, out_json, prepare_outputs, report_error, report_text_in,
    set_text_in, write_junit, write_junit_suites,
};
use super::pictures::{append_summary, check_report_path, flows_of, wants_summary, write_report};

/// The expectation file found in the working directory when no claim is given.
const CONFIG: &str = "lola.toml";

/// What exec judges the capture by.
enum Judge {
    /// The claim flags: the built-in check.
    Flags,
    /// `--expect FILE`.
    File(PathBuf),
    /// `./lola.toml`, found with no claim given.
    Config(PathBuf),
    /// Nothing: the capture is recorded, and a draft written here.
    Record(PathBuf),
}

impl Judge {
    /// `--expect`, else the claim flags, else `./lola.toml` (unless
    /// `--no-config`), else a draft beside the capture (or at `--record`).
    fn of(args: &ExecArgs, output: &Path) -> Judge {
        if let Some(path) = &args.expect_file {
            return Judge::File(path.clone());
        }
        if args.expect.claims() {
            return Judge::Flags;
        }
        let config = Path::new(CONFIG);
        if !args.no_config && args.record.is_none() && config.is_file() {
            return Judge::Config(config.to_path_buf());
        }
        Judge::Record(
            args.record
                .clone()
                .unwrap_or_else(|| output.with_extension("toml")),
        )
    }

    /// The report's title: the command and what judged it.
    fn title(&self, outcome: &ExecOutcome) -> String {
        let name = outcome.name();
        match self {
            Judge::Flags => format!("lola exec -- {name}"),
            Judge::File(path) => format!("lola exec --expect {} -- {name}", path.display()),
            Judge::Config(path) => {
                format!("lola exec -- {name} (expectations: {})", path.display())
            }
            Judge::Record(path) => format!("lola exec -- {name} (draft: {})", path.display()),
        }
    }
}

/// The draft written with no claim, and how it came out.
enum Draft {
    /// Written to this path.
    Written(PathBuf, usize),
    /// Not written, and why.
    Not(String),
}

pub fn run(args: ExecArgs) -> Result<Exit, Error> {
    super::draw::note_old_spelling("exec", "--count", "--exactly");
    let (output, format) = args.output();
    let judge = Judge::of(&args, &output);
    let outcome = match start(&args, &judge, output.clone(), format) {
        Ok(outcome) => outcome,
        Err(e) => {
            let file = output.display().to_string();
            let suite = format!("lola exec {file}");
            return Err(report_error(&args.report, &suite, &file, e)?);
        }
    };
    let mut outcome = outcome;
    let draft = match &judge {
        Judge::Record(path) => Some(draft(&mut outcome, path)?),
        _ => None,
    };
    // The capture is read again only for a picture or a draft's ladders.
    let pictured = args.pictures.report.is_some() || wants_summary(&args.pictures);
    let flows = match pictured || draft.is_some() {
        true => flows_of(&outcome.output)?,
        false => None,
    };
    pictures(&args, &judge, &outcome, flows.as_ref())?;
    if let Some(path) = &args.report.junit {
        if outcome.ending.interrupted() {
            write_interrupted_junit(path, &outcome)?;
        } else {
            write_junit(path, lola::report::junit::exec_suites(&outcome))?;
        }
    }
    if args.report.json {
        let draft = draft.as_ref().map(|d| match d {
            Draft::Written(path, n) => DraftDocument {
                path: Some(path.display().to_string()),
                expectations: *n,
                reason: None,
            },
            Draft::Not(why) => DraftDocument {
                path: None,
                expectations: 0,
                reason: Some(why.clone()),
            },
        });
        out_json(&outcome.to_json_with_draft(draft.as_ref())?);
    } else if !args.quiet {
        print_text(&outcome, &judge, args.color.color());
    }
    if let Judge::Config(path) = &judge
        && (args.quiet || args.report.json)
    {
        let _ = writeln!(io::stderr(), "lola: {}", config_line(path));
    }
    if let Some(draft) = &draft {
        if !args.report.json && !args.quiet {
            let color = args.color.color();
            print_recorded(&args, &outcome, flows.as_ref(), draft, color);
        }
        return Ok(Exit::Program(program_status(&outcome.ending)));
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
fn start(
    args: &ExecArgs,
    judge: &Judge,
    output: PathBuf,
    format: Format,
) -> Result<ExecOutcome, Error> {
    let set = match judge {
        Judge::File(path) | Judge::Config(path) => Some(ExpectationSet::read(path)?),
        // Judged by the draft once it is written.
        Judge::Record(_) => Some(ExpectationSet::empty()),
        Judge::Flags => None,
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
    if let Judge::Record(draft) = judge {
        refuse_to_replace_the_config(args, draft)?;
        prepare_outputs([draft.as_path()])?;
    }
    check_report_path(args.pictures.report.as_deref())?;
    let name = options.program[0].to_string_lossy().into_owned();
    let mut outcome = exec_with(&options, signals::install(), |notice| {
        let hint = match notice {
            Notice::Stopped { .. } => "; Ctrl-C ends it, --timeout bounds it, SIGCONT resumes it",
        };
        let _ = writeln!(io::stderr(), "lola: {name} is {notice}{hint}");
    })?;
    // A pcapng says, frame by frame, what the check made of it.
    let lost = outcome.report.lost();
    let (set, expectation) = (options.set.as_ref(), &options.expectation);
    super::annotate::written(
        &outcome.output,
        &mut outcome.written,
        set,
        expectation,
        lost,
    )?;
    Ok(outcome)
}

/// A draft named after the capture (`-o lola.pcap`) would replace the
/// `./lola.toml` that `--no-config` set aside: refused, never overwritten.
fn refuse_to_replace_the_config(args: &ExecArgs, draft: &Path) -> Result<(), Error> {
    let config = Path::new(CONFIG);
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if args.record.is_none() && config.is_file() && same(draft, config) {
        return Err(Error::Invalid(format!(
            "the draft would replace {CONFIG}, the expectation file in this directory; name the draft with --record FILE, or the capture with another -o"
        )));
    }
    Ok(())
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

/// Records the draft of what `outcome` captured at `path` (as `lola expect
/// record` would), and judges the capture by it, so that every report shows
/// what the draft claims.
fn draft(outcome: &mut ExecOutcome, path: &Path) -> Result<Draft, Error> {
    let regular = std::fs::metadata(&outcome.output).is_ok_and(|m| m.is_file());
    if !regular {
        return Ok(Draft::Not(format!(
            "{} is no regular file, and a draft is read from the capture; give -o a file name",
            outcome.output.display()
        )));
    }
    let set = match record_file(&outcome.output, &RecordOptions::default()) {
        Ok(set) => set,
        Err(e) => return Ok(Draft::Not(e.to_string())),
    };
    let capture = outcome.output.display().to_string();
    let text = set.to_toml(&format!(
        "Recorded by lola exec from {capture}, as lola expect record {capture} writes it.\n\
         Check it with: lola check --expect {} {capture}",
        path.display()
    ));
    lola::capture::write_file_atomically(path, text.as_bytes())?;
    outcome.report = CheckReport::Set(Box::new(check_file_with_set(&outcome.output, &set)?));
    Ok(Draft::Written(path.to_path_buf(), set.expects.len()))
}

/// The HTML report and the step summary: the built-in check's, or the
/// expectation file's (the draft's, with no claim).
fn pictures(
    args: &ExecArgs,
    judge: &Judge,
    outcome: &ExecOutcome,
    flows: Option<&Flows>,
) -> Result<(), Error> {
    let summary = wants_summary(&args.pictures);
    match &outcome.report {
        CheckReport::Builtin(report) => {
            if let Some(path) = &args.pictures.report {
                write_report(path, &lola::report::html::check(report, flows))?;
            }
            if summary {
                append_summary(&lola::report::markdown::check(report, flows));
            }
        }
        CheckReport::Set(report) => {
            let title = judge.title(outcome);
            if let Some(path) = &args.pictures.report {
                let html = lola::report::html::expectations(&title, report, flows);
                write_report(path, &html)?;
            }
            if summary {
                append_summary(&lola::report::markdown::expectations(&title, report, flows));
            }
        }
    }
    Ok(())
}

/// `expectations: lola.toml (...)`: the report says which file judged.
fn config_line(path: &Path) -> String {
    format!(
        "expectations: {}, found in the working directory (--no-config records a draft instead)",
        path.display()
    )
}

/// With no claim: the conversations, the draft, and the command that checks it.
fn print_recorded(
    args: &ExecArgs,
    outcome: &ExecOutcome,
    flows: Option<&Flows>,
    draft: &Draft,
    color: bool,
) {
    if let Some(flows) = flows {
        let name = outcome.output.display().to_string();
        out(super::flow::text(&name, flows, 80, color));
    }
    match draft {
        Draft::Written(path, n) => {
            let program: Vec<String> = args
                .command
                .iter()
                .map(|a| shell_word(&a.to_string_lossy()))
                .collect();
            out(format_args!(
                "draft: wrote {} ({n} {}, which this capture passes; lola expect record makes the same)\n\
                 check the program against it: lola exec --expect {} -- {}\n",
                path.display(),
                if *n == 1 {
                    "expectation"
                } else {
                    "expectations"
                },
                shell_word(&path.display().to_string()),
                program.join(" ")
            ));
        }
        Draft::Not(why) => out(format_args!("draft: none written: {why}\n")),
    }
}

/// A word as a POSIX shell reads it back: as it is when it is plain, else
/// in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The status the program ended with, as a shell reports it: its exit
/// status, 128 + N for signal N, 124 for a timeout (as timeout(1)).
fn program_status(ending: &Ending) -> u8 {
    match *ending {
        Ending::Exited(code) => u8::try_from(code & 0xff).unwrap_or(1),
        Ending::Killed(signal) | Ending::Interrupted(signal) => {
            u8::try_from(128 + (signal & 0x7f)).unwrap_or(255)
        }
        Ending::TimedOut(_) => 124,
    }
}

/// How the program ended, what was captured, and the verdict (with no
/// claim, the conversations and the draft follow instead).
fn print_text(outcome: &ExecOutcome, judge: &Judge, color: bool) {
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
    if let Judge::Config(path) = judge {
        out(format_args!("{}\n", config_line(path)));
    }
    match &outcome.report {
        _ if matches!(judge, Judge::Record(_)) => {}
        CheckReport::Builtin(report) => out(report_text_in(report, color)),
        CheckReport::Set(report) => out(set_text_in(report, color)),
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
