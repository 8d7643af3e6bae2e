//! `lola flow`: the ladder diagram of every conversation in a capture.

use std::io;
use std::path::Path;

use lola::Error;
use lola::capture::CaptureReader;
use lola::flow::{flows, ladder, summary_line};

use super::args::FlowArgs;
use super::output::{Exit, out, out_json};

pub fn run(args: FlowArgs) -> Result<Exit, Error> {
    let file = args.file();
    let name = file.display().to_string();
    let flows = if file == Path::new("-") {
        flows(CaptureReader::new(io::stdin().lock(), "-")?)?
    } else {
        flows(CaptureReader::open(&file)?)?
    };
    if args.json {
        out_json(&serde_json::to_string_pretty(&flows)?);
        return Ok(Exit::Pass);
    }
    let (width, color) = (usize::from(args.display.width), args.display.color());
    if flows.conversations.is_empty() {
        out(format_args!("{name}: no UDP or TCP conversation\n"));
    }
    for c in &flows.conversations {
        out(format_args!("{}\n", summary_line(c)));
        out(ladder(c, width, color));
        out("\n");
    }
    if flows.more_conversations > 0 {
        out(format_args!(
            "... and {} more conversations\n",
            flows.more_conversations
        ));
    }
    if flows.other_frames > 0 {
        out(format_args!(
            "{} other frames (not UDP or TCP) not drawn\n",
            flows.other_frames
        ));
    }
    Ok(Exit::Pass)
}
