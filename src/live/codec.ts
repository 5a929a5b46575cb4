/**
 * JSON wire format for events and snapshots crossing Redis. JSON turns Dates into strings; the
 * models' own Date fields (Node.createdAt) are turned back so resolvers see what a driver returned.
 */
import { MalformedResponseError } from '../providers/errors.ts';
import type { LiveEvent } from './types.ts';

/** top-level item fields that hold a Date in the provider models */
const DATE_FIELDS = ['createdAt'] as const;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function encodeEvent(event: LiveEvent): string {
  return JSON.stringify(event);
}

/** Parses an event published by any replica; throws MalformedResponseError on anything else. */
export function decodeEvent(text: string): LiveEvent {
  const event = JSON.parse(text) as LiveEvent;
  if (!isRecord(event) || typeof event.id !== 'string' || typeof event.accountId !== 'string' || !('item' in event)) {
    throw new MalformedResponseError('[live] not a live event');
  }
  event.item = reviveItem(event.item);
  return event;
}

/** Restores the Date fields of one item parsed from JSON, in place. */
export function reviveItem<T>(item: T): T {
  if (!isRecord(item)) return item;
  const record: Record<string, unknown> = item;
  for (const field of DATE_FIELDS) {
    const value = record[field];
    if (typeof value === 'string' && ISO_DATE.test(value)) record[field] = new Date(value);
  }
  return item;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
