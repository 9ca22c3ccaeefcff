//! The `wangge` binary: one command for everything an operator does. This file only parses the
//! command line, resolves the configuration and hands over to the command modules.

mod accounts;
mod calendar;
mod config;
mod geojson_io;
mod registry;
mod serve;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// 网格 Wangge：网格化基层治理平台 — grid-based grassroots governance.
#[derive(Parser, Debug)]
#[command(name = "wangge", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Directory for the embedded SQLite database and other local data [default: ./wangge-data]
    #[arg(long, global = true, env = "WANGGE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// PostgreSQL URL (postgres://user@host/db); without it the embedded SQLite under --data-dir is used
    #[arg(
        long,
        global = true,
        env = "WANGGE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database_url: Option<String>,

    /// TOML configuration file [default: ./wangge.toml if it exists]
    #[arg(long, global = true, env = "WANGGE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// SM4 data-key file (created on first use) [default: DATA_DIR/keys.txt]
    #[arg(long, global = true, env = "WANGGE_KEY_FILE", value_name = "FILE")]
    key_file: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web application and the JSON API
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, env = "WANGGE_LISTEN", value_name = "ADDR")]
        listen: Option<String>,
        /// PEM certificate chain: serve HTTPS (with --tls-key)
        #[arg(
            long,
            env = "WANGGE_TLS_CERT",
            value_name = "FILE",
            requires = "tls_key"
        )]
        tls_cert: Option<PathBuf>,
        /// PEM private key for --tls-cert
        #[arg(
            long,
            env = "WANGGE_TLS_KEY",
            value_name = "FILE",
            requires = "tls_cert"
        )]
        tls_key: Option<PathBuf>,
    },
    /// Build the demo city (Shizuishan, 2001 grids) into an empty data dir, then serve it
    Demo {
        /// Seed of the generated city: the same seed gives the same city
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// The demo's "today" (YYYY-MM-DD) for generated activity [default: the real date]
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long, env = "WANGGE_LISTEN", value_name = "ADDR")]
        listen: Option<String>,
        /// Build (or reuse) the data and exit without serving
        #[arg(long)]
        no_serve: bool,
        /// Average number of generated events a day over the past year (0 for none)
        #[arg(long, default_value_t = wangge_demo::events::EVENTS_PER_DAY)]
        events_per_day: usize,
    },
    /// Import regions and grids from a GeoJSON FeatureCollection (all or nothing)
    ///
    /// Each feature's properties: code, name, level (city|county|township|community|grid),
    /// parent_code, and for grids grid_type (basic|dedicated) and dedicated_kind.
    Import {
        /// The GeoJSON file
        file: PathBuf,
        /// Overlap (m²) between grids tolerated as digitising noise
        #[arg(long, default_value_t = 1.0)]
        tolerance_m2: f64,
    },
    /// Export regions and grids as a GeoJSON FeatureCollection (importable again)
    Export {
        /// Output file, or - for standard output
        file: PathBuf,
        /// Only this region and what lies below it (12-digit code)
        #[arg(long, value_name = "CODE")]
        within: Option<String>,
    },
    /// Which grid, community, township and county hold a point
    Locate {
        /// Longitude
        #[arg(allow_negative_numbers = true)]
        lon: String,
        /// Latitude
        #[arg(allow_negative_numbers = true)]
        lat: String,
        /// Coordinate system of the point: wgs84, or gcj02 for 高德/腾讯 maps
        #[arg(long, default_value = "wgs84")]
        crs: String,
    },
    /// Database maintenance
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Accounts: add, lock, unlock, deactivate, list
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens for machine clients: create, revoke, list
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The tamper-evident audit trail: verify the chain, search it
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The working calendar: due times, published years, loading a new year's notice
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The registers (台账) from and to Excel: template, import, export
    ///
    /// KIND is one of: departments
    Registry {
        #[command(subcommand)]
        command: registry::RegistryCommand,
    },
}

#[derive(Subcommand, Debug)]
enum CalendarCommand {
    /// When a time limit started at --from falls due (Beijing time)
    Due {
        /// Start, RFC 3339 (e.g. 2025-09-30T10:00:00+08:00)
        #[arg(long)]
        from: String,
        /// Working days (the start day is not counted; ends at the close of office hours)
        #[arg(long, group = "limit")]
        working_days: Option<u32>,
        /// Working hours (office time only)
        #[arg(long, group = "limit")]
        working_hours: Option<i64>,
        /// Natural minutes
        #[arg(long, group = "limit")]
        minutes: Option<i64>,
    },
    /// List the years with a loaded notice
    Years,
    /// Load (or replace) a year's notice from a holiday-cn style JSON file
    Load { file: PathBuf },
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create an account with one role and one scope
    Add {
        #[arg(long)]
        username: String,
        /// grid_worker, community_staff, street_dispatcher, command_centre, department_staff,
        /// mediator, leader, system_admin, security_admin or audit_admin
        #[arg(long)]
        role: String,
        /// A region code (12 digits), a grid code (15 digits, grid workers) or a department code
        #[arg(long)]
        scope: String,
        /// Name shown in the application [default: the username]
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Lock an account (until unlocked, or for --minutes)
    Lock {
        username: String,
        #[arg(long)]
        minutes: Option<i64>,
    },
    /// Lift a lock and clear the failed-login count
    Unlock { username: String },
    /// Deactivate a leaver's account: kept with its history, cannot log in, tokens stop working
    Deactivate { username: String },
    /// Grant an account the role and scope the system administrator proposed for it
    Approve { username: String },
    /// Write the sheet for opening accounts in bulk (.xlsx: people by ID number, role, scope)
    Template { file: std::path::PathBuf },
    /// Open the accounts of a sheet at once (checked whole), writing their one-time initial
    /// passwords to a workbook to hand out; each must change it at first login
    Import {
        file: std::path::PathBuf,
        /// Where the initial passwords go (never stored anywhere else)
        #[arg(long, required_unless_present = "dry_run")]
        passwords: Option<std::path::PathBuf>,
        /// Check and report only; create nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Grant every account of a batch the system administrator imported
    ApproveBatch { batch: String },
    /// List accounts with their role, scope and state
    List,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create a token for an account; it is printed once
    Create {
        #[arg(long)]
        username: String,
        /// What the token is for, e.g. the sensor system's name
        #[arg(long)]
        name: String,
    },
    /// Revoke a token by its id
    Revoke { id: String },
    /// List tokens (never their secrets)
    List,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the whole SM3 hash chain; exit code 2 and the first bad record when it is broken
    Verify,
    /// Show the newest records, optionally by actor or record id
    Search {
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        record: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Apply the embedded migrations (also done at every start)
    Migrate,
}

/// The server's many small, short-lived allocations (requests, rows, JSON) on many threads:
/// mimalloc keeps them off glibc's contended arenas (intake benchmark, BENCHMARKS.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WANGGE_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let cfg = config::Config::resolve(&cli)?;
    match cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
        } => serve::run_serve(&cfg, listen, tls_cert, tls_key).await?,
        Command::Demo {
            seed,
            today,
            listen,
            no_serve,
            events_per_day,
        } => serve::run_demo(&cfg, seed, today, listen, no_serve, events_per_day).await?,
        Command::Import { file, tolerance_m2 } => {
            let store = cfg.open_store().await?;
            return geojson_io::import(&store, &file, tolerance_m2).await;
        }
        Command::Export { file, within } => {
            let store = cfg.open_store().await?;
            geojson_io::export(&store, &file, within.as_deref()).await?;
        }
        Command::Locate { lon, lat, crs } => {
            let store = cfg.open_store().await?;
            return geojson_io::locate(&store, &lon, &lat, &crs).await;
        }
        Command::Db {
            command: DbCommand::Migrate,
        } => {
            let store = cfg.open_store().await?;
            store.migrate().await?;
            println!("数据库迁移已完成（{}）", cfg.describe_database());
        }
        Command::User { command } => {
            let ctx = cfg.context().await?;
            accounts::run_user(&ctx, command).await?;
        }
        Command::Token { command } => {
            let ctx = cfg.context().await?;
            accounts::run_token(&ctx, command).await?;
        }
        Command::Calendar { command } => {
            let store = cfg.open_store().await?;
            return calendar::run(&store, command).await;
        }
        Command::Audit { command } => {
            let ctx = cfg.context().await?;
            return accounts::run_audit(&ctx, &cfg.data_dir, command).await;
        }
        Command::Registry { command } => {
            let ctx = cfg.context().await?;
            return registry::run(&ctx, command).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
