//! The OpenAPI 3.1 document. Entry and organisation schemas come from the
//! field table, so the document cannot drift from what the server returns.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use crate::catalogue::Status;
use crate::catalogue::fields::{ENTRY_FIELDS, FieldKind, FieldSpec, ORGANISATION_FIELDS, ORGANISATION_KINDS};
use crate::search::SearchSort;
use crate::store::EntrySort;

fn field_schema(kind: FieldKind) -> Value {
    let slug = json!({"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"});
    let nullable_text = json!({"type": ["string", "null"]});
    match kind {
        FieldKind::Id => json!({"type": "string", "format": "uuid"}),
        FieldKind::Slug | FieldKind::Term(_) | FieldKind::Organisation => slug,
        FieldKind::Text | FieldKind::Markdown => nullable_text,
        FieldKind::Url => json!({"type": ["string", "null"], "format": "uri", "pattern": "^https?://"}),
        FieldKind::UrlOrEmail => {
            json!({"type": ["string", "null"], "format": "uri", "pattern": "^(https?://|mailto:)"})
        }
        FieldKind::Urls => {
            json!({"type": "array", "items": {"type": "string", "format": "uri", "pattern": "^https?://"}})
        }
        FieldKind::List => json!({"type": "array", "items": {"type": "string"}}),
        FieldKind::Sources => json!({"type": "array", "items": {
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                "checked_on": {"type": ["string", "null"], "format": "date"}
            }
        }}),
        FieldKind::Terms(_) | FieldKind::Entries => json!({"type": "array", "items": slug}),
        FieldKind::Date => json!({"type": ["string", "null"], "format": "date"}),
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::OptionalBool => json!({"type": ["boolean", "null"]}),
        FieldKind::Level => json!({"type": ["integer", "null"], "minimum": 1, "maximum": 5}),
        FieldKind::Status => {
            json!({"enum": Status::ALL.iter().map(|s| s.slug()).collect::<Vec<_>>()})
        }
        FieldKind::EntryType => json!({"enum": ["standard", "api"]}),
        FieldKind::OrganisationKind => json!({"enum": ORGANISATION_KINDS}),
        FieldKind::Timestamp => json!({"type": ["string", "null"], "format": "date-time"}),
    }
}

fn record_schema(fields: &[FieldSpec], description: &str) -> Value {
    let mut properties = Map::new();
    for f in fields {
        properties.insert(f.name.to_owned(), field_schema(f.kind));
    }
    let required: Vec<&str> = fields.iter().map(|f| f.name).collect();
    json!({"type": "object", "description": description, "properties": properties,
           "required": required, "additionalProperties": false})
}

fn page_schema(item: &str) -> Value {
    json!({"type": "object", "required": ["total", "page", "per_page", "results"], "additionalProperties": false,
           "properties": {"total": {"type": "integer", "minimum": 0}, "page": {"type": "integer", "minimum": 1},
                          "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                          "results": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}}})
}

fn repeatable(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true})
}

/// The filters, sort and page shared by the list and search endpoints.
fn entry_parameters(first: Option<Value>, sorts: &[&str]) -> Value {
    let mut list: Vec<Value> = first.into_iter().collect();
    list.extend([
        repeatable("care_setting", "Care setting slug or label"),
        repeatable("topic", "Topic slug or label"),
        repeatable("technology", "Technology slug or label"),
        repeatable("category", "Category slug or label"),
        repeatable("status", "Status slug or label"),
        repeatable("owner", "Owner organisation slug or name"),
        repeatable("type", "`standard` or `api`"),
        json!({"name": "mandated", "in": "query", "schema": {"type": "boolean"}}),
        json!({"name": "sort", "in": "query", "schema": {"enum": sorts}}),
        json!({"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}}),
        json!({"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}),
    ]);
    Value::from(list)
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({"description": description, "headers": {"ETag": {"schema": {"type": "string"}}},
           "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn problem_response(description: &str) -> Value {
    json!({"description": description,
           "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
}

/// A write with a bearer token: the body's schema, the answers it gives
/// when it works, and the refusals besides 401 and 403.
fn write_operation(summary: &str, id: &str, body: &str, ok: &[(&str, &str, &str)], refusals: &[(&str, &str)]) -> Value {
    let mut responses = Map::new();
    for (status, description, schema) in ok {
        responses.insert(
            status.to_string(),
            json!({"description": description,
                   "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
        );
    }
    responses.insert("400".into(), problem_response("The body is not a JSON object"));
    responses.insert("401".into(), problem_response("No valid token"));
    responses.insert("403".into(), problem_response("The token's owner may not make this change"));
    for (status, description) in refusals {
        responses.insert(status.to_string(), problem_response(description));
    }
    json!({"summary": summary, "operationId": id, "security": [{"bearer": []}],
           "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}},
           "responses": responses})
}

fn with_slug(mut operation: Value) -> Value {
    operation["parameters"] = json!([{"name": "slug", "in": "path", "required": true, "schema": {"type": "string"}}]);
    operation
}

/// What a write sends: the shape GET returns, with only the fields a
/// record cannot do without required (`id` and times are the store's and
/// are ignored); for a PATCH, none.
fn input_schema(fields: &[FieldSpec], description: &str, patch: bool) -> Value {
    let mut schema = record_schema(fields, description);
    let required: Vec<&str> = fields.iter().filter(|f| f.required && !patch).map(|f| f.name).collect();
    schema["required"] = json!(required);
    schema
}

fn build() -> Value {
    let not_modified = json!({"description": "The client's copy (If-None-Match) is current."});
    let term = json!({"type": "object", "required": ["slug", "label", "description", "aliases"], "additionalProperties": false,
                      "properties": {"slug": {"type": "string"}, "label": {"type": "string"},
                                     "description": {"type": "string"},
                                     "aliases": {"type": "array", "items": {"type": "string"}}}});
    json!({
      "openapi": "3.1.0",
      "info": {
        "title": "Health and care interoperability standards directory",
        "version": "1",
        "description": "Read the catalogue of standards and national APIs for health and social care in England. Lists filter by care setting, topic, technology, category, status, owner, type and mandate; several values of one filter match any of them, different filters must all match. Filter values are a vocabulary term's slug or label."
      },
      "paths": {
        "/api/v1/standards": {"get": {
          "summary": "List entries (standards and APIs)",
          "operationId": "listEntries",
          "parameters": entry_parameters(None, EntrySort::NAMES),
          "responses": {"200": json_response("A page of entries", "EntryList"), "304": not_modified,
                        "400": problem_response("A parameter is unknown or has a value that is not allowed")}
        }, "post": write_operation(
            "Add an entry: published at once for editors and administrators, a draft for review for a publisher of the owner",
            "createEntry", "EntryInput", &[("201", "Published", "Entry"), ("202", "Saved as a draft for review", "Revision")],
            &[("409", "An entry has this slug"), ("422", "A field is not valid; each is named in invalid-params")],
        )},
        "/api/v1/search": {"get": {
          "summary": "Search entries: free text with typo tolerance, synonyms and phrases in quotes, with facet counts",
          "operationId": "search",
          "parameters": entry_parameters(
            Some(json!({"name": "q", "in": "query", "schema": {"type": "string"},
                        "description": "Words, abbreviations, codes or \"a phrase\"; empty lists everything"})),
            SearchSort::NAMES,
          ),
          "responses": {"200": json_response("Matching entries, facet counts and a suggestion", "SearchResponse"), "304": not_modified,
                        "400": problem_response("A parameter is unknown or has a value that is not allowed")}
        }},
        "/api/v1/suggest": {"get": {
          "summary": "Up to eight titles for a search box as the user types",
          "operationId": "suggest",
          "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
          "responses": {"200": json_response("Suggestions", "Suggestions"), "304": not_modified}
        }},
        "/api/v1/search/analytics": {"get": {
          "summary": "The most searched queries and those that found nothing (no personal data)",
          "operationId": "searchAnalytics",
          "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 20}}],
          "security": [{"bearer": []}],
          "responses": {"200": json_response("Query counts", "SearchAnalytics"), "304": not_modified,
                        "401": problem_response("No editor's token"), "403": problem_response("The token's owner is not an editor or administrator")}
        }},
        "/api/v1/standards/{slug}": {"get": {
          "summary": "One entry",
          "operationId": "getEntry",
          "parameters": [{"name": "slug", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"200": json_response("The entry", "Entry"), "304": not_modified,
                        "404": problem_response("No entry has this slug")}
        },
        "put": with_slug(write_operation(
            "Create or replace an entry, in the shape GET returns (publishers: a draft for review)",
            "replaceEntry", "EntryInput",
            &[("200", "Replaced", "Entry"), ("201", "Created", "Entry"), ("202", "Saved as a draft for review", "Revision")],
            &[("422", "A field is not valid, or the body's slug is not the address's")],
        )),
        "patch": with_slug(write_operation(
            "Change the fields given (publishers: over their open draft, as a draft for review)",
            "patchEntry", "EntryPatch", &[("200", "Changed", "Entry"), ("202", "Saved as a draft for review", "Revision")],
            &[("404", "No entry has this slug"), ("422", "A field is not valid")],
        )),
        "delete": {
          "summary": "Delete an entry (editors and administrators); refused while other entries link to it",
          "operationId": "deleteEntry", "security": [{"bearer": []}],
          "parameters": [{"name": "slug", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"204": {"description": "Deleted"}, "401": problem_response("No valid token"),
                        "403": problem_response("The token's owner may not delete entries"),
                        "404": problem_response("No entry has this slug"),
                        "409": problem_response("Other entries link to this one")}
        }},
        "/api/v1/revisions": {"get": {
          "summary": "Drafts and submissions the caller may see (editors: all; publishers: their organisation's)",
          "operationId": "listRevisions", "security": [{"bearer": []}],
          "parameters": [
            {"name": "state", "in": "query", "schema": {"enum": ["draft", "submitted", "changes-requested", "published", "withdrawn"]}},
            {"name": "entry", "in": "query", "schema": {"type": "string"}, "description": "An entry's slug"}
          ],
          "responses": {"200": {"description": "Revisions, newest first", "content": {"application/json": {"schema": {
                          "type": "object", "required": ["results"],
                          "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Revision"}}}}}}},
                        "400": problem_response("Bad parameters"), "401": problem_response("No valid token")}
        }},
        "/api/v1/revisions/{id}": {"get": {
          "summary": "One revision, with its document",
          "operationId": "getRevision", "security": [{"bearer": []}],
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"200": {"description": "The revision", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Revision"}}}},
                        "401": problem_response("No valid token"), "403": problem_response("Another organisation's draft"),
                        "404": problem_response("No revision has this id")}
        }},
        "/api/v1/revisions/{id}/{step}": {"post": {
          "summary": "Move a revision on: submit or withdraw (its organisation's publishers), request-changes (with a comment) or publish (editors)",
          "operationId": "moveRevision", "security": [{"bearer": []}],
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                         {"name": "step", "in": "path", "required": true, "schema": {"enum": ["submit", "withdraw", "request-changes", "publish"]}}],
          "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object",
                          "properties": {"comment": {"type": "string", "description": "What needs to change (required for request-changes)"}}}}}},
          "responses": {"200": {"description": "The revision after the step", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Revision"}}}},
                        "401": problem_response("No valid token"), "403": problem_response("Not allowed this step"),
                        "404": problem_response("No revision has this id, or no such step"),
                        "409": problem_response("The revision is not in a state that allows this step"),
                        "422": problem_response("A comment is needed, or the document is no longer valid")}
        }},
        "/api/v1/audit": {"get": {
          "summary": "The audit log (administrators): every change, sign-in, failed sign-in, token use, refusal and upload; JSON or CSV",
          "operationId": "listAudit", "security": [{"bearer": []}],
          "parameters": [{"name": "event", "in": "query", "schema": {"type": "string"}},
                         {"name": "actor", "in": "query", "schema": {"type": "string"}},
                         {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}}],
          "responses": {"200": {"description": "Events, newest first", "content": {"text/csv": {"schema": {"type": "string"}},
                          "application/json": {"schema": {"type": "object", "required": ["results"],
                            "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}}}}}}},
                        "401": problem_response("No valid token"), "403": problem_response("Not an administrator")}
        }},
        "/api/v1/organisations": {"get": {
          "summary": "List organisations",
          "operationId": "listOrganisations",
          "parameters": [
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
            {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100}}
          ],
          "responses": {"200": json_response("A page of organisations", "OrganisationList"), "304": not_modified,
                        "400": problem_response("Bad parameters")}
        }, "post": write_operation(
            "Add an organisation (administrators)", "createOrganisation", "OrganisationInput",
            &[("201", "Created", "Organisation")],
            &[("409", "An organisation has this slug"), ("422", "A field is not valid")],
        )},
        "/api/v1/organisations/{slug}": {"get": {
          "summary": "One organisation",
          "operationId": "getOrganisation",
          "parameters": [{"name": "slug", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"200": json_response("The organisation", "Organisation"), "304": not_modified,
                        "404": problem_response("No organisation has this slug")}
        },
        "put": with_slug(write_operation(
            "Create or replace an organisation (administrators)", "replaceOrganisation", "OrganisationInput",
            &[("200", "Replaced", "Organisation"), ("201", "Created", "Organisation")],
            &[("422", "A field is not valid, or the body's slug is not the address's")],
        )),
        "patch": with_slug(write_operation(
            "Change the fields given (administrators)", "patchOrganisation", "OrganisationPatch",
            &[("200", "Changed", "Organisation")],
            &[("404", "No organisation has this slug"), ("422", "A field is not valid")],
        ))},
        "/api/v1/vocabularies": {"get": {
          "summary": "Care settings, topics, categories, technologies, statuses and types",
          "operationId": "listVocabularies",
          "responses": {"200": json_response("Every vocabulary and its terms", "Vocabularies"), "304": not_modified}
        }},
        "/api/v1/changes": {"get": {
          "summary": "The changes log, oldest first, after a sequence number",
          "operationId": "listChanges",
          "parameters": [
            {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
          ],
          "responses": {"200": json_response("Changes after `since`", "ChangeList"), "304": not_modified,
                        "400": problem_response("Bad parameters")}
        }},
        "/healthz": {"get": {"summary": "The process is up", "operationId": "healthz",
          "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/readyz": {"get": {"summary": "The store is reachable", "operationId": "readyz",
          "responses": {"200": {"description": "Ready", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "503": problem_response("The store cannot be reached")}}}
      },
      "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token from `standards token create`"}},
      "schemas": {
        "Entry": record_schema(ENTRY_FIELDS, "A standard or national API. Field meanings: docs/catalogue-format.md."),
        "Organisation": record_schema(ORGANISATION_FIELDS, "A publisher, standards body, regulator, supplier or care provider."),
        "EntryList": page_schema("Entry"),
        "OrganisationList": page_schema("Organisation"),
        "EntryInput": input_schema(ENTRY_FIELDS, "An entry to write, in the shape GET returns.", false),
        "EntryPatch": input_schema(ENTRY_FIELDS, "Any of an entry's fields; the others stay as they are.", true),
        "OrganisationInput": input_schema(ORGANISATION_FIELDS, "An organisation to write, in the shape GET returns.", false),
        "OrganisationPatch": input_schema(ORGANISATION_FIELDS, "Any of an organisation's fields; the others stay as they are.", true),
        "Revision": {"type": "object", "additionalProperties": false,
          "required": ["id", "entry", "number", "state", "organisation", "author", "comment", "reviewer", "created_at", "updated_at", "document", "base_seq"],
          "properties": {"id": {"type": "string"}, "entry": {"type": "string", "description": "The entry's slug"},
                         "number": {"type": "integer", "minimum": 1},
                         "state": {"enum": ["draft", "submitted", "changes-requested", "published", "withdrawn"]},
                         "organisation": {"type": "string"}, "author": {"type": "string"},
                         "comment": {"type": ["string", "null"], "description": "The editor's request for changes"},
                         "reviewer": {"type": ["string", "null"]},
                         "created_at": {"type": "string"}, "updated_at": {"type": "string"},
                         "document": {"type": "object", "description": "The entry as the revision has it"},
                         "base_seq": {"type": ["integer", "null"], "description": "The changes log position of the published entry the revision started from; publishing keeps changes made to the entry since then in fields the revision did not change"}}},
        "AuditEvent": {"type": "object", "additionalProperties": false,
          "required": ["source", "seq", "at", "actor", "event", "outcome", "detail", "address", "repeats"],
          "properties": {"source": {"enum": ["audit", "change"], "description": "The audit table, or the changes log (event `change`)"},
                         "seq": {"type": "integer", "description": "The position in its source"}, "at": {"type": "string"}, "actor": {"type": "string"},
                         "event": {"type": "string"}, "outcome": {"type": "string"}, "detail": {"type": "string"},
                         "address": {"type": ["string", "null"]},
                         "repeats": {"type": "integer", "minimum": 1, "description": "How many times it happened: the same refusal from the same address within a minute of the first is counted on one event"}}},
        "Term": term,
        "Vocabularies": {"type": "object", "additionalProperties": {"type": "array", "items": {"$ref": "#/components/schemas/Term"}},
                         "required": ["care_setting", "topic", "category", "technology", "synonym", "status", "type"]},
        "Change": {"type": "object", "additionalProperties": false,
                   "required": ["seq", "entity", "entity_id", "action", "actor", "at", "before", "after"],
                   "properties": {"seq": {"type": "integer"}, "entity": {"enum": crate::api::changes::PUBLIC},
                                  "entity_id": {"type": "string"}, "action": {"enum": ["create", "update", "delete"]},
                                  "actor": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
                                  "before": {"type": ["object", "null"]}, "after": {"type": ["object", "null"]}}},
        "ChangeList": {"type": "object", "additionalProperties": false, "required": ["since", "next", "results"],
                       "properties": {"since": {"type": "integer"}, "next": {"type": "integer"},
                                      "results": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}}}},
        "SearchResponse": {"type": "object", "additionalProperties": false,
          "required": ["total", "page", "per_page", "results", "facets", "suggestion"],
          "properties": {
            "total": {"type": "integer", "minimum": 0}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "results": {"type": "array", "items": {"type": "object", "additionalProperties": false,
              "required": ["slug", "title", "summary", "type", "status", "owner", "mandated", "comply_by", "implement_from", "highlights"],
              "properties": {"slug": {"type": "string"}, "title": {"type": "string"}, "summary": {"type": "string"},
                             "type": {"enum": ["standard", "api"]}, "status": {"enum": Status::ALL.iter().map(|s| s.slug()).collect::<Vec<_>>()},
                             "owner": {"type": "string"}, "mandated": {"type": "boolean"},
                             "comply_by": {"type": ["string", "null"], "format": "date"}, "implement_from": {"type": ["string", "null"], "format": "date"},
                             "highlights": {"type": "object", "additionalProperties": false, "description": "HTML with matches in <mark>; everything else escaped",
                                            "properties": {"title": {"type": "string"}, "summary": {"type": "string"}, "description": {"type": "string"}}}}}},
            "facets": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object", "additionalProperties": false,
              "required": ["value", "label", "count", "selected"],
              "properties": {"value": {"type": "string"}, "label": {"type": "string"}, "count": {"type": "integer", "minimum": 0}, "selected": {"type": "boolean"}}}},
              "required": ["category", "status", "care_setting", "topic", "technology", "owner", "type", "mandated"]},
            "suggestion": {"type": ["string", "null"], "description": "A better-spelled query when this one finds little"}}},
        "Suggestions": {"type": "object", "additionalProperties": false, "required": ["query", "suggestions"],
          "properties": {"query": {"type": "string"}, "suggestions": {"type": "array", "maxItems": 8, "items": {"type": "object",
            "required": ["slug", "title", "type"], "properties": {"slug": {"type": "string"}, "title": {"type": "string"}, "type": {"type": "string"}}}}}},
        "SearchAnalytics": {"type": "object", "additionalProperties": false, "required": ["top_queries", "zero_result_queries"],
          "properties": {"top_queries": {"type": "array", "items": {"$ref": "#/components/schemas/QueryStat"}},
                         "zero_result_queries": {"type": "array", "items": {"$ref": "#/components/schemas/QueryStat"}}}},
        "QueryStat": {"type": "object", "additionalProperties": false, "required": ["query", "searches", "zero_results", "last_searched"],
          "properties": {"query": {"type": "string"}, "searches": {"type": "integer"}, "zero_results": {"type": "integer"}, "last_searched": {"type": "string"}}},
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail"],
                    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                                   "detail": {"type": "string"},
                                   "invalid-params": {"type": "array", "items": {"type": "object",
                                       "required": ["name", "value", "reason"],
                                       "properties": {"name": {"type": "string"}, "value": {"type": "string"}, "reason": {"type": "string"}}}}}}
      }}
    })
}

/// The document, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| with_common_responses(build()))
}

/// Answers any operation can give, added wherever an operation does not
/// describe them itself: a bad request (a malformed parameter or body), a
/// body over the size limit, a search over its work budget, and the store
/// busy or out of reach.
fn with_common_responses(mut doc: Value) -> Value {
    let common = [
        ("400", "The request is malformed: a parameter, the address or the body"),
        ("413", "The body is larger than 2 MB"),
        ("422", "The request is well formed but cannot be answered as asked"),
        ("503", "The store is busy or out of reach; try again after Retry-After seconds"),
    ];
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in item.values_mut().filter_map(Value::as_object_mut) {
                if let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) {
                    for (code, description) in common {
                        responses.entry(code).or_insert_with(|| problem_response(description));
                    }
                }
            }
        }
    }
    doc
}

pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], axum::Json(document()))
}
