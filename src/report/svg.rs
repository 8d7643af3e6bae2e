//! Ladder diagrams as SVG: one column per endpoint, one arrow per frame,
//! time on the left, the handshake and teardown shaded and named, and a
//! legend. Self-contained (system fonts, no scripts, no links), with colours
//! for light and dark backgrounds (`prefers-color-scheme`), so it reads in a
//! GitHub README in either theme.

use std::fmt::Write as _;

use super::escape;
use crate::check::flow::{Conversation, Role, groups};

/// One ladder with its title.
#[derive(Clone, Copy, Debug)]
pub struct Panel<'a> {
    /// Written above the ladder (`TCP`, `UDP`, the file name...).
    pub title: &'a str,
    /// The conversation, or `None` for an empty panel ("no frames").
    pub conversation: Option<&'a Conversation>,
}

/// Whether the SVG stands alone (a `.svg` file) or sits inside an HTML page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Embedding {
    /// A file of its own, with the XML namespace.
    Standalone,
    /// Inline in HTML, where the namespace is implied.
    Inline,
}

const PANEL_W: u32 = 430;
const MARGIN: u32 = 16;
const ROW_H: u32 = 30;
const TOP: u32 = 96; // the first arrow's line
const LEFT_AXIS: u32 = 104;
const RIGHT_AXIS: u32 = PANEL_W - 64;
const LEGEND_H: u32 = 64;

const STYLE: &str = "\
.ll text{font-family:-apple-system,'Segoe UI',Helvetica,Arial,'Liberation Sans',sans-serif;font-size:12px;fill:#1f2328}\
.ll .mono{font-size:11px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono','DejaVu Sans Mono',monospace}\
.ll .bg{fill:#ffffff}\
.ll .title{font-size:15px;font-weight:600}\
.ll text.muted{fill:#59636e}.ll text.small{font-size:10.5px}\
.ll .axis{stroke:#818b98;stroke-width:1;stroke-dasharray:3 3}\
.ll .box{fill:#f6f8fa;stroke:#d1d9e0}\
.ll .rule{stroke:#d1d9e0;stroke-width:1}\
.ll .handshake line{stroke:#9a6700}.ll .handshake text,.ll .handshake polygon{fill:#9a6700}\
.ll .data line{stroke:#1a7f37}.ll .data text,.ll .data polygon{fill:#1a7f37}\
.ll .ack line{stroke:#59636e}.ll .ack text,.ll .ack polygon{fill:#59636e}\
.ll .teardown line{stroke:#cf222e}.ll .teardown text,.ll .teardown polygon{fill:#cf222e}\
.ll .icmp line{stroke:#8250df}.ll .icmp text,.ll .icmp polygon{fill:#8250df}\
.ll g line{stroke-width:1.6}\
.ll rect.handshake{fill:#d29922;fill-opacity:.12}.ll rect.teardown{fill:#f85149;fill-opacity:.10}\
@media (prefers-color-scheme:dark){\
.ll text{fill:#e6edf3}.ll .bg{fill:#0d1117}.ll text.muted{fill:#9198a1}\
.ll .box{fill:#151b23;stroke:#3d444d}.ll .axis{stroke:#656c76}.ll .rule{stroke:#3d444d}\
.ll .handshake line{stroke:#d29922}.ll .handshake text,.ll .handshake polygon{fill:#d29922}\
.ll .data line{stroke:#3fb950}.ll .data text,.ll .data polygon{fill:#3fb950}\
.ll .ack line{stroke:#9198a1}.ll .ack text,.ll .ack polygon{fill:#9198a1}\
.ll .teardown line{stroke:#f85149}.ll .teardown text,.ll .teardown polygon{fill:#f85149}\
.ll .icmp line{stroke:#a371f7}.ll .icmp text,.ll .icmp polygon{fill:#a371f7}\
.ll rect.handshake{fill-opacity:.16}.ll rect.teardown{fill-opacity:.14}}";

/// The CSS class of a role, as the legend names it.
fn class(role: Role) -> &'static str {
    match role {
        Role::Handshake => "handshake",
        Role::Data => "data",
        Role::Ack => "ack",
        Role::Teardown => "teardown",
        Role::Icmp => "icmp",
    }
}

/// Rows a panel needs: one per arrow, one for "N more frames".
fn rows(c: Option<&Conversation>) -> u32 {
    match c {
        Some(c) => {
            let more = c.frames > c.arrows.len() as u64;
            c.arrows.len() as u32 + u32::from(more)
        }
        None => 1,
    }
}

/// The panels side by side, with one legend below, as an SVG document.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/seed-tcp.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// use lola::report::svg::{ladders, Embedding, Panel};
/// let panel = Panel { title: "TCP", conversation: Some(&flows.conversations[0]) };
/// let svg = ladders(&[panel], Embedding::Standalone);
/// assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"462\""));
/// assert!(svg.contains(">SYN, ACK · 74 B</text>") && svg.contains(">handshake</text>"));
/// ```
pub fn ladders(panels: &[Panel<'_>], embedding: Embedding) -> String {
    grid(panels, panels.len().max(1), embedding)
}

/// The picture `lola compare -o FILE.svg` draws: the TCP connection and the UDP
/// datagram side by side.
///
/// ```
/// let open = |name: &str| {
///     let reader = lola::capture::CaptureReader::open(format!("fixtures/{name}").as_ref()).unwrap();
///     lola::check::flow::flows(reader).unwrap().conversations.remove(0)
/// };
/// let (tcp, udp) = (open("seed-tcp.pcap"), open("seed-ipv4.pcap"));
/// let svg = lola::report::svg::tcp_and_udp(Some(&tcp), Some(&udp));
/// assert!(svg.contains(">TCP</text>") && svg.contains(">UDP</text>"));
/// ```
pub fn tcp_and_udp(tcp: Option<&Conversation>, udp: Option<&Conversation>) -> String {
    let panels = [
        Panel {
            title: "TCP",
            conversation: tcp,
        },
        Panel {
            title: "UDP",
            conversation: udp,
        },
    ];
    ladders(&panels, Embedding::Standalone)
}

/// The panels `per_row` to a row (the rows one under the other), with one
/// legend below: `lola flow --format svg` stacks a capture's conversations.
///
/// ```
/// # let reader = lola::capture::CaptureReader::open("fixtures/other-flows.pcap".as_ref()).unwrap();
/// let flows = lola::check::flow::flows(reader).unwrap();
/// use lola::report::svg::{grid, Embedding, Panel};
/// let panels: Vec<Panel> = flows.conversations.iter()
///     .map(|c| Panel { title: c.protocol, conversation: Some(c) })
///     .collect();
/// let svg = grid(&panels, 1, Embedding::Standalone);
/// // One column of 1, 8 and 1 arrows: three headers of 96, 10 rows of 30,
/// // two gaps of 8 and the legend's 64.
/// assert!(svg.contains(" width=\"462\" height=\"668\""), "{svg}");
/// ```
pub fn grid(panels: &[Panel<'_>], per_row: usize, embedding: Embedding) -> String {
    let per_row = per_row.max(1);
    let columns = panels.len().clamp(1, per_row) as u32;
    let width = MARGIN + columns * (PANEL_W + MARGIN);
    // Each row of panels is as tall as its tallest ladder.
    let mut tops = Vec::new();
    let mut y = 0;
    for row in panels.chunks(per_row) {
        let tallest = row.iter().map(|p| rows(p.conversation)).max().unwrap_or(1);
        tops.push((y, y + TOP + tallest * ROW_H));
        y += TOP + tallest * ROW_H + 8;
    }
    let legend_y = tops.last().map(|&(_, bottom)| bottom).unwrap_or(TOP);
    let height = legend_y + LEGEND_H;
    let titles: Vec<&str> = panels.iter().map(|p| p.title).collect();
    let xmlns = match embedding {
        Embedding::Standalone => " xmlns=\"http://www.w3.org/2000/svg\"",
        Embedding::Inline => "",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg{xmlns} width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" class=\"ll\" role=\"img\">\
         <title>{}</title><style>{STYLE}</style>\
         <rect class=\"bg\" x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\"/>",
        escape(&format!("Ladder diagram: {}", titles.join(" and ")))
    );
    for (i, panel) in panels.iter().enumerate() {
        let x0 = MARGIN + (i % per_row) as u32 * (PANEL_W + MARGIN);
        let (y0, bottom) = tops[i / per_row];
        draw_panel(&mut out, x0, y0, bottom, panel);
    }
    let previews = panels.iter().any(|p| {
        p.conversation
            .is_some_and(|c| c.arrows.iter().any(|a| !a.payload.is_empty()))
    });
    draw_legend(&mut out, legend_y, width, previews);
    out.push_str("</svg>\n");
    out
}

fn draw_panel(out: &mut String, x0: u32, y0: u32, bottom: u32, panel: &Panel<'_>) {
    let _ = writeln!(
        out,
        "<text class=\"title\" x=\"{x0}\" y=\"{}\">{}</text>",
        y0 + 20,
        escape(panel.title)
    );
    let Some(c) = panel.conversation else {
        let _ = writeln!(
            out,
            "<text class=\"muted\" x=\"{x0}\" y=\"{}\">(no frames)</text>",
            y0 + TOP
        );
        return;
    };
    let _ = writeln!(
        out,
        "<text class=\"muted\" x=\"{x0}\" y=\"{}\">{} {}, {} B on the wire</text>",
        y0 + 37,
        c.frames,
        if c.frames == 1 { "frame" } else { "frames" },
        c.bytes
    );
    draw_axes(out, x0, y0, bottom, c);
    draw_phases(out, x0, y0, c);
    draw_arrows(out, x0, y0, c);
}

/// The line of arrow row `i` of a panel whose top is `y0`.
fn row_y(y0: u32, i: usize) -> u32 {
    y0 + TOP + i as u32 * ROW_H
}

/// The time column's heading and the two endpoints: an address box over a
/// dashed axis down to `bottom`.
fn draw_axes(out: &mut String, x0: u32, y0: u32, bottom: u32, c: &Conversation) {
    let (la, ra) = (x0 + LEFT_AXIS, x0 + RIGHT_AXIS);
    let _ = writeln!(
        out,
        "<text class=\"muted\" x=\"{}\" y=\"{}\" text-anchor=\"end\">time (ms)</text>",
        x0 + 44,
        y0 + 66
    );
    for (axis, addr) in [(la, c.left), (ra, c.right)] {
        let _ = writeln!(
            out,
            "<rect class=\"box\" x=\"{}\" y=\"{}\" width=\"112\" height=\"26\" rx=\"4\"/>\
             <text class=\"mono\" x=\"{axis}\" y=\"{}\" text-anchor=\"middle\" textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\">{}</text>\
             <line class=\"axis\" x1=\"{axis}\" y1=\"{}\" x2=\"{axis}\" y2=\"{}\"/>",
            axis - 56,
            y0 + 48,
            y0 + 65,
            addr_width(&addr.to_string()),
            escape(&addr.to_string()),
            y0 + 74,
            bottom - 8
        );
    }
}

/// The handshake and teardown, shaded behind their arrows and named.
fn draw_phases(out: &mut String, x0: u32, y0: u32, c: &Conversation) {
    let ra = x0 + RIGHT_AXIS;
    for g in groups(&c.arrows) {
        if !matches!(g.role, Role::Handshake | Role::Teardown) {
            continue;
        }
        let (top, rows) = (row_y(y0, g.arrows.start) - 20, g.arrows.len() as u32);
        let _ = writeln!(
            out,
            "<rect class=\"{0}\" x=\"{1}\" y=\"{top}\" width=\"{2}\" height=\"{3}\" rx=\"3\"/>\
             <g class=\"{0}\"><text x=\"{4}\" y=\"{5}\" font-style=\"italic\">{6}</text></g>",
            class(g.role),
            x0 + 48,
            PANEL_W - 48,
            rows * ROW_H,
            ra + 6,
            top + 14,
            g.role.name()
        );
    }
}

/// One arrow per frame with its time and caption, then a line for the
/// frames not drawn.
fn draw_arrows(out: &mut String, x0: u32, y0: u32, c: &Conversation) {
    let (la, ra) = (x0 + LEFT_AXIS, x0 + RIGHT_AXIS);
    for (i, a) in c.arrows.iter().enumerate() {
        let y = row_y(y0, i);
        let (from, to) = if a.rightward { (la, ra) } else { (ra, la) };
        let head = if a.rightward {
            format!("{},{} {},{} {},{}", to, y, to - 8, y - 4, to - 8, y + 4)
        } else {
            format!("{},{} {},{} {},{}", to, y, to + 8, y - 4, to + 8, y + 4)
        };
        let line_end = if a.rightward { to - 7 } else { to + 7 };
        let _ = writeln!(
            out,
            "<text class=\"mono muted\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.3}</text>\
             <g class=\"{}\"><line x1=\"{from}\" y1=\"{y}\" x2=\"{line_end}\" y2=\"{y}\"/>\
             <polygon points=\"{head}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            x0 + 44,
            y + 4,
            a.time.as_secs_f64() * 1000.0,
            class(a.role),
            (la + ra) / 2,
            y - 5,
            escape(&super::payload::caption(a))
        );
    }
    let more = c.frames.saturating_sub(c.arrows.len() as u64);
    if more > 0 {
        let _ = writeln!(
            out,
            "<text class=\"muted\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">… {more} more frames</text>",
            (la + ra) / 2,
            row_y(y0, c.arrows.len())
        );
    }
}

/// The width an address takes in its box: monospace at 11px, squeezed to
/// fit the box when longer (IPv6).
fn addr_width(addr: &str) -> u32 {
    (addr.chars().count() as u32 * 13 / 2).min(106)
}

fn draw_legend(out: &mut String, y: u32, width: u32, previews: bool) {
    let _ = writeln!(
        out,
        "<line class=\"rule\" x1=\"{MARGIN}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>",
        width - MARGIN
    );
    let mut x = MARGIN;
    for role in Role::ALL {
        let _ = writeln!(
            out,
            "<g class=\"{}\"><line x1=\"{x}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
            class(role),
            y + 20,
            x + 22,
            y + 20,
            x + 28,
            y + 24,
            role.name()
        );
        x += 40 + 7 * role.name().len() as u32;
    }
    let sizes = if previews {
        "“N B”: the frame’s size on the wire; “N B &quot;text&quot;”: payload size, first bytes (hex if not text)."
    } else {
        "“N B”: the frame’s size on the wire; “N B data”: the bytes of payload it carries."
    };
    let _ = writeln!(
        out,
        "<text class=\"muted small\" x=\"{MARGIN}\" y=\"{}\">One arrow per frame, from its sender; time in ms since the first frame.</text>\
         <text class=\"muted small\" x=\"{MARGIN}\" y=\"{}\">{sizes}</text>",
        y + 42,
        y + 57
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    fn conversation(name: &str) -> Conversation {
        let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let flows = crate::check::flow::flows(CaptureReader::open(path.as_ref()).unwrap()).unwrap();
        flows.conversations[0].clone()
    }

    #[test]
    fn every_arrow_is_drawn_once_with_its_time() {
        let c = conversation("seed-tcp.pcap");
        let panel = Panel {
            title: "TCP",
            conversation: Some(&c),
        };
        let svg = ladders(&[panel], Embedding::Standalone);
        assert_eq!(svg.matches("<polygon").count(), 8);
        assert!(svg.contains(">5.033</text>"), "{svg}");
        assert!(svg.contains(">teardown</text>"));
    }

    #[test]
    fn side_by_side_panels_share_one_legend_and_the_height_of_the_tallest() {
        let (tcp, udp) = (
            conversation("seed-tcp.pcap"),
            conversation("seed-ipv4.pcap"),
        );
        let panels = [
            Panel {
                title: "TCP",
                conversation: Some(&tcp),
            },
            Panel {
                title: "UDP",
                conversation: Some(&udp),
            },
        ];
        let svg = ladders(&panels, Embedding::Inline);
        assert!(
            svg.starts_with("<svg width=\"908\" height=\"400\""),
            "{svg}"
        );
        assert_eq!(svg.matches(">One arrow per frame").count(), 1);
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let c = conversation("other-flows.pcap");
        let panel = Panel {
            title: "x",
            conversation: Some(&c),
        };
        assert_eq!(
            ladders(&[panel], Embedding::Standalone),
            ladders(&[panel], Embedding::Standalone)
        );
    }
}
