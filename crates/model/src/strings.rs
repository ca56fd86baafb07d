//! Editing every string a value serializes to: how outputs are scrubbed of secrets and made safe
//! for a terminal, whatever fields the types gain later.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Replaces each string in `value` (object keys too) for which `f(keys, s)` returns a new one;
/// `keys` is the chain of object keys down to the string (for a key, down to its object). A
/// round trip through JSON values: a field that is not serialized (a finding's raw secret)
/// comes back empty, so callers keep those themselves.
pub fn edit_strings<T: Serialize + DeserializeOwned>(
    value: &mut T,
    mut f: impl FnMut(&[String], &str) -> Option<String>,
) -> Result<(), serde_json::Error> {
    let mut v = serde_json::to_value(&*value)?;
    if edit(&mut v, &mut Vec::new(), &mut f) {
        *value = serde_json::from_value(v)?;
    }
    Ok(())
}

/// Edits `v` in place; true when something changed.
fn edit(v: &mut Value, keys: &mut Vec<String>, f: &mut impl FnMut(&[String], &str) -> Option<String>) -> bool {
    match v {
        Value::String(s) => f(keys, s).map(|new| *s = new).is_some(),
        Value::Array(items) => items.iter_mut().fold(false, |changed, x| edit(x, keys, f) | changed),
        Value::Object(map) => {
            let mut changed = false;
            for (k, mut x) in std::mem::take(map) {
                keys.push(k);
                changed |= edit(&mut x, keys, f);
                let k = keys.pop().expect("pushed above");
                let k = match f(keys, &k) {
                    Some(new) => {
                        changed = true;
                        new
                    }
                    None => k,
                };
                map.insert(k, x);
            }
            changed
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::edit_strings;
    use std::collections::BTreeMap;

    #[test]
    fn every_string_and_key_is_offered_with_its_path() {
        let mut v: BTreeMap<String, Vec<BTreeMap<String, String>>> =
            [("a".into(), vec![[("b".into(), "x".into())].into()])].into();
        let mut seen = Vec::new();
        edit_strings(&mut v, |keys, s| {
            seen.push(format!("{}={s}", keys.join(".")));
            (s == "x").then(|| "y".to_owned())
        })
        .unwrap();
        assert_eq!(v["a"][0]["b"], "y");
        assert_eq!(seen, ["a.b=x", "a=b", "=a"]);
    }
}
