/**
 * The public API is a reviewed artifact: packages/tandem/api/<subpath>.api.md, made by API
 * Extractor from the declarations the package publishes. A change to the surface that is not in
 * the checked-in reports fails here; `npm run api` rewrites them, and the diff is the review.
 */
import { describe, expect, it } from 'vitest';
import { apiReport } from '../../scripts/api-report';

describe('the public API', () => {
  it('matches the checked-in API reports of every subpath', () => {
    const { changed, messages } = apiReport(true);
    expect(messages, 'API Extractor found problems in the declarations').toEqual([]);
    expect(changed, 'the public API changed: review it and run `npm run api`').toEqual([]);
  }, 240_000);
});
