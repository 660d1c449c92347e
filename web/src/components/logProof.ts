/**
 * Checking the transparency log in the browser, with WebCrypto only: the tree head's Ed25519 signature,
 * and that an entry is in the signed tree (RFC 9162 §2.1.3.2). The same rules as
 * src/stoa/residency/merkle.py and transparency.py, written again so the check does not trust the server.
 */
import type { InclusionProof, LogEntry, TreeHead } from "../api/transparency";

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", joined));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

export function leafHash(entry: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(LEAF, entry);
}

function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(NODE, left, right);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The bytes the region's key signs: "stoa-tree-head-v1\n{region}\n{size}\n{timestamp_ms}\n{root_hash_hex}". */
export function headMessage(head: TreeHead): Uint8Array<ArrayBuffer> {
  const root = toHex(fromBase64(head.root_hash));
  return new TextEncoder().encode(`stoa-tree-head-v1\n${head.region}\n${head.size}\n${head.timestamp}\n${root}`);
}

/** Whether the tree head was signed by the holder of `publicKey` (base64 of the raw 32-byte Ed25519 key). */
export async function signatureHolds(head: TreeHead, publicKey: string = head.public_key): Promise<boolean> {
  if (head.signature_algorithm !== "Ed25519") return false;
  try {
    const key = await crypto.subtle.importKey("raw", fromBase64(publicKey), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, fromBase64(head.signature), headMessage(head));
  } catch {
    return false; // a malformed key or signature verifies nothing
  }
}

/** The root an audit path leads to from leaf `index` of a tree of `size` leaves (RFC 9162 §2.1.3.2), or null. */
export async function rootFromPath(index: number, size: number, leaf: Uint8Array, path: Uint8Array[]):
    Promise<Uint8Array | null> {
  if (index < 0 || index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let hash = leaf;
  for (const sibling of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      hash = await nodeHash(sibling, hash);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      hash = await nodeHash(hash, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? hash : null;
}

/** Whether the entry's own bytes, hashed here, are in the tree the head signs, by the proof's path. */
export async function entryIncluded(entry: LogEntry, proof: InclusionProof, head: TreeHead): Promise<boolean> {
  if (proof.size !== head.size || proof.position !== entry.position) return false;
  const leaf = await leafHash(fromBase64(entry.leaf_input));
  const root = await rootFromPath(entry.position, head.size, leaf, proof.path.map(fromBase64));
  return root !== null && same(root, fromBase64(head.root_hash));
}

/**
 * Whether a tree of `newSize` entries with root `newRoot` extends the one of `oldSize` with `oldRoot`
 * unchanged: the consistency proof of RFC 9162 §2.1.4.2 (as `verify_consistency` in merkle.py).
 */
export async function extendsTree(oldSize: number, oldRoot: Uint8Array, newSize: number, newRoot: Uint8Array,
                                  proof: Uint8Array[]): Promise<boolean> {
  if (oldSize <= 0 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && same(oldRoot, newRoot);
  if (proof.length === 0) return false;
  const path = (oldSize & (oldSize - 1)) === 0 ? [oldRoot, ...proof] : proof; // a power of two: the old root
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] ?? new Uint8Array();
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && same(fr, oldRoot) && same(sr, newRoot);
}
