//! Predicates: Wireshark's display-filter language over the fields of
//! [`crate::packet::fields`].
//!
//! The grammar is Wireshark's (`epan/dfilter/grammar.lemon`), from the
//! loosest binding to the tightest:
//!
//! ```text
//! expr     := expr ("||" | "or") expr | expr ("^^" | "xor") expr
//!           | expr ("&&" | "and") expr | ("!" | "not") expr | "(" expr ")"
//!           | ["any" | "all"] relation | arith
//! relation := arith CMP arith { CMP arith }         a < b <= c: a < b && b <= c
//!           | entity "contains" entity | entity ("matches" | "~") STRING
//!           | FIELD ["not"] "in" "{" member { "," member } "}"
//! CMP      := "==" | "!=" | "===" | "!==" | "<" | "<=" | ">" | ">="
//!           | eq | ne | all_eq | any_ne | any_eq | all_ne | lt | le | gt | ge
//! member   := ["-"] entity [".." ["-"] entity]
//! arith    := arith ("&" | "+" | "-" | "*" | "/" | "%") arith | "-" entity | entity
//! entity   := FIELD ["#" LAYER] | entity "[" RANGES "]" | FUNC "(" arith {"," arith} ")"
//!           | "{" arith "}" | LITERAL
//! LITERAL  := 42 | 052 (octal) | 0x2a | 0b101010 | 'c' | "text\x41\101\n" | r"raw"
//!           | 127.0.0.1 | 10.0.0.0/8 | ::1 | 48:65:6c | 48656c | 00:11:22:33:44:55
//!           | 0011.2233.4455 | True | false | "Good"
//! ```
//!
//! `&&` binds tighter than `^^`, which binds tighter than `||`, as in
//! Wireshark. A literal is read by the type of what it is compared with; a
//! comparison holds when any pair of values does (`udp.port == 7456`: either
//! port), `!=` when all differ, `===` when all are equal, `!==` when any
//! differs; a test of a field the frame does not have is false.
//!
//! The tree has no depth a file can grow without bound: `&&`, `||` and `^^`
//! chains are flat lists, runs of `!` fold, and nesting (parentheses,
//! braces, functions, slices, arithmetic) stops at [`MAX_DEPTH`] with an
//! error at its column.

mod eval;
mod lex;
mod literal;
mod parse;
mod types;
mod typing;

use std::fmt;

use crate::packet::fields::{Field, FrameView, Value};

pub use eval::eval;
pub use types::{Arith, Expr, Func, Lit, Member, Node, Op, Quant, Range, Test, TestKind};

/// How deep parentheses, braces, function calls, slices and arithmetic may
/// nest (Wireshark's parser stops near 100 parentheses).
pub const MAX_DEPTH: usize = 64;

/// A predicate that could not be read: what is wrong, at which column
/// (1-based, in characters) of the predicate's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// 1-based column in the predicate text.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

/// A parsed predicate with its text.
///
/// ```
/// use lola::check::expect::Filter;
/// let f = Filter::parse("udp.dstport == 7456 && data.text == \"Hello Lola\"").unwrap();
/// assert_eq!(f.text(), "udp.dstport == 7456 && data.text == \"Hello Lola\"");
/// let err = Filter::parse("udp.dstprot == 7456").unwrap_err();
/// assert_eq!((err.column, err.message.as_str()), (1, "unknown field udp.dstprot; did you mean udp.dstport?"));
/// let err = Filter::parse("ip.ttl == \"x\"").unwrap_err();
/// assert_eq!(err.column, 11);
/// let err = Filter::parse("ip.ttl == 300").unwrap_err();
/// assert_eq!(err.message, "300 is too big for ip.ttl, at most 255");
/// ```
#[derive(Clone, Debug)]
pub struct Filter {
    text: String,
    node: Node,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        self.text == other.text
    }
}

impl Eq for Filter {}

/// Three-valued truth, for deciding a predicate from a frame's ports and
/// addresses alone (the fast path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    /// Holds.
    True,
    /// Does not hold.
    False,
    /// Needs more of the frame than was read.
    Unknown,
}

impl Filter {
    /// Parses and type-checks `text`.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = lex::lex(text)?;
        let node = parse::parse(tokens, text.chars().count() + 1)?;
        Ok(Filter {
            text: text.to_string(),
            node,
        })
    }

    /// The predicate as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed predicate.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// True when the frame satisfies the predicate.
    pub fn matches(&self, v: &FrameView<'_, '_>) -> bool {
        eval(&self.node, v)
    }

    /// Decides the predicate with `known(field)` giving `Some(values)` for
    /// the fields known so far and `None` for the others; the forms beyond
    /// a field compared with constants are [`Truth::Unknown`].
    pub fn decide(&self, known: &dyn Fn(&Field, usize) -> Option<Option<Value<'static>>>) -> Truth {
        eval::decide(&self.node, known)
    }

    /// Every field the predicate reads, once each, in order of appearance.
    pub fn fields(&self) -> Vec<&'static Field> {
        self.node.fields()
    }

    /// The top-level conjuncts (`a && b && c` → `[a, b, c]`).
    pub fn conjuncts(&self) -> Vec<&Node> {
        self.conjunct_slice().iter().collect()
    }

    /// The top-level conjuncts, borrowed (no allocation: the evidence asks
    /// for them on every frame).
    pub fn conjunct_slice(&self) -> &[Node] {
        match &self.node {
            Node::And(all) => all,
            other => std::slice::from_ref(other),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn err(column: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        column,
        message: message.into(),
    }
}

/// `s` cut to at most 40 characters, for messages that quote the input.
fn excerpt(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX - 1).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests;
