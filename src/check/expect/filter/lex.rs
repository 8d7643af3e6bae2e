//! The tokens of a predicate, as Wireshark's scanner (`epan/dfilter/scanner.l`)
//! cuts them.

use std::fmt;

use super::types::{Op, Quant, Range};
use super::{FilterError, err, excerpt};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Open,
    Close,
    BraceOpen,
    BraceClose,
    Comma,
    DotDot,
    And,
    Or,
    Xor,
    Not,
    Cmp(Quant, Op),
    Contains,
    Matches,
    In,
    Any,
    All,
    BitAnd,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// `[…]` after an entity: a slice.
    Ranges(Vec<Range>),
    /// `#2` or `#[1-2]` after a field: its layers.
    Layer(Vec<Range>),
    /// A field name or an unquoted literal.
    Word(String),
    /// A double-quoted string, its escapes read.
    Str(Vec<u8>),
    /// A character constant `'c'`: an integer.
    Char(u8),
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Kind::Open => "'('",
            Kind::Close => "')'",
            Kind::BraceOpen => "'{'",
            Kind::BraceClose => "'}'",
            Kind::Comma => "','",
            Kind::DotDot => "'..'",
            Kind::And => "'&&'",
            Kind::Or => "'||'",
            Kind::Xor => "'^^'",
            Kind::Not => "'!'",
            Kind::Cmp(q, op) => match (q, op) {
                (Quant::Any, Op::Eq) => "'=='",
                (Quant::All, Op::Ne) => "'!='",
                (Quant::All, Op::Eq) => "'==='",
                (Quant::Any, Op::Ne) => "'!=='",
                (_, Op::Lt) => "'<'",
                (_, Op::Le) => "'<='",
                (_, Op::Gt) => "'>'",
                (_, Op::Ge) => "'>='",
            },
            Kind::Contains => "'contains'",
            Kind::Matches => "'matches'",
            Kind::In => "'in'",
            Kind::Any => "'any'",
            Kind::All => "'all'",
            Kind::BitAnd => "'&'",
            Kind::Plus => "'+'",
            Kind::Minus => "'-'",
            Kind::Star => "'*'",
            Kind::Slash => "'/'",
            Kind::Percent => "'%'",
            Kind::Ranges(_) => "a slice '[…]'",
            Kind::Layer(_) => "a layer '#…'",
            Kind::Word(w) => return write!(f, "'{}'", excerpt(w)),
            Kind::Str(_) => "a string",
            Kind::Char(_) => "a character constant",
        };
        f.write_str(s)
    }
}

pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) column: usize,
}

pub(super) fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let at = |k: usize| chars.get(i + k).copied();
        let (kind, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Kind::Open, 1),
            ')' => (Kind::Close, 1),
            '{' => (Kind::BraceOpen, 1),
            '}' => (Kind::BraceClose, 1),
            ',' => (Kind::Comma, 1),
            '.' if at(1) == Some('.') => (Kind::DotDot, 2),
            '&' if at(1) == Some('&') => (Kind::And, 2),
            '&' => (Kind::BitAnd, 1),
            '|' if at(1) == Some('|') => (Kind::Or, 2),
            '^' if at(1) == Some('^') => (Kind::Xor, 2),
            '=' if at(1) == Some('=') && at(2) == Some('=') => (Kind::Cmp(Quant::All, Op::Eq), 3),
            '=' if at(1) == Some('=') => (Kind::Cmp(Quant::Any, Op::Eq), 2),
            '!' if at(1) == Some('=') && at(2) == Some('=') => (Kind::Cmp(Quant::Any, Op::Ne), 3),
            '!' if at(1) == Some('=') => (Kind::Cmp(Quant::All, Op::Ne), 2),
            '~' if at(1) == Some('=') => (Kind::Cmp(Quant::Any, Op::Ne), 2),
            '~' => (Kind::Matches, 1),
            '<' if at(1) == Some('=') => (Kind::Cmp(Quant::Any, Op::Le), 2),
            '>' if at(1) == Some('=') => (Kind::Cmp(Quant::Any, Op::Ge), 2),
            '<' => (Kind::Cmp(Quant::Any, Op::Lt), 1),
            '>' => (Kind::Cmp(Quant::Any, Op::Gt), 1),
            '!' => (Kind::Not, 1),
            '+' => (Kind::Plus, 1),
            '-' => (Kind::Minus, 1),
            '*' => (Kind::Star, 1),
            '/' => (Kind::Slash, 1),
            '%' => (Kind::Percent, 1),
            '[' => {
                let (ranges, len) = bracket(&chars[i..], column)?;
                (Kind::Ranges(ranges), len)
            }
            '#' => match at(1) {
                Some('[') => {
                    let (ranges, len) = bracket(&chars[i + 1..], column + 1)?;
                    (Kind::Layer(ranges), len + 1)
                }
                Some(d) if d.is_ascii_digit() => {
                    let len = chars[i + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_digit())
                        .count();
                    let n: String = chars[i + 1..i + 1 + len].iter().collect();
                    let n = n
                        .parse::<i64>()
                        .map_err(|_| err(column + 1, "layer number too big"))?;
                    (Kind::Layer(vec![Range::To(n, n)]), len + 1)
                }
                _ => return Err(err(column, "expected a digit or '[' after '#'")),
            },
            '"' => {
                let (bytes, len) = string(&chars[i..], column, false)?;
                (Kind::Str(bytes), len)
            }
            'r' if at(1) == Some('"') => {
                let (bytes, len) = string(&chars[i + 1..], column + 1, true)?;
                (Kind::Str(bytes), len + 1)
            }
            '\'' => {
                let (byte, len) = character(&chars[i..], column)?;
                (Kind::Char(byte), len)
            }
            c if word_char(c) => {
                let mut len = 0;
                while let Some(&c) = chars.get(i + len) {
                    if !word_char(c) || (c == '.' && chars.get(i + len + 1) == Some(&'.')) {
                        break;
                    }
                    len += 1;
                }
                let word: String = chars[i..i + len].iter().collect();
                let kind = match word.as_str() {
                    "and" => Kind::And,
                    "or" => Kind::Or,
                    "xor" => Kind::Xor,
                    "not" => Kind::Not,
                    "eq" | "any_eq" => Kind::Cmp(Quant::Any, Op::Eq),
                    "ne" | "all_ne" => Kind::Cmp(Quant::All, Op::Ne),
                    "all_eq" => Kind::Cmp(Quant::All, Op::Eq),
                    "any_ne" => Kind::Cmp(Quant::Any, Op::Ne),
                    "lt" => Kind::Cmp(Quant::Any, Op::Lt),
                    "le" => Kind::Cmp(Quant::Any, Op::Le),
                    "gt" => Kind::Cmp(Quant::Any, Op::Gt),
                    "ge" => Kind::Cmp(Quant::Any, Op::Ge),
                    "contains" => Kind::Contains,
                    "matches" => Kind::Matches,
                    "in" => Kind::In,
                    "any" => Kind::Any,
                    "all" => Kind::All,
                    "bitand" | "bitwise_and" => Kind::BitAnd,
                    _ => Kind::Word(word),
                };
                (kind, len)
            }
            c => return Err(err(column, format!("unexpected character {c:?}"))),
        };
        out.push(Token { kind, column });
        i += len;
    }
    Ok(out)
}

/// A character of a field name or an unquoted literal (`ip.src`, `10.0.0.0/8`,
/// `fe80::1`, `00-11-22-33-44-55`); a word does not start with `-` (that is
/// the minus operator).
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '_' | '-')
}

/// `[…]` at `chars[0]`: its ranges and length in chars.
fn bracket(chars: &[char], column: usize) -> Result<(Vec<Range>, usize), FilterError> {
    let Some(end) = chars.iter().position(|&c| c == ']') else {
        return Err(err(column, "expected ']'"));
    };
    let inner: String = chars[1..end].iter().collect();
    let ranges = inner
        .split(',')
        .map(|node| {
            let node: String = node.chars().filter(|c| !c.is_whitespace()).collect();
            range(&node).ok_or_else(|| bad_range(&node, column))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ranges, end + 1))
}

fn bad_range(node: &str, column: usize) -> FilterError {
    err(
        column,
        format!(
            "\"{}\" is not a valid range (i:length, i-j, i, :length or i:)",
            excerpt(node)
        ),
    )
}

/// One range node: `i:j`, `i-j`, `i`, `:j`, `i:`.
fn range(node: &str) -> Option<Range> {
    let int = |s: &str| -> Option<i64> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if let Some((a, b)) = node.split_once(':') {
        let start = if a.is_empty() { 0 } else { int(a)? };
        if b.is_empty() {
            return (!a.is_empty()).then_some(Range::ToEnd(start));
        }
        let len = int(b)?;
        return (len > 0).then_some(Range::Len(start, len));
    }
    // `i-j`: the separating '-' follows a digit.
    let sep = node
        .char_indices()
        .skip(1)
        .find(|&(k, c)| c == '-' && node.as_bytes()[k - 1].is_ascii_digit())
        .map(|(k, _)| k);
    match sep {
        Some(k) => Some(Range::To(int(&node[..k])?, int(&node[k + 1..])?)),
        None => Some(Range::Len(int(node)?, 1)),
    }
}

/// An escape after a backslash at `chars[0]` (the char after `\`): the
/// byte(s) it stands for and its length in chars.
fn escape(chars: &[char], column: usize) -> Result<(Vec<u8>, usize), FilterError> {
    let bad = |what: String| err(column, what);
    let Some(&c) = chars.first() else {
        return Err(bad("a backslash ends the string".into()));
    };
    let simple = |b: u8| Ok((vec![b], 1));
    match c {
        '\'' => simple(b'\''),
        '"' => simple(b'"'),
        '\\' => simple(b'\\'),
        'a' => simple(7),
        'b' => simple(8),
        'f' => simple(12),
        'n' => simple(b'\n'),
        'r' => simple(b'\r'),
        't' => simple(b'\t'),
        'v' => simple(11),
        '0'..='7' => {
            let len = chars
                .iter()
                .take(3)
                .take_while(|c| ('0'..='7').contains(c))
                .count();
            let s: String = chars[..len].iter().collect();
            let n = u32::from_str_radix(&s, 8).unwrap_or(0);
            let b = u8::try_from(n).map_err(|_| bad(format!("\\{s} is not a byte")))?;
            Ok((vec![b], len))
        }
        'x' => {
            let len = chars[1..]
                .iter()
                .take(2)
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if len == 0 {
                return Err(bad("\\x needs hex digits".into()));
            }
            let s: String = chars[1..=len].iter().collect();
            Ok((vec![u8::from_str_radix(&s, 16).unwrap_or(0)], len + 1))
        }
        'u' | 'U' => {
            let want = if c == 'u' { 4 } else { 8 };
            let digits: String = chars[1..].iter().take(want).collect();
            let code = (digits.len() == want && digits.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| u32::from_str_radix(&digits, 16).ok())
                .flatten()
                // As in C: below U+00A0 only $, @ and ` may be named so.
                .filter(|&n| n >= 0xa0 || matches!(n, 0x24 | 0x40 | 0x60))
                .and_then(char::from_u32)
                .ok_or_else(|| {
                    bad(format!(
                        "\\{c}{} is not a valid universal character name",
                        excerpt(&digits)
                    ))
                })?;
            let mut buf = [0u8; 4];
            Ok((code.encode_utf8(&mut buf).as_bytes().to_vec(), want + 1))
        }
        other => Err(bad(format!(
            "\\{other} is not a valid character escape sequence"
        ))),
    }
}

/// A double-quoted string starting at `chars[0]`: its bytes and length in
/// chars. A raw string keeps its backslashes (`\"` does not end it).
fn string(chars: &[char], column: usize, raw: bool) -> Result<(Vec<u8>, usize), FilterError> {
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        match chars.get(i) {
            None => return Err(err(column, "unterminated string")),
            Some('"') => return Ok((out, i + 1)),
            Some('\\') if raw => {
                out.push(b'\\');
                if chars.get(i + 1) == Some(&'"') {
                    out.push(b'"');
                    i += 1;
                }
                i += 1;
            }
            Some('\\') => {
                let (bytes, len) = escape(&chars[i + 1..], column + i)?;
                out.extend(bytes);
                i += 1 + len;
            }
            Some(&c) => {
                let mut buf = [0u8; 4];
                out.extend(c.encode_utf8(&mut buf).as_bytes());
                i += 1;
            }
        }
    }
}

/// A character constant `'c'` at `chars[0]`: its value and length in chars.
fn character(chars: &[char], column: usize) -> Result<(u8, usize), FilterError> {
    let (bytes, len) = match chars.get(1) {
        None => return Err(err(column, "unterminated character constant")),
        Some('\\') => {
            let (b, len) = escape(&chars[2..], column + 1)?;
            (b, len + 1)
        }
        Some(&c) => {
            let mut buf = [0u8; 4];
            (c.encode_utf8(&mut buf).as_bytes().to_vec(), 1)
        }
    };
    if chars.get(1 + len) != Some(&'\'') {
        return Err(err(
            column,
            "a character constant is one character between single quotes",
        ));
    }
    match bytes[..] {
        [b] => Ok((b, len + 2)),
        _ => Err(err(
            column,
            "a character constant is one byte (use a string for more)",
        )),
    }
}
