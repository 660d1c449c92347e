/** A list that pages through `Link` headers (masto.js's paginator) and loads on as its end comes into view. */
import { useEffect, useRef, useState } from "preact/hooks";

export type Pages<T> = () => AsyncIterator<T[], unknown>;

export interface Paged<T> {
  items: T[];
  setItems: (change: (items: T[]) => T[]) => void;
  loading: boolean;
  done: boolean;
  error: unknown;
  loadMore: () => Promise<void>;
  /** Put on an element after the list: when it comes within 800 px, the next page loads. */
  end: { current: HTMLDivElement | null };
}

export function usePaged<T extends { id: string }>(pages: Pages<T>): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [loading, setLoading] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const iterator = useRef<AsyncIterator<T[], unknown> | null>(null);
  const end = useRef<HTMLDivElement>(null);
  const busy = useRef(false);
  const finished = useRef(false);
  const generation = useRef(0); // a page asked for before the list started again is dropped

  async function loadMore() {
    if (busy.current || finished.current) return;
    const asked = generation.current;
    busy.current = true;
    setLoading(true);
    setError(null);
    try {
      iterator.current ??= pages();
      const page = await iterator.current.next();
      if (asked !== generation.current) return;
      const fresh = page.done ? [] : page.value ?? [];
      if (fresh.length === 0) {
        finished.current = true;
        setDone(true);
      }
      setItems((old) => {
        const seen = new Set(old.map((item) => item.id));
        return [...old, ...fresh.filter((item) => !seen.has(item.id))];
      });
    } catch (problem) {
      if (asked !== generation.current) return;
      iterator.current = null; // masto's iterator ends on an error: the next try starts again
      setError(problem);
    } finally {
      if (asked === generation.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  }

  useEffect(() => {
    generation.current += 1;
    busy.current = false;
    iterator.current = null;
    finished.current = false;
    setItems([]);
    setDone(false);
    void loadMore();
  }, [pages]);

  useEffect(() => {
    const sentinel = end.current;
    if (!sentinel || done || error) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadMore();
    }, { rootMargin: "800px 0px" });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [done, error, items.length]);

  return { items, setItems, loading, done, error, loadMore, end };
}
