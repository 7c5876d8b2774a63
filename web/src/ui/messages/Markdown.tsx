import { For, Match, Switch } from 'solid-js';
import { parse, type Inline } from '../../lib/markdown';

// Renders the parsed tree as DOM nodes; text is always text (never HTML).
/** My username: mentions of me are highlighted. */
function Inlines(props: { nodes: Inline[]; me?: string }) {
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
                <Inlines nodes={x().c} me={props.me} />
              </strong>
            )}
          </Match>
          <Match when={n.t === 'i' && n}>
            {(x) => (
              <em>
                <Inlines nodes={x().c} me={props.me} />
              </em>
            )}
          </Match>
          <Match when={n.t === 'code' && n}>{(x) => <code>{x().v}</code>}</Match>
          <Match when={n.t === 'mention' && n}>
            {(x) => {
              const v = x().v.toLowerCase();
              const mine = v === 'room' || (!!props.me && v === props.me.toLowerCase());
              return (
                <span class={`mention${mine ? ' mention-me' : ''}`} data-testid="mention">
                  @{x().v}
                </span>
              );
            }}
          </Match>
          <Match when={n.t === 'link' && n}>
            {(x) => (
              <a href={x().href} target="_blank" rel="noopener noreferrer">
                <Inlines nodes={x().c} me={props.me} />
              </a>
            )}
          </Match>
        </Switch>
      )}
    </For>
  );
}

export function Markdown(props: { text: string; me?: string }) {
  return (
    <For each={parse(props.text)}>
      {(b) =>
        b.t === 'pre' ? (
          <pre>
            <code>{b.v}</code>
          </pre>
        ) : (
          <p>
            <Inlines nodes={b.c} me={props.me} />
          </p>
        )
      }
    </For>
  );
}
