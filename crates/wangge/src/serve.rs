//! `wangge serve` and `wangge demo`: building the demo city and running the server.

use anyhow::{Context, Result};
use std::time::{Duration, Instant};
use wangge_domain::import::Plan;
use wangge_store::Store;
use wangge_web::AppState;

/// Builds the demo city into an empty database, or reuses what is there.
pub async fn build_demo(store: &Store, seed: u64, today: Option<&str>) -> Result<()> {
    let started = Instant::now();
    if store.region_count().await? > 0 {
        let seed_used = store.meta("demo_seed").await?;
        eprintln!(
            "数据目录中已有区划数据，直接使用（{}）。",
            seed_used.map_or_else(
                || "非演示数据".to_string(),
                |s| format!("演示城市，种子 {s}")
            )
        );
        return Ok(());
    }
    if let Some(t) = today {
        chrono_like_date(t)
            .with_context(|| format!("--today 应为 YYYY-MM-DD 格式的日期，收到 \"{t}\""))?;
    }
    eprintln!("正在生成演示城市（石嘴山市，种子 {seed}）…");
    let city = tokio::task::spawn_blocking(move || wangge_demo::generate(seed)).await?;
    let plan = Plan {
        regions: city.regions,
        grids: city.grids,
    };
    store.apply_plan(&plan).await?;
    store.insert_org_batch(&city.org).await?;
    store.set_meta("demo_seed", &seed.to_string()).await?;
    if let Some(t) = today {
        store.set_meta("demo_today", t).await?;
    }
    eprintln!(
        "演示城市已生成：{} 个区划，{} 个网格，{} 个部门，{} 个单位，{} 人，用时 {:.1} 秒。",
        plan.regions.len(),
        plan.grids.len(),
        city.org.departments.len(),
        city.org.units.len(),
        city.org.people.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Checks a YYYY-MM-DD date without pulling a calendar into the binary's edge.
fn chrono_like_date(s: &str) -> Result<()> {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() == 3
        && parts[0].len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && (1..=12).contains(&parts[1].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&parts[2].parse::<u32>().unwrap_or(0));
    anyhow::ensure!(ok, "无效日期");
    Ok(())
}

pub async fn serve(store: Store, listen: &str) -> Result<()> {
    let state = AppState::new(store).await?;
    let _watch = state.watch_atlas(Duration::from_secs(5));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("无法监听地址 {listen}"))?;
    let addr = listener.local_addr()?;
    // Written without println!: a closed stdout (a supervisor that stopped reading) must not
    // bring the server down.
    let banner = format!(
        "网格 Wangge 已启动：http://{addr}/\n  区划接口：http://{addr}/api/v1/regions/640200000000\n           网格定位：http://{addr}/api/v1/locate?lon=106.39&lat=39.01\n  健康检查：http://{addr}/healthz\n按 Ctrl-C 停止。\n"
    );
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    }
    axum::serve(listener, wangge_web::app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
