//! What the fuzz targets found, one test per fix. The connectors are tested through the host
//! (tests/collect_*.rs) and have no unit tests of their own; their fixes are checked here,
//! natively, through the same export readers.

use roster_connector_sdk::Emitter;
use roster_connector_sdk::types::ExportFile;

fn file(format: &str, data: &str) -> [ExportFile; 1] {
    [ExportFile {
        name: "export.json".into(),
        format: format.into(),
        data: data.as_bytes().to_vec(),
    }]
}

/// A URL-encoded policy document with a `%` before a multibyte character: the decoder sliced
/// the text inside the character and panicked.
#[test]
fn aws_iam_policy_document_with_a_percent_before_a_multibyte_character() {
    let gaad = r#"{"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [{
        "RoleName": "r", "RoleId": "AROA1", "Arn": "arn:aws:iam::1:role/r", "Path": "/",
        "AssumeRolePolicyDocument": "%%é%7B%22Statement%22%3A%5B%5D%7D"}]}"#;
    connector_aws_iam::read_exports(&mut Emitter::new(usize::MAX), &file("gaad", gaad)).expect("read");
}

/// A key's `created_at` of i64::MAX seconds: converting to milliseconds overflowed.
#[test]
fn openai_created_at_out_of_range() {
    let keys = r#"{"object": "list", "data": [{"id": "key_1", "name": "k", "created_at": 9223372036854775807,
        "redacted_value": "sk-...abc", "owner": {"type": "user", "user": {"id": "u", "name": "n"}}}]}"#;
    connector_openai_admin::read_exports(&mut Emitter::new(usize::MAX), &file("api-keys", keys)).expect("read");
}
