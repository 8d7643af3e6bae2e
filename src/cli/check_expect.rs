//! `lola check --expect FILE` and `--emit FILE`: one capture against an
//! expectation file, or with one NDJSON row per frame.

use std::io::{self, Write};
use std::path::Path;

use lola::capture::CaptureReader;
use lola::check::expect::{ExpectationSet, SetReport, Sink, check_reader_with_set};
use lola::check::{Checker, Truncation};
use lola::fields::FrameView;
use lola::{Error, Expectation, Report};

use super::args::CheckArgs;
use super::output::{Exit, out, out_json, report_text_in, write_junit};

/// Checks `file` against `--expect`, or with `--emit`, as `lola check` would.
pub fn run(args: &CheckArgs, file: &Path) -> Result<Exit, Error> {
    if let Some(path) = &args.expect_file {
        let mut set = ExpectationSet::read(path)?;
        if let Some(policy) = args.truncated {
            set.truncated = policy;
        }
        return run_set(args, file, &set);
    }
    let expectation = args.expect.expectation();
    let emit = args.emit.as_deref().unwrap_or(Path::new("-"));
    let policy = args.truncated.unwrap_or_default();
    let report = check_and_emit(file, &expectation, policy, emit)?;
    let quiet = args.quiet || emit == Path::new("-");
    if let Some(path) = &args.report.junit {
        let suite = format!("lola check {}", file.display());
        write_junit(path, &[(suite, lola::junit::check_cases(&report))])?;
    }
    if args.report.json {
        out_json(&serde_json::to_string_pretty(&report)?);
    } else if !quiet {
        out(report_text_in(&report, args.color.color()));
    }
    Ok(Exit::verdict(report.passed()))
}

/// `--expect FILE`: the capture against an expectation file.
fn run_set(args: &CheckArgs, file: &Path, set: &ExpectationSet) -> Result<Exit, Error> {
    let name = file.display().to_string();
    let report = if file == Path::new("-") {
        let stdin = io::stdin();
        let reader = CaptureReader::new(stdin.lock(), "-")?;
        set_report(reader, &name, set, args.emit.as_deref())?
    } else {
        set_report(CaptureReader::open(file)?, &name, set, args.emit.as_deref())?
    };
    if let Some(path) = &args.report.junit {
        let suite = format!("lola check {}", file.display());
        write_junit(path, &[(suite, report.junit_cases())])?;
    }
    let quiet = args.quiet || args.emit.as_deref() == Some(Path::new("-"));
    if args.report.json {
        out_json(&serde_json::to_string_pretty(&report)?);
    } else if !quiet {
        out(&report);
    }
    Ok(Exit::verdict(report.passed()))
}

fn set_report<R: io::Read>(
    reader: CaptureReader<R>,
    name: &str,
    set: &ExpectationSet,
    emit: Option<&Path>,
) -> Result<SetReport, Error> {
    match emit {
        None => check_reader_with_set(reader, name, set, false, &mut |_, _| {}),
        Some(emit) => with_rows(emit, name, |sink| {
            check_reader_with_set(reader, name, set, true, sink)
        }),
    }
}

/// The built-in check with rows out: its engine decodes every frame and
/// hands each to the rows (whose `expect` names the set's `datagram`).
fn check_and_emit(
    path: &Path,
    expectation: &Expectation,
    policy: Truncation,
    emit: &Path,
) -> Result<Report, Error> {
    let name = path.display().to_string();
    let checker =
        |format| Checker::judging_every_frame(&name, format, expectation, true).truncation(policy);
    if path == Path::new("-") {
        let stdin = io::stdin();
        let reader = CaptureReader::new(stdin.lock(), "-")?;
        builtin_rows(reader, &name, checker, emit)
    } else {
        builtin_rows(CaptureReader::open(path)?, &name, checker, emit)
    }
}

fn builtin_rows<'e, R: io::Read>(
    mut reader: CaptureReader<R>,
    name: &str,
    checker: impl FnOnce(lola::capture::Format) -> Checker<'e>,
    emit: &Path,
) -> Result<Report, Error> {
    with_rows(emit, name, |sink| {
        let mut checker = checker(reader.format());
        let read = reader.for_each_frame(|frame| checker.observe_with(frame, sink));
        match read {
            Ok(()) => {}
            Err(Error::Truncated { offset, what, .. }) => checker.cut_short(offset, what),
            Err(e) => return Err(e),
        }
        checker.admit_drops(reader.drops());
        Ok(checker.finish(reader.notes()))
    })
}

/// Runs `work` with a sink writing NDJSON rows to `emit` (`-`: stdout); a
/// file is written whole (a temporary file renamed at the end) or not at all.
fn with_rows<T>(
    emit: &Path,
    name: &str,
    work: impl FnOnce(&mut Sink<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let emit_error = |e: io::Error| {
        Error::Invalid(format!(
            "--emit {}: {}",
            emit.display(),
            lola::error::describe_io(&e)
        ))
    };
    let to_stdout = emit == Path::new("-");
    let special = !to_stdout && std::fs::metadata(emit).is_ok_and(|m| !m.is_file() && !m.is_dir());
    let mut temp = None;
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(io::BufWriter::new(io::stdout().lock()))
    } else if special {
        Box::new(io::BufWriter::new(
            std::fs::OpenOptions::new()
                .write(true)
                .open(emit)
                .map_err(emit_error)?,
        ))
    } else {
        let target = std::fs::canonicalize(emit).unwrap_or_else(|_| emit.to_path_buf());
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => Path::new(".").to_path_buf(),
        };
        let file = tempfile::NamedTempFile::new_in(&dir).map_err(emit_error)?;
        let writer = file.reopen().map_err(emit_error)?;
        temp = Some((file, target));
        Box::new(io::BufWriter::with_capacity(1 << 20, writer))
    };
    let mut failed: Option<io::Error> = None;
    let result = {
        let mut sink = |v: &FrameView<'_, '_>, expect: &[&str]| {
            if failed.is_none()
                && let Err(e) = writeln!(out, "{}", lola::emit::row(name, v, expect))
            {
                failed = Some(e);
            }
        };
        work(&mut sink)?
    };
    let flushed = out.flush();
    drop(out);
    if let Some(e) = failed
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(emit_error(e));
    }
    flushed
        .or_else(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(emit_error)?;
    if let Some((file, target)) = temp {
        file.persist(&target).map_err(|e| emit_error(e.error))?;
    }
    Ok(result)
}
