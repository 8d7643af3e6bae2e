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
    let out = lola()
        .arg("check")
        .arg(&many)
        .args(["--count", "60"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  frame ")).count(),
        50,
        "{text}"
    );
    assert!(
        text.contains("  … and 10 more frames (--emit FILE lists every frame)\n"),
        "{text}"
    );
    let out = lola()
        .arg("check")
        .arg(&many)
        .args(["--count", "60", "--frames", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  frame ")).count(),
        1,
        "{text}"
    );
    assert!(text.contains("  … and 59 more frames"), "{text}");
    let out = lola()
        .arg("check")
        .arg(&many)
        .args(["--count", "60", "--frames", "all"])
        .output()
        .unwrap();
    assert!(out.status.success());
}
