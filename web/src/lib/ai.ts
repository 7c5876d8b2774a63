// AI (opt-in, README "AI"): what the server offers, the reader's AI preferences, per-room AI
// state, translation, the assistant's streamed replies, catch-me-up and smart replies.
// Plain TypeScript on top of the Client, with its state in Solid signals: a stream delta
// re-renders the row of its message, a translation the block under its message, a room's AI
// switch the controls of that room.
import { batch, createSignal, untrack } from 'solid-js';
import { type Api, ApiError, enc } from './api';
import type { Client } from './client';
import { Versions } from './reactive';
import type {
  AiPrefsView,
  ClientConfig,
  Me,
  MemberView,
  Message,
  PatchMe,
  PublicUser,
  RoomAi,
  SuggestionsView,
  SummaryView,
  TranslationView,
} from './types';
import { AiStreams, type AiDelta } from './aiStream';
import { TranslationCache, shouldAutoTranslate, translationKey, type Translation } from './aiTranslate';
import { aiErrorMessage } from './aiErrors';
import { discardBody } from './http';

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

const prefsFrom = (v: AiPrefsView): AiPrefs => ({
  auto_translate: v.auto_translate,
  preferred_language: v.preferred_language ?? null,
});

export type Summary = SummaryView;
export type Suggestions = SuggestionsView;

/** The assistant's username (it cannot be registered by people). */
export const BOT_USERNAME = 'ai';

/** Server config: AI on/off. Unreachable or old servers count as "off" (controls stay hidden). */
export async function fetchConfig(fetchFn: typeof fetch = fetch, base = ''): Promise<ClientConfig> {
  try {
    const res = await fetchFn(`${base}/api/v1/config`, { credentials: 'same-origin' });
    if (!res.ok) {
      await discardBody(res);
      return { ai: { enabled: false, features: [] } };
    }
    const j = (await res.json()) as Partial<ClientConfig>;
    const enabled = j.ai?.enabled === true;
    return {
      ai: { enabled, features: enabled && Array.isArray(j.ai?.features) ? j.ai!.features : [] },
      retention_days: typeof j.retention_days === 'number' ? j.retention_days : null,
    };
  } catch {
    return { ai: { enabled: false, features: [] } };
  }
}

/** What the AI service needs from the client (the Client, or a stand-in in tests). */
export interface AiHost {
  readonly api: Pick<Api, 'get' | 'post' | 'patch'>;
  readonly me: { id: string } | null;
  readonly users: { get(id: string): PublicUser | undefined; values(): Iterable<PublicUser> };
  readonly members: { get(roomId: string): MemberView[] | undefined };
  loadMembers(roomId: string): Promise<unknown>;
  onAiDelta: ((d: unknown) => void) | null;
}

const NO_AI: ClientConfig = { ai: { enabled: false, features: [] } };
const NO_PREFS: AiPrefs = { preferred_language: null, auto_translate: false };

export class AiService {
  private readonly configS = createSignal<ClientConfig>(NO_AI);
  private readonly prefsS = createSignal<AiPrefs>(NO_PREFS);
  readonly streams = new AiStreams();
  /** Stream progress, per message id. */
  private readonly streamV = new Versions();
  readonly translations = new TranslationCache();
  /** Per room: AI switched on (from GET /rooms/{id}/ai and the switch); `roomV` per room. */
  private readonly roomAi = new Map<string, boolean>();
  private readonly roomV = new Versions();
  private roomAiLoading = new Map<string, Promise<boolean>>();
  private loaded: Promise<void> | null = null;
  private loadedFor: string | null = null;

  constructor(
    private readonly c: AiHost,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
  ) {
    c.onAiDelta = (d) => this.onDelta(d as AiDelta);
  }

  /** What the server offers (tracked). */
  get config(): ClientConfig {
    return this.configS[0]();
  }

  /** The reader's AI preferences (tracked). */
  get prefs(): AiPrefs {
    return this.prefsS[0]();
  }

  private setPrefsState(p: AiPrefs): void {
    this.prefsS[1](() => p);
  }

  get enabled(): boolean {
    return this.config.ai.enabled;
  }

  has(feature: 'translate' | 'assistant' | 'summary' | 'suggestions'): boolean {
    return this.enabled && this.config.ai.features.includes(feature);
  }

  /** Config and the reader's preferences; once per sign-in (call again after a re-login). */
  load(): Promise<void> {
    const who = untrack(() => this.c.me?.id ?? null);
    if (who !== this.loadedFor) {
      this.loaded = null;
      this.loadedFor = who;
      batch(() => {
        this.setPrefsState(NO_PREFS);
        this.roomAi.clear();
        this.roomV.bumpAll();
      });
    }
    if (!this.loaded) {
      this.loaded = (async () => {
        const config = await fetchConfig(this.fetchFn);
        let prefs: AiPrefs | null = null;
        try {
          const me = await this.c.api.get<Me>('/users/me');
          if (me.ai) prefs = prefsFrom(me.ai);
        } catch {
          /* offline: defaults until next time */
          this.loaded = null;
        }
        batch(() => {
          this.configS[1](() => config);
          if (prefs) this.setPrefsState(prefs);
        });
      })();
    }
    return this.loaded;
  }

  // ---------- preferences ----------

  async setPrefs(p: Partial<AiPrefs>): Promise<void> {
    const body: PatchMe = p;
    const me = await this.c.api.patch<Me>('/users/me', body);
    this.setPrefsState(me.ai ? prefsFrom(me.ai) : { ...untrack(() => this.prefs), ...p });
  }

  // ---------- rooms ----------

  /** AI on in a room, as last known (undefined: not asked yet). */
  roomEnabled(roomId: string): boolean | undefined {
    if (!this.enabled) return false;
    // The assistant is a member exactly while AI is on, and member lists follow member events,
    // so a switch by an admin shows up for everyone without asking again.
    const members = this.c.members.get(roomId);
    if (members) return members.some((m) => m.user.username === BOT_USERNAME);
    this.roomV.track(roomId);
    return this.roomAi.get(roomId);
  }

  /** Ask the server whether AI is on in a room (single flight per room). */
  refreshRoom(roomId: string): Promise<boolean> {
    if (!this.enabled) return Promise.resolve(false);
    let p = this.roomAiLoading.get(roomId);
    if (!p) {
      p = this.c.api
        .get<RoomAi>(`/rooms/${roomId}/ai`)
        .then(
          (r) => r.ai_enabled,
          (e) => {
            if (e instanceof ApiError && (e.code === 'ai_disabled' || e.status === 404)) return false;
            throw e;
          },
        )
        .then((on) => {
          this.roomAi.set(roomId, on);
          this.roomV.bump(roomId);
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
    this.roomV.bump(roomId);
    // The assistant joined or left: the member list is what the room's AI state follows.
    await this.c.loadMembers(roomId).catch(() => {});
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
    if (this.streams.add(d)) this.streamV.bump(d.message_id);
  }

  /** The streamed preview of a bot message; dropped once the message has its final edit. */
  preview(m: Message): string | undefined {
    this.streamV.track(m.id);
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
  /** Translation display changes, per translation key (message, version, language). */
  private readonly tV = new Versions();

  private setT(key: string, state: TranslationState | undefined): void {
    if (state) this.tState.set(key, state);
    else this.tState.delete(key);
    this.tV.bump(key);
  }

  translationState(m: Message): TranslationState | undefined {
    const key = translationKey(m, this.targetLanguage());
    this.tV.track(key);
    return this.tState.get(key);
  }

  /** Translate a message for display (the Translate action, or auto-translation). */
  showTranslation(roomId: string, m: Message): void {
    const lang = this.targetLanguage();
    const key = translationKey(m, lang);
    const cur = this.tState.get(key);
    if (cur?.status === 'hidden') {
      this.setT(key, { status: 'done', translation: cur.translation });
      return;
    }
    if (cur?.status === 'loading' || cur?.status === 'done') return;
    this.setT(key, { status: 'loading' });
    this.translate(roomId, m, lang).then(
      (translation) => this.setT(key, { status: 'done', translation }),
      (e) => this.setT(key, { status: 'error', message: aiErrorMessage(e) }),
    );
  }

  /** "Show original": hide the translation (kept, so showing it again costs nothing). */
  hideTranslation(m: Message): void {
    const key = translationKey(m, this.targetLanguage());
    const cur = this.tState.get(key);
    this.setT(key, cur?.status === 'done' ? { status: 'hidden', translation: cur.translation } : undefined);
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
    return this.c.api.post<Suggestions>(`/rooms/${roomId}/ai/suggestions`, {}).then((s) => ({
      message_id: s.message_id,
      suggestions: (s.suggestions ?? []).filter((x) => x.trim()).slice(0, 3),
    }));
  }
}

const services = new WeakMap<Client, AiService>();

/** The AI service of a client (one per client). */
export function aiFor(c: Client): AiService {
  let s = services.get(c);
  if (!s) {
    s = new AiService(c);
    services.set(c, s);
  }
  return s;
}
