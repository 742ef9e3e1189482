//! The state every interface shares: the store, the search index, the
//! catalogue's reference data held in memory (vocabularies, organisations,
//! glossary, guides) and the site's settings. The JSON API, the CKAN API and
//! the website are peers over it; none of them owns it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::http::{HeaderMap, header};

use crate::auth::attempts::Attempts;
use crate::catalogue::{GlossaryTerm, Organisation, Page, PageKind, Vocabularies};
use crate::markdown::glossary::Linker;
use crate::search::Search;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub search: Arc<Search>,
    pub site: Arc<Site>,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: crate::client::TrustedProxies,
}

impl AppState {
    /// Builds the search index from the store.
    pub async fn new(store: Arc<Store>) -> anyhow::Result<AppState> {
        let search = Arc::new(Search::build(&store).await?);
        Ok(AppState {
            store,
            search,
            site: Arc::new(Site::default()),
            metrics: Arc::default(),
            trusted_proxies: Default::default(),
        })
    }

    /// The address the site is published at, for canonical links and the
    /// sitemap; without it pages use the request's Host.
    pub fn with_public_url(mut self, url: Option<String>) -> AppState {
        self.site = Arc::new(Site::new(url));
        self
    }

    /// The proxies whose `X-Forwarded-For` gives the client's address.
    pub fn with_trusted_proxies(mut self, proxies: Vec<crate::client::Cidr>) -> AppState {
        self.trusted_proxies = crate::client::TrustedProxies(Arc::new(proxies));
        self
    }

    /// Brings derived data up to date after a write by this process.
    pub async fn after_write(&self) -> anyhow::Result<()> {
        self.search.catch_up(&self.store).await?;
        Ok(())
    }
}

/// What most pages need besides the entry they show: vocabulary labels,
/// organisations, the glossary and the guides. Reloaded when the changes
/// log moves on.
pub struct SiteData {
    pub seq: i64,
    pub vocabularies: Vocabularies,
    pub organisations: Vec<Organisation>,
    organisation_index: HashMap<String, usize>,
    pub glossary: Vec<GlossaryTerm>,
    pub linker: Linker,
    pub guides: Vec<Page>,
    pub pages: Vec<Page>,
}

impl SiteData {
    pub fn organisation(&self, slug: &str) -> Option<&Organisation> {
        self.organisation_index.get(slug).map(|&i| &self.organisations[i])
    }

    pub fn organisation_name<'a>(&'a self, slug: &'a str) -> &'a str {
        self.organisation(slug).map_or(slug, |o| o.name.as_str())
    }
}

/// The content check's findings on the live catalogue, each with the
/// owner of the entry it names.
pub struct Attention {
    pub seq: i64,
    pub findings: Vec<(crate::catalogue::check::Finding, String)>,
}

/// The website's shared state: the cached site data and the address the
/// site is published at (for canonical links and the sitemap).
#[derive(Default)]
pub struct Site {
    data: RwLock<Option<Arc<SiteData>>>,
    /// The content check's findings, with each entry's owner, as of a change.
    attention: RwLock<Option<Arc<Attention>>>,
    pub public_url: Option<String>,
    pub attempts: Attempts,
}

impl Site {
    pub fn new(public_url: Option<String>) -> Site {
        Site {
            data: RwLock::new(None),
            attention: RwLock::new(None),
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            attempts: Attempts::default(),
        }
    }

    /// The site data as of change `seq` (the position in the changes log
    /// the search index has reached, held in memory), reloaded first when
    /// it is older. When the store cannot be read the data already held is
    /// used, so pages built from it keep working through a database outage.
    pub async fn data(&self, store: &Store, seq: i64) -> anyhow::Result<Arc<SiteData>> {
        let held = self.data.read().expect("site lock").clone();
        if let Some(data) = &held
            && data.seq >= seq
        {
            return Ok(data.clone());
        }
        match self.load(store, seq).await {
            Ok(data) => Ok(data),
            Err(e) => match held {
                Some(data) => {
                    tracing::warn!(error = %format!("{e:#}"), "site data could not be reloaded; using what was read before");
                    Ok(data)
                }
                None => Err(e),
            },
        }
    }

    /// What the content check finds in the live catalogue as of change
    /// `seq`, worked out again only when the catalogue has changed.
    pub async fn attention(&self, store: &Store, seq: i64) -> anyhow::Result<Arc<Attention>> {
        if let Some(held) = self.attention.read().expect("site lock").clone()
            && held.seq >= seq
        {
            return Ok(held);
        }
        let catalogue = store.catalogue().await?;
        let owners: HashMap<String, String> =
            catalogue.entries.iter().map(|e| (e.slug.to_string(), e.owner.to_string())).collect();
        let findings = crate::catalogue::check::check(&catalogue, chrono::Utc::now().date_naive())
            .into_iter()
            .map(|f| {
                let owner = owners.get(&f.entry).cloned().unwrap_or_default();
                (f, owner)
            })
            .collect();
        let fresh = Arc::new(Attention { seq, findings });
        *self.attention.write().expect("site lock") = Some(fresh.clone());
        Ok(fresh)
    }

    async fn load(&self, store: &Store, seq: i64) -> anyhow::Result<Arc<SiteData>> {
        let organisations = store.organisations().await?;
        let glossary = store.glossary().await?;
        let data = Arc::new(SiteData {
            seq,
            vocabularies: store.vocabularies().await?,
            organisation_index: organisations.iter().enumerate().map(|(i, o)| (o.slug.to_string(), i)).collect(),
            organisations,
            linker: Linker::new(&glossary),
            glossary,
            guides: store.pages(PageKind::Guide).await?,
            pages: store.pages(PageKind::Page).await?,
        });
        *self.data.write().expect("site lock") = Some(data.clone());
        Ok(data)
    }

    /// The site's address: as configured, or else from the request's Host.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
            .unwrap_or("localhost");
        let https = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) == Some("https");
        format!("{}://{host}", if https { "https" } else { "http" })
    }
}
