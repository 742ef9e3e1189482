//! Markdown to HTML that is safe to show: raw HTML in the source is shown
//! as text, and links and images may only use web, mail or relative
//! addresses.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Whether an address is one a page may link to: relative, or http(s) or
/// mailto. Anything else (`javascript:`, `data:`, ...) is refused.
pub fn safe_url(url: &str) -> bool {
    let url = url.trim();
    match url.find(':') {
        None => true,
        Some(colon) => {
            let before = &url[..colon];
            if before.contains(['/', '?', '#']) {
                return true;
            }
            matches!(before.to_ascii_lowercase().as_str(), "http" | "https" | "mailto")
        }
    }
}

/// Renders Markdown (CommonMark with tables) as sanitised HTML.
pub fn render(source: &str) -> String {
    let parser = Parser::new_ext(source, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let events = parser.map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest_url = if safe_url(&dest_url) { dest_url } else { CowStr::Borrowed("#") };
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            let dest_url = if safe_url(&dest_url) { dest_url } else { CowStr::Borrowed("") };
            Event::Start(Tag::Image { link_type, dest_url, title, id })
        }
        Event::Start(Tag::Table(alignments)) => Event::Start(Tag::Table(alignments)),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    // The design system styles tables by class.
    out.replace("<table>", "<table class=\"nhsuk-table\">")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = render("Hello <script>alert(1)</script> <b onclick=x>bold</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b "), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn block_html_is_shown_as_text() {
        let html = render("<div onmouseover=\"steal()\">\nhi\n</div>\n\nafter");
        assert!(!html.contains("<div"), "{html}");
    }

    #[test]
    fn dangerous_links_are_dropped() {
        let html = render(
            "[click](javascript:alert(1)) [ok](https://example.org) [rel](/guides/x) ![i](data:image/png;base64,xx)",
        );
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains("href=\"https://example.org\""), "{html}");
        assert!(html.contains("href=\"/guides/x\""), "{html}");
    }

    #[test]
    fn schemes_are_checked_case_insensitively() {
        assert!(!safe_url("JaVaScRiPt:alert(1)"));
        assert!(!safe_url(" vbscript:x"));
        assert!(safe_url("mailto:a@b.c"));
        assert!(safe_url("/search?q=a:b"));
        assert!(safe_url("#fhir"));
    }

    #[test]
    fn tables_get_the_design_system_class() {
        let html = render("| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<table class=\"nhsuk-table\">"), "{html}");
    }
}
