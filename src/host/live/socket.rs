//! The AF_PACKET socket on one interface and its receive path: a
//! memory-mapped ring ([`Ring`]) where the kernel gives one, else one
//! `recvmsg` per frame.

use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::bpf::{attach_filter, bpf_program};
use super::fragments::FragmentSorter;
use super::ring::Ring;
use super::{DEFAULT_BUFFER_SIZE, FlowFilter, INBOUND, LiveFrame, OUTBOUND, Unavailable};
use crate::capture::CaptureStatistics;

const ETH_P_ALL: u16 = 0x0003;
/// Since Linux 4.20; older kernels say ENOPROTOOPT and lola drops the
/// outgoing copies itself.
const PACKET_IGNORE_OUTGOING: libc::c_int = libc::PACKET_IGNORE_OUTGOING;
const PACKET_OUTGOING: u8 = libc::PACKET_OUTGOING;
const PACKET_STATISTICS: libc::c_int = libc::PACKET_STATISTICS;
const PACKET_AUXDATA: libc::c_int = libc::PACKET_AUXDATA;
/// tp_status: the checksum is left to offload.
const TP_STATUS_CSUMNOTREADY: u32 = libc::TP_STATUS_CSUMNOTREADY;
const SNAPLEN: usize = crate::capture::MAX_SNAPLEN as usize;

/// An AF_PACKET socket on one interface, filtered to one flow.
///
/// Frames arrive in a memory-mapped ring (`PACKET_RX_RING`, `TPACKET_V3`)
/// of [`DEFAULT_BUFFER_SIZE`] or the size given to
/// [`Capture::open_with_buffer`], read a block at a time as libpcap reads
/// it; on a kernel that gives no ring, one `recvmsg` per frame.
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
    receive: Receive,
    // After `receive`: the ring is unmapped before the socket closes.
    fd: OwnedFd,
    admission: Admission,
    statistics: CaptureStatistics,
}

/// Where frames come from.
enum Receive {
    /// The memory-mapped ring.
    Ring(Ring),
    /// One `recvmsg` per frame into `buf`: the kernel gave no ring (why:
    /// `no_ring`), and the socket's buffer is `rcvbuf` bytes.
    Calls {
        buf: Vec<u8>,
        no_ring: io::Error,
        rcvbuf: usize,
    },
}

/// One frame as the kernel handed it over, before lola decides on it.
struct Raw<'a> {
    data: &'a [u8],
    orig_len: u32,
    timestamp: Option<Duration>,
    /// `sll_pkttype`.
    pkttype: u8,
    /// The checksum was left to offload.
    checksum_not_ready: bool,
}

/// What decides which frames are the flow's, apart from the receive path
/// (so that a frame borrowed from the ring can be judged).
struct Admission {
    filter: FlowFilter,
    drop_outgoing_here: bool,
    /// Which IP fragments are the flow's (they carry no ports).
    fragments: FragmentSorter,
    /// Frames kept but not yet returned: fragments released with their first.
    ready: VecDeque<LiveFrame>,
}

impl Admission {
    /// The frame, if it is the flow's (and any fragments it releases go to
    /// `ready`).
    fn admit(&mut self, raw: Raw<'_>) -> Option<LiveFrame> {
        if self.drop_outgoing_here && raw.pkttype == PACKET_OUTGOING {
            return None;
        }
        // A fragment carries no ports: `keeps` refuses it, and the sorter
        // below decides.
        let whole = self.filter.keeps(raw.data);
        let mut flags = if raw.pkttype == PACKET_OUTGOING {
            OUTBOUND
        } else {
            INBOUND
        };
        if raw.checksum_not_ready {
            flags |= crate::capture::EPB_CHECKSUM_NOT_READY;
        }
        let frame = LiveFrame {
            timestamp: raw.timestamp.unwrap_or_else(crate::host::exchange::now),
            data: raw.data.to_vec(),
            orig_len: raw.orig_len,
            flags,
        };
        if whole {
            return Some(frame);
        }
        let mut frames = self.fragments.sort(&self.filter, frame).ok()?.into_iter();
        let first = frames.next();
        self.ready.extend(frames);
        first
    }
}

impl Capture {
    /// Opens a capture on `interface` keeping only `filter`'s frames, with
    /// a ring of [`DEFAULT_BUFFER_SIZE`].
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
        Capture::open_with_buffer(interface, filter, DEFAULT_BUFFER_SIZE)
    }

    /// Opens a capture as [`Capture::open`] does, with a ring of at least
    /// `buffer_size` bytes (what `tcpdump -B` sets, there in KiB): the
    /// frames the kernel may hold while lola is busy before it drops and
    /// counts them. The ring is whole blocks of 128 KiB (smaller ones below
    /// 256 KiB), two at least. Where the kernel gives no ring, frames come
    /// one `recvmsg` at a time through a socket buffer of about that size.
    ///
    /// ```
    /// use lola::host::live::{Capture, FlowFilter};
    /// if let Ok(capture) = Capture::open_with_buffer("lo", FlowFilter::ports(vec![9]), 2 << 20) {
    ///     assert_eq!(capture.ring_size(), Some(2 << 20));
    /// }
    /// ```
    pub fn open_with_buffer(
        interface: &str,
        filter: FlowFilter,
        buffer_size: usize,
    ) -> Result<Capture, Unavailable> {
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
        let receive = match Ring::map(&fd, buffer_size) {
            Ok(ring) => Receive::Ring(ring),
            Err(e) => Receive::Calls {
                buf: vec![0; SNAPLEN],
                no_ring: e,
                rcvbuf: set_receive_buffer(&fd, buffer_size),
            },
        };
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
            receive,
            fd,
            admission: Admission {
                filter,
                drop_outgoing_here,
                fragments: FragmentSorter::default(),
                ready: VecDeque::new(),
            },
            statistics: CaptureStatistics::default(),
        })
    }

    /// The size of the memory-mapped ring in bytes, or `None` when the
    /// kernel gave none ([`Capture::receive_path`] says why) and frames
    /// come one system call at a time.
    ///
    /// ```
    /// use lola::host::live::{Capture, FlowFilter, DEFAULT_BUFFER_SIZE};
    /// if let Ok(capture) = Capture::open("lo", FlowFilter::ports(vec![9])) {
    ///     assert!(capture.ring_size() >= Some(DEFAULT_BUFFER_SIZE));
    /// }
    /// ```
    pub fn ring_size(&self) -> Option<usize> {
        match &self.receive {
            Receive::Ring(ring) => Some(ring.size()),
            Receive::Calls { .. } => None,
        }
    }

    /// Closes the capture without waiting for the kernel: the last close
    /// of a packet socket with a ring waits for two RCU grace periods
    /// (`synchronize_net`, 10 to 30 ms each on a busy machine), so a
    /// short-lived process of lola's holds the last reference and waits for
    /// them instead, and this returns at once. When no process can be
    /// started the socket is closed here, waiting as a plain drop does.
    pub fn close_detached(self) {
        let last_holder = super::detach::LastHolder::start(self.fd.as_raw_fd());
        drop(self);
        drop(last_holder);
    }

    /// How frames reach lola, in words: the ring and its size, or why
    /// there is none.
    ///
    /// ```
    /// use lola::host::live::{Capture, FlowFilter};
    /// if let Ok(capture) = Capture::open("lo", FlowFilter::ports(vec![9])) {
    ///     assert_eq!(capture.receive_path(), "a ring of 8192 KiB, memory-mapped (TPACKET_V3)");
    /// }
    /// ```
    pub fn receive_path(&self) -> String {
        match &self.receive {
            Receive::Ring(ring) => format!(
                "a ring of {} KiB, memory-mapped (TPACKET_V3)",
                ring.size() / 1024
            ),
            Receive::Calls {
                no_ring, rcvbuf, ..
            } => format!(
                "one recvmsg per frame through a {} KiB socket buffer (no ring: {})",
                rcvbuf / 1024,
                crate::error::describe_io(no_ring)
            ),
        }
    }

    /// The capture's counters so far: frames that passed the kernel's
    /// filter (both copies of a loopback frame count) and frames the
    /// kernel dropped because the ring (or the socket's buffer) was full,
    /// as `PACKET_STATISTICS` reports them (what libpcap calls `ps_recv`
    /// and `ps_drop`, and pcapng `isb_ifrecv` and `isb_ifdrop`). This is the
    /// accessor for loss: read it after the recording, before the capture is
    /// dropped.
    ///
    /// ```
    /// use lola::host::live::{Capture, FlowFilter};
    /// if let Ok(mut capture) = Capture::open("lo", FlowFilter::ports(vec![9])) {
    ///     assert_eq!(capture.statistics().unwrap().dropped, 0);
    /// }
    /// ```
    pub fn statistics(&mut self) -> io::Result<CaptureStatistics> {
        // TPACKET_V3 answers with tpacket_stats_v3 (and a freeze count);
        // without a ring, with the first two fields.
        // SAFETY: plain data, zeroed is valid.
        let mut stats: libc::tpacket_stats_v3 = unsafe { zeroed() };
        let mut len = size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: getsockopt fills at most `len` bytes of a tpacket_stats_v3.
        if unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats_v3).cast(),
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
    /// none came. Sleeps in poll(2); never busy-waits. What the ring already
    /// holds is read without a system call.
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
        self.next_with(timeout, None)
    }

    /// [`next`](Capture::next), returning `None` early when `wake` becomes
    /// readable (and no frame is there): a caller that also waits for
    /// something else (a child's report, say) hears of it at once.
    ///
    /// ```
    /// use std::os::fd::AsFd;
    /// use std::time::{Duration, Instant};
    /// use lola::host::live::{Capture, FlowFilter};
    /// if let Ok(mut capture) = Capture::open("lo", FlowFilter::ports(vec![9])) {
    ///     let (reader, mut writer) = std::io::pipe().unwrap();
    ///     std::io::Write::write_all(&mut writer, b"x").unwrap();
    ///     let started = Instant::now();
    ///     assert_eq!(capture.next_or(Duration::from_secs(5), reader.as_fd()).unwrap(), None);
    ///     assert!(started.elapsed() < Duration::from_secs(1), "woken, not timed out");
    /// }
    /// ```
    pub fn next_or(
        &mut self,
        timeout: Duration,
        wake: BorrowedFd<'_>,
    ) -> io::Result<Option<LiveFrame>> {
        self.next_with(timeout, Some(wake.as_raw_fd()))
    }

    fn next_with(
        &mut self,
        timeout: Duration,
        wake: Option<RawFd>,
    ) -> io::Result<Option<LiveFrame>> {
        if let Some(frame) = self.admission.ready.pop_front() {
            return Ok(Some(frame));
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(frame) = self.drain()? {
                return Ok(Some(frame));
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            // The socket, and what else cuts the wait short (poll skips a
            // negative fd).
            let mut pfds = [self.fd.as_raw_fd(), wake.unwrap_or(-1)].map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            });
            let ms = left.as_millis().min(i32::MAX as u128) as i32
                + i32::from(!left.is_zero() && left.as_millis() == 0);
            // SAFETY: two valid pollfds.
            let n = unsafe { libc::poll(pfds.as_mut_ptr(), 2, ms) };
            let pfd = pfds[0];
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if pfd.revents & libc::POLLERR != 0 {
                // The interface went down, say: recvmsg would tell, the ring
                // cannot.
                if let Some(e) = socket_error(&self.fd) {
                    return Err(e);
                }
            }
            if n == 0 {
                return Ok(None);
            }
            if let Some(frame) = self.drain()? {
                return Ok(Some(frame));
            }
            if left.is_zero() || pfds[1].revents != 0 {
                return Ok(None);
            }
        }
    }

    /// The next frame of the flow among those the kernel has already handed
    /// over; `None` when there is none (never waits).
    fn drain(&mut self) -> io::Result<Option<LiveFrame>> {
        let admission = &mut self.admission;
        match &mut self.receive {
            Receive::Ring(ring) => {
                while let Some(f) = ring.next() {
                    let raw = Raw {
                        data: f.data,
                        orig_len: f.orig_len,
                        timestamp: Some(f.timestamp),
                        pkttype: f.pkttype,
                        checksum_not_ready: f.status & TP_STATUS_CSUMNOTREADY != 0,
                    };
                    if let Some(frame) = admission.admit(raw) {
                        return Ok(Some(frame));
                    }
                }
                Ok(None)
            }
            Receive::Calls { buf, .. } => {
                while let Some(raw) = receive_one(&self.fd, buf)? {
                    if let Some(frame) = admission.admit(raw) {
                        return Ok(Some(frame));
                    }
                }
                Ok(None)
            }
        }
    }
}

/// Reads one queued frame with `recvmsg` into `buf`; `None` when none is
/// queued.
fn receive_one<'a>(fd: &OwnedFd, buf: &'a mut [u8]) -> io::Result<Option<Raw<'a>>> {
    // SAFETY: plain data, zeroed is valid.
    let mut from: libc::sockaddr_ll = unsafe { zeroed() };
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
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
            fd.as_raw_fd(),
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
    let mut timestamp = None;
    let mut checksum_not_ready = false;
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
                checksum_not_ready = status & TP_STATUS_CSUMNOTREADY != 0;
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let orig_len = n as usize;
    let captured = orig_len.min(buf.len());
    Ok(Some(Raw {
        data: &buf[..captured],
        orig_len: orig_len as u32,
        timestamp,
        pkttype: from.sll_pkttype,
        checksum_not_ready,
    }))
}

/// The socket's pending error (`SO_ERROR`, which reading clears), if any.
fn socket_error(fd: &OwnedFd) -> Option<io::Error> {
    let mut err: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt fills a c_int of the stated size.
    let ok = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut libc::c_int).cast(),
            &mut len,
        )
    } == 0;
    (ok && err != 0).then(|| io::Error::from_raw_os_error(err))
}

/// Without a ring: asks for a socket buffer of `size` bytes (beyond
/// `net.core.rmem_max` only with CAP_NET_ADMIN) and answers what it got.
fn set_receive_buffer(fd: &OwnedFd, size: usize) -> usize {
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
