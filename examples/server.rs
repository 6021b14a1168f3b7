//! The reference Biglearn server: `cargo run --release --example server`.
//!
//! Serves the 25 endpoints of the Biglearn API over an embedded SQLite file
//! (created and migrated on first start) or a PostgreSQL URL, with the
//! engine in the same process. Stops on SIGINT/SIGTERM after in-flight
//! requests (and their group commits) finish.

use std::net::SocketAddr;
use std::process::ExitCode;

use biglearn::server::{
    resolve_token, serve, App, ServerConfig, DEFAULT_ENGINE_NICE, DEFAULT_MAX_BODY,
    DEFAULT_MIN_REFIT_INTERVAL,
};
use clap::Parser;

/// Both the server and the load generator allocate per request; mimalloc
/// is markedly cheaper than the system allocator there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Biglearn HTTP API over the biglearn engine.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// SQLite file (created if missing) or postgres:// URL.
    #[arg(long, env = "BIGLEARN_DATABASE", default_value = "./biglearn.sqlite3")]
    database: String,
    /// Address to listen on.
    #[arg(long, env = "BIGLEARN_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Shared secret clients send as Biglearn-Api-Token. Required unless
    /// listening on a loopback address (then a development token is
    /// generated and printed).
    #[arg(long, env = "BIGLEARN_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Largest accepted request body in bytes (larger bodies get 413).
    #[arg(long, env = "BIGLEARN_MAX_BODY", default_value_t = DEFAULT_MAX_BODY)]
    max_body: usize,
    /// Nice value of the engine threads (Linux; 0 = same priority as
    /// request handling). Positive values keep requests fast under overload.
    #[arg(long, env = "BIGLEARN_ENGINE_NICE", default_value_t = DEFAULT_ENGINE_NICE,
          value_parser = clap::value_parser!(i32).range(0..=19))]
    engine_nice: i32,
    /// Least seconds between two SPARFA refits of one ecosystem (each refit
    /// recalculates every course using the ecosystem).
    #[arg(long, env = "BIGLEARN_MIN_REFIT_SECONDS", default_value_t = DEFAULT_MIN_REFIT_INTERVAL.as_secs_f64())]
    min_refit_seconds: f64,
    /// Budget of the engine's course-state cache in MiB (estimated heap
    /// size; least recently used courses are evicted and reloaded).
    #[arg(long, env = "BIGLEARN_ENGINE_CACHE_MB", default_value_t = (biglearn::core::engine::DEFAULT_CACHE_BYTES >> 20) as u64)]
    engine_cache_mb: u64,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let token = resolve_token(args.token.as_deref(), args.listen).map_err(|e| e.to_string())?;
    if token.generated {
        println!(
            "no token given: using the development token {} (loopback only)",
            token.token
        );
    }
    let mut config = ServerConfig::new(args.database, token.token);
    config.listen = args.listen;
    config.max_body = args.max_body;
    config.engine_nice = args.engine_nice;
    config.min_refit_interval = std::time::Duration::try_from_secs_f64(args.min_refit_seconds)
        .map_err(|e| format!("--min-refit-seconds {}: {e}", args.min_refit_seconds))?;
    config.engine_cache_bytes = usize::try_from(args.engine_cache_mb)
        .ok()
        .and_then(|mb| mb.checked_mul(1 << 20))
        .ok_or_else(|| format!("--engine-cache-mb {} is too large", args.engine_cache_mb))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let app = App::open(&config).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| format!("could not listen on {}: {e}", config.listen))?;
        tracing::info!(listen = %config.listen, database = %redacted(&config.database), "biglearn server ready");
        serve(listener, app, shutdown_signal())
            .await
            .map_err(|e| format!("server failed: {e}"))?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// The database location without a password.
fn redacted(database: &str) -> String {
    match database.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((credentials, host)) => {
                let user = credentials.split(':').next().unwrap_or("");
                format!("{scheme}://{user}@{host}")
            }
            None => database.to_owned(),
        },
        None => database.to_owned(),
    }
}

/// Resolves on SIGINT or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
