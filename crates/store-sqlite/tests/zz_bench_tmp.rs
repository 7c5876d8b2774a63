use justus_core::message::NewMessage;
use justus_core::room::{NewGroup, Role};
use justus_core::store::Store;
use justus_core::user::{DisplayName, NewUser, Username};
use justus_core::{MessageId, RoomId, UserId};
use justus_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use std::sync::Arc;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[ignore]
async fn bench_sends() {
    for sync in [Synchronous::Normal, Synchronous::Full] {
        let dir = tempfile::tempdir().unwrap();
        let opts = SqliteOptions {
            synchronous: sync,
            ..SqliteOptions::default()
        };
        let store = Arc::new(SqliteStore::open(&dir.path().join("b.db"), &opts).unwrap());
        let now = chrono::Utc::now();
        let mut users = vec![];
        for i in 0..10 {
            let id = UserId::new();
            store
                .create_user(&NewUser {
                    id,
                    username: Username::parse(&format!("user{i}")).unwrap(),
                    display_name: DisplayName::parse("u").unwrap(),
                    email: None,
                    password_hash: "x".into(),
                    now,
                })
                .await
                .unwrap();
            users.push(id);
        }
        let mut rooms = vec![];
        for r in 0..10 {
            let id = RoomId::new();
            store
                .create_group(&NewGroup {
                    id,
                    name: format!("r{r}"),
                    topic: None,
                    owner: users[0],
                    now,
                })
                .await
                .unwrap();
            for u in &users[1..] {
                store
                    .add_member(id, *u, Role::Member, *u, 100, now)
                    .await
                    .unwrap();
            }
            rooms.push(id);
        }
        let tasks = 1000;
        let per = 200;
        let start = Instant::now();
        let mut hs = vec![];
        for t in 0..tasks {
            let store = store.clone();
            let room = rooms[t % rooms.len()];
            let sender = users[t % users.len()];
            hs.push(tokio::spawn(async move {
                for i in 0..per {
                    let m = NewMessage {
                        id: MessageId::new(),
                        room_id: room,
                        sender_id: sender,
                        client_id: format!("{t}-{i}"),
                        body: format!("hello world message number {i} from task {t}"),
                        reply_to: None,
                        forwarded: None,
                        mentions: vec![],
                        mentions_room: false,
                        now: chrono::Utc::now(),
                    };
                    store.send_message(&m).await.unwrap();
                }
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        let el = start.elapsed();
        println!(
            "{sync:?}: {} sends in {:?} = {:.0}/s",
            tasks * per,
            el,
            (tasks * per) as f64 / el.as_secs_f64()
        );
    }
}
