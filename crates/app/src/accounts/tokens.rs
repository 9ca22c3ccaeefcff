//! API tokens for machine clients: made on the server, shown once, kept as a digest, revoked by
//! id.

use crate::auth::role_and_scope;
use crate::context::Context;
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::principal::Principal;
use serde_json::json;
use uuid::Uuid;
use wangge_domain::access::Permission;
use wangge_security::token;
use wangge_store::AccountRow;

/// A new API token for a machine client of an account (the operator on the server): its id and
/// the secret, shown once and stored only as a digest.
pub async fn create_token(
    ctx: &Context,
    who: &Principal,
    a: &AccountRow,
    name: &str,
) -> AppResult<(Uuid, String)> {
    who.require(Permission::ManageAccounts)?;
    if a.active == 0 {
        return Err(AppError::conflict("account.inactive", "账户已停用"));
    }
    role_and_scope(a)?;
    let name = limits::name("name", name)?;
    let secret = token::generate("wgt_");
    let t = ctx.now();
    let id = ctx
        .store
        .create_token(a.id, &name, &token::digest(&secret), t)
        .await?;
    ctx.store
        .append_audit(
            &who.audit(
                "token.create",
                Some("api_token"),
                Some(id.to_string()),
                json!({"account": a.username, "name": name}),
            ),
            t,
        )
        .await?;
    Ok((id, secret))
}

pub async fn revoke_token(ctx: &Context, who: &Principal, id: &str) -> AppResult<()> {
    who.require(Permission::ManageAccounts)?;
    let id: Uuid = id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("token.bad_id", format!("令牌编号无效：{id}")))?;
    let t = ctx.now();
    if !ctx.store.revoke_token(id, t).await? {
        return Err(AppError::not_found(
            "token.not_found",
            format!("令牌 {id} 不存在或已吊销"),
        ));
    }
    ctx.tokens.clear();
    ctx.store
        .append_audit(
            &who.audit(
                "token.revoke",
                Some("api_token"),
                Some(id.to_string()),
                json!({}),
            ),
            t,
        )
        .await?;
    Ok(())
}
