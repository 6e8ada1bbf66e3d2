/** The dashboard's view of the HTTP API (docs/api.md): bearer-token requests and the event stream. */

export interface ApiErrorBody {
  error: { code: string; message: string; path?: Array<string | number> };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** One event as the API sends it. */
export interface TroupeEvent {
  seq: number;
  type: string;
  at: number;
  ticketId?: string | null;
  taskId?: string | null;
  agentId?: string | null;
  phase?: string | null;
  [key: string]: unknown;
}

export class Api {
  constructor(readonly token: string) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async get<T>(path: string): Promise<T> {
    return this.answer<T>(await fetch(path, { headers: this.headers({ Accept: 'application/json' }) }));
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.answer<T>(
      await fetch(path, {
        method: 'POST',
        headers: this.headers({ 'Content-Type': 'application/json' }),
        body: JSON.stringify(body),
      }),
    );
  }

  /** Every page of a list, up to `max` items (the overview needs counts, not the whole history). */
  async all<T>(path: string, max = 2_000): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page: Page<T> = await this.get<Page<T>>(
        `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && out.length < max);
    return out;
  }

  private async answer<T>(res: Response): Promise<T> {
    const text = await res.text();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const error = (body as ApiErrorBody | undefined)?.error;
      throw new ApiError(res.status, error?.code ?? `HTTP_${res.status}`, error?.message ?? res.statusText);
    }
    return body as T;
  }

  /**
   * Follows `/v1/events` as Server-Sent Events (read with fetch, since EventSource cannot send an
   * Authorization header), resuming after the last seq seen when the connection drops.
   */
  follow(query: string, onEvent: (event: TroupeEvent) => void, signal: AbortSignal): void {
    let lastSeq: number | null = null;
    const run = async (): Promise<void> => {
      while (!signal.aborted) {
        try {
          const headers = this.headers({ Accept: 'text/event-stream' });
          if (lastSeq !== null) headers['Last-Event-ID'] = String(lastSeq);
          const res = await fetch(`/v1/events${query}`, { headers, signal });
          if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = block
                .split('\n')
                .filter((l) => l.startsWith('data:'))
                .map((l) => l.slice(5).trimStart())
                .join('\n');
              if (!data) continue;
              const event = JSON.parse(data) as TroupeEvent;
              lastSeq = event.seq;
              onEvent(event);
            }
          }
        } catch {
          if (signal.aborted) return;
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
    };
    void run();
  }
}
