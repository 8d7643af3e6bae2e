//! `lola check`: a capture against an expectation.

use std::io::{self, IsTerminal};
use std::path::Path;

use lola::capture::CaptureReader;
use lola::check::check_reader_with_progress;
use lola::{Error, Expectation, Report};

use super::args::CheckArgs;
use super::output::{Exit, out, out_json, report_text, write_junit};
use super::pictures::{append_summary, check_report_path, flows_of, wants_summary, write_report};

/// Files at least this large get a progress bar (on a terminal only).
const PROGRESS_FROM: u64 = 64 * 1024 * 1024;

pub fn run(args: CheckArgs) -> Result<Exit, Error> {
    let expectation = args.expect.expectation();
    check_report_path(args.pictures.report.as_deref())?;
    let report = check_with_progress(&args.file, &expectation, args.quiet)?;
    let summary = wants_summary(&args.pictures);
    if args.pictures.report.is_some() || summary {
        let flows = flows_of(&args.file)?;
        if let Some(path) = &args.pictures.report {
            write_report(path, &lola::render::html::check(&report, flows.as_ref()))?;
        }
        if summary {
            append_summary(&lola::render::markdown::check(&report, flows.as_ref()));
        }
    }
    if let Some(path) = &args.report.junit {
        let suite = format!("lola check {}", args.file.display());
        write_junit(path, &[(suite, lola::junit::check_cases(&report))])?;
    }
    if args.report.json {
        out_json(&serde_json::to_string_pretty(&report)?);
    } else if !args.quiet {
        out(report_text(&report));
    }
    Ok(Exit::verdict(report.passed()))
}

/// `check_file`, with a progress bar on stderr for large files when stderr is
/// a terminal; never on a pipe, in CI logs, or with --quiet.
fn check_with_progress(
    path: &Path,
    expectation: &Expectation,
    quiet: bool,
) -> Result<Report, Error> {
    let size = std::fs::metadata(path)
        .map(|m| if m.is_file() { m.len() } else { 0 })
        .unwrap_or(0);
    if quiet || size < PROGRESS_FROM || !io::stderr().is_terminal() {
        return lola::check_file(path, expectation);
    }
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("checking {}", path.display()));
    let reader = CaptureReader::open(path)?;
    let result =
        check_reader_with_progress(reader, &path.display().to_string(), expectation, |bytes| {
            bar.set_position(bytes)
        });
    bar.finish_and_clear();
    result
}
