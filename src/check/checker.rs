//! The [`Checker`]: an expectation held against frames one at a time.
//!
//! The verdict is the engine's: the checker holds the expectation set its
//! [`Expectation`] describes ([`ExpectationSet::from_expectation`]) against
//! every frame with a [`SetChecker`], and turns that set's outcomes into
//! typed [`Failure`]s. What it adds are its own words: the frame lines it
//! lists, near misses, replies, ICMP errors, fragments, damaged frames.

use std::net::SocketAddr;

use super::expect::{ExpectationSet, SetChecker, SetReport, Sink};
use super::report::{Failure, FrameLine, Note, OtherCounts, Report, Truncation, Verdict};
use super::{Expectation, Judgement, LIST_CAP, checksum_left_to_offload};
use crate::capture::{Drops, EPB_CHECKSUM_NOT_READY, Format, RawFrame};
use crate::packet::decode::{
    Encapsulation, Icmp, Inflated, Ip, Link, Packet, QuickFlow, Tcp, Transport, Udp, decode,
    decode_in, decode_reassembled, quick_flow,
};
use crate::packet::reassembly::{Outcome, Reassembler};
use crate::packet::summary::quote_bytes;

/// Checks frames against an expectation as they stream by: feed each frame
/// to [`observe`](Checker::observe), then [`finish`](Checker::finish) for
/// the report. Memory stays bounded: only the lists a report shows (each at
/// most [`LIST_CAP`], or what [`list_cap`](Checker::list_cap) sets) and
/// fragments awaiting reassembly are kept.
///
/// ```
/// use lola::check::Checker;
/// use lola::capture::CaptureReader;
/// let expectation = lola::Expectation::seed();
/// let mut reader = CaptureReader::open("fixtures/seed-ipv4-twice.pcap".as_ref()).unwrap();
/// let mut checker = Checker::new("twice", reader.format(), &expectation);
/// while let Some(frame) = reader.next_frame().unwrap() {
///     checker.observe(&frame);
/// }
/// let report = checker.finish(reader.notes());
/// assert_eq!((report.frames, report.matched_count, report.passed()), (2, 2, false));
/// ```
pub struct Checker<'e> {
    expectation: &'e Expectation,
    /// The judge: the set the expectation describes.
    engine: SetChecker,
    /// The words: what the report lists and notes.
    n: Narrative,
}

/// What the built-in report says besides the verdict: the frame lines it
/// lists, counts of other traffic, and notes.
struct Narrative {
    report: Report,
    /// The most lines each frame list keeps.
    cap: usize,
    partial_frames: Vec<u64>,
    absent_frames: Vec<u64>,
    icmp_notes: Vec<Note>,
    reply_notes: Vec<Note>,
    fragment_notes: Vec<Note>,
    damaged_notes: Vec<Note>,
    first_other_tcp: Option<(u64, SocketAddr, SocketAddr)>,
    handshake: bool,
    reassembler: Reassembler,
}

/// What reassembly made of a frame.
enum Step {
    /// Not a fragment: check the frame as it is.
    Whole,
    /// A fragment taken in (or refused): nothing more to do with the frame.
    Consumed,
    /// The last fragment of a datagram: check the datagram it completes.
    Complete {
        link: Option<Link>,
        /// The tunnel the fragments came in, if they did.
        tunnel: Box<(Option<Encapsulation>, Option<Ip>)>,
        ip: Ip,
        protocol: u8,
        payload: Vec<u8>,
    },
}

impl<'e> Checker<'e> {
    /// A checker for the capture `file` (as its report names it), of `format`.
    pub fn new(file: &str, format: Format, expectation: &'e Expectation) -> Checker<'e> {
        Checker::with_fast_path(file, format, expectation, true)
    }

    /// A checker whose engine decodes every frame (no fast path), so that
    /// [`observe_with`](Checker::observe_with) hands each to its sink.
    pub fn every_frame(file: &str, format: Format, expectation: &'e Expectation) -> Checker<'e> {
        Checker::with_fast_path(file, format, expectation, false)
    }

    fn with_fast_path(
        file: &str,
        format: Format,
        expectation: &'e Expectation,
        fast_path: bool,
    ) -> Checker<'e> {
        let set = ExpectationSet::from_expectation(expectation);
        Checker {
            expectation,
            engine: SetChecker::new(file, format, &set, !fast_path),
            n: Narrative {
                report: Report {
                    schema_version: crate::SCHEMA_VERSION,
                    file: file.to_string(),
                    format,
                    verdict: Verdict::Pass,
                    expectation: expectation.clone(),
                    expected: expectation.describe(),
                    frames: 0,
                    matched_count: 0,
                    matched: Vec::new(),
                    offending_count: 0,
                    offending: Vec::new(),
                    tcp_count: 0,
                    tcp: Vec::new(),
                    near_misses: Vec::new(),
                    other: OtherCounts::default(),
                    failures: Vec::new(),
                    notes: Vec::new(),
                    lost: None,
                },
                cap: LIST_CAP,
                partial_frames: Vec::new(),
                absent_frames: Vec::new(),
                icmp_notes: Vec::new(),
                reply_notes: Vec::new(),
                fragment_notes: Vec::new(),
                damaged_notes: Vec::new(),
                first_other_tcp: None,
                handshake: false,
                reassembler: Reassembler::default(),
            },
        }
    }

    /// What a cut at the capture's end does (`--truncated`); the default
    /// is [`Truncation::Fail`].
    pub fn truncation(mut self, policy: Truncation) -> Checker<'e> {
        self.engine.truncation(policy);
        self
    }

    /// How many lines each frame list of the report keeps (matched,
    /// offending, TCP, near misses); [`LIST_CAP`] unless set. Counts stay
    /// exact; `usize::MAX` keeps every frame, in memory.
    ///
    /// ```
    /// # use lola::check::Checker;
    /// # use lola::capture::CaptureReader;
    /// let expectation = lola::Expectation::seed();
    /// let mut reader = CaptureReader::open("fixtures/seed-ipv4-twice.pcap".as_ref()).unwrap();
    /// let mut checker = Checker::new("twice", reader.format(), &expectation).list_cap(1);
    /// while let Some(frame) = reader.next_frame().unwrap() {
    ///     checker.observe(&frame);
    /// }
    /// let report = checker.finish(reader.notes());
    /// assert_eq!((report.matched_count, report.matched.len()), (2, 1));
    /// ```
    pub fn list_cap(mut self, cap: usize) -> Checker<'e> {
        self.n.cap = cap;
        self
    }

    /// Frames observed so far.
    pub fn frames(&self) -> u64 {
        self.n.report.frames
    }

    /// Takes one frame into account.
    #[inline(always)]
    pub fn observe(&mut self, frame: &RawFrame<'_>) {
        self.observe_with(frame, &mut |_, _| {});
    }

    /// Takes one frame into account, handing it decoded to `sink` (as the
    /// engine sees it; every frame with
    /// [`every_frame`](Checker::every_frame)).
    #[inline(always)]
    pub fn observe_with(&mut self, frame: &RawFrame<'_>, sink: &mut Sink<'_>) {
        // Protocol and ports from fixed offsets, read once for both.
        let quick = quick_flow(frame.link_type, frame.data);
        self.engine.observe_sorted(frame, quick.as_ref(), sink);
        self.n.report.frames += 1;
        // Millions of frames of other flows are counted here, inlined into
        // the reading loop; the rest is decoded out of line.
        if !self.counted_by_fast_path(quick.as_ref()) {
            self.observe_decoded(frame);
        }
    }

    /// Decodes a frame the fast path could not count, and takes it into account.
    #[inline(never)]
    fn observe_decoded(&mut self, frame: &RawFrame<'_>) {
        // Sort the frame cheaply first; verify checksums only of the frames
        // the report will show (millions of others are only counted).
        let orig_len = frame.orig_len as usize;
        let store = Inflated::default();
        let mut packet = decode_in(frame.link_type, frame.data, orig_len, false, &store);
        let reassembled: Vec<u8>;
        let verified = match self.reassemble(frame, &packet) {
            Step::Whole => false,
            Step::Consumed => return,
            Step::Complete {
                link,
                tunnel,
                ip,
                protocol,
                payload,
            } => {
                reassembled = payload;
                packet = decode_reassembled(link, *tunnel, &ip, protocol, &reassembled);
                true
            }
        };
        if !verified && self.shown(&packet) {
            packet = decode_in(frame.link_type, frame.data, orig_len, true, &store);
        }
        if frame.flags.is_some_and(|f| f & EPB_CHECKSUM_NOT_READY != 0) {
            checksum_left_to_offload(&mut packet);
        }
        match &packet.transport {
            Transport::Udp(udp) => self.udp(frame, &packet, udp),
            Transport::Tcp(tcp) => self.tcp(frame, &packet, tcp),
            Transport::Icmp(icmp) => self.icmp(frame, icmp),
            Transport::Fragment(_) => {
                // A fragment whose fragment header could not be read whole.
                self.n.report.other.fragments += 1;
                push_capped(
                    &mut self.n.fragment_notes,
                    Note::FragmentUnreadable {
                        frame: frame.number,
                    },
                );
            }
            Transport::Other if packet.problems.is_empty() => self.n.report.other.other += 1,
            Transport::Other => {
                self.n.report.other.damaged += 1;
                push_capped(
                    &mut self.n.damaged_notes,
                    Note::Damaged {
                        frame: frame.number,
                        offset: frame.offset,
                        problems: packet.problems.clone(),
                    },
                );
            }
        }
    }

    /// Counts a frame of another flow from its fixed offsets alone; false
    /// when the frame needs decoding. Only once the near-miss list is full:
    /// until then every UDP datagram may be shown.
    #[inline(always)]
    fn counted_by_fast_path(&mut self, quick: Option<&QuickFlow<'_>>) -> bool {
        if self.n.report.near_misses.len() < self.n.cap {
            return false;
        }
        let Some(quick) = quick else {
            return false;
        };
        let e = self.expectation;
        let (sp, dp) = (quick.src_port, quick.dst_port);
        // Ports alone usually settle it; addresses only when they agree.
        let other = !(e.ports_match(sp, dp) || e.ports_match(dp, sp)) || {
            let (src, dst) = quick.endpoints();
            !e.endpoints_match(src, dst) && !e.endpoints_match(dst, src)
        };
        if !other {
            return false;
        }
        if quick.protocol == etherparse::ip_number::UDP.0 {
            self.n.report.other.udp += 1;
            return true;
        }
        if self.n.first_other_tcp.is_some() {
            self.n.report.other.tcp += 1;
            return true;
        }
        false
    }

    /// Hands an IP fragment to the reassembler.
    fn reassemble(&mut self, frame: &RawFrame<'_>, packet: &Packet<'_>) -> Step {
        let (Transport::Fragment(bytes), Some(ip)) = (&packet.transport, &packet.ip) else {
            return Step::Whole;
        };
        let Some(info) = ip.frag else {
            return Step::Whole;
        };
        self.n.report.other.fragments += 1;
        match self
            .n
            .reassembler
            .add(ip.src, ip.dst, &info, frame.number, bytes)
        {
            Outcome::Pending => Step::Consumed,
            Outcome::Invalid(why) => {
                push_capped(&mut self.n.fragment_notes, Note::FragmentRejected(why));
                Step::Consumed
            }
            Outcome::Complete { payload, frames } => {
                push_capped(
                    &mut self.n.fragment_notes,
                    Note::Reassembled {
                        frame: frame.number,
                        src: ip.src,
                        dst: ip.dst,
                        fragments: frames,
                    },
                );
                // The last fragment's header, with its checksum verified.
                let last = decode(frame.link_type, frame.data, frame.orig_len as usize);
                Step::Complete {
                    link: last.link,
                    tunnel: Box::new((last.encapsulation, last.outer)),
                    ip: last.ip.unwrap_or_else(|| ip.clone()),
                    protocol: info.protocol,
                    payload,
                }
            }
        }
    }

    /// True when the report will list this packet, so its checksums matter.
    fn shown(&self, packet: &Packet<'_>) -> bool {
        let e = self.expectation;
        match (&packet.transport, packet.endpoints()) {
            (Transport::Udp(_), Some((src, dst))) => {
                e.endpoints_match(src, dst) || self.n.report.near_misses.len() < self.n.cap
            }
            (Transport::Tcp(_), Some((a, b))) => {
                e.tcp_on_flow(a, b) && self.n.report.tcp.len() < self.n.cap
            }
            _ => false,
        }
    }

    fn udp(&mut self, frame: &RawFrame<'_>, packet: &Packet<'_>, udp: &Udp<'_>) {
        let Some((src, dst)) = packet.endpoints() else {
            return;
        };
        let e = self.expectation;
        let line = |reasons| {
            FrameLine::new(
                frame.number,
                frame.timestamp,
                frame.orig_len,
                packet,
                reasons,
            )
        };
        if !e.endpoints_match(src, dst) {
            if e.endpoints_match(dst, src) && e.dst_port.is_some() {
                let reply = Note::Reply {
                    frame: frame.number,
                    src,
                    dst,
                };
                push_capped(&mut self.n.reply_notes, reply);
            }
            self.n.report.other.udp += 1;
            if self.n.report.near_misses.len() < self.n.cap {
                let mut reasons = e.endpoint_mismatches(src, dst);
                if let Some(want) = &e.payload
                    && want.as_slice() != udp.payload
                {
                    reasons.push(format!("payload {}", quote_bytes(udp.payload)));
                }
                self.n.report.near_misses.push(line(reasons));
            }
            return;
        }
        let reasons = self.mismatches(frame.number, packet, udp, src.is_ipv6());
        if reasons.is_empty() {
            self.n.report.matched_count += 1;
            if self.n.report.matched.len() < self.n.cap {
                self.n.report.matched.push(line(Vec::new()));
            }
        } else {
            self.n.report.offending_count += 1;
            if self.n.report.offending.len() < self.n.cap {
                self.n.report.offending.push(line(reasons));
            }
        }
    }

    /// Why a datagram on the expected endpoints does not match: its payload,
    /// damage, and checksums under the policy (which may add a note instead).
    fn mismatches(
        &mut self,
        number: u64,
        packet: &Packet<'_>,
        udp: &Udp<'_>,
        ipv6: bool,
    ) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Some(want) = &self.expectation.payload {
            if !udp.payload_complete {
                reasons.push(format!(
                    "payload cut short by the capture's snaplen ({} of {} bytes captured); it could not be compared",
                    udp.payload.len(),
                    udp.payload_len
                ));
            } else if want.as_slice() != udp.payload {
                reasons.push(format!(
                    "payload {}, expected {}",
                    quote_bytes(udp.payload),
                    quote_bytes(want)
                ));
            }
        }
        reasons.extend(
            packet
                .problems
                .iter()
                .filter(|p| !p.is_checksum())
                .map(ToString::to_string),
        );
        let ip_checksum = packet.ip.as_ref().and_then(|ip| ip.header_checksum);
        let checksums = ip_checksum
            .map(|c| ("ip.checksum", c))
            .into_iter()
            .chain([("udp.checksum", udp.checksum)]);
        for (field, c) in checksums {
            match self.expectation.checksums.judge(c.state, ipv6) {
                Judgement::Pass => {}
                Judgement::PassPartial => push_capped(&mut self.n.partial_frames, number),
                Judgement::PassAbsent => push_capped(&mut self.n.absent_frames, number),
                Judgement::Fail => reasons.push(format!("{field} {c}")),
            }
        }
        reasons
    }

    fn tcp(&mut self, frame: &RawFrame<'_>, packet: &Packet<'_>, tcp: &Tcp) {
        let Some((a, b)) = packet.endpoints() else {
            return;
        };
        if !self.expectation.tcp_on_flow(a, b) {
            self.n.report.other.tcp += 1;
            self.n.first_other_tcp.get_or_insert((frame.number, a, b));
            return;
        }
        self.n.report.tcp_count += 1;
        self.n.handshake |= tcp.flags.is_handshake();
        if self.n.report.tcp.len() < self.n.cap {
            let role = if tcp.flags.is_handshake() {
                "handshake"
            } else if tcp.flags.is_teardown() {
                "teardown"
            } else if tcp.payload_len > 0 {
                "data"
            } else {
                "acknowledgement"
            };
            let reasons = vec![format!("{role} on the expected endpoints")];
            let line = FrameLine::new(
                frame.number,
                frame.timestamp,
                frame.orig_len,
                packet,
                reasons,
            );
            self.n.report.tcp.push(line);
        }
    }

    fn icmp(&mut self, frame: &RawFrame<'_>, icmp: &Icmp) {
        self.n.report.other.icmp += 1;
        let Some((s, d)) = icmp.quoted_udp else {
            return;
        };
        if !self.expectation.endpoints_match(s, d) {
            return;
        }
        let note = if icmp.port_unreachable {
            Note::PortUnreachable {
                frame: frame.number,
                datagram: (s, d),
            }
        } else {
            Note::Icmp {
                frame: frame.number,
                icmp_type: icmp.icmp_type,
                code: icmp.code,
            }
        };
        push_capped(&mut self.n.icmp_notes, note);
    }

    /// Takes into account the frames the capture admits it lost
    /// ([`CaptureReader::drops`](crate::capture::CaptureReader::drops)), or
    /// that the kernel reported it dropped while lola captured
    /// ([`Drops::by_kernel`]): they could hold what an exact count or "no
    /// TCP" rules out. Called more than once, it keeps the larger of each
    /// count ([`Drops::merge`]).
    pub fn admit_drops(&mut self, drops: Drops) {
        self.engine.admit_drops(drops);
    }

    /// Takes into account that the capture ends inside the record at
    /// `offset`: the frames before it were judged; under
    /// [`Truncation::Fail`], a claim the missing bytes could contradict fails.
    pub fn cut_short(&mut self, offset: u64, what: String) {
        self.engine.cut_short(offset, what);
    }

    /// The verdict, the failures and the notes, in the order a report gives
    /// them: the engine's outcomes in the built-in check's words.
    pub fn finish(self, reader_notes: Vec<String>) -> Report {
        let Checker {
            expectation: e,
            engine,
            mut n,
        } = self;
        let judged = engine.finish(Vec::new());
        let r = &mut n.report;
        let datagram = &judged.expectations[0];
        let tcp_rule = judged.rules.first();
        debug_assert_eq!(
            (r.matched_count, r.offending_count),
            (datagram.held, datagram.missed),
            "the lists of {} disagree with the engine",
            r.file
        );
        r.matched_count = datagram.held;
        r.offending_count = datagram.missed;
        if !e.count.accepts(datagram.held) {
            r.failures.push(Failure::Count {
                found: datagram.held,
                frames: r.frames,
            });
        }
        if datagram.missed > 0 {
            r.failures.push(Failure::Mismatched {
                datagrams: datagram.missed,
            });
        }
        n.tcp_findings(tcp_rule);
        let r = &mut n.report;
        let tcp_unprovable = tcp_rule.is_some_and(|t| t.unprovable);
        r.lost = judged.lost;
        if let Some(drops) = judged.lost {
            if datagram.unprovable || tcp_unprovable {
                r.failures.push(Failure::Lost {
                    drops,
                    count: datagram.unprovable.then_some(e.count),
                    tcp: tcp_unprovable,
                });
            } else {
                r.notes.push(Note::Lost {
                    drops,
                    count: e.count,
                });
            }
        }
        n.notes(reader_notes);
        n.cut(&judged);
        // The engine's verdict; the failures are its outcomes in words.
        debug_assert_eq!(n.report.failures.is_empty(), judged.passed());
        n.report.verdict = judged.verdict;
        n.report
    }
}

impl Narrative {
    /// TCP on the expected endpoints: a failure when the engine's rule
    /// forbidding it saw any, a note when `--allow-tcp` let it be.
    fn tcp_findings(&mut self, rule: Option<&crate::check::expect::RuleOutcome>) {
        let r = &mut self.report;
        let handshake = self.handshake;
        match rule {
            Some(rule) if rule.count > 0 => r.failures.push(Failure::Tcp {
                segments: rule.count,
                handshake,
            }),
            None if r.tcp_count > 0 => r.notes.push(Note::TcpAllowed {
                segments: r.tcp_count,
                handshake,
            }),
            _ => {}
        }
    }

    /// The cut at the capture's end: a failure when it decided the verdict,
    /// else a note (last, as the reader's notes).
    fn cut(&mut self, judged: &SetReport) {
        let Some(cut) = &judged.cut else { return };
        let (offset, what) = (cut.offset, cut.what.clone());
        if judged.cut_failed() {
            self.report
                .failures
                .push(Failure::Truncated { offset, what });
        } else {
            self.report.notes.push(Note::Truncated { offset, what });
        }
    }

    /// The notes, in the order a report gives them.
    fn notes(&mut self, reader_notes: Vec<String>) {
        let r = &mut self.report;
        if !self.partial_frames.is_empty() {
            let frames = std::mem::take(&mut self.partial_frames);
            r.notes.push(Note::PartialChecksums { frames });
        }
        if !self.absent_frames.is_empty() {
            let frames = std::mem::take(&mut self.absent_frames);
            r.notes.push(Note::AbsentChecksums { frames });
        }
        if let Some(first) = self.first_other_tcp {
            r.notes.push(Note::OtherTcp {
                segments: r.other.tcp,
                first,
            });
        }
        r.notes.append(&mut self.icmp_notes);
        r.notes.append(&mut self.reply_notes);
        let (incomplete, unlisted) = std::mem::take(&mut self.reassembler).finish();
        for datagram in incomplete.iter().take(LIST_CAP) {
            let note = Note::Incomplete {
                fragments: datagram.frames.clone(),
                src: datagram.src,
                dst: datagram.dst,
                id: datagram.id,
            };
            push_capped(&mut self.fragment_notes, note);
        }
        let more = incomplete.len().saturating_sub(LIST_CAP) as u64 + unlisted;
        if more > 0 {
            self.fragment_notes.push(Note::MoreIncomplete(more));
        }
        r.notes.append(&mut self.fragment_notes);
        r.notes.append(&mut self.damaged_notes);
        r.notes.extend(reader_notes.into_iter().map(Note::Reader));
    }
}

fn push_capped<T>(list: &mut Vec<T>, item: T) {
    if list.len() < LIST_CAP {
        list.push(item);
    }
}
