/**
 * For You: the mode (personalised or no profiling), the labels to hide, what the feed stores about the
 * person in plain words, and a reset of the history it ranks by (asked twice).
 */
import { useEffect, useState } from "preact/hooks";

import { chooseLabel, resetHistory, type Signals, storedSignals } from "../../api/controls";
import { masto } from "../../api/mastodon";
import type { ForYouMode } from "../../api/stoa";
import { ErrorNotice, errorText } from "../../components/ErrorNotice";
import { saveMode, savedMode } from "../../components/forYouMode";
import { namedAccounts, signalLines } from "../../components/signalWords";
import { useT } from "../../i18n";

/** "@alice" for each id the sentences name; ids that cannot be looked up stay out. */
async function accountNames(ids: string[]): Promise<Map<string, string>> {
  const found = await Promise.all(ids.map((id) => masto().v1.accounts.$select(id).fetch().catch(() => null)));
  return new Map(found.flatMap((a) => (a ? [[a.id, `@${a.acct}`] as [string, string]] : [])));
}

export function FeedSettings() {
  const t = useT();
  const [signals, setSignals] = useState<Signals | null>(null);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState<unknown>(null);

  async function load() {
    setError(null);
    try {
      const found = await storedSignals();
      setNames(await accountNames(namedAccounts(found)));
      setSignals(found);
    } catch (failure) {
      setError(failure);
    }
  }

  useEffect(() => {
    void load();
  }, []);

  return (
    <>
      <section id="for-you" aria-labelledby="for-you-title" class="card">
        <h2 id="for-you-title" class="section-title">{t("feedSettings.title")}</h2>
        <ModeChoice />
        {error ? <ErrorNotice error={error} onRetry={load} /> : null}
        {signals && <Labels signals={signals} onChange={setSignals} />}
      </section>
      <section id="signals" aria-labelledby="signals-title" class="card">
        <h2 id="signals-title" class="section-title">{t("signals.title")}</h2>
        <p>{t("signals.lead")}</p>
        {!signals && !error && <p role="status">{t("timeline.loading")}</p>}
        {signals && (
          <ul class="signal-lines">
            {signalLines(signals, (id) => names.get(id) ?? t("signals.someone")).map((line) => (
              <li key={line.id} data-signal={line.id}>{line.text}</li>
            ))}
          </ul>
        )}
        {signals && <Reset onReset={setSignals} />}
      </section>
    </>
  );
}

function ModeChoice() {
  const t = useT();
  const [mode, setMode] = useState<ForYouMode>(savedMode);
  const modes: [ForYouMode, string, string][] = [
    ["personalised", t("forYou.personalised"), t("feedSettings.personalisedHint")],
    ["none", t("forYou.none"), t("feedSettings.noneHint")],
  ];
  return (
    <fieldset class="choice">
      <legend>{t("forYou.mode")}</legend>
      {modes.map(([value, label, hint]) => (
        <label key={value} class="check">
          <input type="radio" name="settings-for-you-mode" value={value} checked={mode === value}
                 onChange={() => {
                   saveMode(value);
                   setMode(value);
                 }} />
          <span><strong>{label}</strong> <span class="hint">{hint}</span></span>
        </label>
      ))}
    </fieldset>
  );
}

function Labels({ signals, onChange }: { signals: Signals; onChange: (signals: Signals) => void }) {
  const t = useT();
  const [problem, setProblem] = useState<string | null>(null);

  async function toggle(label: string, hide: boolean) {
    setProblem(null);
    try {
      onChange(await chooseLabel(label, hide ? "hide" : "show"));
    } catch (error) {
      setProblem(errorText(error));
    }
  }

  return (
    <fieldset class="choice">
      <legend>{t("feedSettings.labels")}</legend>
      {signals.labels.map((label) => (
        <label key={label.label} class="check">
          <input type="checkbox" checked={label.action === "hide"}
                 onChange={(e) => void toggle(label.label, e.currentTarget.checked)} />
          {t("feedSettings.hideLabel", { meaning: label.meaning })}
        </label>
      ))}
      {problem && <p class="notice notice-error" role="alert">{problem}</p>}
    </fieldset>
  );
}

function Reset({ onReset }: { onReset: (signals: Signals) => void }) {
  const t = useT();
  const [asking, setAsking] = useState(false);
  const [done, setDone] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function reset() {
    setProblem(null);
    try {
      onReset(await resetHistory());
      setAsking(false);
      setDone(true);
    } catch (error) {
      setProblem(errorText(error));
    }
  }

  return (
    <div class="confirm-box">
      {!asking && (
        <button type="button" class="button" onClick={() => { setAsking(true); setDone(false); }}>
          {t("resetHistory.ask")}
        </button>
      )}
      {asking && (
        <div role="group" aria-labelledby="reset-question" class="notice">
          <p id="reset-question">{t("resetHistory.question")}</p>
          <div class="actions">
            <button type="button" class="button button-danger" onClick={reset}>{t("resetHistory.confirm")}</button>
            <button type="button" class="button" onClick={() => setAsking(false)}>{t("resetHistory.cancel")}</button>
          </div>
        </div>
      )}
      {done && <p role="status" class="notice">{t("resetHistory.done")}</p>}
      {problem && <p class="notice notice-error" role="alert">{problem}</p>}
    </div>
  );
}
