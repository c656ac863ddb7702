//! `openapi.yaml` equals the router: the same (method, path) pairs, every documented route
//! answered by its handler (not the fallback), and the error types and their statuses as
//! the code sends them.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::{call, server};
use lat_server::{ErrorType, OPENAPI_YAML, ROUTES};
use serde_json::Value;

fn spec() -> Value {
    serde_norway::from_str(OPENAPI_YAML).unwrap()
}

fn documented() -> BTreeSet<(String, String)> {
    let spec = spec();
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.clone(), path.clone()));
        }
    }
    routes
}

#[test]
fn the_spec_lists_exactly_the_routes() {
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented(), served);
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml")).unwrap();
    assert_eq!(file, OPENAPI_YAML);
}

#[test]
fn error_types_and_statuses_match_the_code() {
    let spec = spec();
    let schema = &spec["components"]["schemas"]["ErrorType"];
    let names: Vec<&str> = schema["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let code: Vec<&str> = ErrorType::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(names, code);
    let description = schema["description"].as_str().unwrap().replace('\n', " ");
    for t in ErrorType::ALL {
        let expected = format!("{} {}", t.name(), t.status().as_u16());
        assert!(
            description.contains(&expected),
            "the spec should say `{expected}`"
        );
    }
    let statuses: BTreeSet<u16> = ErrorType::ALL.iter().map(|t| t.status().as_u16()).collect();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for code in op["responses"].as_object().unwrap().keys() {
                let code: u16 = code.parse().unwrap();
                assert!(
                    code == 200 || statuses.contains(&code),
                    "{method} {path}: {code} is never sent"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_documented_route_reaches_its_handler() {
    let s = server().await;
    for (method, path) in documented() {
        let uri = path.replace("{name}", "cls");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = call(&s.app, method.clone(), &uri, None, &[]).await;
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_ne!(r.json["error"], "no such route", "{method} {uri}");
        let other = call(&s.app, Method::DELETE, &uri, None, &[]).await;
        assert_eq!(other.status, StatusCode::METHOD_NOT_ALLOWED, "DELETE {uri}");
    }
    let served = call(&s.app, Method::GET, "/openapi.yaml", None, &[]).await;
    assert_eq!(served.text, OPENAPI_YAML);
}
