//! `lola doctor --json`: what this machine allows for live capture.

use crate::error::cause::Blocked;
use crate::host::sandbox::{Diagnosis, Isolation, Place};

impl Diagnosis {
    /// The JSON document of `lola doctor --json` (schema 1), pretty-printed,
    /// keys in sorted order.
    ///
    /// ```
    /// let d = lola::host::sandbox::diagnose();
    /// let value: serde_json::Value = serde_json::from_str(&d.to_json().unwrap()).unwrap();
    /// assert_eq!(value["command"], "doctor");
    /// assert_eq!(value["verdict"], if d.auto().is_ok() { "pass" } else { "fail" });
    /// assert_eq!(value["auto"]["captures"], d.auto().is_ok());
    /// assert_eq!(value["private"]["works"], d.private.is_ok());
    /// ```
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        let auto = self.auto();
        let document = DoctorDocument {
            schema_version: crate::SCHEMA_VERSION,
            command: "doctor",
            verdict: super::verdict_word(auto.is_ok()),
            root: self.root,
            host: match &self.host {
                Ok(()) => HostDocument {
                    works: true,
                    cause: None,
                },
                Err(e) => HostDocument {
                    works: false,
                    cause: Some(e.to_string()),
                },
            },
            private: PrivateDocument {
                works: self.private.is_ok(),
                isolation: self.private.as_ref().ok().copied(),
                why: self.private.as_ref().err().map(WhyNot::new),
            },
            unprivileged_private: self.unprivileged.as_ref().map(|r| WorksDocument {
                works: r.is_ok(),
                why: r.as_ref().err().map(WhyNot::new),
            }),
            auto: AutoDocument {
                captures: auto.is_ok(),
                place: auto.as_ref().ok().map(Place::name),
                why: auto.as_ref().err().map(WhyNot::new),
            },
            settings: self
                .settings
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .collect(),
        };
        serde_json::to_string_pretty(&serde_json::to_value(&document)?)
    }
}

/// `lola doctor --json`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct DoctorDocument<'a> {
    schema_version: u32,
    command: &'static str,
    /// `pass` when `--capture auto` captures live here (exit 0), `fail`
    /// when it would synthesize (exit 1), as every document's verdict.
    verdict: &'static str,
    root: bool,
    host: HostDocument,
    private: PrivateDocument,
    unprivileged_private: Option<WorksDocument>,
    auto: AutoDocument,
    settings: std::collections::BTreeMap<&'static str, &'a str>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct HostDocument {
    works: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<String>,
}

/// A refused private `lo`: the cause and its fix, flattened beside `works`.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct WhyNot {
    cause: String,
    fix: String,
}

impl WhyNot {
    fn new(b: &Blocked) -> WhyNot {
        WhyNot {
            cause: b.to_string(),
            fix: b.fix(),
        }
    }
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct PrivateDocument {
    works: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    isolation: Option<Isolation>,
    #[serde(flatten)]
    why: Option<WhyNot>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct WorksDocument {
    works: bool,
    #[serde(flatten)]
    why: Option<WhyNot>,
}

#[derive(serde::Serialize, schemars::JsonSchema)]
pub(crate) struct AutoDocument {
    captures: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<&'static str>,
    #[serde(flatten)]
    why: Option<WhyNot>,
}
