import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/lib/api';
import { friendlyError, sentence } from '../src/lib/errors';
import { GatewayError } from '../src/lib/gateway';

describe('friendlyError', () => {
  it('writes known codes as sentences', () => {
    const e = new ApiError(401, 'invalid_credentials', 'wrong username, e-mail or password');
    expect(friendlyError(e)).toBe('That username or password is not right. Check both and try again.');
    expect(friendlyError(new ApiError(0, 'network', 'network unreachable'))).toMatch(/^Cannot reach the server/);
    expect(friendlyError(new GatewayError('forbidden', 'you may not post in this room'))).toBe(
      'You are not allowed to do that here.',
    );
  });
  it('names what was not found', () => {
    expect(friendlyError(new ApiError(404, 'not_found', 'invite not found'))).toMatch(/invite is not valid/);
    expect(friendlyError(new ApiError(404, 'not_found', 'member not found'))).toBe('Member not found.');
  });
  it('turns any other server message into a sentence, never a raw code', () => {
    expect(friendlyError(new ApiError(409, 'conflict', 'username is already taken'))).toBe(
      'Username is already taken.',
    );
    expect(friendlyError(new ApiError(503, 'weird_code', ''))).toBe(
      'Something went wrong on the server. Please try again.',
    );
    expect(friendlyError(new Error('file too big!'))).toBe('File too big!');
    expect(sentence('')).toBe('Something went wrong. Please try again.');
  });
});
