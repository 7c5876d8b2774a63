//! Sends commit through one writer task per store: it takes every send waiting (up to
//! [`MAX_BATCH`]) and commits them in one transaction with multi-row statements, so a burst of
//! N sends costs one commit (one WAL flush) and six round trips instead of N commits and 7N
//! round trips.
//!
//! A batch, in order: its rooms are locked in id order (`FOR NO KEY UPDATE`, as every history
//! write does: two instances' writers never deadlock each other) and checked live; under those
//! locks one probe per send finds the message a retry already wrote, and checks membership and
//! the reply target; the accepted sends take consecutive seqs per room in queue order; one
//! statement inserts the messages, their `message.created` events and their mentions;
//! attachments are linked per message. A retry is answered with its message, a refused send
//! (not a member, a dead reply) with `NotFound`, and neither takes a seq. If anything else
//! makes the batch fail, it is rolled back and its sends are committed one by one
//! ([`crate::messages::send_one`]), each answered with its own outcome — so one bad send never
//! fails the others. A lost connection fails the batch's sends with `Unavailable` at once
//! instead (retrying one by one would only wait out the pool N times).
//!
//! Sends commit in the order they were queued: the queue is FIFO and a send with the same
//! (sender, client_id) as one earlier in the batch starts a new batch, so the gateway may
//! pipeline a socket's sends (`Messages::commits_sends_in_order`).

use crate::errors::MapErr;
use crate::history::fill;
use crate::messages::{created, normalised, send_one};
use crate::rows::MessageRow;
use chrono::{DateTime, SubsecRound, Utc};
use justus_core::event::EventKind;
use justus_core::message::{Message, NewMessage};
use justus_core::store::SendOutcome;
use justus_core::{StoreError, StoreResult};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use std::collections::{HashMap, HashSet};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;
use uuid::Uuid;

/// Sends waiting for the writer before `send_message` callers wait to queue (in order).
const QUEUE: usize = 8192;
/// Sends committed in one transaction at most: large enough to amortise a commit at any load
/// one instance sees, small enough that one batch's statements stay well under a millisecond
/// of PostgreSQL's time per hundred rows.
pub(crate) const MAX_BATCH: usize = 512;

struct Job {
    new: NewMessage,
    answer: oneshot::Sender<StoreResult<SendOutcome>>,
    /// The caller's span: the batch's trace span is a child of the first job's and links the
    /// others (a disabled span while traces are off).
    span: tracing::Span,
}

/// The queue into the writer task; the task ends when the last store clone is dropped.
#[derive(Clone, Debug)]
pub(crate) struct SendWriter {
    jobs: mpsc::Sender<Job>,
}

impl SendWriter {
    /// Starts the writer on the current Tokio runtime. It holds one of the pool's connections
    /// while it is up: acquiring one per batch cost a health-check round trip each time, ~10 %
    /// of a batch's time.
    pub(crate) fn start(pool: PgPool) -> SendWriter {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, queue));
        SendWriter { jobs }
    }

    /// Queues `new` and waits for its outcome. The job is queued on the first poll (unless the
    /// queue is full, when callers wait their turn in order), and commits even if the caller
    /// stops waiting.
    pub(crate) async fn send(&self, new: &NewMessage) -> StoreResult<SendOutcome> {
        let (answer, outcome) = oneshot::channel();
        let job = Job {
            new: new.clone(),
            answer,
            span: tracing::Span::current(),
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the PostgreSQL send writer stopped".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Other("the PostgreSQL send writer dropped a send".into()))?
    }
}

async fn run(pool: PgPool, mut queue: mpsc::Receiver<Job>) {
    let mut conn: Option<PoolConnection<Postgres>> = None;
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        for batch in batches(std::mem::take(&mut waiting)) {
            commit(&pool, &mut conn, batch).await;
        }
    }
}

/// Splits the queued jobs, in order, so no batch holds one (sender, client_id) twice: a
/// duplicate goes into the next batch, where it finds the first one's committed row.
fn batches(jobs: Vec<Job>) -> Vec<Vec<Job>> {
    let mut out: Vec<Vec<Job>> = Vec::new();
    let mut current = Vec::with_capacity(jobs.len());
    let mut keys: HashSet<(Uuid, String)> = HashSet::with_capacity(jobs.len());
    for job in jobs {
        if !keys.insert((job.new.sender_id.as_uuid(), job.new.client_id.clone())) {
            out.push(std::mem::take(&mut current));
            keys.clear();
            keys.insert((job.new.sender_id.as_uuid(), job.new.client_id.clone()));
        }
        current.push(job);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Commits one batch and answers every job in it, on the writer's connection (taken from the
/// pool when there is none, given up when it failed).
async fn commit(pool: &PgPool, conn: &mut Option<PoolConnection<Postgres>>, jobs: Vec<Job>) {
    let span = batch_span(&jobs);
    commit_batch(pool, conn, jobs).instrument(span).await
}

/// One span for a batch's transaction, in the trace of its first send, linked from the rest.
fn batch_span(jobs: &[Job]) -> tracing::Span {
    let Some(first) = jobs.first().filter(|j| !j.span.is_disabled()) else {
        return tracing::Span::none();
    };
    let span = tracing::debug_span!(
        target: "justus::trace",
        parent: &first.span,
        "send_batch",
        otel.kind = "client",
        db.system.name = "postgresql",
        db.operation.name = "send_batch",
        db.operation.batch.size = jobs.len(),
    );
    for job in &jobs[1..] {
        span.follows_from(&job.span);
    }
    span
}

async fn commit_batch(pool: &PgPool, conn: &mut Option<PoolConnection<Postgres>>, jobs: Vec<Job>) {
    let news: Vec<&NewMessage> = jobs.iter().map(|j| &j.new).collect();
    let written = match conn.as_mut() {
        Some(held) => match write_batch(held, &news).await {
            // The held connection broke (a restart or failover since the last batch): once
            // more on a fresh one. Safe even if the first try committed: its sends are then
            // found as retries.
            Err(StoreError::Unavailable(_)) => write_on_fresh(pool, conn, &news).await,
            done => done,
        },
        None => write_on_fresh(pool, conn, &news).await,
    };
    match written {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                // The caller may have stopped waiting; the send is committed either way.
                let _ = job.answer.send(outcome);
            }
        }
        Err(e @ StoreError::Unavailable(_)) => {
            *conn = None;
            for job in jobs {
                let _ = job.answer.send(Err(e.clone()));
            }
        }
        Err(e) => {
            // Whatever broke the batch may have broken the connection too: the next batch
            // starts on a checked one from the pool.
            *conn = None;
            tracing::warn!(error = %e, sends = jobs.len(), "send batch failed; committing its sends one by one");
            for job in jobs {
                let outcome = send_one(pool, &job.new).await;
                let _ = job.answer.send(outcome);
            }
        }
    }
}

/// [`write_batch`] on a connection fresh from the pool, which the writer keeps for the next
/// batches.
async fn write_on_fresh(
    pool: &PgPool,
    conn: &mut Option<PoolConnection<Postgres>>,
    news: &[&NewMessage],
) -> StoreResult<Vec<StoreResult<SendOutcome>>> {
    *conn = None;
    let fresh = pool.acquire().await.store()?;
    write_batch(conn.insert(fresh), news).await
}

/// The batch's transaction; one outcome per send, in order. `Err` means nothing was committed.
async fn write_batch(
    conn: &mut PgConnection,
    news: &[&NewMessage],
) -> StoreResult<Vec<StoreResult<SendOutcome>>> {
    let mut outcomes: Vec<Option<StoreResult<SendOutcome>>> = vec![None; news.len()];
    let mut tx = sqlx::Acquire::begin(conn).await.store()?;

    // The rooms' row locks serialise each room's history writers (see `history::next_seq`),
    // taken in id order so two instances' writers cannot deadlock.
    let mut rooms: Vec<Uuid> = news.iter().map(|n| n.room_id.as_uuid()).collect();
    rooms.sort_unstable();
    rooms.dedup();
    let live: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT id, last_seq FROM rooms WHERE id = ANY($1) AND deleted_at IS NULL \
         ORDER BY id FOR NO KEY UPDATE",
    )
    .bind(&rooms)
    .fetch_all(&mut *tx)
    .await
    .store()?;
    let mut last_seq: HashMap<Uuid, i64> = live.into_iter().collect();

    // Under those locks (a leave, a delete, another instance's send to the room take the same
    // lock first), one probe per send: the message a retry already wrote, and whether the
    // sender is a member and the reply target a live message of the room. Correlated probes
    // stay on their indexes under the generic plan PostgreSQL switches a prepared statement to
    // after five runs; a join's generic plan, made while the table was nearly empty, scanned
    // all of it later (1.7 → 8.5 ms per batch within eight seconds).
    let probe = Probe::of(news);
    let probed: Vec<(Option<Uuid>, bool)> = sqlx::query_as(
        "SELECT (SELECT m.id FROM messages m \
                 WHERE m.sender_id = t.sender_id AND m.client_id = t.client_id), \
                EXISTS (SELECT 1 FROM room_members m \
                        WHERE m.room_id = t.room_id AND m.user_id = t.sender_id) \
                AND (t.reply_to IS NULL OR EXISTS (SELECT 1 FROM messages r \
                     WHERE r.id = t.reply_to AND r.room_id = t.room_id AND r.deleted_at IS NULL)) \
         FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::uuid[]) WITH ORDINALITY \
              AS t(sender_id, client_id, room_id, reply_to, ord) ORDER BY t.ord",
    )
    .bind(&probe.senders)
    .bind(&probe.client_ids)
    .bind(&probe.rooms)
    .bind(&probe.replies)
    .fetch_all(&mut *tx)
    .await
    .store()?;
    if probed.len() != news.len() {
        return Err(StoreError::Other("the send probe lost rows".into()));
    }

    // Retries are answered with the message they already wrote.
    let existing_ids: Vec<Uuid> = probed.iter().filter_map(|(id, _)| *id).collect();
    if !existing_ids.is_empty() {
        let rows: Vec<MessageRow> = sqlx::query_as(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages msg WHERE msg.id = ANY($1)"
        ))
        .bind(&existing_ids)
        .fetch_all(&mut *tx)
        .await
        .store()?;
        let mut by_id: HashMap<Uuid, Message> = fill(&mut tx, rows)
            .await?
            .into_iter()
            .map(|m| (m.id.as_uuid(), m))
            .collect();
        for (i, (id, _)) in probed.iter().enumerate() {
            if let Some(id) = id {
                let message = by_id
                    .remove(id)
                    .ok_or_else(|| StoreError::Other("a retried send vanished".into()))?;
                outcomes[i] = Some(Ok(SendOutcome::Existing(message)));
            }
        }
    }
    let fresh: Vec<usize> = (0..news.len()).filter(|&i| outcomes[i].is_none()).collect();
    let allowed: Vec<bool> = fresh.iter().map(|&i| probed[i].1).collect();

    // Seqs in queue order, per room; refused sends take none.
    let mut accepted: Vec<(usize, i64)> = Vec::with_capacity(fresh.len());
    // A room's latest send time, for the rooms that take a send (their new last seq is in
    // `last_seq`).
    let mut active_at: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for (k, &i) in fresh.iter().enumerate() {
        let new = news[i];
        let room = new.room_id.as_uuid();
        match last_seq.get_mut(&room) {
            Some(seq) if allowed.get(k).copied().unwrap_or(false) => {
                *seq += 1;
                accepted.push((i, *seq));
                let at = active_at.entry(room).or_insert(new.now);
                *at = (*at).max(new.now);
            }
            _ => outcomes[i] = Some(Err(StoreError::NotFound)),
        }
    }
    if accepted.is_empty() {
        tx.rollback().await.store()?;
        return Ok(answered(outcomes));
    }

    let update_rooms: Vec<Uuid> = active_at.keys().copied().collect();
    let update_seqs: Vec<i64> = update_rooms.iter().map(|r| last_seq[r]).collect();
    let update_at: Vec<DateTime<Utc>> = update_rooms.iter().map(|r| active_at[r]).collect();
    sqlx::query(
        "UPDATE rooms r SET last_seq = v.last_seq, last_activity_at = v.at \
         FROM UNNEST($1::uuid[], $2::bigint[], $3::timestamptz[]) AS v(id, last_seq, at) \
         WHERE r.id = v.id",
    )
    .bind(&update_rooms)
    .bind(&update_seqs)
    .bind(&update_at)
    .execute(&mut *tx)
    .await
    .store()?;

    // Messages, their events and their mentions: one statement.
    let rows = Columns::of(news, &accepted);
    let inserted: Vec<MessageRow> = sqlx::query_as(concat!(
        "WITH ins AS (INSERT INTO messages AS msg (id, room_id, seq, sender_id, client_id, body, \
           reply_to, fwd_sender_id, fwd_sent_at, mentions_room, created_at) \
           SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], \
             $6::text[], $7::uuid[], $8::uuid[], $9::timestamptz[], $10::bool[], $11::timestamptz[]) \
           ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING ",
        message_columns!(),
        "), ev AS (INSERT INTO room_events (room_id, seq, kind, actor_id, created_at, message_id) \
           SELECT room_id, seq, $14, sender_id, created_at, id FROM ins), \
         men AS (INSERT INTO message_mentions (message_id, user_id, room_id, seq) \
           SELECT ins.id, m.user_id, ins.room_id, ins.seq \
           FROM UNNEST($12::uuid[], $13::uuid[]) AS m(message_id, user_id) \
           JOIN ins ON ins.id = m.message_id ON CONFLICT DO NOTHING) \
         SELECT * FROM ins"
    ))
    .bind(&rows.ids)
    .bind(&rows.rooms)
    .bind(&rows.seqs)
    .bind(&rows.senders)
    .bind(&rows.client_ids)
    .bind(&rows.bodies)
    .bind(&rows.replies)
    .bind(&rows.fwd_senders)
    .bind(&rows.fwd_sent_at)
    .bind(&rows.mentions_room)
    .bind(&rows.created_at)
    .bind(&rows.mention_messages)
    .bind(&rows.mention_users)
    .bind(EventKind::MessageCreated.as_str())
    .fetch_all(&mut *tx)
    .await
    .store()?;
    if inserted.len() != accepted.len() {
        // Another instance committed one of these keys into another room (a key reused across
        // rooms; same-room retries were found under the room lock): roll back (the seqs go
        // back) and let the one-by-one path answer each send.
        tx.rollback().await.store()?;
        return Err(StoreError::Conflict("client_id"));
    }
    for &(i, _) in &accepted {
        if !news[i].attachments.is_empty() {
            crate::media::insert_attachments(&mut tx, news[i]).await?;
        }
    }
    tx.commit().await.store()?;

    let mut by_id: HashMap<Uuid, MessageRow> = inserted.into_iter().map(|r| (r.id, r)).collect();
    for &(i, seq) in &accepted {
        let new = news[i];
        let row = by_id
            .remove(&new.id.as_uuid())
            .ok_or_else(|| StoreError::Other("an inserted message vanished".into()))?;
        outcomes[i] = Some(Ok(created(row, new, seq)));
    }
    Ok(answered(outcomes))
}

/// Every send's outcome, in order (a send the batch left unanswered is a bug, reported as one).
fn answered(outcomes: Vec<Option<StoreResult<SendOutcome>>>) -> Vec<StoreResult<SendOutcome>> {
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(StoreError::Other("a send was left unanswered".into()))))
        .collect()
}

/// What the probe reads, one array per column.
struct Probe<'a> {
    senders: Vec<Uuid>,
    client_ids: Vec<&'a str>,
    rooms: Vec<Uuid>,
    replies: Vec<Option<Uuid>>,
}

impl<'a> Probe<'a> {
    fn of(news: &[&'a NewMessage]) -> Probe<'a> {
        Probe {
            senders: news.iter().map(|n| n.sender_id.as_uuid()).collect(),
            client_ids: news.iter().map(|n| n.client_id.as_str()).collect(),
            rooms: news.iter().map(|n| n.room_id.as_uuid()).collect(),
            replies: news
                .iter()
                .map(|n| n.reply_to.map(|m| m.as_uuid()))
                .collect(),
        }
    }
}

/// The accepted sends as one array per column (UNNEST's input).
struct Columns<'a> {
    ids: Vec<Uuid>,
    rooms: Vec<Uuid>,
    seqs: Vec<i64>,
    senders: Vec<Uuid>,
    client_ids: Vec<&'a str>,
    bodies: Vec<&'a str>,
    replies: Vec<Option<Uuid>>,
    fwd_senders: Vec<Option<Uuid>>,
    fwd_sent_at: Vec<Option<DateTime<Utc>>>,
    mentions_room: Vec<bool>,
    created_at: Vec<DateTime<Utc>>,
    mention_messages: Vec<Uuid>,
    mention_users: Vec<Uuid>,
}

impl<'a> Columns<'a> {
    fn of(news: &[&'a NewMessage], accepted: &[(usize, i64)]) -> Columns<'a> {
        let n = accepted.len();
        let mut c = Columns {
            ids: Vec::with_capacity(n),
            rooms: Vec::with_capacity(n),
            seqs: Vec::with_capacity(n),
            senders: Vec::with_capacity(n),
            client_ids: Vec::with_capacity(n),
            bodies: Vec::with_capacity(n),
            replies: Vec::with_capacity(n),
            fwd_senders: Vec::with_capacity(n),
            fwd_sent_at: Vec::with_capacity(n),
            mentions_room: Vec::with_capacity(n),
            created_at: Vec::with_capacity(n),
            mention_messages: Vec::new(),
            mention_users: Vec::new(),
        };
        for &(i, seq) in accepted {
            let new = news[i];
            c.ids.push(new.id.as_uuid());
            c.rooms.push(new.room_id.as_uuid());
            c.seqs.push(seq);
            c.senders.push(new.sender_id.as_uuid());
            c.client_ids.push(&new.client_id);
            c.bodies.push(&new.body);
            c.replies.push(new.reply_to.map(|m| m.as_uuid()));
            c.fwd_senders
                .push(new.forwarded.as_ref().map(|f| f.sender_id.as_uuid()));
            c.fwd_sent_at
                .push(new.forwarded.as_ref().map(|f| f.sent_at));
            c.mentions_room.push(new.mentions_room);
            // As the single-send path stores it (PostgreSQL keeps microseconds).
            c.created_at.push(new.now.trunc_subsecs(6));
            for user in normalised(&new.mentions) {
                c.mention_messages.push(new.id.as_uuid());
                c.mention_users.push(user.as_uuid());
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use justus_core::{MessageId, RoomId, UserId};

    fn job(sender: UserId, client_id: &str) -> Job {
        let (answer, _) = oneshot::channel();
        Job {
            new: NewMessage {
                id: MessageId::new(),
                room_id: RoomId::new(),
                sender_id: sender,
                client_id: client_id.into(),
                body: "hi".into(),
                reply_to: None,
                forwarded: None,
                mentions: Vec::new(),
                mentions_room: false,
                now: Utc::now(),
                attachments: Vec::new(),
            },
            answer,
            span: tracing::Span::none(),
        }
    }

    #[test]
    fn a_repeated_key_starts_a_new_batch_and_order_is_kept() {
        let (a, b) = (UserId::new(), UserId::new());
        let jobs = vec![
            job(a, "1"),
            job(b, "1"),
            job(a, "2"),
            job(a, "1"),
            job(a, "3"),
            job(a, "1"),
        ];
        let split: Vec<Vec<(UserId, String)>> = batches(jobs)
            .into_iter()
            .map(|b| {
                b.into_iter()
                    .map(|j| (j.new.sender_id, j.new.client_id))
                    .collect()
            })
            .collect();
        let key = |u: UserId, c: &str| (u, c.to_string());
        assert_eq!(
            split,
            vec![
                vec![key(a, "1"), key(b, "1"), key(a, "2")],
                vec![key(a, "1"), key(a, "3")],
                vec![key(a, "1")],
            ]
        );
    }

    #[test]
    fn distinct_keys_stay_one_batch() {
        let a = UserId::new();
        let jobs: Vec<Job> = (0..10).map(|i| job(a, &i.to_string())).collect();
        assert_eq!(batches(jobs).len(), 1);
    }
}
