//! `workbookd`: the Graph-compatible workbook server, and the tools that go with it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand, ValueEnum};

mod conn;
mod logwriter;
mod oidc;
mod tls;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Serve(Box<ServeArgs>),
    /// Print a signed JWT that `serve --auth jwt --jwt-secret S` accepts.
    Token(TokenArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AuthArg {
    /// Any bearer token; a JWT's claims are read unverified (for development and CI).
    Dev,
    /// Verified JWTs: HS256 with --jwt-secret, RS256/ES256 with --jwks, or with neither, RS256/ES256
    /// keys found through --issuer's OIDC discovery document.
    Jwt,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line (for log collectors).
    Json,
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
    /// How bearer tokens are checked. Dev is the default on loopback addresses only.
    #[arg(long, env = "WORKBOOKD_AUTH", value_enum)]
    auth: Option<AuthArg>,
    /// Shared secret for HS256 tokens (with --auth jwt).
    #[arg(long, env = "WORKBOOKD_JWT_SECRET")]
    jwt_secret: Option<String>,
    /// JWKS file with the RS256/ES256 keys tokens are signed with (with --auth jwt).
    #[arg(long, env = "WORKBOOKD_JWKS")]
    jwks: Option<PathBuf>,
    /// Required `aud` of verified tokens.
    #[arg(long, env = "WORKBOOKD_AUDIENCE")]
    audience: Option<String>,
    /// Required `iss` of verified tokens. With --auth jwt and no --jwt-secret or --jwks, the keys
    /// come from `{issuer}/.well-known/openid-configuration` (fetched again when keys roll over).
    #[arg(long, env = "WORKBOOKD_ISSUER")]
    issuer: Option<String>,
    /// Idle time after which a persistent session ends (`90s`, `5m`).
    #[arg(long, env = "WORKBOOKD_PERSISTENT_SESSION_IDLE", default_value = "5m", value_parser = graph::parse_duration)]
    persistent_session_idle: Duration,
    /// Idle time after which a non-persistent session ends.
    #[arg(long, env = "WORKBOOKD_NONPERSISTENT_SESSION_IDLE", default_value = "7m", value_parser = graph::parse_duration)]
    nonpersistent_session_idle: Duration,
    /// Most cells one range read returns (more: 400 rangeExceedsLimit).
    #[arg(long, env = "WORKBOOKD_MAX_READ_CELLS", default_value_t = graph::DEFAULT_MAX_READ_CELLS)]
    max_read_cells: u64,
    /// Most cells one range write changes.
    #[arg(long, env = "WORKBOOKD_MAX_WRITE_CELLS", default_value_t = graph::DEFAULT_MAX_WRITE_CELLS)]
    max_write_cells: u64,
    /// Largest upload (`PUT …/content`) in bytes; larger ones answer 413 payloadTooLarge.
    #[arg(long, env = "WORKBOOKD_MAX_UPLOAD_BYTES", default_value_t = graph::ServerConfig::default().max_upload_bytes)]
    max_upload_bytes: usize,
    /// Largest JSON request body in bytes; larger ones answer 413 payloadTooLarge.
    #[arg(long, env = "WORKBOOKD_MAX_BODY_BYTES", default_value_t = graph::ServerConfig::default().max_json_bytes)]
    max_body_bytes: usize,
    /// Most open sessions on one workbook (Graph caps around 25); past it createSession answers
    /// 429 with Retry-After.
    #[arg(long, env = "WORKBOOKD_MAX_SESSIONS_PER_WORKBOOK", default_value_t = host::Config::default().max_sessions_per_workbook)]
    max_sessions_per_workbook: usize,
    /// Most workbooks kept in memory; past it the least recently used are saved and unloaded,
    /// and opened again on their next use.
    #[arg(long, env = "WORKBOOKD_MAX_OPEN_WORKBOOKS", default_value_t = host::Config::default().max_open_workbooks)]
    max_open_workbooks: usize,
    /// Largest workbook opened, in uncompressed bytes of its parts; larger ones answer 400
    /// unsupportedWorkbook (the file stays stored as it is).
    #[arg(long, env = "WORKBOOKD_MAX_WORKBOOK_BYTES", default_value_t = book::Limits::default().max_total_bytes)]
    max_workbook_bytes: u64,
    /// Most cells (values and formulas) of a workbook opened; more: 400 unsupportedWorkbook.
    #[arg(long, env = "WORKBOOKD_MAX_WORKBOOK_CELLS", default_value_t = book::Limits::default().max_cells)]
    max_workbook_cells: u64,
    /// How long a request may run once its body is read (`120s`, `500ms`); then 504
    /// gatewayTimeout. A write already running still completes in full.
    #[arg(long, env = "WORKBOOKD_REQUEST_TIMEOUT", default_value = "120s", value_parser = graph::parse_duration)]
    request_timeout: Duration,
    /// How long a client may take to send a request's headers, from their first byte; then the
    /// connection is closed.
    #[arg(long, env = "WORKBOOKD_HEADER_TIMEOUT", default_value = "30s", value_parser = graph::parse_duration)]
    header_timeout: Duration,
    /// How long a request's body may stall (no bytes arriving); then 408 requestTimeout.
    #[arg(long, env = "WORKBOOKD_BODY_TIMEOUT", default_value = "60s", value_parser = graph::parse_duration)]
    body_timeout: Duration,
    /// How long a kept-alive connection may sit idle between requests; then it is closed.
    #[arg(long, env = "WORKBOOKD_IDLE_TIMEOUT", default_value = "90s", value_parser = graph::parse_duration)]
    idle_timeout: Duration,
    /// The server's memory budget (resident set), like `4GiB` or `512MiB`: above it, workbooks
    /// are unloaded (least recently used first) and work that would take more memory (opening a
    /// workbook, a non-persistent session's copy, an upload) is refused with 503
    /// serviceNotAvailable and Retry-After until memory is back under it; no workbook of more
    /// cells than the budget holds at 800 bytes a cell is opened. By default three quarters of
    /// the machine's memory.
    #[arg(long, env = "WORKBOOKD_MAX_MEMORY", value_parser = parse_bytes)]
    max_memory: Option<u64>,
    /// Most connections open at once; one more is answered 503 with Retry-After and closed.
    /// By default 10,000, or fewer under the process's open-file limit.
    #[arg(long, env = "WORKBOOKD_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Throttle each user to this many requests per period (`100/10s`), as Graph does: over it,
    /// 429 tooManyRequests with Retry-After. Off by default.
    #[arg(long, env = "WORKBOOKD_THROTTLE_USER")]
    throttle_user: Option<graph::throttle::Budget>,
    /// Throttle each client application (the token's `azp` or `appid`) per tenant (`1500/10s`).
    #[arg(long, env = "WORKBOOKD_THROTTLE_APP")]
    throttle_app: Option<graph::throttle::Budget>,
    /// A workbook with this many journal records not yet saved is saved into a new file version
    /// and its journal started anew (bounds the replay after a crash).
    #[arg(long, env = "WORKBOOKD_CHECKPOINT_RECORDS", default_value_t = host::Config::default().checkpoint_records)]
    checkpoint_records: u64,
    /// Answer every `Prefer: respond-async` createSession with 202, so clients can test polling.
    #[arg(long, env = "WORKBOOKD_FORCE_ASYNC_SESSIONS")]
    force_async_sessions: bool,
    /// Serve HTTPS with a self-signed certificate for localhost and 127.0.0.1, made once at
    /// `tls/cert.pem` in the data directory.
    #[arg(long, env = "WORKBOOKD_TLS", conflicts_with_all = ["cert", "key"])]
    tls: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --key.
    #[arg(long, env = "WORKBOOKD_CERT", requires = "key")]
    cert: Option<PathBuf>,
    /// The private key of --cert (PEM).
    #[arg(long, env = "WORKBOOKD_KEY", requires = "cert")]
    key: Option<PathBuf>,
    /// Upload the files of this folder (and its subfolders) into --seed-user's drive at start;
    /// files already there are left as they are.
    #[arg(long, env = "WORKBOOKD_SEED")]
    seed: Option<PathBuf>,
    /// Whose drive --seed fills: the `oid` of their tokens (`dev` is the user of opaque dev tokens).
    #[arg(long, env = "WORKBOOKD_SEED_USER", default_value = graph::auth::DEV_USER)]
    seed_user: String,
    /// The tenant (`tid`) of --seed-user's tokens, if they carry one.
    #[arg(long, env = "WORKBOOKD_SEED_TENANT")]
    seed_tenant: Option<String>,
    /// Serve /_workbookd/state and /_workbookd/reset (they show and drop every user's data).
    /// On by default with dev auth, off with verified tokens.
    #[arg(long, env = "WORKBOOKD_CONTROL_PLANE")]
    control_plane: Option<bool>,
    /// A host name to answer to besides IP addresses and `localhost` while tokens are not
    /// verified (dev auth) and on the control plane (repeat, or separate with commas). Other
    /// names are refused: a web page whose name was rebound to this machine gets no data.
    #[arg(long = "allowed-host", env = "WORKBOOKD_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    /// Fault-injection rules (JSON, `{"rules": [...]}`) in force from the start; see
    /// `PUT /_workbookd/faults`.
    #[arg(long, env = "WORKBOOKD_FAULTS")]
    faults: Option<PathBuf>,
    /// Log lines as text or JSON, on stderr.
    #[arg(long, env = "WORKBOOKD_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    /// What to log: a level (`info` logs one line per request, `warn` only problems) or
    /// tracing directives (`info,workbookd::request=off`).
    #[arg(long, env = "WORKBOOKD_LOG", default_value = "info")]
    log: String,
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            listen: DEFAULT_LISTEN.parse().expect("valid default"),
            data: "workbookd-data".into(),
            in_memory: false,
            auth: None,
            jwt_secret: None,
            jwks: None,
            audience: None,
            issuer: None,
            persistent_session_idle: Duration::from_secs(300),
            nonpersistent_session_idle: Duration::from_secs(420),
            max_read_cells: graph::DEFAULT_MAX_READ_CELLS,
            max_write_cells: graph::DEFAULT_MAX_WRITE_CELLS,
            max_upload_bytes: graph::ServerConfig::default().max_upload_bytes,
            max_body_bytes: graph::ServerConfig::default().max_json_bytes,
            checkpoint_records: host::Config::default().checkpoint_records,
            request_timeout: Duration::from_secs(120),
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(90),
            max_connections: None,
            max_memory: None,
            throttle_user: None,
            throttle_app: None,
            max_workbook_bytes: book::Limits::default().max_total_bytes,
            max_workbook_cells: book::Limits::default().max_cells,
            max_sessions_per_workbook: host::Config::default().max_sessions_per_workbook,
            max_open_workbooks: host::Config::default().max_open_workbooks,
            force_async_sessions: false,
            tls: false,
            cert: None,
            key: None,
            seed: None,
            seed_user: graph::auth::DEV_USER.to_string(),
            seed_tenant: None,
            control_plane: None,
            allowed_hosts: Vec::new(),
            faults: None,
            log_format: LogFormat::Text,
            log: "info".to_string(),
        }
    }
}

#[derive(Args)]
struct TokenArgs {
    /// The user: becomes `oid`, `sub` and (when it looks like one) `preferred_username`.
    #[arg(long)]
    user: String,
    /// The tenant id (`tid`).
    #[arg(long)]
    tenant: Option<String>,
    /// Delegated scopes (`scp`), space-separated.
    #[arg(long, default_value = "Files.ReadWrite")]
    scopes: String,
    /// An application token (`roles`, `idtyp: app`) instead of a user's.
    #[arg(long)]
    app: bool,
    /// The HS256 secret the server was started with.
    #[arg(long, env = "WORKBOOKD_JWT_SECRET")]
    secret: String,
    /// Lifetime of the token (`1h`, `30m`).
    #[arg(long, default_value = "1h", value_parser = graph::parse_duration)]
    ttl: Duration,
    #[arg(long, env = "WORKBOOKD_AUDIENCE")]
    audience: Option<String>,
    #[arg(long, env = "WORKBOOKD_ISSUER")]
    issuer: Option<String>,
}

/// `500ms`, `2s`, `90s`, `5m`, `1h`; a bare number is seconds.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => *a,
        Some(Command::Token(t)) => return token(t),
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

fn token(args: TokenArgs) -> std::process::ExitCode {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut claims = serde_json::json!({
        "oid": args.user,
        "sub": args.user,
        "iat": now,
        "nbf": now,
        "exp": now + args.ttl.as_secs(),
    });
    if args.user.contains('@') {
        claims["preferred_username"] = serde_json::json!(args.user);
    }
    if let Some(t) = args.tenant {
        claims["tid"] = serde_json::json!(t);
    }
    if args.app {
        claims["roles"] = serde_json::json!(args.scopes.split_whitespace().collect::<Vec<_>>());
        claims["idtyp"] = serde_json::json!("app");
    } else {
        claims["scp"] = serde_json::json!(args.scopes);
    }
    if let Some(a) = args.audience {
        claims["aud"] = serde_json::json!(a);
    }
    if let Some(i) = args.issuer {
        claims["iss"] = serde_json::json!(i);
    }
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    match jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(args.secret.as_bytes())) {
        Ok(t) => {
            println!("{t}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("workbookd token: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How often keys from an OIDC issuer are fetched again, so retired keys stop verifying.
const ISSUER_KEYS_REFRESH: Duration = Duration::from_secs(3600);

async fn auth_mode(args: &ServeArgs) -> Result<graph::AuthMode, String> {
    let mode = args.auth.unwrap_or(if args.listen.ip().is_loopback() { AuthArg::Dev } else { AuthArg::Jwt });
    match mode {
        AuthArg::Dev => {
            if !args.listen.ip().is_loopback() {
                tracing::warn!("dev auth accepts any token, and {} is not a loopback address", args.listen);
            }
            Ok(graph::AuthMode::Dev)
        }
        AuthArg::Jwt => {
            let (audience, issuer) = (args.audience.clone(), args.issuer.clone());
            let verifier = match (&args.jwt_secret, &args.jwks, &args.issuer) {
                (Some(_), Some(_), _) => return Err("give --jwt-secret or --jwks, not both".into()),
                (Some(secret), None, _) => Arc::new(graph::Verifier::hs256(secret.as_bytes(), audience, issuer)),
                (None, Some(path), _) => {
                    let text =
                        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    Arc::new(graph::Verifier::from_jwks(&text, audience, issuer)?)
                }
                (None, None, Some(url)) => issuer_verifier(url, audience).await?,
                (None, None, None) => {
                    return Err("--auth jwt needs --jwt-secret, --jwks or --issuer (an OIDC issuer); dev auth is \
                                only the default on loopback"
                        .into())
                }
            };
            Ok(graph::AuthMode::Verified(verifier))
        }
    }
}

/// A verifier with the keys of an OIDC issuer, and the task that fetches them again every hour.
async fn issuer_verifier(issuer: &str, audience: Option<String>) -> Result<Arc<graph::Verifier>, String> {
    let source = Arc::new(oidc::IssuerKeys::discover(issuer).await?);
    let verifier = Arc::new(graph::Verifier::from_source(source, audience, Some(issuer.to_string())).await?);
    let refreshed = verifier.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(ISSUER_KEYS_REFRESH);
        tick.tick().await; // the first tick is immediate; the keys were just fetched
        loop {
            tick.tick().await;
            if let Err(e) = refreshed.refresh().await {
                tracing::warn!("refreshing the issuer's keys failed (keeping the old ones): {e}");
            }
        }
    });
    Ok(verifier)
}

/// Log lines go to stderr, in batches (`logwriter`): stdout carries only the ready line that
/// scripts wait for. The guard writes what is left at exit.
fn init_logging(args: &ServeArgs) -> Result<logwriter::FlushGuard, String> {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log).map_err(|e| format!("--log {}: {e}", args.log))?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (writer, guard) = logwriter::BatchedStderr::start();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let installed = match args.log_format {
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(|e| format!("cannot start logging: {e}"))?;
    Ok(guard)
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let _log_guard = init_logging(&args)?;
    // For tests of panic safety only: makes the document core panic at a named place.
    if let Ok(list) = std::env::var("WORKBOOKD_FAIL_POINTS") {
        book::fail_point::arm_from_list(&list).map_err(|e| format!("WORKBOOKD_FAIL_POINTS: {e}"))?;
        tracing::warn!(fail_points = list, "fail points armed: requests that reach them will panic");
    }
    let auth = auth_mode(&args).await?;
    let control_plane = args.control_plane.unwrap_or(matches!(auth, graph::AuthMode::Dev));
    let store: Arc<dyn store::DriveStore> = if args.in_memory {
        Arc::new(store::MemoryStore::new())
    } else {
        std::fs::create_dir_all(&args.data).map_err(|e| format!("cannot create {}: {e}", args.data.display()))?;
        Arc::new(store::LocalStore::open(&args.data).map_err(|e| format!("cannot open {}: {e}", args.data.display()))?)
    };
    // By default three quarters of the machine's memory: the server sheds work before the
    // kernel's OOM killer would end it.
    let max_memory = args.max_memory.or_else(|| total_memory().map(|total| total / 4 * 3));
    let config = host::Config {
        persistent_idle: args.persistent_session_idle,
        nonpersistent_idle: args.nonpersistent_session_idle,
        force_async_sessions: args.force_async_sessions,
        checkpoint_records: args.checkpoint_records.max(1),
        max_sessions_per_workbook: args.max_sessions_per_workbook,
        max_open_workbooks: args.max_open_workbooks,
        max_memory,
        limits: book::Limits {
            max_total_bytes: args.max_workbook_bytes,
            max_part_bytes: book::Limits::default().max_part_bytes.min(args.max_workbook_bytes),
            // Under a memory budget no workbook is opened that could not fit in it: a formula
            // cell was measured at ~715 bytes in memory (4.9 M formulas, 3.5 GB), so 800 a cell.
            max_cells: max_memory.map_or(args.max_workbook_cells, |m| args.max_workbook_cells.min(m / 800)),
            ..book::Limits::default()
        },
        ..host::Config::default()
    };
    let seed =
        args.seed.clone().map(|dir| (dir, graph::auth::drive_owner_of(&args.seed_user, args.seed_tenant.as_deref())));
    if let Some((dir, owner)) = &seed {
        let seeded = host::seed::seed(store.as_ref(), dir, owner)?;
        tracing::info!(
            "seeded {owner}'s drive from {}: {} files uploaded, {} already there",
            dir.display(),
            seeded.uploaded,
            seeded.kept
        );
    }
    let host = host::Host::new(store, config);
    let sweeper = {
        let host = host.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                host.sweep().await;
            }
        })
    };
    let tls_files = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        _ if args.tls => Some(tls::self_signed(&args.data.join("tls"))?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let faults = match &args.faults {
        Some(path) => {
            let text = std::fs::read(path).map_err(|e| format!("--faults: cannot read {}: {e}", path.display()))?;
            graph::faults::parse_rules(&text).map_err(|e| format!("--faults {}: {e}", path.display()))?
        }
        None => Vec::new(),
    };
    let server_config = graph::ServerConfig {
        faults,
        auth,
        https: tls_files.is_some(),
        max_read_cells: args.max_read_cells,
        max_write_cells: args.max_write_cells,
        max_upload_bytes: args.max_upload_bytes,
        max_json_bytes: args.max_body_bytes,
        request_timeout: args.request_timeout,
        body_timeout: args.body_timeout,
        throttle_user: args.throttle_user,
        throttle_app: args.throttle_app,
        control_plane,
        seed,
        allowed_hosts: args.allowed_hosts.clone(),
    };
    let app = graph::router(host.clone(), server_config)
        .layer(axum::middleware::from_fn(conn::track))
        .into_make_service_with_connect_info::<conn::ConnInfo>();
    // Room under the open-file limit for the data directory's files and the journal.
    let fd_room = conn::open_files_limit().map_or(10_000, |n| n.saturating_sub(64).max(16));
    let limits = conn::Limits {
        header_timeout: args.header_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections.unwrap_or(10_000.min(fd_room)),
    };
    let served = match tls_files {
        Some((cert, key)) => {
            let config = tls::server_config(&cert, &key)?;
            let listener = tls::TlsListener::new(listener, config).map_err(|e| e.to_string())?;
            tracing::info!("TLS certificate {}", cert.display());
            // The one line on stdout: scripts and tests wait for it to learn the port.
            println!("workbookd listening on https://{local}");
            let listener = conn::GuardedListener::new(listener, limits);
            axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
        }
        None => {
            println!("workbookd listening on http://{local}");
            let listener = conn::GuardedListener::new(listener, limits);
            axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
        }
    };
    sweeper.abort();
    // Journals are durable already; saving now only makes the next start quicker.
    host.checkpoint_all().await;
    served.map_err(|e| e.to_string())
}

/// The machine's memory (`MemTotal` of `/proc/meminfo`), when it can be read.
fn total_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

/// A size in bytes: a number with an optional `KiB`, `MiB`, `GiB` (or `K`, `M`, `G`) suffix.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("'{text}' is not a size (like 512MiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("'{text}': the unit is one of KiB, MiB, GiB")),
    };
    n.checked_mul(factor).ok_or_else(|| format!("'{text}' is too large"))
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
