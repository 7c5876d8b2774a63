// Crop an image to a square avatar (lazy-loaded): drag or arrow keys to pan, the slider or +/-
// to zoom; Save hands back a 512×512 PNG.
import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { Modal } from '../common/Modal';
import { clampCrop, cropRect, cropScale, initialCrop, zoomTo, type Crop } from '../../lib/mediaAvatar';

const OUT = 512;

export default function CropDialog(props: { file: File; title: string; onDone: (png: Blob | null) => void }) {
  const view = Math.min(280, Math.floor(window.innerWidth * 0.8));
  const [crop, setCrop] = createSignal<Crop | null>(null);
  const [error, setError] = createSignal('');
  let canvas!: HTMLCanvasElement;
  const img = new Image();
  const url = URL.createObjectURL(props.file);
  onCleanup(() => URL.revokeObjectURL(url));

  const draw = (c: Crop) => {
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, view, view);
    const s = cropScale(c);
    ctx.drawImage(img, c.x, c.y, c.w * s, c.h * s);
  };
  const set = (c: Crop) => {
    const n = clampCrop(c);
    setCrop(n);
    draw(n);
  };
  onMount(() => {
    img.onload = () => set(initialCrop(img.naturalWidth, img.naturalHeight, view));
    img.onerror = () => setError('This file cannot be read as an image.');
    img.src = url;
  });

  let drag: { px: number; py: number; x: number; y: number } | null = null;
  const onKey = (e: KeyboardEvent) => {
    const c = crop();
    if (!c) return;
    const step = e.shiftKey ? 40 : 10;
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    if (moves[e.key]) {
      e.preventDefault();
      set({ ...c, x: c.x + moves[e.key][0], y: c.y + moves[e.key][1] });
    } else if (e.key === '+' || e.key === '=') set(zoomTo(c, c.zoom * 1.2));
    else if (e.key === '-') set(zoomTo(c, c.zoom / 1.2));
  };
  const save = () => {
    const c = crop();
    if (!c) return;
    const out = document.createElement('canvas');
    out.width = out.height = OUT;
    const ctx = out.getContext('2d');
    if (!ctx) return setError('Your browser cannot draw the picture.');
    const r = cropRect(c);
    ctx.drawImage(img, r.sx, r.sy, r.size, r.size, 0, 0, OUT, OUT);
    out.toBlob((b) => (b ? props.onDone(b) : setError('Your browser cannot encode the picture.')), 'image/png');
  };

  return (
    <Modal class="modal crop-dialog" labelledby="crop-title" onClose={() => props.onDone(null)}>
      <h2 id="crop-title">{props.title}</h2>
      <Show when={error()}>
        <p class="error" role="alert">
          {error()}
        </p>
      </Show>
      <canvas
        ref={canvas}
        width={view}
        height={view}
        class="crop-canvas"
        tabindex="0"
        role="img"
        aria-label="Picture preview: arrow keys move it, plus and minus zoom"
        onKeyDown={onKey}
        onPointerDown={(e) => {
          const c = crop();
          if (c) {
            drag = { px: e.clientX, py: e.clientY, x: c.x, y: c.y };
            canvas.setPointerCapture(e.pointerId);
          }
        }}
        onPointerMove={(e) => {
          const c = crop();
          if (c && drag) set({ ...c, x: drag.x + e.clientX - drag.px, y: drag.y + e.clientY - drag.py });
        }}
        onPointerUp={() => (drag = null)}
      />
      <label>
        Zoom
        <input
          type="range"
          min="1"
          max="8"
          step="0.05"
          value={crop()?.zoom ?? 1}
          onInput={(e) => {
            const c = crop();
            if (c) set(zoomTo(c, Number(e.currentTarget.value)));
          }}
        />
      </label>
      <div class="row">
        <button type="button" onClick={() => props.onDone(null)}>
          Cancel
        </button>
        <button type="button" class="primary" disabled={!crop()} onClick={save}>
          Save picture
        </button>
      </div>
    </Modal>
  );
}
