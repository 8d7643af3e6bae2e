//! `lola diff`: a capture against a golden one, field by field.

use lola::Error;
use lola::check::frame_diff::{self, DiffRules};
use lola::packet::fields::suggest;

use super::args::DiffArgs;
use super::output::{Exit, diff_text_in, out, out_json, report_error, write_junit};

pub fn run(args: DiffArgs) -> Result<Exit, Error> {
    // An unknown field would silently ignore nothing.
    for name in &args.ignore {
        if !frame_diff::is_diff_field(name) {
            let hint = match suggest::suggest_among(name, frame_diff::DIFF_ONLY) {
                Some(near) => format!("did you mean --ignore {near}?"),
                None => "the names are Wireshark's, as in udp.dstport or ip.ttl".to_string(),
            };
            return Err(Error::Invalid(format!(
                "--ignore {name}: lola diff knows no such field; {hint}"
            )));
        }
    }
    let rules = DiffRules {
        exact: args.exact,
        ignore: args.ignore,
        ephemeral_server: false,
    };
    let suite = format!(
        "lola diff {} {}",
        args.expected.display(),
        args.actual.display()
    );
    let report = match lola::check::golden::diff_files(&args.expected, &args.actual, &rules) {
        Ok(report) => report,
        Err(e) => {
            let file = args.actual.display().to_string();
            return Err(report_error(&args.report, &suite, &file, e)?);
        }
    };
    if let Some(path) = &args.report.junit {
        write_junit(
            path,
            vec![
                lola::report::junit::Suite::new(suite, lola::report::junit::diff_cases(&report))
                    .with_property("capture", args.actual.display().to_string())
                    .with_property("golden", args.expected.display().to_string()),
            ],
        )?;
    }
    if args.report.json {
        out_json(&serde_json::to_string_pretty(&report)?);
    } else if !args.quiet {
        out(diff_text_in(&report, args.color.color()));
    }
    Ok(Exit::verdict(report.same()))
}
