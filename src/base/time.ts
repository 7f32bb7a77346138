// Instants as keyrite writes and reads them: ISO 8601 (RFC 3339 profile) with a date, a time and
// a zone, nothing else. Transcript entries carry one (`time`), approval requests an expiry.

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** Whether `v` is an ISO 8601 instant as the writer stamps it (Date.toISOString, or an explicit offset). */
export function isIsoTime(v: unknown): v is string {
  return typeof v === 'string' && ISO_8601.test(v) && !Number.isNaN(Date.parse(v));
}
