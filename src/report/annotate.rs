//! Frame comments: what each frame did to the expectations, in the words a
//! pcapng carries as `opt_comment` and Wireshark shows as `frame.comment`
//! (`lola: reply ✓ (after request, 0.4 ms)`, `lola: FAIL forbid "tcp"`).
//!
//! The words come from the typed [`FrameMarks`] and the verdicts of the
//! [`SetReport`] of the same pass; a frame nothing names gets no comment.
//! `FAIL` marks exactly the frames that are evidence of a failed claim: a
//! frame a `forbid` rule or `exclusive` catches, one held past a maximum
//! count, one that matched a failed expectation but missed it, and the
//! frame that came closest to an expectation nothing held. So
//! `frame.comment contains "FAIL"` in Wireshark shows the evidence, and
//! `frame.comment contains "reply"` every frame that did something to
//! `reply`.

use std::io::BufReader;
use std::path::Path;
use std::time::Duration;

use crate::capture::{Annotated, Drops, Output, annotate_capture};
use crate::check::expect::{ExpectationSet, FrameMarks, Mark, SetReport, mark_file};
use crate::error::{Error, Result};

/// What every comment starts with, so that lola's comments are told from a
/// capture's own.
pub const PREFIX: &str = "lola: ";

/// A duration between frames as a comment gives it: `0.4 ms`, `12 µs`, `1.25 s`.
///
/// ```
/// use std::time::Duration;
/// use lola::report::annotate::gap;
/// assert_eq!(gap(Duration::from_micros(400)), "0.4 ms");
/// assert_eq!(gap(Duration::from_micros(12)), "12 µs");
/// assert_eq!(gap(Duration::from_millis(1250)), "1.25 s");
/// ```
pub fn gap(d: Duration) -> String {
    let ns = d.as_nanos();
    let trim = |x: f64, unit: &str| {
        let s = format!("{x:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        format!("{s} {unit}")
    };
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 100_000 {
        trim(ns as f64 / 1e3, "µs")
    } else if ns < 1_000_000_000 {
        trim(ns as f64 / 1e6, "ms")
    } else {
        trim(ns as f64 / 1e9, "s")
    }
}

/// The words of one mark, given the set and its report.
fn words(set: &ExpectationSet, report: &SetReport, mark: &Mark) -> String {
    let name = |i: usize| set.expects.get(i).map_or("?", |e| e.name.as_str());
    let failed = |i: usize| {
        report
            .expectations
            .get(i)
            .is_some_and(|e| !e.verdict.passed())
    };
    let missed = |i: usize| {
        if failed(i) {
            format!("FAIL {}", name(i))
        } else {
            format!("missed {}", name(i))
        }
    };
    match mark {
        Mark::Held {
            expect,
            after: None,
        } => format!("{} ✓", name(*expect)),
        Mark::Held {
            expect,
            after: Some(d),
        } => {
            let anchor = set.expects[*expect].after.map_or("?", name);
            format!("{} ✓ (after {anchor}, {})", name(*expect), gap(*d))
        }
        Mark::Excess { expect } => {
            let count = report.expectations.get(*expect).map_or("", |e| &e.count);
            format!(
                "FAIL {}: one more than the count allows (count {count})",
                name(*expect)
            )
        }
        Mark::Missed { expect, why } => format!("{}: {}", missed(*expect), why.join("; ")),
        Mark::Early { expect, anchor } => format!(
            "{}: before the first frame of {}",
            missed(*expect),
            name(*anchor)
        ),
        Mark::Closest { expect } => format!(
            "FAIL {}: nothing held it; this frame came closest",
            name(*expect)
        ),
        Mark::Forbidden { rule } => {
            let text = set.forbid.get(*rule).map_or("?", |f| f.text());
            format!("FAIL forbid {text:?}")
        }
        Mark::Unclaimed => "FAIL exclusive: claimed by no expectation".to_string(),
    }
}

/// Each marked frame's comment: [`PREFIX`], then what it did, `; ` between.
///
/// ```
/// use lola::check::expect::{mark_file, ExpectationSet};
/// use lola::report::annotate::comments;
/// let set = ExpectationSet::parse("x.toml", "[settings]\nforbid = ['udp.length > 10']\n\n[[expect]]\nname = 'hello'\nmatch = 'udp'\n").unwrap();
/// let (report, marks) = mark_file("fixtures/seed-ipv4.pcap".as_ref(), &set, Default::default()).unwrap();
/// assert_eq!(comments(&set, &report, &marks), [(1, r#"lola: hello ✓; FAIL forbid "udp.length > 10""#.to_string())]);
/// ```
pub fn comments(
    set: &ExpectationSet,
    report: &SetReport,
    marks: &FrameMarks,
) -> Vec<(u64, String)> {
    marks
        .frames
        .iter()
        .map(|(n, m)| {
            let parts: Vec<String> = m.iter().map(|m| words(set, report, m)).collect();
            (*n, format!("{PREFIX}{}", parts.join("; ")))
        })
        .collect()
}

/// What [`annotate_file`] did: the report of the pass that judged the
/// frames, and what was written.
#[derive(Clone, Debug)]
pub struct Annotation {
    /// The verdicts the comments give.
    pub report: SetReport,
    /// Frames copied and commented.
    pub written: Annotated,
}

/// Judges the capture at `capture` against `set` (admitting `drops`, as
/// [`check_file_with_set_admitting`](crate::check::expect::check_file_with_set_admitting)
/// does) and writes to `out`, whole or not at all, a pcapng copy whose
/// frames carry [`comments`]. `out` may be `capture` itself: the copy
/// replaces it only once whole.
pub fn annotate_file(
    capture: &Path,
    set: &ExpectationSet,
    drops: Drops,
    out: &Path,
) -> Result<Annotation> {
    let (report, marks) = mark_file(capture, set, drops)?;
    let comments = comments(set, &report, &marks);
    let input = std::fs::File::open(capture).map_err(|source| Error::Io {
        path: capture.to_path_buf(),
        source,
    })?;
    let mut output = Output::create(out)?;
    let mut next = comments.into_iter().peekable();
    let written = annotate_capture(BufReader::new(input), &mut output, |n| {
        while next.peek().is_some_and(|(m, _)| *m < n) {
            next.next();
        }
        next.next_if(|(m, _)| *m == n).map(|(_, text)| text)
    })
    .map_err(|source| Error::Io {
        path: capture.to_path_buf(),
        source,
    })?;
    output.finish()?;
    Ok(Annotation { report, written })
}
