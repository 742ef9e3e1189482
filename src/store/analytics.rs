//! Search analytics. Not catalogue data, so not in the changes log: counts
//! of normalised query texts, with no personal data.

use sqlx::Row;

use super::{Store, now};

/// How often one query text was searched for, and how often it found nothing.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct QueryStat {
    pub query: String,
    pub searches: i64,
    pub zero_results: i64,
    pub last_searched: String,
}

impl Store {
    /// Adds search counts: (query, (searches, searches that found nothing)).
    pub async fn record_searches(&self, batch: &[(String, (u64, u64))]) -> anyhow::Result<()> {
        let at = now().to_rfc3339();
        let mut tx = self.pool.begin().await?;
        for (query, (searches, zero)) in batch {
            sqlx::query(
                "INSERT INTO search_queries (query, searches, zero_results, last_searched) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (query) DO UPDATE SET searches = search_queries.searches + excluded.searches, \
                 zero_results = search_queries.zero_results + excluded.zero_results, last_searched = excluded.last_searched",
            )
            .bind(query)
            .bind(*searches as i64)
            .bind(*zero as i64)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The most searched queries, and the most searched that found nothing.
    pub async fn search_statistics(&self, limit: i64) -> anyhow::Result<(Vec<QueryStat>, Vec<QueryStat>)> {
        let read = |sql: &'static str| async move {
            let rows = sqlx::query(sql).bind(limit).fetch_all(&self.pool).await?;
            Ok::<_, anyhow::Error>(
                rows.iter()
                    .map(|r| QueryStat {
                        query: r.get(0),
                        searches: r.get(1),
                        zero_results: r.get(2),
                        last_searched: r.get(3),
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let top = read("SELECT query, searches, zero_results, last_searched FROM search_queries ORDER BY searches DESC, query LIMIT $1").await?;
        let zero = read(
            "SELECT query, searches, zero_results, last_searched FROM search_queries WHERE zero_results > 0 \
             ORDER BY zero_results DESC, query LIMIT $1",
        )
        .await?;
        Ok((top, zero))
    }
}
