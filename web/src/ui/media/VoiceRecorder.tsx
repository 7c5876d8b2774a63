// Voice-note recording UI (lazy-loaded): elapsed time, Stop (attach it) and Cancel.
import { createSignal, onCleanup, onMount } from 'solid-js';
import { formatElapsed, VoiceRecording } from '../../lib/mediaRecorder';
import { MIcon } from './icons';
import { declareDuration } from '../../lib/media';

export default function VoiceRecorder(props: { onDone: (f: File | null) => void; onError: (message: string) => void }) {
  const rec = new VoiceRecording();
  const [elapsed, setElapsed] = createSignal(0);
  const [started, setStarted] = createSignal(false);
  let stopBtn!: HTMLButtonElement;
  const timer = setInterval(() => setElapsed(rec.elapsedMs), 250);
  onCleanup(() => {
    clearInterval(timer);
    rec.cancel();
  });
  onMount(() => {
    rec.start().then(
      () => {
        setStarted(true);
        stopBtn.focus();
      },
      () => props.onError('The microphone is not available (permission refused or no device).'),
    );
  });
  const stop = async () => {
    const ms = rec.elapsedMs;
    const { blob, name } = await rec.stop();
    const file = new File([blob], name, { type: 'audio/webm' });
    declareDuration(file, ms);
    props.onDone(file);
  };
  return (
    <div class="recorder" role="group" aria-label="Voice note">
      <span class="rec-dot" aria-hidden="true" />
      <span class="rec-time" aria-live="off">
        {started() ? formatElapsed(elapsed()) : 'Starting…'}
      </span>
      <button
        ref={stopBtn}
        type="button"
        class="icon-btn"
        aria-label="Stop and attach voice note"
        disabled={!started()}
        onClick={() => void stop()}
      >
        <MIcon name="stop" />
      </button>
      <button
        type="button"
        class="icon-btn"
        aria-label="Cancel voice note"
        onClick={() => {
          rec.cancel();
          props.onDone(null);
        }}
      >
        <MIcon name="close" />
      </button>
    </div>
  );
}
