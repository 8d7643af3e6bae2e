//! JUnit XML reports, so GitLab, Jenkins and GitHub test reporters show
//! lola's verdicts: one test case per expectation, failures carrying the
//! message.

use std::fmt::Write as _;

use crate::check::{Failure, FrameLine, Report};
use crate::diff::{DiffReport, FrameDiff};

/// One test case.
///
/// ```
/// use lola::junit::{check_cases, Case};
/// let report = lola::check_file("fixtures/seed-ipv4.pcap".as_ref(), &lola::Expectation::seed()).unwrap();
/// let cases = check_cases(&report);
/// let name = r#"exactly 1 datagram to port 7456 carrying "Hello Lola""#.to_string();
/// assert_eq!(cases[0], Case { name, failure: None });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// What was expected, as a test name.
    pub name: String,
    /// `None` when it passed; the message when it failed.
    pub failure: Option<String>,
}

/// The test cases of a check: the datagram count, the matching of every
/// datagram on the expected endpoints, and the absence of TCP there.
///
/// ```
/// let report = lola::check_file("fixtures/seed-tcp.pcap".as_ref(), &lola::Expectation::seed()).unwrap();
/// let cases = lola::junit::check_cases(&report);
/// assert_eq!(cases.len(), 3);
/// assert!(cases[2].failure.as_deref().unwrap().contains("handshake"));
/// ```
pub fn check_cases(report: &Report) -> Vec<Case> {
    let find = |wanted: fn(&Failure) -> bool| {
        let found: Vec<String> = report
            .failures
            .iter()
            .filter(|f| wanted(f))
            .map(ToString::to_string)
            .collect();
        (!found.is_empty()).then(|| found.join("; "))
    };
    let details = |lines: &[FrameLine]| lines.iter().map(|l| format!("\n{l}")).collect::<String>();
    let case = |name: String, failure: Option<String>, lines: &[FrameLine]| Case {
        name,
        failure: failure.map(|f| format!("{f}{}", details(lines))),
    };
    vec![
        case(
            report.expected.clone(),
            find(Failure::about_count),
            &report.near_misses,
        ),
        case(
            "every datagram on the expected endpoints matches".into(),
            find(|f| matches!(f, Failure::Mismatched { .. })),
            &report.offending,
        ),
        case(
            "no TCP segment on the expected endpoints".into(),
            find(Failure::about_tcp),
            &report.tcp,
        ),
    ]
}

/// The test cases of a diff: one per frame that differs, or one saying the
/// captures are the same.
///
/// ```
/// let (golden, new) = ("fixtures/seed-ipv4.pcap", "fixtures/seed-ipv4-twice.pcap");
/// let report = lola::diff::diff_files(golden.as_ref(), new.as_ref(), &Default::default()).unwrap();
/// let cases = lola::junit::diff_cases(&report);
/// assert_eq!(cases.len(), 2); // the frame count, then frame 2
/// assert_eq!(cases[1].name, "frame 2");
/// let failure = cases[1].failure.as_deref().unwrap();
/// assert!(failure.starts_with("extra in fixtures/seed-ipv4-twice.pcap: UDP"), "{failure}");
/// ```
pub fn diff_cases(report: &DiffReport) -> Vec<Case> {
    let mut cases = vec![Case {
        name: format!(
            "frame count of {} equals {}",
            report.actual, report.expected
        ),
        failure: (report.expected_frames != report.actual_frames).then(|| {
            format!(
                "{} frames in {}, {} in {}",
                report.expected_frames, report.expected, report.actual_frames, report.actual
            )
        }),
    }];
    for d in &report.differences {
        let (name, failure) = match d {
            FrameDiff::Changed { frame, fields } => (
                format!("frame {frame}"),
                fields
                    .iter()
                    .map(|f| format!("{} {} → {}", f.field, f.left, f.right))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            FrameDiff::Missing { frame, summary } => (
                format!("frame {frame}"),
                format!("missing in {}: {summary}", report.actual),
            ),
            FrameDiff::Extra { frame, summary } => (
                format!("frame {frame}"),
                format!("extra in {}: {summary}", report.actual),
            ),
        };
        cases.push(Case {
            name,
            failure: Some(failure),
        });
    }
    if report.same() {
        cases.push(Case {
            name: format!(
                "{} equals {} field by field",
                report.actual, report.expected
            ),
            failure: None,
        });
    }
    cases
}

/// A JUnit XML document with one `<testsuite>` per `(name, cases)`.
///
/// ```
/// use lola::junit::{Case, to_xml};
/// let xml = to_xml(&[("lola check a.pcap", vec![Case { name: "x < y".into(), failure: None }])]);
/// assert!(xml.contains(r#"<testcase name="x &lt; y" classname="lola check a.pcap"/>"#));
/// ```
pub fn to_xml(suites: &[(&str, Vec<Case>)]) -> String {
    let tests: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites
        .iter()
        .map(|(_, c)| c.iter().filter(|x| x.failure.is_some()).count())
        .sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        r#"<testsuites name="lola" tests="{tests}" failures="{failures}" errors="0">"#
    );
    for (suite, cases) in suites {
        let f = cases.iter().filter(|x| x.failure.is_some()).count();
        let _ = writeln!(
            xml,
            r#"  <testsuite name="{}" tests="{}" failures="{f}" errors="0" skipped="0">"#,
            escape(suite),
            cases.len()
        );
        for case in cases {
            match &case.failure {
                None => {
                    let _ = writeln!(
                        xml,
                        r#"    <testcase name="{}" classname="{}"/>"#,
                        escape(&case.name),
                        escape(suite)
                    );
                }
                Some(message) => {
                    let first = message.lines().next().unwrap_or_default();
                    let _ = writeln!(
                        xml,
                        r#"    <testcase name="{}" classname="{}">"#,
                        escape(&case.name),
                        escape(suite)
                    );
                    let _ = writeln!(
                        xml,
                        r#"      <failure message="{}" type="lola">{}</failure>"#,
                        escape(first),
                        escape(message)
                    );
                    let _ = writeln!(xml, "    </testcase>");
                }
            }
        }
        let _ = writeln!(xml, "  </testsuite>");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Escapes text for XML attributes and content; drops characters XML 1.0
/// cannot carry at all.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}
