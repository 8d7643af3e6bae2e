//! JUnit XML reports, so GitLab, Jenkins and GitHub test reporters show
//! lola's verdicts: one test suite per capture, one test case per
//! expectation, failures carrying the message.
//!
//! Reporters identify a test by classname and name, and keep its history
//! across runs by them; so names depend only on what was expected (never on
//! an ephemeral port or a temporary path). The values of one run go in the
//! failure text and in the suite's `<system-out>`. The document has `time`
//! and `timestamp` attributes and no `hostname`; it follows Jenkins' JUnit
//! schema (`junit-10.xsd`), which `tests/junit.rs` validates it against.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::check::expect::{CheckReport, SetReport};
use crate::check::golden::{DiffReport, FrameDiff};
use crate::check::{Failure, FrameLine, Report};
use crate::harness::exec::ExecOutcome;
use crate::harness::{CompareOutcome, RunOutcome};

/// One test case.
///
/// ```
/// use lola::report::junit::{check_cases, Case};
/// let report = lola::check_file("fixtures/seed-ipv4.pcap".as_ref(), &lola::Expectation::seed()).unwrap();
/// let cases = check_cases(&report);
/// assert_eq!(cases[0], Case { name: "exactly 1 datagram matching the expectation".into(), failure: None });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// What was expected, as a test name.
    pub name: String,
    /// `None` when it passed; the message when it failed.
    pub failure: Option<String>,
}

/// One test suite: its cases, and what the run adds to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suite {
    /// The suite's name: the command and the capture it judged
    /// (`lola check reports/echo.pcap`). Its cases' classname is the
    /// command alone ([`Suite::classname`]).
    pub name: String,
    /// Its test cases.
    pub cases: Vec<Case>,
    /// Why the suite could not be run (exit 2): rendered as a test case
    /// with an `<error>`.
    pub error: Option<String>,
    /// How long it took.
    pub time: Duration,
    /// When it started.
    pub timestamp: Option<SystemTime>,
    /// The run's own values (the expectation with its ports, file names),
    /// for `<system-out>`.
    pub system_out: Option<String>,
    /// `<properties>`: `capture` (the file judged), `golden` (the file it
    /// was compared with), as name and value.
    pub properties: Vec<(String, String)>,
}

impl Suite {
    /// A suite of `cases`, no time measured, nothing else to say.
    pub fn new(name: impl Into<String>, cases: Vec<Case>) -> Suite {
        Suite {
            name: name.into(),
            cases,
            error: None,
            time: Duration::ZERO,
            timestamp: None,
            system_out: None,
            properties: Vec::new(),
        }
    }

    /// The suite with a `<property name="{name}" value="{value}"/>`.
    pub fn with_property(mut self, name: &str, value: impl Into<String>) -> Suite {
        self.properties.push((name.to_string(), value.into()));
        self
    }

    /// The classname of its cases: `lola.` and the command (`lola.check`,
    /// `lola.exec`), free of paths and dots, which reporters such as
    /// Jenkins would read as packages.
    ///
    /// ```
    /// use lola::report::junit::Suite;
    /// assert_eq!(Suite::new("lola check /tmp/reports/echo.pcap", vec![]).classname(), "lola.check");
    /// assert_eq!(Suite::new("lola run --expect-like g.pcap", vec![]).classname(), "lola.run");
    /// assert_eq!(Suite::new("other", vec![]).classname(), "lola");
    /// ```
    pub fn classname(&self) -> String {
        let command: String = match self.name.strip_prefix("lola ") {
            Some(rest) => rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect(),
            None => String::new(),
        };
        if command.is_empty() {
            "lola".to_string()
        } else {
            format!("lola.{command}")
        }
    }

    /// A suite that could not run: one test case named `name_of_step`
    /// holding the error.
    ///
    /// ```
    /// use lola::report::junit::{Suite, to_xml};
    /// let xml = to_xml(&[Suite::error("lola check bad.pcap", "bad.pcap: bad magic (at byte 0)")]);
    /// assert!(xml.contains(r#"errors="1""#), "{xml}");
    /// assert!(xml.contains(r#"<error message="bad.pcap: bad magic (at byte 0)" type="lola">"#), "{xml}");
    /// ```
    pub fn error(name: impl Into<String>, message: impl Into<String>) -> Suite {
        Suite {
            error: Some(message.into()),
            ..Suite::new(name, Vec::new())
        }
    }

    /// The number of failed cases.
    fn failures(&self) -> usize {
        self.cases.iter().filter(|c| c.failure.is_some()).count()
    }

    /// The number of cases, the error case included.
    fn tests(&self) -> usize {
        self.cases.len() + usize::from(self.error.is_some())
    }
}

/// The name of the test case that holds an error: the step that could not
/// be done.
pub const ERROR_CASE: &str = "the capture can be read and judged";

/// The test cases of a check: the datagram count, the matching of every
/// datagram on the expected endpoints, and the absence of TCP there. Names
/// carry the expected count, never addresses or ports; the failure text
/// carries the expectation in full.
///
/// ```
/// let report = lola::check_file("fixtures/seed-tcp.pcap".as_ref(), &lola::Expectation::seed()).unwrap();
/// let cases = lola::report::junit::check_cases(&report);
/// assert_eq!(cases.len(), 3);
/// assert_eq!(cases[2].name, "no TCP on the expected endpoints");
/// assert!(cases[2].failure.as_deref().unwrap().contains("handshake"));
/// assert!(cases[0].failure.as_deref().unwrap().starts_with("expected exactly 1 datagram to port 7456"));
/// ```
pub fn check_cases(report: &Report) -> Vec<Case> {
    let find = |wanted: &dyn Fn(&Failure) -> bool| {
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
    let mut count = case(
        format!("{} matching the expectation", report.expectation.count),
        find(&Failure::about_count),
        &report.near_misses,
    );
    if let Some(f) = &mut count.failure {
        *f = format!("expected {}: {f}", report.expected);
    }
    // A cut capture could hide TCP only where TCP is not allowed anyway.
    let allow_tcp = report.expectation.allow_tcp;
    let tcp = case(
        "no TCP on the expected endpoints".into(),
        find(&|f: &Failure| {
            f.about_tcp() && !(allow_tcp && matches!(f, Failure::Truncated { .. }))
        }),
        &report.tcp,
    );
    vec![
        count,
        case(
            "every datagram on the expected endpoints matches".into(),
            find(&|f: &Failure| matches!(f, Failure::Mismatched { .. })),
            &report.offending,
        ),
        tcp,
    ]
}

/// JUnit test cases of an expectation file: one per expectation, then one
/// per rule.
///
/// ```
/// use lola::check::expect::{CheckReport, ExpectationSet};
/// let set = ExpectationSet::parse("l.toml", "[[expect]]\nname = 'x'\nmatch = 'udp'\n").unwrap();
/// let report = CheckReport::of_file("fixtures/seed-ipv4.pcap".as_ref(), &lola::Expectation::seed(), Some(&set)).unwrap();
/// let CheckReport::Set(report) = report else { unreachable!() };
/// let cases = lola::report::junit::set_cases(&report);
/// assert_eq!((cases.len(), cases[0].name.as_str()), (1, "x"));
/// ```
pub fn set_cases(report: &SetReport) -> Vec<Case> {
    let expects = report.expectations.iter().map(|e| Case {
        name: e.name.clone(),
        failure: (!e.verdict.passed()).then(|| {
            let mut s = e.failures.join("; ");
            for line in &e.evidence {
                let _ = write!(s, "\n{line}");
            }
            s
        }),
    });
    let rules = report.rules.iter().map(|r| Case {
        name: r.name.clone(),
        failure: (!r.verdict.passed()).then(|| {
            let mut s = format!(
                "{} {}",
                r.count,
                if r.count == 1 { "frame" } else { "frames" }
            );
            for why in &r.failures {
                let _ = write!(s, "; {why}");
            }
            for line in &r.evidence {
                let _ = write!(s, "\n{line}");
            }
            s
        }),
    });
    expects.chain(rules).collect()
}

/// The JUnit test cases of a check, by flags or by file: one per claim of
/// the built-in check ([`check_cases`]), or one per expectation and rule of
/// the file ([`set_cases`]).
pub fn report_cases(report: &CheckReport) -> Vec<Case> {
    match report {
        CheckReport::Builtin(r) => check_cases(r),
        CheckReport::Set(r) => set_cases(r),
    }
}

/// The JUnit cases of `lola compare`'s negative control: the TCP capture is
/// flagged, the UDP capture passes.
///
/// ```
/// use lola::harness::{compare, CaptureMode, CompareOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let options = CompareOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     out_dir: dir.path().to_path_buf(),
///     capture: CaptureMode::Off,
///     ..CompareOptions::default()
/// };
/// let cases = lola::report::junit::compare_cases(&compare(&options).unwrap());
/// assert!(cases[0].name.ends_with("tcp.pcap finds the TCP handshake"));
/// assert!(cases[1].name.ends_with("udp.pcap passes"));
/// assert!(cases.iter().all(|c| c.failure.is_none()));
/// ```
pub fn compare_cases(outcome: &CompareOutcome) -> Vec<Case> {
    let (tcp, udp) = (&outcome.tcp.check, &outcome.udp.check);
    vec![
        Case {
            name: format!(
                "lola check {} finds the TCP handshake",
                outcome.tcp.path.display()
            ),
            failure: (tcp.tcp_count == 0 || tcp.passed())
                .then(|| format!("the checker did not flag TCP: {}", tcp.verdict)),
        },
        Case {
            name: format!("lola check {} passes", outcome.udp.path.display()),
            failure: (!udp.passed()).then(|| udp.failures_line()),
        },
    ]
}

/// The JUnit suite of `lola compare`: [`compare_cases`], and in
/// `<system-out>` what either capture admits it lost.
pub fn compare_suite(outcome: &CompareOutcome) -> Suite {
    let notes: Vec<String> = [("tcp", &outcome.tcp), ("udp", &outcome.udp)]
        .into_iter()
        .filter_map(|(side, s)| lost_note(s.check.lost).map(|n| format!("{side}: {n}")))
        .collect();
    Suite {
        system_out: lines(&notes),
        ..Suite::new(
            format!(
                "lola compare {} {}",
                outcome.tcp.path.display(),
                outcome.udp.path.display()
            ),
            compare_cases(outcome),
        )
    }
    .with_property("capture", outcome.tcp.path.display().to_string())
    .with_property("capture", outcome.udp.path.display().to_string())
}

/// The JUnit suite of `lola exec`: the capture's check, and the program's
/// exit.
///
/// ```
/// # use lola::harness::exec::*;
/// # let dir = tempfile::tempdir().unwrap();
/// let mut options = ExecOptions::new(vec!["sh".into(), "-c".into(), "exit 3".into()]);
/// # options.output = dir.path().join("t.pcap");
/// options.expectation = options.expectation.count(lola::Count::Exactly(0));
/// # if let Ok(outcome) = exec(&options, &std::sync::atomic::AtomicI32::new(0)) {
/// let suites = lola::report::junit::exec_suites(&outcome);
/// let exit = suites[0].cases.last().unwrap();
/// assert_eq!(exit.name, "sh exits with status 0");
/// assert_eq!(exit.failure.as_deref(), Some("exited with status 3"));
/// # }
/// ```
pub fn exec_suites(outcome: &ExecOutcome) -> Vec<Suite> {
    let mut cases = report_cases(&outcome.report);
    cases.push(Case {
        name: format!("{} exits with status 0", outcome.name()),
        failure: outcome.exit_failed().then(|| outcome.ending.to_string()),
    });
    let notes: Vec<String> = outcome
        .capture_gap
        .iter()
        .map(ToString::to_string)
        .chain(lost_note(outcome.report.lost()))
        .collect();
    vec![
        Suite {
            system_out: lines(&notes),
            ..Suite::new(format!("lola exec {}", outcome.output.display()), cases)
        }
        .with_property("capture", outcome.output.display().to_string()),
    ]
}

/// Notes as `<system-out>`, one per line; none when there are none.
fn lines(notes: &[String]) -> Option<String> {
    (!notes.is_empty()).then(|| notes.join("\n"))
}

/// What a capture admits it lost, for `<system-out>`: a claim the loss
/// could contradict fails in its case; a minimum that passes says it here.
///
/// ```
/// use lola::capture::Drops;
/// let note = lola::report::junit::lost_note(Some(Drops { kernel: 3, ..Drops::default() }));
/// assert_eq!(note.as_deref(), Some("the capture admits 3 lost frames (the kernel dropped 3 while capturing)"));
/// assert_eq!(lola::report::junit::lost_note(None), None);
/// ```
pub fn lost_note(lost: Option<crate::capture::Drops>) -> Option<String> {
    let d = lost.filter(|d| d.total() > 0)?;
    let n = d.total();
    Some(format!(
        "the capture admits {n} lost {} ({d})",
        if n == 1 { "frame" } else { "frames" }
    ))
}

/// The JUnit suites of `lola run`: the written file's check; with a live
/// capture, the observed file's check and the comparison; with a golden
/// capture, the diff.
///
/// ```
/// use lola::{harness::CaptureMode, RunOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let options = RunOptions {
///     to: "127.0.0.1:0".parse().unwrap(),
///     output: dir.path().join("hello.pcap"),
///     capture: CaptureMode::Off,
///     expect_like: Some("fixtures/hello-lola.pcap".into()),
///     ..RunOptions::default()
/// };
/// let outcome = lola::harness::run(&options, |_| {}).unwrap();
/// let suites = lola::report::junit::run_suites(&outcome);
/// let names: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
/// let written = options.output.display().to_string();
/// let like = format!("lola run --expect-like fixtures/hello-lola.pcap {written}");
/// assert_eq!(names, [format!("lola run {written}"), like]);
/// assert_eq!(suites[0].classname(), "lola.run");
/// assert!(suites.iter().all(|s| s.cases.iter().all(|c| c.failure.is_none())));
/// ```
pub fn run_suites(outcome: &RunOutcome) -> Vec<Suite> {
    let written = outcome.output.display().to_string();
    let mut suites = vec![
        Suite::new(format!("lola run {written}"), check_cases(&outcome.report))
            .with_property("capture", written.clone()),
    ];
    if let Some(live) = &outcome.live {
        let mut cases = check_cases(&live.report);
        cases.push(Case {
            name: "the synthesized frame differs from the observed one only where expected".into(),
            failure: match &live.comparison {
                Some(c) if c.equivalent() => None,
                Some(c) => Some(
                    c.unexpected()
                        .map(|f| format!("{} {} → {}", f.field, shown(&f.left), shown(&f.right)))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                None => Some("the datagram was not seen on lo".into()),
            },
        });
        let suite = match &live.output {
            Some(path) => Suite::new(format!("lola run {}", path.display()), cases)
                .with_property("capture", path.display().to_string()),
            None => Suite::new("lola run (the observed frames)", cases),
        };
        suites.push(Suite {
            system_out: lost_note(live.report.lost),
            ..suite
        });
    }
    if let Some(like) = &outcome.like {
        suites.push(
            Suite::new(
                format!("lola run --expect-like {} {written}", like.expected),
                diff_cases(like),
            )
            .with_property("capture", written.clone())
            .with_property("golden", like.expected.clone()),
        );
    }
    suites
}

/// The test cases of a diff: one per frame that differs, or one saying the
/// captures are the same. Names carry frame numbers, never file names.
///
/// ```
/// let (golden, new) = ("fixtures/seed-ipv4.pcap", "fixtures/seed-ipv4-twice.pcap");
/// let report = lola::check::golden::diff_files(golden.as_ref(), new.as_ref(), &Default::default()).unwrap();
/// let cases = lola::report::junit::diff_cases(&report);
/// assert_eq!(cases.len(), 2); // the frame count, then frame 2
/// assert_eq!(cases[1].name, "frame 2");
/// let failure = cases[1].failure.as_deref().unwrap();
/// assert!(failure.starts_with("extra in fixtures/seed-ipv4-twice.pcap: UDP"), "{failure}");
/// ```
pub fn diff_cases(report: &DiffReport) -> Vec<Case> {
    let mut cases = vec![Case {
        name: "the frame count equals the golden capture's".into(),
        failure: (report.expected_frames != report.actual_frames).then(|| {
            format!(
                "{} in {}, {} in {}",
                crate::packet::summary::plural(report.expected_frames, "frame"),
                report.expected,
                report.actual_frames,
                report.actual
            )
        }),
    }];
    for d in &report.differences {
        let (name, failure) = match d {
            FrameDiff::Changed { frame, fields } => (
                format!("frame {frame}"),
                fields
                    .iter()
                    .map(|f| format!("{} {} → {}", f.field, shown(&f.left), shown(&f.right)))
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
            name: "equals the golden capture field by field".into(),
            failure: None,
        });
    }
    cases
}

/// A JUnit XML document with one `<testsuite>` per suite.
///
/// ```
/// use lola::report::junit::{Case, Suite, to_xml};
/// let xml = to_xml(&[Suite::new("lola check a.pcap", vec![Case { name: "x < y".into(), failure: None }])]);
/// assert!(xml.contains(r#"<testcase name="x &lt; y" classname="lola.check" time="0.000"/>"#), "{xml}");
/// assert!(!xml.contains("hostname"));
/// ```
pub fn to_xml(suites: &[Suite]) -> String {
    let tests: usize = suites.iter().map(Suite::tests).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let errors = suites.iter().filter(|s| s.error.is_some()).count();
    let time: Duration = suites.iter().map(|s| s.time).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        r#"<testsuites name="lola" tests="{tests}" failures="{failures}" errors="{errors}" time="{}">"#,
        seconds(time)
    );
    for suite in suites {
        let name = escape(&suite.classname());
        let _ = write!(
            xml,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="0" time="{}""#,
            escape(&suite.name),
            suite.tests(),
            suite.failures(),
            usize::from(suite.error.is_some()),
            seconds(suite.time)
        );
        if let Some(t) = suite.timestamp {
            // Jenkins' schema wants an xs:dateTime without a zone.
            let stamp = humantime::format_rfc3339_seconds(t).to_string();
            let _ = write!(xml, r#" timestamp="{}""#, stamp.trim_end_matches('Z'));
        }
        let _ = writeln!(xml, ">");
        if !suite.properties.is_empty() {
            let _ = writeln!(xml, "    <properties>");
            for (n, v) in &suite.properties {
                let _ = writeln!(
                    xml,
                    r#"      <property name="{}" value="{}"/>"#,
                    escape(n),
                    escape(v)
                );
            }
            let _ = writeln!(xml, "    </properties>");
        }
        // The time of a suite is not divided among its cases: the checks of
        // one pass over the file are made together.
        let case_time = if suite.cases.is_empty() {
            suite.time
        } else {
            Duration::ZERO
        };
        if let Some(message) = &suite.error {
            let _ = writeln!(
                xml,
                r#"    <testcase name="{}" classname="{name}" time="{}">"#,
                escape(ERROR_CASE),
                seconds(case_time)
            );
            let _ = writeln!(
                xml,
                r#"      <error message="{}" type="lola">{}</error>"#,
                escape(message.lines().next().unwrap_or_default()),
                escape(message)
            );
            let _ = writeln!(xml, "    </testcase>");
        }
        for case in &suite.cases {
            let open = format!(
                r#"    <testcase name="{}" classname="{name}" time="{}""#,
                escape(&case.name),
                seconds(Duration::ZERO)
            );
            match &case.failure {
                None => {
                    let _ = writeln!(xml, "{open}/>");
                }
                Some(message) => {
                    let first = message.lines().next().unwrap_or_default();
                    let _ = writeln!(xml, "{open}>");
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
        if let Some(out) = &suite.system_out {
            let _ = writeln!(xml, "    <system-out>{}</system-out>", escape(out));
        }
        let _ = writeln!(xml, "  </testsuite>");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// A value as a failure text shows it: `(absent)` for a field a frame
/// does not have, as the text report says it.
fn shown(v: &str) -> &str {
    if v.is_empty() { "(absent)" } else { v }
}

/// Seconds with millisecond precision, as JUnit readers expect.
fn seconds(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
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
