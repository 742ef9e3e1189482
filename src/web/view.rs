//! What every page shares: the layout data, small formatting helpers and
//! the error pages.

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};

use super::assets::ASSETS;
use crate::catalogue::Status;

pub const SITE_NAME: &str = "Health and Care Standards Directory";

const NAVIGATION: [(&str, &str, &str); 7] = [
    ("/search", "Search", "search"),
    ("/care-settings", "Care settings", "care-settings"),
    ("/topics", "Topics", "topics"),
    ("/organisations", "Organisations", "organisations"),
    ("/roadmap", "Roadmap", "roadmap"),
    ("/guides", "Guides", "guides"),
    ("/glossary", "Glossary", "glossary"),
];

/// The page furniture: title, description, canonical address, Open Graph
/// type and optional schema.org JSON-LD.
pub struct Layout {
    pub title: String,
    pub description: String,
    pub canonical: String,
    pub og_type: &'static str,
    pub json_ld: Option<String>,
    pub noindex: bool,
    /// The header navigation item this page belongs to.
    pub section: &'static str,
    /// The words in the header's search box.
    pub q: String,
    /// Who is signed in, if anyone.
    pub account: Option<super::account::Account>,
    /// The breadcrumb trail after "Home": (address, text).
    pub crumbs: Vec<(String, String)>,
}

impl Layout {
    pub fn new(base: &str, path: &str, title: impl Into<String>, description: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            description: description.into(),
            canonical: format!("{base}{path}"),
            og_type: "website",
            json_ld: None,
            noindex: false,
            section: "",
            q: String::new(),
            account: super::account::ACCOUNT.try_with(Clone::clone).ok().flatten(),
            crumbs: Vec::new(),
        }
    }

    pub fn crumb(mut self, href: impl Into<String>, text: impl Into<String>) -> Layout {
        self.crumbs.push((href.into(), text.into()));
        self
    }

    pub fn section(mut self, section: &'static str) -> Layout {
        self.section = section;
        self
    }

    /// Adds schema.org data, escaped so it cannot end the script element.
    pub fn json_ld(mut self, value: &serde_json::Value) -> Layout {
        let text = value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
        self.json_ld = Some(text);
        self
    }

    pub fn asset(&self, name: &str) -> &'static str {
        ASSETS.url(name)
    }

    /// The page's title with the site's name, or without it when both
    /// would be too long for search results and tabs.
    pub fn full_title(&self) -> String {
        if self.section == "home" || self.title.is_empty() {
            return SITE_NAME.to_owned();
        }
        let full = format!("{} - {SITE_NAME}", self.title);
        if full.chars().count() <= 70 { full } else { self.title.clone() }
    }

    pub fn site_name(&self) -> &'static str {
        SITE_NAME
    }

    /// The header navigation: address, label and whether this page is in it.
    pub fn nav(&self) -> Vec<(&'static str, &'static str, bool)> {
        NAVIGATION.iter().map(|(href, label, section)| (*href, *label, self.section == *section)).collect()
    }
}

/// "1 April 2026".
pub fn date(d: &NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

pub fn datetime(t: &DateTime<Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}

/// The design system's tag colour for a status.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "active" => "nhsuk-tag--green",
        "in-development" => "nhsuk-tag--blue",
        "proposed" | "draft-in-progress" | "awaiting-approval" => "nhsuk-tag--purple",
        "on-hold" => "nhsuk-tag--yellow",
        "deprecated" => "nhsuk-tag--orange",
        "cancelled" | "retired" => "nhsuk-tag--grey",
        _ => "nhsuk-tag--white",
    }
}

pub fn status_label(status: &str) -> &'static str {
    Status::parse(status).map_or("Unknown", Status::label)
}

pub fn type_label(entry_type: &str) -> &'static str {
    if entry_type == "api" { "API" } else { "Standard" }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub l: Layout,
    pub heading: &'static str,
    pub lines: Vec<String>,
    pub problems: Vec<String>,
}

impl ErrorPage {
    fn new(title: &'static str, lines: &[&str], problems: Vec<String>) -> ErrorPage {
        let mut l = Layout::new("", "", title, title);
        l.canonical = String::new();
        l.noindex = true;
        ErrorPage { l, heading: title, lines: lines.iter().map(|s| (*s).to_owned()).collect(), problems }
    }

    pub fn not_found() -> ErrorPage {
        ErrorPage::new(
            "Page not found",
            &[
                "If you typed the web address, check it is correct.",
                "If you pasted the web address, check you copied the entire address.",
                "You can search the directory or browse by care setting or topic from the home page.",
            ],
            Vec::new(),
        )
    }

    pub fn bad_request(problems: Vec<String>) -> ErrorPage {
        ErrorPage::new("Problem with this address", &["Change or remove these parts of it:"], problems)
    }

    pub fn forbidden(why: String) -> ErrorPage {
        let mut page = ErrorPage::new("You cannot do this", &[], Vec::new());
        page.lines = vec![why];
        page
    }

    pub fn unavailable() -> ErrorPage {
        ErrorPage::new(
            "Sorry, the service is busy",
            &[
                "Try again in a few seconds.",
                "Nothing you saved has been lost. Searching the directory may still work while this page does not.",
            ],
            Vec::new(),
        )
    }

    pub fn internal() -> ErrorPage {
        ErrorPage::new(
            "Sorry, there is a problem with the service",
            &[
                "Try again later.",
                "Nothing you saved has been lost. If the problem continues, contact the directory team from the help page.",
            ],
            Vec::new(),
        )
    }
}
