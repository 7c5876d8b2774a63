//! Configuration: environment variables (and an optional `.env`), the same names as CLI flags.
//!
//! Every setting has a default that runs JustUs on embedded parts. A bad value stops start-up
//! with one line naming the setting (see `main.rs`).
//!
//! (Over 600 lines: one field per setting, each with its variable, flag, default and range,
//! grouped into the sub-structs below by concern.)

use clap::{Args, Parser};
use ipnet::IpNet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Clone, Debug)]
#[command(
    name = "justus",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("JUSTUS_COMMIT"), ")"),
    about = "JustUs: self-hosted real-time chat. One binary: API, gateway, web client."
)]
pub struct Config {
    /// Run a maintenance command instead of the server.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on.
    #[arg(
        long = "bind",
        env = "JUSTUS_BIND",
        value_name = "JUSTUS_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: SocketAddr,

    /// Directory for the SQLite database, generated secrets and local media.
    #[arg(
        long = "data-dir",
        env = "JUSTUS_DATA_DIR",
        value_name = "JUSTUS_DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// The URL users reach JustUs at (scheme, host, port). Enables HSTS and `__Host-` cookies when https.
    #[arg(long = "public-url", env = "PUBLIC_URL", value_name = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<url::Url>,

    /// Extra browser origins allowed to call the API (comma-separated). The public URL's origin is always allowed.
    #[arg(long = "cors-origins", env = "CORS_ORIGINS", value_name = "CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,

    /// Proxies whose `X-Forwarded-For` is believed (comma-separated IPs or CIDRs).
    #[arg(long = "trusted-proxies", env = "TRUSTED_PROXIES", value_name = "TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxies: Vec<IpNet>,

    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `justus_server=debug,info`.
    #[arg(
        long = "log",
        env = "JUSTUS_LOG",
        value_name = "JUSTUS_LOG",
        default_value = "info"
    )]
    pub log: String,

    /// Log format: `json` (one object per line) or `pretty` (for a terminal).
    #[arg(long = "log-format", env = "LOG_FORMAT", value_name = "LOG_FORMAT", default_value = "json", value_parser = ["json", "pretty"])]
    pub log_format: String,

    /// Listener for `/metrics` and the detailed `/ready` (keep it private); `off` disables it.
    #[arg(long = "metrics-bind", env = "METRICS_BIND", value_name = "METRICS_BIND", default_value = "127.0.0.1:9464",
          value_parser = parse_optional_addr)]
    pub metrics_bind: OptionalAddr,

    /// Seconds to let in-flight requests finish after SIGINT/SIGTERM.
    #[arg(long = "shutdown-grace-seconds", env = "SHUTDOWN_GRACE_SECONDS", value_name = "SHUTDOWN_GRACE_SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=600))]
    pub shutdown_grace_seconds: u64,

    #[command(flatten)]
    pub database: DatabaseConfig,

    #[command(flatten)]
    pub auth: AuthConfig,

    #[command(flatten)]
    pub limits: LimitsConfig,

    #[command(flatten)]
    pub transport: TransportConfig,

    #[command(flatten)]
    pub redis: RedisConfig,

    #[command(flatten)]
    pub media: MediaConfig,

    #[command(flatten)]
    pub s3: S3Config,

    #[command(flatten)]
    pub ai: AiConfig,

    #[command(flatten)]
    pub retention: RetentionConfig,

    #[command(flatten)]
    pub abuse: AbuseConfig,
}

/// How long messages are kept (docs/operations.md#retention).
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Retention")]
pub struct RetentionConfig {
    /// Messages older than this many days are purged in every room (0: kept forever). Rooms
    /// may keep theirs for less (`retention_days`), never for longer.
    #[arg(long = "retention-days", env = "RETENTION_DAYS", value_name = "RETENTION_DAYS", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=36_500))]
    pub days: u32,

    /// Seconds between purges.
    #[arg(long = "retention-interval-seconds", env = "RETENTION_INTERVAL_SECONDS", value_name = "RETENTION_INTERVAL_SECONDS",
          default_value_t = 3600, value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub interval_seconds: u64,
}

/// Spam heuristics and new-account limits (docs/security.md#abuse-resistance). Each refusal is
/// counted in `abuse_refusals_total{rule}`.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Abuse")]
pub struct AbuseConfig {
    /// Most people one message may @mention (more is refused as a mention flood).
    #[arg(long = "spam-max-mentions", env = "SPAM_MAX_MENTIONS", value_name = "SPAM_MAX_MENTIONS", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_mentions: u32,

    /// Most links one message may carry (more is refused as a link flood).
    #[arg(long = "spam-max-links", env = "SPAM_MAX_LINKS", value_name = "SPAM_MAX_LINKS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_links: u32,

    /// The same text (20 characters or more) sent to this many different rooms within
    /// `SPAM_DUPLICATE_WINDOW_SECONDS` makes the next room refuse it (0: off).
    #[arg(long = "spam-duplicate-rooms", env = "SPAM_DUPLICATE_ROOMS", value_name = "SPAM_DUPLICATE_ROOMS", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub duplicate_rooms: u32,

    #[arg(long = "spam-duplicate-window-seconds", env = "SPAM_DUPLICATE_WINDOW_SECONDS", value_name = "SPAM_DUPLICATE_WINDOW_SECONDS",
          default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub duplicate_window_seconds: u64,

    /// Links, mentions and files from a member who joined the group less than this many
    /// seconds ago are refused (429 `too_soon_after_join`): accounts that join only to spam
    /// post at once. Plain text is let through; admins are exempt (0, the default: off; 30 is
    /// a good value for an instance with open sign-up).
    #[arg(long = "spam-join-post-seconds", env = "SPAM_JOIN_POST_SECONDS", value_name = "SPAM_JOIN_POST_SECONDS",
          default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub join_post_seconds: u64,

    /// Accounts younger than this many hours are new: they create fewer groups and open fewer
    /// DMs with people they share no room with (0, the default: no new-account limits; 24 is a
    /// good value for an instance with open sign-up).
    #[arg(long = "new-account-hours", env = "NEW_ACCOUNT_HOURS", value_name = "NEW_ACCOUNT_HOURS", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=8760))]
    pub new_account_hours: u32,

    /// Groups a new account may create per day.
    #[arg(long = "new-account-groups-per-day", env = "NEW_ACCOUNT_GROUPS_PER_DAY", value_name = "NEW_ACCOUNT_GROUPS_PER_DAY",
          default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub new_account_groups_per_day: u32,

    /// Uploads (and picture changes) a new account may make per hour.
    #[arg(long = "new-account-uploads-per-hour", env = "NEW_ACCOUNT_UPLOADS_PER_HOUR", value_name = "NEW_ACCOUNT_UPLOADS_PER_HOUR",
          default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub new_account_uploads_per_hour: u32,

    /// Most links one message of a new account may carry (instead of `SPAM_MAX_LINKS`).
    #[arg(long = "new-account-max-links", env = "NEW_ACCOUNT_MAX_LINKS", value_name = "NEW_ACCOUNT_MAX_LINKS",
          default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub new_account_max_links: u32,

    /// DMs a new account may open per hour with people it shares no room with.
    #[arg(long = "new-account-dms-per-hour", env = "NEW_ACCOUNT_DMS_PER_HOUR", value_name = "NEW_ACCOUNT_DMS_PER_HOUR",
          default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub new_account_dms_per_hour: u32,
}

/// Where data lives: PostgreSQL when `DATABASE_URL` is set, else SQLite in the data dir.
#[derive(Args, Clone)]
#[command(next_help_heading = "Database")]
pub struct DatabaseConfig {
    /// `postgres://…` to use PostgreSQL; unset for SQLite in the data dir.
    #[arg(id = "database_url", long = "database-url", env = "DATABASE_URL", value_name = "DATABASE_URL", value_parser = parse_database_url)]
    pub url: Option<Secret>,

    /// Maximum connections in the PostgreSQL pool; one of them is held by the send writer.
    #[arg(id = "database_max_connections", long = "database-max-connections", env = "DATABASE_MAX_CONNECTIONS", value_name = "DATABASE_MAX_CONNECTIONS", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub max_connections: u32,

    /// SQLite durability: `full` survives power loss, `normal` survives process crashes.
    #[arg(long = "sqlite-synchronous", env = "SQLITE_SYNCHRONOUS", value_name = "SQLITE_SYNCHRONOUS", default_value = "full", value_parser = ["full", "normal"])]
    pub sqlite_synchronous: String,
}

/// Token signing and sign-up limits.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Accounts")]
pub struct AuthConfig {
    /// Token signing secret (≥ 32 random bytes, e.g. `openssl rand -base64 48`; published or
    /// guessable values are refused). Unset: generated once and kept in the data dir (0600).
    #[arg(long = "jwt-secret", env = "JWT_SECRET", value_name = "JWT_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// Retired signing secrets (comma-separated), still accepted for verification during a rotation.
    #[arg(long = "jwt-previous-secrets", env = "JWT_PREVIOUS_SECRETS", value_name = "JWT_PREVIOUS_SECRETS", value_delimiter = ',', value_parser = parse_secret, hide_env_values = true)]
    pub jwt_previous_secrets: Vec<Secret>,

    /// Accounts one client IP may register per hour.
    #[arg(long = "register-per-ip-per-hour", env = "REGISTER_PER_IP_PER_HOUR", value_name = "REGISTER_PER_IP_PER_HOUR", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub register_per_ip_per_hour: u32,

    /// Usernames of the instance's admins (comma-separated): they see and resolve every room's
    /// reports (DMs' included) and read the whole audit log.
    #[arg(
        long = "admin-users",
        env = "ADMIN_USERS",
        value_name = "ADMIN_USERS",
        value_delimiter = ','
    )]
    pub admin_users: Vec<String>,
}

impl AuthConfig {
    /// Whether `username` is one of the instance's admins (`ADMIN_USERS`, any case).
    pub fn is_instance_admin(&self, username: &str) -> bool {
        self.admin_users
            .iter()
            .any(|name| name.eq_ignore_ascii_case(username))
    }
}

/// Sizes and per-user quotas of what users send.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Limits")]
pub struct LimitsConfig {
    /// Largest accepted JSON request body, in bytes.
    #[arg(long = "max-body-bytes", env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value_t = 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub max_body_bytes: u64,

    /// Most members a group may have.
    #[arg(long = "room-max-members", env = "ROOM_MAX_MEMBERS", value_name = "ROOM_MAX_MEMBERS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub room_max_members: u32,

    /// Longest message body, in characters.
    #[arg(long = "message-max-chars", env = "MESSAGE_MAX_CHARS", value_name = "MESSAGE_MAX_CHARS", default_value_t = 4000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub message_max_chars: u32,

    /// Largest gateway frame (bytes); bigger frames close the socket with 1009.
    #[arg(long = "gateway-max-frame-bytes", env = "GATEWAY_MAX_FRAME_BYTES", value_name = "GATEWAY_MAX_FRAME_BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=16 * 1024 * 1024))]
    pub gateway_max_frame_bytes: u32,

    /// Open gateway sockets allowed per user.
    #[arg(long = "gateway-max-sockets-per-user", env = "GATEWAY_MAX_SOCKETS_PER_USER", value_name = "GATEWAY_MAX_SOCKETS_PER_USER", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub gateway_max_sockets_per_user: u32,

    /// Requests that change something, per user per second (sustained), over the gateway and
    /// REST together; bursts of twice this are allowed.
    #[arg(long = "gateway-requests-per-second", env = "GATEWAY_REQUESTS_PER_SECOND", value_name = "GATEWAY_REQUESTS_PER_SECOND", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub gateway_requests_per_second: u32,

    /// Searches (messages and people) per user per minute; bursts of up to 10.
    #[arg(long = "search-requests-per-minute", env = "SEARCH_REQUESTS_PER_MINUTE", value_name = "SEARCH_REQUESTS_PER_MINUTE", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub search_requests_per_minute: u32,
}

/// Timeouts and caps of HTTP and WebSocket connections (slow clients, floods).
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Connections")]
pub struct TransportConfig {
    /// Seconds a client may take to send a request's headers (from the connection's first
    /// byte, or from the first byte of the next request on a kept-alive connection).
    #[arg(long = "http-header-timeout-seconds", env = "HTTP_HEADER_TIMEOUT_SECONDS", value_name = "HTTP_HEADER_TIMEOUT_SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_seconds: u64,

    /// Seconds a connection may sit with no bytes moving: idle between requests, or a request
    /// or response body that stalls. WebSockets have their own heartbeat instead.
    #[arg(long = "http-idle-timeout-seconds", env = "HTTP_IDLE_TIMEOUT_SECONDS", value_name = "HTTP_IDLE_TIMEOUT_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout_seconds: u64,

    /// Seconds a request may take until its response starts (uploads, downloads and the
    /// WebSocket are exempt; AI endpoints get their provider's own deadline on top).
    #[arg(long = "http-request-timeout-seconds", env = "HTTP_REQUEST_TIMEOUT_SECONDS", value_name = "HTTP_REQUEST_TIMEOUT_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_seconds: u64,

    /// Requests processed at once; more are shed with `503 overloaded` (0 = no limit).
    #[arg(
        long = "http-max-in-flight",
        env = "HTTP_MAX_IN_FLIGHT",
        value_name = "HTTP_MAX_IN_FLIGHT",
        default_value_t = 1024
    )]
    pub max_in_flight: u32,

    /// Open TCP connections (HTTP and WebSocket) at once; more are refused (0 = no limit).
    #[arg(
        long = "max-connections",
        env = "MAX_CONNECTIONS",
        value_name = "MAX_CONNECTIONS",
        default_value_t = 50_000
    )]
    pub max_connections: u32,

    /// Open TCP connections per client address (IPv6: per /64); peers in TRUSTED_PROXIES are
    /// exempt (0 = no limit).
    #[arg(
        long = "max-connections-per-ip",
        env = "MAX_CONNECTIONS_PER_IP",
        value_name = "MAX_CONNECTIONS_PER_IP",
        default_value_t = 512
    )]
    pub max_connections_per_ip: u32,

    /// Gateway sockets still in their `auth` phase at once; more upgrades get 503 (0 = no limit).
    #[arg(
        long = "gateway-max-unauthenticated",
        env = "GATEWAY_MAX_UNAUTHENTICATED",
        value_name = "GATEWAY_MAX_UNAUTHENTICATED",
        default_value_t = 4096
    )]
    pub gateway_max_unauthenticated: u32,

    /// Gateway sockets in their `auth` phase per client IP (IPv6: per /64); more get 429 (0 = no limit).
    #[arg(
        long = "gateway-max-unauthenticated-per-ip",
        env = "GATEWAY_MAX_UNAUTHENTICATED_PER_IP",
        value_name = "GATEWAY_MAX_UNAUTHENTICATED_PER_IP",
        default_value_t = 64
    )]
    pub gateway_max_unauthenticated_per_ip: u32,

    /// Client addresses the per-address caps never apply to (comma-separated IPs/CIDRs, or
    /// `none`): by default this machine, i.e. a reverse proxy on the same host, whose clients
    /// all arrive from loopback. `TRUSTED_PROXIES` are always exempt too. Global caps still apply.
    #[arg(long = "per-ip-limits-exempt", env = "PER_IP_LIMITS_EXEMPT", value_name = "PER_IP_LIMITS_EXEMPT", default_value = "127.0.0.0/8,::1/128",
          value_parser = parse_net_list)]
    pub per_ip_limits_exempt: NetList,
}

/// Redis, shared by every instance for fan-out, presence and rate limits.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Scale-out")]
pub struct RedisConfig {
    /// `redis://…` to share fan-out, presence and rate limits between instances; unset for one instance.
    #[arg(id = "redis_url", long = "redis-url", env = "REDIS_URL", value_name = "REDIS_URL", value_parser = parse_redis_url)]
    pub url: Option<Secret>,

    /// Prefix of every Redis channel and key, so several deployments can share one Redis.
    #[arg(long = "redis-prefix", env = "REDIS_PREFIX", value_name = "REDIS_PREFIX", default_value = "justus",
          value_parser = parse_redis_prefix)]
    pub prefix: String,
}

/// Upload sizes, quotas, decoding budget, archive checks, scanning and signed URLs.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Media")]
pub struct MediaConfig {
    /// Largest image upload, in bytes.
    #[arg(long = "media-max-image-bytes", env = "MEDIA_MAX_IMAGE_BYTES", value_name = "MEDIA_MAX_IMAGE_BYTES", default_value_t = 20 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_image_bytes: u64,

    /// Largest audio upload (voice notes included), in bytes.
    #[arg(long = "media-max-audio-bytes", env = "MEDIA_MAX_AUDIO_BYTES", value_name = "MEDIA_MAX_AUDIO_BYTES", default_value_t = 20 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_audio_bytes: u64,

    /// Largest video upload, in bytes.
    #[arg(long = "media-max-video-bytes", env = "MEDIA_MAX_VIDEO_BYTES", value_name = "MEDIA_MAX_VIDEO_BYTES", default_value_t = 100 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_video_bytes: u64,

    /// Largest upload of any other allowed file (PDF, text, Office, ZIP), in bytes.
    #[arg(long = "media-max-file-bytes", env = "MEDIA_MAX_FILE_BYTES", value_name = "MEDIA_MAX_FILE_BYTES", default_value_t = 50 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_file_bytes: u64,

    /// Bytes of uploads one user may keep stored.
    #[arg(long = "media-quota-bytes", env = "MEDIA_QUOTA_BYTES", value_name = "MEDIA_QUOTA_BYTES", default_value_t = 1024 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub quota_bytes: u64,

    /// Largest image area accepted, in pixels (checked from the header before decoding).
    #[arg(long = "media-max-pixels", env = "MEDIA_MAX_PIXELS", value_name = "MEDIA_MAX_PIXELS", default_value_t = 50_000_000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub max_pixels: u64,

    /// Longest image side accepted, in pixels.
    #[arg(long = "media-max-side", env = "MEDIA_MAX_SIDE", value_name = "MEDIA_MAX_SIDE", default_value_t = 16_384,
          value_parser = clap::value_parser!(u32).range(1..=65_535))]
    pub max_side: u32,

    /// Memory that image decoding may use at once, in bytes, over all concurrent decodes
    /// (uploads and avatars). Each decode takes its estimated peak from this budget before it
    /// starts; one larger than the whole budget runs alone. Also the most one decoder may
    /// allocate, so no image whose pixels exceed it is decoded.
    #[arg(long = "media-decode-memory-bytes", env = "MEDIA_DECODE_MEMORY_BYTES", value_name = "MEDIA_DECODE_MEMORY_BYTES",
          default_value_t = 256 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(32 * 1024 * 1024..=1 << 40))]
    pub decode_memory_bytes: u64,

    /// Image decodes that may wait for decode memory; beyond them an upload or avatar change is
    /// refused at once with `503 media_busy` and `Retry-After`.
    #[arg(long = "media-decode-queue", env = "MEDIA_DECODE_QUEUE", value_name = "MEDIA_DECODE_QUEUE", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub decode_queue: u32,

    /// Uploads (and avatar changes) one user may start per minute, over all instances; bursts
    /// of this many are allowed. More: `429 rate_limited` with `Retry-After`.
    #[arg(long = "media-uploads-per-minute", env = "MEDIA_UPLOADS_PER_MINUTE", value_name = "MEDIA_UPLOADS_PER_MINUTE", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub uploads_per_minute: u32,

    /// Most entries a ZIP (or Office document) may list.
    #[arg(long = "media-archive-max-entries", env = "MEDIA_ARCHIVE_MAX_ENTRIES", value_name = "MEDIA_ARCHIVE_MAX_ENTRIES", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub archive_max_entries: u64,

    /// Most bytes a ZIP (or Office document) may expand to, by its central directory.
    #[arg(long = "media-archive-max-uncompressed-bytes", env = "MEDIA_ARCHIVE_MAX_UNCOMPRESSED_BYTES", value_name = "MEDIA_ARCHIVE_MAX_UNCOMPRESSED_BYTES",
          default_value_t = 1024 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub archive_max_uncompressed_bytes: u64,

    /// How long a signed media URL stays valid, in seconds.
    #[arg(long = "media-url-ttl-seconds", env = "MEDIA_URL_TTL_SECONDS", value_name = "MEDIA_URL_TTL_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(5..=86_400))]
    pub url_ttl_seconds: u64,

    /// Uploads never attached to a message (or used as an avatar) are deleted after this many seconds.
    #[arg(long = "media-unattached-ttl-seconds", env = "MEDIA_UNATTACHED_TTL_SECONDS", value_name = "MEDIA_UNATTACHED_TTL_SECONDS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub unattached_ttl_seconds: u64,

    /// ClamAV daemon to scan every upload with, e.g. `tcp://127.0.0.1:3310`. Unset: no scanning.
    #[arg(long = "clamav-url", env = "CLAMAV_URL", value_name = "CLAMAV_URL", value_parser = parse_clamav_url)]
    pub clamav_url: Option<String>,

    /// Seconds one scan may take before the upload fails (503, fail closed).
    #[arg(long = "clamav-timeout-seconds", env = "CLAMAV_TIMEOUT_SECONDS", value_name = "CLAMAV_TIMEOUT_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub clamav_timeout_seconds: u64,
}

/// Where media goes when it is not the local directory.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "S3 media storage")]
pub struct S3Config {
    /// Bucket to store media in. Set: media goes to S3 (needed when several instances share
    /// uploads); unset: the local directory under `DATA_DIR/media`.
    #[arg(long = "s3-bucket", env = "S3_BUCKET", value_name = "S3_BUCKET")]
    pub bucket: Option<String>,

    /// S3-compatible endpoint, e.g. `http://127.0.0.1:9000` (MinIO, Garage…). Set: path-style
    /// requests, and `http://` is allowed. Unset: AWS, virtual-hosted style.
    #[arg(long = "s3-endpoint", env = "S3_ENDPOINT", value_name = "S3_ENDPOINT", value_parser = parse_s3_endpoint)]
    pub endpoint: Option<url::Url>,

    /// Region the bucket lives in (signed into every request).
    #[arg(
        long = "s3-region",
        env = "S3_REGION",
        value_name = "S3_REGION",
        default_value = "us-east-1"
    )]
    pub region: String,

    /// Access key id. Unset (with the secret): EC2 instance-profile credentials.
    #[arg(long = "s3-access-key-id", env = "S3_ACCESS_KEY_ID", value_name = "S3_ACCESS_KEY_ID", value_parser = parse_secret)]
    pub access_key_id: Option<Secret>,

    /// Secret access key (never logged).
    #[arg(long = "s3-secret-access-key", env = "S3_SECRET_ACCESS_KEY", value_name = "S3_SECRET_ACCESS_KEY", value_parser = parse_secret,
          hide_env_values = true)]
    pub secret_access_key: Option<Secret>,
}

/// The optional AI provider, its budget and its failure handling.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "AI")]
pub struct AiConfig {
    /// AI provider: `openai` (any OpenAI-compatible chat-completions API: OpenAI, Gemini's
    /// OpenAI endpoint, Ollama, vLLM, llama.cpp). Unset: AI is off.
    #[arg(long = "ai-provider", env = "AI_PROVIDER", value_name = "AI_PROVIDER", value_parser = ["openai"])]
    pub provider: Option<String>,

    /// Base URL of the provider's API (`…/chat/completions` is appended).
    #[arg(long = "ai-base-url", env = "AI_BASE_URL", value_name = "AI_BASE_URL", default_value = "https://api.openai.com/v1", value_parser = parse_ai_base_url)]
    pub base_url: url::Url,

    /// API key, sent as a bearer token (optional for local servers such as Ollama).
    #[arg(long = "ai-api-key", env = "AI_API_KEY", value_name = "AI_API_KEY", value_parser = parse_secret)]
    pub api_key: Option<Secret>,

    /// Model name passed to the provider.
    #[arg(
        long = "ai-model",
        env = "AI_MODEL",
        value_name = "AI_MODEL",
        default_value = "gpt-4o-mini"
    )]
    pub model: String,

    /// Seconds one provider attempt may take (whole answer, streamed or not).
    #[arg(long = "ai-timeout-seconds", env = "AI_TIMEOUT_SECONDS", value_name = "AI_TIMEOUT_SECONDS", default_value_t = 30.0,
          value_parser = parse_ai_timeout)]
    pub timeout_seconds: f64,

    /// Extra attempts after a timeout, 429 or 5xx (with exponential backoff and jitter).
    #[arg(long = "ai-max-retries", env = "AI_MAX_RETRIES", value_name = "AI_MAX_RETRIES", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub max_retries: u32,

    /// First retry delay in milliseconds (doubles per attempt, full jitter; Retry-After wins).
    #[arg(long = "ai-retry-base-ms", env = "AI_RETRY_BASE_MS", value_name = "AI_RETRY_BASE_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub retry_base_ms: u64,

    /// Provider calls in flight at once.
    #[arg(long = "ai-concurrency", env = "AI_CONCURRENCY", value_name = "AI_CONCURRENCY", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub concurrency: u32,

    /// AI requests allowed to wait for a free slot; more are refused with `ai_busy` (503).
    #[arg(long = "ai-queue-size", env = "AI_QUEUE_SIZE", value_name = "AI_QUEUE_SIZE", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub queue_size: u32,

    /// AI requests per user per UTC day (0 = unlimited).
    #[arg(
        long = "ai-user-requests-per-day",
        env = "AI_USER_REQUESTS_PER_DAY",
        value_name = "AI_USER_REQUESTS_PER_DAY",
        default_value_t = 200
    )]
    pub user_requests_per_day: u64,

    /// AI tokens (prompt + completion) per user per UTC day (0 = unlimited).
    #[arg(
        long = "ai-user-tokens-per-day",
        env = "AI_USER_TOKENS_PER_DAY",
        value_name = "AI_USER_TOKENS_PER_DAY",
        default_value_t = 200_000
    )]
    pub user_tokens_per_day: u64,

    /// AI requests per room per UTC day (0 = unlimited).
    #[arg(
        long = "ai-room-requests-per-day",
        env = "AI_ROOM_REQUESTS_PER_DAY",
        value_name = "AI_ROOM_REQUESTS_PER_DAY",
        default_value_t = 1000
    )]
    pub room_requests_per_day: u64,

    /// AI tokens per room per UTC day (0 = unlimited).
    #[arg(
        long = "ai-room-tokens-per-day",
        env = "AI_ROOM_TOKENS_PER_DAY",
        value_name = "AI_ROOM_TOKENS_PER_DAY",
        default_value_t = 1_000_000
    )]
    pub room_tokens_per_day: u64,

    /// What the provider charges for a million prompt (input) tokens, in US dollars: feeds
    /// `ai_cost_microdollars_total` (0: cost not counted).
    #[arg(long = "ai-price-prompt-per-million", env = "AI_PRICE_PROMPT_PER_MILLION", value_name = "AI_PRICE_PROMPT_PER_MILLION",
          default_value_t = 0.0, value_parser = parse_price)]
    pub price_prompt_per_million: f64,

    /// What the provider charges for a million completion (output) tokens, in US dollars.
    #[arg(long = "ai-price-completion-per-million", env = "AI_PRICE_COMPLETION_PER_MILLION", value_name = "AI_PRICE_COMPLETION_PER_MILLION",
          default_value_t = 0.0, value_parser = parse_price)]
    pub price_completion_per_million: f64,

    /// Consecutive failed attempts that open the circuit breaker.
    #[arg(long = "ai-breaker-failures", env = "AI_BREAKER_FAILURES", value_name = "AI_BREAKER_FAILURES", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub breaker_failures: u32,

    /// Seconds the breaker stays open before one trial call.
    #[arg(long = "ai-breaker-open-seconds", env = "AI_BREAKER_OPEN_SECONDS", value_name = "AI_BREAKER_OPEN_SECONDS", default_value_t = 30.0,
          value_parser = parse_ai_timeout)]
    pub breaker_open_seconds: f64,

    /// Recent messages given to the assistant and to catch-me-up (at most).
    #[arg(long = "ai-context-messages", env = "AI_CONTEXT_MESSAGES", value_name = "AI_CONTEXT_MESSAGES", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=500))]
    pub context_messages: u32,
}

/// A list of networks that may be empty (`none`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetList(pub Vec<IpNet>);

impl NetList {
    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }
}

fn parse_net_list(s: &str) -> Result<NetList, String> {
    match s.trim() {
        "" | "none" => Ok(NetList(Vec::new())),
        list => list
            .split(',')
            .map(parse_net)
            .collect::<Result<_, _>>()
            .map(NetList),
    }
}

/// A listen address that can be switched off (`off`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionalAddr(pub Option<SocketAddr>);

fn parse_optional_addr(s: &str) -> Result<OptionalAddr, String> {
    match s.trim() {
        "off" | "none" | "" => Ok(OptionalAddr(None)),
        a => a
            .parse()
            .map(|a| OptionalAddr(Some(a)))
            .map_err(|_| format!("`{a}` is not an address like 127.0.0.1:9464 (or `off`)")),
    }
}

impl Config {
    /// Parses defaults only (no env, no args): what tests and embedders start from.
    pub fn defaults() -> Self {
        Self::parse_from(["justus"])
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }

    /// Longest an AI endpoint may take: every provider attempt, plus the ordinary deadline.
    pub fn ai_request_deadline(&self) -> Duration {
        let attempts = f64::from(self.ai.max_retries + 1);
        Duration::from_secs_f64(self.ai.timeout_seconds * attempts)
            + Duration::from_secs(self.transport.request_timeout_seconds)
    }

    /// Whether users reach us over TLS (decides HSTS and cookie attributes).
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }

    /// Browser origins allowed for CORS, WebSocket and cookie-authenticated POSTs.
    pub fn allowed_origins(&self) -> Vec<String> {
        let mut v: Vec<String> = self.cors_origins.clone();
        if let Some(u) = &self.public_url {
            v.push(u.origin().ascii_serialization());
        }
        v.sort();
        v.dedup();
        v
    }

    /// The origin signed media URLs point at when media is kept in S3 (the endpoint, or AWS's
    /// virtual-hosted bucket host); `None` for local media, served from our own origin.
    pub fn media_origin(&self) -> Option<String> {
        let bucket = self.s3.bucket.as_ref()?;
        Some(match &self.s3.endpoint {
            Some(u) => u.origin().ascii_serialization(),
            None => format!("https://{bucket}.s3.{}.amazonaws.com", self.s3.region),
        })
    }

    /// The URL printed at start-up.
    pub fn display_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(u) => u.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }
}

/// By hand: the URL is shown with its password masked (`Secret` alone would hide the host too).
impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_ref().map(|s| redact_url(s.expose())))
            .field("max_connections", &self.max_connections)
            .field("sqlite_synchronous", &self.sqlite_synchronous)
            .finish()
    }
}

/// A value that must never be printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `postgres://user:pw@host/db` → `postgres://user:***@host/db`, for logs.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparseable>".into(),
    }
}

fn parse_database_url(s: &str) -> Result<Secret, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    match u.scheme() {
        "postgres" | "postgresql" => Ok(Secret(s.to_owned())),
        other => Err(format!(
            "unsupported scheme `{other}` (expected postgres://; unset it for SQLite)"
        )),
    }
}

fn parse_redis_url(s: &str) -> Result<Secret, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    match u.scheme() {
        "redis" | "rediss" => Ok(Secret(s.to_owned())),
        other => Err(format!("unsupported scheme `{other}` (expected redis://)")),
    }
}

fn parse_redis_prefix(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(s.to_owned())
    } else {
        Err("1–64 characters of letters, digits, `-`, `_`, `.`".into())
    }
}

fn parse_public_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err("must be an http(s) URL with a host".into());
    }
    Ok(u)
}

fn parse_origin(s: &str) -> Result<String, String> {
    let s = s.trim();
    let u = url::Url::parse(s).map_err(|e| format!("`{s}` is not an origin ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() || u.path() != "/" {
        return Err(format!(
            "`{s}` is not an origin like https://chat.example.org"
        ));
    }
    Ok(u.origin().ascii_serialization())
}

fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{s}` is not an IP address or CIDR"))
}

fn parse_ai_base_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err("must be an http(s) URL with a host".into());
    }
    Ok(u)
}

fn parse_price(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=100_000.0).contains(&v) => Ok(v),
        _ => Err("expected US dollars per million tokens, between 0 and 100000".into()),
    }
}

fn parse_ai_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.01..=3600.0).contains(&v) => Ok(v),
        _ => Err("expected seconds between 0.01 and 3600".into()),
    }
}

fn parse_s3_endpoint(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    match u.scheme() {
        "http" | "https" if u.host().is_some() => Ok(u),
        _ => Err("must be an http:// or https:// URL with a host".into()),
    }
}

fn parse_secret(s: &str) -> Result<Secret, String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(Secret(s.to_owned()))
}

/// `tcp://host:port` → `host:port`.
fn parse_clamav_url(s: &str) -> Result<String, String> {
    let u = url::Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
    match (u.scheme(), u.host_str(), u.port()) {
        ("tcp", Some(host), Some(port)) => Ok(format!("{host}:{port}")),
        _ => Err("must look like tcp://host:3310".into()),
    }
}

/// Maintenance commands (`justus backup FILE`, `justus restore FILE`); they read the same
/// settings (`JUSTUS_DATA_DIR`, …) as the server.
#[derive(clap::Subcommand, Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Write a consistent backup of the data dir (SQLite database, signing secret, local
    /// media) to FILE; the server may keep running.
    Backup { file: PathBuf },
    /// Restore a backup made by `justus backup` into the data dir, which must hold no
    /// database yet; the server must not be running on it.
    Restore { file: PathBuf },
    /// Report what the next retention purge would remove (`RETENTION_DAYS` and each room's
    /// `retention_days`), room by room, changing nothing.
    Retention,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("justus").chain(args.iter().copied()))
    }

    /// clap's own consistency checks (unique ids across the flattened groups, …), and each
    /// group under its heading in `--help`.
    #[test]
    fn groups_are_consistent_and_headed_in_help() {
        use clap::CommandFactory;
        let mut cmd = Config::command();
        cmd.clone().debug_assert();
        let help = cmd.render_help().to_string();
        for heading in [
            "Database:",
            "Accounts:",
            "Limits:",
            "Connections:",
            "Scale-out:",
            "Media:",
            "S3 media storage:",
            "AI:",
        ] {
            assert!(help.contains(heading), "{heading} missing from --help");
        }
        assert!(help.contains("DATABASE_URL") && help.contains("REDIS_URL"));
    }

    #[test]
    fn defaults_are_embedded() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert!(c.database.url.is_none());
        assert!(!c.is_https());
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (args, needle) in [
            (vec!["--bind", "nope"], "JUSTUS_BIND"),
            (vec!["--database-url", "mysql://x"], "DATABASE_URL"),
            (vec!["--cors-origins", "https://a.org/path"], "CORS_ORIGINS"),
            (vec!["--trusted-proxies", "10.0.0.0/33"], "TRUSTED_PROXIES"),
            (vec!["--ai-provider", "skynet"], "AI_PROVIDER"),
            (vec!["--ai-base-url", "ftp://x"], "AI_BASE_URL"),
            (vec!["--ai-timeout-seconds", "0"], "AI_TIMEOUT_SECONDS"),
            (vec!["--metrics-bind", "everywhere"], "METRICS_BIND"),
            (
                vec!["--http-header-timeout-seconds", "0"],
                "HTTP_HEADER_TIMEOUT_SECONDS",
            ),
            (
                vec!["--media-decode-memory-bytes", "1048576"],
                "MEDIA_DECODE_MEMORY_BYTES",
            ),
            (
                vec!["--media-uploads-per-minute", "0"],
                "MEDIA_UPLOADS_PER_MINUTE",
            ),
        ] {
            let err = parse(&args).expect_err("should fail").to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = parse(&[
            "--database-url",
            "postgres://u:hunter2@db/x",
            "--jwt-secret",
            &"s".repeat(40),
        ])
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("hunter2") && !dbg.contains("ssssssss"),
            "{dbg}"
        );
    }

    #[test]
    fn transport_settings() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.metrics_bind.0, Some("127.0.0.1:9464".parse().unwrap()));
        assert!(c.transport.header_timeout_seconds < c.transport.idle_timeout_seconds);
        assert_eq!(
            parse(&["--metrics-bind", "off"]).unwrap().metrics_bind.0,
            None
        );
        assert!(
            c.transport
                .per_ip_limits_exempt
                .contains(&"127.0.0.9".parse().unwrap())
        );
        assert!(
            c.transport
                .per_ip_limits_exempt
                .contains(&"::1".parse().unwrap())
        );
        assert!(
            !c.transport
                .per_ip_limits_exempt
                .contains(&"10.0.0.1".parse().unwrap())
        );
        let none = parse(&["--per-ip-limits-exempt", "none"]).unwrap();
        assert!(none.transport.per_ip_limits_exempt.0.is_empty());
        let err = parse(&["--per-ip-limits-exempt", "10.0.0.0/8,nope"]).expect_err("bad net");
        assert!(err.to_string().contains("PER_IP_LIMITS_EXEMPT"), "{err}");
    }

    #[test]
    fn s3_settings() {
        let c = parse(&[]).unwrap();
        assert!(c.s3.bucket.is_none(), "local storage by default");
        assert_eq!(c.s3.region, "us-east-1");
        let c = parse(&[
            "--s3-bucket",
            "media",
            "--s3-endpoint",
            "http://minio:9000",
            "--s3-access-key-id",
            "AKIDEXAMPLE",
            "--s3-secret-access-key",
            "wJalrXUtnFEMI-very-secret",
        ])
        .unwrap();
        assert_eq!(
            c.s3.endpoint.as_ref().map(|u| u.as_str()),
            Some("http://minio:9000/")
        );
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("very-secret") && !dbg.contains("AKIDEXAMPLE"),
            "{dbg}"
        );
        for args in [
            vec!["--s3-endpoint", "ftp://minio:9000"],
            vec!["--s3-endpoint", "minio:9000"],
            vec!["--s3-endpoint", "http://"],
            vec!["--s3-secret-access-key", ""],
        ] {
            let err = parse(&args).expect_err("should fail").to_string();
            assert!(err.contains("S3_"), "{err}");
        }
    }

    #[test]
    fn origins() {
        let c = parse(&[
            "--public-url",
            "https://chat.example.org/",
            "--cors-origins",
            "http://localhost:5173",
        ])
        .unwrap();
        assert!(c.is_https());
        assert_eq!(
            c.allowed_origins(),
            vec![
                "http://localhost:5173".to_string(),
                "https://chat.example.org".to_string()
            ]
        );
    }
}
