use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fields::{ORGANISATION_FIELDS, Resolver, normalise};
use super::{FieldError, Slug};

const ORGANISATION_ID_NAMESPACE: Uuid = Uuid::from_u128(0x8e2d_61a7_3b94_4c05_a1f8_6d3e_9b2c_0f71);

/// A publisher, standards body, regulator, supplier or care provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: Uuid,
    pub slug: Slug,
    pub name: String,
    pub kind: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub contact: Option<String>,
    pub identifier: Option<String>,
    pub logo_url: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// Where a contact route (an entry's or an organisation's) goes when
/// followed: `mailto:` for an email address, the address itself for a web
/// page; none for other text.
pub fn contact_href(contact: &str) -> Option<String> {
    let contact = contact.trim();
    if contact.starts_with("https://") || contact.starts_with("http://") {
        Some(contact.to_owned())
    } else if contact.contains('@') && !contact.contains(char::is_whitespace) && !contact.contains(':') {
        Some(format!("mailto:{contact}"))
    } else {
        None
    }
}

impl Organisation {
    /// The kind in words ("Standards body" for `standards-body`).
    pub fn kind_label(&self) -> String {
        let words = self.kind.trim().replace(['-', '_'], " ");
        let mut chars = words.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    /// Where the contact goes when followed (see [`contact_href`]).
    pub fn contact_href(&self) -> Option<String> {
        contact_href(self.contact.as_deref()?)
    }

    pub fn parse(raw: &Map<String, Value>, resolver: &dyn Resolver) -> Result<Organisation, Vec<FieldError>> {
        let mut fields = normalise(ORGANISATION_FIELDS, raw, resolver)?;
        if fields.get("id").is_none_or(Value::is_null) {
            let slug = fields["slug"].as_str().unwrap_or_default();
            fields.insert("id".into(), Value::String(Organisation::id_for_slug(slug).to_string()));
        }
        serde_json::from_value(Value::Object(fields))
            .map_err(|e| vec![FieldError::new("(organisation)", "", &e.to_string())])
    }

    pub fn id_for_slug(slug: &str) -> Uuid {
        Uuid::new_v5(&ORGANISATION_ID_NAMESPACE, slug.as_bytes())
    }

    pub fn content(&self) -> Organisation {
        Organisation { created_at: None, updated_at: None, ..self.clone() }
    }
}
