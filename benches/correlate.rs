//! Correlation at scale: 1,000,000 findings and 100,000 identities (the target), timed
//! and with peak memory. Run: `cargo bench -p roster-correlate --bench correlate [-- FINDINGS IDENTITIES]`.
//!
//! The inputs are generated: 100k IAM-like users each with one or two access keys, a tenth of
//! them AI-capable, owners on two thirds; 1M findings over 250k distinct secrets (so most
//! secrets sit in several places), a quarter of them AWS key ids of collected keys (joined by
//! fingerprint); 200k activity events; a registry of 1,000 agents.
#![allow(clippy::print_stdout, missing_docs, reason = "a benchmark binary prints its figures")]

use roster_correlate::{Context, Registry, Thresholds, correlate};
use roster_model::*;
use roster_testkit::records;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The system allocator, counting the bytes live on the heap, so the bench can say what each
/// part of the inputs and of the result holds (peak RSS alone cannot).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments unchanged.
#[allow(unsafe_code, reason = "a counting wrapper around the system allocator")]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
        PEAK.fetch_max(now, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes live on the heap now, in MiB.
fn live_mib() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
}

/// The most bytes ever live on the heap, in MiB.
fn peak_heap_mib() -> f64 {
    PEAK.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
}

/// What dropping `v` gives back, in MiB.
fn weigh<T>(v: T) -> f64 {
    let before = live_mib();
    drop(v);
    before - live_mib()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A cheap keyed "fingerprint" with the shape of the real one (64 hex chars).
fn fp(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}{:016x}{h:016x}{:016x}", h.rotate_left(17), h.rotate_left(31))
}

fn key_id(i: usize) -> String {
    format!("AKIA{i:016}")
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_findings = args.first().copied().unwrap_or(1_000_000);
    let n_identities = args.get(1).copied().unwrap_or(100_000);
    let t0 = Instant::now();
    let day = |d: i64| format_millis(1_764_000_000_000 - d * 86_400_000);
    let mut identities = Vec::with_capacity(n_identities);
    for i in 0..n_identities {
        let mut credentials = vec![Credential {
            created: Some(day((i % 900) as i64).into()),
            last_used: (i % 5 != 0).then(|| day((i % 200) as i64).into()),
            last_used_service: Some(if i % 10 == 0 { "bedrock" } else { "s3" }.into()),
            ..records::credential(&key_id(i), "access-key")
        }];
        if i % 3 == 0 {
            let mut c = credentials[0].clone();
            c.id = key_id(n_identities + i).into();
            credentials.push(c);
        }
        let owners = if i % 3 != 2 {
            vec![Owner {
                id: format!("user{}", i % 5000).into(),
                name: format!("user{}@example.com", i % 5000).into(),
                kind: "user".into(),
                via: "tag:owner".into(),
                enabled: Some(i % 97 != 0),
            }]
        } else {
            vec![]
        };
        let permissions = if i % 10 == 0 {
            vec![Permission {
                name: "bedrock".into(),
                kind: "inline-policy".into(),
                actions: vec!["bedrock:InvokeModel".into()],
                resources: vec!["*".into()],
                attrs: if i % 50 == 0 {
                    BTreeMap::from([("admin".into(), "true".into())])
                } else {
                    BTreeMap::new()
                },
            }]
        } else {
            vec![]
        };
        identities.push(Identity {
            owner: owners.first().cloned(),
            owners,
            created: Some(day(1000).into()),
            credentials,
            permissions,
            ..records::identity(
                "aws",
                "cloud-user",
                &format!("arn:aws:iam::111122223333:user/svc-{i}"),
                &format!("svc-{i}"),
            )
        });
    }
    // The plugin host shares the strings identities repeat as it converts them; so does the
    // generator.
    let mut shared = Interner::new();
    for i in &mut identities {
        i.share_strings(&mut shared);
    }
    drop(shared);
    let distinct = (n_findings / 4).max(1);
    let mut findings = Vec::with_capacity(n_findings);
    // Discovery shares each shard's repeated strings as it loads them; so does the generator.
    let mut shared = Interner::new();
    for i in 0..n_findings {
        let s = i % distinct;
        // A quarter of the distinct secrets are AWS key ids of collected keys.
        let secret = if s % 4 == 0 {
            key_id((s / 4) % n_identities)
        } else {
            format!("sk-proj-{s:040}")
        };
        let mut f = Finding {
            rule_name: if s % 4 == 0 {
                "AWS access key ID"
            } else {
                "OpenAI project API key"
            }
            .into(),
            provider: "p".into(),
            path: format!("src/mod{}/file{}.py", i % 1000, i % 37).into(),
            line: (i % 500) as u32 + 1,
            column: 5,
            redacted: format!("{}…{}", &secret[..4], &secret[secret.len() - 4..]).into(),
            length: secret.len(),
            entropy: 4.0,
            source: format!("repo{}", i % 200).into(),
            commit: Some(format!("{i:040x}").into()),
            author: Some(format!("Dev {} <dev{}@example.com>", i % 300, i % 300).into()),
            date: Some(day((i % 700) as i64).into()),
            ..records::finding("x", &fp(secret.as_bytes()))
        };
        f.share_strings(&mut shared);
        findings.push(f);
    }
    drop(shared);
    // The plugin host shares the strings events repeat as it converts them; so does the generator.
    let mut shared = Interner::new();
    let activities: Vec<Activity> = (0..n_identities * 2)
        .map(|i| Activity {
            source: "cloudtrail".into(),
            id: format!("ev{i}").into(),
            time: day((i % 60) as i64).into(),
            credential_id: Some(key_id(i % n_identities).into()),
            identity_id: None,
            action: "InvokeModel".into(),
            service: Some("bedrock.amazonaws.com".into()),
            source_ip: Some("203.0.113.9".into()),
            user_agent: Some("langchain/0.3".into()),
            outcome: Some("success".into()),
            attrs: if i % 7 == 0 {
                BTreeMap::from([("ai_client".into(), "langchain".into())])
            } else {
                BTreeMap::new()
            },
        })
        .map(|mut a| {
            a.share_strings(&mut shared);
            a
        })
        .collect();
    let mut reg = String::new();
    for a in 0..1000 {
        reg.push_str(&format!(
            "[[agent]]\nid = \"a{a}\"\nowner = \"o{a}@example.com\"\ncode = [\"src/mod{a}\"]\nidentities = [\"arn:aws:iam::111122223333:user/svc-{}\"]\n",
            a * 10
        ));
    }
    let registry = Registry::parse(&reg, "bench").unwrap();
    let mut report = Report::empty("bench");
    report.findings = findings;
    report.identities = identities;
    report.activities = activities;
    let generated = t0.elapsed();
    let rss_inputs = peak_rss_mib();
    let heap_inputs = live_mib();

    let t = Instant::now();
    let owners = BTreeMap::new();
    let f = |b: &[u8]| fp(b);
    correlate(
        &mut report,
        &Context {
            now_ms: 1_764_000_000_000,
            thresholds: Thresholds::default(),
            registry: Some(&registry),
            codeowners: &owners,
            fingerprint: Some(&f),
        },
    );
    let took = t.elapsed();
    let peak = peak_rss_mib();
    let heap_after = live_mib();
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &report.gaps {
        *per.entry(g.kind.as_str()).or_default() += 1;
    }
    println!(
        "correlate: {n_findings} findings ({distinct} distinct secrets), {n_identities} identities, {} events, 1000 registry entries",
        report.activities.len()
    );
    println!(
        "  inputs generated in {:.2}s; peak RSS after generating: {rss_inputs:.0} MiB",
        generated.as_secs_f64()
    );
    println!(
        "  correlate: {:.2}s; peak RSS: {peak:.0} MiB (+{:.0} MiB)",
        took.as_secs_f64(),
        peak - rss_inputs
    );
    println!("  {} gaps: {per:?}", report.gaps.len());
    println!(
        "  sizes: Finding {} B, Gap {} B, Evidence {} B",
        size_of::<Finding>(),
        size_of::<Gap>(),
        size_of::<Evidence>()
    );
    // What each part holds on the heap (Gap structs included, Texts a part shares with another
    // counted where the last holder is dropped): the compliance map, each kind's gaps, then the
    // inputs.
    println!(
        "  heap: {heap_inputs:.0} MiB live after generating, {heap_after:.0} MiB after correlating, {:.0} MiB at most",
        peak_heap_mib()
    );
    let mut parts = vec![("compliance".to_string(), weigh(std::mem::take(&mut report.compliance)))];
    for kind in GapKind::ALL {
        let (mine, rest): (Vec<Gap>, Vec<Gap>) = std::mem::take(&mut report.gaps)
            .into_iter()
            .partition(|g| g.kind == kind);
        report.gaps = rest;
        let n = mine.len();
        if n > 0 {
            let mib = weigh(mine);
            parts.push((format!("{kind} ({} B a gap)", (mib * 1048576.0 / n as f64) as u64), mib));
        }
    }
    parts.push(("findings".into(), weigh(std::mem::take(&mut report.findings))));
    parts.push(("identities".into(), weigh(std::mem::take(&mut report.identities))));
    parts.push(("activities".into(), weigh(std::mem::take(&mut report.activities))));
    for (part, mib) in parts {
        println!("    {mib:7.1} MiB  {part}");
    }
}
