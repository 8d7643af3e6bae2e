//! Mermaid `sequenceDiagram` text, which GitHub and GitLab draw inside a
//! ```` ```mermaid ```` block.

use std::fmt::Write as _;

use crate::check::flow::{Conversation, Role, groups};

/// The conversation as a Mermaid sequence diagram: the two endpoints as
/// participants (`L`, the one that spoke first, and `R`), one message per
/// frame labelled like the ladder's arrows, and the handshake and teardown in
/// shaded, named boxes.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-ipv4.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let text = lola::report::mermaid::sequence(&flows.conversations[0]);
/// assert_eq!(
///     text,
///     "sequenceDiagram\n    participant L as 127.0.0.1:48801\n    participant R as 127.0.0.1:7456\n    L->>R: UDP · 10 B data · 52 B\n"
/// );
/// ```
pub fn sequence(c: &Conversation) -> String {
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(out, "    participant L as {}", words(&c.left.to_string()));
    let _ = writeln!(out, "    participant R as {}", words(&c.right.to_string()));
    for g in groups(&c.arrows) {
        let boxed = matches!(g.role, Role::Handshake | Role::Teardown);
        if boxed {
            let _ = writeln!(out, "    rect {}", shade(g.role));
            let _ = writeln!(out, "    Note over L,R: {}", g.role.name());
        }
        for a in &c.arrows[g.arrows] {
            let (from, to) = if a.rightward { ("L", "R") } else { ("R", "L") };
            let _ = writeln!(
                out,
                "    {from}->>{to}: {}",
                words(&super::payload::caption(a))
            );
        }
        if boxed {
            out.push_str("    end\n");
        }
    }
    let more = c.frames.saturating_sub(c.arrows.len() as u64);
    if more > 0 {
        let _ = writeln!(out, "    Note over L,R: … {more} more frames");
    }
    out
}

/// A translucent shade that reads on light and dark backgrounds.
fn shade(role: Role) -> &'static str {
    match role {
        Role::Handshake => "rgba(210, 153, 34, 0.18)",
        _ => "rgba(248, 81, 73, 0.15)",
    }
}

/// Text Mermaid shows as written: `;` ends a statement and `#` starts an
/// entity there, and `<`, `>` would be markup, so each becomes its entity
/// code.
fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            // A payload's text may hold markup Mermaid would render.
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_and_entity_characters_are_escaped() {
        assert_eq!(words("a;b#c"), "a#59;b#35;c");
        assert_eq!(words("\"<b>\""), "\"#60;b#62;\"");
    }
}
