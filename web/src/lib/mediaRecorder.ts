// Voice notes: record from the microphone with MediaRecorder into an `audio/webm` blob, sent as
// a `.weba` attachment (the server takes audio-only WebM under that extension).

export function canRecord(): boolean {
  return typeof globalThis.MediaRecorder === 'function' && !!globalThis.navigator?.mediaDevices?.getUserMedia;
}

/** The WebM/Opus type this browser records, or undefined to let it choose. */
function pickType(): string | undefined {
  for (const t of ['audio/webm;codecs=opus', 'audio/webm']) if (MediaRecorder.isTypeSupported?.(t)) return t;
  return undefined;
}

export class VoiceRecording {
  private rec: MediaRecorder | null = null;
  private stream: MediaStream | null = null;
  private chunks: Blob[] = [];
  private startedAt = 0;

  /** Asks for the microphone; rejects when refused or absent. */
  async start(): Promise<void> {
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const type = pickType();
    this.rec = new MediaRecorder(this.stream, type ? { mimeType: type } : undefined);
    this.rec.ondataavailable = (e) => {
      if (e.data.size) this.chunks.push(e.data);
    };
    this.rec.start(250);
    this.startedAt = Date.now();
  }

  get elapsedMs(): number {
    return this.startedAt ? Date.now() - this.startedAt : 0;
  }

  /** Stop and hand back the recording as a `.weba` file. */
  stop(): Promise<{ blob: Blob; name: string }> {
    const rec = this.rec;
    if (!rec) return Promise.reject(new Error('not recording'));
    return new Promise((resolve) => {
      rec.onstop = () => {
        this.release();
        const blob = new Blob(this.chunks, { type: 'audio/webm' });
        const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
        resolve({ blob, name: `voice-${stamp}.weba` });
      };
      rec.stop();
    });
  }

  cancel(): void {
    if (this.rec && this.rec.state !== 'inactive') {
      this.rec.onstop = null;
      this.rec.stop();
    }
    this.chunks = [];
    this.release();
  }

  private release(): void {
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    this.rec = null;
  }
}

/** m:ss for the elapsed-time display. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
