//! The pictures a command leaves besides its text: the HTML report
//! (`--report FILE`) and the markdown summary appended to
//! `$GITHUB_STEP_SUMMARY` (unless `--no-summary`).

use std::io::{self, Write};
use std::path::Path;

use lola::Error;
use lola::capture::{CaptureReader, Output, write_file_atomically};
use lola::check::flow::Flows;

use super::args::PictureArgs;

/// Makes the report path ready before any work (its missing directories
/// made), refusing one that cannot be written.
pub fn check_report_path(path: Option<&Path>) -> Result<(), Error> {
    // Made ready as every other output is: missing parent directories made.
    super::output::prepare_outputs(path)
}

/// Writes the HTML report, whole or not at all.
pub fn write_report(path: &Path, html: &str) -> Result<(), Error> {
    write_file_atomically(path, html.as_bytes())
}

/// The conversations of a capture lola wrote or was given, for the
/// diagrams; `None` for standard input (read once, already consumed) and
/// anything else that is not a regular file.
pub fn flows_of(path: &Path) -> Result<Option<Flows>, Error> {
    // Standard output, a FIFO or a device: what was written there cannot
    // be read again.
    let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if lola::capture::is_standard_output(path) || !regular {
        return Ok(None);
    }
    // The report's ladders show what the data said.
    let reader = CaptureReader::open(path)?;
    Ok(Some(lola::check::flow::flows_with_payloads(reader)?))
}

/// Whether a step summary is wanted: `GITHUB_STEP_SUMMARY` names a file and
/// `--no-summary` was not given.
pub fn wants_summary(args: &PictureArgs) -> bool {
    !args.no_summary && std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|v| !v.is_empty())
}

/// Appends `markdown` to `$GITHUB_STEP_SUMMARY`, as GitHub's own actions
/// do. A summary that cannot be written is a warning on stderr, not a
/// failed check: the verdict stands.
pub fn append_summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return;
    };
    // Never a wait: a FIFO no one reads is a warning, not a hang.
    let path = Path::new(&path);
    let result = Output::append(path).and_then(|mut out| {
        out.write_all(format!("{markdown}\n").as_bytes())
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        out.finish()
    });
    if let Err(e) = result {
        let why = match &e {
            Error::Io { source, .. } => lola::error::describe_io(source),
            e => e.to_string(),
        };
        let _ = writeln!(
            io::stderr(),
            "lola: warning: GITHUB_STEP_SUMMARY={}: cannot append the summary: {why}; --no-summary skips it",
            lola::report::text::printable(&path.display().to_string())
        );
    }
}
