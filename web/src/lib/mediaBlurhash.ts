// BlurHash decoder (https://github.com/woltapp/blurhash, MIT algorithm): turns the short string
// the server computes for every image into RGBA pixels for a placeholder while the thumbnail
// loads. A few dozen lines, so no dependency.

const CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~';

function decode83(s: string): number {
  let v = 0;
  for (const ch of s) {
    const d = CHARS.indexOf(ch);
    if (d < 0) throw new Error('invalid blurhash character');
    v = v * 83 + d;
  }
  return v;
}

const srgbToLinear = (v: number) => {
  const x = v / 255;
  return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
};
const linearToSrgb = (v: number) => {
  const x = Math.max(0, Math.min(1, v));
  return x <= 0.0031308 ? Math.round(x * 12.92 * 255 + 0.5) : Math.round((1.055 * Math.pow(x, 1 / 2.4) - 0.055) * 255 + 0.5);
};
const signPow = (v: number, e: number) => Math.sign(v) * Math.pow(Math.abs(v), e);

/** Whether `hash` is a well-formed BlurHash (length agrees with its component count). */
export function isBlurhash(hash: string | null | undefined): hash is string {
  if (!hash || hash.length < 6) return false;
  for (const ch of hash) if (!CHARS.includes(ch)) return false;
  try {
    const size = decode83(hash[0]);
    return hash.length === 4 + 2 * ((size % 9) + 1) * (Math.floor(size / 9) + 1);
  } catch {
    return false;
  }
}

/** RGBA pixels (width × height × 4) for `hash`; throws on a malformed hash. */
export function decodeBlurhash(hash: string, width: number, height: number, punch = 1): Uint8ClampedArray {
  if (!isBlurhash(hash)) throw new Error('invalid blurhash');
  const size = decode83(hash[0]);
  const nx = (size % 9) + 1;
  const ny = Math.floor(size / 9) + 1;
  const max = ((decode83(hash[1]) + 1) / 166) * punch;
  const colors: [number, number, number][] = [];
  const dc = decode83(hash.slice(2, 6));
  colors.push([srgbToLinear(dc >> 16), srgbToLinear((dc >> 8) & 255), srgbToLinear(dc & 255)]);
  for (let i = 1; i < nx * ny; i++) {
    const v = decode83(hash.slice(4 + i * 2, 6 + i * 2));
    colors.push([
      signPow((Math.floor(v / 361) - 9) / 9, 2) * max,
      signPow(((Math.floor(v / 19) % 19) - 9) / 9, 2) * max,
      signPow(((v % 19) - 9) / 9, 2) * max,
    ]);
  }
  const px = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0;
      for (let j = 0; j < ny; j++) {
        const cy = Math.cos((Math.PI * y * j) / height);
        for (let i = 0; i < nx; i++) {
          const basis = Math.cos((Math.PI * x * i) / width) * cy;
          const c = colors[i + j * nx];
          r += c[0] * basis;
          g += c[1] * basis;
          b += c[2] * basis;
        }
      }
      const o = 4 * (x + y * width);
      px[o] = linearToSrgb(r);
      px[o + 1] = linearToSrgb(g);
      px[o + 2] = linearToSrgb(b);
      px[o + 3] = 255;
    }
  }
  return px;
}
