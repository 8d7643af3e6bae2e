//! A capture that records from the moment it is opened, while its ring is
//! made elsewhere: what `lola exec` starts its program behind.
//!
//! Making a memory-mapped ring (`PACKET_RX_RING`) waits for an RCU grace
//! period (`packet_set_ring` calls `synchronize_net`): 5 to 20 ms, most of
//! what `lola exec -- true` cost. So the capture starts on a plain packet
//! socket (one `recvmsg` per frame, no ring, nothing to wait for), and a
//! process of lola's ([`super::detach::spawn_detached`]) makes the ring on
//! a second socket meanwhile; once it is ready, frames go there.
//!
//! The switch loses and doubles nothing because the kernel hands each frame
//! to exactly one of the two: both sockets are members of one fanout group
//! (`PACKET_FANOUT`, `PACKET_FANOUT_CBPF`), which delivers every frame once,
//! to the member its classic BPF program picks. The group starts with no
//! program (every frame to member 0, the plain socket); the switch is
//! installing the program `return 1` (member 1, the ring's socket), one
//! pointer the kernel reads once per frame. Frames dispatched before it are
//! read from the plain socket, those after from the ring: lola reads both
//! until the end.
//!
//! The ring's socket must join the group without receiving a frame on its
//! own: a bound socket gets frames directly until it joins, so it is bound
//! with a filter that takes nothing, joins, waits for one grace period (no
//! frame is still on its way through the direct path), and only then gets
//! the flow's filter. All of that happens in the helper process, which
//! then says "ready", holds both sockets until the capture is dropped, and
//! closes them last, so that lola never waits for the kernel on its way out
//! either ([`super::detach`]).
//!
//! Where the kernel refuses a step (no fanout group, or none that ignores
//! outgoing frames: Linux before 6.2), the capture makes its ring in place
//! as [`super::Capture::open_with_buffer`] does, before the caller starts
//! anything.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::detach::{Middle, pipe, spawn_detached, wait_for_release};
use super::ring::{self, Ring, set};

/// The helper's command line, in place of lola's own.
const TITLE: &[u8] = b"lola: capture ring helper";

/// What the helper writes when the ring's socket is ready to take over.
const READY: u8 = 1;

/// A classic BPF program of one instruction: `return k`.
const fn returns(k: u32) -> [libc::sock_filter; 1] {
    [libc::sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k,
    }]
}

/// The filter that takes no frame, and the fanout program that sends
/// every frame to member 1 (the ring's socket).
const NOTHING: [libc::sock_filter; 1] = returns(0);
const TO_THE_RING: [libc::sock_filter; 1] = returns(1);

/// The ring being made for a capture, and then the helper holding both
/// sockets until the capture lets go.
pub(super) struct Handover {
    /// The ring's socket, until it takes over.
    ring_fd: Option<OwnedFd>,
    /// Its `PACKET_RX_RING` request.
    req: libc::tpacket_req3,
    /// Readable when the helper has made the ring or failed.
    ready: OwnedFd,
    /// Closed (dropped) to let the helper close the sockets and leave.
    _release: OwnedFd,
    /// Reaped last, long after it exited.
    _middle: Middle,
}

impl Handover {
    /// Puts `plain` (bound to `ifindex`, filtered by `filter`) in a fanout
    /// group of its own and starts the helper making a ring of at least
    /// `buffer_size` bytes on a second socket. Frames keep coming to
    /// `plain` until [`Handover::take_over`].
    pub(super) fn start(
        plain: &OwnedFd,
        ifindex: i32,
        filter: &[libc::sock_filter],
        buffer_size: usize,
    ) -> io::Result<Handover> {
        let flags = libc::PACKET_FANOUT_CBPF | libc::PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
        let create: u32 = (flags | libc::PACKET_FANOUT_FLAG_UNIQUEID) << 16;
        set(
            plain.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_FANOUT,
            &create,
        )?;
        // The kernel chose the group's id; the second socket joins by it.
        let mut group: u32 = 0;
        let mut len = size_of::<u32>() as libc::socklen_t;
        // SAFETY: getsockopt fills a u32 of the stated size.
        if unsafe {
            libc::getsockopt(
                plain.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_FANOUT,
                (&raw mut group).cast(),
                &mut len,
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        let join = (group & 0xffff) | (flags << 16);

        let ring_fd = super::open::packet_socket()?;
        super::bpf::attach_filter(&ring_fd, &NOTHING)?;
        super::open::set_options(&ring_fd).map_err(io::Error::other)?;
        ring::set_version(ring_fd.as_raw_fd())?;
        let req = ring::request(buffer_size);

        let (ready_read, ready_write) = pipe()?;
        // SAFETY: fcntl on a descriptor just made; reading it never waits.
        unsafe { libc::fcntl(ready_read, libc::F_SETFL, libc::O_NONBLOCK) };
        // SAFETY: both ends are fresh descriptors owned here from now on.
        let (ready, ready_write) = unsafe {
            (
                OwnedFd::from_raw_fd(ready_read),
                OwnedFd::from_raw_fd(ready_write),
            )
        };
        let (wait_end, release) = pipe()?;
        // SAFETY: as above.
        let (wait_end, release) = unsafe {
            (
                OwnedFd::from_raw_fd(wait_end),
                OwnedFd::from_raw_fd(release),
            )
        };
        let make = Make {
            plain: plain.as_raw_fd(),
            ring: ring_fd.as_raw_fd(),
            req,
            ifindex,
            join,
            filter,
            ready: ready_write.as_raw_fd(),
            wait_end: wait_end.as_raw_fd(),
        };
        let middle = spawn_detached(
            &[make.plain, make.ring, make.ready, make.wait_end],
            TITLE,
            // SAFETY: in the helper, which makes only system calls.
            || unsafe { make.run() },
        )?;
        Ok(Handover {
            ring_fd: Some(ring_fd),
            req,
            ready,
            _release: release,
            _middle: middle,
        })
    }

    /// The descriptor that becomes readable when the helper has finished,
    /// while the ring has not taken over yet.
    pub(super) fn waiting(&self) -> Option<RawFd> {
        self.ring_fd.as_ref().map(|_| self.ready.as_raw_fd())
    }

    /// Gives up the switch (the capture has ended): the ring's socket,
    /// which the group never fed, stays the helper's alone.
    pub(super) fn abandon(&mut self) {
        self.ring_fd = None;
    }

    /// The ring's socket while it has not taken over (for its counters).
    pub(super) fn ring_socket(&self) -> Option<&OwnedFd> {
        self.ring_fd.as_ref()
    }

    /// Once [`Handover::waiting`] is readable: maps the ring and sends
    /// every frame from now on to it, returning its socket and the ring.
    /// `Ok(None)` when the helper could not make it (the capture stays on
    /// `plain`, which the group still feeds alone); an error of the
    /// switch itself leaves it there too.
    pub(super) fn take_over(&mut self, plain: &OwnedFd) -> io::Result<Option<(OwnedFd, Ring)>> {
        let mut byte = 0u8;
        // SAFETY: reading one byte into a local.
        let n = unsafe { libc::read(self.ready.as_raw_fd(), (&raw mut byte).cast(), 1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let Some(ring_fd) = self.ring_fd.take() else {
            return Ok(None);
        };
        if n != 1 || byte != READY {
            // Failed, or gone: the ring's socket stays out of the way (it
            // takes nothing) and is closed with the rest.
            self.ring_fd = None;
            drop(ring_fd);
            return Ok(None);
        }
        let ring = Ring::map_made(&ring_fd, &self.req)?;
        // From here on every frame the group dispatches goes to member 1.
        let program = libc::sock_fprog {
            len: 1,
            filter: TO_THE_RING.as_ptr() as *mut libc::sock_filter,
        };
        set(
            plain.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_FANOUT_DATA,
            &program,
        )?;
        Ok(Some((ring_fd, ring)))
    }
}

/// What the helper does, made ready before the fork.
struct Make<'a> {
    plain: RawFd,
    ring: RawFd,
    req: libc::tpacket_req3,
    ifindex: i32,
    join: u32,
    filter: &'a [libc::sock_filter],
    ready: RawFd,
    wait_end: RawFd,
}

impl Make<'_> {
    /// In the helper: make the ring, join the group, wait out a grace
    /// period, take the flow's filter, say so; then hold the sockets until
    /// released and close them.
    ///
    /// # Safety
    /// Only in the freshly forked helper, which exits after.
    unsafe fn run(&self) {
        let answer = match self.steps() {
            Ok(()) => [READY],
            Err(_) => [0],
        };
        // SAFETY: system calls on this process's own descriptors; a closed
        // reader (lola gone) is EPIPE, SIGPIPE being ignored.
        unsafe {
            libc::write(self.ready, answer.as_ptr().cast(), 1);
            libc::close(self.ready);
            wait_for_release(self.wait_end);
            libc::close(self.ring);
            libc::close(self.plain);
        }
    }

    fn steps(&self) -> io::Result<()> {
        // The grace period lola no longer waits for.
        ring::setsockopt(self.ring, libc::PACKET_RX_RING, &self.req)?;
        // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        addr.sll_ifindex = self.ifindex;
        // SAFETY: addr is a valid sockaddr_ll of the given size.
        if unsafe {
            libc::bind(
                self.ring,
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        set(self.ring, libc::SOL_PACKET, libc::PACKET_FANOUT, &self.join)?;
        // Until one grace period has passed, a frame may still be on its
        // way to this socket directly (and to the plain one through the
        // group): the last close of a fresh packet socket waits for one.
        // SAFETY: plain socket(2) and close(2).
        unsafe {
            let s = libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0);
            if s < 0 {
                return Err(io::Error::last_os_error());
            }
            libc::close(s);
        }
        let program = libc::sock_fprog {
            len: u16::try_from(self.filter.len())
                .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?,
            filter: self.filter.as_ptr() as *mut libc::sock_filter,
        };
        set(
            self.ring,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &program,
        )
    }
}
