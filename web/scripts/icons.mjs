// Writes the PWA icons (solid rounded square with a white speech bubble) as PNGs, no deps.
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (b) => {
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};

function png(size, maskable) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  const r = maskable ? 0 : size * 0.18;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const o = y * (size * 4 + 1) + 1 + x * 4;
      // Rounded-square mask.
      const dx = Math.max(r - x, x - (size - 1 - r), 0),
        dy = Math.max(r - y, y - (size - 1 - r), 0);
      const inside = dx * dx + dy * dy <= r * r;
      // Bubble: ellipse in the middle plus a tail.
      const cx = size / 2,
        cy = size * 0.46,
        ex = (x - cx) / (size * 0.3),
        ey = (y - cy) / (size * 0.22);
      const tail =
        y > cy && y < size * 0.78 && x > size * 0.3 && x < size * 0.42 && x - size * 0.3 < (size * 0.78 - y) * 0.6;
      const bubble = ex * ex + ey * ey <= 1 || tail;
      const c = bubble ? [255, 255, 255] : [59, 91, 219];
      raw[o] = c[0];
      raw[o + 1] = c[1];
      raw[o + 2] = c[2];
      raw[o + 3] = inside ? 255 : 0;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('../public/icons/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('icon-192.png', dir), png(192, false));
writeFileSync(new URL('icon-512.png', dir), png(512, false));
writeFileSync(new URL('icon-maskable-512.png', dir), png(512, true));
console.log('icons written');
