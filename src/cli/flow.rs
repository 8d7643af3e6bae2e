//! `lola flow`: the ladder diagram of every conversation in a capture, for
//! the terminal, or as SVG, Mermaid or markdown.

use std::io;
use std::path::Path;

use lola::Error;
use lola::capture::{CaptureReader, check_writable, is_standard_output, write_file_atomically};
use lola::check::flow::{Flows, flows, flows_with_payloads};
use lola::report::ladder::{ladder, legend_for, summary_line};
use lola::report::{markdown, mermaid, svg};

use super::args::{DiagramFormat, FlowArgs};
use super::draw::{deprecated, drawing};
use super::output::{Exit, out, out_json};

pub fn run(args: FlowArgs) -> Result<Exit, Error> {
    let file = args.file();
    let name = file.display().to_string();
    let to_file = args.output.as_deref().filter(|p| !is_standard_output(p));
    if let Some(path) = to_file {
        check_writable(path)?;
    }
    let flows = if file == Path::new("-") {
        read(CaptureReader::new(io::stdin().lock(), "-")?, args.payload)?
    } else {
        read(CaptureReader::open(&file)?, args.payload)?
    };
    if args.format.is_some() {
        deprecated("flow", "--format", "--draw (--format is a file format)");
    }
    let format = drawing(args.draw.or(args.format), to_file)?;
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&flows)?)
    } else {
        let (width, color) = (usize::from(args.display.width), args.display.color());
        match format {
            DiagramFormat::Text => text(&name, &flows, width, color && to_file.is_none()),
            DiagramFormat::Svg => {
                let titles: Vec<String> = flows
                    .conversations
                    .iter()
                    .map(lola::check::flow::Conversation::title)
                    .collect();
                let panels: Vec<svg::Panel> = titles
                    .iter()
                    .zip(&flows.conversations)
                    .map(|(title, c)| svg::Panel {
                        title,
                        conversation: Some(c),
                    })
                    .collect();
                svg::grid(&panels, 1, svg::Embedding::Standalone)
            }
            DiagramFormat::Mermaid => flows
                .conversations
                .iter()
                .map(mermaid::sequence)
                .collect::<Vec<_>>()
                .join("\n"),
            DiagramFormat::Markdown => markdown::flows(&name, &flows),
        }
    };
    match to_file {
        Some(path) => write_file_atomically(path, text.as_bytes())?,
        None if args.json => out_json(text.trim_end()),
        None => out(text),
    }
    Ok(Exit::Pass)
}

/// The conversations, with their arrows' first data bytes when `payload`.
fn read<R: io::Read>(reader: CaptureReader<R>, payload: bool) -> Result<Flows, Error> {
    if payload {
        flows_with_payloads(reader)
    } else {
        flows(reader)
    }
}

/// Every conversation's summary line and ladder, as `lola flow` prints them.
pub(super) fn text(name: &str, flows: &Flows, width: usize, color: bool) -> String {
    let mut text = String::new();
    if flows.conversations.is_empty() {
        text += &format!("{name}: no UDP or TCP conversation\n");
    }
    for c in &flows.conversations {
        text += &format!("{}\n", summary_line(c));
        text += &ladder(c, width, color);
        text.push('\n');
    }
    if !flows.conversations.is_empty() {
        text += &legend_for(flows, color);
    }
    if flows.more_conversations > 0 {
        text += &format!("... and {} more conversations\n", flows.more_conversations);
    }
    if flows.other_frames > 0 {
        text += &format!(
            "{} other frames (not UDP or TCP) not drawn\n",
            flows.other_frames
        );
    }
    text
}
