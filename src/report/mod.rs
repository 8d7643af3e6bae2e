//! Layer 6, every way a result is written for people and machines: terminal
//! text and colour ([`text`], [`ladder`]), the commands' JSON documents
//! (filled by the `to_json` methods of the harness outcomes) and their
//! schema ([`schema`]), NDJSON rows ([`emit`]), JUnit ([`junit`]), SVG ladder
//! diagrams ([`svg`]), Mermaid sequence diagrams ([`mermaid`]), markdown
//! summaries for `$GITHUB_STEP_SUMMARY` ([`markdown`]) and a one-file HTML
//! report ([`html`]), and per-frame comments for an annotated pcapng
//! ([`annotate`]); an arrow's label with its payload ([`payload`]). Each renders the typed values
//! ([`Conversation`](crate::check::flow::Conversation),
//! [`Report`](crate::check::Report), the harness outcomes) and nothing else:
//! no renderer reads another's text.
//!
//! May use every layer below it; nothing in the library imports it.
//!
//! Every output is byte-reproducible for a given input: no rendering time,
//! no random ids, conversations and frames in capture order.

pub mod annotate;
pub mod columns;
pub mod emit;
pub mod html;
mod json;
pub mod junit;
pub mod ladder;
pub mod markdown;
pub mod mermaid;
pub mod payload;
pub mod schema;
pub mod svg;
pub mod text;

pub use json::DraftDocument;

/// Text made safe for XML and HTML, in element content and quoted attributes.
///
/// ```
/// assert_eq!(lola::report::escape(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
