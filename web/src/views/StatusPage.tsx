/** A post with its thread: what it answers above, the replies below, and a reply box. */
import { useEffect, useState } from "preact/hooks";
import { useRoute } from "preact-iso";

import { masto, type Status } from "../api/mastodon";
import { Compose } from "../components/Compose";
import { ErrorNotice } from "../components/ErrorNotice";
import { useSignedIn } from "../components/me";
import { StatusCard } from "../components/StatusCard";
import { useT } from "../i18n";
import { acctFromSegment } from "../routes";
import { NotFound } from "./NotFound";

interface Thread {
  status: Status;
  ancestors: Status[];
  descendants: Status[];
}

export function StatusPage() {
  const { handle, id } = useRoute().params;
  return acctFromSegment(handle) && id && /^\d+$/.test(id) ? <ThreadOf key={id} id={id} /> : <NotFound />;
}

function ThreadOf({ id }: { id: string }) {
  const t = useT();
  const signedIn = useSignedIn();
  const [thread, setThread] = useState<Thread | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [replying, setReplying] = useState<Status | null>(null);

  async function load() {
    setError(null);
    try {
      const api = masto().v1.statuses.$select(id);
      const [status, context] = await Promise.all([api.fetch(), api.context.fetch()]);
      setThread({ status, ancestors: context.ancestors, descendants: context.descendants });
    } catch (problem) {
      setError(problem);
    }
  }

  useEffect(() => {
    setThread(null);
    setReplying(null);
    void load();
  }, [id]);

  if (error) return <div class="column"><h1 class="page-title">{t("thread.title")}</h1><ErrorNotice error={error} onRetry={load} /></div>;
  if (!thread) return <div class="column"><p role="status">{t("timeline.loading")}</p></div>;
  const target = replying ?? thread.status;
  return (
    <div class="column">
      <h1 class="visually-hidden">{t("thread.title")}</h1>
      {thread.ancestors.map((s) => <StatusCard key={s.id} status={s} onReply={signedIn ? setReplying : undefined} />)}
      <StatusCard status={thread.status} focused onReply={signedIn ? setReplying : undefined} />
      {signedIn && (
        <Compose key={target.id} replyTo={target} autoFocus={replying !== null}
                 onPosted={(reply) => {
                   setThread((old) => old && { ...old, descendants: [...old.descendants, reply] });
                   setReplying(null);
                 }} />
      )}
      {thread.descendants.length > 0 && (
        <section aria-labelledby="replies-title">
          <h2 id="replies-title" class="section-title">{t("thread.replies")}</h2>
          {thread.descendants.map((s) => <StatusCard key={s.id} status={s} onReply={signedIn ? setReplying : undefined} />)}
        </section>
      )}
    </div>
  );
}
