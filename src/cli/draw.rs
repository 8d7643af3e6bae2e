//! `--draw` and `-o`: which drawing `flow` and `compare` write, chosen by
//! the output's extension or by `--draw`, the two never disagreeing; and
//! the note an old flag spelling prints.

use std::path::Path;

use lola::Error;

use super::args::DiagramFormat;

/// The drawing `-o`'s extension asks for (`.svg`, `.mmd`, `.md`, `.txt`),
/// or `--draw`'s; both given and disagreeing is an error, never a text
/// ladder in a file named `.svg`.
pub fn drawing(
    draw: Option<DiagramFormat>,
    to_file: Option<&Path>,
) -> Result<DiagramFormat, Error> {
    let by_extension = to_file
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .and_then(|e| match e.to_ascii_lowercase().as_str() {
            "svg" => Some(DiagramFormat::Svg),
            "mmd" | "mermaid" => Some(DiagramFormat::Mermaid),
            "md" | "markdown" => Some(DiagramFormat::Markdown),
            "txt" => Some(DiagramFormat::Text),
            _ => None,
        });
    match (draw, by_extension) {
        (Some(f), Some(e)) if f != e => Err(Error::Invalid(format!(
            "-o {} asks for {} but --draw says {}; drop --draw or change the extension",
            to_file.unwrap_or(Path::new("")).display(),
            name(e),
            name(f)
        ))),
        (Some(f), _) => Ok(f),
        (None, Some(e)) => Ok(e),
        (None, None) => Ok(DiagramFormat::Text),
    }
}

/// The drawing's `--draw` word.
pub fn name(f: DiagramFormat) -> &'static str {
    match f {
        DiagramFormat::Text => "text",
        DiagramFormat::Svg => "svg",
        DiagramFormat::Mermaid => "mermaid",
        DiagramFormat::Markdown => "markdown",
    }
}

/// Says on stderr that `old` is an old spelling of `new`, which a later
/// release drops.
pub fn deprecated(command: &str, old: &str, new: &str) {
    eprintln!("lola: note: {command} {old} is deprecated and goes in a later release; use {new}");
}

/// Says so when this command line spells `old` (`--count`, `--count=N`),
/// a hidden alias clap reads as its new flag without telling which
/// spelling it saw.
pub fn note_old_spelling(command: &str, old: &str, new: &str) {
    let args: Vec<String> = std::env::args().skip(1).take_while(|a| a != "--").collect();
    if spells(&args, old) {
        deprecated(command, old, new);
    }
}

fn spells(args: &[String], old: &str) -> bool {
    args.iter().any(|a| {
        a == old
            || a.strip_prefix(old)
                .is_some_and(|rest| rest.starts_with('='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_spelling_is_seen_with_or_without_equals() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(spells(&args(&["check", "--count", "2"]), "--count"));
        assert!(spells(&args(&["check", "--count=2"]), "--count"));
        assert!(!spells(&args(&["check", "--exactly", "2"]), "--count"));
        assert!(!spells(&args(&["check", "--counted"]), "--count"));
    }

    #[test]
    fn the_extension_chooses_and_an_explicit_draw_must_agree() {
        let svg = Some(Path::new("out.svg"));
        assert_eq!(drawing(None, svg).unwrap(), DiagramFormat::Svg);
        assert_eq!(
            drawing(Some(DiagramFormat::Svg), svg).unwrap(),
            DiagramFormat::Svg
        );
        let e = drawing(Some(DiagramFormat::Mermaid), svg)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("-o out.svg asks for svg but --draw says mermaid"),
            "{e}"
        );
        let other = Some(Path::new("out.picture"));
        assert_eq!(
            drawing(Some(DiagramFormat::Mermaid), other).unwrap(),
            DiagramFormat::Mermaid
        );
        assert_eq!(drawing(None, None).unwrap(), DiagramFormat::Text);
    }
}
