//! "Did you mean": the nearest name of the field registry to a name lola
//! does not know (`ip.ttl2` → `ip.ttl`), by edit distance.
//!
//! Lives here, beside the words for people, because the CLI is its first
//! user (`diff --ignore`); the expectation file and predicate parsers in
//! `check/` may not import `report/` and would call a copy placed in
//! `packet/fields/`.

use crate::packet::fields::FIELDS;

/// The field names `lola diff` compares that the registry spells
/// differently or does not hold (the diff's own rows).
pub const DIFF_ONLY: &[&str] = &["data", "transport", "vlan.id", "ip.flags", "tcp.flags"];

/// True when `name` is a field of the registry or a row of `lola diff`.
pub fn is_field(name: &str) -> bool {
    FIELDS.iter().any(|f| f.name == name) || DIFF_ONLY.contains(&name)
}

/// The registry's name nearest to `name`, when one is near enough to be
/// what was meant: at most one edit for short names, a third of the
/// length for long ones.
///
/// ```
/// use lola::report::suggest::suggest;
/// assert_eq!(suggest("ip.ttl2"), Some("ip.ttl"));
/// assert_eq!(suggest("udp.dport"), Some("udp.dstport"));
/// assert_eq!(suggest("nonsense.entirely"), None);
/// ```
pub fn suggest(name: &str) -> Option<&'static str> {
    // tcpdump's words for the ports: `dport`, `sport`.
    let spelled = name
        .replace(".dport", ".dstport")
        .replace(".sport", ".srcport");
    if let Some(f) = FIELDS.iter().find(|f| f.name == spelled) {
        return Some(f.name);
    }
    nearest(
        name,
        FIELDS
            .iter()
            .map(|f| f.name)
            .chain(DIFF_ONLY.iter().copied()),
    )
}

/// The word of `among` nearest to `name`, when near enough.
pub fn nearest(name: &str, among: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    let limit = (name.chars().count() / 3).max(1);
    among
        .map(|candidate| (distance(name, candidate), candidate))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance: the fewest insertions, deletions and
/// substitutions of characters that turn `a` into `b`.
///
/// ```
/// use lola::report::suggest::distance;
/// assert_eq!(distance("kitten", "sitting"), 3);
/// assert_eq!(distance("", "abc"), 3);
/// ```
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_name_is_a_field_and_suggests_itself() {
        for f in FIELDS {
            assert!(is_field(f.name));
            assert_eq!(suggest(f.name), Some(f.name));
        }
    }

    #[test]
    fn far_names_get_no_suggestion() {
        assert_eq!(suggest("zz"), None);
        assert!(!is_field("ip.ttl2"));
    }
}
