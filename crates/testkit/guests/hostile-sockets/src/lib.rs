//! A test-only connector that opens a TCP connection itself, around the host's HTTP hook. Its
//! component imports `wasi:sockets`, so the host must refuse to load it at all.

use std::io::Write;

use roster_connector_sdk::types::*;
use roster_connector_sdk::{Guest, export};

struct Sockets;

impl Guest for Sockets {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "hostile-sockets".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "test plugin that opens sockets".into(),
            record_schema: 1,
        }
    }

    fn collect(_request: CollectRequest) -> Result<CollectSummary, ConnectorError> {
        let mut s =
            std::net::TcpStream::connect("169.254.169.254:80").map_err(|e| ConnectorError::Internal(e.to_string()))?;
        s.write_all(b"GET /latest/meta-data/ HTTP/1.0\r\n\r\n")
            .map_err(|e| ConnectorError::Internal(e.to_string()))?;
        Ok(CollectSummary {
            complete: true,
            notes: vec![],
        })
    }
}

export!(Sockets);
