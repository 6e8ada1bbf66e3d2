/**
 * Frames for messages already serialised, for a connection with the `batch` feature: one message
 * goes as it is, several go as `{"type":"batch","messages":[...]}` (their texts joined, never
 * parsed again), as few frames as fit `maxBytes` each. A message longer than that on its own
 * goes alone, as it would without batches.
 *
 * @example
 * ```ts
 * for (const frame of batchFrames(texts, 1024 * 1024)) socket.send(frame);
 * ```
 */
export function batchFrames(texts: readonly string[], maxBytes: number): string[] {
  if (texts.length === 1) return [texts[0] as string];
  const frames: string[] = [];
  let group: string[] = [];
  // Lengths in UTF-16 units: a byte count may be up to 3x as long, so the bound is kept by a margin below.
  let size = 0;
  const budget = Math.floor(maxBytes / 3) - BATCH_OVERHEAD;
  const close = () => {
    if (group.length === 1) frames.push(group[0] as string);
    else if (group.length > 1) frames.push(`{"type":"batch","messages":[${group.join(',')}]}`);
    group = [];
    size = 0;
  };
  for (const text of texts) {
    if (group.length > 0 && size + text.length + 1 > budget) close();
    group.push(text);
    size += text.length + 1;
  }
  close();
  return frames;
}

const BATCH_OVERHEAD = '{"type":"batch","messages":[]}'.length;
