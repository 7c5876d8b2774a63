// The composer's media parts: attach button (file picker), voice-note button, upload chips with
// progress and cancel, plus the paste and drag-and-drop handlers that feed the same queue.
import { createSignal, For, onCleanup, Show } from 'solid-js';
import { Dynamic } from 'solid-js/web';
import type { Client } from '../../lib/client';
import { ACCEPT, formatSize, mediaFor, type UploadItem, type UploadQueue } from '../../lib/media';
import { canRecord } from '../../lib/mediaRecorder';
import { MIcon } from './icons';
import './media.css';

// The recorder is loaded on first use (no Suspense machinery in the initial bundle for it).
type Recorder = typeof import('./VoiceRecorder').default;
const [recorder, setRecorder] = createSignal<Recorder>();

export function uploadQueue(c: Client, roomId: string): UploadQueue {
  // Per account and room: chips never carry over to someone who signs in next on this tab.
  return mediaFor(c.api).queue(`${c.me?.id ?? ''}/${roomId}`);
}

/** The queue's items as a signal (re-read on every change). */
export function useUploads(q: UploadQueue): () => UploadItem[] {
  const [items, setItems] = createSignal(q.list());
  onCleanup(q.changes.subscribe(() => setItems(q.list())));
  return items;
}

/** Files pasted into the composer (screenshots, copied images) go to the queue; text pastes as usual. */
export function pastedFiles(e: ClipboardEvent): File[] {
  const files = [...(e.clipboardData?.files ?? [])];
  if (files.length) e.preventDefault();
  return files;
}

/** Drag-and-drop of files onto the room: handlers for the room element and whether to show the hint. */
export function useDrop(add: (files: File[]) => void, enabled: () => boolean) {
  const [over, setOver] = createSignal(false);
  let depth = 0;
  const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  return {
    over,
    handlers: {
      onDragEnter: (e: DragEvent) => {
        if (hasFiles(e)) {
          depth++;
          setOver(true);
        }
      },
      onDragLeave: () => {
        if (--depth <= 0) {
          depth = 0;
          setOver(false);
        }
      },
      onDragOver: (e: DragEvent) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = enabled() ? 'copy' : 'none';
      },
      onDrop: (e: DragEvent) => {
        depth = 0;
        setOver(false);
        if (!hasFiles(e)) return;
        e.preventDefault();
        if (enabled()) add([...(e.dataTransfer?.files ?? [])]);
      },
    },
  };
}

/** Attach and voice buttons. Offline, attaching explains that files need a connection. */
export function AttachControls(props: { client: Client; online: () => boolean; queue: UploadQueue }) {
  let input!: HTMLInputElement;
  const [note, setNote] = createSignal('');
  const [recording, setRecording] = createSignal(false);
  const offlineNote = 'Files need a connection; text messages still queue while offline.';
  const pick = () => {
    if (!props.online()) return setNote(offlineNote);
    setNote('');
    input.click();
  };
  return (
    <div class="composer-media">
      <input
        ref={input}
        type="file"
        multiple
        accept={ACCEPT}
        class="media-file-input"
        aria-label="Choose files to attach"
        data-testid="file-input"
        onChange={() => {
          props.queue.add([...(input.files ?? [])]);
          input.value = '';
        }}
      />
      <button
        type="button"
        class="icon-btn"
        aria-label={props.online() ? 'Attach files' : 'Attach files (needs a connection)'}
        title={props.online() ? 'Attach files' : offlineNote}
        aria-disabled={!props.online()}
        onClick={pick}
      >
        <MIcon name="attach" />
      </button>
      <Show when={canRecord()}>
        <Show
          when={recording()}
          fallback={
            <button
              type="button"
              class="icon-btn"
              aria-label="Record a voice note"
              title="Record a voice note"
              aria-disabled={!props.online()}
              onClick={() => {
                if (!props.online()) return setNote(offlineNote);
                setNote('');
                void import('./VoiceRecorder').then((m) => {
                  setRecorder(() => m.default);
                  setRecording(true);
                });
              }}
            >
              <MIcon name="mic" />
            </button>
          }
        >
          <Dynamic
            component={recorder()}
            onDone={(f: File | null) => {
              setRecording(false);
              if (f) props.queue.add([f]);
            }}
            onError={(m: string) => {
              setRecording(false);
              setNote(m);
            }}
          />
        </Show>
      </Show>
      <Show when={note()}>
        <span class="media-note" role="status">
          {note()}
        </span>
      </Show>
    </div>
  );
}

/** One chip per file: name, size, a progress bar while sending, the server's error in place. */
export function UploadChips(props: { queue: UploadQueue; items: UploadItem[] }) {
  return (
    <Show when={props.items.length}>
      <ul class="upload-chips" aria-label="Attachments to send">
        <For each={props.items}>
          {(it) => (
            <li class={`upload-chip state-${it.state}`} data-testid="upload-chip" data-state={it.state}>
              <span class="chip-name">{it.name}</span>
              <span class="att-meta">{formatSize(it.size)}</span>
              <Show when={it.state === 'uploading'}>
                <progress
                  max="100"
                  value={Math.round(it.progress * 100)}
                  aria-label={`Uploading ${it.name}`}
                  data-testid="upload-progress"
                />
              </Show>
              <Show when={it.state === 'processing'}>
                <progress aria-label={`Checking ${it.name}`} data-testid="upload-progress" />
              </Show>
              <button
                type="button"
                class="icon-btn"
                onClick={() => props.queue.remove(it.key)}
                aria-label={
                  (it.state === 'uploading' || it.state === 'processing' ? 'Cancel upload of ' : 'Remove ') + it.name
                }
              >
                <MIcon name="close" size={14} />
              </button>
              <Show when={it.state === 'failed'}>
                <span class="chip-error" role="alert" data-testid="upload-error">
                  {it.error}
                </span>
              </Show>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
