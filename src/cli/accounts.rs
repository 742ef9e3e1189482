use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::StoreArgs;
use crate::store::Role;

#[derive(Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a person with a role; publishers belong to an organisation.
    Add {
        email: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The organisation's slug (required for publishers).
        #[arg(long = "org")]
        org: Option<String>,
        /// Read a password for signing in to the website from standard
        /// input (one line); without it the person uses API tokens only.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a person's password, read from standard input (one line); their
    /// other sessions end.
    Password {
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List people and their roles.
    List,
    /// Disable a person; their tokens stop working at once.
    Disable { email: String },
}

#[derive(Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make an API token for a person; it is printed once, alone on the last line.
    Create {
        email: String,
        #[arg(long, default_value = "api")]
        name: String,
        /// Days until the token expires (never, when not given).
        #[arg(long)]
        expires: Option<u32>,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
    /// List tokens (never the tokens themselves).
    List,
}

pub async fn user(args: UserArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    match args.command {
        UserCommand::Add { email, role, org, password_stdin } => {
            // The password is checked before anything is written.
            let hash = if password_stdin { Some(read_password(&email)?) } else { None };
            let user = store.add_user(&email, role, org.as_deref()).await?;
            if let Some(hash) = hash {
                store.set_password(&user.email, &hash, "cli").await?;
            }
            println!(
                "added {} as {}{}",
                user.email,
                role.as_str(),
                user.organisation.map(|o| format!(" of {o}")).unwrap_or_default()
            );
        }
        UserCommand::List => {
            for u in store.users().await? {
                let state = if u.disabled { " (disabled)" } else { "" };
                println!("{}\t{}\t{}{state}", u.email, u.role.as_str(), u.organisation.unwrap_or_default());
            }
        }
        UserCommand::Password { email, .. } => {
            let hash = read_password(&email)?;
            store.set_password(&email, &hash, "cli").await?;
            println!("password set for {}", email.trim().to_lowercase());
        }
        UserCommand::Disable { email } => {
            store.disable_user(&email).await?;
            println!("disabled {email}");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let store = args.store.open().await?;
    match args.command {
        TokenCommand::Create { email, name, expires } => {
            let (id, token) = store.create_token(&email, &name, expires).await?;
            println!("token {id} for {email}; it is shown only now, keep it safe:");
            println!("{token}");
        }
        TokenCommand::Revoke { id } => {
            store.revoke_token(&id).await?;
            println!("revoked {id}");
        }
        TokenCommand::List => {
            for t in store.tokens().await? {
                let state = match (&t.revoked_at, &t.expires_at) {
                    (Some(r), _) => format!("revoked {r}"),
                    (None, Some(e)) => format!("expires {e}"),
                    (None, None) => "does not expire".into(),
                };
                println!("{}\t{}\t{}\t{state}", t.id, t.email, t.name);
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// One line from standard input, checked against the password rules and
/// hashed; the password itself goes nowhere else.
fn read_password(email: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    if let Err(why) = crate::auth::password::check(password, email) {
        anyhow::bail!("{why}");
    }
    crate::auth::password::hash(password)
}
