//! `lola diff`: a capture against a golden one, frame by frame and field by
//! field, ignoring timestamps and what legitimately varies between runs.

use std::collections::BTreeSet;
use std::path::Path;

use crate::capture::CaptureReader;
use crate::check::frame_diff::{DiffRules, FieldDiff, Status, diff_frames};
use crate::check::report::Verdict;
use crate::error::Result;
use crate::packet::decode::decode;
use crate::packet::summary::summarize;

/// Frames listed per report (counts stay exact).
pub const MAX_LISTED: usize = 50;

/// How one frame differs.
///
/// ```
/// use lola::check::golden::{diff_files, FrameDiff};
/// let (golden, new) = ("fixtures/seed-ipv4.pcap", "fixtures/seed-ipv4-twice.pcap");
/// let report = diff_files(golden.as_ref(), new.as_ref(), &Default::default()).unwrap();
/// let extra = FrameDiff::Extra { frame: 2, summary: "UDP 127.0.0.1:56414 → 127.0.0.1:7456 Len=10".into() };
/// assert_eq!(report.differences, [extra]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum FrameDiff {
    /// Both files have the frame; these fields differ.
    Changed {
        /// 1-based frame number.
        frame: u64,
        /// The fields that differ unexpectedly.
        fields: Vec<FieldDiff>,
    },
    /// Only the expected file has it.
    Missing {
        /// 1-based frame number.
        frame: u64,
        /// What the frame is.
        summary: String,
    },
    /// Only the actual file has it.
    Extra {
        /// 1-based frame number.
        frame: u64,
        /// What the frame is.
        summary: String,
    },
}

/// Whether two captures are the same under the rules.
///
/// ```
/// use lola::check::golden::DiffVerdict;
/// assert_eq!(serde_json::to_string(&DiffVerdict::Same).unwrap(), r#""same""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiffVerdict {
    /// Equal field by field, but for what the rules allow.
    Same,
    /// Some frame differs.
    Different,
}

/// The result of a diff.
///
/// ```
/// let (golden, new) = ("fixtures/seed-ipv4.pcap", "fixtures/seed-ipv4-twice.pcap");
/// let report = lola::check::golden::diff_files(golden.as_ref(), new.as_ref(), &Default::default()).unwrap();
/// use lola::check::golden::DiffVerdict;
/// assert_eq!((report.result, report.expected_frames, report.actual_frames), (DiffVerdict::Different, 1, 2));
/// assert_eq!(report.verdict, lola::check::Verdict::Fail);
/// assert_eq!(report.differing, 1);
/// assert!(report.to_string().starts_with("FAIL fixtures/seed-ipv4.pcap and fixtures/seed-ipv4-twice.pcap: different"));
/// ```
#[derive(Clone, Debug, serde::Serialize, schemars::JsonSchema)]
pub struct DiffReport {
    /// Version of this JSON schema.
    pub schema_version: u32,
    /// The golden capture.
    pub expected: String,
    /// The capture under test.
    pub actual: String,
    /// `pass` when the captures are the same under the rules, else `fail`:
    /// the verdict word of every JSON document.
    pub verdict: Verdict,
    /// Same or different: the finding behind the verdict.
    pub result: DiffVerdict,
    /// Frames in the golden capture.
    pub expected_frames: u64,
    /// Frames in the capture under test.
    pub actual_frames: u64,
    /// Frames that differ (all of them).
    pub differing: u64,
    /// The differences, at most [`MAX_LISTED`] frames.
    pub differences: Vec<FrameDiff>,
    /// Fields that differed where that is allowed, with why.
    pub allowed: Vec<String>,
}

impl DiffReport {
    /// True when the captures are the same under the rules.
    ///
    /// ```
    /// use lola::check::golden::diff_files;
    /// // lola's golden frame against tcpdump's: only what varies between runs differs.
    /// let (golden, new) = ("fixtures/hello-lola.pcap", "fixtures/seed-ipv4.pcap");
    /// let report = diff_files(golden.as_ref(), new.as_ref(), &Default::default()).unwrap();
    /// assert!(report.same(), "{report}");
    /// ```
    pub fn same(&self) -> bool {
        self.differing == 0
    }
}

/// One line describing a frame: `UDP 127.0.0.1:40000 → 127.0.0.1:7456 Len=10`.
///
/// ```
/// # let d = lola::Datagram::new(
/// #     "127.0.0.1:40000".parse().unwrap(),
/// #     "127.0.0.1:7456".parse().unwrap(),
/// #     b"Hello Lola".to_vec(),
/// # );
/// use lola::check::golden::describe_frame;
/// let frame = lola::build_frame(&d).unwrap();
/// assert_eq!(describe_frame(1, &frame), "UDP 127.0.0.1:40000 → 127.0.0.1:7456 Len=10");
/// assert_eq!(describe_frame(1, &[0u8; 60]), "60 bytes");
/// ```
pub fn describe_frame(link_type: u32, data: &[u8]) -> String {
    summarize(&decode(link_type, data, data.len())).line(data.len())
}

fn first_ports(link_type: u32, data: &[u8]) -> Option<(u16, u16)> {
    decode(link_type, data, data.len())
        .endpoints()
        .map(|(s, d)| (s.port(), d.port()))
}

/// Compares `actual` against the golden `expected`.
///
/// ```
/// use std::path::Path;
/// use lola::check::frame_diff::DiffRules;
/// use lola::check::golden::diff_files;
/// let (golden, new) = (Path::new("fixtures/hello-lola.pcap"), Path::new("fixtures/seed-ipv4.pcap"));
/// assert!(diff_files(golden, new, &DiffRules::default()).unwrap().same());
/// let exact = DiffRules { exact: true, ..DiffRules::default() };
/// let report = diff_files(golden, new, &exact).unwrap();
/// assert_eq!(report.differing, 1, "{report}");
/// ```
pub fn diff_files(expected: &Path, actual: &Path, rules: &DiffRules) -> Result<DiffReport> {
    let mut left = CaptureReader::open(expected)?;
    let mut right = CaptureReader::open(actual)?;
    let (lname, rname) = (expected.display().to_string(), actual.display().to_string());
    let mut report = DiffReport {
        schema_version: crate::SCHEMA_VERSION,
        expected: lname.clone(),
        actual: rname.clone(),
        verdict: Verdict::Pass,
        result: DiffVerdict::Same,
        expected_frames: 0,
        actual_frames: 0,
        differing: 0,
        differences: Vec::new(),
        allowed: Vec::new(),
    };
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    let mut first = [None, None];
    loop {
        // Own the left frame: both readers lend from their own buffers.
        let l = left
            .next_frame()?
            .map(|f| (f.number, f.link_type, f.data.to_vec()));
        let r = right.next_frame()?;
        let push = |d: FrameDiff, report: &mut DiffReport| {
            report.differing += 1;
            if report.differences.len() < MAX_LISTED {
                report.differences.push(d);
            }
        };
        match (l, r) {
            (None, None) => break,
            (Some((n, lt, data)), None) => {
                report.expected_frames += 1;
                push(
                    FrameDiff::Missing {
                        frame: n,
                        summary: describe_frame(lt, &data),
                    },
                    &mut report,
                );
            }
            (None, Some(f)) => {
                report.actual_frames += 1;
                push(
                    FrameDiff::Extra {
                        frame: f.number,
                        summary: describe_frame(f.link_type, f.data),
                    },
                    &mut report,
                );
            }
            (Some((n, lt, data)), Some(f)) => {
                report.expected_frames += 1;
                report.actual_frames += 1;
                if n == 1 {
                    first = [first_ports(lt, &data), first_ports(f.link_type, f.data)];
                }
                let c = diff_frames(rules, (lt, &data), (f.link_type, f.data), first);
                for field in &c.fields {
                    if let Status::Expected(why) = field.status {
                        allowed.insert(format!("{} ({why})", field.field));
                    }
                }
                let fields: Vec<FieldDiff> = c.unexpected().cloned().collect();
                if !fields.is_empty() {
                    push(FrameDiff::Changed { frame: n, fields }, &mut report);
                }
            }
        }
    }
    report.allowed = allowed.into_iter().collect();
    if !report.same() {
        report.result = DiffVerdict::Different;
        report.verdict = Verdict::Fail;
    }
    Ok(report)
}
