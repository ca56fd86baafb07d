//! `kind = "slack"`: a Slack incoming webhook message in Block Kit: a header, the counts per
//! change, a section per gap up to a limit ("and N more"), and a `text` fallback for
//! notifications. Slack answers `200 ok`; a 4xx names the problem in its body (`invalid_payload`,
//! `invalid_token`, `no_service`, `channel_is_archived`, ...), and is not retried.

use crate::RunInfo;
use crate::changes::{Change, ChangeKind, counts};
use crate::config::Secret;
use crate::http::{Client, Response, RetryPolicy, status_line};
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};

/// Slack's limits: a header's text, a section's text.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;

/// Text from outside (titles, owners, evidence) made inert for mrkdwn: `&`, `<` and `>` are
/// escaped as Slack asks, so a name cannot become a link or an `@channel` mention.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// "3 new, 1 resolved".
fn summary(changes: &[&Change]) -> String {
    let c = counts(changes.iter().copied());
    let parts: Vec<String> = [
        (c.new, "new"),
        (c.worsened, "worsened"),
        (c.lapsed, "lapsed"),
        (c.resolved, "resolved"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    parts.join(", ")
}

fn gap_section(c: &Change) -> Value {
    let g = &c.gap;
    let what = match c.change {
        ChangeKind::New => "NEW".to_owned(),
        ChangeKind::Resolved => "RESOLVED".to_owned(),
        ChangeKind::Worsened => format!(
            "WORSENED from {}",
            c.previous_severity.map(|s| s.as_str()).unwrap_or("?")
        ),
        ChangeKind::Lapsed => "ACCEPTANCE LAPSED".to_owned(),
    };
    let owner = g.owner.as_ref().map_or("no accountable owner".to_owned(), |o| {
        format!("owner {} (via {})", esc(&o.name), esc(&o.via))
    });
    let mut text = format!(
        "*{what}* · *{}* · {}\n{}\n{owner} · `{}`",
        g.severity,
        g.kind,
        esc(&g.title),
        g.id
    );
    if let Some(e) = g.said.first()
        && c.change != ChangeKind::Resolved
    {
        text.push_str(&format!("\n> {}", esc(&e.detail)));
    }
    json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&text, SECTION_MAX)}})
}

/// The message.
pub fn message(run: &RunInfo, changes: &[&Change], max_gaps: usize) -> Value {
    let c = counts(changes.iter().copied());
    let head = format!("Roster: {} in {}", summary(changes), run.scope);
    let previous = run
        .previous_run
        .map_or("first run of the scope".to_owned(), |p| format!("since run {p}"));
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&head, HEADER_MAX), "emoji": false}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(
            "Scope `{}` · run {} ({previous})\n*New:* {} · *Worsened:* {} · *Lapsed:* {} · *Resolved:* {}",
            esc(&run.scope), run.run, c.new, c.worsened, c.lapsed, c.resolved
        )}}),
        json!({"type": "divider"}),
    ];
    blocks.extend(changes.iter().take(max_gaps).map(|c| gap_section(c)));
    if changes.len() > max_gaps {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
            "… and {} more: see the run's report (`roster diff --scope {}`)", changes.len() - max_gaps, esc(&run.scope)
        )}]}));
    }
    json!({
        "text": format!("{head} (run {}, {previous})", run.run),
        "blocks": blocks,
    })
}

/// Posts the message; `200 ok` is success.
pub async fn send(
    client: &Client,
    url: &Secret,
    max_gaps: usize,
    policy: &RetryPolicy,
    run: &RunInfo,
    changes: &[&Change],
    attempts: &mut u32,
) -> Result<(), String> {
    let body = Bytes::from(serde_json::to_vec(&message(run, changes, max_gaps)).map_err(|e| e.to_string())?);
    let make = || {
        http::Request::post(url.expose())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, crate::user_agent(run))
            .body(Full::new(body.clone()))
            .map_err(|e| format!("cannot build the request: {e}"))
    };
    let describe = |r: &Response| {
        let code = r.snippet();
        let hint = match code.as_str() {
            "invalid_payload" => ": Slack could not read the message",
            "invalid_token" | "no_service" | "no_active_hooks" => {
                ": the webhook was removed or disabled; create a new one and update the environment variable"
            }
            "channel_not_found" | "channel_is_archived" => {
                ": the webhook's channel is gone or archived; create a webhook for another channel"
            }
            "action_prohibited" | "posting_to_general_channel_denied" => ": the workspace's settings forbid this post",
            _ => "",
        };
        if code.is_empty() {
            status_line(r.status)
        } else {
            format!("{} {code}{hint}", status_line(r.status))
        }
    };
    let r = client.send(&make, policy, attempts, "POST", &describe).await?;
    // A 2xx whose body is not `ok` is not a Slack webhook's success.
    let said = r.snippet();
    if said != "ok" && !said.is_empty() {
        return Err(format!(
            "POST: {} but the answer is {said:?}, not \"ok\": is this a Slack incoming webhook?",
            status_line(r.status)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::tests::gap;
    use roster_model::Severity;

    fn run() -> RunInfo {
        RunInfo {
            scope: "acme".into(),
            run: 4,
            previous_run: Some(3),
            started: "2026-12-01T00:00:00Z".into(),
            roster_version: "0.1.0".into(),
        }
    }

    #[test]
    fn the_message_has_a_header_counts_sections_and_a_fallback() {
        let mut hostile = gap("gap-1", Severity::Critical);
        hostile.title = "key of <!channel> & <https://evil.example|click>".into();
        let changes: Vec<Change> = (0..5)
            .map(|i| Change {
                change: if i == 0 { ChangeKind::New } else { ChangeKind::Resolved },
                gap: if i == 0 {
                    hostile.clone()
                } else {
                    gap(&format!("gap-{i}"), Severity::Low)
                },
                previous_severity: None,
                previous_acceptance: None,
            })
            .collect();
        let refs: Vec<&Change> = changes.iter().collect();
        let m = message(&run(), &refs, 3);
        let blocks = m["blocks"].as_array().unwrap();
        let types: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "header", "section", "divider", "section", "section", "section", "context"
            ]
        );
        assert_eq!(blocks[0]["text"]["text"], "Roster: 1 new, 4 resolved in acme");
        assert!(
            m["text"]
                .as_str()
                .unwrap()
                .starts_with("Roster: 1 new, 4 resolved in acme (run 4, since run 3)")
        );
        let first = blocks[3]["text"]["text"].as_str().unwrap();
        assert!(
            first.contains("key of &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"),
            "{first}"
        );
        assert!(
            blocks[6]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .starts_with("… and 2 more")
        );
    }
}
