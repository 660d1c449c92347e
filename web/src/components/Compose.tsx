/** Writing a post or a reply: text with a live count, visibility, an optional content warning. */
import { useEffect, useId, useRef, useState } from "preact/hooks";

import { masto, type Status, type Visibility } from "../api/mastodon";
import { useT } from "../i18n";
import { countCharacters, DEFAULT_MAX_CHARACTERS, loadDraft, maxCharacters, saveDraft } from "./compose";
import { errorText } from "./ErrorNotice";

interface Props {
  replyTo?: Status;
  onPosted: (status: Status) => void;
  autoFocus?: boolean;
}

const VISIBILITIES: Visibility[] = ["public", "unlisted", "private", "direct"];

function replyMentions(status: Status, me: string | null): string {
  const names = [status.account.acct, ...status.mentions.map((m) => m.acct)].filter((a) => a !== me);
  return [...new Set(names)].map((a) => `@${a} `).join("");
}

export function Compose({ replyTo, onPosted, autoFocus = false }: Props) {
  const t = useT();
  const id = useId();
  const draftKey = replyTo ? `reply.${replyTo.id}` : "new";
  const [text, setText] = useState(() => loadDraft(draftKey) || (replyTo ? replyMentions(replyTo, null) : ""));
  const [warningOn, setWarningOn] = useState(!!replyTo?.spoilerText);
  const [warning, setWarning] = useState(replyTo?.spoilerText ?? "");
  const [visibility, setVisibility] = useState<Visibility>(
    replyTo && replyTo.visibility !== "public" ? replyTo.visibility : "public");
  const [limit, setLimit] = useState(DEFAULT_MAX_CHARACTERS);
  const [sending, setSending] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [focused, setFocused] = useState(autoFocus || !!replyTo);
  const box = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    void maxCharacters().then(setLimit);
  }, []);
  useEffect(() => {
    if (autoFocus) box.current?.focus();
  }, [autoFocus]);

  const used = countCharacters(text, warningOn ? warning : "");
  const left = limit - used;
  const canSend = !sending && text.trim().length > 0 && left >= 0;

  async function submit(event: Event) {
    event.preventDefault();
    if (!canSend) return;
    setSending(true);
    setProblem(null);
    setDone(false);
    try {
      const status = await masto().v1.statuses.create({
        status: text,
        visibility,
        spoilerText: warningOn ? warning : undefined,
        inReplyToId: replyTo?.id,
      });
      saveDraft(draftKey, "");
      setText(replyTo ? replyMentions(replyTo, null) : "");
      setWarning("");
      setWarningOn(false);
      setDone(true);
      onPosted(status);
    } catch (error) {
      setProblem(`${errorText(error)} ${t("compose.keptDraft")}`);
    } finally {
      setSending(false);
    }
  }

  return (
    <form class={focused || text || warningOn ? "compose" : "compose compose-idle"} onSubmit={submit}
          onFocusIn={() => setFocused(true)}
          onFocusOut={(e) => !e.currentTarget.contains(e.relatedTarget as Node | null) && setFocused(false)}
          aria-label={replyTo ? t("thread.writeReply") : t("compose.title")}>
      {warningOn && (
        <>
          <label class="visually-hidden" for={`${id}-warning`}>{t("compose.warningLabel")}</label>
          <input id={`${id}-warning`} class="input" value={warning} placeholder={t("compose.warningPlaceholder")}
                 onInput={(e) => setWarning(e.currentTarget.value)} />
        </>
      )}
      <label class="visually-hidden" for={`${id}-text`}>{t("compose.label")}</label>
      <textarea id={`${id}-text`} ref={box} class="input" rows={replyTo ? 3 : 4} value={text}
                placeholder={replyTo ? t("compose.replyPlaceholder") : t("compose.placeholder")}
                aria-describedby={`${id}-count`}
                onInput={(e) => {
                  setText(e.currentTarget.value);
                  saveDraft(draftKey, e.currentTarget.value);
                }} />
      <div class="compose-bar">
        <label class="check">
          <input type="checkbox" checked={warningOn} onChange={(e) => setWarningOn(e.currentTarget.checked)} />
          {t("compose.addWarning")}
        </label>
        <label class="visually-hidden" for={`${id}-visibility`}>{t("visibility.label")}</label>
        <select id={`${id}-visibility`} class="input select" value={visibility}
                onChange={(e) => setVisibility(e.currentTarget.value as Visibility)}>
          {VISIBILITIES.map((v) => <option key={v} value={v}>{t(`visibility.${v}`)}</option>)}
        </select>
        <span id={`${id}-count`} class={left < 0 ? "count count-over" : "count"}>
          {left >= 0 ? t("compose.remaining", { count: left }) : t("compose.over", { count: -left })}
        </span>
        <button type="submit" class="button button-primary" disabled={!canSend}>
          {sending ? t("compose.posting") : replyTo ? t("compose.reply") : t("compose.post")}
        </button>
      </div>
      {problem && <p class="notice notice-error" role="alert">{problem}</p>}
      {done && <p class="visually-hidden" role="status">{t("compose.posted")}</p>}
    </form>
  );
}
