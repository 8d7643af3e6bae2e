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
        let name = format!("lola {}", sub.get_name());
        let sub_man = clap_mangen::Man::new(sub.clone());
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
    }
    man.render_extra_section(&mut page)?;
    man.render_version_section(&mut page)?;
    Ok(String::from_utf8_lossy(&page).into_owned())
}

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
        for section in [".SH \"LOLA CHECK\"", ".SH \"LOLA RUN\"", ".SH \"LOLA MAN\""] {
            assert!(page.contains(section), "no {section}");
        }
        assert!(page.contains("judge\\-complete\\-frames"));
    }
}
