//! Passwords and sign-in lock-out, sessions, revisions in review and the
//! audit log.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::accounts::{Principal, Role};
use super::write::{Action, ChangeLog, WriteError};
use super::{Store, now};

/// Failed sign-ins in a row that lock an account, and for how long.
pub const LOCK_AFTER: i64 = 5;
pub const LOCK_FOR: Duration = Duration::minutes(15);
/// Sessions end after this long unused, and this long after sign-in.
pub const SESSION_IDLE: Duration = Duration::minutes(30);
pub const SESSION_ABSOLUTE: Duration = Duration::hours(12);

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Signed in: the new session's cookie value and CSRF token.
    Ok { session: String, csrf: String, email: String },
    /// Wrong email or password (the two are not told apart).
    Wrong,
    /// Too many failures: locked until then.
    Locked(DateTime<Utc>),
}

/// A signed-in person, by session.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevisionState {
    Draft,
    Submitted,
    ChangesRequested,
    Published,
    Withdrawn,
}

impl RevisionState {
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionState::Draft => "draft",
            RevisionState::Submitted => "submitted",
            RevisionState::ChangesRequested => "changes-requested",
            RevisionState::Published => "published",
            RevisionState::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RevisionState::Draft => "Draft",
            RevisionState::Submitted => "Submitted for review",
            RevisionState::ChangesRequested => "Changes requested",
            RevisionState::Published => "Published",
            RevisionState::Withdrawn => "Withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<RevisionState> {
        [
            RevisionState::Draft,
            RevisionState::Submitted,
            RevisionState::ChangesRequested,
            RevisionState::Published,
            RevisionState::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Still being worked on: a new save updates it rather than starting
    /// another.
    pub fn is_open(self) -> bool {
        matches!(self, RevisionState::Draft | RevisionState::ChangesRequested | RevisionState::Submitted)
    }
}

/// A draft or submission of an entry, kept beside the published entry.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub id: String,
    pub entry: String,
    pub number: i64,
    pub state: RevisionState,
    pub document: Value,
    pub organisation: String,
    pub author: String,
    pub comment: Option<String>,
    pub reviewer: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The changes log position of the published entry this revision
    /// started from; none for a new entry.
    pub base_seq: Option<i64>,
}

fn revision_from_row(r: &sqlx::any::AnyRow) -> anyhow::Result<Revision> {
    Ok(Revision {
        id: r.get(0),
        entry: r.get(1),
        number: r.get(2),
        state: RevisionState::parse(&r.get::<String, _>(3)).context("revision state in the store")?,
        document: serde_json::from_str(&r.get::<String, _>(4)).context("revision document")?,
        organisation: r.get(5),
        author: r.get(6),
        comment: r.get(7),
        reviewer: r.get(8),
        created_at: r.get(9),
        updated_at: r.get(10),
        base_seq: r.get(11),
    })
}

const REVISION_COLUMNS: &str = "id, entry_slug, number, state, document, organisation, author, comment, reviewer, \
     created_at, updated_at, base_seq";

/// The kinds of event in the audit log, with what each means.
pub const AUDIT_EVENTS: [(&str, &str); 20] = [
    ("change", "A change to the catalogue, a person or a token"),
    ("sign-in", "Signed in"),
    ("sign-in-failed", "A wrong email or password"),
    ("sign-in-refused", "Sign-in refused: locked account or too many attempts"),
    ("sign-out", "Signed out"),
    ("token-used", "An API token used"),
    ("token-refused", "An unknown, expired or revoked API token"),
    ("permission-refused", "Something not allowed was refused"),
    ("import", "A spreadsheet upload confirmed"),
    ("password-changed", "A person changed their own password"),
    ("password-change-failed", "A password change refused: the current password was wrong"),
    ("token-created", "An API token made on the website (never the token itself)"),
    ("token-revoked", "An API token revoked on the website"),
    ("person-added", "An administrator added a person"),
    ("person-changed", "An administrator changed a person's role or organisation"),
    ("person-disabled", "An administrator disabled a person"),
    ("person-enabled", "An administrator enabled a person again"),
    ("password-link-created", "An administrator made a one-time link to set a password"),
    ("password-link-used", "A person set their password with a one-time link"),
    ("password-link-refused", "An expired, used or unknown link to set a password"),
];

/// How long a link to set a password works.
pub const PASSWORD_LINK_VALID: Duration = Duration::hours(24);

/// What a link to set a password is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordLink {
    /// It works, for this person.
    Valid { email: String },
    /// Too old.
    Expired { email: String },
    /// It has been used already.
    Used { email: String },
    /// Its person is disabled.
    Disabled { email: String },
    /// No such link (mistyped, or replaced by a newer one).
    Unknown,
}

/// What using a link to set a password came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordLinkUse {
    /// The password is set, every other session of theirs ended, and they
    /// are signed in: the new session's cookie value.
    Done { email: String, session: String },
    /// Refused, and why.
    Refused(PasswordLink),
}

/// Starts a session for a person inside a write: its cookie value and
/// CSRF token.
async fn start_session(tx: &mut sqlx::Transaction<'_, sqlx::Any>, user_id: &str) -> anyhow::Result<(String, String)> {
    let session = random_token();
    let csrf = random_token();
    let at = now().to_rfc3339();
    sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(sha256(&session))
        .bind(user_id)
        .bind(&csrf)
        .bind(&at)
        .execute(&mut **tx)
        .await?;
    Ok((session, csrf))
}

/// One line of the audit log: an event recorded in the audit table
/// (`source` "audit": sign-ins, token use, refusals, uploads) or a change
/// from the changes log (`source` "change", event "change").
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub source: &'static str,
    /// The position in its source.
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub event: String,
    pub outcome: String,
    pub detail: String,
    pub address: Option<String>,
    /// How many times it happened: refusals repeated within a minute are
    /// counted on one row.
    pub repeats: i64,
}

impl Store {
    /// Sets a person's password (already checked against the rules).
    pub async fn set_password(&self, email: &str, password_hash: &str, actor: &str) -> anyhow::Result<()> {
        self.change_password(email, password_hash, actor, None).await
    }

    /// Sets a person's password (already checked against the rules); every
    /// session of theirs ends but the one with the cookie `keep`, if given.
    pub async fn change_password(
        &self,
        email: &str,
        password_hash: &str,
        actor: &str,
        keep: Option<&str>,
    ) -> anyhow::Result<()> {
        let email = email.trim().to_lowercase();
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT id FROM users WHERE email = $1").bind(&email).fetch_optional(&mut *tx).await?;
        let id: String = row.with_context(|| format!("there is no user `{email}`"))?.get(0);
        sqlx::query("UPDATE users SET password_hash = $2, failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
            .bind(&id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        // Other sessions end when the password changes.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(&id)
            .bind(keep.map(|k| sha256(k.trim())).unwrap_or_default())
            .execute(&mut *tx)
            .await?;
        let at = now().to_rfc3339();
        ChangeLog::new(actor, &at)
            .append(&mut tx, "user", &id, Action::Update, None, Some(&json!({"email": email, "password": "changed"})))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `verify` accepts a person's stored password hash (it is
    /// given an empty text when they have none). Changes nothing: for a
    /// signed-in person confirming their current password.
    pub async fn check_password(&self, email: &str, verify: impl Fn(&str) -> bool) -> anyhow::Result<bool> {
        let row = sqlx::query("SELECT password_hash FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        match row.and_then(|r| r.get::<Option<String>, _>(0)) {
            Some(stored) => Ok(verify(&stored)),
            None => {
                verify("");
                Ok(false)
            }
        }
    }

    /// Checks an email and password; counts failures and locks the account
    /// after `LOCK_AFTER` in a row. `verify` is given the stored hash.
    pub async fn sign_in(&self, email: &str, verify: impl Fn(&str) -> bool) -> anyhow::Result<SignIn> {
        let email = email.trim().to_lowercase();
        let row = sqlx::query(
            "SELECT id, password_hash, failed_sign_ins, locked_until, disabled FROM users WHERE email = $1",
        )
        .bind(&email)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            verify("");
            return Ok(SignIn::Wrong);
        };
        let id: String = row.get(0);
        let stored: Option<String> = row.get(1);
        let failures: i64 = row.get(2);
        let locked_until = row.get::<Option<String>, _>(3).and_then(|t| t.parse::<DateTime<Utc>>().ok());
        if let Some(until) = locked_until.filter(|u| *u > Utc::now()) {
            return Ok(SignIn::Locked(until));
        }
        let good = match &stored {
            Some(h) => verify(h),
            None => {
                verify("");
                false
            }
        };
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        if !good || row.get::<i64, _>(4) != 0 {
            let failures = if locked_until.is_some() { 1 } else { failures + 1 };
            let lock = (failures >= LOCK_AFTER).then(|| (Utc::now() + LOCK_FOR).to_rfc3339());
            sqlx::query("UPDATE users SET failed_sign_ins = $2, locked_until = $3 WHERE id = $1")
                .bind(&id)
                .bind(if lock.is_some() { 0 } else { failures })
                .bind(&lock)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(match lock {
                Some(l) => SignIn::Locked(l.parse().unwrap_or_else(|_| Utc::now())),
                None => SignIn::Wrong,
            });
        }
        sqlx::query("UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        let (session, csrf) = start_session(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(SignIn::Ok { session, csrf, email })
    }

    /// The person a session cookie belongs to, if the session is live;
    /// marks it used.
    pub async fn session(&self, cookie: &str) -> anyhow::Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT s.id_hash, s.csrf, s.created_at, s.last_seen_at, u.email, u.role, u.organisation, u.disabled \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        )
        .bind(sha256(cookie.trim()))
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let time = |i: usize| r.get::<String, _>(i).parse::<DateTime<Utc>>().ok();
        let now_t = Utc::now();
        let live = time(2).is_some_and(|c| now_t - c < SESSION_ABSOLUTE)
            && time(3).is_some_and(|l| now_t - l < SESSION_IDLE)
            && r.get::<i64, _>(7) == 0;
        let id_hash: String = r.get(0);
        if !live {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(&id_hash).execute(&self.pool).await?;
            return Ok(None);
        }
        // Marking use at most once a minute keeps reads from writing.
        if time(3).is_some_and(|l| now_t - l > Duration::minutes(1)) {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
                .bind(&id_hash)
                .bind(now().to_rfc3339())
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Session {
            principal: Principal {
                email: r.get(4),
                role: Role::parse(&r.get::<String, _>(5))?,
                organisation: r.get(6),
                token_id: format!("session:{}", &id_hash[..12]),
            },
            csrf: r.get(1),
        }))
    }

    pub async fn end_session(&self, cookie: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(sha256(cookie.trim())).execute(&self.pool).await?;
        Ok(())
    }

    /// Makes a one-time link for a person to set a password, working for
    /// `valid_for` (`PASSWORD_LINK_VALID` on the website), and returns its
    /// token. Only the token's hash is kept; the person's earlier unused
    /// links stop working.
    pub async fn create_password_link(&self, email: &str, actor: &str, valid_for: Duration) -> anyhow::Result<String> {
        let email = email.trim().to_lowercase();
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT id, disabled FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?
            .with_context(|| format!("there is no user `{email}`"))?;
        if row.get::<i64, _>(1) != 0 {
            anyhow::bail!("user `{email}` is disabled");
        }
        let user_id: String = row.get(0);
        sqlx::query("DELETE FROM password_links WHERE user_id = $1 AND used_at IS NULL")
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        let token = random_token();
        let created = now();
        sqlx::query(
            "INSERT INTO password_links (id, user_id, token_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&user_id)
        .bind(sha256(&token))
        .bind(actor)
        .bind(created.to_rfc3339())
        .bind((created + valid_for).to_rfc3339())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// What the link with this token is now.
    pub async fn password_link(&self, token: &str) -> anyhow::Result<PasswordLink> {
        let mut conn = self.pool.acquire().await?;
        Ok(link_state(&mut conn, token).await?.0)
    }

    /// Sets a password (already checked against the rules and hashed) with
    /// a link, if it still works: the link is used up, every session of the
    /// person ends, and a new one starts.
    pub async fn use_password_link(&self, token: &str, password_hash: &str) -> anyhow::Result<PasswordLinkUse> {
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        let (state, ids) = link_state(&mut tx, token).await?;
        let (PasswordLink::Valid { email }, Some((link_id, user_id))) = (&state, ids) else {
            return Ok(PasswordLinkUse::Refused(state));
        };
        let at = now().to_rfc3339();
        let used = sqlx::query("UPDATE password_links SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
            .bind(&link_id)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        if used.rows_affected() != 1 {
            return Ok(PasswordLinkUse::Refused(PasswordLink::Used { email: email.clone() }));
        }
        sqlx::query("UPDATE users SET password_hash = $2, failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
            .bind(&user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(&user_id).execute(&mut *tx).await?;
        let (session, _) = start_session(&mut tx, &user_id).await?;
        let change = json!({"email": email, "password": "set with a one-time link"});
        ChangeLog::new(email, &at).append(&mut tx, "user", &user_id, Action::Update, None, Some(&change)).await?;
        tx.commit().await?;
        Ok(PasswordLinkUse::Done { email: email.clone(), session })
    }

    /// Appends to the audit log. It never holds secrets: callers pass
    /// what happened, not the credentials.
    pub async fn audit(
        &self,
        actor: &str,
        event: &str,
        outcome: &str,
        detail: &str,
        address: Option<&str>,
    ) -> anyhow::Result<()> {
        let at = now();
        if outcome == "refused" {
            // Refusals of one kind and reason from one address (or, without
            // one, of one signed-in person's request, or of anyone anonymous)
            // within a minute of the row's first are counted on that row:
            // the text an anonymous caller sends (an email typed, a path)
            // cannot make a row of its own each time.
            let counted = sqlx::query(
                "UPDATE audit SET repeats = repeats + 1 WHERE seq = (SELECT MAX(seq) FROM audit WHERE event = $1 \
                 AND outcome = 'refused' AND at >= $5 AND CASE WHEN $4 <> '' THEN address = $4 AND detail = $3 \
                 WHEN $2 = '-' THEN address IS NULL AND actor = '-' \
                 ELSE address IS NULL AND actor = $2 AND detail = $3 END)",
            )
            .bind(event)
            .bind(actor)
            .bind(detail)
            .bind(address.unwrap_or(""))
            .bind((at - Duration::minutes(1)).to_rfc3339())
            .execute(&self.pool)
            .await?;
            if counted.rows_affected() > 0 {
                return Ok(());
            }
        }
        sqlx::query("INSERT INTO audit (at, actor, event, outcome, detail, address) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(at.to_rfc3339())
            .bind(actor)
            .bind(event)
            .bind(outcome)
            .bind(detail)
            .bind(address)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The audit log, newest first, optionally for one event or actor:
    /// the audit table's events and every change in the changes log (event
    /// `change`), merged by time.
    pub async fn audit_events(
        &self,
        event: Option<&str>,
        actor: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<AuditEvent>> {
        let event = event.unwrap_or("");
        let actor = actor.unwrap_or("");
        let rows = sqlx::query(
            "SELECT seq, at, actor, event, outcome, detail, address, repeats FROM audit \
             WHERE ($1 = '' OR event = $1) AND ($2 = '' OR actor = $2) ORDER BY seq DESC LIMIT $3",
        )
        .bind(event)
        .bind(actor)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut events: Vec<AuditEvent> = rows
            .iter()
            .map(|r| AuditEvent {
                source: "audit",
                seq: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                event: r.get(3),
                outcome: r.get(4),
                detail: r.get(5),
                address: r.get(6),
                repeats: r.get(7),
            })
            .collect();
        if event.is_empty() || event == "change" {
            let rows = sqlx::query(
                "SELECT seq, entity, entity_id, action, actor, at, before_doc, after_doc FROM changes \
                 WHERE ($1 = '' OR actor = $1) ORDER BY seq DESC LIMIT $2",
            )
            .bind(actor)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                let c = super::changes::change_from_row(row)?;
                events.push(AuditEvent {
                    source: "change",
                    seq: c.seq,
                    detail: change_detail(&c),
                    at: c.at,
                    actor: c.actor,
                    event: "change".into(),
                    outcome: c.action,
                    address: None,
                    repeats: 1,
                });
            }
            events.sort_by(|a, b| b.at.cmp(&a.at).then(b.seq.cmp(&a.seq)));
            events.truncate(limit.max(0) as usize);
        }
        Ok(events)
    }

    /// Saves a draft of an entry (its JSON document, already valid): the
    /// author's open revision of that entry is updated, else a new one
    /// starts. A draft sent back with changes requested returns to draft.
    /// Each save is logged with the document saved.
    pub async fn save_draft(
        &self,
        slug: &str,
        organisation: &str,
        document: &Value,
        author: &str,
    ) -> Result<Revision, WriteError> {
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        let revision = draft_in(&mut tx, slug, organisation, document, author, &now().to_rfc3339()).await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Saves drafts of several entries, (slug, organisation, document)
    /// each, all of them or none.
    pub async fn save_drafts(
        &self,
        drafts: &[(String, String, Value)],
        author: &str,
    ) -> Result<Vec<Revision>, WriteError> {
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        let at = now().to_rfc3339();
        let mut saved = Vec::with_capacity(drafts.len());
        for (slug, organisation, document) in drafts {
            saved.push(draft_in(&mut tx, slug, organisation, document, author, &at).await?);
        }
        tx.commit().await?;
        Ok(saved)
    }

    /// The organisation whose revision of each entry is open (a draft, one
    /// submitted, or one sent back for changes), by entry slug.
    pub async fn open_revision_organisations(&self) -> anyhow::Result<std::collections::HashMap<String, String>> {
        let rows = sqlx::query(
            "SELECT entry_slug, organisation FROM revisions WHERE state IN ('draft', 'changes-requested', 'submitted')",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn revision(&self, id: &str) -> anyhow::Result<Option<Revision>> {
        let row = sqlx::query(&format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(revision_from_row).transpose()
    }

    /// Revisions, newest first: by state, entry or organisation.
    pub async fn revisions(
        &self,
        state: Option<RevisionState>,
        entry: Option<&str>,
        organisation: Option<&str>,
    ) -> anyhow::Result<Vec<Revision>> {
        let rows = sqlx::query(&format!(
            "SELECT {REVISION_COLUMNS} FROM revisions WHERE ($1 = '' OR state = $1) AND ($2 = '' OR entry_slug = $2) \
             AND ($3 = '' OR organisation = $3) ORDER BY updated_at DESC, number DESC"
        ))
        .bind(state.map_or("", RevisionState::as_str))
        .bind(entry.unwrap_or(""))
        .bind(organisation.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(revision_from_row).collect()
    }

    /// Moves a revision from one of `from` to `to`, with an optional
    /// comment (an editor's request for changes); refused when it is in
    /// another state (someone else acted first).
    pub async fn move_revision(
        &self,
        id: &str,
        from: &[RevisionState],
        to: RevisionState,
        actor: &str,
        comment: Option<&str>,
    ) -> anyhow::Result<Result<Revision, RevisionState>> {
        let _guard = self.write_lock.lock().await;
        let mut tx = self.begin_write().await?;
        let Some(current) = fetch_revision(&mut tx, id).await? else { anyhow::bail!("there is no revision `{id}`") };
        if !from.contains(&current.state) {
            return Ok(Err(current.state));
        }
        let at = now().to_rfc3339();
        let reviewer = matches!(to, RevisionState::ChangesRequested | RevisionState::Published).then_some(actor);
        sqlx::query("UPDATE revisions SET state = $2, comment = COALESCE($3, comment), reviewer = COALESCE($4, reviewer), updated_at = $5 WHERE id = $1")
            .bind(id)
            .bind(to.as_str())
            .bind(comment)
            .bind(reviewer)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        ChangeLog::new(actor, &at)
            .append(
                &mut tx,
                "revision",
                id,
                Action::Update,
                Some(&json!({"state": current.state.as_str()})),
                Some(&json!({"entry": current.entry, "state": to.as_str(), "comment": comment})),
            )
            .await?;
        let revision = fetch_revision(&mut tx, id).await?.context("the revision just moved")?;
        tx.commit().await?;
        Ok(Ok(revision))
    }
}

/// A change in words: what was changed and which of its fields, never
/// their values (a person's or token's record holds nothing to show).
/// A link's state, and (link id, user id) when it is known.
async fn link_state(
    conn: &mut sqlx::AnyConnection,
    token: &str,
) -> anyhow::Result<(PasswordLink, Option<(String, String)>)> {
    let row = sqlx::query(
        "SELECT l.id, l.user_id, l.expires_at, l.used_at, u.email, u.disabled FROM password_links l \
         JOIN users u ON u.id = l.user_id WHERE l.token_hash = $1",
    )
    .bind(sha256(token.trim()))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok((PasswordLink::Unknown, None)) };
    let email: String = r.get(4);
    let expired = r.get::<String, _>(2).parse::<DateTime<Utc>>().map_or(true, |e| e <= Utc::now());
    let state = if r.get::<Option<String>, _>(3).is_some() {
        PasswordLink::Used { email }
    } else if expired {
        PasswordLink::Expired { email }
    } else if r.get::<i64, _>(5) != 0 {
        PasswordLink::Disabled { email }
    } else {
        PasswordLink::Valid { email }
    };
    Ok((state, Some((r.get(0), r.get(1)))))
}

fn change_detail(c: &super::Change) -> String {
    let doc = c.after.as_ref().or(c.before.as_ref());
    let name = doc
        .and_then(|d| ["slug", "email", "entry", "name"].iter().find_map(|k| d.get(*k).and_then(Value::as_str)))
        .unwrap_or(&c.entity_id);
    let mut detail = format!("{} {name}", c.entity);
    if let (Some(Value::Object(before)), Some(Value::Object(after))) = (&c.before, &c.after) {
        let fields: Vec<&str> = after
            .iter()
            .filter(|(k, v)| {
                !matches!(k.as_str(), "updated_at" | "created_at" | "document") && before.get(*k) != Some(v)
            })
            .map(|(k, _)| k.as_str())
            .chain(before.keys().filter(|k| !after.contains_key(*k)).map(String::as_str))
            .collect();
        if !fields.is_empty() {
            detail.push_str(": ");
            detail.push_str(&fields.join(", "));
        }
    }
    if c.entity == "revision"
        && let Some(state) = c.after.as_ref().and_then(|a| a.get("state")).and_then(Value::as_str)
    {
        detail.push_str(&format!(" (now {state})"));
    }
    detail
}

/// One draft saved inside a write transaction (see `Store::save_draft`).
async fn draft_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    slug: &str,
    organisation: &str,
    document: &Value,
    author: &str,
    at: &str,
) -> Result<Revision, WriteError> {
    let open = sqlx::query(&format!(
        "SELECT {REVISION_COLUMNS} FROM revisions WHERE entry_slug = $1 AND state IN ('draft', 'changes-requested', 'submitted') \
         ORDER BY number DESC LIMIT 1"
    ))
    .bind(slug)
    .fetch_optional(&mut **tx)
    .await?;
    let (id, before) = match open {
        // A draft of an entry belongs to its organisation: another
        // organisation's write to the name neither takes it over nor learns
        // anything about it.
        Some(row) if row.get::<String, _>(5) != organisation => {
            return Err(WriteError::NameTaken(slug.to_owned()));
        }
        Some(row) => {
            let id: String = row.get(0);
            let state: String = row.get(3);
            sqlx::query(
                "UPDATE revisions SET document = $2, state = 'draft', author = $3, organisation = $4, updated_at = $5 WHERE id = $1",
            )
            .bind(&id)
            .bind(document.to_string())
            .bind(author)
            .bind(organisation)
            .bind(at)
            .execute(&mut **tx)
            .await?;
            (id, Some(json!({"state": state})))
        }
        None => {
            let number: i64 = sqlx::query("SELECT COALESCE(MAX(number), 0) + 1 FROM revisions WHERE entry_slug = $1")
                .bind(slug)
                .fetch_one(&mut **tx)
                .await?
                .get(0);
            let id = uuid::Uuid::new_v4().to_string();
            // The published entry's latest change, if it is published.
            let base_seq: Option<i64> = sqlx::query(
                "SELECT MAX(c.seq) FROM changes c JOIN entries e ON c.entity = 'entry' AND c.entity_id = e.id \
                 WHERE e.slug = $1",
            )
            .bind(slug)
            .fetch_one(&mut **tx)
            .await?
            .get(0);
            sqlx::query(
                "INSERT INTO revisions (id, entry_slug, number, state, document, organisation, author, created_at, updated_at, base_seq) \
                 VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $7, $8)",
            )
            .bind(&id)
            .bind(slug)
            .bind(number)
            .bind(document.to_string())
            .bind(organisation)
            .bind(author)
            .bind(at)
            .bind(base_seq)
            .execute(&mut **tx)
            .await?;
            (id, None)
        }
    };
    let revision = fetch_revision(tx, &id).await?.context("the revision just saved")?;
    // The document goes into the log too, so the entry's history can show
    // what each save changed. The public changes feed leaves revisions out.
    let after = json!({"entry": slug, "state": "draft", "document": document});
    ChangeLog::new(author, at).append(tx, "revision", &id, Action::Update, before.as_ref(), Some(&after)).await?;
    Ok(revision)
}

async fn fetch_revision(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str) -> anyhow::Result<Option<Revision>> {
    let row = sqlx::query(&format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(revision_from_row).transpose()
}
