//! The AF_PACKET socket on one interface and its receive path.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use super::bpf::{attach_filter, bpf_program};
use super::fragments::FragmentSorter;
use super::{FlowFilter, INBOUND, LiveFrame, OUTBOUND, Unavailable};
use crate::capture::CaptureStatistics;

const ETH_P_ALL: u16 = 0x0003;
/// Since Linux 4.20; older kernels say ENOPROTOOPT and lola drops the
/// outgoing copies itself.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const PACKET_OUTGOING: u8 = 4;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_AUXDATA: libc::c_int = 8;
/// tpacket_auxdata.tp_status: the checksum is left to offload.
const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
const SNAPLEN: usize = crate::capture::MAX_SNAPLEN as usize;

/// An AF_PACKET socket on one interface, filtered to one flow.
///
/// ```
/// use std::time::Duration;
/// use lola::host::live::{Capture, FlowFilter};
/// let pair = lola::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let filter = FlowFilter::pair(pair.client.local_addr(), pair.server.local_addr());
/// match Capture::open("lo", filter) {
///     Ok(mut capture) => {
///         let sent = pair.exchange(b"Hello Lola", Duration::from_secs(2)).unwrap().received;
///         let frame = capture.next(Duration::from_secs(2)).unwrap().unwrap();
///         assert!(lola::harness::is_datagram(&frame.data, &sent));
///     }
///     Err(e) => assert!(e.0.contains("CAP_NET_RAW") || e.0.contains("AF_PACKET"), "{e}"),
/// }
/// ```
pub struct Capture {
    interface: String,
    fd: OwnedFd,
    filter: FlowFilter,
    drop_outgoing_here: bool,
    buf: Vec<u8>,
    statistics: CaptureStatistics,
    /// Which IP fragments are the flow's (they carry no ports).
    fragments: FragmentSorter,
    /// Frames kept but not yet returned: fragments released with their first.
    ready: std::collections::VecDeque<LiveFrame>,
}

impl Capture {
    /// Opens a capture on `interface` keeping only `filter`'s frames.
    ///
    /// Fails with words a person can act on: no permission (with how to
    /// get it), no such interface.
    ///
    /// ```
    /// use lola::host::live::{Capture, FlowFilter};
    /// let err = Capture::open("no-such-if0", FlowFilter::default()).err().unwrap();
    /// assert_eq!(err.to_string(), r#"no network interface named "no-such-if0""#);
    /// match Capture::open("lo", FlowFilter::ports(vec![7456])) {
    ///     Ok(_capture) => {} // root, or CAP_NET_RAW
    ///     Err(e) => assert!(e.0.contains("CAP_NET_RAW") || e.0.contains("AF_PACKET"), "{e}"),
    /// }
    /// ```
    pub fn open(interface: &str, filter: FlowFilter) -> Result<Capture, Unavailable> {
        let name = CString::new(interface)
            .map_err(|_| Unavailable(format!("bad interface name {interface:?}")))?;
        // SAFETY: if_nametoindex reads a NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(Unavailable(format!(
                "no network interface named {interface:?}"
            )));
        }
        // Protocol 0: the socket receives nothing until bind() names
        // ETH_P_ALL, so no frame slips in before the filter is attached.
        // SAFETY: plain socket(2) call; the fd is owned right after.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            let e = io::Error::last_os_error();
            return Err(Unavailable(match e.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => {
                    "live capture needs CAP_NET_RAW (run as root, or: sudo setcap cap_net_raw+ep $(command -v lola))"
                        .to_string()
                }
                Some(libc::EAFNOSUPPORT) => "this kernel has no AF_PACKET sockets".to_string(),
                _ => format!("cannot open a packet socket: {}", crate::error::describe_io(&e)),
            }));
        }
        // SAFETY: raw is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let fail = |what: &str| {
            Unavailable(format!(
                "{what}: {}",
                crate::error::describe_io(&io::Error::last_os_error())
            ))
        };

        // A program the kernel will not take (beyond its socket memory
        // limit, net.core.optmem_max: 20 KiB before Linux 6.9) leaves
        // the ports to the userspace filter alone.
        if attach_filter(&fd, &bpf_program(&filter.kernel_ports())).is_err()
            && attach_filter(&fd, &bpf_program(&[])).is_err()
        {
            return Err(fail("cannot attach the capture filter"));
        }
        let drop_outgoing_here = set_options(&fd)?;
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
            return Err(fail(&format!(
                "cannot bind the packet socket to {interface}"
            )));
        }
        Ok(Capture {
            interface: interface.to_string(),
            fd,
            filter,
            drop_outgoing_here,
            buf: vec![0; SNAPLEN],
            statistics: CaptureStatistics::default(),
            fragments: FragmentSorter::default(),
            ready: std::collections::VecDeque::new(),
        })
    }

    /// The capture's counters so far: frames that passed the kernel's
    /// filter (both copies of a loopback frame count) and frames the
    /// kernel dropped because the socket's buffer was full, as
    /// `PACKET_STATISTICS` reports them (what libpcap calls `ps_recv`
    /// and `ps_drop`).
    ///
    /// ```
    /// use lola::host::live::{Capture, FlowFilter};
    /// if let Ok(mut capture) = Capture::open("lo", FlowFilter::ports(vec![9])) {
    ///     assert_eq!(capture.statistics().unwrap().dropped, 0);
    /// }
    /// ```
    pub fn statistics(&mut self) -> io::Result<CaptureStatistics> {
        #[repr(C)]
        #[derive(Default)]
        struct TpacketStats {
            tp_packets: u32,
            tp_drops: u32,
        }
        let mut stats = TpacketStats::default();
        let mut len = size_of::<TpacketStats>() as libc::socklen_t;
        // SAFETY: getsockopt fills a tpacket_stats of the stated size.
        if unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&mut stats as *mut TpacketStats).cast(),
                &mut len,
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        // The kernel resets its counters on every read: add them up.
        self.statistics.received += u64::from(stats.tp_packets);
        self.statistics.dropped += u64::from(stats.tp_drops);
        self.statistics.at = crate::host::exchange::now();
        Ok(self.statistics)
    }

    /// The interface it captures on.
    ///
    /// ```
    /// use lola::host::live::{Capture, FlowFilter};
    /// if let Ok(capture) = Capture::open("lo", FlowFilter::ports(vec![7456])) {
    ///     assert_eq!(capture.interface(), "lo");
    /// }
    /// ```
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Waits up to `timeout` for the next frame of the flow; `None` when
    /// none came. Sleeps in poll(2); never busy-waits.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lola::host::live::{Capture, FlowFilter};
    /// let pair = lola::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let filter = FlowFilter::pair(pair.client.local_addr(), pair.server.local_addr());
    /// match Capture::open("lo", filter) {
    ///     Ok(mut capture) => {
    ///         assert_eq!(capture.next(Duration::from_millis(10)).unwrap(), None, "nothing sent yet");
    ///         pair.exchange(b"Hello Lola", Duration::from_secs(2)).unwrap();
    ///         let frame = capture.next(Duration::from_secs(2)).unwrap().unwrap();
    ///         assert_eq!(frame.data.len(), 14 + 20 + 8 + 10);
    ///     }
    ///     Err(e) => assert!(e.0.contains("CAP_NET_RAW") || e.0.contains("AF_PACKET"), "{e}"),
    /// }
    /// ```
    pub fn next(&mut self, timeout: Duration) -> io::Result<Option<LiveFrame>> {
        if let Some(frame) = self.ready.pop_front() {
            return Ok(Some(frame));
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().min(i32::MAX as u128) as i32
                + i32::from(!left.is_zero() && left.as_millis() == 0);
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                return Ok(None);
            }
            if let Some(frame) = self.receive()? {
                return Ok(Some(frame));
            }
            if left.is_zero() {
                return Ok(None);
            }
        }
    }

    /// Reads one queued frame; `None` if it is not the flow's.
    fn receive(&mut self) -> io::Result<Option<LiveFrame>> {
        // SAFETY: plain data, zeroed is valid.
        let mut from: libc::sockaddr_ll = unsafe { zeroed() };
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: self.buf.as_mut_ptr().cast(),
            iov_len: self.buf.len(),
        };
        // SAFETY: plain data, zeroed is valid.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_name = (&mut from as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; 16]>() as _;
        // SAFETY: msg points at live buffers of the stated sizes.
        let n = unsafe {
            libc::recvmsg(
                self.fd.as_raw_fd(),
                &mut msg,
                libc::MSG_TRUNC | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        if self.drop_outgoing_here && from.sll_pkttype == PACKET_OUTGOING {
            return Ok(None);
        }
        let orig_len = n as usize;
        let captured = orig_len.min(self.buf.len());
        let data = &self.buf[..captured];
        // A fragment carries no ports: `keeps` refuses it, and the
        // sorter below decides.
        let whole = self.filter.keeps(data);
        let mut timestamp = None;
        let mut flags = if from.sll_pkttype == PACKET_OUTGOING {
            OUTBOUND
        } else {
            INBOUND
        };
        // SAFETY: walking the control buffer the kernel filled, with the libc macros.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                let (level, kind) = ((*cmsg).cmsg_level, (*cmsg).cmsg_type);
                if level == libc::SOL_SOCKET && kind == libc::SCM_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    timestamp = Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
                } else if level == libc::SOL_PACKET && kind == PACKET_AUXDATA {
                    // tpacket_auxdata starts with tp_status.
                    let status: u32 = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    if status & TP_STATUS_CSUMNOTREADY != 0 {
                        flags |= crate::capture::EPB_CHECKSUM_NOT_READY;
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        let frame = LiveFrame {
            timestamp: timestamp.unwrap_or_else(crate::host::exchange::now),
            data: data.to_vec(),
            orig_len: orig_len as u32,
            flags,
        };
        if whole {
            return Ok(Some(frame));
        }
        match self.fragments.sort(&self.filter, frame) {
            Err(_) => Ok(None),
            Ok(frames) => {
                let mut frames = frames.into_iter();
                let first = frames.next();
                self.ready.extend(frames);
                Ok(first)
            }
        }
    }
}

/// Socket options: the kernel drops outgoing copies where it can (the
/// answer: true when lola must drop them itself), tells the checksum
/// state of each frame, and stamps frames in nanoseconds.
fn set_options(fd: &OwnedFd) -> Result<bool, Unavailable> {
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
