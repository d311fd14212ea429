// A hospital's plausibility check (docs/api.md "check"): a report the
// server applied but flagged, until a manager confirms or corrects it. The
// words come from the dictionary by rule; the figures from the check.

import { t } from './i18n.js';
import * as fmt from './format.js';

// The check's text in the page's language, or '' when there is none.
export function checkText(check) {
  if (!check || !check.rule) return '';
  const bed = check.bed_type ? t(`bed.${check.bed_type}.short`) : '';
  const key = `check.${check.rule}`;
  return t(key, { bed, was: fmt.int(check.was), now: fmt.int(check.now) });
}
