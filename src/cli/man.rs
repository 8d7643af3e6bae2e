//! `lola man`: the manual page, generated from the same clap definition as
//! `--help` (clap_mangen), so it cannot drift from the flags: the page of
//! `lola`, then one section per command with its synopsis and options.

use clap::CommandFactory;

use lola::Error;

use super::args::Cli;
use super::output::{Exit, out};

pub fn run() -> Result<Exit, Error> {
    out(page().map_err(|e| Error::Invalid(format!("cannot render the manual page: {e}")))?);
    Ok(Exit::Pass)
}

/// The whole page, as roff.
fn page() -> std::io::Result<String> {
    let mut cmd = Cli::command();
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        command_section(&mut page, "lola", sub)?;
    }
    page.extend_from_slice(EXTRA.as_bytes());
    man.render_version_section(&mut page)?;
    Ok(String::from_utf8_lossy(&page).into_owned())
}

/// The section of one command (`lola check`) and of each of its own
/// commands (`lola expect record`), with synopsis, options and about.
fn command_section(page: &mut Vec<u8>, parent: &str, sub: &clap::Command) -> std::io::Result<()> {
    let name = format!("{parent} {}", sub.get_name());
    let sub_man = clap_mangen::Man::new(sub.clone().bin_name(&name));
    let mut section = Vec::new();
    sub_man.render_synopsis_section(&mut section)?;
    sub_man.render_options_section(&mut section)?;
    let section = String::from_utf8_lossy(&section)
        .replacen(
            ".SH SYNOPSIS",
            &format!(".SH \"{}\"", name.to_uppercase()),
            1,
        )
        .replacen(".SH OPTIONS", ".SS Options", 1);
    page.extend_from_slice(section.as_bytes());
    if let Some(about) = sub.get_about() {
        page.extend_from_slice(format!(".PP\n{}\n", roff_text(&about.to_string())).as_bytes());
    }
    for inner in sub.get_subcommands().filter(|s| s.get_name() != "help") {
        command_section(page, &name, inner)?;
    }
    Ok(())
}

/// EXAMPLES, EXIT STATUS and ENVIRONMENT: what clap does not know.
const EXTRA: &str = r#".SH EXAMPLES
.TP
\fBlola run\fR
Send "Hello Lola" to 127.0.0.1:7456, write hello\-lola.pcap, check it.
.TP
\fBlola check capture.pcap \-\-dst\-port 7456 \-\-count 3\fR
Exactly three datagrams to port 7456 carrying "Hello Lola", and no TCP.
.TP
\fBlola check \-\-expect e.toml 'captures/**/*.pcap' \-\-junit report.xml\fR
Every capture under captures/, judged by an expectation file, with a JUnit report.
.TP
\fBlola expect record capture.pcap > e.toml\fR
Write an expectation file that capture.pcap passes.
.TP
\fBlola exec \-o app.pcap \-\- ./my\-client\fR
Run a program on a private lo and check what it sent.
.TP
\fBlola diff golden.pcap new.pcap \-\-ignore ip.ttl\fR
Compare with a golden capture, field by field.
.TP
\fBlola flow capture.pcap \-o ladder.svg\fR
Draw every conversation as SVG (the drawing follows the extension).
.SH "EXIT STATUS"
.TP
.B 0
The verdict passed (or the command gives none).
.TP
.B 1
An expectation was not met: a check failed, or diff found differences.
.TP
.B 2
lola could not do what it was asked: bad arguments, an unreadable capture,
a missing privilege, a program that failed under exec.
.SH ENVIRONMENT
.TP
.B NO_COLOR
When set and not empty, \-\-color auto prints no colour.
.TP
.B CLICOLOR_FORCE
When set and not 0, \-\-color auto prints colour even when not on a terminal.
.TP
.B GITHUB_STEP_SUMMARY
A file: run, check, compare and exec append a markdown summary to it (\-\-no\-summary to leave it alone).
.TP
.B LOLA_TIME_TOLERANCE
The tolerance of time comparisons in expectation files (e.g. 5ms), in place of the file's own.
.TP
.B CI
Read by lola's own test suite, not by lola: with CI=true, tests that need a live capture fail where they would otherwise be skipped.
"#;

/// Text safe in a roff paragraph: backslashes and hyphens escaped, no line
/// starting with a control character.
fn roff_text(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    match text.chars().next() {
        Some('.' | '\'') => format!("\\&{text}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_a_section_per_command_with_its_options() {
        let page = page().unwrap();
        assert!(page.starts_with(".ie"), "{page}");
        for section in [
            ".SH \"LOLA CHECK\"",
            ".SH \"LOLA RUN\"",
            ".SH \"LOLA MAN\"",
            ".SH \"LOLA EXPECT RECORD\"",
            ".SH \"LOLA EXPECT SHOW-DEFAULT\"",
            ".SH EXAMPLES",
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
        ] {
            assert!(page.contains(section), "no {section}");
        }
        assert!(page.contains("judge\\-complete\\-frames"));
        for var in [
            "NO_COLOR",
            "CLICOLOR_FORCE",
            "GITHUB_STEP_SUMMARY",
            "LOLA_TIME_TOLERANCE",
            "CI",
        ] {
            assert!(
                page.contains(&format!(".B {var}\n")),
                "{var} not in ENVIRONMENT"
            );
        }
    }
}
