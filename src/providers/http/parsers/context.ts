/** What a parser needs to build a MalformedResponseError that says where the body came from. */
import { MalformedResponseError } from '../../errors.ts';
import { redact } from '../redact.ts';

/** Identifies the response being parsed; never holds request headers or the URL. */
export interface ParseContext {
  provider: string;
  operation: string;
  status: number;
  requestId?: string | undefined;
  /** values to scrub from the body snippet (see collectSecrets) */
  secrets?: readonly string[] | undefined;
}

const SNIPPET_CHARS = 200;

/** A short, single-line, secret-free excerpt of a response body for error messages. */
export function bodySnippet(text: string, secrets: readonly string[] = [], max = SNIPPET_CHARS): string {
  // why: redact before truncating so a secret cut in half by the limit is still caught
  const flat = redact(text, secrets).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export function malformedResponse(ctx: ParseContext, what: string, text: string, cause: unknown): MalformedResponseError {
  const snippet = bodySnippet(text, ctx.secrets);
  return new MalformedResponseError(
    `${ctx.operation} ${ctx.status}: response is not valid ${what}; body starts with "${snippet}" (${text.length} chars)`,
    { provider: ctx.provider, status: ctx.status, requestId: ctx.requestId, cause },
  );
}
