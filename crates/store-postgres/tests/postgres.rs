//! PostgreSQL-specific behaviour beyond the shared conformance suite.

use chrono::Duration;
use justus_core::session::{NewSession, RefreshOutcome, RefreshPolicy, TokenHash};
use justus_core::store::Store;
use justus_core::testing::{t0, user};
use justus_core::{SessionId, StoreError};
use justus_store_postgres::PgStore;
use justus_store_postgres::testing::fresh_database_url;

/// A store on a fresh database, or `None` (skip) when there is no server and not on CI.
async fn fresh() -> Option<PgStore> {
    let url = fresh_database_url().await?;
    Some(
        PgStore::connect(&url, 5)
            .await
            .expect("connect to the test database"),
    )
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    match PgStore::connect("postgres://postgres@127.0.0.1:1/postgres", 1).await {
        Err(StoreError::Unavailable(msg)) => {
            assert!(msg.contains("cannot connect to PostgreSQL"), "{msg}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn pool_stats_are_reported() {
    let Some(store) = fresh().await else { return };
    store.ping().await.unwrap();
    let stats = store.pool_stats().expect("PgStore has a pool");
    assert!(stats.size >= 1 && stats.idle <= stats.size, "{stats:?}");
}

/// A retry of the previous token racing the use of its successor: both refreshes take the
/// family lock first, so they serialise (no deadlock, no error) and exactly one rotates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predecessor_and_successor_racing_serialise() {
    let Some(store) = fresh().await else { return };
    let u = user(&store, "racer").await;
    let p = RefreshPolicy::default();
    let now = t0() + Duration::minutes(1);
    for i in 0..20u8 {
        let h = |k: u8| TokenHash([i * 4 + k; 32]);
        let session = NewSession {
            id: SessionId::new(),
            user_id: u.id,
            token: h(0),
            now: t0(),
            expires_at: t0() + Duration::days(30),
            user_agent: None,
            ip: None,
        };
        store.create_session(&session).await.unwrap();
        assert!(matches!(
            store.refresh(&h(0), &h(1), now, &p).await.unwrap(),
            RefreshOutcome::Rotated(_)
        ));
        let [k0, k1, k2, k3] = [h(0), h(1), h(2), h(3)];
        let (a, b) = tokio::join!(
            store.refresh(&k0, &k2, now, &p),
            store.refresh(&k1, &k3, now, &p)
        );
        let outcomes = [
            a.expect("retry of the previous token"),
            b.expect("use of the successor"),
        ];
        let rotated = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::Rotated(_)))
            .count();
        let reused = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::ReuseDetected { .. }))
            .count();
        assert_eq!((rotated, reused), (1, 1), "{outcomes:?}");
    }
}
