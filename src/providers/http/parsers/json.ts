/** JSON response bodies. */
import { malformedResponse, type ParseContext } from './context.ts';

export function isJsonResponse(contentType: string | undefined): boolean {
  return /[/+]json\b/i.test(contentType ?? '');
}

/** Parses a JSON body; an empty body gives `undefined` (204s, empty DELETE answers). */
export function parseJsonResponse(text: string, ctx: ParseContext): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw malformedResponse(ctx, 'JSON', text, err);
  }
}
