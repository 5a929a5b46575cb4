import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/providers/errors.ts';
import {
  absoluteName,
  decodeRrsetId,
  encodeRrsetId,
  fromPresentation,
  normalizeData,
  normalizeName,
  quoteText,
  relativeName,
  toPresentation,
  unquoteText,
} from '../../src/providers/dns/records.ts';

describe('dns records: shared rules', () => {
  it('turns names relative and back, the apex being the empty name', () => {
    expect(normalizeName('@', 'p')).toBe('');
    expect(normalizeName(' WWW.Api ', 'p')).toBe('www.api');
    expect(normalizeName('*.dev', 'p')).toBe('*.dev');
    expect(normalizeName('_sip._tcp', 'p')).toBe('_sip._tcp');
    expect(() => normalizeName('www.', 'p')).toThrow(InvalidInputError);
    expect(relativeName('WWW.example.com.', 'example.com')).toBe('www');
    expect(relativeName('example.com.', 'example.com')).toBe('');
    expect(absoluteName('', 'example.com', true)).toBe('example.com.');
    expect(absoluteName('www', 'example.com')).toBe('www.example.com');
  });

  it('quotes TXT as 255-byte character-strings and reads them back joined', () => {
    expect(quoteText('v=spf1 "x" \\ -all')).toBe('"v=spf1 \\"x\\" \\\\ -all"');
    const long = 'a'.repeat(300);
    expect(quoteText(long)).toBe(`"${'a'.repeat(255)}" "${'a'.repeat(45)}"`);
    expect(unquoteText(quoteText(long))).toBe(long);
    expect(unquoteText('"caf\\195\\169" "!"')).toBe('café!');
    expect(unquoteText(quoteText('café "ok"'))).toBe('café "ok"');
    expect(unquoteText('bare text')).toBe('bare text');
  });

  it('converts MX, SRV and host data to presentation form and back', () => {
    expect(toPresentation('MX', 'mail.example.com', 10)).toBe('10 mail.example.com.');
    expect(fromPresentation('MX', '10 Mail.Example.com.')).toEqual({ data: 'mail.example.com', priority: 10 });
    expect(toPresentation('SRV', '5 5060 sip.example.com', 1)).toBe('1 5 5060 sip.example.com.');
    expect(fromPresentation('SRV', '1 5 5060 sip.example.com.')).toEqual({ data: '5 5060 sip.example.com', priority: 1 });
    expect(fromPresentation('CNAME', 'www.example.com.')).toEqual({ data: 'www.example.com', priority: null });
    expect(fromPresentation('TXT', '"a" "b"')).toEqual({ data: 'ab', priority: null });
    expect(normalizeData('AAAA', '2001:DB8::1', 'p')).toBe('2001:db8::1');
    expect(normalizeData('SRV', '05 80 web.example.com.', 'p')).toBe('5 80 web.example.com');
  });

  it('encodes name, type and value in rrset record ids and decodes them', () => {
    const id = encodeRrsetId('www', 'A', '192.0.2.10', null);
    expect(id).toBe('A:www:MTkyLjAuMi4xMA');
    expect(decodeRrsetId(id)).toEqual({ name: 'www', type: 'A', data: '192.0.2.10', priority: null });
    const mx = encodeRrsetId('', 'MX', 'mail.example.com', 10);
    expect(mx.startsWith('MX:@:')).toBe(true);
    expect(decodeRrsetId(mx)).toEqual({ name: '', type: 'MX', data: 'mail.example.com', priority: 10 });
    expect(decodeRrsetId(encodeRrsetId('_sip._tcp', 'TXT', 'a:b "c"', null))).toEqual({ name: '_sip._tcp', type: 'TXT', data: 'a:b "c"', priority: null });
    for (const bad of ['', 'x', 'NOPE:www:AA', 'A:www', 'MX:@:bWFpbA']) expect(decodeRrsetId(bad)).toBeUndefined();
  });
});
