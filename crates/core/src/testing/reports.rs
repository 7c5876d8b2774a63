//! Conformance cases: reports, their scopes, one open report per thing, resolution with its
//! audit entry, and retention clearing what a report quoted.

use super::accounts::user;
use super::support::{at, conflict, group, join, new_msg, not_found, send_new};
use crate::audit::AuditAction;
use crate::ids::{ReportId, RoomId, UserId};
use crate::report::{Report, ReportStatus};
use crate::store::{ReportScope, Store};

fn new_report(
    reporter: UserId,
    room: RoomId,
    message: Option<crate::ids::MessageId>,
    target: UserId,
    excerpt: &str,
    t: i64,
) -> Report {
    Report {
        id: ReportId::new(),
        reporter_id: reporter,
        room_id: room,
        message_id: message,
        target_user_id: target,
        reason: "spam".into(),
        excerpt: excerpt.into(),
        status: ReportStatus::Open,
        created_at: at(t),
        resolved_by: None,
        resolved_at: None,
        resolution_note: None,
    }
}

pub async fn reports_filed_listed_and_resolved(store: &dyn Store) {
    let owner = user(store, "repowner").await;
    let bob = user(store, "repbob").await;
    let carol = user(store, "repcarol").await;
    let room = group(store, owner.id, "Reported").await;
    let other = group(store, owner.id, "Quiet").await;
    join(store, room.id, bob.id, at(1)).await;
    join(store, room.id, carol.id, at(2)).await;
    let (m, _) = send_new(store, &new_msg(room.id, carol.id, "spam spam", at(3))).await;

    let about_msg = new_report(bob.id, room.id, Some(m.id), carol.id, "spam spam", 4);
    store.create_report(&about_msg).await.unwrap();
    assert_eq!(store.report(about_msg.id).await.unwrap(), about_msg);
    // One open report per reporter and thing.
    let again = new_report(bob.id, room.id, Some(m.id), carol.id, "spam spam", 5);
    conflict(store.create_report(&again).await, "report_open");
    let about_person = new_report(bob.id, room.id, None, carol.id, "", 6);
    store.create_report(&about_person).await.unwrap();
    conflict(
        store
            .create_report(&new_report(bob.id, room.id, None, carol.id, "", 7))
            .await,
        "report_open",
    );
    // Someone else may report the same message.
    let by_owner = new_report(owner.id, room.id, Some(m.id), carol.id, "spam spam", 8);
    store.create_report(&by_owner).await.unwrap();
    let elsewhere = new_report(owner.id, other.id, None, bob.id, "", 9);
    store.create_report(&elsewhere).await.unwrap();

    let ids = |v: Vec<Report>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .reports(ReportScope::Room(room.id), true, None, 50)
            .await
            .unwrap()),
        vec![by_owner.id, about_person.id, about_msg.id],
        "newest first, that room's"
    );
    assert_eq!(
        ids(store
            .reports(ReportScope::ReportedBy(bob.id), false, None, 50)
            .await
            .unwrap()),
        vec![about_person.id, about_msg.id]
    );
    assert_eq!(
        store
            .reports(ReportScope::All, true, None, 50)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        ids(store
            .reports(ReportScope::Room(room.id), true, Some(about_person.id), 50)
            .await
            .unwrap()),
        vec![about_msg.id],
        "paged by id"
    );

    let resolved = store
        .resolve_report(
            about_msg.id,
            ReportStatus::ActionTaken,
            owner.id,
            Some("removed".into()),
            at(10),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            resolved.status,
            resolved.resolved_by,
            resolved.resolved_at,
            resolved.resolution_note.as_deref()
        ),
        (
            ReportStatus::ActionTaken,
            Some(owner.id),
            Some(at(10)),
            Some("removed")
        )
    );
    conflict(
        store
            .resolve_report(
                about_msg.id,
                ReportStatus::Dismissed,
                owner.id,
                None,
                at(11),
            )
            .await,
        "report_resolved",
    );
    not_found(
        store
            .resolve_report(
                ReportId::new(),
                ReportStatus::Dismissed,
                owner.id,
                None,
                at(11),
            )
            .await,
    );
    assert_eq!(
        ids(store
            .reports(ReportScope::Room(room.id), true, None, 50)
            .await
            .unwrap()),
        vec![by_owner.id, about_person.id],
        "open only"
    );
    // Resolved, the same thing may be reported again.
    store
        .create_report(&new_report(
            bob.id,
            room.id,
            Some(m.id),
            carol.id,
            "spam spam",
            12,
        ))
        .await
        .unwrap();
    let log = store.audit_log(Some(room.id), None, 10).await.unwrap();
    assert_eq!(log[0].action, AuditAction::ReportResolved);
    assert_eq!(
        (
            log[0].actor_id,
            log[0].target_user_id,
            log[0].target_message_id
        ),
        (owner.id, Some(carol.id), Some(m.id))
    );
    assert_eq!(log[0].details.as_ref().unwrap()["outcome"], "action_taken");
    assert_eq!(
        log[0].reason.as_deref(),
        Some("removed"),
        "the note is the reason"
    );

    // Retention: the purge leaves the reports but not the text they quoted.
    store
        .purge_room(room.id, at(100), 10, at(200))
        .await
        .unwrap();
    let after = store.report(about_msg.id).await.unwrap();
    assert_eq!(after.excerpt, "", "the purged text is gone from the report");
    assert_eq!(after.status, ReportStatus::ActionTaken);
}
