//! The website against the real server: every page template, the search
//! page's parameters and links, entry pages, assets, headers, the sitemap
//! and editable content.

use crate::common;

use common::fixtures::{load, small_catalogue};
use common::{Backend, TestServer, TestStore};
use serde_json::{Value, json};

async fn page(s: &TestServer, path: &str) -> String {
    let response = s.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let ct = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "GET {path}: {ct}");
    // Templates escape `&` in attributes as `&#38;`; compare one spelling.
    response.text().await.unwrap().replace("&#38;", "&amp;")
}

/// The text between the first `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("`{start}` not in page")) + start.len();
    let to = text[from..].find(end).map_or(text.len(), |e| from + e);
    &text[from..to]
}

fn json_ld(html: &str) -> Value {
    serde_json::from_str(between(html, "<script type=\"application/ld+json\">", "</script>")).unwrap()
}

on_both_stores!(every_page_template_renders_on_the_demo, |backend| async move {
    let s = TestServer::with_demo(backend).await;
    let pages = [
        ("/", "Find interoperability standards and national APIs"),
        ("/search", "Search standards and APIs"),
        ("/search?q=allergy&care_setting=hospital", "results for"),
        ("/standards/fhir-uk-core", "About"),
        ("/organisations", "Organisations"),
        ("/organisations/nhs-england", "Standards and APIs from NHS England"),
        ("/care-settings", "Care settings"),
        ("/care-settings/pharmacy", "<h1>Pharmacy: standards and APIs</h1>"),
        ("/topics", "Topics"),
        ("/topics/prescribing", "<h1>Prescribing: standards and APIs</h1>"),
        ("/roadmap", "Roadmap of future standards"),
        ("/guides", "Guides"),
        ("/guides/what-we-mean-by-standards", "What we mean by standards"),
        ("/guides/what-is-interoperability", "interoperability"),
        ("/guides/how-standards-are-mandated", "mandated"),
        ("/guides/how-to-get-help", "help"),
        ("/glossary", "Glossary"),
        ("/about", "About"),
        ("/help", "Help"),
        ("/accessibility", "Accessibility"),
        ("/privacy", "Privacy"),
    ];
    for (path, expected) in pages {
        let html = page(&s, path).await;
        assert!(html.contains(expected), "{path} shows {expected}");
        assert!(html.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(html.contains("<main class=\"nhsuk-main-wrapper\" id=\"maincontent\">"), "{path}");
        assert!(!html.contains("assets.nhs.uk"), "{path} makes no third-party request");
        assert!(!html.contains("<script>"), "{path} has no inline script");
        assert!(!html.contains(" style=\""), "{path} has no inline style");
    }
    for path in ["/nope", "/standards/no-such-entry", "/organisations/nobody", "/care-settings/nowhere", "/guides/none"]
    {
        let response = s.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.text().await.unwrap().contains("Page not found"), "{path} has the styled 404 page");
    }
    let api = s.get("/api/v1/nope").await;
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
    s.stop().await;
});

#[tokio::test]
async fn home_page_browses_by_care_setting_topic_and_type_and_shows_what_is_coming() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let html = page(&s, "/").await;
    for link in [
        "href=\"/care-settings/pharmacy\"",
        "href=\"/topics/prescribing\"",
        "href=\"/search?type=api\"",
        "href=\"/search?type=standard\"",
    ] {
        assert!(html.contains(link), "home links {link}");
    }
    assert_eq!(between(&html, "<h2>Recently updated</h2>", "</ul>").matches("class=\"app-result\"").count(), 6);
    assert!(html.contains("<h2>Coming soon</h2>"));
    assert!(html.contains("href=\"/roadmap\""));
    assert_eq!(json_ld(&html)["@type"], "WebSite");
    s.stop().await;
}

#[tokio::test]
async fn search_page_takes_the_api_parameters_and_keeps_every_state_in_links() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let api = s.get_json("/api/v1/search?q=alergy").await;
    let total = api["total"].as_u64().unwrap();
    assert!(total > 0);
    let html = page(&s, "/search?q=alergy").await;
    assert!(html.contains(&format!("{total} results for “alergy”")), "count announced");
    assert!(html.contains("<p id=\"result-count\" class=\"nhsuk-heading-s\" role=\"status\">"));
    assert!(html.contains("<mark>"), "matches are highlighted");

    // A filter: the same numbers as the API, the box ticked, a remove link.
    let api = s.get_json("/api/v1/search?q=alergy&care_setting=hospital&mandated=true").await;
    let html = page(&s, "/search?q=alergy&care_setting=hospital&mandated=true").await;
    assert!(html.contains(&format!("{} result", api["total"])), "filtered count");
    assert!(html.contains(
        "id=\"filter-care_setting-hospital\" name=\"care_setting\" type=\"checkbox\" value=\"hospital\" checked"
    ));
    assert!(html.contains("href=\"/search?q=alergy&amp;mandated=true\""), "removing the care setting keeps the rest");
    assert!(html.contains("href=\"/search?q=alergy&amp;care_setting=hospital\""), "removing mandated keeps the rest");
    assert!(html.contains("id=\"clear-filters\"") && html.contains("href=\"/search?q=alergy\" id=\"clear-filters\""));

    // Pages: previous and next keep filters and sort; filter links go back to page 1.
    let html = page(&s, "/search?type=standard&sort=title&page=2").await;
    assert!(html.contains("href=\"/search?type=standard&amp;sort=title\" rel=\"prev\""), "previous is page 1");
    assert!(html.contains("href=\"/search?type=standard&amp;sort=title&amp;page=3\" rel=\"next\""));
    assert!(html.contains("Page 2 of"));
    assert!(html.contains("<option value=\"title\" selected>"));
    let remove = between(&html, "class=\"app-chosen__remove\" href=\"", "\"");
    assert_eq!(remove, "/search?sort=title", "removing a filter starts again at page 1");

    // Did you mean, with the filters kept.
    let html = page(&s, "/search?q=alergy+intolerence&sort=title").await;
    assert!(
        html.contains("Did you mean <a href=\"/search?q=allergy+intolerance&amp;sort=title\">allergy intolerance</a>?"),
        "{html}"
    );

    // Bad parameters: the same checks as the API, shown on a page.
    let response = s.get("/search?care_setting=moon&page=0&colour=red").await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    for p in ["care_setting = `moon`", "page = `0`", "colour = `red`"] {
        assert!(html.contains(p), "{p} named in {html}");
    }
    s.stop().await;
}

#[tokio::test]
async fn entry_pages_show_every_section_and_link_glossary_terms_once() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let html = page(&s, "/standards/fhir-uk-core").await;
    for section in ["id=\"about\"", "id=\"documentation\"", "id=\"care-settings-and-topics\"", "id=\"mandate\""] {
        assert!(html.contains(section), "{section}");
    }
    assert!(html.contains("Last updated:"));
    let ld = json_ld(&html);
    assert_eq!(ld["name"], "FHIR UK Core");
    assert!(ld["url"].as_str().unwrap().ends_with("/standards/fhir-uk-core"));
    assert!(html.contains("<link rel=\"canonical\" href=\"http://127.0.0.1:"));
    assert!(html.contains("<meta property=\"og:type\" content=\"article\">"));
    let glossary_links = html.matches("class=\"app-glossary-link\" href=\"/glossary#fhir\"").count();
    assert!(glossary_links <= 1, "a term is linked once a page, not {glossary_links} times");

    // Every entry renders; APIs have the access section.
    let all = s.get_json("/api/v1/standards?per_page=100").await;
    let total = all["total"].as_u64().unwrap();
    let mut seen = 0;
    for p in 1..=total.div_ceil(100) {
        let list = s.get_json(&format!("/api/v1/standards?per_page=100&page={p}")).await;
        for e in list["results"].as_array().unwrap() {
            let slug = e["slug"].as_str().unwrap();
            let html = page(&s, &format!("/standards/{slug}")).await;
            if e["type"] == "api" {
                assert!(html.contains("id=\"access\""), "{slug} has access and onboarding");
            }
            seen += 1;
        }
    }
    assert_eq!(seen, total);
    let glossary = page(&s, "/glossary").await;
    assert!(glossary.matches("<dt id=").count() >= 40, "at least 40 glossary terms");
    s.stop().await;
}

#[tokio::test]
async fn user_text_is_escaped_and_links_are_checked() {
    let ts = TestStore::new(Backend::Sqlite).await;
    let mut catalogue = small_catalogue();
    catalogue["entries"][0]["title"] = json!("SNOMED <script>alert(1)</script> CT");
    catalogue["entries"][0]["summary"] = json!("Codes \"quoted\" & <b>bold</b>");
    catalogue["organisations"][0]["name"] = json!("NHS <i>England</i>");
    load(&ts.store, &catalogue).await;
    // Address fields now refuse such links (tests/it/hardening.rs); one saved
    // before that rule is still not linked.
    let db = rusqlite::Connection::open(ts.url.trim_start_matches("sqlite://").split('?').next().unwrap()).unwrap();
    db.execute(
        "UPDATE entries SET document = json_set(document, '$.documentation_url', 'javascript:alert(1)') WHERE slug = 'snomed-ct'",
        [],
    )
    .unwrap();
    drop(db);
    let s = TestServer::start(ts).await;
    let html = page(&s, "/standards/snomed-ct").await;
    assert!(!html.contains("<script>alert"), "title escaped");
    assert!(
        html.contains("SNOMED &#60;script&#62;alert(1)&#60;/script&#62; CT") || html.contains("SNOMED &lt;script&gt;")
    );
    assert!(!html.contains("<b>bold</b>") && !html.contains("<i>England</i>"));
    assert!(!html.contains("href=\"javascript:"), "unsafe documentation links are not linked");
    let ld = json_ld(&html);
    assert_eq!(
        ld["name"], "SNOMED <script>alert(1)</script> CT",
        "JSON-LD carries the text, escaped for the script element"
    );
    assert!(!between(&html, "application/ld+json\">", "</script>").contains('<'));
    let search = page(&s, "/search?q=%3Cscript%3E").await;
    assert!(!search.contains("<script>alert") && !search.contains("“<script>"));
    s.stop().await;
}

#[tokio::test]
async fn care_setting_pages_put_mandated_first_then_categories() {
    let ts = TestStore::new(Backend::Sqlite).await;
    load(&ts.store, &small_catalogue()).await;
    let s = TestServer::start(ts).await;
    let html = page(&s, "/care-settings/gp-primary-care").await;
    assert!(html.contains("<h1>GP / Primary care: standards and APIs</h1>"), "the label as written");
    let mandated = html.find("id=\"mandated\"").expect("a mandated group");
    let first_category = html.find("id=\"category-").expect("category groups");
    assert!(mandated < first_category);
    assert!(between(&html, "id=\"mandated\"", "</ul>").contains("/standards/snomed-ct"));
    assert!(!between(&html, "id=\"category-", "</html>").contains("/standards/snomed-ct\""), "listed once");
    s.stop().await;
}

#[tokio::test]
async fn roadmap_filters_by_care_setting_and_sorts_by_each_date() {
    let ts = TestStore::new(Backend::Sqlite).await;
    let mut catalogue = small_catalogue();
    let entries = catalogue["entries"].as_array_mut().unwrap();
    entries.push(json!({"slug": "future-a", "title": "Future A", "type": "standard", "category": "record-standards",
        "care_settings": ["hospital"], "owner": "prsb", "status": "proposed",
        "publication_due": "2031-01-10", "implement_from": "2032-06-01", "comply_by": "2033-01-01"}));
    entries.push(json!({"slug": "future-b", "title": "Future B", "type": "standard", "category": "record-standards",
        "care_settings": ["social-care"], "owner": "prsb", "status": "active",
        "publication_due": "2030-05-01", "implement_from": "2034-01-01", "comply_by": "2032-01-01"}));
    load(&ts.store, &catalogue).await;
    let s = TestServer::start(ts).await;
    let order = |html: &str| {
        let a = html.find("/standards/future-a").unwrap();
        let b = html.find("/standards/future-b").unwrap();
        if a < b { "ab" } else { "ba" }
    };
    let html = page(&s, "/roadmap?sort=publication_due").await;
    assert_eq!(order(&html), "ba");
    assert!(html.contains("May 2030") && html.contains("January 2031"));
    assert!(html.contains("/standards/core-information-standard"), "in development counts");
    assert!(!html.contains("/standards/read-codes"), "retired entries without dates are not on it");
    assert_eq!(order(&page(&s, "/roadmap?sort=implement_from").await), "ab");
    assert_eq!(order(&page(&s, "/roadmap?sort=comply_by").await), "ba");
    let hospital = page(&s, "/roadmap?care_setting=hospital").await;
    assert!(hospital.contains("/standards/future-a") && !hospital.contains("/standards/future-b"));
    assert_eq!(s.get("/roadmap?sort=soonest").await.status(), 400);
    s.stop().await;
}

#[tokio::test]
async fn assets_are_fingerprinted_cached_compressed_and_first_party() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let html = page(&s, "/").await;
    let css = between(&html, "<link rel=\"stylesheet\" href=\"", "\"").to_owned();
    let js = between(&html, "<script type=\"module\" src=\"", "\"").to_owned();
    assert!(css.starts_with("/assets/nhsuk-frontend-") && css.ends_with(".css"), "{css}");
    for asset in [&css, &js] {
        let response = s.get(asset).await;
        assert_eq!(response.status(), 200, "{asset}");
        assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
        let body = response.text().await.unwrap();
        assert!(!body.contains("assets.nhs.uk") && !body.contains("sourceMappingURL"), "{asset}");
    }
    let site_js = s.get(&js).await.text().await.unwrap();
    let imported = between(&site_js, "from \"", "\"").to_owned();
    assert!(imported.starts_with("/assets/nhsuk-frontend-"), "{imported}");
    assert_eq!(s.get(&imported).await.status(), 200);
    let css_body = s.get(&css).await.text().await.unwrap();
    for url in css_body.split("url(").skip(1).map(|u| u.split(')').next().unwrap()) {
        if !url.starts_with("data:") {
            assert_eq!(s.get(url.trim_matches('"')).await.status(), 200, "{url} referenced by the stylesheet");
        }
    }
    assert_eq!(s.get("/assets/nhsuk-frontend-000000000000.css").await.status(), 404);

    let client = reqwest::Client::new();
    for (encoding, expected) in [("br", "br"), ("gzip", "gzip"), ("br, gzip", "br")] {
        let response = client.get(s.url("/search")).header("accept-encoding", encoding).send().await.unwrap();
        assert_eq!(response.headers()["content-encoding"], expected, "HTML compressed with {encoding}");
    }
    s.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    for path in ["/", "/search?q=fhir", "/api/v1/standards", "/nope", "/api/3/action/package_list"] {
        let response = s.get(path).await;
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
        assert!(h.get("set-cookie").is_none(), "{path} sets no cookie");
    }
    let https = reqwest::Client::new().get(s.url("/")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert!(https.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    s.stop().await;
}

#[tokio::test]
async fn sitemap_and_robots_list_every_page() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let response = s.get("/sitemap.xml").await;
    assert_eq!(response.headers()["content-type"], "application/xml; charset=utf-8");
    let xml = response.text().await.unwrap();
    let total = s.get_json("/api/v1/standards?per_page=1").await["total"].as_u64().unwrap() as usize;
    assert_eq!(xml.matches("/standards/").count(), total);
    for path in [
        "/guides/how-to-get-help</loc>",
        "/care-settings/pharmacy</loc>",
        "/glossary</loc>",
        "/organisations/nhs-england</loc>",
    ] {
        assert!(xml.contains(path), "{path}");
    }
    let robots = s.get("/robots.txt").await.text().await.unwrap();
    assert!(robots.contains(&format!("Sitemap: {}/sitemap.xml", s.base)));
    s.stop().await;
}

#[tokio::test]
async fn guides_and_glossary_are_content_that_imports_change() {
    let ts = TestStore::new(Backend::Sqlite).await;
    load(&ts.store, &small_catalogue()).await;
    let s = TestServer::start(ts).await;
    assert_eq!(s.get("/guides/a-new-guide").await.status(), 404);
    let mut pds = small_catalogue()["entries"][3].clone();
    pds["summary"] = json!("Find NHS numbers through an API, coded with SNOMED CT. Another API mention.");
    let update = json!({
        "entries": [pds],
        "guides": [{"slug": "a-new-guide", "title": "A new guide", "summary": "Short.", "order": 1,
                    "body": "## First\n\nSee [SNOMED](/standards/snomed-ct) and <script>x()</script> [bad](javascript:x)."}],
        "glossary": [{"slug": "snomed-ct", "term": "SNOMED CT", "aliases": [], "definition": "A clinical terminology."},
                     {"slug": "api", "term": "API", "aliases": ["application programming interface"], "definition": "A way for systems to talk."}]
    });
    load(&s.test_store.store, &update).await;
    // Written as another process would write it: pages follow the changes
    // log, as the server's follower does every second.
    s.state.after_write().await.unwrap();
    let html = page(&s, "/guides/a-new-guide").await;
    assert!(html.contains("<h2>First</h2>") && html.contains("href=\"/standards/snomed-ct\""));
    assert!(!html.contains("<script>x()") && !html.contains("javascript:x"), "Markdown is sanitised");
    assert_eq!(json_ld(&html)["@type"], "Article");
    let glossary = page(&s, "/glossary").await;
    assert!(glossary.contains("<dt id=\"api\">API"));
    let entry = page(&s, "/standards/pds-fhir").await;
    assert_eq!(entry.matches("href=\"/glossary#api\"").count(), 1, "the first use of API is linked, once");
    assert_eq!(entry.matches("href=\"/glossary#snomed-ct\"").count(), 1);

    // A bad guide is refused with its place and field, and nothing changes.
    let bad = json!({"guides": [{"slug": "broken", "title": "", "body": "x"}]});
    let raw = standards::import::read_str(
        &bad.to_string(),
        standards::import::Format::Json,
        &s.test_store.store.vocabularies().await.unwrap(),
    );
    let err = standards::import::plan(&s.test_store.store, raw).await.unwrap().unwrap_err();
    let text = err.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n");
    assert!(text.contains("guides[0] (slug `broken`)") && text.contains("title"), "{text}");
    s.stop().await;
}

#[tokio::test]
async fn export_carries_guides_pages_and_glossary_and_imports_back() {
    let ts = TestStore::new(Backend::Sqlite).await;
    standards::demo::load(&ts.store).await.unwrap();
    let catalogue = ts.store.catalogue().await.unwrap();
    assert!(catalogue.guides.len() >= 4 && catalogue.pages.len() >= 4 && catalogue.glossary.len() >= 40);
    let text = serde_json::to_string(&catalogue).unwrap();
    let other = TestStore::new(Backend::Sqlite).await;
    let raw =
        standards::import::read_str(&text, standards::import::Format::Json, &other.store.vocabularies().await.unwrap());
    let set = standards::import::plan(&other.store, raw).await.unwrap().unwrap();
    other.store.apply(&set, "test", false, None).await.unwrap();
    let back = other.store.catalogue().await.unwrap();
    let strip = |pages: &[standards::catalogue::Page]| pages.iter().map(|p| p.content()).collect::<Vec<_>>();
    assert_eq!(strip(&back.guides), strip(&catalogue.guides));
    assert_eq!(strip(&back.pages), strip(&catalogue.pages));
    assert_eq!(
        back.glossary.iter().map(|t| t.content()).collect::<Vec<_>>(),
        catalogue.glossary.iter().map(|t| t.content()).collect::<Vec<_>>()
    );
    ts.finish().await;
    other.finish().await;
}

#[tokio::test]
async fn an_entry_page_answers_first_and_lists_every_section_it_has() {
    let ts = TestStore::new(Backend::Sqlite).await;
    load(&ts.store, &small_catalogue()).await;
    let s = TestServer::start(ts).await;
    let html = page(&s, "/standards/snomed-ct").await;
    let facts = html.find("id=\"key-facts\"").expect("key facts");
    assert!(facts < html.find("id=\"about\"").expect("about"), "the key facts come before the details");
    let key = between(&html, "id=\"key-facts\"", "</dl>");
    assert!(key.contains("Yes: comply by 1 April 2020"), "{key}");
    assert!(key.contains("href=\"/organisations/nhs-england\">NHS England</a>; Active"), "{key}");
    let contents = between(&html, "aria-label=\"On this page\"", "</nav>");
    for id in ["key-facts", "about", "documentation", "care-settings-and-topics", "mandate"] {
        assert!(contents.contains(&format!("href=\"#{id}\"")), "{id} in On this page");
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} on the page");
    }
    assert!(!contents.contains("href=\"#access\""), "no access section for a standard");
    // The breadcrumb says where the entry lives, not a search nobody made.
    let crumbs = between(&html, "nhsuk-breadcrumb", "</nav>");
    assert!(crumbs.contains("href=\"/search?type=standard\">Standards</a>"), "{crumbs}");
    assert!(!crumbs.contains(">Search</a>"), "{crumbs}");

    let api = page(&s, "/standards/pds-fhir").await;
    let key = between(&api, "id=\"key-facts\"", "</dl>");
    assert!(key.contains("No: it is not required"), "{key}");
    assert!(key.contains("Getting access"), "an API says how to get access: {key}");
    assert!(between(&api, "aria-label=\"On this page\"", "</nav>").contains("href=\"#access\""));
    s.stop().await;
}

#[tokio::test]
async fn a_search_no_entry_matches_offers_the_guides_and_terms_that_use_its_words_and_ways_on() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let html = page(&s, "/search?q=procurement+contract").await;
    assert!(html.contains("No results for “procurement contract”"), "no entry matches");
    let offered = between(&html, "id=\"elsewhere\"", "</ul>");
    assert!(offered.contains("Guide: <a href=\"/guides/buying-systems-that-meet-standards\">"), "{offered}");
    assert!(html.contains("<a href=\"/help\">how to get help</a>"));
    // With filters chosen, a way back to the same words without them.
    let filtered = page(&s, "/search?q=zzzzqqq&type=api").await;
    assert!(filtered.contains("search again without the filters</a>"), "a way out of the filters");
    assert!(!filtered.contains("id=\"elsewhere\""), "nothing else uses made-up words");
    s.stop().await;
}

#[tokio::test]
async fn the_home_page_lists_comply_by_dates_from_three_months_ago_to_a_year_ahead_soonest_first() {
    let s = TestServer::with_demo(Backend::Sqlite).await;
    let html = page(&s, "/").await;
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Days::new(90), today + chrono::Days::new(365));
    let catalogue: standards::catalogue::Catalogue = serde_json::from_str(standards::demo::CATALOGUE).unwrap();
    let mut near: Vec<(chrono::NaiveDate, String, String)> = catalogue
        .entries
        .iter()
        .filter_map(|e| {
            e.comply_by.filter(|c| (from..=to).contains(c)).map(|c| (c, e.title.to_lowercase(), e.slug.to_string()))
        })
        .collect();
    near.sort();
    let section = between(&html, "id=\"deadlines\"", "</ul>");
    let shown: Vec<&str> = section.split("href=\"/standards/").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    let expected: Vec<&str> = near.iter().take(5).map(|(_, _, slug)| slug.as_str()).collect();
    assert_eq!(shown, expected, "the nearest comply-by dates, soonest first");
    s.stop().await;
}
