import type { z } from 'zod';
import { AGENT_MESSAGES, type AgentMessage } from './protocol/agent-messages.js';
import type { ProtocolErrorCode } from './protocol/codes.js';
import { OBSERVER_MESSAGES, type ObserverMessage } from './protocol/observer-messages.js';

export type Role = 'agent' | 'observer';
export type Ref = string | number | null;

export type FrameOutcome =
  | { ok: true; message: AgentMessage | ObserverMessage }
  | { ok: false; code: ProtocolErrorCode; message: string; ref: Ref };

const MESSAGES: Record<Role, Record<string, z.ZodType>> = { agent: AGENT_MESSAGES, observer: OBSERVER_MESSAGES };
const OTHER: Record<Role, Role> = { agent: 'observer', observer: 'agent' };

const refused = (code: ProtocolErrorCode, message: string, ref: Ref = null): FrameOutcome => ({
  ok: false,
  code,
  message,
  ref,
});

/** The request's ref if it is one the answer can carry back. */
function refOf(value: Record<string, unknown>): Ref {
  const ref = value.ref;
  if (typeof ref === 'string' && ref.length <= 128) return ref;
  if (typeof ref === 'number' && Number.isSafeInteger(ref)) return ref;
  return null;
}

/**
 * The ref of a frame that will not be handled (rate-limited), so that its refusal still reaches
 * the request that caused it. Null when the frame cannot be read cheaply.
 */
export function peekRef(data: Buffer, isBinary: boolean, maxFrameBytes: number): Ref {
  if (isBinary || data.length > maxFrameBytes) return null;
  try {
    const value: unknown = JSON.parse(data.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? refOf(value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * Reads one frame into a checked message for a connection of the given role, or says exactly
 * what was wrong with it. Pure: no I/O, no state, never throws.
 */
export function readFrame(data: Buffer, isBinary: boolean, role: Role, maxFrameBytes: number): FrameOutcome {
  if (isBinary) return refused('E_BINARY_FRAME', 'binary frames are not part of protocol v1; send JSON as text frames');
  if (data.length > maxFrameBytes) {
    return refused('E_FRAME_TOO_LARGE', `the frame is ${data.length} bytes, over the limit of ${maxFrameBytes}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (error) {
    return refused('E_NOT_JSON', `the frame is not JSON: ${(error as Error).message}`);
  }
  return readMessage(value, role);
}

/**
 * Checks one message of a `batch` frame as if it had come in its own frame. A batch carries
 * neither `hello` (it must come alone, first) nor another batch.
 */
export function readBatched(value: unknown, role: Role): FrameOutcome {
  const type = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).type : undefined;
  if (type === 'hello' || type === 'batch') {
    return refused(
      'E_INVALID_MESSAGE',
      `"${type}" cannot be sent inside a batch`,
      refOf(value as Record<string, unknown>),
    );
  }
  return readMessage(value, role);
}

/** Checks a parsed JSON value as a message of the role's protocol. */
function readMessage(value: unknown, role: Role): FrameOutcome {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return refused('E_INVALID_MESSAGE', `a message is a JSON object with a "type" field; this frame is ${what}`);
  }
  const record = value as Record<string, unknown>;
  const ref = refOf(record);
  const type = record.type;
  if (typeof type !== 'string') return refused('E_UNKNOWN_TYPE', 'the message has no "type" (a string)', ref);
  const schema = Object.hasOwn(MESSAGES[role], type) ? MESSAGES[role][type] : undefined;
  if (!schema) {
    if (Object.hasOwn(MESSAGES[OTHER[role]], type)) {
      return refused(
        'E_FORBIDDEN',
        `"${type}" is a message for ${OTHER[role]} connections; this one is an ${role} connection`,
        ref,
      );
    }
    return refused('E_UNKNOWN_TYPE', `"${type.slice(0, 100)}" is not a message type of protocol v1`, ref);
  }
  const parsed = schema.safeParse(record);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(message)';
      return `${path}: ${issue.message}`;
    });
    return refused('E_INVALID_MESSAGE', `invalid ${type}: ${problems.join('; ')}`, ref);
  }
  return { ok: true, message: parsed.data as AgentMessage | ObserverMessage };
}
