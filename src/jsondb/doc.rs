//! The forms in which requests hand out stored documents. Documents are stored as
//! compact JSON text (serde_json's output). The Rust API parses them into `Value`s;
//! the C API wants JSON text back, so it takes the stored text as it is (`RawDoc`)
//! rather than parsing it only to print it again. A request that must look inside a
//! document (a filter, a sort key) parses it either way, and still hands out the form
//! asked for.
//!
//! A query puts its documents into a `DocSink`: a list of one form, or, for the C API,
//! `DocArray`, the JSON array text itself, into which each document is copied once as
//! it is read (no allocation per document).
//!
//! These are public so that every caller (the C ABI is one) reads documents the same
//! way; the two traits are sealed: the forms and sinks are the ones listed here.

use serde_json::Value;

use crate::error::{Error, Result};

/// Parses a stored document.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::Internal(format!("stored document is not JSON: {e}")))
}

/// The deepest nesting of arrays and objects a stored document may have: what
/// `parse` reads back (serde_json's recursion limit, 128, counts the outermost level
/// too). The C API and the CLI parse their input with the same limit.
pub(crate) const MAX_DEPTH: usize = 127;

/// Refuses a document nested deeper than [`MAX_DEPTH`]: stored, it could not be read,
/// replaced or deleted again (each reads it first).
pub(crate) fn check_depth(doc: &Value) -> Result<()> {
    let nested = |v: &Value| matches!(v, Value::Array(_) | Value::Object(_));
    // The containers still to look into, with their depth (scalars never enter).
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    if nested(doc) {
        stack.push((doc, 1));
    }
    while let Some((v, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(Error::Data(format!(
                "the document nests arrays and objects more than {MAX_DEPTH} levels deep"
            )));
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().filter(|c| nested(c)).map(|c| (c, depth + 1))),
            Value::Object(o) => {
                stack.extend(o.values().filter(|c| nested(c)).map(|c| (c, depth + 1)))
            }
            _ => {}
        }
    }
    Ok(())
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for serde_json::Value {}
    impl Sealed for super::RawDoc {}
    impl<D: super::DocForm> Sealed for Vec<D> {}
    impl Sealed for super::DocArray {}
}

/// A form in which reads hand out a document: [`Value`] (parsed) or [`RawDoc`] (the
/// stored JSON text). Sealed.
pub trait DocForm: Sized + sealed::Sealed {
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

/// A document as its stored JSON text (compact, UTF-8), not parsed: for callers that
/// pass documents on as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawDoc(Vec<u8>);

impl RawDoc {
    /// The JSON text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The JSON text, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
    /// The document parsed.
    pub fn parse(&self) -> Result<Value> {
        parse(&self.0)
    }

    /// A copy of `bytes` with room for one byte more: a C string's NUL, so the C
    /// API's `CString` takes the text as it is instead of copying it into a larger
    /// allocation.
    fn copied(bytes: &[u8]) -> Self {
        let mut text = Vec::with_capacity(bytes.len() + 1);
        text.extend_from_slice(bytes);
        RawDoc(text)
    }
}

impl DocForm for RawDoc {
    fn stored(bytes: &[u8]) -> Result<Self> {
        Ok(RawDoc::copied(bytes))
    }
    fn stored_owned(bytes: Vec<u8>) -> Result<Self> {
        Ok(RawDoc(bytes))
    }
    fn parsed(_: Value, bytes: &[u8]) -> Self {
        RawDoc::copied(bytes)
    }
}

/// Where a query puts the documents it returns, in the order it finds them; `cut`
/// then keeps the page the caller asked for. A `Vec` of a [`DocForm`], or a
/// [`DocArray`]. Sealed.
pub trait DocSink: Default + sealed::Sealed {
    /// Adds a stored document whose text nothing has parsed.
    fn push_stored(&mut self, bytes: &[u8]) -> Result<()>;
    /// Adds a document already parsed from `bytes`.
    fn push_parsed(&mut self, doc: Value, bytes: &[u8]);
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Says about how many documents will come (a hint, for sizing).
    fn expect(&mut self, _docs: usize) {}
    /// Keeps `limit` documents from `offset` on, counted after reversing the order
    /// found if `reverse`.
    fn cut(&mut self, reverse: bool, offset: usize, limit: usize);
}

impl<D: DocForm> DocSink for Vec<D> {
    fn push_stored(&mut self, bytes: &[u8]) -> Result<()> {
        self.push(D::stored(bytes)?);
        Ok(())
    }
    fn push_parsed(&mut self, doc: Value, bytes: &[u8]) {
        self.push(D::parsed(doc, bytes));
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn cut(&mut self, reverse: bool, offset: usize, limit: usize) {
        if reverse {
            self.reverse();
        }
        self.drain(..offset.min(self.len()));
        self.truncate(limit);
    }
}

/// Documents as one JSON array text, written as they come: each stored document is
/// copied once, straight into the text, with no allocation of its own (what the C
/// API hands out).
#[derive(Debug, Default)]
pub struct DocArray {
    /// `[` and the documents so far, separated by commas (empty until the first);
    /// `]` comes in `into_text`.
    text: Vec<u8>,
    /// Where each document starts in `text`.
    starts: Vec<usize>,
    /// Documents expected (`expect`): the first one sizes the text for them all.
    expected: usize,
}

/// The most documents `DocArray` sizes its text for in advance.
const MAX_EXPECTED: usize = 256;

impl DocArray {
    /// An empty array whose text has room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        DocArray {
            text: Vec::with_capacity(bytes),
            ..DocArray::default()
        }
    }

    /// The document at `i`, without its separator.
    fn doc(&self, i: usize) -> &[u8] {
        let end = self.starts.get(i + 1).map_or(self.text.len(), |s| s - 1);
        &self.text[self.starts[i]..end]
    }

    fn push_text(&mut self, bytes: &[u8]) {
        if self.text.is_empty() {
            // Unless sized already (`with_capacity`): room for documents a quarter
            // longer than the first, the brackets, and the NUL the C API adds.
            if self.text.capacity() == 0 {
                let each = bytes.len() + bytes.len() / 4 + 1;
                self.text
                    .reserve(each.saturating_mul(self.expected.max(1)) + 3);
            }
            self.starts.reserve(self.expected);
            self.text.push(b'[');
        } else if !self.starts.is_empty() {
            self.text.push(b',');
        }
        self.starts.push(self.text.len());
        self.text.extend_from_slice(bytes);
    }

    /// The JSON array text.
    pub fn into_text(mut self) -> Vec<u8> {
        if self.text.is_empty() {
            self.text.push(b'[');
        }
        self.text.push(b']');
        self.text
    }
}

impl DocSink for DocArray {
    fn push_stored(&mut self, bytes: &[u8]) -> Result<()> {
        self.push_text(bytes);
        Ok(())
    }
    fn push_parsed(&mut self, _: Value, bytes: &[u8]) {
        self.push_text(bytes);
    }
    fn len(&self) -> usize {
        self.starts.len()
    }
    fn expect(&mut self, docs: usize) {
        self.expected = docs.min(MAX_EXPECTED);
    }
    fn cut(&mut self, reverse: bool, offset: usize, limit: usize) {
        let n = self.len();
        let keep = n.saturating_sub(offset).min(limit);
        if !reverse && offset == 0 {
            if keep < n {
                // Before the separator of the first document dropped, or after `[`.
                self.text
                    .truncate(self.starts[keep] - usize::from(keep > 0));
                self.starts.truncate(keep);
            }
            return;
        }
        let mut page = DocArray::default();
        for i in (0..n).skip(offset).take(keep) {
            page.push_text(self.doc(if reverse { n - 1 - i } else { i }));
        }
        *self = page;
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
        let mut two = DocArray::default();
        two.push_stored(&raw.0).unwrap();
        two.push_parsed(parsed.clone(), &RawDoc::parsed(parsed.clone(), &stored).0);
        assert_eq!(
            serde_json::from_slice::<Value>(&two.into_text()).unwrap(),
            json!([parsed.clone(), parsed])
        );
        assert_eq!(DocArray::default().into_text(), b"[]");
        assert!(Value::stored(b"{nope").is_err());
    }

    /// A page cut from the text array is the page cut from the list (seed logged).
    #[test]
    fn text_array_cuts_like_a_list() {
        let mut rng = crate::util::test_rng("text_array_cuts_like_a_list");
        for _ in 0..500 {
            let n = rng.usize(0..12);
            let (reverse, offset, limit) = (rng.bool(), rng.usize(0..14), rng.usize(0..14));
            let docs: Vec<Vec<u8>> = (0..n)
                .map(|i| {
                    serde_json::to_vec(&json!({"i": i, "pad": "x".repeat(rng.usize(0..5))}))
                        .unwrap()
                })
                .collect();
            let (mut list, mut text) = (Vec::<RawDoc>::new(), DocArray::default());
            for d in &docs {
                list.push_stored(d).unwrap();
                text.push_stored(d).unwrap();
            }
            assert_eq!(DocSink::len(&list), text.len());
            list.cut(reverse, offset, limit);
            text.cut(reverse, offset, limit);
            let mut want = DocArray::default();
            for d in &list {
                want.push_stored(&d.0).unwrap();
            }
            assert_eq!(
                text.into_text(),
                want.into_text(),
                "{n} docs, {reverse} {offset} {limit}"
            );
        }
    }
}
