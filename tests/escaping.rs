//! Hostile names through every format, each read back with a real parser: a provider export, a
//! file path, a commit author and the agent registry carry HTML, a `javascript:` link, a
//! spreadsheet formula, Markdown markup and terminal control sequences. The HTML report runs
//! nothing of them in Chromium, the Markdown report renders them as text (markdown-it-py), the
//! CSV files read back as the same columns with no formula (Python's csv), SARIF validates
//! against its schema with URIs that resolve to the file, and the terminal gets no control
//! characters.

use crate::ROSTER;
use roster_testkit::{Env, fake, git_in, test_deps};
use serde_json::Value;
use std::path::Path;

/// An element that marks the page when any script of ours runs it.
const IMG: &str = r#"<img src=x onerror="document.body.dataset.pwned=1">"#;
const LINK: &str = "[open](javascript:document.body.dataset.pwned=1)";
const FORMULA: &str = r#"=HYPERLINK("evil.example","x")"#;
const MARKUP: &str = "a|b `c` *d* _e_ #f";
const CONTROL: &str = "\x1b[2J\x1b[31mred\r\n\t+1\u{9b}";

fn parse(mode: &str, file: &Path) -> String {
    let python = test_deps().join("venv/bin/python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parse_output.py");
    let out = std::process::Command::new(&python)
        .arg(script)
        .arg(mode)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/test.sh installs it)", python.display()));
    assert!(
        out.status.success(),
        "{} does not parse as {mode}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every table in rendered HTML has as many cells in each row as in its header.
fn tables_are_whole(html: &str, file: &Path) {
    for table in html.split("<table>").skip(1) {
        let table = &table[..table.find("</table>").unwrap()];
        let rows: Vec<&str> = table.split("<tr>").skip(1).collect();
        let width = rows[0].matches("<th").count();
        for r in &rows[1..] {
            assert_eq!(
                r.matches("<td").count(),
                width,
                "{}: a row lost its columns: {r}",
                file.display()
            );
        }
    }
}

fn markdown_is_inert(file: &Path) {
    let html = parse("md", file);
    for bad in ["<img", "href=\"javascript:", "<em>d</em>", "<code>c</code>"] {
        assert!(!html.contains(bad), "{} renders {bad:?}:\n{html}", file.display());
    }
    tables_are_whole(&html, file);
    assert!(
        html.contains("&lt;img src=x onerror="),
        "{}: the hostile name did not reach it",
        file.display()
    );
}

fn csv_is_inert(file: &Path) {
    let rows: Vec<Vec<String>> = serde_json::from_str(&parse("csv", file)).unwrap();
    let width = rows[0].len();
    let mut formulas = 0;
    for r in &rows {
        assert_eq!(r.len(), width, "{}: {r:?}", file.display());
        for cell in r {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{}: a spreadsheet would run {cell:?}",
                file.display()
            );
            formulas += usize::from(cell.contains("HYPERLINK"));
        }
    }
    assert!(formulas > 0, "{}: the formula did not reach it", file.display());
}

fn sarif_is_valid(file: &Path, paths: &[String]) {
    let python = test_deps().join("venv/bin/python");
    let check = std::process::Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_sarif.py"))
        .arg(test_deps().join("sarif-2.1.0-rtm.5.json"))
        .arg(file)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let v: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let base = url::Url::parse("file:///src/repo/").unwrap();
    for r in v["runs"][0]["results"].as_array().unwrap() {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        let resolved = base.join(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert!(
            resolved.as_str().starts_with(base.as_str()),
            "{uri} leaves the base: {resolved}"
        );
        let path = percent_encoding::percent_decode_str(&resolved.path()["/src/repo/".len()..])
            .decode_utf8()
            .unwrap();
        assert!(
            paths.iter().any(|p| *p == path),
            "{uri} resolves to {path}, not a finding's path"
        );
    }
}

/// No C0 control character but the line feed, and no C1 one.
fn terminal_is_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || ('\u{80}'..='\u{9f}').contains(&c))
        .collect();
    assert!(bad.is_empty(), "{what} writes control characters {bad:?}:\n{text}");
}

fn html_is_inert(file: &Path) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.contains("script-src 'sha256-"),
        "the CSP allows only the report's own script"
    );
    let dom = String::from_utf8(roster_testkit::chromium(file, &["--dump-dom"])).unwrap();
    assert!(
        !dom.contains("data-pwned"),
        "a hostile name ran script in the HTML report"
    );
    assert!(
        !dom.contains("<img src=\"x\"") && !dom.contains("href=\"javascript:"),
        "{dom}"
    );
    assert!(
        dom.contains("&lt;img src=x onerror="),
        "the hostile name is shown as text"
    );
}

#[test]
fn hostile_names_stay_text_in_every_format() {
    let env = Env::new(ROSTER);
    let demo = env.roster(&["demo", "--output", "demo"]);
    assert_eq!(demo.status.code(), Some(0), "{}", String::from_utf8_lossy(&demo.stderr));
    let org = env.path("demo/sample-org");
    let app = org.join("acme-app");

    // Committed secrets under hostile paths, by a hostile author.
    let paths = [
        format!("src/{IMG}.py"),
        format!("{LINK} {FORMULA}.env"),
        format!("{CONTROL}.txt"),
    ];
    for p in &paths {
        let file = app.join(p);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, format!("OPENAI_API_KEY={}\n", fake::openai_project())).unwrap();
    }
    git_in(&app, &["add", "-A"]);
    let author = format!("{FORMULA} {MARKUP} {LINK} <dev@acme.example>");
    git_in(&app, &["commit", "-q", "-m", CONTROL, "--author", &author]);

    // Hostile names in a provider export and in the registry.
    let apps = org.join("exports/entra/applications.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&apps).unwrap()).unwrap();
    v["value"][0]["displayName"] = IMG.into();
    std::fs::write(&apps, serde_json::to_vec(&v).unwrap()).unwrap();
    let keys = org.join("exports/openai/api-keys.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&keys).unwrap()).unwrap();
    v["data"][0]["owner"]["service_account"]["name"] = format!("{FORMULA} {LINK}").into();
    std::fs::write(&keys, serde_json::to_vec(&v).unwrap()).unwrap();
    let registry = std::fs::read_to_string(org.join("agents.toml")).unwrap().replacen(
        "name = \"Customer-support agent\"",
        &format!("name = {}", toml_string(&format!("{MARKUP} {IMG} {CONTROL}"))),
        1,
    );
    std::fs::write(org.join("agents.toml"), registry).unwrap();

    let config = org.join("roster.toml").display().to_string();
    let out = env.roster(&["discover", "--config", &config, "--output-dir", "out"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    terminal_is_clean("discover's stdout", &out.stdout);
    terminal_is_clean("discover's stderr", &out.stderr);

    let report: Value = serde_json::from_slice(&std::fs::read(env.path("out/report.json")).unwrap()).unwrap();
    let json = report.to_string();
    for hostile in [IMG, FORMULA] {
        let quoted = serde_json::to_string(hostile).unwrap();
        assert!(
            json.contains(&quoted[1..quoted.len() - 1]),
            "{hostile} did not reach the JSON report"
        );
    }
    html_is_inert(&env.path("out/report.html"));
    markdown_is_inert(&env.path("out/report.md"));
    csv_is_inert(&env.path("out/gaps.csv"));

    // The scan's own formats.
    let repo = app.display().to_string();
    for format in ["md", "csv", "sarif", "json"] {
        let file = env.path(&format!("scan.{format}"));
        let o = env.roster(&[
            "scan",
            "--git",
            &repo,
            "--format",
            format,
            "--output",
            file.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let text = env.roster(&["scan", "--git", &repo]);
    terminal_is_clean("scan's text report", &text.stdout);
    terminal_is_clean("scan's stderr", &text.stderr);
    markdown_is_inert(&env.path("scan.md"));
    csv_is_inert(&env.path("scan.csv"));
    let scanned: Value = serde_json::from_slice(&std::fs::read(env.path("scan.json")).unwrap()).unwrap();
    let found: Vec<String> = scanned["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    for p in &paths {
        assert!(found.contains(p), "no finding in {p:?}: {found:?}");
    }
    sarif_is_valid(&env.path("scan.sarif"), &found);
}

/// `s` as a TOML basic string (a JSON string is one, but for DEL, which it does not hold).
fn toml_string(s: &str) -> String {
    assert!(!s.contains('\u{7f}'));
    serde_json::to_string(s).unwrap()
}
