// AI (opt-in, README "AI"): what the server offers, the reader's AI preferences, per-room AI
// state, translation, the assistant's streamed replies, catch-me-up and smart replies.
// Plain TypeScript on top of the Client; the UI reads it through the client's `changes`.
import { ApiError, enc } from './api';
import type { Client } from './client';
import type { AiPrefsView, ClientConfig, Me, Message, PatchMe, RoomAi, SuggestionsView, SummaryView, TranslationView } from './types';
import { AiStreams, type AiDelta } from './aiStream';
import { TranslationCache, shouldAutoTranslate, translationKey, type Translation } from './aiTranslate';
import { aiErrorMessage } from './aiErrors';

/** What a message shows for translation: nothing, in progress, the result, or why it failed. */
export type TranslationState =
  | { status: 'loading' }
  | { status: 'done'; translation: Translation }
  | { status: 'hidden'; translation: Translation }
  | { status: 'error'; message: string };

export type { ClientConfig };

/**
 * The reader's AI preferences as the client holds them: both fields always present (defaults
 * until `GET /users/me` answers), where the wire form (`AiPrefsView`) may leave out the language.
 */
export type AiPrefs = Required<AiPrefsView>;

const prefsFrom = (v: AiPrefsView): AiPrefs => ({ auto_translate: v.auto_translate, preferred_language: v.preferred_language ?? null });

export type Summary = SummaryView;
export type Suggestions = SuggestionsView;

/** The assistant's username (it cannot be registered by people). */
export const BOT_USERNAME = 'ai';

/** Server config: AI on/off. Unreachable or old servers count as "off" (controls stay hidden). */
export async function fetchConfig(fetchFn: typeof fetch = fetch, base = ''): Promise<ClientConfig> {
  try {
    const res = await fetchFn(base + '/api/v1/config', { credentials: 'same-origin' });
    if (!res.ok) return { ai: { enabled: false, features: [] } };
    const j = (await res.json()) as Partial<ClientConfig>;
    const enabled = j.ai?.enabled === true;
    return { ai: { enabled, features: enabled && Array.isArray(j.ai?.features) ? j.ai!.features : [] } };
  } catch {
    return { ai: { enabled: false, features: [] } };
  }
}

export class AiService {
  config: ClientConfig = { ai: { enabled: false, features: [] } };
  prefs: AiPrefs = { preferred_language: null, auto_translate: false };
  readonly streams = new AiStreams();
  readonly translations = new TranslationCache();
  /** Per room: AI switched on (from GET /rooms/{id}/ai and the switch). */
  readonly roomAi = new Map<string, boolean>();
  private roomAiLoading = new Map<string, Promise<boolean>>();
  private loaded: Promise<void> | null = null;
  private loadedFor: string | null = null;

  constructor(private readonly c: Client, private readonly fetchFn: typeof fetch = (...a) => fetch(...a)) {
    c.onAiDelta = (d) => this.onDelta(d as AiDelta);
  }

  get enabled(): boolean {
    return this.config.ai.enabled;
  }

  has(feature: 'translate' | 'assistant' | 'summary' | 'suggestions'): boolean {
    return this.enabled && this.config.ai.features.includes(feature);
  }

  /** Config and the reader's preferences; once per sign-in (call again after a re-login). */
  load(): Promise<void> {
    const who = this.c.me?.id ?? null;
    if (who !== this.loadedFor) {
      this.loaded = null;
      this.loadedFor = who;
      this.prefs = { preferred_language: null, auto_translate: false };
      this.roomAi.clear();
    }
    if (!this.loaded) {
      this.loaded = (async () => {
        this.config = await fetchConfig(this.fetchFn);
        try {
          const me = await this.c.api.get<Me>('/users/me');
          if (me.ai) this.prefs = prefsFrom(me.ai);
        } catch {
          /* offline: defaults until next time */
          this.loaded = null;
        }
        this.c.emit();
      })();
    }
    return this.loaded;
  }

  // ---------- preferences ----------

  async setPrefs(p: Partial<AiPrefs>): Promise<void> {
    const body: PatchMe = p;
    const me = await this.c.api.patch<Me>('/users/me', body);
    if (me.ai) this.prefs = prefsFrom(me.ai);
    else this.prefs = { ...this.prefs, ...p };
    this.c.emit();
  }

  // ---------- rooms ----------

  /** AI on in a room, as last known (undefined: not asked yet). */
  roomEnabled(roomId: string): boolean | undefined {
    if (!this.enabled) return false;
    // The assistant is a member exactly while AI is on, and member lists follow member events,
    // so a switch by an admin shows up for everyone without asking again.
    const members = this.c.members.get(roomId);
    if (members) return members.some((m) => m.user.username === BOT_USERNAME);
    return this.roomAi.get(roomId);
  }

  /** Ask the server whether AI is on in a room (single flight per room). */
  refreshRoom(roomId: string): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    let p = this.roomAiLoading.get(roomId);
    if (!p) {
      p = this.c.api
        .get<RoomAi>(`/rooms/${roomId}/ai`)
        .then((r) => r.ai_enabled, (e) => {
          if (e instanceof ApiError && (e.code === 'ai_disabled' || e.status === 404)) return false;
          throw e;
        })
        .then((on) => {
          this.roomAi.set(roomId, on);
          this.c.emit();
          return on;
        })
        .finally(() => this.roomAiLoading.delete(roomId));
      this.roomAiLoading.set(roomId, p);
    }
    return p;
  }

  /** Admins: switch AI on or off in a room (the assistant joins or leaves as a member). */
  async setRoomEnabled(roomId: string, on: boolean): Promise<void> {
    await this.c.api.patch(`/rooms/${roomId}`, { ai_enabled: on });
    this.roomAi.set(roomId, on);
    // The assistant joined or left: the member list is what the room's AI state follows.
    await this.c.loadMembers(roomId).catch(() => {});
    this.c.emit();
  }

  /** The assistant's user id, once it is known (it is a member of rooms with AI on). */
  botId(): string | null {
    for (const u of this.c.users.values()) if (u.username === BOT_USERNAME) return u.id;
    return null;
  }

  isBot(userId: string): boolean {
    return this.c.users.get(userId)?.username === BOT_USERNAME;
  }

  // ---------- the assistant's stream ----------

  private onDelta(d: AiDelta): void {
    if (this.streams.add(d)) this.c.emit();
  }

  /** The streamed preview of a bot message; dropped once the message has its final edit. */
  preview(m: Message): string | undefined {
    if (m.edited_at || m.deleted_at) {
      this.streams.settle(m.id);
      return undefined;
    }
    return this.streams.preview(m.id);
  }

  // ---------- translation ----------

  /** Target language: the preferred one, else the browser's. */
  targetLanguage(): string {
    return this.prefs.preferred_language || (globalThis.navigator?.language ?? 'en').split('-')[0];
  }

  cachedTranslation(m: Message, lang = this.targetLanguage()): Translation | undefined {
    return this.translations.get(m, lang);
  }

  translate(roomId: string, m: Message, lang = this.targetLanguage()): Promise<Translation> {
    return this.translations.fetch(m, lang, () =>
      this.c.api.post<TranslationView>(`/rooms/${roomId}/messages/${enc(m.id)}/translate`, { lang }),
    );
  }

  private tState = new Map<string, TranslationState>();

  translationState(m: Message): TranslationState | undefined {
    return this.tState.get(translationKey(m, this.targetLanguage()));
  }

  /** Translate a message for display (the Translate action, or auto-translation). */
  showTranslation(roomId: string, m: Message): void {
    const lang = this.targetLanguage();
    const key = translationKey(m, lang);
    const cur = this.tState.get(key);
    if (cur?.status === 'hidden') {
      this.tState.set(key, { status: 'done', translation: cur.translation });
      this.c.emit();
      return;
    }
    if (cur?.status === 'loading' || cur?.status === 'done') return;
    this.tState.set(key, { status: 'loading' });
    this.c.emit();
    this.translate(roomId, m, lang).then(
      (translation) => this.tState.set(key, { status: 'done', translation }),
      (e) => this.tState.set(key, { status: 'error', message: aiErrorMessage(e) }),
    ).finally(() => this.c.emit());
  }

  /** "Show original": hide the translation (kept, so showing it again costs nothing). */
  hideTranslation(m: Message): void {
    const key = translationKey(m, this.targetLanguage());
    const cur = this.tState.get(key);
    if (cur?.status === 'done') this.tState.set(key, { status: 'hidden', translation: cur.translation });
    else this.tState.delete(key);
    this.c.emit();
  }

  autoTranslates(roomId: string, m: Message): boolean {
    return shouldAutoTranslate({
      serverAi: this.has('translate'),
      roomAi: this.roomEnabled(roomId) === true,
      autoTranslate: this.prefs.auto_translate,
      preferredLanguage: this.prefs.preferred_language,
      meId: this.c.me?.id,
      botId: this.botId(),
      message: m,
    });
  }

  // ---------- catch-me-up and smart replies ----------

  summary(roomId: string): Promise<Summary> {
    return this.c.api.post<Summary>(`/rooms/${roomId}/ai/summary`, {});
  }

  suggestions(roomId: string): Promise<Suggestions> {
    return this.c.api
      .post<Suggestions>(`/rooms/${roomId}/ai/suggestions`, {})
      .then((s) => ({ message_id: s.message_id, suggestions: (s.suggestions ?? []).filter((x) => x.trim()).slice(0, 3) }));
  }
}

const services = new WeakMap<Client, AiService>();

/** The AI service of a client (one per client). */
export function aiFor(c: Client): AiService {
  let s = services.get(c);
  if (!s) services.set(c, (s = new AiService(c)));
  return s;
}
