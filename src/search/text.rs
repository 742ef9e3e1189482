//! Text analysis shared by indexing, querying and highlighting: one
//! tokenizer, one normaliser, one stop list, so the three always agree.

/// A word of a text with where it stands in that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lower-case form, before stemming.
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Splits text into lower-case words of letters and digits. "dm+d" gives
/// `dm`, `d`; "DCB0129" gives `dcb0129`.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            out.push(Token { text: text[s..i].to_lowercase(), start: s, end: i });
        }
    }
    if let Some(s) = start {
        out.push(Token { text: text[s..].to_lowercase(), start: s, end: text.len() });
    }
    out
}

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "how", "i", "in", "into", "is", "it",
    "its", "my", "of", "on", "or", "our", "that", "the", "their", "this", "to", "we", "what", "when", "which", "who",
    "with", "you", "your",
];

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// A light English stemmer: plural and a few common endings, so that
/// "allergies" finds "allergy" and "prescriptions" finds "prescription".
/// Deliberately conservative: codes and short words pass unchanged.
pub fn stem(word: &str) -> String {
    let n = word.len();
    if n <= 3 || word.bytes().any(|b| b.is_ascii_digit()) {
        return word.to_owned();
    }
    if let Some(base) = word.strip_suffix("ies")
        && n > 4
    {
        return format!("{base}y");
    }
    if word.ends_with("sses") {
        return word[..n - 2].to_owned();
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word.to_owned();
    }
    if let Some(base) = word.strip_suffix('s') {
        return base.to_owned();
    }
    word.to_owned()
}

/// The terms a text is indexed under: stems of its words, stop words out.
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    tokens(text).into_iter().filter(|t| !is_stop_word(&t.text)).map(|t| stem(&t.text))
}

/// Edit distance (with adjacent transpositions) when it is at most `max`;
/// `None` otherwise. Stops early once `max` is exceeded.
pub fn bounded_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut prev2 = vec![0usize; width];
    let mut prev: Vec<usize> = (0..width).collect();
    let mut cur = vec![0usize; width];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

/// How many typos a word may carry: one from four letters, two from eight.
pub fn allowed_typos(word: &str) -> usize {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stop_list_is_sorted_for_binary_search() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP_WORDS);
    }

    #[test]
    fn words_are_split_on_anything_but_letters_and_digits() {
        let t: Vec<String> = tokens("dm+d, DCB0129 & Allergies").into_iter().map(|t| t.text).collect();
        assert_eq!(t, vec!["dm", "d", "dcb0129", "allergies"]);
        let t = tokens("Café");
        assert_eq!((t[0].start, t[0].end), (0, 5));
    }

    #[test]
    fn plurals_fold_to_one_term() {
        assert_eq!(stem("allergies"), "allergy");
        assert_eq!(stem("prescriptions"), "prescription");
        assert_eq!(stem("addresses"), "address");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("diagnosis"), "diagnosis");
        assert_eq!(stem("gps"), "gps");
    }

    #[test]
    fn typo_distance_counts_edits_and_transpositions() {
        assert_eq!(bounded_distance("snowmed", "snomed", 1), Some(1));
        assert_eq!(bounded_distance("prescibing", "prescribing", 2), Some(1));
        assert_eq!(bounded_distance("alergy", "allergy", 1), Some(1));
        assert_eq!(bounded_distance("recieve", "receive", 1), Some(1));
        assert_eq!(bounded_distance("fhir", "hl7", 1), None);
        assert_eq!(allowed_typos("gp"), 0);
        assert_eq!(allowed_typos("snomed"), 1);
        assert_eq!(allowed_typos("prescribing"), 2);
    }
}
