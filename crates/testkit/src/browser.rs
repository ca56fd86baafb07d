//! Headless Chromium (Debian's package; scripts/test.sh installs it, `ROSTER_CHROMIUM` names
//! another binary) opening a local page.

use std::path::Path;

/// Runs headless Chromium on `page` with `args` (`--dump-dom`, `--screenshot=FILE`); returns
/// its standard output. Panics when Chromium is missing or fails.
pub fn chromium(page: &Path, args: &[&str]) -> Vec<u8> {
    let chromium = std::env::var("ROSTER_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let out = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--hide-scrollbars",
            "--window-size=1280,2000",
        ])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {chromium} ({e}): install Debian's chromium (scripts/test.sh does)"));
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
