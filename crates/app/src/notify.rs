//! Outbound notification channels. The log channel (default) writes a line per notice; the webhook
//! channel POSTs JSON to an intranet endpoint with an HMAC-SHA256 signature over the timestamp and
//! body, retrying with back-off. Notices never carry personal identifiers.

use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wangge_store::NewNotification;

#[derive(Debug, Clone)]
pub struct Webhook {
    host: String,
    port: u16,
    path: String,
    secret: String,
}

impl Webhook {
    /// Only `http://host[:port]/path`: webhooks go to an intranet service next to the server.
    pub fn parse(url: &str, secret: &str) -> Result<Webhook, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("Webhook 地址应以 http:// 开头：{url}"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| format!("Webhook 端口无效：{url}"))?,
            ),
            None => (authority.to_string(), 80),
        };
        if host.is_empty() || secret.len() < 16 {
            return Err("Webhook 需要主机名和至少16个字符的签名密钥".into());
        }
        Ok(Webhook {
            host,
            port,
            path,
            secret: secret.to_string(),
        })
    }

    async fn post_once(&self, body: &str, timestamp: i64) -> Result<u16, String> {
        let signature = wangge_security::token::hmac_sha256_hex(
            self.secret.as_bytes(),
            format!("{timestamp}.{body}").as_bytes(),
        );
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-Wangge-Timestamp: {timestamp}\r\nX-Wangge-Signature: sha256={signature}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.host,
            body.len()
        );
        let io = async {
            let mut s = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| e.to_string())?;
            s.write_all(request.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            let mut head = vec![0u8; 64];
            let n = s.read(&mut head).await.map_err(|e| e.to_string())?;
            let line = String::from_utf8_lossy(&head[..n]).to_string();
            line.split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| format!("bad response: {line}"))
        };
        tokio::time::timeout(Duration::from_secs(5), io)
            .await
            .map_err(|_| "timeout".to_string())?
    }

    /// Delivers one notice, retrying on failure: after 0.2 s, then 1 s.
    pub async fn deliver(&self, n: &NewNotification, event_code: &str) -> Result<(), String> {
        let body = json!({"recipient": n.recipient, "kind": n.kind, "message": n.message, "event_id": n.event_id, "event_code": event_code}).to_string();
        let mut last = String::new();
        for (attempt, wait) in [0u64, 200, 1000].into_iter().enumerate() {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            match self.post_once(&body, chrono::Utc::now().timestamp()).await {
                Ok(code) if (200..300).contains(&code) => return Ok(()),
                Ok(code) => last = format!("HTTP {code} (attempt {})", attempt + 1),
                Err(e) => last = format!("{e} (attempt {})", attempt + 1),
            }
        }
        Err(last)
    }
}
