//! People and their API tokens. A token is shown once, when made, and
//! kept only as a SHA-256 hash; it carries its owner's role.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::write::{Action, ChangeLog};
use super::{Store, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
    Publisher,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Publisher => "publisher",
        }
    }

    pub(crate) fn parse(text: &str) -> anyhow::Result<Role> {
        match text {
            "admin" => Ok(Role::Admin),
            "editor" => Ok(Role::Editor),
            "publisher" => Ok(Role::Publisher),
            other => anyhow::bail!("unknown role `{other}` in the store"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Who is making a request, as proven by a valid token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub email: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub token_id: String,
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Adds a person. Publishers belong to an organisation.
    pub async fn add_user(&self, email: &str, role: Role, organisation: Option<&str>) -> anyhow::Result<User> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
            anyhow::bail!("`{email}` is not an email address");
        }
        if role == Role::Publisher && organisation.is_none() {
            anyhow::bail!("a publisher belongs to an organisation: give --org SLUG");
        }
        if let Some(org) = organisation
            && self.organisation(org).await?.is_none()
        {
            anyhow::bail!("there is no organisation `{org}`");
        }
        let user = User {
            id: uuid::Uuid::new_v4().to_string(),
            email: email.clone(),
            role,
            organisation: organisation.map(str::to_owned),
            disabled: false,
            created_at: now().to_rfc3339(),
        };
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        if sqlx::query("SELECT 1 FROM users WHERE email = $1").bind(&email).fetch_optional(&mut *tx).await?.is_some() {
            anyhow::bail!("there is already a user `{email}`");
        }
        sqlx::query(
            "INSERT INTO users (id, email, role, organisation, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(&user.id)
        .bind(&user.email)
        .bind(role.as_str())
        .bind(&user.organisation)
        .bind(&user.created_at)
        .execute(&mut *tx)
        .await?;
        let at = user.created_at.clone();
        let mut log = ChangeLog::new("cli", &at);
        log.append(&mut tx, "user", &user.id, Action::Create, None, Some(&serde_json::to_value(&user)?)).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn users(&self) -> anyhow::Result<Vec<User>> {
        let rows = sqlx::query("SELECT id, email, role, organisation, disabled, created_at FROM users ORDER BY email")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(User {
                    id: r.get(0),
                    email: r.get(1),
                    role: Role::parse(&r.get::<String, _>(2))?,
                    organisation: r.get(3),
                    disabled: r.get::<i64, _>(4) != 0,
                    created_at: r.get(5),
                })
            })
            .collect()
    }

    /// The person with this (lower-case) email address.
    async fn user(&self, email: &str) -> anyhow::Result<User> {
        self.users()
            .await?
            .into_iter()
            .find(|u| u.email == email)
            .with_context(|| format!("there is no user `{email}`"))
    }

    /// Disables a person: their tokens stop working at once.
    pub async fn disable_user(&self, email: &str) -> anyhow::Result<()> {
        let email = email.trim().to_lowercase();
        let user = self.user(&email).await?;
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1").bind(&user.id).execute(&mut *tx).await?;
        let at = now().to_rfc3339();
        let before = serde_json::to_value(&user)?;
        let after = serde_json::to_value(User { disabled: true, ..user.clone() })?;
        ChangeLog::new("cli", &at)
            .append(&mut tx, "user", &user.id, Action::Update, Some(&before), Some(&after))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a token for a person and returns (its id, the token). The
    /// token itself is not kept.
    pub async fn create_token(
        &self,
        email: &str,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> anyhow::Result<(String, String)> {
        let email = email.trim().to_lowercase();
        let user = self.user(&email).await?;
        if user.disabled {
            anyhow::bail!("user `{email}` is disabled");
        }
        let token = format!("std_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let id = uuid::Uuid::new_v4().to_string();
        let created = now();
        let expires = expires_in_days.map(|d| (created + chrono::Duration::days(i64::from(d))).to_rfc3339());
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(&user.id)
            .bind(name)
            .bind(hash(&token))
            .bind(created.to_rfc3339())
            .bind(&expires)
            .execute(&mut *tx)
            .await?;
        let at = created.to_rfc3339();
        let after = json!({"id": id, "email": email, "name": name, "expires_at": expires});
        ChangeLog::new("cli", &at).append(&mut tx, "token", &id, Action::Create, None, Some(&after)).await?;
        tx.commit().await?;
        Ok((id, token))
    }

    pub async fn revoke_token(&self, id: &str) -> anyhow::Result<()> {
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        let at = now().to_rfc3339();
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            anyhow::bail!("there is no unrevoked token with id `{id}`");
        }
        ChangeLog::new("cli", &at).append(&mut tx, "token", id, Action::Delete, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn tokens(&self) -> anyhow::Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT t.id, u.email, t.name, t.created_at, t.expires_at, t.revoked_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id ORDER BY t.created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| TokenInfo {
                id: r.get(0),
                email: r.get(1),
                name: r.get(2),
                created_at: r.get(3),
                expires_at: r.get(4),
                revoked_at: r.get(5),
            })
            .collect())
    }

    /// The person a token belongs to, if the token is valid now: known,
    /// not revoked, not expired, and its owner not disabled.
    pub async fn authenticate(&self, token: &str) -> anyhow::Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT t.id, t.expires_at, t.revoked_at, u.email, u.role, u.organisation, u.disabled FROM api_tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(hash(token.trim()))
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let expired = r
            .get::<Option<String>, _>(1)
            .and_then(|e| e.parse::<DateTime<Utc>>().ok())
            .is_some_and(|e| e <= Utc::now());
        if expired || r.get::<Option<String>, _>(2).is_some() || r.get::<i64, _>(6) != 0 {
            return Ok(None);
        }
        Ok(Some(Principal {
            token_id: r.get(0),
            email: r.get(3),
            role: Role::parse(&r.get::<String, _>(4))?,
            organisation: r.get(5),
        }))
    }
}
