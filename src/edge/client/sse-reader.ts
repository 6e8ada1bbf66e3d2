/** One Server-Sent Events message: its `id:` and its `data:` lines joined. */
export interface SseMessage {
  id: string | null;
  event: string | null;
  data: string;
}

/**
 * Reads Server-Sent Events from a response body: messages end at a blank line, `:` lines are
 * comments (the server's pings), several `data:` lines join with newlines (the SSE standard).
 *
 * @example
 * ```ts
 * import { readSse } from 'troupe/client';
 * const response = await fetch('http://127.0.0.1:7411/v1/events', { headers: { Accept: 'text/event-stream', Authorization: `Bearer ${process.env.TROUPE_TOKEN}` } });
 * for await (const message of readSse(response.body!)) console.log(message.id, JSON.parse(message.data).type);
 * ```
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = '';
  let id: string | null = null;
  let event: string | null = null;
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.search(/\r\n|\n|\r/);
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) yield { id, event, data: data.join('\n') };
          event = null;
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(value);
          else if (field === 'id') id = value;
          else if (field === 'event') event = value;
        }
        newline = buffer.search(/\r\n|\n|\r/);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
