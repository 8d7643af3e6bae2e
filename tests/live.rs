//! Live capture on lo: what the kernel really sent during `lola run` and
//! `lola send`. These need CAP_NET_RAW; without it they say they were skipped
//! (and fail under CI=true, where they must run).

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use common::sandbox::{Sandbox, is_root, userns_allowed};
use common::{can_capture, frames_of, free_udp_port, have, json_of, lola};
use lola::capture::CaptureReader;
use predicates::str::contains;

/// Reads `child`'s stderr until a line says `marker` (it has started).
fn wait_for_line(child: &mut std::process::Child, marker: &str) {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains(marker) {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no line with {marker:?}: it did not start"
        );
    }
}

fn run_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    json_of(
        lola()
            .current_dir(dir)
            .args(["run", "--capture", "live", "--json"])
            .args(args),
    )
}

#[test]
fn a_live_run_observes_exactly_one_frame_over_ipv4_and_ipv6() {
    if !can_capture() {
        return;
    }
    for to in ["127.0.0.1:0", "[::1]:0"] {
        let dir = tempfile::tempdir().unwrap();
        let v = run_json(dir.path(), &["--to", to]);
        assert_eq!(v["verdict"], "pass", "{v:#}");
        assert_eq!(v["capture"]["mode"], "live");
        assert_eq!(v["capture"]["observed"]["frames"], 1, "{v:#}");
        assert_eq!(v["capture"]["check"]["matched_count"], 1);
        assert_eq!(v["capture"]["equivalent"], true, "{v:#}");
        let observed = dir.path().join("hello-lola.observed.pcap");
        assert_eq!(frames_of(&observed).len(), 1);
    }
}

#[test]
fn the_comparison_names_the_expected_differences() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "live"])
        .assert()
        .code(0)
        .stdout(contains("synthesized vs observed: equivalent"))
        .stdout(contains("ip.id"))
        .stdout(contains("expected: Linux picks the IPv4 identification"))
        .stdout(contains(
            "expected: Linux leaves the UDP checksum partial on lo",
        ));
}

#[test]
fn the_observed_file_matches_what_tcpdump_records() {
    if !can_capture() || !have("tcpdump") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A free port, so tcpdump's filter can name it before lola runs.
    let port = free_udp_port();
    let reference = dir.path().join("tcpdump.pcap");
    let mut tcpdump = StdCommand::new("tcpdump")
        .args(["-i", "lo", "-nn", "--immediate-mode", "-U", "-w"])
        .arg(&reference)
        .arg(format!("udp port {port}"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_line(&mut tcpdump, "listening on");
    let v = run_json(dir.path(), &["--port", &port.to_string()]);
    assert_eq!(v["verdict"], "pass");
    // Give tcpdump time to write, then stop it as a person would (Ctrl-C).
    let deadline = Instant::now() + Duration::from_secs(5);
    while frames_of_len(&reference) < 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending SIGINT to a child we spawned.
    unsafe { libc::kill(tcpdump.id() as i32, libc::SIGINT) };
    tcpdump.wait().unwrap();
    let ours = frames_of(&dir.path().join("hello-lola.observed.pcap"));
    let theirs = frames_of(&reference);
    assert_eq!(ours.len(), theirs.len(), "frame count");
    assert_eq!(ours, theirs, "same bytes, apart from timestamps");
}

fn frames_of_len(path: &Path) -> usize {
    match CaptureReader::open(path) {
        Ok(mut r) => {
            let mut n = 0;
            while let Ok(Some(_)) = r.next_frame() {
                n += 1;
            }
            n
        }
        Err(_) => 0,
    }
}

#[test]
fn twenty_parallel_runs_each_observe_only_their_own_datagram() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("lola");
    let children: Vec<_> = (0..20)
        .map(|i| {
            StdCommand::new(&bin)
                .current_dir(dir.path())
                .args(["run", "--port", "0", "--capture", "live", "--json", "-o"])
                .arg(format!("run{i}.pcap"))
                .arg("--message")
                .arg(format!("Hello Lola {i}"))
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "run {i}");
        let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(v["capture"]["observed"]["frames"], 1, "run {i}: {v:#}");
        assert_eq!(v["capture"]["check"]["frames"], 1, "run {i}");
        let frames = frames_of(&dir.path().join(format!("run{i}.observed.pcap")));
        assert!(
            frames[0].ends_with(format!("Hello Lola {i}").as_bytes()),
            "run {i} saw another run's frame"
        );
    }
}

#[test]
fn a_send_with_no_listener_is_captured_with_the_icmp_port_unreachable() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on: bound, read, released.
    let port = free_udp_port();
    let out = dir.path().join("send.pcap");
    lola()
        .args([
            "send",
            "--to",
            &format!("127.0.0.1:{port}"),
            "--capture",
            "live",
            "-o",
        ])
        .arg(&out)
        .assert()
        .code(0)
        .stdout(contains("captured on the host lo: 2 frames"))
        .stdout(contains("the datagram 127.0.0.1:"))
        .stdout(contains(format!(
            "ICMP port unreachable from 127.0.0.1: nobody listens on 127.0.0.1:{port}"
        )));
    lola()
        .arg("check")
        .arg(&out)
        .args(["--dst-port", &port.to_string()])
        .assert()
        .code(0)
        .stdout(contains("frame 2: ICMP port unreachable"));
    assert_eq!(frames_of(&out).len(), 2);
}

#[test]
fn capture_live_fails_with_exit_2_where_it_is_not_permitted() {
    // Only meaningful without the capability; as root this checks the
    // opposite: --capture live succeeds.
    let dir = tempfile::tempdir().unwrap();
    let permitted =
        lola::host::live::Capture::open("lo", lola::host::live::FlowFilter::default()).is_ok();
    let assert = lola()
        .current_dir(dir.path())
        .args(["run", "--port", "0", "--capture", "live"])
        .assert();
    if permitted {
        assert.code(0);
    } else {
        assert
            .code(2)
            .stderr(contains("live capture needs CAP_NET_RAW"));
    }
    fs::remove_dir_all(dir.path()).ok();
}

/// Starts `tcpdump -i lo -w reference` with `filter` and waits until it
/// listens. `-O`: libpcap's optimizer needs minutes of CPU for a thousand
/// ports, and lo's traffic piles up meanwhile; the unoptimized program
/// keeps the same frames.
fn start_tcpdump(reference: &Path, filter: &str) -> std::process::Child {
    let mut tcpdump = StdCommand::new("tcpdump")
        .args(["-i", "lo", "-nn", "-O", "-B", "16384", "--immediate-mode"])
        .args(["-U", "-w"])
        .arg(reference)
        .arg(filter)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_line(&mut tcpdump, "listening on");
    tcpdump
}

/// `lola capture --filter-port` with `n` ports three apart from `base`
/// (none merge into a range) keeps the same frames as tcpdump given the
/// equivalent `udp port a or udp port b ...`: datagrams to and from the
/// first, the 60th, 61st, 255th, 256th and last port, over IPv4 and IPv6,
/// the ICMP port unreachable about one sent to the second (nobody listens
/// there), and none of those sent first to unlisted ports between them.
fn filter_ports_keep_what_tcpdump_keeps(n: usize, base: u16) {
    if !can_capture() || !have("tcpdump") {
        return;
    }
    let ports: Vec<u16> = (0..n).map(|i| base + 3 * i as u16).collect();
    let mut wanted: Vec<u16> = [0, 59, 60, 254, 255, n - 1]
        .iter()
        .filter(|&&i| i < n)
        .map(|&i| ports[i])
        .collect();
    wanted.dedup();
    let unwanted: Vec<u16> = wanted.iter().map(|p| p + 1).collect();
    // The second port is never among the wanted ones (for n >= 3).
    let unreachable = (n >= 3).then(|| ports[1]);
    let bind = |addr: &str, port: u16| {
        std::net::UdpSocket::bind((addr, port))
            .unwrap_or_else(|e| panic!("cannot bind {addr} port {port} for the test: {e}"))
    };
    let listed: Vec<std::net::UdpSocket> = wanted.iter().map(|&p| bind("127.0.0.1", p)).collect();
    let others: Vec<std::net::UdpSocket> = unwanted.iter().map(|&p| bind("127.0.0.1", p)).collect();
    let listed6: Vec<std::net::UdpSocket> = wanted.iter().map(|&p| bind("::1", p)).collect();
    let sender = bind("127.0.0.1", 0);
    let sender6 = bind("::1", 0);

    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("tcpdump.pcap");
    let ours = dir.path().join("lola.pcap");
    let mut filter = ports
        .iter()
        .map(|p| format!("udp port {p}"))
        .collect::<Vec<_>>()
        .join(" or ");
    if let Some(port) = unreachable {
        // The quoted UDP header's destination port (20-byte inner IPv4 header).
        filter.push_str(&format!(" or (icmp and icmp[30:2] == {port})"));
    }
    let mut tcpdump = start_tcpdump(&reference, &filter);
    // Until tcpdump has worked through what lo carried while it started,
    // frames sent now could find its buffer full: wait for a sentinel.
    let sentinel = b"lola sentinel";
    let deadline = Instant::now() + Duration::from_secs(30);
    while frames_of_len(&reference) == 0 {
        assert!(Instant::now() < deadline, "tcpdump never caught up");
        sender.send_to(sentinel, ("127.0.0.1", wanted[0])).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }

    let expected = 3 * wanted.len() + 2 * usize::from(unreachable.is_some());
    let mut capture = StdCommand::new(assert_cmd::cargo::cargo_bin("lola"))
        .args(["capture", "-i", "lo", "--duration", "10s", "-c"])
        .arg(expected.to_string())
        .args(
            ports
                .iter()
                .flat_map(|p| ["--filter-port".to_string(), p.to_string()]),
        )
        .arg("-o")
        .arg(&ours)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_line(&mut capture, "capturing on lo");

    let mut sent = 0;
    let mut send = |from: &std::net::UdpSocket, to: (&str, u16)| {
        let text = format!("lola filter {n} #{sent}");
        from.send_to(text.as_bytes(), to).unwrap();
        sent += 1;
    };
    // Unlisted first: a filter that kept them would fill -c with them.
    for &port in &unwanted {
        send(&sender, ("127.0.0.1", port));
    }
    for ((&port, from), &to) in wanted.iter().zip(&listed).zip(&unwanted) {
        send(&sender, ("127.0.0.1", port)); // listed as destination
        send(from, ("127.0.0.1", to)); // listed as source
        send(&sender6, ("::1", port)); // over IPv6
    }
    if let Some(port) = unreachable {
        send(&sender, ("127.0.0.1", port));
    }

    let output = capture.wait_with_output().unwrap();
    assert!(output.status.success(), "lola capture failed");
    let deadline = Instant::now() + Duration::from_secs(10);
    let sentinels = |path: &Path| {
        frames_of(path)
            .into_iter()
            .filter(|f| !f.ends_with(sentinel))
            .collect::<Vec<_>>()
    };
    while sentinels(&reference).len() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: sending SIGINT to a child we spawned.
    unsafe { libc::kill(tcpdump.id() as i32, libc::SIGINT) };
    tcpdump.wait().unwrap();
    drop((listed, others, listed6));

    let ours = frames_of(&ours);
    let theirs = sentinels(&reference);
    assert_eq!(theirs.len(), expected, "{n} ports: tcpdump's count");
    assert_eq!(ours.len(), expected, "{n} ports: lola's count");
    assert_eq!(ours, theirs, "{n} ports: the same frames, byte for byte");
}

// Ports from 61000 up: above Linux's ephemeral range (32768-60999), so no
// other test's traffic falls into these filters; disjoint between tests.

#[test]
fn a_filter_on_one_port_keeps_what_tcpdump_keeps() {
    filter_ports_keep_what_tcpdump_keeps(1, 61000);
}

#[test]
fn a_filter_on_60_ports_keeps_what_tcpdump_keeps() {
    filter_ports_keep_what_tcpdump_keeps(60, 61010);
}

#[test]
fn a_filter_on_61_ports_keeps_what_tcpdump_keeps() {
    filter_ports_keep_what_tcpdump_keeps(61, 61200);
}

#[test]
fn a_filter_on_255_ports_keeps_what_tcpdump_keeps() {
    filter_ports_keep_what_tcpdump_keeps(255, 61400);
}

#[test]
fn a_filter_on_1000_ports_keeps_what_tcpdump_keeps() {
    filter_ports_keep_what_tcpdump_keeps(1000, 62200);
}

/// 2,100 scattered ports do not fit in the kernel's 4096 instructions: the
/// kernel then keeps all UDP/TCP/ICMP and lola's own filter chooses. Below
/// the ephemeral range, where nothing else in these tests binds.
#[test]
fn a_filter_on_2100_ports_keeps_what_tcpdump_keeps() {
    filter_ports_keep_what_tcpdump_keeps(2100, 26000);
}

/// Before Linux 6.9 a socket filter may take at most 20 KiB of socket memory
/// (net.core.optmem_max), less than 2,000 ports need: the capture then goes
/// on with the ports chosen in userspace. Run in a network namespace of its
/// own, whose optmem_max (per namespace since 6.9) can be lowered safely.
#[test]
fn a_filter_the_kernel_has_no_memory_for_still_captures_the_right_frames() {
    if !can_capture() {
        return;
    }
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut version = release
        .split(['.', '-'])
        .map(|n| n.parse::<u32>().unwrap_or(0));
    if (version.next().unwrap_or(0), version.next().unwrap_or(0)) < (6, 9) {
        // Older kernels share one optmem_max: the test must not change it.
        eprintln!(
            "SKIPPED: Linux {release} has no per-namespace optmem_max; this test did not run"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("capture.pcap");
    let ports: Vec<u16> = (0..2000).map(|i| 26000 + 3 * i).collect();
    let listed = ports[1999];
    let script = r#"ip link set lo up
        echo 20480 > /proc/sys/net/core/optmem_max
        out="$1" listed="$2" unlisted="$3"; shift 3
        "$LOLA" capture -c 2 --duration 10s -o "$out" "$@" 2> "$out.err" > /dev/null &
        until grep -qs "capturing on lo" "$out.err"; do
            kill -0 $! 2> /dev/null || { cat "$out.err" >&2; exit 1; }
            sleep 0.05
        done
        "$LOLA" send --to "127.0.0.1:$unlisted" > /dev/null
        "$LOLA" send --to "127.0.0.1:$listed" > /dev/null
        wait $!"#;
    let output = StdCommand::new("unshare")
        .args(["-n", "sh", "-euc", script, "sh"])
        .arg(&out)
        .arg(listed.to_string())
        .arg((ports[0] + 1).to_string())
        .args(
            ports
                .iter()
                .flat_map(|p| ["--filter-port".to_string(), p.to_string()]),
        )
        .env("LOLA", assert_cmd::cargo::cargo_bin("lola"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let frames = frames_of(&out);
    assert_eq!(
        frames.len(),
        2,
        "the datagram and its ICMP port unreachable"
    );
    assert_eq!(
        &frames[0][36..38],
        &listed.to_be_bytes(),
        "UDP to the listed port"
    );
    assert_eq!(frames[1][23], 1, "then ICMP");
    assert_eq!(
        &frames[1][14 + 20 + 8 + 20 + 2..][..2],
        &listed.to_be_bytes(),
        "about it"
    );
}

/// A datagram larger than lo's MTU crosses it as IP fragments; only the
/// first carries the ports. The live capture keeps every fragment of the
/// run's datagram, and the verdict and the comparison look at it
/// reassembled. (Before: "0 frames … not seen".)
#[test]
fn a_datagram_in_fragments_is_captured_whole_over_ipv6() {
    if !can_capture() {
        return;
    }
    // The largest UDP payload IPv6 carries: 65527 + 8 + 40 bytes is more
    // than lo's MTU of 65536, so two fragments.
    let dir = tempfile::tempdir().unwrap();
    let message = "x".repeat(65527);
    let v = run_json(
        dir.path(),
        &["--to", "[::1]:0", "--message", &message, "-o", "big.pcap"],
    );
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert_eq!(v["capture"]["observed"]["frames"], 2, "{v:#}");
    assert_eq!(v["capture"]["check"]["matched_count"], 1, "{v:#}");
    assert_eq!(v["capture"]["equivalent"], true, "{v:#}");
    let frames = frames_of(&dir.path().join("big.observed.pcap"));
    assert!(frames.iter().all(|f| f[20] == 44), "IPv6 fragments");
}

/// Runs `lola run --capture host --json ARGS` in a network namespace of its
/// own whose lo has an MTU of 1500, like an Ethernet link.
fn run_json_at_mtu_1500(dir: &Path, args: &[&str]) -> serde_json::Value {
    let script = r#"ip link set lo mtu 1500 up && exec "$LOLA" run --capture host --json "$@""#;
    let output = StdCommand::new("unshare")
        .args(["-n", "sh", "-c", script, "sh"])
        .args(args)
        .current_dir(dir)
        .env("LOLA", assert_cmd::cargo::cargo_bin("lola"))
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_datagram_above_an_mtu_of_1500_is_captured_in_all_its_fragments() {
    if !can_capture() {
        return;
    }
    let message = "y".repeat(3000);
    for (to, fragments) in [("127.0.0.1:0", 3), ("[::1]:0", 3)] {
        let dir = tempfile::tempdir().unwrap();
        let v = run_json_at_mtu_1500(dir.path(), &["--to", to, "--message", &message]);
        assert_eq!(v["verdict"], "pass", "{to}: {v:#}");
        assert_eq!(v["capture"]["observed"]["frames"], fragments, "{to}: {v:#}");
        assert_eq!(v["capture"]["check"]["matched_count"], 1, "{to}: {v:#}");
        assert_eq!(v["capture"]["equivalent"], true, "{to}: {v:#}");
        // tshark reassembles the observed capture into the same one datagram.
        if have("tshark") {
            let observed = dir.path().join("hello-lola.observed.pcap");
            let out = StdCommand::new("tshark")
                .arg("-r")
                .arg(&observed)
                .args(["-Y", "udp", "-T", "fields", "-e", "udp.length"])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), "3008\n", "{to}");
        }
    }
}

#[test]
fn send_names_the_fragments_of_a_datagram_larger_than_lo_s_mtu() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let to = format!("[::1]:{}", free_udp_port());
    lola()
        .current_dir(dir.path())
        .args(["send", "--to", &to, "--capture", "host", "-o", "big.pcap"])
        .arg("x".repeat(65527))
        .assert()
        .success()
        .stdout(contains("captured on the host lo: 3 frames"))
        .stdout(contains("frame 1  an IP fragment ::1 → ::1 (id 0x"))
        .stdout(contains(
            "frame 2  the last fragment of the datagram [::1]:",
        ))
        .stdout(contains(format!("→ {to} UDP Len=65527, reassembled")))
        .stdout(contains("frame 3  ICMP port unreachable"));
}

/// The observed pcapng carries what the kernel said: each frame's direction
/// and "checksum not ready" in `epb_flags` (Linux leaves the loopback UDP
/// checksum to an offload that never runs), and the socket's counters in an
/// Interface Statistics Block after the frames. tshark and capinfos see both.
#[test]
fn the_observed_pcapng_carries_the_kernels_own_facts() {
    if !can_capture() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.pcapng");
    lola()
        .args(["run", "--port", "0", "--capture", "host", "-o"])
        .arg(&out)
        .assert()
        .success();
    let observed = dir.path().join("h.observed.pcapng");
    let mut reader = CaptureReader::open(&observed).unwrap();
    let frame = reader.next_frame().unwrap().unwrap();
    let flags = frame.flags.expect("epb_flags on the observed frame");
    assert_eq!(flags & 0b11, 1, "inbound");
    assert_ne!(
        flags & lola::capture::EPB_CHECKSUM_NOT_READY,
        0,
        "the kernel said the UDP checksum was not ready"
    );
    assert!(reader.next_frame().unwrap().is_none());
    assert_eq!(reader.drops().total(), 0);
    if have("tshark") {
        let fields = StdCommand::new("tshark")
            .args(["-r"])
            .arg(&observed)
            .args(["-T", "fields", "-e", "frame.packet_flags"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&fields.stdout);
        assert_eq!(text.trim(), "0x00000201", "tshark's reading of epb_flags");
    }
    if have("capinfos") {
        let info = StdCommand::new("capinfos").arg(&observed).output().unwrap();
        let text = String::from_utf8_lossy(&info.stdout);
        assert!(
            text.contains("Number of stat entries = 1"),
            "capinfos finds the statistics block: {text}"
        );
    }
    // The synthesized file has lola's own correct checksum: no such flag.
    let mut written = CaptureReader::open(&out).unwrap();
    assert_eq!(written.next_frame().unwrap().unwrap().flags, None);
}

/// `lola capture --expect TOML -c 1` on lo while one "Hello Lola" goes to
/// `port`: its exit code and stdout.
fn capture_one_against(dir: &Path, port: u16, toml: &str) -> (Option<i32>, String) {
    let mut capture = StdCommand::new(assert_cmd::cargo::cargo_bin("lola"))
        .current_dir(dir)
        .args(["capture", "-i", "lo", "--duration", "10s", "-c", "1"])
        .args([
            "--filter-port",
            &port.to_string(),
            "-o",
            "c.pcap",
            "--expect",
            toml,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_line(&mut capture, "capturing on lo");
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"Hello Lola", ("127.0.0.1", port)).unwrap();
    let out = capture.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn capture_checks_what_it_wrote_against_an_expectation_file() {
    let dir = tempfile::tempdir().unwrap();
    // A bad file, or a capture that cannot be read again, stops it before it starts.
    fs::write(
        dir.path().join("bad.toml"),
        "[[expect]]\nname = \"a\"\nmatch = 'udp.prot == 1'\n",
    )
    .unwrap();
    for (output, toml, says) in [
        (
            "c.pcap",
            "bad.toml",
            "lola: bad.toml:3:10: udp.prot == 1: unknown field udp.prot; did you mean udp.port?\n",
        ),
        ("c.pcap", "missing.toml", "lola: missing.toml: "),
        (
            "-",
            "bad.toml",
            "lola: --expect checks the written capture again: give -o a file name\n",
        ),
    ] {
        let out = lola()
            .current_dir(dir.path())
            .args([
                "capture",
                "-c",
                "1",
                "--duration",
                "5s",
                "-o",
                output,
                "--expect",
                toml,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with(says), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "nothing captured: {stderr}");
        assert!(out.stdout.is_empty() && !dir.path().join("c.pcap").exists());
    }
    if !can_capture() {
        return;
    }
    let port = free_udp_port();
    let expect = |count: u32| {
        format!(
            "[[expect]]\nname = \"hello\"\nmatch = 'udp.dstport == {port}'\ncount = {count}\nwhere = ['data.text == \"Hello Lola\"']\n"
        )
    };
    fs::write(dir.path().join("one.toml"), expect(1)).unwrap();
    fs::write(dir.path().join("two.toml"), expect(2)).unwrap();
    let (code, stdout) = capture_one_against(dir.path(), port, "one.toml");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.starts_with("1 frame captured, 0 dropped by the kernel; wrote c.pcap"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "PASS c.pcap: 1 claim held in 1 frame\n  ok    hello: 1 frame held (count 1)\n"
        ),
        "{stdout}"
    );
    let (code, stdout) = capture_one_against(dir.path(), port, "two.toml");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL c.pcap: 1 of 1 claim failed in 1 frame"),
        "{stdout}"
    );
}

/// The sender of [`a_flood_paced_at_200000_datagrams_a_second_is_captured_whole`]:
/// this test binary again, run by `lola exec` with `LOLA_TEST_FLOOD="COUNT
/// SIZE PORT RATE"`. Sends COUNT datagrams of SIZE bytes to 127.0.0.1:PORT,
/// RATE a second, in `sendmmsg` batches of 100 µs, to a socket bound there
/// and never read (so no ICMP error joins the traffic). As an ordinary test it
/// does nothing.
#[test]
fn flood_sender() {
    let Ok(spec) = std::env::var("LOLA_TEST_FLOOD") else {
        return;
    };
    use std::os::fd::AsRawFd;
    let n: Vec<u64> = spec.split(' ').map(|v| v.parse().unwrap()).collect();
    let (count, size, port, rate) = (n[0], n[1] as usize, n[2] as u16, n[3]);
    let _sink = std::net::UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(("127.0.0.1", port)).unwrap();
    let payload = vec![b'L'; size];
    let batch = (rate / 10_000).clamp(1, 64) as usize;
    let mut iov: Vec<libc::iovec> = (0..batch)
        .map(|_| libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: size,
        })
        .collect();
    // SAFETY: mmsghdr is plain data; zeroed is valid.
    let mut msgs: Vec<libc::mmsghdr> = (0..batch).map(|_| unsafe { std::mem::zeroed() }).collect();
    for (m, v) in msgs.iter_mut().zip(iov.iter_mut()) {
        m.msg_hdr.msg_iov = v;
        m.msg_hdr.msg_iovlen = 1;
    }
    let started = Instant::now();
    let mut sent = 0;
    while sent < count {
        let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        let n = (count - sent).min(batch as u64) as u32;
        // SAFETY: `batch` >= n headers pointing at live iovecs and the payload.
        let done = unsafe { libc::sendmmsg(socket.as_raw_fd(), msgs.as_mut_ptr(), n, 0) };
        assert!(done > 0, "{}", std::io::Error::last_os_error());
        sent += done as u64;
    }
    println!("sent {sent} in {:?}", started.elapsed());
}

#[test]
fn a_flood_paced_at_200000_datagrams_a_second_is_captured_whole() {
    if !can_capture() {
        return;
    }
    // As root, and as nobody in a user namespace of its own (the private
    // lo `lola exec` makes for an unprivileged user).
    let s = Sandbox::new();
    let mut modes = vec![false];
    if is_root() && userns_allowed(&s) {
        modes.push(true);
    }
    let me = std::env::current_exe().unwrap();
    let me = me.to_str().unwrap();
    for unprivileged in modes {
        let args = [
            "exec",
            "-o",
            "flood.pcapng",
            "--dst-port",
            "9999",
            "--any-payload",
            "--exactly",
            "20000",
            "--",
            me,
            "--exact",
            "flood_sender",
            "--nocapture",
            "--test-threads=1",
        ];
        let mut command = if unprivileged {
            s.unprivileged(&args)
        } else {
            let mut c = StdCommand::new(&s.lola);
            c.args(args).current_dir(s.path());
            c
        };
        let o = command
            .env("LOLA_TEST_FLOOD", "20000 64 9999 200000")
            .output()
            .unwrap();
        let out = common::text(&o);
        assert!(out.contains("sent 20000 in"), "{out}");
        let path = s.path().join("flood.pcapng");
        let mut reader = CaptureReader::open(&path).unwrap();
        let mut frames = 0;
        while reader.next_frame().unwrap().is_some() {
            frames += 1;
        }
        let drops = reader.drops();
        eprintln!(
            "as nobody: {unprivileged}: {frames} frames, {} dropped",
            drops.total()
        );
        assert_eq!(
            (frames, drops.total()),
            (20000, 0),
            "every datagram captured, none dropped (as nobody: {unprivileged}): {out}"
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "exactly 20000 datagrams (as nobody: {unprivileged}): {out}"
        );
    }
}
