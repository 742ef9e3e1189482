//! Markdown to HTML that is safe to show: raw HTML in the source is shown
//! as text, and links and images may only use web, mail or relative
//! addresses.

pub mod glossary;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

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
    finish(safe_events(source), source.len())
}

/// Markdown as the plain text a reader sees: no emphasis marks, link
/// targets or heading hashes; blocks and line breaks become single spaces.
/// For snippets and anywhere text is shown without its formatting.
pub fn plain_text(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let space = |out: &mut String| {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    for event in Parser::new_ext(source, Options::ENABLE_TABLES) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => out.push_str(&t),
            Event::Html(_) | Event::InlineHtml(_) => {}
            Event::SoftBreak | Event::HardBreak | Event::Rule | Event::End(_) => space(&mut out),
            Event::Start(Tag::Item | Tag::TableCell) => space(&mut out),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders Markdown as `render` does, with the first use of each glossary
/// term in its running text linked to the glossary, counting uses in
/// `leading` texts (shown before it on the page) first. Returns the
/// leading texts escaped and linked, and the rendered Markdown. Text in
/// links, headings and code is left alone.
pub fn render_linked(source: &str, linker: &glossary::Linker, leading: &[&str]) -> (Vec<String>, String) {
    let events: Vec<Event> = safe_events(source).collect();
    let mut depth_off = 0usize;
    let mut linkable = Vec::with_capacity(events.len());
    for event in &events {
        match event {
            Event::Start(Tag::Link { .. } | Tag::Heading { .. } | Tag::CodeBlock(_) | Tag::Image { .. }) => {
                depth_off += 1;
                linkable.push(false);
            }
            Event::End(TagEnd::Link | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::Image) => {
                depth_off = depth_off.saturating_sub(1);
                linkable.push(false);
            }
            Event::Text(_) => linkable.push(depth_off == 0),
            _ => linkable.push(false),
        }
    }
    let mut texts: Vec<&str> = leading.to_vec();
    texts.extend(events.iter().zip(&linkable).filter(|(_, l)| **l).map(|(e, _)| match e {
        Event::Text(t) => t.as_ref(),
        _ => "",
    }));
    let mut linked = linker.link_all(&texts);
    let body_parts = linked.split_off(leading.len());
    let mut parts = body_parts.into_iter();
    let events = events
        .into_iter()
        .zip(linkable)
        .map(|(event, l)| if l { Event::InlineHtml(CowStr::from(parts.next().unwrap_or_default())) } else { event });
    (linked, finish(events, source.len()))
}

/// The parser's events with raw HTML turned into text and unsafe addresses
/// dropped.
fn safe_events(source: &str) -> impl Iterator<Item = Event<'_>> {
    let parser = Parser::new_ext(source, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    parser.map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest_url = if safe_url(&dest_url) { dest_url } else { CowStr::Borrowed("#") };
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            let dest_url = if safe_url(&dest_url) { dest_url } else { CowStr::Borrowed("") };
            Event::Start(Tag::Image { link_type, dest_url, title, id })
        }
        other => other,
    })
}

fn finish<'a>(events: impl Iterator<Item = Event<'a>>, size: usize) -> String {
    let mut out = String::with_capacity(size * 3 / 2);
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

    fn linker() -> crate::markdown::glossary::Linker {
        let term: crate::catalogue::GlossaryTerm = serde_json::from_value(serde_json::json!({
            "slug": "fhir", "term": "FHIR", "aliases": [], "definition": "A standard for exchanging records."
        }))
        .unwrap();
        crate::markdown::glossary::Linker::new(&[term])
    }

    #[test]
    fn plain_text_keeps_what_a_reader_sees_and_drops_the_marks() {
        let source = "## Getting started\n\n**How to start:** read the [guide](https://example.org/g) and `run it`.\n\n- one\n- two <b>bold</b>";
        assert_eq!(plain_text(source), "Getting started How to start: read the guide and run it. one two bold");
        assert_eq!(plain_text(""), "");
    }

    #[test]
    fn descriptions_render_as_markdown_with_the_first_glossary_use_linked() {
        let source = "## About FHIR\n\nUses FHIR R4:\n\n- one FHIR\n- [FHIR site](https://example.org)\n\n<b>raw</b>";
        let (leading, html) = render_linked(source, &linker(), &["A summary."]);
        assert_eq!(leading, ["A summary."]);
        assert!(html.contains("<h2>About FHIR</h2>"), "headings are not linked: {html}");
        assert!(html.contains("<ul>") && html.contains("<li>one FHIR</li>"), "{html}");
        assert_eq!(html.matches("href=\"/glossary#fhir\"").count(), 1, "linked once: {html}");
        assert!(html.contains("Uses <a"), "the first running-text use is linked: {html}");
        assert!(html.contains("<a href=\"https://example.org\">FHIR site</a>"), "no link inside a link: {html}");
        assert!(html.contains("&lt;b&gt;raw&lt;/b&gt;"), "{html}");
    }

    #[test]
    fn a_term_used_in_the_leading_text_is_not_linked_again() {
        let (leading, html) = render_linked("More about FHIR.", &linker(), &["FHIR in brief & more"]);
        assert!(leading[0].contains("/glossary#fhir") && leading[0].contains("&amp;"), "{leading:?}");
        assert!(!html.contains("/glossary#fhir"), "{html}");
    }
}
