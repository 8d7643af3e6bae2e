//! A program whose whole process tree is lola's: it runs under a small init
//! of lola's, PID 1 of a PID namespace of its own, so that every process it
//! starts — double forks, `setsid`, `setpgid` included — lives in that
//! namespace and dies with it.
//!
//! What "the program ended" means, as container runtimes have it: the first
//! process (the program lola started) exited or was killed. Its init then
//! reports how, and exits; the kernel kills every other process of the
//! namespace with SIGKILL and reaps them before the init is gone, so once
//! [`Tree::wait`] returns nothing of the tree is left. lola's own death
//! ends the tree too: the init has `PR_SET_PDEATHSIG` = SIGKILL and stops
//! at the end of the pipe lola holds.
//!
//! The init forwards what lola asks ([`Tree::signal`]) to every process of
//! the namespace, followed by SIGCONT so that a stopped program hears it,
//! and tells lola when the program stops (SIGSTOP, SIGTSTP, SIGTTIN) or
//! continues. The program starts in a process group of its own (unless it
//! is to read lola's standard input), with the signal mask and SIGPIPE
//! disposition it would get from `std::process::Command`.
//!
//! Where no PID namespace may be made (no privilege over the current user
//! namespace: `--host` as an unprivileged user with `CAP_NET_RAW`), the init
//! is an ordinary child that makes itself the child subreaper: orphans come
//! to it, and at the end it kills its descendants one generation after
//! another until none is left ([`Containment::Subreaper`]).
//!
//! The program sees the PIDs of its namespace (`$$` is 2), while `/proc` is
//! still the host's: lola mounts nothing.

use std::ffi::{CString, OsStr, OsString};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// Where the program's standard input comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// `/dev/null`: a program that reads gets end-of-file, and one that
    /// would read the terminal cannot be stopped by SIGTTIN.
    Null,
    /// lola's own standard input; the program stays in lola's process group
    /// so that it may read the terminal lola reads.
    Inherit,
}

/// How the tree is held.
///
/// ```
/// use lola::host::tree::Containment;
/// assert_eq!(Containment::PidNamespace.to_string(), "a PID namespace");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Containment {
    /// lola's init is PID 1 of a namespace holding the whole tree.
    PidNamespace,
    /// No namespace could be made: lola's init is the subreaper of the tree.
    Subreaper,
}

impl fmt::Display for Containment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Containment::PidNamespace => "a PID namespace",
            Containment::Subreaper => "a child subreaper",
        })
    }
}

/// How the program ended, as wait(2) tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It exited with this status.
    Exited(i32),
    /// This signal killed it.
    Killed(i32),
}

/// What lola's init reports about the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// It was stopped by this signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU).
    Stopped(i32),
    /// It continued after a stop.
    Continued,
    /// It ended; the rest of its tree is being killed.
    Ended(Status),
}

/// What [`Tree::poll_event`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// An event.
    Event(Event),
    /// Nothing yet.
    Nothing,
    /// The init is gone (it reported the end, or was killed).
    Closed,
}

/// A running program and everything it starts.
///
/// ```
/// use std::time::Duration;
/// use lola::host::tree::{Event, Input, Poll, Status, Tree};
/// let mut tree = Tree::spawn("sh".as_ref(), &["-c".into(), "exit 3".into()], Input::Null, false).unwrap();
/// let event = loop {
///     match tree.poll_event(Duration::from_secs(5)).unwrap() {
///         Poll::Event(e) => break e,
///         Poll::Nothing => continue,
///         Poll::Closed => panic!("the init said nothing"),
///     }
/// };
/// assert_eq!(event, Event::Ended(Status::Exited(3)));
/// tree.wait();
/// let missing = Tree::spawn("no-such-program-here".as_ref(), &[], Input::Null, false);
/// assert_eq!(missing.err().unwrap().kind(), std::io::ErrorKind::NotFound);
/// ```
#[derive(Debug)]
pub struct Tree {
    init: libc::pid_t,
    containment: Containment,
    events: OwnedFd,
    commands: Option<OwnedFd>,
    reaped: bool,
}

/// The records the init writes: a kind and a value, 8 bytes, atomic on a pipe.
const STARTED: u32 = 1;
const EXEC_FAILED: u32 = 2;
const STOPPED: u32 = 3;
const CONTINUED: u32 = 4;
const EXITED: u32 = 5;
const KILLED: u32 = 6;

impl Tree {
    /// Starts `program` with `args` (looked up in `PATH` as a shell would)
    /// under lola's init; returns once it is running. Fails as spawning it
    /// would: not found, not executable.
    ///
    /// With `stdout_to_stderr`, the program's standard output goes to
    /// lola's standard error.
    ///
    /// Call it from a single-threaded process: the init is a fork.
    pub fn spawn(
        program: &OsStr,
        args: &[OsString],
        input: Input,
        stdout_to_stderr: bool,
    ) -> io::Result<Tree> {
        let c = |s: &OsStr| {
            CString::new(s.as_bytes()).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "an argument holds a NUL byte")
            })
        };
        let file = c(program)?;
        let argv: Vec<CString> = std::iter::once(program)
            .chain(args.iter().map(OsString::as_os_str))
            .map(c)
            .collect::<io::Result<_>>()?;
        let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let null = match input {
            Input::Null => Some(std::fs::File::open("/dev/null")?),
            Input::Inherit => None,
        };
        let (events_read, events_write) = pipe()?;
        let (commands_read, commands_write) = pipe()?;
        let plan = Plan {
            file: &file,
            argv: &argv_ptrs,
            stdin: null.as_ref().map(|f| f.as_raw_fd()),
            stdout_to_stderr,
            own_group: input == Input::Null,
            events: events_write.as_raw_fd(),
            commands: commands_read.as_raw_fd(),
        };
        let (init, containment) = clone_init()?;
        if init == 0 {
            drop(events_read);
            drop(commands_write);
            imp::init(&plan, containment);
        }
        drop(events_write);
        drop(commands_read);
        let mut tree = Tree {
            init,
            containment,
            events: events_read,
            commands: Some(commands_write),
            reaped: false,
        };
        match tree.read_record()? {
            Some((STARTED, _)) => Ok(tree),
            Some((EXEC_FAILED, errno)) => {
                tree.wait();
                Err(io::Error::from_raw_os_error(errno))
            }
            _ => {
                tree.wait();
                Err(io::Error::other(
                    "lola's init ended before the program started",
                ))
            }
        }
    }

    /// How the tree is held.
    pub fn containment(&self) -> Containment {
        self.containment
    }

    /// The descriptor that becomes readable when the init reports.
    pub fn events(&self) -> BorrowedFd<'_> {
        self.events.as_fd()
    }

    /// Waits up to `timeout` for the init's next report.
    pub fn poll_event(&mut self, timeout: std::time::Duration) -> io::Result<Poll> {
        let mut pfd = libc::pollfd {
            fd: self.events.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(Poll::Nothing)
            } else {
                Err(e)
            };
        }
        if n == 0 {
            return Ok(Poll::Nothing);
        }
        Ok(match self.read_record()? {
            None => Poll::Closed,
            Some((STOPPED, signal)) => Poll::Event(Event::Stopped(signal)),
            Some((CONTINUED, _)) => Poll::Event(Event::Continued),
            Some((EXITED, code)) => Poll::Event(Event::Ended(Status::Exited(code))),
            Some((KILLED, signal)) => Poll::Event(Event::Ended(Status::Killed(signal))),
            Some(_) => Poll::Nothing,
        })
    }

    /// Sends `signal` to every process of the tree, then SIGCONT so that a
    /// stopped one hears it. SIGKILL ends the tree at once.
    pub fn signal(&mut self, signal: i32) {
        if signal == libc::SIGKILL {
            return self.kill();
        }
        if let Some(commands) = &self.commands {
            let byte = signal as u8;
            // SAFETY: writing one byte from a local to our pipe. A failure
            // means the init is gone, which is what was asked.
            unsafe { libc::write(commands.as_raw_fd(), (&byte as *const u8).cast(), 1) };
        }
    }

    /// Kills the whole tree now.
    pub fn kill(&mut self) {
        if self.reaped {
            return;
        }
        // The end of the pipe tells the init to kill its tree and leave; in
        // a PID namespace SIGKILL to the init does it at once.
        self.commands = None;
        if self.containment == Containment::PidNamespace {
            // SAFETY: the init is our unreaped child: its pid is not reused.
            unsafe { libc::kill(self.init, libc::SIGKILL) };
        }
    }

    /// Waits until the init, and with it every process of the tree, is
    /// gone. Call it once the program ended (or after [`Tree::kill`]): it
    /// blocks while the tree runs.
    pub fn wait(&mut self) {
        if self.reaped {
            return;
        }
        let mut status = 0;
        loop {
            // SAFETY: waiting for our own child.
            let r = unsafe { libc::waitpid(self.init, &mut status, 0) };
            if r >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
        self.reaped = true;
    }

    /// One record from the init; `None` at the end of the pipe.
    fn read_record(&mut self) -> io::Result<Option<(u32, i32)>> {
        let mut bytes = [0u8; 8];
        loop {
            // SAFETY: reading into a local buffer of the stated size.
            let n = unsafe {
                libc::read(
                    self.events.as_raw_fd(),
                    bytes.as_mut_ptr().cast(),
                    bytes.len(),
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if n != 8 {
                return Ok(None);
            }
            let kind = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let value = i32::from_ne_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
            return Ok(Some((kind, value)));
        }
    }
}

impl Drop for Tree {
    /// Nothing of the tree outlives its handle.
    fn drop(&mut self) {
        self.kill();
        self.wait();
    }
}

/// What the init needs, made ready before the fork so that the child
/// allocates nothing to start the program.
struct Plan<'a> {
    file: &'a CString,
    argv: &'a [*const libc::c_char],
    stdin: Option<i32>,
    stdout_to_stderr: bool,
    own_group: bool,
    events: i32,
    commands: i32,
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are fresh and owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Forks the init: PID 1 of a new PID namespace where the kernel allows
/// it, else an ordinary child. lola's own PID namespace for children stays
/// as it was (so lola may still start threads).
fn clone_init() -> io::Result<(libc::pid_t, Containment)> {
    // SAFETY: clone(2) without CLONE_VM and without a new stack behaves as
    // fork(2); the process is single-threaded (documented on Tree::spawn).
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_NEWPID | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid >= 0 {
        return Ok((pid as libc::pid_t, Containment::PidNamespace));
    }
    let e = io::Error::last_os_error();
    if !matches!(
        e.raw_os_error(),
        Some(libc::EPERM | libc::EINVAL | libc::ENOSPC | libc::EUSERS)
    ) {
        return Err(e);
    }
    // SAFETY: as above.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((pid, Containment::Subreaper))
}

mod imp {
    use std::io;
    use std::os::fd::AsRawFd;

    use super::{CONTINUED, Containment, EXEC_FAILED, EXITED, KILLED, Plan, STARTED, STOPPED};

    fn record(fd: i32, kind: u32, value: i32) {
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&kind.to_ne_bytes());
        bytes[4..].copy_from_slice(&value.to_ne_bytes());
        // SAFETY: writing a local buffer to our pipe; 8 bytes are atomic.
        unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    }

    fn leave() -> ! {
        // SAFETY: leaving without the parent's atexit handlers.
        unsafe { libc::_exit(0) }
    }

    /// The init: starts the program, reaps orphans, forwards lola's
    /// signals, reports the program's stops and end, then leaves (which,
    /// in a PID namespace, kills the rest of the tree).
    pub(super) fn init(plan: &Plan<'_>, containment: Containment) -> ! {
        // SAFETY: plain system calls on this (child) process; the sigset
        // values are initialised by sigemptyset before use.
        unsafe {
            if containment == Containment::PidNamespace {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            } else {
                libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            }
            if plan.own_group {
                libc::setpgid(0, 0);
            }
            // SIGCHLD is read from a signalfd; lola's handlers (SIGINT,
            // SIGTERM) do nothing here: the init obeys the pipe only.
            let mut original: libc::sigset_t = std::mem::zeroed();
            let mut chld: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut chld);
            libc::sigaddset(&mut chld, libc::SIGCHLD);
            libc::sigprocmask(libc::SIG_BLOCK, &chld, &mut original);
            let signals = libc::signalfd(-1, &chld, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::signal(s, libc::SIG_IGN);
            }
            let (check_read, check_write) = match super::pipe() {
                Ok(p) => p,
                Err(e) => {
                    record(plan.events, EXEC_FAILED, e.raw_os_error().unwrap_or(0));
                    leave();
                }
            };
            let program = libc::fork();
            if program == 0 {
                start(plan, &original, check_write.as_raw_fd());
            }
            drop(check_write);
            if program < 0 {
                record(
                    plan.events,
                    EXEC_FAILED,
                    io::Error::last_os_error().raw_os_error().unwrap_or(0),
                );
                leave();
            }
            let mut errno = [0u8; 4];
            let n = libc::read(check_read.as_raw_fd(), errno.as_mut_ptr().cast(), 4);
            if n == 4 {
                let mut status = 0;
                libc::waitpid(program, &mut status, 0);
                record(plan.events, EXEC_FAILED, i32::from_ne_bytes(errno));
                leave();
            }
            record(plan.events, STARTED, program);
            watch(plan, containment, program, signals);
        }
    }

    /// The program's side of the fork: its descriptors, mask and SIGPIPE as
    /// std's Command leaves them, then exec; on failure the errno goes to
    /// `check` (closed on a successful exec).
    ///
    /// SAFETY: called in a freshly forked child; only system calls.
    unsafe fn start(plan: &Plan<'_>, mask: &libc::sigset_t, check: i32) -> ! {
        unsafe {
            if let Some(null) = plan.stdin {
                libc::dup2(null, 0);
            }
            if plan.stdout_to_stderr {
                libc::dup2(2, 1);
            }
            for s in [
                libc::SIGINT,
                libc::SIGTERM,
                libc::SIGHUP,
                libc::SIGQUIT,
                libc::SIGPIPE,
            ] {
                // Ignored by lola's init or by Rust's runtime; a handler of
                // lola's would be reset by exec anyway.
                libc::signal(s, libc::SIG_DFL);
            }
            libc::sigprocmask(libc::SIG_SETMASK, mask, std::ptr::null_mut());
            libc::execvp(plan.file.as_ptr(), plan.argv.as_ptr());
            let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
            libc::write(check, errno.to_ne_bytes().as_ptr().cast(), 4);
            libc::_exit(127)
        }
    }

    /// The init's loop: children's changes from the signalfd, lola's
    /// requests from the pipe.
    ///
    /// SAFETY: called in the init only; only system calls and /proc reads.
    unsafe fn watch(plan: &Plan<'_>, containment: Containment, program: i32, signals: i32) -> ! {
        let group = if plan.own_group { program } else { 0 };
        loop {
            let mut fds = [
                libc::pollfd {
                    fd: signals,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: plan.commands,
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: two valid pollfds.
            if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
                continue;
            }
            if fds[0].revents != 0 {
                let mut info = [0u8; 128];
                // SAFETY: draining the signalfd into a local buffer.
                while unsafe { libc::read(signals, info.as_mut_ptr().cast(), info.len()) } > 0 {}
                loop {
                    let mut status = 0;
                    let flags = libc::WNOHANG | libc::WUNTRACED | libc::WCONTINUED;
                    // SAFETY: reaping our own children.
                    let pid = unsafe { libc::waitpid(-1, &mut status, flags) };
                    if pid <= 0 {
                        break;
                    }
                    if pid != program {
                        continue;
                    }
                    if libc::WIFSTOPPED(status) {
                        record(plan.events, STOPPED, libc::WSTOPSIG(status));
                    } else if libc::WIFCONTINUED(status) {
                        record(plan.events, CONTINUED, 0);
                    } else {
                        if libc::WIFEXITED(status) {
                            record(plan.events, EXITED, libc::WEXITSTATUS(status));
                        } else {
                            record(plan.events, KILLED, libc::WTERMSIG(status));
                        }
                        end(containment, group);
                    }
                }
            }
            if fds[1].revents != 0 {
                let mut byte = 0u8;
                // SAFETY: reading one byte into a local.
                let n = unsafe { libc::read(plan.commands, (&mut byte as *mut u8).cast(), 1) };
                if n <= 0 {
                    // lola let go (or is gone): the tree ends.
                    end(containment, group);
                }
                forward(containment, group, i32::from(byte));
            }
        }
    }

    /// Sends `signal`, then SIGCONT, to every process of the tree.
    fn forward(containment: Containment, group: i32, signal: i32) {
        // SAFETY: kill(2) on our namespace, or on the program's group and
        // our descendants.
        unsafe {
            match containment {
                // -1 in a PID namespace: every process in it but the init.
                Containment::PidNamespace => {
                    libc::kill(-1, signal);
                    libc::kill(-1, libc::SIGCONT);
                }
                Containment::Subreaper => {
                    for pid in descendants() {
                        libc::kill(pid, signal);
                        libc::kill(pid, libc::SIGCONT);
                    }
                    if group > 0 {
                        libc::kill(-group, signal);
                        libc::kill(-group, libc::SIGCONT);
                    }
                }
            }
        }
    }

    /// Kills what is left of the tree and leaves.
    fn end(containment: Containment, group: i32) -> ! {
        if containment == Containment::Subreaper {
            // Each round kills this process's children; their orphans come
            // to it (the subreaper) for the next round, until none is left.
            loop {
                for pid in descendants() {
                    // SAFETY: killing a child of ours.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                if group > 0 {
                    // SAFETY: the program's group.
                    unsafe { libc::kill(-group, libc::SIGKILL) };
                }
                let mut status = 0;
                // SAFETY: reaping our own children.
                if unsafe { libc::waitpid(-1, &mut status, 0) } < 0 {
                    break;
                }
            }
        }
        leave()
    }

    /// This process's children, from /proc.
    fn descendants() -> Vec<i32> {
        // SAFETY: getpid cannot fail.
        let me = unsafe { libc::getpid() };
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.filter_map(|entry| {
            let pid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command's closing parenthesis: state, then ppid.
            let rest = &stat[stat.rfind(')')? + 1..];
            let ppid: i32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == me).then_some(pid)
        })
        .collect()
    }
}
