//! Copying a whole SQLite store into PostgreSQL (`standards migrate`):
//! every table, in an order that keeps foreign keys satisfied, in one
//! PostgreSQL transaction, with each table's row count checked before it
//! commits. The target's own migrations have made its tables already.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail};
use sqlx::{AnyConnection, Connection, Row};

/// A SQLite store's tables, but for the migrations record (each store
/// keeps its own).
const SQLITE_TABLES: &str = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name";

/// Rows sent in one statement, as a JSON array.
const BATCH: usize = 1000;

/// What was copied: rows per table, in the order copied.
pub type Copied = Vec<(String, i64)>;

/// Copies the SQLite store at `from` into the empty PostgreSQL store at
/// `to` (both migrated to this version by `Store::open` first). Nothing is
/// written unless every table copies whole.
pub async fn sqlite_to_postgres(from: &str, to: &str) -> anyhow::Result<Copied> {
    sqlx::any::install_default_drivers();
    let mut source = AnyConnection::connect(from).await.context("cannot open the SQLite store")?;
    let mut target = AnyConnection::connect(to).await.context("cannot connect to PostgreSQL")?;
    let tables = tables_in_order(&mut source).await?;
    let mut tx = target.begin().await?;
    // A store holding only what every start seeds (the vocabularies and
    // their change log rows) counts as empty.
    for table in ["entries", "organisations", "users", "revisions"] {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *tx).await?.get(0);
        if n > 0 {
            bail!("the PostgreSQL store is not empty ({table} has {n} rows): migrate into a new database or schema");
        }
    }
    // What the target holds already is replaced by the source's: children
    // first.
    for table in tables.iter().rev() {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
    }
    let mut copied = Vec::new();
    for table in &tables {
        let columns: Vec<String> = sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"))
            .fetch_all(&mut source)
            .await?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        let types: BTreeMap<String, String> = sqlx::query(
            "SELECT CAST(column_name AS text), CAST(data_type AS text) FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect();
        if let Some(missing) = columns.iter().find(|c| !types.contains_key(*c)) {
            bail!("table {table}: the PostgreSQL store has no column {missing} (are both at the same version?)");
        }
        let cells: Vec<String> =
            columns.iter().enumerate().map(|(i, c)| format!("CAST(x ->> {i} AS {})", types[c])).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) SELECT {} FROM json_array_elements(CAST($1 AS json)) AS x",
            columns.join(", "),
            cells.join(", ")
        );
        let read = format!("SELECT json_array({}) FROM {table} ORDER BY rowid", columns.join(", "));
        let rows: Vec<String> = sqlx::query(&read).fetch_all(&mut source).await?.iter().map(|r| r.get(0)).collect();
        for chunk in rows.chunks(BATCH) {
            let batch = format!("[{}]", chunk.join(","));
            sqlx::query(&insert).bind(batch).execute(&mut *tx).await.with_context(|| format!("copying {table}"))?;
        }
        let there: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *tx).await?.get(0);
        if there != rows.len() as i64 {
            bail!("table {table}: {} rows read but {there} in PostgreSQL; nothing was migrated", rows.len());
        }
        copied.push((table.clone(), there));
    }
    // Serial columns go on from the highest number copied.
    let serials = sqlx::query(
        "SELECT CAST(table_name AS text), CAST(column_name AS text) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
    )
    .fetch_all(&mut *tx)
    .await?;
    for row in serials {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let _ = source.close().await;
    let _ = target.close().await;
    Ok(copied)
}

/// The source's tables, each after the tables its foreign keys name; the
/// migrations record is left out (the target keeps its own).
async fn tables_in_order(source: &mut AnyConnection) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> =
        sqlx::query(SQLITE_TABLES).fetch_all(&mut *source).await?.iter().map(|r| r.get(0)).collect();
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let parents: BTreeSet<String> =
            sqlx::query(&format!("SELECT \"table\" FROM pragma_foreign_key_list('{name}')"))
                .fetch_all(&mut *source)
                .await?
                .iter()
                .map(|r| r.get::<String, _>(0))
                .filter(|p| p != name)
                .collect();
        needs.insert(name.clone(), parents);
    }
    let mut order: Vec<String> = Vec::new();
    while order.len() < names.len() {
        let ready: Vec<String> = needs
            .iter()
            .filter(|(n, parents)| {
                !order.contains(n) && parents.iter().all(|p| order.contains(p) || !needs.contains_key(p))
            })
            .map(|(n, _)| n.clone())
            .collect();
        if ready.is_empty() {
            bail!("the tables' foreign keys form a cycle");
        }
        order.extend(ready);
    }
    Ok(order)
}

/// Row counts of every table but the migrations record, for checking a copy.
pub async fn row_counts(url: &str) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(url).await?;
    let sqlite = url.starts_with("sqlite:");
    let names: Vec<String> = if sqlite {
        sqlx::query(SQLITE_TABLES).fetch_all(&mut conn).await?.iter().map(|r| r.get(0)).collect()
    } else {
        sqlx::query("SELECT CAST(table_name AS text) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'schema_migrations' ORDER BY table_name")
            .fetch_all(&mut conn)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let mut out = Vec::new();
    for name in names {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {name}")).fetch_one(&mut conn).await?.get(0);
        out.push((name, n));
    }
    let _ = conn.close().await;
    Ok(out)
}
