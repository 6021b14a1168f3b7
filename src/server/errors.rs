//! Every non-2xx answer of the server, rendered as `{"errors": [...]}`
//! (api.md §3; decisions A2, A3, A4, A7).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use biglearn_core::events::ValidationErrors;
use biglearn_core::log::StoreError;

/// The fixed body text of a token failure (A3).
pub const INVALID_TOKEN: &str = "request has an invalid Biglearn-Api-Token";

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A client mistake: each message names the JSON path (A2) → 400.
    #[error("invalid request: {0:?}")]
    Invalid(Vec<String>),
    /// Missing or wrong `Biglearn-Api-Token` (A3) → 401.
    #[error("{INVALID_TOKEN}")]
    Unauthorized,
    /// No such endpoint (or not POST) → 404.
    #[error("no endpoint {method} {path}")]
    NotFound {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// Body above the cap (A7) → 413.
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The configured cap in bytes.
        limit: usize,
    },
    /// The call conflicts with stored data; nothing was stored (A4) → 422.
    #[error("conflict: {0:?}")]
    Conflict(Vec<String>),
    /// The storage backend failed (not the client's fault) → 503.
    #[error("storage failed during {during}: {source}")]
    Store {
        /// What the server was doing.
        during: &'static str,
        /// The backend's error.
        #[source]
        source: StoreError,
    },
    /// A bug or a lost worker thread → 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A single 400 message.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![message.into()])
    }

    /// A storage failure while doing `during`.
    pub fn store(during: &'static str) -> impl FnOnce(StoreError) -> ApiError {
        move |source| ApiError::Store { during, source }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Store { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `errors` array of the body.
    pub fn messages(&self) -> Vec<String> {
        match self {
            ApiError::Invalid(messages) | ApiError::Conflict(messages) => messages.clone(),
            other => vec![other.to_string()],
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Invalid(errors.messages())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self, "request failed");
        }
        let body = serde_json::json!({ "errors": self.messages() }).to_string();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(super::JSON_CONTENT_TYPE),
        );
        response
    }
}
