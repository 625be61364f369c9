//! Every manifest in `deploy/` parses, and agrees with the binary: env var names are settings
//! the binary reads and their values pass its validation; the health port, probe paths and
//! shutdown deadline match; queue names follow the topology; alert and dashboard queries use
//! only metrics the worker exports.

use serde_json::Value;
use sfprivacy::broker::topology::{Names, ROUTING_KEYS};
use sfprivacy::config::{ENV_PREFIX, SETTING_KEYS, Settings};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

/// Every YAML document of every `deploy/*.yaml`, as JSON values.
fn documents() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(deploy_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "manifests missing: {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for doc in serde_norway::Deserializer::from_str(&text) {
            let v: serde_norway::Value = serde::Deserialize::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let v: Value = serde_json::to_value(v).unwrap();
            if v.is_null() {
                continue;
            }
            for field in ["apiVersion", "kind", "metadata"] {
                assert!(v.get(field).is_some(), "{}: no {field}", path.display());
            }
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), v));
        }
    }
    out
}

fn find<'a>(docs: &'a [(String, Value)], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .map(|(_, v)| v)
        .find(|v| v["kind"] == kind && v["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn str_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn known_setting(env_name: &str) -> bool {
    env_name
        .strip_prefix(ENV_PREFIX)
        .is_some_and(|k| SETTING_KEYS.iter().any(|(s, _)| *s == k))
}

/// The worker's environment as the Deployment assembles it from the ConfigMap and the example
/// Secrets, with the mounted files materialised in `dir` (where the manifests mount them).
fn environment(docs: &[(String, Value)], dir: &Path) -> BTreeMap<String, String> {
    let deployment = find(docs, "Deployment", "sfprivacy-worker");
    let spec = &deployment["spec"]["template"]["spec"];
    let container = &spec["containers"][0];
    let mut env = BTreeMap::new();
    for from in container["envFrom"].as_array().unwrap() {
        let cm = find(
            docs,
            "ConfigMap",
            from["configMapRef"]["name"].as_str().unwrap(),
        );
        env.extend(str_map(&cm["data"]));
    }
    for e in container["env"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        let sref = &e["valueFrom"]["secretKeyRef"];
        let secret = find(docs, "Secret", sref["name"].as_str().unwrap());
        let value = secret["stringData"][sref["key"].as_str().unwrap()]
            .as_str()
            .unwrap_or_else(|| panic!("secret key for {name} missing"));
        env.insert(name.to_string(), value.to_string());
    }
    // Secret volumes: write each secret's files where it is mounted (re-rooted under `dir`).
    let volumes = spec["volumes"].as_array().unwrap();
    for m in container["volumeMounts"].as_array().unwrap() {
        let vol = volumes
            .iter()
            .find(|v| v["name"] == m["name"])
            .unwrap_or_else(|| panic!("volume {} not declared", m["name"]));
        let Some(secret_name) = vol["secret"]["secretName"].as_str() else {
            continue;
        };
        let mount = m["mountPath"].as_str().unwrap();
        let target = dir.join(mount.trim_start_matches('/'));
        std::fs::create_dir_all(&target).unwrap();
        for (file, content) in str_map(&find(docs, "Secret", secret_name)["stringData"]) {
            let content = content.replace(
                "/etc/sfprivacy/",
                &format!("{}/etc/sfprivacy/", dir.display()),
            );
            std::fs::write(target.join(file), content).unwrap();
        }
    }
    for v in env.values_mut() {
        if v.starts_with("/etc/sfprivacy/") {
            *v = format!("{}{}", dir.display(), v);
        }
    }
    env
}

#[test]
fn deployment_env_is_what_the_binary_reads_and_validates() {
    let docs = documents();
    let dir = tempfile::tempdir().unwrap();
    let env = environment(&docs, dir.path());
    for name in env.keys() {
        assert!(
            known_setting(name),
            "{name} is not a setting the binary reads"
        );
    }
    for required in [
        "SFPRIVACY_AMQP_URL",
        "SFPRIVACY_REDIS_URL",
        "SFPRIVACY_CONNECTIONS_FILE",
    ] {
        assert!(env.contains_key(required), "{required} not set");
    }
    // The settings validate, the mounted connections file parses, the token key file decodes.
    let settings = Settings::from_sources(None, &env).unwrap_or_else(|e| panic!("{e}"));
    settings.require_connections().unwrap();
    assert!(!settings.insecure_dev_token_key);
    assert_eq!(settings.connections[0].id, "acme-prod");

    let deployment = find(&docs, "Deployment", "sfprivacy-worker");
    let spec = &deployment["spec"]["template"]["spec"];
    let container = &spec["containers"][0];
    assert_eq!(container["args"][0], "worker");

    // The health port is the one the binary listens on.
    let ports = container["ports"].as_array().unwrap();
    let health = ports
        .iter()
        .find(|p| p["name"] == "health")
        .expect("port named health");
    assert_eq!(
        health["containerPort"].as_u64().unwrap(),
        u64::from(settings.health_addr.port())
    );
    // Probes on that port, on the paths the binary serves.
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        assert_eq!(container[probe]["httpGet"]["port"], "health", "{probe}");
    }
    // Service-link variables (`SFPRIVACY_WORKER_SERVICE_HOST`, …) share our prefix.
    assert_eq!(spec["enableServiceLinks"], false);
    // Grace period above the shutdown deadline.
    let grace = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        grace > settings.shutdown_deadline.as_secs(),
        "terminationGracePeriodSeconds {grace} must exceed the shutdown deadline {:?}",
        settings.shutdown_deadline
    );
    // Hardening and resources.
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    for r in ["cpu", "memory"] {
        assert!(
            container["resources"]["requests"][r].is_string(),
            "requests.{r}"
        );
    }
    assert!(container["resources"]["limits"]["memory"].is_string());
}

/// Should service links be enabled after all, the variables Kubernetes would inject for every
/// Service in `deploy/` must not stop the worker.
#[test]
fn service_link_variables_do_not_stop_the_worker() {
    let docs = documents();
    let dir = tempfile::tempdir().unwrap();
    let mut env = environment(&docs, dir.path());
    let mut injected = 0;
    for (_, svc) in docs.iter().filter(|(_, v)| v["kind"] == "Service") {
        let name = svc["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_ascii_uppercase()
            .replace('-', "_");
        let ip = "10.96.12.34";
        for (i, p) in svc["spec"]["ports"].as_array().unwrap().iter().enumerate() {
            let port = p["port"].as_u64().unwrap();
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            let url = format!("{}://{ip}:{port}", proto.to_ascii_lowercase());
            let link = format!("{name}_PORT_{port}_{proto}");
            let mut vars = vec![
                (format!("{link}_ADDR"), ip.to_string()),
                (format!("{link}_PORT"), port.to_string()),
                (format!("{link}_PROTO"), proto.to_ascii_lowercase()),
                (link, url.clone()),
            ];
            if let Some(pname) = p["name"].as_str() {
                let pname = pname.to_ascii_uppercase().replace('-', "_");
                vars.push((format!("{name}_SERVICE_PORT_{pname}"), port.to_string()));
            }
            if i == 0 {
                vars.push((format!("{name}_SERVICE_HOST"), ip.to_string()));
                vars.push((format!("{name}_SERVICE_PORT"), port.to_string()));
                vars.push((format!("{name}_PORT"), url));
            }
            for (k, v) in vars {
                if k.starts_with(ENV_PREFIX) {
                    injected += 1;
                }
                env.insert(k, v);
            }
        }
    }
    assert!(injected >= 7, "the sfprivacy-worker Service's variables");
    Settings::from_sources(None, &env).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn probe_paths_are_served_by_the_health_port() {
    let docs = documents();
    let container =
        &find(&docs, "Deployment", "sfprivacy-worker")["spec"]["template"]["spec"]["containers"][0];
    let readiness = sfprivacy::ops::Readiness::new();
    let server =
        sfprivacy::ops::HealthServer::bind("127.0.0.1:0".parse().unwrap(), readiness.clone(), None)
            .await
            .unwrap();
    let addr = server.local_addr().unwrap();
    let token = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(server.run(token.clone()));
    readiness.set("consumer", true);
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let path = container[probe]["httpGet"]["path"].as_str().unwrap();
        let status = reqwest::get(format!("http://{addr}{path}"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{probe} {path}");
    }
    token.cancel();
    task.await.unwrap().unwrap();
}

#[test]
fn selectors_and_targets_agree() {
    let docs = documents();
    let deployment = find(&docs, "Deployment", "sfprivacy-worker");
    let labels = &deployment["spec"]["selector"]["matchLabels"];
    assert_eq!(
        &deployment["spec"]["template"]["metadata"]["labels"],
        labels
    );
    assert_eq!(
        &find(&docs, "PodDisruptionBudget", "sfprivacy-worker")["spec"]["selector"]["matchLabels"],
        labels
    );
    assert_eq!(
        &find(&docs, "Service", "sfprivacy-worker")["spec"]["selector"],
        labels
    );
    let pm = find(&docs, "PodMonitor", "sfprivacy-worker");
    assert_eq!(&pm["spec"]["selector"]["matchLabels"], labels);
    assert_eq!(pm["spec"]["podMetricsEndpoints"][0]["port"], "health");
    assert_eq!(pm["spec"]["podMetricsEndpoints"][0]["path"], "/metrics");
}

#[test]
fn keda_scales_on_the_work_queues_counting_unacked_messages() {
    let docs = documents();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::from_sources(None, &environment(&docs, dir.path())).unwrap();
    let names = Names::new(
        &settings.queue_prefix,
        &settings.results_queue,
        &settings.retry_tiers,
    );
    let so = find(&docs, "ScaledObject", "sfprivacy-worker");
    assert_eq!(so["spec"]["scaleTargetRef"]["name"], "sfprivacy-worker");
    let triggers = so["spec"]["triggers"].as_array().unwrap();
    let queues: BTreeSet<&str> = triggers
        .iter()
        .map(|t| t["metadata"]["queueName"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<String> = ROUTING_KEYS.iter().map(|k| names.work_queue(k)).collect();
    assert_eq!(
        queues,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    for t in triggers {
        assert_eq!(t["type"], "rabbitmq");
        // The management API counts ready + unacknowledged; AMQP would count ready only.
        assert_eq!(t["metadata"]["protocol"], "http");
        assert_eq!(t["metadata"]["mode"], "QueueLength");
        // One replica's share of the backlog is what it works on at once.
        assert_eq!(
            t["metadata"]["value"].as_str().unwrap(),
            settings.concurrency.to_string()
        );
        let auth = find(
            &docs,
            "TriggerAuthentication",
            t["authenticationRef"]["name"].as_str().unwrap(),
        );
        let sref = &auth["spec"]["secretTargetRef"][0];
        let secret = find(&docs, "Secret", sref["name"].as_str().unwrap());
        let url = secret["stringData"][sref["key"].as_str().unwrap()]
            .as_str()
            .unwrap();
        assert!(
            url.starts_with("http"),
            "management API URL expected, got {url}"
        );
    }
}

/// `sfprivacy_*` names used in a PromQL text, histogram suffixes folded to their base.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"sfprivacy_[a-z_]+").unwrap();
    re.find_iter(expr)
        .map(|m| {
            let n = m.as_str();
            for suffix in ["_bucket", "_sum", "_count"] {
                if let Some(base) = n.strip_suffix(suffix)
                    && sfprivacy::ops::metrics::ALL.contains(&base)
                {
                    return base.to_string();
                }
            }
            n.to_string()
        })
        .collect()
}

#[test]
fn alerts_and_dashboard_use_only_exported_metrics() {
    let docs = documents();
    let rule = find(&docs, "PrometheusRule", "sfprivacy");
    let mut alerts = BTreeSet::new();
    for group in rule["spec"]["groups"].as_array().unwrap() {
        for r in group["rules"].as_array().unwrap() {
            alerts.insert(r["alert"].as_str().unwrap().to_string());
            for n in metric_names(r["expr"].as_str().unwrap()) {
                assert!(
                    sfprivacy::ops::metrics::ALL.contains(&n.as_str()),
                    "alert {} uses unknown metric {n}",
                    r["alert"]
                );
            }
        }
    }
    for required in [
        "SfprivacyDeadLettersGrowing",
        "SfprivacyApiBudgetNearlySpent",
        "SfprivacyHighErrorRate",
        "SfprivacyNoProgress",
    ] {
        assert!(alerts.contains(required), "missing alert {required}");
    }

    let dash: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy_dir().join("grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    let mut used = BTreeSet::new();
    for panel in dash["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            used.extend(metric_names(t["expr"].as_str().unwrap()));
        }
    }
    for n in &used {
        assert!(
            sfprivacy::ops::metrics::ALL.contains(&n.as_str()),
            "dashboard uses unknown metric {n}"
        );
    }
    for n in sfprivacy::ops::metrics::ALL {
        assert!(used.contains(*n), "metric {n} has no dashboard panel");
    }
}

/// docker-compose's connections file logs in to the emulator it starts, as the worker would
/// (a token request with the connection's grant), rather than relying on a token some other
/// process cached.
#[tokio::test]
async fn compose_connections_log_in_to_the_emulator() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml");
    let compose: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let content = compose["configs"]["connections"]["content"]
        .as_str()
        .expect("configs.connections.content");
    let mut conns =
        sfprivacy::config::connections::parse(content).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(conns.len(), 1);
    let mut conn = conns.remove(0);
    assert_eq!(conn.environment.login_url(), "http://emulator:8585");
    let emu = sf_emulator::Emulator::new(sf_emulator::EmulatorConfig::default())
        .start("127.0.0.1:0")
        .await
        .unwrap();
    conn.environment = sfprivacy::config::Environment::Custom(emu.base_url.parse().unwrap());
    let http = sfprivacy::salesforce::http_client().unwrap();
    let token = sfprivacy::salesforce::auth::grant(&http, &conn, None)
        .await
        .unwrap_or_else(|e| panic!("compose's credentials are refused by the emulator: {e}"));
    assert_eq!(token.instance_url, emu.base_url);
}
