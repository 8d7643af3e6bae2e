//! `--annotate`: a pcapng copy of a capture whose frames carry, as comments,
//! what they did to the check (`lola check --annotate`), and the captures
//! `run`, `exec` and `capture` write as pcapng, commented in place once
//! judged.

use std::path::{Path, PathBuf};

use lola::Error;
use lola::Expectation;
use lola::capture::{Drops, Format, WriteSummary};
use lola::check::Truncation;
use lola::check::expect::ExpectationSet;
use lola::report::annotate::annotate_file;

/// The set the comments judge by: the expectation file when given, else
/// the built-in check's flags as a set (the engine the built-in check
/// runs), with `--truncated` as the check had it.
fn judged_by(
    set: Option<&ExpectationSet>,
    expectation: &Expectation,
    truncated: Option<Truncation>,
) -> ExpectationSet {
    let mut set = match set {
        Some(set) => set.clone(),
        None => ExpectationSet::from_expectation(expectation),
    };
    if let Some(policy) = truncated {
        set.truncated = policy;
    }
    set
}

/// Refuses, before any capture is read, what `--annotate OUT` cannot do:
/// several captures, standard input (read twice: to judge and to copy), an
/// `out` that cannot be written.
pub fn refuse(files: &[PathBuf], out: &Path) -> Result<(), Error> {
    let [capture] = files else {
        return Err(Error::Invalid(
            "--annotate copies one capture: give one file, or one --annotate per lola check".into(),
        ));
    };
    if capture == Path::new("-") {
        return Err(Error::Invalid(
            "--annotate reads the capture twice: give a file, not standard input".into(),
        ));
    }
    lola::capture::check_writable(out)
}

/// `lola check --annotate OUT FILE`: the one capture file ([`refuse`]d
/// otherwise), copied to `out` whole or not at all.
pub fn checked(
    files: &[PathBuf],
    out: &Path,
    set: Option<&ExpectationSet>,
    expectation: &Expectation,
    truncated: Option<Truncation>,
) -> Result<(), Error> {
    refuse(files, out)?;
    let capture = &files[0];
    let set = judged_by(set, expectation, truncated);
    annotate_file(capture, &set, Drops::default(), out)?;
    Ok(())
}

/// A capture lola wrote and judged, commented in place when it is a pcapng
/// file (a pcap has no place for comments; standard output, a FIFO or a
/// device cannot be read back): `summary` then says the new size. `lost`
/// is what the check admitted the capture lost.
pub fn written(
    path: &Path,
    summary: &mut WriteSummary,
    set: Option<&ExpectationSet>,
    expectation: &Expectation,
    lost: Option<Drops>,
) -> Result<(), Error> {
    if summary.format != Format::PcapNg || !path.is_file() {
        return Ok(());
    }
    let set = judged_by(set, expectation, None);
    annotate_file(path, &set, lost.unwrap_or_default(), path)?;
    if let Ok(meta) = std::fs::metadata(path) {
        summary.bytes = meta.len();
    }
    Ok(())
}
