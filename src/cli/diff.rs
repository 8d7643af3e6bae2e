//! `lola diff`: a capture against a golden one, field by field.

use lola::Error;
use lola::compare::DiffRules;

use super::args::DiffArgs;
use super::output::{Exit, diff_text, out, out_json, write_junit};

pub fn run(args: DiffArgs) -> Result<Exit, Error> {
    let rules = DiffRules {
        exact: args.exact,
        ignore: args.ignore,
        ephemeral_server: false,
    };
    let report = lola::diff::diff_files(&args.expected, &args.actual, &rules)?;
    if let Some(path) = &args.report.junit {
        let suite = format!(
            "lola diff {} {}",
            args.expected.display(),
            args.actual.display()
        );
        write_junit(path, &[(suite, lola::junit::diff_cases(&report))])?;
    }
    if args.report.json {
        out_json(&serde_json::to_string_pretty(&report)?);
    } else {
        out(diff_text(&report));
    }
    Ok(Exit::verdict(report.same()))
}
