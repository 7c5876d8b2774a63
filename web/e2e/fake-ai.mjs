// A fake OpenAI-compatible provider for the e2e run: `POST /v1/chat/completions`, streamed
// (SSE, `stream: true`) or not. It recognises the server's tasks by their instructions and
// answers predictably; `mode = 'fail'` answers 500 to everything (provider outage).
import { createServer } from 'node:http';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The JSON between <data> tags of the user turn. */
function data(body) {
  const user = body.messages?.find((m) => m.role === 'user')?.content ?? '';
  const m = /<data>\n([\s\S]*)\n<\/data>/.exec(user);
  try {
    return m ? JSON.parse(m[1]) : {};
  } catch {
    return {};
  }
}

export const ASSISTANT_CHUNKS = ['Summary: ', 'the team ', 'agreed to ', 'ship on Friday.'];

function answer(body) {
  const system = body.messages?.find((m) => m.role === 'system')?.content ?? '';
  const d = data(body);
  if (system.includes('Translate the field')) {
    const lang = /BCP-47 tag `([^`]+)`/.exec(system)?.[1] ?? '?';
    return { kind: 'translate', text: `[${lang}] ${String(d.text ?? '').toUpperCase()}` };
  }
  if (system.includes('Summarise the chat messages')) {
    const n = Array.isArray(d.messages) ? d.messages.length : 0;
    return { kind: 'summary', text: `Catch-up: ${n} messages about the Friday release.` };
  }
  if (system.includes('Suggest up to three')) {
    return { kind: 'suggestions', text: '["Sounds good!", "On my way", "Can we talk later?"]' };
  }
  return { kind: 'assistant', text: ASSISTANT_CHUNKS.join('') };
}

export async function startFakeAi() {
  const state = { mode: 'ok', calls: [], chunkDelayMs: 400 };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', async () => {
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404);
        res.end();
        return;
      }
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        res.writeHead(400);
        res.end();
        return;
      }
      const a = answer(body);
      state.calls.push({ kind: a.kind, stream: !!body.stream, auth: req.headers.authorization, data: data(body) });
      if (state.mode === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'fake outage' } }));
        return;
      }
      const usage = { prompt_tokens: 10, completion_tokens: 5 };
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: a.text } }], usage }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunks = a.kind === 'assistant' ? ASSISTANT_CHUNKS : [a.text];
      res.write(`data: ${JSON.stringify({ choices: [{ delta: { role: 'assistant' } }] })}\n\n`);
      for (const c of chunks) {
        // Slow enough that a browser sees the answer being written.
        await sleep(state.chunkDelayMs);
        res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: c } }] })}\n\n`);
      }
      res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    state,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    /** Environment for justus: AI through this fake; quick retries so failures settle fast. */
    env: {
      AI_PROVIDER: 'openai',
      AI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      AI_API_KEY: 'test',
      AI_MODEL: 'test',
      AI_MAX_RETRIES: '1',
      AI_RETRY_BASE_MS: '50',
    },
    close: () => server.close(),
  };
}
