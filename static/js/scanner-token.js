// Badge tokens read and checked on the gate phone, as app/badges/tokens.py makes them:
//   "K1." + base64url(header (14 bytes) + Ed25519 signature (64 bytes over the header))
// header, big-endian (struct ">BHIHBHBB"): format (1), event id, badge id, version, role index,
// category, valid-day mask, key id. Keep both sides in step.
// The local decision follows the server's rules in the same order (app/checkin/services.py),
// so that what a phone shows offline is what the server will record when the scan uploads.

export const PREFIX = "K1.";
export const HEADER_SIZE = 14;
export const SIGNATURE_SIZE = 64;
export const TOKEN_LENGTH = PREFIX.length + Math.ceil(((HEADER_SIZE + SIGNATURE_SIZE) * 4) / 3);
// The order of BadgeRole in app/badges/models.py.
export const ROLES = ["delegate", "speaker", "press", "staff"];
const FORMAT = 1;
const DAY_MS = 86400000;

/** Bytes of unpadded base64url text, or null when it is not base64url. */
export function base64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    return null;
  }
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (text.length % 4)) % 4);
  let binary;
  try {
    binary = atob(padded);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Unpadded base64url text of bytes. */
export function base64urlEncode(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The header fields, signed bytes and signature of a token, or null when it is malformed. */
export function readToken(token) {
  if (typeof token !== "string" || token.length !== TOKEN_LENGTH || !token.startsWith(PREFIX)) {
    return null;
  }
  const encoded = token.slice(PREFIX.length);
  const raw = base64urlDecode(encoded);
  if (!raw || raw.length !== HEADER_SIZE + SIGNATURE_SIZE) return null;
  // A token re-encoded differently (non-zero padding bits) is not the token that was issued.
  if (base64urlEncode(raw) !== encoded) return null;
  const view = new DataView(raw.buffer, raw.byteOffset, HEADER_SIZE);
  const role = view.getUint8(9);
  if (view.getUint8(0) !== FORMAT || role >= ROLES.length) return null;
  return {
    header: {
      eventId: view.getUint16(1),
      badgeId: view.getUint32(3),
      version: view.getUint16(7),
      role: ROLES[role],
      category: view.getUint16(10),
      validDayMask: view.getUint8(12),
      keyId: view.getUint8(13),
    },
    body: raw.slice(0, HEADER_SIZE),
    signature: raw.slice(HEADER_SIZE),
  };
}

/** Whether this browser verifies Ed25519 signatures (WebCrypto). */
export async function ed25519Supported() {
  try {
    await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "Ed25519" }, false, ["verify"]);
    return true;
  } catch {
    return false;
  }
}

/** The bundle's public keys imported for verifying: a list of {keyId, key}. */
export async function importPublicKeys(publicKeys) {
  const imported = [];
  for (const entry of publicKeys || []) {
    const raw = base64urlDecode(entry.public_key);
    if (!raw || raw.length !== 32) continue;
    try {
      const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
      // Tokens carry the key id modulo 256 (one byte).
      imported.push({ keyId: Number(entry.key_id) % 256, key });
    } catch {
      // A browser without Ed25519: verification reports "cannot_verify" below.
    }
  }
  return imported;
}

/** {header} of a token whose signature verifies, or {reason} why it cannot be trusted. */
export async function verifyToken(token, keys) {
  const parsed = readToken(token);
  if (!parsed) return { reason: "malformed" };
  const candidates = keys.filter((entry) => entry.keyId === parsed.header.keyId);
  if (!candidates.length) return { reason: keys.length ? "unknown_key" : "cannot_verify", header: parsed.header };
  for (const { key } of candidates) {
    try {
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, parsed.signature, parsed.body)) {
        return { header: parsed.header };
      }
    } catch {
      return { reason: "cannot_verify", header: parsed.header };
    }
  }
  return { reason: "bad_signature", header: parsed.header };
}

/** The calendar day ("YYYY-MM-DD") of a moment in a time zone. */
export function dayIn(moment, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(moment);
  const part = (type) => parts.find((item) => item.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** Whole days from one "YYYY-MM-DD" to another. */
export function daysBetween(from, to) {
  const utc = (text) => {
    const [year, month, day] = text.split("-").map(Number);
    return Date.UTC(year, month - 1, day);
  };
  return Math.round((utc(to) - utc(from)) / DAY_MS);
}

/** Whether a valid-day mask opens the door on a day (bit i: event.starts_on + i). */
export function validOn(mask, startsOn, day) {
  const index = daysBetween(startsOn, day);
  return index >= 0 && index < 8 && (mask & (1 << index)) !== 0;
}

/** The delegate as the scan answer shows it, from a bundle entry. */
function delegateOf(badge) {
  if (!badge) return null;
  return {
    name: badge.name,
    country: badge.country,
    country_name: badge.country_name,
    category: badge.category,
    organisation: badge.organisation,
    badge_number: badge.number,
    role: badge.role,
  };
}

/**
 * Index a bundle for quick decisions: badges by id, revocations by badge id, signed-up ids,
 * admissions at this checkpoint by day.
 */
export function indexBundle(bundle) {
  const badges = new Map((bundle.badges || []).map((badge) => [Number(badge.id), badge]));
  const revoked = new Map();
  for (const entry of bundle.revoked || []) revoked.set(Number(entry.badge_id), entry);
  const signedUp = Array.isArray(bundle.signed_up_badge_ids)
    ? new Set(bundle.signed_up_badge_ids.map(Number))
    : null;
  const admitted = new Map();
  for (const entry of bundle.admitted || []) {
    const key = `${entry.badge_id}|${entry.day}`;
    if (!admitted.has(key) || entry.admitted_at < admitted.get(key).admitted_at) admitted.set(key, entry);
  }
  return { bundle, badges, revoked, signedUp, admitted };
}

/**
 * Decide a scan on the phone, without the server.
 * index: indexBundle(...); keys: importPublicKeys(...);
 * localAdmission(badgeId, day): the first admission this phone recorded here that day, or null.
 * Returns an answer shaped like the API's (result, reason, delegate, first_admitted_at, ...).
 */
export async function decideLocally({ token, index, keys, localAdmission, now = new Date() }) {
  const { bundle } = index;
  const checkpoint = { code: bundle.checkpoint.code, name: bundle.checkpoint.name };
  const answer = (result, reason, badge = null, extra = {}) => ({
    result,
    reason,
    delegate: delegateOf(badge),
    first_admitted_at: null,
    first_admitted_at_checkpoint: null,
    checkpoint,
    scanned_at: now.toISOString(),
    decided_offline: true,
    ...extra,
  });

  const verified = await verifyToken(token, keys);
  if (!verified.header) return answer("invalid", verified.reason);
  const header = verified.header;
  if (header.eventId !== Number(bundle.event.id)) return answer("invalid", "wrong_event");

  const badge = index.badges.get(header.badgeId) || null;
  const revocation = index.revoked.get(header.badgeId);
  if (revocation && revocation.whole_badge) return answer("revoked", "badge_revoked", badge);
  if ((revocation && header.version < revocation.below_version) || (badge && header.version < badge.version)) {
    return answer("revoked", "old_version", badge);
  }
  if (badge && badge.registration_confirmed === false) return answer("revoked", "registration_ended", badge);

  const day = dayIn(now, bundle.event.timezone);
  if (!validOn(header.validDayMask, bundle.event.starts_on, day)) {
    return answer("not_allowed", "not_valid_today", badge);
  }
  if ((bundle.checkpoint.refused_roles || []).includes(header.role)) {
    return answer("not_allowed", "role_refused", badge, { role: header.role });
  }
  if (index.signedUp && !index.signedUp.has(header.badgeId)) {
    return answer("not_allowed", "not_signed_up", badge);
  }
  if (bundle.checkpoint.active === false) return answer("not_allowed", "checkpoint_closed", badge);

  // A signed badge newer than the bundle: the signature vouches for it; the details come later.
  const unlisted = badge ? {} : { not_in_bundle: true };
  if (bundle.checkpoint.entry_mode === "every_entry") return answer("admitted", null, badge, unlisted);
  const earlier = index.admitted.get(`${header.badgeId}|${day}`);
  const mine = localAdmission(header.badgeId, day);
  const first = [earlier && { at: earlier.admitted_at, checkpoint: checkpoint.name }, mine]
    .filter(Boolean)
    .sort((a, b) => (a.at < b.at ? -1 : 1))[0];
  if (first) {
    return answer("already_admitted", "already_admitted", badge, {
      first_admitted_at: first.at,
      first_admitted_at_checkpoint: first.checkpoint || checkpoint.name,
    });
  }
  return answer("admitted", null, badge, { badge_id: header.badgeId, day, ...unlisted });
}
