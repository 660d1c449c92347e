import { describe, expect, it } from "vitest";

import type { InclusionProof, LogEntry, TreeHead } from "../src/api/transparency";
import { entryIncluded, extendsTree, fromBase64, signatureHolds } from "../src/components/logProof";

// A tree of five entries and its signed head, made by the server's own code (stoa.residency.merkle and
// transparency.head_message) with a fixed Ed25519 key, so these checks agree with what the server signs.
const HEAD: TreeHead = {
  region: "local", size: 5, timestamp: 1764662400000, root_hash: "DV1TCgaxt+OOHNk67aoy7RtFDoTFpJJdwjy6RPPhhzQ=",
  signature: "T07iNVVDEb3nBrDzIlB8TH0txYbraSND96AHO2KpUqFiwIc9qZfeQcsWxgINZD3WRx8ZTqdplEVWFPkql3JfBQ==",
  public_key: "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", signature_algorithm: "Ed25519",
  signed_message: "stoa-tree-head-v1",
};
const LEAVES = [
  "eyJhY3Rpb24iOiJhY2NvdW50LmV4cG9ydCIsInBvc2l0aW9uIjowfQ==",
  "eyJhY3Rpb24iOiJhY2NvdW50LmV4cG9ydCIsInBvc2l0aW9uIjoxfQ==",
  "eyJhY3Rpb24iOiJhY2NvdW50LmV4cG9ydCIsInBvc2l0aW9uIjoyfQ==",
  "eyJhY3Rpb24iOiJhY2NvdW50LmV4cG9ydCIsInBvc2l0aW9uIjozfQ==",
  "eyJhY3Rpb24iOiJhY2NvdW50LmV4cG9ydCIsInBvc2l0aW9uIjo0fQ==",
];
const PATHS = [
  ["A9TfBkI5VV5AaTFPt6ZSYt3ae4Ms9TmOie0sEsKzYzU=", "IjI0fCRVE2sSWXt1VGncQ5JWV5njzPDHhEao5oEpBCw=",
   "68F5Nz9/kB1YQ3CZXkn2yFaE41ieJt/ctTB0No3nUcM="],
  ["swu9UWJlgaeb085sACARQ1wJAQiX/CVH+OqFnXK7JMk=", "IjI0fCRVE2sSWXt1VGncQ5JWV5njzPDHhEao5oEpBCw=",
   "68F5Nz9/kB1YQ3CZXkn2yFaE41ieJt/ctTB0No3nUcM="],
  ["fCuMAQQT/WaOlTXVNzQHCldRi12CFYnXRiRt+ME7vxw=", "UiLuzZjPouo94nsmHqdS5R15OrmWbAYSGYaeC6tu6b4=",
   "68F5Nz9/kB1YQ3CZXkn2yFaE41ieJt/ctTB0No3nUcM="],
  ["D151r4+6JaiJcQXhoeAOK+L5WkMn9a1U8AYSkYf3ybw=", "UiLuzZjPouo94nsmHqdS5R15OrmWbAYSGYaeC6tu6b4=",
   "68F5Nz9/kB1YQ3CZXkn2yFaE41ieJt/ctTB0No3nUcM="],
  ["0jboqmxrtdFMRPSX93t+0u84J49jI2u3BCxmvlhMlMk="],
];

function entry(position: number, leafInput = LEAVES[position] ?? ""): LogEntry {
  return { position, leaf_input: leafInput, leaf_hash: "", entry: {
    region: "local", position, time: "", actor: "", action: "account.export", reason: "", subject_account_id: null,
    details: {} } };
}

function proof(position: number, path = PATHS[position] ?? []): InclusionProof {
  return { position, size: 5, leaf_hash: "", path };
}

describe("checking the transparency log in the browser", () => {
  it("accepts the region's signature on its tree head", async () => {
    expect(await signatureHolds(HEAD)).toBe(true);
  });

  it("refuses a head whose size, time or root was changed, or another key", async () => {
    expect(await signatureHolds({ ...HEAD, size: 4 })).toBe(false);
    expect(await signatureHolds({ ...HEAD, timestamp: HEAD.timestamp + 1 })).toBe(false);
    expect(await signatureHolds({ ...HEAD, root_hash: PATHS[4]?.[0] ?? "" })).toBe(false);
    expect(await signatureHolds(HEAD, "A9TfBkI5VV5AaTFPt6ZSYt3ae4Ms9TmOie0sEsKzYzU=")).toBe(false);
    expect(await signatureHolds({ ...HEAD, signature: "bm90IGEgc2lnbmF0dXJl" })).toBe(false);
  });

  it("finds every entry in the signed tree through its audit path", async () => {
    for (const position of [0, 1, 2, 3, 4]) {
      expect(await entryIncluded(entry(position), proof(position), HEAD)).toBe(true);
    }
  });

  it("refuses an entry whose bytes were changed, a wrong path, or a proof for another tree", async () => {
    expect(await entryIncluded(entry(1, LEAVES[2]), proof(1), HEAD)).toBe(false);
    expect(await entryIncluded(entry(0), proof(0, PATHS[1]), HEAD)).toBe(false);
    expect(await entryIncluded(entry(4), proof(4, [...(PATHS[4] ?? []), PATHS[0]?.[0] ?? ""]), HEAD)).toBe(false);
    expect(await entryIncluded(entry(2), { ...proof(2), size: 4 }, HEAD)).toBe(false);
    expect(await entryIncluded(entry(3), proof(3), { ...HEAD, size: 6 })).toBe(false);
  });
});

// Roots of the first 1…7 entries of one log, and consistency proofs between them, from merkle.py.
const ROOTS: Record<number, string> = {
  1: "swu9UWJlgaeb085sACARQ1wJAQiX/CVH+OqFnXK7JMk=", 2: "UiLuzZjPouo94nsmHqdS5R15OrmWbAYSGYaeC6tu6b4=",
  3: "JRTuymfnz64AOy1QIsMoVZNaLTLbpocKRnXkA+ho0/Y=", 4: "0jboqmxrtdFMRPSX93t+0u84J49jI2u3BCxmvlhMlMk=",
  5: "DV1TCgaxt+OOHNk67aoy7RtFDoTFpJJdwjy6RPPhhzQ=", 6: "o+ZHECZjxdWYmw2402RHTI+NRwkz3QzgR8BRU8sWnSc=",
  7: "jiZ9H7c5MSeApaTtlW8sPWWmr4Qwf9mT5NzbRPaKguU=",
};
const CONSISTENCY: Record<string, string[]> = {
  "1-7": ["A9TfBkI5VV5AaTFPt6ZSYt3ae4Ms9TmOie0sEsKzYzU=", "IjI0fCRVE2sSWXt1VGncQ5JWV5njzPDHhEao5oEpBCw=",
          "D3PmWjgccvz87zehZusMfArpy80Eh98ZRhTgPfEeRHg="],
  "3-7": ["D151r4+6JaiJcQXhoeAOK+L5WkMn9a1U8AYSkYf3ybw=", "fCuMAQQT/WaOlTXVNzQHCldRi12CFYnXRiRt+ME7vxw=",
          "UiLuzZjPouo94nsmHqdS5R15OrmWbAYSGYaeC6tu6b4=", "D3PmWjgccvz87zehZusMfArpy80Eh98ZRhTgPfEeRHg="],
  "4-7": ["D3PmWjgccvz87zehZusMfArpy80Eh98ZRhTgPfEeRHg="],
  "5-7": ["68F5Nz9/kB1YQ3CZXkn2yFaE41ieJt/ctTB0No3nUcM=", "hP9ntQjPepirCtcneleNeTYee8rh8cn1nXRcivQIDcQ=",
          "xbylFb9e1RyrfYuMp9BB7RGzsl9WwbLJ+hZZWjm4ko8=", "0jboqmxrtdFMRPSX93t+0u84J49jI2u3BCxmvlhMlMk="],
  "6-7": ["qg3MSjkNELK/OrtPv4sFbXJFeng/sE5dVVvoGV+2tQQ=", "xbylFb9e1RyrfYuMp9BB7RGzsl9WwbLJ+hZZWjm4ko8=",
          "0jboqmxrtdFMRPSX93t+0u84J49jI2u3BCxmvlhMlMk="],
  "2-5": ["IjI0fCRVE2sSWXt1VGncQ5JWV5njzPDHhEao5oEpBCw=", "68F5Nz9/kB1YQ3CZXkn2yFaE41ieJt/ctTB0No3nUcM="],
};

function grew(from: number, to: number, proof = CONSISTENCY[`${from}-${to}`] ?? [], oldRoot = ROOTS[from] ?? "") {
  return extendsTree(from, fromBase64(oldRoot), to, fromBase64(ROOTS[to] ?? ""), proof.map(fromBase64));
}

describe("checking that the log only grew", () => {
  it("accepts the server's consistency proofs, powers of two and not", async () => {
    for (const pair of Object.keys(CONSISTENCY)) {
      const [from, to] = pair.split("-").map(Number);
      expect(await grew(from ?? 0, to ?? 0), pair).toBe(true);
    }
    expect(await grew(7, 7, [])).toBe(true);
  });

  it("refuses a changed old state, a wrong proof, a shrunk log, or equal sizes with another root", async () => {
    expect(await grew(3, 7, undefined, ROOTS[2])).toBe(false);
    expect(await grew(5, 7, CONSISTENCY["6-7"])).toBe(false);
    expect(await grew(4, 7, [...(CONSISTENCY["4-7"] ?? []), ROOTS[1] ?? ""])).toBe(false);
    expect(await grew(7, 5, [])).toBe(false);
    expect(await grew(5, 5, [], ROOTS[4])).toBe(false);
    expect(await grew(3, 7, [])).toBe(false);
  });
});
