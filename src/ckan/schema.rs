//! `scheming_dataset_schema_show`: every package field, with its choices,
//! in ckanext-scheming's shape. Built from the field table and the
//! vocabularies, so it always matches what `package_show` returns.

use serde_json::{Value, json};

use crate::catalogue::fields::{ENTRY_FIELDS, FieldKind};
use crate::catalogue::{Status, Vocabularies, Vocabulary};

fn choices(vocabularies: &Vocabularies, vocabulary: Vocabulary) -> Value {
    Value::from(
        vocabularies.terms(vocabulary).iter().map(|t| json!({"value": t.label, "label": t.label})).collect::<Vec<_>>(),
    )
}

pub fn dataset_schema(vocabularies: &Vocabularies) -> Value {
    let statuses: Vec<Value> = Status::ALL.iter().map(|s| json!({"value": s.slug(), "label": s.label()})).collect();
    let yes_no = json!([{"value": true, "label": "Yes"}, {"value": false, "label": "No"}]);
    let mut fields = vec![
        json!({"field_name": "title", "label": "Title", "required": true}),
        json!({"field_name": "name", "label": "URL name", "required": true, "validators": "slug"}),
        json!({"field_name": "notes", "label": "Description", "form_snippet": "markdown.html"}),
        json!({"field_name": "owner_org", "label": "Organisation", "required": true}),
        json!({"field_name": "tag_string", "label": "Tags"}),
        json!({"field_name": "reference_code", "label": "Reference code", "help_text": "DAPB, ISB, SCCI or DCB code"}),
        json!({"field_name": "is_published_standard", "label": "Published standard", "choices": yes_no}),
        json!({"field_name": "mandated", "label": "Mandated", "choices": yes_no}),
        json!({"field_name": "status", "label": "Status", "required": true, "choices": statuses}),
        json!({"field_name": "publication_due_date", "label": "Publication due", "preset": "date"}),
        json!({"field_name": "implementation_from_date", "label": "Implement from", "preset": "date"}),
        json!({"field_name": "comply_by_date", "label": "Comply by", "preset": "date"}),
        json!({"field_name": "submit_feedback", "label": "Feedback link"}),
        json!({"field_name": "standard_category", "label": "Standard category", "required": true,
               "choices": choices(vocabularies, Vocabulary::Category)}),
        json!({"field_name": "documentation_help_text", "label": "Summary"}),
        json!({"field_name": "documentation_link", "label": "Documentation link"}),
        json!({"field_name": "contact_details", "label": "Contact details"}),
        json!({"field_name": "topic", "label": "Topic", "preset": "multiple_checkbox",
               "choices": choices(vocabularies, Vocabulary::Topic)}),
        json!({"field_name": "care_setting", "label": "Care setting", "preset": "multiple_checkbox",
               "choices": choices(vocabularies, Vocabulary::CareSetting)}),
        json!({"field_name": "related_standards", "label": "Related standards", "help_text": "Names of other packages"}),
        json!({"field_name": "dependencies", "label": "Dependencies", "help_text": "Names of other packages"}),
        json!({"field_name": "assurance", "label": "Assurance"}),
        json!({"field_name": "endorsements", "label": "Endorsements"}),
    ];
    // The directory's own fields, under their own names.
    for f in ENTRY_FIELDS {
        if fields.iter().any(|x| x["field_name"] == f.name) || matches!(f.kind, FieldKind::Timestamp | FieldKind::Id) {
            continue;
        }
        // CKAN's own `type` is the dataset type; the entry's type is `entry_type`.
        let name = if f.kind == FieldKind::EntryType { "entry_type" } else { f.name };
        let mut field = json!({"field_name": name, "label": name.replace('_', " "), "required": f.required});
        match f.kind {
            FieldKind::Terms(v) | FieldKind::Term(v) => field["choices"] = choices(vocabularies, v),
            FieldKind::Date => field["preset"] = json!("date"),
            FieldKind::Bool | FieldKind::OptionalBool => field["choices"] = yes_no.clone(),
            FieldKind::EntryType => {
                field["choices"] = json!([{"value": "standard", "label": "Standard"}, {"value": "api", "label": "API"}])
            }
            _ => {}
        }
        fields.push(field);
    }
    json!({
        "scheming_version": 2,
        "dataset_type": "dataset",
        "about": "Standards and national APIs for health and social care in England",
        "about_url": "/api/v1/openapi.json",
        "dataset_fields": fields,
        "resource_fields": [
            {"field_name": "url", "label": "URL"},
            {"field_name": "name", "label": "Name"},
            {"field_name": "format", "label": "Format"}
        ],
    })
}
