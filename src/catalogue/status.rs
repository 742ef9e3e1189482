use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Where an entry is in its life, from an idea to withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Proposed,
    DraftInProgress,
    AwaitingApproval,
    OnHold,
    Cancelled,
    InDevelopment,
    Active,
    Deprecated,
    Retired,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Proposed,
        Status::DraftInProgress,
        Status::AwaitingApproval,
        Status::OnHold,
        Status::Cancelled,
        Status::InDevelopment,
        Status::Active,
        Status::Deprecated,
        Status::Retired,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::DraftInProgress => "draft-in-progress",
            Status::AwaitingApproval => "awaiting-approval",
            Status::OnHold => "on-hold",
            Status::Cancelled => "cancelled",
            Status::InDevelopment => "in-development",
            Status::Active => "active",
            Status::Deprecated => "deprecated",
            Status::Retired => "retired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Proposed => "Proposed",
            Status::DraftInProgress => "Draft in progress",
            Status::AwaitingApproval => "Awaiting approval",
            Status::OnHold => "On hold",
            Status::Cancelled => "Cancelled",
            Status::InDevelopment => "In development",
            Status::Active => "Active",
            Status::Deprecated => "Deprecated",
            Status::Retired => "Retired",
        }
    }

    /// A plain explanation for people who do not know the lifecycle.
    pub fn meaning(self) -> &'static str {
        match self {
            Status::Proposed => "Someone has asked for this; work has not started.",
            Status::DraftInProgress => "This is being written.",
            Status::AwaitingApproval => "This is written and waiting for the approving body.",
            Status::OnHold => "Work on this is paused.",
            Status::Cancelled => "Work on this has stopped for good.",
            Status::InDevelopment => "This is being built or tested; early adopters can try it.",
            Status::Active => "This is published and in use.",
            Status::Deprecated => "This is still available, but do not start new work with it.",
            Status::Retired => "This has been withdrawn and is kept for the record.",
        }
    }

    /// Accepts the slug or the label in any letter case, with spaces,
    /// hyphens or underscores between words.
    pub fn parse(value: &str) -> Result<Status, String> {
        let wanted: String =
            value.trim().chars().map(|c| if c == ' ' || c == '_' { '-' } else { c.to_ascii_lowercase() }).collect();
        Status::ALL.into_iter().find(|s| s.slug() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Status::ALL.iter().map(|s| s.slug()).collect();
            format!("a status: one of {}", names.join(", "))
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Status::parse(&raw).map_err(|e| serde::de::Error::custom(format!("`{raw}`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_slugs_and_labels_in_any_case() {
        assert_eq!(Status::parse("in-development"), Ok(Status::InDevelopment));
        assert_eq!(Status::parse("IN DEVELOPMENT"), Ok(Status::InDevelopment));
        assert_eq!(Status::parse("Draft in progress"), Ok(Status::DraftInProgress));
        assert!(Status::parse("live").unwrap_err().contains("one of proposed"));
    }

    #[test]
    fn every_status_round_trips_through_its_slug_and_label() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.slug()), Ok(s));
            assert_eq!(Status::parse(s.label()), Ok(s));
        }
    }
}
