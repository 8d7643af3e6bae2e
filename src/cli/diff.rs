//! `lola diff`: a capture against a golden one, field by field.

use lola::Error;
use lola::compare::DiffRules;

use super::args::DiffArgs;
use super::output::{
    Exit, diff_text_in, error_json, out, out_json, write_junit, write_junit_error,
};

pub fn run(args: DiffArgs) -> Result<Exit, Error> {
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
    let report = match lola::diff::diff_files(&args.expected, &args.actual, &rules) {
        Ok(report) => report,
        Err(e) => {
            // Exit 2 still leaves the reports CI asked for.
            if let Some(path) = &args.report.junit {
                write_junit_error(path, &suite, &e)?;
            }
            if args.report.json {
                let file = args.actual.display().to_string();
                out_json(&serde_json::to_string_pretty(&error_json(&e, &file))?);
            }
            return Err(e);
        }
    };
    if let Some(path) = &args.report.junit {
        write_junit(path, &[(suite, lola::junit::diff_cases(&report))])?;
    }
    if args.report.json {
        out_json(&serde_json::to_string_pretty(&report)?);
    } else if !args.quiet {
        out(diff_text_in(&report, args.color.color()));
    }
    Ok(Exit::verdict(report.same()))
}
