import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailableError } from '../../../src/db/client.ts';

function nodeError(code: string, syscall: string) {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
}

describe('isDatabaseUnavailableError (503 instead of 500)', () => {
  it('treats a refused TCP connection and a missing unix socket (server stopped) as unavailable', () => {
    expect(isDatabaseUnavailableError(nodeError('ECONNREFUSED', 'connect'))).toBe(true);
    expect(isDatabaseUnavailableError(nodeError('ENOENT', 'connect'))).toBe(true);
  });

  it('does not treat other missing files, or SQL errors, as an outage', () => {
    expect(isDatabaseUnavailableError(nodeError('ENOENT', 'open'))).toBe(false);
    expect(isDatabaseUnavailableError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(
      false,
    );
  });

  it('treats server shutdown SQLSTATEs as unavailable', () => {
    expect(isDatabaseUnavailableError(Object.assign(new Error('shutting down'), { code: '57P01' }))).toBe(
      true,
    );
  });
});
