//! The order of every list of names JsonDB returns (store names, a store's indexes):
//! IndexedDB's `DOMStringList` order, by UTF-16 code unit. That differs from Rust's
//! `str` order (UTF-8 bytes, i.e. code points) for names mixing characters above
//! U+FFFF with characters in U+E000..=U+FFFF: in UTF-16 a character above U+FFFF
//! starts with a surrogate (0xD800..=0xDBFF), so "\u{10000}" < "\u{FF61}".

use std::cmp::Ordering;

/// Compares two names by their UTF-16 code units.
pub(crate) fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Sorts names as IndexedDB's `DOMStringList` does.
pub(crate) fn sort_names(names: &mut [String]) {
    names.sort_by(|a, b| utf16_cmp(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_order_differs_from_utf8_order() {
        let (bmp, astral) = ("\u{FF61}", "\u{10000}");
        assert!(bmp < astral, "UTF-8 / code point order");
        assert_eq!(utf16_cmp(astral, bmp), Ordering::Less, "UTF-16 order");
        let mut names = vec![bmp.to_string(), "a".into(), astral.to_string(), "".into()];
        sort_names(&mut names);
        assert_eq!(names, ["", "a", astral, bmp]);
    }
}
