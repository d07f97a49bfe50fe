//! The OpenAPI 3 document, made from the handlers' annotations and the model's types, and a
//! page that reads it for people. Both are public: they describe, they do not open anything.

use super::{
    accounts, alarms, directory,
    error::{ErrorBody, ErrorDetail},
    keys::Scope,
    model, occupancy, payments, readings, reports,
};
use axum::{
    Router,
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde_json::Value;
use std::{fmt::Write, sync::OnceLock};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, ComponentsBuilder, Content, RefOr, Required, ResponseBuilder,
        path::{Operation, ParameterBuilder, ParameterIn},
        schema::{ObjectBuilder, Type},
        security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme},
        server::Server,
    },
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Prepaid platform API",
        version = "1.0.0",
        description = "Sites, units, meters, residents, accounts, readings, payments, alarms and \
            reports of one organisation, for its other systems. Authenticate with an API key \
            (`Authorization: Bearer ppk_…`) made by an admin under *Integrations*; each key has \
            scopes. Every POST takes an `Idempotency-Key` header: a repeat returns the first \
            answer. Lists are pages: pass `next_cursor` as `cursor`. Money is an exact decimal \
            string beside integer minor units. Errors have one shape: \
            `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        directory::list_sites, directory::get_site, directory::list_buildings,
        directory::create_building, directory::list_units, directory::get_unit,
        directory::create_unit, directory::list_meters, directory::get_meter,
        directory::create_meter, directory::list_residents, directory::get_resident,
        directory::create_resident, occupancy::create_move_in, occupancy::create_move_out, accounts::list_accounts,
        accounts::get_account, accounts::list_transactions, accounts::get_usage,
        accounts::list_readings, readings::post_readings, payments::list_payments,
        payments::create_top_up, alarms::list_alarms, alarms::acknowledge_alarm,
        alarms::resolve_alarm, reports::consumption,
    ),
    components(schemas(ErrorBody, ErrorDetail, model::Money)),
    modifiers(&Conventions),
)]
pub struct ApiDoc;

/// The scope an operation needs: reads need `read`; writes need `write`, except top-ups
/// (`payments`) and readings (`readings`). The router groups routes the same way, and the
/// tests check each operation against it.
pub fn scope_for(method: &str, path: &str) -> Scope {
    match (method, path) {
        ("get", _) => Scope::Read,
        (_, "/top-ups") => Scope::Payments,
        (_, "/readings") => Scope::Readings,
        _ => Scope::Write,
    }
}

/// What every operation shares, added in one place rather than on each handler: the server
/// base, the key and the scope it needs, the error answers, and `Idempotency-Key` on writes.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        doc.servers = Some(vec![Server::new("/api/v1")]);
        let components = doc
            .components
            .take()
            .unwrap_or_else(|| ComponentsBuilder::new().build());
        let mut components = components;
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        doc.components = Some(components);
        for (path, item) in doc.paths.paths.iter_mut() {
            let operations = [("get", item.get.as_mut()), ("post", item.post.as_mut())];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    conventions(operation, method, path);
                }
            }
        }
    }
}

fn conventions(operation: &mut Operation, method: &str, path: &str) {
    let scope = scope_for(method, path);
    operation.security = Some(vec![SecurityRequirement::new("api_key", [scope.as_str()])]);
    let mut errors = vec![
        (
            400,
            "The request does not parse: a path, query or body of the wrong shape.",
        ),
        (401, "No key, or an unknown or revoked one."),
        (403, "The key's scopes do not allow this."),
        (404, "Not found in the key's organisation."),
        (429, "Too many requests for this key: see Retry-After."),
    ];
    if method == "post" {
        errors.push((
            409,
            "A conflict: a duplicate, or this Idempotency-Key still being answered.",
        ));
        errors.push((
            422,
            "Refused: a rule or state, or this Idempotency-Key used for another request.",
        ));
        let header = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(
                "Unique per request, 1 to 255 visible characters, such as a UUID.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[!-~]+$")),
            ))
            .build();
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(header);
    } else {
        // A GET with a query that does not fit its rules (a range too long) is refused too.
        errors.push((422, "Refused: the query's values do not fit together."));
    }
    for (status, description) in errors {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(RefOr::Ref(openapi::Ref::from_schema_name(
                    "ErrorBody",
                )))),
            )
            .build();
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert(RefOr::T(response));
    }
}

fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
}

async fn openapi_json() -> Response {
    let mut response = document().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a schema is called: the name it refers to, or its type (`array of X`).
fn schema_name(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or_default().to_owned();
    }
    if let Some(one_of) = schema["oneOf"].as_array() {
        return one_of
            .iter()
            .map(schema_name)
            .filter(|name| name != "null")
            .collect::<Vec<_>>()
            .join(" or ");
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .filter(|kind| *kind != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        Value::String(kind) => kind.clone(),
        _ => String::from("object"),
    };
    match (kind.as_str(), schema["format"].as_str()) {
        ("array", _) => format!("array of {}", schema_name(&schema["items"])),
        (_, Some(format)) => format!("{kind} ({format})"),
        _ => kind,
    }
}

/// A description as HTML: escaped, with its `code` spans set as code.
fn text(value: &Value) -> String {
    escape(value.as_str().unwrap_or_default())
        .split('`')
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

/// The document as a page: each operation with its scope, parameters, body and answers, then
/// each schema with its fields.
async fn docs() -> Html<&'static str> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(PAGE.get_or_init(docs_page))
}

fn docs_page() -> String {
    let doc: Value = serde_json::from_str(document()).expect("the document is JSON");
    let mut page = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API · Prepaid</title><style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;\
         margin:2rem auto;padding:0 1rem;color:#1b2a26}code{background:#eef3f1;padding:0 .25em}\
         h2{margin-top:2.5rem;border-bottom:1px solid #cfdcd7}h3{margin-bottom:.25rem}\
         .m{display:inline-block;min-width:3.5em;font-weight:700;color:#0b5d4b}\
         table{border-collapse:collapse}td,th{text-align:left;padding:.15rem .75rem .15rem 0;vertical-align:top}</style>\
         </head><body>",
    );
    let _ = write!(
        page,
        "<h1>{}</h1><p>{}</p><p>The machine-readable contract: <a href=\"/api/v1/openapi.json\">\
         /api/v1/openapi.json</a> (OpenAPI {}). Every path below starts with <code>/api/v1</code>.</p>",
        text(&doc["info"]["title"]),
        text(&doc["info"]["description"]),
        text(&doc["openapi"]),
    );
    page.push_str("<h2>Operations</h2>");
    let empty = serde_json::Map::new();
    for (path, item) in doc["paths"].as_object().unwrap_or(&empty) {
        for (method, operation) in item.as_object().unwrap_or(&empty) {
            let _ = write!(
                page,
                "<h3 id=\"{}\"><span class=\"m\">{}</span> <code>{}</code></h3><p>{} {}</p>\
                 <p>Scope: <code>{}</code></p>",
                text(&operation["operationId"]),
                escape(&method.to_uppercase()),
                escape(path),
                text(&operation["summary"]),
                text(&operation["description"]),
                scope_for(method, path).as_str(),
            );
            if let Some(parameters) = operation["parameters"].as_array() {
                page.push_str(
                    "<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Required</th><th></th></tr>",
                );
                for parameter in parameters {
                    let _ = write!(
                        page,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        text(&parameter["name"]),
                        text(&parameter["in"]),
                        escape(&schema_name(&parameter["schema"])),
                        if parameter["required"] == true {
                            "yes"
                        } else {
                            ""
                        },
                        text(&parameter["description"]),
                    );
                }
                page.push_str("</table>");
            }
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            if !body.is_null() {
                let _ = write!(
                    page,
                    "<p>Body: <a href=\"#schema-{0}\"><code>{0}</code></a></p>",
                    escape(&schema_name(body)),
                );
            }
            page.push_str("<p>Answers:");
            for (status, response) in operation["responses"].as_object().unwrap_or(&empty) {
                let schema = &response["content"]["application/json"]["schema"];
                let _ = write!(
                    page,
                    " <code>{}</code> {}.",
                    escape(status),
                    if schema.is_null() {
                        String::new()
                    } else {
                        escape(&schema_name(schema))
                    },
                );
            }
            page.push_str("</p>");
        }
    }
    page.push_str("<h2>Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap_or(&empty) {
        let _ = write!(
            page,
            "<h3 id=\"schema-{0}\">{0}</h3><p>{1}</p>",
            escape(name),
            text(&schema["description"])
        );
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(properties) = schema["properties"].as_object() {
            page.push_str("<table>");
            for (field, property) in properties {
                let _ = write!(
                    page,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(field),
                    escape(&schema_name(property)),
                    if required.contains(&field.as_str()) {
                        "required"
                    } else {
                        ""
                    },
                    text(&property["description"]),
                );
            }
            page.push_str("</table>");
        } else if let Some(values) = schema["enum"].as_array() {
            let values: Vec<String> = values.iter().map(text).collect();
            let _ = write!(
                page,
                "<p>One of <code>{}</code>.</p>",
                values.join("</code>, <code>")
            );
        }
    }
    page.push_str("</body></html>");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_every_operation_with_its_scope_and_errors() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                operations += 1;
                let scope = scope_for(method, path);
                assert_eq!(
                    operation["security"][0]["api_key"][0],
                    scope.as_str(),
                    "{method} {path}"
                );
                for status in ["400", "401", "403", "404", "429"] {
                    assert!(
                        operation["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
                let takes_key = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|parameter| parameter["name"] == "Idempotency-Key");
                assert_eq!(takes_key, method == "post", "{method} {path}");
            }
        }
        assert_eq!(operations, 27);
        assert_eq!(doc["servers"][0]["url"], "/api/v1");
    }

    #[test]
    fn descriptions_are_escaped_with_code_spans_set() {
        assert_eq!(
            text(&serde_json::json!("pass `next_cursor` as <cursor> & go")),
            "pass <code>next_cursor</code> as &lt;cursor&gt; &amp; go"
        );
    }
}
