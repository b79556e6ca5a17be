//! `workbookd`: starts the Graph-compatible workbook server.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The loopback address served when none is given.
const DEFAULT_LISTEN: &str = "127.0.0.1:8765";

#[derive(Parser)]
#[command(name = "workbookd", version, about = "A self-hosted, Microsoft Graph-compatible Excel workbook server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Graph API (the default).
    Serve(ServeArgs),
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "WORKBOOKD_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Data directory of the embedded store.
    #[arg(long, env = "WORKBOOKD_DATA", default_value = "workbookd-data")]
    data: PathBuf,
    /// Keep everything in memory (nothing is written to disk).
    #[arg(long, env = "WORKBOOKD_IN_MEMORY")]
    in_memory: bool,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            listen: DEFAULT_LISTEN.parse().expect("valid default"),
            data: "workbookd-data".into(),
            in_memory: false,
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        None => ServeArgs::parse_from_env(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("workbookd: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("workbookd: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

impl ServeArgs {
    /// `workbookd` with no subcommand serves with the defaults, still reading `WORKBOOKD_*`.
    fn parse_from_env() -> ServeArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::try_parse_from(["workbookd"]).map(|o| o.serve).unwrap_or_default()
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    if !args.in_memory {
        std::fs::create_dir_all(&args.data).map_err(|e| format!("cannot create {}: {e}", args.data.display()))?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // The one line on stdout: scripts and tests wait for it to learn the port.
    println!("workbookd listening on http://{local}");
    axum::serve(listener, graph::http::router())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
