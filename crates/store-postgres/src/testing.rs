//! Throwaway databases for tests (crate feature `testing`).
//!
//! Every call to [`fresh_database_url`] creates a new, empty database on the server named by
//! `TEST_POSTGRES_URL`, so tests can run in parallel and never see each other's rows. The
//! databases are not dropped when a test ends (there is no async teardown); instead, the first
//! call in each process drops leftovers older than [`LEFTOVER_AGE`], which no running test can
//! still be using. The creation time is part of the name: `justus_test_<unixsecs>_<uuid>`.

use sqlx::{Connection, Executor, PgConnection};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Used when `TEST_POSTGRES_URL` is not set.
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Test databases are named `<PREFIX><unixsecs>_<uuid>`.
pub const DATABASE_PREFIX: &str = "justus_test_";
/// Test databases older than this are dropped as leftovers.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(60 * 60);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Set by the first caller in this process, which then drops leftovers (the others need not wait).
static CLEANUP_CLAIMED: AtomicBool = AtomicBool::new(false);
static WARNED: AtomicBool = AtomicBool::new(false);

/// Creates an empty database and returns its URL.
///
/// Returns `None` when the server cannot be reached, after printing one loud line to stderr, so
/// the caller can skip; with `CI=true` it panics instead, since a CI run must not skip silently.
/// Panics if the server is reachable but the database cannot be created.
pub async fn fresh_database_url() -> Option<String> {
    let admin_url = admin_url();
    let mut conn =
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(&admin_url)).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return unreachable(&e.to_string()),
            Err(_) => return unreachable(&format!("no answer within {CONNECT_TIMEOUT:?}")),
        };

    if !CLEANUP_CLAIMED.swap(true, Ordering::Relaxed) {
        drop_leftovers(&mut conn).await;
    }

    let name = format!(
        "{DATABASE_PREFIX}{}_{}",
        unix_now().as_secs(),
        uuid::Uuid::now_v7().simple()
    );
    // CREATE DATABASE cannot run in a transaction or take parameters: the simple-query
    // protocol is used, with a name we built from digits and hex only.
    if let Err(e) = conn
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
    {
        panic!("cannot create test database {name}: {e}");
    }
    let _ = conn.close().await;
    Some(with_database(&admin_url, &name))
}

/// Like [`fresh_database_url`], but the URL logs in as a role made for this database alone —
/// no superuser, no `CREATEDB`, no `CREATEROLE` — that owns it (and so its `public` schema):
/// the least privilege JustUs needs, including for its migrations. The role is named like the
/// database and dropped with it as a leftover.
pub async fn fresh_owned_database_url() -> Option<String> {
    let url = fresh_database_url().await?;
    let name = database_name(&url).expect("a test database URL").to_owned();
    let password = uuid::Uuid::now_v7().simple().to_string();
    let mut conn = PgConnection::connect(&admin_url())
        .await
        .expect("admin connection");
    // Names are ours (digits and hex only) and the password is hex: safe to splice in.
    for statement in [
        format!(
            r#"CREATE ROLE "{name}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '{password}'"#
        ),
        format!(r#"ALTER DATABASE "{name}" OWNER TO "{name}""#),
    ] {
        if let Err(e) = conn.execute(statement.as_str()).await {
            panic!("cannot set up the least-privilege role for {name}: {e}");
        }
    }
    let _ = conn.close().await;
    Some(with_user(&url, &name, &password))
}

/// The privileges of the role `url` logs in as: (superuser, may create databases, may create
/// roles), for tests asserting least privilege.
pub async fn role_privileges(url: &str) -> (bool, bool, bool) {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let privileges = sqlx::query_as(
        "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await
    .expect("role privileges");
    let _ = conn.close().await;
    privileges
}

/// Simulates a database outage for the test database at `url`: while `down`, it refuses new
/// connections and its open ones are ended; `down = false` lets connections in again.
/// Panics if the admin connection fails, or if `url` does not name one of our test databases.
pub async fn set_outage(url: &str, down: bool) {
    let name = database_name(url).unwrap_or_else(|| panic!("not a test database URL: {url}"));
    let mut conn = PgConnection::connect(&admin_url())
        .await
        .expect("admin connection");
    // The name is ours (digits and hex only, checked above), so it can be spliced in.
    conn.execute(format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS {}"#, !down).as_str())
        .await
        .expect("ALTER DATABASE");
    if down {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(name)
            .execute(&mut conn)
            .await
            .expect("end open connections");
    }
    let _ = conn.close().await;
}

/// The server's maintenance database, from `TEST_POSTGRES_URL`.
fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES_URL.to_owned())
}

fn unreachable(why: &str) -> Option<String> {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "PostgreSQL suite requires TEST_POSTGRES_URL (default {DEFAULT_TEST_POSTGRES_URL}) to reach a server \
             when CI=true, but connecting failed: {why}"
        );
    }
    if !WARNED.swap(true, Ordering::Relaxed) {
        // Straight to the stderr handle: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "!!! SKIPPING the PostgreSQL store tests: cannot reach TEST_POSTGRES_URL \
             (default {DEFAULT_TEST_POSTGRES_URL}): {why}. Set CI=true to make this an error. !!!"
        );
    }
    None
}

/// Drops test databases created more than [`LEFTOVER_AGE`] ago. Best effort: errors (e.g. a
/// database still in use, or one another process dropped first) are ignored.
async fn drop_leftovers(conn: &mut PgConnection) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE starts_with(datname, $1)",
    )
    .bind(DATABASE_PREFIX)
    .fetch_all(&mut *conn)
    .await
    {
        Ok(names) => names,
        Err(_) => return,
    };
    let cutoff = unix_now().saturating_sub(LEFTOVER_AGE).as_secs();
    for name in names {
        if created_at(&name).is_some_and(|secs| secs < cutoff) {
            let _ = conn
                .execute(format!(r#"DROP DATABASE IF EXISTS "{name}""#).as_str())
                .await;
        }
    }
    // Roles of `fresh_owned_database_url`, once their database is gone.
    let roles: Vec<String> = sqlx::query_scalar(
        "SELECT rolname::text FROM pg_roles WHERE starts_with(rolname, $1) \
         AND NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = rolname)",
    )
    .bind(DATABASE_PREFIX)
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    for role in roles.into_iter().filter(|r| created_at(r).is_some()) {
        let _ = conn
            .execute(format!(r#"DROP ROLE IF EXISTS "{role}""#).as_str())
            .await;
    }
}

/// The test database a URL names, if it is one of ours.
fn database_name(url: &str) -> Option<&str> {
    url.split('?')
        .next()
        .and_then(|base| base.rsplit('/').next())
        .filter(|name| created_at(name).is_some())
}

/// `url` logging in as `user` with `password` (the userinfo replaced or added).
fn with_user(url: &str, user: &str, password: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host_onwards = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    format!(
        "{}{user}:{password}@{host_onwards}",
        &url[..authority_start]
    )
}

/// The creation time encoded in a test database's name, if it is one of ours.
fn created_at(name: &str) -> Option<u64> {
    let rest = name.strip_prefix(DATABASE_PREFIX)?;
    let (secs, id) = rest.split_once('_')?;
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    secs.parse().ok()
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// `url` with its database (the path) replaced by `database`; userinfo, host and query stay.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_in_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
        assert_eq!(
            with_database("postgresql://h?host=/run/postgresql", "x"),
            "postgresql://h/x?host=/run/postgresql"
        );
    }

    #[test]
    fn user_in_url_is_replaced_or_added() {
        assert_eq!(
            with_user("postgres://postgres@127.0.0.1:5432/db", "r", "p"),
            "postgres://r:p@127.0.0.1:5432/db"
        );
        assert_eq!(
            with_user("postgres://a:b@h/db?sslmode=disable", "r", "p"),
            "postgres://r:p@h/db?sslmode=disable"
        );
        assert_eq!(
            with_user("postgres://h:5432/db", "r", "p"),
            "postgres://r:p@h:5432/db"
        );
    }

    #[test]
    fn leftover_names() {
        assert_eq!(
            created_at("justus_test_1700000000_0123456789abcdef0123456789abcdef"),
            Some(1_700_000_000)
        );
        assert_eq!(
            created_at("justus_test_0123456789abcdef0123456789abcdef"),
            None
        );
        assert_eq!(created_at("justus_test_1700000000_nothex"), None);
        assert_eq!(created_at("justus_prod"), None);
    }
}
