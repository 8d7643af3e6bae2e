//! Opening a packet socket on one interface: the flow's classic BPF
//! filter, the options every capture socket gets, its receive buffer,
//! binding it, and reading its counters. Shared by [`super::Capture`] and
//! the ring's second socket of a handover ([`super::handover`]).

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::bpf::{attach_filter, bpf_program};
use super::{FlowFilter, Unavailable};

const ETH_P_ALL: u16 = 0x0003;
/// Since Linux 4.20; older kernels say ENOPROTOOPT and lola drops the
/// outgoing copies itself.
const PACKET_IGNORE_OUTGOING: libc::c_int = libc::PACKET_IGNORE_OUTGOING;
const PACKET_STATISTICS: libc::c_int = libc::PACKET_STATISTICS;
const PACKET_AUXDATA: libc::c_int = libc::PACKET_AUXDATA;

/// A socket's `PACKET_STATISTICS` since the last read: (received, dropped).
pub(super) fn counters(fd: &OwnedFd) -> io::Result<(u64, u64)> {
    // TPACKET_V3 answers with tpacket_stats_v3 (and a freeze count);
    // without a ring, with the first two fields.
    // SAFETY: plain data, zeroed is valid.
    let mut stats: libc::tpacket_stats_v3 = unsafe { zeroed() };
    let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
    // SAFETY: getsockopt fills at most `len` bytes of a tpacket_stats_v3.
    if unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            PACKET_STATISTICS,
            (&mut stats as *mut libc::tpacket_stats_v3).cast(),
            &mut len,
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok((u64::from(stats.tp_packets), u64::from(stats.tp_drops)))
}

/// A packet socket on `interface` with the flow's filter and options,
/// not yet bound: the socket, the interface's index, the classic BPF
/// program the kernel took, and whether lola must drop outgoing copies.
pub(super) fn filtered_socket(
    interface: &str,
    filter: &FlowFilter,
) -> Result<(OwnedFd, u32, Vec<libc::sock_filter>, bool), Unavailable> {
    let name = CString::new(interface)
        .map_err(|_| Unavailable(format!("bad interface name {interface:?}")))?;
    // SAFETY: if_nametoindex reads a NUL-terminated string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if ifindex == 0 {
        return Err(Unavailable(format!(
            "no network interface named {interface:?}"
        )));
    }
    let fd = packet_socket().map_err(|e| {
        Unavailable(match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => {
                "live capture needs CAP_NET_RAW (run as root, or: sudo setcap cap_net_raw+ep $(command -v lola))"
                    .to_string()
            }
            Some(libc::EAFNOSUPPORT) => "this kernel has no AF_PACKET sockets".to_string(),
            _ => format!("cannot open a packet socket: {}", crate::error::describe_io(&e)),
        })
    })?;
    // A program the kernel will not take (beyond its socket memory
    // limit, net.core.optmem_max: 20 KiB before Linux 6.9) leaves
    // the ports to the userspace filter alone.
    let mut program = bpf_program(&filter.kernel_ports());
    if attach_filter(&fd, &program).is_err() {
        program = bpf_program(&[]);
        if attach_filter(&fd, &program).is_err() {
            return Err(failed("cannot attach the capture filter"));
        }
    }
    let drop_outgoing_here = set_options(&fd)?;
    Ok((fd, ifindex, program, drop_outgoing_here))
}

/// A packet socket that receives nothing yet: protocol 0 takes no frame
/// until bind() names ETH_P_ALL, so none slips in before the filter.
pub(super) fn packet_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the fd is owned right after.
    let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: raw is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Binds `fd` to every protocol on the interface `ifindex`: frames start
/// to come.
pub(super) fn bind(fd: &OwnedFd, ifindex: u32, interface: &str) -> Result<(), Unavailable> {
    // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = ETH_P_ALL.to_be();
    addr.sll_ifindex = ifindex as i32;
    // SAFETY: addr is a valid sockaddr_ll of the given size.
    if unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    } != 0
    {
        return Err(failed(&format!(
            "cannot bind the packet socket to {interface}"
        )));
    }
    Ok(())
}

/// `what`, with the system call's error.
fn failed(what: &str) -> Unavailable {
    Unavailable(format!(
        "{what}: {}",
        crate::error::describe_io(&io::Error::last_os_error())
    ))
}

/// Without a ring: asks for a socket buffer of `size` bytes (beyond
/// `net.core.rmem_max` only with CAP_NET_ADMIN) and answers what it got.
pub(super) fn set_receive_buffer(fd: &OwnedFd, size: usize) -> usize {
    let want = libc::c_int::try_from(size / 2).unwrap_or(libc::c_int::MAX);
    for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: setsockopt with a c_int option value. The kernel doubles
        // the value it is given, hence size / 2.
        let set = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&want as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        } == 0;
        if set {
            break;
        }
    }
    let mut got: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt fills a c_int of the stated size.
    unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut got as *mut libc::c_int).cast(),
            &mut len,
        );
    }
    usize::try_from(got).unwrap_or(0)
}

/// Socket options: the kernel drops outgoing copies where it can (the
/// answer: true when lola must drop them itself), tells the checksum
/// state of each frame, and stamps frames in nanoseconds.
pub(super) fn set_options(fd: &OwnedFd) -> Result<bool, Unavailable> {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt with a c_int option value.
    let drop_outgoing_here = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    } != 0;
    // What the kernel knows of each frame (the checksum left to
    // offload); without it, frames simply carry no such flag.
    // SAFETY: setsockopt with a c_int option value.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            PACKET_AUXDATA,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    // Kernel timestamps, as libpcap records them.
    // SAFETY: setsockopt with a c_int option value.
    if unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&one as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    } != 0
    {
        return Err(Unavailable(format!(
            "cannot enable kernel timestamps: {}",
            crate::error::describe_io(&io::Error::last_os_error())
        )));
    }
    Ok(drop_outgoing_here)
}
