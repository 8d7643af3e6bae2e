//! The [`SetChecker`]: an [`ExpectationSet`] held against frames as they
//! stream by, counted and judged into its typed [`SetReport`].
//!
//! A frame whose ports and protocol alone show that no `match` and no
//! `forbid` rule can hold is only counted (the fast path of
//! [`prefilter`](super::prefilter), as for the built-in check); the others
//! are decoded and every predicate evaluated. Memory is bounded: per
//! expectation, counts and the first [`EVIDENCE_CAP`] lines of evidence
//! ([`evidence`](super::evidence) says why a claim failed).

use std::time::Duration;

use super::dispatch::Dispatch;
use super::evidence::{self, Evidence, frame_line, show};
use super::filter::Filter;
use super::marks::{FrameMarks, Mark};
use super::outcome::{Cut, ExpectOutcome, RuleOutcome, SetReport};
use super::prefilter::Prefilter;
use super::{EVIDENCE_CAP, Expect, ExpectationSet, Tolerance};
use crate::capture::{Drops, EPB_CHECKSUM_NOT_READY, Format, RawFrame};
use crate::check::{Truncation, Verdict, checksum_left_to_offload};
use crate::packet::decode::{
    Inflated, QuickFlow, Transport, decode, decode_in, decode_reassembled, heuristics, quick_flow,
};
use crate::packet::fields::{Conversations, FrameView, TcpNumbers};
use crate::packet::reassembly::{Outcome, Reassembler};

/// One expectation's count so far, and its evidence.
#[derive(Default)]
struct State {
    held: u64,
    frames: Vec<u64>,
    missed: u64,
    early: u64,
    first: Option<(u64, Duration)>,
    gap: Option<Duration>,
    evidence: Evidence,
}

/// A `forbid` rule's (or `exclusive`'s) count so far, and its first
/// [`EVIDENCE_CAP`] frames.
#[derive(Default)]
struct Rule {
    count: u64,
    evidence: Vec<String>,
}

impl Rule {
    fn add(&mut self, line: impl FnOnce() -> String) {
        self.count += 1;
        if self.evidence.len() < EVIDENCE_CAP {
            self.evidence.push(line());
        }
    }
}

/// Checks frames against an [`ExpectationSet`] as they stream by.
///
/// This is lola's one judging engine: the built-in check
/// ([`Checker`](crate::check::Checker)) holds the set its flags describe
/// ([`ExpectationSet::from_expectation`]) against the frames with it, and
/// adds only its own words.
pub struct SetChecker {
    set: ExpectationSet,
    file: String,
    format: Format,
    frames: u64,
    states: Vec<State>,
    forbid: Vec<Rule>,
    unclaimed: Rule,
    verify: bool,
    tcp: Option<TcpNumbers>,
    /// The UDP conversations QUIC and TFTP took, when a field needs them
    /// (`data`): fed every UDP frame, the fast path's too.
    conversations: Option<Conversations>,
    prefilter: Option<Prefilter>,
    reassembler: Reassembler,
    drops: Drops,
    cut: Option<(u64, String)>,
    /// Frames the fast path skips that are still decoded, as candidates
    /// for "closest" (see [`CLOSEST_CANDIDATES`]).
    candidates: u32,
    /// Whether a frame the fast path skips still has something to do
    /// (`exclusive`, or candidates left): one test in the loop for both.
    skip_chores: bool,
    /// A large set's index of `match` predicates.
    dispatch: Option<Dispatch>,
    /// Each expectation's depth in its `after` chain (0: no `after`), when
    /// some expectation follows one written after it: a frame is held by
    /// an anchor before its followers.
    depth: Option<Vec<u32>>,
    /// The expectations that claimed the frame being observed (reused).
    claims: Vec<usize>,
    /// What each frame did, when asked ([`SetChecker::mark_frames`]).
    marks: Option<FrameMarks>,
}

/// How many frames the fast path would skip are still decoded as
/// candidates for an expectation's "closest" evidence: every frame of a
/// CI-sized capture, a bounded cost on a large one.
pub const CLOSEST_CANDIDATES: u32 = 1000;

/// What a frame was, for an emitter of rows: its view and the names of the
/// expectations that matched it.
pub type Sink<'f> = dyn FnMut(&FrameView<'_, '_>, &[&str]) + 'f;

impl SetChecker {
    /// A checker of the capture `file` (as the report names it), of `format`.
    /// With `every_frame`, no frame takes the fast path (for emitters of rows).
    pub fn new(file: &str, format: Format, set: &ExpectationSet, every_frame: bool) -> Self {
        let filters: Vec<&Filter> = set
            .expects
            .iter()
            .flat_map(|e| std::iter::once(&e.matches).chain(&e.wheres))
            .chain(&set.forbid)
            .collect();
        let fields: Vec<_> = filters.iter().flat_map(|f| f.fields()).collect();
        let tcp_state = every_frame || fields.iter().any(|f| f.needs_tcp_state());
        let candidates = if set.expects.iter().any(|e| e.matches.conjuncts().len() >= 2) {
            CLOSEST_CANDIDATES
        } else {
            0
        };
        let conversations = every_frame || fields.iter().any(|f| f.needs_conversations());
        let match_filters: Vec<&Filter> = set
            .expects
            .iter()
            .map(|e| &e.matches)
            .chain(&set.forbid)
            .collect();
        SetChecker {
            set: set.clone(),
            file: file.to_string(),
            format,
            frames: 0,
            states: set.expects.iter().map(|_| State::default()).collect(),
            forbid: set.forbid.iter().map(|_| Rule::default()).collect(),
            unclaimed: Rule::default(),
            verify: every_frame || fields.iter().any(|f| f.needs_verify()),
            tcp: tcp_state.then(TcpNumbers::default),
            conversations: conversations.then(Conversations::default),
            prefilter: (!every_frame && !tcp_state).then(|| Prefilter::new(&match_filters)),
            reassembler: Reassembler::default(),
            drops: Drops::default(),
            cut: None,
            candidates,
            skip_chores: set.exclusive || candidates > 0,
            dispatch: Dispatch::new(&set.expects),
            depth: after_depths(set),
            claims: Vec::new(),
            marks: None,
        }
    }

    /// Keeps what every frame did to the set ([`FrameMarks`]), handed out
    /// by [`finish_marked`](SetChecker::finish_marked): one entry per frame
    /// that held, missed or broke something (memory grows with them).
    pub fn mark_frames(&mut self) {
        self.marks.get_or_insert_with(FrameMarks::default);
    }

    fn mark(&mut self, number: u64, mark: Mark) {
        if let Some(m) = &mut self.marks {
            m.add(number, mark);
        }
    }

    /// What a cut at the capture's end does, instead of the set's
    /// `truncated` setting (`--truncated`).
    pub fn truncation(&mut self, policy: Truncation) {
        self.set.truncated = policy;
    }

    /// Takes into account the frames the capture admits it lost
    /// ([`CaptureReader::drops`](crate::capture::CaptureReader::drops)), or that the kernel reported it dropped
    /// while capturing ([`Drops::by_kernel`]): they could hold what a
    /// maximum count, a `forbid` rule or `exclusive` rules out. Called more
    /// than once, it keeps the larger of each count ([`Drops::merge`]): the
    /// kernel's count that a pcapng repeats is not counted twice.
    pub fn admit_drops(&mut self, drops: Drops) {
        self.drops = self.drops.merge(drops);
    }

    /// Takes into account that the capture ends inside the record at
    /// `offset` ([`Error::Truncated`](crate::Error::Truncated)): under the
    /// set's [`Truncation::Fail`], the claims the missing bytes could
    /// contradict fail.
    pub fn cut_short(&mut self, offset: u64, what: String) {
        self.cut = Some((offset, what));
    }

    /// Frames observed so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Takes one frame into account; `sink` sees it decoded (unless it took
    /// the fast path, which `every_frame` turns off).
    #[inline(always)]
    pub fn observe(&mut self, frame: &RawFrame<'_>, sink: &mut Sink<'_>) {
        let quick = match self.prefilter {
            Some(_) => quick_flow(frame.link_type, frame.data),
            None => None,
        };
        self.observe_sorted(frame, quick.as_ref(), sink);
    }

    /// [`observe`](SetChecker::observe) with the frame's protocol and ports
    /// already read from their fixed offsets (by a caller that needs them too).
    #[inline(always)]
    pub(crate) fn observe_sorted(
        &mut self,
        frame: &RawFrame<'_>,
        quick: Option<&QuickFlow<'_>>,
        sink: &mut Sink<'_>,
    ) {
        self.frames += 1;
        if let Some(pre) = &self.prefilter
            && let Some(q) = quick
            && pre.skips(q.protocol, q.src_port, q.dst_port)
        {
            if self.conversations.is_some()
                && let Some(rest) = q.after_udp_header()
                && heuristics::may_start(rest)
            {
                self.conversation_starts(frame);
            }
            if self.skip_chores {
                self.skipped_chores(frame);
            }
            return;
        }
        self.observe_decoded(frame, sink);
    }

    /// What a frame the fast path skipped still needs: a mark when the set
    /// is `exclusive`, a look as a candidate while some are left.
    #[inline(never)]
    fn skipped_chores(&mut self, frame: &RawFrame<'_>) {
        if self.set.exclusive {
            self.unclaimed
                .add(|| format!("frame {}: claimed by no expectation", frame.number));
            self.mark(frame.number, Mark::Unclaimed);
        }
        if self.candidates > 0 {
            self.candidates -= 1;
            self.candidate(frame);
        }
        self.skip_chores = self.set.exclusive || self.candidates > 0;
    }

    /// A skipped datagram that may set up the conversation a later frame's
    /// `data` depends on (kept out of the fast path's loop: it is rare). Its
    /// flow is read again here, so that the loop keeps the one it read in
    /// registers.
    #[cold]
    #[inline(never)]
    fn conversation_starts(&mut self, frame: &RawFrame<'_>) {
        if let Some(c) = &mut self.conversations
            && let Some(q) = quick_flow(frame.link_type, frame.data)
            && let Some(payload) = q.udp_payload()
        {
            let (src, dst) = q.endpoints();
            c.observe(src, dst, payload);
        }
    }

    /// A frame no predicate can hold on, decoded only to see whether it came
    /// closer than any other to an expectation nothing has held yet.
    #[inline(never)]
    fn candidate(&mut self, frame: &RawFrame<'_>) {
        let store = Inflated::default();
        let orig_len = frame.orig_len as usize;
        let packet = decode_in(frame.link_type, frame.data, orig_len, false, &store);
        let view = FrameView {
            datagram_only: self.set.datagram_only,
            ..FrameView::new(frame, &packet)
        };
        for (e, st) in self.set.expects.iter().zip(&mut self.states) {
            if st.held == 0 {
                st.evidence.closest(&e.matches, &view);
            }
        }
    }

    /// Decodes a frame the fast path could not skip, and holds every
    /// predicate against it.
    #[inline(never)]
    fn observe_decoded(&mut self, frame: &RawFrame<'_>, sink: &mut Sink<'_>) {
        let orig_len = frame.orig_len as usize;
        let not_ready = frame.flags.is_some_and(|f| f & EPB_CHECKSUM_NOT_READY != 0);
        let store = Inflated::default();
        let packet = decode_in(frame.link_type, frame.data, orig_len, self.verify, &store);
        let reassembled: Vec<u8>;
        let mut packet = match (&packet.transport, &packet.ip) {
            (Transport::Fragment(bytes), Some(ip)) if ip.frag.is_some() => {
                let Some(info) = ip.frag else { return };
                match self
                    .reassembler
                    .add(ip.src, ip.dst, &info, frame.number, bytes)
                {
                    Outcome::Complete { payload, .. } => {
                        reassembled = payload;
                        let last = decode(frame.link_type, frame.data, orig_len);
                        let ip = last.ip.clone().unwrap_or_else(|| ip.clone());
                        let tunnel = (last.encapsulation, last.outer.clone());
                        let mut whole = decode_reassembled(
                            last.link.clone(),
                            tunnel,
                            &ip,
                            info.protocol,
                            &reassembled,
                        );
                        whole.enclosed_like(&last);
                        whole
                    }
                    Outcome::Pending | Outcome::Invalid(_) => packet,
                }
            }
            _ => packet,
        };
        if not_ready {
            checksum_left_to_offload(&mut packet);
        }
        let tcp_relative = self.tcp.as_mut().and_then(|t| t.relative(&packet));
        let udp_dissector = self
            .conversations
            .as_mut()
            .and_then(|c| c.observe_packet(&packet));
        let mut view = FrameView {
            tcp_relative,
            udp_dissector,
            datagram_only: self.set.datagram_only,
            ..FrameView::new(frame, &packet)
        };
        let mut claims = std::mem::take(&mut self.claims);
        claims.clear();
        match &mut self.dispatch {
            Some(d) => d.claims(&self.set.expects, &view, &mut claims),
            None => claims.extend(
                (0..self.set.expects.len()).filter(|&i| self.set.expects[i].matches.matches(&view)),
            ),
        }
        let verified;
        if !claims.is_empty() && !self.verify {
            // The frames an expectation is about get their checksums verified.
            verified = {
                let mut p = decode_in(frame.link_type, frame.data, orig_len, true, &store);
                if not_ready {
                    checksum_left_to_offload(&mut p);
                }
                p
            };
            if !matches!(verified.transport, Transport::Fragment(_)) {
                view.packet = &verified;
            }
        }
        if let Some(depth) = &self.depth {
            // Anchors first, so that a frame that is an anchor's first held
            // frame is known as such to its followers.
            claims.sort_unstable_by_key(|&i| (depth[i], i));
        }
        for &i in &claims {
            self.hold(i, &view);
        }
        if self.depth.is_some() {
            claims.sort_unstable();
        }
        if claims.is_empty() {
            for (i, e) in self.set.expects.iter().enumerate() {
                if self.states[i].held == 0 {
                    self.states[i].evidence.closest(&e.matches, &view);
                }
            }
            if self.set.exclusive {
                self.unclaimed
                    .add(|| frame_line(&view, "claimed by no expectation"));
                if let Some(m) = &mut self.marks {
                    m.add(view.number, Mark::Unclaimed);
                }
            }
        }
        for (i, (rule, f)) in self.forbid.iter_mut().zip(&self.set.forbid).enumerate() {
            if f.matches(&view) {
                rule.add(|| frame_line(&view, "forbidden"));
                if let Some(m) = &mut self.marks {
                    m.add(view.number, Mark::Forbidden { rule: i });
                }
            }
        }
        let names: Vec<&str> = claims
            .iter()
            .map(|&i| self.set.expects[i].name.as_str())
            .collect();
        // Emitters see every occurrence, whatever the predicates saw.
        view.datagram_only = false;
        sink(&view, &names);
        self.claims = claims;
    }

    fn hold(&mut self, i: usize, v: &FrameView<'_, '_>) {
        let e = &self.set.expects[i];
        if let Some(j) = e.after {
            match self.states[j].first {
                Some((n, _)) if n < v.number => {}
                // The anchor's own first held frame is neither before nor
                // after it: it does not count for its follower.
                Some((n, _)) if n == v.number => return,
                _ => {
                    let name = &self.set.expects[j].name;
                    let st = &mut self.states[i];
                    st.early += 1;
                    st.missed += 1;
                    st.evidence
                        .add(v.number, || evidence::matched_before(v, name));
                    self.mark(
                        v.number,
                        Mark::Early {
                            expect: i,
                            anchor: j,
                        },
                    );
                    return;
                }
            }
        }
        let misses = evidence::misses(&self.set, e, v);
        let anchor = e.after.and_then(|j| self.states[j].first);
        let st = &mut self.states[i];
        if !misses.is_empty() {
            st.missed += 1;
            st.evidence
                .add(v.number, || frame_line(v, &misses.join("; ")));
            self.mark(
                v.number,
                Mark::Missed {
                    expect: i,
                    why: misses,
                },
            );
            return;
        }
        st.held += 1;
        if st.frames.len() < EVIDENCE_CAP {
            st.frames.push(v.number);
        }
        if st.first.is_none() {
            st.first = Some((v.number, v.time));
            if let Some((_, t)) = anchor {
                st.gap = Some(v.time.saturating_sub(t));
            }
        }
        let excess = e.count.max.is_some_and(|m| st.held > m);
        if excess {
            st.evidence
                .add(v.number, || frame_line(v, "one more than the count allows"));
        }
        let after = anchor.map(|(_, t)| v.time.saturating_sub(t));
        self.mark(v.number, Mark::Held { expect: i, after });
        if excess {
            self.mark(v.number, Mark::Excess { expect: i });
        }
    }

    /// The report, with the reader's notes.
    pub fn finish(self, reader_notes: Vec<String>) -> SetReport {
        self.finish_marked(reader_notes).0
    }

    /// The report, with the reader's notes, and what each frame did (empty
    /// unless [`mark_frames`](SetChecker::mark_frames) was called): the
    /// frame that came closest to an expectation nothing held is marked
    /// as the report lists it.
    pub fn finish_marked(mut self, reader_notes: Vec<String>) -> (SetReport, FrameMarks) {
        let marking = self.marks.is_some();
        let mut marks = self.marks.take().unwrap_or_default();
        let set = &self.set;
        let tolerance = set.effective_tolerance();
        if marking {
            for (i, (e, st)) in set.expects.iter().zip(&self.states).enumerate() {
                if shows_closest(e, st)
                    && let Some(n) = st.evidence.closest_frame()
                {
                    marks.add(n, Mark::Closest { expect: i });
                }
            }
        }
        let mut expectations: Vec<ExpectOutcome> = set
            .expects
            .iter()
            .zip(self.states)
            .map(|(e, st)| expect_outcome(set, e, st, tolerance))
            .collect();
        let mut rules = rule_outcomes(set, self.forbid, self.unclaimed);
        let lost = (self.drops.total() > 0).then_some(self.drops);
        let cut = self.cut.map(|(offset, what)| Cut {
            offset,
            what,
            policy: set.truncated,
        });
        if let Some(why) = evidence::missing_frames(lost, cut.as_ref()) {
            unprovable(set, &mut expectations, &mut rules, &why);
        }
        let passed = expectations.iter().all(|e| e.verdict.passed())
            && rules.iter().all(|r| r.verdict.passed());
        let mut report = SetReport {
            schema_version: crate::SCHEMA_VERSION,
            file: self.file,
            format: self.format,
            verdict: Verdict::from_passed(passed),
            frames: self.frames,
            expectations,
            rules,
            lost,
            cut,
            notes: reader_notes,
        };
        if let Some(d) = lost
            && !report.expectations.iter().any(|e| e.unprovable)
            && !report.rules.iter().any(|r| r.unprovable)
        {
            let frames = crate::packet::summary::plural(d.total(), "lost frame");
            report.notes.push(format!(
                "the capture admits {frames} ({d}); no claim they could contradict was made (every count here is a minimum)"
            ));
        }
        if let Some(c) = &report.cut
            && !report.cut_failed()
        {
            let note = evidence::cut_note(c);
            report.notes.push(note);
        }
        (report, marks)
    }
}

/// Each expectation's depth in its chain of `after` (0 without one), or
/// `None` when every anchor comes before its followers in the file (then
/// file order already holds anchors first). A set has no `after` cycle.
fn after_depths(set: &ExpectationSet) -> Option<Vec<u32>> {
    let expects = &set.expects;
    if expects
        .iter()
        .enumerate()
        .all(|(i, e)| e.after.is_none_or(|j| j < i))
    {
        return None;
    }
    let mut depth: Vec<Option<u32>> = vec![None; expects.len()];
    let mut walk = Vec::new();
    for i in 0..expects.len() {
        // Up the chain to an expectation whose depth is known, or its top.
        let mut at = i;
        while depth[at].is_none() {
            walk.push(at);
            match expects[at].after {
                Some(j) if walk.len() <= expects.len() => at = j,
                _ => break,
            }
        }
        let mut d = depth[at].map_or(0, |d| d + 1);
        while let Some(j) = walk.pop() {
            if depth[j].is_none() {
                depth[j] = Some(d);
                d += 1;
            }
        }
    }
    Some(depth.into_iter().map(|d| d.unwrap_or(0)).collect())
}

/// Fails the claims frames missing from the capture (`why`) could
/// contradict: a maximum count, a `forbid` rule, `exclusive`.
fn unprovable(
    set: &ExpectationSet,
    expectations: &mut [ExpectOutcome],
    rules: &mut [RuleOutcome],
    why: &str,
) {
    for (e, outcome) in set.expects.iter().zip(expectations) {
        if e.count.max.is_some() {
            outcome.unprovable = true;
            outcome.verdict = Verdict::Fail;
            outcome.failures.push(format!(
                "{why}: the missing frames could break count {}",
                e.count
            ));
        }
    }
    for rule in rules {
        rule.unprovable = true;
        rule.verdict = Verdict::Fail;
        rule.failures
            .push(format!("{why}: the missing frames could break it"));
    }
}

/// True when nothing matched `e` and its count failed: its evidence ends
/// with the frame that came closest.
fn shows_closest(e: &Expect, st: &State) -> bool {
    !e.count.accepts(st.held) && st.held == 0 && st.missed == 0
}

/// What happened to expectation `e` of `set`, from its state `st`.
fn expect_outcome(
    set: &ExpectationSet,
    e: &Expect,
    st: State,
    tolerance: Tolerance,
) -> ExpectOutcome {
    let failures = expect_failures(set, e, &st, tolerance);
    // Nothing matched and the count failed: the frame that came closest.
    let closest = shows_closest(e, &st);
    let (evidence, near, more_evidence) = st.evidence.finish(closest);
    ExpectOutcome {
        name: e.name.clone(),
        matches: e.matches.text().to_string(),
        count: e.count.to_string(),
        verdict: Verdict::from_passed(failures.is_empty()),
        held: st.held,
        frames: st.frames,
        missed: st.missed,
        gap_ns: st.gap.map(|g| g.as_nanos() as u64),
        failures,
        evidence,
        near,
        more_evidence,
        unprovable: false,
    }
}

/// Why expectation `e` failed, one sentence each: its count, frames that
/// missed a condition or came early, a first frame too late.
fn expect_failures(
    set: &ExpectationSet,
    e: &Expect,
    st: &State,
    tolerance: Tolerance,
) -> Vec<String> {
    let mut failures = Vec::new();
    let frames_word = |n: u64| if n == 1 { "frame" } else { "frames" };
    if !e.count.accepts(st.held) {
        failures.push(format!(
            "{} {} held, expected {}",
            st.held,
            frames_word(st.held),
            e.count
        ));
    }
    let missed_where = st.missed - st.early;
    if missed_where > 0 {
        failures.push(format!(
            "{missed_where} {} matched but failed a condition",
            frames_word(missed_where)
        ));
    }
    if st.early > 0 {
        let anchor = e.after.map_or("", |j| set.expects[j].name.as_str());
        failures.push(format!(
            "{} {} matched before the first held frame of {anchor:?}",
            st.early,
            frames_word(st.early)
        ));
    }
    if let (Some(within), Some(j)) = (e.within, e.after) {
        let window = tolerance.widen(within);
        match st.gap {
            Some(gap) if gap > window => failures.push(format!(
                "first frame came {} after {:?}: window {} + tolerance {tolerance} = {}",
                show(gap),
                set.expects[j].name,
                show(within),
                show(window)
            )),
            _ => {}
        }
    }
    failures
}

/// One outcome per `forbid` rule of `set`, then `exclusive` when set.
fn rule_outcomes(set: &ExpectationSet, forbid: Vec<Rule>, unclaimed: Rule) -> Vec<RuleOutcome> {
    let mut rules: Vec<RuleOutcome> = set
        .forbid
        .iter()
        .zip(forbid)
        .map(|(f, r)| RuleOutcome {
            name: format!("forbid: {f}"),
            verdict: Verdict::from_passed(r.count == 0),
            count: r.count,
            failures: Vec::new(),
            evidence: r.evidence,
            unprovable: false,
        })
        .collect();
    if set.exclusive {
        rules.push(RuleOutcome {
            name: "exclusive: every frame matched by an expectation".to_string(),
            verdict: Verdict::from_passed(unclaimed.count == 0),
            count: unclaimed.count,
            failures: Vec::new(),
            evidence: unclaimed.evidence,
            unprovable: false,
        });
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    /// `set` (an expectation file's text) held against the capture at
    /// `path`, with or without the index of `match` predicates.
    fn check(path: &str, set: &ExpectationSet, index: bool) -> crate::Result<SetReport> {
        let mut reader = CaptureReader::open(path.as_ref())?;
        let mut checker = SetChecker::new(path, reader.format(), set, false);
        if !index {
            checker.dispatch = None;
        }
        reader.for_each_frame(|f| checker.observe(f, &mut |_, _| {}))?;
        Ok(checker.finish(reader.notes()))
    }

    fn parse(text: &str) -> ExpectationSet {
        ExpectationSet::parse("t.toml", text).unwrap()
    }

    /// `fixtures/reply.pcap`: frame 1 is `hello` (to 7456), frame 2 the
    /// reply (from 7456). A follower whose `match` also covers its anchor's
    /// first held frame neither holds it nor counts it as early, whichever
    /// comes first in the file.
    #[test]
    fn an_anchors_own_frame_is_neither_before_nor_after_it() {
        let hello = "[[expect]]\nname = 'hello'\nmatch = 'udp.dstport == 7456'\n";
        let reply = "[[expect]]\nname = 'reply'\nmatch = 'udp'\nafter = 'hello'\n";
        for text in [format!("{hello}{reply}"), format!("{reply}{hello}")] {
            let report = check("fixtures/reply.pcap", &parse(&text), false).unwrap();
            assert!(report.passed(), "{text}: {report:?}");
            let reply = report
                .expectations
                .iter()
                .find(|e| e.name == "reply")
                .unwrap();
            assert_eq!(
                (reply.held, reply.frames.clone(), reply.missed),
                (1, vec![2], 0)
            );
        }
        // A frame before the anchor's first held frame is still early.
        let text = "[[expect]]\nname = 'reply'\nmatch = 'udp.srcport == 7456'\n\
                    [[expect]]\nname = 'any'\nmatch = 'udp'\nafter = 'reply'\ncount = 0\n";
        let report = check("fixtures/reply.pcap", &parse(text), false).unwrap();
        let any = &report.expectations[1];
        assert_eq!((any.held, any.missed), (0, 1));
        assert_eq!(
            any.failures,
            ["1 frame matched before the first held frame of \"reply\""]
        );
        assert!(
            any.evidence[0].starts_with("frame 1: "),
            "{:?}",
            any.evidence
        );
    }

    /// A large set is looked up by the integers its `match` predicates
    /// need; the reports are those of testing every `match` on every frame.
    #[test]
    fn the_index_of_a_large_set_claims_what_testing_every_match_claims() {
        let matches = [
            "frame.number == 1",
            "frame.number in {2, 3, 40}",
            "udp.dstport == 7456 && ip.ttl == 64",
            "udp.srcport == 7456",
            "udp.port == 4789",
            "udp.dstport == 53",
            "tcp.dstport == 7456",
            "tcp.flags.syn == 1",
            "ip.flags.df == 0",
            "ip.ttl == 64 && udp",
            "ipv6.hlim == 64",
            "udp.length == 18",
            "udp",
            "tcp",
            "!udp",
            "ip.src == 127.0.0.1",
            "frame.number >= 2",
        ];
        let mut text = String::new();
        for (i, m) in matches.iter().enumerate() {
            text += &format!("[[expect]]\nname = 'e{i}'\nmatch = '{m}'\ncount = '>= 0'\n");
            if i % 3 == 2 {
                text += &format!("after = 'e{}'\n", i - 1);
            }
        }
        let set = parse(&text);
        assert!(Dispatch::new(&set.expects).is_some());
        let mut compared = 0;
        for entry in std::fs::read_dir("fixtures").unwrap() {
            let path = entry.unwrap().path().display().to_string();
            let (Ok(indexed), Ok(every)) = (check(&path, &set, true), check(&path, &set, false))
            else {
                continue;
            };
            let json = |r: &SetReport| serde_json::to_string(r).unwrap();
            assert_eq!(json(&indexed), json(&every), "{path}");
            compared += 1;
        }
        assert!(compared > 30, "{compared}");
    }

    /// A capture that admits lost frames and is cut short, judged by its
    /// complete frames: the lost frames fail the count, and the cut, which
    /// decided nothing, is a note.
    #[test]
    fn a_cut_that_decides_nothing_is_a_note_even_when_frames_were_lost() {
        let set = ExpectationSet::from_expectation(&crate::Expectation::seed());
        let mut checker = SetChecker::new("t.pcapng", Format::PcapNg, &set, false);
        checker.truncation(Truncation::JudgeCompleteFrames);
        checker.admit_drops(Drops {
            interface: 2,
            ..Drops::default()
        });
        checker.cut_short(280, "block cut short".into());
        let report = checker.finish(Vec::new());
        assert!(!report.passed());
        assert!(report.expectations[0].unprovable);
        assert!(!report.cut_failed());
        assert_eq!(
            report.notes,
            [
                "the capture is cut short at byte 280 (block cut short); only the frames before the cut were judged"
            ]
        );
        // Under `fail` the same cut fails the claims, and is no note.
        let mut checker = SetChecker::new("t.pcapng", Format::PcapNg, &set, false);
        checker.cut_short(280, "block cut short".into());
        let report = checker.finish(Vec::new());
        assert!(report.cut_failed() && report.notes.is_empty());
    }
}
