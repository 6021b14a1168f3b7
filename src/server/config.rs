//! Server configuration and the token policy of issue 5: on a loopback
//! address a missing token is replaced by a generated development token;
//! anywhere else the server refuses to start without one.

use std::net::SocketAddr;
use std::time::Duration;

/// Default nice value of the engine threads ([`ServerConfig::engine_nice`]).
pub const DEFAULT_ENGINE_NICE: i32 = 0;

/// Default least time between two refits of one ecosystem.
pub const DEFAULT_MIN_REFIT_INTERVAL: Duration = Duration::from_secs(10);

/// Default body cap (A7): 16 MiB.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// A SQLite path or a `postgres://` URL.
    pub database: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The shared secret every endpoint but `/ping` and `/metrics` requires.
    pub token: String,
    /// Largest accepted request body in bytes (A7).
    pub max_body: usize,
    /// How often the engine runner wakes without a new event (time-driven
    /// work, gap ages).
    pub engine_tick: Duration,
    /// Nice value of the engine and refit threads (Linux; 0 keeps the
    /// default priority). Under overload the request path then wins the
    /// CPU: appends stay fast and the engine catches up in larger bundles.
    pub engine_nice: i32,
    /// Least time between two SPARFA refits of one ecosystem (see
    /// [`crate::server::runner::RunnerSettings`]).
    pub min_refit_interval: Duration,
    /// Budget of the engine's course-state cache, in estimated bytes; least
    /// recently used courses are evicted first.
    pub engine_cache_bytes: usize,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A non-loopback bind without a token would expose the API to anyone.
    #[error("refusing to listen on {listen} without a token: {listen} is not a loopback address, so give --token or set BIGLEARN_API_TOKEN")]
    TokenRequired {
        /// The address asked for.
        listen: SocketAddr,
    },
    /// An empty token can never be presented correctly.
    #[error("the API token must not be empty")]
    EmptyToken,
    /// The engine consumer name is invalid.
    #[error("invalid engine consumer name: {0}")]
    Consumer(String),
    /// A zero body cap would reject every request.
    #[error("--max-body must be at least 1 byte")]
    ZeroMaxBody,
}

/// The token in force and whether it was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedToken {
    /// The token.
    pub token: String,
    /// True when no token was given and a development token was generated
    /// (print it so a developer can use it).
    pub generated: bool,
}

/// Applies the token policy: a given token is used as is (it must not be
/// empty); without one, a loopback bind gets a random development token and
/// any other bind is refused.
pub fn resolve_token(
    given: Option<&str>,
    listen: SocketAddr,
) -> Result<ResolvedToken, ConfigError> {
    match given {
        Some("") => Err(ConfigError::EmptyToken),
        Some(token) => Ok(ResolvedToken {
            token: token.to_owned(),
            generated: false,
        }),
        None if listen.ip().is_loopback() => Ok(ResolvedToken {
            token: format!("dev-{}", uuid::Uuid::new_v4().simple()),
            generated: true,
        }),
        None => Err(ConfigError::TokenRequired { listen }),
    }
}

impl ServerConfig {
    /// A configuration with the defaults of issue 5 for everything but the
    /// database and the token.
    pub fn new(database: impl Into<String>, token: impl Into<String>) -> Self {
        ServerConfig {
            database: database.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            token: token.into(),
            max_body: DEFAULT_MAX_BODY,
            engine_tick: Duration::from_secs(1),
            engine_nice: DEFAULT_ENGINE_NICE,
            min_refit_interval: DEFAULT_MIN_REFIT_INTERVAL,
            engine_cache_bytes: biglearn_core::engine::DEFAULT_CACHE_BYTES,
        }
    }

    /// Checks the values that cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.token.is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        if self.max_body == 0 {
            return Err(ConfigError::ZeroMaxBody);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_without_token_gets_a_generated_one() {
        let listen: SocketAddr = "127.0.0.1:3000".parse().expect("address");
        let resolved = resolve_token(None, listen).expect("loopback is allowed");
        assert!(resolved.generated);
        assert!(resolved.token.starts_with("dev-"));
    }

    #[test]
    fn public_bind_without_token_is_refused() {
        let listen: SocketAddr = "0.0.0.0:3000".parse().expect("address");
        let error = resolve_token(None, listen).expect_err("must be refused");
        assert!(error.to_string().contains("BIGLEARN_API_TOKEN"));
        assert_eq!(
            resolve_token(Some(""), listen),
            Err(ConfigError::EmptyToken)
        );
        let given = resolve_token(Some("s3cret"), listen).expect("given token");
        assert!(!given.generated);
    }
}
