//! Who may do what: the one place authorisation is decided. The JSON API,
//! the CKAN write actions and the website's forms all ask `authorise`.
//!
//! Roles: administrators do everything; editors review and publish any
//! entry and edit guides and vocabularies; publishers write drafts of their
//! own organisation's entries and submit them for review; everyone else
//! reads what is published.

pub mod attempts;
pub mod password;

use crate::store::{Principal, Role};

/// Something a person wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission<'a> {
    /// Create or change an entry owned by `owner`.
    WriteEntry {
        owner: &'a str,
    },
    /// Submit (or withdraw) a draft of an entry owned by `owner`.
    SubmitDraft {
        owner: &'a str,
    },
    /// See drafts and submissions of entries owned by `owner`.
    SeeDrafts {
        owner: &'a str,
    },
    DeleteEntry,
    /// See the review queue, publish, request changes, restore revisions.
    Review,
    /// Guides, site pages, glossary and vocabularies.
    EditContent,
    ManageOrganisations,
    ManagePeople,
    ViewAudit,
    ViewAnalytics,
    /// `/metrics` from anywhere but the local host.
    ReadMetrics,
}

/// How a permitted write takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// At once, for everyone to see.
    Publish,
    /// As a draft, which an editor publishes after review.
    Draft,
}

/// Why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No credentials (401).
    SignInNeeded,
    /// Credentials, but not allowed (403), and why in words.
    Forbidden(String),
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::SignInNeeded => "Sign in, or send an API token as `Authorization: Bearer TOKEN`.".to_owned(),
            Refusal::Forbidden(why) => why.clone(),
        }
    }
}

fn forbidden(why: &str) -> Result<Grant, Refusal> {
    Err(Refusal::Forbidden(why.to_owned()))
}

/// Decides whether `who` may do `what`.
pub fn authorise(who: Option<&Principal>, what: Permission<'_>) -> Result<Grant, Refusal> {
    let Some(who) = who else { return Err(Refusal::SignInNeeded) };
    let own = |owner: &str| who.organisation.as_deref() == Some(owner);
    match (who.role, what) {
        (Role::Admin, _) => Ok(Grant::Publish),
        (Role::Editor, Permission::ManageOrganisations) => forbidden("Only administrators manage organisations."),
        (Role::Editor, Permission::ManagePeople) => forbidden("Only administrators manage people."),
        (Role::Editor, Permission::ViewAudit) => forbidden("Only administrators see the audit log."),
        (Role::Editor, Permission::ReadMetrics) => forbidden("Only administrators read the metrics."),
        (Role::Editor, _) => Ok(Grant::Publish),
        (Role::Publisher, Permission::WriteEntry { owner }) if own(owner) => Ok(Grant::Draft),
        (Role::Publisher, Permission::SubmitDraft { owner } | Permission::SeeDrafts { owner }) if own(owner) => {
            Ok(Grant::Draft)
        }
        (
            Role::Publisher,
            Permission::WriteEntry { .. } | Permission::SubmitDraft { .. } | Permission::SeeDrafts { .. },
        ) => forbidden("Publishers write only their own organisation's entries."),
        (Role::Publisher, Permission::DeleteEntry) => forbidden("Only editors and administrators delete entries."),
        (Role::Publisher, Permission::Review) => forbidden("Only editors and administrators review and publish."),
        (Role::Publisher, Permission::EditContent) => {
            forbidden("Only editors and administrators edit guides, the glossary and vocabularies.")
        }
        (Role::Publisher, Permission::ViewAnalytics) => {
            forbidden("Search analytics are for editors and administrators.")
        }
        (Role::Publisher, _) => forbidden("Only administrators do this."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role, org: Option<&str>) -> Principal {
        Principal { email: "a@b.c".into(), role, organisation: org.map(str::to_owned), token_id: "t".into() }
    }

    #[test]
    fn the_matrix() {
        let admin = who(Role::Admin, None);
        let editor = who(Role::Editor, None);
        let publisher = who(Role::Publisher, Some("prsb"));
        let write_own = Permission::WriteEntry { owner: "prsb" };
        let write_other = Permission::WriteEntry { owner: "nhs-england" };
        assert_eq!(authorise(None, write_own), Err(Refusal::SignInNeeded));
        assert_eq!(authorise(Some(&admin), write_other), Ok(Grant::Publish));
        assert_eq!(authorise(Some(&editor), write_other), Ok(Grant::Publish));
        assert_eq!(authorise(Some(&publisher), write_own), Ok(Grant::Draft));
        assert!(matches!(authorise(Some(&publisher), write_other), Err(Refusal::Forbidden(_))));
        for p in [Permission::DeleteEntry, Permission::Review, Permission::EditContent, Permission::ViewAnalytics] {
            assert!(matches!(authorise(Some(&publisher), p), Err(Refusal::Forbidden(_))), "{p:?}");
            assert_eq!(authorise(Some(&editor), p), Ok(Grant::Publish), "{p:?}");
        }
        for p in
            [Permission::ManagePeople, Permission::ManageOrganisations, Permission::ViewAudit, Permission::ReadMetrics]
        {
            assert!(matches!(authorise(Some(&publisher), p), Err(Refusal::Forbidden(_))), "{p:?}");
            assert!(matches!(authorise(Some(&editor), p), Err(Refusal::Forbidden(_))), "{p:?}");
            assert_eq!(authorise(Some(&admin), p), Ok(Grant::Publish), "{p:?}");
            assert_eq!(authorise(None, p), Err(Refusal::SignInNeeded), "{p:?}");
        }
        let orphan = who(Role::Publisher, None);
        assert!(matches!(authorise(Some(&orphan), write_own), Err(Refusal::Forbidden(_))));
    }
}
