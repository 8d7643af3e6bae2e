//! Conversations drawn as text: the ladder diagram of `lola flow` and
//! `lola compare`, its legend, the one-line summary and two columns side by
//! side, with the colours of each frame's role.

use std::fmt::Write as _;

use crate::check::flow::{Conversation, Flows, Role};

/// Whether to colour what goes to stdout, as anstream decides it: never with
/// `NO_COLOR` set (<https://no-color.org>), always with `CLICOLOR_FORCE`
/// set, else on a terminal that supports colour.
///
/// ```
/// let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
/// if no_color {
///     assert!(!lola::report::ladder::use_color());
/// }
/// ```
pub fn use_color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// Draws a conversation as a ladder diagram `width` columns wide.
///
/// ```text
///  time (ms)  127.0.0.1:51844                            127.0.0.1:7456
///      0.000  |---------------- SYN · 74 B ---------------->|
///      0.136  |<------------ SYN, ACK · 74 B ---------------|
/// ```
///
/// For the TCP connection of `fixtures/seed-tcp.pcap`:
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// use lola::report::ladder::ladder;
/// let c = &flows.conversations[0];
/// let text = ladder(c, 80, false);
/// assert_eq!(text.lines().count(), 1 + 8); // the endpoints, then one arrow per frame
/// assert!(text.lines().all(|line| line.chars().count() <= 80));
/// assert!(text.lines().nth(2).unwrap().contains("|<") && text.contains(" SYN, ACK · 74 B "));
/// assert!(ladder(c, 80, true).contains("\x1b[33m")); // the handshake in yellow
/// ```
pub fn ladder(c: &Conversation, width: usize, color: bool) -> String {
    let width = width.max(50);
    let time_w = 11;
    let span = width - time_w - 2; // between the two '|' axes
    let mut out = String::new();
    let left = c.left.to_string();
    let right = c.right.to_string();
    let gap = (span + 2).saturating_sub(left.len() + right.len()).max(1);
    let _ = writeln!(
        out,
        "{:>time_w$}{left}{}{right}",
        "time (ms) ",
        " ".repeat(gap)
    );
    for a in &c.arrows {
        let mut label = format!(" {} ", super::payload::caption(a));
        let inner = span.saturating_sub(1); // one cell for the arrow head
        if label.chars().count() + 2 > inner {
            label = label.chars().take(inner.saturating_sub(2)).collect();
        }
        let dashes = inner - label.chars().count();
        let (l, r) = (dashes / 2, dashes - dashes / 2);
        let body = format!("{}{label}{}", "-".repeat(l), "-".repeat(r));
        let arrow = if a.rightward {
            format!("|{body}>|")
        } else {
            format!("|<{body}|")
        };
        let arrow = if color { paint(&arrow, a.role) } else { arrow };
        let ms = a.time.as_secs_f64() * 1000.0;
        let _ = writeln!(out, "{:>w$.3}  {arrow}", ms, w = time_w - 2);
    }
    if c.frames > c.arrows.len() as u64 {
        let _ = writeln!(
            out,
            "{:>time_w$}... {} more frames",
            "",
            c.frames - c.arrows.len() as u64
        );
    }
    out
}

/// What the ladder's words and colours mean, in lines of at most 80 columns;
/// with `color`, each role's name in its colour.
///
/// ```
/// let legend = lola::report::ladder::legend(false);
/// assert!(legend.starts_with("legend: "));
/// assert!(legend.lines().all(|l| l.chars().count() <= 80));
/// assert!(lola::report::ladder::legend(true).contains("\x1b[33mhandshake\x1b[0m"));
/// ```
pub fn legend(color: bool) -> String {
    legend_of(false, color)
}

/// The legend of `flows`' ladders: [`legend`], saying also what the
/// quoted text or hex after a payload's size is when the arrows show
/// their first bytes (`lola flow --payload`, `lola exec`).
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows_with_payloads(reader).unwrap();
/// let legend = lola::report::ladder::legend_for(&flows, false);
/// assert!(legend.contains(r#""N B "text"" its payload's"#), "{legend}");
/// assert!(legend.contains("size and first bytes (hex when not text"), "{legend}");
/// assert!(legend.lines().all(|l| l.chars().count() <= 80));
/// ```
pub fn legend_for(flows: &Flows, color: bool) -> String {
    let previews = flows
        .conversations
        .iter()
        .any(|c| c.arrows.iter().any(|a| !a.payload.is_empty()));
    legend_of(previews, color)
}

fn legend_of(previews: bool, color: bool) -> String {
    let mut text =
        "legend: one arrow per frame, from its sender; time since the first frame;\n".to_string();
    if previews {
        text += "        \"N B\" is the frame's size on the wire, \"N B \"text\"\" its payload's\n\
                 \x20       size and first bytes (hex when not text; … when more follow)\n";
    } else {
        text += "        \"N B\" is the frame's size on the wire, \"N B data\" its payload\n";
    }
    if color {
        let roles: Vec<String> = Role::ALL.iter().map(|&r| paint(r.name(), r)).collect();
        let _ = writeln!(text, "        colours: {}", roles.join(", "));
    }
    text
}

fn paint(s: &str, role: Role) -> String {
    use anstyle::{AnsiColor, Style};
    let style = match role {
        Role::Handshake => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Role::Data => Style::new().fg_color(Some(AnsiColor::Green.into())),
        Role::Ack => Style::new().dimmed(),
        Role::Teardown => Style::new().fg_color(Some(AnsiColor::Red.into())),
        Role::Icmp => Style::new().fg_color(Some(AnsiColor::Magenta.into())),
    };
    format!("{style}{s}{style:#}")
}

/// A two-line summary of a conversation (each line fits 80 columns for
/// IPv4 endpoints).
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// assert_eq!(
///     lola::report::ladder::summary_line(&flows.conversations[0]),
///     "TCP 127.0.0.1:51844 ⇄ 127.0.0.1:7456\n  8 frames, 554 bytes on the wire, 3 handshake, 3 teardown"
/// );
/// ```
pub fn summary_line(c: &Conversation) -> String {
    format!("{}\n  {}", c.title(), c.tally())
}

impl Conversation {
    /// `UDP 127.0.0.1:40000 ⇄ 127.0.0.1:7456`.
    pub fn title(&self) -> String {
        format!("{} {} ⇄ {}", self.protocol, self.left, self.right)
    }

    /// `8 frames, 554 bytes on the wire, 3 handshake, 3 teardown`.
    pub fn tally(&self) -> String {
        format!(
            "{} {}, {} bytes on the wire, {} handshake, {} teardown",
            self.frames,
            if self.frames == 1 { "frame" } else { "frames" },
            self.bytes,
            self.handshake,
            self.teardown
        )
    }
}

/// The summary table `lola compare` prints: one column per conversation.
///
/// ```text
///                                        TCP         UDP
/// frames                                   8           1
/// ```
///
/// A column without a conversation shows `-`:
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let table = lola::report::ladder::side_by_side(&[("TCP", Some(&flows.conversations[0])), ("UDP", None)]);
/// let frames: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
/// assert_eq!(frames, ["frames", "8", "-"]);
/// ```
pub fn side_by_side(columns: &[(&str, Option<&Conversation>)]) -> String {
    let mut out = format!("{:30}", "");
    for (name, _) in columns {
        let _ = write!(out, "{name:>12}");
    }
    out.push('\n');
    for (label, cells) in summary_rows(columns) {
        let _ = write!(out, "{label:30}");
        for cell in cells {
            let _ = write!(out, "{cell:>12}");
        }
        out.push('\n');
    }
    out
}

/// The rows of the summary table, each a label and one cell per column
/// (`-` where a column has no conversation): what [`side_by_side`] prints
/// and the markdown and HTML renderers tabulate.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// let rows = lola::report::ladder::summary_rows(&[("TCP", Some(&flows.conversations[0])), ("UDP", None)]);
/// assert_eq!(rows[0], ("frames", vec!["8".to_string(), "-".to_string()]));
/// assert_eq!(rows[4].1[0], "0.388 ms");
/// ```
pub fn summary_rows(columns: &[(&str, Option<&Conversation>)]) -> Vec<(&'static str, Vec<String>)> {
    type Cell = fn(&Conversation) -> String;
    let rows: [(&str, Cell); 5] = [
        ("frames", |c| c.frames.to_string()),
        ("bytes on the wire", |c| c.bytes.to_string()),
        ("handshake frames", |c| c.handshake.to_string()),
        ("teardown frames", |c| c.teardown.to_string()),
        ("first frame → data at server", |c| {
            c.time_to_data
                .map(|d| format!("{:.3} ms", d.as_secs_f64() * 1000.0))
                .unwrap_or_else(|| "-".into())
        }),
    ];
    rows.iter()
        .map(|(label, cell)| {
            let cells = columns
                .iter()
                .map(|(_, c)| c.map(cell).unwrap_or_else(|| "-".into()))
                .collect();
            (*label, cells)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;
    use crate::check::flow::flows;

    fn seed_tcp() -> crate::check::flow::Flows {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed-tcp.pcap");
        flows(CaptureReader::open(path.as_ref()).unwrap()).unwrap()
    }

    #[test]
    fn the_ladder_fits_80_columns_without_colour_codes() {
        let f = seed_tcp();
        let text = ladder(&f.conversations[0], 80, false);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{line:?} is {} wide",
                line.chars().count()
            );
        }
        assert!(!text.contains('\x1b'));
        assert!(text.contains("SYN, ACK"), "{text}");
        assert_eq!(text.lines().count(), 9);
    }
}
