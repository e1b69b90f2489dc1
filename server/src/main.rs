//! `realface-server`: serve the API, manage apps, sweep expired ids.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use realface::liveness::actions::Action;
use realface::session::certify::unix_now_ms;
use realface_server::{billing, Server, Settings, Store};

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
    /// Serve the HTTP API.
    Serve {
        /// A SQLite file (created if missing) or a postgres:// URL.
        #[arg(long, default_value = "realface.db")]
        db: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// The actions challenges are drawn from (comma-separated).
        #[arg(long, value_delimiter = ',')]
        actions: Option<Vec<Action>>,
        /// Actions per challenge.
        #[arg(long, default_value_t = 2)]
        challenge_count: usize,
        /// Evidence judged at once (default: the machine's cores).
        #[arg(long)]
        workers: Option<usize>,
        /// Evidence waiting for a worker before calls get 60000.
        #[arg(long)]
        queue: Option<usize>,
        /// Failed verdicts for one identity that lock it (0: no lockout).
        #[arg(long, default_value_t = 5)]
        lockout_failures: u32,
        /// The window those failures must fall in, hours.
        #[arg(long, default_value_t = 24)]
        lockout_window_hours: u64,
        /// How long a lock lasts after the failure that made it, hours.
        #[arg(long, default_value_t = 24)]
        lockout_cooldown_hours: u64,
        /// Count failures over every app together (default: per app).
        #[arg(long)]
        lockout_all_apps: bool,
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
        } => {
            let mut settings = Settings {
                challenge_count,
                lockout: realface_server::lockout::LockoutSettings {
                    failures: lockout_failures,
                    window_ms: lockout_window_hours.saturating_mul(3_600_000),
                    cooldown_ms: lockout_cooldown_hours.saturating_mul(3_600_000),
                    all_apps: lockout_all_apps,
                },
                ..Settings::default()
            };
            if let Some(a) = actions {
                settings.actions = a;
            }
            if let Some(w) = workers {
                settings.workers = w.max(1);
            }
            settings.queue = queue.unwrap_or(4 * settings.workers);
            realface::session::challenge::draw(&settings.actions, challenge_count, 0)?;
            let server = Server::open(&db, settings).await?;
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            eprintln!("realface-server: listening on {}", listener.local_addr()?);
            server
                .serve(listener, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
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
