// Translation: a client cache per (message, version, language) with one request in flight per
// key, and the pure decision whether a message should be translated automatically.
import type { Message, TranslationView } from './types';

export type Translation = TranslationView;

/** A message's version: an edit makes a new one (the server caches the same way). */
export const messageVersion = (m: Pick<Message, 'created_at' | 'edited_at'>): string => m.edited_at ?? m.created_at;

/** Language tags compare case-insensitively (`pt-BR` = `pt-br`). */
export const normLang = (l: string): string => l.trim().toLowerCase();

export const translationKey = (m: Pick<Message, 'id' | 'created_at' | 'edited_at'>, lang: string): string =>
  `${m.id}|${messageVersion(m)}|${normLang(lang)}`;

export class TranslationCache {
  private done = new Map<string, Translation>();
  private inflight = new Map<string, Promise<Translation>>();

  constructor(private readonly max = 500) {}

  get(m: Pick<Message, 'id' | 'created_at' | 'edited_at'>, lang: string): Translation | undefined {
    return this.done.get(translationKey(m, lang));
  }

  /** The cached translation, or one fetch shared by every caller asking for the same key. */
  fetch(
    m: Pick<Message, 'id' | 'created_at' | 'edited_at'>,
    lang: string,
    load: () => Promise<Translation>,
  ): Promise<Translation> {
    const key = translationKey(m, lang);
    const hit = this.done.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(key);
    if (!p) {
      p = load().then(
        (t) => {
          this.inflight.delete(key);
          this.done.set(key, t);
          // Oldest first out: a Map iterates in insertion order.
          while (this.done.size > this.max) this.done.delete(this.done.keys().next().value!);
          return t;
        },
        (e) => {
          // Failures are not cached: the next attempt asks again.
          this.inflight.delete(key);
          throw e;
        },
      );
      this.inflight.set(key, p);
    }
    return p;
  }

  get size(): number {
    return this.done.size;
  }
}

export interface AutoTranslateInput {
  /** The server has AI (GET /api/v1/config). */
  serverAi: boolean;
  /** AI is on in the message's room. */
  roomAi: boolean;
  autoTranslate: boolean;
  preferredLanguage: string | null | undefined;
  meId: string | null | undefined;
  botId: string | null | undefined;
  message: Pick<Message, 'sender_id' | 'body' | 'deleted_at'>;
}

/**
 * Whether to translate a message without being asked: only when the reader opted in and chose a
 * language, AI is on, and the message is someone else's (not the assistant's, which answers in
 * the asker's language) and has words to translate.
 */
export function shouldAutoTranslate(i: AutoTranslateInput): boolean {
  if (!i.serverAi || !i.roomAi || !i.autoTranslate || !i.preferredLanguage?.trim()) return false;
  const m = i.message;
  if (m.deleted_at || m.sender_id === i.meId || (i.botId && m.sender_id === i.botId)) return false;
  // Nothing to translate in emoji, numbers, links or punctuation only.
  const words = m.body.replace(/https?:\/\/\S+/g, '').replace(/[\p{P}\p{S}\p{N}\s]/gu, '');
  return words.length > 0;
}

/** A translation worth showing: it differs from the original (not already in that language). */
export function showsTranslation(original: string, t: Translation | undefined): boolean {
  return !!t && t.text.trim() !== '' && t.text.trim() !== original.trim();
}
