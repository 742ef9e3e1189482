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
    /// When it was last used, to within a minute; none when it has not been
    /// used since this was first kept.
    pub last_used_at: Option<String>,
}

/// A person as administrators see them: the account, and whether they
/// can sign in to the website.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub user: User,
    /// Whether a password is set (the hash itself never leaves the store).
    pub has_password: bool,
    /// Locked after repeated failed sign-ins, until then.
    pub locked_until: Option<DateTime<Utc>>,
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

/// The rules every change of role keeps: a publisher belongs to an
/// organisation, and an organisation given must exist.
async fn check_role(store: &Store, role: Role, organisation: Option<&str>) -> anyhow::Result<()> {
    if role == Role::Publisher && organisation.is_none() {
        anyhow::bail!("a publisher belongs to an organisation: give --org SLUG");
    }
    if let Some(org) = organisation
        && store.organisation(org).await?.is_none()
    {
        anyhow::bail!("there is no organisation `{org}`");
    }
    Ok(())
}

const TOKEN_COLUMNS: &str = "t.id, u.email, t.name, t.created_at, t.expires_at, t.revoked_at, t.last_used_at";

fn token_from_row(r: &sqlx::any::AnyRow) -> TokenInfo {
    TokenInfo {
        id: r.get(0),
        email: r.get(1),
        name: r.get(2),
        created_at: r.get(3),
        expires_at: r.get(4),
        revoked_at: r.get(5),
        last_used_at: r.get(6),
    }
}

/// How often a token's last use is written down: a busy client does not
/// write on every request.
const LAST_USED_EVERY: chrono::Duration = chrono::Duration::minutes(1);

impl Store {
    /// Adds a person. Publishers belong to an organisation.
    pub async fn add_user(&self, email: &str, role: Role, organisation: Option<&str>) -> anyhow::Result<User> {
        self.add_user_by(email, role, organisation, "cli").await
    }

    /// Adds a person, with the changes log naming who did it.
    pub async fn add_user_by(
        &self,
        email: &str,
        role: Role,
        organisation: Option<&str>,
        actor: &str,
    ) -> anyhow::Result<User> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
            anyhow::bail!("`{email}` is not an email address");
        }
        check_role(self, role, organisation).await?;
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
        let mut log = ChangeLog::new(actor, &at);
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

    /// Everyone, by email, with whether they can sign in.
    pub async fn people(&self) -> anyhow::Result<Vec<Person>> {
        let rows = sqlx::query(
            "SELECT id, email, role, organisation, disabled, created_at, \
             CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END, locked_until FROM users ORDER BY email",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Person {
                    user: User {
                        id: r.get(0),
                        email: r.get(1),
                        role: Role::parse(&r.get::<String, _>(2))?,
                        organisation: r.get(3),
                        disabled: r.get::<i64, _>(4) != 0,
                        created_at: r.get(5),
                    },
                    has_password: r.get::<i64, _>(6) != 0,
                    locked_until: r
                        .get::<Option<String>, _>(7)
                        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                        .filter(|t| *t > Utc::now()),
                })
            })
            .collect()
    }

    /// One person, by id.
    pub async fn person(&self, id: &str) -> anyhow::Result<Option<Person>> {
        Ok(self.people().await?.into_iter().find(|p| p.user.id == id))
    }

    /// Disables a person: their tokens stop working at once.
    pub async fn disable_user(&self, email: &str) -> anyhow::Result<()> {
        let email = email.trim().to_lowercase();
        let user = self.user(&email).await?;
        self.set_disabled(&user.id, true, "cli").await?;
        Ok(())
    }

    /// Disables a person (their tokens stop working and their sessions end
    /// at once) or enables them again.
    pub async fn set_disabled(&self, id: &str, disabled: bool, actor: &str) -> anyhow::Result<User> {
        let user = self.person(id).await?.with_context(|| format!("there is no user with id `{id}`"))?.user;
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
            .bind(&user.id)
            .bind(i64::from(disabled))
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(&user.id).execute(&mut *tx).await?;
        }
        let at = now().to_rfc3339();
        let after = User { disabled, ..user.clone() };
        let (before_doc, after_doc) = (serde_json::to_value(&user)?, serde_json::to_value(&after)?);
        ChangeLog::new(actor, &at)
            .append(&mut tx, "user", &user.id, Action::Update, Some(&before_doc), Some(&after_doc))
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Changes a person's role and organisation, by the rules `add_user`
    /// keeps. Their sessions and tokens carry the new role at once.
    pub async fn update_user(
        &self,
        id: &str,
        role: Role,
        organisation: Option<&str>,
        actor: &str,
    ) -> anyhow::Result<User> {
        let user = self.person(id).await?.with_context(|| format!("there is no user with id `{id}`"))?.user;
        check_role(self, role, organisation).await?;
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET role = $2, organisation = $3 WHERE id = $1")
            .bind(&user.id)
            .bind(role.as_str())
            .bind(organisation)
            .execute(&mut *tx)
            .await?;
        let at = now().to_rfc3339();
        let after = User { role, organisation: organisation.map(str::to_owned), ..user.clone() };
        let (before_doc, after_doc) = (serde_json::to_value(&user)?, serde_json::to_value(&after)?);
        ChangeLog::new(actor, &at)
            .append(&mut tx, "user", &user.id, Action::Update, Some(&before_doc), Some(&after_doc))
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Makes a token for a person and returns (its id, the token). The
    /// token itself is not kept.
    pub async fn create_token(
        &self,
        email: &str,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> anyhow::Result<(String, String)> {
        self.create_token_by(email, name, expires_in_days, "cli").await
    }

    /// Makes a token, with the changes log naming who did it.
    pub async fn create_token_by(
        &self,
        email: &str,
        name: &str,
        expires_in_days: Option<u32>,
        actor: &str,
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
        ChangeLog::new(actor, &at).append(&mut tx, "token", &id, Action::Create, None, Some(&after)).await?;
        tx.commit().await?;
        Ok((id, token))
    }

    pub async fn revoke_token(&self, id: &str) -> anyhow::Result<()> {
        self.revoke_token_by(id, "cli").await
    }

    /// Revokes a token, with the changes log naming who did it.
    pub async fn revoke_token_by(&self, id: &str, actor: &str) -> anyhow::Result<()> {
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
        ChangeLog::new(actor, &at).append(&mut tx, "token", id, Action::Delete, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn tokens(&self) -> anyhow::Result<Vec<TokenInfo>> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at");
        Ok(sqlx::query(&sql).fetch_all(&self.pool).await?.iter().map(token_from_row).collect())
    }

    /// One person's tokens, newest first (never the tokens themselves).
    pub async fn tokens_of(&self, email: &str) -> anyhow::Result<Vec<TokenInfo>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE u.email = $1 ORDER BY t.created_at DESC, t.id"
        );
        let rows = sqlx::query(&sql).bind(email.trim().to_lowercase()).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(token_from_row).collect())
    }

    /// One token's details, by id.
    pub async fn token(&self, id: &str) -> anyhow::Result<Option<TokenInfo>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1");
        Ok(sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(token_from_row))
    }

    /// The person a token belongs to, if the token is valid now: known,
    /// not revoked, not expired, and its owner not disabled.
    pub async fn authenticate(&self, token: &str) -> anyhow::Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT t.id, t.expires_at, t.revoked_at, u.email, u.role, u.organisation, u.disabled, t.last_used_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
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
        let last_used = r.get::<Option<String>, _>(7).and_then(|t| t.parse::<DateTime<Utc>>().ok());
        if last_used.is_none_or(|t| Utc::now() - t >= LAST_USED_EVERY) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(r.get::<String, _>(0))
                .bind(now().to_rfc3339())
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Principal {
            token_id: r.get(0),
            email: r.get(3),
            role: Role::parse(&r.get::<String, _>(4))?,
            organisation: r.get(5),
        }))
    }
}
