//! The HTTP transport: JSON over HTTP/1.1 with hyper's pooled keep-alive
//! connections.

use std::future::Future;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::calls::{Client, Reply, Transport};

/// The server's base URL, token and a connection pool.
pub struct Http {
    base: String,
    token: String,
    client: HyperClient<HttpConnector, Full<Bytes>>,
}

/// The client the tool talks to the server with.
pub type Api = Client<Http>;

impl Client<Http> {
    /// At most `connections` requests in flight, each exchange bounded by
    /// `timeout`.
    pub fn new(base: &str, token: &str, connections: usize, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(4096)
            .build(connector);
        let http = Http {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            client,
        };
        Client::with_transport(http, connections, timeout)
    }
}

impl Transport for Http {
    fn exchange(
        &self,
        endpoint: &'static str,
        body: &Value,
    ) -> impl Future<Output = Result<Reply, String>> + Send {
        let request = hyper::Request::post(format!("{}/{endpoint}", self.base))
            .header("content-type", "application/json")
            .header("biglearn-api-token", &self.token)
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| format!("building the request: {e}"));
        let client = self.client.clone();
        async move {
            let response = client
                .request(request?)
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
    }
}
