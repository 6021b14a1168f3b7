//! A small JSON-over-HTTP/1.1 client (hyper, pooled keep-alive connections).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// What one call returned.
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    pub lag: Option<u64>,
}

/// The server's base URL, token and a connection pool.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: String,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Bounds requests in flight (and so connections).
    slots: Arc<Semaphore>,
}

impl Api {
    pub fn new(base: &str, token: &str, connections: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(4096)
            .build(connector);
        Api {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            client,
            slots: Arc::new(Semaphore::new(connections)),
        }
    }

    /// POSTs `body` to `/<endpoint>`; `Err` for transport failures.
    pub async fn post(&self, endpoint: &str, body: &Value) -> Result<Reply, String> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| format!("closed: {e}"))?;
        let request = hyper::Request::post(format!("{}/{endpoint}", self.base))
            .header("content-type", "application/json")
            .header("biglearn-api-token", &self.token)
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| format!("building the request: {e}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("transport: {e}"))?;
        let status = response.status().as_u16();
        let lag = response
            .headers()
            .get("biglearn-lag-events")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e}"))?
            .to_bytes();
        Ok(Reply { status, body, lag })
    }

    /// POSTs and requires a 200 (setup calls).
    pub async fn must(&self, endpoint: &str, body: &Value) -> Result<Value, String> {
        let reply = self.post(endpoint, body).await?;
        if reply.status != 200 {
            return Err(format!(
                "{endpoint} answered {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
        serde_json::from_slice(&reply.body).map_err(|e| format!("{endpoint}: bad JSON: {e}"))
    }
}
