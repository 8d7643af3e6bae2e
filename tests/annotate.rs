//! Captures that Wireshark annotates: `lola check --annotate OUT CAPTURE`
//! writes a pcapng copy whose frames say, as comments (`frame.comment`),
//! what they did to the check, and the pcapng files `run` and `exec` write
//! carry the same comments. tshark reads every copy without a warning,
//! `frame.comment contains "FAIL"` selects exactly the evidence of what
//! failed, and nothing else of the capture changes.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{fixture, have, lola, text};

/// tshark's frame numbers under `filter`, and what it said on stderr
/// besides the root banner.
fn tshark(capture: &Path, filter: &str) -> (Vec<u64>, String) {
    let o = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(capture)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .unwrap();
    assert!(o.status.success(), "tshark -Y {filter:?}: {}", text(&o));
    let warnings: String = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| !l.starts_with("Running as user"))
        .collect();
    let frames = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    (frames, warnings)
}

/// Every frame's fields but its comments, as tshark prints them, and the
/// `extra` fields (those of interfaces, which a pcap has not).
fn fields_but_comments(capture: &Path, extra: &[&str]) -> String {
    let o = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(capture)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
        ])
        .args([
            "-e",
            "frame.len",
            "-e",
            "frame.cap_len",
            "-e",
            "frame.encap_type",
        ])
        .args(["-e", "frame.protocols"])
        .args(extra.iter().flat_map(|e| ["-e", e]))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Each frame's comments, joined as tshark joins them.
fn comments(capture: &Path) -> Vec<String> {
    let o = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(capture)
        .args(["-T", "fields", "-e", "frame.comment"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// What a pcapng says of a frame's interface.
const INTERFACE: &[&str] = &[
    "frame.interface_id",
    "frame.interface_name",
    "frame.interface_description",
];

const ECHO: &str = r#"
[settings]
forbid = ['tcp.flags.syn == 1']

[[expect]]
name = "request"
match = 'udp.dstport == 7456'

[[expect]]
name = "reply"
match = 'udp.srcport == 7456'
after = "request"
"#;

#[test]
fn fail_selects_exactly_the_frames_the_report_gives_as_evidence() {
    if !have("tshark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("echo.toml");
    fs::write(&set, ECHO).unwrap();
    let out = dir.path().join("annotated.pcapng");
    // other-flows: a request to 7456, no reply, and a TCP handshake.
    let o = lola()
        .args(["check", "--json", "--expect"])
        .arg(&set)
        .arg("--annotate")
        .arg(&out)
        .arg(fixture("other-flows.pcap"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let forbidden: Vec<u64> = report["rules"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            let line = line.as_str().unwrap();
            line["frame ".len()..line.find(':').unwrap()]
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(forbidden, [2, 3], "the SYN and the SYN-ACK");

    let (failing, warnings) = tshark(&out, r#"frame.comment contains "FAIL""#);
    assert_eq!(failing, forbidden);
    assert_eq!(warnings, "", "tshark reads the copy without a warning");
    let (requests, _) = tshark(&out, r#"frame.comment contains "request ✓""#);
    assert_eq!(requests, [8]);
    assert_eq!(
        tshark(&out, r#"frame.comment contains "reply""#).0,
        [0u64; 0]
    );
    let all = comments(&out);
    assert_eq!(all[1], r#"lola: FAIL forbid "tcp.flags.syn == 1""#);
    assert_eq!(all[0], "", "a frame no expectation names gets no comment");
    // The frames themselves are the capture's.
    assert_eq!(
        fields_but_comments(&out, &[]),
        fields_but_comments(&fixture("other-flows.pcap"), &[])
    );
}

#[test]
fn a_reply_says_which_request_it_followed_and_how_long_after() {
    if !have("tshark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("echo.toml");
    fs::write(&set, ECHO).unwrap();
    let out = dir.path().join("reply.pcapng");
    lola()
        .args(["check", "--expect"])
        .arg(&set)
        .arg("--annotate")
        .arg(&out)
        .arg(fixture("reply.pcap"))
        .assert()
        .success();
    assert_eq!(
        comments(&out),
        ["lola: request ✓", "lola: reply ✓ (after request, 0.13 ms)"]
    );
    assert_eq!(tshark(&out, r#"frame.comment contains "reply""#).0, [2]);
    assert_eq!(
        tshark(&out, r#"frame.comment contains "FAIL""#).0,
        [0u64; 0]
    );
    // A pcap's microseconds stay microseconds.
    let capinfos = Command::new("capinfos").arg(&out).output().unwrap();
    assert!(capinfos.status.success(), "{}", text(&capinfos));
    assert!(
        text(&capinfos).contains("Time precision = microseconds (6)"),
        "{}",
        text(&capinfos)
    );
}

#[test]
fn the_builtin_check_annotates_too() {
    if !have("tshark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("twice.pcapng");
    // Two Hello Lola datagrams where the seed's claim wants exactly one.
    lola()
        .args(["check", "--annotate"])
        .arg(&out)
        .arg(fixture("seed-ipv4-twice.pcap"))
        .assert()
        .code(1);
    assert_eq!(
        comments(&out),
        [
            "lola: datagram ✓",
            "lola: datagram ✓; FAIL datagram: one more than the count allows (count 1)"
        ]
    );
    let (failing, warnings) = tshark(&out, r#"frame.comment contains "FAIL""#);
    assert_eq!((failing, warnings.as_str()), (vec![2], ""));
}

#[test]
fn a_pcapng_keeps_its_sections_interfaces_resolutions_and_comments() {
    if !have("tshark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "fmt-multi-section-mixed-endian.pcapng",
        "fmt-multi-interface.pcapng",
        "read-tsresol-pico.pcapng",
        "read-latin1-options.pcapng",
        "hello-lola-ipv6.pcapng",
    ] {
        let out = dir.path().join(name);
        lola()
            .args(["check", "-q", "--annotate"])
            .arg(&out)
            .arg(fixture(name))
            .assert()
            .success();
        assert_eq!(
            fields_but_comments(&out, INTERFACE),
            fields_but_comments(&fixture(name), INTERFACE),
            "{name}"
        );
        // Every comment the frame had stays, lola's comes last.
        let annotated = comments(&out);
        assert!(
            annotated.iter().any(|c| c.contains("lola: ")),
            "{name}: {annotated:?}"
        );
        for (before, after) in comments(&fixture(name)).iter().zip(annotated) {
            let kept = if before.is_empty() {
                after.clone()
            } else {
                after
                    .strip_prefix(&format!("{before},"))
                    .unwrap_or_else(|| panic!("{name}: {before:?} lost in {after:?}"))
                    .to_string()
            };
            assert!(
                kept.is_empty() || kept.starts_with("lola: "),
                "{name}: {after:?}"
            );
        }
        assert_eq!(tshark(&out, "frame").1, "", "{name}");
    }
}

#[test]
fn annotate_writes_whole_or_nothing_and_one_capture_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcapng");
    // A capture lola cannot read leaves no copy.
    lola()
        .args(["check", "--annotate"])
        .arg(&out)
        .arg(fixture("bad-magic.pcap"))
        .assert()
        .code(2);
    assert!(!out.exists());
    let o = lola()
        .args(["check", "--annotate"])
        .arg(&out)
        .arg(fixture("seed-ipv4.pcap"))
        .arg(fixture("seed-ipv6.pcap"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("--annotate copies one capture"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
    let o = lola()
        .args(["check", "--annotate"])
        .arg(&out)
        .arg("-")
        .write_stdin(fs::read(fixture("seed-ipv4.pcap")).unwrap())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("not standard input"), "{}", text(&o));
    assert!(!out.exists());
    // An output that cannot be written stops the check before it reads.
    let o = lola()
        .args(["check", "--annotate"])
        .arg(dir.path().join("no/such/dir.pcapng"))
        .arg(fixture("seed-ipv4.pcap"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "{}", text(&o));
    assert!(
        text(&o).contains("no such file or directory"),
        "{}",
        text(&o)
    );
}

#[test]
fn run_writes_a_pcapng_whose_frame_says_it_held_the_check() {
    if !have("tshark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hello.pcapng");
    let o = lola()
        .args(["run", "--port", "0", "--capture", "off", "-w"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(comments(&out).len(), 1);
    assert!(
        comments(&out)[0].ends_with("lola: datagram ✓"),
        "{:?}",
        comments(&out)
    );
    // The size it reports is the file's, comment and all.
    let size = fs::metadata(&out).unwrap().len();
    assert!(text(&o).contains(&format!("{size} bytes")), "{}", text(&o));
    // A pcap has no place for comments: it is left as written.
    let pcap = dir.path().join("hello.pcap");
    lola()
        .args(["run", "--port", "0", "--capture", "off", "-w"])
        .arg(&pcap)
        .assert()
        .success();
    assert_eq!(&fs::read(&pcap).unwrap()[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
}

#[test]
fn exec_comments_the_echo_services_requests_and_replies() {
    if !common::sandbox::root_for("lola exec on a private lo")
        || !common::sandbox::netns_allowed()
        || !have("tshark")
        || !have("python3")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("echo.py"),
        r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 9999))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    c.sendto(b"ping %d" % i, ("127.0.0.1", 9999))
    data, addr = s.recvfrom(100)
    s.sendto(data.upper(), addr)
    c.recvfrom(100)
"#,
    )
    .unwrap();
    fs::write(
        dir.path().join("echo.toml"),
        r#"
[settings]
forbid = ['tcp']

[[expect]]
name = "request"
match = 'udp.dstport == 9999'
count = '== 3'

[[expect]]
name = "reply"
match = 'udp.srcport == 9999'
where = ['data.text contains "PONG"']
after = "request"
count = '>= 1'
"#,
    )
    .unwrap();
    let o = lola()
        .current_dir(dir.path())
        .args(["exec", "--expect", "echo.toml", "-w", "echo.pcapng", "--"])
        .args(["python3", "echo.py"])
        .output()
        .unwrap();
    // The replies say PING, not PONG: reply fails, and its three frames are
    // the evidence.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = dir.path().join("echo.pcapng");
    let (requests, warnings) = tshark(&out, r#"frame.comment contains "request ✓""#);
    assert_eq!((requests, warnings.as_str()), (vec![1, 3, 5], ""));
    let (replies, _) = tshark(&out, r#"frame.comment contains "reply""#);
    assert_eq!(replies, [2, 4, 6]);
    let (failing, _) = tshark(&out, r#"frame.comment contains "FAIL""#);
    assert_eq!(failing, [2, 4, 6]);
    assert!(
        comments(&out)[1].contains(r#"lola: FAIL reply: data.text contains "PONG": "#),
        "{:?}",
        comments(&out)
    );
}

#[test]
fn capture_comments_only_what_it_judged() {
    if !common::can_capture() || !have("tshark") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_udp_port().to_string();
    let set = dir.path().join("hello.toml");
    fs::write(
        &set,
        format!("[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == {port}'\n"),
    )
    .unwrap();
    let record = |out: &Path, judged: bool| {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("lola"));
        c.args(["capture", "-i", "lo", "-c", "1", "--duration", "20s"])
            .args(["--filter-port", &port, "-w"])
            .arg(out);
        if judged {
            c.arg("--expect").arg(&set);
        }
        let mut child = c
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // Until the capture has its frame and ends.
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success());
                break;
            }
            socket.send_to(b"hi", format!("127.0.0.1:{port}")).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let judged = dir.path().join("judged.pcapng");
    record(&judged, true);
    assert_eq!(comments(&judged).len(), 1);
    assert!(
        comments(&judged)[0].ends_with("lola: hello ✓"),
        "{:?}",
        comments(&judged)
    );
    let unjudged = dir.path().join("unjudged.pcapng");
    record(&unjudged, false);
    assert!(
        !comments(&unjudged)[0].contains("lola: "),
        "{:?}",
        comments(&unjudged)
    );
}
