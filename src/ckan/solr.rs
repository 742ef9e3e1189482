//! The Solr/Lucene query syntax that CKAN clients send in `package_search`'s
//! `q` and `fq`, read into a small tree the directory's own search can
//! answer, and printed back in one canonical form.
//!
//! CKAN's Solr schema makes AND the default operator, so clauses side by
//! side must all match; `AND` binds tighter than `OR`. Each operand of an
//! `OR` keeps its own `+` or `-`, so `a OR +b OR -c` is one `Bool` with a
//! should, a must and a must-not clause: that is also how the printer
//! writes a `Bool` that mixes should clauses with others.

use std::fmt;

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `*:*` (and `*` alone): everything.
    All,
    /// A word, optionally for a field: `pharmacy`, `name:snomed-ct`.
    Term { field: Option<String>, text: String },
    /// A quoted phrase: `"transfer of care"`, `title:"care record"`.
    Phrase { field: Option<String>, text: String },
    /// A word containing `*` or `?`: `*referral*`, `pharm*`, `tags:fhir*`.
    /// Every `*` and `?` in the pattern is a wildcard, so a search can glob
    /// with it as it is; a word that also has an escaped `\*` or `\?` is
    /// refused rather than given a second escaping convention.
    Wildcard { field: Option<String>, pattern: String },
    /// A word with `~` and an optional edit distance 0-2: `snomed~`, `snomed~1`.
    Fuzzy { field: Option<String>, text: String, distance: Option<u8> },
    /// A range: `field:[a TO b]` includes its ends, `field:{a TO b}`
    /// excludes them; `*` leaves an end open. Ranges always name a field.
    Range { field: String, lower: Option<String>, upper: Option<String>, include_lower: bool, include_upper: bool },
    /// Clauses that must, should or must not match.
    Bool(Vec<Clause>),
}

/// One member of a [`Query::Bool`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub occur: Occur,
    pub query: Query,
}

/// How a clause takes part in its `Bool`: Lucene's three occurrences, which
/// are all that `+`, `-`, `NOT`, `AND` and `OR` can express.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occur {
    Must,
    Should,
    MustNot,
}

/// Why a query string could not be read, for the client to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character (not byte) offset in the input, as clients count.
    pub position: usize,
    /// What was expected, ending with the position, ready to show.
    pub message: String,
}

impl ParseError {
    fn new(position: usize, message: String) -> ParseError {
        ParseError { position, message }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Deeper nesting than any real client sends; the limit keeps a hostile
/// query from overflowing the stack, here or when the tree is walked.
const MAX_DEPTH: usize = 64;

/// Parses a `q` or `fq` value. An empty or blank string is [`Query::All`],
/// as CKAN treats a missing `q`.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let (tokens, lex_error) = lex(&chars);
    let mut parser = Parser { tokens: tokens.into_iter().peekable(), lex_error };
    let query = parser.sequence(None, 0)?;
    if let Some(Token::Close(pos)) = parser.tokens.next() {
        return Err(ParseError::new(
            pos,
            format!("expected a term, an operator or the end of the query, found an unmatched ')' at position {pos}"),
        ));
    }
    Ok(query.unwrap_or(Query::All))
}

// ---------------------------------------------------------------------------
// Lexing

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Plus,
    Minus,
    Not,
}

#[derive(Debug)]
struct Word {
    start: usize,
    /// Just past the word and any fuzzy suffix: a `:` here makes it a field.
    end: usize,
    /// Each character, and whether it was backslash-escaped (an escaped `*`
    /// is not a wildcard, an escaped `AND` is not an operator).
    chars: Vec<(char, bool)>,
    /// Where the `~` was, and the distance after it.
    fuzzy: Option<(usize, Option<u8>)>,
}

impl Word {
    fn text(&self) -> String {
        self.chars.iter().map(|&(c, _)| c).collect()
    }

    fn is_bare(&self, s: &str) -> bool {
        self.fuzzy.is_none() && self.chars.iter().all(|&(_, escaped)| !escaped) && self.text() == s
    }

    fn field_name(&self) -> Option<String> {
        let text = self.text();
        (self.fuzzy.is_none() && self.chars.iter().all(|&(_, escaped)| !escaped) && is_field_name(&text))
            .then_some(text)
    }
}

#[derive(Debug)]
enum Token {
    Word(Word),
    Phrase(String),
    Open(usize),
    Close(usize),
    Colon(usize),
    /// The operator, where it is, and how it was written (for messages).
    Op(Op, usize, &'static str),
    Prefix(Prefix, usize, &'static str),
    /// A whole `[a TO b]` or `{a TO b}`, which opens at `start`.
    Range {
        start: usize,
        lower: Option<String>,
        upper: Option<String>,
        include_lower: bool,
        include_upper: bool,
    },
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Characters that end a word unless escaped. `+` and `-` only count at
/// the start of a word (`snomed-ct` is one word), and `&`, `|` only when
/// doubled there, as in Lucene.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '!' | '(' | ')' | ':' | '^' | '[' | ']' | '"' | '{' | '}' | '~' | '/' | '\\')
}

/// Splits the input into tokens, up to the first character that cannot
/// start one; the error for that comes back beside the tokens before it.
fn lex(chars: &[char]) -> (Vec<Token>, Option<ParseError>) {
    let mut tokens = Vec::new();
    let error = lex_into(chars, &mut tokens).err();
    (tokens, error)
}

fn lex_into(chars: &[char], tokens: &mut Vec<Token>) -> Result<(), ParseError> {
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open(i));
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close(i));
                i += 1;
            }
            ':' => {
                tokens.push(Token::Colon(i));
                i += 1;
            }
            '"' => {
                let (text, end) = lex_phrase(chars, i)?;
                tokens.push(Token::Phrase(text));
                i = end;
            }
            '[' | '{' => {
                let (token, end) = lex_range(chars, i)?;
                tokens.push(token);
                i = end;
            }
            '+' | '-' => {
                if next.is_none_or(char::is_whitespace) {
                    return Err(ParseError::new(i, format!("expected a term right after {c} at position {i}")));
                }
                let (prefix, name) = if c == '+' { (Prefix::Plus, "+") } else { (Prefix::Minus, "-") };
                tokens.push(Token::Prefix(prefix, i, name));
                i += 1;
            }
            '!' => {
                tokens.push(Token::Prefix(Prefix::Not, i, "!"));
                i += 1;
            }
            '&' if next == Some('&') => {
                tokens.push(Token::Op(Op::And, i, "&&"));
                i += 2;
            }
            '|' if next == Some('|') => {
                tokens.push(Token::Op(Op::Or, i, "||"));
                i += 2;
            }
            '^' | ']' | '}' | '/' | '~' => {
                let why = match c {
                    '^' => "boosts are not supported",
                    '/' => "regular expressions are not supported",
                    '~' => "a ~ must follow a word",
                    _ => "a ] or } only closes a range such as name:[a TO b]",
                };
                return Err(ParseError::new(
                    i,
                    format!("expected a term, a phrase or '(' at position {i}, found {c} ({why})"),
                ));
            }
            _ => {
                let (token, end) = lex_word(chars, i)?;
                tokens.push(token);
                i = end;
            }
        }
    }
    Ok(())
}

/// Reads a quoted phrase starting at the quote; returns its text and the
/// offset just past the closing quote.
fn lex_phrase(chars: &[char], start: usize) -> Result<(String, usize), ParseError> {
    let (text, i) = lex_quoted(chars, start, "phrase")?;
    if chars.get(i) == Some(&'~') {
        return Err(ParseError::new(
            i,
            format!(
                "expected a space or an operator after the phrase at position {i}, found ~ (proximity is not supported)"
            ),
        ));
    }
    Ok((text, i))
}

/// Reads quoted text (with backslash escapes) starting at the quote;
/// returns its text and the offset just past the closing quote. `what` is
/// what the quote holds, for the message when it is not closed.
fn lex_quoted(chars: &[char], start: usize, what: &str) -> Result<(String, usize), ParseError> {
    let unterminated =
        || ParseError::new(start, format!("expected a closing \" for the {what} that opens at position {start}"));
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(unterminated()),
            Some('\\') => {
                let &escaped = chars.get(i + 1).ok_or_else(unterminated)?;
                text.push(escaped);
                i += 2;
            }
            Some('"') => return Ok((text, i + 1)),
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
}

/// One piece of the inside of a range.
enum RangePart {
    /// A bound: `None` for a bare `*`.
    Bound(Option<String>),
    /// A bare `TO`.
    To,
    /// The closing bracket, and whether it is `]`.
    Close(bool),
}

/// Characters that end a bound written as a word. Anything else, `:` and
/// `-` included, belongs to it, so dates and date maths need no escaping.
fn ends_bound(c: char) -> bool {
    c.is_whitespace() || matches!(c, ']' | '}')
}

/// Reads the range whose `[` or `{` is at `start`: a lower bound, `TO` and
/// an upper bound, separated by whitespace, then `]` or `}`. Returns the
/// token and the offset just past the closing bracket.
fn lex_range(chars: &[char], start: usize) -> Result<(Token, usize), ParseError> {
    let include_lower = chars[start] == '[';
    let mut i = start + 1;
    let next_part = |i: &mut usize| -> Result<(usize, RangePart, String), ParseError> {
        while chars.get(*i).is_some_and(|c| c.is_whitespace()) {
            *i += 1;
        }
        let at = *i;
        let (part, end) = lex_range_part(chars, start, at)?;
        *i = end;
        Ok((at, part, chars[at..end].iter().collect()))
    };
    let lower = match next_part(&mut i)? {
        (_, RangePart::Bound(bound), _) => bound,
        (at, _, found) => {
            return Err(ParseError::new(
                at,
                format!("expected a lower bound (a value or *) at position {at}, found {found}"),
            ));
        }
    };
    match next_part(&mut i)? {
        (_, RangePart::To, _) => {}
        (at, _, found) => {
            return Err(ParseError::new(
                at,
                format!(
                    "expected TO (in capitals, between spaces) after the lower bound at position {at}, found {found}"
                ),
            ));
        }
    }
    let upper = match next_part(&mut i)? {
        (_, RangePart::Bound(bound), _) => bound,
        (at, _, found) => {
            return Err(ParseError::new(
                at,
                format!("expected an upper bound (a value or *) at position {at}, found {found}"),
            ));
        }
    };
    let include_upper = match next_part(&mut i)? {
        (_, RangePart::Close(inclusive), _) => inclusive,
        (at, _, found) => {
            return Err(ParseError::new(
                at,
                format!("expected ] or }} to end the range at position {at}, found {found}"),
            ));
        }
    };
    Ok((Token::Range { start, lower, upper, include_lower, include_upper }, i))
}

/// Reads one piece of the range opening at `open`, from `at` (not
/// whitespace); returns it and the offset just past it. A piece other than
/// a closing bracket must be followed by whitespace or a closing bracket.
fn lex_range_part(chars: &[char], open: usize, at: usize) -> Result<(RangePart, usize), ParseError> {
    let (part, end) = match chars.get(at) {
        None => {
            return Err(ParseError::new(
                open,
                format!("expected ] or }} to close the range that opens at position {open}"),
            ));
        }
        Some(&c @ (']' | '}')) => return Ok((RangePart::Close(c == ']'), at + 1)),
        Some('"') => {
            let (text, end) = lex_quoted(chars, at, "bound")?;
            (RangePart::Bound(Some(text)), end)
        }
        Some(_) => {
            let mut text = String::new();
            let mut escaped_any = false;
            let mut i = at;
            while let Some(&c) = chars.get(i) {
                if c == '\\' {
                    let &escaped = chars
                        .get(i + 1)
                        .ok_or_else(|| ParseError::new(i, format!("expected a character after \\ at position {i}")))?;
                    text.push(escaped);
                    escaped_any = true;
                    i += 2;
                } else if ends_bound(c) {
                    break;
                } else {
                    text.push(c);
                    i += 1;
                }
            }
            let part = match text.as_str() {
                "TO" if !escaped_any => RangePart::To,
                "*" if !escaped_any => RangePart::Bound(None),
                _ => RangePart::Bound(Some(text)),
            };
            (part, i)
        }
    };
    match chars.get(end) {
        Some(&c) if !ends_bound(c) => Err(ParseError::new(
            end,
            format!("expected a space, ] or }} after the quoted bound at position {end}, found {c}"),
        )),
        _ => Ok((part, end)),
    }
}

/// Reads a word (with escapes and any `~N` suffix) starting at `start`;
/// returns the token (an operator if the word is a bare `AND`, `OR` or
/// `NOT`) and the offset just past it.
fn lex_word(chars: &[char], start: usize) -> Result<(Token, usize), ParseError> {
    let mut word = Vec::new();
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        if c == '\\' {
            let &escaped = chars
                .get(i + 1)
                .ok_or_else(|| ParseError::new(i, format!("expected a character after \\ at position {i}")))?;
            word.push((escaped, true));
            i += 2;
        } else if ends_word(c) {
            break;
        } else {
            word.push((c, false));
            i += 1;
        }
    }
    let mut fuzzy = None;
    if chars.get(i) == Some(&'~') {
        let tilde = i;
        i += 1;
        let digits_start = i;
        while chars.get(i).is_some_and(|&c| !ends_word(c)) {
            i += 1;
        }
        let digits: String = chars[digits_start..i].iter().collect();
        let distance = match digits.as_str() {
            "" => None,
            "0" => Some(0),
            "1" => Some(1),
            "2" => Some(2),
            _ => {
                return Err(ParseError::new(
                    tilde,
                    format!("expected an edit distance of 0, 1 or 2 after ~ at position {tilde}, found {digits}"),
                ));
            }
        };
        fuzzy = Some((tilde, distance));
    }
    let word = Word { start, end: i, chars: word, fuzzy };
    let token = if word.is_bare("AND") {
        Token::Op(Op::And, start, "AND")
    } else if word.is_bare("OR") {
        Token::Op(Op::Or, start, "OR")
    } else if word.is_bare("NOT") {
        Token::Prefix(Prefix::Not, start, "NOT")
    } else {
        Token::Word(word)
    };
    Ok((token, i))
}

// ---------------------------------------------------------------------------
// Parsing

/// The clauses between `OR`s, each with the prefix it was written with.
type Group = Vec<(Option<Prefix>, Query)>;

struct Parser {
    tokens: std::iter::Peekable<std::vec::IntoIter<Token>>,
    /// What stopped the lexer: reported only when the parser gets there,
    /// so that the first mistake in reading order is the one reported.
    lex_error: Option<ParseError>,
}

impl Parser {
    /// Fails with the lexer's error once every token before it is used.
    fn check_lexed(&mut self) -> Result<(), ParseError> {
        match (&self.lex_error, self.tokens.peek()) {
            (Some(e), None) => Err(e.clone()),
            _ => Ok(()),
        }
    }

    /// Reads clauses up to a `)` or the end (not consumed); `None` if there
    /// were none. `field` is the field of an enclosing `field:( … )`.
    fn sequence(&mut self, field: Option<&str>, depth: usize) -> Result<Option<Query>, ParseError> {
        let mut groups: Vec<Group> = vec![Vec::new()];
        // An operator still waiting for the clause after it.
        let mut pending: Option<(&'static str, usize)> = None;
        let mut seen_clause = false;
        loop {
            self.check_lexed()?;
            match self.tokens.peek() {
                None | Some(Token::Close(_)) => {
                    if let Some((name, pos)) = pending {
                        return Err(ParseError::new(pos, format!("expected a term after {name} at position {pos}")));
                    }
                    break;
                }
                Some(&Token::Op(op, pos, name)) => {
                    if let Some((before, before_pos)) = pending {
                        return Err(ParseError::new(
                            before_pos,
                            format!("expected a term after {before} at position {before_pos}, found {name}"),
                        ));
                    }
                    if !seen_clause {
                        return Err(ParseError::new(pos, format!("expected a term before {name} at position {pos}")));
                    }
                    self.tokens.next();
                    if op == Op::Or {
                        groups.push(Vec::new());
                    }
                    pending = Some((name, pos));
                }
                Some(&Token::Colon(pos)) => {
                    return Err(ParseError::new(
                        pos,
                        format!("expected a term, a phrase or '(' at position {pos}, found : with no field name"),
                    ));
                }
                Some(Token::Prefix(..) | Token::Word(_) | Token::Phrase(_) | Token::Open(_) | Token::Range { .. }) => {
                    let prefix = match self.tokens.next_if(|t| matches!(t, Token::Prefix(..))) {
                        Some(Token::Prefix(prefix, pos, name)) => Some((prefix, pos, name)),
                        _ => None,
                    };
                    let Some(query) = self.clause(field, depth, false)? else {
                        let (pos, name) = prefix.map_or((0, "the start"), |(_, pos, name)| (pos, name));
                        return Err(ParseError::new(pos, format!("expected a term after {name} at position {pos}")));
                    };
                    if let Some(group) = groups.last_mut() {
                        group.push((prefix.map(|(p, _, _)| p), query));
                    }
                    seen_clause = true;
                    pending = None;
                }
            }
        }
        Ok(seen_clause.then(|| build(groups)))
    }

    /// Reads one word, phrase, range or parenthesised group, or returns
    /// `None` (consuming nothing) if the next token is none of those. A
    /// field's value (`is_value`) cannot name another field.
    fn clause(&mut self, field: Option<&str>, depth: usize, is_value: bool) -> Result<Option<Query>, ParseError> {
        self.check_lexed()?;
        let starts_clause =
            |t: &Token| matches!(t, Token::Word(_) | Token::Phrase(_) | Token::Open(_) | Token::Range { .. });
        Ok(Some(match self.tokens.next_if(starts_clause) {
            Some(Token::Word(word)) if is_value => leaf(word, field)?,
            Some(Token::Word(word)) => self.word(word, field, depth)?,
            Some(Token::Phrase(text)) => Query::Phrase { field: field.map(str::to_owned), text },
            Some(Token::Open(pos)) => self.group(pos, field, depth + 1)?,
            Some(Token::Range { start, lower, upper, include_lower, include_upper }) => {
                let Some(field) = field else {
                    return Err(ParseError::new(
                        start,
                        format!(
                            "expected a field name before the range at position {start} \
                             (a range needs a field, as in name:[a TO b])"
                        ),
                    ));
                };
                Query::Range { field: field.to_owned(), lower, upper, include_lower, include_upper }
            }
            _ => return Ok(None),
        }))
    }

    /// A word on its own, or a field name if a `:` follows it directly.
    fn word(&mut self, word: Word, field: Option<&str>, depth: usize) -> Result<Query, ParseError> {
        let colon = match self.tokens.peek() {
            Some(&Token::Colon(pos)) if pos == word.end => pos,
            _ => return leaf(word, field),
        };
        self.tokens.next();
        let after = colon + 1;
        if word.is_bare("*") {
            self.check_lexed()?;
            let star = |t: &Token| matches!(t, Token::Word(w) if w.start == after && w.is_bare("*"));
            return match self.tokens.next_if(star) {
                Some(_) => Ok(Query::All),
                None => Err(ParseError::new(after, format!("expected * after *: at position {after}"))),
            };
        }
        let Some(name) = word.field_name() else {
            let pos = word.start;
            return Err(ParseError::new(
                pos,
                format!(
                    "expected a field name (a letter or _, then letters, digits, _ or .) before : at position {pos}"
                ),
            ));
        };
        match self.clause(Some(&name), depth, true)? {
            Some(query) => Ok(query),
            None => {
                let pos = word.start;
                Err(ParseError::new(pos, format!("expected a value after {name}: at position {pos}")))
            }
        }
    }

    /// A parenthesised group whose `(` is at `open`.
    fn group(&mut self, open: usize, field: Option<&str>, depth: usize) -> Result<Query, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError::new(
                open,
                format!("expected at most {MAX_DEPTH} levels of parentheses, found more at position {open}"),
            ));
        }
        let inner = self.sequence(field, depth)?;
        self.check_lexed()?;
        if !matches!(self.tokens.next(), Some(Token::Close(_))) {
            return Err(ParseError::new(open, format!("expected ')' to close the '(' at position {open}")));
        }
        inner.ok_or_else(|| ParseError::new(open, format!("expected a query inside the '(' at position {open}")))
    }
}

/// What a word means on its own: a term, a wildcard, a fuzzy term, or
/// everything for a bare `*`.
fn leaf(word: Word, field: Option<&str>) -> Result<Query, ParseError> {
    let field = field.map(str::to_owned);
    let is_wildcard = |&(c, escaped): &(char, bool)| matches!(c, '*' | '?') && !escaped;
    let wild = word.chars.iter().any(is_wildcard);
    let text = word.text();
    match word.fuzzy {
        Some((tilde, _)) if wild => Err(ParseError::new(
            tilde,
            format!("expected a word without wildcards before ~ at position {tilde}, found {text}"),
        )),
        Some((_, distance)) => Ok(Query::Fuzzy { field, text, distance }),
        None if wild => {
            if word.chars.iter().any(|&(c, escaped)| matches!(c, '*' | '?') && escaped) {
                let pos = word.start;
                return Err(ParseError::new(
                    pos,
                    format!(
                        "expected either wildcards or escaped \\* and \\?, not both, in the word at position {pos}"
                    ),
                ));
            }
            if field.is_none() && text == "*" {
                return Ok(Query::All);
            }
            Ok(Query::Wildcard { field, pattern: text })
        }
        None => Ok(Query::Term { field, text }),
    }
}

/// Turns the `OR`-separated groups of a sequence into its tree: one group
/// is an AND of its clauses; several are alternatives, and an alternative
/// that is a single clause keeps the occurrence its prefix gives it.
fn build(mut groups: Vec<Group>) -> Query {
    if groups.len() == 1 {
        return conjunction(groups.pop().unwrap_or_default());
    }
    let clauses = groups
        .into_iter()
        .map(|mut group| {
            if group.len() == 1
                && let Some((prefix, query)) = group.pop()
            {
                let occur = match prefix {
                    None => Occur::Should,
                    Some(Prefix::Plus) => Occur::Must,
                    Some(Prefix::Minus | Prefix::Not) => Occur::MustNot,
                };
                Clause { occur, query }
            } else {
                Clause { occur: Occur::Should, query: conjunction(group) }
            }
        })
        .collect();
    Query::Bool(clauses)
}

/// Clauses joined by AND (written or implied): all must match, apart from
/// those negated.
fn conjunction(group: Group) -> Query {
    let mut clauses: Vec<Clause> = group
        .into_iter()
        .map(|(prefix, query)| {
            let occur = match prefix {
                Some(Prefix::Minus | Prefix::Not) => Occur::MustNot,
                None | Some(Prefix::Plus) => Occur::Must,
            };
            Clause { occur, query }
        })
        .collect();
    if clauses.len() == 1
        && clauses[0].occur == Occur::Must
        && let Some(clause) = clauses.pop()
    {
        return clause.query;
    }
    Query::Bool(clauses)
}

// ---------------------------------------------------------------------------
// Printing

/// Characters that need a backslash in a printed term: Lucene's special
/// characters, whether or not this parser gives each a meaning.
const SPECIAL: &str = "\\+-!():^[]\"{}~*?|&/";

fn needs_escape(c: char) -> bool {
    c.is_whitespace() || SPECIAL.contains(c)
}

/// Writes a range bound so that it reads back as exactly `bound`: `*` for
/// an open end, the bound as it is if it is a plain word, and otherwise in
/// quotes, with `"` and `\` escaped.
fn write_bound(f: &mut fmt::Formatter<'_>, bound: &Option<String>) -> fmt::Result {
    let Some(text) = bound else {
        return f.write_str("*");
    };
    let plain =
        !matches!(text.as_str(), "" | "*" | "TO") && !text.chars().any(|c| ends_bound(c) || matches!(c, '"' | '\\'));
    if plain {
        return f.write_str(text);
    }
    f.write_str("\"")?;
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

fn write_field(f: &mut fmt::Formatter<'_>, field: &Option<String>) -> fmt::Result {
    match field {
        Some(name) => write!(f, "{name}:"),
        None => Ok(()),
    }
}

/// Writes a word so that it reads back as exactly `text`: specials are
/// escaped, and so is a word that would otherwise be an operator.
fn write_word(f: &mut fmt::Formatter<'_>, text: &str, keep_wildcards: bool) -> fmt::Result {
    if matches!(text, "AND" | "OR" | "NOT") {
        f.write_str("\\")?;
    }
    for c in text.chars() {
        if needs_escape(c) && !(keep_wildcards && matches!(c, '*' | '?')) {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    Ok(())
}

impl fmt::Display for Query {
    /// The canonical form: [`parse`] reads it back to the same tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Query::All => f.write_str("*:*"),
            Query::Term { field, text } => {
                write_field(f, field)?;
                write_word(f, text, false)
            }
            Query::Phrase { field, text } => {
                write_field(f, field)?;
                f.write_str("\"")?;
                for c in text.chars() {
                    if matches!(c, '"' | '\\') {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            Query::Wildcard { field, pattern } => {
                write_field(f, field)?;
                write_word(f, pattern, true)
            }
            Query::Fuzzy { field, text, distance } => {
                write_field(f, field)?;
                write_word(f, text, false)?;
                f.write_str("~")?;
                match distance {
                    Some(d) => write!(f, "{d}"),
                    None => Ok(()),
                }
            }
            Query::Range { field, lower, upper, include_lower, include_upper } => {
                write!(f, "{field}:{}", if *include_lower { '[' } else { '{' })?;
                write_bound(f, lower)?;
                f.write_str(" TO ")?;
                write_bound(f, upper)?;
                f.write_str(if *include_upper { "]" } else { "}" })
            }
            Query::Bool(clauses) => {
                // Clauses side by side mean AND, so a list with any should
                // clause is written as alternatives, each keeping its prefix.
                let separator = if clauses.iter().any(|c| c.occur == Occur::Should) { " OR " } else { " " };
                for (i, clause) in clauses.iter().enumerate() {
                    if i > 0 {
                        f.write_str(separator)?;
                    }
                    f.write_str(match clause.occur {
                        Occur::Must => "+",
                        Occur::MustNot => "-",
                        Occur::Should => "",
                    })?;
                    match &clause.query {
                        nested @ Query::Bool(_) => write!(f, "({nested})")?,
                        other => write!(f, "{other}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(text: &str) -> Query {
        Query::Term { field: None, text: text.into() }
    }

    fn field_term(field: &str, text: &str) -> Query {
        Query::Term { field: Some(field.into()), text: text.into() }
    }

    fn range(field: &str, lower: Option<&str>, upper: Option<&str>, include_lower: bool, include_upper: bool) -> Query {
        Query::Range {
            field: field.into(),
            lower: lower.map(str::to_owned),
            upper: upper.map(str::to_owned),
            include_lower,
            include_upper,
        }
    }

    fn must(query: Query) -> Clause {
        Clause { occur: Occur::Must, query }
    }

    fn should(query: Query) -> Clause {
        Clause { occur: Occur::Should, query }
    }

    fn must_not(query: Query) -> Clause {
        Clause { occur: Occur::MustNot, query }
    }

    fn ok(input: &str) -> Query {
        match parse(input) {
            Ok(q) => q,
            Err(e) => panic!("{input:?} should parse: {e}"),
        }
    }

    fn err(input: &str) -> ParseError {
        match parse(input) {
            Ok(q) => panic!("{input:?} should not parse, got {q:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn empty_and_blank_queries_match_everything() {
        assert_eq!(ok(""), Query::All);
        assert_eq!(ok("   \t\n"), Query::All);
    }

    #[test]
    fn star_colon_star_and_a_lone_star_match_everything() {
        assert_eq!(ok("*:*"), Query::All);
        assert_eq!(ok("*"), Query::All);
        assert_eq!(ok(" ( *:* ) "), Query::All);
    }

    #[test]
    fn a_bare_word_is_a_term() {
        assert_eq!(ok("pharmacy"), term("pharmacy"));
        assert_eq!(ok("  pharmacy  "), term("pharmacy"));
    }

    #[test]
    fn a_field_prefix_scopes_a_term() {
        assert_eq!(ok("name:snomed-ct"), field_term("name", "snomed-ct"));
    }

    #[test]
    fn field_names_may_contain_digits_underscores_and_dots() {
        assert_eq!(ok("_res.format2:csv"), field_term("_res.format2", "csv"));
    }

    #[test]
    fn whitespace_after_a_field_colon_is_allowed() {
        assert_eq!(ok("name: snomed"), field_term("name", "snomed"));
    }

    #[test]
    fn quoted_text_is_a_phrase_with_backslash_escapes() {
        assert_eq!(ok("\"transfer of care\""), Query::Phrase { field: None, text: "transfer of care".into() });
        assert_eq!(ok(r#""say \"hi\" \\ bye""#), Query::Phrase { field: None, text: r#"say "hi" \ bye"#.into() });
    }

    #[test]
    fn a_field_applies_to_a_phrase() {
        assert_eq!(
            ok("title:\"care record\""),
            Query::Phrase { field: Some("title".into()), text: "care record".into() }
        );
    }

    #[test]
    fn a_star_or_question_mark_makes_a_wildcard() {
        assert_eq!(ok("*referral*"), Query::Wildcard { field: None, pattern: "*referral*".into() });
        assert_eq!(ok("pharm*"), Query::Wildcard { field: None, pattern: "pharm*".into() });
        assert_eq!(ok("te?t"), Query::Wildcard { field: None, pattern: "te?t".into() });
        assert_eq!(ok("tags:fhir*"), Query::Wildcard { field: Some("tags".into()), pattern: "fhir*".into() });
    }

    #[test]
    fn a_field_with_only_a_star_matches_any_value_in_it() {
        assert_eq!(ok("name:*"), Query::Wildcard { field: Some("name".into()), pattern: "*".into() });
    }

    #[test]
    fn escaped_wildcard_characters_are_literal() {
        assert_eq!(ok(r"what\?"), term("what?"));
        assert_eq!(ok(r"\*"), term("*"));
    }

    #[test]
    fn escapes_inside_a_wildcard_are_unescaped_in_its_pattern() {
        assert_eq!(ok(r"name:dcb\-01*"), Query::Wildcard { field: Some("name".into()), pattern: "dcb-01*".into() });
    }

    #[test]
    fn a_tilde_makes_a_fuzzy_term_with_an_optional_distance() {
        assert_eq!(ok("snomed~"), Query::Fuzzy { field: None, text: "snomed".into(), distance: None });
        assert_eq!(ok("snomed~0"), Query::Fuzzy { field: None, text: "snomed".into(), distance: Some(0) });
        assert_eq!(ok("snomed~1"), Query::Fuzzy { field: None, text: "snomed".into(), distance: Some(1) });
        assert_eq!(
            ok("name:snomed~2"),
            Query::Fuzzy { field: Some("name".into()), text: "snomed".into(), distance: Some(2) }
        );
    }

    #[test]
    fn square_brackets_make_a_range_that_includes_its_ends() {
        assert_eq!(ok("year:[2020 TO 2024]"), range("year", Some("2020"), Some("2024"), true, true));
    }

    #[test]
    fn curly_brackets_make_a_range_that_excludes_its_ends() {
        assert_eq!(ok("year:{2020 TO 2024}"), range("year", Some("2020"), Some("2024"), false, false));
    }

    #[test]
    fn mixed_brackets_include_one_end_only() {
        assert_eq!(ok("year:[2020 TO 2024}"), range("year", Some("2020"), Some("2024"), true, false));
        assert_eq!(ok("year:{2020 TO 2024]"), range("year", Some("2020"), Some("2024"), false, true));
    }

    #[test]
    fn a_star_bound_leaves_its_end_open_and_keeps_its_bracket() {
        assert_eq!(
            ok("metadata_modified:[2020-01-01T00:00:00Z TO *]"),
            range("metadata_modified", Some("2020-01-01T00:00:00Z"), None, true, true)
        );
        assert_eq!(
            ok("comply_by_date:{* TO 2027-01-01}"),
            range("comply_by_date", None, Some("2027-01-01"), false, false)
        );
        assert_eq!(ok("x:[* TO *}"), range("x", None, None, true, false));
    }

    #[test]
    fn range_bounds_keep_colons_hyphens_slashes_and_other_specials() {
        assert_eq!(
            ok("metadata_modified:[NOW/DAY-7DAYS TO NOW+1DAY]"),
            range("metadata_modified", Some("NOW/DAY-7DAYS"), Some("NOW+1DAY"), true, true)
        );
        assert_eq!(ok("x:[a:b(c) TO d*?~^]"), range("x", Some("a:b(c)"), Some("d*?~^"), true, true));
    }

    #[test]
    fn whitespace_around_range_bounds_is_free_and_a_space_may_follow_the_colon() {
        assert_eq!(ok("x: [  a \t TO\n b  ]"), range("x", Some("a"), Some("b"), true, true));
    }

    #[test]
    fn quoted_range_bounds_are_literal_and_may_hold_spaces() {
        assert_eq!(
            ok(r#"title:["a b" TO "c \"d\" \\ ]"]"#),
            range("title", Some("a b"), Some(r#"c "d" \ ]"#), true, true)
        );
        assert_eq!(ok(r#"x:["*" TO "TO"]"#), range("x", Some("*"), Some("TO"), true, true));
        assert_eq!(ok(r#"x:["" TO b]"#), range("x", Some(""), Some("b"), true, true));
    }

    #[test]
    fn escaped_range_bounds_are_literal() {
        assert_eq!(ok(r"x:[\* TO \TO]"), range("x", Some("*"), Some("TO"), true, true));
        assert_eq!(ok(r"x:[a\ b TO c\]]"), range("x", Some("a b"), Some("c]"), true, true));
    }

    #[test]
    fn lower_case_to_is_not_the_range_keyword() {
        let e = err("x:[a to b]");
        assert_eq!(e.position, 5);
        assert_eq!(
            e.message,
            "expected TO (in capitals, between spaces) after the lower bound at position 5, found to"
        );
    }

    #[test]
    fn a_range_inside_a_fielded_group_takes_the_groups_field() {
        assert_eq!(
            ok("year:(2019 OR [2021 TO *])"),
            Query::Bool(vec![
                should(field_term("year", "2019")),
                should(range("year", Some("2021"), None, true, true))
            ])
        );
        assert_eq!(ok("year:( name:[a TO b] )"), range("name", Some("a"), Some("b"), true, true));
    }

    #[test]
    fn ranges_combine_with_operators_and_prefixes() {
        assert_eq!(
            ok("-year:[* TO 2000} OR tags:fhir AND +name:{a TO b]"),
            Query::Bool(vec![
                must_not(range("year", None, Some("2000"), true, false)),
                should(Query::Bool(vec![
                    must(field_term("tags", "fhir")),
                    must(range("name", Some("a"), Some("b"), false, true)),
                ])),
            ])
        );
        assert_eq!(
            ok("year:[1 TO 2]snomed"),
            Query::Bool(vec![must(range("year", Some("1"), Some("2"), true, true)), must(term("snomed"))])
        );
    }

    #[test]
    fn a_range_without_a_field_is_an_error() {
        let e = err("a [1 TO 2]");
        assert_eq!(e.position, 2);
        assert_eq!(
            e.message,
            "expected a field name before the range at position 2 (a range needs a field, as in name:[a TO b])"
        );
        assert_eq!(err("-{a TO b}").position, 1);
        assert_eq!(err("name[a TO b]").position, 4);
        assert_eq!(err("(a OR [a TO b])").position, 6);
    }

    #[test]
    fn a_range_without_to_is_an_error() {
        let e = err("x:[1 2]");
        assert_eq!(e.position, 5);
        assert_eq!(e.message, "expected TO (in capitals, between spaces) after the lower bound at position 5, found 2");
        assert_eq!(
            err("x:[1]").message,
            "expected TO (in capitals, between spaces) after the lower bound at position 4, found ]"
        );
        assert_eq!(err("x:[1TO 2]").position, 7);
        assert_eq!(err(r#"x:["1"TO 2]"#).position, 6);
        assert_eq!(err("x:[1 \\TO 2]").position, 5);
    }

    #[test]
    fn an_unclosed_range_is_an_error() {
        let e = err("a x:[1 TO 2");
        assert_eq!(e.position, 4);
        assert_eq!(e.message, "expected ] or } to close the range that opens at position 4");
        assert_eq!(err("x:{").position, 2);
        assert_eq!(err("x:[1 TO").position, 2);
        assert_eq!(err("x:[1 TO 2 )").position, 10);
        assert_eq!(err(r#"x:[1 TO "2]"#).message, "expected a closing \" for the bound that opens at position 8");
        assert_eq!(err(r"x:[1 TO 2\").message, r"expected a character after \ at position 9");
    }

    #[test]
    fn more_than_two_range_bounds_is_an_error() {
        let e = err("x:[1 TO 2 3]");
        assert_eq!(e.position, 10);
        assert_eq!(e.message, "expected ] or } to end the range at position 10, found 3");
        assert_eq!(err("x:[1 TO 2 TO 3]").position, 10);
    }

    #[test]
    fn an_empty_range_bound_is_an_error() {
        let e = err("x:[ TO 2]");
        assert_eq!(e.position, 4);
        assert_eq!(e.message, "expected a lower bound (a value or *) at position 4, found TO");
        let e = err("x:[1 TO ]");
        assert_eq!(e.position, 8);
        assert_eq!(e.message, "expected an upper bound (a value or *) at position 8, found ]");
        assert_eq!(err("x:[]").position, 3);
        assert_eq!(err("x:[1 TO TO]").position, 8);
    }

    #[test]
    fn a_closing_bracket_outside_a_range_is_an_error() {
        let e = err("a]");
        assert_eq!(e.position, 1);
        assert!(e.message.contains("a ] or } only closes a range"), "{e}");
        assert_eq!(err("x:[1 TO 2]]").position, 10);
        assert_eq!(err("}").position, 0);
    }

    #[test]
    fn whitespace_between_clauses_means_and() {
        assert_eq!(ok("gp connect"), Query::Bool(vec![must(term("gp")), must(term("connect"))]));
    }

    #[test]
    fn and_or_and_not_keywords_build_clauses() {
        assert_eq!(ok("a AND b"), Query::Bool(vec![must(term("a")), must(term("b"))]));
        assert_eq!(ok("a OR b"), Query::Bool(vec![should(term("a")), should(term("b"))]));
        assert_eq!(ok("a NOT b"), Query::Bool(vec![must(term("a")), must_not(term("b"))]));
        assert_eq!(ok("a AND NOT b"), Query::Bool(vec![must(term("a")), must_not(term("b"))]));
    }

    #[test]
    fn lower_case_and_or_not_are_ordinary_words() {
        assert_eq!(ok("a and b"), Query::Bool(vec![must(term("a")), must(term("and")), must(term("b"))]));
        assert_eq!(ok("or"), term("or"));
        assert_eq!(ok("ANDROID"), term("ANDROID"));
    }

    #[test]
    fn escaped_keywords_are_terms() {
        assert_eq!(ok(r"\AND"), term("AND"));
        assert_eq!(ok(r"name:\OR"), field_term("name", "OR"));
    }

    #[test]
    fn symbol_operators_mean_the_same_as_keywords() {
        assert_eq!(ok("a && b"), ok("a AND b"));
        assert_eq!(ok("a || b"), ok("a OR b"));
        assert_eq!(ok("a !b"), ok("a NOT b"));
        assert_eq!(ok("!a"), ok("NOT a"));
    }

    #[test]
    fn plus_and_minus_prefixes_set_must_and_must_not() {
        assert_eq!(ok("+a -b"), Query::Bool(vec![must(term("a")), must_not(term("b"))]));
        assert_eq!(ok("+a"), term("a"));
    }

    #[test]
    fn a_lone_negated_clause_stays_a_bool() {
        assert_eq!(ok("-a"), Query::Bool(vec![must_not(term("a"))]));
        assert_eq!(ok("NOT a"), Query::Bool(vec![must_not(term("a"))]));
    }

    #[test]
    fn each_or_operand_keeps_its_own_prefix() {
        assert_eq!(
            ok("a OR +b OR -c OR NOT d"),
            Query::Bool(vec![should(term("a")), must(term("b")), must_not(term("c")), must_not(term("d"))])
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let ab = Query::Bool(vec![must(term("a")), must(term("b"))]);
        let cd = Query::Bool(vec![must(term("c")), must(term("d"))]);
        assert_eq!(ok("a AND b OR c"), Query::Bool(vec![should(ab.clone()), should(term("c"))]));
        assert_eq!(ok("c OR a AND b"), Query::Bool(vec![should(term("c")), should(ab.clone())]));
        assert_eq!(ok("a b OR c d"), Query::Bool(vec![should(ab), should(cd)]));
    }

    #[test]
    fn parentheses_group_clauses_into_a_nested_bool() {
        assert_eq!(
            ok("(a OR b) AND c"),
            Query::Bool(vec![must(Query::Bool(vec![should(term("a")), should(term("b"))])), must(term("c"))])
        );
        assert_eq!(
            ok("-(a b) c"),
            Query::Bool(vec![must_not(Query::Bool(vec![must(term("a")), must(term("b"))])), must(term("c"))])
        );
    }

    #[test]
    fn redundant_parentheses_collapse() {
        assert_eq!(ok("((a))"), term("a"));
        assert_eq!(ok("(+a)"), term("a"));
        assert_eq!(ok("(a OR b)"), ok("a OR b"));
    }

    #[test]
    fn a_field_applies_to_every_term_in_its_group() {
        assert_eq!(
            ok("tags:(fhir OR \"hl7 v2\" OR dicom*)"),
            Query::Bool(vec![
                should(field_term("tags", "fhir")),
                should(Query::Phrase { field: Some("tags".into()), text: "hl7 v2".into() }),
                should(Query::Wildcard { field: Some("tags".into()), pattern: "dicom*".into() }),
            ])
        );
        assert_eq!(
            ok("tags:(a (b -c))"),
            Query::Bool(vec![
                must(field_term("tags", "a")),
                must(Query::Bool(vec![must(field_term("tags", "b")), must_not(field_term("tags", "c"))])),
            ])
        );
    }

    #[test]
    fn a_field_inside_a_fielded_group_overrides_it() {
        assert_eq!(
            ok("tags:(a OR name:b)"),
            Query::Bool(vec![should(field_term("tags", "a")), should(field_term("name", "b"))])
        );
    }

    #[test]
    fn escaped_special_characters_are_part_of_a_term() {
        assert_eq!(ok(r"name:dcb\-0129"), field_term("name", "dcb-0129"));
        assert_eq!(ok(r"a\:b\(c\)\ d\\"), term(r"a:b(c) d\"));
        assert_eq!(ok(r"\-a"), term("-a"));
    }

    #[test]
    fn hyphens_and_pluses_inside_a_word_do_not_split_it() {
        assert_eq!(ok("dcb-0129"), term("dcb-0129"));
        assert_eq!(ok("c++"), term("c++"));
    }

    #[test]
    fn a_single_ampersand_or_bar_is_part_of_a_word() {
        assert_eq!(ok("a&b"), term("a&b"));
        assert_eq!(ok("|x"), term("|x"));
    }

    #[test]
    fn an_unclosed_parenthesis_is_an_error() {
        let e = err("(a OR b");
        assert_eq!(e.position, 0);
        assert_eq!(e.message, "expected ')' to close the '(' at position 0");
        assert_eq!(err("a (b (c)").position, 2);
    }

    #[test]
    fn an_unmatched_closing_parenthesis_is_an_error() {
        let e = err("a OR b)");
        assert_eq!(e.position, 6);
        assert!(e.message.contains("unmatched ')' at position 6"), "{e}");
        assert_eq!(err(")").position, 0);
    }

    #[test]
    fn empty_parentheses_are_an_error() {
        assert_eq!(err("a ( )").message, "expected a query inside the '(' at position 2");
    }

    #[test]
    fn an_unterminated_quote_is_an_error() {
        let e = err("title:\"care rec");
        assert_eq!(e.position, 6);
        assert_eq!(e.message, "expected a closing \" for the phrase that opens at position 6");
        assert_eq!(err(r#""ends in an escaped quote\""#).position, 0);
    }

    #[test]
    fn an_operator_with_nothing_after_it_is_an_error() {
        let e = err("snomed AND");
        assert_eq!(e.position, 7);
        assert_eq!(e.message, "expected a term after AND at position 7");
        assert_eq!(err("a OR").message, "expected a term after OR at position 2");
        assert_eq!(err("a ||").message, "expected a term after || at position 2");
        assert_eq!(err("a NOT").message, "expected a term after NOT at position 2");
        assert_eq!(err("a !").message, "expected a term after ! at position 2");
        assert_eq!(err("(a AND)").message, "expected a term after AND at position 3");
    }

    #[test]
    fn two_operators_in_a_row_are_an_error() {
        assert_eq!(err("a AND OR b").message, "expected a term after AND at position 2, found OR");
        assert_eq!(err("a NOT AND b").message, "expected a term after NOT at position 2");
        assert_eq!(err("NOT -a").message, "expected a term after NOT at position 0");
    }

    #[test]
    fn an_operator_at_the_start_is_an_error() {
        assert_eq!(err("OR x").message, "expected a term before OR at position 0");
        assert_eq!(err("  AND x").message, "expected a term before AND at position 2");
        assert_eq!(err("a (&& b)").message, "expected a term before && at position 3");
    }

    #[test]
    fn an_empty_field_value_is_an_error() {
        assert_eq!(err("name:").message, "expected a value after name: at position 0");
        assert_eq!(err("a name: OR b").message, "expected a value after name: at position 2");
        assert_eq!(err("(name:)").position, 1);
    }

    #[test]
    fn an_invalid_field_name_is_an_error() {
        assert_eq!(err("9lives:x").position, 0);
        assert_eq!(err(r"a\-b:x").position, 0);
        assert_eq!(err("x~1:y").position, 0);
        assert!(err("tag*:x").message.starts_with("expected a field name"));
    }

    #[test]
    fn a_colon_without_a_field_name_is_an_error() {
        assert_eq!(err(":x").position, 0);
        assert_eq!(err("name :x").position, 5);
        assert_eq!(err("a:b:c").position, 3);
    }

    #[test]
    fn star_colon_must_be_followed_by_a_star() {
        assert_eq!(err("*:x").message, "expected * after *: at position 2");
        assert_eq!(err("*: *").position, 2);
    }

    #[test]
    fn a_bad_fuzzy_distance_is_an_error() {
        let e = err("x~9");
        assert_eq!(e.position, 1);
        assert_eq!(e.message, "expected an edit distance of 0, 1 or 2 after ~ at position 1, found 9");
        assert_eq!(err("snomed~0.5").position, 6);
        assert_eq!(err("snomed~10").position, 6);
        assert_eq!(err("snomed~-1").position, 6);
    }

    #[test]
    fn a_fuzzy_wildcard_is_an_error() {
        assert_eq!(err("pharm*~1").position, 6);
    }

    #[test]
    fn a_tilde_without_a_word_is_an_error() {
        assert_eq!(err("~1").position, 0);
        assert_eq!(err("a ~").position, 2);
        assert_eq!(err("a~~").position, 2);
    }

    #[test]
    fn a_lone_plus_or_minus_is_an_error() {
        assert_eq!(err("snomed -").message, "expected a term right after - at position 7");
        assert_eq!(err("+ a").message, "expected a term right after + at position 0");
        assert_eq!(err("-").position, 0);
    }

    #[test]
    fn a_prefix_must_be_followed_by_a_term() {
        assert_eq!(err("-)").message, "expected a term after - at position 0");
        assert_eq!(err("+-a").message, "expected a term after + at position 0");
        assert_eq!(err("-OR a").message, "expected a term after - at position 0");
    }

    #[test]
    fn a_trailing_backslash_is_an_error() {
        let e = err(r"name:dcb\");
        assert_eq!(e.position, 8);
        assert_eq!(e.message, r"expected a character after \ at position 8");
    }

    #[test]
    fn a_wildcard_mixing_escaped_and_bare_stars_is_an_error() {
        assert_eq!(err(r"a\*b*").position, 0);
    }

    #[test]
    fn boosts_regexes_and_phrase_proximity_are_rejected() {
        assert!(err("a^2").message.contains("boosts are not supported"));
        assert!(err("x:[1 TO 2]^2").message.contains("boosts are not supported"));
        assert!(err("/ab+c/").message.contains("regular expressions are not supported"));
        let e = err("\"a b\"~2");
        assert_eq!(e.position, 5);
        assert!(e.message.contains("proximity is not supported"), "{e}");
    }

    #[test]
    fn the_first_mistake_in_reading_order_is_reported() {
        assert_eq!(err("OR a^2").position, 0);
        assert_eq!(err("a^2 OR").position, 1);
        assert_eq!(err("(a OR \"b").position, 6);
        assert_eq!(err("*:[").position, 2);
        assert_eq!(err("-[").position, 1);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
        let e = err(&deep);
        assert_eq!(e.position, MAX_DEPTH);
        let fine = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(ok(&fine), term("a"));
    }

    #[test]
    fn error_positions_count_characters_not_bytes() {
        assert_eq!(err("é ü AND").position, 4);
    }

    #[test]
    fn a_parse_error_displays_its_message_and_is_a_std_error() {
        let e = err("snomed AND");
        assert_eq!(e.to_string(), "expected a term after AND at position 7");
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert_eq!(boxed.to_string(), "expected a term after AND at position 7");
    }

    #[test]
    fn display_prints_leaves_canonically() {
        assert_eq!(Query::All.to_string(), "*:*");
        assert_eq!(ok("name: x").to_string(), "name:x");
        assert_eq!(ok("tags:fhir*").to_string(), "tags:fhir*");
        assert_eq!(ok("snomed~").to_string(), "snomed~");
        assert_eq!(ok("name:snomed~1").to_string(), "name:snomed~1");
        assert_eq!(ok("*").to_string(), "*:*");
    }

    #[test]
    fn display_escapes_special_characters_in_terms() {
        assert_eq!(field_term("name", "dcb-0129").to_string(), r"name:dcb\-0129");
        assert_eq!(
            term(r#"a:b (c) "d" e\*?~&|!^/[]{}+"#).to_string(),
            r#"a\:b\ \(c\)\ \"d\"\ e\\\*\?\~\&\|\!\^\/\[\]\{\}\+"#
        );
        assert_eq!(term("AND").to_string(), r"\AND");
        assert_eq!(Query::Wildcard { field: None, pattern: "a-*".into() }.to_string(), r"a\-*");
    }

    #[test]
    fn display_quotes_phrases_and_escapes_quotes_and_backslashes() {
        let q = Query::Phrase { field: Some("title".into()), text: r#"a "b" \c"#.into() };
        assert_eq!(q.to_string(), r#"title:"a \"b\" \\c""#);
    }

    #[test]
    fn display_prints_ranges_with_their_brackets_and_stars_for_open_ends() {
        assert_eq!(ok("year: [ 2020   TO * ]").to_string(), "year:[2020 TO *]");
        assert_eq!(ok("year:{* TO 2020]").to_string(), "year:{* TO 2020]");
        assert_eq!(
            ok("metadata_modified:[2020-01-01T00:00:00Z TO NOW/DAY}").to_string(),
            "metadata_modified:[2020-01-01T00:00:00Z TO NOW/DAY}"
        );
        assert_eq!(ok("-x:[a TO b] OR c").to_string(), "-x:[a TO b] OR c");
        assert_eq!(ok("year:(1 OR [2 TO 3])").to_string(), "year:1 OR year:[2 TO 3]");
    }

    #[test]
    fn display_quotes_range_bounds_that_would_not_read_back_as_words() {
        assert_eq!(range("x", Some("*"), Some("TO"), true, true).to_string(), r#"x:["*" TO "TO"]"#);
        assert_eq!(range("x", Some(""), Some("a b"), false, false).to_string(), r#"x:{"" TO "a b"}"#);
        assert_eq!(range("x", Some("a]"), Some("b}"), true, true).to_string(), r#"x:["a]" TO "b}"]"#);
        assert_eq!(range("x", Some(r#"a"b"#), Some(r"c\d"), true, true).to_string(), r#"x:["a\"b" TO "c\\d"]"#);
        assert_eq!(range("x", Some("TOO"), Some("*a"), true, true).to_string(), "x:[TOO TO *a]");
    }

    #[test]
    fn display_writes_must_and_must_not_clauses_with_prefixes() {
        assert_eq!(ok("a b NOT c").to_string(), "+a +b -c");
        assert_eq!(ok("NOT a").to_string(), "-a");
    }

    #[test]
    fn display_joins_lists_with_should_clauses_by_or() {
        assert_eq!(ok("a || b").to_string(), "a OR b");
        assert_eq!(ok("a OR +b OR -c").to_string(), "a OR +b OR -c");
    }

    #[test]
    fn display_parenthesises_nested_bools() {
        assert_eq!(ok("a AND b OR c").to_string(), "(+a +b) OR c");
        assert_eq!(ok("tags:(a OR b) -(c d)").to_string(), "+(tags:a OR tags:b) -(+c +d)");
    }

    #[test]
    fn printed_queries_parse_back_to_the_same_tree() {
        let inputs = [
            "",
            "*:*",
            "pharmacy",
            "name:snomed-ct",
            r"name:dcb\-0129",
            "\"transfer of care\"",
            r#"title:"say \"hi\"""#,
            "*referral* pharm? tags:fhir*",
            "snomed~ snomed~1",
            "a AND b OR c AND NOT d",
            "+a -b OR c",
            "tags:(fhir OR hl7) AND NOT name:(x y)",
            r"\AND \OR \NOT",
            r"a\ b c\:d",
            "-(a OR b)",
            "((a OR b) (c OR -d)) OR e",
            "é~2 OR ü*",
            "metadata_modified:[2020-01-01T00:00:00Z TO *] comply_by_date:{* TO 2027-01-01}",
            "x:[a TO b} OR -y:{\\* TO \"c d\"]",
            r#"x:["" TO "\"\\"] year:(1 [2 TO 3])"#,
        ];
        for input in inputs {
            let tree = ok(input);
            let printed = tree.to_string();
            assert_eq!(parse(&printed), Ok(tree), "{input:?} printed as {printed:?}");
        }
    }
}
