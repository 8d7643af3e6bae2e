//! The words of every report read right: `1 frame`, never `1 frames`; an
//! absent value says `(absent)`, never `→ ;`; long frame lists say how
//! many frames they leave out.

use std::path::PathBuf;

mod common;

use common::lola;

/// Captures to judge: every readable fixture at the top of `fixtures/`.
fn captures() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name.ends_with(".pcap") || name.ends_with(".pcapng")) && !name.starts_with("bad-")
            })
            .collect();
    found.sort();
    found
}

/// The wrong words in `text`: a `1` before a plural noun, an arrow to or
/// from nothing.
fn wrong_words(text: &str) -> Vec<String> {
    let nouns = [
        "frames",
        "datagrams",
        "segments",
        "fragments",
        "bytes",
        "captures",
        "files",
    ];
    let mut wrong = Vec::new();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '"' || c == '>')
        .collect();
    for w in words.windows(2) {
        if w[0] == "1" && nouns.contains(&w[1].trim_end_matches([',', ';', '.', ')'])) {
            wrong.push(format!("1 {}", w[1]));
        }
    }
    for bad in ["→ ;", "→ <", "→ \n", "  → ", "→ &#10;"] {
        if text.contains(bad) {
            wrong.push(format!("{bad:?}"));
        }
    }
    wrong
}

#[test]
fn check_and_diff_reports_in_every_format_read_right() {
    let dir = tempfile::tempdir().unwrap();
    let all = captures();
    assert!(all.len() > 20, "{} fixtures", all.len());
    let golden = &all[0];
    let mut problems = Vec::new();
    for (i, capture) in all.iter().enumerate() {
        let junit = dir.path().join(format!("c{i}.xml"));
        let check = lola()
            .arg("check")
            .arg(capture)
            .arg("--junit")
            .arg(&junit)
            .output()
            .unwrap();
        let mut text = String::from_utf8_lossy(&check.stdout).into_owned();
        text += &std::fs::read_to_string(&junit).unwrap_or_default();
        let djunit = dir.path().join(format!("d{i}.xml"));
        let diff = lola()
            .arg("diff")
            .arg(golden)
            .arg(capture)
            .arg("--junit")
            .arg(&djunit)
            .output()
            .unwrap();
        text += &String::from_utf8_lossy(&diff.stdout);
        text += &std::fs::read_to_string(&djunit).unwrap_or_default();
        for w in wrong_words(&text) {
            problems.push(format!("{}: {w}", capture.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_itself_catches_wrong_words() {
    assert_eq!(wrong_words("found 1 frames in x"), ["1 frames"]);
    assert_eq!(wrong_words("udp.srcport 40000 → ; x"), ["\"→ ;\""]);
    assert!(wrong_words("1 frame, 2 frames, udp.srcport 1 → (absent)").is_empty());
}

#[test]
fn a_long_frame_list_says_how_long_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.pcap");
    lola()
        .args([
            "build",
            "--src",
            "127.0.0.1:40000",
            "--dst",
            "127.0.0.1:7456",
            "-o",
        ])
        .arg(&one)
        .assert()
        .code(0);
    let bytes = std::fs::read(&one).unwrap();
    let (header, record) = bytes.split_at(24);
    let many = dir.path().join("many.pcap");
    std::fs::write(&many, [header, &record.repeat(60)].concat()).unwrap();
    let frame_lines = |args: &[&str]| {
        let out = lola().arg("check").arg(&many).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            text.lines().filter(|l| l.starts_with("  frame ")).count(),
            text,
        )
    };
    // 60 matches: the report keeps 50, the text says the rest are in --emit.
    let (shown, text) = frame_lines(&["--exactly", "60"]);
    assert_eq!(shown, 50, "{text}");
    assert!(
        text.contains("  … and 10 more frames (--emit FILE for all)\n"),
        "{text}"
    );
    let (shown, text) = frame_lines(&["--exactly", "60", "--frames", "1"]);
    assert_eq!(shown, 1, "{text}");
    assert!(
        text.contains("  … and 59 more frames (--emit FILE for all)\n"),
        "{text}"
    );
    // Above the 50 a report keeps, --frames N and all really show them.
    let (shown, text) = frame_lines(&["--exactly", "60", "--frames", "55"]);
    assert_eq!(shown, 55, "{text}");
    assert!(text.contains("  … and 5 more frames"), "{text}");
    let (shown, text) = frame_lines(&["--exactly", "60", "--frames", "all"]);
    assert_eq!(shown, 60, "{text}");
    assert!(!text.contains("more frame"), "{text}");
    let out = lola()
        .arg("check")
        .arg(&many)
        .args(["--exactly", "60", "--frames", "all", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["matched"].as_array().unwrap().len(), 60);
    // Where the JSON report holds every frame the text leaves out, it says so.
    let few = dir.path().join("few.pcap");
    std::fs::write(&few, [header, &record.repeat(3)].concat()).unwrap();
    let out = lola()
        .arg("check")
        .arg(&few)
        .args(["--exactly", "3", "--frames", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  … and 2 more frames (--json or --emit FILE for all)\n"),
        "{text}"
    );
}

/// The predicate a report's frame line says of its frame, built from the
/// words and values the report printed: its number, its addresses and
/// ports, its checksum states.
fn said_of(line: &serde_json::Value) -> String {
    let mut terms = vec![format!("frame.number == {}", line["frame"])];
    let ip = |addr: &str| if addr.contains(':') { "ipv6" } else { "ip" };
    let proto = match line["protocol"].as_str() {
        Some("UDP") => Some("udp"),
        Some("TCP") => Some("tcp"),
        _ => None,
    };
    for (side, dir) in [("src", "src"), ("dst", "dst")] {
        let end = &line[side];
        if let Some(addr) = end["addr"].as_str() {
            terms.push(format!("{}.{dir} == {addr}", ip(addr)));
        }
        if let (Some(port), Some(proto)) = (end["port"].as_u64(), proto) {
            terms.push(format!("{proto}.{dir}port == {port}"));
        }
    }
    for (key, field) in [("ip_checksum", "ip"), ("udp_checksum", "udp")] {
        if let Some(word) = line[key].as_str() {
            terms.push(format!("{field}.checksum.status == {word}"));
        }
    }
    terms.join(" && ")
}

#[test]
fn every_value_a_report_prints_reads_back_as_a_predicate_that_holds_on_its_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut words = std::collections::BTreeSet::new();
    for capture in captures() {
        let out = lola()
            .arg("check")
            .arg(&capture)
            .args(["--json", "--any-payload", "--at-least", "0", "--allow-tcp"])
            .output()
            .unwrap();
        let Ok(report) = serde_json::from_slice::<serde_json::Value>(&out.stdout) else {
            continue;
        };
        let text = lola()
            .arg("check")
            .arg(&capture)
            .args(["--any-payload", "--at-least", "0", "--allow-tcp"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout).into_owned();
        let mut toml = String::new();
        for list in ["matched", "offending", "tcp", "near_misses"] {
            for line in report[list].as_array().into_iter().flatten() {
                let line = line.get("frame_line").unwrap_or(line);
                // Where the text report shows the frame, it prints the
                // same words as the JSON one.
                let start = format!("  frame {}  ", line["frame"]);
                let shown = text.lines().find(|l| l.starts_with(&start));
                for (key, field) in [("ip_checksum", "ip"), ("udp_checksum", "udp")] {
                    if let (Some(word), Some(shown)) = (line[key].as_str(), shown) {
                        words.insert(word.to_string());
                        let said = format!("{field}.checksum.status {word}");
                        assert!(
                            shown.contains(&said),
                            "{}: no {said:?} in {shown}",
                            capture.display()
                        );
                    }
                }
                toml += &format!(
                    "[[expect]]\nname = \"frame {}\"\nmatch = '{}'\ncount = \">= 1\"\n",
                    line["frame"],
                    said_of(line)
                );
                checked += 1;
            }
        }
        if toml.is_empty() {
            continue;
        }
        let file = dir.path().join("said.toml");
        std::fs::write(&file, &toml).unwrap();
        let judged = lola()
            .arg("check")
            .arg(&capture)
            .arg("--expect")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            judged.status.success(),
            "{}: {toml}\n{}{}",
            capture.display(),
            String::from_utf8_lossy(&judged.stdout),
            String::from_utf8_lossy(&judged.stderr)
        );
    }
    assert!(checked > 30, "{checked} frame lines");
    for w in ["good", "partial"] {
        assert!(words.contains(w), "no fixture shows {w}: {words:?}");
    }
}

/// Every finding the built-in check can report, each with one and with
/// two of what it counts.
fn every_finding() -> (Vec<lola::check::Failure>, Vec<lola::check::Note>) {
    use lola::capture::Drops;
    use lola::check::{Count, Failure, Note};
    let (a, b): (std::net::SocketAddr, std::net::SocketAddr) = (
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:7456".parse().unwrap(),
    );
    let (ia, ib) = (a.ip(), b.ip());
    let drops = |n| Drops {
        interface: n,
        os: n,
        between_frames: n,
        kernel: n,
    };
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    for n in [1u64, 2] {
        let frames: Vec<u64> = (1..=n).collect();
        failures.extend([
            Failure::Count {
                found: n,
                frames: n,
            },
            Failure::Mismatched { datagrams: n },
            Failure::Tcp {
                segments: n,
                handshake: n == 1,
            },
            Failure::Lost {
                drops: drops(n),
                count: Some(Count::Exactly(n)),
                tcp: n == 2,
            },
            Failure::Lost {
                drops: drops(n),
                count: None,
                tcp: true,
            },
            Failure::Truncated {
                offset: n,
                what: "record header".into(),
            },
        ]);
        notes.extend([
            Note::TcpAllowed {
                segments: n,
                handshake: n == 1,
            },
            Note::PartialChecksums {
                frames: frames.clone(),
            },
            Note::AbsentChecksums {
                frames: frames.clone(),
            },
            Note::OtherTcp {
                segments: n,
                first: (n, a, b),
            },
            Note::PortUnreachable {
                frame: n,
                datagram: (a, b),
            },
            Note::Icmp {
                frame: n,
                icmp_type: 3,
                code: 1,
            },
            Note::Reply {
                frame: n,
                src: b,
                dst: a,
            },
            Note::Reassembled {
                frame: n,
                src: ia,
                dst: ib,
                fragments: frames.clone(),
            },
            Note::FragmentRejected("overlapping fragments".into()),
            Note::FragmentUnreadable { frame: n },
            Note::Incomplete {
                fragments: frames.clone(),
                src: ia,
                dst: ib,
                id: 7,
            },
            Note::MoreIncomplete(n),
            Note::Damaged {
                frame: n,
                offset: n,
                problems: Vec::new(),
            },
            Note::Reader("a reader note".into()),
            Note::Lost {
                drops: drops(n),
                count: Count::AtLeast(n),
            },
            Note::Truncated {
                offset: n,
                what: "record header".into(),
            },
        ]);
    }
    (failures, notes)
}

#[test]
fn every_failure_and_note_reads_right_in_text_json_and_junit() {
    let (failures, notes) = every_finding();
    let mut report = lola::check_file(
        "fixtures/seed-ipv4.pcap".as_ref(),
        &lola::Expectation::seed(),
    )
    .unwrap();
    report.verdict = lola::check::Verdict::Fail;
    report.failures = failures;
    report.notes = notes;
    let text = report.to_string();
    let json = serde_json::to_string_pretty(&report).unwrap();
    let suite =
        lola::report::junit::Suite::new("lola check", lola::report::junit::check_cases(&report));
    let xml = lola::report::junit::to_xml(&[suite]);
    for (format, words) in [("text", &text), ("JSON", &json), ("JUnit", &xml)] {
        let wrong = wrong_words(words);
        assert!(wrong.is_empty(), "{format}: {wrong:?} in\n{words}");
        // Every finding is there, in its own words.
        for f in &report.failures {
            assert!(
                words.contains(&escape(&f.to_string(), format)),
                "{format}: no {f}"
            );
        }
        // JUnit's cases carry the failures; the notes go to the suite's
        // <system-out>, which the CLI writes (checked with the real binary above).
        for n in report.notes.iter().filter(|_| format != "JUnit") {
            assert!(
                words.contains(&escape(&n.to_string(), format)),
                "{format}: no {n}"
            );
        }
    }
}

/// `s` as it appears in a document of `format`.
fn escape(s: &str, format: &str) -> String {
    match format {
        "JSON" => serde_json::to_string(s)
            .unwrap()
            .trim_matches('"')
            .to_string(),
        "JUnit" => s
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;"),
        _ => s.to_string(),
    }
}
