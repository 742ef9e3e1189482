use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use super::StoreArgs;
use crate::app::AppState;
use crate::{demo, server};

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "STANDARDS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Start with an empty catalogue instead of the demo one.
    #[arg(long)]
    pub empty: bool,
    /// The address the site is published at (for canonical links and the
    /// sitemap), e.g. https://standards.example.nhs.uk; by default the
    /// request's Host is used.
    #[arg(long, env = "STANDARDS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Work one request's search may do, in counted steps; a search that
    /// needs more is refused with an error saying so rather than keeping
    /// a worker busy. The default takes about half a second of one
    /// core (BENCHMARKS.md).
    #[arg(long, env = "STANDARDS_SEARCH_BUDGET", default_value_t = crate::search::budget::SEARCH_STEPS)]
    pub search_budget: u64,
    /// A proxy or load balancer in front of the directory, as an address or
    /// a network (`10.0.0.0/8`); repeat for more. Only requests from these
    /// have their `X-Forwarded-For` believed for the client's address
    /// (sign-in limits, the audit log, who may read /metrics).
    #[arg(long = "trusted-proxy", env = "STANDARDS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<crate::client::Cidr>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let store = args.store.open().await?;
    if !args.empty && store.entry_count().await? == 0 {
        let summary = demo::load(&store).await?;
        tracing::info!(
            entries = summary.entries_created,
            organisations = summary.organisations_created,
            "loaded the demo catalogue"
        );
    } else if !args.empty && demo::load_content_if_missing(&store).await? {
        tracing::info!("added the demo guides, site pages and glossary to a store that had none");
    }
    let store = Arc::new(store);
    let indexing = Instant::now();
    let state = AppState::new(store.clone())
        .await?
        .with_public_url(args.public_url.clone())
        .with_trusted_proxies(args.trusted_proxies.clone());
    state.search.set_budget(args.search_budget);
    let index_ms = indexing.elapsed().as_millis() as u64;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e} (choose another with --listen)", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        address = %addr,
        store = store.backend().name(),
        entries = state.search.len(),
        index_ms,
        startup_ms = started.elapsed().as_millis() as u64,
        "listening"
    );
    // Scripts and tests read the address from this line.
    println!("listening on http://{addr}");
    server::serve(listener, state, server::shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
