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

#[cfg(test)]
mod tests {
    use super::*;

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
