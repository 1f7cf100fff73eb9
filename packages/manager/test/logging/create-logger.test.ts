import { PassThrough } from 'node:stream';
import { createLogger, redactText, type LoggerOptions } from '../../src/logging';

function capture(options: Omit<LoggerOptions, 'stream'> = {}) {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const logger = createLogger({ ...options, stream });
  return {
    logger,
    async lines(): Promise<string[]> {
      await new Promise((resolve) => setImmediate(resolve));
      return chunks.join('').split('\n').filter(Boolean);
    },
  };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, message, timestamp and metadata', async () => {
    const { logger, lines } = capture({ format: 'json' });
    logger.info('listening', { port: 8080 });
    const [line] = await lines();
    expect(JSON.parse(line!)).toEqual({
      level: 'info',
      message: 'listening',
      port: 8080,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('drops lines below its level', async () => {
    const { logger, lines } = capture({ format: 'json', level: 'warn' });
    logger.info('quiet');
    logger.warn('loud');
    expect((await lines()).map((l) => (JSON.parse(l) as { message: string }).message)).toEqual([
      'loud',
    ]);
  });

  it('writes readable text when asked for pretty, JSON when auto and not a terminal', async () => {
    const pretty = capture({ format: 'pretty' });
    pretty.logger.warn('worker lost', { worker: 'w1' });
    const [line] = await pretty.lines();
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ .*warn.* worker lost \{"worker":"w1"\}$/);

    const auto = capture({ format: 'auto' });
    auto.logger.info('plain');
    expect(JSON.parse((await auto.lines())[0]!).message).toBe('plain');
  });

  it('masks secrets in metadata at any depth, and credentials inside strings', async () => {
    const { logger, lines } = capture({ format: 'json' });
    const request = {
      headers: { Authorization: 'Bearer abc.def', 'x-request-id': 'r1' },
      body: { name: 'w1', registration_secret: 'hunter22', nested: [{ apiKey: 'k' }] },
    };
    logger.info('request', {
      request,
      token: 'farm_tok_123',
      password: 'pw',
      databaseUrl: 'postgres://farm:s3cret@db:5432/farm',
      note: 'sent Bearer xyz123 to the manager',
      tasks_total: 5,
    });
    const entry = JSON.parse((await lines())[0]!);
    expect(entry).toMatchObject({
      request: {
        headers: { Authorization: '[redacted]', 'x-request-id': 'r1' },
        body: { name: 'w1', registration_secret: '[redacted]', nested: [{ apiKey: '[redacted]' }] },
      },
      token: '[redacted]',
      password: '[redacted]',
      databaseUrl: 'postgres://farm:***@db:5432/farm',
      note: 'sent Bearer [redacted] to the manager',
      tasks_total: 5,
    });
    const text = JSON.stringify(entry);
    for (const secret of ['abc.def', 'hunter22', 'farm_tok_123', 's3cret', 'xyz123']) {
      expect(text).not.toContain(secret);
    }
    // The caller's objects are left as they were.
    expect(request.headers.Authorization).toBe('Bearer abc.def');
  });

  it('logs errors with message and stack, masking secrets in the message', async () => {
    const { logger, lines } = capture({ format: 'json' });
    logger.error('db failed', { error: new Error('connect to postgres://u:pw@h/db refused') });
    const entry = JSON.parse((await lines())[0]!);
    expect(entry.error.message).toBe('connect to postgres://u:***@h/db refused');
    expect(entry.error.stack).toContain('Error: connect to postgres://u:***@h/db refused');
  });

  it('survives circular metadata', async () => {
    const { logger, lines } = capture({ format: 'json' });
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.info('circular', { loop });
    expect(JSON.parse((await lines())[0]!).loop).toEqual({ name: 'loop', self: '[circular]' });
  });
});

describe('redactText', () => {
  it('masks URL passwords and bearer tokens and leaves other text alone', () => {
    expect(redactText('https://user:pw@example.com/x and Basic dXNlcjpwdw==')).toBe(
      'https://user:***@example.com/x and Basic [redacted]',
    );
    expect(redactText('frame 12 of 250 done')).toBe('frame 12 of 250 done');
  });
});
