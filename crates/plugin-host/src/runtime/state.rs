//! The store data of one plugin run: WASI and HTTP contexts, the egress hook, the memory bound
//! and what the plugin has sent so far.

use std::time::Instant;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::{LogLine, ProgressFn};
use crate::convert::Collected;
use crate::egress::Egress;

/// Store data of one run.
pub(crate) struct RunState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) http: WasiHttpCtx,
    pub(super) egress: Egress,
    pub(super) limiter: MemoryLimiter,
    pub(super) deadline: Instant,
    pub(super) timed_out: bool,
    pub(super) out: Collected,
    pub(super) logs: Vec<LogLine>,
    pub(super) dropped_logs: u64,
    pub(super) max_logs: usize,
    pub(super) progress: Option<ProgressFn>,
    pub(super) source: String,
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RunState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.egress,
        }
    }
}

/// Memory bound over all of a plugin's memories together (a component may hold several), that
/// remembers why it refused, so the error can say "memory limit exceeded".
pub(super) struct MemoryLimiter {
    pub(super) limit: usize,
    /// Bytes of all memories now (WebAssembly memories only grow).
    pub(super) total: usize,
    pub(super) exceeded: Option<String>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let total = (self.total - current.min(self.total)).saturating_add(desired);
        if total > self.limit {
            let msg = format!(
                "memory limit exceeded (its memories would hold {} MiB, the limit is {} MiB)",
                total >> 20,
                self.limit >> 20
            );
            self.exceeded = Some(msg.clone());
            return Err(wasmtime::Error::msg(msg));
        }
        self.total = total;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        16
    }
    fn tables(&self) -> usize {
        16
    }
    fn memories(&self) -> usize {
        16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component may hold several memories; the limit covers them together.
    #[test]
    fn the_memory_limit_covers_all_memories_together() {
        let mut l = MemoryLimiter {
            limit: 64 << 20,
            total: 0,
            exceeded: None,
        };
        // Three memories created at 20 MiB each fit; a fourth does not.
        for _ in 0..3 {
            assert!(l.memory_growing(0, 20 << 20, None).unwrap());
        }
        assert!(l.memory_growing(0, 20 << 20, None).is_err());
        assert!(
            l.exceeded
                .as_deref()
                .unwrap()
                .contains("would hold 80 MiB, the limit is 64 MiB")
        );
        // Growing one of them counts only the growth.
        let mut l = MemoryLimiter {
            limit: 64 << 20,
            total: 0,
            exceeded: None,
        };
        assert!(l.memory_growing(0, 30 << 20, None).unwrap());
        assert!(l.memory_growing(30 << 20, 60 << 20, None).unwrap());
        assert!(l.memory_growing(0, 5 << 20, None).is_err());
    }
}
