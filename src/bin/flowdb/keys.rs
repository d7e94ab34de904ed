//! Keys on the command line. Keys are bytes, arguments are text: a key that is not
//! UTF-8 (or holds bytes no one can type) is given in standard base64 instead, as the
//! output shows such a key (`key_b64` in JSON lines, `series --json` and `aggregate`).
//! Every option naming a key, a prefix or a key range end has a `-b64` twin taking
//! base64: `--key-b64`, `--prefix-b64`, `--from-key-b64`, `--to-key-b64`. Nothing is
//! sniffed from the text: a key that looks like base64, or begins like a marker, is
//! itself.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

/// The bytes of a `-b64` option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBytes(pub Vec<u8>);

/// Standard base64 (the alphabet `dump` writes), with or without its `=` padding.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// clap's parser of the `-b64` options (clap names the option in its error).
pub fn parse_b64(text: &str) -> Result<KeyBytes, String> {
    B64.decode(text).map(KeyBytes).map_err(|e| {
        format!(
            "not base64 ({e}): standard base64 (A-Z a-z 0-9 + /, `=` padding optional), \
             as `dump` writes key_b64"
        )
    })
}

/// `bytes` named in a message: a UTF-8 key as a quoted string (`"cpu.1"`); another
/// escaped, with the base64 that names it (`"\xff\x00k" (base64 "/wBr")`).
pub fn shown(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => format!("{s:?}"),
        Err(_) => {
            use base64::engine::general_purpose::STANDARD;
            format!(
                "\"{}\" (base64 \"{}\")",
                bytes.escape_ascii(),
                STANDARD.encode(bytes)
            )
        }
    }
}

/// A key from its text or its `-b64` twin (clap lets at most one through).
pub fn either<'a>(text: Option<&'a str>, b64: Option<&'a KeyBytes>) -> Option<&'a [u8]> {
    match (text, b64) {
        (_, Some(k)) => Some(&k.0),
        (Some(t), None) => Some(t.as_bytes()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_with_or_without_padding() {
        assert_eq!(parse_b64("/wBr"), Ok(KeyBytes(vec![0xff, 0, b'k'])));
        assert_eq!(parse_b64("/wE="), Ok(KeyBytes(vec![0xff, 1])));
        assert_eq!(parse_b64("/wE"), Ok(KeyBytes(vec![0xff, 1])));
        assert_eq!(parse_b64(""), Ok(KeyBytes(Vec::new())));
        for bad in ["!!", "/w?", "a", "-_8=", "/w= ="] {
            assert!(parse_b64(bad).unwrap_err().contains("not base64"), "{bad}");
        }
    }

    #[test]
    fn keys_in_messages() {
        assert_eq!(shown(b"cpu.1"), "\"cpu.1\"");
        assert_eq!(shown(b"\xff\x00k"), r#""\xff\x00k" (base64 "/wBr")"#);
    }
}
