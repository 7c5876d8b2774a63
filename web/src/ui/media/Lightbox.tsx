// The image viewer (lazy-loaded on first open): the 1280 px thumbnail, arrows between the
// message's images, Escape closes and focus returns to the thumbnail that opened it.
import { createEffect, createSignal, Show } from 'solid-js';
import { render } from 'solid-js/web';
import { Modal } from '../common/Modal';
import { formatSize, type Media, type MediaService } from '../../lib/media';
import { MIcon } from './icons';

function LightboxView(props: {
  svc: MediaService;
  images: Media[];
  start: number;
  opener: HTMLElement;
  onClose: () => void;
}) {
  const [i, setI] = createSignal(props.start);
  const [src, setSrc] = createSignal<string>();
  const [orig, setOrig] = createSignal<string>();
  const m = () => props.images[i()];
  createEffect(() => {
    const cur = m();
    setSrc(props.svc.cachedUrl(cur.id, '1280'));
    void props.svc.url(cur.id, '1280').then(
      (s) => m() === cur && setSrc(s.url),
      () => undefined,
    );
    void props.svc.url(cur.id, 'original').then(
      (s) => m() === cur && setOrig(s.url),
      () => undefined,
    );
  });
  const step = (d: number) => setI((v) => (v + d + props.images.length) % props.images.length);
  const many = props.images.length > 1;
  return (
    <Modal
      class="lightbox"
      backdropClass="modal-backdrop lightbox-backdrop"
      label="Image viewer"
      onClose={props.onClose}
      returnFocus={() => props.opener}
    >
      {/* biome-ignore lint/a11y/noStaticElementInteractions: arrow keys bubble here from the controls */}
      <div
        class="lightbox-body"
        data-testid="lightbox"
        onKeyDown={(e) => {
          if (e.key === 'ArrowLeft' && many) {
            e.preventDefault();
            step(-1);
          } else if (e.key === 'ArrowRight' && many) {
            e.preventDefault();
            step(1);
          }
        }}
      >
        <div class="lightbox-bar">
          <span class="lightbox-title">
            {m().name}
            {many ? ` (${i() + 1} of ${props.images.length})` : ''}
          </span>
          <Show when={orig()}>
            <a
              class="button-like"
              href={orig()}
              download={m().name}
              aria-label={`Download original, ${formatSize(m().size)}`}
            >
              <MIcon name="download" />
            </a>
          </Show>
          <button type="button" aria-label="Close image viewer" onClick={props.onClose}>
            <MIcon name="close" />
          </button>
        </div>
        <div class="lightbox-stage">
          <Show when={many}>
            <button type="button" class="lightbox-nav" aria-label="Previous image" onClick={() => step(-1)}>
              <MIcon name="prev" size={24} />
            </button>
          </Show>
          <Show when={src()} fallback={<span class="att-meta">Loading…</span>}>
            <img src={src()} alt={m().name} />
          </Show>
          <Show when={many}>
            <button type="button" class="lightbox-nav" aria-label="Next image" onClick={() => step(1)}>
              <MIcon name="next" size={24} />
            </button>
          </Show>
        </div>
      </div>
    </Modal>
  );
}

/** Open the viewer over the page; it unmounts itself on close. */
export function openLightbox(svc: MediaService, images: Media[], start: number, opener: HTMLElement): void {
  if (!images.length) return;
  const host = document.createElement('div');
  document.body.appendChild(host);
  // eslint-disable-next-line prefer-const
  let dispose: () => void;
  const close = () => {
    dispose();
    host.remove();
  };
  dispose = render(
    () => <LightboxView svc={svc} images={images} start={start} opener={opener} onClose={close} />,
    host,
  );
}
