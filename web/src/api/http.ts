/** Requests to Stoa's own endpoints (OAuth and the Stoa extensions), with Mastodon's error shape. */
import { MastoHttpError } from "masto";

import { nextPage } from "./link";

/** A failed request: the HTTP status (0: the server could not be reached) and the server's own words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface Page<T> {
  items: T;
  /** Path and query of the next (older) page, from the `Link` header; null on the last page. */
  next: string | null;
}

interface Call {
  method?: "GET" | "POST" | "DELETE";
  token?: string | null;
  form?: Record<string, string>;
  signal?: AbortSignal;
}

export async function call<T>(path: string, { method = "GET", token, form, signal }: Call = {}): Promise<Page<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: URLSearchParams | undefined;
  if (form) body = new URLSearchParams(form);
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, signal, credentials: "omit" });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "The server could not be reached");
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data as { error?: unknown } | null)?.error;
    throw new ApiError(response.status, typeof message === "string" ? message : response.statusText);
  }
  return { items: data as T, next: nextPage(response.headers.get("Link")) };
}

/** Any error from masto.js, from `call` or from the network, as an ApiError. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof MastoHttpError) return new ApiError(error.statusCode, error.message);
  if (error instanceof TypeError) return new ApiError(0, "The server could not be reached");
  return new ApiError(-1, error instanceof Error ? error.message : String(error));
}
