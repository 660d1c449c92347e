/**
 * The last signed tree head this browser checked, per region, so the next visit can prove the log only
 * grew in between (a consistency proof): what one page view alone cannot show.
 */
import { consistencyProof, type TreeHead } from "../api/transparency";
import { extendsTree, fromBase64 } from "./logProof";

export type Growth =
  | { kind: "first" }
  | { kind: "grew"; since: TreeHead }
  /** The log does not extend the one seen before (changed, removed, or signed by another key). */
  | { kind: "broken"; since: TreeHead };

const key = (region: string) => `stoa.logHead.${region}`;

function saved(region: string): TreeHead | null {
  try {
    return JSON.parse(localStorage.getItem(key(region)) ?? "null") as TreeHead | null;
  } catch {
    return null;
  }
}

function remember(head: TreeHead): void {
  try {
    localStorage.setItem(key(head.region), JSON.stringify(head));
  } catch {
    // storage disabled: every visit is a first one
  }
}

/** Compare a head whose signature was checked with the one seen last; remember it if the log only grew. */
export async function checkGrowth(head: TreeHead): Promise<Growth> {
  const since = saved(head.region);
  if (!since || since.size === 0) {
    remember(head);
    return { kind: "first" };
  }
  let grew = since.public_key === head.public_key && since.size <= head.size;
  if (grew) {
    const proof = since.size === head.size ? [] : await consistencyProof(head.region, since.size, head.size);
    grew = await extendsTree(since.size, fromBase64(since.root_hash), head.size, fromBase64(head.root_hash),
                             proof.map(fromBase64));
  }
  if (!grew) return { kind: "broken", since }; // the old head is kept: it is the evidence
  remember(head);
  return { kind: "grew", since };
}
