//! `justus backup` / `justus restore` (crates/server/src/backup.rs): an instance backed up
//! while it keeps taking sends, restored into a new data dir, serves every message, file and
//! read marker acknowledged before the backup, and history stays gap-free.

use crate::helpers::*;
use crate::media::{fetch, upload_ok};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The room's whole history, oldest first (pages of `after`).
async fn history(app: &TestApp, token: &str, room: &str) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    loop {
        let after = all.last().map_or(0, |m| m["seq"].as_i64().unwrap());
        let r = app
            .get(
                &format!("/api/v1/rooms/{room}/messages?after={after}&limit=100"),
                Some(token),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let page = r.body["messages"].as_array().unwrap().clone();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

fn read_seq_of(members: &Value, username: &str) -> Value {
    members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["username"] == username)
        .map(|m| m["read_seq"].clone())
        .unwrap_or(Value::Null)
}

async fn file_bytes(app: &TestApp, token: &str, media_id: &str) -> Vec<u8> {
    let r = app
        .get(&format!("/api/v1/media/{media_id}"), Some(token))
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    let url = r.headers["location"].to_str().unwrap().to_owned();
    let f = fetch(app, &url, None).await;
    assert_eq!(f.status, StatusCode::OK);
    f.bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_instance_backed_up_while_serving_restores_messages_files_and_markers() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let (ada, _) = app.user("ada").await;
    let (bob, bob_id) = app.user("bob").await;
    let room = app.group(&ada, "Backed up").await;
    app.add(&ada, &room, &bob_id).await;
    let content = b"the minutes of the meeting\n".repeat(100);
    let upload = upload_ok(&app, &ada, "minutes.txt", &content).await;
    let media_id = upload["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/messages"),
            Some(&ada),
            json!({"client_id": "with-file", "body": "minutes attached", "attachments": [media_id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    for i in 0..40 {
        app.say(&ada, &room, &format!("before {i}")).await;
    }
    let marker = app.say(&bob, &room, "bob was here").await["seq"]
        .as_i64()
        .unwrap();
    let r = app
        .post(
            &format!("/api/v1/rooms/{room}/read"),
            Some(&bob),
            json!({"seq": marker - 3}),
        )
        .await;
    assert_eq!(r.body["read_seq"], marker - 3);
    let before = history(&app, &ada, &room).await;

    // Sends keep arriving while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let busy = {
        let (client, base, token, room, stop) = (
            app.client.clone(),
            app.base.clone(),
            ada.clone(),
            room.clone(),
            Arc::clone(&stop),
        );
        tokio::spawn(async move {
            let mut acked = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .post(format!("{base}/api/v1/rooms/{room}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"client_id": format!("busy-{acked}"), "body": format!("during {acked}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                acked += 1;
            }
            acked
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("justus-backup.tar");
    let data_dir = app.config.data_dir.clone();
    let out = archive.clone();
    let made = tokio::task::spawn_blocking(move || justus_server::backup::create(&data_dir, &out))
        .await
        .unwrap()
        .expect("backup of a serving instance");
    stop.store(true, Ordering::Relaxed);
    let during = busy.await.unwrap();
    assert!(during > 0, "sends went on during the backup");
    assert!(made.database_bytes > 0 && made.media_files >= 1, "{made:?}");
    assert!(made.media_bytes >= content.len() as u64, "{made:?}");

    // Restore into a new data dir and serve it (same signing secret: the old tokens work).
    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let back = justus_server::backup::restore(&archive, &target).expect("restore");
    assert_eq!(
        (back.database_bytes, back.media_files, back.media_bytes),
        (made.database_bytes, made.media_files, made.media_bytes)
    );
    // Restoring over a database is refused.
    let again = justus_server::backup::restore(&archive, &target).unwrap_err();
    assert!(
        again.to_string().contains("already has a database"),
        "{again}"
    );
    let app2 = TestApp::spawn_with(Backend::Sqlite, |c| c.data_dir = target.clone())
        .await
        .expect("restored instance");

    let after = history(&app2, &ada, &room).await;
    // Everything acknowledged before the backup started is there, unchanged.
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "messages before the backup"
    );
    // What came in during the backup is a gap-free prefix of what was acknowledged.
    let seqs: Vec<i64> = after.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let extra = after.len() - before.len();
    assert!(extra <= during, "{extra} > {during}");
    for (i, m) in after[before.len()..].iter().enumerate() {
        assert_eq!(m["body"], format!("during {i}"));
    }
    // The file, the read marker, and a new send continuing the room's seqs.
    assert_eq!(file_bytes(&app2, &bob, &media_id).await, content);
    let members = app2
        .get(&format!("/api/v1/rooms/{room}/members"), Some(&ada))
        .await
        .body;
    assert_eq!(read_seq_of(&members, "bob"), json!(marker - 3));
    let next = app2.say(&bob, &room, "after the restore").await;
    assert_eq!(next["seq"].as_i64().unwrap(), seqs.last().unwrap() + 1);
}
