//! Reading a regular file through bounded memory-mapped windows, with no copy
//! into lola's buffers.
//!
//! The byte source of [`super::source`] asks for "at least `n` bytes from here";
//! [`Windows`] answers with a slice of a read-only mapping of the file. A
//! thread maps the windows ahead of the reader, `WINDOW` bytes apart and each
//! `OVERLAP` bytes longer, so that a record or block starting in one ends in
//! it. At most three windows are mapped at once (the one being read, one
//! waiting, one being mapped: about 7 MiB), and the reader unmaps each window
//! once it has passed it, so the file's pages do not pile up in lola's
//! resident set (mapped page-cache pages count in RSS). Each window is advised
//! `MADV_SEQUENTIAL` so the kernel reads ahead when the file is not cached,
//! and its pages are mapped in one go (`MADV_POPULATE_READ`) rather than one
//! page fault at a time. Without the thread (or once it has stopped), windows
//! are mapped on demand from the reader's cursor.
//!
//! # A file that changes size while it is read
//!
//! Touching a mapped page past the end of the file raises `SIGBUS`, which
//! would kill lola. The size is read again (`fstat`) before each window is
//! mapped and no window reaches past it: a file that grows is read up to the
//! size seen when its last window was mapped (as the streaming reader reads
//! up to the end it meets), and a file already shorter than what was read is
//! never touched past its new end; a file found shorter than what was
//! already read ends the read with the cut (see [`super::source`]). A window
//! whose pages cannot be populated because the file shrank in between is not
//! used: populating reports the missing pages as an error instead of raising
//! `SIGBUS`, and the reader maps that part again itself. Another process
//! truncating the file inside a window already mapped (the one being read,
//! or one mapped ahead of it) is met by the `SIGBUS` handler of
//! [`super::sigbus`]: every window is registered with it while mapped, the
//! lost pages read as zeros, and the reader, seeing the window marked lost,
//! drops it and reads on from the file as it is now, so the shrinking file
//! is a cut, as for the streaming reader, not a crash. Pipes, standard input
//! and everything that is not a regular file go through the streaming
//! reader, as does a file that cannot be mapped.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::ptr::NonNull;
use std::sync::mpsc;

use super::sigbus::{self, Guard};

/// Distance between the starts of consecutive windows.
pub(super) const WINDOW: usize = 2 << 20;
/// Bytes each window maps past the next one's start: a record or block
/// (at most `MAX_BLOCK`) that starts in a window ends in it too.
const OVERLAP: usize = crate::capture::MAX_BLOCK as usize + 4096;
/// Windows mapped ahead of the reader, waiting. With the one being mapped
/// and the one being read, at most 3 × 2.4 MiB of the file is mapped.
const AHEAD: usize = 1;

/// One mapping: `len` bytes of the file from offset `base`.
struct Map {
    ptr: NonNull<u8>,
    len: usize,
    base: u64,
    /// Its registration with the `SIGBUS` handler (none for no mapping).
    guard: Option<Guard>,
}

impl Map {
    /// No mapping (before the first window, and past the end of the file).
    fn none() -> Map {
        Map {
            ptr: NonNull::dangling(),
            len: 0,
            base: 0,
            guard: None,
        }
    }

    /// True once the file shrank under this window and the handler mapped
    /// zeros over its lost pages.
    fn lost(&self) -> bool {
        self.guard.as_ref().is_some_and(Guard::lost)
    }

    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a live PROT_READ mapping of `len` bytes that
        // lives until `self` drops (pages the file loses since are mapped
        // over with zeros: see `super::sigbus`); or dangling with `len` 0,
        // which makes an empty slice.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        // Unregistered first: the address range may be reused once unmapped.
        drop(self.guard.take());
        // SAFETY: unmaps exactly the mapping made in `Windows::map`; no
        // slice of it outlives `self` (they borrow it).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// Maps windows of one file.
struct Mapper {
    file: File,
    page: u64,
}

impl Mapper {
    /// Maps up to `len` bytes of the file from `base` (a multiple of the
    /// page size), no further than its size now, its pages mapped now when
    /// `populate`; `None` past its end.
    /// Returns the window and the size it was clipped to.
    fn map(&self, base: u64, len: usize, populate: bool) -> io::Result<Option<(Map, u64)>> {
        // A file that shrank between the size read and the populating is
        // measured and mapped again.
        let mut tries = 0;
        loop {
            match self.map_once(base, len, populate) {
                Err(e) if e.raw_os_error() == Some(libc::EFAULT) && tries < 3 => tries += 1,
                done => return done,
            }
        }
    }

    fn map_once(&self, base: u64, len: usize, populate: bool) -> io::Result<Option<(Map, u64)>> {
        let size = self.file.metadata()?.len();
        if base >= size {
            return Ok(None);
        }
        let len = len.min(usize::try_from(size - base).unwrap_or(usize::MAX));
        let file_offset = libc::off_t::try_from(base)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a fresh read-only shared mapping of `len` bytes within the
        // file's size just read; the kernel picks the address.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                self.file.as_raw_fd(),
                file_offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let Some(ptr) = NonNull::new(ptr.cast::<u8>()) else {
            return Err(io::Error::other("mmap returned a null mapping"));
        };
        let map = Map {
            ptr,
            len,
            base,
            guard: Some(sigbus::guard(ptr.as_ptr(), len)),
        };
        // SAFETY: advice on the mapping just made. MADV_SEQUENTIAL only
        // hints. MADV_POPULATE_READ (Linux 5.14) maps every page now; it
        // fails with EFAULT when a page is past the end of a file that
        // shrank since the fstat above, and then the window is not used
        // (dropping `map` unmaps it). Any other failure (EINVAL before
        // 5.14, ENOMEM, EINTR) only loses the head start: pages are then
        // mapped when touched.
        unsafe {
            libc::madvise(ptr.as_ptr().cast(), len, libc::MADV_SEQUENTIAL);
            if populate && libc::madvise(ptr.as_ptr().cast(), len, libc::MADV_POPULATE_READ) != 0 {
                let error = io::Error::last_os_error();
                if error.raw_os_error() == Some(libc::EFAULT) {
                    return Err(error);
                }
            }
        }
        Ok(Some((map, size)))
    }
}

/// A regular file read window by window.
pub(super) struct Windows {
    mapper: std::sync::Arc<Mapper>,
    map: Map,
    /// The file's size when the current window was mapped.
    size: u64,
    /// Distance between window starts ([`WINDOW`]; tests use a few bytes).
    window: usize,
    /// Windows mapped ahead by a thread, in order: window `i` maps
    /// `[i × WINDOW, (i + 1) × WINDOW + OVERLAP)`. `None` once that thread
    /// is done (or was never started): then windows are mapped on demand.
    ahead: Option<mpsc::Receiver<io::Result<(Map, u64)>>>,
}

impl Windows {
    /// Maps `file` if it is a regular file that can be mapped, with a
    /// thread mapping the windows ahead of the reader when it holds more
    /// than one; `None` tells the
    /// caller to stream it instead.
    pub(super) fn new(file: File) -> Option<Windows> {
        let mut windows = Windows::with_window(file, WINDOW)?;
        // A file within one window is mapped when read: a thread would map
        // nothing more, and starting it costs more than reading the file
        // (`lola exec`'s capture of a few frames, say).
        if windows.size > WINDOW as u64 {
            windows.ahead = spawn_ahead(&windows.mapper);
        }
        Some(windows)
    }

    /// Maps `file` window by window on demand, each from the reader's
    /// cursor, `window` bytes or the record asked for (tests use a few
    /// bytes, so that records straddle many window ends).
    pub(super) fn with_window(file: File, window: usize) -> Option<Windows> {
        let meta = file.metadata().ok()?;
        // Files of /proc and /sys say size 0 and hold more: stream them.
        if !meta.is_file() || meta.len() == 0 {
            return None;
        }
        // SAFETY: sysconf has no preconditions.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as u64,
            _ => 4096,
        };
        let windows = Windows {
            mapper: std::sync::Arc::new(Mapper { file, page }),
            map: Map::none(),
            size: meta.len(),
            window: window.max(1),
            ahead: None,
        };
        // A file system that cannot map (some FUSE ones) is streamed. One
        // page, not populated: the windows are mapped when read.
        windows.mapper.map(0, 1, false).ok()?;
        Some(windows)
    }

    /// The bytes of the current window (empty before the first and past the end).
    #[inline(always)]
    pub(super) fn window(&self) -> &[u8] {
        self.map.bytes()
    }

    /// Makes the current window one that holds the file from `offset`, at
    /// least `n` bytes of it if the file has them, and returns the window's
    /// file offset. The previous window is unmapped: its bytes must no
    /// longer be borrowed (the `&mut self` makes sure).
    pub(super) fn map(&mut self, offset: u64, n: usize) -> io::Result<u64> {
        self.map = Map::none();
        if let Some(ahead) = &self.ahead {
            // Windows behind the cursor are dropped; the first that holds
            // the bytes asked for (or the end of the file) is used.
            while let Ok(next) = ahead.recv() {
                let Ok((map, size)) = next else {
                    break; // map here instead, and meet the error again
                };
                let end = map.base + map.len as u64;
                if map.base > offset {
                    break;
                }
                if end >= offset + n as u64 || end >= size {
                    let base = map.base;
                    self.map = map;
                    self.size = size;
                    return Ok(base);
                }
            }
            self.ahead = None;
        }
        let page = self.mapper.page;
        let base = offset - offset % page;
        let len = (offset - base) as usize + n.max(self.window);
        match self.mapper.map(base, len, true)? {
            Some((map, size)) => {
                self.map = map;
                self.size = size;
            }
            None => self.size = self.mapper.file.metadata()?.len(),
        }
        Ok(base)
    }

    /// The file's size when the current window was mapped (or found to be
    /// past the end).
    pub(super) fn size(&self) -> u64 {
        self.size
    }

    /// True once the file shrank under the current window (see
    /// [`super::sigbus`]): its bytes from the first lost page on are zeros.
    #[inline(never)]
    pub(super) fn lost(&self) -> bool {
        self.map.lost()
    }

    /// True when the file is now shorter than when the current window was
    /// mapped (one `fstat`).
    pub(super) fn shrank(&self) -> bool {
        self.mapper
            .file
            .metadata()
            .is_ok_and(|meta| meta.len() < self.size)
    }

    /// Drops the current window and every window mapped ahead, so that the
    /// next [`map`](Self::map) maps from the file as it is now.
    pub(super) fn forget(&mut self) {
        self.map = Map::none();
        self.ahead = None;
    }

    /// True when the current window reaches the end of the file as last seen.
    #[inline]
    pub(super) fn at_end(&self) -> bool {
        self.map.len == 0 || self.map.base + self.map.len as u64 >= self.size
    }
}

/// Starts the thread that maps windows ahead; `None` if the system
/// refuses one (then windows are mapped on demand).
fn spawn_ahead(mapper: &std::sync::Arc<Mapper>) -> Option<mpsc::Receiver<io::Result<(Map, u64)>>> {
    let (tx, rx) = mpsc::sync_channel(AHEAD);
    let mapper = std::sync::Arc::clone(mapper);
    std::thread::Builder::new()
        .name("lola-map-ahead".into())
        .spawn(move || {
            let mut base = 0u64;
            loop {
                let window = match mapper.map(base, WINDOW + OVERLAP, true) {
                    Ok(Some(window)) => window,
                    // Past the end: the reader maps on demand from here.
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let last = window.0.base + window.0.len as u64 >= window.1;
                // The reader is gone, or this window reaches the end of
                // the file as seen now: done.
                if tx.send(Ok(window)).is_err() || last {
                    return;
                }
                base += WINDOW as u64;
            }
        })
        .ok()?;
    Some(rx)
}

// SAFETY: `Map` is a plain read-only region owned by one value; moving it
// to another thread (from the mapping thread to the reader) moves its
// ownership with it, and shared references only read it.
unsafe impl Send for Map {}
// SAFETY: as above: `&Map` only reads.
unsafe impl Sync for Map {}

#[cfg(test)]
mod tests {
    use super::super::CaptureReader;
    use super::super::tests::{pcap_header, record};

    #[test]
    fn a_file_truncated_inside_the_window_being_read_is_a_cut_not_a_crash() {
        if !super::super::sigbus::tests::alone(
            "capture::read::mmap::tests::a_file_truncated_inside_the_window_being_read_is_a_cut_not_a_crash",
        ) {
            return;
        }
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("truncated.pcap");
        let mut file = pcap_header();
        while file.len() < 4 * page {
            file.extend(record(100, 100, &[7; 100]));
        }
        std::fs::write(&path, &file).unwrap();
        // One window holds the whole file: the reader maps nothing (and
        // reads no size) again before it meets the cut.
        let mut reader = CaptureReader::open_mapped(&path, 1 << 20).unwrap().unwrap();
        for _ in 0..3 {
            reader.next_frame().unwrap().unwrap();
        }
        // Cut at a page boundary, inside a record: every byte past it is on
        // a page the file lost, and touching one raised SIGBUS.
        let cut = 2 * page;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut as u64)
            .unwrap();
        let straddling = (cut - 24) / 116;
        let mut frames = 3;
        let err = loop {
            match reader.next_frame() {
                Ok(Some(f)) => {
                    frames += 1;
                    // What a checker does: read every byte of the frame.
                    assert!(f.data.iter().all(|&b| b == 7 || b == 0));
                }
                Ok(None) => panic!("the cut was not noticed"),
                Err(e) => break e,
            }
        };
        // Frames whole before the cut are read; so is the one the cut runs
        // through (its header was there when it was read); then the cut.
        assert_eq!(frames, straddling + 1);
        let offset = 24 + straddling * 116;
        assert!(
            matches!(err, crate::error::Error::Truncated { .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}: the file shrank to {cut} bytes while it was read (at byte {offset})",
                path.display()
            )
        );
    }

    #[test]
    fn a_mapped_file_that_shrinks_or_grows_while_read_is_read_as_it_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("changing.pcap");
        let mut file = pcap_header();
        for i in 0..8u8 {
            file.extend(record(100, 100, &[i; 100]));
        }
        std::fs::write(&path, &file).unwrap();
        // One-byte windows: each record is mapped when it is read, after
        // the file's size is read again.
        let mut reader = CaptureReader::open_mapped(&path, 1).unwrap().unwrap();
        for _ in 0..3 {
            reader.next_frame().unwrap().unwrap();
        }
        // Cut in the middle of the fifth record.
        let cut = 24 + 4 * 116 + 50;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut as u64)
            .unwrap();
        assert_eq!(reader.next_frame().unwrap().unwrap().data, [3; 100]);
        let err = reader.next_frame().unwrap_err().to_string();
        assert!(
            err.contains("record cut short: claims 100 captured bytes, only 34 left")
                && err.ends_with("(at byte 488)"),
            "{err}"
        );
        // A file that grows is read to its new end.
        std::fs::write(&path, &file[..24 + 2 * 116]).unwrap();
        let mut reader = CaptureReader::open_mapped(&path, 1).unwrap().unwrap();
        reader.next_frame().unwrap().unwrap();
        std::fs::write(&path, &file).unwrap();
        let mut last = 0;
        while let Some(f) = reader.next_frame().unwrap() {
            last = f.number;
        }
        assert_eq!(last, 8);
    }
}
