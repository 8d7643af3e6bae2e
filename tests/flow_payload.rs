//! `lola flow --payload`: data arrows say what the data said, as `tshark -z
//! follow,udp` shows it: printable bytes as quoted text, anything else as
//! hex, cut short with `…`; every renderer escapes what the bytes hold, and
//! without `--payload` nothing changes.

mod common;

use std::path::Path;
use std::process::Command;

use common::{built, fixture, have, lola, text};

/// `lola ARGS`, which must exit 0, its stdout.
fn stdout_of(args: &[&str]) -> String {
    let o = lola().args(args).output().unwrap();
    assert!(o.status.success(), "lola {args:?}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn data_arrows_carry_their_first_bytes_as_text() {
    let ladder = stdout_of(&["flow", "--payload", path(&fixture("seed-tcp.pcap"))]);
    assert!(
        ladder.contains(r#" PSH, ACK · 10 B "Hello Lola" · 76 B "#),
        "{ladder}"
    );
    // Arrows without data keep their caption.
    assert!(ladder.contains(" SYN · 74 B "), "{ladder}");
    let mermaid = stdout_of(&[
        "flow",
        "--payload",
        "--format",
        "mermaid",
        path(&fixture("other-flows.pcap")),
    ]);
    assert!(
        mermaid.contains("    L->>R: UDP · 5 B \"other\" · 47 B\n"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("    L->>R: PSH, ACK · 8 B \"not lola\" · 74 B\n"),
        "{mermaid}"
    );
}

#[test]
fn the_words_are_tsharks_follow_stream() {
    if !have("tshark") {
        return;
    }
    let capture = fixture("other-flows.pcap");
    let o = Command::new("tshark")
        .args(["-n", "-q", "-r", path(&capture), "-z", "follow,udp,ascii,0"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let follow = String::from_utf8_lossy(&o.stdout).into_owned();
    // tshark: the byte count on one line, the text on the next.
    let line = follow
        .lines()
        .skip_while(|l| l.trim() != "5")
        .nth(1)
        .unwrap_or_else(|| panic!("{follow}"));
    let ladder = stdout_of(&["flow", "--payload", path(&capture)]);
    assert!(
        ladder.contains(&format!("5 B \"{line}\"")),
        "{line}\n{ladder}"
    );
}

#[test]
fn binary_data_is_hex_and_long_data_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let binary = built(dir.path(), "bin.pcap", &["--payload-hex", "deadbeef00"]);
    let ladder = stdout_of(&["flow", "--payload", path(&binary)]);
    assert!(
        ladder.contains(" UDP · 5 B de ad be ef 00 · 47 B "),
        "{ladder}"
    );
    let long = built(
        dir.path(),
        "long.pcap",
        &["--message", "GET / HTTP/1.1\r\nHost: x\r\n"],
    );
    let ladder = stdout_of(&["flow", "--payload", path(&long)]);
    assert!(
        ladder.contains(r#" UDP · 25 B "GET / HTTP/1.1\r\n"… · 67 B "#),
        "{ladder}"
    );
    let zeros = built(
        dir.path(),
        "zeros.pcap",
        &["--payload-hex", &"00".repeat(20)],
    );
    let ladder = stdout_of(&["flow", "--payload", path(&zeros)]);
    assert!(
        ladder.contains(" UDP · 20 B 00 00 00 00 00 00 00 00… · 62 B "),
        "{ladder}"
    );
}

#[test]
fn every_renderer_escapes_what_the_data_holds() {
    let dir = tempfile::tempdir().unwrap();
    let tricky = built(dir.path(), "tricky.pcap", &["--message", "<b>&\"x\";#1\\"]);
    let ladder = stdout_of(&["flow", "--payload", path(&tricky)]);
    assert!(ladder.contains(r#""<b>&\"x\";#1\\""#), "{ladder}");
    let svg = stdout_of(&["flow", "--payload", "--format", "svg", path(&tricky)]);
    assert!(
        svg.contains("&quot;&lt;b&gt;&amp;\\&quot;x\\&quot;;#1\\\\&quot;"),
        "{svg}"
    );
    let mut reader = quick_xml::Reader::from_str(&svg);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not XML at byte {}: {e}\n{svg}", reader.buffer_position()),
        }
    }
    let mermaid = stdout_of(&["flow", "--payload", "--format", "mermaid", path(&tricky)]);
    assert!(
        mermaid.contains(r##""#60;b#62;&\"x\"#59;#35;1\\""##),
        "{mermaid}"
    );
    let markdown = stdout_of(&["flow", "--payload", "--format", "markdown", path(&tricky)]);
    assert!(
        markdown.contains(r##""#60;b#62;&\"x\"#59;#35;1\\""##),
        "{markdown}"
    );
    // A control byte makes it hex: nothing reaches the terminal raw.
    let bell = built(
        dir.path(),
        "bell.pcap",
        &["--payload-hex", "6869071b5b33316d"],
    );
    let ladder = stdout_of(&["flow", "--payload", path(&bell)]);
    assert!(
        ladder.contains(" 8 B 68 69 07 1b 5b 33 31 6d · "),
        "{ladder}"
    );
}

#[test]
fn without_payload_the_ladder_and_json_are_as_before() {
    let capture = path(&fixture("seed-tcp.pcap")).to_string();
    let plain = stdout_of(&["flow", &capture]);
    assert!(plain.contains(" PSH, ACK · 10 B data · 76 B "), "{plain}");
    assert!(!plain.contains("Hello"), "{plain}");
    // The JSON document does not carry the bytes either way.
    assert_eq!(
        stdout_of(&["flow", "--json", &capture]),
        stdout_of(&["flow", "--json", "--payload", &capture])
    );
}
