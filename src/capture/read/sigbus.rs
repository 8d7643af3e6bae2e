//! A capture file that shrinks while it is mapped is a cut, not a crash.
//!
//! When another process truncates a file, the kernel takes the pages past
//! its new end out of every mapping of it, and the next touch of one of them
//! raises `SIGBUS`, which would kill lola mid-read. So every window lola maps
//! is registered here ([`guard`]), and a `SIGBUS` handler (installed once,
//! with `SA_SIGINFO`, the first time a window is mapped) looks up the
//! faulting address:
//!
//! - inside a registered window, it maps anonymous zero pages over the rest
//!   of that window (`MAP_FIXED | MAP_ANONYMOUS | MAP_PRIVATE`), so that the
//!   touch that faulted reads zeros when the handler returns, and marks the
//!   window lost ([`Guard::lost`]). The reader checks that mark after each
//!   record or block it parses and before it hands the frame out (one load of
//!   a process-wide flag, [`any_lost`], in the common case); a lost window is
//!   dropped, the file's size is read again, and the bytes past it are absent:
//!   the record or block at the cursor is read again from a fresh window,
//!   exactly as the streaming reader reads a file that ends there ("record cut
//!   short: …"), or, when the reader had already read past the new end, it
//!   stops with [`Error::Truncated`](crate::error::Error::Truncated) at the
//!   last record it read.
//! - anywhere else, the fault is not lola's to mend: the handler that was
//!   there before (Rust's own, which reports stack overflows) runs, or the
//!   default action is put back so that the fault kills the process as it
//!   would have without lola's handler.
//!
//! What no signal shows: truncation leaves the file's new last page mapped,
//! its bytes past the new end zeroed in place, with no fault. A record or
//! block whose checks fail on those zeros is read again once an `fstat`
//! shows the file shorter than when its window was mapped (see
//! `Source::error_stands`), so that it too ends in the streaming reader's
//! "cut short"; but a pcap record that reads as a valid empty one (at most a
//! page of them) is handed out before the reader meets the next, lost, page,
//! and the bytes of a frame lost while the caller is judging it read as
//! zeros. In both cases the read then ends in
//! [`Error::Truncated`](crate::error::Error::Truncated): a cut, whatever
//! frames came before it.
//!
//! The registry is a list of fixed slots that only grows (a new chunk of
//! slots when all are taken, never freed), so the handler walks it with
//! atomic loads only: no lock, no allocation, nothing a signal handler may
//! not do. Each slot's bounds change under a sequence count that the handler
//! reads before and after them.

use std::ffi::c_void;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering, fence};

/// Set once any window of this process lost pages; readers then check
/// their own window's mark.
static ANY_LOST: AtomicBool = AtomicBool::new(false);

/// The page size, for the handler (which may not call `sysconf`).
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// The `SIGBUS` action before lola's, run for faults outside its windows.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

const SLOTS: usize = 64;

/// One registered window: `[start, end)` of the address space.
struct Slot {
    taken: AtomicBool,
    /// Even while `start` and `end` hold still, odd while they change.
    sequence: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
    lost: AtomicBool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            taken: AtomicBool::new(false),
            sequence: AtomicUsize::new(0),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            lost: AtomicBool::new(false),
        }
    }

    /// Sets the bounds (`0, 0` is none) under the sequence count.
    fn set(&self, start: usize, end: usize) {
        self.sequence.fetch_add(1, Ordering::AcqRel);
        self.start.store(start, Ordering::Relaxed);
        self.end.store(end, Ordering::Relaxed);
        self.lost.store(false, Ordering::Relaxed);
        self.sequence.fetch_add(1, Ordering::Release);
    }

    /// The bounds, if they held still while read.
    fn bounds(&self) -> Option<(usize, usize)> {
        let before = self.sequence.load(Ordering::Acquire);
        if before % 2 == 1 {
            return None;
        }
        let (start, end) = (
            self.start.load(Ordering::Relaxed),
            self.end.load(Ordering::Relaxed),
        );
        fence(Ordering::Acquire);
        (self.sequence.load(Ordering::Relaxed) == before && start != 0).then_some((start, end))
    }
}

struct Chunk {
    slots: [Slot; SLOTS],
    next: AtomicPtr<Chunk>,
}

impl Chunk {
    const fn new() -> Chunk {
        Chunk {
            slots: [const { Slot::new() }; SLOTS],
            next: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The chunk after this one, if one was added.
    fn next(&self) -> Option<&'static Chunk> {
        let next = self.next.load(Ordering::Acquire);
        // SAFETY: chunks are leaked boxes, never freed (see `claim`).
        (!next.is_null()).then(|| unsafe { &*next })
    }
}

static FIRST: Chunk = Chunk::new();

/// A window's registration: while it lives, a `SIGBUS` inside the window is
/// mended and marked. Drop it before unmapping the window.
pub(super) struct Guard {
    slot: &'static Slot,
}

impl Guard {
    /// True once the window lost pages (the file shrank under it): the
    /// bytes past the fault read as zeros.
    #[inline]
    pub(super) fn lost(&self) -> bool {
        self.slot.lost.load(Ordering::Relaxed)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.slot.set(0, 0);
        self.slot.taken.store(false, Ordering::Release);
    }
}

/// True once any window of this process lost pages. Readers ask this first
/// (one load), and their own window's [`Guard::lost`] only when it is true.
#[inline(always)]
pub(super) fn any_lost() -> bool {
    ANY_LOST.load(Ordering::Relaxed)
}

/// Registers the `len` bytes mapped at `start`, installing the handler the
/// first time.
pub(super) fn guard(start: *const u8, len: usize) -> Guard {
    install();
    let slot = claim();
    slot.set(start as usize, start as usize + len);
    Guard { slot }
}

/// A free slot, taken; a new chunk of them when every one is taken.
fn claim() -> &'static Slot {
    let mut chunk: &'static Chunk = &FIRST;
    loop {
        for slot in &chunk.slots {
            if slot
                .taken
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return slot;
            }
        }
        chunk = match chunk.next() {
            Some(next) => next,
            None => {
                // Leaked on purpose: the handler may walk it at any time.
                let new = Box::into_raw(Box::new(Chunk::new()));
                match chunk.next.compare_exchange(
                    std::ptr::null_mut(),
                    new,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    // SAFETY: `new` was just leaked and is now published.
                    Ok(_) => unsafe { &*new },
                    Err(other) => {
                        // SAFETY: `new` was never published: still ours.
                        drop(unsafe { Box::from_raw(new) });
                        // SAFETY: a published chunk, never freed.
                        unsafe { &*other }
                    }
                }
            }
        };
    }
}

/// Installs the handler once, keeping the action it replaces.
fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sysconf has no preconditions; sigaction is given valid
        // pointers to zeroed (then filled) actions, and `on_sigbus` has the
        // signature SA_SIGINFO asks for.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) != 0 {
                return;
            }
            let _ = PREVIOUS.set(previous);
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

extern "C" fn on_sigbus(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let (code, address) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    // Only a fault on a page of a mapping (BUS_ADRERR), not a SIGBUS sent
    // with kill(2), is mended.
    if code == libc::BUS_ADRERR && mend(address) {
        return;
    }
    // SAFETY: forwards the handler's own arguments.
    unsafe { forward(signal, info, context) }
}

/// Maps zero pages over the rest of the registered window holding
/// `address` and marks it lost; false if no window holds it.
fn mend(address: usize) -> bool {
    let page = PAGE.load(Ordering::Relaxed);
    let mut chunk: &'static Chunk = &FIRST;
    loop {
        for slot in &chunk.slots {
            let Some((start, end)) = slot.bounds() else {
                continue;
            };
            if address < start || address >= end {
                continue;
            }
            let from = address - address % page;
            // SAFETY: replaces pages of lola's own read-only window (from
            // the faulting page to the window's end, all inside the
            // mapping) with fresh anonymous ones; nothing else lives there.
            let zeros = unsafe {
                libc::mmap(
                    from as *mut c_void,
                    end - from,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if zeros == libc::MAP_FAILED {
                return false;
            }
            slot.lost.store(true, Ordering::Relaxed);
            ANY_LOST.store(true, Ordering::Relaxed);
            return true;
        }
        match chunk.next() {
            Some(next) => chunk = next,
            None => return false,
        }
    }
}

/// What would have happened without lola's handler: the previous handler
/// runs, or the default action is put back and the signal raised again.
///
/// # Safety
/// Only from the handler, with its arguments.
unsafe fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    if let Some(previous) = PREVIOUS.get() {
        let handler = previous.sa_sigaction;
        if handler != libc::SIG_DFL && handler != libc::SIG_IGN {
            // SAFETY: the kernel would have called this handler with these
            // arguments (with SA_SIGINFO) or with the signal alone.
            unsafe {
                if previous.sa_flags & libc::SA_SIGINFO != 0 {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                        std::mem::transmute(handler);
                    f(signal, info, context);
                } else {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
                    f(signal);
                }
            }
            return;
        }
    }
    // SAFETY: sigaction with a zeroed (SIG_DFL) action, and raise, are
    // async-signal-safe. The raised signal is blocked until the handler
    // returns, then kills; a fault would also recur on return.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(signal, &default, std::ptr::null_mut());
        libc::raise(signal);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    const CHILD: &str = "LOLA_TEST_SIGBUS_CHILD";

    /// True in a child process running the test `name` alone, which the
    /// caller then runs; in the test process, runs that child and asserts
    /// that the test passed there. For the tests that make a window lose
    /// its pages: that is marked for the whole process ([`any_lost`]), and
    /// would send every other test's mapped reader down the slow path.
    pub(in crate::capture::read) fn alone(name: &str) -> bool {
        if std::env::var_os(CHILD).is_some() {
            return true;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && said.contains("1 passed"),
            "{name}: {}\n{said}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        false
    }

    #[test]
    fn a_registered_window_that_loses_its_pages_reads_zeros_and_is_marked_lost() {
        if !alone(
            "capture::read::sigbus::tests::a_registered_window_that_loses_its_pages_reads_zeros_and_is_marked_lost",
        ) {
            return;
        }
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let file = tempfile::tempfile().unwrap();
        file.set_len(3 * page as u64).unwrap();
        let map = map(&file, 3 * page);
        let guard = guard(map, 3 * page);
        file.set_len(page as u64).unwrap();
        // SAFETY: inside the mapping; the lost page faults and is mended.
        let byte = unsafe { std::ptr::read_volatile(map.add(2 * page)) };
        assert_eq!((byte, guard.lost(), any_lost()), (0, true, true));
        drop(guard);
        // SAFETY: the mapping made above.
        unsafe { libc::munmap(map as *mut c_void, 3 * page) };
    }

    /// A fault on a mapping lola did not register kills the process as it
    /// would without lola's handler (run in a child: it dies).
    #[test]
    fn a_fault_outside_lolas_windows_still_kills() {
        if std::env::var_os(CHILD).is_some() {
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
            let file = tempfile::tempfile().unwrap();
            file.set_len(2 * page as u64).unwrap();
            let ours = map(&file, page);
            let _guard = guard(ours, page); // installs the handler
            let other = map(&file, 2 * page);
            file.set_len(0).unwrap();
            // SAFETY: inside the unregistered mapping: SIGBUS, not mended.
            let byte = unsafe { std::ptr::read_volatile(other.add(page)) };
            eprintln!("read {byte} from a lost page and lived");
            std::process::exit(0);
        }
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "capture::read::sigbus::tests::a_fault_outside_lolas_windows_still_kills",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.signal(), Some(libc::SIGBUS), "{status}");
    }

    /// A shared read-only mapping of `len` bytes of `file`.
    fn map(file: &std::fs::File, len: usize) -> *const u8 {
        // SAFETY: a fresh mapping; the kernel picks the address.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        ptr as *const u8
    }
}
