/** The regions' transparency logs (src/stoa/api/stoa/transparency.py; docs/transparency.md). */
import { call } from "./http";
import { currentToken } from "./session";

export interface TreeHead {
  region: string;
  size: number;
  /** Milliseconds since 1970. */
  timestamp: number;
  root_hash: string;
  signature: string;
  public_key: string;
  signature_algorithm: "Ed25519";
  signed_message: string;
}

export interface LogEntry {
  position: number;
  /** Base64 of the entry's exact bytes: what is hashed into the tree. */
  leaf_input: string;
  leaf_hash: string;
  entry: {
    region: string;
    position: number;
    time: string;
    actor: string;
    action: string;
    reason: string;
    subject_account_id: string | null;
    details: Record<string, unknown>;
  };
}

export interface InclusionProof {
  position: number;
  size: number;
  leaf_hash: string;
  path: string[];
}

const BASE = "/api/v1/stoa/transparency";
const region = (name: string) => encodeURIComponent(name);

export async function treeHead(name: string): Promise<TreeHead> {
  return (await call<TreeHead>(`${BASE}/${region(name)}/head`)).items;
}

/** Every entry, in every region, about the signed-in person, newest first. */
export async function myEntries(): Promise<LogEntry[]> {
  return (await call<LogEntry[]>(`${BASE}/mine`, { token: currentToken() })).items;
}

export async function inclusionProof(name: string, position: number, size: number): Promise<InclusionProof> {
  const query = new URLSearchParams({ position: String(position), size: String(size) });
  return (await call<InclusionProof>(`${BASE}/${region(name)}/proof/inclusion?${query}`)).items;
}

/** This server's regions and the one new accounts live in (the `stoa` part of /api/v2/instance). */
export async function serverRegions(): Promise<{ regions: string[]; defaultRegion: string }> {
  const { items } = await call<{ stoa?: { regions?: string[]; default_region?: string } }>("/api/v2/instance");
  const defaultRegion = items.stoa?.default_region ?? "local";
  return { regions: items.stoa?.regions ?? [defaultRegion], defaultRegion };
}

/** Where an account's data lives: its home region (the `stoa` part of the Account entity). */
export function homeRegion(account: object | null | undefined): string | null {
  const region = (account as { stoa?: { region?: unknown } } | null | undefined)?.stoa?.region;
  return typeof region === "string" ? region : null;
}

export async function consistencyProof(name: string, first: number, second: number): Promise<string[]> {
  const query = new URLSearchParams({ first: String(first), second: String(second) });
  return (await call<{ proof: string[] }>(`${BASE}/${region(name)}/proof/consistency?${query}`)).items.proof;
}
