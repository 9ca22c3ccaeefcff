//! The statements that write event rows, shared by the store's own writes and the group commit.
//! Macros (and one generic function) because each runs inside a transaction of either backend,
//! and one definition keeps the column lists of both callers the same.

use super::{EventRow, NewMove};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A move's UPDATE, guarded by the version the mover saw: `Ok(true)` when it applied. A macro, so
/// each backend's arm of [`on_db!`](crate::on_db!) binds its own types.
macro_rules! update_event_row {
    ($tx:expr, $e:expr, $expected:expr) => {
        sqlx::query(
                "UPDATE events SET state = $3, flow = $4, version = $5, lead_department = $6, departments = $7, step = $8, \
                 step_started_at = $9, step_due_at = $10, step_due_provisional = $11, suspended_at = $12, extension_minutes = $13, \
                 category_code = $14, domain = $15, updated_at = $16, yellow_at = $18, light_notified = $19 \
                 WHERE region_code = $1 AND id = $2 AND version = $17",
            )
            .bind(&$e.region_code)
            .bind($e.id)
            .bind(&$e.state)
            .bind(&$e.flow)
            .bind($e.version)
            .bind(&$e.lead_department)
            .bind(&$e.departments)
            .bind(&$e.step)
            .bind($e.step_started_at)
            .bind($e.step_due_at)
            .bind($e.step_due_provisional)
            .bind($e.suspended_at)
            .bind($e.extension_minutes)
            .bind(&$e.category_code)
            .bind(&$e.domain)
            .bind($e.updated_at)
            .bind($expected)
            .bind($e.yellow_at)
            .bind(&$e.light_notified)
            .execute(&mut *$tx)
            .await
            .map(|r| r.rows_affected() == 1)
    };
}
pub(crate) use update_event_row;

/// A multi-row INSERT of events (`&[&EventRow]`); see [`update_event_row`] for why a macro.
macro_rules! insert_event_rows {
    ($tx:expr, $rows:expr) => {{
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO events (region_code, id, code, tracking_code, category_code, domain, urgency, state, flow, version, source, \
             description, address, lon, lat, grid_code, reporter_account, reporter_phone_enc, reporter_phone_idx, idempotency_key, \
             lead_department, departments, step, step_started_at, step_due_at, step_due_provisional, suspended_at, extension_minutes, \
             created_at, updated_at, yellow_at, light_notified) ",
        );
        q.push_values($rows.iter(), |mut b, e| {
            b.push_bind(e.region_code.clone())
                .push_bind(e.id)
                .push_bind(e.code.clone())
                .push_bind(e.tracking_code.clone())
                .push_bind(e.category_code.clone())
                .push_bind(e.domain.clone())
                .push_bind(e.urgency.clone())
                .push_bind(e.state.clone())
                .push_bind(e.flow.clone())
                .push_bind(e.version)
                .push_bind(e.source.clone())
                .push_bind(e.description.clone())
                .push_bind(e.address.clone())
                .push_bind(e.lon)
                .push_bind(e.lat)
                .push_bind(e.grid_code.clone())
                .push_bind(e.reporter_account)
                .push_bind(e.reporter_phone_enc.clone())
                .push_bind(e.reporter_phone_idx.clone())
                .push_bind(e.idempotency_key.clone())
                .push_bind(e.lead_department.clone())
                .push_bind(e.departments.clone())
                .push_bind(e.step.clone())
                .push_bind(e.step_started_at)
                .push_bind(e.step_due_at)
                .push_bind(e.step_due_provisional)
                .push_bind(e.suspended_at)
                .push_bind(e.extension_minutes)
                .push_bind(e.created_at)
                .push_bind(e.updated_at)
                .push_bind(e.yellow_at)
                .push_bind(e.light_notified.clone());
        });
        q.build().execute(&mut *$tx).await
    }};
}
pub(crate) use insert_event_rows;

/// A multi-row INSERT of history entries (`&[(&EventRow, seq, &NewMove, at)]`).
macro_rules! insert_move_rows {
    ($tx:expr, $rows:expr) => {{
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO event_moves (region_code, event_id, seq, move, body, from_state, to_state, actor, actor_role, department, ip, at) ",
        );
        q.push_values($rows.iter(), |mut b, (e, seq, m, at)| {
            b.push_bind(e.region_code.clone())
                .push_bind(e.id)
                .push_bind(*seq)
                .push_bind(m.move_name.clone())
                .push_bind(m.body.clone())
                .push_bind(m.from_state.clone())
                .push_bind(m.to_state.clone())
                .push_bind(m.actor.clone())
                .push_bind(m.actor_role.clone())
                .push_bind(m.department.clone())
                .push_bind(m.ip.clone())
                .push_bind(*at);
        });
        q.build().execute(&mut *$tx).await
    }};
}
pub(crate) use insert_move_rows;

/// The history entry numbered `seq` (the event's version after the move).
pub(crate) async fn insert_move<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    e: &EventRow,
    seq: i64,
    m: &NewMove,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'a> &'a mut DB::Connection: sqlx::Executor<'a, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    String: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    Uuid: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    i64: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    Option<String>: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
    DateTime<Utc>: sqlx::Type<DB> + for<'q> sqlx::Encode<'q, DB>,
{
    sqlx::query(
        "INSERT INTO event_moves (region_code, event_id, seq, move, body, from_state, to_state, actor, actor_role, department, ip, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(e.region_code.clone())
    .bind(e.id)
    .bind(seq)
    .bind(m.move_name.clone())
    .bind(m.body.clone())
    .bind(m.from_state.clone())
    .bind(m.to_state.clone())
    .bind(m.actor.clone())
    .bind(m.actor_role.clone())
    .bind(m.department.clone())
    .bind(m.ip.clone())
    .bind(e.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A multi-row INSERT of notices (`&[&NewNotification]`) stamped `$at`, on a transaction or a
/// connection; a macro so each backend's arm of [`on_db!`](crate::on_db!) binds its own types.
macro_rules! insert_notification_rows {
    ($tx:expr, $rows:expr, $at:expr) => {{
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO notifications (region_code, id, event_id, recipient, kind, message, channel, created_at) ",
        );
        q.push_values($rows.iter(), |mut b, n| {
            b.push_bind(n.region_code.clone())
                .push_bind(uuid::Uuid::now_v7())
                .push_bind(n.event_id)
                .push_bind(n.recipient.clone())
                .push_bind(n.kind.clone())
                .push_bind(n.message.clone())
                .push_bind(n.channel.clone())
                .push_bind($at);
        });
        q.build().execute(&mut *$tx).await
    }};
}
pub(crate) use insert_notification_rows;
