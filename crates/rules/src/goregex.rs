//! Go regular expressions (RE2 syntax, as gitleaks configs write them) rewritten in the `regex`
//! crate's syntax, so that a gitleaks config loads as it is and its rules mean what they mean
//! in gitleaks.
//!
//! The two dialects share most of their syntax; where they differ (Go's `regexp/syntax`
//! documentation against the `regex` crate's):
//!
//! - A `{` that does not start a valid repetition (`{n}`, `{n,}`, `{n,m}`) is a literal in Go
//!   (`{{ secrets.X }}`, `${VAR}`, `{,5}`); the `regex` crate refuses it. It is escaped.
//! - Go's Perl classes and word boundary are ASCII (`\d` is `[0-9]`, `\w` is `[0-9A-Za-z_]`,
//!   `\s` is `[\t\n\f\r ]`, `\b` is between ASCII word and non-word characters); the `regex`
//!   crate's are Unicode, much larger once compiled (`[\w-]{50,1000}` exceeds any sane size
//!   limit) and match more. They are written out as ASCII.
//! - An escaped punctuation character is a literal in Go; in the `regex` crate `\<` and `\>` are
//!   word boundaries. Escaped punctuation is written as a hex escape.
//! - Inside a class, Go reads `[`, `&&`, `--` and `~~` as literals; the `regex` crate as a nested
//!   class and set operations. Class members are written out escaped.
//! - Go's `\Q…\E` quotes literal text, `\123` is an octal code, `\p{^Greek}` is a negated class;
//!   the `regex` crate has none of them. They are rewritten.
//!
//! Everything else (groups and flags, `\A`, `\z`, `\pL`, `\x{…}`, POSIX classes, counted and
//! lazy repetitions) is the same in both and copied as it is. A pattern Go itself refuses
//! (`\C`, a dangling `\`, an unknown escape) is an error.

use std::fmt::Write as _;

/// `\d`, `\w` and `\s` as Go defines them (ASCII), as class members.
fn perl_members(c: char) -> Option<&'static str> {
    match c {
        'd' | 'D' => Some("0-9"),
        'w' | 'W' => Some("0-9A-Za-z_"),
        's' | 'S' => Some(r"\t\n\x0C\r\x20"),
        _ => None,
    }
}

/// One character as a literal that means itself anywhere (inside or outside a class).
fn literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() {
        out.push(c);
    } else {
        let _ = write!(out, r"\x{{{:02X}}}", u32::from(c));
    }
}

/// The rest of `p` after position `i`, as a char iterator with byte positions.
struct Cursor<'a> {
    p: &'a str,
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.p[self.i..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        self.p[self.i..].chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        Some(c)
    }

    fn rest(&self) -> &str {
        &self.p[self.i..]
    }
}

/// Whether `s` (just after a `{`) is a repetition Go parses: `n}`, `n,}` or `n,m}`.
fn repetition(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let n = digits(0);
    if n == 0 {
        return None;
    }
    let mut j = n;
    if b.get(j) == Some(&b',') {
        j += 1;
        j += digits(j);
    }
    (b.get(j) == Some(&b'}')).then_some(j + 1)
}

/// Translates a Go regular expression into the `regex` crate's syntax.
pub fn translate(go: &str) -> Result<String, String> {
    let mut out = String::with_capacity(go.len() + 16);
    let mut c = Cursor { p: go, i: 0 };
    while let Some(ch) = c.bump() {
        match ch {
            '\\' => escape(&mut c, &mut out, false)?,
            '[' => class(&mut c, &mut out)?,
            '{' => match repetition(c.rest()) {
                Some(len) => {
                    out.push('{');
                    out.push_str(&c.rest()[..len]);
                    c.i += len;
                }
                None => out.push_str(r"\{"),
            },
            '}' => out.push_str(r"\}"),
            '(' if c.peek() == Some('?') => {
                // Flags and group names are the same in both; copy up to the `:` or `)` (and
                // a name's `>`), so that nothing inside is read as a repetition.
                out.push('(');
                while let Some(x) = c.bump() {
                    out.push(x);
                    if x == ':' || x == ')' || x == '>' {
                        break;
                    }
                }
            }
            _ => out.push(ch),
        }
    }
    Ok(out)
}

/// An escape after `\`: written to `out`; `in_class` when inside `[…]`.
fn escape(c: &mut Cursor, out: &mut String, in_class: bool) -> Result<(), String> {
    let Some(e) = c.bump() else {
        return Err("trailing backslash at end of expression".into());
    };
    match e {
        'd' | 'w' | 's' if in_class => out.push_str(perl_members(e).unwrap_or_default()),
        'd' | 'w' | 's' => {
            out.push('[');
            out.push_str(perl_members(e).unwrap_or_default());
            out.push(']');
        }
        'D' | 'W' | 'S' => {
            // Inside a class, a nested negated class is a union member.
            out.push_str("[^");
            out.push_str(perl_members(e).unwrap_or_default());
            out.push(']');
        }
        'b' | 'B' if !in_class => {
            let _ = write!(out, "(?-u:\\{e})");
        }
        'A' | 'z' if !in_class => {
            out.push('\\');
            out.push(e);
        }
        'a' | 'f' | 't' | 'n' | 'r' | 'v' => {
            out.push('\\');
            out.push(e);
        }
        'x' => {
            // `\xHH` or `\x{HHHH}`, the same in both.
            out.push_str("\\x");
            if c.peek() == Some('{') {
                while let Some(x) = c.bump() {
                    out.push(x);
                    if x == '}' {
                        break;
                    }
                }
            } else {
                for _ in 0..2 {
                    out.push(c.bump().ok_or("invalid escape sequence: \\x")?);
                }
            }
        }
        'p' | 'P' => {
            // `\pL`, `\p{Greek}`; Go's `\p{^Greek}` is `\P{Greek}`.
            let mut negate = e == 'P';
            let name = if c.peek() == Some('{') {
                c.bump();
                let start = c.i;
                let end = c.rest().find('}').ok_or("invalid character class range: missing }")?;
                c.i += end + 1;
                let mut n = &c.p[start..start + end];
                if let Some(x) = n.strip_prefix('^') {
                    negate = !negate;
                    n = x;
                }
                format!("{{{n}}}")
            } else {
                c.bump().ok_or("invalid character class range")?.to_string()
            };
            out.push('\\');
            out.push(if negate { 'P' } else { 'p' });
            out.push_str(&name);
        }
        'Q' => {
            // Literal text up to `\E` (or the end).
            let rest = c.rest().len();
            let end = c.rest().find("\\E").unwrap_or(rest);
            let text: String = c.rest()[..end].to_owned();
            c.i += (end + 2).min(rest);
            if in_class {
                return Err("\\Q inside a character class".into());
            }
            for x in text.chars() {
                literal(out, x);
            }
        }
        '1'..='7' if c.peek().is_none_or(|x| !('0'..='7').contains(&x)) => {
            // `\1`…`\7` alone are back-references, which Go refuses as well.
            return Err(format!(
                "invalid escape sequence: \\{e} (back-references are not supported)"
            ));
        }
        '0'..='7' => {
            // Octal: up to three digits.
            let mut v = e.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                match c.peek().and_then(|x| x.to_digit(8)) {
                    Some(d) => {
                        v = v * 8 + d;
                        c.bump();
                    }
                    None => break,
                }
            }
            let ch = char::from_u32(v).ok_or("invalid octal escape")?;
            literal(out, ch);
        }
        'C' => return Err("\\C (any byte) is not supported".into()),
        x if x.is_ascii_punctuation() => literal(out, x),
        x => return Err(format!("invalid escape sequence: \\{x}")),
    }
    Ok(())
}

/// A class after `[`: its members, written escaped so that none is read as a nested class or a
/// set operation.
fn class(c: &mut Cursor, out: &mut String) -> Result<(), String> {
    out.push('[');
    if c.peek() == Some('^') {
        c.bump();
        out.push('^');
    }
    let mut first = true;
    loop {
        let Some(ch) = c.peek() else {
            return Err("missing closing ]".into());
        };
        if ch == ']' && !first {
            c.bump();
            out.push(']');
            return Ok(());
        }
        first = false;
        // POSIX classes: `[:alpha:]`, `[:^alpha:]`, the same in both.
        if ch == '['
            && c.peek2() == Some(':')
            && let Some(end) = c.rest()[2..].find(":]").map(|e| e + 2)
        {
            let name = &c.rest()[..end + 2];
            if name[2..end]
                .trim_start_matches('^')
                .bytes()
                .all(|b| b.is_ascii_lowercase())
            {
                out.push_str(name);
                c.i += end + 2;
                continue;
            }
        }
        // A member that is a class of its own (`\d`, `\pL`), or one character.
        if ch == '\\' && matches!(c.peek2(), Some('d' | 'w' | 's' | 'D' | 'W' | 'S' | 'p' | 'P')) {
            c.bump();
            escape(c, out, true)?;
            continue;
        }
        let lo = class_char(c)?;
        if c.peek() == Some('-') && c.peek2().is_some_and(|x| x != ']') {
            c.bump();
            let hi = class_char(c)?;
            if hi < lo {
                return Err(format!("invalid character class range: {lo}-{hi}"));
            }
            literal(out, lo);
            out.push('-');
            literal(out, hi);
        } else {
            literal(out, lo);
        }
    }
}

/// One character of a class: a literal, or an escape that stands for one character.
fn class_char(c: &mut Cursor) -> Result<char, String> {
    let ch = c.bump().ok_or("missing closing ]")?;
    if ch != '\\' {
        return Ok(ch);
    }
    let mut one = String::new();
    escape(c, &mut one, true)?;
    // The escape was written as one literal: read it back.
    if let Some(hex) = one.strip_prefix("\\x{").and_then(|h| h.strip_suffix('}')) {
        return u32::from_str_radix(hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("invalid escape \\x{{{hex}}}"));
    }
    if let Some(hex) = one.strip_prefix("\\x").filter(|h| h.len() == 2) {
        return u8::from_str_radix(hex, 16)
            .map(char::from)
            .map_err(|_| format!("invalid escape \\x{hex}"));
    }
    match one.as_str() {
        "\\a" => Ok('\x07'),
        "\\f" => Ok('\x0C'),
        "\\t" => Ok('\t'),
        "\\n" => Ok('\n'),
        "\\r" => Ok('\r'),
        "\\v" => Ok('\x0B'),
        s if s.chars().count() == 1 => Ok(s.chars().next().unwrap_or_default()),
        s => Err(format!("invalid escape in character class: {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::translate;
    use regex::bytes::Regex;

    /// Translates `go` and compiles it.
    fn re(go: &str) -> Regex {
        let t = translate(go).unwrap_or_else(|e| panic!("{go}: {e}"));
        Regex::new(&t).unwrap_or_else(|e| panic!("{go} -> {t}: {e}"))
    }

    #[test]
    fn braces_that_start_no_repetition_are_literals() {
        // gitleaks' own global allowlist and curl-auth-user's.
        let r = re(r"^\$(?:\d+|{\d+})$");
        assert!(r.is_match(b"$12") && r.is_match(b"${12}") && !r.is_match(b"${x}"));
        let r = re(r#"['"]?\$?{{[^}]+}}['"]?"#);
        assert!(r.is_match(b"'{{ secrets.TOKEN }}'"));
        let r = re(r"^\${(?:[A-Z_]+|[a-z_]+)}$");
        assert!(r.is_match(b"${API_KEY}") && !r.is_match(b"$API_KEY"));
        assert!(re(r"a{,3}").is_match(b"a{,3}"), "Go reads {{,n}} as a literal");
        assert!(re(r"a{}").is_match(b"a{}"));
        // Repetitions stay repetitions.
        let r = re(r"^x{2,3}$");
        assert!(r.is_match(b"xx") && r.is_match(b"xxx") && !r.is_match(b"x"));
        assert!(re(r"^x{2}$").is_match(b"xx") && re(r"^x{2,}$").is_match(b"xxxx"));
        assert!(re(r"^(?i)ab{2}$").is_match(b"ABB"));
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_go() {
        assert!(!re(r"^\w+$").is_match("é".as_bytes()));
        assert!(!re(r"^\s$").is_match(b"\x0b"), "Go's \\s has no \\v");
        assert!(re(r"^\s$").is_match(b"\x0c"));
        assert!(!re(r"^\d$").is_match("٣".as_bytes()));
        assert!(
            re(r"\bfoo\b").is_match("éfooé".as_bytes()),
            "é is not an ASCII word character"
        );
        assert!(re(r"^[\w-]+$").is_match(b"a-b_9") && !re(r"^[\W]$").is_match(b"a"));
        assert!(re(r"^[\S]+$").is_match(b"ab") && !re(r"^[^\s]$").is_match(b" "));
        // The largest patterns in gitleaks' config compile under the crate's default limit.
        assert!(
            re(r"pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}")
                .is_match(&[b"pypi-AgEIcHlwaS5vcmc".as_slice(), &[b'A'; 60]].concat())
        );
        re(r"\b(hvb\.[\w-]{138,300})(?:[\x60'\s;]|\\[nr]|$)");
    }

    #[test]
    fn class_members_are_literals_as_in_go() {
        let r = re(r"^[\w-.]+$");
        assert!(r.is_match(b"a-b.c"));
        let r = re(r"^[a&&b]$");
        assert!(r.is_match(b"&") && r.is_match(b"a"), "&& is literal in Go");
        let r = re(r"^[[]$");
        assert!(r.is_match(b"["));
        // Not a POSIX class: `[` and `:` as literals, as Go reads them.
        let r = re(r"^[[:]$");
        assert!(r.is_match(b"[") && r.is_match(b":"));
        assert!(re(r"^[]a]$").is_match(b"]"));
        assert!(re(r"^[a-]$").is_match(b"-"));
        assert!(re(r"^[^a-z]$").is_match(b"A") && !re(r"^[^a-z]$").is_match(b"q"));
        assert!(re(r"^[[:alnum:]]+$").is_match(b"ab1"));
        assert!(re(r"^[\x41-\x43]$").is_match(b"B"));
        assert!(re(r"^[\.]$").is_match(b".") && !re(r"^[\.]$").is_match(b"a"));
    }

    #[test]
    fn go_only_escapes_are_rewritten() {
        assert!(re(r"^a\<b\>$").is_match(b"a<b>"));
        assert!(re(r"^\Q.*+\E$").is_match(b".*+"));
        assert!(re(r"^\101$").is_match(b"A"));
        assert!(re(r"^\p{^Greek}$").is_match(b"a") && !re(r"^\p{^Greek}$").is_match("α".as_bytes()));
        assert!(re(r"^\pL$").is_match("é".as_bytes()));
        assert!(re(r#"^\"\'\/$"#).is_match(br#""'/"#));
        assert!(re(r"(?i)\b(?:key)\b").is_match(b"KEY"));
        assert!(re(r"(?P<name>ab)").is_match(b"ab") && re(r"(?<name>ab)").is_match(b"ab"));
        for bad in [r"\C", "a\\", r"\y", r"[a", r"\1", "[\\", r"\p{Greek", "\\x4"] {
            assert!(translate(bad).is_err(), "{bad} should be refused, as Go does");
        }
    }
}
