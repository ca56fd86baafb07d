//! Correlation on hand-built records: each join and owner rule, checked in isolation.

use roster_correlate::{CodeOwners, Context, Registry, Thresholds, correlate};
use roster_model::*;
use roster_testkit::records;
use std::collections::BTreeMap;

const NOW: &str = "2026-11-30T00:00:00Z";

fn now() -> i64 {
    parse_time(NOW).unwrap()
}

fn cred(id: &str, kind: &str, created: &str, last_used: Option<&str>) -> Credential {
    Credential {
        created: Some(created.into()),
        last_used: last_used.map(Into::into),
        ..records::credential(id, kind)
    }
}

fn ident(source: &str, kind: &str, id: &str, name: &str, credentials: Vec<Credential>) -> Identity {
    Identity {
        created: Some("2026-10-01T00:00:00Z".into()),
        last_used: Some("2026-11-29T00:00:00Z".into()),
        credentials,
        ..records::identity(source, kind, id, name)
    }
}

fn finding(fp: &str, redacted: &str, source: &str, path: &str, author: &str) -> Finding {
    Finding {
        rule_name: "OpenAI project API key".into(),
        provider: "openai".into(),
        path: path.into(),
        line: 3,
        redacted: redacted.into(),
        length: 164,
        entropy: 5.5,
        source: source.into(),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        author: Some(author.into()),
        date: Some("2026-06-01T00:00:00Z".into()),
        ..records::finding("openai.project-key", fp)
    }
}

fn run(report: &mut Report, registry: Option<&Registry>, codeowners: &BTreeMap<String, CodeOwners>) {
    let fp = |b: &[u8]| format!("fp:{}", String::from_utf8_lossy(b));
    correlate(
        report,
        &Context {
            now_ms: now(),
            thresholds: Thresholds::default(),
            registry,
            codeowners,
            fingerprint: Some(&fp),
        },
    );
}

fn kinds(r: &Report) -> Vec<(String, String)> {
    r.gaps
        .iter()
        .map(|g| (g.kind.as_str().to_owned(), g.entities[0].name.to_string()))
        .collect()
}

#[test]
fn an_openai_key_in_code_is_joined_to_the_admin_apis_key_by_prefix_and_last_four() {
    let mut r = Report::empty("test");
    let mut key = cred(
        "key_abc",
        "api-key",
        "2026-10-01T00:00:00Z",
        Some("2026-11-29T00:00:00Z"),
    );
    key.redacted = Some("sk-proj-*****AbCd".into());
    key.expires = Some("2027-03-01T00:00:00Z".into());
    let mut other = cred("key_def", "api-key", "2026-10-01T00:00:00Z", None);
    other.redacted = Some("sk-svcacct-****AbCd".into()); // same last four, other prefix
    other.expires = Some("2027-03-01T00:00:00Z".into());
    r.identities.push(ident(
        "openai",
        "ai-service-account",
        "svc_1",
        "support-bot",
        vec![key, other],
    ));
    r.findings.push(finding(
        "f1",
        "sk-proj-…AbCd",
        "app",
        "bot/.env",
        "Dana <dana@example.org>",
    ));
    run(&mut r, None, &BTreeMap::new());
    let g = r.gaps.iter().find(|g| g.kind == GapKind::CommittedSecret).unwrap();
    assert_eq!(g.severity, Severity::Critical, "joined to an active key");
    assert!(g.entities.iter().any(|e| e.id == "key_abc"), "{:?}", g.entities);
    assert!(!g.entities.iter().any(|e| e.id == "key_def"));
    assert!(g.said.iter().any(|e| {
        e.detail
            .contains("has the prefix and last four of openai's key key_abc")
    }));
    // The service account is an AI identity with no registry entry; its owner is the commit
    // author of the leaked key, to confirm.
    assert!(kinds(&r).contains(&("unregistered-agent".into(), "support-bot".into())));
    let acc = r.identities[0].accountable.as_ref().unwrap();
    assert_eq!((acc.via.as_str(), acc.attested), ("commit-author", false));
}

#[test]
fn a_disabled_owner_counts_as_none_and_codeowners_comes_before_the_commit_author() {
    let mut r = Report::empty("test");
    let mut a = ident("okta", "idp-app", "0oa1", "billing-sync", vec![]);
    a.owners.push(Owner {
        id: "00u1".into(),
        name: "gone@example.org".into(),
        kind: "user".into(),
        via: "idp-owner".into(),
        enabled: Some(false),
    });
    r.identities.push(a);
    // An agent in code whose directory CODEOWNERS assigns.
    r.agents.push(Agent {
        id: "agent:app:bots/triage".into(),
        path: "bots/triage".into(),
        source: "app".into(),
        frameworks: vec!["CrewAI".into()],
        credentials: vec![],
        mcp_servers: vec![],
        evidence: vec![AgentEvidence {
            category: AgentCategory::Framework,
            framework: "CrewAI".into(),
            rule_id: "agent.crewai".into(),
            path: "bots/triage/main.py".into(),
            line: 1,
            evidence: "crewai".into(),
            commit: None,
        }],
        accountable: None,
        registered_as: None,
    });
    let (co, _) = CodeOwners::parse("/bots/ @acme/bots\n", "app/CODEOWNERS");
    let owners = BTreeMap::from([("app".to_string(), co)]);
    run(&mut r, None, &owners);
    let no_owner = r
        .gaps
        .iter()
        .find(|g| g.kind == GapKind::NoOwner)
        .expect("no-owner gap");
    assert!(
        no_owner
            .said
            .iter()
            .any(|e| e.detail.contains("gone@example.org (idp-owner) is disabled"))
    );
    assert_eq!(r.agents[0].accountable.as_ref().unwrap().name, "@acme/bots");
    assert_eq!(r.agents[0].accountable.as_ref().unwrap().via, "codeowners");
}

#[test]
fn the_registry_covers_identities_by_key_id_and_flags_a_zombie() {
    let mut r = Report::empty("test");
    r.identities.push(ident(
        "aws",
        "cloud-user",
        "arn:aws:iam::1:user/old-bot",
        "old-bot",
        vec![cred(
            "AKIAOLDBOT0000000001",
            "access-key",
            "2026-10-01T00:00:00Z",
            Some("2025-01-01T00:00:00Z"),
        )],
    ));
    r.identities[0].last_used = None;
    r.connectors.push(ConnectorRun {
        source: "aws".into(),
        status: roster_model::RunStatus::Complete,
        ..Default::default()
    });
    let reg = Registry::parse(
        "[[agent]]\nid = \"old\"\nowner = \"kim@example.org\"\ncredentials = [\"AKIAOLDBOT0000000001\"]\n",
        "agents.toml",
    )
    .unwrap();
    run(&mut r, Some(&reg), &BTreeMap::new());
    assert_eq!(r.identities[0].registered_as.as_deref(), Some("old"));
    assert_eq!(r.identities[0].accountable.as_ref().unwrap().via, "registry");
    let k = kinds(&r);
    assert!(k.contains(&("registry-zombie".into(), "old".into())), "{k:?}");
    assert!(k.contains(&("stale-identity".into(), "old-bot".into())), "{k:?}");
    assert!(
        !k.iter()
            .any(|(kind, _)| kind == "no-owner" || kind == "unregistered-agent"),
        "{k:?}"
    );
}

#[test]
fn neighbouring_aws_keys_are_not_chained_into_one_credential() {
    // A .env with two key pairs on lines 1-4; the secret of the first is equally close to both
    // key ids, and the scanner's link from it points at the second id (one-sided).
    let mut r = Report::empty("test");
    for (user, key) in [("svc-a", "AKIAAAAAAAAAAAAAAAA1"), ("svc-b", "AKIABBBBBBBBBBBBBBB2")] {
        r.identities.push(ident(
            "aws",
            "cloud-user",
            &format!("arn:aws:iam::1:user/{user}"),
            user,
            vec![cred(
                key,
                "access-key",
                "2026-10-01T00:00:00Z",
                Some("2026-11-29T00:00:00Z"),
            )],
        ));
    }
    let mut f = |fp: &str, paired: &str, line: u32| {
        let mut x = finding(fp, "AKIA…XXXX", "app", ".env", "Dana <dana@example.org>");
        x.rule_name = "AWS".into();
        x.extra_mut().paired_with = Some(paired.into());
        x.line = line;
        r.findings.push(x);
    };
    f("fp:AKIAAAAAAAAAAAAAAAA1", "s1", 1);
    f("s1", "fp:AKIABBBBBBBBBBBBBBB2", 2);
    f("fp:AKIABBBBBBBBBBBBBBB2", "s2", 3);
    f("s2", "fp:AKIABBBBBBBBBBBBBBB2", 4);
    run(&mut r, None, &BTreeMap::new());
    let joined: Vec<(&str, &str)> = r
        .gaps
        .iter()
        .filter(|g| g.kind == GapKind::CommittedSecret)
        .filter_map(|g| {
            let cred = g.entities.iter().find(|e| e.kind == "credential")?;
            Some((g.entities[0].id.as_str(), cred.id.as_str()))
        })
        .collect();
    assert!(
        joined.contains(&("fp:AKIAAAAAAAAAAAAAAAA1", "AKIAAAAAAAAAAAAAAAA1")),
        "{joined:?}"
    );
    assert!(
        joined.iter().any(|(_, c)| *c == "AKIABBBBBBBBBBBBBBB2"),
        "the second key has its own gap: {joined:?}"
    );
}

#[test]
fn an_upper_case_entra_app_id_in_code_joins_graphs_lower_case_one() {
    let mut r = Report::empty("test");
    let mut app = ident("entra", "application", "obj-1", "invoice-ocr", vec![]);
    app.attrs
        .insert("app_id".into(), "9c1e7b42-0d3a-4f5e-b6a8-2c9d0e1f3a54".into());
    app.attrs
        .insert("app_owner_tenant".into(), "9C1E7B42-0D3A-4F5E-B6A8-2C9D0E1F3A54".into());
    r.identities.push(app);
    r.agents.push(Agent {
        id: "agent:app:ocr".into(),
        path: "ocr".into(),
        source: "app".into(),
        frameworks: vec!["LangChain".into()],
        credentials: vec![AgentCredential {
            kind: "client-id".into(),
            name: "9C1E7B42-0D3A-4F5E-B6A8-2C9D0E1F3A54".into(),
            path: "ocr/settings.cs".into(),
            line: 4,
            fingerprint: None,
            redacted: None,
        }],
        mcp_servers: vec![],
        evidence: vec![],
        accountable: None,
        registered_as: None,
    });
    run(&mut r, None, &BTreeMap::new());
    let gap = r.gaps.iter().find(|g| g.kind == GapKind::UnregisteredAgent).unwrap();
    assert_eq!(gap.entities.len(), 2, "{gap:#?}");
}

#[test]
fn a_client_id_in_agent_code_joins_the_agent_to_the_okta_app() {
    let mut r = Report::empty("test");
    let mut app = ident("okta", "service-app", "0oa8f5j3ecb5w8Rmp5d7", "ticket-sync", vec![]);
    app.attrs.insert("client_id".into(), "0oa8f5j3ecb5w8Rmp5d7".into());
    r.identities.push(app);
    r.identities
        .push(ident("okta", "service-app", "0oaOTHER0000000000001", "other", vec![]));
    let client_id = |id: &str| AgentCredential {
        kind: "client-id".into(),
        name: id.into(),
        path: "bots/triage/okta.py".into(),
        line: 7,
        fingerprint: None,
        redacted: None,
    };
    r.agents.push(Agent {
        id: "agent:app:bots/triage".into(),
        path: "bots/triage".into(),
        source: "app".into(),
        frameworks: vec!["CrewAI".into()],
        credentials: vec![client_id("0oa8f5j3ecb5w8Rmp5d7"), client_id("0oaNOSUCHAPP000000001")],
        mcp_servers: vec![],
        evidence: vec![],
        accountable: None,
        registered_as: None,
    });
    run(&mut r, None, &BTreeMap::new());
    let gap = r
        .gaps
        .iter()
        .find(|g| g.kind == GapKind::UnregisteredAgent)
        .expect("unregistered agent");
    let names: Vec<&str> = gap.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["bots/triage", "ticket-sync"],
        "only the app whose client id is named"
    );
    assert!(gap.said.iter().any(|e| e.detail
        == "bots/triage/okta.py:7 names the client id 0oa8f5j3ecb5w8Rmp5d7 of service-app `ticket-sync` in okta"));

    // Registering the agent's code does not claim the app: a client id is public, so naming it
    // gives neither registry coverage nor an owner.
    let mut r2 = r.clone();
    r2.gaps.clear();
    let reg = Registry::parse(
        "[[agent]]\nid = \"triage\"\nowner = \"kim@example.org\"\ncode = [\"bots/triage\"]\n",
        "agents.toml",
    )
    .unwrap();
    run(&mut r2, Some(&reg), &BTreeMap::new());
    assert_eq!(r2.agents[0].registered_as.as_deref(), Some("triage"));
    assert_eq!(r2.identities[0].registered_as, None);
    assert!(r2.identities[0].accountable.is_none());
    assert!(
        !r2.gaps.iter().any(|g| g.kind == GapKind::UnregisteredAgent),
        "the agent is registered"
    );
}

#[test]
fn the_providers_answer_to_validate_sets_the_committed_secrets_severity() {
    let mut r = Report::empty("test");
    let mut live = finding("f-live", "sk-proj-…Live", "app", "a/.env", "Dana <dana@example.org>");
    live.extra_mut().validation = Some(Validation::Live);
    live.extra_mut().validation_detail = Some("HTTP 200 from api.openai.com".into());
    live.severity = Severity::Critical;
    let mut gone = finding("f-gone", "sk-proj-…Gone", "app", "b/.env", "Dana <dana@example.org>");
    gone.extra_mut().validation = Some(Validation::Revoked);
    gone.extra_mut().validation_detail = Some("HTTP 401 from api.openai.com".into());
    gone.severity = Severity::Low;
    r.findings.extend([live, gone]);
    run(&mut r, None, &BTreeMap::new());
    let gap = |fp: &str| {
        r.gaps
            .iter()
            .find(|g| g.kind == GapKind::CommittedSecret && g.entities[0].id == fp)
            .unwrap()
    };
    let g = gap("f-live");
    assert_eq!(g.severity, Severity::Critical);
    assert!(g.title.ends_with("and live (the provider accepted it)"), "{}", g.title);
    assert!(g.said.iter().any(|e| e.source == "validation"
        && e.detail == "the provider answered live: HTTP 200 from api.openai.com"));
    let g = gap("f-gone");
    assert_eq!(g.severity, Severity::Low);
    assert!(g.title.ends_with("(the provider refused it)"), "{}", g.title);
}

/// An Azure RBAC principal (azure-rbac) with `role` on a subscription, marked an Azure OpenAI
/// identity, and Entra's record of the same service principal (object id `oid`, upper case in
/// ARM's answer).
fn azure_principal(oid: &str, role: &str, admin: bool) -> Identity {
    let mut x = records::identity("azure", "service-principal", &oid.to_ascii_lowercase(), oid);
    for (k, v) in [
        ("object", "servicePrincipal"),
        ("entra_object_id", oid),
        ("ai_platform", "azure-openai"),
    ] {
        x.attrs.insert(k.into(), v.into());
    }
    x.permissions.push(Permission {
        name: role.into(),
        kind: "iam-role".into(),
        actions: vec![role.into()],
        resources: vec!["/subscriptions/sub-1".into()],
        attrs: if admin {
            BTreeMap::from([("admin".to_string(), "true".to_string())])
        } else {
            BTreeMap::new()
        },
    });
    x
}

fn entra_sp(oid: &str, name: &str, owners: Vec<Owner>) -> Identity {
    let mut x = records::identity("entra", "service-principal", oid, name);
    x.attrs.insert("object".into(), "servicePrincipal".into());
    x.attrs.insert("app_id".into(), format!("app-{oid}"));
    x.owners = owners;
    x
}

#[test]
fn an_azure_owner_assignment_of_an_ai_service_principal_joins_its_entra_record() {
    // Three principals: "chat-agent" holds Owner on the subscription and has no owner in Entra;
    // "summarizer" holds Owner too, but Entra names its owner; "reader" holds Reader only.
    let mut r = Report::empty("test");
    r.identities
        .push(entra_sp("aaaaaaaa-0000-0000-0000-000000000001", "chat-agent", vec![]));
    r.identities
        .push(azure_principal("AAAAAAAA-0000-0000-0000-000000000001", "Owner", true));
    r.identities.push(entra_sp(
        "aaaaaaaa-0000-0000-0000-000000000002",
        "summarizer",
        vec![Owner {
            id: "u-1".into(),
            name: "dana@acme.com".into(),
            kind: "user".into(),
            via: "idp-owner".into(),
            enabled: Some(true),
        }],
    ));
    r.identities
        .push(azure_principal("aaaaaaaa-0000-0000-0000-000000000002", "Owner", true));
    r.identities
        .push(entra_sp("aaaaaaaa-0000-0000-0000-000000000003", "reader", vec![]));
    r.identities
        .push(azure_principal("aaaaaaaa-0000-0000-0000-000000000003", "Reader", false));
    run(&mut r, None, &BTreeMap::new());

    // One set of gaps per principal, raised on its Entra record, with Azure's facts as evidence:
    // the reader is AI-capable but holds nothing broad (no over-privileged-agent), the
    // summarizer has an owner (no no-owner). None is registered as an agent.
    let mut got = kinds(&r);
    got.sort();
    let pairs = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        got,
        pairs(&[
            ("no-owner", "chat-agent"),
            ("no-owner", "reader"),
            ("over-privileged-agent", "chat-agent"),
            ("over-privileged-agent", "summarizer"),
            ("unregistered-agent", "chat-agent"),
            ("unregistered-agent", "reader"),
            ("unregistered-agent", "summarizer"),
        ]),
        "{:#?}",
        r.gaps
    );
    let over = r
        .gaps
        .iter()
        .find(|g| g.kind == GapKind::OverPrivilegedAgent && g.entities[0].name == "chat-agent")
        .unwrap();
    assert_eq!(over.severity, Severity::High);
    assert_eq!(
        over.entities[0].id, "aaaaaaaa-0000-0000-0000-000000000001",
        "the Entra record"
    );
    let evidence: Vec<&str> = over.said.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(
        evidence,
        [
            "agent link: azure (the same principal, object id aaaaaaaa-0000-0000-0000-000000000001): azure marks it an identity of azure-openai",
            "azure (the same principal, object id aaaaaaaa-0000-0000-0000-000000000001): iam-role `Owner` on /subscriptions/sub-1 grants full administrative access",
        ]
    );
    let no_owner = r
        .gaps
        .iter()
        .find(|g| g.kind == GapKind::NoOwner && g.entities[0].name == "chat-agent")
        .unwrap();
    assert_eq!(no_owner.severity, Severity::High, "an agent's identity");
    // Summarizer's owner in Entra is the Azure record's owner too.
    let azure_summarizer = r
        .identities
        .iter()
        .find(|x| x.source == "azure" && x.id.ends_with("0002"))
        .unwrap();
    let owner = azure_summarizer.accountable.as_ref().unwrap();
    assert_eq!(owner.name, "dana@acme.com");
    assert!(owner.evidence.contains("its record in entra"), "{owner:?}");

    // Without Entra's record, the Azure record stands for itself.
    let mut alone = Report::empty("test");
    alone
        .identities
        .push(azure_principal("bbbbbbbb-0000-0000-0000-000000000001", "Owner", true));
    run(&mut alone, None, &BTreeMap::new());
    let mut got = kinds(&alone);
    got.sort();
    assert_eq!(
        got,
        pairs(&[
            ("no-owner", "bbbbbbbb-0000-0000-0000-000000000001"),
            ("over-privileged-agent", "bbbbbbbb-0000-0000-0000-000000000001"),
            ("unregistered-agent", "bbbbbbbb-0000-0000-0000-000000000001"),
        ])
    );
}
