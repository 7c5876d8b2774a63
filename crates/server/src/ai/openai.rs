//! `AiProvider` for the OpenAI-compatible chat-completions API (`POST {base}/chat/completions`),
//! which OpenAI, Gemini's OpenAI endpoint, Ollama, vLLM and llama.cpp's server all speak.
//! Streaming uses server-sent events (`data: {…}` lines, ended by `data: [DONE]`).
//!
//! One call is one attempt; retries, the breaker and budgets live in [`super::AiService`].

use async_trait::async_trait;
use justus_core::ai::{AiError, AiProvider, ChatRequest, Completion, DeltaSink, TokenUsage};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub struct OpenAiCompatible {
    client: reqwest::Client,
    endpoint: String,
    api_key: Option<String>,
    model: String,
    timeout: Duration,
}

impl OpenAiCompatible {
    pub fn new(
        base_url: &url::Url,
        api_key: Option<String>,
        model: String,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            endpoint: format!(
                "{}/chat/completions",
                base_url.as_str().trim_end_matches('/')
            ),
            api_key,
            model,
            timeout,
        })
    }

    fn body(&self, req: &ChatRequest, stream: bool) -> serde_json::Value {
        let messages: Vec<_> = req
            .messages
            .iter()
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
        });
        if stream {
            body["stream"] = json!(true);
            // Usage arrives in a last chunk when asked for (OpenAI, Gemini, Ollama ≥ 0.5).
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    async fn attempt(
        &self,
        req: &ChatRequest,
        sink: Option<&dyn DeltaSink>,
    ) -> Result<Completion, AiError> {
        let mut http = self
            .client
            .post(&self.endpoint)
            .json(&self.body(req, sink.is_some()));
        if let Some(key) = &self.api_key {
            http = http.bearer_auth(key);
        }
        let mut resp = http.send().await.map_err(transport)?;
        let status = resp.status();
        if status.as_u16() == 429 {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(3600.0)));
            return Err(AiError::RateLimited { retry_after });
        }
        if !status.is_success() {
            return Err(AiError::Upstream {
                status: status.as_u16(),
            });
        }
        match sink {
            None => {
                let body: ChatResponse = resp
                    .json()
                    .await
                    .map_err(|e| AiError::BadResponse(e.to_string()))?;
                let text = body
                    .choices
                    .into_iter()
                    .next()
                    .and_then(|c| c.message)
                    .and_then(|m| m.content)
                    .ok_or_else(|| AiError::BadResponse("no choices".into()))?;
                Ok(Completion {
                    text,
                    usage: body.usage.map(Usage::into_core).unwrap_or_default(),
                })
            }
            Some(sink) => {
                let mut sse = SseParser::default();
                while let Some(chunk) = resp.chunk().await.map_err(transport)? {
                    sse.push(&chunk, sink)?;
                    if sse.done {
                        break;
                    }
                }
                sse.finish(sink)
            }
        }
    }
}

fn transport(e: reqwest::Error) -> AiError {
    if e.is_timeout() {
        AiError::Timeout
    } else {
        // Never the URL with its query, nor any body: just the kind of failure.
        AiError::Transport(
            if e.is_connect() {
                "connection failed"
            } else if e.is_body() || e.is_decode() {
                "response body failed"
            } else {
                "request failed"
            }
            .into(),
        )
    }
}

#[async_trait]
impl AiProvider for OpenAiCompatible {
    async fn chat(
        &self,
        req: &ChatRequest,
        sink: Option<&dyn DeltaSink>,
    ) -> Result<Completion, AiError> {
        tokio::time::timeout(self.timeout, self.attempt(req, sink))
            .await
            .unwrap_or(Err(AiError::Timeout))
    }
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Msg>,
    delta: Option<Msg>,
}

#[derive(Deserialize)]
struct Msg {
    content: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl Usage {
    fn into_core(self) -> TokenUsage {
        TokenUsage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
        }
    }
}

/// Incremental server-sent-events parser for streamed chat completions. Kept rather than a
/// crate (`eventsource-stream`): that one buffers an event of any size, and providers only ever
/// send single-line `data:` events, so sixty lines with a hard line cap are the better fit.
#[derive(Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    text: String,
    usage: Option<TokenUsage>,
    done: bool,
}

/// Largest SSE line we accept (a provider gone mad must not grow memory without bound).
const MAX_LINE: usize = 1 << 20;

impl SseParser {
    pub(crate) fn push(&mut self, bytes: &[u8], sink: &dyn DeltaSink) -> Result<(), AiError> {
        self.buf.extend_from_slice(bytes);
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            self.line(&line, sink)?;
            if self.done {
                return Ok(());
            }
        }
        if self.buf.len() > MAX_LINE {
            return Err(AiError::BadResponse("event line too long".into()));
        }
        Ok(())
    }

    fn line(&mut self, raw: &[u8], sink: &dyn DeltaSink) -> Result<(), AiError> {
        let line = std::str::from_utf8(raw)
            .map_err(|_| AiError::BadResponse("stream is not UTF-8".into()))?
            .trim_end_matches(['\r', '\n']);
        let Some(data) = line.strip_prefix("data:") else {
            return Ok(()); // comments, `event:`, `id:`, blank separators
        };
        let data = data.trim_start();
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: ChatResponse = serde_json::from_str(data)
            .map_err(|e| AiError::BadResponse(format!("bad stream chunk: {e}")))?;
        if let Some(u) = chunk.usage {
            self.usage = Some(u.into_core());
        }
        for choice in chunk.choices {
            if let Some(delta) = choice.delta.and_then(|d| d.content)
                && !delta.is_empty()
            {
                self.text.push_str(&delta);
                sink.delta(&delta);
            }
        }
        Ok(())
    }

    pub(crate) fn finish(mut self, sink: &dyn DeltaSink) -> Result<Completion, AiError> {
        if !self.done && !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.line(&rest, sink)?;
        }
        if !self.done {
            // The connection ended before `[DONE]`: a partial answer is not an answer.
            return Err(AiError::BadResponse("stream ended early".into()));
        }
        Ok(Completion {
            text: self.text,
            usage: self.usage.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<String>>);
    impl DeltaSink for Collect {
        fn delta(&self, text: &str) {
            self.0.lock().unwrap().push(text.to_owned());
        }
    }

    #[test]
    fn sse_split_anywhere() {
        let stream = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n\
            : keep-alive\n\n\
            data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n\
            data: {\"choices\":[{\"delta\":{\"content\":\"lo ✓\"}}]}\n\n\
            data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}}\n\n\
            data: [DONE]\n\n";
        // Feed it one byte at a time: chunk boundaries must not matter (even inside UTF-8).
        let sink = Collect::default();
        let mut p = SseParser::default();
        for b in stream.as_bytes() {
            p.push(std::slice::from_ref(b), &sink).unwrap();
        }
        let c = p.finish(&sink).unwrap();
        assert_eq!(c.text, "Hello ✓");
        assert_eq!(c.usage.total(), 9);
        assert_eq!(*sink.0.lock().unwrap(), vec!["Hel", "lo ✓"]);
    }

    #[test]
    fn sse_errors() {
        let sink = Collect::default();
        let mut p = SseParser::default();
        assert!(p.push(b"data: {not json}\n", &sink).is_err());
        let mut p = SseParser::default();
        p.push(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n",
            &sink,
        )
        .unwrap();
        assert!(matches!(p.finish(&sink), Err(AiError::BadResponse(_))));
    }
}
