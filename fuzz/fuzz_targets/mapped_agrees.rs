//! Any bytes as a capture file on disk, read in place through mapped windows
//! (`CaptureReader::open_mapped`) and streamed from memory
//! (`CaptureReader::new`): both must give the same frames, notes and error,
//! frame by frame (`next_frame`) and in runs (`for_each_frame`), and
//! `check_reader` the same report, whatever the window size. The first
//! input byte picks the window: `(byte + 1) * 7` bytes, so that records and
//! blocks straddle window ends in every way; the rest is the file.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use lola::capture::CaptureReader;

/// A frame as a comparable value.
fn line(f: &lola::capture::RawFrame<'_>) -> String {
    format!(
        "{} {} {:?} {} {} {:?} {:?} {:?}",
        f.number, f.offset, f.timestamp, f.link_type, f.orig_len, f.data, f.comment, f.flags
    )
}

/// Everything a reader says about a file, as comparable values, frame by
/// frame (`next_frame`: pcapng block by block).
fn frames<R: std::io::Read>(reader: &mut CaptureReader<R>) -> (Vec<String>, Option<String>) {
    let mut out = Vec::new();
    let error = loop {
        match reader.next_frame() {
            Ok(Some(f)) => out.push(line(&f)),
            Ok(None) => break None,
            Err(e) => break Some(e.to_string()),
        }
    };
    out.extend(reader.notes());
    (out, error)
}

/// The same, read by `for_each_frame` (runs of plain records and packet
/// blocks read in place).
fn each_frame<R: std::io::Read>(mut reader: CaptureReader<R>) -> (Vec<String>, Option<String>) {
    let mut out = Vec::new();
    let error = reader.for_each_frame(|f| out.push(line(f))).err().map(|e| e.to_string());
    out.extend(reader.notes());
    (out, error)
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, bytes)) = data.split_first() else {
        return;
    };
    let window = (usize::from(head) + 1) * 7;
    // tmpfs when there is one: the file never reaches a disk.
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        tempfile_in("/dev/shm")
    } else {
        tempfile_in(std::env::temp_dir())
    };
    let path = dir.join("capture");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(bytes))
        .expect("the fuzz input is written to a file");
    let streamed = CaptureReader::new(bytes, &path);
    let mapped = CaptureReader::open_mapped(&path, window);
    match (streamed, mapped) {
        (_, Ok(None)) => assert!(bytes.is_empty(), "a regular file could not be mapped"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (Ok(mut a), Ok(Some(mut b))) => {
            let streamed = frames(&mut a);
            assert_eq!(streamed, frames(&mut b), "window {window}");
            // for_each_frame gives the same, streamed and mapped.
            let a = CaptureReader::new(bytes, &path).expect("opened once");
            assert_eq!(each_frame(a), streamed, "for_each_frame, streamed");
            let b = CaptureReader::open_mapped(&path, window)
                .expect("opened once")
                .expect("mapped once");
            assert_eq!(each_frame(b), streamed, "for_each_frame, window {window}");
            let name = path.display().to_string();
            let a = CaptureReader::new(bytes, &path).expect("opened once");
            let b = CaptureReader::open_mapped(&path, window)
                .expect("opened once")
                .expect("mapped once");
            let expectation = lola::Expectation::seed();
            let (a, b) = (
                lola::check::check_reader(a, &name, &expectation).map_err(|e| e.to_string()),
                lola::check::check_reader(b, &name, &expectation).map_err(|e| e.to_string()),
            );
            let json = |r: &Result<lola::check::Report, String>| {
                r.as_ref()
                    .map(|r| serde_json::to_string(r).expect("a report serializes"))
                    .map_err(Clone::clone)
            };
            assert_eq!(json(&a), json(&b), "window {window}");
        }
        (a, b) => panic!(
            "streamed {:?}, mapped {:?}",
            a.err().map(|e| e.to_string()),
            b.map(|r| r.is_some()).map_err(|e| e.to_string())
        ),
    }
    let _ = std::fs::remove_dir_all(&dir);
});

/// A fresh directory under `parent` (no tempfile crate in the fuzz build).
fn tempfile_in(parent: impl AsRef<std::path::Path>) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = parent.as_ref().join(format!(
        "lola-fuzz-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
