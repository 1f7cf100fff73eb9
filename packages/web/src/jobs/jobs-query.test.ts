import { formatJobsQuery, parseJobsQuery } from './jobs-query';

describe('the jobs overview query string', () => {
  it('round-trips statuses, text and sort', () => {
    const query = parseJobsQuery('?status=failed,active&q=shot%20010&sort=name');
    expect([...query.statuses]).toEqual(['failed', 'active']);
    expect(query.text).toBe('shot 010');
    expect(query.sort).toEqual({ column: 'name', descending: false });
    expect(parseJobsQuery(formatJobsQuery(query))).toEqual(query);
  });
  it('ignores unknown statuses and columns, and leaves the defaults out', () => {
    const query = parseJobsQuery('?status=bogus,queued&sort=-secret');
    expect([...query.statuses]).toEqual(['queued']);
    expect(query.sort).toEqual({ column: 'updated', descending: true });
    expect(formatJobsQuery(parseJobsQuery(''))).toBe('');
  });
});
