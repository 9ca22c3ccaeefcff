//! The settings document: the system administrator reads it whole and replaces it whole. A
//! replacement must be a JSON object and is validated as a whole — every problem with its place —
//! and either stored, audited with before and after, and in force at once on this server (on the
//! others within the cache watch's interval), or refused with nothing changed.

use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use serde_json::{Value, json};
use std::collections::HashSet;
use wangge_domain::access::Permission;
use wangge_domain::catalog::default_catalogue;
use wangge_domain::settings::Settings;

pub fn read(ctx: &Context, who: &Principal) -> AppResult<Settings> {
    who.require(Permission::Configure)?;
    Ok(ctx.config.get().settings.clone())
}

pub async fn replace(ctx: &Context, who: &Principal, raw: Value) -> AppResult<Settings> {
    who.require(Permission::Configure)?;
    // An array would read as "every field left out", i.e. the defaults: a whole reset by mistake.
    if !raw.is_object() {
        return Err(AppError::invalid(
            "settings.invalid",
            "设置应为 JSON 对象（{…}），未保存",
        ));
    }
    let settings: Settings = serde_json::from_value(raw)
        .map_err(|e| AppError::invalid("settings.invalid", format!("设置格式不正确：{e}")))?;
    let mut departments = HashSet::new();
    for r in &settings.routing {
        if crate::registry::departments::find(ctx, &r.department)
            .await?
            .is_some()
        {
            departments.insert(r.department.clone());
        }
    }
    let problems = settings.problems(&default_catalogue(), &|d| departments.contains(d));
    if !problems.is_empty() {
        return Err(AppError::invalid(
            "settings.invalid",
            format!("设置有 {} 处问题，未保存", problems.len()),
        )
        .with_details(json!({"problems": problems})));
    }
    let before = ctx.config.get().settings.clone();
    let text = serde_json::to_string(&settings)
        .map_err(|e| AppError::invalid("settings.invalid", format!("设置无法保存：{e}")))?;
    ctx.store.save_settings(&text).await?;
    ctx.store
        .append_audit(
            &who.audit(
                "settings.replace",
                Some("settings"),
                None,
                json!({"before": before, "after": settings}),
            ),
            ctx.now(),
        )
        .await?;
    ctx.config.reload(&ctx.store).await?;
    Ok(ctx.config.get().settings.clone())
}
