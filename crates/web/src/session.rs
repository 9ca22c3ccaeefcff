//! Logging in and out, the second factor (TOTP and recovery codes), and `GET /api/v1/me`.

use crate::auth::{self, Caller, ClientIp, PendingCaller, SESSION_COOKIE, me, now, role_and_scope};
use crate::params::json_body;
use crate::{ApiError, ApiResult, AppState};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use wangge_security::{password, token, totp};
use wangge_store::{AccountRow, AuditEntry};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/second-factor", post(second_factor))
        .route("/api/v1/auth/second-factor/enroll", post(enroll))
        .route("/api/v1/auth/second-factor/confirm", post(confirm))
        .route("/api/v1/me", get(whoami))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

fn session_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("wangge_session=; Path=/; Max-Age=0"))
}

fn login_audit(username: &str, ip: &Option<String>, action: &str, detail: Value) -> AuditEntry {
    AuditEntry {
        actor: username.to_string(),
        actor_role: None,
        ip: ip.clone(),
        action: action.to_string(),
        record_type: Some("account".into()),
        record_id: None,
        detail,
    }
}

fn bad_credentials(extra: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "auth.bad_credentials",
        format!("用户名或密码错误{extra}"),
    )
}

/// A hash to verify against when the user does not exist, so timing does not reveal it.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| password::hash("no-such-user-Aa1!"))
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Result<Json<LoginBody>, JsonRejection>,
) -> ApiResult<Response> {
    let body = json_body(body)?;
    let ip_key = ip.clone().unwrap_or_else(|| "unknown".into());
    let t = now();
    let store = &state.store;
    let settings = &state.auth;
    let window_start = t - settings.ip_window;
    if store.ip_failures(&ip_key, window_start).await? >= settings.ip_max_failures {
        store
            .append_audit(
                &login_audit(&body.username, &ip, "login.throttled", json!({})),
                t,
            )
            .await?;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "auth.rate_limited",
            "登录失败次数过多，请稍后再试",
        ));
    }
    let account = store.account_by_username(body.username.trim()).await?;
    let Some(account) = account.filter(|a| a.active != 0) else {
        let pw = body.password.clone();
        let _ = tokio::task::spawn_blocking(move || password::verify(dummy_hash(), &pw)).await;
        store.record_ip_failure(&ip_key, window_start, t).await?;
        store
            .append_audit(
                &login_audit(
                    &body.username,
                    &ip,
                    "login.failed",
                    json!({"reason": "unknown_or_inactive"}),
                ),
                t,
            )
            .await?;
        return Err(bad_credentials(""));
    };
    if let Some(until) = account.locked_until.filter(|u| *u > t) {
        store
            .append_audit(
                &login_audit(&account.username, &ip, "login.locked", json!({})),
                t,
            )
            .await?;
        let minutes = ((until - t).num_seconds() + 59) / 60;
        return Err(ApiError::new(
            StatusCode::LOCKED,
            "auth.locked",
            format!("账户已锁定，请在 {minutes} 分钟后重试，或联系系统管理员解锁"),
        )
        .with_details(json!({"locked_until": until})));
    }
    let (hash, pw) = (account.password_hash.clone(), body.password.clone());
    let ok = tokio::task::spawn_blocking(move || password::verify(&hash, &pw))
        .await
        .unwrap_or(false);
    if !ok {
        store.record_ip_failure(&ip_key, window_start, t).await?;
        let (n, locked) = store
            .record_login_failure(account.id, settings.max_failures, t + settings.lock_for, t)
            .await?;
        store
            .append_audit(
                &login_audit(
                    &account.username,
                    &ip,
                    "login.failed",
                    json!({"reason": "bad_password", "failures": n}),
                ),
                t,
            )
            .await?;
        if let Some(until) = locked {
            return Err(ApiError::new(
                StatusCode::LOCKED,
                "auth.locked",
                format!(
                    "连续 {n} 次登录失败，账户已锁定 {} 分钟",
                    settings.lock_for.num_minutes()
                ),
            )
            .with_details(json!({"locked_until": until})));
        }
        return Err(bad_credentials(&format!(
            "，还可尝试 {} 次",
            settings.max_failures - n
        )));
    }
    let (role, _) = role_and_scope(&account)?;
    store.record_login_success(account.id, t).await?;
    let needs_second = role.requires_second_factor() || account.totp_enabled != 0;
    let secret = token::generate("wgs_");
    let csrf = token::generate("");
    store
        .create_session(
            &token::digest(&secret),
            account.id,
            &csrf,
            !needs_second,
            ip.as_deref(),
            t,
            t + settings.absolute_timeout,
        )
        .await?;
    store
        .append_audit(
            &AuditEntry {
                actor_role: Some(role.as_str().into()),
                record_id: Some(account.id.to_string()),
                ..login_audit(
                    &account.username,
                    &ip,
                    "login.success",
                    json!({"second_factor_pending": needs_second}),
                )
            },
            t,
        )
        .await?;
    let second_factor = match (needs_second, account.totp_enabled != 0) {
        (false, _) => "none",
        (true, true) => "required",
        (true, false) => "enroll",
    };
    let mut res = Json(
        json!({"account": me(&account, role), "csrf_token": csrf, "second_factor": second_factor}),
    )
    .into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(
            &secret,
            settings.absolute_timeout.num_seconds(),
            settings.secure_cookies,
        ),
    );
    Ok(res)
}

async fn logout(State(state): State<AppState>, caller: PendingCaller) -> ApiResult<Response> {
    state.store.delete_session(&caller.id_hash).await?;
    state
        .store
        .append_audit(
            &AuditEntry {
                actor_role: Some(caller.role.as_str().into()),
                record_id: Some(caller.account.id.to_string()),
                ..login_audit(&caller.account.username, &caller.ip, "logout", json!({}))
            },
            now(),
        )
        .await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, state.auth.secure_cookies),
    );
    Ok(res)
}

async fn whoami(caller: Caller) -> Json<Value> {
    Json(json!(me(&caller.account, caller.role)))
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

fn recovery_digests(a: &AccountRow) -> Vec<String> {
    a.recovery_codes
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default()
}

fn totp_secret(state: &AppState, a: &AccountRow) -> ApiResult<String> {
    let enc = a.totp_secret.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "auth.no_second_factor",
            "尚未设置动态口令，请先绑定",
        )
    })?;
    state.keys.decrypt(enc).map_err(|e| {
        tracing::error!(error = %e, "cannot decrypt a TOTP secret");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "auth.key_error",
            "无法读取动态口令密钥，请联系安全管理员",
        )
    })
}

async fn second_factor(
    State(state): State<AppState>,
    caller: PendingCaller,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let body = json_body(body)?;
    let t = now();
    let a = &caller.account;
    if a.totp_enabled == 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "auth.no_second_factor",
            "尚未设置动态口令，请先绑定",
        ));
    }
    let secret = totp_secret(&state, a)?;
    let mut ok = totp::verify(&secret, &body.code, t.timestamp() as u64);
    let mut used_recovery = false;
    if !ok {
        let digest = token::digest(body.code.trim());
        let mut codes = recovery_digests(a);
        if let Some(pos) = codes
            .iter()
            .position(|c| token::constant_time_eq(c, &digest))
        {
            codes.remove(pos);
            state
                .store
                .set_recovery_codes(a.id, &serde_json::to_string(&codes).unwrap_or_default())
                .await?;
            ok = true;
            used_recovery = true;
        }
    }
    let audit = |action: &str, detail: Value| AuditEntry {
        actor_role: Some(caller.role.as_str().into()),
        record_id: Some(a.id.to_string()),
        ..login_audit(&a.username, &caller.ip, action, detail)
    };
    if !ok {
        let (n, locked) = state
            .store
            .record_login_failure(a.id, state.auth.max_failures, t + state.auth.lock_for, t)
            .await?;
        state
            .store
            .append_audit(&audit("second_factor.failed", json!({"failures": n})), t)
            .await?;
        if locked.is_some() {
            state.store.delete_session(&caller.id_hash).await?;
            return Err(ApiError::new(
                StatusCode::LOCKED,
                "auth.locked",
                "连续验证失败，账户已锁定",
            ));
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.bad_second_factor",
            "动态口令不正确",
        ));
    }
    state.store.record_login_success(a.id, t).await?;
    state.store.complete_second_factor(&caller.id_hash).await?;
    state
        .store
        .append_audit(
            &audit(
                "second_factor.passed",
                json!({"recovery_code": used_recovery}),
            ),
            t,
        )
        .await?;
    Ok(Json(
        json!({"account": me(a, caller.role), "recovery_codes_left": recovery_digests(a).len() - used_recovery as usize}),
    ))
}

async fn enroll(State(state): State<AppState>, caller: PendingCaller) -> ApiResult<Json<Value>> {
    let a = &caller.account;
    if a.totp_enabled != 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "auth.second_factor_exists",
            "已绑定动态口令；如需更换请联系安全管理员",
        ));
    }
    let secret = totp::generate_secret();
    let codes = totp::recovery_codes();
    let digests: Vec<String> = codes.iter().map(|c| token::digest(c)).collect();
    state
        .store
        .set_totp(
            a.id,
            &state.keys.encrypt(&secret),
            &serde_json::to_string(&digests).unwrap_or_default(),
            false,
            now(),
        )
        .await?;
    Ok(Json(json!({
        "secret": secret,
        "otpauth_uri": totp::uri(&secret, &a.username),
        "recovery_codes": codes,
        "message": "请用身份验证器应用扫描或输入密钥，然后提交一个动态口令完成绑定；恢复码只显示这一次，请妥善保存。"
    })))
}

async fn confirm(
    State(state): State<AppState>,
    caller: PendingCaller,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let body = json_body(body)?;
    let t = now();
    let a = &caller.account;
    if a.totp_enabled != 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "auth.second_factor_exists",
            "已绑定动态口令",
        ));
    }
    let secret = totp_secret(&state, a)?;
    if !totp::verify(&secret, &body.code, t.timestamp() as u64) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.bad_second_factor",
            "动态口令不正确",
        ));
    }
    state.store.enable_totp(a.id, t).await?;
    state.store.complete_second_factor(&caller.id_hash).await?;
    state
        .store
        .append_audit(
            &AuditEntry {
                actor_role: Some(caller.role.as_str().into()),
                record_id: Some(a.id.to_string()),
                ..login_audit(&a.username, &caller.ip, "second_factor.enabled", json!({}))
            },
            t,
        )
        .await?;
    let mut account = a.clone();
    account.totp_enabled = 1;
    Ok(Json(json!({"account": auth::me(&account, caller.role)})))
}
