//! The forms in which requests hand out stored documents. Documents are stored as
//! compact JSON text (serde_json's output). The Rust API parses them into `Value`s;
//! the C API wants JSON text back, so it takes the stored text as it is (`RawDoc`)
//! rather than parsing it only to print it again. A request that must look inside a
//! document (a filter, a sort key) parses it either way, and still hands out the form
//! asked for.

use serde_json::Value;

use crate::error::{Error, Result};

/// Parses a stored document.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Internal(format!("stored document is not JSON: {e}")))
}

/// A form of document a request can return.
pub(crate) trait DocForm: Sized {
    /// From the stored bytes alone.
    fn stored(bytes: &[u8]) -> Result<Self>;
    /// From stored bytes the caller owns (a point read's copy).
    fn stored_owned(bytes: Vec<u8>) -> Result<Self> {
        Self::stored(&bytes)
    }
    /// From a document already parsed from `bytes`.
    fn parsed(doc: Value, bytes: &[u8]) -> Self;
}

impl DocForm for Value {
    fn stored(bytes: &[u8]) -> Result<Self> {
        parse(bytes)
    }
    fn parsed(doc: Value, _: &[u8]) -> Self {
        doc
    }
}

/// A document as its stored JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawDoc(pub Vec<u8>);

impl DocForm for RawDoc {
    fn stored(bytes: &[u8]) -> Result<Self> {
        Ok(RawDoc(bytes.to_vec()))
    }
    fn stored_owned(bytes: Vec<u8>) -> Result<Self> {
        Ok(RawDoc(bytes))
    }
    fn parsed(_: Value, bytes: &[u8]) -> Self {
        RawDoc(bytes.to_vec())
    }
}

impl RawDoc {
    /// `docs` as one JSON array text.
    pub(crate) fn array(docs: &[RawDoc]) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + docs.iter().map(|d| d.0.len() + 1).sum::<usize>());
        out.push(b'[');
        for (i, d) in docs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&d.0);
        }
        out.push(b']');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn raw_text_is_what_printing_the_parsed_document_gives() {
        let doc = json!({"id": 1.5, "name": "ä\"x", "tags": ["a", {"b": null}], "n": -0.0});
        let stored = serde_json::to_vec(&doc).unwrap();
        let raw = RawDoc::stored(&stored).unwrap();
        let parsed = Value::stored(&stored).unwrap();
        assert_eq!(raw.0, serde_json::to_vec(&parsed).unwrap());
        let two = RawDoc::array(&[raw.clone(), RawDoc::parsed(parsed.clone(), &stored)]);
        assert_eq!(
            serde_json::from_slice::<Value>(&two).unwrap(),
            json!([parsed.clone(), parsed])
        );
        assert_eq!(RawDoc::array(&[]), b"[]");
        assert!(Value::stored(b"{nope").is_err());
    }
}
