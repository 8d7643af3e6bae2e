//! A capture that starts at once loses and doubles nothing when its ring
//! takes over: `Capture::open_at_once` records on a plain packet socket
//! from the moment it returns, a process of lola's makes the ring on a
//! second socket meanwhile, and the kernel hands each frame to exactly one
//! of the two. Datagrams sent from the first instant and on across the
//! switch, from two threads (two CPUs, so that the kernel may deliver them
//! out of order), are each captured exactly once; so are those of a
//! program under `lola exec`, as root and as nobody.

mod common;

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::sandbox::{Sandbox, netns_allowed, root_for, userns_allowed};
use common::{frames_of, text};
use lola::host::live::{Capture, FlowFilter};

/// Ethernet, IPv4 and UDP headers before the payload on `lo`.
const PAYLOAD_AT: usize = 14 + 20 + 8;

/// The (sender, number) a datagram of `send_numbered` carries.
fn numbered(frame: &[u8]) -> Option<Numbered> {
    let p = frame.get(PAYLOAD_AT..PAYLOAD_AT + 5)?;
    Some((p[0], u32::from_be_bytes([p[1], p[2], p[3], p[4]])))
}

/// Sends datagrams numbered from 0 as sender `id` to `to`: `burst` at
/// once, then one every 100 µs until `stop` is raised and `after` more
/// were sent. Returns how many it sent.
fn send_numbered(
    id: u8,
    to: std::net::SocketAddr,
    burst: u32,
    stop: &AtomicBool,
    after: u32,
) -> u32 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut payload = [0u8; 5];
    payload[0] = id;
    let (mut n, mut left) = (0u32, after);
    let started = Instant::now();
    while left > 0 && started.elapsed() < Duration::from_secs(20) {
        payload[1..].copy_from_slice(&n.to_be_bytes());
        socket.send_to(&payload, to).unwrap();
        n += 1;
        if n >= burst {
            std::thread::sleep(Duration::from_micros(100));
        }
        if stop.load(Ordering::Relaxed) {
            left -= 1;
        }
    }
    n
}

/// A datagram of `send_numbered`: (sender, number).
type Numbered = (u8, u32);

/// Each numbered datagram in `frames` once: those seen more than once, and
/// those of `sent` never seen.
fn tally(frames: &[Vec<u8>], sent: &[u32]) -> (Vec<Numbered>, Vec<Numbered>) {
    let mut seen: BTreeMap<Numbered, u32> = BTreeMap::new();
    for key in frames.iter().filter_map(|f| numbered(f)) {
        *seen.entry(key).or_default() += 1;
    }
    let doubled = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| *k)
        .collect();
    let missing = sent
        .iter()
        .enumerate()
        .flat_map(|(id, &n)| (0..n).map(move |i| (id as u8, i)))
        .filter(|k| !seen.contains_key(k))
        .collect();
    (doubled, missing)
}

#[test]
fn no_frame_is_lost_or_doubled_when_the_ring_takes_over() {
    if !root_for("a live capture on the host lo") {
        return;
    }
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = sink.local_addr().unwrap();
    let mut capture =
        Capture::open_at_once("lo", FlowFilter::ports(vec![to.port()]), 2 << 20).unwrap();
    assert_eq!(capture.ring_size(), None, "no ring yet: it is being made");
    let switched = Arc::new(AtomicBool::new(false));
    // Two senders from the first instant on, 500 datagrams each at once.
    let senders: Vec<_> = (0..2u8)
        .map(|id| {
            let switched = Arc::clone(&switched);
            std::thread::spawn(move || send_numbered(id, to, 500, &switched, 500))
        })
        .collect();
    let (mut before, mut after, mut frames) = (0, 0, Vec::new());
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        match capture.next(Duration::from_millis(300)).unwrap() {
            Some(frame) => {
                if capture.ring_size().is_some() {
                    switched.store(true, Ordering::Relaxed);
                    after += 1;
                } else {
                    before += 1;
                }
                frames.push(frame.data);
            }
            None if senders.iter().all(|s| s.is_finished()) => break,
            None => {}
        }
    }
    let sent: Vec<u32> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    let (doubled, missing) = tally(&frames, &sent);
    let stats = capture.statistics().unwrap();
    eprintln!(
        "sent {sent:?}; captured {} ({before} before the ring took over, {after} after); kernel dropped {}",
        frames.len(),
        stats.dropped
    );
    assert!(doubled.is_empty(), "captured twice: {doubled:?}");
    assert!(missing.is_empty(), "never captured: {missing:?}");
    assert_eq!(frames.len() as u32, sent.iter().sum::<u32>());
    assert_eq!(stats.dropped, 0, "nothing was dropped");
    assert!(before > 0, "frames came before the ring was made");
    assert!(after > 0, "the ring took over mid-stream");
}

#[test]
fn frames_the_kernel_queued_that_lola_never_read_are_counted_as_dropped() {
    if !root_for("a live capture on the host lo") {
        return;
    }
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = sink.local_addr().unwrap();
    for at_once in [false, true] {
        let filter = FlowFilter::ports(vec![to.port()]);
        let mut capture = match at_once {
            false => Capture::open("lo", filter),
            true => Capture::open_at_once("lo", filter, 2 << 20),
        }
        .unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..3 {
            sender.send_to(b"unread", to).unwrap();
        }
        capture.close_intake().unwrap();
        sender.send_to(b"after the end", to).unwrap();
        let stats = capture.final_statistics().unwrap();
        assert_eq!(
            (stats.received, stats.dropped),
            (3, 3),
            "never read: lost, and said so"
        );
    }
}

/// `lola exec` of `program` (this test binary, running `numbered_sender`
/// below) in the sandbox: root, or nobody.
fn exec_numbered(s: &Sandbox, unprivileged: bool, expected: u32) -> std::process::Output {
    let me = std::env::current_exe().unwrap();
    let me = me.to_str().unwrap();
    let count = expected.to_string();
    let args = [
        "exec",
        "-o",
        "numbered.pcap",
        "--dst-port",
        "7457",
        "--any-payload",
        "--exactly",
        &count,
        "--",
        me,
        "--exact",
        "numbered_sender",
        "--ignored",
        "--nocapture",
    ];
    let mut command = if unprivileged {
        s.unprivileged(&args)
    } else {
        let mut c = Command::new(&s.lola);
        c.args(args).current_dir(s.path()).env_remove("CI");
        c
    };
    command.env("LOLA_TEST_NUMBERED", "1").output().unwrap()
}

#[test]
fn a_program_under_exec_has_each_datagram_captured_once_from_its_first_instant() {
    let s = Sandbox::new();
    if !root_for("lola exec as root and as nobody") {
        return;
    }
    let mut modes = Vec::new();
    if netns_allowed() {
        modes.push(false);
    }
    if userns_allowed(&s) {
        modes.push(true);
    }
    // 2,000 at once the moment it starts, then 2,000 over about 300 ms
    // (across the switch), from two threads.
    let expected = 2 * (1000 + 1000);
    for unprivileged in modes {
        let o = exec_numbered(&s, unprivileged, expected);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "as nobody: {unprivileged}: {out}");
        let frames = frames_of(&s.path().join("numbered.pcap"));
        let (doubled, missing) = tally(&frames, &[1000 + 1000, 1000 + 1000]);
        assert!(doubled.is_empty(), "captured twice: {doubled:?}");
        assert!(missing.is_empty(), "never captured: {missing:?}");
        assert_eq!(frames.len() as u32, expected, "{out}");
    }
}

/// Not a test: the program `lola exec` runs above. Two threads each send
/// 1,000 numbered datagrams to 127.0.0.1:7457 at once, then 1,000 more
/// paced at one every 100 µs (and some scheduling).
#[test]
#[ignore = "the program run by a_program_under_exec_has_each_datagram_captured_once_from_its_first_instant"]
fn numbered_sender() {
    if std::env::var_os("LOLA_TEST_NUMBERED").is_none() {
        return;
    }
    let sink = UdpSocket::bind("127.0.0.1:7457").unwrap();
    let to = sink.local_addr().unwrap();
    // Raised from the start: each sends its 1,000 paced ones and stops.
    let stop = Arc::new(AtomicBool::new(true));
    let senders: Vec<_> = (0..2u8)
        .map(|id| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || send_numbered(id, to, 1000, &stop, 2000))
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
}
