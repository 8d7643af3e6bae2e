//! "Did you mean": the nearest name of the field registry to a name lola
//! does not know (`ip.ttl2` → `ip.ttl`, `udp.dstprot` → `udp.dstport`), by
//! edit distance. Beside the registry so that every reader of field names
//! uses it: predicates and expectation files (`check/expect/filter`) and
//! `diff --ignore`, whose own rows it adds with [`suggest_among`].

use crate::packet::fields::FIELDS;

/// The registry's name nearest to `name`, when one is near enough to be
/// what was meant: at most one edit for short names, a third of the
/// length for long ones.
///
/// ```
/// use lola::packet::fields::suggest::suggest;
/// assert_eq!(suggest("ip.ttl2"), Some("ip.ttl"));
/// assert_eq!(suggest("udp.dport"), Some("udp.dstport"));
/// assert_eq!(suggest("udp.dstprot"), Some("udp.dstport"));
/// assert_eq!(suggest("nonsense.entirely"), None);
/// ```
pub fn suggest(name: &str) -> Option<&'static str> {
    suggest_among(name, &[])
}

/// [`suggest`], with `extra` names beside the registry's (a command's own
/// rows, such as `lola diff`'s `transport`).
pub fn suggest_among(name: &str, extra: &[&'static str]) -> Option<&'static str> {
    // No field name is this long: a long word is no misspelling, and its
    // edit distance would cost its length times every name's.
    if name.len() > 64 {
        return None;
    }
    // tcpdump's words for the ports: `dport`, `sport`.
    let spelled = name
        .replace(".dport", ".dstport")
        .replace(".sport", ".srcport");
    if let Some(f) = FIELDS.iter().find(|f| f.name == spelled) {
        return Some(f.name);
    }
    nearest(
        name,
        FIELDS.iter().map(|f| f.name).chain(extra.iter().copied()),
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
/// use lola::packet::fields::suggest::distance;
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
    fn every_registry_name_suggests_itself() {
        for f in FIELDS {
            assert_eq!(suggest(f.name), Some(f.name));
        }
    }

    #[test]
    fn far_names_get_no_suggestion() {
        assert_eq!(suggest("zz"), None);
        assert_eq!(suggest_among("transprt", &["transport"]), Some("transport"));
    }
}
