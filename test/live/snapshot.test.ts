import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent } from '../../src/live/codec.ts';
import { balancerResource, nodeResource } from '../../src/live/resources.ts';
import { applyMutation, baseline, decodeSnapshot, diff, encodeSnapshot } from '../../src/live/snapshot.ts';
import type { LiveEvent } from '../../src/live/types.ts';
import type { LoadBalancer, Member, Node } from '../../src/providers/types.ts';
import { node } from './support.ts';

const clock = (pollStartedAt: number, now = pollStartedAt + 10) => ({ pollStartedAt, now, graceMs: 1000 });
const kinds = (changes: { kind: string; id: string; previousState: string | null; state: string | null }[]) =>
  changes.map((c) => `${c.kind} ${c.id} ${c.previousState}->${c.state}`);

describe('live: snapshot diff', () => {
  it('reports new ids as CREATED, missing as DELETED with the last item, state changes as UPDATED', () => {
    const prev = baseline([node('a', 'running'), node('b', 'running'), node('c', 'stopped')]);
    const { next, changes } = diff(prev, [node('a', 'running'), node('b', 'stopping'), node('d', 'pending')], clock(100));
    expect(kinds(changes)).toEqual(['UPDATED b running->stopping', 'CREATED d null->pending', 'DELETED c stopped->null']);
    expect(changes[2]?.item).toMatchObject({ id: 'c', state: 'stopped' });
    expect([...next.keys()]).toEqual(['a', 'b', 'd']);
  });

  it('reports a fingerprint change with the same state as UPDATED', () => {
    const prev = baseline([{ ...node('a', 'running'), fingerprint: 'x' }]);
    expect(kinds(diff(prev, [{ ...node('a', 'running'), fingerprint: 'y' }], clock(1)).changes)).toEqual(['UPDATED a running->running']);
    expect(diff(prev, [{ ...node('a', 'running'), fingerprint: 'x' }], clock(1)).changes).toEqual([]);
  });

  it('does not report again what a mutation already published', () => {
    const snap = baseline([node('a', 'running')]);
    applyMutation(snap, { kind: 'UPDATED', id: 'a', item: {}, state: 'stopping' }, 50);
    applyMutation(snap, { kind: 'CREATED', id: 'n', item: {}, state: 'pending' }, 50);
    const { next, changes } = diff(snap, [node('a', 'stopping'), node('n', 'pending')], clock(100));
    expect(changes).toEqual([]);
    expect(next.get('a')?.mutatedAt).toBeUndefined();
  });

  it('keeps a mutation newer than the listing that raced it', () => {
    const snap = baseline([node('a', 'running')]);
    applyMutation(snap, { kind: 'UPDATED', id: 'a', item: {}, state: 'stopping' }, 150);
    const { next, changes } = diff(snap, [node('a', 'running')], clock(100));
    expect(changes).toEqual([]);
    expect(next.get('a')?.state).toBe('stopping');
  });

  it('gives a created-by-mutation resource a grace period before DELETED, then reports it', () => {
    const snap = baseline([]);
    applyMutation(snap, { kind: 'CREATED', id: 'n', item: { id: 'n' }, state: 'pending' }, 100);
    const early = diff(snap, [], clock(200, 500));
    expect(early.changes).toEqual([]);
    expect(kinds(diff(early.next, [], clock(1200, 1200)).changes)).toEqual(['DELETED n pending->null']);
  });

  it('never reports a resource deleted by a mutation as CREATED while listings still show it', () => {
    const snap = baseline([node('a', 'running')]);
    applyMutation(snap, { kind: 'DELETED', id: 'a', item: {}, state: null }, 100);
    const lagging = diff(snap, [node('a', 'terminated')], clock(200));
    expect(lagging.changes).toEqual([]);
    const gone = diff(lagging.next, [], clock(300));
    expect(gone.changes).toEqual([]);
    expect(gone.next.size).toBe(0);
  });

  it('round-trips a snapshot through JSON with Node.createdAt as a Date', () => {
    const snap = baseline([{ ...node('a', 'running'), fingerprint: 'f' }]);
    applyMutation(snap, { kind: 'DELETED', id: 'b', item: { id: 'b' }, state: null }, 7);
    const back = decodeSnapshot(encodeSnapshot(snap));
    expect(back?.get('a')).toEqual(snap.get('a'));
    expect((back?.get('a')?.item as { createdAt: Date }).createdAt).toBeInstanceOf(Date);
    expect(back?.get('b')).toMatchObject({ gone: true, mutatedAt: 7 });
    expect(decodeSnapshot(null)).toBeNull();
    expect(decodeSnapshot('{"v":2,"entries":[]}')).toBeNull();
    expect(decodeSnapshot('not json')).toBeNull();
  });
});

describe('live: codec and resources', () => {
  it('revives Node.createdAt and leaves other strings alone', () => {
    const event: LiveEvent = {
      kind: 'CREATED', resource: 'node', accountId: 'acc', region: null, id: 'a', previousState: null, state: 'running',
      item: { createdAt: new Date('2024-05-01T10:00:00.000Z'), extra: { createdAt: 'not a date' } },
      timestamp: '2024-05-01T10:00:01.000Z', source: 'poll',
    };
    const back = decodeEvent(encodeEvent(event));
    expect(back).toEqual(event);
    expect(() => decodeEvent('{"hello":1}')).toThrow(/not a live event/);
  });

  it('fingerprints what a dashboard shows, and balancer members', () => {
    const n: Node = { id: 'i-1', name: 'web', state: 'running', publicIps: ['1.1.1.1'], privateIps: [], sizeId: 's', imageId: 'img', locationId: null, createdAt: null, tags: {}, extra: { t: 1 } };
    expect(nodeResource({ ...n, extra: { t: 2 } }).fingerprint).toBe(nodeResource(n).fingerprint);
    expect(nodeResource({ ...n, publicIps: ['2.2.2.2'] }).fingerprint).not.toBe(nodeResource(n).fingerprint);
    expect(nodeResource({ ...n, tags: { env: 'prod' } }).fingerprint).not.toBe(nodeResource(n).fingerprint);
    expect(nodeResource({ ...n, tags: { a: '1', b: '2' } }).fingerprint).toBe(nodeResource({ ...n, tags: { b: '2', a: '1' } }).fingerprint);
    const lb: LoadBalancer = { id: 'lb', name: 'lb', state: 'running', ip: null, port: 80, protocol: 'http', algorithm: 'ROUND_ROBIN', extra: {} };
    const m = (id: string): Member => ({ id, ip: '10.0.0.1', port: 80, nodeId: null, extra: {} });
    const one = balancerResource(lb, [m('a')]);
    const two = balancerResource(lb, [m('b'), m('a')]);
    expect(two.fingerprint).not.toBe(one.fingerprint);
    expect(balancerResource(lb, [m('a'), m('b')]).fingerprint).toBe(two.fingerprint);
    expect((two.item as { members: Member[] }).members.map((x) => x.id)).toEqual(['a', 'b']);
    expect(two.state).toBe('running');
  });
});
