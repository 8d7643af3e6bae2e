//! The AF_PACKET socket on one interface and its receive path: a
//! memory-mapped ring ([`Ring`]) where the kernel gives one, else one
//! `recvmsg` per frame.

use std::collections::VecDeque;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use super::fragments::FragmentSorter;
use super::handover::Handover;
use super::open::{bind, counters, filtered_socket, set_receive_buffer};
use super::ring::Ring;
use super::{DEFAULT_BUFFER_SIZE, FlowFilter, INBOUND, LiveFrame, OUTBOUND, Unavailable};
use crate::capture::CaptureStatistics;

const PACKET_OUTGOING: u8 = libc::PACKET_OUTGOING;
const PACKET_AUXDATA: libc::c_int = libc::PACKET_AUXDATA;
/// tp_status: the checksum is left to offload.
const TP_STATUS_CSUMNOTREADY: u32 = libc::TP_STATUS_CSUMNOTREADY;
const SNAPLEN: usize = crate::capture::MAX_SNAPLEN as usize;
/// The plain socket of [`Capture::open_at_once`] asks for this many times
/// the ring's bytes, to hold as many frames until the ring takes over.
const PLAIN_BUFFER_FACTOR: usize = 4;

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
    /// After a handover ([`Capture::open_at_once`]): the plain socket the
    /// ring took over from, and whether it may hold frames still.
    earlier: Option<Earlier>,
    // Last: the helper closes the sockets once lola's own references are gone.
    handover: Option<Handover>,
    admission: Admission,
    statistics: CaptureStatistics,
    /// Frames taken from the sockets (before the flow's filter judged
    /// them): what the kernel counted as queued, less what it still holds.
    pulled: u64,
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
        let (fd, ifindex, program, drop_outgoing_here) = filtered_socket(interface, &filter)?;
        let receive = match Ring::map(&fd, buffer_size) {
            Ok(ring) => Receive::Ring(ring),
            Err(e) => Receive::Calls {
                buf: vec![0; SNAPLEN],
                no_ring: e,
                rcvbuf: set_receive_buffer(&fd, buffer_size),
            },
        };
        drop(program);
        bind(&fd, ifindex, interface)?;
        Ok(Capture::new(
            interface,
            receive,
            fd,
            filter,
            drop_outgoing_here,
        ))
    }

    /// Opens a capture as [`Capture::open_with_buffer`] does that records
    /// from the moment this returns, without waiting for its ring: frames
    /// come one `recvmsg` at a time until a process of lola's has made the
    /// ring on a second socket (the kernel waits for an RCU grace period to
    /// make one, 5 to 20 ms), then through the ring. The kernel hands each
    /// frame to exactly one of the two sockets, and both are read to the
    /// end: nothing is lost or doubled at the switch. This is what `lola
    /// exec` starts its program behind. Where the kernel cannot switch
    /// (Linux before 6.2), or the plain socket cannot get a buffer as
    /// large as the ring (`net.core.rmem_max`, without `CAP_NET_ADMIN`),
    /// the ring is made here before this returns.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lola::host::live::{Capture, FlowFilter};
    /// let pair = lola::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let filter = FlowFilter::pair(pair.client.local_addr(), pair.server.local_addr());
    /// if let Ok(mut capture) = Capture::open_at_once("lo", filter, 2 << 20) {
    ///     let sent = pair.exchange(b"Hello Lola", Duration::from_secs(2)).unwrap().received;
    ///     let frame = capture.next(Duration::from_secs(2)).unwrap().unwrap();
    ///     assert!(lola::harness::is_datagram(&frame.data, &sent));
    /// }
    /// ```
    pub fn open_at_once(
        interface: &str,
        filter: FlowFilter,
        buffer_size: usize,
    ) -> Result<Capture, Unavailable> {
        let (fd, ifindex, program, drop_outgoing_here) = filtered_socket(interface, &filter)?;
        // A socket buffer charges each frame its whole kernel allocation
        // (about 830 bytes for a small datagram on lo, against about 190
        // in a ring block), hence four times the ring's bytes. Beyond
        // net.core.rmem_max only with CAP_NET_ADMIN: where the buffer got
        // is smaller than the ring would be, a flood from the program's
        // first instant could overflow it before the ring takes over, so
        // the ring is made here first, as `open_with_buffer` does.
        let rcvbuf = set_receive_buffer(&fd, buffer_size.saturating_mul(PLAIN_BUFFER_FACTOR));
        let bound = rcvbuf >= buffer_size;
        let started = if bound {
            bind(&fd, ifindex, interface)?;
            Handover::start(&fd, ifindex as i32, &program, buffer_size)
        } else {
            Err(io::Error::other(
                "the plain socket's buffer is smaller than the ring",
            ))
        };
        match started {
            Ok(handover) => {
                let receive = Receive::Calls {
                    buf: vec![0; SNAPLEN],
                    no_ring: io::Error::new(io::ErrorKind::WouldBlock, "the ring is being made"),
                    rcvbuf,
                };
                let mut capture = Capture::new(interface, receive, fd, filter, true);
                capture.handover = Some(handover);
                Ok(capture)
            }
            // Nothing runs yet whose frames a remade hook could miss.
            Err(_) => {
                let receive = match Ring::map(&fd, buffer_size) {
                    Ok(ring) => Receive::Ring(ring),
                    Err(no_ring) => Receive::Calls {
                        buf: vec![0; SNAPLEN],
                        no_ring,
                        rcvbuf,
                    },
                };
                if !bound {
                    bind(&fd, ifindex, interface)?;
                }
                Ok(Capture::new(
                    interface,
                    receive,
                    fd,
                    filter,
                    drop_outgoing_here,
                ))
            }
        }
    }

    fn new(
        interface: &str,
        receive: Receive,
        fd: OwnedFd,
        filter: FlowFilter,
        drop_outgoing_here: bool,
    ) -> Capture {
        Capture {
            interface: interface.to_string(),
            receive,
            fd,
            earlier: None,
            handover: None,
            admission: Admission {
                filter,
                drop_outgoing_here,
                fragments: FragmentSorter::default(),
                ready: VecDeque::new(),
            },
            statistics: CaptureStatistics::default(),
            pulled: 0,
        }
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
        if self.handover.is_some() {
            // Its helper holds both sockets and closes them once this lets go.
            return drop(self);
        }
        let last_holder = super::detach::LastHolder::start(&[self.fd.as_raw_fd()]);
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
        let mut sockets = vec![&self.fd];
        sockets.extend(self.earlier.as_ref().map(|e| &e.fd));
        sockets.extend(self.handover.as_ref().and_then(Handover::ring_socket));
        for fd in sockets {
            let (received, dropped) = counters(fd)?;
            // The kernel resets its counters on every read: add them up.
            self.statistics.received += received;
            self.statistics.dropped += dropped;
        }
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
        // The ring takes over as soon as it is ready, even while frames
        // keep the plain socket busy (a flood would otherwise keep lola on
        // one system call per frame, behind the kernel, until the end).
        if self.handover.as_ref().and_then(Handover::waiting).is_some() {
            self.switch();
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(frame) = self.drain()? {
                return Ok(Some(frame));
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            // The socket; the helper's word that the ring is ready; the
            // socket the ring took over from (poll skips a negative fd).
            let watch = |fd: Option<RawFd>| libc::pollfd {
                fd: fd.unwrap_or(-1),
                events: libc::POLLIN,
                revents: 0,
            };
            let mut pfds = [
                watch(Some(self.fd.as_raw_fd())),
                watch(self.handover.as_ref().and_then(Handover::waiting)),
                watch(self.earlier.as_ref().map(|e| e.fd.as_raw_fd())),
                watch(wake),
            ];
            let ms = left.as_millis().min(i32::MAX as u128) as i32
                + i32::from(!left.is_zero() && left.as_millis() == 0);
            // SAFETY: four valid pollfds.
            let n = unsafe { libc::poll(pfds.as_mut_ptr(), 4, ms) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if pfds[1].revents != 0 {
                self.switch();
            }
            if let Some(earlier) = &mut self.earlier
                && pfds[2].revents != 0
            {
                // Its error (lo went down) is the current socket's too.
                socket_error(&earlier.fd);
                earlier.readable = true;
            }
            if pfds[0].revents & libc::POLLERR != 0 {
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
            if left.is_zero() || pfds[3].revents != 0 {
                return Ok(None);
            }
        }
    }

    /// The next frame of the flow among those the kernel has already handed
    /// over; `None` when there is none (never waits).
    fn drain(&mut self) -> io::Result<Option<LiveFrame>> {
        let admission = &mut self.admission;
        // Frames dispatched before the switch come first.
        if let Some(earlier) = &mut self.earlier
            && earlier.readable
        {
            while let Some(raw) = receive_one(&earlier.fd, &mut earlier.buf)? {
                self.pulled += 1;
                if let Some(frame) = admission.admit(raw) {
                    return Ok(Some(frame));
                }
            }
            earlier.readable = false;
        }
        match &mut self.receive {
            Receive::Ring(ring) => {
                while let Some(f) = ring.next() {
                    self.pulled += 1;
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
                    self.pulled += 1;
                    if let Some(frame) = admission.admit(raw) {
                        return Ok(Some(frame));
                    }
                }
                Ok(None)
            }
        }
    }
}

impl Capture {
    /// Ends what the kernel queues for this capture: from now on a filter
    /// that takes nothing keeps every new frame out (uncounted), so that
    /// the kernel's count of frames queued is final and the frames it
    /// already queued can all be read ([`Capture::next_queued`]) or
    /// counted as lost ([`Capture::final_statistics`]).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use lola::host::live::{Capture, FlowFilter};
    /// let pair = lola::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let filter = FlowFilter::pair(pair.client.local_addr(), pair.server.local_addr());
    /// if let Ok(mut capture) = Capture::open("lo", filter) {
    ///     pair.exchange(b"before", Duration::from_secs(2)).unwrap();
    ///     capture.close_intake().unwrap();
    ///     pair.exchange(b"after", Duration::from_secs(2)).unwrap();
    ///     let deadline = Instant::now() + Duration::from_millis(50);
    ///     let frame = capture.next_queued(deadline).unwrap().unwrap();
    ///     assert!(frame.data.ends_with(b"before"));
    ///     assert_eq!(capture.next_queued(deadline).unwrap(), None, "nothing after the end");
    ///     assert_eq!(capture.final_statistics().unwrap().dropped, 0);
    /// }
    /// ```
    pub fn close_intake(&mut self) -> io::Result<()> {
        let nothing = [libc::sock_filter {
            code: (libc::BPF_RET | libc::BPF_K) as u16,
            jt: 0,
            jf: 0,
            k: 0,
        }];
        // A ring not taken over yet never will be: until the switch the
        // group gives its socket no frame.
        if let Some(handover) = &mut self.handover {
            handover.abandon();
        }
        let mut sockets = vec![&self.fd];
        sockets.extend(self.earlier.as_ref().map(|e| &e.fd));
        for fd in sockets {
            super::bpf::attach_filter(fd, &nothing)?;
        }
        Ok(())
    }

    /// The frames the kernel queued for this capture that it has not
    /// taken yet: in a ring block not handed over, or behind others.
    fn unread(&mut self) -> io::Result<u64> {
        let s = self.statistics()?;
        Ok(s.received.saturating_sub(s.dropped + self.pulled))
    }

    /// The next frame of the flow among those the kernel has queued (after
    /// [`Capture::close_intake`]: every one it will count), waiting until
    /// `deadline` at most for those it holds in a ring block not handed
    /// over yet (4 ms, the block's timer); `None` once every frame queued
    /// has been taken, or at the deadline.
    pub fn next_queued(&mut self, deadline: Instant) -> io::Result<Option<LiveFrame>> {
        loop {
            // Also a frame late to the socket the ring took over from (one
            // the kernel was handing to it while the switch was made): an
            // empty ring is followed by a poll of both.
            if let Some(frame) = self.next(Duration::ZERO)? {
                return Ok(Some(frame));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.unread()? == 0 {
                return Ok(None);
            }
            if let Some(frame) = self.next(left.min(Duration::from_millis(2)))? {
                return Ok(Some(frame));
            }
        }
    }

    /// The kernel's counters at the end of a capture, as
    /// [`Capture::statistics`], with every frame it queued that was never
    /// taken counted as dropped: what a capture cut short lost is told,
    /// never lost silently.
    pub fn final_statistics(&mut self) -> io::Result<CaptureStatistics> {
        let unread = self.unread()?;
        self.statistics.dropped += unread;
        Ok(self.statistics)
    }
}

/// The plain socket a ring took over from ([`Capture::open_at_once`]),
/// which may still hold frames the kernel dispatched before the switch.
struct Earlier {
    fd: OwnedFd,
    buf: Vec<u8>,
    /// Polled readable, and not yet read empty.
    readable: bool,
}

impl Capture {
    /// The helper said it is done: the ring takes over if it was made.
    /// Where it was not (or the switch failed), frames keep coming to the
    /// plain socket, which the kernel then still feeds alone, and
    /// [`Capture::receive_path`] says why.
    fn switch(&mut self) {
        let Some(handover) = &mut self.handover else {
            return;
        };
        match handover.take_over(&self.fd) {
            Ok(Some((ring_fd, ring))) => {
                // An error it recorded before the switch (lo went down) is old.
                socket_error(&ring_fd);
                let plain = std::mem::replace(&mut self.fd, ring_fd);
                let buf = match std::mem::replace(&mut self.receive, Receive::Ring(ring)) {
                    Receive::Calls { buf, .. } => buf,
                    Receive::Ring(_) => vec![0; SNAPLEN],
                };
                self.earlier = Some(Earlier {
                    fd: plain,
                    buf,
                    readable: true,
                });
            }
            Ok(None) if handover.waiting().is_some() => {}
            result => {
                if let Receive::Calls { no_ring, .. } = &mut self.receive {
                    *no_ring = result
                        .err()
                        .unwrap_or_else(|| io::Error::other("the process making it could not"));
                }
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
