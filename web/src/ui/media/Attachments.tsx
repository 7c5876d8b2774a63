import { createSignal, For, onMount, Show } from 'solid-js';
import { fitBox, formatSize, type Media, type MediaService, type Variant } from '../../lib/media';
import { decodeBlurhash, isBlurhash } from '../../lib/mediaBlurhash';
import { MIcon } from './icons';
import './media.css';

/**
 * A signed URL as a signal: from the cache at once when there is one, else fetched. `retry()`
 * asks for a fresh one (the element reported an error: the URL expired while shown).
 */
function useSignedUrl(svc: MediaService, id: string, variant: Variant) {
  const [url, setUrl] = createSignal(svc.cachedUrl(id, variant));
  const [failed, setFailed] = createSignal(false);
  let retried = false;
  const load = (fresh: boolean) =>
    svc.url(id, variant, fresh).then(
      (s) => setUrl(s.url),
      () => setFailed(true),
    );
  onMount(() => {
    if (!url()) void load(false);
  });
  const retry = () => {
    if (retried) return setFailed(true);
    retried = true;
    void load(true);
  };
  return { url, failed, retry, refresh: () => load(true) };
}

function Blurhash(props: { hash: string | null | undefined; width: number; height: number }) {
  return (
    <Show when={isBlurhash(props.hash)}>
      {/* biome-ignore lint/a11y/noAriaHiddenOnFocusable: a canvas without tabindex is not focusable */}
      <canvas
        class="att-blur"
        aria-hidden="true"
        width={32}
        height={Math.max(1, Math.round((32 * props.height) / props.width))}
        ref={(cv) =>
          queueMicrotask(() => {
            try {
              const ctx = cv.getContext('2d');
              if (!ctx) return;
              const img = ctx.createImageData(cv.width, cv.height);
              img.data.set(decodeBlurhash(props.hash!, cv.width, cv.height));
              ctx.putImageData(img, 0, 0);
            } catch {
              /* a bad hash: keep the plain background */
            }
          })
        }
      />
    </Show>
  );
}

function ImageThumb(props: { svc: MediaService; m: Media; onOpen: (el: HTMLButtonElement) => void }) {
  const box = fitBox(props.m.width, props.m.height, 320);
  const src = useSignedUrl(props.svc, props.m.id, '320');
  const [loaded, setLoaded] = createSignal(false);
  let btn!: HTMLButtonElement;
  return (
    <button
      ref={btn}
      type="button"
      class="att-image"
      data-testid="attachment-image"
      aria-label={`Open image ${props.m.name}`}
      style={{ width: `${box.width}px`, 'aspect-ratio': `${box.width} / ${box.height}` }}
      onClick={() => props.onOpen(btn)}
    >
      <Blurhash hash={props.m.blurhash} width={box.width} height={box.height} />
      <Show when={src.url()}>
        <img
          src={src.url()}
          alt={props.m.name}
          classList={{ loaded: loaded() }}
          decoding="async"
          onLoad={() => setLoaded(true)}
          onError={() => src.retry()}
        />
      </Show>
      <Show when={src.failed()}>
        <span class="att-missing">Image unavailable</span>
      </Show>
    </button>
  );
}

function Player(props: { svc: MediaService; m: Media }) {
  const src = useSignedUrl(props.svc, props.m.id, 'original');
  // A signed URL can expire while the player is open; seeking then fails. Fetch a fresh one and
  // carry on from the same position.
  const recover = (el: HTMLMediaElement) => {
    const t = el.currentTime;
    void props.svc.url(props.m.id, 'original', true).then(
      (s) => {
        el.src = s.url;
        el.currentTime = t;
      },
      () => undefined,
    );
  };
  return (
    <div class={`att-player att-${props.m.kind}`} data-testid={`attachment-${props.m.kind}`}>
      <Show when={src.url()}>
        {props.m.kind === 'video' ? (
          <video
            controls
            preload="metadata"
            src={src.url()}
            aria-label={`Video ${props.m.name}`}
            onError={(e) => recover(e.currentTarget)}
          />
        ) : (
          <audio
            controls
            preload="metadata"
            src={src.url()}
            aria-label={`Audio ${props.m.name}`}
            onError={(e) => recover(e.currentTarget)}
          />
        )}
      </Show>
      <span class="att-meta">
        {props.m.name} · {formatSize(props.m.size)}
      </span>
    </div>
  );
}

function FileCard(props: { svc: MediaService; m: Media }) {
  const src = useSignedUrl(props.svc, props.m.id, 'original');
  let a!: HTMLAnchorElement;
  return (
    <div class="att-file" data-testid="attachment-file">
      <MIcon name="file" size={22} />
      <div class="att-file-text">
        <a
          ref={a}
          href={src.url() ?? '#'}
          download={props.m.name}
          rel="noopener"
          data-testid="attachment-download"
          aria-label={`Download ${props.m.name}, ${formatSize(props.m.size)}`}
          onClick={(e) => {
            // The link's URL is short-lived: if it has (nearly) expired, fetch a fresh one first.
            if (props.svc.cachedUrl(props.m.id, 'original', 5_000) && src.url()) return;
            e.preventDefault();
            void src.refresh().then(() => a.click());
          }}
        >
          {props.m.name}
        </a>
        <span class="att-meta">{formatSize(props.m.size)}</span>
      </div>
      <MIcon name="download" />
    </div>
  );
}

/** A message's attachments: images (placeholder, thumbnail, lightbox), players, file cards. */
export function Attachments(props: { svc: MediaService; items: Media[] }) {
  const images = () => props.items.filter((m) => m.kind === 'image');
  const others = () => props.items.filter((m) => m.kind !== 'image');
  const open = async (i: number, opener: HTMLElement) => {
    const { openLightbox } = await import('./Lightbox');
    openLightbox(props.svc, images(), i, opener);
  };
  return (
    <div class="attachments">
      <Show when={images().length}>
        <div class="att-images">
          <For each={images()}>
            {(m, i) => <ImageThumb svc={props.svc} m={m} onOpen={(el) => void open(i(), el)} />}
          </For>
        </div>
      </Show>
      <For each={others()}>
        {(m) =>
          m.kind === 'audio' || m.kind === 'video' ? (
            <Player svc={props.svc} m={m} />
          ) : (
            <FileCard svc={props.svc} m={m} />
          )
        }
      </For>
    </div>
  );
}
