//! Predicates: a subset of Wireshark's display-filter language over the
//! fields of [`crate::packet::fields`].
//!
//! ```text
//! expr    := and { ("||" | "or") and }
//! and     := unary { ("&&" | "and") unary }
//! unary   := ("!" | "not") unary | "(" expr ")" | test
//! test    := FIELD                                  (the field is present)
//!          | FIELD ("=="|"!="|"<"|"<="|">"|">="|eq|ne|lt|le|gt|ge) LITERAL
//!          | FIELD "contains" LITERAL
//!          | FIELD "in" "{" LITERAL { [","] LITERAL } "}"
//! LITERAL := 42 | 0x2a | "text" | 127.0.0.1 | 127.0.0.0/8 | ::1 | 48:65:6c | 00:11:22:33:44:55
//! ```
//!
//! As in Wireshark, a literal is read by the type of the field it is
//! compared with, `==` holds when any value of a field holds (`udp.port ==
//! 7456`: either port), `!=` when none does, and a test of a field the frame
//! does not have is false.

use std::fmt;
use std::net::IpAddr;

use crate::packet::fields::{self, Field, FieldType, FrameView, Value};

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

/// The comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// A literal, already read as the field's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lit {
    /// An integer (also a flag's 0 or 1).
    Uint(u64),
    /// An address block: the address and prefix length (32 or 128 for one address).
    Net(IpAddr, u8),
    /// An Ethernet address.
    Mac([u8; 6]),
    /// Bytes (a string literal on a bytes or text field too).
    Bytes(Vec<u8>),
    /// A checksum status word.
    Status(String),
}

/// A predicate, parsed and type-checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// Both hold.
    And(Box<Node>, Box<Node>),
    /// Either holds.
    Or(Box<Node>, Box<Node>),
    /// It does not hold.
    Not(Box<Node>),
    /// The field is present.
    Exists(&'static Field),
    /// A comparison.
    Cmp(&'static Field, Op, Lit),
    /// `contains`.
    Contains(&'static Field, Vec<u8>),
    /// `in {…}`.
    In(&'static Field, Vec<Lit>),
}

/// A parsed predicate with its text.
///
/// ```
/// use lola::check::expect::Filter;
/// let f = Filter::parse("udp.dstport == 7456 && data.text == \"Hello Lola\"").unwrap();
/// assert_eq!(f.text(), "udp.dstport == 7456 && data.text == \"Hello Lola\"");
/// let err = Filter::parse("udp.dstprot == 7456").unwrap_err();
/// assert_eq!((err.column, err.message.as_str()), (1, "unknown field udp.dstprot"));
/// let err = Filter::parse("ip.ttl == \"x\"").unwrap_err();
/// assert_eq!(err.column, 11);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    text: String,
    node: Node,
}

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
        let tokens = lex(text)?;
        let mut p = Parser {
            tokens,
            at: 0,
            end: text.chars().count() + 1,
        };
        let node = p.expr()?;
        if let Some(t) = p.tokens.get(p.at) {
            return Err(err(t.column, format!("unexpected {}", t.kind)));
        }
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
    /// the fields known so far and `None` for the others.
    pub fn decide(&self, known: &dyn Fn(&Field, usize) -> Option<Option<Value<'static>>>) -> Truth {
        decide(&self.node, known)
    }

    /// Every field the predicate reads, once each, in order of appearance.
    pub fn fields(&self) -> Vec<&'static Field> {
        let mut out: Vec<&'static Field> = Vec::new();
        collect(&self.node, &mut out);
        out
    }

    /// The top-level conjuncts (`a && b && c` → `[a, b, c]`).
    pub fn conjuncts(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        fn walk<'n>(n: &'n Node, out: &mut Vec<&'n Node>) {
            match n {
                Node::And(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                other => out.push(other),
            }
        }
        walk(&self.node, &mut out);
        out
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn collect(n: &Node, out: &mut Vec<&'static Field>) {
    let mut add = |f: &'static Field| {
        if !out.iter().any(|g| g.name == f.name) {
            out.push(f);
        }
    };
    match n {
        Node::And(a, b) | Node::Or(a, b) => {
            collect(a, out);
            collect(b, out);
        }
        Node::Not(a) => collect(a, out),
        Node::Exists(f) | Node::Cmp(f, _, _) | Node::Contains(f, _) | Node::In(f, _) => add(f),
    }
}

/// Evaluates a node against a frame.
pub fn eval(n: &Node, v: &FrameView<'_, '_>) -> bool {
    match n {
        Node::And(a, b) => eval(a, v) && eval(b, v),
        Node::Or(a, b) => eval(a, v) || eval(b, v),
        Node::Not(a) => !eval(a, v),
        other => test(other, &|f, i| f.get(v, i)),
    }
}

/// A leaf test over the values `get` gives.
fn test<'a>(n: &Node, get: &dyn Fn(&Field, usize) -> Option<Value<'a>>) -> bool {
    let any = |f: &Field, pred: &dyn Fn(&Value<'_>) -> bool| {
        (0..8).map_while(|i| get(f, i)).any(|x| pred(&x))
    };
    match n {
        Node::Exists(f) => get(f, 0).is_some(),
        Node::Cmp(f, Op::Ne, lit) => get(f, 0).is_some() && !any(f, &|x| compare(x, Op::Eq, lit)),
        Node::Cmp(f, op, lit) => any(f, &|x| compare(x, *op, lit)),
        Node::Contains(f, needle) => any(f, &|x| contains(x, needle)),
        Node::In(f, lits) => any(f, &|x| lits.iter().any(|l| compare(x, Op::Eq, l))),
        Node::And(..) | Node::Or(..) | Node::Not(..) => false,
    }
}

fn decide(n: &Node, known: &dyn Fn(&Field, usize) -> Option<Option<Value<'static>>>) -> Truth {
    match n {
        Node::And(a, b) => match (decide(a, known), decide(b, known)) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        },
        Node::Or(a, b) => match (decide(a, known), decide(b, known)) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        },
        Node::Not(a) => match decide(a, known) {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        },
        Node::Exists(f) | Node::Cmp(f, _, _) | Node::Contains(f, _) | Node::In(f, _) => {
            if known(f, 0).is_none() {
                return Truth::Unknown;
            }
            if test(n, &|f, i| known(f, i).flatten()) {
                Truth::True
            } else {
                Truth::False
            }
        }
    }
}

fn compare(x: &Value<'_>, op: Op, lit: &Lit) -> bool {
    use std::cmp::Ordering;
    let ord = match (x, lit) {
        (Value::Uint(a), Lit::Uint(b)) => a.cmp(b),
        (Value::Bool(a), Lit::Uint(b)) => u64::from(*a).cmp(b),
        (Value::Addr(a), Lit::Net(net, prefix)) => {
            return match op {
                Op::Eq => in_net(*a, *net, *prefix),
                _ => false,
            };
        }
        (Value::Mac(a), Lit::Mac(b)) => a.cmp(b),
        (Value::Bytes(a), Lit::Bytes(b)) => (*a).cmp(&b[..]),
        (Value::Text(a), Lit::Bytes(b)) => a.as_bytes().cmp(&b[..]),
        (Value::Status(a), Lit::Status(b)) => (*a).cmp(b.as_str()),
        _ => return false,
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

fn contains(x: &Value<'_>, needle: &[u8]) -> bool {
    let hay: &[u8] = match x {
        Value::Bytes(b) => b,
        Value::Text(t) => t.as_bytes(),
        _ => return false,
    };
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

fn in_net(a: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (a, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn err(column: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        column,
        message: message.into(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    BraceOpen,
    BraceClose,
    Comma,
    And,
    Or,
    Not,
    Cmp(Op),
    Contains,
    In,
    Word(String),
    Str(Vec<u8>),
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Open => f.write_str("'('"),
            Kind::Close => f.write_str("')'"),
            Kind::BraceOpen => f.write_str("'{'"),
            Kind::BraceClose => f.write_str("'}'"),
            Kind::Comma => f.write_str("','"),
            Kind::And => f.write_str("'&&'"),
            Kind::Or => f.write_str("'||'"),
            Kind::Not => f.write_str("'!'"),
            Kind::Cmp(op) => write!(f, "'{}'", op.symbol()),
            Kind::Contains => f.write_str("'contains'"),
            Kind::In => f.write_str("'in'"),
            Kind::Word(w) => write!(f, "'{w}'"),
            Kind::Str(_) => f.write_str("a string"),
        }
    }
}

struct Token {
    kind: Kind,
    column: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        let (kind, len) = match (c, next) {
            (c, _) if c.is_whitespace() => {
                i += 1;
                continue;
            }
            ('(', _) => (Kind::Open, 1),
            (')', _) => (Kind::Close, 1),
            ('{', _) => (Kind::BraceOpen, 1),
            ('}', _) => (Kind::BraceClose, 1),
            (',', _) => (Kind::Comma, 1),
            ('&', Some('&')) => (Kind::And, 2),
            ('|', Some('|')) => (Kind::Or, 2),
            ('=', Some('=')) => (Kind::Cmp(Op::Eq), 2),
            ('!', Some('=')) => (Kind::Cmp(Op::Ne), 2),
            ('<', Some('=')) => (Kind::Cmp(Op::Le), 2),
            ('>', Some('=')) => (Kind::Cmp(Op::Ge), 2),
            ('<', _) => (Kind::Cmp(Op::Lt), 1),
            ('>', _) => (Kind::Cmp(Op::Gt), 1),
            ('!', _) => (Kind::Not, 1),
            ('"', _) => {
                let (bytes, len) = string(&chars[i..], column)?;
                (Kind::Str(bytes), len)
            }
            (c, _) if word_char(c) => {
                let len = chars[i..].iter().take_while(|&&c| word_char(c)).count();
                let word: String = chars[i..i + len].iter().collect();
                let kind = match word.as_str() {
                    "and" => Kind::And,
                    "or" => Kind::Or,
                    "not" => Kind::Not,
                    "eq" => Kind::Cmp(Op::Eq),
                    "ne" => Kind::Cmp(Op::Ne),
                    "lt" => Kind::Cmp(Op::Lt),
                    "le" => Kind::Cmp(Op::Le),
                    "gt" => Kind::Cmp(Op::Gt),
                    "ge" => Kind::Cmp(Op::Ge),
                    "contains" => Kind::Contains,
                    "in" => Kind::In,
                    _ => Kind::Word(word),
                };
                (kind, len)
            }
            (c, _) => return Err(err(column, format!("unexpected character {c:?}"))),
        };
        out.push(Token { kind, column });
        i += len;
    }
    Ok(out)
}

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '_' | '-')
}

/// A double-quoted string starting at `chars[0]`: its bytes and length in chars.
fn string(chars: &[char], column: usize) -> Result<(Vec<u8>, usize), FilterError> {
    let mut out = String::new();
    let mut i = 1;
    loop {
        match chars.get(i) {
            None => return Err(err(column, "unterminated string")),
            Some('"') => return Ok((out.into_bytes(), i + 1)),
            Some('\\') => {
                let esc = chars.get(i + 1).copied();
                match esc {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    _ => {
                        return Err(err(
                            column + i,
                            "unknown escape: use \\\" \\\\ \\n \\r \\t, or hex bytes (48:65:6c) for other bytes",
                        ));
                    }
                }
                i += 2;
            }
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// The column just past the text.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.at).map(|t| &t.kind)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |t| t.column)
    }

    fn expected(&self, what: &str) -> FilterError {
        match self.tokens.get(self.at) {
            Some(t) => err(t.column, format!("expected {what}, found {}", t.kind)),
            None => err(self.column(), format!("expected {what} at the end")),
        }
    }

    fn expr(&mut self) -> Result<Node, FilterError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Kind::Or) {
            self.at += 1;
            let right = self.and()?;
            left = Node::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, FilterError> {
        let mut left = self.unary()?;
        while self.peek() == Some(&Kind::And) {
            self.at += 1;
            let right = self.unary()?;
            left = Node::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, FilterError> {
        match self.peek() {
            Some(Kind::Not) => {
                self.at += 1;
                Ok(Node::Not(Box::new(self.unary()?)))
            }
            Some(Kind::Open) => {
                self.at += 1;
                let inner = self.expr()?;
                if self.peek() != Some(&Kind::Close) {
                    return Err(self.expected("')'"));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Kind::Word(_)) => self.test(),
            _ => Err(self.expected("a field name, '!' or '('")),
        }
    }

    fn test(&mut self) -> Result<Node, FilterError> {
        let column = self.column();
        let Some(Kind::Word(name)) = self.peek().cloned() else {
            return Err(self.expected("a field name"));
        };
        let field =
            fields::lookup(&name).ok_or_else(|| err(column, format!("unknown field {name}")))?;
        self.at += 1;
        match self.peek().cloned() {
            Some(Kind::Cmp(op)) => {
                self.at += 1;
                let lit = self.literal(field)?;
                let ordered = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
                if ordered && field.ty != FieldType::Uint {
                    return Err(err(
                        column,
                        format!(
                            "{} is {}: '{}' compares numbers; use == or !=",
                            field.name,
                            field.ty,
                            op.symbol()
                        ),
                    ));
                }
                Ok(Node::Cmp(field, op, lit))
            }
            Some(Kind::Contains) => {
                self.at += 1;
                if !matches!(field.ty, FieldType::Bytes | FieldType::Text) {
                    return Err(err(
                        column,
                        format!(
                            "{} is {}: 'contains' needs bytes or text",
                            field.name, field.ty
                        ),
                    ));
                }
                match self.literal(field)? {
                    Lit::Bytes(b) => Ok(Node::Contains(field, b)),
                    _ => Err(err(column, "contains needs bytes or a string")),
                }
            }
            Some(Kind::In) => {
                self.at += 1;
                if self.peek() != Some(&Kind::BraceOpen) {
                    return Err(self.expected("'{'"));
                }
                self.at += 1;
                let mut lits = Vec::new();
                loop {
                    match self.peek() {
                        Some(Kind::BraceClose) if !lits.is_empty() => {
                            self.at += 1;
                            break;
                        }
                        Some(Kind::Comma) if !lits.is_empty() => self.at += 1,
                        _ => lits.push(self.literal(field)?),
                    }
                }
                Ok(Node::In(field, lits))
            }
            _ => Ok(Node::Exists(field)),
        }
    }

    /// The next token as a literal of the field's type.
    fn literal(&mut self, field: &Field) -> Result<Lit, FilterError> {
        let Some(token) = self.tokens.get(self.at) else {
            return Err(self.expected(&format!("a value for {}", field.name)));
        };
        let column = token.column;
        let bad = |what: &str| {
            err(
                column,
                format!("{} is {}, not {what}", field.name, field.ty),
            )
        };
        let lit = match (&token.kind, field.ty) {
            (Kind::Word(w), FieldType::Uint) => {
                Lit::Uint(uint(w).ok_or_else(|| bad(&format!("'{w}'")))?)
            }
            (Kind::Word(w), FieldType::Bool) => match w.as_str() {
                "1" | "true" | "True" => Lit::Uint(1),
                "0" | "false" | "False" => Lit::Uint(0),
                _ => return Err(bad(&format!("'{w}'"))),
            },
            (Kind::Word(w), FieldType::Addr) => net(w).ok_or_else(|| bad(&format!("'{w}'")))?,
            (Kind::Word(w), FieldType::Mac) => {
                let b = hex_bytes(w)
                    .filter(|b| b.len() == 6)
                    .ok_or_else(|| bad(&format!("'{w}'")))?;
                let mut m = [0u8; 6];
                m.copy_from_slice(&b);
                Lit::Mac(m)
            }
            (Kind::Word(w), FieldType::Bytes) => Lit::Bytes(
                hex_bytes(w)
                    .ok_or_else(|| bad(&format!("'{w}' (hex bytes look like 48:65:6c)")))?,
            ),
            (Kind::Str(s), FieldType::Bytes | FieldType::Text) => Lit::Bytes(s.clone()),
            (Kind::Str(s), FieldType::Status) => {
                let word = String::from_utf8_lossy(s).to_string();
                if !["good", "bad", "partial", "absent", "unverified"].contains(&word.as_str()) {
                    return Err(err(
                        column,
                        format!(
                            "{} is \"good\", \"bad\", \"partial\", \"absent\" or \"unverified\", not {word:?}",
                            field.name
                        ),
                    ));
                }
                Lit::Status(word)
            }
            (Kind::Str(_), _) => return Err(bad("a string")),
            (Kind::Word(w), _) => return Err(bad(&format!("'{w}' (quote it)"))),
            (other, _) => {
                return Err(err(
                    column,
                    format!("expected a value for {}, found {other}", field.name),
                ));
            }
        };
        self.at += 1;
        Ok(lit)
    }
}

fn uint(w: &str) -> Option<u64> {
    match w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => w.parse().ok(),
    }
}

fn net(w: &str) -> Option<Lit> {
    let (addr, prefix) = match w.split_once('/') {
        Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
        None => (w, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some(Lit::Net(addr, prefix))
}

/// `48:65:6c`, `48-65-6c`, or a single byte `48`.
fn hex_bytes(w: &str) -> Option<Vec<u8>> {
    w.split([':', '-', '.'])
        .map(|b| {
            (b.len() == 2)
                .then(|| u8::from_str_radix(b, 16).ok())
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_column() {
        let cases = [
            (
                "udp.port == ",
                13,
                "expected a value for udp.port at the end",
            ),
            ("(udp.port == 1", 15, "expected ')' at the end"),
            (
                "ip.src == 300.1.1.1",
                11,
                "ip.src is an IP address, not '300.1.1.1'",
            ),
            (
                "ip.src > 1.2.3.4",
                1,
                "ip.src is an IP address: '>' compares numbers; use == or !=",
            ),
            (
                "udp.port contains 1",
                1,
                "udp.port is an unsigned integer: 'contains' needs bytes or text",
            ),
            ("udp.port == 1 udp", 15, "unexpected 'udp'"),
            ("udp.port $ 1", 10, "unexpected character '$'"),
            ("data.text == \"x", 14, "unterminated string"),
            (
                "udp.checksum.status == \"fine\"",
                24,
                "udp.checksum.status is \"good\", \"bad\", \"partial\", \"absent\" or \"unverified\", not \"fine\"",
            ),
        ];
        for (text, column, message) in cases {
            let e = Filter::parse(text).unwrap_err();
            assert_eq!((e.column, e.message.as_str()), (column, message), "{text}");
        }
    }

    #[test]
    fn literals_follow_the_field_type() {
        assert!(Filter::parse("ip.dst == 127.0.0.0/8").is_ok());
        assert!(Filter::parse("ipv6.addr == ::1").is_ok());
        assert!(Filter::parse("data.data == 48:65:6c").is_ok());
        assert!(Filter::parse("eth.src == 00:00:00:00:00:00").is_ok());
        assert!(Filter::parse("udp.port in {53, 7456 0x1d20}").is_ok());
        assert!(Filter::parse("not tcp or (udp and !ip.flags.df)").is_ok());
        assert_eq!(hex_bytes("48:65:6c"), Some(vec![0x48, 0x65, 0x6c]));
        assert_eq!(hex_bytes("4:65"), None);
        assert_eq!(net("10.0.0.0/33"), None);
    }
}
