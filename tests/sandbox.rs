//! Capture without root: `--capture private|auto` on a lo of lola's own,
//! `lola exec`, `lola doctor`. These drop privileges to uid 65534 (nobody)
//! themselves when run as root, as CI does. Where the kernel forbids user
//! namespaces they say they were skipped (and fail under CI=true).

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::sandbox::{NOBODY, Sandbox, is_root, netns_allowed, userns_allowed};
use common::{assert_valid_junit, frames_of, lola, text};

#[test]
fn run_as_an_unprivileged_user_captures_live_on_a_private_lo() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let o = s.unprivileged(&["run"]).output().unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("Just here on 7456..."),
        "the default port: {out}"
    );
    assert!(
        out.contains("captured on a private lo (user namespace): 1 frame of this run's flow"),
        "{out}"
    );
    assert!(out.contains("synthesized vs observed: equivalent"), "{out}");
    assert!(!out.contains("note: no live capture"), "{out}");
    let observed = s.path().join("hello-lola.observed.pcap");
    assert_eq!(frames_of(&observed).len(), 1);
    // Root in the namespace is nobody outside it.
    assert_eq!(fs::metadata(&observed).unwrap().uid(), NOBODY);
    assert_eq!(
        fs::metadata(s.path().join("hello-lola.pcap"))
            .unwrap()
            .uid(),
        NOBODY
    );

    let o = s
        .unprivileged(&["run", "--capture", "private", "--json", "-o", "j.pcap"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert_eq!(v["capture"]["mode"], "live");
    assert_eq!(v["capture"]["place"], "private");
    assert_eq!(v["capture"]["observed"]["frames"], 1);

    // The private lo has ::1 too.
    let o = s
        .unprivileged(&["run", "--to", "[::1]:7456", "--json", "-o", "v6.pcap"])
        .output()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert_eq!(v["capture"]["place"], "private");
    assert_eq!(v["capture"]["equivalent"], true, "{v:#}");
}

#[test]
fn twenty_parallel_unprivileged_runs_on_the_default_port_each_see_only_their_own_frame() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let children: Vec<_> = (0..20)
        .map(|i| {
            let name = format!("run-{i}.pcap");
            s.unprivileged(&["run", "--json", "-o", &name])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "run {i}: {}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            v["exchange"]["server"]["addr"], "127.0.0.1",
            "run {i}: {v:#}"
        );
        assert_eq!(v["exchange"]["server"]["port"], 7456, "run {i}: {v:#}");
        assert_eq!(v["capture"]["place"], "private", "run {i}: {v:#}");
        let observed = s.path().join(format!("run-{i}.observed.pcap"));
        let frames = frames_of(&observed);
        assert_eq!(frames.len(), 1, "run {i}: only its own frame");
        // The one frame is this run's datagram: its client's port.
        let client = std::net::SocketAddr::new(
            v["exchange"]["client"]["addr"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
            v["exchange"]["client"]["port"].as_u64().unwrap() as u16,
        );
        let packet = lola::packet::decode::decode(1, &frames[0], frames[0].len());
        assert_eq!(
            packet.endpoints(),
            Some((client, "127.0.0.1:7456".parse().unwrap())),
            "run {i}"
        );
    }
}

#[test]
fn exec_passes_the_seed_udp_scripts() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let o = s
        .unprivileged(&[
            "exec",
            "-o",
            "seed.pcap",
            "--count",
            "1",
            "--",
            "sh",
            "-c",
            "python3 server.py & until grep -q ':1D20 ' /proc/net/udp; do sleep 0.02; done; python3 client.py; wait",
        ])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    // The scripts' own output passes through.
    assert!(out.contains("Just here on 7456..."), "{out}");
    assert!(out.contains("DATA: b'Hello Lola'"), "{out}");
    assert!(out.contains("sh exited with status 0"), "{out}");
    assert!(
        out.contains("captured on a private lo (user namespace): 1 frame; wrote seed.pcap"),
        "{out}"
    );
    assert!(out.contains("PASS seed.pcap: exactly 1 datagram"), "{out}");
    assert_eq!(frames_of(&s.path().join("seed.pcap")).len(), 1);
    assert_eq!(
        fs::metadata(s.path().join("seed.pcap")).unwrap().uid(),
        NOBODY
    );
}

#[test]
fn exec_fails_the_tcp_scripts_and_lists_the_handshake() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let o = s
        .unprivileged(&[
            "exec",
            "-o",
            "tcp.pcapng",
            "--count",
            "1",
            "--report",
            "tcp.html",
            "--",
            "sh",
            "-c",
            "python3 tcp_server.py & until grep -q ':1D20 00000000:0000 0A' /proc/net/tcp; do sleep 0.02; done; python3 tcp_client.py; wait",
        ])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL tcp.pcapng"), "{out}");
    assert!(out.contains("including a handshake"), "{out}");
    assert!(out.contains("[SYN] "), "{out}");
    assert!(out.contains("[SYN, ACK] "), "{out}");
    assert!(
        out.contains("=> handshake on the expected endpoints"),
        "{out}"
    ); // --report: the verdict, the handshake frames and the ladder, in one HTML file.
    let html = fs::read_to_string(s.path().join("tcp.html")).unwrap();
    assert!(
        html.contains("<span class=\"verdict fail\">FAIL</span>"),
        "{html}"
    );
    assert!(
        html.contains("handshake on the expected endpoints"),
        "{html}"
    );
    assert!(html.contains(">SYN · 74 B</text>"), "{html}");
}

#[test]
fn sigint_to_exec_mid_run_stops_the_program_and_writes_a_valid_capture() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let mut child = s
        .unprivileged(&[
            "exec",
            "-o",
            "int.pcapng",
            "--count",
            "1",
            "--",
            "sh",
            "-c",
            "python3 server.py & until grep -q ':1D20 ' /proc/net/udp; do sleep 0.02; done; python3 client.py; wait; sleep 60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    // The server printed what it received: the datagram has crossed lo.
    while !seen.contains("FROM: ") {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "{seen}");
        seen.push_str(&line);
    }
    // SAFETY: signalling our own child (setpriv exec'd lola: same pid).
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the program was stopped"
    );
    let out = seen + &rest;
    // The capture so far is written and judged, but an interrupted run is
    // an error, never a pass.
    assert_eq!(status.code(), Some(2), "{out}");
    assert!(
        out.contains("sh interrupted: lola received SIGINT"),
        "{out}"
    );
    assert!(out.contains("PASS int.pcapng"), "{out}");
    let path = s.path().join("int.pcapng");
    assert_eq!(frames_of(&path).len(), 1);
    if common::have("capinfos") {
        let o = Command::new("capinfos")
            .arg("-c")
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Number of packets:   1"),
            "{}",
            text(&o)
        );
    }
}

#[test]
fn exec_reports_a_failing_program_and_exits_2_unless_told_to_ignore_it() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let o = s
        .unprivileged(&["exec", "--count", "0", "--", "sh", "-c", "exit 3"])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("sh exited with status 3"), "{out}");
    assert!(
        out.contains("captured on a private lo (user namespace): 0 frames; wrote exec.pcap"),
        "{out}"
    );
    let o = s
        .unprivileged(&[
            "exec",
            "--ignore-exit",
            "--exactly",
            "0",
            "--",
            "sh",
            "-c",
            "exit 3",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let started = Instant::now();
    let o = s
        .unprivileged(&[
            "exec",
            "--count",
            "0",
            "--timeout",
            "300ms",
            "--",
            "sleep",
            "60",
        ])
        .output()
        .unwrap();
    let out = text(&o);
    assert!(started.elapsed() < Duration::from_secs(10), "{out}");
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("sleep still running after 300ms; stopped by lola"),
        "{out}"
    );

    let o = s
        .unprivileged(&["exec", "--", "no-such-program-lola"])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("lola: cannot run no-such-program-lola:"),
        "{out}"
    );
}

#[test]
fn exec_json_keeps_stdout_for_the_report() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let o = s
        .unprivileged(&[
            "exec",
            "--json",
            "-o",
            "j.pcap",
            "--",
            "sh",
            "-c",
            "python3 server.py & until grep -q ':1D20 ' /proc/net/udp; do sleep 0.02; done; python3 client.py; wait",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert_eq!(v["program"]["ending"], "exited");
    assert_eq!(v["capture"]["place"], "private");
    assert_eq!(v["capture"]["isolation"], "user");
    assert_eq!(v["capture"]["frames"], 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("Just here on 7456..."));

    // check's expectation options judge exec's capture the same way.
    let o = s
        .unprivileged(&[
            "exec",
            "-o",
            "opts.pcap",
            "--dst",
            "127.0.0.1:7456",
            "--at-least",
            "2",
            "--",
            "sh",
            "-c",
            "python3 server.py & until grep -q ':1D20 ' /proc/net/udp; do sleep 0.02; done; python3 client.py; wait",
        ])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "one datagram is not at least 2: {out}"
    );
    assert!(
        out.contains("FAIL opts.pcap: expected at least 2 datagrams"),
        "{out}"
    );
}

#[test]
fn doctor_says_which_modes_work_here() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let o = s.unprivileged(&["doctor"]).output().unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        row(&out, "CAP_NET_RAW on the host lo").starts_with("no: live capture needs CAP_NET_RAW"),
        "{out}"
    );
    assert_eq!(row(&out, "private lo (user namespace)"), "yes", "{out}");
    assert_eq!(
        row(&out, "--capture auto"),
        "captures on a private lo (user namespace)",
        "{out}"
    );
    assert_eq!(
        row(&out, "--capture host"),
        "exits 2 (no CAP_NET_RAW)",
        "{out}"
    );
    if is_root() {
        let o = lola().arg("doctor").output().unwrap();
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert_eq!(row(&out, "CAP_NET_RAW on the host lo"), "yes", "{out}");
        assert_eq!(row(&out, "private lo (network namespace)"), "yes", "{out}");
        assert_eq!(
            row(&out, "private lo for uid 65534 (user ns)"),
            "yes",
            "{out}"
        );
        assert_eq!(
            row(&out, "--capture auto"),
            "captures on the host lo",
            "{out}"
        );
    }
}

/// The value of doctor's row `label`.
fn row(out: &str, label: &str) -> String {
    out.lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no row {label:?} in {out}"))
        .trim()
        .to_string()
}

#[test]
fn auto_falls_back_to_synthesis_with_the_cause_when_no_namespace_may_be_made() {
    // A user namespace of the test's own where network namespaces are
    // limited to 0 (a per-namespace limit: the machine's stays as it is).
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let script = format!(
        "echo 0 > /proc/sys/user/max_net_namespaces && {lola} doctor > doctor.txt; echo $? > doctor.rc; exec {lola} run --port 0",
        lola = s.lola.display()
    );
    let o = Command::new("unshare")
        .args(["--user", "--map-root-user", "sh", "-c", &script])
        .current_dir(s.path())
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(
            "note: no live capture: no CAP_NET_RAW for the host lo, and no private lo: \
             network namespaces are disabled (user.max_net_namespaces = 0); fix: "
        ),
        "{out}"
    );
    assert!(!s.path().join("hello-lola.observed.pcap").exists());
    // lola doctor gives the same cause, with its fix, and exits 1.
    let doctor = fs::read_to_string(s.path().join("doctor.txt")).unwrap();
    assert_eq!(
        fs::read_to_string(s.path().join("doctor.rc"))
            .unwrap()
            .trim(),
        "1"
    );
    assert_eq!(
        row(&doctor, "--capture auto"),
        "synthesizes the frames: network namespaces are disabled (user.max_net_namespaces = 0)",
        "{doctor}"
    );
    assert!(
        doctor.contains("fix: sudo sysctl -w user.max_net_namespaces=15000"),
        "{doctor}"
    );
    assert_eq!(row(&doctor, "user.max_net_namespaces"), "0", "{doctor}");
}

#[test]
fn a_root_run_in_private_mode_uses_a_network_namespace_and_host_mode_the_host_lo() {
    if !is_root() {
        eprintln!("SKIPPED: not root; the unprivileged cases are the other tests");
        return;
    }
    if !netns_allowed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (mode, place) in [
        ("private", "private"),
        ("host", "host"),
        ("live", "host"),
        ("auto", "host"),
    ] {
        let o = lola()
            .current_dir(dir.path())
            .args(["run", "--port", "0", "--json", "--capture", mode])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["capture"]["place"], place, "--capture {mode}: {v:#}");
        assert_eq!(v["verdict"], "pass", "--capture {mode}: {v:#}");
    }
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "private"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "captured on a private lo (network namespace): 1 frame",
        ));
    // compare --json names the place of each side too.
    for (mode, place) in [("host", "host"), ("private", "private")] {
        let o = lola()
            .current_dir(dir.path())
            .args(["compare", "--port", "0", "--json", "--capture", mode])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["verdict"], "pass", "--capture {mode}: {v:#}");
        assert_eq!(v["tcp"]["place"], place, "--capture {mode}: {v:#}");
        assert_eq!(v["udp"]["place"], place, "--capture {mode}: {v:#}");
    }
}

#[test]
fn compare_and_send_as_an_unprivileged_user_capture_on_a_private_lo() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let o = s.unprivileged(&["compare"]).output().unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("TCP: one connection carrying \"Hello Lola\" → ./tcp.pcap\n  captured live on a private lo (user namespace)"),
        "{out}"
    );
    assert!(
        out.contains("UDP: one datagram carrying \"Hello Lola\" → ./udp.pcap\n  captured live on a private lo (user namespace)"),
        "{out}"
    );
    assert!(
        out.contains("./tcp.pcap: handshake found, as expected"),
        "{out}"
    );
    assert!(
        out.contains("./udp.pcap: one datagram, no handshake: lola check passes"),
        "{out}"
    );
    // --json names the lo each side was captured on.
    let o = s
        .unprivileged(&["compare", "--port", "0", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(v["verdict"], "pass", "{v:#}");
    for side in ["tcp", "udp"] {
        assert_eq!(v[side]["live"], true, "{side}: {v:#}");
        assert_eq!(v[side]["place"], "private", "{side}: {v:#}");
    }

    // Nobody listens on the private lo: the kernel's ICMP answer is captured too.
    let o = s
        .unprivileged(&["send", "--capture", "private", "-o", "send.pcap"])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("captured on a private lo (user namespace): 2 frames; wrote send.pcap"),
        "{out}"
    );
    assert!(
        out.contains("ICMP port unreachable from 127.0.0.1"),
        "{out}"
    );

    // The host lo stays out of reach without CAP_NET_RAW.
    let o = s
        .unprivileged(&["run", "--port", "0", "--capture", "host"])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("lola: cannot capture on lo: live capture needs CAP_NET_RAW"),
        "{out}"
    );
    assert!(
        out.contains("; --capture private (or auto) captures on a private lo without it"),
        "{out}"
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).lines().count(),
        1,
        "one line: {out}"
    );

    // lola capture records the host's interfaces only; it points to exec.
    let o = s
        .unprivileged(&["capture", "--duration", "1s", "-o", "lo.pcap"])
        .output()
        .unwrap();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("lola: cannot capture on lo: live capture needs CAP_NET_RAW"),
        "{out}"
    );
    assert!(
        out.contains("; without it, lola exec -- CMD records what a program puts on a private lo"),
        "{out}"
    );
    assert!(!s.path().join("lo.pcap").exists(), "{out}");
}

#[test]
fn exec_as_root_is_isolated_unless_host_is_asked_for() {
    if !is_root() {
        eprintln!("SKIPPED: not root; the unprivileged cases are the other tests");
        return;
    }
    if !netns_allowed() {
        return;
    }
    let s = Sandbox::new();
    let script = "python3 server.py & until grep -q ':1D20 ' /proc/net/udp; do sleep 0.02; done; python3 client.py; wait";
    lola()
        .current_dir(s.path())
        .args(["exec", "--", "sh", "-c", script])
        .assert()
        .code(0)
        .stdout(predicates::str::contains(
            "captured on a private lo (network namespace): 1 frame; wrote exec.pcap",
        ));
    // On the host lo, 7456 may be taken by a parallel test: a free port.
    let port = common::free_udp_port().to_string();
    let script = format!(
        "python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'Hello Lola', ('127.0.0.1', {port}))\""
    );
    lola()
        .current_dir(s.path())
        .args([
            "exec",
            "--host",
            "--dst-port",
            &port,
            "--",
            "sh",
            "-c",
            &script,
        ])
        .assert()
        .stdout(predicates::str::contains("captured on the host lo: "));
}

#[test]
fn the_private_namespace_has_only_its_own_lo_and_the_host_lo_is_untouched() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    let o = s
        .unprivileged(&[
            "exec",
            "--exactly",
            "0",
            "--",
            "sh",
            "-c",
            "cat /proc/net/dev",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let interfaces: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim()))
        .filter(|name| !name.is_empty() && !name.contains(' ') && !name.contains('|'))
        .collect();
    assert_eq!(interfaces, ["lo"], "{out}");
    // The host's lo is untouched: still up, as before.
    let flags = fs::read_to_string("/sys/class/net/lo/flags").unwrap();
    let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).unwrap();
    assert_eq!(flags & 1, 1, "IFF_UP on the host lo");
}

/// A request to 7456, then its reply, and nothing else.
const REPLY_TOML: &str = "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == 7456 && data.text == \"Hello Lola\"'\n\
     [[expect]]\nname = \"reply\"\nmatch = 'udp.srcport == 7456'\nafter = \"hello\"\nwhere = ['data.text == \"Hi\"']\n\
     [settings]\nexclusive = true\n";

/// The seed's one-way scripts, the client started once the server listens.
const SEED: &str = "python3 server.py & until grep -q ':1D20 ' /proc/net/udp; do sleep 0.02; done; python3 client.py; wait";

#[test]
fn exec_judges_the_capture_by_an_expectation_file_instead_of_the_flags() {
    let s = Sandbox::new();
    if !userns_allowed(&s) {
        return;
    }
    fs::write(s.path().join("reply.toml"), REPLY_TOML).unwrap();
    let exec = |args: &[&str]| {
        let mut all = vec!["exec", "--expect", "reply.toml"];
        all.extend(args);
        s.unprivileged(&all).output().unwrap()
    };
    // The request/reply program passes, with a JUnit case per expectation and rule.
    let o = exec(&[
        "-o", "r.pcap", "--junit", "r.xml", "--", "python3", "reply.py",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("server got b'Hello Lola', client got b'Hi'"),
        "{out}"
    );
    assert!(
        out.contains("wrote r.pcap (pcap, 152 bytes)\nPASS r.pcap: ")
            && out.contains(" held in 2 frames\n"),
        "{out}"
    );
    assert!(
        out.contains("  ok    reply: 1 frame held (count 1)\n"),
        "{out}"
    );
    assert!(
        !out.contains("datagram to port 7456"),
        "not the built-in check: {out}"
    );
    let junit = s.path().join("r.xml");
    assert_valid_junit(&junit);
    let xml = fs::read_to_string(&junit).unwrap();
    for case in [
        "hello",
        "reply",
        "exclusive: every frame matched by an expectation",
        "python3 exits with status 0",
    ] {
        assert!(
            xml.contains(&format!("<testcase name=\"{case}\"")),
            "{case}: {xml}"
        );
    }
    // The seed's one-way scripts have no reply: exit 1, and --json says which.
    let o = exec(&["--json", "-o", "seed.pcap", "--", "sh", "-c", SEED]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "fail", "{v:#}");
    let expectations = &v["check"]["expectations"];
    assert_eq!(
        (
            expectations[0]["held"].as_u64(),
            expectations[0]["verdict"].as_str()
        ),
        (Some(1), Some("pass"))
    );
    assert_eq!(expectations[1]["verdict"], "fail", "{v:#}");
    // exec's own rule stands: a failing program is exit 2, unless --ignore-exit.
    let failing = ["--", "sh", "-c", "python3 reply.py; exit 3"];
    let o = exec(&failing);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("PASS exec.pcap: "), "{}", text(&o));
    let o = exec(&[&["--ignore-exit"][..], &failing[..]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn exec_refuses_a_bad_expectation_file_before_the_program_runs() {
    let s = Sandbox::new();
    fs::write(
        s.path().join("bad.toml"),
        "[[expect]]\nname = \"a\"\nmatch = 'udp.prot == 1'\n",
    )
    .unwrap();
    fs::write(s.path().join("reply.toml"), REPLY_TOML).unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--expect", "bad.toml"],
            "lola: bad.toml:3:10: udp.prot == 1: unknown field udp.prot; did you mean udp.port?\n",
        ),
        (&["--expect", "bad.toml", "--json"], "lola: bad.toml:3:10: "),
        (
            &["--expect", "bad.toml", "--junit", "j.xml"],
            "lola: bad.toml:3:10: ",
        ),
        (&["--expect", "missing.toml"], "lola: missing.toml: "),
        (
            &["--expect", "reply.toml", "--dst-port", "9"],
            "lola: the argument '--expect <TOML>' cannot be used with '--dst-port <P>'",
        ),
        (
            &["--expect", "reply.toml", "--record", "draft.toml"],
            "lola: the argument '--expect <TOML>' cannot be used with '--record <FILE>'",
        ),
    ];
    for (options, says) in cases {
        let mut args = vec!["exec"];
        args.extend(options);
        args.extend(["--", "touch", "ran"]);
        let o = s.unprivileged(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{options:?}: {}", text(&o));
        assert!(stderr.starts_with(says), "{options:?}: {stderr}");
        assert!(
            !s.path().join("ran").exists(),
            "{options:?}: the program ran"
        );
        assert!(
            !s.path().join("exec.pcap").exists(),
            "{options:?}: something was captured"
        );
    }
    // The reports CI reads still say why.
    let xml = fs::read_to_string(s.path().join("j.xml")).unwrap();
    assert!(xml.contains("bad.toml:3:10"), "{xml}");
    // The marker proves something: with a good file the program runs and leaves it.
    if userns_allowed(&s) {
        let o = s
            .unprivileged(&["exec", "--expect", "reply.toml", "--", "touch", "ran"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "no exchange: {}", text(&o));
        assert!(s.path().join("ran").exists(), "{}", text(&o));
    }
}
