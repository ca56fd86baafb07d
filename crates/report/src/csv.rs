//! CSV of findings, with formula-safe quoting.

use roster_model::Report;

pub(crate) fn csv_field(s: &str) -> String {
    // Quote always; neutralize spreadsheet formulas (a leading TAB or CR starts one too).
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(crate) fn csv(r: &Report) -> String {
    let mut s = String::from(
        "severity,rule_id,provider,source,path,line,column,redacted,fingerprint,commit,author,date,validation\n",
    );
    for f in &r.findings {
        let row = [
            f.severity.as_str().to_owned(),
            f.rule_id.to_string(),
            f.provider.to_string(),
            f.source.to_string(),
            f.path.to_string(),
            f.line.to_string(),
            f.column.to_string(),
            f.secret().unwrap_or(&f.redacted).to_owned(),
            f.fingerprint.to_string(),
            f.commit.as_deref().unwrap_or_default().to_owned(),
            f.author.as_deref().unwrap_or_default().to_owned(),
            f.date.as_deref().unwrap_or_default().to_owned(),
            f.validation().map(|v| v.as_str().to_owned()).unwrap_or_default(),
        ];
        let row: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_neutralized() {
        for cell in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(csv_field(cell).starts_with("\"'"), "{cell:?} -> {}", csv_field(cell));
        }
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("plain"), "\"plain\"");
    }
}
