//! What each frame did to an expectation set, frame by frame: the typed
//! marks a [`SetChecker`](super::SetChecker) keeps when asked
//! ([`SetChecker::mark_frames`](super::SetChecker::mark_frames)), from which
//! `report/` writes per-frame words (a pcapng's frame comments).
//!
//! The marks name expectations and rules by their index in the set (and
//! so in the [`SetReport`](super::SetReport)); no words are made here
//! beyond the reasons the evidence already gives.

use std::time::Duration;

/// One thing a frame did to one expectation or rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mark {
    /// It held expectation `expect`; `after` is the time since the first
    /// held frame of the expectation it must follow, when it has one.
    Held {
        /// The expectation's index.
        expect: usize,
        /// Time since the anchor's first held frame.
        after: Option<Duration>,
    },
    /// It held `expect` once more than its count allows.
    Excess {
        /// The expectation's index.
        expect: usize,
    },
    /// It matched `expect` but missed it: why, one reason each (a `where`
    /// with the value the frame has, a checksum, a problem).
    Missed {
        /// The expectation's index.
        expect: usize,
        /// The reasons, as the evidence gives them.
        why: Vec<String>,
    },
    /// It matched `expect` before the expectation `anchor` it must follow
    /// held a frame.
    Early {
        /// The expectation's index.
        expect: usize,
        /// The index of the expectation it must follow.
        anchor: usize,
    },
    /// Nothing held `expect`, and this frame came closest.
    Closest {
        /// The expectation's index.
        expect: usize,
    },
    /// It broke `forbid` rule `rule` (its index among the set's rules).
    Forbidden {
        /// The rule's index.
        rule: usize,
    },
    /// The set is `exclusive` and no expectation claimed it.
    Unclaimed,
}

/// Every frame that did something to the set, in frame order, with what it
/// did. Frames nothing names are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameMarks {
    /// (frame number, its marks), frame numbers increasing.
    pub frames: Vec<(u64, Vec<Mark>)>,
}

impl FrameMarks {
    /// Adds `mark` to frame `number` (frames arrive in order; a frame seen
    /// out of order is placed where it belongs).
    pub(super) fn add(&mut self, number: u64, mark: Mark) {
        match self.frames.last_mut() {
            Some((n, marks)) if *n == number => marks.push(mark),
            Some((n, _)) if *n > number => match self.frames.binary_search_by_key(&number, |f| f.0)
            {
                Ok(i) => self.frames[i].1.push(mark),
                Err(i) => self.frames.insert(i, (number, vec![mark])),
            },
            _ => self.frames.push((number, vec![mark])),
        }
    }

    /// The marks of frame `number`, if it has any.
    pub fn of(&self, number: u64) -> Option<&[Mark]> {
        self.frames
            .binary_search_by_key(&number, |f| f.0)
            .ok()
            .map(|i| self.frames[i].1.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_kept_in_frame_order() {
        let mut m = FrameMarks::default();
        m.add(3, Mark::Unclaimed);
        m.add(3, Mark::Forbidden { rule: 0 });
        m.add(1, Mark::Closest { expect: 0 });
        m.add(5, Mark::Unclaimed);
        let numbers: Vec<u64> = m.frames.iter().map(|f| f.0).collect();
        assert_eq!(numbers, [1, 3, 5]);
        assert_eq!(m.of(3).map(<[Mark]>::len), Some(2));
        assert_eq!(m.of(2), None);
    }
}
