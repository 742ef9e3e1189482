//! A plain growable bitset over document ids, for filters and facet counts.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bits {
    words: Vec<u64>,
}

impl Bits {
    pub fn with_len(bits: usize) -> Bits {
        Bits { words: vec![0; bits.div_ceil(64)] }
    }

    pub fn set(&mut self, i: u32) {
        let w = i as usize / 64;
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (i % 64);
    }

    pub fn clear(&mut self, i: u32) {
        if let Some(w) = self.words.get_mut(i as usize / 64) {
            *w &= !(1 << (i % 64));
        }
    }

    pub fn get(&self, i: u32) -> bool {
        self.words.get(i as usize / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Keeps only bits also set in `other`.
    pub fn and(&mut self, other: &Bits) {
        for (i, w) in self.words.iter_mut().enumerate() {
            *w &= other.words.get(i).copied().unwrap_or(0);
        }
    }

    /// Adds the bits set in `other`.
    pub fn or(&mut self, other: &Bits) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w |= o;
        }
    }

    /// How many bits are set in both.
    pub fn count_and(&self, other: &Bits) -> u32 {
        self.words.iter().zip(&other.words).map(|(a, b)| (a & b).count_ones()).sum()
    }

    /// Which words hold any set bit: counting against a sparse set then
    /// touches only those.
    pub fn nonzero_words(&self) -> Vec<u32> {
        self.words.iter().enumerate().filter(|(_, w)| **w != 0).map(|(i, _)| i as u32).collect()
    }

    /// `count_and`, looking only at the given words of `self`.
    pub fn count_and_in(&self, other: &Bits, words: &[u32]) -> u32 {
        words
            .iter()
            .map(|&i| (self.words[i as usize] & other.words.get(i as usize).copied().unwrap_or(0)).count_ones())
            .sum()
    }

    pub fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some(i as u32 * 64 + bit)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_count() {
        let mut a = Bits::default();
        for i in [1, 64, 65, 200] {
            a.set(i);
        }
        let mut b = Bits::with_len(300);
        b.set(64);
        b.set(200);
        b.set(250);
        assert_eq!(a.count_and(&b), 2);
        assert_eq!(a.ones().collect::<Vec<_>>(), vec![1, 64, 65, 200]);
        a.clear(64);
        a.and(&b);
        assert_eq!(a.ones().collect::<Vec<_>>(), vec![200]);
        assert!(a.get(200) && !a.get(64));
    }
}
