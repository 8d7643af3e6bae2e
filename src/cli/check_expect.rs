//! `lola check --expect FILE` and `--emit FILE`: a capture against an
//! expectation file, or with one NDJSON row per frame; and `--expect` of
//! the commands that write a capture and check it.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use lola::capture::CaptureReader;
use lola::check::expect::{ExpectationSet, SetReport, Sink, check_reader_with_set};
use lola::check::{Checker, Truncation};
use lola::packet::fields::FrameView;
use lola::{Error, Expectation, Report};

/// `--expect FILE` of a command that writes a capture and then checks it
/// (`run`, `capture`), read and validated before anything starts; refused
/// when the capture goes to standard output, where it cannot be read again.
pub fn expectation_file(
    path: Option<&Path>,
    output: &Path,
) -> Result<Option<ExpectationSet>, Error> {
    match path {
        None => Ok(None),
        Some(_) if lola::capture::is_standard_output(output) => Err(Error::Invalid(
            "--expect checks the written capture again: give -o a file name".into(),
        )),
        // A FIFO or a device cannot be read back either.
        Some(_) if std::fs::metadata(output).is_ok_and(|m| !m.is_file() && !m.is_dir()) => {
            Err(Error::Invalid(format!(
                "--expect checks the written capture again: {} is no regular file; give -o a file name",
                output.display()
            )))
        }
        Some(path) => ExpectationSet::read(path).map(Some),
    }
}

/// The capture `file` (`-`: standard input) against `set`, its rows to
/// `emit` when given.
pub fn set_report_at(
    file: &Path,
    set: &ExpectationSet,
    emit: Option<&Path>,
) -> Result<SetReport, Error> {
    let name = file.display().to_string();
    if file == Path::new("-") {
        let stdin = io::stdin();
        let reader = CaptureReader::new(stdin.lock(), "-")?;
        set_report(reader, &name, set, emit)
    } else {
        set_report(CaptureReader::open(file)?, &name, set, emit)
    }
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
pub fn check_and_emit(
    path: &Path,
    expectation: &Expectation,
    policy: Truncation,
    emit: &Path,
) -> Result<Report, Error> {
    let name = path.display().to_string();
    let checker = |format| Checker::every_frame(&name, format, expectation).truncation(policy);
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
    let mut rows = RowsOut::open(emit)?;
    let mut failed: Option<io::Error> = None;
    let mut writer = lola::report::emit::RowWriter::default();
    let result = {
        let mut sink = |v: &FrameView<'_, '_>, expect: &[&str]| {
            if failed.is_none()
                && let Err(e) = writer.write(&mut rows.out, name, v, expect)
            {
                failed = Some(e);
            }
        };
        work(&mut sink)?
    };
    rows.finish(failed)?;
    Ok(result)
}

/// Where `--emit` rows go while several captures are checked: each file's
/// rows to a file of their own in a private directory (so that files checked
/// at once never interleave, and memory stays bounded by one frame), joined
/// in file order at the end. With one capture they go straight to `--emit`.
pub struct Rows {
    emit: PathBuf,
    spill: Option<lola::capture::NumberedDir>,
}

impl Rows {
    /// Rows for `files` captures, to `emit`.
    pub fn new(emit: &Path, files: usize) -> Result<Rows, Error> {
        // Refused before any capture is read: a path that cannot be
        // written, or a link or file another user planted in a shared
        // directory.
        lola::capture::check_writable(emit).map_err(|e| match e {
            Error::Io { source, .. } => emit_error(emit, &source),
            e => e,
        })?;
        let spill = if files > 1 {
            let dir = emit_dir(emit).unwrap_or_else(std::env::temp_dir);
            let parts = lola::capture::NumberedDir::create_in(&dir, files, ".ndjson");
            Some(parts.map_err(|e| emit_error(emit, &e))?)
        } else {
            None
        };
        Ok(Rows {
            emit: emit.to_path_buf(),
            spill,
        })
    }

    /// Where the rows of the `i`th capture go.
    pub fn of(&self, i: usize) -> PathBuf {
        match &self.spill {
            Some(dir) => dir.file(i),
            None => self.emit.clone(),
        }
    }

    /// Joins the rows of the `files` captures into `--emit`, whole or not at
    /// all: when one of them could not be read (`all_read` false), nothing
    /// is written, and a line on stderr says so.
    pub fn finish(self, files: usize, all_read: bool) -> Result<(), Error> {
        if self.spill.is_none() {
            return Ok(());
        }
        if !all_read {
            let _ = writeln!(
                io::stderr(),
                "lola: --emit {}: not written, as a capture could not be read",
                lola::report::text::printable(&self.emit.display().to_string())
            );
            return Ok(());
        }
        let mut rows = RowsOut::open(&self.emit)?;
        let mut failed = None;
        for i in 0..files {
            let part = std::fs::File::open(self.of(i));
            if let Err(e) = part.and_then(|mut part| io::copy(&mut part, &mut rows.out)) {
                failed = Some(e);
                break;
            }
        }
        rows.finish(failed)
    }
}

/// `--emit PATH: what went wrong`.
fn emit_error(emit: &Path, e: &io::Error) -> Error {
    Error::Invalid(format!(
        "--emit {}: {}",
        emit.display(),
        lola::error::describe_io(e)
    ))
}

/// The directory a rows file is written in (through a temporary file
/// there); none for standard output or a device, FIFO or socket, which are
/// written in place.
fn emit_dir(emit: &Path) -> Option<PathBuf> {
    let special = std::fs::metadata(emit).is_ok_and(|m| !m.is_file() && !m.is_dir());
    if emit == Path::new("-") || special {
        return None;
    }
    let target = std::fs::canonicalize(emit).unwrap_or_else(|_| emit.to_path_buf());
    Some(match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    })
}

/// An NDJSON output being written: standard output, a special file in
/// place, or a temporary file renamed over the target when finished (and
/// removed if lola is interrupted first).
struct RowsOut {
    emit: PathBuf,
    out: lola::capture::Output,
}

impl RowsOut {
    fn open(emit: &Path) -> Result<RowsOut, Error> {
        let out = lola::capture::Output::create_or_stdout(emit).map_err(|e| match e {
            Error::Io { source, .. } => emit_error(emit, &source),
            e => e,
        })?;
        Ok(RowsOut {
            emit: emit.to_path_buf(),
            out,
        })
    }

    /// Flushes, and renames the temporary file into place unless writing
    /// `failed`; a closed pipe on standard output is not an error.
    fn finish(self, failed: Option<io::Error>) -> Result<(), Error> {
        let RowsOut { emit, out } = self;
        if let Some(e) = failed
            && e.kind() != io::ErrorKind::BrokenPipe
        {
            return Err(emit_error(&emit, &e));
        }
        match out.finish() {
            Err(Error::Io { source, .. }) if source.kind() != io::ErrorKind::BrokenPipe => {
                Err(emit_error(&emit, &source))
            }
            Err(Error::Io { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
