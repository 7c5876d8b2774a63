import { createSignal, For, Match, Show, Switch } from 'solid-js';
import { type Block, type Inline, parse } from '../../lib/markdown';

// Renders the parsed tree as DOM nodes; text is always text (never HTML).

/** Who "me" is for mentions (highlighted), and whether a username is a known member. */
export interface MentionContext {
  me?: string;
}

function Spoiler(props: { nodes: Inline[]; ctx: MentionContext }) {
  const [shown, setShown] = createSignal(false);
  return (
    <Show
      when={shown()}
      fallback={
        <button type="button" class="spoiler" data-testid="spoiler" onClick={() => setShown(true)}>
          <span class="sr-only">Spoiler, press to show</span>
          <span aria-hidden="true" class="spoiler-cover">
            <Inlines nodes={props.nodes} ctx={props.ctx} />
          </span>
        </button>
      }
    >
      <span class="spoiler shown">
        <Inlines nodes={props.nodes} ctx={props.ctx} />
      </span>
    </Show>
  );
}

function Inlines(props: { nodes: Inline[]; ctx: MentionContext }) {
  return (
    <For each={props.nodes}>
      {(n) => (
        <Switch>
          <Match when={n.t === 'text' && n}>{(x) => x().v}</Match>
          <Match when={n.t === 'br'}>
            <br />
          </Match>
          <Match when={n.t === 'b' && n}>
            {(x) => (
              <strong>
                <Inlines nodes={x().c} ctx={props.ctx} />
              </strong>
            )}
          </Match>
          <Match when={n.t === 'i' && n}>
            {(x) => (
              <em>
                <Inlines nodes={x().c} ctx={props.ctx} />
              </em>
            )}
          </Match>
          <Match when={n.t === 's' && n}>
            {(x) => (
              <s>
                <Inlines nodes={x().c} ctx={props.ctx} />
              </s>
            )}
          </Match>
          <Match when={n.t === 'spoiler' && n}>{(x) => <Spoiler nodes={x().c} ctx={props.ctx} />}</Match>
          <Match when={n.t === 'code' && n}>{(x) => <code>{x().v}</code>}</Match>
          <Match when={n.t === 'mention' && n}>
            {(x) => {
              const me = () => !!props.ctx.me && x().v.toLowerCase() === props.ctx.me.toLowerCase();
              const room = () => x().v.toLowerCase() === 'room';
              return (
                <span class={`mention${me() || room() ? ' mention-me' : ''}`} data-testid="mention">
                  @{x().v}
                </span>
              );
            }}
          </Match>
          <Match when={n.t === 'link' && n}>
            {(x) => (
              <a href={x().href} target="_blank" rel="noopener noreferrer">
                <Inlines nodes={x().c} ctx={props.ctx} />
              </a>
            )}
          </Match>
        </Switch>
      )}
    </For>
  );
}

function CodeBlock(props: { code: string; lang: string }) {
  const [copied, setCopied] = createSignal(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.code);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      /* no clipboard permission: the text can still be selected */
    }
  };
  return (
    <div class="code-block">
      <pre data-lang={props.lang || undefined}>
        <code>{props.code}</code>
      </pre>
      <button type="button" class="copy-code" onClick={() => void copy()} aria-label="Copy code">
        {copied() ? 'Copied' : 'Copy'}
      </button>
      <span class="sr-only" role="status">
        {copied() ? 'Code copied' : ''}
      </span>
    </div>
  );
}

/** The items of a bullet or numbered list. */
function ListItems(props: { items: Inline[][]; ctx: MentionContext }) {
  return (
    <For each={props.items}>
      {(it) => (
        <li>
          <Inlines nodes={it} ctx={props.ctx} />
        </li>
      )}
    </For>
  );
}

function Blocks(props: { blocks: Block[]; ctx: MentionContext }) {
  return (
    <For each={props.blocks}>
      {(b) => (
        <Switch>
          <Match when={b.t === 'pre' && b}>{(x) => <CodeBlock code={x().v} lang={x().lang} />}</Match>
          <Match when={b.t === 'quote' && b}>
            {(x) => (
              <blockquote>
                <Blocks blocks={x().c} ctx={props.ctx} />
              </blockquote>
            )}
          </Match>
          <Match when={b.t === 'ul' && b}>
            {(x) => (
              <ul>
                <ListItems items={x().items} ctx={props.ctx} />
              </ul>
            )}
          </Match>
          <Match when={b.t === 'ol' && b}>
            {(x) => (
              <ol start={x().start}>
                <ListItems items={x().items} ctx={props.ctx} />
              </ol>
            )}
          </Match>
          <Match when={b.t === 'p' && b}>
            {(x) => (
              <p>
                <Inlines nodes={x().c} ctx={props.ctx} />
              </p>
            )}
          </Match>
        </Switch>
      )}
    </For>
  );
}

export function Markdown(props: { text: string; me?: string }) {
  return <Blocks blocks={parse(props.text)} ctx={{ me: props.me }} />;
}
