//! Spreadsheets uploaded in the browser, kept between the preview and the
//! confirm. They are not catalogue data: nothing here reaches the changes
//! log, and an upload nobody confirms is dropped after a day.

use sqlx::Row;

use super::{Store, now};

/// An upload waiting to be confirmed.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: String,
    pub author: String,
    pub file_name: String,
    /// The import format's name, as `--format` takes it.
    pub format: String,
    pub content: String,
    /// Empty rows above a workbook's table.
    pub row_offset: i64,
    pub created_at: String,
}

/// How long an unconfirmed upload is kept.
const KEEP_FOR: chrono::Duration = chrono::Duration::hours(24);

impl Store {
    /// Keeps an upload for its author to confirm; returns its id. Uploads
    /// older than a day are dropped at the same time.
    pub async fn save_upload(
        &self,
        author: &str,
        file_name: &str,
        format: &str,
        content: &str,
        row_offset: i64,
    ) -> anyhow::Result<String> {
        let at = now();
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM uploads WHERE created_at < $1")
            .bind((at - KEEP_FOR).to_rfc3339())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO uploads (id, author, file_name, format, content, row_offset, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(author)
        .bind(file_name)
        .bind(format)
        .bind(content)
        .bind(row_offset)
        .bind(at.to_rfc3339())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// An upload that has not expired.
    pub async fn upload(&self, id: &str) -> anyhow::Result<Option<Upload>> {
        let row = sqlx::query(
            "SELECT id, author, file_name, format, content, row_offset, created_at FROM uploads \
             WHERE id = $1 AND created_at >= $2",
        )
        .bind(id)
        .bind((now() - KEEP_FOR).to_rfc3339())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Upload {
            id: r.get(0),
            author: r.get(1),
            file_name: r.get(2),
            format: r.get(3),
            content: r.get(4),
            row_offset: r.get(5),
            created_at: r.get(6),
        }))
    }

    pub async fn delete_upload(&self, id: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM uploads WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }
}
