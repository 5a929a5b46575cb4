/**
 * HTTP Basic authentication (RFC 7617): `Authorization: Basic base64(user:password)` on every
 * request. Used by CloudSigma and Bluebox; the credentials are read at signing time so rotated
 * ones are picked up.
 *
 * https://www.rfc-editor.org/rfc/rfc7617
 */
import { InvalidInputError } from '../../errors.ts';
import type { HttpRequest, Signer } from '../types.ts';

/** A username (or API key id) and its password (or secret). */
export interface BasicCredentials {
  username: string;
  password: string;
}

/** The header value for `credentials`, UTF-8 encoded as RFC 7617 section 2.1 allows. */
export function basicAuthorization({ username, password }: BasicCredentials): string {
  // why: a colon in the user-id cannot be told apart from the separator (RFC 7617 section 2)
  if (username.includes(':')) throw new InvalidInputError('a Basic auth username must not contain ":"', { field: 'username' });
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export function basicSigner(credentials: () => BasicCredentials): Signer {
  return {
    async sign(req: HttpRequest): Promise<HttpRequest> {
      return { ...req, headers: { ...req.headers, authorization: basicAuthorization(credentials()) } };
    },
  };
}
