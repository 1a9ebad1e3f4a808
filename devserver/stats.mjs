// Counters of token endpoint requests, read and reset through the protected API's /_stats endpoints.
// Tests use them to prove, e.g., that concurrent callers caused exactly one token request.

export class TokenStats {
  constructor() {
    this.reset();
  }

  /** Count one token endpoint request by its grant_type and whether it failed (HTTP status >= 400). */
  record(grantType, status) {
    const grant = grantType ?? 'unknown';
    this.tokenRequests += 1;
    this.byGrant[grant] = (this.byGrant[grant] ?? 0) + 1;
    if (status >= 400) {
      this.tokenErrors += 1;
      this.errorsByGrant[grant] = (this.errorsByGrant[grant] ?? 0) + 1;
    }
  }

  reset() {
    this.tokenRequests = 0;
    this.tokenErrors = 0;
    this.byGrant = {};
    this.errorsByGrant = {};
  }

  toJSON() {
    return {
      token_requests: this.tokenRequests,
      by_grant: this.byGrant,
      token_errors: this.tokenErrors,
      errors_by_grant: this.errorsByGrant,
    };
  }
}
