//! A socket's last close, done by a process of its own; and how lola
//! starts such a process ([`spawn_detached`]).
//!
//! Linux makes the last close of a packet socket wait for RCU grace periods
//! (`packet_release` calls `synchronize_net`, twice when the socket has a
//! ring): 20 to 50 ms on a busy two-core machine, which a process pays on
//! its way out even when a thread does the close, since the process ends
//! only when every thread has. [`LastHolder`] forks a grandchild that keeps
//! the sockets open until the caller has let go of its own references (the
//! descriptor and the ring's mapping), then closes it and waits for the
//! kernel alone; the caller goes on at once. The grandchild keeps no other
//! descriptor (no pipe of the caller's stays open through it) and shows a
//! command line of its own in `/proc`, so that it is never taken for the
//! program lola ran.

use std::os::fd::RawFd;

/// The grandchild's command line, in place of lola's own.
const TITLE: &[u8] = b"lola: closing a capture";

/// The most descriptors a process of its own keeps.
const MOST_KEPT: usize = 8;

/// The process that will close the sockets last; dropping this tells it
/// the caller's references are gone.
pub(super) struct LastHolder {
    /// The write end of the pipe the grandchild waits on, if it started.
    release: Option<RawFd>,
}

impl LastHolder {
    /// Starts the grandchild holding `sockets`. The caller then drops every
    /// reference of its own to them (descriptors and mappings) before
    /// dropping this.
    pub(super) fn start(sockets: &[RawFd]) -> LastHolder {
        let Ok((wait_end, release)) = pipe() else {
            return LastHolder { release: None };
        };
        let mut keep = [0; MOST_KEPT];
        let n = sockets.len().min(MOST_KEPT - 1);
        keep[..n].copy_from_slice(&sockets[..n]);
        keep[n] = wait_end;
        let started = spawn_detached(&keep[..=n], TITLE, || {
            // SAFETY: in the grandchild, which only waits and closes.
            unsafe { wait_for_release(wait_end) };
            for &socket in &sockets[..n] {
                // SAFETY: the grandchild's own copy of the socket.
                unsafe { libc::close(socket) };
            }
        });
        // SAFETY: the parent's copy of the read end is not needed.
        unsafe { libc::close(wait_end) };
        let Ok(middle) = started else {
            // SAFETY: nobody waits on the pipe.
            unsafe { libc::close(release) };
            return LastHolder { release: None };
        };
        drop(middle);
        LastHolder {
            release: Some(release),
        }
    }
}

impl Drop for LastHolder {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            // SAFETY: the write end is ours; closing it wakes the grandchild.
            unsafe {
                libc::close(release);
            }
        }
    }
}

/// A pipe (read end, write end), both close-on-exec.
pub(super) fn pipe() -> std::io::Result<(RawFd, RawFd)> {
    let mut ends = [0; 2];
    // SAFETY: pipe2 fills the two-int array.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((ends[0], ends[1]))
}

/// Starts `body` in a process of its own: a grandchild (the middle process
/// exits at once and is reaped here, so the grandchild belongs to init or
/// the nearest subreaper) that keeps only the descriptors in `keep` (at
/// most eight), shows `title` as its command line, ignores SIGPIPE, and
/// exits when `body` returns. Returns at once, with the middle process to
/// reap (it exits as soon as it has forked; reaping it is left to the
/// caller, so that a busy machine's scheduler does not delay the caller).
///
/// `body` runs in a forked copy of this process and must make only
/// system calls: no allocation, no lock.
pub(super) fn spawn_detached(
    keep: &[RawFd],
    title: &[u8],
    body: impl FnOnce(),
) -> std::io::Result<Middle> {
    let args = argument_area();
    let mut sorted = [RawFd::MAX; MOST_KEPT];
    let n = keep.len().min(MOST_KEPT);
    sorted[..n].copy_from_slice(&keep[..n]);
    sorted[..n].sort_unstable();
    // SAFETY: between fork and _exit the children make only
    // async-signal-safe system calls and write only to their own copy of
    // the argument area; nothing is allocated or locked.
    unsafe {
        match libc::fork() {
            0 => {
                // The title is taken before the grandchild is forked, so it
                // has it from its first instant: once the caller has reaped
                // this process, no process with the caller's command line
                // is left behind.
                retitle(args, title);
                if libc::fork() == 0 {
                    let mut first = 0;
                    for &fd in &sorted[..n] {
                        close_range(first, fd - 1);
                        first = fd + 1;
                    }
                    close_range(first, RawFd::MAX);
                    libc::signal(libc::SIGPIPE, libc::SIG_IGN);
                    body();
                }
                libc::_exit(0);
            }
            -1 => Err(std::io::Error::last_os_error()),
            child => Ok(Middle(child)),
        }
    }
}

/// The middle process of [`spawn_detached`], reaped when dropped.
pub(super) struct Middle(libc::pid_t);

impl Drop for Middle {
    fn drop(&mut self) {
        let mut status = 0;
        // SAFETY: waiting for our own child, which exits at once.
        while unsafe { libc::waitpid(self.0, &mut status, 0) } < 0
            && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {}
    }
}

/// Waits until every write end of the pipe `wait_end` reads is closed.
///
/// # Safety
/// `wait_end` is an open descriptor of this process.
pub(super) unsafe fn wait_for_release(wait_end: RawFd) {
    let mut byte = 0u8;
    // SAFETY: reading one byte into a local; returns 0 (end of file)
    // once every write end is closed.
    unsafe {
        while libc::read(wait_end, (&raw mut byte).cast(), 1) < 0
            && *libc::__errno_location() == libc::EINTR
        {}
    }
}

/// Writes `title` over the argument area `args`, so that `/proc/PID/cmdline`
/// shows it.
///
/// # Safety
/// Only in a forked child: the area is this process's own copy.
unsafe fn retitle(args: Option<(usize, usize)>, title: &[u8]) {
    if let Some((start, end)) = args {
        // SAFETY: the caller's promise; the range came from /proc/self/stat.
        let area = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, end - start) };
        area.fill(0);
        let n = title.len().min(area.len().saturating_sub(1));
        area[..n].copy_from_slice(&title[..n]);
    }
}

/// Closes the descriptors from `first` to `last`, when there are any.
///
/// # Safety
/// Closes whatever is open there.
unsafe fn close_range(first: RawFd, last: RawFd) {
    if first <= last {
        // SAFETY: a system call with integer arguments; ENOSYS on kernels
        // before 5.9 leaves the descriptors open, which only delays EOF.
        unsafe {
            libc::syscall(libc::SYS_close_range, first as u32, last as u32, 0);
        }
    }
}

/// Where the kernel reads `/proc/PID/cmdline` from: the process's argument
/// area (fields 48 and 49 of `/proc/self/stat`), read before forking.
fn argument_area() -> Option<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may hold spaces and ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3.
    let start = fields.get(48 - 3)?.parse().ok()?;
    let end = fields.get(49 - 3)?.parse().ok()?;
    (start < end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_argument_area_is_found() {
        let (start, end) = argument_area().expect("/proc/self/stat has arg_start and arg_end");
        assert!(end > start);
    }
}
