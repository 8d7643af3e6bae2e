//! The types a predicate's expressions have, and literals read as one of
//! them (Wireshark's `fvalue_from_literal` for each field type).

use std::fmt;
use std::net::IpAddr;

use super::types::Lit;
use crate::packet::fields::{Field, FieldType, Id};
use crate::packet::glossary;

/// The type of an expression's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    /// An integer in `min..=max` (an unsigned field: `0..=2^bits-1`).
    Int { min: i64, max: i64 },
    /// A checksum status: an 8-bit integer with value strings.
    Status,
    /// A flag.
    Bool,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An Ethernet address.
    Mac,
    /// Bytes (and protocols, which are their bytes).
    Bytes,
    /// Text.
    Str,
    /// A protocol lola only knows present or absent (`udp`, `tcp`).
    Presence,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::Int { min, .. } if *min < 0 => "an integer",
            Ty::Int { .. } => "an unsigned integer",
            Ty::Status => "a checksum status",
            Ty::Bool => "a flag (0 or 1)",
            Ty::Ipv4 => "an IPv4 address",
            Ty::Ipv6 => "an IPv6 address",
            Ty::Mac => "an Ethernet address",
            Ty::Bytes => "bytes",
            Ty::Str => "text",
            Ty::Presence => "a protocol, present or not",
        })
    }
}

impl Ty {
    /// The type of a field's values.
    pub(super) fn of(f: &Field) -> Ty {
        match f.ty {
            FieldType::Uint => {
                let bits = f.bits();
                if f.id == Id::DataLen {
                    // Wireshark's data.len is FT_INT32.
                    Ty::Int {
                        min: i64::from(i32::MIN),
                        max: i64::from(i32::MAX),
                    }
                } else {
                    Ty::Int {
                        min: 0,
                        max: ((1u64 << bits) - 1) as i64,
                    }
                }
            }
            FieldType::Bool if !f.name.contains('.') => Ty::Presence,
            FieldType::Bool => Ty::Bool,
            FieldType::Addr if f.name.starts_with("ipv6.") => Ty::Ipv6,
            FieldType::Addr => Ty::Ipv4,
            FieldType::Mac => Ty::Mac,
            FieldType::Bytes | FieldType::Protocol => Ty::Bytes,
            FieldType::Text => Ty::Str,
            FieldType::Status => Ty::Status,
        }
    }

    /// Integers (and statuses) take arithmetic and `&`.
    pub(super) fn numeric(self) -> bool {
        matches!(self, Ty::Int { .. } | Ty::Status)
    }

    /// Two types whose values compare with each other.
    pub(super) fn compatible(self, other: Ty) -> bool {
        self.class() == other.class() && self != Ty::Presence
    }

    fn class(self) -> u8 {
        match self {
            Ty::Int { .. } | Ty::Status => 0,
            Ty::Bool => 1,
            Ty::Ipv4 => 2,
            Ty::Ipv6 => 3,
            Ty::Mac => 4,
            Ty::Bytes => 5,
            Ty::Str => 6,
            Ty::Presence => 7,
        }
    }
}

/// An unquoted word, a quoted string or a character constant, before it is
/// read as a type.
#[derive(Clone, Debug)]
pub(super) enum Raw {
    Word(String),
    Str(Vec<u8>),
    Char(u8),
}

/// `raw` read as a value of `ty` (`what` names the other side, for errors);
/// `neg` when a unary minus stands before it.
pub(super) fn read(raw: &Raw, ty: Ty, what: &str, neg: bool) -> Result<Lit, String> {
    let quote = |w: &str| format!("'{}'", super::excerpt(w));
    let not = |shown: String| format!("{what} is {ty}, not {shown}");
    match (raw, ty) {
        (Raw::Word(w), Ty::Int { min, max }) => {
            let n = int(w).ok_or_else(|| not(quote(w)))?;
            ranged(if neg { -n } else { n }, min, max, what)
        }
        (Raw::Char(c), Ty::Int { min, max }) => {
            let n = i64::from(*c);
            ranged(if neg { -n } else { n }, min, max, what)
        }
        (Raw::Word(w), Ty::Status) if !neg && int(w).is_none() => status(w.as_bytes(), what),
        (Raw::Str(s), Ty::Status) if !neg => status(s, what),
        (Raw::Word(w), Ty::Status) => {
            let n = int(w).ok_or_else(|| not(quote(w)))?;
            ranged(if neg { -n } else { n }, 0, 255, what)
        }
        (Raw::Char(c), Ty::Status) if !neg => Ok(Lit::Int(i64::from(*c))),
        (Raw::Word(w), Ty::Bool) => {
            if w.eq_ignore_ascii_case("true") {
                Ok(Lit::Bool(true))
            } else if w.eq_ignore_ascii_case("false") {
                Ok(Lit::Bool(false))
            } else {
                Ok(Lit::Bool(int(w).ok_or_else(|| not(quote(w)))? != 0))
            }
        }
        (Raw::Char(c), Ty::Bool) => Ok(Lit::Bool(*c != 0)),
        (Raw::Word(w), Ty::Ipv4 | Ty::Ipv6) if !neg => {
            net(w, ty == Ty::Ipv6).ok_or_else(|| not(quote(w)))
        }
        (Raw::Word(w), Ty::Mac) if !neg => {
            let b = hex_bytes(w)
                .filter(|b| b.len() == 6)
                .ok_or_else(|| not(quote(w)))?;
            let mut m = [0u8; 6];
            m.copy_from_slice(&b);
            Ok(Lit::Mac(m))
        }
        (Raw::Word(w), Ty::Bytes) if !neg => {
            let byte = w
                .strip_prefix("0x")
                .or_else(|| w.strip_prefix("0X"))
                .filter(|h| (1..=2).contains(&h.len()))
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match byte {
                Some(b) => Ok(Lit::Bytes(vec![b])),
                None => hex_bytes(w)
                    .map(Lit::Bytes)
                    .ok_or_else(|| not(format!("{} (hex bytes look like 48:65:6c)", quote(w)))),
            }
        }
        (Raw::Str(s), Ty::Bytes | Ty::Str) if !neg => Ok(Lit::Bytes(s.clone())),
        (Raw::Char(c), Ty::Bytes) if !neg => Ok(Lit::Bytes(vec![*c])),
        (Raw::Str(_), _) => Err(not("a string".into())),
        (Raw::Char(_), _) => Err(not("a character constant".into())),
        (Raw::Word(w), Ty::Str) => Err(not(format!("{} (quote it)", quote(w)))),
        (Raw::Word(w), _) if neg => Err(not(format!("'-{}'", super::excerpt(w)))),
        (Raw::Word(w), _) => Err(not(quote(w))),
    }
}

fn ranged(n: i64, min: i64, max: i64, what: &str) -> Result<Lit, String> {
    if n > max {
        Err(format!("{n} is too big for {what}, at most {max}"))
    } else if n < min {
        Err(format!("{n} is too small for {what}, at least {min}"))
    } else {
        Ok(Lit::Int(n))
    }
}

fn status(s: &[u8], what: &str) -> Result<Lit, String> {
    // The glossary's words (what reports print) and Wireshark's
    // (`proto_checksum_vals`), read as Wireshark's number.
    let word = String::from_utf8_lossy(s);
    glossary::checksum_number(&word).map(Lit::Int).ok_or_else(|| {
        let words: Vec<&str> = glossary::CHECKSUM_STATES.iter().map(|s| s.word.word).collect();
        format!(
            "{what} is a checksum status: {}, Wireshark's \"Good\", \"Bad\", \"Unverified\", \"Not present\", \"Illegal\" or 0-4, not \"{}\"",
            words.join(", "),
            super::excerpt(&word)
        )
    })
}

/// The status word of lola's checksum verdict as Wireshark's number.
pub(super) fn status_number(word: &str) -> i64 {
    // Every word lola prints is in the glossary; 2 (Unverified) otherwise.
    glossary::checksum_number(word).unwrap_or(2)
}

/// An integer as Wireshark writes one: decimal, `0x` hex, `0b` binary, or
/// octal after a leading zero (`0100` is 64).
pub(super) fn int(w: &str) -> Option<i64> {
    let (digits, radix) = if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(b) = w.strip_prefix("0b").or_else(|| w.strip_prefix("0B")) {
        (b, 2)
    } else if w.len() > 1 && w.starts_with('0') {
        (&w[1..], 8)
    } else {
        (w, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .and_then(|n| i64::try_from(n).ok())
}

fn net(w: &str, v6: bool) -> Option<Lit> {
    let (addr, prefix) = match w.split_once('/') {
        Some((a, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (a, Some(p.parse::<u8>().ok()?))
        }
        Some(_) => return None,
        None => (w, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    if addr.is_ipv6() != v6 {
        return None;
    }
    let max = if v6 { 128 } else { 32 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some(Lit::Net(addr, prefix))
}

/// Bytes as Wireshark reads them: groups of one or two hex digits
/// separated by `:`, `-` or `.` (`48:65:6c`, `0.1.0.d`), groups of four
/// separated by `.` (`0011.2233.4455`), or an even run of hex digits
/// (`48656c`).
pub(super) fn hex_bytes(w: &str) -> Option<Vec<u8>> {
    let pair = |s: &str| u8::from_str_radix(s, 16).ok();
    let run = |s: &str| -> Option<Vec<u8>> {
        if s.is_empty() || !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        (0..s.len())
            .step_by(2)
            .map(|k| pair(&s[k..k + 2]))
            .collect()
    };
    let sep = w.chars().find(|c| matches!(c, ':' | '-' | '.'));
    let Some(sep) = sep else {
        // `7a`, `48656c`, and a lone digit `1` as one byte.
        return match w.len() {
            1 => pair(w).map(|b| vec![b]),
            _ => run(w),
        };
    };
    // Wireshark's scanner takes one-digit groups only between dots (`0.1.0.d`).
    let widths = if sep == '.' { 1..=2 } else { 2..=2 };
    let groups: Vec<&str> = w.split(sep).collect();
    if sep == '.' && groups.iter().all(|g| g.len() == 4) {
        return groups
            .iter()
            .map(|g| run(g))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat());
    }
    groups
        .iter()
        .map(|g| {
            (widths.contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| pair(g))
                .flatten()
        })
        .collect()
}
