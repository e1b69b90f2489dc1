//! `realface-server`: serve the API, manage apps, sweep expired ids.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use realface::liveness::actions::Action;
use realface::session::certify::unix_now_ms;
use realface_server::config::{ConfigFile, LogFormat};
use realface_server::{billing, Server, Settings, Store};

/// Replaces `slot` with a flag's value when the flag was given.
fn set<T>(slot: &mut T, flag: Option<T>) {
    if let Some(v) = flag {
        *slot = v;
    }
}

/// Logs to stderr, as text or JSON lines, filtered by `level` (or
/// `RUST_LOG` when set).
fn init_logs(format: LogFormat, level: &str) -> Result<(), Box<dyn std::error::Error>> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let done = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
    done.map_err(|e| e.to_string().into())
}

#[derive(Parser)]
#[command(
    name = "realface-server",
    version,
    about = "The realface server: certifyIds, evidence re-verification, verdicts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API. Settings come from the defaults, then the
    /// `--config` file, then `REALFACE_...` variables, then these flags.
    Serve {
        /// A settings file (TOML; `realface-server config --defaults` prints
        /// every key with its default).
        #[arg(long)]
        config: Option<String>,
        /// A SQLite file (created if missing) or a postgres:// URL
        /// (default: realface.db).
        #[arg(long)]
        db: Option<String>,
        /// Address to listen on (default: 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// The actions challenges are drawn from (comma-separated).
        #[arg(long, value_delimiter = ',')]
        actions: Option<Vec<Action>>,
        /// Actions per challenge (default 2).
        #[arg(long)]
        challenge_count: Option<usize>,
        /// Evidence judged at once (default: the machine's cores).
        #[arg(long)]
        workers: Option<usize>,
        /// Evidence waiting for a worker before calls get 60000.
        #[arg(long)]
        queue: Option<usize>,
        /// Failed verdicts for one identity that lock it (0: no lockout; default 5).
        #[arg(long)]
        lockout_failures: Option<u32>,
        /// The window those failures must fall in, hours (default 24).
        #[arg(long)]
        lockout_window_hours: Option<u64>,
        /// How long a lock lasts after the failure that made it, hours (default 24).
        #[arg(long)]
        lockout_cooldown_hours: Option<u64>,
        /// Count failures over every app together (default: per app).
        #[arg(long)]
        lockout_all_apps: bool,
        /// Log format: text or json.
        #[arg(long)]
        log_format: Option<LogFormat>,
        /// Serve the web capture demo at /demo: a new app `demo` with a
        /// prepaid balance, its backend played by this server (for a
        /// demonstration on your own machine, never in production).
        #[arg(long)]
        demo: bool,
    },
    /// Print the settings file with every key at its default (`--defaults`),
    /// or check a file and print what it resolves to (`--check FILE`).
    Config {
        /// Print the defaults.
        #[arg(long, conflicts_with = "check")]
        defaults: bool,
        /// Check this file (with the REALFACE_... variables applied).
        #[arg(long)]
        check: Option<String>,
    },
    /// Manage the apps that call the API.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Delete references, photos and device results of expired ids, release
    /// their freezes and purge records older than 30 days, now (the server
    /// also does it every minute).
    Sweep {
        /// The store.
        #[arg(long)]
        db: String,
    },
    /// Check that verdicts, bills, call records and webhook events agree for
    /// every certifyId (the store's audit): exit 0 when they do; otherwise
    /// one line per inconsistent id on stdout and exit 1. Safe to run
    /// against a live store.
    Audit {
        /// The store.
        #[arg(long)]
        db: String,
    },
    /// Add to an app's prepaid balance.
    Deposit {
        #[arg(long)]
        db: String,
        #[arg(long)]
        app: String,
        /// Yuan, up to two decimals (`1000`, `12.50`).
        #[arg(long)]
        amount: String,
    },
    /// Print what CALLS billable checks cost in one contract year (yuan).
    Price {
        /// Billable checks.
        calls: u64,
    },
    /// Make a new admin key (records, statistics, console); the old one stops working.
    AdminKey {
        #[arg(long)]
        db: String,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// Add an app; prints its id and key (the key is shown only once).
    Add {
        #[arg(long)]
        db: String,
        #[arg(long)]
        name: String,
        /// The contract's first day (YYYY-MM-DD, default today): tiers
        /// restart on each anniversary.
        #[arg(long)]
        contract_start: Option<String>,
        /// Print `{"appId": ..., "key": ...}`.
        #[arg(long)]
        json: bool,
    },
    /// List the apps.
    List {
        #[arg(long)]
        db: String,
    },
    /// Add a caller address (IP) to an app's allow-list; an empty list
    /// allows every caller.
    Allow {
        #[arg(long)]
        db: String,
        #[arg(long)]
        app: String,
        #[arg(long)]
        caller: std::net::IpAddr,
    },
    /// Set an app's webhook URL (or remove it with `--url none`); prints
    /// the URL and the signing secret.
    Webhook {
        #[arg(long)]
        db: String,
        #[arg(long)]
        app: String,
        /// An http:// URL, or `none`.
        #[arg(long)]
        url: String,
    },
    /// Set an app's browser settings: the origins whose pages may call
    /// start and evidence (CORS), and the ones that may frame its hosted
    /// capture page /capture/{appId} (no flag: none).
    Web {
        #[arg(long)]
        db: String,
        #[arg(long)]
        app: String,
        /// An origin (https://shop.example), repeatable.
        #[arg(long)]
        origin: Vec<String>,
        /// An origin that may frame the capture page, repeatable.
        #[arg(long)]
        frame_ancestor: Vec<String>,
    },
    /// Revoke an app: its calls are refused from now on (54003).
    Revoke {
        #[arg(long)]
        db: String,
        #[arg(long)]
        app: String,
    },
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve {
            config,
            db,
            listen,
            actions,
            challenge_count,
            workers,
            queue,
            lockout_failures,
            lockout_window_hours,
            lockout_cooldown_hours,
            lockout_all_apps,
            log_format,
            demo,
        } => {
            let mut file = ConfigFile::load(config.as_deref(), std::env::vars())?;
            let server = &mut file.server;
            let settings = &mut file.settings;
            set(&mut server.db, db);
            set(&mut server.listen, listen);
            set(&mut server.log_format, log_format);
            set(&mut settings.actions, actions);
            set(&mut settings.challenge_count, challenge_count);
            if let Some(w) = workers {
                settings.workers = w.max(1);
                // the queue follows the workers unless it is set too
                settings.queue = 4 * settings.workers;
            }
            set(&mut settings.queue, queue);
            set(&mut settings.lockout.failures, lockout_failures);
            set(
                &mut settings.lockout.window_ms,
                lockout_window_hours.map(|h| h.saturating_mul(3_600_000)),
            );
            set(
                &mut settings.lockout.cooldown_ms,
                lockout_cooldown_hours.map(|h| h.saturating_mul(3_600_000)),
            );
            settings.lockout.all_apps |= lockout_all_apps;
            realface::session::challenge::draw(&settings.actions, settings.challenge_count, 0)?;
            init_logs(file.server.log_format, &file.server.log_level)?;
            let mut server = Server::open(&file.server.db, file.settings).await?;
            let listener = tokio::net::TcpListener::bind(&file.server.listen).await?;
            tracing::info!(listen = %listener.local_addr()?, "listening");
            eprintln!("realface-server: listening on {}", listener.local_addr()?);
            if demo {
                let app = server.enable_demo().await?;
                tracing::info!(app = %app, "demo");
                eprintln!(
                    "realface-server: web capture demo at http://{}/demo (app {app})",
                    listener.local_addr()?
                );
            }
            server
                .serve(listener, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
        Command::Config { defaults, check } => match check {
            Some(path) => {
                let file = ConfigFile::load(Some(&path), std::env::vars())?;
                print!("{}", file.to_toml()?);
            }
            None if defaults => print!("{}", ConfigFile::defaults_toml()?),
            None => return Err("say --defaults or --check FILE".into()),
        },
        Command::App { command } => match command {
            AppCommand::Add {
                db,
                name,
                contract_start,
                json,
            } => {
                let start = match contract_start {
                    Some(d) => Some(
                        billing::parse_day(&d)
                            .ok_or(format!("--contract-start {d}: not a YYYY-MM-DD date"))?,
                    ),
                    None => None,
                };
                let store = Store::open(&db, 1).await?;
                let app = store.add_app(&name, unix_now_ms(), start).await?;
                if json {
                    println!("{}", serde_json::to_string(&app)?);
                } else {
                    println!(
                        "appId {}\nkey   {}  (shown once; store it now)",
                        app.app_id, app.key
                    );
                }
            }
            AppCommand::List { db } => {
                let store = Store::open(&db, 1).await?;
                println!(
                    "{}",
                    serde_json::to_string_pretty(&store.list_apps().await?)?
                );
            }
            AppCommand::Allow { db, app, caller } => {
                let store = Store::open(&db, 1).await?;
                if !store.allow_caller(&app, &caller.to_string()).await? {
                    return Err(format!("no app `{app}`").into());
                }
            }
            AppCommand::Webhook { db, app, url } => {
                let url = (url != "none").then_some(url);
                if let Some(u) = &url {
                    realface_server::webhook::check_url(u)?;
                }
                let store = Store::open(&db, 1).await?;
                let Some(w) = store
                    .set_webhook(&app, url.as_deref(), unix_now_ms())
                    .await?
                else {
                    return Err(format!("no app `{app}`").into());
                };
                println!("{}", serde_json::to_string(&w)?);
            }
            AppCommand::Web {
                db,
                app,
                origin,
                frame_ancestor,
            } => {
                if let Some(bad) = origin
                    .iter()
                    .chain(&frame_ancestor)
                    .find(|o| !realface_server::store::is_origin(o))
                {
                    return Err(format!("{bad}: an origin is http(s)://host[:port]").into());
                }
                let web = realface_server::store::WebSettings {
                    origins: origin,
                    frame_ancestors: frame_ancestor,
                };
                let store = Store::open(&db, 1).await?;
                if !store.set_web(&app, &web).await? {
                    return Err(format!("no app `{app}`").into());
                }
                println!("{}", serde_json::to_string(&web)?);
            }
            AppCommand::Revoke { db, app } => {
                let store = Store::open(&db, 1).await?;
                if !store.revoke_app(&app, unix_now_ms()).await? {
                    return Err(format!("no app `{app}`").into());
                }
            }
        },
        Command::Sweep { db } => {
            let store = Store::open(&db, 1).await?;
            let now = unix_now_ms();
            let (swept, deleted) = store.sweep(now, Settings::default().retain_ms).await?;
            let purged = store
                .purge_records(billing::day_of(now) - realface_server::RECORD_DAYS + 1)
                .await?;
            println!("{{\"swept\": {swept}, \"deleted\": {deleted}, \"recordsPurged\": {purged}}}");
        }
        Command::Audit { db } => {
            let store = Store::open(&db, 1).await?;
            let problems = store.audit().await?;
            store.close().await;
            for p in &problems {
                println!("{p}");
            }
            if !problems.is_empty() {
                return Err(format!("{} inconsistent certifyIds", problems.len()).into());
            }
            eprintln!("realface-server: the store is consistent");
        }
        Command::Deposit { db, app, amount } => {
            let fen = billing::parse_yuan(&amount)
                .filter(|f| *f > 0)
                .ok_or(format!(
                    "--amount {amount}: a positive amount of yuan with at most two decimals"
                ))?;
            let store = Store::open(&db, 1).await?;
            if !store.deposit(&app, fen, unix_now_ms()).await? {
                return Err(format!("no app `{app}`").into());
            }
            if let Some(a) = store.account(&app).await? {
                println!("{}", serde_json::to_string(&a)?);
            }
        }
        Command::Price { calls } => println!("{}", billing::yuan(billing::total_for(calls))),
        Command::AdminKey { db } => {
            let store = Store::open(&db, 1).await?;
            let key = realface::session::certify::random_hex(16)?;
            store.set_admin_key(&key).await?;
            println!("{key}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("realface-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("realface-server: {e}");
            ExitCode::FAILURE
        }
    }
}
