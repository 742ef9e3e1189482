//! Properties of the CKAN `q`/`fq` parser: the canonical printing reads
//! back to the same tree, and no input makes the parser panic.

use proptest::prelude::*;
use standards::ckan::solr::{Clause, Occur, Query, parse};

const FIELDS: &[&str] = &["name", "title", "tags", "res_format", "organization.name"];

/// A few letters and every character that needs escaping somewhere.
const CHARS: &[char] = &[
    'a', 'b', 'z', 'A', '0', '2', 'é', '.', '_', '-', '+', ':', '(', ')', '"', '\\', ' ', '\t', '*', '?', '~', '!',
    '&', '|', '^', '/', '[', ']', '{', '}',
];

/// Words that mean something else unless escaped, or nearly do.
const TRICKY_WORDS: &[&str] = &["AND", "OR", "NOT", "and", "or", "ANDY", "&&", "||", "*", "-", "+"];

fn text(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(CHARS), len).prop_map(String::from_iter)
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![4 => text(1..6), 1 => prop::sample::select(TRICKY_WORDS).prop_map(String::from)]
}

fn field() -> impl Strategy<Value = Option<String>> {
    prop::option::of(prop::sample::select(FIELDS).prop_map(String::from))
}

/// A pattern with at least one wildcard; every `*` and `?` in it is one.
fn pattern() -> impl Strategy<Value = String> {
    (text(0..4), prop::sample::select(&['*', '?'][..]), text(0..4)).prop_map(|(a, w, b)| format!("{a}{w}{b}"))
}

/// Words that mean something inside a range unless quoted or escaped, or
/// that look like what CKAN front ends put there.
const TRICKY_BOUNDS: &[&str] =
    &["*", "TO", "to", "", " ", "]", "}", "\"", "2020-01-01T00:00:00Z", "NOW/DAY-7DAYS", "[a", "TO*"];

/// A range bound: `None` is an open end.
fn bound() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.8,
        prop_oneof![3 => text(0..6), 2 => prop::sample::select(TRICKY_BOUNDS).prop_map(String::from)],
    )
}

fn occur() -> impl Strategy<Value = Occur> {
    prop::sample::select(&[Occur::Must, Occur::Should, Occur::MustNot][..])
}

fn leaf() -> impl Strategy<Value = Query> {
    prop_oneof![
        1 => Just(Query::All),
        3 => (field(), word()).prop_map(|(field, text)| Query::Term { field, text }),
        2 => (field(), text(0..6)).prop_map(|(field, text)| Query::Phrase { field, text }),
        2 => (field(), pattern())
            // A bare `*` is everything, so it parses to `All`.
            .prop_filter("a bare * is All", |(field, pattern)| field.is_some() || pattern != "*")
            .prop_map(|(field, pattern)| Query::Wildcard { field, pattern }),
        2 => (field(), word(), prop::option::of(0u8..=2))
            .prop_map(|(field, text, distance)| Query::Fuzzy { field, text, distance }),
        2 => (prop::sample::select(FIELDS), bound(), bound(), any::<bool>(), any::<bool>()).prop_map(
            |(field, lower, upper, include_lower, include_upper)| Query::Range {
                field: field.into(),
                lower,
                upper,
                include_lower,
                include_upper,
            }
        ),
    ]
}

/// Trees as `parse` produces them: no `Bool` with a single must or should
/// clause, nesting up to three levels deep.
fn tree() -> impl Strategy<Value = Query> {
    leaf().prop_recursive(3, 40, 4, |inner| {
        prop_oneof![
            4 => prop::collection::vec((occur(), inner.clone()), 2..=4)
                .prop_map(|clauses| Query::Bool(clauses.into_iter().map(|(occur, query)| Clause { occur, query }).collect())),
            1 => inner.prop_map(|query| Query::Bool(vec![Clause { occur: Occur::MustNot, query }])),
        ]
    })
}

/// Words, fielded or not, that are valid on their own.
const WORDS: &[&str] = &[
    "a",
    "snomed",
    "dcb-0129",
    "é",
    "name:x",
    "title:\"care record\"",
    "tags:fhir*",
    "*:*",
    "*",
    "pharm*",
    "?",
    "and",
    "&",
    "snomed~",
    "x~1",
    "\"care record\"",
    "\"a \\\" b\"",
    "\\-",
    "\\ ",
    "\\AND",
    "\\*",
    "metadata_modified:[2020-01-01T00:00:00Z TO *]",
    "comply_by_date:{* TO 2027-01-01}",
    "name:[a TO b}",
    "title:{\"a b\" TO \\*]",
];

/// Operators, prefixes, field names, parentheses and pieces of ranges,
/// which need a partner.
const JOINERS: &[&str] = &[
    "AND", "OR", "NOT", "&&", "||", "!", "-", "+", "name:", "tags:", "(", ")", "[a", "{*", "TO", "b]", "*}", "\"c d\"]",
];

/// Pieces that are always or nearly always wrong.
const BROKEN: &[&str] = &["9x:", "*:", "\"", "~", "~9", ":", "\\", "^2", "[", "}", "/"];

fn soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        16 => prop::sample::select(WORDS),
        6 => prop::sample::select(JOINERS),
        1 => prop::sample::select(BROKEN),
    ];
    let gap = prop::sample::select(&["", " ", " ", " ", "  "][..]);
    prop::collection::vec((piece, gap), 1..10)
        .prop_map(|parts| parts.into_iter().map(|(piece, gap)| format!("{piece}{gap}")).collect())
}

proptest! {
    #[test]
    fn printing_a_tree_parses_back_to_it(t in tree()) {
        let printed = t.to_string();
        prop_assert_eq!(parse(&printed), Ok(t), "printed as {:?}", printed);
    }

    #[test]
    fn token_soup_never_panics_and_reparses_its_own_printing(s in soup()) {
        if let Ok(q) = parse(&s) {
            let printed = q.to_string();
            prop_assert_eq!(parse(&printed), Ok(q), "{:?} printed as {:?}", s, printed);
        }
    }

    #[test]
    fn arbitrary_text_never_panics_and_reparses_its_own_printing(s in any::<String>()) {
        if let Ok(q) = parse(&s) {
            let printed = q.to_string();
            prop_assert_eq!(parse(&printed), Ok(q), "{:?} printed as {:?}", s, printed);
        }
    }
}
