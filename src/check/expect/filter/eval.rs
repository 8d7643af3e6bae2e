//! A [`Node`] against a frame: Wireshark's meaning of each test over every
//! value of its fields (`epan/dfilter/dfvm.c`).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

use super::Truth;
use super::literal::status_number;
use super::types::{Arith, Expr, Func, Lit, Member, Node, Op, Quant, Range, TestKind};
use crate::packet::fields::{Field, FieldType, FrameView, Value};

/// More values than any field has: a bound on the loops over them.
const MAX_VALUES: usize = 1 << 16;

/// Evaluates a node against a frame.
pub fn eval(n: &Node, v: &FrameView<'_, '_>) -> bool {
    match n {
        Node::And(all) => all.iter().all(|n| eval(n, v)),
        Node::Or(all) => all.iter().any(|n| eval(n, v)),
        Node::Xor(all) => all.iter().fold(false, |acc, n| acc ^ eval(n, v)),
        Node::Not(a) => !eval(a, v),
        Node::Exists(f) => f.get(v, 0).is_some(),
        Node::Cmp(f, q, op, lit) => cmp_field(|i| own_value(f, v, i), *q, *op, lit),
        Node::In(f, lits) => in_field(|i| own_value(f, v, i), lits),
        Node::Test(t) => {
            let mut left = Vec::new();
            values(first(&t.kind), v, &mut left);
            if left.is_empty() {
                return false;
            }
            let q = t.quant;
            match &t.kind {
                TestKind::Exists(_) => true,
                TestKind::NonZero(_) => quantified(q, &left, |x| match x {
                    V::Int(n) => *n != 0,
                    V::Bytes(_) | V::Proto(..) => own(x).iter().any(|&b| b != 0),
                    _ => false,
                }),
                TestKind::Cmp(_, op, b) => {
                    let mut right = Vec::new();
                    values(b, v, &mut right);
                    !right.is_empty()
                        && quantified(q, &left, |x| {
                            quantified(q, &right, |y| holds(compare(x, y), *op))
                        })
                }
                TestKind::Contains(_, b) => {
                    let mut right = Vec::new();
                    values(b, v, &mut right);
                    !right.is_empty()
                        && quantified(q, &left, |x| {
                            quantified(q, &right, |y| contains(&bytes(x), &bytes(y)))
                        })
                }
                TestKind::Matches(_, re) => quantified(q, &left, |x| re.is_match(&bytes(x))),
                TestKind::In(_, members) => {
                    let members: Vec<(Vec<V<'_>>, Option<Vec<V<'_>>>)> = members
                        .iter()
                        .map(|m| match m {
                            Member::One(e) => (collect(e, v), None),
                            Member::Span(lo, hi) => (collect(lo, v), Some(collect(hi, v))),
                        })
                        .collect();
                    quantified(q, &left, |x| {
                        members.iter().any(|(lo, hi)| match hi {
                            None => lo.iter().any(|y| holds(compare(x, y), Op::Eq)),
                            Some(hi) => {
                                lo.iter().any(|l| holds(compare(x, l), Op::Ge))
                                    && hi.iter().any(|h| holds(compare(x, h), Op::Le))
                            }
                        })
                    })
                }
            }
        }
    }
}

/// Value `i` of field `f` as a comparison sees it: a protocol's own bytes
/// only (its header: `udp == ...` is 8 bytes, as in Wireshark, where the
/// protocol's item covers its own bytes while `contains` searches what it
/// carries too).
fn own_value<'a>(f: &Field, v: &FrameView<'_, 'a>, i: usize) -> Option<Value<'a>> {
    let x = f.get(v, i)?;
    match x {
        Value::Bytes(b) if f.ty == FieldType::Protocol => {
            let n = f.own_len(v, i).unwrap_or(b.len()).min(b.len());
            Some(Value::Bytes(&b[..n]))
        }
        x => Some(x),
    }
}

/// A field's value `i`, if known.
type Get<'g> = &'g dyn Fn(usize) -> Option<Value<'static>>;

/// Decides `n` from the fields `known` gives (see [`super::Filter::decide`]).
pub(super) fn decide(
    n: &Node,
    known: &dyn Fn(&Field, usize) -> Option<Option<Value<'static>>>,
) -> Truth {
    let leaf = |f: &Field, test: &dyn Fn(Get<'_>) -> bool| {
        if known(f, 0).is_none() {
            return Truth::Unknown;
        }
        if test(&|i| known(f, i).flatten()) {
            Truth::True
        } else {
            Truth::False
        }
    };
    match n {
        Node::And(all) => {
            let mut out = Truth::True;
            for n in all {
                match decide(n, known) {
                    Truth::False => return Truth::False,
                    Truth::Unknown => out = Truth::Unknown,
                    Truth::True => {}
                }
            }
            out
        }
        Node::Or(all) => {
            let mut out = Truth::False;
            for n in all {
                match decide(n, known) {
                    Truth::True => return Truth::True,
                    Truth::Unknown => out = Truth::Unknown,
                    Truth::False => {}
                }
            }
            out
        }
        Node::Xor(all) => {
            let mut odd = false;
            for n in all {
                match decide(n, known) {
                    Truth::Unknown => return Truth::Unknown,
                    t => odd ^= t == Truth::True,
                }
            }
            if odd { Truth::True } else { Truth::False }
        }
        Node::Not(a) => match decide(a, known) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        },
        Node::Exists(f) => leaf(f, &|get| get(0).is_some()),
        Node::Cmp(f, q, op, lit) => leaf(f, &|get| cmp_field(get, *q, *op, lit)),
        Node::In(f, lits) => leaf(f, &|get| in_field(get, lits)),
        Node::Test(_) => Truth::Unknown,
    }
}

/// The expression a test reads first.
fn first(k: &TestKind) -> &Expr {
    match k {
        TestKind::Cmp(a, ..)
        | TestKind::Contains(a, _)
        | TestKind::Matches(a, _)
        | TestKind::In(a, _)
        | TestKind::Exists(a)
        | TestKind::NonZero(a) => a,
    }
}

/// A field's values (from `get`) compared with a constant, without allocating.
fn cmp_field<'a>(get: impl Fn(usize) -> Option<Value<'a>>, q: Quant, op: Op, lit: &Lit) -> bool {
    let lit = constant(lit);
    let mut seen = false;
    for i in 0..MAX_VALUES {
        let Some(x) = get(i) else { break };
        let ok = holds(compare(&value(x), &lit), op);
        match q {
            Quant::Any if ok => return true,
            Quant::All if !ok => return false,
            _ => seen = true,
        }
    }
    q == Quant::All && seen
}

fn in_field<'a>(get: impl Fn(usize) -> Option<Value<'a>>, lits: &[Lit]) -> bool {
    for i in 0..MAX_VALUES {
        let Some(x) = get(i) else { break };
        let x = value(x);
        if lits
            .iter()
            .any(|l| holds(compare(&x, &constant(l)), Op::Eq))
        {
            return true;
        }
    }
    false
}

fn quantified<T>(q: Quant, xs: &[T], pred: impl Fn(&T) -> bool) -> bool {
    match q {
        Quant::Any => xs.iter().any(pred),
        Quant::All => !xs.is_empty() && xs.iter().all(pred),
    }
}

/// A value while a test is evaluated.
#[derive(Clone, Debug)]
enum V<'a> {
    Int(i64),
    Bool(bool),
    Addr(IpAddr),
    /// A constant address block.
    Net(IpAddr, u8),
    Mac([u8; 6]),
    Bytes(Cow<'a, [u8]>),
    /// A protocol: every byte from its start (what `contains` and
    /// `matches` search) and how many of them are its own (what `==`,
    /// `len()` and slices see).
    Proto(Cow<'a, [u8]>, usize),
    Str(Cow<'a, str>),
}

fn value(x: Value<'_>) -> V<'_> {
    match x {
        Value::Uint(n) => V::Int(i64::try_from(n).unwrap_or(i64::MAX)),
        Value::Bool(b) => V::Bool(b),
        Value::Addr(a) => V::Addr(a),
        Value::Mac(m) => V::Mac(m),
        Value::Bytes(b) => V::Bytes(Cow::Borrowed(b)),
        Value::Text(t) => V::Str(t),
        Value::Status(s) => V::Int(status_number(s)),
    }
}

fn constant(l: &Lit) -> V<'_> {
    match l {
        Lit::Int(n) => V::Int(*n),
        Lit::Bool(b) => V::Bool(*b),
        Lit::Net(a, p) => V::Net(*a, *p),
        Lit::Mac(m) => V::Mac(*m),
        Lit::Bytes(b) => V::Bytes(Cow::Borrowed(b)),
    }
}

/// The bytes `contains` and `matches` search (all of a protocol's).
fn bytes<'b>(x: &'b V<'_>) -> Cow<'b, [u8]> {
    match x {
        V::Bytes(b) | V::Proto(b, _) => Cow::Borrowed(b),
        V::Str(s) => Cow::Borrowed(s.as_bytes()),
        V::Mac(m) => Cow::Borrowed(&m[..]),
        V::Int(n) => Cow::Owned(n.to_string().into_bytes()),
        V::Bool(b) => Cow::Owned(vec![u8::from(*b)]),
        V::Addr(a) | V::Net(a, _) => Cow::Owned(a.to_string().into_bytes()),
    }
}

/// The bytes a comparison, `len()` and a slice see (a protocol's own).
fn own<'b>(x: &'b V<'_>) -> Cow<'b, [u8]> {
    match x {
        V::Proto(b, n) => Cow::Borrowed(&b[..(*n).min(b.len())]),
        other => bytes(other),
    }
}

fn masked(a: IpAddr, prefix: u8) -> Option<u128> {
    match a {
        IpAddr::V4(a) => {
            let prefix = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            Some(u128::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let prefix = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            Some(u128::from(a) & mask)
        }
    }
}

fn compare(x: &V<'_>, y: &V<'_>) -> Option<Ordering> {
    Some(match (x, y) {
        (V::Int(a), V::Int(b)) => a.cmp(b),
        (V::Bool(a), V::Bool(b)) => a.cmp(b),
        (V::Addr(a), V::Addr(b)) if a.is_ipv4() == b.is_ipv4() => {
            masked(*a, 128)?.cmp(&masked(*b, 128)?)
        }
        (V::Addr(a), V::Net(n, p)) if a.is_ipv4() == n.is_ipv4() => {
            masked(*a, *p)?.cmp(&masked(*n, *p)?)
        }
        (V::Net(n, p), V::Addr(a)) if a.is_ipv4() == n.is_ipv4() => {
            masked(*n, *p)?.cmp(&masked(*a, *p)?)
        }
        (V::Mac(a), V::Mac(b)) => a.cmp(b),
        // Text orders as text; bytes (ftype-bytes.c) by length first.
        (V::Str(_), V::Bytes(_) | V::Proto(..) | V::Str(_))
        | (V::Bytes(_) | V::Proto(..), V::Str(_)) => own(x).cmp(&own(y)),
        (V::Bytes(_) | V::Proto(..) | V::Mac(_), V::Bytes(_) | V::Proto(..) | V::Mac(_)) => {
            let (a, b) = (own(x), own(y));
            a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
        }
        _ => return None,
    })
}

fn holds(ord: Option<Ordering>, op: Op) -> bool {
    let Some(ord) = ord else { return false };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn collect<'x>(e: &'x Expr, v: &FrameView<'_, 'x>) -> Vec<V<'x>> {
    let mut out = Vec::new();
    values(e, v, &mut out);
    out
}

/// Every value of `e` in the frame, appended to `out`.
fn values<'x>(e: &'x Expr, v: &FrameView<'_, 'x>, out: &mut Vec<V<'x>>) {
    match e {
        Expr::Const(l) => out.push(constant(l)),
        Expr::Field(f, None) if f.ty == FieldType::Protocol => {
            out.extend((0..MAX_VALUES).map_while(|i| proto(f, v, i)));
        }
        Expr::Field(f, None) => {
            out.extend((0..MAX_VALUES).map_while(|i| f.get(v, i)).map(value));
        }
        Expr::Field(f, Some(layers)) => {
            let n = (0..MAX_VALUES).map_while(|i| f.get(v, i)).count();
            let top = (0..n).map(|i| f.layer(v, i)).max().unwrap_or(0) as i64;
            for i in 0..n {
                let layer = f.layer(v, i) as i64;
                if !layers.iter().any(|r| in_layers(*r, layer, top)) {
                    continue;
                }
                let x = if f.ty == FieldType::Protocol {
                    proto(f, v, i)
                } else {
                    f.get(v, i).map(value)
                };
                out.extend(x);
            }
        }
        Expr::Slice(x, ranges) => {
            for x in collect(x, v) {
                if let Some(s) = slice(x, ranges) {
                    out.push(s);
                }
            }
        }
        Expr::Neg(x) => {
            for x in collect(x, v) {
                if let V::Int(n) = x
                    && let Some(n) = n.checked_neg()
                {
                    out.push(V::Int(n));
                }
            }
        }
        Expr::Arith(op, x, y) => {
            let (xs, ys) = (collect(x, v), collect(y, v));
            for a in &xs {
                for b in &ys {
                    if let Some(r) = arith(*op, a, b) {
                        out.push(r);
                    }
                }
            }
        }
        Expr::Call(func, args) => call(*func, args, v, out),
    }
}

/// Value `i` of protocol field `f`: its bytes and how many are its own.
fn proto<'x>(f: &Field, v: &FrameView<'_, 'x>, i: usize) -> Option<V<'x>> {
    let Value::Bytes(b) = f.get(v, i)? else {
        return None;
    };
    Some(V::Proto(
        Cow::Borrowed(b),
        f.own_len(v, i).unwrap_or(b.len()),
    ))
}

fn arith<'x>(op: Arith, a: &V<'x>, b: &V<'x>) -> Option<V<'x>> {
    match (a, b) {
        (V::Int(a), V::Int(b)) => Some(V::Int(match op {
            Arith::BitAnd => a & b,
            Arith::Add => a.checked_add(*b)?,
            Arith::Sub => a.checked_sub(*b)?,
            Arith::Mul => a.checked_mul(*b)?,
            Arith::Div => a.checked_div(*b)?,
            Arith::Rem => a.checked_rem(*b)?,
        })),
        (V::Bytes(_) | V::Proto(..), V::Bytes(_) | V::Proto(..)) if op == Arith::BitAnd => {
            Some(V::Bytes(Cow::Owned(
                own(a)
                    .iter()
                    .zip(own(b).iter())
                    .map(|(x, y)| x & y)
                    .collect(),
            )))
        }
        _ => None,
    }
}

fn call<'x>(func: Func, args: &'x [Expr], v: &FrameView<'_, 'x>, out: &mut Vec<V<'x>>) {
    let Some(arg) = args.first() else { return };
    let xs = collect(arg, v);
    match func {
        Func::Count => {
            if !xs.is_empty() {
                out.push(V::Int(xs.len() as i64));
            }
        }
        Func::Len => {
            let width = match arg {
                Expr::Field(f, _) => i64::from(f.bits().div_ceil(8)),
                _ => 8,
            };
            out.extend(xs.iter().map(|x| {
                V::Int(match x {
                    V::Bytes(b) => b.len() as i64,
                    V::Proto(b, n) => (*n).min(b.len()) as i64,
                    V::Str(s) => s.len() as i64,
                    V::Mac(_) => 6,
                    V::Addr(IpAddr::V4(_)) | V::Net(IpAddr::V4(_), _) => 4,
                    V::Addr(IpAddr::V6(_)) | V::Net(IpAddr::V6(_), _) => 16,
                    V::Int(_) | V::Bool(_) => width,
                })
            }));
        }
        Func::Lower | Func::Upper => out.extend(xs.into_iter().map(|x| match x {
            V::Str(s) if func == Func::Lower => V::Str(Cow::Owned(s.to_ascii_lowercase())),
            V::Str(s) => V::Str(Cow::Owned(s.to_ascii_uppercase())),
            other => other,
        })),
        Func::String => out.extend(xs.into_iter().map(|x| {
            V::Str(Cow::Owned(match x {
                V::Mac(m) => m
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
                other => String::from_utf8_lossy(&bytes(&other)).into_owned(),
            }))
        })),
        Func::Abs => out.extend(xs.into_iter().filter_map(|x| match x {
            V::Int(n) => n.checked_abs().map(V::Int),
            _ => None,
        })),
        Func::Max | Func::Min => {
            let mut all = xs;
            for a in &args[1..] {
                values(a, v, &mut all);
            }
            let best = all.into_iter().reduce(|a, b| {
                let ord = compare(&b, &a).unwrap_or(Ordering::Equal);
                let better = if func == Func::Max {
                    ord == Ordering::Greater
                } else {
                    ord == Ordering::Less
                };
                if better { b } else { a }
            });
            out.extend(best);
        }
    }
}

/// The byte (or character) span of `r` in a value of length `n`.
fn cut(n: i64, r: Range) -> Option<(usize, usize)> {
    let at = |i: i64| if i < 0 { n + i } else { i };
    let (s, e) = match r {
        Range::Len(i, len) => (at(i), at(i) + len),
        Range::To(i, j) => (at(i), at(j) + 1),
        Range::ToEnd(i) => (at(i), n),
    };
    (s >= 0 && s <= e && e <= n).then_some((s as usize, e as usize))
}

fn in_layers(r: Range, layer: i64, top: i64) -> bool {
    let at = |i: i64| if i < 0 { top + 1 + i } else { i };
    match r {
        Range::Len(i, len) => (at(i)..at(i) + len).contains(&layer),
        Range::To(i, j) => (at(i)..=at(j)).contains(&layer),
        Range::ToEnd(i) => layer >= at(i),
    }
}

fn slice<'x>(x: V<'x>, ranges: &[Range]) -> Option<V<'x>> {
    match x {
        V::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            let mut out = String::new();
            for r in ranges {
                let (a, b) = cut(chars.len() as i64, *r)?;
                out.extend(&chars[a..b]);
            }
            Some(V::Str(Cow::Owned(out)))
        }
        V::Bytes(Cow::Borrowed(b)) | V::Proto(Cow::Borrowed(b), _) if ranges.len() == 1 => {
            let b = match &x {
                V::Proto(_, n) => &b[..(*n).min(b.len())],
                _ => b,
            };
            let (a, e) = cut(b.len() as i64, ranges[0])?;
            Some(V::Bytes(Cow::Borrowed(&b[a..e])))
        }
        other => {
            let b = own(&other);
            let mut out = Vec::new();
            for r in ranges {
                let (a, e) = cut(b.len() as i64, *r)?;
                out.extend_from_slice(&b[a..e]);
            }
            Some(V::Bytes(Cow::Owned(out)))
        }
    }
}
