//! The recording front: [`Stop`] says when a recording ends, and
//! [`Capture::record`] is the one collection loop over a capture.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Capture, LiveFrame};
use crate::error::Error;

/// when a flag is raised (Ctrl-C), a while after an awaited frame was seen,
/// or when the interface has been quiet for a while; whichever comes first.
/// With no condition at all it records until an error.
///
/// ```
/// use std::time::{Duration, Instant};
/// use lola::host::live::Stop;
/// let deadline = Instant::now() + Duration::from_secs(2);
/// // Until the first UDP frame, then 20 ms more for a reply; 2 s at most.
/// let _stop = Stop::at(deadline).linger_after(Duration::from_millis(20), |f| f.data.len() > 42);
/// // Until 10 frames, or 5 s, whichever comes first.
/// let _stop = Stop::after(Duration::from_secs(5)).count(10);
/// ```
#[derive(Default)]
pub struct Stop<'a> {
    deadline: Option<Instant>,
    count: Option<u64>,
    quiet: Option<Duration>,
    flag: Option<&'a AtomicBool>,
    awaited: Option<(Duration, Awaited<'a>)>,
}

/// Recognizes the frame a recording waits for.
type Awaited<'a> = Box<dyn FnMut(&LiveFrame) -> bool + 'a>;

/// How long one wait for a frame lasts at most, so that a raised flag is
/// seen promptly.
const SLICE: Duration = Duration::from_millis(200);

impl<'a> Stop<'a> {
    /// Stops at `deadline`.
    ///
    /// ```
    /// let _stop = lola::host::live::Stop::at(std::time::Instant::now());
    /// ```
    pub fn at(deadline: Instant) -> Stop<'a> {
        Stop {
            deadline: Some(deadline),
            ..Stop::default()
        }
    }

    /// Stops when `duration` has passed from now.
    ///
    /// ```
    /// let _stop = lola::host::live::Stop::after(std::time::Duration::from_secs(1));
    /// ```
    pub fn after(duration: Duration) -> Stop<'a> {
        Stop::at(Instant::now() + duration)
    }

    /// Stops when `flag` is raised (checked at least every 200 ms).
    ///
    /// ```
    /// use std::sync::atomic::AtomicBool;
    /// static STOP: AtomicBool = AtomicBool::new(false);
    /// let _stop = lola::host::live::Stop::on_flag(&STOP);
    /// ```
    pub fn on_flag(flag: &'a AtomicBool) -> Stop<'a> {
        Stop {
            flag: Some(flag),
            ..Stop::default()
        }
    }

    /// Also stops at `deadline`, if given.
    ///
    /// ```
    /// use std::sync::atomic::AtomicBool;
    /// let flag = AtomicBool::new(false);
    /// let _stop = lola::host::live::Stop::on_flag(&flag).deadline(None);
    /// ```
    pub fn deadline(mut self, deadline: Option<Instant>) -> Stop<'a> {
        self.deadline = match (self.deadline, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self
    }

    /// Also stops once `n` frames are in, if given.
    ///
    /// ```
    /// let _stop = lola::host::live::Stop::after(std::time::Duration::from_secs(1)).count(Some(3));
    /// ```
    pub fn count(mut self, n: impl Into<Option<u64>>) -> Stop<'a> {
        self.count = n.into();
        self
    }

    /// Also stops when no frame has come for `quiet`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let _stop = lola::host::live::Stop::after(Duration::from_secs(2)).when_quiet(Duration::from_millis(50));
    /// ```
    pub fn when_quiet(mut self, quiet: Duration) -> Stop<'a> {
        self.quiet = Some(quiet);
        self
    }

    /// Also stops `linger` after the first frame `awaited` recognizes, so
    /// that a reply or an ICMP error that follows it is caught too.
    ///
    /// ```
    /// use std::time::Duration;
    /// let _stop = lola::host::live::Stop::after(Duration::from_secs(2))
    ///     .linger_after(Duration::from_millis(20), |frame| !frame.data.is_empty());
    /// ```
    pub fn linger_after(
        mut self,
        linger: Duration,
        awaited: impl FnMut(&LiveFrame) -> bool + 'a,
    ) -> Stop<'a> {
        self.awaited = Some((linger, Box::new(awaited)));
        self
    }

    /// The instant the recording ends as things stand, if any.
    fn end(&self, last_frame: Instant, seen: Option<Instant>) -> Option<Instant> {
        let linger_end = match (&self.awaited, seen) {
            (Some((linger, _)), Some(t)) => Some(t + *linger),
            _ => None,
        };
        [
            self.deadline,
            self.quiet.map(|q| last_frame + q),
            linger_end,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn flagged_or_full(&self, frames: usize) -> bool {
        self.flag.is_some_and(|f| f.load(Ordering::Relaxed))
            || self.count.is_some_and(|n| frames as u64 >= n)
    }

    fn is_awaited(&mut self, frame: &LiveFrame) -> bool {
        self.awaited.as_mut().is_some_and(|(_, f)| f(frame))
    }
}

impl Capture {
    /// Records frames until `stop` says so: the one collection loop behind
    /// `lola run`, `send --capture`, `compare` and `capture`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lola::host::live::{Capture, FlowFilter, Stop};
    /// let pair = lola::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let filter = FlowFilter::pair(pair.client.local_addr(), pair.server.local_addr());
    /// match Capture::open("lo", filter) {
    ///     Ok(mut capture) => {
    ///         let sent = pair.exchange(b"Hello Lola", Duration::from_secs(2)).unwrap().received;
    ///         let linger = Duration::from_millis(20);
    ///         let stop = Stop::after(Duration::from_secs(2))
    ///             .linger_after(linger, |f| lola::harness::is_datagram(&f.data, &sent));
    ///         let frames = capture.record(stop).unwrap();
    ///         assert_eq!(frames.len(), 1);
    ///         assert!(lola::harness::is_datagram(&frames[0].data, &sent));
    ///     }
    ///     Err(e) => assert!(e.0.contains("CAP_NET_RAW") || e.0.contains("AF_PACKET"), "{e}"),
    /// }
    /// ```
    pub fn record(&mut self, stop: Stop<'_>) -> Result<Vec<LiveFrame>, Error> {
        let mut frames = Vec::new();
        self.record_each(stop, |frame| {
            frames.push(frame);
            Ok(())
        })?;
        Ok(frames)
    }

    /// [`record`](Capture::record), handing each frame to `sink` as it
    /// arrives instead of keeping it: memory stays bounded however long the
    /// capture runs. Returns how many frames were handed over; an error of
    /// `sink` ends the recording and is returned.
    ///
    /// ```
    /// use lola::host::live::{Capture, FlowFilter, Stop};
    /// use std::time::Duration;
    /// if let Ok(mut capture) = Capture::open("lo", FlowFilter::ports(vec![9])) {
    ///     let n = capture.record_each(Stop::after(Duration::from_millis(10)), |_| Ok(())).unwrap();
    ///     assert_eq!(n, 0, "nobody sends to port 9 here");
    /// }
    /// ```
    pub fn record_each(
        &mut self,
        mut stop: Stop<'_>,
        mut sink: impl FnMut(LiveFrame) -> Result<(), Error>,
    ) -> Result<usize, Error> {
        let mut count = 0;
        let (mut last_frame, mut seen) = (Instant::now(), None);
        while !stop.flagged_or_full(count) {
            let now = Instant::now();
            let wait = match stop.end(last_frame, seen) {
                Some(end) if now >= end => break,
                Some(end) => (end - now).min(SLICE),
                None => SLICE,
            };
            let frame = match self.next(wait) {
                Ok(Some(frame)) => frame,
                Ok(None) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Capture {
                        interface: self.interface().to_string(),
                        source,
                    });
                }
            };
            last_frame = Instant::now();
            if seen.is_none() && stop.is_awaited(&frame) {
                seen = Some(last_frame);
            }
            sink(frame)?;
            count += 1;
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::live::FlowFilter;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_recording_ends_at_the_earliest_condition() {
        let t0 = Instant::now();
        assert_eq!(Stop::default().end(t0, None), None, "no condition, no end");
        let linger = Stop::at(t0 + S(10)).linger_after(S(2), |_| true);
        assert_eq!(linger.end(t0, None), Some(t0 + S(10)), "not seen yet");
        assert_eq!(linger.end(t0, Some(t0 + S(3))), Some(t0 + S(5)));
        assert_eq!(linger.end(t0, Some(t0 + S(9))), Some(t0 + S(10)), "capped");
        let quiet = Stop::at(t0 + S(10)).when_quiet(S(1));
        assert_eq!(quiet.end(t0, None), Some(t0 + S(1)), "quiet from the start");
        assert_eq!(quiet.end(t0 + S(4), None), Some(t0 + S(5)));
        let both = Stop::at(t0 + S(10)).deadline(Some(t0 + S(7)));
        assert_eq!(both.end(t0, None), Some(t0 + S(7)), "the earlier deadline");
    }

    #[test]
    fn a_flag_or_a_count_ends_a_recording() {
        let flag = AtomicBool::new(false);
        let stop = Stop::on_flag(&flag).count(2);
        assert!(!stop.flagged_or_full(1));
        assert!(stop.flagged_or_full(2));
        flag.store(true, Ordering::Relaxed);
        assert!(stop.flagged_or_full(0));
    }

    #[test]
    fn record_stops_at_the_count_then_when_quiet() {
        let pair = crate::host::exchange::Pair::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let filter = FlowFilter::pair(pair.client.local_addr(), pair.server.local_addr());
        let mut capture = match Capture::open("lo", filter) {
            Ok(capture) => capture,
            Err(e) => {
                let ci = std::env::var("CI").is_ok_and(|v| v == "true");
                assert!(!ci, "live capture is required in CI (CI=true): {e}");
                eprintln!("SKIPPED: {e}; this live-capture test did not run");
                return;
            }
        };
        for _ in 0..3 {
            pair.exchange(b"Hello Lola", S(2)).unwrap();
        }
        let started = Instant::now();
        assert_eq!(capture.record(Stop::after(S(5)).count(2)).unwrap().len(), 2);
        let quiet = Stop::after(S(5)).when_quiet(Duration::from_millis(100));
        assert_eq!(
            capture.record(quiet).unwrap().len(),
            1,
            "the third datagram"
        );
        assert!(
            started.elapsed() < S(2),
            "quiet, not the deadline, ended it"
        );
        let raised = AtomicBool::new(true);
        assert!(capture.record(Stop::on_flag(&raised)).unwrap().is_empty());
    }
}
