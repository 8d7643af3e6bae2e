//! A socket's last close, done by a process of its own.
//!
//! Linux makes the last close of a packet socket wait for RCU grace periods
//! (`packet_release` calls `synchronize_net`, twice when the socket has a
//! ring): 20 to 50 ms on a busy two-core machine, which a process pays on
//! its way out even when a thread does the close, since the process ends
//! only when every thread has. [`LastHolder`] forks a grandchild that keeps
//! the socket open until the caller has let go of its own references (the
//! descriptor and the ring's mapping), then closes it and waits for the
//! kernel alone; the caller goes on at once. The grandchild keeps no other
//! descriptor (no pipe of the caller's stays open through it) and shows a
//! command line of its own in `/proc`, so that it is never taken for the
//! program lola ran.

use std::os::fd::RawFd;

/// The grandchild's command line, in place of lola's own.
const TITLE: &[u8] = b"lola: closing a capture";

/// The process that will close the socket last; dropping this tells it
/// the caller's references are gone.
pub(super) struct LastHolder {
    /// The write end of the pipe the grandchild waits on, if it started.
    release: Option<RawFd>,
}

impl LastHolder {
    /// Starts the grandchild holding `socket`. The caller then drops every
    /// reference of its own to the socket (descriptor and mapping) before
    /// dropping this.
    pub(super) fn start(socket: RawFd) -> LastHolder {
        let args = argument_area();
        let mut ends = [0; 2];
        // SAFETY: pipe2 fills the two-int array.
        if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return LastHolder { release: None };
        }
        let [wait_end, release] = ends;
        // SAFETY: between fork and _exit the children make only
        // async-signal-safe system calls and write only to their own copy
        // of the argument area; nothing is allocated or locked.
        unsafe {
            match libc::fork() {
                0 => {
                    // The title is taken before the grandchild is forked, so
                    // it has it from its first instant: by the time the
                    // caller has reaped this process, no process with the
                    // caller's command line is left behind.
                    take_title(args);
                    if libc::fork() == 0 {
                        hold_then_close(socket, wait_end);
                    }
                    libc::_exit(0);
                }
                -1 => {
                    libc::close(wait_end);
                    libc::close(release);
                    LastHolder { release: None }
                }
                child => {
                    libc::close(wait_end);
                    // The middle process exits at once: reaped here, its
                    // child belongs to init (or the nearest subreaper).
                    let mut status = 0;
                    while libc::waitpid(child, &mut status, 0) < 0
                        && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                    {
                    }
                    LastHolder {
                        release: Some(release),
                    }
                }
            }
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

/// Overwrites this process's command line (its argument area) with
/// `TITLE`, so `/proc/PID/cmdline` names it for what it is.
///
/// # Safety
/// Only in a freshly forked child: it writes the process's own copy of the
/// argument area, which nothing else of it reads.
unsafe fn take_title(args: Option<(usize, usize)>) {
    if let Some((start, end)) = args {
        // SAFETY: the area lies within this process's own memory (read
        // from /proc/self/stat before forking).
        let area = unsafe { std::slice::from_raw_parts_mut(start as *mut u8, end - start) };
        area.fill(0);
        let n = TITLE.len().min(area.len().saturating_sub(1));
        area[..n].copy_from_slice(&TITLE[..n]);
    }
}

/// In the grandchild: shed every descriptor but the socket and the pipe,
/// wait for the caller to let go, close, exit.
///
/// # Safety
/// Only in a freshly forked child, which this never returns from.
unsafe fn hold_then_close(socket: RawFd, wait_end: RawFd) -> ! {
    unsafe {
        let (low, high) = if socket < wait_end {
            (socket, wait_end)
        } else {
            (wait_end, socket)
        };
        close_range(0, low - 1);
        close_range(low + 1, high - 1);
        close_range(high + 1, RawFd::MAX);
        let mut byte = 0u8;
        // Returns 0 (end of file) once every write end is closed.
        while libc::read(wait_end, (&raw mut byte).cast(), 1) < 0
            && *libc::__errno_location() == libc::EINTR
        {}
        libc::close(socket);
        libc::_exit(0)
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
