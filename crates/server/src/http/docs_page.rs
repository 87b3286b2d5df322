//! Renders the OpenAPI document as one self-contained HTML page: every operation with its parameters,
//! request body and responses, and every schema with its properties. Built once at start-up; it needs
//! no script and nothing from the internet.

use serde_json::Value;
use std::fmt::Write;

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
h2{border-bottom:1px solid #ddd;margin-top:2em}.op{border:1px solid #e3e3e3;border-radius:6px;padding:.6em 1em;margin:1em 0}\
.m{font-weight:700;text-transform:uppercase;display:inline-block;min-width:4.5em}.get{color:#0a7}.post{color:#06c}\
.put{color:#b70}.delete{color:#c22}code{background:#f4f4f4;padding:0 .25em;border-radius:3px}\
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #e3e3e3;padding:.2em .6em;text-align:left;vertical-align:top}";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML page for an OpenAPI document given as JSON.
pub fn render(doc: &Value) -> String {
    let mut html = String::new();
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let version = doc["info"]["version"].as_str().unwrap_or("");
    let _ = write!(
        html,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\
         <h1>{t} <small>{v}</small></h1><p>{d}</p><p>The machine-readable document is at <a href=\"/openapi.json\">/openapi.json</a>.</p>",
        t = esc(title),
        v = esc(version),
        d = esc(doc["info"]["description"].as_str().unwrap_or(""))
    );
    render_operations(&mut html, doc);
    render_schemas(&mut html, doc);
    html.push_str("</body></html>");
    html
}

fn render_operations(html: &mut String, doc: &Value) {
    html.push_str("<h2>Operations</h2>");
    let Some(paths) = doc["paths"].as_object() else {
        return;
    };
    for (path, item) in paths {
        let Some(methods) = item.as_object() else {
            continue;
        };
        for (method, op) in methods {
            let _ = write!(
                html,
                "<div class=\"op\" id=\"{id}\"><span class=\"m {m}\">{m}</span> <code>{p}</code><p>{s}</p>",
                id = esc(op["operationId"].as_str().unwrap_or("")),
                m = esc(method),
                p = esc(path),
                s = esc(op["description"].as_str().or(op["summary"].as_str()).unwrap_or(""))
            );
            render_parameters(html, &op["parameters"]);
            if let Some(schema) =
                op["requestBody"]["content"]["application/json"]["schema"].as_object()
            {
                let _ = write!(
                    html,
                    "<p>Body: {}</p>",
                    schema_label(&Value::Object(schema.clone()))
                );
            }
            render_responses(html, &op["responses"]);
            html.push_str("</div>");
        }
    }
}

fn render_parameters(html: &mut String, params: &Value) {
    let Some(params) = params.as_array().filter(|p| !p.is_empty()) else {
        return;
    };
    html.push_str("<table><tr><th>parameter</th><th>in</th><th>description</th></tr>");
    for p in params {
        let _ = write!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(p["name"].as_str().unwrap_or("")),
            esc(p["in"].as_str().unwrap_or("")),
            esc(p["description"].as_str().unwrap_or(""))
        );
    }
    html.push_str("</table>");
}

fn render_responses(html: &mut String, responses: &Value) {
    let Some(responses) = responses.as_object() else {
        return;
    };
    html.push_str("<table><tr><th>status</th><th>meaning</th><th>body</th></tr>");
    for (status, r) in responses {
        let body = r["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .map(|media| schema_label(&media["schema"]))
            .unwrap_or_default();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(status),
            esc(r["description"].as_str().unwrap_or("")),
            body
        );
    }
    html.push_str("</table>");
}

/// A short HTML label for a schema: a link to a named schema, or its type.
fn schema_label(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    if schema["type"] == "array" {
        return format!("array of {}", schema_label(&schema["items"]));
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return options
            .iter()
            .map(schema_label)
            .collect::<Vec<_>>()
            .join(" or ");
    }
    match &schema["type"] {
        Value::String(t) => esc(t),
        Value::Array(types) => esc(&types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | ")),
        _ => String::new(),
    }
}

fn render_schemas(html: &mut String, doc: &Value) {
    html.push_str("<h2>Schemas</h2>");
    let Some(schemas) = doc["components"]["schemas"].as_object() else {
        return;
    };
    for (name, schema) in schemas {
        let _ = write!(
            html,
            "<div class=\"op\" id=\"schema-{0}\"><b>{0}</b>",
            esc(name)
        );
        if let Some(d) = schema["description"].as_str() {
            let _ = write!(html, "<p>{}</p>", esc(d));
        }
        if let Some(props) = schema["properties"].as_object() {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            html.push_str("<table><tr><th>property</th><th>type</th><th>description</th></tr>");
            for (prop, p) in props {
                let mark = if required.contains(&prop.as_str()) {
                    " *"
                } else {
                    ""
                };
                let _ = write!(
                    html,
                    "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>",
                    esc(prop),
                    schema_label(p),
                    esc(p["description"].as_str().unwrap_or(""))
                );
            }
            html.push_str("</table>");
        }
        html.push_str("</div>");
    }
}
