//! The seeded generator of display filters for `tests/wireshark.rs`: tests
//! ("atoms") over the registry's fields with values found in a capture (and
//! near misses), combined with `&&`, `||`, `!` and parentheses; at a lower
//! rate, Wireshark's constructs beyond lola's first grammar, and filters
//! Wireshark refuses.

use std::collections::BTreeMap;
use std::net::IpAddr;

use lola::packet::fields::{FIELDS, Field, FieldType, Value};

/// xorshift64*: small, seeded, the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value: every seed gives its own
    /// sequence; the one seed that would land on xorshift's fixed point 0
    /// is moved off it).
    pub fn new(seed: u64) -> Rng {
        const MIX: u64 = 0x9e37_79b9_7f4a_7c15;
        match seed ^ MIX {
            0 => Rng(MIX),
            state => Rng(state),
        }
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// One of `items` (not empty).
    pub fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }
}

/// A field's value, owned: what the generator writes literals from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Val {
    /// An integer or a flag.
    Uint(u64),
    /// An address.
    Addr(IpAddr),
    /// An Ethernet address.
    Mac([u8; 6]),
    /// Bytes or text.
    Bytes(Vec<u8>),
    /// A checksum status word.
    Word(&'static str),
}

impl Val {
    /// The owned copy of `v`.
    pub fn of(v: &Value<'_>) -> Val {
        match v {
            Value::Uint(n) => Val::Uint(*n),
            Value::Bool(b) => Val::Uint(u64::from(*b)),
            Value::Addr(a) => Val::Addr(*a),
            Value::Mac(m) => Val::Mac(*m),
            Value::Bytes(b) => Val::Bytes(b.to_vec()),
            Value::Text(t) => Val::Bytes(t.as_bytes().to_vec()),
            Value::Status(s) => Val::Word(s),
        }
    }
}

/// The values of each field seen in one capture (a few of each).
pub type Values = BTreeMap<&'static str, Vec<Val>>;

/// How many distinct values of a field are kept per capture.
pub const KEEP: usize = 12;

/// One test of a filter: its text, the fields it reads and the constructs
/// (beyond `==`-style tests of lola's first grammar) it uses.
#[derive(Clone, Debug)]
pub struct Atom {
    /// The text, as written in the filter.
    pub text: String,
    /// The registry fields it names.
    pub fields: Vec<&'static str>,
    /// The constructs it uses ("octal", "slice", ...); empty for a plain test.
    pub constructs: Vec<&'static str>,
}

/// A generated filter: its text and the atoms it is made of (itself, for an atom).
#[derive(Clone, Debug)]
pub struct Generated {
    /// The filter text.
    pub text: String,
    /// Indices of its atoms in the capture's atom list.
    pub atoms: Vec<usize>,
    /// True when it is one atom alone.
    pub is_atom: bool,
}

/// Filters for one capture: `compounds` filters made of atoms; the atoms are
/// listed too (evaluated alone, they tell which test made a filter differ).
pub fn filters(
    rng: &mut Rng,
    here: &Values,
    all: &Values,
    compounds: usize,
) -> (Vec<Atom>, Vec<Generated>) {
    let mut atoms: Vec<Atom> = Vec::new();
    let mut out: Vec<Generated> = Vec::new();
    for _ in 0..compounds {
        let mut used = Vec::new();
        let text = expr(rng, here, all, &mut atoms, &mut used, 0);
        out.push(Generated {
            text,
            atoms: used,
            is_atom: false,
        });
    }
    for (i, a) in atoms.iter().enumerate() {
        out.push(Generated {
            text: a.text.clone(),
            atoms: vec![i],
            is_atom: true,
        });
    }
    (atoms, out)
}

fn expr(
    rng: &mut Rng,
    here: &Values,
    all: &Values,
    atoms: &mut Vec<Atom>,
    used: &mut Vec<usize>,
    depth: usize,
) -> String {
    if depth >= 3 || rng.chance(35 + 20 * depth as u64) {
        let a = atom(rng, here, all);
        atoms.push(a);
        used.push(atoms.len() - 1);
        let text = atoms[atoms.len() - 1].text.clone();
        return if rng.chance(12) {
            format!("{}{text}", rng.pick(&["!", "not ", "!"]))
        } else {
            text
        };
    }
    let left = expr(rng, here, all, atoms, used, depth + 1);
    let right = expr(rng, here, all, atoms, used, depth + 1);
    let op = *rng.pick(&["&&", "||", "&&", "||", "and", "or"]);
    let inner = format!("{} {op} {}", wrap(rng, &left), wrap(rng, &right));
    if rng.chance(15) {
        format!("{}({inner})", rng.pick(&["!", "not "]))
    } else if depth > 0 || rng.chance(10) {
        format!("({inner})")
    } else {
        inner
    }
}

/// Parentheses around a sub-filter that has a binary operator at its top
/// (always, so both tools read the same tree), and sometimes around one
/// that does not.
fn wrap(rng: &mut Rng, text: &str) -> String {
    if rng.chance(8) {
        format!("({text})")
    } else {
        text.to_string()
    }
}

/// Field names of the registry that tshark knows, with lola's extensions at
/// a low rate.
fn pick_field(rng: &mut Rng, here: &Values) -> &'static Field {
    let present: Vec<&'static Field> = FIELDS
        .iter()
        .filter(|f| here.contains_key(f.name))
        .collect();
    loop {
        let f = if !present.is_empty() && rng.chance(85) {
            *rng.pick(&present)
        } else {
            rng.pick(FIELDS)
        };
        if f.tshark || rng.chance(10) {
            return f;
        }
    }
}

fn value_of(rng: &mut Rng, f: &Field, here: &Values, all: &Values) -> Option<Val> {
    let pool = if rng.chance(80) {
        here.get(f.name)
    } else {
        all.get(f.name)
    };
    let pool = pool.or_else(|| all.get(f.name))?;
    Some(rng.pick(pool).clone())
}

/// One test over a field of the registry.
pub fn atom(rng: &mut Rng, here: &Values, all: &Values) -> Atom {
    let f = pick_field(rng, here);
    if rng.chance(12)
        && let Some(a) = extended(rng, f, here, all)
    {
        return a;
    }
    if rng.chance(2) {
        return refused(rng);
    }
    let plain = |text: String| Atom {
        text,
        fields: vec![f.name],
        constructs: Vec::new(),
    };
    if rng.chance(8) {
        return plain(f.name.to_string());
    }
    let Some(v) = value_of(rng, f, here, all) else {
        return plain(f.name.to_string());
    };
    match (f.ty, &v) {
        (FieldType::Uint | FieldType::Bool, Val::Uint(n)) => {
            let n = near(rng, *n, f.ty == FieldType::Bool);
            if f.ty != FieldType::Bool && rng.chance(15) {
                let mut set = vec![int(rng, n)];
                for _ in 0..rng.below(3) {
                    if let Some(Val::Uint(m)) = value_of(rng, f, here, all) {
                        let m = near(rng, m, false);
                        set.push(int(rng, m));
                    }
                }
                return plain(format!("{} in {{{}}}", f.name, set.join(", ")));
            }
            let op = if f.ty == FieldType::Bool {
                *rng.pick(&["==", "!=", "eq", "ne"])
            } else {
                *rng.pick(&[
                    "==", "!=", "<", "<=", ">", ">=", "==", "eq", "ne", "lt", "ge",
                ])
            };
            let lit = if f.ty == FieldType::Bool {
                n.to_string()
            } else {
                int(rng, n)
            };
            plain(format!("{} {op} {lit}", f.name))
        }
        (FieldType::Addr, Val::Addr(a)) => {
            let lit = match a {
                IpAddr::V4(v4) if rng.chance(25) => {
                    let bits = *rng.pick(&[8u8, 16, 24, 31, 32]);
                    format!("{v4}/{bits}")
                }
                IpAddr::V6(v6) if rng.chance(25) => {
                    let bits = *rng.pick(&[16u8, 48, 64, 120, 128]);
                    format!("{v6}/{bits}")
                }
                _ => a.to_string(),
            };
            if rng.chance(15) {
                let mut set = vec![lit];
                if let Some(Val::Addr(b)) = value_of(rng, f, here, all) {
                    set.push(b.to_string());
                }
                return plain(format!("{} in {{{}}}", f.name, set.join(", ")));
            }
            let op = *rng.pick(&["==", "!=", "==", "eq"]);
            plain(format!("{} {op} {lit}", f.name))
        }
        (FieldType::Mac, Val::Mac(m)) => {
            let mut m = *m;
            if rng.chance(20) {
                m[5] ^= 1;
            }
            let op = *rng.pick(&["==", "!="]);
            plain(format!("{} {op} {}", f.name, colons(&m)))
        }
        (FieldType::Bytes | FieldType::Text, Val::Bytes(b)) if !b.is_empty() => {
            let (from, to) = span(rng, b.len());
            let part = &b[from..to];
            let text = f.ty == FieldType::Text || (printable(part) && rng.chance(30));
            let lit = if text && printable(part) {
                format!("\"{}\"", String::from_utf8_lossy(part))
            } else if text {
                return plain(f.name.to_string());
            } else {
                colons(part)
            };
            if from == 0 && to == b.len() && rng.chance(50) {
                let op = *rng.pick(&["==", "!="]);
                plain(format!("{} {op} {lit}", f.name))
            } else {
                plain(format!("{} contains {lit}", f.name))
            }
        }
        (FieldType::Status, Val::Word(w)) => {
            let w = if rng.chance(30) {
                rng.pick(&["good", "bad", "unverified", "absent", "partial"])
            } else {
                w
            };
            plain(format!("{} == \"{w}\"", f.name))
        }
        _ => plain(f.name.to_string()),
    }
}

/// A near miss: the value, or one off it (a flag stays 0 or 1).
fn near(rng: &mut Rng, n: u64, flag: bool) -> u64 {
    if flag {
        return if rng.chance(20) {
            1 - n.min(1)
        } else {
            n.min(1)
        };
    }
    match rng.below(8) {
        0 => n.saturating_add(1),
        1 => n.saturating_sub(1),
        _ => n,
    }
}

/// An integer literal: decimal, or hex at times.
fn int(rng: &mut Rng, n: u64) -> String {
    if rng.chance(20) {
        format!("0x{n:x}")
    } else {
        n.to_string()
    }
}

fn span(rng: &mut Rng, len: usize) -> (usize, usize) {
    if rng.chance(40) {
        return (0, len);
    }
    let from = rng.below(len);
    let to = from + 1 + rng.below((len - from).min(4));
    (from, to)
}

fn printable(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
}

fn colons(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Wireshark's constructs beyond lola's first grammar, each tagged.
fn extended(rng: &mut Rng, f: &'static Field, here: &Values, all: &Values) -> Option<Atom> {
    let v = value_of(rng, f, here, all)?;
    let name = f.name;
    let one = |text: String, construct: &'static str| Atom {
        text,
        fields: vec![name],
        constructs: vec![construct],
    };
    let a = match (f.ty, &v) {
        (FieldType::Uint, Val::Uint(n)) => {
            let n = *n;
            match rng.below(11) {
                0 => one(format!("{name} not in {{{n}, {}}}", n + 1), "not in"),
                1 => one(format!("any {name} == {n}"), "any"),
                2 => one(format!("all {name} == {n}"), "all"),
                3 => one(
                    format!("{name} & 0x{:x}", 1u64 << rng.below(8).min(63)),
                    "&",
                ),
                4 => one(format!("{name} === {n}"), "==="),
                5 => one(format!("{name} !== {n}"), "!=="),
                6 => one(
                    format!(
                        "{name} in {{{}..{}}}",
                        n.saturating_sub(rng.below(3) as u64),
                        n + rng.below(3) as u64
                    ),
                    "range",
                ),
                7 => one(format!("{name}#{} == {n}", 1 + rng.below(2)), "#"),
                8 => one(format!("{name} == 0{n:o}"), "octal"),
                9 => {
                    let other = *rng.pick(&[
                        "udp.srcport",
                        "udp.dstport",
                        "tcp.srcport",
                        "tcp.dstport",
                        "frame.len",
                        "ip.len",
                        "ip.ttl",
                        "frame.cap_len",
                    ]);
                    Atom {
                        text: format!("{name} {} {other}", rng.pick(&["==", "<", ">=", "!="])),
                        fields: vec![name, other],
                        constructs: vec!["field-to-field"],
                    }
                }
                _ => {
                    let other = *rng.pick(&[
                        "udp.srcport",
                        "udp.dstport",
                        "frame.cap_len",
                        "ip.len",
                        "tcp.len",
                    ]);
                    let k = rng.below(30);
                    Atom {
                        text: format!("{name} {} {{{other} + {k}}}", rng.pick(&["==", "<=", ">"])),
                        fields: vec![name, other],
                        constructs: vec!["arithmetic"],
                    }
                }
            }
        }
        (FieldType::Addr, Val::Addr(a)) => match rng.below(4) {
            0 => one(format!("{name}#{} == {a}", 1 + rng.below(2)), "#"),
            1 => one(format!("{name} < {a}"), "<-addr"),
            2 => one(format!("{name} not in {{{a}}}"), "not in"),
            _ => {
                let other = if name.starts_with("ipv6") {
                    "ipv6.dst"
                } else {
                    "ip.dst"
                };
                Atom {
                    text: format!("{name} == {other}"),
                    fields: vec![name, other],
                    constructs: vec!["field-to-field"],
                }
            }
        },
        (FieldType::Mac, Val::Mac(m)) => {
            let h: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
            match rng.below(4) {
                0 => one(
                    format!(
                        "{name} == {}{}.{}{}.{}{}",
                        h[0], h[1], h[2], h[3], h[4], h[5]
                    ),
                    "mac-dotted",
                ),
                1 => one(format!("{name} == {}", h.concat()), "mac-bare"),
                2 => one(format!("{name} == {}", h.join("-")), "mac-dashes"),
                _ => one(format!("{name} contains {}:{}", h[1], h[2]), "contains-mac"),
            }
        }
        (FieldType::Bytes | FieldType::Text, Val::Bytes(b)) if !b.is_empty() => {
            let c = b[0];
            match rng.below(9) {
                0 => one(
                    format!(
                        "{name}[0:{}] == {}",
                        b.len().min(2),
                        colons(&b[..b.len().min(2)])
                    ),
                    "slice",
                ),
                1 => one(format!("len({name}) == {}", b.len()), "len"),
                2 => one(
                    format!(
                        "lower({name}) contains \"{}\"",
                        (c as char).to_ascii_lowercase().escape_default()
                    ),
                    "lower",
                ),
                3 => one(
                    format!(
                        "upper({name}) contains \"{}\"",
                        (c as char).to_ascii_uppercase().escape_default()
                    ),
                    "upper",
                ),
                4 => one(format!("{name} matches \"^\\\\x{c:02x}\""), "matches"),
                5 => one(format!("{name} contains \"\\x{c:02x}\""), "escape"),
                6 => one(format!("{name} contains \"\\{c:03o}\""), "escape"),
                7 if c.is_ascii_alphanumeric() => {
                    one(format!("{name}[0] == '{}'", c as char), "char")
                }
                _ => one(format!("{name} > {c:02x}"), "<-bytes"),
            }
        }
        (FieldType::Status, _) => one(
            format!("{name} == {}", rng.pick(&["\"Good\"", "2", "1"])),
            "status-as-wireshark",
        ),
        _ => return None,
    };
    Some(a)
}

/// A filter Wireshark refuses (or reads otherwise), as users write them.
fn refused(rng: &mut Rng) -> Atom {
    let (text, field, construct) = *rng.pick(&[
        ("ip.ttl == 300", "ip.ttl", "out-of-range"),
        ("udp.port in {53 123}", "udp.port", "set-without-commas"),
        ("udp.port in {53, 123,}", "udp.port", "set-trailing-comma"),
        ("tcp.flags.syn == true", "tcp.flags.syn", "lowercase-bool"),
        ("ip.addr == ::1", "ip.addr", "address-family"),
        (
            "udp.checksum.status == \"Good\"",
            "udp.checksum.status",
            "status-as-wireshark",
        ),
        ("icmp", "icmp.type", "protocol-name"),
        ("frame", "frame.number", "protocol-name"),
    ]);
    Atom {
        text: text.to_string(),
        fields: vec![field],
        constructs: vec![construct],
    }
}
