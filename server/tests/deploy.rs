//! docker/ and k8s/ name only what the server has: every `LAT_*` variable is a flag's env
//! twin, probes hit real routes, ports agree, and the autoscaling metric is exported.
//! (Schemas and linters run in `scripts/check-deploy.sh`.)
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use axum::http::Method;
use serde_norway::Value;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn yaml(path: &str) -> Value {
    serde_norway::from_str(&std::fs::read_to_string(repo(path)).unwrap()).unwrap()
}

/// `lat-server --help`.
fn help() -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lat-server"))
        .arg("--help")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Every `[env: LAT_...=` the binary's help lists.
fn env_twins(help: &str) -> BTreeSet<String> {
    let twins: BTreeSet<String> = help
        .split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split(['=', ']']).next())
        .map(str::to_string)
        .collect();
    assert!(twins.contains("LAT_PORT") && twins.len() > 20, "{twins:?}");
    twins
}

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"].as_str() == Some(name))
        .and_then(|e| e["value"].as_str())
}

#[test]
fn every_lat_variable_is_a_flag() {
    let help = help();
    let twins = env_twins(&help);
    assert!(help.contains("--health-probe"));
    let mut named = BTreeSet::new();
    let deployment = yaml("k8s/deployment.yaml");
    for e in container(&deployment)["env"].as_sequence().unwrap() {
        named.insert(e["name"].as_str().unwrap().to_string());
    }
    let compose = yaml("docker/compose.yaml");
    let server_env = compose["services"]["lat-server"]["environment"]
        .as_mapping()
        .unwrap();
    named.extend(server_env.keys().map(|k| k.as_str().unwrap().to_string()));
    for file in ["docker/Dockerfile", "docker/Dockerfile.wgpu"] {
        let text = std::fs::read_to_string(repo(file)).unwrap();
        named.extend(
            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("LAT_"))
                .map(str::to_string),
        );
        assert!(text.contains("--health-probe"), "{file}: HEALTHCHECK");
    }
    let unknown: Vec<_> = named.iter().filter(|n| !twins.contains(*n)).collect();
    assert!(named.len() >= 8, "{named:?}");
    assert!(unknown.is_empty(), "not lat-server flags: {unknown:?}");
}

#[test]
fn probes_ports_and_scrapes_agree_with_the_server() {
    let routes: BTreeSet<&str> = lat_server::ROUTES
        .iter()
        .filter(|(method, _)| *method == "get")
        .map(|(_, path)| *path)
        .collect();
    let deployment = yaml("k8s/deployment.yaml");
    let c = container(&deployment);
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        let path = c[probe]["httpGet"]["path"].as_str().unwrap();
        assert!(routes.contains(path), "{probe} {path}");
    }
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/health/live");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/health/ready");

    let ports: Vec<(String, u64)> = c["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_string();
            (name, p["containerPort"].as_u64().unwrap())
        })
        .collect();
    let port = |name: &str| ports.iter().find(|(n, _)| n == name).unwrap().1;
    let metrics_port: u64 = env_value(c, "LAT_METRICS_PORT").unwrap().parse().unwrap();
    assert_eq!(port("metrics"), metrics_port);
    // The image sets LAT_PORT=8080; the Deployment relies on it.
    let dockerfile = std::fs::read_to_string(repo("docker/Dockerfile")).unwrap();
    assert!(dockerfile.contains(&format!("LAT_PORT={}", port("http"))));
    let threads: u64 = env_value(c, "LAT_THREADS").unwrap().parse().unwrap();
    let cpu = c["resources"]["limits"]["cpu"].as_str().unwrap();
    assert_eq!(cpu.parse::<u64>().unwrap(), threads, "threads = CPU limit");
    assert_eq!(
        c["resources"]["limits"]["cpu"],
        c["resources"]["requests"]["cpu"]
    );

    let frontier = env_value(c, "LAT_FRONTIER").unwrap();
    let mount = c["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert!(
        c["volumeMounts"][0]["subPath"].is_null(),
        "subPath never updates"
    );
    let configmap = yaml("k8s/frontier-configmap.yaml");
    let key = configmap["data"]
        .as_mapping()
        .unwrap()
        .keys()
        .next()
        .unwrap();
    assert_eq!(frontier, format!("{mount}/{}", key.as_str().unwrap()));

    let monitor = yaml("k8s/servicemonitor.yaml");
    let service = yaml("k8s/service-metrics.yaml");
    assert_eq!(
        monitor["spec"]["endpoints"][0]["port"],
        service["spec"]["ports"][0]["name"]
    );
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    let compose = yaml("docker/compose.yaml");
    let compose_metrics = compose["services"]["lat-server"]["environment"]["LAT_METRICS_PORT"]
        .as_str()
        .unwrap();
    let prometheus = yaml("docker/prometheus.yml");
    assert_eq!(
        prometheus["scrape_configs"][0]["static_configs"][0]["targets"][0],
        format!("lat-server:{compose_metrics}").as_str()
    );
}

#[tokio::test]
async fn the_autoscaling_metric_is_exported() {
    let hpa = yaml("k8s/hpa.yaml");
    let metric = hpa["spec"]["metrics"][0]["pods"]["metric"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let adapter = yaml("k8s/prometheus-adapter-rules.yaml");
    let rules: Value =
        serde_norway::from_str(adapter["data"]["config.yaml"].as_str().unwrap()).unwrap();
    let rule = &rules["rules"][0];
    assert!(rule["seriesQuery"].as_str().unwrap().starts_with(&metric));
    assert_eq!(rule["name"]["as"].as_str().unwrap(), metric);

    let s = common::server().await;
    let scrape = common::call(&s.app, Method::GET, "/metrics", None, &[])
        .await
        .text;
    assert!(
        scrape.contains(&format!("# TYPE {metric} gauge")),
        "{metric} is not an exported gauge"
    );
}
