//! `wangge serve` and `wangge demo`: building the demo city with its accounts, and running the
//! server over HTTP or, given a certificate, HTTPS.

use crate::config::Config;
use anyhow::{Context as _, Result};
use chrono::{SubsecRound, Utc};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wangge_app::Context;
use wangge_domain::import::Plan;
use wangge_security::crypto::KeyRing;
use wangge_security::{password, token, totp};
use wangge_store::Store;
use wangge_web::AuthSettings;

/// The demo accounts' shared password; it meets the password policy.
pub const DEMO_PASSWORD: &str = "Wangge#2026";

/// `wangge serve`: the listen address and certificate flags win over the configuration file.
pub async fn run_serve(
    cfg: &Config,
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
) -> Result<()> {
    let (store, keys) = cfg.open_store_as("server").await?;
    let tls = tls_files(
        tls_cert.or(cfg.tls_cert.clone()),
        tls_key.or(cfg.tls_key.clone()),
    )?;
    serve_configured(cfg, store, keys, listen, tls).await
}

/// `wangge demo`: builds (or reuses) the demo city, then serves it unless `no_serve`.
pub async fn run_demo(
    cfg: &Config,
    seed: u64,
    today: Option<String>,
    listen: Option<String>,
    no_serve: bool,
    events_per_day: usize,
) -> Result<()> {
    let (store, keys) = cfg.open_store_as("server").await?;
    build_demo(&store, &keys, seed, today.as_deref(), events_per_day).await?;
    if !no_serve {
        let tls = tls_files(cfg.tls_cert.clone(), cfg.tls_key.clone())?;
        serve_configured(cfg, store, keys, listen, tls).await?;
    }
    Ok(())
}

async fn serve_configured(
    cfg: &Config,
    store: Store,
    keys: KeyRing,
    listen: Option<String>,
    tls: Option<TlsFiles>,
) -> Result<()> {
    serve(
        store,
        keys,
        cfg.auth.clone(),
        cfg.data_dir.join("attachments"),
        cfg.webhook.clone(),
        &cfg.listen(listen),
        tls,
    )
    .await
}

/// Builds the demo city into an empty database, or reuses what is there; prints the logins.
async fn build_demo(
    store: &Store,
    keys: &KeyRing,
    seed: u64,
    today: Option<&str>,
    events_per_day: usize,
) -> Result<()> {
    let started = Instant::now();
    if store.region_count().await? > 0 {
        return reuse_demo(store, keys).await;
    }
    if let Some(t) = today {
        chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .with_context(|| format!("--today 应为 YYYY-MM-DD 格式的日期，收到 \"{t}\""))?;
    }
    eprintln!("正在生成演示城市（石嘴山市，种子 {seed}）…");
    let mut city = tokio::task::spawn_blocking(move || wangge_demo::generate(seed)).await?;
    wangge_demo::seal_personal_data(&mut city, keys);
    let plan = Plan {
        regions: city.regions.clone(),
        grids: city.grids.clone(),
    };
    store.apply_plan(&plan).await?;
    store.insert_org_batch(&city.org).await?;
    create_accounts(store, keys, &city).await?;
    let now = demo_now(today)?;
    let events = insert_events(store, &city, seed, now, events_per_day).await?;
    let mediation = insert_mediation(store, &city, seed, now).await?;
    store.set_meta("demo_seed", &seed.to_string()).await?;
    store
        .append_audit(
            &crate::accounts::cli_audit(
                "demo.build",
                "city",
                Some(wangge_demo::CITY_CODE.into()),
                serde_json::json!({"seed": seed, "regions": plan.regions.len(), "grids": plan.grids.len(), "people": city.org.people.len()}),
            ),
            Utc::now(),
        )
        .await?;
    if let Some(t) = today {
        store.set_meta("demo_today", t).await?;
    }
    print_built(&plan, &city, events, &mediation, started);
    print_accounts(store, keys, &city).await
}

/// A data directory that already holds regions is used as it is, demo or not.
async fn reuse_demo(store: &Store, keys: &KeyRing) -> Result<()> {
    let seed_used = store.meta("demo_seed").await?;
    eprintln!(
        "数据目录中已有区划数据，直接使用（{}）。",
        seed_used.as_ref().map_or_else(
            || "非演示数据".to_string(),
            |s| format!("演示城市，种子 {s}")
        )
    );
    if let Some(s) = seed_used.and_then(|s| s.parse().ok()) {
        print_accounts(store, keys, &wangge_demo::generate(s)).await?;
    }
    Ok(())
}

/// Returns only the count: the events are not needed once they are stored.
async fn insert_events(
    store: &Store,
    city: &wangge_demo::DemoCity,
    seed: u64,
    now: chrono::DateTime<Utc>,
    events_per_day: usize,
) -> Result<usize> {
    let events = tokio::task::block_in_place(|| {
        wangge_demo::events::generate_events(city, seed, now, events_per_day)
    });
    store.insert_events_bulk(&events).await?;
    Ok(events.len())
}

async fn insert_mediation(
    store: &Store,
    city: &wangge_demo::DemoCity,
    seed: u64,
    now: chrono::DateTime<Utc>,
) -> Result<wangge_demo::mediation::DemoMediation> {
    let mediation =
        tokio::task::block_in_place(|| wangge_demo::mediation::generate_mediation(city, seed, now));
    store
        .insert_mediation_network(&mediation.orgs, &mediation.mediators)
        .await?;
    store.insert_cases(&mediation.cases).await?;
    link_demo_mediator(store, city, &mediation).await?;
    Ok(mediation)
}

fn print_built(
    plan: &Plan,
    city: &wangge_demo::DemoCity,
    events: usize,
    mediation: &wangge_demo::mediation::DemoMediation,
    started: Instant,
) {
    eprintln!(
        "演示城市已生成：{} 个区划，{} 个网格，{} 个部门，{} 个单位，{} 人，一年 {} 件事件，{} 个调解组织、{} 名调解员、{} 件矛盾纠纷（调结 {} 件，调解成功 {} 件），用时 {:.1} 秒。",
        plan.regions.len(),
        plan.grids.len(),
        city.org.departments.len(),
        city.org.units.len(),
        city.org.people.len(),
        events,
        mediation.orgs.len(),
        mediation.mediators.len(),
        mediation.cases.len(),
        wangge_demo::mediation::HANDLED,
        wangge_demo::mediation::SUCCESSFUL,
        started.elapsed().as_secs_f64()
    );
}

/// The demo's mediator login works as the gold-medal mediator of its township's committee.
async fn link_demo_mediator(
    store: &Store,
    city: &wangge_demo::DemoCity,
    m: &wangge_demo::mediation::DemoMediation,
) -> Result<()> {
    let Some(login) = wangge_demo::demo_accounts(city)
        .into_iter()
        .find(|a| a.role == "mediator")
    else {
        return Ok(());
    };
    let Some(account) = store.account_by_username(login.username).await? else {
        return Ok(());
    };
    let committee = m.orgs.iter().find(|o| {
        o.region_code == login.scope
            && o.kind == wangge_domain::mediation::OrgKind::TownshipCommittee.as_str()
    });
    if let Some(mediator) = committee.and_then(|o| m.mediators.iter().find(|x| x.org_id == o.id)) {
        store
            .link_mediator_account(mediator.id, account.id, login.display_name)
            .await?;
    }
    Ok(())
}

/// The demo's "now": the real time, or the afternoon of `--today` when another day is asked for.
fn demo_now(today: Option<&str>) -> Result<chrono::DateTime<Utc>> {
    use chrono::TimeZone;
    let real = Utc::now();
    let Some(t) = today else { return Ok(real) };
    let day = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")?;
    let beijing = wangge_domain::calendar::beijing();
    if day == real.with_timezone(&beijing).date_naive() {
        return Ok(real);
    }
    let at = day.and_hms_opt(16, 0, 0).expect("valid time");
    Ok(beijing
        .from_local_datetime(&at)
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc))
}

async fn create_accounts(
    store: &Store,
    keys: &KeyRing,
    city: &wangge_demo::DemoCity,
) -> Result<()> {
    let hash = password::hash(DEMO_PASSWORD);
    let now = Utc::now().trunc_subsecs(6);
    for a in wangge_demo::demo_accounts(city) {
        let role: wangge_domain::access::Role =
            a.role.parse().map_err(|m: String| anyhow::anyhow!(m))?;
        let scope = wangge_app::accounts::resolve_scope(store, role, &a.scope)
            .await
            .map_err(|m| anyhow::anyhow!(m))?;
        let id = store
            .create_account(
                &wangge_store::NewAccount {
                    username: a.username.into(),
                    display_name: a.display_name.into(),
                    role: a.role.into(),
                    scope_kind: scope.kind,
                    scope_code: scope.code,
                    scope_serves: scope.serves,
                    password_hash: hash.clone(),
                    proposed_by: None,
                },
                now,
            )
            .await?;
        if role.requires_second_factor() {
            // Enrolled in advance so a newcomer can log in; the secret is printed below.
            let secret = totp::generate_secret();
            let codes: Vec<String> = totp::recovery_codes()
                .iter()
                .map(|c| token::digest(c))
                .collect();
            store
                .set_totp(
                    id,
                    &keys.encrypt(&secret),
                    &serde_json::to_string(&codes)?,
                    true,
                    now,
                )
                .await?;
        }
    }
    Ok(())
}

async fn print_accounts(store: &Store, keys: &KeyRing, city: &wangge_demo::DemoCity) -> Result<()> {
    println!(
        "演示账户（密码均为 {DEMO_PASSWORD}；带动态口令密钥的账户需在身份验证器中添加该密钥）："
    );
    for a in wangge_demo::demo_accounts(city) {
        let Some(row) = store.account_by_username(a.username).await? else {
            continue;
        };
        let secret = match (&row.totp_secret, row.totp_enabled) {
            (Some(enc), 1) => format!(
                "  动态口令密钥 {}",
                keys.decrypt(enc)
                    .unwrap_or_else(|_| "（密钥文件不符，无法读取）".into())
            ),
            _ => String::new(),
        };
        println!(
            "  {:<10} {:<16} {}（{}）{secret}",
            a.username, a.role, a.place, a.scope
        );
    }
    Ok(())
}

pub struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
}

fn tls_files(cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<TlsFiles>> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        (None, None) => Ok(None),
        _ => anyhow::bail!("HTTPS 需要同时提供证书（tls_cert）和私钥（tls_key）"),
    }
}

async fn serve(
    store: Store,
    keys: KeyRing,
    auth: AuthSettings,
    files: PathBuf,
    webhook: Option<(String, String)>,
    listen: &str,
    tls: Option<TlsFiles>,
) -> Result<()> {
    let settings = AuthSettings {
        secure_cookies: tls.is_some(),
        ..auth
    };
    let mut state = Context::new(store, settings, keys).await?.with_files(files);
    if let Some((url, secret)) = webhook {
        let hook =
            wangge_app::notify::Webhook::parse(&url, &secret).map_err(|m| anyhow::anyhow!(m))?;
        state = state.with_webhook(hook);
    }
    let _watch = state.watch_caches(Duration::from_secs(5));
    let _deadlines = state.watch_deadlines(Duration::from_secs(30));
    let app = wangge_web::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listener =
        std::net::TcpListener::bind(listen).with_context(|| format!("无法监听地址 {listen}"))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    // Written without println!: a closed stdout (a supervisor that stopped reading) must not
    // bring the server down.
    let banner = format!(
        "网格 Wangge 已启动：{scheme}://{addr}/\n  登录：POST {scheme}://{addr}/api/v1/auth/login\n  \
         区划接口：{scheme}://{addr}/api/v1/regions/640200000000\n  健康检查：{scheme}://{addr}/healthz\n按 Ctrl-C 停止。\n"
    );
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    }
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    match tls {
        Some(t) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&t.cert, &t.key)
                .await
                .with_context(|| {
                    format!(
                        "无法读取证书 {} 或私钥 {}",
                        t.cert.display(),
                        t.key.display()
                    )
                })?;
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(app)
                .await?;
        }
        None => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(app)
                .await?
        }
    }
    Ok(())
}
