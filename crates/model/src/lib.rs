//! Roster's shared vocabulary: findings, agents, severities and the scan report.
//!
//! This crate does no I/O. Every type that can leave the process (JSON, SARIF, state files)
//! is defined here so the writers and the scanner agree on one shape.

mod activity;
mod agent;
mod classify;
mod connector;
mod error;
mod finding;
mod gap;
mod hex;
mod identity;
mod notification;
mod report;
mod repository;
mod scan;
mod severity;
mod strings;
mod text;
mod time;

pub use activity::Activity;
pub use agent::{Agent, AgentCategory, AgentCredential, AgentEvidence, McpServer};
pub use classify::{classify_app_name, classify_user_agent};
pub use connector::{ConnectorRun, RunStatus};
pub use error::error_chain;
pub use finding::{CommitInfo, Finding, FindingExtra, RuleKind, SecretBytes, Validation};
pub use gap::{Acceptance, CiteAs, EntityRef, Evidence, Gap, GapKind, ResolvedOwner};
pub use hex::{hex, unhex};
pub use identity::{Credential, CredentialStatus, Identity, Owner, Permission};
pub use notification::{ChangeCounts, DeliveryStatus, Notification};
pub use report::{ControlResult, ControlStatus, REPORT_VERSION, Report, ToolInfo};
pub use repository::Repository;
pub use scan::{ScanIssue, ScanStats, ValidationStats};
pub use severity::Severity;
pub use strings::edit_strings;
pub use text::{Interner, Text};
pub use time::{format_millis, parse_time};
