//! Tokens to a type-checked [`Node`]: Wireshark's grammar
//! (`epan/dfilter/grammar.lemon`) and its semantic checks (`semcheck.c`).
//!
//! Logic and arithmetic are read by precedence climbing: a chain of
//! operators of one level is a loop, so only nesting recurses, and nesting
//! stops at [`MAX_DEPTH`].

use super::MAX_DEPTH;
use super::lex::{Kind, Token};
use super::literal::{Raw, Ty};
use super::types::{Arith, Expr, Func, Lit, Member, Node, Op, Quant, Test, TestKind};
use super::typing::{At, P, build, describe, name};
use super::{FilterError, err, excerpt};
use crate::packet::fields;

pub(super) fn parse(tokens: Vec<Token>, end: usize) -> Result<Node, FilterError> {
    let mut p = Parser {
        tokens,
        at: 0,
        end,
        nest: 0,
    };
    let node = p.logical(0)?;
    if let Some(t) = p.tokens.get(p.at) {
        return Err(err(t.column, format!("unexpected {}", t.kind)));
    }
    Ok(node)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// The column just past the text.
    end: usize,
    /// How many parentheses, braces and calls are open.
    nest: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.at).map(|t| &t.kind)
    }

    fn peek2(&self) -> Option<&Kind> {
        self.tokens.get(self.at + 1).map(|t| &t.kind)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |t| t.column)
    }

    fn expected(&self, what: &str) -> FilterError {
        match self.tokens.get(self.at) {
            Some(t) => err(t.column, format!("expected {what}, found {}", t.kind)),
            None => err(self.end, format!("expected {what} at the end")),
        }
    }

    fn expect(&mut self, kind: &Kind, what: &str) -> Result<(), FilterError> {
        if self.peek() != Some(kind) {
            return Err(self.expected(what));
        }
        self.at += 1;
        Ok(())
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.nest += 1;
        if self.nest > MAX_DEPTH {
            return Err(err(
                self.column(),
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn at(&self, p: P, column: usize, depth: usize) -> Result<At, FilterError> {
        if depth > MAX_DEPTH {
            return Err(err(
                column,
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(At { p, column, depth })
    }

    /// `a || b`, `a ^^ b`, `a && b`: tests joined at or above `min`.
    fn logical(&mut self, min: u8) -> Result<Node, FilterError> {
        let mut left = self.unary()?;
        loop {
            let bp = match self.peek() {
                Some(Kind::Or) => 1,
                Some(Kind::Xor) => 2,
                Some(Kind::And) => 3,
                _ => break,
            };
            if bp < min {
                break;
            }
            self.at += 1;
            if self.peek().is_none() {
                return Err(self.expected("a test"));
            }
            let right = self.logical(bp + 1)?;
            left = match (bp, left) {
                (1, Node::Or(mut all)) => {
                    all.push(right);
                    Node::Or(all)
                }
                (2, Node::Xor(mut all)) => {
                    all.push(right);
                    Node::Xor(all)
                }
                (3, Node::And(mut all)) => {
                    all.push(right);
                    Node::And(all)
                }
                (1, left) => Node::Or(vec![left, right]),
                (2, left) => Node::Xor(vec![left, right]),
                (_, left) => Node::And(vec![left, right]),
            };
        }
        Ok(left)
    }

    /// A run of `!` (folded: `!!a` is `a`) before a test.
    fn unary(&mut self) -> Result<Node, FilterError> {
        let mut nots = 0usize;
        while self.peek() == Some(&Kind::Not) {
            self.at += 1;
            nots += 1;
        }
        let node = self.primary()?;
        Ok(if nots % 2 == 1 {
            Node::Not(Box::new(node))
        } else {
            node
        })
    }

    fn primary(&mut self) -> Result<Node, FilterError> {
        match self.peek() {
            Some(Kind::Open) => {
                self.enter()?;
                self.at += 1;
                let inner = self.logical(0)?;
                self.expect(&Kind::Close, "')'")?;
                self.nest -= 1;
                Ok(inner)
            }
            Some(Kind::Any) => {
                self.at += 1;
                self.relation(Some(Quant::Any))
            }
            Some(Kind::All) => {
                self.at += 1;
                self.relation(Some(Quant::All))
            }
            None => Err(self.expected("a field name, '!' or '('")),
            _ => self.relation(None),
        }
    }

    /// A comparison, `contains`, `matches`, `in`, or a bare test; `quant`
    /// after `any`/`all`, which need one of the first four.
    fn relation(&mut self, quant: Option<Quant>) -> Result<Node, FilterError> {
        let left = self.arith(0)?;
        // Only small tokens are cloned: a chain of 100,000 tests reads fast.
        let next = match self.peek() {
            Some(Kind::Word(_) | Kind::Str(_) | Kind::Ranges(_) | Kind::Layer(_)) => None,
            other => other.cloned(),
        };
        match next {
            Some(Kind::Cmp(..)) => {
                let mut operands = vec![left];
                let mut ops = Vec::new();
                while let Some(&Kind::Cmp(q, op)) = self.peek() {
                    let column = self.column();
                    self.at += 1;
                    if self.peek().is_none() {
                        let what = name(operands.last().map(|a| &a.p));
                        return Err(self.expected(&format!("a value for {what}")));
                    }
                    ops.push((quant.unwrap_or(q), op, column));
                    operands.push(self.arith(0)?);
                }
                // `a < b <= c` is `a < b && b <= c`.
                let mut tests = Vec::with_capacity(ops.len());
                let mut operands = operands.into_iter();
                let mut a = operands.next().expect("a left operand");
                for ((q, op, column), b) in ops.into_iter().zip(operands) {
                    let next = self.copy(&b);
                    tests.push(self.compare(a, q, op, b, column)?);
                    a = next;
                }
                Ok(if tests.len() == 1 {
                    tests.pop().expect("one test")
                } else {
                    Node::And(tests)
                })
            }
            Some(Kind::Contains) => {
                self.at += 1;
                let right = self.arith(0)?;
                self.contains(left, right, quant.unwrap_or(Quant::Any))
            }
            Some(Kind::Matches) => {
                self.at += 1;
                self.matches(left, quant.unwrap_or(Quant::Any))
            }
            Some(Kind::In) => {
                self.at += 1;
                self.set(left, quant.unwrap_or(Quant::Any))
            }
            Some(Kind::Not) if self.peek2() == Some(&Kind::In) => {
                self.at += 2;
                Ok(Node::Not(Box::new(
                    self.set(left, quant.unwrap_or(Quant::Any))?,
                )))
            }
            _ if quant.is_some() => Err(self.expected("a comparison after 'any' or 'all'")),
            _ => self.bare(left),
        }
    }

    /// A copy of an operand used twice by a chained comparison.
    fn copy(&self, a: &At) -> At {
        let p = match &a.p {
            P::Field(f, layers) => P::Field(f, layers.clone()),
            P::Lit(raw) => P::Lit(raw.clone()),
            P::Slice(x, r) => P::Slice(Box::new(self.copy(x)), r.clone()),
            P::Call(func, args) => P::Call(*func, args.iter().map(|x| self.copy(x)).collect()),
            P::Arith(op, x, y) => P::Arith(*op, Box::new(self.copy(x)), Box::new(self.copy(y))),
            P::Neg(x) => P::Neg(Box::new(self.copy(x))),
        };
        At {
            p,
            column: a.column,
            depth: a.depth,
        }
    }

    /// A test with no operator: the field (or layer, or slice) is present,
    /// or the arithmetic is not zero.
    fn bare(&mut self, left: At) -> Result<Node, FilterError> {
        let column = left.column;
        match left.p {
            P::Field(f, None) => Ok(Node::Exists(f)),
            P::Field(..) | P::Slice(..) => {
                let (e, _) = build(left, None)?;
                Ok(test(Quant::Any, TestKind::Exists(e)))
            }
            P::Arith(..) | P::Neg(..) => {
                let (e, _) = build(left, None)?;
                Ok(test(Quant::Any, TestKind::NonZero(e)))
            }
            P::Call(..) => Err(err(
                column,
                "a function has no presence to test: compare its value",
            )),
            P::Lit(Raw::Word(w)) => Err(err(column, unknown_field(&w))),
            P::Lit(_) => Err(err(column, "a constant is neither a field nor a protocol")),
        }
    }

    fn compare(
        &mut self,
        a: At,
        q: Quant,
        op: Op,
        b: At,
        column: usize,
    ) -> Result<Node, FilterError> {
        let what = name(Some(&a.p));
        let (ea, ta) = self.typed_left(a, &op_text(q, op))?;
        if ta == Ty::Presence {
            return Err(err(
                column,
                format!("{what} is {ta}: compare one of its fields"),
            ));
        }
        let (eb, tb) = build(b, Some((ta, &what)))?;
        if !ta.compatible(tb) {
            return Err(err(
                column,
                format!("{what} ({ta}) and {} ({tb}) do not compare", describe(&eb)),
            ));
        }
        Ok(match (ea, eb) {
            (Expr::Field(f, None), Expr::Const(lit)) => Node::Cmp(f, q, op, lit),
            (ea, eb) => test(q, TestKind::Cmp(ea, op, eb)),
        })
    }

    /// The left side of a test, which must have a type of its own.
    fn typed_left(&mut self, a: At, op: &str) -> Result<(Expr, Ty), FilterError> {
        match &a.p {
            P::Lit(Raw::Word(w)) if w.starts_with(|c: char| c.is_ascii_alphabetic()) => {
                return Err(err(a.column, unknown_field(w)));
            }
            P::Lit(_) => {
                return Err(err(
                    a.column,
                    format!("the left side of {op} must be a field or a function, not a constant"),
                ));
            }
            _ => {}
        }
        build(a, None)
    }

    fn contains(&mut self, a: At, b: At, q: Quant) -> Result<Node, FilterError> {
        let what = name(Some(&a.p));
        let column = a.column;
        let (ea, ta) = self.typed_left(a, "'contains'")?;
        if !matches!(ta, Ty::Bytes | Ty::Str | Ty::Mac) {
            return Err(err(
                column,
                format!("{what} is {ta}: 'contains' needs bytes or text"),
            ));
        }
        let want = if ta == Ty::Str { Ty::Str } else { Ty::Bytes };
        let b_column = b.column;
        let (eb, tb) = build(b, Some((want, &what)))?;
        if !matches!(tb, Ty::Bytes | Ty::Str | Ty::Mac) || (ta == Ty::Str) != (tb == Ty::Str) {
            return Err(err(
                b_column,
                format!("{what} ({ta}) cannot contain {} ({tb})", describe(&eb)),
            ));
        }
        Ok(test(q, TestKind::Contains(ea, eb)))
    }

    fn matches(&mut self, a: At, q: Quant) -> Result<Node, FilterError> {
        let what = name(Some(&a.p));
        let column = a.column;
        let (ea, ta) = self.typed_left(a, "'matches'")?;
        if !matches!(ta, Ty::Bytes | Ty::Str) {
            return Err(err(
                column,
                format!("{what} is {ta}: 'matches' needs bytes or text"),
            ));
        }
        let pattern_column = self.column();
        let Some(Kind::Str(pattern)) = self.peek() else {
            return Err(self.expected("a regular expression in double quotes"));
        };
        let pattern = pattern.clone();
        self.at += 1;
        let pattern = String::from_utf8(pattern)
            .map_err(|_| err(pattern_column, "the regular expression is not UTF-8"))?;
        // Wireshark compiles with PCRE2_CASELESS: case-insensitive unless
        // the pattern says `(?-i)`; and PCRE2_NEVER_UTF: `\xf6` is a byte,
        // `.` any byte, `\w` ASCII (wsutil/regex.c).
        let re = regex::bytes::RegexBuilder::new(&pattern)
            .case_insensitive(true)
            .unicode(false)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                let why = e.to_string();
                let why = why.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
                err(
                    pattern_column,
                    format!(
                        "invalid regular expression: {}",
                        excerpt(why.trim().trim_start_matches("error: "))
                    ),
                )
            })?;
        Ok(test(q, TestKind::Matches(ea, re)))
    }

    /// `field in {…}` after `in`.
    fn set(&mut self, a: At, q: Quant) -> Result<Node, FilterError> {
        let column = a.column;
        let P::Field(field, _) = &a.p else {
            return Err(err(
                column,
                "only a field may be tested for membership in a set",
            ));
        };
        let what = field.name.to_string();
        let (ea, ta) = build(a, None)?;
        if ta == Ty::Presence {
            return Err(err(
                column,
                format!("{what} is {ta}: compare one of its fields"),
            ));
        }
        self.expect(&Kind::BraceOpen, "'{'")?;
        let mut members = Vec::new();
        loop {
            let lo = self.member(ta, &what)?;
            let member = if self.peek() == Some(&Kind::DotDot) {
                self.at += 1;
                Member::Span(lo, self.member(ta, &what)?)
            } else {
                Member::One(lo)
            };
            members.push(member);
            match self.peek() {
                Some(Kind::Comma) => self.at += 1,
                Some(Kind::BraceClose) => {
                    self.at += 1;
                    break;
                }
                _ => return Err(self.expected("',' or '}'")),
            }
        }
        let constants: Option<Vec<Lit>> = members
            .iter()
            .map(|m| match m {
                Member::One(Expr::Const(l)) => Some(l.clone()),
                _ => None,
            })
            .collect();
        Ok(match (ea, constants) {
            (Expr::Field(f, None), Some(lits)) if q == Quant::Any => Node::In(f, lits),
            (ea, _) => test(q, TestKind::In(ea, members)),
        })
    }

    /// One end of a set member: `[+|-] entity`.
    fn member(&mut self, ty: Ty, what: &str) -> Result<Expr, FilterError> {
        let column = self.column();
        if self.peek().is_none() {
            return Err(self.expected(&format!("a value for {what}")));
        }
        let at = self.prefix()?;
        let (e, t) = build(at, Some((ty, what)))?;
        if !ty.compatible(t) {
            return Err(err(
                column,
                format!("{what} ({ty}) and {} ({t}) do not compare", describe(&e)),
            ));
        }
        Ok(e)
    }

    /// Arithmetic at or above binding power `min`: `&` < `+ -` < `* / %`.
    fn arith(&mut self, min: u8) -> Result<At, FilterError> {
        if self.peek().is_none() {
            return Err(self.expected("a field or a value"));
        }
        let mut left = self.prefix()?;
        loop {
            let (bp, op) = match self.peek() {
                Some(Kind::BitAnd) => (1, Arith::BitAnd),
                Some(Kind::Plus) => (2, Arith::Add),
                Some(Kind::Minus) => (2, Arith::Sub),
                Some(Kind::Star) => (3, Arith::Mul),
                Some(Kind::Slash) => (3, Arith::Div),
                Some(Kind::Percent) => (3, Arith::Rem),
                _ => break,
            };
            if bp < min {
                break;
            }
            let column = self.column();
            self.at += 1;
            let right = self.arith(bp + 1)?;
            let depth = left.depth.max(right.depth) + 1;
            left = self.at(P::Arith(op, Box::new(left), Box::new(right)), column, depth)?;
        }
        Ok(left)
    }

    /// `-entity`, `+entity` or an entity.
    fn prefix(&mut self) -> Result<At, FilterError> {
        let column = self.column();
        match self.peek() {
            Some(Kind::Minus) => {
                self.at += 1;
                let x = self.entity()?;
                let depth = x.depth + 1;
                self.at(P::Neg(Box::new(x)), column, depth)
            }
            Some(Kind::Plus) => {
                self.at += 1;
                self.entity()
            }
            _ => self.entity(),
        }
    }

    /// A field, literal, call or `{arith}`, then any slices.
    fn entity(&mut self) -> Result<At, FilterError> {
        let column = self.column();
        let kind = match self.peek() {
            None => return Err(self.expected("a field or a value")),
            // A word, string or character is read once: take it.
            Some(Kind::Word(_) | Kind::Str(_) | Kind::Char(_)) => {
                std::mem::replace(&mut self.tokens[self.at].kind, Kind::Comma)
            }
            Some(other) => other.clone(),
        };
        let mut x = match kind {
            Kind::BraceOpen => {
                self.enter()?;
                self.at += 1;
                let inner = self.arith(0)?;
                self.expect(&Kind::BraceClose, "'}'")?;
                self.nest -= 1;
                inner
            }
            Kind::Word(w) if self.peek2() == Some(&Kind::Open) => {
                let func = function(&w).ok_or_else(|| {
                    err(column, format!("function '{}' does not exist", excerpt(&w)))
                })?;
                self.enter()?;
                self.at += 2;
                let mut args = Vec::new();
                if self.peek() != Some(&Kind::Close) {
                    loop {
                        args.push(self.arith(0)?);
                        if self.peek() != Some(&Kind::Comma) {
                            break;
                        }
                        self.at += 1;
                    }
                }
                self.expect(&Kind::Close, "')'")?;
                self.nest -= 1;
                let depth = args.iter().map(|a| a.depth).max().unwrap_or(0) + 1;
                self.at(P::Call(func, args), column, depth)?
            }
            Kind::Word(w) => {
                self.at += 1;
                match fields::lookup(&w) {
                    Some(f) => {
                        let layers = match self.peek() {
                            Some(Kind::Layer(r)) => {
                                let r = r.clone();
                                self.at += 1;
                                Some(r)
                            }
                            _ => None,
                        };
                        self.at(P::Field(f, layers), column, 1)?
                    }
                    None if matches!(self.peek(), Some(Kind::Layer(_))) => {
                        return Err(err(column, unknown_field(&w)));
                    }
                    None => self.at(P::Lit(Raw::Word(w)), column, 1)?,
                }
            }
            Kind::Str(s) => {
                self.at += 1;
                self.at(P::Lit(Raw::Str(s)), column, 1)?
            }
            Kind::Char(c) => {
                self.at += 1;
                self.at(P::Lit(Raw::Char(c)), column, 1)?
            }
            _ => return Err(self.expected("a field or a value")),
        };
        while let Some(Kind::Ranges(r)) = self.peek() {
            let r = r.clone();
            let at = self.column();
            self.at += 1;
            let depth = x.depth + 1;
            x = self.at(P::Slice(Box::new(x), r), at, depth)?;
        }
        Ok(x)
    }
}

fn test(quant: Quant, kind: TestKind) -> Node {
    Node::Test(Box::new(Test { quant, kind }))
}

fn function(name: &str) -> Option<Func> {
    Some(match name {
        "len" => Func::Len,
        "count" => Func::Count,
        "lower" => Func::Lower,
        "upper" => Func::Upper,
        "string" => Func::String,
        "max" => Func::Max,
        "min" => Func::Min,
        "abs" => Func::Abs,
        _ => return None,
    })
}

fn op_text(q: Quant, op: Op) -> String {
    Kind::Cmp(q, op).to_string()
}

/// `unknown field NAME`, with the registry's nearest name when one is near
/// (`udp.dstprot` → `udp.dstport`).
fn unknown_field(name: &str) -> String {
    match crate::packet::fields::suggest::suggest(name) {
        Some(near) => format!("unknown field {}; did you mean {near}?", excerpt(name)),
        None => format!("unknown field {}", excerpt(name)),
    }
}
