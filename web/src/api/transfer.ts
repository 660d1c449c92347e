/**
 * Requests whose progress a person watches: uploads of profile images (XMLHttpRequest, since fetch
 * reports no upload progress) and the download of the data export (a streamed fetch body).
 */
import { ApiError } from "./http";
import { currentToken } from "./session";

/** Done so far, 0 to 1; null while the total is unknown. */
export type Progress = (fraction: number | null) => void;

function errorOf(status: number, body: string, fallback: string): ApiError {
  try {
    const message = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof message === "string") return new ApiError(status, message);
  } catch {
    // not JSON: the status line says it
  }
  return new ApiError(status, fallback);
}

/** Send a multipart form with the person's token, reporting the upload's progress; answers the JSON. */
export function sendForm<T>(method: "PATCH" | "POST", path: string, form: FormData, onProgress: Progress): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, path);
    request.setRequestHeader("Accept", "application/json");
    const token = currentToken();
    if (token) request.setRequestHeader("Authorization", `Bearer ${token}`);
    request.upload.onprogress = (event) => onProgress(event.lengthComputable ? event.loaded / event.total : null);
    request.onerror = () => reject(new ApiError(0, "The server could not be reached"));
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve(JSON.parse(request.responseText) as T);
      } else {
        reject(errorOf(request.status, request.responseText, request.statusText));
      }
    };
    request.send(form);
  });
}

/** A file the server answers to a form post, read while reporting progress; answers it with its name. */
export async function download(path: string, form: Record<string, string>, onProgress: Progress):
    Promise<{ blob: Blob; filename: string }> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: "POST", body: new URLSearchParams(form), credentials: "omit",
      headers: { Authorization: `Bearer ${currentToken() ?? ""}` },
    });
  } catch {
    throw new ApiError(0, "The server could not be reached");
  }
  if (!response.ok) throw errorOf(response.status, await response.text(), response.statusText);
  const total = Number(response.headers.get("Content-Length")) || 0;
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body?.getReader();
  for (let part = await reader?.read(); part && !part.done; part = await reader?.read()) {
    chunks.push(part.value);
    received += part.value.length;
    onProgress(total ? received / total : null);
  }
  onProgress(1);
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? "stoa-export.zip";
  return { blob: new Blob(chunks as BlobPart[], { type: response.headers.get("Content-Type") ?? "" }), filename };
}
