//! Query-string parsing: repeated keys, known names only, values checked
//! with a message that says what was expected.

use super::problem::{InvalidParam, Problem};

pub struct Params {
    pairs: Vec<(String, String)>,
    invalid: Vec<InvalidParam>,
}

impl Params {
    /// Parses a query string, refusing names not in `allowed`.
    pub fn parse(query: Option<&str>, allowed: &[&str]) -> Params {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut invalid = Vec::new();
        for (k, v) in &pairs {
            if !allowed.contains(&k.as_str()) {
                invalid.push(InvalidParam {
                    name: k.clone(),
                    value: v.clone(),
                    reason: format!("unknown parameter; expected one of {}", allowed.join(", ")),
                });
            }
        }
        Params { pairs, invalid }
    }

    /// Every non-empty value given for `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs.iter().filter(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim()).collect()
    }

    pub fn one(&self, name: &str) -> Option<&str> {
        self.all(name).last().copied()
    }

    pub fn invalid(&mut self, name: &str, value: &str, reason: impl Into<String>) {
        self.invalid.push(InvalidParam { name: name.to_owned(), value: value.to_owned(), reason: reason.into() });
    }

    /// Each value of `name` converted, or recorded as invalid.
    pub fn each<T>(&mut self, name: &str, convert: impl Fn(&str) -> Result<T, String>) -> Vec<T> {
        let values: Vec<String> = self.all(name).into_iter().map(str::to_owned).collect();
        let mut out = Vec::new();
        for v in values {
            match convert(&v) {
                Ok(t) => out.push(t),
                Err(reason) => self.invalid(name, &v, reason),
            }
        }
        out
    }

    /// A whole number in `min..=max`, or `default` when absent.
    pub fn number(&mut self, name: &str, default: u32, min: u32, max: u32) -> u32 {
        match self.one(name).map(str::to_owned) {
            None => default,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.invalid(name, &v, format!("a whole number from {min} to {max}"));
                    default
                }
            },
        }
    }

    /// Each invalid parameter in words, for pages rather than APIs.
    pub fn messages(&self) -> Vec<String> {
        self.invalid.iter().map(|p| format!("{} = `{}`: {}", p.name, p.value, p.reason)).collect()
    }

    /// Ok when every parameter was valid, else a 400 problem listing all.
    pub fn finish(self) -> Result<(), Problem> {
        if self.invalid.is_empty() { Ok(()) } else { Err(Problem::bad_request(self.invalid)) }
    }
}
