//! Loss is never silent: the frames the kernel reported it dropped while
//! lola captured reach the verdict and every report, whether the capture was
//! written as pcap (which has no place for them) or pcapng (whose Interface
//! Statistics Block repeats them, and is not counted twice).
//!
//! Loss is made deterministic by handing the library the statistics a live
//! capture would report: `write_observed` writes the frames as `run`,
//! `capture`, `send` and `exec` do, and the check admits the kernel's count
//! as those commands do.

use std::path::{Path, PathBuf};

use lola::capture::{CaptureStatistics, Drops, Format};
use lola::check::expect::{CheckReport, ExpectationSet};
use lola::check::{Count, Failure, Note, Report};
use lola::harness::write_observed;
use lola::host::live::LiveFrame;
use lola::{Datagram, Expectation};

/// As many frames as the flood of issue 24 lost with `-o flood.pcap`.
const DROPPED: u64 = 725_428;

fn datagram() -> Datagram {
    Datagram::new(
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:9999".parse().unwrap(),
        b"Hello Lola".to_vec(),
    )
}

/// One datagram captured live while the kernel dropped `dropped` frames,
/// written to `name` in `dir` as a live capture is.
fn captured(dir: &Path, name: &str, dropped: u64) -> (PathBuf, Drops) {
    let d = datagram();
    let data = lola::build_frame(&d).unwrap();
    let frame = LiveFrame {
        timestamp: d.timestamp,
        orig_len: data.len() as u32,
        data,
        flags: 0,
    };
    let stats = CaptureStatistics {
        received: 1 + dropped,
        dropped,
        at: d.timestamp,
    };
    let path = dir.join(name);
    let format = if name.ends_with(".pcapng") {
        Format::PcapNg
    } else {
        Format::Pcap
    };
    write_observed(&path, format, "lo", &[frame], Some(stats)).unwrap();
    (path, Drops::from(stats))
}

fn builtin(path: &Path, expectation: &Expectation, kernel: Drops) -> Report {
    match CheckReport::of_captured(path, expectation, None, kernel).unwrap() {
        CheckReport::Builtin(r) => *r,
        CheckReport::Set(_) => unreachable!(),
    }
}

const FORMATS: [&str; 2] = ["flood.pcap", "flood.pcapng"];

#[test]
fn an_exact_count_fails_with_the_kernels_count_in_pcap_and_pcapng() {
    let dir = tempfile::tempdir().unwrap();
    for name in FORMATS {
        let (path, kernel) = captured(dir.path(), name, DROPPED);
        let report = builtin(&path, &Expectation::exactly(&datagram()), kernel);
        assert!(!report.passed(), "{name}: {report}");
        // The pcapng's isb_ifdrop holds the same frames: counted once.
        assert_eq!(report.lost.map(|d| d.total()), Some(DROPPED), "{name}");
        let lost = report
            .failures
            .iter()
            .find(|f| matches!(f, Failure::Lost { .. }))
            .unwrap_or_else(|| panic!("{name}: no loss failure: {report}"));
        assert!(lost.about_count() && lost.about_tcp(), "{name}: {lost}");
        let text = report.to_string();
        assert!(text.starts_with("FAIL "), "{text}");
        assert!(
            text.contains(&format!("the capture admits {DROPPED} lost frames ("))
                && text.contains(&format!("the kernel dropped {DROPPED} while capturing")),
            "{text}"
        );
        assert!(
            text.contains("\"exactly 1 datagram\" and \"no TCP\" cannot be proven"),
            "{text}"
        );
    }
}

#[test]
fn no_tcp_fails_and_a_minimum_passes_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let at_least = Expectation::exactly(&datagram()).count(Count::AtLeast(1));
    for name in FORMATS {
        let (path, kernel) = captured(dir.path(), name, DROPPED);
        let no_tcp = builtin(&path, &at_least, kernel);
        assert!(!no_tcp.passed(), "{name}: {no_tcp}");
        assert_eq!(no_tcp.failures.len(), 1, "{no_tcp}");
        assert!(no_tcp.failures[0].about_tcp() && !no_tcp.failures[0].about_count());
        assert!(
            no_tcp.failures[0]
                .to_string()
                .ends_with("\"no TCP\" cannot be proven"),
            "{no_tcp}"
        );

        let report = builtin(&path, &at_least.clone().allow_tcp(true), kernel);
        assert!(report.passed(), "{name}: {report}");
        assert!(
            report
                .notes
                .iter()
                .any(|n| matches!(n, Note::Lost { drops, .. } if drops.total() == DROPPED)),
            "{report}"
        );
        let text = report.to_string();
        assert!(text.starts_with("PASS "), "{text}");
        assert!(
            text.contains(&format!("note: the capture admits {DROPPED} lost frames"))
                && text.contains("\"at least 1 datagram\" holds whatever they held"),
            "{text}"
        );
    }
}

#[test]
fn nothing_lost_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for name in FORMATS {
        let (path, kernel) = captured(dir.path(), name, 0);
        let report = builtin(&path, &Expectation::exactly(&datagram()), kernel);
        assert!(report.passed(), "{report}");
        assert!(report.lost.is_none());
        assert!(!report.notes.iter().any(|n| matches!(n, Note::Lost { .. })));
        let json = serde_json::to_value(&report).unwrap();
        assert!(json.get("lost").is_none(), "{json}");
    }
}

#[test]
fn the_json_carries_what_was_lost_and_who_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (pcap, kernel) = captured(dir.path(), "flood.pcap", DROPPED);
    let report = builtin(&pcap, &Expectation::exactly(&datagram()), kernel);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["lost"]["kernel"], DROPPED, "{json}");
    assert_eq!(
        json["lost"]["interface"], 0,
        "a pcap has no statistics block"
    );
    let (pcapng, kernel) = captured(dir.path(), "flood.pcapng", DROPPED);
    let report = builtin(&pcapng, &Expectation::exactly(&datagram()), kernel);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["lost"]["kernel"], DROPPED, "{json}");
    assert_eq!(
        json["lost"]["interface"], DROPPED,
        "the pcapng's isb_ifdrop"
    );
    assert!(
        json["failures"][0]
            .as_str()
            .unwrap()
            .starts_with(&format!("the capture admits {DROPPED} lost frames")),
        "{json}"
    );
}

#[test]
fn every_report_format_says_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, kernel) = captured(dir.path(), "flood.pcap", DROPPED);
    let count = DROPPED.to_string();
    let failed = builtin(&path, &Expectation::exactly(&datagram()), kernel);
    let cases = lola::report::junit::check_cases(&failed);
    let count_case = cases[0].failure.as_deref().unwrap_or_default();
    let tcp_case = cases[2].failure.as_deref().unwrap_or_default();
    assert!(count_case.contains(&count), "{cases:?}");
    assert!(tcp_case.contains(&count), "{cases:?}");
    let html = lola::report::html::check(&failed, None);
    assert!(html.contains(&count), "the HTML report");
    let markdown = lola::report::markdown::check(&failed, None);
    assert!(markdown.contains(&count), "{markdown}");

    let at_least = Expectation::exactly(&datagram())
        .count(Count::AtLeast(1))
        .allow_tcp(true);
    let passed = builtin(&path, &at_least, kernel);
    assert!(passed.passed());
    let html = lola::report::html::check(&passed, None);
    assert!(html.contains(&count), "the HTML report's notes");
    let markdown = lola::report::markdown::check(&passed, None);
    assert!(markdown.contains(&count), "{markdown}");
}

fn set(text: &str) -> ExpectationSet {
    ExpectationSet::parse("loss.toml", text).unwrap()
}

#[test]
fn an_expectation_file_fails_what_loss_could_contradict_and_notes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let exactly = set("[[expect]]\nname = 'one'\nmatch = 'udp.dstport == 9999'\ncount = '== 1'\n");
    let at_least =
        set("[[expect]]\nname = 'some'\nmatch = 'udp.dstport == 9999'\ncount = '>= 1'\n");
    let forbid = set(
        "[settings]\nforbid = ['tcp']\n[[expect]]\nname = 'some'\nmatch = 'udp.dstport == 9999'\ncount = '>= 1'\n",
    );
    let e = Expectation::seed();
    for name in FORMATS {
        let (path, kernel) = captured(dir.path(), name, DROPPED);
        let check = |s: &ExpectationSet| match CheckReport::of_captured(&path, &e, Some(s), kernel)
            .unwrap()
        {
            CheckReport::Set(r) => *r,
            CheckReport::Builtin(_) => unreachable!(),
        };
        let report = check(&exactly);
        assert!(!report.passed(), "{report}");
        assert_eq!(report.lost.map(|d| d.total()), Some(DROPPED));
        assert!(
            report.expectations[0].failures[0]
                .starts_with(&format!("the capture admits {DROPPED} lost frames")),
            "{report}"
        );
        let cases = lola::report::junit::set_cases(&report);
        assert!(
            cases[0]
                .failure
                .as_deref()
                .unwrap()
                .contains(&DROPPED.to_string())
        );

        let report = check(&forbid);
        assert!(!report.passed(), "{report}");
        assert!(report.rules[0].unprovable, "{report}");

        let report = check(&at_least);
        assert!(report.passed(), "{report}");
        let text = report.to_string();
        assert!(
            text.contains(&format!("note: the capture admits {DROPPED} lost frames")),
            "{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["lost"]["kernel"], DROPPED, "{json}");
    }
}

/// What the file alone says: a pcap has no place for the kernel's count,
/// which is why the commands that captured it must hand it to the check.
#[test]
fn a_pcap_alone_cannot_say_what_was_lost_a_pcapng_can() {
    let dir = tempfile::tempdir().unwrap();
    let exactly = Expectation::exactly(&datagram());
    let (pcap, _) = captured(dir.path(), "flood.pcap", DROPPED);
    assert!(lola::check_file(&pcap, &exactly).unwrap().passed());
    let (pcapng, _) = captured(dir.path(), "flood.pcapng", DROPPED);
    let report = lola::check_file(&pcapng, &exactly).unwrap();
    assert_eq!(report.lost.map(|d| d.total()), Some(DROPPED));
    assert!(!report.passed());
}

/// The JUnit files of `exec`, `run` and `compare` say in `<system-out>`
/// what the capture lost even when every case passed (a minimum holds), and
/// `exec` says there and in its JSON when `lo` went down mid-run.
#[test]
fn a_passing_exec_still_says_what_was_lost_and_when_lo_went_down() {
    use lola::harness::exec::{CaptureGap, Ending, ExecOutcome};
    use lola::host::sandbox::Place;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let (path, kernel) = captured(dir.path(), "flood.pcap", DROPPED);
    let at_least = Expectation::exactly(&datagram())
        .count(Count::AtLeast(1))
        .allow_tcp(true);
    let report = CheckReport::of_captured(&path, &at_least, None, kernel).unwrap();
    assert!(report.passed());
    let outcome = ExecOutcome {
        program: vec!["flood".into()],
        place: Place::Host,
        ending: Ending::Exited(0),
        output: path.clone(),
        written: lola::capture::WriteSummary {
            format: Format::Pcap,
            frames: 1,
            bytes: std::fs::metadata(&path).unwrap().len(),
        },
        capture_gap: Some(CaptureGap::LoDown {
            after: Duration::from_millis(200),
        }),
        report,
        ignore_exit: false,
    };
    let suites = lola::report::junit::exec_suites(&outcome);
    assert!(suites[0].cases.iter().all(|c| c.failure.is_none()));
    let out = suites[0].system_out.as_deref().unwrap_or_default();
    assert!(
        out.contains(&format!("admits {DROPPED} lost frames")),
        "{out}"
    );
    assert!(out.contains("lo went down 200ms into the run"), "{out}");
    let xml = lola::report::junit::to_xml(&suites);
    assert!(xml.contains("<system-out>"), "{xml}");

    let json: serde_json::Value = serde_json::from_str(&outcome.to_json().unwrap()).unwrap();
    let gap = json["capture"]["gap"].as_str().unwrap_or_default();
    assert!(gap.starts_with("lo went down 200ms"), "{json}");
}
