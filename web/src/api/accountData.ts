/** Data rights (src/stoa/api/stoa/account_data.py): download everything, or erase the account. */
import { call } from "./http";
import { currentToken } from "./session";
import { download, type Progress } from "./transfer";

/** The export zip. The password is asked again: a leaked token alone must not be enough. */
export function exportData(password: string, onProgress: Progress): Promise<{ blob: Blob; filename: string }> {
  return download("/api/v1/stoa/account/export", { password }, onProgress);
}

/** Hand a downloaded file to the browser, as if it had been a link to it. */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the file once the click is handled; the URL is not needed after.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export async function eraseAccount(password: string): Promise<void> {
  await call("/api/v1/stoa/account/erase", { method: "POST", token: currentToken(), form: { password } });
}
