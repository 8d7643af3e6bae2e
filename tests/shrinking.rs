//! A capture that another process truncates while `lola check` reads it (a
//! regular file, so read through memory-mapped windows) is a cut, never a
//! crash: the check ends with exit 0, 1 or 2, and says the capture was cut
//! short when it was, as the streaming reader says of a file that ends
//! mid-record.

use std::borrow::Cow;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lola::capture::{CaptureFrame, Format, encode_capture};

/// A capture of `Hello Lola` to 127.0.0.1:7456 first, then `frames` frames
/// of noise all of one size: (the bytes, the first noise record's or
/// block's offset, the size of each).
fn capture(format: Format, frames: usize) -> (Vec<u8>, usize, usize) {
    let frame = |dst: &str, payload: &[u8]| {
        lola::build_frame(&lola::Datagram::new(
            "127.0.0.1:40000".parse().unwrap(),
            dst.parse().unwrap(),
            payload.to_vec(),
        ))
        .unwrap()
    };
    let (hello, noise) = (
        frame("127.0.0.1:7456", b"Hello Lola"),
        frame("127.0.0.1:9000", b"noise 00"),
    );
    let at = |i: usize, data: &[u8]| CaptureFrame {
        timestamp: Duration::from_secs(1_764_000_000) + Duration::from_micros(i as u64),
        data: Cow::Owned(data.to_vec()),
        comment: None,
        flags: None,
    };
    let encode = |frames: &[CaptureFrame]| {
        let mut bytes = Vec::new();
        encode_capture(&mut bytes, format, frames).unwrap();
        bytes
    };
    let (one, two) = (
        encode(&[at(0, &hello)]),
        encode(&[at(0, &hello), at(1, &noise)]),
    );
    let record = two.len() - one.len();
    let mut all = vec![at(0, &hello)];
    all.extend((1..=frames).map(|i| at(i, &noise)));
    let bytes = encode(&all);
    let first_noise = bytes.len() - frames * record;
    (bytes, first_noise, record)
}

/// A small xorshift: the same tries on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

#[test]
fn a_pcap_truncated_while_check_reads_it_is_a_cut_not_a_crash() {
    truncate_while_checked(Format::Pcap, 50);
}

#[test]
fn a_pcapng_truncated_while_check_reads_it_is_a_cut_not_a_crash() {
    truncate_while_checked(Format::PcapNg, 20);
}

/// `tries` times: `lola check` on a fresh capture that a writer cuts
/// shorter and shorter as it is read.
fn truncate_while_checked(format: Format, tries: usize) {
    let (bytes, first_noise, record) = capture(format, 250_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("shrinking.{format}"));
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut cut, mut whole) = (0, 0);
    for attempt in 0..tries {
        std::fs::write(&path, &bytes).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_lola"))
            .arg("check")
            .arg(&path)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The writer: after a few milliseconds, cuts the file shorter and
        // shorter, each time inside a noise record or block (never where one
        // ends, so that every cut leaves one cut short), until lola is done.
        std::thread::sleep(Duration::from_millis(rng.below(20)));
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let mut records = (bytes.len() - first_noise) / record;
        let started = Instant::now();
        let done = std::sync::atomic::AtomicBool::new(false);
        let output = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed)
                    && records > 1
                    && started.elapsed() < Duration::from_secs(10)
                {
                    records -= 1 + rng.below((records as u64 / 8).max(1)) as usize;
                    let at =
                        first_noise + records * record + 1 + rng.below(record as u64 - 1) as usize;
                    file.set_len(at as u64).unwrap();
                    std::thread::sleep(Duration::from_micros(500));
                }
            });
            let output = child.wait_with_output().unwrap();
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            output
        });
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            output.status.signal(),
            None,
            "try {attempt}: lola died of signal {:?}:\n{text}",
            output.status.signal()
        );
        let code = output.status.code().unwrap();
        assert!(
            [0, 1, 2].contains(&code),
            "try {attempt}: exit {code}:\n{text}"
        );
        if code == 0 {
            whole += 1;
        } else {
            assert!(
                text.contains("cut short at byte"),
                "try {attempt}: exit {code} without a cut:\n{text}"
            );
            cut += 1;
        }
    }
    // The writer must have cut most files while they were read, or this
    // test proves nothing.
    assert!(cut >= tries / 2, "{cut} cut, {whole} read whole");
}
