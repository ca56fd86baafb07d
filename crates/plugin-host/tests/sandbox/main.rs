//! The hostile-plugin suite: each way a plugin can misbehave is stopped with an error naming
//! it, what it emitted before is kept, and other plugins go on. `bounds`: traps, limits and
//! refused code; `egress`: the requests a plugin makes.

mod bounds;
mod egress;

use std::sync::Arc;
use std::time::Duration;

use roster_plugin_host::{CodeCache, Host, Limits, Manifest, Plugin, RunRequest};

fn host() -> Host {
    Host::new(Some(CodeCache::new(
        roster_testkit::test_deps().join("plugin-cache"),
        [1; 32],
    )))
    .unwrap()
}

fn hostile(host: &Host) -> Arc<Plugin> {
    Arc::new(
        host.load("hostile", &roster_testkit::guest_bytes("connector_hostile"), None)
            .unwrap(),
    )
}

fn request(mode: &str, manifest: Manifest, limits: Limits) -> RunRequest {
    RunRequest {
        source: format!("test-{mode}"),
        connector: "hostile".into(),
        config: vec![("mode".into(), mode.into())],
        files: vec![],
        manifest: Arc::new(manifest),
        limits,
        progress: None,
    }
}

fn quick_limits() -> Limits {
    Limits {
        time: Duration::from_secs(2),
        memory: 64 << 20,
        ..Limits::default()
    }
}
