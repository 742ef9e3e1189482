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

/// Appends the lower-case words of `text` to `out`, and each word's byte
/// range in `out` to `spans`: the same words as [`tokens`], without an
/// allocation per word.
pub fn lower_tokens(text: &str, out: &mut String, spans: &mut Vec<(usize, usize)>) {
    let mut start: Option<usize> = None;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(out.len());
            }
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else if let Some(s) = start.take() {
            spans.push((s, out.len()));
        }
    }
    if let Some(s) = start {
        spans.push((s, out.len()));
    }
}

/// [`stem`] without copying words it leaves alone or only shortens.
pub fn stem_cow(word: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let n = word.len();
    if n <= 3 || word.bytes().any(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(word);
    }
    if let Some(base) = word.strip_suffix("ies")
        && n > 4
    {
        return Cow::Owned(format!("{base}y"));
    }
    if word.ends_with("sses") {
        return Cow::Borrowed(&word[..n - 2]);
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return Cow::Borrowed(word);
    }
    match word.strip_suffix('s') {
        Some(base) => Cow::Borrowed(base),
        None => Cow::Borrowed(word),
    }
}

/// A light English stemmer: plural and a few common endings, so that
/// "allergies" finds "allergy" and "prescriptions" finds "prescription".
/// Deliberately conservative: codes and short words pass unchanged.
pub fn stem(word: &str) -> String {
    stem_cow(word).into_owned()
}

/// The terms a text is indexed under: stems of its words, stop words out.
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    tokens(text).into_iter().filter(|t| !is_stop_word(&t.text)).map(|t| stem(&t.text))
}

/// Which letters and digits a word holds, one bit each (others share a
/// bit). One edit changes at most two bits, so words whose masks differ in
/// more than `2 * max` bits cannot be within `max` edits.
pub fn letter_mask(word: &str) -> u64 {
    let mut mask = 0u64;
    for c in word.chars() {
        let bit = match c {
            'a'..='z' => c as u32 - 'a' as u32,
            '0'..='9' => 26 + c as u32 - '0' as u32,
            _ => 36 + (c as u32 % 28),
        };
        mask |= 1 << bit;
    }
    mask
}

/// Edit distance from one query word to many index words, without
/// allocating per comparison.
pub struct TypoMatcher {
    word: Vec<char>,
    mask: u64,
    max: usize,
    rows: [Vec<usize>; 3],
    other: Vec<char>,
}

impl TypoMatcher {
    pub fn new(word: &str, max: usize) -> TypoMatcher {
        let chars: Vec<char> = word.chars().collect();
        let width = chars.len() + max + 2;
        TypoMatcher {
            mask: letter_mask(word),
            word: chars,
            max,
            rows: [vec![0; width], vec![0; width], vec![0; width]],
            other: Vec::with_capacity(width),
        }
    }

    /// The distance to `candidate` (whose letter mask is `mask`), if within
    /// the limit.
    pub fn distance(&mut self, candidate: &str, mask: u64) -> Option<usize> {
        if (self.mask ^ mask).count_ones() as usize > 2 * self.max {
            return None;
        }
        self.other.clear();
        self.other.extend(candidate.chars());
        let (a, b) = (&self.word, &self.other);
        if a.len().abs_diff(b.len()) > self.max {
            return None;
        }
        let width = b.len() + 1;
        for r in &mut self.rows {
            if r.len() < width {
                r.resize(width, 0);
            }
        }
        let [prev2, prev, cur] = &mut self.rows;
        for (j, v) in prev.iter_mut().enumerate().take(width) {
            *v = j;
        }
        for i in 1..=a.len() {
            cur[0] = i;
            let mut row_min = i;
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(prev2[j - 2] + 1);
                }
                cur[j] = v;
                row_min = row_min.min(v);
            }
            if row_min > self.max {
                return None;
            }
            std::mem::swap(prev2, prev);
            std::mem::swap(prev, cur);
        }
        let d = prev[b.len()];
        (d <= self.max).then_some(d)
    }
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
    use std::collections::HashMap;

    /// The definition of the distance, written recursively, as the
    /// reference for `TypoMatcher`: slow, but obviously right.
    fn bounded_distance(a: &str, b: &str, max: usize) -> Option<usize> {
        // osa(i, j): the distance between the first i chars of a and the
        // first j of b, memoised.
        fn osa(a: &[char], b: &[char], i: usize, j: usize, memo: &mut HashMap<(usize, usize), usize>) -> usize {
            if i == 0 || j == 0 {
                return i + j;
            }
            if let Some(&d) = memo.get(&(i, j)) {
                return d;
            }
            let mut best = (osa(a, b, i - 1, j, memo) + 1)
                .min(osa(a, b, i, j - 1, memo) + 1)
                .min(osa(a, b, i - 1, j - 1, memo) + usize::from(a[i - 1] != b[j - 1]));
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(osa(a, b, i - 2, j - 2, memo) + 1);
            }
            memo.insert((i, j), best);
            best
        }
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let d = osa(&a, &b, a.len(), b.len(), &mut HashMap::new());
        (d <= max).then_some(d)
    }

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
    fn lower_tokens_match_tokens() {
        let text = "Über dm+d, DCB0129 & Allergies — ÉCOLE";
        let mut out = String::new();
        let mut spans = Vec::new();
        lower_tokens(text, &mut out, &mut spans);
        let a: Vec<&str> = spans.iter().map(|&(s, e)| &out[s..e]).collect();
        let b: Vec<String> = tokens(text).into_iter().map(|t| t.text).collect();
        assert_eq!(a, b);
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

    #[test]
    fn the_matcher_agrees_with_the_plain_distance() {
        let words = [
            "snomed",
            "snowmed",
            "allergy",
            "alergy",
            "prescribing",
            "prescibing",
            "fhir",
            "hl7",
            "referral",
            "refferal",
            "dcb0129",
            "dcb0160",
            "café",
        ];
        for a in words {
            for max in 0..=2 {
                let mut m = TypoMatcher::new(a, max);
                for b in words {
                    assert_eq!(m.distance(b, letter_mask(b)), bounded_distance(a, b, max), "{a} {b} {max}");
                }
            }
        }
    }
}
