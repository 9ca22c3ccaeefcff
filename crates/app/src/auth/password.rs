//! Changing one's own password: after the current one is given again, to one that meets the
//! policy and differs from it. The first login of an account with an initial password must do
//! this before anything else; anyone may do it at any time. Other sessions of the account end.

use super::PendingSession;
use crate::context::Context;
use crate::error::{AppError, AppResult};
use serde::Deserialize;
use serde_json::json;
use wangge_security::password;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> AppError {
    AppError::invalid("auth.bad_password", message).at(field)
}

pub async fn change_password(
    ctx: &Context,
    s: &PendingSession,
    b: PasswordChange,
) -> AppResult<()> {
    let a = ctx
        .store
        .account(s.account.id)
        .await?
        .ok_or_else(super::required)?;
    // A session halfway through its login (password given, second factor not yet) may not.
    let half = ctx
        .store
        .session(&s.id_hash)
        .await?
        .is_none_or(|x| x.second_factor_done == 0);
    if half {
        return Err(AppError::unauthorized(
            "auth.second_factor_required",
            "请先完成第二重身份验证（动态口令）",
        ));
    }
    let (stored, given) = (a.password_hash.clone(), b.current_password.clone());
    let right = tokio::task::spawn_blocking(move || password::verify(&stored, &given))
        .await
        .unwrap_or(false);
    if !right {
        return Err(invalid("current_password", "当前密码不正确"));
    }
    if b.new_password == b.current_password {
        return Err(invalid("new_password", "新密码不能与当前密码相同"));
    }
    password::check_policy(&a.username, &b.new_password)
        .map_err(|e| invalid("new_password", e.to_string()))?;
    let pw = b.new_password;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|_| AppError::internal("internal", "服务器内部错误"))?;
    let t = ctx.now();
    ctx.store.set_password(a.id, &hash, false, t).await?;
    ctx.store.end_other_sessions(a.id, &s.id_hash).await?;
    ctx.tokens.clear();
    ctx.store
        .append_audit(
            &super::login::login_audit(
                &a.username,
                &s.ip,
                "account.password_change",
                json!({"first_login": a.must_change_password != 0}),
            ),
            t,
        )
        .await?;
    Ok(())
}
