//! Roster's own imports a plugin calls: `log`, `progress` and `sink`.

use super::LogLine;
use super::state::RunState;
use crate::bindings::roster::connector::{log, progress, sink, types};

impl types::Host for RunState {}

impl log::Host for RunState {
    async fn log(&mut self, level: types::Level, message: String) -> wasmtime::Result<()> {
        if self.logs.len() >= self.max_logs {
            self.dropped_logs += 1;
            return Ok(());
        }
        let level = match level {
            types::Level::Trace => "trace",
            types::Level::Debug => "debug",
            types::Level::Info => "info",
            types::Level::Warn => "warn",
            types::Level::Error => "error",
        };
        let mut message = message;
        if message.len() > 4096 {
            let mut cut = 4096;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        self.logs.push(LogLine { level, message });
        Ok(())
    }
}

impl progress::Host for RunState {
    async fn report(&mut self, done: u64, total: Option<u64>, message: String) -> wasmtime::Result<()> {
        if let Some(p) = &self.progress {
            let m: String = message.chars().take(200).collect();
            p(&self.source, done, total, &m);
        }
        Ok(())
    }
}

impl sink::Host for RunState {
    async fn emit(&mut self, batch: types::Batch) -> wasmtime::Result<Result<(), String>> {
        self.out.accept(batch)
    }
}
