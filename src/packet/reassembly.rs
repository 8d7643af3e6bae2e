//! Putting IP fragments back together, with bounded memory.
//!
//! etherparse's [`IpDefragBuf`] does the reassembly of one datagram (holes,
//! overlaps, the final length); this module keeps at most
//! [`MAX_PENDING`] datagrams in progress, each at most 64 KiB by
//! construction, and remembers which frames carried each one.

use crate::packet::summary::numbers;
use std::net::IpAddr;

use etherparse::defrag::{IpDefragBuf, IpDefragError};
use etherparse::{IpFragOffset, IpNumber};

use crate::packet::decode::FragmentInfo;

/// Datagrams reassembled at once; the oldest is dropped (and reported) when
/// one more starts. 64 × 64 KiB bounds the memory at 4 MiB.
pub const MAX_PENDING: usize = 64;

/// Frames remembered per datagram (a 64 KiB datagram over a 1280-byte MTU
/// takes about 52).
const MAX_FRAMES: usize = 64;

/// Fragments accepted per datagram. etherparse's buffer looks at every piece
/// it holds on each add, so a crafted file of one datagram in thousands of
/// 8-byte pieces would be quadratic; a real datagram over a 1280-byte MTU
/// needs at most 52 fragments.
pub const MAX_FRAGMENTS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    protocol: u8,
}

struct Pending {
    key: Key,
    buf: IpDefragBuf,
    fragments: usize,
    frames: Vec<u64>,
}

/// What adding one fragment gave.
///
/// ```
/// use lola::packet::decode::FragmentInfo;
/// use lola::packet::reassembly::{Outcome, Reassembler};
/// let a = "127.0.0.1".parse().unwrap();
/// let mut r = Reassembler::default();
/// let first = FragmentInfo { id: 1, offset: 0, more: true, protocol: 17, cut: false };
/// assert!(matches!(r.add(a, a, &first, 1, &[0; 8]), Outcome::Pending));
/// let last = FragmentInfo { offset: 1, more: false, ..first };
/// assert!(matches!(r.add(a, a, &last, 2, &[0; 8]), Outcome::Complete { .. }));
/// // 7 bytes with more to follow: fragments carry multiples of 8 bytes.
/// assert!(matches!(r.add(a, a, &FragmentInfo { id: 2, ..first }, 3, &[0; 7]), Outcome::Invalid(_)));
/// ```
#[derive(Debug)]
pub enum Outcome {
    /// More fragments are needed.
    Pending,
    /// The datagram is whole.
    Complete {
        /// The reassembled IP payload (transport header and data).
        payload: Vec<u8>,
        /// The frames that carried it, in the order they were seen.
        frames: Vec<u64>,
    },
    /// The fragment cannot belong to a well-formed datagram.
    Invalid(String),
}

/// A datagram whose fragments never all arrived.
///
/// ```
/// use lola::packet::decode::FragmentInfo;
/// use lola::packet::reassembly::{Incomplete, Reassembler};
/// let a = "127.0.0.1".parse().unwrap();
/// let mut r = Reassembler::default();
/// r.add(a, a, &FragmentInfo { id: 7, offset: 0, more: true, protocol: 17, cut: false }, 1, &[0; 8]);
/// let (incomplete, unlisted) = r.finish();
/// assert_eq!(incomplete, [Incomplete { src: a, dst: a, id: 7, frames: vec![1] }]);
/// assert_eq!(unlisted, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP identification.
    pub id: u32,
    /// The frames that carried its fragments.
    pub frames: Vec<u64>,
}

/// Reassembles fragments of many datagrams at once.
///
/// ```
/// use lola::packet::reassembly::{Reassembler, Outcome};
/// use lola::packet::decode::FragmentInfo;
/// let (src, dst) = ("127.0.0.1".parse().unwrap(), "127.0.0.1".parse().unwrap());
/// let mut r = Reassembler::default();
/// let first = FragmentInfo { id: 7, offset: 0, more: true, protocol: 17, cut: false };
/// assert!(matches!(r.add(src, dst, &first, 1, &[1; 16]), Outcome::Pending));
/// let last = FragmentInfo { offset: 2, more: false, ..first };
/// let Outcome::Complete { payload, frames } = r.add(src, dst, &last, 2, &[2; 4]) else { panic!() };
/// assert_eq!((payload.len(), frames), (20, vec![1, 2]));
/// ```
#[derive(Default)]
pub struct Reassembler {
    pending: Vec<Pending>,
    dropped: Vec<Incomplete>,
    dropped_more: u64,
}

impl Reassembler {
    /// Adds the fragment `info` with its captured `payload`, seen in `frame`.
    ///
    /// ```
    /// use lola::packet::decode::FragmentInfo;
    /// use lola::packet::reassembly::{Outcome, Reassembler};
    /// let a = "127.0.0.1".parse().unwrap();
    /// let mut r = Reassembler::default();
    /// // A fragment the snaplen cut short can never be put back together.
    /// let cut = FragmentInfo { id: 9, offset: 0, more: true, protocol: 17, cut: true };
    /// let Outcome::Invalid(why) = r.add(a, a, &cut, 4, &[0; 8]) else { panic!() };
    /// assert!(why.starts_with("frame 4: fragment cut short"), "{why}");
    /// ```
    pub fn add(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        info: &FragmentInfo,
        frame: u64,
        payload: &[u8],
    ) -> Outcome {
        if info.cut {
            return Outcome::Invalid(format!(
                "frame {frame}: fragment cut short by the capture's snaplen; its datagram cannot be reassembled"
            ));
        }
        let key = Key {
            src,
            dst,
            id: info.id,
            protocol: info.protocol,
        };
        let at = match self.pending.iter().position(|p| p.key == key) {
            Some(at) => at,
            None => {
                if self.pending.len() >= MAX_PENDING {
                    let oldest = self.pending.remove(0);
                    if self.dropped.len() < MAX_PENDING {
                        self.dropped.push(incomplete(oldest));
                    } else {
                        self.dropped_more += 1;
                    }
                }
                self.pending.push(Pending {
                    key,
                    buf: IpDefragBuf::new(IpNumber(info.protocol), Vec::new(), Vec::new()),
                    fragments: 0,
                    frames: Vec::new(),
                });
                self.pending.len() - 1
            }
        };
        let offset = match IpFragOffset::try_new(info.offset) {
            Ok(o) => o,
            Err(_) => {
                return Outcome::Invalid(format!(
                    "frame {frame}: fragment offset {} out of range",
                    info.offset
                ));
            }
        };
        let entry = &mut self.pending[at];
        if entry.frames.len() < MAX_FRAMES {
            entry.frames.push(frame);
        }
        entry.fragments += 1;
        if entry.fragments > MAX_FRAGMENTS {
            let bad = self.pending.remove(at);
            return Outcome::Invalid(format!(
                "frames {}...: a datagram {} → {} (id 0x{:x}) in more than {MAX_FRAGMENTS} fragments; not reassembled",
                numbers(&bad.frames[..bad.frames.len().min(8)]),
                key.src,
                key.dst,
                key.id
            ));
        }
        if let Err(e) = entry.buf.add(offset, info.more, payload) {
            let bad = self.pending.remove(at);
            let frames = numbers(&bad.frames);
            return Outcome::Invalid(format!(
                "frames {frames}: fragments of {} → {} (id 0x{:x}) do not fit together: {}",
                key.src,
                key.dst,
                key.id,
                describe(&e)
            ));
        }
        if entry.buf.is_complete() {
            let done = self.pending.remove(at);
            let (payload, _) = done.buf.take_bufs();
            return Outcome::Complete {
                payload,
                frames: done.frames,
            };
        }
        Outcome::Pending
    }

    /// The datagrams still waiting for fragments and those dropped to stay
    /// within [`MAX_PENDING`], oldest first (at most 2 × [`MAX_PENDING`]),
    /// and how many more were dropped without being listed.
    ///
    /// ```
    /// use lola::packet::decode::FragmentInfo;
    /// use lola::packet::reassembly::{Reassembler, MAX_PENDING};
    /// let a = "127.0.0.1".parse().unwrap();
    /// let mut r = Reassembler::default();
    /// for id in 0..=MAX_PENDING as u32 {
    ///     let first = FragmentInfo { id, offset: 0, more: true, protocol: 17, cut: false };
    ///     r.add(a, a, &first, u64::from(id) + 1, &[0; 8]);
    /// }
    /// let (incomplete, unlisted) = r.finish();
    /// // Datagram 0 was dropped when datagram 64 started; all are listed, oldest first.
    /// assert_eq!((incomplete.len(), incomplete[0].id, unlisted), (MAX_PENDING + 1, 0, 0));
    /// ```
    pub fn finish(self) -> (Vec<Incomplete>, u64) {
        let mut all = self.dropped;
        all.extend(self.pending.into_iter().map(incomplete));
        (all, self.dropped_more)
    }
}

fn incomplete(p: Pending) -> Incomplete {
    Incomplete {
        src: p.key.src,
        dst: p.key.dst,
        id: p.key.id,
        frames: p.frames,
    }
}

fn describe(e: &IpDefragError) -> String {
    match e {
        IpDefragError::UnalignedFragmentPayloadLen {
            offset,
            payload_len,
        } => format!(
            "a fragment at byte {} carries {payload_len} bytes, not a multiple of 8, yet more follow",
            offset.byte_offset()
        ),
        IpDefragError::SegmentTooBig {
            offset,
            payload_len,
            max,
        } => format!(
            "a fragment at byte {} with {payload_len} bytes ends past the maximum of {max}",
            offset.byte_offset()
        ),
        IpDefragError::ConflictingEnd {
            previous_end,
            conflicting_end,
        } => format!("two last fragments end at {previous_end} and {conflicting_end}"),
        IpDefragError::AllocationFailure { len } => format!("cannot allocate {len} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(id: u32, offset: u16, more: bool) -> FragmentInfo {
        FragmentInfo {
            id,
            offset,
            more,
            protocol: 17,
            cut: false,
        }
    }

    #[test]
    fn out_of_order_fragments_reassemble() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut r = Reassembler::default();
        assert!(matches!(
            r.add(ip, ip, &frag(1, 1, false), 5, &[2; 3]),
            Outcome::Pending
        ));
        let Outcome::Complete { payload, frames } = r.add(ip, ip, &frag(1, 0, true), 6, &[1; 8])
        else {
            panic!()
        };
        assert_eq!(payload, [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2]);
        assert_eq!(frames, vec![5, 6]);
        assert!(r.finish().0.is_empty());
    }

    #[test]
    fn memory_stays_bounded_and_dropped_datagrams_are_reported() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut r = Reassembler::default();
        for id in 0..(MAX_PENDING as u32 + 10) {
            assert!(matches!(
                r.add(ip, ip, &frag(id, 0, true), u64::from(id), &[0; 8]),
                Outcome::Pending
            ));
        }
        let (left, more) = r.finish();
        assert_eq!((left.len(), more), (MAX_PENDING + 10, 0));
        assert_eq!(left[0].id, 0);
    }

    #[test]
    fn conflicting_fragments_are_invalid_not_a_panic() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut r = Reassembler::default();
        assert!(matches!(
            r.add(ip, ip, &frag(1, 0, true), 1, &[0; 7]),
            Outcome::Invalid(_)
        ));
        assert!(matches!(
            r.add(ip, ip, &frag(2, 1, false), 2, &[0; 8]),
            Outcome::Pending
        ));
        assert!(matches!(
            r.add(ip, ip, &frag(2, 2, false), 3, &[0; 8]),
            Outcome::Invalid(_)
        ));
    }

    #[test]
    fn a_datagram_in_too_many_pieces_is_refused_quickly() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut r = Reassembler::default();
        let start = std::time::Instant::now();
        let mut refused = 0;
        // Every other 8-byte piece of one datagram, again and again: it never completes.
        for i in 0..200_000u32 {
            let offset = ((i % 4000) * 2) as u16;
            if let Outcome::Invalid(why) =
                r.add(ip, ip, &frag(7, offset, true), u64::from(i), &[0; 8])
            {
                assert!(why.contains("more than 256 fragments"), "{why}");
                refused += 1;
            }
        }
        assert!(refused > 0);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }
}
