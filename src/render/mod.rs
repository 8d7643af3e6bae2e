//! Pictures of findings that people paste elsewhere: SVG ladder diagrams,
//! Mermaid sequence diagrams, markdown summaries (for
//! `$GITHUB_STEP_SUMMARY`) and a one-file HTML report. Each renders the typed
//! values ([`Conversation`](crate::flow::Conversation),
//! [`Report`](crate::Report), the harness outcomes) and nothing else: no
//! renderer reads another's text.
//!
//! Every output is byte-reproducible for a given input: no rendering time,
//! no random ids, conversations and frames in capture order.

pub mod html;
pub mod markdown;
pub mod mermaid;
pub mod svg;

/// Text made safe for XML and HTML, in element content and quoted attributes.
///
/// ```
/// assert_eq!(lola::render::escape(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
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
