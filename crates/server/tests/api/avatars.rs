//! Avatars: set / replace / remove for users and groups, the crop, clean 512² WebP output,
//! who may set and read them, and the OpenAPI names the web client relies on.

use crate::helpers::*;
use crate::media::{assert_clean_image, assert_error, fetch, jpeg_with_exif, upload_ok};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Cursor;

crate::both_backends!(
    user_avatar_set_crop_replace_remove,
    user_avatar_hostile_inputs,
    room_avatars,
);

/// A database failure is the server's, not a missing avatar: a 404 would tell clients the user
/// or picture is gone. Outages are simulated on PostgreSQL, whose connections can be refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatar_lookup_in_a_database_outage_is_a_server_error() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let (ada, ada_id) = app.user("ada").await;
    let path = format!("/api/v1/users/{ada_id}/avatar");
    let r = app.get(&path, Some(&ada)).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let url = app
        ._server
        .state
        .config
        .database
        .url
        .as_ref()
        .expect("a PostgreSQL app")
        .expose()
        .to_owned();
    justus_store_postgres::testing::set_outage(&url, true).await;
    let r = app.get(&path, Some(&ada)).await;
    justus_store_postgres::testing::set_outage(&url, false).await;
    assert!(r.status.is_server_error(), "{} {}", r.status, r.text);
    assert!(
        ["unavailable", "internal"].contains(&r.code()),
        "{}",
        r.text
    );
    // Back to the truth once the database is.
    let r = app.get(&path, Some(&ada)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

const RED: [u8; 3] = [220, 20, 20];
const BLUE: [u8; 3] = [20, 20, 220];

/// 400×200: the left half red, the right half blue.
fn halves_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(400, 200, |x, _| {
        image::Rgb(if x < 200 { RED } else { BLUE })
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn near(px: [u8; 3], want: [u8; 3]) -> bool {
    px.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 12)
}

/// Fetches an avatar through its endpoint (302 → signed URL) and decodes it; asserts a clean
/// 512×512 WebP.
async fn avatar_pixels(app: &TestApp, token: &str, path: &str) -> image::RgbImage {
    let r = app.get(path, Some(token)).await;
    assert_eq!(r.status, StatusCode::FOUND, "{path}: {}", r.text);
    let url = r.headers["location"].to_str().unwrap().to_owned();
    let f = fetch(app, &url, None).await;
    assert_eq!(f.status, StatusCode::OK);
    assert_eq!(f.headers["content-type"], "image/webp");
    assert_eq!(&f.bytes[..4], b"RIFF");
    assert_eq!(&f.bytes[8..12], b"WEBP");
    assert_eq!(assert_clean_image(&f.bytes), (512, 512));
    image::load_from_memory_with_format(&f.bytes, image::ImageFormat::WebP)
        .unwrap()
        .to_rgb8()
}

fn px(img: &image::RgbImage, x: u32, y: u32) -> [u8; 3] {
    img.get_pixel(x, y).0
}

async fn user_avatar_set_crop_replace_remove(app: TestApp) {
    let (ada, ada_id) = app.user("ada").await;
    let (bob, _) = app.user("bob").await;
    let upload = upload_ok(&app, &ada, "halves.png", &halves_png()).await;
    let source = upload["id"].as_str().unwrap().to_owned();

    // The right half: all blue.
    let r = app
        .patch(
            "/api/v1/users/me",
            Some(&ada),
            json!({"avatar": source, "avatar_crop": {"x": 200, "y": 0, "width": 200, "height": 200}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let first = r.body["avatar"].as_str().expect("avatar id").to_owned();
    assert_ne!(first, source, "the avatar is a new record, not the upload");
    let path = format!("/api/v1/users/{ada_id}/avatar");
    // Any signed-in user may see it.
    let img = avatar_pixels(&app, &bob, &path).await;
    for (x, y) in [(0, 0), (256, 256), (511, 511), (0, 511)] {
        assert!(
            near(px(&img, x, y), BLUE),
            "({x},{y}) = {:?}",
            px(&img, x, y)
        );
    }
    // JSON form, as for media.
    let r = app
        .send(
            reqwest::Method::GET,
            &path,
            Some(&bob),
            None,
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["url"].as_str().unwrap().contains("signature="));

    // Every user view carries it.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&ada)).await.body["avatar"],
        first.as_str()
    );
    let other = app
        .get(&format!("/api/v1/users/{ada_id}"), Some(&bob))
        .await;
    assert_eq!(other.body["avatar"], first.as_str());
    let room = app.group(&ada, "pics").await;
    let members = app
        .get(&format!("/api/v1/rooms/{room}/members"), Some(&ada))
        .await;
    assert_eq!(
        members.body["members"][0]["user"]["avatar"],
        first.as_str(),
        "{}",
        members.text
    );
    assert_eq!(
        app.get("/api/v1/users/me", Some(&bob)).await.body["avatar"],
        Value::Null
    );
    // And the gateway's `ready`.
    let (_ws, ready) = crate::gateway::Ws::connect(&app, &ada).await;
    assert_eq!(ready["user"]["avatar"], first.as_str(), "{ready}");

    // Default crop: the centred square of a 400×200 image is half red, half blue.
    let r = app
        .patch("/api/v1/users/me", Some(&ada), json!({"avatar": source}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let second = r.body["avatar"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let img = avatar_pixels(&app, &bob, &path).await;
    assert!(near(px(&img, 20, 256), RED), "{:?}", px(&img, 20, 256));
    assert!(near(px(&img, 490, 256), BLUE), "{:?}", px(&img, 490, 256));

    // Replaced by a photo carrying EXIF + GPS: the avatar carries none of it.
    let photo = upload_ok(&app, &ada, "photo.jpg", &jpeg_with_exif(300, 300, 1)).await;
    let r = app
        .patch(
            "/api/v1/users/me",
            Some(&ada),
            json!({"avatar": photo["id"], "display_name": "Ada L."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["display_name"], "Ada L.");
    assert_ne!(r.body["avatar"], second.as_str());
    avatar_pixels(&app, &bob, &path).await;

    // Removed.
    let r = app
        .patch("/api/v1/users/me", Some(&ada), json!({"avatar": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["avatar"], Value::Null);
    assert_error(
        &app.get(&path, Some(&bob)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Unknown user.
    let r = app
        .get(
            &format!("/api/v1/users/{}/avatar", uuid::Uuid::now_v7()),
            Some(&bob),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    // Signed-in only.
    assert_eq!(app.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
}

async fn user_avatar_hostile_inputs(app: TestApp) {
    let (ada, _) = app.user("ada").await;
    let (bob, _) = app.user("bob").await;
    let bobs = upload_ok(&app, &bob, "bob.png", &halves_png()).await;
    let mine = upload_ok(&app, &ada, "ada.png", &halves_png()).await;
    let pdf = upload_ok(
        &app,
        &ada,
        "doc.pdf",
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    )
    .await;
    let patch = |body: Value| app.patch("/api/v1/users/me", Some(&ada), body);

    // Someone else's upload, and an unknown id, answer alike.
    assert_error(
        &patch(json!({"avatar": bobs["id"]})).await,
        StatusCode::FORBIDDEN,
        "media_not_owned",
    );
    assert_error(
        &patch(json!({"avatar": uuid::Uuid::now_v7().to_string()})).await,
        StatusCode::FORBIDDEN,
        "media_not_owned",
    );
    assert_error(
        &patch(json!({"avatar": pdf["id"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "avatar_not_image",
    );
    assert_error(
        &patch(json!({"avatar": "nope"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_id",
    );
    assert_error(
        &patch(json!({"avatar": 7})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    );
    for crop in [
        json!({"x": 201, "y": 0, "width": 200, "height": 200}),
        json!({"x": 0, "y": 0, "width": 0, "height": 10}),
        json!({"x": 4294967295u64, "y": 0, "width": 2, "height": 2}),
    ] {
        let r = patch(json!({"avatar": mine["id"], "avatar_crop": crop})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_crop");
    }
    let r = patch(
        json!({"avatar": mine["id"], "avatar_crop": {"x": -1, "y": 0, "width": 2, "height": 2}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = patch(json!({"avatar_crop": {"x": 0, "y": 0, "width": 2, "height": 2}})).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_crop");
    let r = patch(json!({"avatar": mine["id"], "avatar_crop": {"x": 0, "y": 0, "width": 2, "height": 2, "z": 1}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);

    // Nothing of that changed the profile.
    assert_eq!(
        app.get("/api/v1/users/me", Some(&ada)).await.body["avatar"],
        Value::Null
    );

    // The OpenAPI document names the field the web client looks for.
    let spec = app.get("/api/openapi.json", None).await;
    for schema in ["PatchMe", "PatchRoom"] {
        let props = &spec.body["components"]["schemas"][schema]["properties"];
        assert!(props.get("avatar").is_some(), "{schema}: {props}");
        assert!(props.get("avatar_crop").is_some(), "{schema}: {props}");
    }
}

async fn room_avatars(app: TestApp) {
    let (owner, _) = app.user("owner").await;
    let (bob, bob_id) = app.user("bob").await;
    let (carol, _) = app.user("carol").await;
    let room = app.group(&owner, "pics").await;
    app.add(&owner, &room, &bob_id).await;
    let pic = upload_ok(&app, &owner, "halves.png", &halves_png()).await;
    let path = format!("/api/v1/rooms/{room}/avatar");
    // No avatar yet.
    assert_error(
        &app.get(&path, Some(&bob)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let before = app
        .get(&format!("/api/v1/rooms/{room}"), Some(&owner))
        .await;
    assert_eq!(before.body["avatar"], Value::Null);
    let seq = before.body["last_seq"].as_i64().unwrap();

    // Left half: red. Name changed in the same request.
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&owner),
            json!({"avatar": pic["id"], "avatar_crop": {"x": 0, "y": 0, "width": 200, "height": 200}, "name": "Pictures"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["name"], "Pictures");
    let avatar = r.body["avatar"].as_str().expect("room avatar").to_owned();
    let img = avatar_pixels(&app, &bob, &path).await;
    assert!(near(px(&img, 256, 256), RED), "{:?}", px(&img, 256, 256));

    // Room lists carry it; the history has the room.updated change.
    let list = app.get("/api/v1/rooms", Some(&bob)).await;
    let listed = list.body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["avatar"], avatar.as_str());
    let (_ws, ready) = crate::gateway::Ws::connect(&app, &bob).await;
    let in_ready = ready["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room.as_str())
        .unwrap()
        .clone();
    assert_eq!(in_ready["avatar"], avatar.as_str(), "{ready}");
    let events = app
        .get(
            &format!("/api/v1/rooms/{room}/events?after={seq}"),
            Some(&bob),
        )
        .await;
    let updates: Vec<&Value> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "room.updated")
        .collect();
    assert!(
        updates
            .iter()
            .any(|e| e["changes"]["avatar"] == avatar.as_str()),
        "{}",
        events.text
    );

    // A member may not; an outsider cannot see the room.
    let bobs = upload_ok(&app, &bob, "b.png", &halves_png()).await;
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&bob),
            json!({"avatar": bobs["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&carol),
            json!({"avatar": null}),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_error(
        &app.get(&path, Some(&carol)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The owner cannot use someone else's upload either.
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&owner),
            json!({"avatar": bobs["id"]}),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "media_not_owned");

    // Removed, with an event saying so.
    let r = app
        .patch(
            &format!("/api/v1/rooms/{room}"),
            Some(&owner),
            json!({"avatar": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["avatar"], Value::Null);
    let events = app
        .get(
            &format!("/api/v1/rooms/{room}/events?after={seq}"),
            Some(&owner),
        )
        .await;
    let last = events.body["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "room.updated");
    assert!(
        last["changes"].get("avatar").is_some_and(Value::is_null),
        "{last}"
    );
    assert_error(
        &app.get(&path, Some(&bob)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // DMs have no group avatar.
    let dm = app
        .post("/api/v1/dms", Some(&owner), json!({"user_id": bob_id}))
        .await;
    let dm_id = dm.body["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/rooms/{dm_id}"),
            Some(&owner),
            json!({"avatar": pic["id"]}),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "dm_has_no_avatar");
}
