//! Static assets, embedded in the binary and served under fingerprinted
//! names (`/assets/NAME-HASH.EXT`) with a year-long cache. The NHS.UK
//! frontend comes from npm (`web/package.json`, installed by `build.rs`);
//! its `@font-face` rules point at a third-party host, so they are taken
//! out and the design system's own fallback fonts apply.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const NHSUK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/web/node_modules/nhsuk-frontend/dist/nhsuk");

macro_rules! nhsuk_file {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/node_modules/nhsuk-frontend/dist/nhsuk/", $path))
    };
}

/// One asset: its fingerprinted name, content type and bytes.
pub struct Asset {
    pub url: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub struct Assets {
    by_name: HashMap<&'static str, Asset>,
    by_url: HashMap<String, &'static str>,
}

impl Assets {
    /// The address of an asset by its plain name, e.g. `site.css`.
    pub fn url(&self, name: &str) -> &str {
        self.by_name.get(name).map_or("/assets/missing", |a| a.url.as_str())
    }

    pub fn get(&self, name: &str) -> Option<&Asset> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &&'static str> {
        self.by_name.keys()
    }
}

fn fingerprint(name: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("/assets/{stem}-{hash}.{ext}"),
        None => format!("/assets/{name}-{hash}"),
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// The frontend's stylesheet without third-party fonts, its image
/// addresses pointed at ours.
fn nhsuk_css(images: &HashMap<&'static str, String>) -> String {
    let css = String::from_utf8_lossy(nhsuk_file!("nhsuk-frontend.min.css")).into_owned();
    let mut out = String::with_capacity(css.len());
    let mut rest = css.as_str();
    while let Some(start) = rest.find("@font-face{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    for (name, url) in images {
        out = out.replace(&format!("url(/assets/images/{name})"), &format!("url({url})"));
    }
    let cut = out.find("/*# sourceMappingURL").unwrap_or(out.len());
    out.truncate(cut);
    out
}

fn without_source_map(js: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(js);
    let cut = text.find("//# sourceMappingURL").unwrap_or(text.len());
    text[..cut].trim_end().as_bytes().to_vec()
}

pub static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let _ = NHSUK;
    let mut by_name: HashMap<&'static str, Asset> = HashMap::new();
    let mut add = |name: &'static str, bytes: Vec<u8>| {
        let url = fingerprint(name, &bytes);
        by_name.insert(name, Asset { url, content_type: content_type(name), bytes });
    };
    let images: [(&'static str, &'static [u8]); 9] = [
        ("favicon.ico", nhsuk_file!("assets/images/favicon.ico")),
        ("favicon.svg", nhsuk_file!("assets/images/favicon.svg")),
        ("nhsuk-icon-180.png", nhsuk_file!("assets/images/nhsuk-icon-180.png")),
        ("nhsuk-icon-192.png", nhsuk_file!("assets/images/nhsuk-icon-192.png")),
        ("nhsuk-icon-512.png", nhsuk_file!("assets/images/nhsuk-icon-512.png")),
        ("nhsuk-icon-arrow-down.svg", nhsuk_file!("assets/images/nhsuk-icon-arrow-down.svg")),
        ("nhsuk-icon-arrow-up.svg", nhsuk_file!("assets/images/nhsuk-icon-arrow-up.svg")),
        ("nhsuk-icon-arrow-up-down.svg", nhsuk_file!("assets/images/nhsuk-icon-arrow-up-down.svg")),
        ("nhsuk-icon-cross.svg", nhsuk_file!("assets/images/nhsuk-icon-cross.svg")),
    ];
    let mut image_urls = HashMap::new();
    for (name, bytes) in images {
        image_urls.insert(name, fingerprint(name, bytes));
        add(name, bytes.to_vec());
    }
    add("nhsuk-frontend.css", nhsuk_css(&image_urls).into_bytes());
    let frontend_js = without_source_map(nhsuk_file!("nhsuk-frontend.min.js"));
    let frontend_url = fingerprint("nhsuk-frontend.js", &frontend_js);
    add("nhsuk-frontend.js", frontend_js);
    add("site.css", include_bytes!("../../web/static/site.css").to_vec());
    // The site's script imports the frontend's module by its fingerprinted
    // name, so a new frontend version changes the site script's name too.
    let site_js = include_str!("../../web/static/site.js").replace("./nhsuk-frontend.js", &frontend_url);
    add("site.js", site_js.into_bytes());
    let by_url = by_name.iter().map(|(name, a)| (a.url.clone(), *name)).collect();
    Assets { by_name, by_url }
});

/// `GET /assets/{file}`: an asset by its fingerprinted name, cached for a
/// year; any other name is not found.
pub async fn serve(Path(file): Path<String>) -> Response {
    let url = format!("/assets/{file}");
    let Some(asset) = ASSETS.by_url.get(&url).and_then(|name| ASSETS.by_name.get(name)) else {
        return (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "No such asset.").into_response();
    };
    Response::builder()
        .header(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type))
        .header(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"))
        .body(Body::from(asset.bytes.clone()))
        .expect("valid response")
}
