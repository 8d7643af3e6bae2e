//! `lola check`: captures against an expectation. Several files (or a
//! directory, or a quoted glob) are checked in parallel, one file per core,
//! and reported in argument order.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use lola::capture::CaptureReader;
use lola::capture::Drops;
use lola::check::expect::{CheckReport, ExpectationSet};
use lola::check::{Listing, Truncation, Verdict, check_reader_listing};
use lola::report::junit::Suite;
use lola::report::schema::{CheckDocument, CheckDocuments};
use lola::{Error, Expectation, Report};

use super::args::CheckArgs;
use super::check_expect::{self, Rows};
use super::output::{
    Exit, error_json, out, out_json, report_error, report_text_in, set_text_in, write_junit_suites,
};
use super::pictures::{append_summary, check_report_path, flows_of, wants_summary, write_report};

/// Files at least this large get a progress bar (on a terminal only).
const PROGRESS_FROM: u64 = 64 * 1024 * 1024;

/// What checking one file came to.
struct Checked {
    path: PathBuf,
    result: Result<CheckReport, Error>,
    started: SystemTime,
    took: Duration,
}

/// What every file is held against, and where its rows go.
struct Judge<'a> {
    expectation: Expectation,
    set: Option<&'a ExpectationSet>,
    truncated: Truncation,
    /// The most lines each frame list keeps (`--frames`, at least the
    /// report's usual [`LIST_CAP`](lola::check::LIST_CAP)).
    cap: usize,
    rows: Option<&'a Rows>,
    /// A progress bar for a large file (one file, a report on a terminal).
    progress: bool,
}

pub fn run(args: CheckArgs) -> Result<Exit, Error> {
    super::draw::note_old_spelling("check", "--count", "--exactly");
    let files = super::walk::expand(&args.files(), args.max_depth)?;
    if let Some(n) = args.frames {
        super::output::set_frames(n);
    }
    // A bad expectation file stops the check before any capture is read.
    // (its JUnit and JSON error reports are still written); `--truncated`
    // overrides the file's `truncated` setting.
    let set = match &args.expect_file {
        Some(path) => {
            let mut set = ExpectationSet::read(path).or_else(|e| {
                let file = path.display().to_string();
                Err(report_error(&args.report, "lola check", &file, e)?)
            })?;
            if let Some(policy) = args.truncated {
                set.truncated = policy;
            }
            Some(set)
        }
        None => None,
    };
    check_report_path(args.pictures.report.as_deref())?;
    if let Some(out) = &args.annotate {
        super::annotate::refuse(&files, out)?;
    }
    if args.pictures.report.is_some() && files.len() > 1 {
        return Err(Error::Invalid(
            "--report draws one capture: give one file, or one --report per lola check".into(),
        ));
    }
    let rows = match &args.emit {
        Some(emit) => Some(Rows::new(emit, files.len())?),
        None => None,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        })
        .min(jobs_within_open_file_limit());
    let single = files.len() == 1;
    // With --emit -, the rows are the standard output.
    let quiet = args.quiet || args.emit.as_deref() == Some(Path::new("-"));
    let judge = Judge {
        expectation: args.expect.expectation(),
        set: set.as_ref(),
        truncated: args.truncated.unwrap_or_default(),
        cap: args.frames.unwrap_or(0).max(lola::check::LIST_CAP),
        rows: rows.as_ref(),
        progress: single && !quiet && !args.report.json,
    };
    let mut checked: Vec<Checked> = Vec::with_capacity(files.len());
    check_all(&files, &judge, jobs, |c| {
        if !quiet && !args.report.json {
            show(&c, args.color.color());
        } else if let Err(e) = &c.result {
            super::output::error(e);
        }
        checked.push(c);
    });
    if let Some(rows) = rows {
        rows.finish(files.len(), checked.iter().all(|c| c.result.is_ok()))?;
    }
    pictures(&args, &checked)?;
    if let Some(out) = &args.annotate {
        let expectation = args.expect.expectation();
        super::annotate::checked(&files, out, set.as_ref(), &expectation, args.truncated)?;
    }
    if let Some(path) = &args.report.junit {
        let suites: Vec<Suite> = checked.iter().map(suite).collect();
        write_junit_suites(path, &suites)?;
    }
    if args.report.json {
        out_json(&json(&checked)?);
    } else if !quiet && !single {
        out(tally(&checked));
    }
    Ok(exit(&checked))
}

/// One file's report as text (with a hint when a flag would match), or its
/// error on stderr.
fn show(c: &Checked, color: bool) {
    match &c.result {
        Ok(CheckReport::Builtin(report)) => {
            let mut text = report_text_in(report, color);
            if let Some(hint) = port_hint(report) {
                text.push_str(&format!("  hint: {hint}\n"));
            }
            out(text);
        }
        Ok(CheckReport::Set(report)) => out(set_text_in(report, color)),
        Err(e) => super::output::error(e),
    }
}

/// The `--json` document: one file's report (or error) as it is, several
/// in one document.
fn json(checked: &[Checked]) -> Result<String, Error> {
    let mut docs: Vec<CheckDocument> = checked
        .iter()
        .map(|c| match &c.result {
            Ok(CheckReport::Builtin(report)) => CheckDocument::Report(report.clone()),
            Ok(CheckReport::Set(report)) => CheckDocument::Set(report.clone()),
            Err(e) => CheckDocument::Error(error_json(e, &c.path.display().to_string())),
        })
        .collect();
    Ok(match docs.len() {
        1 => serde_json::to_string_pretty(&docs.remove(0))?,
        _ => serde_json::to_string_pretty(&CheckDocuments {
            schema_version: lola::report::schema::SCHEMA_VERSION,
            verdict: verdict(checked),
            files: docs.len(),
            reports: docs,
        })?,
    })
}

/// The HTML report (one file) and the step summary (every file read).
fn pictures(args: &CheckArgs, checked: &[Checked]) -> Result<(), Error> {
    let summary = wants_summary(&args.pictures);
    if args.pictures.report.is_none() && !summary {
        return Ok(());
    }
    for c in checked {
        let Ok(report) = &c.result else {
            continue;
        };
        let flows = flows_of(&c.path)?;
        match report {
            CheckReport::Builtin(report) => {
                if let Some(path) = &args.pictures.report {
                    write_report(path, &lola::report::html::check(report, flows.as_ref()))?;
                }
                if summary {
                    append_summary(&lola::report::markdown::check(report, flows.as_ref()));
                }
            }
            CheckReport::Set(report) => {
                let file = args.expect_file.as_deref().unwrap_or(Path::new("-"));
                let title = format!("lola check --expect {}", file.display());
                if let Some(path) = &args.pictures.report {
                    let html = lola::report::html::expectations(&title, report, flows.as_ref());
                    write_report(path, &html)?;
                }
                if summary {
                    let md = lola::report::markdown::expectations(&title, report, flows.as_ref());
                    append_summary(&md);
                }
            }
        }
    }
    Ok(())
}

/// 2 if any file could not be read, else 1 if any failed, else 0.
fn exit(checked: &[Checked]) -> Exit {
    if checked.iter().any(|c| c.result.is_err()) {
        Exit::Error
    } else {
        Exit::verdict(
            checked
                .iter()
                .all(|c| c.result.as_ref().is_ok_and(CheckReport::passed)),
        )
    }
}

fn verdict(checked: &[Checked]) -> Verdict {
    match exit(checked) {
        Exit::Pass => Verdict::Pass,
        Exit::Fail => Verdict::Fail,
        Exit::Error | Exit::Program(_) => Verdict::Error,
    }
}

/// `4 files: 2 passed, 1 failed, 1 could not be read`.
fn tally(checked: &[Checked]) -> String {
    let passed = checked
        .iter()
        .filter(|c| c.result.as_ref().is_ok_and(CheckReport::passed))
        .count();
    let errors = checked.iter().filter(|c| c.result.is_err()).count();
    let failed = checked.len() - passed - errors;
    let mut line = format!("{} files: {passed} passed, {failed} failed", checked.len());
    if errors > 0 {
        line.push_str(&format!(", {errors} could not be read"));
    }
    line + "\n"
}

/// The JUnit suite of one file: named after the file as given, its cases
/// named after what was expected; the run's values in `<system-out>`.
fn suite(c: &Checked) -> Suite {
    let name = format!("lola check {}", c.path.display());
    let mut suite = match &c.result {
        Ok(report) => Suite {
            system_out: Some(system_out(report)),
            ..Suite::new(name, lola::report::junit::report_cases(report))
        },
        Err(e) => Suite::error(name, e.to_string()),
    };
    suite.time = c.took;
    suite.timestamp = Some(c.started);
    suite.with_property("capture", c.path.display().to_string())
}

/// A suite's `<system-out>`: the run's values in one line, and the frames
/// the capture admits it lost, when any (a claim they contradict fails in
/// its case; a minimum that passes says it here).
fn system_out(report: &CheckReport) -> String {
    let line = match report {
        CheckReport::Builtin(r) => format!(
            "{}: expected {}; {} matched in {} {}; verdict {}",
            r.file,
            r.expected,
            r.matched_count,
            r.frames,
            super::output::frames_word(r.frames as usize),
            r.verdict
        ),
        CheckReport::Set(r) => {
            let held = r.expectations.iter().filter(|e| e.verdict.passed()).count();
            format!(
                "{}: {held} of {} expectations held in {} {}; verdict {}",
                r.file,
                r.expectations.len(),
                r.frames,
                super::output::frames_word(r.frames as usize),
                r.verdict
            )
        }
    };
    let line = match report.lost() {
        Some(d) => format!(
            "{line}; the capture admits {} lost {} ({d})",
            d.total(),
            super::output::frames_word(d.total() as usize)
        ),
        None => line,
    };
    // The notes the text report prints, one a line, as a CI server shows them.
    let notes: Vec<String> = match report {
        CheckReport::Builtin(r) => r.notes.iter().map(|n| format!("note: {n}")).collect(),
        CheckReport::Set(r) => r.notes.iter().map(|n| format!("note: {n}")).collect(),
    };
    std::iter::once(line)
        .chain(notes)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Descriptors one check may hold at once: the capture, its mapping's
/// duplicate, an `--emit` part file, and one spare.
const FDS_PER_JOB: u64 = 4;

/// How many checks may run at once without running out of file
/// descriptors: the soft `RLIMIT_NOFILE` is first raised to the hard one (as
/// many tools do), then what is already open and a reserve for the reports
/// are set aside. Never less than 1: a worker waits for its turn rather than
/// failing a good capture with "too many open files".
fn jobs_within_open_file_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return usize::MAX;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return usize::MAX;
    }
    let open = std::fs::read_dir("/proc/self/fd").map_or(16, |d| d.count() as u64);
    let free = limit.rlim_cur.saturating_sub(open + 16);
    usize::try_from(free / FDS_PER_JOB)
        .unwrap_or(usize::MAX)
        .max(1)
}

/// Checks `files` on `jobs` threads and hands each result to `done` in the
/// order of `files`, as soon as it and all before it are done.
fn check_all(files: &[PathBuf], judge: &Judge<'_>, jobs: usize, mut done: impl FnMut(Checked)) {
    let check_one = |i: usize, path: &Path| {
        let started = SystemTime::now();
        let clock = Instant::now();
        let result = check_path(i, path, judge);
        Checked {
            path: path.to_path_buf(),
            result,
            started,
            took: clock.elapsed(),
        }
    };
    let jobs = jobs.clamp(1, files.len().max(1));
    if jobs == 1 {
        files
            .iter()
            .enumerate()
            .map(|(i, p)| check_one(i, p))
            .for_each(done);
        return;
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Checked)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, check_one) = (&next, &check_one);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    if tx.send((i, check_one(i, path))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Results arrive in any order; they leave in argument order.
        let mut waiting: Vec<Option<Checked>> = files.iter().map(|_| None).collect();
        let mut first = 0;
        for (i, c) in rx {
            waiting[i] = Some(c);
            while let Some(c) = waiting.get_mut(first).and_then(Option::take) {
                done(c);
                first += 1;
            }
        }
    });
}

/// The `i`th file (or `-`), held against what `judge` says, its rows out
/// with `--emit`.
fn check_path(i: usize, path: &Path, judge: &Judge<'_>) -> Result<CheckReport, Error> {
    let rows = judge.rows.map(|r| r.of(i));
    Ok(match (judge.set, rows) {
        (Some(set), rows) => CheckReport::Set(Box::new(check_expect::set_report_at(
            path,
            set,
            rows.as_deref(),
        )?)),
        (None, Some(rows)) => CheckReport::Builtin(Box::new(check_expect::check_and_emit(
            path,
            &judge.expectation,
            judge.truncated,
            &rows,
        )?)),
        (None, None) => CheckReport::Builtin(Box::new(builtin(
            path,
            &judge.expectation,
            Listing {
                truncated: judge.truncated,
                cap: judge.cap,
            },
            judge.progress,
        )?)),
    })
}

/// One file (or `-`) by the built-in check, with a progress bar on stderr
/// for a large file when stderr is a terminal; never on a pipe, in CI logs,
/// or with --quiet.
fn builtin(
    path: &Path,
    expectation: &Expectation,
    listing: Listing,
    progress: bool,
) -> Result<Report, Error> {
    let check = |reader, name: &str, progress: &mut dyn FnMut(u64)| {
        check_reader_listing(
            reader,
            name,
            expectation,
            listing,
            Drops::default(),
            progress,
        )
    };
    let name = path.display().to_string();
    if path == Path::new("-") {
        let stdin = io::stdin();
        let reader = CaptureReader::new(stdin.lock(), "-")?;
        return check_reader_listing(reader, "-", expectation, listing, Drops::default(), |_| {});
    }
    let reader = CaptureReader::open(path)?;
    let size = std::fs::metadata(path)
        .map(|m| if m.is_file() { m.len() } else { 0 })
        .unwrap_or(0);
    if !progress || size < PROGRESS_FROM || !io::stderr().is_terminal() {
        return check(reader, &name, &mut |_| {});
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("checking {}", lola::report::text::printable(&name)));
    let result = check(reader, &name, &mut |bytes| bar.set_position(bytes));
    bar.finish_and_clear();
    result
}

/// When nothing matched and the only UDP datagram that carries the expected
/// payload goes to another port, the flag that would match it.
fn port_hint(report: &Report) -> Option<String> {
    let e = &report.expectation;
    if report.passed() || report.matched_count > 0 || e.dst_port.is_none() {
        return None;
    }
    let mut candidates = report.near_misses.iter().filter(|l| l.protocol == "UDP");
    let line = candidates.next()?;
    let only_the_port =
        !line.reasons.is_empty() && line.reasons.iter().all(|r| r.starts_with("udp.dstport "));
    if candidates.next().is_some() || !only_the_port {
        return None;
    }
    let port = line.dst.port?;
    (Some(port) != e.dst_port).then(|| {
        format!(
            "the datagram in frame {} goes to port {port}; use --dst-port {port}",
            line.frame
        )
    })
}
