//! What the [`SetChecker`](super::SetChecker) returns: the typed
//! [`SetReport`], one [`ExpectOutcome`] per expectation and one
//! [`RuleOutcome`] per rule, and the [`Cut`] at a capture's end.

use crate::capture::{Drops, Format};
use crate::check::{Truncation, Verdict};

#[cfg(doc)]
use super::EVIDENCE_CAP;

/// What happened to one expectation.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ExpectOutcome {
    /// Its name.
    pub name: String,
    /// Its `match` predicate.
    #[serde(rename = "match")]
    pub matches: String,
    /// How many frames must hold, in words.
    pub count: String,
    /// Pass or fail.
    pub verdict: Verdict,
    /// Frames that matched and satisfied every `where`, in order.
    pub held: u64,
    /// Their numbers (the first [`EVIDENCE_CAP`]).
    pub frames: Vec<u64>,
    /// Frames that matched but failed a `where`, a checksum or came too early.
    pub missed: u64,
    /// Time from the `after` expectation's first frame to this one's first, in ns.
    pub gap_ns: Option<u64>,
    /// Why it failed, one sentence each.
    pub failures: Vec<String>,
    /// What came closest, one line per frame (at most [`EVIDENCE_CAP`]).
    pub evidence: Vec<String>,
    /// The numbers of the frames the `evidence` lines are about, for the
    /// pictures that draw them (not in the JSON, whose lines name them).
    #[serde(skip)]
    pub near: Vec<u64>,
    /// Evidence lines not listed.
    pub more_evidence: u64,
    /// True when frames missing from the capture (lost, or cut off at its
    /// end) could contradict it, so that it cannot pass.
    pub unprovable: bool,
}

/// What happened to a `forbid` rule, or to `exclusive`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct RuleOutcome {
    /// The rule's name: `forbid: RULE` or `exclusive`.
    pub name: String,
    /// Pass or fail.
    pub verdict: Verdict,
    /// Frames that broke it.
    pub count: u64,
    /// Why it failed beyond those frames, one sentence each.
    pub failures: Vec<String>,
    /// The first of them, one line each.
    pub evidence: Vec<String>,
    /// True when frames missing from the capture could break it.
    pub unprovable: bool,
}

/// Where a capture was cut short at its end, and what that did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Cut {
    /// Byte offset of the record or block that is cut.
    pub offset: u64,
    /// What is cut, in words.
    pub what: String,
    /// The policy: `fail` (claims the missing bytes could contradict fail)
    /// or `judge-complete-frames`.
    pub policy: Truncation,
}

/// The result of checking a capture against an expectation set.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct SetReport {
    /// Version of this JSON shape.
    pub schema_version: u32,
    /// The capture.
    pub file: String,
    /// Its container format.
    pub format: Format,
    /// Pass only when every expectation and rule holds.
    pub verdict: Verdict,
    /// Frames read.
    pub frames: u64,
    /// One per expectation, in file order.
    pub expectations: Vec<ExpectOutcome>,
    /// One per `forbid` rule, then `exclusive` when set.
    pub rules: Vec<RuleOutcome>,
    /// Frames the capture admits it lost (pcapng statistics), or that the
    /// kernel reported it dropped while lola captured, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<Drops>,
    /// Where the capture was cut short at its end, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<Cut>,
    /// What the reader noticed about the file.
    pub notes: Vec<String>,
}

impl SetReport {
    /// True when everything held.
    pub fn passed(&self) -> bool {
        self.verdict.passed()
    }

    /// How many expectations held.
    pub fn held(&self) -> usize {
        self.expectations
            .iter()
            .filter(|e| e.verdict.passed())
            .count()
    }

    /// True when the cut at the capture's end failed a claim: under
    /// [`Truncation::Fail`], a claim the missing bytes could break. Else a
    /// cut is a note.
    pub fn cut_failed(&self) -> bool {
        self.cut
            .as_ref()
            .is_some_and(|c| c.policy == Truncation::Fail)
            && (self.expectations.iter().any(|e| e.unprovable)
                || self.rules.iter().any(|r| r.unprovable))
    }
}
