//! Which expectations a frame can be claimed by, without testing every
//! `match` on every frame: the [`SetChecker`](super::SetChecker)'s index
//! for large sets (a chain of ten thousand `after` expectations, each about
//! one frame, is judged in one linear pass).
//!
//! An expectation whose `match` is `field == N && ...` (or `field in {N,
//! M} && ...`) on an integer field can hold only on a frame where that
//! field has one of those values: it is filed under them, and a frame
//! looks up its own values of the field. The others are tested on every
//! frame. The index only narrows: every candidate's `match` is still
//! evaluated, so the claims are those of testing every `match`, in the
//! same (file) order.

use std::collections::HashMap;

use super::Expect;
use super::filter::{Lit, Node, Op, Quant};
use crate::packet::fields::{Field, FieldType, FrameView, Value};

/// Below this many expectations, testing each `match` is as quick as
/// looking candidates up (and the hot path of a small set is unchanged).
pub(super) const MIN_EXPECTATIONS: usize = 16;

/// The expectations filed by the values one field must have.
struct Keyed {
    field: &'static Field,
    by_value: HashMap<u64, Vec<usize>>,
}

/// The index of a set's `match` predicates.
pub(super) struct Dispatch {
    /// Expectations tested on every frame: no integer equality to file them by.
    always: Vec<usize>,
    keyed: Vec<Keyed>,
    /// Reused from frame to frame.
    candidates: Vec<usize>,
}

impl Dispatch {
    /// The index of `expects`, or `None` when it would not pay: a small
    /// set, or one where no `match` can be filed by a value.
    pub(super) fn new(expects: &[Expect]) -> Option<Dispatch> {
        if expects.len() < MIN_EXPECTATIONS {
            return None;
        }
        let mut d = Dispatch {
            always: Vec::new(),
            keyed: Vec::new(),
            candidates: Vec::new(),
        };
        for (i, e) in expects.iter().enumerate() {
            let key = e.matches.conjuncts().into_iter().find_map(equality_key);
            let Some((field, values)) = key else {
                d.always.push(i);
                continue;
            };
            let at = match d.keyed.iter().position(|k| k.field.name == field.name) {
                Some(at) => at,
                None => {
                    d.keyed.push(Keyed {
                        field,
                        by_value: HashMap::new(),
                    });
                    d.keyed.len() - 1
                }
            };
            for v in values {
                d.keyed[at].by_value.entry(v).or_default().push(i);
            }
        }
        (!d.keyed.is_empty()).then_some(d)
    }

    /// Appends to `claims`, in file order, the expectations of `expects`
    /// (the set this index was made of) whose `match` the frame satisfies.
    pub(super) fn claims(
        &mut self,
        expects: &[Expect],
        view: &FrameView<'_, '_>,
        claims: &mut Vec<usize>,
    ) {
        let filed = &mut self.candidates;
        filed.clear();
        for k in &self.keyed {
            // Every value of the field in the frame (each layer's): an
            // equality holds when any of them is equal.
            for value in (0..).map_while(|i| k.field.get(view, i)) {
                let key = match value {
                    Value::Uint(n) => n,
                    Value::Bool(b) => u64::from(b),
                    _ => continue,
                };
                if let Some(list) = k.by_value.get(&key) {
                    filed.extend_from_slice(list);
                }
            }
        }
        filed.sort_unstable();
        filed.dedup();
        // Both lists are in file order, and no expectation is in both.
        let (mut a, mut b) = (0, 0);
        while a < self.always.len() || b < filed.len() {
            let i = match (self.always.get(a), filed.get(b)) {
                (Some(&x), Some(&y)) if x < y => {
                    a += 1;
                    x
                }
                (Some(&x), None) => {
                    a += 1;
                    x
                }
                (_, Some(&y)) => {
                    b += 1;
                    y
                }
                (None, None) => break,
            };
            if expects[i].matches.matches(view) {
                claims.push(i);
            }
        }
    }
}

/// The integer field and values a conjunct needs, when it is `field == N`
/// or `field in {N, ...}` on an integer field (or a flag).
fn equality_key(n: &Node) -> Option<(&'static Field, Vec<u64>)> {
    let integer = |f: &Field| matches!(f.ty, FieldType::Uint | FieldType::Bool);
    // A flag's constant is a Lit::Bool; a negative constant is no key.
    let int = |l: &Lit| match l {
        Lit::Int(v) => u64::try_from(*v).ok(),
        Lit::Bool(b) => Some(u64::from(*b)),
        _ => None,
    };
    match n {
        Node::Cmp(f, Quant::Any, Op::Eq, lit) if integer(f) => Some((*f, vec![int(lit)?])),
        Node::In(f, lits) if integer(f) => {
            let values = lits.iter().map(int).collect::<Option<Vec<u64>>>()?;
            Some((*f, values))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::expect::Filter;

    fn key(text: &str) -> Option<(&'static str, Vec<u64>)> {
        let f = Filter::parse(text).unwrap();
        f.conjuncts()
            .into_iter()
            .find_map(equality_key)
            .map(|(f, v)| (f.name, v))
    }

    #[test]
    fn a_match_is_filed_by_the_integer_its_first_equality_needs() {
        assert_eq!(key("frame.number == 7"), Some(("frame.number", vec![7])));
        assert_eq!(
            key("ip.src == 127.0.0.1 && udp.srcport in {53, 7456} && udp.dstport == 9"),
            Some(("udp.srcport", vec![53, 7456]))
        );
        assert_eq!(key("ip.flags.df == 1"), Some(("ip.flags.df", vec![1])));
    }

    #[test]
    fn a_match_no_equality_needs_is_tested_on_every_frame() {
        for text in [
            "udp",
            "udp.dstport != 7456",
            "udp.dstport >= 7456",
            "udp.dstport == 1 || udp.dstport == 2",
            "!(udp.dstport == 1)",
            "ip.src == 127.0.0.1",
            "data.text == \"Hello Lola\"",
        ] {
            assert_eq!(key(text), None, "{text}");
        }
    }
}
