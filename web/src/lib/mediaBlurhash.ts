// BlurHash placeholders: the short string the server computes for every image, decoded to RGBA
// pixels while the thumbnail loads. The decoding is Wolt's reference implementation (the
// `blurhash` package); this module only adds the strict well-formedness check the UI uses.
import { decode, isBlurhashValid } from 'blurhash';

const CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~';

/** Whether `hash` is a well-formed BlurHash (base-83 only, length agrees with its component count). */
export function isBlurhash(hash: string | null | undefined): hash is string {
  if (!hash) return false;
  for (const ch of hash) if (!CHARS.includes(ch)) return false;
  return isBlurhashValid(hash).result;
}

/** RGBA pixels (width × height × 4) for `hash`; throws on a malformed hash. */
export function decodeBlurhash(hash: string, width: number, height: number): Uint8ClampedArray {
  if (!isBlurhash(hash)) throw new Error('invalid blurhash');
  return decode(hash, width, height);
}
