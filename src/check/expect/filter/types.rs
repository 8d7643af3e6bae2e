//! The parsed, type-checked predicate: [`Node`]s of logic over [`Test`]s of
//! [`Expr`]essions.

use std::net::IpAddr;

use crate::packet::fields::Field;

/// A comparison, before its quantifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

/// Over which pairs of values a test must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quant {
    /// Any pair (`==`, `!==`, `<`, …, `any`).
    Any,
    /// Every pair, and there is one (`!=`, `===`, `all`).
    All,
}

/// A constant, already read as the type it is compared with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lit {
    /// An integer (also a checksum status: 0 Bad, 1 Good, 2 Unverified, 3 Not present, 4 Illegal).
    Int(i64),
    /// A flag.
    Bool(bool),
    /// An address block: the address and prefix length (32 or 128 for one address).
    Net(IpAddr, u8),
    /// An Ethernet address.
    Mac([u8; 6]),
    /// Bytes (a string literal is its UTF-8 bytes, for bytes and text alike).
    Bytes(Vec<u8>),
}

/// A slice or layer range, as Wireshark writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// `[i:n]`: `n` from offset `i` (negative: from the end).
    Len(i64, i64),
    /// `[i-j]`: offsets `i` to `j`, both included.
    To(i64, i64),
    /// `[i:]`: from `i` to the end.
    ToEnd(i64),
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// `&`
    BitAnd,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

/// A function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `len(x)`: the length in bytes of each value.
    Len,
    /// `count(field)`: how many values.
    Count,
    /// `lower(text)`
    Lower,
    /// `upper(text)`
    Upper,
    /// `string(x)`: a number or address as text.
    String,
    /// `max(a, …)`
    Max,
    /// `min(a, …)`
    Min,
    /// `abs(x)`
    Abs,
}

/// Something with values in a frame.
#[derive(Clone, Debug)]
pub enum Expr {
    /// A field's values, of the layers listed (`ip.src#2`) or all.
    Field(&'static Field, Option<Box<[Range]>>),
    /// A constant.
    Const(Lit),
    /// Bytes (or characters of text) of each value.
    Slice(Box<Expr>, Box<[Range]>),
    /// A function of its arguments.
    Call(Func, Vec<Expr>),
    /// Arithmetic on each pair of values.
    Arith(Arith, Box<Expr>, Box<Expr>),
    /// Each value negated.
    Neg(Box<Expr>),
}

/// A member of a set: one value, or a range of them (both ends included).
#[derive(Clone, Debug)]
pub enum Member {
    /// `x`
    One(Expr),
    /// `a..b`
    Span(Expr, Expr),
}

/// What a [`Test`] checks.
#[derive(Clone, Debug)]
pub enum TestKind {
    /// A comparison of two expressions' values.
    Cmp(Expr, Op, Expr),
    /// The left's bytes (or text) contain the right's.
    Contains(Expr, Expr),
    /// The left's text matches the regular expression.
    Matches(Expr, regex::bytes::Regex),
    /// A value is in the set.
    In(Expr, Vec<Member>),
    /// A value exists (a layered field, a slice in range).
    Exists(Expr),
    /// A value is not zero (`tcp.flags & 0x02`).
    NonZero(Expr),
}

/// A test over the values of expressions, under a quantifier.
#[derive(Clone, Debug)]
pub struct Test {
    /// Over which values.
    pub quant: Quant,
    /// What it checks.
    pub kind: TestKind,
}

/// A predicate, parsed and type-checked.
#[derive(Clone, Debug)]
pub enum Node {
    /// All hold.
    And(Vec<Node>),
    /// One holds.
    Or(Vec<Node>),
    /// An odd number hold (`a ^^ b ^^ c`).
    Xor(Vec<Node>),
    /// It does not hold.
    Not(Box<Node>),
    /// The field is present.
    Exists(&'static Field),
    /// A field compared with a constant (the common case, read without
    /// allocating): `==` is `(Any, Eq)`, `!=` is `(All, Ne)`.
    Cmp(&'static Field, Quant, Op, Lit),
    /// `field in {constants}`.
    In(&'static Field, Vec<Lit>),
    /// Any other test.
    Test(Box<Test>),
}

impl Node {
    /// Every field the node reads, once each, in order of appearance.
    pub fn fields(&self) -> Vec<&'static Field> {
        let mut out: Vec<&'static Field> = Vec::new();
        let mut add = |f: &'static Field| {
            if !out.iter().any(|g| g.name == f.name) {
                out.push(f);
            }
        };
        let mut nodes = vec![self];
        let mut exprs: Vec<&Expr> = Vec::new();
        while let Some(n) = nodes.pop() {
            match n {
                Node::And(all) | Node::Or(all) | Node::Xor(all) => nodes.extend(all.iter().rev()),
                Node::Not(a) => nodes.push(a),
                Node::Exists(f) | Node::Cmp(f, ..) | Node::In(f, _) => add(f),
                Node::Test(t) => {
                    match &t.kind {
                        TestKind::Cmp(a, _, b) | TestKind::Contains(a, b) => {
                            exprs.extend([a, b]);
                        }
                        TestKind::Matches(a, _) | TestKind::Exists(a) | TestKind::NonZero(a) => {
                            exprs.push(a);
                        }
                        TestKind::In(a, members) => {
                            exprs.push(a);
                            for m in members {
                                match m {
                                    Member::One(x) => exprs.push(x),
                                    Member::Span(x, y) => exprs.extend([x, y]),
                                }
                            }
                        }
                    }
                    // Depth first, in order of appearance.
                    exprs.reverse();
                    while let Some(e) = exprs.pop() {
                        match e {
                            Expr::Field(f, _) => add(f),
                            Expr::Const(_) => {}
                            Expr::Slice(x, _) | Expr::Neg(x) => exprs.push(x),
                            Expr::Call(_, args) => exprs.extend(args.iter().rev()),
                            Expr::Arith(_, x, y) => exprs.extend([&**y, &**x]),
                        }
                    }
                    exprs.clear();
                }
            }
        }
        out
    }
}
