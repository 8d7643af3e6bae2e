//! The causes an [`Error`](super::Error) carries, defined beside it so that
//! the bottom layer depends on nothing above it: why a live capture is not
//! available ([`Unavailable`]) and why no private `lo` could be made
//! ([`Blocked`], at which [`Step`]). The kernel layer
//! ([`host`](crate::host)) finds them; its modules re-export them.

use std::fmt;

/// Why live capture is not available here, in words a person can act on.
///
/// ```
/// use lola::host::live::{Capture, FlowFilter, Unavailable};
/// assert_eq!(Unavailable("no AF_PACKET here".into()).to_string(), "no AF_PACKET here");
/// let err = Capture::open("no-such-if0", FlowFilter::default()).err().unwrap();
/// assert!(err.0.contains("no network interface") || err.0.contains("only implemented on Linux"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// The step of making a private `lo` that failed.
///
/// ```
/// assert_eq!(lola::host::sandbox::Step::UidMap.to_string(), "writing /proc/self/uid_map");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Becoming uid 65534 (only when root probes for unprivileged users).
    DropPrivileges,
    /// `unshare(2)`.
    Unshare,
    /// Writing `deny` to `/proc/self/setgroups`.
    Setgroups,
    /// Writing `/proc/self/uid_map`.
    UidMap,
    /// Writing `/proc/self/gid_map`.
    GidMap,
    /// Bringing the new `lo` up.
    LoUp,
    /// Opening a packet socket there.
    PacketSocket,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::DropPrivileges => "becoming uid 65534",
            Step::Unshare => "unshare(CLONE_NEWUSER | CLONE_NEWNET)",
            Step::Setgroups => "writing /proc/self/setgroups",
            Step::UidMap => "writing /proc/self/uid_map",
            Step::GidMap => "writing /proc/self/gid_map",
            Step::LoUp => "bringing the private lo up",
            Step::PacketSocket => "opening a packet socket on the private lo",
        })
    }
}

/// Why a private `lo` is not possible here, with what fixes it.
///
/// ```
/// use lola::host::sandbox::Blocked;
/// let b = Blocked::MaxUserNamespaces;
/// assert_eq!(b.to_string(), "user namespaces are disabled (user.max_user_namespaces = 0)");
/// assert!(b.fix().contains("sysctl -w user.max_user_namespaces="));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// Not Linux: no namespaces and no AF_PACKET.
    NotLinux,
    /// `user.max_user_namespaces = 0`.
    MaxUserNamespaces,
    /// `user.max_net_namespaces = 0`.
    MaxNetNamespaces,
    /// `kernel.apparmor_restrict_unprivileged_userns = 1` (Ubuntu 23.10+).
    AppArmor,
    /// `kernel.unprivileged_userns_clone = 0` (older Debian kernels).
    UnprivilegedClone,
    /// A seccomp filter refuses `unshare` (Docker's default profile does).
    Seccomp,
    /// The process already runs more than one thread.
    Threads,
    /// Anything else: the step and the system's error.
    Other(Step, String),
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocked::NotLinux => f.write_str("namespaces and packet sockets exist only on Linux"),
            Blocked::MaxUserNamespaces => {
                f.write_str("user namespaces are disabled (user.max_user_namespaces = 0)")
            }
            Blocked::MaxNetNamespaces => {
                f.write_str("network namespaces are disabled (user.max_net_namespaces = 0)")
            }
            Blocked::AppArmor => f.write_str(
                "AppArmor forbids unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)",
            ),
            Blocked::UnprivilegedClone => f.write_str(
                "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
            ),
            Blocked::Seccomp => f.write_str(
                "a seccomp filter refuses unshare (as Docker's default profile does)",
            ),
            Blocked::Threads => f.write_str(
                "the process already runs several threads; the kernel refuses a user namespace then",
            ),
            Blocked::Other(step, e) => write!(f, "{step} failed: {e}"),
        }
    }
}

const SETCAP: &str = "sudo setcap cap_net_raw+ep $(command -v lola), or run it with sudo";

impl Blocked {
    /// What a person can do about it.
    ///
    /// ```
    /// assert!(lola::host::sandbox::Blocked::AppArmor.fix().contains("setcap cap_net_raw+ep"));
    /// ```
    pub fn fix(&self) -> String {
        match self {
            Blocked::NotLinux => "none: live capture needs Linux; lola synthesizes the frames".into(),
            Blocked::MaxUserNamespaces => format!(
                "sudo sysctl -w user.max_user_namespaces=15000, or {SETCAP}"
            ),
            Blocked::MaxNetNamespaces => {
                format!("sudo sysctl -w user.max_net_namespaces=15000, or {SETCAP}")
            }
            Blocked::AppArmor | Blocked::UnprivilegedClone | Blocked::Other(..) => SETCAP.into(),
            Blocked::Seccomp => {
                "in Docker, run with --cap-add NET_RAW (lola runs as root in the container and captures on its lo)"
                    .into()
            }
            Blocked::Threads => "enter the namespace before starting threads (lola's own commands do)".into(),
        }
    }
}
