import { hashPassword, verifyPassword } from '../../../src/services/auth/password';
import { createLoginThrottle } from '../../../src/services/auth/login-throttle';

describe('password hashing', () => {
  it('stores scrypt with a per-user salt and checks only the right password', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('horse');
    expect(await verifyPassword('correct horse battery staple', a)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', a)).toBe(false);
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(await verifyPassword('anything', 'garbage')).toBe(false);
  });
});

describe('login throttle', () => {
  it('makes an account wait after its free failures, doubling, until a success', () => {
    let now = 0;
    const throttle = createLoginThrottle({
      freeAccountFailures: 3,
      baseDelayMs: 1000,
      now: () => now,
    });
    for (let i = 0; i < 2; i++) throttle.recordFailure('ann', '10.0.0.1');
    expect(throttle.waitMs('ann', '10.0.0.1')).toBe(0);
    throttle.recordFailure('ann', '10.0.0.1');
    expect(throttle.waitMs('ANN', '10.0.0.2')).toBe(1000);
    now = 1000;
    expect(throttle.waitMs('ann', '10.0.0.1')).toBe(0);
    throttle.recordFailure('ann', '10.0.0.1');
    expect(throttle.waitMs('ann', '10.0.0.1')).toBe(2000);
    expect(throttle.waitMs('bob', '10.0.0.9')).toBe(0);
    throttle.recordSuccess('ann');
    expect(throttle.waitMs('ann', '10.0.0.9')).toBe(0);
  });

  it('makes an address that tries many accounts wait too, up to the longest delay', () => {
    let now = 0;
    const throttle = createLoginThrottle({
      freeAddressFailures: 4,
      baseDelayMs: 1000,
      maxDelayMs: 5000,
      now: () => now,
    });
    for (let i = 0; i < 4; i++) throttle.recordFailure(`user${i}`, '10.0.0.1');
    expect(throttle.waitMs('someone-else', '10.0.0.1')).toBe(1000);
    expect(throttle.waitMs('someone-else', '10.0.0.2')).toBe(0);
    for (let i = 0; i < 10; i++) throttle.recordFailure(`more${i}`, '10.0.0.1');
    expect(throttle.waitMs('x', '10.0.0.1')).toBe(5000);
    now = 25 * 60 * 60 * 1000;
    expect(throttle.waitMs('x', '10.0.0.1')).toBe(0);
  });
});
