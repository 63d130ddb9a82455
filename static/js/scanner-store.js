// What the gate phone keeps in IndexedDB so that it works without the network:
//   bundles     the last offline bundle per checkpoint (badges, keys, revocations, admissions)
//               plus the badges' tokens for manual admission; key: checkpoint code
//   queue       scans made offline, waiting to upload; key: the scan's nonce
//   admissions  admissions this phone saw (online or offline) per checkpoint, badge and day, so
//               that a second scan is "already admitted" even before the next bundle arrives

const DB_NAME = "kongres-scanner";
const DB_VERSION = 1;

/** A promise of an IndexedDB request's result. */
function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** A promise that a transaction has committed. */
function committed(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error || new Error("transaction aborted"));
  });
}

/** Open (and on first use create) the scanner's database. */
export async function openStore() {
  const request = indexedDB.open(DB_NAME, DB_VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains("bundles")) db.createObjectStore("bundles", { keyPath: "checkpoint" });
    if (!db.objectStoreNames.contains("queue")) {
      db.createObjectStore("queue", { keyPath: "nonce" }).createIndex("checkpoint", "checkpoint");
    }
    if (!db.objectStoreNames.contains("admissions")) db.createObjectStore("admissions", { keyPath: "key" });
  };
  return new ScannerStore(await done(request));
}

/** The scanner's stored data, one small method per use. */
class ScannerStore {
  constructor(db) {
    this.db = db;
  }

  async get(storeName, key) {
    return done(this.db.transaction(storeName).objectStore(storeName).get(key));
  }

  async all(storeName) {
    return done(this.db.transaction(storeName).objectStore(storeName).getAll());
  }

  async put(storeName, value) {
    const transaction = this.db.transaction(storeName, "readwrite");
    transaction.objectStore(storeName).put(value);
    return committed(transaction);
  }

  async deleteMany(storeName, keys) {
    const transaction = this.db.transaction(storeName, "readwrite");
    const store = transaction.objectStore(storeName);
    for (const key of keys) store.delete(key);
    return committed(transaction);
  }

  /** The stored bundle of a checkpoint:
   * {checkpoint, bundle, tokens, tokens_fingerprint, fetched_at}, or undefined. */
  loadBundle(checkpoint) {
    return this.get("bundles", checkpoint);
  }

  saveBundle(checkpoint, { bundle, tokens, tokensFingerprint, fetchedAt }) {
    return this.put("bundles", {
      checkpoint,
      bundle,
      tokens,
      tokens_fingerprint: tokensFingerprint,
      fetched_at: fetchedAt,
    });
  }

  /** Queue a scan for upload: {nonce, token, checkpoint, scanned_at, client_result}. */
  enqueue(scan) {
    return this.put("queue", scan);
  }

  /** Every queued scan, oldest first. */
  async queued() {
    const scans = await this.all("queue");
    return scans.sort((a, b) => (a.scanned_at < b.scanned_at ? -1 : 1));
  }

  async queueSize() {
    return done(this.db.transaction("queue").objectStore("queue").count());
  }

  forget(nonces) {
    return this.deleteMany("queue", nonces);
  }

  /** Remember an admission seen at a checkpoint (the first one of the day wins). */
  async recordAdmission({ checkpoint, checkpointName, badgeId, day, at }) {
    const key = `${checkpoint}|${badgeId}|${day}`;
    const transaction = this.db.transaction("admissions", "readwrite");
    const store = transaction.objectStore("admissions");
    const existing = await done(store.get(key));
    if (!existing || at < existing.at) {
      store.put({ key, checkpoint, checkpoint_name: checkpointName, badge_id: badgeId, day, at });
    }
    return committed(transaction);
  }

  /** This phone's admissions of one checkpoint on one day, by badge id. */
  async admissionsOn(checkpoint, day) {
    const rows = await this.all("admissions");
    const found = new Map();
    for (const row of rows) {
      if (row.checkpoint === checkpoint && row.day === day) found.set(row.badge_id, row);
    }
    return found;
  }

  /** Drop remembered admissions of earlier days (the bundle carries what still matters). */
  async pruneAdmissions(today) {
    const rows = await this.all("admissions");
    const stale = rows.filter((row) => row.day < today).map((row) => row.key);
    if (stale.length) await this.deleteMany("admissions", stale);
  }
}
