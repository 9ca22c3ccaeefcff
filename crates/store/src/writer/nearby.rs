//! The likely-duplicate hint of new reports, read in batches beside the writer. Its own task and
//! its own statement because a read per report cost intake almost half its rate, and because a
//! failed or slow read must never hold up a write: the hint is advice, the report is not.

use super::GROUP;
use crate::events::{NEAR_LIMIT, NearBox, NearbyEvent, nearby_fields};
use crate::{Store, StoreError, on_db};
use tokio::sync::{mpsc, oneshot};

/// A new report's question for the likely-duplicate hint: the open events of its category in
/// its box.
pub(super) struct NearbyAsk {
    pub(super) category: String,
    pub(super) area: NearBox,
    pub(super) reply: oneshot::Sender<Vec<NearbyEvent>>,
}

/// An open event in the box of the `near_of`-th ask of a batch.
#[derive(sqlx::FromRow)]
struct Near {
    near_of: i64,
    #[sqlx(flatten)]
    event: NearbyEvent,
}

/// Answers the likely-duplicate asks of many reports with one read each batch, beside the
/// writer and on a connection of its own: a read per report (a round trip through the pool and
/// SQLite's worker thread each) cost intake almost half its rate. A failed read answers with no
/// hint: the reports themselves are written regardless.
pub(super) async fn read_nearby(store: Store, mut rx: mpsc::Receiver<NearbyAsk>) {
    let mut batch = Vec::with_capacity(GROUP);
    while rx.recv_many(&mut batch, GROUP).await > 0 {
        let asks: Vec<NearbyAsk> = std::mem::take(&mut batch);
        let mut found: Vec<Vec<NearbyEvent>> = asks.iter().map(|_| Vec::new()).collect();
        match nearby_of(&store, &asks).await {
            Ok(rows) => {
                for n in rows {
                    if let Some(list) = found.get_mut(n.near_of as usize) {
                        list.push(n.event);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, asks = asks.len(), "likely-duplicate read failed"),
        }
        for (ask, mut list) in asks.into_iter().zip(found) {
            list.sort_by_key(|e| std::cmp::Reverse(e.created_at));
            // A request that gave up waiting has dropped its receiver.
            let _ = ask.reply.send(list);
        }
    }
}

/// The open events in each ask's box, at most [`NEAR_LIMIT`] + 1 per ask (the most recent), in one
/// statement. The joined condition repeats the partial index's word for word (SQLite uses a
/// partial index only then), so each ask reads the few open events of its category in its band.
async fn nearby_of(store: &Store, asks: &[NearbyAsk]) -> Result<Vec<Near>, StoreError> {
    let sql = nearby_sql(asks.len());
    Ok(on_db!(store, |pool| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
        for (i, a) in asks.iter().enumerate() {
            q = q
                .bind(i as i64)
                .bind(a.category.as_str())
                .bind(a.area.lat_lo)
                .bind(a.area.lat_hi)
                .bind(a.area.lon_lo)
                .bind(a.area.lon_hi);
        }
        q.fetch_all(pool).await
    })?)
}

/// The statement of [`nearby_of`] for `asks` asks (six parameters each).
pub(super) fn nearby_sql(asks: usize) -> String {
    let rows: Vec<String> = (0..asks)
        .map(|i| {
            let p = i * 6;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6
            )
        })
        .collect();
    // One more than shown: the read may run after the report's own group has committed, and
    // then the report itself is among them.
    format!(
        concat!(
            "WITH q (near_of, cat, lat_lo, lat_hi, lon_lo, lon_hi) AS (VALUES {}), \
             near AS (SELECT q.near_of, ROW_NUMBER() OVER (PARTITION BY q.near_of ORDER BY e.created_at DESC) AS nth, \
             e.id, e.code, e.category_code, e.state, e.description, e.lon, e.lat, e.grid_code, e.departments, e.created_at \
             FROM q JOIN events e ON e.category_code = q.cat AND e.state NOT IN ('closed', 'rejected', 'merged') \
             AND e.lat BETWEEN q.lat_lo AND q.lat_hi AND e.lon BETWEEN q.lon_lo AND q.lon_hi) \
             SELECT near_of, ",
            nearby_fields!(),
            " FROM near WHERE nth <= {}"
        ),
        rows.join(", "),
        NEAR_LIMIT + 1
    )
}
