//! The `wangge` binary: one command for everything an operator does. This file only parses the
//! command line, resolves the configuration and hands over to the command modules.

mod config;
mod geojson_io;
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
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Apply the embedded migrations (also done at every start)
    Migrate,
}

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
        Command::Serve { listen } => {
            let store = cfg.open_store().await?;
            serve::serve(store, &cfg.listen(listen)).await?;
        }
        Command::Demo {
            seed,
            today,
            listen,
            no_serve,
        } => {
            let store = cfg.open_store().await?;
            serve::build_demo(&store, seed, today.as_deref()).await?;
            if !no_serve {
                serve::serve(store, &cfg.listen(listen)).await?;
            }
        }
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
    }
    Ok(ExitCode::SUCCESS)
}
