//! The words lola prints and reads, in one table per kind: checksum states,
//! verdicts, counts, formats and roles. Reports print these words, the
//! predicate parser reads them, and `docs/glossary.md` is this table written
//! out (a test keeps the two the same), so a value copied from a report into
//! an expectation file means what the report meant.
//!
//! Only words live here, no behaviour: the types that carry them
//! ([`ChecksumState`](crate::packet::decode::ChecksumState), the check's
//! `Verdict`, the flow's `Role`) take their words from this table.

/// One word of the glossary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word {
    /// The word lola prints.
    pub word: &'static str,
    /// What it means, in a few words.
    pub means: &'static str,
    /// Other spellings lola reads as this word (Wireshark's own, and words
    /// earlier versions of lola printed), matched without regard to case.
    pub also: &'static [&'static str],
}

impl Word {
    /// True when `s` is this word or one of its other spellings, in any case.
    ///
    /// ```
    /// use lola::packet::glossary::CHECKSUM_STATES;
    /// assert!(CHECKSUM_STATES[0].word.reads("Good"));
    /// assert!(CHECKSUM_STATES[0].word.reads("correct"));
    /// ```
    pub fn reads(&self, s: &str) -> bool {
        self.word.eq_ignore_ascii_case(s) || self.also.iter().any(|a| a.eq_ignore_ascii_case(s))
    }
}

/// A checksum state, with Wireshark's number for it (`proto_checksum_vals`:
/// 0 Bad, 1 Good, 2 Unverified, 3 Not present, 4 Illegal), which is what a
/// predicate compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChecksumWord {
    /// The word, its meaning and its other spellings.
    pub word: Word,
    /// Wireshark's `*.checksum.status` number for it.
    pub wireshark: i64,
}

const fn state(
    word: &'static str,
    wireshark: i64,
    means: &'static str,
    also: &'static [&'static str],
) -> ChecksumWord {
    ChecksumWord {
        word: Word { word, means, also },
        wireshark,
    }
}

/// Checksum states, in the order of
/// [`ChecksumState`](crate::packet::decode::ChecksumState)'s variants.
/// The words are Wireshark's (`Good`, `Bad`, `Unverified`) in lower case,
/// and lola's own where Wireshark has none (`partial`) or a phrase
/// (`absent` for "Not present").
pub const CHECKSUM_STATES: [ChecksumWord; 5] = [
    state("good", 1, "it verifies", &["correct"]),
    state("bad", 0, "it does not verify", &[]),
    state(
        "partial",
        2,
        "only the pseudo-header sum: left to checksum offload, which never ran (Wireshark: Unverified)",
        &[],
    ),
    state(
        "absent",
        3,
        "zero in a UDP-over-IPv4 header: no checksum, which IPv4 allows",
        &["none", "not present", "not_present"],
    ),
    state(
        "unverified",
        2,
        "too little of the datagram was captured to verify it",
        &[],
    ),
];

/// Wireshark's status word lola never prints: a checksum field that cannot
/// hold a checksum.
pub const CHECKSUM_ILLEGAL: ChecksumWord = state("illegal", 4, "Wireshark only", &[]);

/// Wireshark's number for a checksum state word (any spelling the table
/// reads), or None.
///
/// ```
/// use lola::packet::glossary::checksum_number;
/// assert_eq!(checksum_number("good"), Some(1));
/// assert_eq!(checksum_number("Not present"), Some(3));
/// assert_eq!(checksum_number("none"), Some(3));
/// assert_eq!(checksum_number("fine"), None);
/// ```
pub fn checksum_number(word: &str) -> Option<i64> {
    CHECKSUM_STATES
        .iter()
        .chain([&CHECKSUM_ILLEGAL])
        .find(|s| s.word.reads(word))
        .map(|s| s.wireshark)
}

/// The verdict words every command prints and every JSON document's
/// `verdict` holds, in the order of the check's `Verdict`.
pub const VERDICTS: [Word; 3] = [
    Word {
        word: "pass",
        means: "the capture holds what was expected (exit status 0)",
        also: &[],
    },
    Word {
        word: "fail",
        means: "it does not (exit status 1)",
        also: &[],
    },
    Word {
        word: "error",
        means: "no verdict could be reached: a file could not be read, a flag was wrong (exit status 2)",
        also: &[],
    },
];

/// Words of a verdict's detail: `diff`'s `result`, beside its verdict.
pub const DIFF_RESULTS: [Word; 2] = [
    Word {
        word: "same",
        means: "the two captures agree on every compared field (verdict pass)",
        also: &[],
    },
    Word {
        word: "different",
        means: "they do not (verdict fail)",
        also: &[],
    },
];

/// What lola counts, and the noun it counts them with.
pub const COUNTS: [Word; 5] = [
    Word {
        word: "frame",
        means: "a record of a capture file, whatever it holds (`capture -c/--max-frames N` stops after N, `check --frames N` lists N, `--frames all` every one)",
        also: &[],
    },
    Word {
        word: "datagram",
        means: "one UDP payload as a socket saw it (`listen --datagrams N`)",
        also: &[],
    },
    Word {
        word: "match",
        means: "a datagram an expectation counts (`check --exactly N`, `--at-least N`, `--at-most N`)",
        also: &[],
    },
    Word {
        word: "segment",
        means: "one TCP segment",
        also: &[],
    },
    Word {
        word: "claim",
        means: "an `[[expect]]` or rule of an expectation file, which holds or fails (`PASS file: 2 claims held in 8 frames`)",
        also: &[],
    },
];

/// File formats: what `--format` chooses, where a command writes a file.
pub const FORMATS: [Word; 2] = [
    Word {
        word: "pcap",
        means: "libpcap's classic capture file",
        also: &[],
    },
    Word {
        word: "pcapng",
        means: "the pcap next generation capture file",
        also: &[],
    },
];

/// Drawings: what `--draw` chooses (or the output's extension) in `flow` and
/// `compare`.
pub const DRAWINGS: [Word; 4] = [
    Word {
        word: "text",
        means: "a ladder of arrows for the terminal (any other extension)",
        also: &[],
    },
    Word {
        word: "svg",
        means: "an SVG picture (`.svg`)",
        also: &[],
    },
    Word {
        word: "mermaid",
        means: "a Mermaid sequence diagram (`.mmd`, `.mermaid`)",
        also: &[],
    },
    Word {
        word: "markdown",
        means: "Mermaid in a Markdown fence (`.md`)",
        also: &[],
    },
];

/// The roles a conversation's frames play, in the order of the flow's `Role`.
pub const ROLES: [Word; 5] = [
    Word {
        word: "handshake",
        means: "SYN, SYN/ACK and the ACK that completes the handshake",
        also: &[],
    },
    Word {
        word: "data",
        means: "a segment or datagram carrying data",
        also: &[],
    },
    Word {
        word: "ack",
        means: "a bare acknowledgement of data",
        also: &[],
    },
    Word {
        word: "teardown",
        means: "FIN or RST, and acknowledgements after the first FIN",
        also: &[],
    },
    Word {
        word: "ICMP",
        means: "an ICMP error about the conversation",
        also: &[],
    },
];

/// `n` and the noun, plural unless `n` is 1: `1 frame`, `2 frames`,
/// `0 matches`.
///
/// ```
/// use lola::packet::glossary::count;
/// assert_eq!(count(1, "frame"), "1 frame");
/// assert_eq!(count(0, "match"), "0 matches");
/// assert_eq!(count(3, "datagram"), "3 datagrams");
/// ```
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if noun.ends_with("ch") || noun.ends_with('s') || noun.ends_with('x') {
        format!("{n} {noun}es")
    } else {
        format!("{n} {noun}s")
    }
}

/// The glossary as the Markdown page `docs/glossary.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Glossary\n\n\
         The words lola prints, and the other spellings it reads as the same word.\n\
         Generated from `src/packet/glossary.rs` (`LOLA_BLESS=1 cargo test --lib glossary` rewrites it):\n\
         a report and a predicate use these words, so a value copied from a report into an expectation\n\
         file means what the report meant.\n",
    );
    let section = |out: &mut String, title: &str, intro: &str, words: &[Word]| {
        out.push_str(&format!(
            "\n## {title}\n\n{intro}\n\n| word | means | also read |\n|---|---|---|\n"
        ));
        for w in words {
            let also: Vec<String> = w.also.iter().map(|a| format!("`{a}`")).collect();
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                w.word,
                w.means,
                also.join(", ")
            ));
        }
    };
    out.push_str(
        "\n## Checksum states\n\n\
         Text and JSON reports (`ip.checksum.status good`, `\"ip_checksum\": \"good\"`), `--emit` rows (`\"udp.checksum.status\": \"good\"`) and\n\
         predicates (`udp.checksum.status == good`) use the same words. A predicate compares Wireshark's\n\
         number, so it also reads Wireshark's words (`\"Good\"`, `\"Not present\"`, `\"Illegal\"`) and numbers.\n\n\
         | word | Wireshark | means | also read |\n|---|---|---|---|\n",
    );
    for s in CHECKSUM_STATES.iter().chain([&CHECKSUM_ILLEGAL]) {
        let also: Vec<String> = s.word.also.iter().map(|a| format!("`{a}`")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            s.word.word,
            s.wireshark,
            s.word.means,
            also.join(", ")
        ));
    }
    section(
        &mut out,
        "Verdicts",
        "Every command's verdict line (`PASS file: ...`) and every JSON document's `verdict`.",
        &VERDICTS,
    );
    section(
        &mut out,
        "Diff results",
        "`diff --json` keeps its finding as `result`, a detail beside `verdict`.",
        &DIFF_RESULTS,
    );
    section(
        &mut out,
        "Counts",
        "Each count flag is named by what it counts; `1 frame`, `2 frames`.",
        &COUNTS,
    );
    section(
        &mut out,
        "File formats",
        "`--format` always means the format of a file lola writes.",
        &FORMATS,
    );
    section(
        &mut out,
        "Drawings",
        "`flow` and `compare` choose a drawing by `--draw` or by the output's extension; the two must agree.",
        &DRAWINGS,
    );
    section(
        &mut out,
        "Roles",
        "What each frame of a conversation is for, in `flow`.",
        &ROLES,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_as_itself_and_no_two_words_share_a_spelling() {
        let all: Vec<&Word> = CHECKSUM_STATES.iter().map(|s| &s.word).collect();
        for (i, a) in all.iter().enumerate() {
            assert!(a.reads(a.word));
            for b in &all[i + 1..] {
                assert!(!b.reads(a.word), "{} reads as {}", a.word, b.word);
                for s in a.also {
                    assert!(!b.reads(s), "{s} reads as both {} and {}", a.word, b.word);
                }
            }
        }
    }

    #[test]
    fn docs_glossary_is_the_table_written_out() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/glossary.md");
        if std::env::var_os("LOLA_BLESS").is_some() {
            std::fs::write(path, markdown()).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == markdown(),
            "docs/glossary.md differs from src/packet/glossary.rs; re-bless with LOLA_BLESS=1 cargo test --lib glossary"
        );
    }
}
