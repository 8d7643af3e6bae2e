//! The first bytes of an arrow's data in its label, as `tshark -z
//! follow,udp` shows a stream: text when they are printable (`"ping 0"`),
//! else hex (`de ad be ef`). Every ladder (terminal, SVG, Mermaid,
//! markdown, HTML) labels its arrows with [`caption`].
//!
//! The cut: at most [`TEXT_BYTES`] bytes as text, [`HEX_BYTES`] as hex, then
//! `…`; a label stays one short line. Text is quoted, with `\`, `"`, tab,
//! CR and LF escaped as in a Rust or C string, so it is one line of
//! printable ASCII: nothing a terminal acts on, and each renderer's own
//! escaping (XML for SVG and HTML, entity codes for Mermaid) still applies.

use crate::check::flow::Arrow;

/// Bytes of data a label shows as text.
pub const TEXT_BYTES: usize = 16;
/// Bytes of data a label shows as hex.
pub const HEX_BYTES: usize = 8;

/// `bytes` (the first of `total` bytes of data) as a label shows them:
/// quoted text when every byte shown is printable ASCII, a tab, CR or LF,
/// else hex; `…` when more bytes follow.
///
/// ```
/// use lola::report::payload::preview;
/// assert_eq!(preview(b"ping 0", 6), r#""ping 0""#);
/// assert_eq!(preview(b"PING 0\r\n", 8), r#""PING 0\r\n""#);
/// assert_eq!(preview(b"say \"hi\"", 8), r#""say \"hi\"""#);
/// assert_eq!(preview(b"GET / HTTP/1.1\r\nHost: x", 300), r#""GET / HTTP/1.1\r\n"…"#);
/// assert_eq!(preview(&[0xde, 0xad, 0xbe, 0xef], 4), "de ad be ef");
/// assert_eq!(preview(&[0; 12], 12), "00 00 00 00 00 00 00 00…");
/// ```
pub fn preview(bytes: &[u8], total: usize) -> String {
    let text = |b: &u8| matches!(b, b' '..=b'~' | b'\t' | b'\r' | b'\n');
    let shown_text = &bytes[..bytes.len().min(TEXT_BYTES)];
    if !shown_text.is_empty() && shown_text.iter().all(text) {
        let mut out = String::from("\"");
        for &b in shown_text {
            match b {
                b'\\' => out.push_str("\\\\"),
                b'"' => out.push_str("\\\""),
                b'\t' => out.push_str("\\t"),
                b'\r' => out.push_str("\\r"),
                b'\n' => out.push_str("\\n"),
                b => out.push(char::from(b)),
            }
        }
        out.push('"');
        if total > shown_text.len() {
            out.push('…');
        }
        return out;
    }
    let shown = &bytes[..bytes.len().min(HEX_BYTES)];
    let mut out: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
    if total > shown.len()
        && let Some(last) = out.last_mut()
    {
        last.push('…');
    }
    out.join(" ")
}

/// An arrow's label: its [`caption`](Arrow::caption), and, when the flows
/// were read with their payloads, the first bytes of its data after their
/// count (`UDP · 6 B "ping 0" · 48 B`).
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows_with_payloads(reader).unwrap();
/// let arrows = &flows.conversations[0].arrows;
/// assert_eq!(lola::report::payload::caption(&arrows[0]), "SYN · 74 B");
/// assert_eq!(lola::report::payload::caption(&arrows[3]), r#"PSH, ACK · 10 B "Hello Lola" · 76 B"#);
/// ```
pub fn caption(a: &Arrow) -> String {
    if a.payload.is_empty() {
        return a.caption();
    }
    format!(
        "{} · {} B {} · {} B",
        a.label,
        a.data_len,
        preview(&a.payload, a.data_len),
        a.length
    )
}
