//! Shared immutable strings: the repeated text of findings and gaps (a rule's name, a
//! repository, a commit's author, a gap kind's remediation) held once and referenced by every
//! record that repeats it, so that a million findings do not hold a million copies.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;

/// An immutable string that clones without copying. It reads like a `&str` (`Deref`,
/// `as_str`, comparisons with `str` and `String`) and serializes as a plain string.
///
/// It is one pointer wide (8 bytes, and so is `Option<Text>`): the length lives in the shared
/// allocation with the count and the bytes ([`arcstr::ArcStr`]), not beside the pointer as in
/// an `Arc<str>`. A million findings holding a dozen of them each save about 100 MB by it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(arcstr::ArcStr);

impl Text {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether both are the same allocation (so sharing worked).
    pub fn ptr_eq(a: &Text, b: &Text) -> bool {
        arcstr::ArcStr::ptr_eq(&a.0, &b.0)
    }
}

impl Default for Text {
    fn default() -> Self {
        Text(arcstr::ArcStr::new())
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(arcstr::ArcStr::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(arcstr::ArcStr::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text(arcstr::ArcStr::from(s.as_str()))
    }
}

impl From<&Text> for Text {
    fn from(s: &Text) -> Self {
        s.clone()
    }
}

impl From<Text> for String {
    fn from(s: Text) -> Self {
        s.0.to_string()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == &*other.0
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Text::from)
    }
}

/// Hands out one shared [`Text`] per distinct string: records loaded from JSON or built one by
/// one each hold their own copy until they pass through here.
#[derive(Default)]
pub struct Interner {
    seen: HashSet<Text>,
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Interner::default()
    }

    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Text {
        if let Some(t) = self.seen.get(s) {
            return t.clone();
        }
        let t = Text::from(s);
        self.seen.insert(t.clone());
        t
    }

    /// Replaces `t` with the shared copy of its string.
    pub fn share(&mut self, t: &mut Text) {
        match self.seen.get(t.as_str()) {
            Some(s) => *t = s.clone(),
            None => {
                self.seen.insert(t.clone());
            }
        }
    }

    /// [`Interner::share`] for an optional string.
    pub fn share_opt(&mut self, t: &mut Option<Text>) {
        if let Some(t) = t {
            self.share(t);
        }
    }

    /// How many distinct strings it holds.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::{Interner, Text};

    #[test]
    fn reads_compares_and_serializes_as_a_string() {
        let t = Text::from("OpenAI project API key");
        assert_eq!(t, "OpenAI project API key");
        assert_eq!(t.as_str().len(), 22);
        assert!(t.starts_with("OpenAI"));
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"OpenAI project API key\"");
        let back: Text = serde_json::from_str("\"x\\u00e9\"").unwrap();
        assert_eq!(back, "xé");
        assert_eq!(
            format!("{t} {t:?}"),
            "OpenAI project API key \"OpenAI project API key\""
        );
    }

    #[test]
    fn a_text_is_one_pointer_wide_and_so_is_an_absent_one() {
        assert_eq!(std::mem::size_of::<Text>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<Option<Text>>(), std::mem::size_of::<usize>());
        assert_eq!(Text::default(), "");
    }

    #[test]
    fn an_interner_shares_equal_strings_and_keeps_distinct_ones_apart() {
        let mut i = Interner::new();
        let a = i.get("repo-a");
        let mut b = Text::from(String::from("repo-a"));
        assert!(!Text::ptr_eq(&a, &b));
        i.share(&mut b);
        assert!(Text::ptr_eq(&a, &b));
        let c = i.get("repo-b");
        assert!(!Text::ptr_eq(&a, &c));
        assert_eq!(i.len(), 2);
    }
}
