//! A private loopback: a network namespace of lola's own, with its own `lo`,
//! where an unprivileged process may capture.
//!
//! A network namespace owned by a user namespace the process created grants
//! it `CAP_NET_RAW` there, so lola can open an AF_PACKET socket on that
//! namespace's `lo` without root. As root, lola makes only the network
//! namespace (root keeps its powers over the host's files). The new `lo`
//! starts down; lola brings it up with `SIOCSIFFLAGS`, so no `ip` binary is
//! needed. The host's `lo` and every other interface are never touched.
//!
//! Entering is for the rest of the process's life, like `unshare(1)`, and
//! only works before the process starts a second thread (the kernel refuses
//! `CLONE_NEWUSER` in a multi-threaded process): decide before any socket
//! is bound, since sockets bound earlier stay in the host's namespace.
//! [`probe`] tries the same steps in a forked child and leaves the caller
//! where it was.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

/// Which namespaces make the private `lo`.
///
/// ```
/// use lola::host::sandbox::Isolation;
/// assert_eq!(Isolation::User.to_string(), "user namespace");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// A user namespace owning a network namespace: needs no privilege.
    User,
    /// A network namespace alone: what root gets.
    Network,
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Isolation::User => "user namespace",
            Isolation::Network => "network namespace",
        })
    }
}

/// Where a live capture happens.
///
/// ```
/// use lola::host::sandbox::{Isolation, Place};
/// assert_eq!(Place::Host.to_string(), "the host lo");
/// assert_eq!(Place::Private(Isolation::User).to_string(), "a private lo (user namespace)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The machine's own `lo`, shared with every other process.
    Host,
    /// A `lo` of lola's own, in namespaces it created.
    Private(Isolation),
}

impl Place {
    /// Where this process captures now: private once [`enter_private`]
    /// succeeded, else the host.
    ///
    /// ```
    /// // A doc test never enters a namespace.
    /// assert_eq!(lola::host::sandbox::Place::current(), lola::host::sandbox::Place::Host);
    /// ```
    pub fn current() -> Place {
        entered().map_or(Place::Host, Place::Private)
    }

    /// `host` or `private`, for JSON.
    ///
    /// ```
    /// assert_eq!(lola::host::sandbox::Place::Host.name(), "host");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Place::Host => "host",
            Place::Private(_) => "private",
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Host => f.write_str("the host lo"),
            Place::Private(i) => write!(f, "a private lo ({i})"),
        }
    }
}

pub use crate::error::cause::{Blocked, Step};

/// 0: not entered; otherwise 1 + the isolation.
static ENTERED: AtomicU8 = AtomicU8::new(0);

/// The namespaces this process entered with [`enter_private`], if any.
///
/// ```
/// assert_eq!(lola::host::sandbox::entered(), None);
/// ```
pub fn entered() -> Option<Isolation> {
    match ENTERED.load(Ordering::Relaxed) {
        1 => Some(Isolation::User),
        2 => Some(Isolation::Network),
        _ => None,
    }
}

/// True when this process may open a packet socket in its current network
/// namespace (root, `CAP_NET_RAW`, or inside a private namespace).
///
/// ```
/// let _ = lola::host::sandbox::has_net_raw(); // true as root
/// ```
pub fn has_net_raw() -> bool {
    imp::has_net_raw()
}

/// Moves this process into a private network namespace (inside a new user
/// namespace unless it is root) with `lo` up, for the rest of its life.
/// Idempotent: once inside, says where.
///
/// Refuses, with the cause, where the kernel or a security module forbids
/// it, and in a process that already runs several threads.
///
/// ```
/// use lola::host::sandbox::{enter_private, entered, has_net_raw, Place};
/// // A doc test is a process of its own, single-threaded: it may move.
/// match enter_private() {
///     Ok(isolation) => {
///         assert_eq!(entered(), Some(isolation));
///         assert_eq!(Place::current(), Place::Private(isolation));
///         assert!(has_net_raw(), "CAP_NET_RAW on the private lo");
///     }
///     Err(blocked) => assert!(!blocked.fix().is_empty(), "{blocked}"),
/// }
/// ```
pub fn enter_private() -> Result<Isolation, Blocked> {
    if let Some(i) = entered() {
        return Ok(i);
    }
    let isolation = imp::enter()?;
    ENTERED.store(
        match isolation {
            Isolation::User => 1,
            Isolation::Network => 2,
        },
        Ordering::Relaxed,
    );
    Ok(isolation)
}

/// Tries, in a forked child, to make a private `lo` with `isolation` and
/// open a packet socket on it; the caller stays where it is. Call it from a
/// single-threaded process (as `lola doctor` does).
///
/// ```
/// use lola::host::sandbox::{entered, probe, Isolation};
/// let isolation = if lola::host::sandbox::diagnose().root { Isolation::Network } else { Isolation::User };
/// if let Err(blocked) = probe(isolation) {
///     println!("no private lo here: {blocked}; fix: {}", blocked.fix());
/// }
/// assert_eq!(entered(), None, "the caller stayed where it was");
/// ```
pub fn probe(isolation: Isolation) -> Result<(), Blocked> {
    imp::probe(isolation, false)
}

/// What this machine allows for live capture, for `lola doctor`.
///
/// ```
/// let d = lola::host::sandbox::diagnose();
/// assert_eq!(d.unprivileged.is_some(), d.root, "only root asks on nobody's behalf");
/// assert!(d.settings.iter().any(|(name, _)| *name == "user.max_user_namespaces"));
/// ```
#[derive(Clone, Debug)]
pub struct Diagnosis {
    /// True when the process runs as root (effective uid 0).
    pub root: bool,
    /// Whether this process may capture on the host's `lo`.
    pub host: Result<(), crate::host::live::Unavailable>,
    /// Whether this process may make a private `lo`, and which kind.
    pub private: Result<Isolation, Blocked>,
    /// As root: whether an unprivileged user (uid 65534) may make one.
    pub unprivileged: Option<Result<(), Blocked>>,
    /// The kernel settings that decide it, as (name, value).
    pub settings: Vec<(&'static str, String)>,
}

impl Diagnosis {
    /// Where `--capture auto` captures here, or why it synthesizes.
    ///
    /// ```
    /// use lola::host::sandbox::{diagnose, Place};
    /// let d = diagnose();
    /// match d.auto() {
    ///     Ok(Place::Host) => assert!(d.host.is_ok()),
    ///     Ok(Place::Private(i)) => assert_eq!(d.private, Ok(i)),
    ///     Err(blocked) => assert_eq!(d.private, Err(blocked)),
    /// }
    /// ```
    pub fn auto(&self) -> Result<Place, Blocked> {
        match (&self.host, &self.private) {
            (Ok(()), _) => Ok(Place::Host),
            (Err(_), Ok(i)) => Ok(Place::Private(*i)),
            (Err(_), Err(b)) => Err(b.clone()),
        }
    }
}

/// Probes every capture mode without leaving the host's namespaces: the
/// private ones in forked children. Call it from a single-threaded process.
///
/// ```
/// let d = lola::host::sandbox::diagnose();
/// assert_eq!(lola::host::sandbox::entered(), None, "probing moved nothing");
/// if d.root {
///     assert!(d.host.is_ok(), "root captures on the host lo");
/// }
/// ```
pub fn diagnose() -> Diagnosis {
    let root = imp::is_root();
    let host =
        crate::host::live::Capture::open("lo", crate::host::live::FlowFilter::ports(vec![9]))
            .map(drop);
    let isolation = if root {
        Isolation::Network
    } else {
        Isolation::User
    };
    let private = imp::probe(isolation, false).map(|()| isolation);
    // Where uid 65534 does not exist (a user namespace mapping only root),
    // there is nobody to ask about.
    let unprivileged = root
        .then(|| imp::probe(Isolation::User, true))
        .filter(|r| !matches!(r, Err(Blocked::Other(Step::DropPrivileges, _))));
    Diagnosis {
        root,
        host,
        private,
        unprivileged,
        settings: settings(),
    }
}

/// The system settings that decide whether user namespaces are allowed,
/// those this kernel has, as (name, value).
///
/// ```
/// for (name, value) in lola::host::sandbox::settings() {
///     assert!(name.contains('.') && !value.is_empty());
/// }
/// ```
pub fn settings() -> Vec<(&'static str, String)> {
    [
        (
            "user.max_user_namespaces",
            "/proc/sys/user/max_user_namespaces",
        ),
        (
            "user.max_net_namespaces",
            "/proc/sys/user/max_net_namespaces",
        ),
        (
            "kernel.apparmor_restrict_unprivileged_userns",
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
        ),
        (
            "kernel.unprivileged_userns_clone",
            "/proc/sys/kernel/unprivileged_userns_clone",
        ),
    ]
    .into_iter()
    .filter_map(|(name, path)| {
        let value = std::fs::read_to_string(path).ok()?;
        Some((name, value.trim().to_string()))
    })
    .collect()
}

/// The cause of a failed step, from the error and the system's settings.
fn classify(step: Step, errno: i32) -> Blocked {
    let setting = |name: &str| {
        settings()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    };
    let seccomp = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Seccomp:").map(|v| v.trim() == "2"))
        })
        .unwrap_or(false);
    let e = std::io::Error::from_raw_os_error(errno);
    match (step, errno) {
        (Step::Unshare, libc::ENOSPC)
            if setting("user.max_user_namespaces").as_deref() == Some("0") =>
        {
            Blocked::MaxUserNamespaces
        }
        (Step::Unshare, libc::ENOSPC)
            if setting("user.max_net_namespaces").as_deref() == Some("0") =>
        {
            Blocked::MaxNetNamespaces
        }
        (Step::Unshare, libc::EINVAL) => Blocked::Threads,
        (
            Step::Unshare
            | Step::Setgroups
            | Step::UidMap
            | Step::GidMap
            | Step::LoUp
            | Step::PacketSocket,
            libc::EPERM | libc::EACCES,
        ) if setting("kernel.apparmor_restrict_unprivileged_userns").as_deref() == Some("1") => {
            Blocked::AppArmor
        }
        (Step::Unshare, libc::EPERM)
            if setting("kernel.unprivileged_userns_clone").as_deref() == Some("0") =>
        {
            Blocked::UnprivilegedClone
        }
        (Step::Unshare, libc::EPERM | libc::ENOSYS) if seccomp => Blocked::Seccomp,
        _ => Blocked::Other(step, crate::error::describe_io(&e)),
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    use super::{Blocked, Isolation, Step, classify};

    type Failed = (Step, i32);

    fn last(step: Step) -> Failed {
        (step, io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    pub fn has_net_raw() -> bool {
        // SAFETY: plain socket(2); the fd is owned (and closed) right after.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return false;
        }
        // SAFETY: raw is a fresh descriptor nobody else owns.
        drop(unsafe { OwnedFd::from_raw_fd(raw) });
        true
    }

    pub fn is_root() -> bool {
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    fn isolation_here() -> Isolation {
        if is_root() {
            Isolation::Network
        } else {
            Isolation::User
        }
    }

    /// The steps, each a plain system call or a write to /proc.
    fn steps(isolation: Isolation) -> Result<(), Failed> {
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let flags = match isolation {
            Isolation::User => libc::CLONE_NEWUSER | libc::CLONE_NEWNET,
            Isolation::Network => libc::CLONE_NEWNET,
        };
        // SAFETY: unshare changes only this process's namespaces.
        if unsafe { libc::unshare(flags) } != 0 {
            return Err(last(Step::Unshare));
        }
        if isolation == Isolation::User {
            let write = |path: &str, text: String, step: Step| {
                std::fs::write(path, text).map_err(|e| (step, e.raw_os_error().unwrap_or(0)))
            };
            // Before Linux 3.19 there is no setgroups file, and no need for it.
            match write("/proc/self/setgroups", "deny".into(), Step::Setgroups) {
                Err((_, libc::ENOENT)) | Ok(()) => {}
                Err(e) => return Err(e),
            }
            // Root in the namespace is the caller outside it: files lola
            // writes still belong to the caller.
            write("/proc/self/uid_map", format!("0 {uid} 1"), Step::UidMap)?;
            write("/proc/self/gid_map", format!("0 {gid} 1"), Step::GidMap)?;
        }
        lo_up()
    }

    /// `ip link set lo up` in the new namespace, with two ioctls.
    fn lo_up() -> Result<(), Failed> {
        // SAFETY: plain socket(2); the fd is owned right after.
        let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(last(Step::LoUp));
        }
        // SAFETY: raw is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: ifreq is plain data; zeroed is a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
            *d = *s as libc::c_char;
        }
        // SAFETY: req is a valid ifreq naming lo; the kernel fills the flags.
        if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFFLAGS as _, &mut req) } != 0 {
            return Err(last(Step::LoUp));
        }
        // SAFETY: reading and setting the flags member the kernel just filled.
        unsafe {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        }
        // SAFETY: as above; this is lo of the namespace just created.
        if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCSIFFLAGS as _, &req) } != 0 {
            return Err(last(Step::LoUp));
        }
        Ok(())
    }

    pub fn enter() -> Result<Isolation, Blocked> {
        let isolation = isolation_here();
        steps(isolation).map_err(|(step, errno)| classify(step, errno))?;
        Ok(isolation)
    }

    /// Drops to uid/gid 65534 (nobody), in a probing child.
    fn become_nobody() -> Result<(), Failed> {
        // SAFETY: credential calls on this (child) process only.
        unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(65534) != 0
                || libc::setuid(65534) != 0
            {
                return Err(last(Step::DropPrivileges));
            }
            // A change of uid makes the process undumpable, which leaves its
            // /proc/self files to root; the user's own lola is dumpable.
            libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0);
        }
        Ok(())
    }

    pub fn probe(isolation: Isolation, as_nobody: bool) -> Result<(), Blocked> {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            let e = io::Error::last_os_error();
            return Err(Blocked::Other(Step::Unshare, crate::error::describe_io(&e)));
        }
        // SAFETY: both descriptors are fresh and owned here.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: fork in a process documented to be single-threaded; the
        // child only makes system calls and exits with _exit.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            let e = io::Error::last_os_error();
            return Err(Blocked::Other(Step::Unshare, crate::error::describe_io(&e)));
        }
        if pid == 0 {
            drop(read);
            let dropped = if as_nobody { become_nobody() } else { Ok(()) };
            let result = dropped.and_then(|()| steps(isolation)).and_then(|()| {
                if has_net_raw() {
                    Ok(())
                } else {
                    Err(last(Step::PacketSocket))
                }
            });
            let (code, bytes) = match result {
                Ok(()) => (0, [0u8; 5]),
                Err((step, errno)) => {
                    let mut b = [0u8; 5];
                    b[0] = step as u8;
                    b[1..].copy_from_slice(&errno.to_ne_bytes());
                    (1, b)
                }
            };
            // SAFETY: writing a local buffer to our pipe, then leaving without
            // running the parent's atexit handlers.
            unsafe {
                libc::write(write.as_raw_fd(), bytes.as_ptr().cast(), bytes.len());
                libc::_exit(code);
            }
        }
        drop(write);
        let mut bytes = [0u8; 5];
        // SAFETY: reading into a local buffer of the stated size.
        let n = unsafe { libc::read(read.as_raw_fd(), bytes.as_mut_ptr().cast(), bytes.len()) };
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
            return Ok(());
        }
        if n != 5 {
            return Err(Blocked::Other(
                Step::Unshare,
                format!("the probing child ended with status {status}"),
            ));
        }
        let step = [
            Step::DropPrivileges,
            Step::Unshare,
            Step::Setgroups,
            Step::UidMap,
            Step::GidMap,
            Step::LoUp,
            Step::PacketSocket,
        ]
        .get(usize::from(bytes[0]))
        .copied()
        .unwrap_or(Step::Unshare);
        let errno = i32::from_ne_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        Err(classify(step, errno))
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{Blocked, Isolation};

    pub fn has_net_raw() -> bool {
        false
    }

    pub fn enter() -> Result<Isolation, Blocked> {
        Err(Blocked::NotLinux)
    }

    pub fn probe(_: Isolation, _: bool) -> Result<(), Blocked> {
        Err(Blocked::NotLinux)
    }

    pub fn is_root() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_and_causes_read_as_sentences() {
        assert_eq!(Place::Host.to_string(), "the host lo");
        assert_eq!(
            Place::Private(Isolation::Network).to_string(),
            "a private lo (network namespace)"
        );
        assert!(Blocked::Seccomp.fix().contains("--cap-add NET_RAW"));
        assert!(Blocked::Threads.to_string().contains("threads"));
    }

    #[test]
    fn a_multi_threaded_unshare_is_named_as_such() {
        assert_eq!(classify(Step::Unshare, libc::EINVAL), Blocked::Threads);
        assert!(matches!(
            classify(Step::LoUp, libc::ENODEV),
            Blocked::Other(Step::LoUp, _)
        ));
    }
}
