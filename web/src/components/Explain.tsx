/** "Why am I seeing this?": the server's explanation, in a sentence and as the signals that placed it. */
import { useEffect, useRef, useState } from "preact/hooks";

import type { Status } from "../api/mastodon";
import { explain, type Explanation, type ForYouMode } from "../api/stoa";
import { useT } from "../i18n";
import { ErrorNotice } from "./ErrorNotice";

const SHOWN_SIGNALS = 6;

interface Props {
  status: Status;
  mode: ForYouMode;
  onClose: () => void;
}

export function Explain({ status, mode, onClose }: Props) {
  const t = useT();
  const dialog = useRef<HTMLDialogElement>(null);
  const [explanation, setExplanation] = useState<Explanation | null>(null);
  const [error, setError] = useState<unknown>(null);

  function fetchIt() {
    setError(null);
    explain(status.id, mode).then(setExplanation, setError);
  }

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    dialog.current?.showModal(); // modal: focus moves in, Escape closes, the page behind is inert
    fetchIt();
    return () => {
      // Back to the button that opened it, unless the person has moved on already (j/k pressed as the
      // dialog closed): focusing it then would scroll the feed back to its post.
      const focused = document.activeElement;
      if (!focused || focused === document.body || dialog.current?.contains(focused)) {
        opener?.focus?.({ preventScroll: true });
      }
    };
  }, [status.id, mode]);

  const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3, signDisplay: "exceptZero" });
  const signals = (explanation?.features ?? []).slice(0, SHOWN_SIGNALS);
  return (
    <dialog ref={dialog} class="sheet" aria-labelledby="explain-title" onClose={onClose}>
      <h2 id="explain-title">{t("forYou.whyTitle")}</h2>
      {error ? <ErrorNotice error={error} onRetry={fetchIt} /> : null}
      {!explanation && !error && <p role="status">{t("timeline.loading")}</p>}
      {explanation && (
        <div class="explanation">
          <p class="sentence">{explanation.sentence}</p>
          {explanation.sources && explanation.sources.length > 0 && (
            <p>{t("forYou.sources", { sources: explanation.sources.join(", ") })}</p>
          )}
          {signals.length > 0 && (
            <table>
              <caption>{t("forYou.signals")}</caption>
              <thead><tr><th scope="col">{t("forYou.signal")}</th><th scope="col">{t("forYou.contribution")}</th></tr></thead>
              <tbody>
                {signals.map((s) => (
                  <tr key={s.name}><th scope="row">{s.name.replace(/_/g, " ")}</th><td>{number.format(s.contribution)}</td></tr>
                ))}
              </tbody>
            </table>
          )}
          {!explanation.in_feed && <ul>{explanation.policy.map((p) => <li key={p}>{p}</li>)}</ul>}
          <p class="meta">{t("forYou.model", { name: explanation.model.name })}</p>
        </div>
      )}
      <form method="dialog">
        <button type="submit" class="button button-primary">{t("forYou.close")}</button>
      </form>
    </dialog>
  );
}
