//! The Store conformance suite against PostgreSQL: each case gets its own empty database.
//!
//! Needs a server at `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! Without one the cases are skipped (loudly), unless `CI=true`, where that is a failure.

// `store_conformance!` expands to `let store = $make.await;` inside each test function, so the
// block below runs in the test itself: its `return` skips the case when there is no server.
justus_core::store_conformance!({
    let Some(url) = justus_store_postgres::testing::fresh_database_url().await else {
        return;
    };
    let store = justus_store_postgres::PgStore::connect(&url, 5)
        .await
        .expect("connect to the test database");
    std::future::ready(store)
});
