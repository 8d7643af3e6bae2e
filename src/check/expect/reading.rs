//! The engine driven over a capture: a file, standard input or any reader,
//! with what the capture (or the kernel that recorded it) admits it lost
//! and where it was cut short.

use std::io::Read;
use std::path::Path;

use super::ExpectationSet;
use super::engine::{SetChecker, Sink};
use super::marks::FrameMarks;
use super::outcome::SetReport;
use crate::capture::{CaptureReader, Drops, RawFrame, Visit};
use crate::error::Result;
use crate::packet::fields::FrameView;

/// Checks a capture from any reader against `set`, handing every decoded
/// frame to `sink`; `every_frame` turns the fast path off (for emitters).
/// Frames the capture admits it lost, and a cut at its end, are taken into
/// account ([`SetChecker::admit_drops`], [`SetChecker::cut_short`]).
pub fn check_reader_with_set<R: Read>(
    reader: CaptureReader<R>,
    name: &str,
    set: &ExpectationSet,
    every_frame: bool,
    sink: &mut Sink<'_>,
) -> Result<SetReport> {
    check_reader_with_set_admitting(reader, name, set, every_frame, Drops::default(), sink)
}

pub(super) fn check_reader_with_set_admitting<R: Read>(
    reader: CaptureReader<R>,
    name: &str,
    set: &ExpectationSet,
    every_frame: bool,
    drops: Drops,
    sink: &mut Sink<'_>,
) -> Result<SetReport> {
    let mut checker = SetChecker::new(name, reader.format(), set, every_frame);
    checker.admit_drops(drops);
    Ok(drive(reader, checker, sink)?.0)
}

/// Every frame of `reader` through `checker`, a cut at the end taken into
/// account, to its report (and marks).
fn drive<R: Read>(
    mut reader: CaptureReader<R>,
    mut checker: SetChecker,
    sink: &mut Sink<'_>,
) -> Result<(SetReport, FrameMarks)> {
    let read = reader.visit_frames(&mut Observe {
        checker: &mut checker,
        sink,
    });
    match read {
        Ok(()) => {}
        Err(crate::Error::Truncated { offset, what, .. }) => checker.cut_short(offset, what),
        Err(e) => return Err(e),
    }
    checker.admit_drops(reader.drops());
    Ok(checker.finish_marked(reader.notes()))
}

/// Checks the capture at `path` (`-`: standard input) against `set`.
pub fn check_file_with_set(path: &Path, set: &ExpectationSet) -> Result<SetReport> {
    check_file_with_set_admitting(path, set, Drops::default())
}

/// Checks the capture at `path` against `set`, admitting `drops` besides
/// what the file admits: for a capture lola recorded itself, the frames the
/// kernel reported it dropped ([`Drops::by_kernel`]), which a pcap file has
/// no place for. A pcapng that repeats the kernel's count in its statistics
/// is not counted twice ([`SetChecker::admit_drops`]).
///
/// ```
/// use lola::capture::Drops;
/// use lola::check::expect::{check_file_with_set_admitting, ExpectationSet};
/// let set = ExpectationSet::parse("x.toml", "[[expect]]\nname = 'one'\nmatch = 'udp'\ncount = '== 1'\n").unwrap();
/// let seed = "fixtures/seed-ipv4.pcap".as_ref();
/// let report = check_file_with_set_admitting(seed, &set, Drops::by_kernel(7)).unwrap();
/// assert!(!report.passed());
/// assert_eq!(report.lost.map(|d| d.total()), Some(7));
/// assert!(report.expectations[0].failures[0].starts_with("the capture admits 7 lost frames (the kernel dropped 7 while capturing)"));
/// ```
pub fn check_file_with_set_admitting(
    path: &Path,
    set: &ExpectationSet,
    drops: Drops,
) -> Result<SetReport> {
    let mut sink = |_: &FrameView<'_, '_>, _: &[&str]| {};
    if path == Path::new("-") {
        let stdin = std::io::stdin();
        let reader = CaptureReader::new(stdin.lock(), "-")?;
        return check_reader_with_set_admitting(reader, "-", set, false, drops, &mut sink);
    }
    let reader = CaptureReader::open(path)?;
    let name = path.display().to_string();
    check_reader_with_set_admitting(reader, &name, set, false, drops, &mut sink)
}

/// Checks the capture at `path` against `set`, admitting `drops` as
/// [`check_file_with_set_admitting`] does, and says what each frame did to
/// it ([`FrameMarks`]): for per-frame words such as a pcapng's comments.
///
/// ```
/// use lola::check::expect::{mark_file, ExpectationSet, Mark};
/// let set = ExpectationSet::parse("x.toml", "[[expect]]\nname = 'one'\nmatch = 'udp'\n").unwrap();
/// let (report, marks) = mark_file("fixtures/seed-ipv4.pcap".as_ref(), &set, Default::default()).unwrap();
/// assert!(report.passed());
/// assert_eq!(marks.of(1), Some(&[Mark::Held { expect: 0, after: None }][..]));
/// ```
pub fn mark_file(
    path: &Path,
    set: &ExpectationSet,
    drops: Drops,
) -> Result<(SetReport, FrameMarks)> {
    let reader = CaptureReader::open(path)?;
    let name = path.display().to_string();
    let mut checker = SetChecker::new(&name, reader.format(), set, false);
    checker.mark_frames();
    checker.admit_drops(drops);
    drive(reader, checker, &mut |_, _| {})
}

/// The checker's side of the reading loop, inlined into it.
struct Observe<'c, 's, 'k> {
    checker: &'c mut SetChecker,
    sink: &'s mut Sink<'k>,
}

impl Visit for Observe<'_, '_, '_> {
    #[inline(always)]
    fn frame(&mut self, frame: &RawFrame<'_>) {
        self.checker.observe(frame, self.sink);
    }
}
