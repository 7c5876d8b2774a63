//! `TestApp`: a real server on 127.0.0.1:0 over a fresh database (SQLite file or a new
//! PostgreSQL database), driven over HTTP with reqwest.

use justus_server::config::{Config, OptionalAddr, Secret};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A signing secret made for this test run (published ones are refused at start-up).
pub fn test_secret() -> String {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET
        .get_or_init(|| hex::encode(rand::random::<[u8; 32]>()))
        .clone()
}

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub _server: justus_server::Server,
    /// What the server was started with (a restart reuses it: same data dir and database).
    pub config: Config,
    _dir: tempfile::TempDir,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// `None` when the backend is unavailable outside CI (the Postgres helper prints why).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::defaults();
        config.bind = "127.0.0.1:0".parse().expect("addr");
        config.data_dir = dir.path().to_path_buf();
        config.auth.jwt_secret = Some(Secret::new(test_secret()));
        config.auth.register_per_ip_per_hour = 100_000;
        // Tests create rooms and messages in bursts; the tests of these limits set their own.
        config.limits.gateway_requests_per_second = 10_000;
        config.limits.search_requests_per_minute = 100_000;
        config.shutdown_grace_seconds = 2;
        // The private ops listener on a free port (its default port would clash between tests).
        config.metrics_bind = OptionalAddr(Some("127.0.0.1:0".parse().expect("addr")));
        if let Backend::Postgres = backend {
            let url = justus_store_postgres::testing::fresh_database_url().await?;
            config.database.url = Some(Secret::new(url));
            config.database.max_connections = 5;
        }
        tweak(&mut config);
        Some(Self::start(config, dir).await)
    }

    async fn start(config: Config, dir: tempfile::TempDir) -> TestApp {
        let server = justus_server::start(config.clone())
            .await
            .expect("server starts");
        let base = format!("http://{}", server.addr);
        // Tests may build clients before any server has started.
        justus_server::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base,
            client,
            _server: server,
            config,
            _dir: dir,
        }
    }

    /// Stops the server and starts a new process-equivalent on the same data dir and database
    /// (nothing in memory survives; the address changes).
    pub async fn restart(self) -> TestApp {
        let TestApp {
            _server,
            config,
            _dir,
            ..
        } = self;
        _server.shutdown().await.expect("clean shutdown");
        Self::start(config, _dir).await
    }

    /// Argon2 runs of this server so far (hashes and verifications).
    pub fn password_checks(&self) -> u64 {
        self._server.state.passwords.runs()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::finish(req).await
    }

    pub async fn finish(req: reqwest::RequestBuilder) -> Resp {
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Method::GET, path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(Method::POST, path, token, Some(body), &[]).await
    }

    /// Registers `name` with a good password; returns the auth response body.
    pub async fn register(&self, name: &str) -> Value {
        let r = self
            .post("/api/v1/auth/register", None, json!({"username": name, "email": format!("{name}@example.org"), "password": password_for(name)}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "register {name}: {}", r.text);
        r.body
    }

    pub async fn login(&self, login: &str, password: &str) -> Resp {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"login": login, "password": password}),
        )
        .await
    }
}

impl TestApp {
    /// GET on the private ops listener (`METRICS_BIND`): `/metrics`, the detailed `/ready`.
    pub async fn ops(&self, path: &str) -> Resp {
        let addr = self
            ._server
            .metrics_addr
            .expect("the metrics listener is on");
        Self::finish(self.client.get(format!("http://{addr}{path}"))).await
    }

    /// The Prometheus text from the private metrics listener.
    pub async fn metrics(&self) -> String {
        let r = self.ops("/metrics").await;
        assert_eq!(r.status, StatusCode::OK, "metrics: {}", r.text);
        r.text
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(Method::PATCH, path, token, Some(body), &[]).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Method::DELETE, path, token, None, &[]).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Method::PUT, path, token, None, &[]).await
    }

    /// Registers a user and returns (access token, user id).
    pub async fn user(&self, name: &str) -> (String, String) {
        let auth = self.register(name).await;
        (
            token(&auth),
            auth["user"]["id"].as_str().expect("id").to_owned(),
        )
    }

    /// Creates a group owned by `owner`; returns its id.
    pub async fn group(&self, owner: &str, name: &str) -> String {
        let r = self
            .post("/api/v1/rooms", Some(owner), json!({"name": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "create group: {}", r.text);
        r.body["id"].as_str().expect("room id").to_owned()
    }

    /// Adds `user_id` to the room as `owner` (an admin or owner token).
    pub async fn add(&self, owner: &str, room: &str, user_id: &str) {
        let r = self
            .post(
                &format!("/api/v1/rooms/{room}/members"),
                Some(owner),
                json!({"user_id": user_id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "add member: {}", r.text);
    }

    /// Sends `body`; returns the message JSON.
    pub async fn say(&self, token: &str, room: &str, body: &str) -> Value {
        let r = self
            .post(
                &format!("/api/v1/rooms/{room}/messages"),
                Some(token),
                json!({"client_id": uuid::Uuid::now_v7().to_string(), "body": body}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "send: {}", r.text);
        r.body
    }
}

pub fn password_for(name: &str) -> String {
    format!("{name} rides a purple bicycle")
}

pub fn token(auth: &Value) -> String {
    auth["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

pub fn refresh_token(auth: &Value) -> String {
    auth["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned()
}

/// Runs each listed test against SQLite and PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await.expect("sqlite app");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await else { return };
                    super::$name(app).await;
                }
            )*
        }
    };
}

/// Like [`both_backends`], for tests that start their own app (`async fn name(Backend)`):
/// one test per backend.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Redis for tests that run several instances (`TEST_REDIS_URL`, default the local one).
/// `None` (with a loud line) when it does not answer, except with `CI=true`, where it fails.
pub async fn test_redis_url() -> Option<String> {
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379")
        .to_owned();
    let up = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        tokio::net::TcpStream::connect(&addr),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if up {
        return Some(url);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("Redis at {url} (TEST_REDIS_URL) does not answer, and CI=true");
    }
    eprintln!("SKIPPED: Redis at {url} (TEST_REDIS_URL) does not answer");
    None
}
