//! The evidence behind a [`SetReport`](super::SetReport)'s verdicts: one
//! line per frame that broke or missed a claim (the first [`EVIDENCE_CAP`],
//! the rest counted), why a matched frame missed, the frame that came
//! closest to an expectation nothing held, and the notes on frames missing
//! from the capture. The engine counts and judges; this module says why.

use std::time::Duration;

use super::filter::{Filter, Node};
use super::outcome::Cut;
use super::{EVIDENCE_CAP, Expect, ExpectationSet};
use crate::capture::Drops;
use crate::check::{Judgement, Truncation};
use crate::packet::decode::{Packet, Transport};
use crate::packet::fields::FrameView;

/// One expectation's evidence so far: its first [`EVIDENCE_CAP`] lines, how
/// many more there were, and the non-matching frame that came closest.
#[derive(Default)]
pub(super) struct Evidence {
    lines: Vec<String>,
    /// The number of the frame each line is about.
    numbers: Vec<u64>,
    more: u64,
    /// The non-matching frame that satisfied the most conjuncts of `match`:
    /// how many, its number and its line.
    closest: Option<(usize, u64, String)>,
}

impl Evidence {
    /// Adds a line about frame `number`, made only while fewer than
    /// [`EVIDENCE_CAP`] are listed.
    pub(super) fn add(&mut self, number: u64, line: impl FnOnce() -> String) {
        if self.lines.len() < EVIDENCE_CAP {
            self.lines.push(line());
            self.numbers.push(number);
        } else {
            self.more += 1;
        }
    }

    /// Remembers the frame that satisfied the most conjuncts of `m` so far.
    pub(super) fn closest(&mut self, m: &Filter, v: &FrameView<'_, '_>) {
        let conjuncts = m.conjunct_slice();
        // A frame satisfying every conjunct matches: the closest that is
        // not a match satisfies all but one. Once a frame did, no later
        // one is closer, and nothing need be evaluated.
        let best = self.closest.as_ref().map_or(0, |(best, _, _)| *best);
        if conjuncts.len() < 2 || best + 1 >= conjuncts.len() {
            return;
        }
        let n = conjuncts
            .iter()
            .filter(|c| super::filter::eval(c, v))
            .count();
        if n == 0 || best >= n {
            return;
        }
        let held: Vec<bool> = conjuncts
            .iter()
            .map(|c| super::filter::eval(c, v))
            .collect();
        let failed: Vec<String> = conjuncts
            .iter()
            .zip(&held)
            .filter(|(_, h)| !**h)
            .map(|(c, _)| {
                let fields: Vec<String> = {
                    let mut out = Vec::new();
                    leaf_fields(c, &mut out);
                    out
                };
                let values: Vec<String> = fields
                    .iter()
                    .filter_map(|name| crate::packet::fields::lookup(name))
                    .map(|f| match f.get(v, 0) {
                        Some(x) => format!("{} is {x}", f.name),
                        None => format!("{} absent", f.name),
                    })
                    .collect();
                values.join(", ")
            })
            .collect();
        self.closest = Some((
            n,
            v.number,
            frame_line(
                v,
                &format!(
                    "{n} of {} conditions held; {}",
                    conjuncts.len(),
                    failed.join("; ")
                ),
            ),
        ));
    }

    /// The number of the frame that came closest, when one did.
    pub(super) fn closest_frame(&self) -> Option<u64> {
        self.closest.as_ref().map(|(_, number, _)| *number)
    }

    /// The lines listed, the numbers of the frames they are about, and how
    /// many more there were; with `show_closest` (nothing matched and the
    /// count failed), the closest frame last.
    pub(super) fn finish(self, show_closest: bool) -> (Vec<String>, Vec<u64>, u64) {
        let (mut lines, mut numbers) = (self.lines, self.numbers);
        if show_closest && let Some((_, number, line)) = self.closest {
            lines.push(format!("closest: {line}"));
            numbers.push(number);
        }
        (lines, numbers, self.more)
    }
}

/// The line of a frame that matched expectation `anchor`'s follower before
/// `anchor` held a frame.
pub(super) fn matched_before(v: &FrameView<'_, '_>, anchor: &str) -> String {
    frame_line(
        v,
        &format!("matched before the first held frame of {anchor:?}"),
    )
}

/// Why a frame that matched `e` does not hold it, one reason each: the
/// `where` conditions it fails with the values it has, its checksums that
/// fail under the set's policy, and what else is wrong with it. Empty when
/// it holds.
pub(super) fn misses(set: &ExpectationSet, e: &Expect, v: &FrameView<'_, '_>) -> Vec<String> {
    let mut misses: Vec<String> = e
        .wheres
        .iter()
        .filter(|w| !w.matches(v))
        .map(|w| format!("{w}: {}", actual(w, v)))
        .collect();
    misses.extend(checksum_misses(set, v.packet));
    misses.extend(
        v.packet
            .problems
            .iter()
            .filter(|p| !p.is_checksum())
            .map(ToString::to_string),
    );
    misses
}

/// A frame's evidence line: its number, its summary and `why`.
pub(super) fn frame_line(v: &FrameView<'_, '_>, why: &str) -> String {
    let summary = crate::packet::summary::summarize(v.packet).line(v.cap_len);
    format!("frame {}: {summary}: {why}", v.number)
}

/// A duration as a person reads it: µs, ms or s.
pub(super) fn show(d: Duration) -> String {
    let us = d.as_nanos() as f64 / 1000.0;
    if us < 1000.0 {
        format!("{us:.1}µs")
    } else if us < 1_000_000.0 {
        format!("{:.3}ms", us / 1000.0)
    } else {
        format!("{:.3}s", us / 1_000_000.0)
    }
}

/// Why frames are missing from the capture, when some are and count:
/// frames it admits it lost, and a cut at its end under [`Truncation::Fail`].
pub(super) fn missing_frames(lost: Option<Drops>, cut: Option<&Cut>) -> Option<String> {
    let mut why = Vec::new();
    if let Some(d) = lost {
        let frames = crate::packet::summary::plural(d.total(), "lost frame");
        why.push(format!("the capture admits {frames} ({d})"));
    }
    if let Some(c) = cut
        && c.policy == Truncation::Fail
    {
        why.push(format!(
            "the capture is cut short at byte {} ({})",
            c.offset, c.what
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// The note of a cut that failed no claim.
pub(super) fn cut_note(c: &Cut) -> String {
    format!(
        "the capture is cut short at byte {} ({}); only the frames before the cut were judged",
        c.offset, c.what
    )
}

/// The values of the fields `f` reads, as `field is value`.
fn actual(f: &Filter, v: &FrameView<'_, '_>) -> String {
    f.fields()
        .iter()
        .map(|field| {
            let values: Vec<String> = (0..8)
                .map_while(|i| field.get(v, i))
                .map(|x| x.to_string())
                .collect();
            if values.is_empty() {
                format!("{} absent", field.name)
            } else {
                format!("{} is {}", field.name, values.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The checksums of a matched frame that fail under the set's policy.
fn checksum_misses(set: &ExpectationSet, p: &Packet<'_>) -> Vec<String> {
    let ipv6 = p.ip.as_ref().is_some_and(|ip| ip.version == 6);
    let ip = p.ip.as_ref().and_then(|ip| ip.header_checksum);
    let udp = match &p.transport {
        Transport::Udp(u) => Some(u.checksum),
        _ => None,
    };
    [("ip.checksum", ip), ("udp.checksum", udp)]
        .into_iter()
        .filter_map(|(name, c)| c.map(|c| (name, c)))
        .filter(|(_, c)| set.checksums.judge(c.state, ipv6) == Judgement::Fail)
        .map(|(name, c)| format!("{name} {c} (checksums = {:?})", set.checksums).to_lowercase())
        .collect()
}

fn leaf_fields(n: &Node, out: &mut Vec<String>) {
    for f in n.fields() {
        if !out.iter().any(|x| x == f.name) {
            out.push(f.name.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;
    use crate::packet::decode::decode;

    /// Holds `check` against frame 1 of the seed capture: UDP
    /// 127.0.0.1:48801 → 127.0.0.1:7456, TTL 64, "Hello Lola".
    fn with_seed_frame(check: impl FnOnce(&FrameView<'_, '_>)) {
        let mut reader = CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
        let frame = reader.next_frame().unwrap().unwrap();
        let packet = decode(frame.link_type, frame.data, frame.orig_len as usize);
        check(&FrameView::new(&frame, &packet));
    }

    fn filter(text: &str) -> Filter {
        Filter::parse(text).unwrap()
    }

    #[test]
    fn the_first_lines_are_listed_and_the_rest_only_counted() {
        let mut evidence = Evidence::default();
        for n in 0..EVIDENCE_CAP as u64 {
            evidence.add(n, || format!("line {n}"));
        }
        for _ in 0..3 {
            evidence.add(0, || unreachable!("a line past the cap is never made"));
        }
        let (lines, numbers, more) = evidence.finish(true);
        assert_eq!((lines.len(), more), (EVIDENCE_CAP, 3));
        assert_eq!((lines[0].as_str(), numbers[1]), ("line 0", 1));
    }

    #[test]
    fn the_closest_frame_is_the_one_that_held_the_most_conditions() {
        with_seed_frame(|v| {
            let mut evidence = Evidence::default();
            evidence.closest(
                &filter("udp.dstport == 7456 && ip.ttl == 1 && udp.srcport == 1"),
                v,
            );
            evidence.closest(
                &filter("udp.dstport == 7456 && ip.ttl == 64 && udp.srcport == 1"),
                v,
            );
            // Fewer conditions held: the closest frame stays.
            evidence.closest(
                &filter("udp.dstport == 7456 && ip.ttl == 1 && udp.srcport == 1"),
                v,
            );
            let (lines, numbers, more) = evidence.finish(true);
            assert_eq!((more, numbers), (0, vec![1]));
            let [line] = lines.as_slice() else {
                panic!("one closest line: {lines:?}")
            };
            assert!(line.starts_with("closest: frame 1: "), "{line}");
            assert!(
                line.ends_with(": 2 of 3 conditions held; udp.srcport is 48801"),
                "{line}"
            );
        });
    }

    #[test]
    fn the_closest_frame_is_shown_only_when_asked_and_only_for_a_conjunction() {
        with_seed_frame(|v| {
            let mut evidence = Evidence::default();
            evidence.closest(&filter("udp.dstport == 1"), v);
            assert!(
                evidence.closest.is_none(),
                "one condition: nothing to be close to"
            );
            evidence.closest(&filter("udp.dstport == 7456 && ip.ttl == 1"), v);
            assert_eq!(
                evidence.finish(false),
                (Vec::<String>::new(), Vec::new(), 0)
            );
        });
    }

    #[test]
    fn a_matched_frame_misses_the_conditions_it_fails_with_the_values_it_has() {
        let set = ExpectationSet::parse(
            "l.toml",
            "[[expect]]\nname = 'x'\nmatch = 'udp'\nwhere = ['ip.ttl == 1', 'udp.dstport == 7456', 'udp.port == 9']\n",
        )
        .unwrap();
        with_seed_frame(|v| {
            assert_eq!(
                misses(&set, &set.expects[0], v),
                [
                    "ip.ttl == 1: ip.ttl is 64",
                    "udp.port == 9: udp.port is 48801, 7456"
                ]
            );
        });
        let holds =
            ExpectationSet::parse("l.toml", "[[expect]]\nname = 'x'\nmatch = 'udp'\n").unwrap();
        with_seed_frame(|v| assert!(misses(&holds, &holds.expects[0], v).is_empty()));
    }

    #[test]
    fn an_early_frame_names_the_expectation_it_came_before() {
        with_seed_frame(|v| {
            let line = matched_before(v, "request");
            assert!(line.starts_with("frame 1: "), "{line}");
            assert!(
                line.ends_with(": matched before the first held frame of \"request\""),
                "{line}"
            );
        });
    }

    #[test]
    fn frames_are_missing_when_lost_or_cut_off_under_fail() {
        let cut = |policy| Cut {
            offset: 280,
            what: "record cut short".into(),
            policy,
        };
        assert_eq!(missing_frames(None, None), None);
        assert_eq!(
            missing_frames(None, Some(&cut(Truncation::JudgeCompleteFrames))),
            None,
            "a cut judged by its complete frames misses nothing a claim needs"
        );
        assert_eq!(
            missing_frames(None, Some(&cut(Truncation::Fail))).as_deref(),
            Some("the capture is cut short at byte 280 (record cut short)")
        );
        let lost = Drops {
            interface: 2,
            ..Drops::default()
        };
        let why = missing_frames(Some(lost), Some(&cut(Truncation::Fail))).unwrap();
        assert!(
            why.starts_with("the capture admits 2 lost frames ("),
            "{why}"
        );
        assert!(why.ends_with("; the capture is cut short at byte 280 (record cut short)"));
        assert_eq!(
            cut_note(&cut(Truncation::JudgeCompleteFrames)),
            "the capture is cut short at byte 280 (record cut short); only the frames before the cut were judged"
        );
    }

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        assert_eq!(show(Duration::from_nanos(1_500)), "1.5µs");
        assert_eq!(show(Duration::from_micros(2_500)), "2.500ms");
        assert_eq!(show(Duration::from_millis(3_250)), "3.250s");
    }
}
