//! Reading a runtime from inside its pod, through the API server's pod
//! proxy (`pods/proxy` get): what the pod itself says, not what etcd says.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use super::Kube;

const PROXY_TIMEOUT: Duration = Duration::from_secs(5);

/// The port the runtime listens on: the first container's first declared
/// port, or the runtime's default 8080.
pub fn port(p: &Pod) -> i32 {
    p.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.ports.as_ref())
        .and_then(|ports| ports.first())
        .map(|port| port.container_port)
        .unwrap_or(8080)
}

/// The `configmap:NS/NAME` a pod's runtime follows, from its container's
/// command line; `None` when it was started without one, so nothing
/// written to the ConfigMap can reach it.
pub fn follows_configmap(p: &Pod) -> Option<String> {
    let c = p.spec.as_ref()?.containers.first()?;
    let words: Vec<&str> = c
        .command
        .iter()
        .flatten()
        .chain(c.args.iter().flatten())
        .map(String::as_str)
        .collect();
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        let value = if let Some(v) = w.strip_prefix("--migration-source=") {
            Some(v)
        } else if *w == "--migration-source" {
            it.peek().copied().copied()
        } else {
            None
        };
        if let Some(v) = value
            && v.starts_with("configmap:")
        {
            return Some(v.to_string());
        }
    }
    None
}

/// GET `path` of one pod through the proxy, as JSON.
pub async fn get_json(kube: &Kube, p: &Pod, path: &str) -> Result<serde_json::Value, String> {
    let text = get_text(kube, p, path).await?;
    serde_json::from_str(&text).map_err(|e| format!("{path} did not answer JSON: {e}"))
}

/// GET `path` of one pod as JSON whatever its HTTP status: an unhealthy
/// runtime answers `/health` with 503 and a body that says why, and that
/// body is the finding, not a failed read.
pub async fn get_json_answer(
    kube: &Kube,
    p: &Pod,
    path: &str,
) -> Result<(u16, serde_json::Value), String> {
    match fetch(kube, p, path).await? {
        Ok(text) => serde_json::from_str(&text)
            .map(|v| (200, v))
            .map_err(|e| format!("{path} did not answer JSON: {e}")),
        Err(kube::Error::Api(s)) => match runtime_body(&s.message) {
            Some(v) => Ok((s.code, v)),
            None => Err(format!(
                "the pod proxy answered {} {} for {path}",
                s.code, s.message
            )),
        },
        Err(other) => Err(format!("{path} through the pod proxy: {other}")),
    }
}

/// The runtime's own JSON in an error answer; `None` for the API server's
/// `Status` (the proxy could not reach the pod, or was refused).
fn runtime_body(message: &str) -> Option<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(message).ok()?;
    (v.is_object() && v["kind"] != "Status").then_some(v)
}

/// GET `path` of one pod through the proxy, as text (`/metrics`).
pub async fn get_text(kube: &Kube, p: &Pod, path: &str) -> Result<String, String> {
    fetch(kube, p, path).await?.map_err(|e| match e {
        kube::Error::Api(s) => {
            format!("the pod proxy answered {} {} for {path}", s.code, s.message)
        }
        other => format!("{path} through the pod proxy: {other}"),
    })
}

async fn fetch(kube: &Kube, p: &Pod, path: &str) -> Result<Result<String, kube::Error>, String> {
    let name = p.metadata.name.as_deref().ok_or("a pod without a name")?;
    let ns = p.metadata.namespace.as_deref().unwrap_or(&kube.namespace);
    let port = port(p);
    let req = hyper::Request::builder()
        .uri(format!(
            "/api/v1/namespaces/{ns}/pods/{name}:{port}/proxy{path}"
        ))
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    tokio::time::timeout(PROXY_TIMEOUT, kube.client.request_text(req))
        .await
        .map_err(|_| format!("no answer from {path} within 5 s through the pod proxy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(args: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "hal9", "args": args}]}
        }))
        .unwrap()
    }

    #[test]
    fn an_error_answer_is_the_runtimes_body_only_when_it_is_not_the_api_servers_status() {
        assert_eq!(
            runtime_body(r#"{"status":"unhealthy","checks":[]}"#).unwrap()["status"],
            "unhealthy"
        );
        assert!(runtime_body(r#"{"kind":"Status","status":"Failure","code":503}"#).is_none());
        assert!(runtime_body("error trying to reach service: dial tcp").is_none());
    }

    #[test]
    fn a_pod_follows_the_configmap_only_when_its_command_line_says_so() {
        assert_eq!(
            follows_configmap(&pod(serde_json::json!([
                "serve",
                "--migration-source",
                "configmap:hal9/hal9-migration"
            ]))),
            Some("configmap:hal9/hal9-migration".into())
        );
        assert_eq!(
            follows_configmap(&pod(serde_json::json!([
                "serve",
                "--migration-source=configmap:x/y"
            ]))),
            Some("configmap:x/y".into())
        );
        assert_eq!(follows_configmap(&pod(serde_json::json!(["serve"]))), None);
        assert_eq!(
            follows_configmap(&pod(serde_json::json!([
                "serve",
                "--migration-source",
                "file:/m.json"
            ]))),
            None
        );
        assert_eq!(
            follows_configmap(&pod(serde_json::json!(["serve", "--migration-source"]))),
            None
        );
    }
}
