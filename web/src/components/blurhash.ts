/**
 * Decoding a blurhash (https://blurha.sh), the few bytes a server sends so a client can paint a blurred
 * picture before the real one arrives. Drawn on a canvas: the pages' CSP allows no `data:` images.
 */
const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

function decode83(text: string): number {
  let value = 0;
  for (const char of text) {
    const digit = DIGITS.indexOf(char);
    if (digit < 0) throw new Error(`not a blurhash character: ${char}`);
    value = value * 83 + digit;
  }
  return value;
}

function toLinear(value: number): number {
  const v = value / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function toSrgb(value: number): number {
  const v = Math.max(0, Math.min(1, value));
  return Math.round((v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055) * 255);
}

function signedPow(value: number, exponent: number): number {
  return Math.sign(value) * Math.abs(value) ** exponent;
}

/** Whether `hash` is a well-formed blurhash (its length agrees with its component counts). */
export function isBlurhash(hash: string | null | undefined): hash is string {
  if (!hash || hash.length < 6) return false;
  try {
    const size = decode83(hash.charAt(0));
    return hash.length === 4 + 2 * ((size % 9) + 1) * (Math.floor(size / 9) + 1);
  } catch {
    return false;
  }
}

/** The picture as RGBA pixels, `width` × `height`. */
export function decodeBlurhash(hash: string, width: number, height: number): Uint8ClampedArray {
  if (!isBlurhash(hash)) throw new Error("not a blurhash");
  const size = decode83(hash.charAt(0));
  const across = (size % 9) + 1;
  const down = Math.floor(size / 9) + 1;
  const maximum = (decode83(hash.charAt(1)) + 1) / 166;
  const colours: [number, number, number][] = [];
  const dc = decode83(hash.slice(2, 6));
  colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
  for (let i = 1; i < across * down; i++) {
    const ac = decode83(hash.slice(4 + i * 2, 6 + i * 2));
    const quant = (v: number) => signedPow((v - 9) / 9, 2) * maximum;
    colours.push([quant(Math.floor(ac / 361)), quant(Math.floor(ac / 19) % 19), quant(ac % 19)]);
  }
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0;
      for (let j = 0; j < down; j++) {
        for (let i = 0; i < across; i++) {
          const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
          const [cr, cg, cb] = colours[i + j * across] ?? [0, 0, 0];
          r += cr * basis;
          g += cg * basis;
          b += cb * basis;
        }
      }
      const at = 4 * (x + y * width);
      pixels.set([toSrgb(r), toSrgb(g), toSrgb(b), 255], at);
    }
  }
  return pixels;
}
