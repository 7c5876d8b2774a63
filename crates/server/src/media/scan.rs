//! The clamd [`Scanner`]: `INSTREAM` over TCP (chunks of `u32` big-endian length + data, then
//! a zero length), the whole exchange under one timeout. Anything but a clear `OK` or `FOUND`
//! answer is an error, and errors make uploads fail closed.

use async_trait::async_trait;
use justus_core::media::{PortError, ScanVerdict, Scanner};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes per INSTREAM chunk (well below clamd's default StreamMaxLength chunking).
const CHUNK: usize = 64 * 1024;
/// Longest reply we read.
const MAX_REPLY: usize = 4096;

pub struct ClamdScanner {
    /// `host:port`.
    addr: String,
    timeout: Duration,
}

impl ClamdScanner {
    pub fn new(addr: String, timeout: Duration) -> Self {
        Self { addr, timeout }
    }

    async fn exchange(&self, file: &Path) -> Result<String, PortError> {
        let err = |what: &str, e: std::io::Error| PortError(format!("clamd {what}: {e}"));
        let mut sock = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| err("connect", e))?;
        let mut f = tokio::fs::File::open(file)
            .await
            .map_err(|e| err("open upload", e))?;
        sock.write_all(b"zINSTREAM\0")
            .await
            .map_err(|e| err("write", e))?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = f.read(&mut buf).await.map_err(|e| err("read upload", e))?;
            if n == 0 {
                break;
            }
            let len = u32::try_from(n).map_err(|_| PortError("chunk too large".into()))?;
            sock.write_all(&len.to_be_bytes())
                .await
                .map_err(|e| err("write", e))?;
            sock.write_all(&buf[..n])
                .await
                .map_err(|e| err("write", e))?;
        }
        sock.write_all(&0u32.to_be_bytes())
            .await
            .map_err(|e| err("write", e))?;
        let mut reply = Vec::new();
        let mut byte = [0u8; 512];
        loop {
            let n = sock.read(&mut byte).await.map_err(|e| err("read", e))?;
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&byte[..n]);
            if reply.contains(&0) || reply.len() > MAX_REPLY {
                break;
            }
        }
        let end = reply.iter().position(|b| *b == 0).unwrap_or(reply.len());
        Ok(String::from_utf8_lossy(&reply[..end]).trim().to_owned())
    }
}

/// `stream: OK` → clean; `stream: <name> FOUND` → infected; anything else is an error.
pub fn parse_reply(reply: &str) -> Result<ScanVerdict, PortError> {
    let body = reply.strip_prefix("stream:").map(str::trim);
    match body {
        Some("OK") => Ok(ScanVerdict::Clean),
        Some(found) if found.ends_with(" FOUND") => Ok(ScanVerdict::Infected(
            found.trim_end_matches(" FOUND").trim().to_owned(),
        )),
        _ => Err(PortError(format!("clamd answered {reply:?}"))),
    }
}

#[async_trait]
impl Scanner for ClamdScanner {
    async fn scan(&self, file: &Path) -> Result<ScanVerdict, PortError> {
        let reply = tokio::time::timeout(self.timeout, self.exchange(file))
            .await
            .map_err(|_| PortError(format!("clamd did not answer within {:?}", self.timeout)))??;
        parse_reply(&reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(parse_reply("stream: OK").unwrap(), ScanVerdict::Clean);
        assert_eq!(
            parse_reply("stream: Eicar-Signature FOUND").unwrap(),
            ScanVerdict::Infected("Eicar-Signature".into())
        );
        assert!(parse_reply("INSTREAM size limit exceeded. ERROR").is_err());
        assert!(parse_reply("").is_err());
    }
}
