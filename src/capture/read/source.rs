//! Where a reader's bytes come from, and the buffer that knows the file
//! offset of each of them: a reader read directly into a buffer that holds
//! one record or block at a time (pipes, standard input, bytes in memory),
//! a thread reading a file ahead in chunks (a file that cannot be mapped),
//! or windows mapped from a regular file ([`super::mmap`]), read in place.
//! The parsers ask for "at least `n` bytes from here" ([`Source::fill`]),
//! look at them ([`Source::peek`]) and take them ([`Source::consume`]).

use std::fs::File;
use std::io::{self, Read};
use std::sync::mpsc;

use super::mmap::Windows;
use super::sigbus;
use crate::capture::MAX_BLOCK;

/// Room kept in front of each read-ahead chunk for the end of the previous
/// one: a record or block cut by a chunk boundary (at most [`MAX_BLOCK`]).
const HEADROOM: usize = MAX_BLOCK as usize;
/// Bytes read per chunk.
const CHUNK: usize = 1 << 20;
/// Chunk buffers in flight at most: one being checked, one being read, one
/// waiting. Memory: 3 × (HEADROOM + CHUNK), about 4 MiB.
const CHUNKS: usize = 3;

/// A thread that reads a file in chunks ahead of the checker.
pub(super) struct ReadAhead {
    chunks: mpsc::Receiver<io::Result<(Vec<u8>, usize)>>,
    spare: mpsc::SyncSender<Vec<u8>>,
}

impl ReadAhead {
    /// Starts the thread; `None` if the system refuses one (then the
    /// caller reads directly).
    pub(super) fn spawn(mut file: File) -> Option<ReadAhead> {
        let (tx, chunks) = mpsc::sync_channel(CHUNKS - 1);
        let (spare, spare_rx) = mpsc::sync_channel::<Vec<u8>>(CHUNKS);
        std::thread::Builder::new()
            .name("lola-read-ahead".into())
            .spawn(move || {
                let mut allocated = 0;
                loop {
                    let mut buf = match spare_rx.try_recv() {
                        Ok(buf) => buf,
                        Err(_) if allocated < CHUNKS => {
                            allocated += 1;
                            vec![0; HEADROOM + CHUNK]
                        }
                        Err(_) => match spare_rx.recv() {
                            Ok(buf) => buf,
                            Err(_) => return, // the reader is gone
                        },
                    };
                    let mut len = 0;
                    while len < CHUNK {
                        match file.read(&mut buf[HEADROOM + len..HEADROOM + CHUNK]) {
                            Ok(0) => break,
                            Ok(k) => len += k,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                return;
                            }
                        }
                    }
                    // A short chunk is the end of the file; dropping the
                    // sender after it tells the reader so.
                    if tx.send(Ok((buf, len))).is_err() || len < CHUNK {
                        return;
                    }
                }
            })
            .ok()?;
        Some(ReadAhead { chunks, spare })
    }
}

enum Input<R> {
    Direct(R),
    Ahead(ReadAhead),
    /// A regular file read in place: `buf` stays empty, the bytes are the
    /// current window's.
    Mapped(Windows),
}

/// A read buffer that knows the file offset of its first unconsumed byte.
pub(super) struct Source<R> {
    input: Input<R>,
    buf: Vec<u8>,
    /// Start of unconsumed data in `buf`.
    start: usize,
    /// Start of the most recently consumed item (for `consumed_slice`).
    last: usize,
    /// End of valid data in `buf`.
    end: usize,
    /// File offset of `buf[start]`.
    pub(super) offset: u64,
    eof: bool,
    /// File offset of the last item consumed from the previous window, kept
    /// when the window is dropped: where a file that shrank under the
    /// reader was cut.
    previous: u64,
}

impl<R: Read> Source<R> {
    pub(super) fn new(reader: R) -> Source<R> {
        Source::at_start(Input::Direct(reader), vec![0; 128 * 1024])
    }

    pub(super) fn ahead(ahead: ReadAhead) -> Source<R> {
        Source::at_start(Input::Ahead(ahead), Vec::new())
    }

    /// Reads in place from `windows` (the first `fill` maps a window).
    pub(super) fn mapped(windows: Windows) -> Source<R> {
        Source::at_start(Input::Mapped(windows), Vec::new())
    }

    /// A source at the start of `input`, buffering in `buf` where it reads.
    fn at_start(input: Input<R>, buf: Vec<u8>) -> Source<R> {
        Source {
            input,
            buf,
            start: 0,
            last: 0,
            end: 0,
            offset: 0,
            eof: false,
            previous: 0,
        }
    }

    /// The buffered bytes: the read buffer, or the mapped window.
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        match &self.input {
            Input::Mapped(windows) => windows.window(),
            _ => &self.buf,
        }
    }

    /// Makes at least `n` bytes available if the file has them; returns how
    /// many are available (less than `n` only at the end of the file).
    /// `n` is bounded by the callers (`MAX_BLOCK`), so is the buffer.
    pub(super) fn fill(&mut self, n: usize) -> io::Result<usize> {
        if self.end - self.start >= n || self.eof {
            return Ok(self.end - self.start);
        }
        match &mut self.input {
            Input::Direct(reader) => {
                if self.start + n > self.buf.len() {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.last = 0;
                    self.start = 0;
                    if n > self.buf.len() {
                        self.buf.resize(n, 0);
                    }
                }
                while self.end - self.start < n {
                    match reader.read(&mut self.buf[self.end..]) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(k) => self.end += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            Input::Mapped(windows) => {
                // A new window from the first unconsumed byte: the one
                // behind it is unmapped.
                if self.end > 0 {
                    self.previous = self.offset - (self.start - self.last) as u64;
                }
                let base = windows.map(self.offset, n)?;
                let len = windows.window().len();
                self.start = usize::try_from(self.offset - base)
                    .unwrap_or(usize::MAX)
                    .min(len);
                self.last = self.start;
                self.end = len;
                self.eof = windows.at_end();
            }
            Input::Ahead(ahead) => {
                while self.end - self.start < n {
                    let (mut chunk, len) = match ahead.chunks.recv() {
                        Ok(Ok(chunk)) => chunk,
                        Ok(Err(e)) => return Err(e),
                        Err(_) => {
                            self.eof = true;
                            break;
                        }
                    };
                    // Carry what is left of this buffer in front of the new data.
                    let left = self.end - self.start;
                    let start = if left <= HEADROOM {
                        chunk[HEADROOM - left..HEADROOM]
                            .copy_from_slice(&self.buf[self.start..self.end]);
                        HEADROOM - left
                    } else {
                        // Only reachable past the callers' bounds: keep it correct anyway.
                        let mut merged = self.buf[self.start..self.end].to_vec();
                        merged.extend_from_slice(&chunk[HEADROOM..HEADROOM + len]);
                        let _ = ahead.spare.try_send(chunk);
                        chunk = merged;
                        0
                    };
                    let end = if start == 0 && left > HEADROOM {
                        chunk.len()
                    } else {
                        HEADROOM + len
                    };
                    let old = std::mem::replace(&mut self.buf, chunk);
                    if old.len() == HEADROOM + CHUNK {
                        let _ = ahead.spare.try_send(old);
                    }
                    self.start = start;
                    self.last = start;
                    self.end = end;
                }
            }
        }
        Ok(self.end - self.start)
    }

    /// False when the mapped window being read lost pages since it was
    /// mapped (the file shrank under it: see [`super::sigbus`]), so that
    /// what was parsed since may be zeros: the window is then dropped, and
    /// the caller reads the same bytes again, which the next
    /// [`fill`](Self::fill) maps from the file as it is now. True for every
    /// other source. One load when no window of the process lost pages.
    #[inline(always)]
    pub(super) fn intact(&mut self) -> bool {
        !sigbus::any_lost() || self.still_intact()
    }

    /// True once any mapped window of the process lost pages: the reader
    /// then asks [`intact`](Self::intact) after each record it parses.
    #[inline(always)]
    pub(super) fn may_have_lost(&self) -> bool {
        sigbus::any_lost()
    }

    /// For an error met in the bytes read: false when the file is now
    /// shorter than when the mapped window was mapped, so that the error
    /// may come from bytes it no longer holds (truncation zeroes the end of
    /// the new last page in place, with no fault): the window is then
    /// dropped, as by [`intact`](Self::intact), and the caller reads the
    /// same bytes again. True for every other source. Costs an `fstat`, on
    /// errors only.
    #[cold]
    pub(super) fn error_stands(&mut self) -> bool {
        let Input::Mapped(windows) = &mut self.input else {
            return true;
        };
        if !windows.shrank() {
            return true;
        }
        self.drop_window();
        false
    }

    #[cold]
    #[inline(never)]
    fn still_intact(&mut self) -> bool {
        let Input::Mapped(windows) = &mut self.input else {
            return true;
        };
        if !windows.lost() {
            return true;
        }
        self.drop_window();
        false
    }

    /// Drops the mapped window (and those mapped ahead): the next `fill`
    /// maps from the file as it is now.
    fn drop_window(&mut self) {
        let Input::Mapped(windows) = &mut self.input else {
            return;
        };
        windows.forget();
        self.previous = self.offset - (self.start - self.last) as u64;
        (self.start, self.last, self.end, self.eof) = (0, 0, 0, false);
    }

    /// When the file is now shorter than what was read of it (it shrank
    /// under a mapped reader), where it was cut and its size now. Asked
    /// at the end of the bytes: a file that ends where the reader is, or
    /// further, ends as the streaming reader would see it.
    pub(super) fn shrunk(&self) -> Option<(u64, u64)> {
        let Input::Mapped(windows) = &self.input else {
            return None;
        };
        let size = windows.size();
        (size < self.offset).then(|| (self.previous.min(size), size))
    }

    /// The bytes buffered and not yet consumed.
    #[inline(always)]
    pub(super) fn unconsumed(&self) -> &[u8] {
        &self.bytes()[self.start..self.end]
    }

    /// Bytes buffered and not yet consumed.
    #[inline]
    pub(super) fn available(&self) -> usize {
        self.end - self.start
    }

    #[inline(always)]
    pub(super) fn peek(&self, n: usize) -> &[u8] {
        &self.bytes()[self.start..self.start + n]
    }

    pub(super) fn consume(&mut self, n: usize) {
        self.last = self.start;
        self.start += n;
        self.offset += n as u64;
    }

    /// The `n` bytes consumed by the last `consume(n)`.
    #[inline(always)]
    pub(super) fn consumed_slice(&self, n: usize) -> &[u8] {
        &self.bytes()[self.last..self.last + n]
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::CaptureReader;
    use super::super::tests::{pcap_header, read_all, record};
    use super::*;
    use crate::capture::MAX_SNAPLEN;
    use crate::error::Result;

    #[test]
    fn frames_larger_than_the_read_buffer_are_read_whole() {
        let mut file = pcap_header();
        let big = vec![7u8; MAX_SNAPLEN as usize];
        file.extend(record(MAX_SNAPLEN, MAX_SNAPLEN, &big));
        file.extend(record(1, 1, b"z"));
        let frames = read_all(&file).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].2.len(), MAX_SNAPLEN as usize);
        assert_eq!(frames[1].2, b"z");
    }

    /// Everything a reader says about a file: each frame as text, the
    /// notes, and the error that stopped it, if one did.
    fn everything<R: Read>(reader: Result<CaptureReader<R>>) -> (Vec<String>, Option<String>) {
        let mut reader = match reader {
            Ok(reader) => reader,
            Err(e) => return (Vec::new(), Some(e.to_string())),
        };
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

    /// A frame as a comparable value.
    fn line(f: &crate::capture::RawFrame<'_>) -> String {
        format!(
            "{} {} {:?} {} {} {:?} {:?}",
            f.number, f.offset, f.timestamp, f.link_type, f.orig_len, f.data, f.comment
        )
    }

    /// What `everything` gives, read by `for_each_frame`.
    fn each_frame<R: Read>(mut reader: CaptureReader<R>) -> (Vec<String>, Option<String>) {
        let mut frames = Vec::new();
        let error = reader
            .for_each_frame(|f| frames.push(line(f)))
            .err()
            .map(|e| e.to_string());
        frames.extend(reader.notes());
        (frames, error)
    }

    /// A file read through a read-ahead thread, as `open` did before files were mapped.
    fn open_read_ahead(path: &Path) -> Result<CaptureReader<File>> {
        let file = File::open(path).unwrap();
        let ahead = ReadAhead::spawn(file).unwrap();
        CaptureReader::with_source(Source::ahead(ahead), path.to_path_buf(), true)
    }

    /// The mapped reader (on-demand windows of `window` bytes, and `open`'s
    /// windows mapped ahead by a thread), the read-ahead thread and the
    /// streaming reader agree on `bytes` written at `path`.
    fn assert_readers_agree(path: &Path, bytes: &[u8], windows: &[usize]) {
        std::fs::write(path, bytes).unwrap();
        let streamed = everything(CaptureReader::new(bytes, path));
        for &window in windows {
            let mapped = match CaptureReader::open_mapped(path, window) {
                // Only an empty file is not mapped (and is streamed instead).
                Ok(None) => {
                    assert!(bytes.is_empty(), "{} not mapped", path.display());
                    continue;
                }
                Ok(Some(mapped)) => everything(Ok(mapped)),
                Err(e) => everything::<File>(Err(e)),
            };
            assert_eq!(mapped, streamed, "{}, window {window}", path.display());
        }
        let opened = everything(CaptureReader::open(path));
        assert_eq!(opened, streamed, "{}, mapped ahead", path.display());
        // for_each_frame (runs of plain records read in place, each run
        // ending where a window does) gives what a next_frame loop gives,
        // streamed, mapped ahead, and through windows as small as a byte.
        if let Ok(reader) = CaptureReader::open(path) {
            assert_eq!(
                each_frame(reader),
                streamed,
                "{}, for_each_frame",
                path.display()
            );
        }
        if let Ok(reader) = CaptureReader::new(bytes, path) {
            assert_eq!(
                each_frame(reader),
                streamed,
                "{}, for_each_frame streamed",
                path.display()
            );
        }
        for &window in windows {
            if let Ok(Some(reader)) = CaptureReader::open_mapped(path, window) {
                assert_eq!(
                    each_frame(reader),
                    streamed,
                    "{}, for_each_frame, window {window}",
                    path.display()
                );
            }
        }
        let ahead = everything(open_read_ahead(path));
        assert_eq!(ahead, streamed, "{}, read ahead", path.display());
        // And the checker's report, word for word.
        assert_eq!(
            report(CaptureReader::open(path)),
            report(CaptureReader::new(bytes, path)),
            "{}: check reports differ",
            path.display()
        );
    }

    /// The seed expectation's report on a reader, as JSON, or the error.
    fn report<R: Read>(reader: Result<CaptureReader<R>>) -> std::result::Result<String, String> {
        let reader = reader.map_err(|e| e.to_string())?;
        crate::check::check_reader(reader, "f", &crate::Expectation::seed())
            .map(|r| serde_json::to_string(&r).unwrap())
            .map_err(|e| e.to_string())
    }

    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
        let mut out: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        out.sort();
        assert!(out.len() > 50, "{} fixtures", out.len());
        out
    }

    #[test]
    fn mapped_reader_agrees_with_the_streaming_reader_on_every_fixture() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in fixtures() {
            // Windows of one byte map one record or block at a time; of 61
            // and 4096 bytes, records straddle window ends everywhere.
            assert_readers_agree(&dir.path().join(&name), &bytes, &[1, 61, 4096, 1 << 20]);
        }
    }

    #[test]
    fn mapped_reader_agrees_with_the_streaming_reader_on_mutated_fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound.max(1) as u64) as usize
        };
        let mut files = 0;
        for (name, bytes) in fixtures() {
            for round in 0..24 {
                let mut m = bytes.clone();
                match round % 4 {
                    // Cut anywhere, mostly inside records.
                    0 => m.truncate(next(bytes.len() + 1)),
                    // A byte of a header (lengths, magic, version, options).
                    1 => {
                        let at = next(m.len().min(64));
                        if let Some(b) = m.get_mut(at) {
                            *b = [0, 0xff, 0x7f, 0x80][next(4)];
                        }
                    }
                    // Bytes anywhere.
                    2 => {
                        for _ in 0..3 {
                            let at = next(m.len());
                            if let Some(b) = m.get_mut(at) {
                                *b = next(256) as u8;
                            }
                        }
                    }
                    // Data appended past the end.
                    _ => m.extend((0..next(40)).map(|i| i as u8)),
                }
                let path = dir.path().join(format!("{round}-{name}"));
                assert_readers_agree(&path, &m, &[1, 61]);
                files += 1;
            }
        }
        assert!(files > 1000, "{files}");
    }

    /// Every byte of the fixed fields and the trailing length of the first
    /// packet blocks of every pcapng fixture, set to values that make the
    /// block need `next_frame`'s care (a bad length, options, an unknown
    /// interface, a short original length) or not: the run of packet
    /// blocks read in place gives what a `next_frame` loop gives.
    #[test]
    fn every_field_of_a_packet_block_is_read_in_a_run_as_block_by_block() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = 0;
        for (name, bytes) in fixtures()
            .into_iter()
            .filter(|(n, _)| n.ends_with(".pcapng"))
        {
            let big = bytes.get(8..12) == Some(&[0x1a, 0x2b, 0x3c, 0x4d][..]);
            let word = |b: &[u8], at: usize| {
                let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
                if big {
                    u32::from_be_bytes(w)
                } else {
                    u32::from_le_bytes(w)
                }
            };
            // The offsets of the first three Enhanced Packet Blocks.
            let (mut at, mut blocks) = (0, Vec::new());
            while at + 12 <= bytes.len() && blocks.len() < 3 {
                let len = word(&bytes, at + 4) as usize;
                if len < 12 || at + len > bytes.len() {
                    break;
                }
                if word(&bytes, at) == 6 {
                    blocks.push((at, len));
                }
                at += len;
            }
            for (start, len) in blocks {
                let trailer = start + len - 4..start + len;
                for i in (start..start + 32.min(len)).chain(trailer) {
                    for value in [0x00, 0x01, 0x04, 0x20, 0x7f, 0xff, bytes[i] ^ 0x04] {
                        let mut m = bytes.clone();
                        m[i] = value;
                        let path = dir.path().join(format!("{i}-{value}-{name}"));
                        assert_readers_agree(&path, &m, &[61]);
                        files += 1;
                    }
                }
            }
        }
        assert!(files > 1000, "{files}");
    }

    #[test]
    fn reading_ahead_gives_the_same_frames_as_reading_directly() {
        // Records of many sizes, so that some straddle every chunk boundary,
        // and one as large as a record may be.
        let mut file = pcap_header();
        let mut expected = Vec::new();
        let mut i = 0usize;
        while file.len() < 3 * CHUNK + 1000 {
            let len = if i == 7 {
                MAX_SNAPLEN as usize
            } else {
                (i * 7919) % 3000
            };
            let data: Vec<u8> = (0..len).map(|k| (k + i) as u8).collect();
            file.extend(record(len as u32, len as u32, &data));
            expected.push(data);
            i += 1;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pcap");
        std::fs::write(&path, &file).unwrap();
        let mut reader = CaptureReader::open(&path).unwrap();
        let mut got = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            got.push(f.data.to_vec());
        }
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "frames differ");
        // Every reader gives the same: streamed, read ahead, mapped ahead
        // (several 2 MiB windows), mapped on demand in small windows.
        assert_readers_agree(&path, &file, &[1, 4093, 65536]);
        // A file cut inside a record still reports where.
        std::fs::write(&path, &file[..file.len() - 1]).unwrap();
        let mut reader = CaptureReader::open(&path).unwrap();
        let err = loop {
            match reader.next_frame() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the cut was not noticed"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(err.contains("record cut short"), "{err}");
    }
}
