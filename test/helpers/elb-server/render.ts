/** XML rendering of ELB answers and errors from the templates under fixtures/elb and fixtures/alb. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../replay-server.ts';
import type { ElbApiName } from './constants.ts';
import type { AwsFault, Reply, View } from './protocol.ts';

const templates = new Map<string, string>();

export function render(api: ElbApiName, name: string, view: View): string {
  const file = resolve(REPO_ROOT, 'fixtures', api, `${name}.xml`);
  let tpl = templates.get(file);
  if (tpl === undefined) templates.set(file, (tpl = readFileSync(file, 'utf8')));
  return renderBlock(tpl, [view]);
}

/** `{{name}}`, `{{.}}`, `{{#name}}…{{/name}}` (list or truthy), `{{^name}}…{{/name}}` (empty or falsy) */
function renderBlock(tpl: string, stack: unknown[]): string {
  const lookup = (key: string): unknown => {
    if (key === '.') return stack[stack.length - 1];
    for (let i = stack.length - 1; i >= 0; i--) {
      const frame = stack[i];
      if (frame !== null && typeof frame === 'object' && key in frame) return (frame as View)[key];
    }
    return undefined;
  };
  const sections = tpl.replace(/\{\{([#^])([\w.]+)\}\}\n?([\s\S]*?)\{\{\/\2\}\}\n?/g, (_all, kind: string, key: string, inner: string) => {
    const value = lookup(key);
    const empty = value === undefined || value === null || value === false || value === '' || (Array.isArray(value) && value.length === 0);
    if (kind === '^') return empty ? renderBlock(inner, stack) : '';
    if (empty) return '';
    const items = Array.isArray(value) ? value : [value];
    return items.map((item) => renderBlock(inner, [...stack, item])).join('');
  });
  return sections.replace(/\{\{([\w.]+)\}\}/g, (_all, key: string) => escapeXml(String(lookup(key) ?? '')));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function errorReply(api: ElbApiName, err: AwsFault): Reply {
  const type = err.status >= 500 ? 'Receiver' : 'Sender';
  return { status: err.status, body: render(api, 'error', { type, code: err.code, message: err.message, requestId: randomUUID() }) };
}
