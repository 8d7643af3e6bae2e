//! [`Tap`]: a capture a process keeps open on `lo` to record its own
//! traffic in slices (a test's frames, from its start to its end), taking
//! what the kernel holds at each end without a thread that waits.

use std::io;
use std::time::{Duration, Instant};

use super::{Capture, FlowFilter, LiveFrame, Unavailable};
use crate::capture::CaptureStatistics;

/// How long [`Tap::take`] waits at most for frames the kernel counted but
/// has not handed over yet (a ring's block is handed over when full or
/// after its 4 ms timer).
const SETTLE: Duration = Duration::from_millis(20);

/// Every frame on an interface, kept by the kernel until taken.
pub struct Tap {
    capture: Capture,
    taken: u64,
}

impl Tap {
    /// Starts recording every frame on `interface` (`lo`); needs
    /// `CAP_NET_RAW` there, as [`Capture::open`] does.
    ///
    /// ```
    /// use lola::host::live::Tap;
    /// match Tap::open("lo") {
    ///     Ok(mut tap) => {
    ///         let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///         socket.send_to(b"ping", socket.local_addr().unwrap()).unwrap();
    ///         let frames = tap.take().unwrap();
    ///         assert!(frames.iter().any(|f| f.data.ends_with(b"ping")), "taken without waiting for a timer");
    ///     }
    ///     Err(e) => assert!(e.0.contains("CAP_NET_RAW"), "{e}"),
    /// }
    /// ```
    pub fn open(interface: &str) -> Result<Tap, Unavailable> {
        Ok(Tap {
            capture: Capture::open(interface, FlowFilter::ports(Vec::new()))?,
            taken: 0,
        })
    }

    /// Every frame the kernel has taken since the last call (or the
    /// start), in order: what it already handed over, and what it counted
    /// but holds in a ring block not yet handed over, waited for (at most
    /// 20 ms, as long as the block's timer). Frames sent by this process
    /// before the call are in it: on `lo` the kernel records a frame while
    /// sending it.
    pub fn take(&mut self) -> io::Result<Vec<LiveFrame>> {
        let mut frames = Vec::new();
        let deadline = Instant::now() + SETTLE;
        loop {
            while let Some(frame) = self.capture.next(Duration::ZERO)? {
                frames.push(frame);
            }
            let stats = self.statistics()?;
            let accounted = self.taken + frames.len() as u64 + stats.dropped;
            let left = deadline.saturating_duration_since(Instant::now());
            if accounted >= stats.received || left.is_zero() {
                break;
            }
            if let Some(frame) = self.capture.next(left.min(Duration::from_millis(5)))? {
                frames.push(frame);
            }
        }
        self.taken += frames.len() as u64;
        Ok(frames)
    }

    /// Lets go of every frame the kernel has handed over, without waiting
    /// for the ring block it is filling (a caller starting a new slice
    /// tells those frames by their time); returns how many.
    ///
    /// ```
    /// if let Ok(mut tap) = lola::host::live::Tap::open("lo") {
    ///     let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     socket.send_to(b"before", socket.local_addr().unwrap()).unwrap();
    ///     tap.take().unwrap();
    ///     assert_eq!(tap.discard().unwrap(), 0, "taken already");
    /// }
    /// ```
    pub fn discard(&mut self) -> io::Result<u64> {
        let mut n = 0;
        while self.capture.next(Duration::ZERO)?.is_some() {
            n += 1;
        }
        self.taken += n;
        Ok(n)
    }

    /// The kernel's counters since the start: frames it took (passed to
    /// the socket) and frames it dropped for want of room.
    pub fn statistics(&mut self) -> io::Result<CaptureStatistics> {
        self.capture.statistics()
    }
}
