// The gate scanner: camera (jsQR), hardware scanner / typed codes and a manual search feed badge
// tokens to one path that asks the server when it can and decides on the phone when it cannot.
//
// Online:  POST /api/v1/checkin/scans with a nonce made here; the server's answer is shown.
// Offline: (navigator.onLine false, or the request fails) the token's Ed25519 signature is
//          verified with WebCrypto against the cached bundle's public key, the bundle's rules
//          decide, the answer is shown at once and the scan is queued in IndexedDB with the
//          same nonce; the queue uploads (POST .../scans/batch) when the network returns.
//          A nonce sent twice is recorded once, so a request that timed out can be queued safely.
// The bundle (GET /api/v1/checkin/offline-bundle) is fetched on load and every minute online.
import { openStore } from "./scanner-store.js";
import { dayIn, decideLocally, ed25519Supported, importPublicKeys, indexBundle } from "./scanner-token.js";

const RESUME_AFTER_MS = 1200; // rapid mode: the next scan starts by itself
const RESUME_AFTER_REFUSAL_MS = 3000; // ... a little later after a refusal, to read why
const SAME_TOKEN_IGNORED_MS = 3000; // a badge still in front of the camera is not read twice
const DECODE_EVERY_MS = 120;
const BUNDLE_EVERY_MS = 60000;
const UPLOAD_EVERY_MS = 15000;
const REQUEST_TIMEOUT_MS = 4000;
// Venue Wi-Fi that is "connected" but reaches nothing: after a failed request the phone decides
// on its own for a while instead of making every delegate wait for a timeout.
const UNREACHABLE_FOR_MS = 30000;
const BATCH_SIZE = 500;
const SEARCH_DELAY_MS = 250;
const MAX_SEARCH_RESULTS = 20;
const RECENT_SCANS = 5;

const root = document.getElementById("scanner");
if (root) start(root);

function start(root) {
  const t = JSON.parse(document.getElementById("scanner-i18n").textContent);
  const config = root.dataset;
  const checkpoint = config.checkpoint;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const $ = (id) => document.getElementById(id);
  const ui = {
    network: $("scanner-network"),
    bundleAge: $("scanner-bundle-age"),
    queue: $("scanner-queue"),
    notice: $("scanner-notice"),
    video: $("scanner-video"),
    canvas: $("scanner-canvas"),
    cameraStart: $("scanner-camera-start"),
    cameraStop: $("scanner-camera-stop"),
    cameraMessage: $("scanner-camera-message"),
    rapid: $("scanner-rapid"),
    wedgeForm: $("scanner-wedge-form"),
    wedge: $("scanner-wedge"),
    searchForm: $("scanner-search-form"),
    search: $("scanner-search"),
    searchResults: $("scanner-search-results"),
    searchStatus: $("scanner-search-status"),
    recent: $("scanner-recent"),
    result: $("scan-result"),
    resultWord: $("scan-result-word"),
    resultMessage: $("scan-result-message"),
    resultName: $("scan-result-name"),
    resultDetails: $("scan-result-details"),
    resultFirst: $("scan-result-first"),
    resultSource: $("scan-result-source"),
    resultNext: $("scan-result-next"),
  };

  const state = {
    store: null,
    index: null, // indexBundle(bundle) of the cached bundle
    keys: [],
    tokens: {}, // badge id -> current token, for manual admission
    tokensFingerprint: "", // the server's digest of those tokens: unchanged, not sent again
    fetchedAt: null,
    stream: null,
    scanning: false,
    showingResult: false,
    resumeTimer: null,
    lastToken: null,
    lastTokenAt: 0,
    lastDecodeAt: 0,
    uploading: false,
    unreachableUntil: 0,
    sessionEnded: false,
    audio: null,
  };

  // --- formatting ------------------------------------------------------------------------

  const language = document.documentElement.lang || "en";
  const eventZone = () => (state.index && state.index.bundle.event.timezone) || config.timezone || "UTC";
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : ""));
  const clock = (iso) =>
    new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: eventZone() }).format(
      new Date(iso),
    );
  const online = () => navigator.onLine !== false;
  const reachable = () => online() && Date.now() >= state.unreachableUntil;

  // The sentence under the result word: a refusal's reason; nothing for an admission (the
  // word says it) nor for "already admitted" when the first admission's line says more.
  function messageFor(answer) {
    if (answer.result === "admitted") return "";
    if (answer.result === "already_admitted" && answer.first_admitted_at) return "";
    if (!answer.decided_offline && answer.message) return answer.message;
    const text = (answer.reason && t.reasons[answer.reason]) || t.messages[answer.result] || "";
    const role = answer.role || (answer.delegate && answer.delegate.role);
    return text.replace("%(role)s", (role && t.roles[role]) || role || "");
  }

  // --- status line -----------------------------------------------------------------------

  function showNetwork() {
    const isOnline = reachable();
    ui.network.textContent = isOnline ? t.online : t.offline;
    ui.network.dataset.state = isOnline ? "online" : "offline";
    root.classList.toggle("is-offline", !isOnline);
  }

  function showBundleAge() {
    if (!state.fetchedAt) {
      ui.bundleAge.textContent = t.no_bundle;
      return;
    }
    const count = state.index ? state.index.badges.size : 0;
    ui.bundleAge.textContent = fill(t.bundle_age, { time: clock(state.fetchedAt), count });
  }

  async function showQueue() {
    const size = state.store ? await state.store.queueSize() : 0;
    ui.queue.dataset.count = String(size);
    ui.queue.textContent = size === 0 ? t.queue_none : size === 1 ? t.queue_one : fill(t.queue_many, { count: size });
    ui.queue.classList.toggle("has-waiting", size > 0);
  }

  // One notice line at a time; kind lets a later success clear only its own kind of notice.
  function notice(text, kind = "info") {
    ui.notice.textContent = text || "";
    ui.notice.dataset.kind = kind;
    ui.notice.hidden = !text;
  }

  function clearNotice(kind) {
    if (ui.notice.dataset.kind === kind) notice("");
  }

  // --- talking to the server -------------------------------------------------------------

  // fetch with a time limit; whether the server could be reached is remembered for the others.
  async function request(url, options = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
        ...options,
        headers: { Accept: "application/json", ...(options.headers || {}) },
      });
      if (response.status >= 500) throw new Error(`server error ${response.status}`);
      if (response.status === 429) {
        // Too many requests from this phone: for as long as the server asks, decide here and
        // queue, as when it cannot be reached (a refusal would turn delegates away).
        const error = new Error("rate limited");
        error.retryAfterMs = (Number(response.headers.get("Retry-After")) || UNREACHABLE_FOR_MS / 1000) * 1000;
        throw error;
      }
      state.unreachableUntil = 0;
      showNetwork();
      return response;
    } catch (error) {
      state.unreachableUntil = Date.now() + (error.retryAfterMs || UNREACHABLE_FOR_MS);
      showNetwork();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  function postJSON(url, body) {
    return request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfMeta.content },
      body: JSON.stringify(body),
    });
  }

  // A POST with a fresh CSRF token when the page's one has expired (a gate page stays open all day).
  async function postWithFreshToken(url, body) {
    let response = await postJSON(url, body);
    if (response.status === 400 && (await refreshSessionData())) response = await postJSON(url, body);
    return response;
  }

  function sessionEnded(response) {
    if (response.status !== 401 && response.status !== 403) return false;
    state.sessionEnded = true;
    notice(t.session_ended, "session");
    return true;
  }

  // The CSRF token and the badges' tokens (for manual admission) from the scanner page's own
  // route; the tokens come only when they changed since the fingerprint this phone holds.
  async function refreshSessionData() {
    try {
      const known = state.tokensFingerprint ? `&${new URLSearchParams({ known: state.tokensFingerprint })}` : "";
      const response = await request(config.syncUrl + known);
      if (!response.ok) {
        sessionEnded(response);
        return false;
      }
      const data = await response.json();
      csrfMeta.content = data.csrf_token;
      if (data.tokens) {
        state.tokens = data.tokens;
        state.tokensFingerprint = data.tokens_fingerprint;
      }
      state.sessionEnded = false;
      clearNotice("session");
      return true;
    } catch {
      return false;
    }
  }

  async function useBundle(bundle, fetchedAt) {
    state.index = indexBundle(bundle);
    state.keys = await importPublicKeys(bundle.public_keys);
    state.fetchedAt = fetchedAt;
    showBundleAge();
  }

  async function refreshBundle() {
    if (!online()) return;
    try {
      // Tokens first: on a congress's first scan they make the signing key the bundle publishes.
      await refreshSessionData();
      const response = await request(config.bundleUrl);
      if (!response.ok) {
        sessionEnded(response);
        return;
      }
      const bundle = await response.json();
      const fetchedAt = new Date().toISOString();
      await useBundle(bundle, fetchedAt);
      await state.store.saveBundle(checkpoint, {
        bundle,
        tokens: state.tokens,
        tokensFingerprint: state.tokensFingerprint,
        fetchedAt,
      });
    } catch {
      // The network dropped: the cached bundle stays in use.
    }
  }

  async function uploadQueue() {
    if (state.uploading || !online() || !state.store) return;
    state.uploading = true;
    try {
      let scans = await state.store.queued();
      while (scans.length) {
        const batch = scans.slice(0, BATCH_SIZE);
        const response = await postWithFreshToken(config.batchUrl, {
          scans: batch.map(({ token, checkpoint: code, nonce, scanned_at, client_result }) => ({
            token,
            checkpoint: code,
            nonce,
            scanned_at,
            client_result,
          })),
        });
        if (!response.ok) {
          sessionEnded(response);
          break;
        }
        const { results } = await response.json();
        // Every scan the server answered (an error for a malformed one included) is done.
        const answered = batch.filter((_, position) => results[position]).map((scan) => scan.nonce);
        await state.store.forget(answered);
        for (const answer of results) if (answer && answer.result === "admitted") await rememberAdmission(answer);
        // Admitted here offline, but the server had the badge in already (another gate, offline too).
        const conflicts = batch.filter(
          (scan, position) => scan.client_result === "admitted" && results[position] && results[position].result && results[position].result !== "admitted",
        ).length;
        if (conflicts) notice(fill(t.conflicts, { count: conflicts }), "conflicts");
        await showQueue();
        if (answered.length < batch.length) break;
        scans = scans.slice(BATCH_SIZE);
      }
    } catch {
      // Still no network: try again later.
    } finally {
      state.uploading = false;
      await showQueue();
    }
  }

  // --- deciding a scan -------------------------------------------------------------------

  async function localAdmissions(day) {
    return state.store.admissionsOn(checkpoint, day);
  }

  async function rememberAdmission(answer) {
    const badgeId = answer.badge_id || badgeIdOf(answer);
    if (!badgeId) return;
    const at = answer.scanned_at || new Date().toISOString();
    await state.store.recordAdmission({
      checkpoint,
      checkpointName: (answer.checkpoint && answer.checkpoint.name) || config.checkpointName,
      badgeId,
      day: dayIn(new Date(at), eventZone()),
      at,
    });
  }

  // The badge id behind an answer from the server (found by its badge number in the bundle).
  function badgeIdOf(answer) {
    if (!answer.delegate || !state.index) return null;
    for (const badge of state.index.badges.values()) {
      if (badge.number === answer.delegate.badge_number) return Number(badge.id);
    }
    return null;
  }

  async function decideHere(token, scannedAt) {
    if (!state.index) {
      return { result: "invalid", reason: "no_bundle", delegate: null, decided_offline: true };
    }
    const day = dayIn(scannedAt, eventZone());
    const mine = await localAdmissions(day);
    return decideLocally({
      token,
      index: state.index,
      keys: state.keys,
      now: scannedAt,
      localAdmission: (badgeId) => {
        const row = mine.get(badgeId);
        return row ? { at: row.at, checkpoint: row.checkpoint_name } : null;
      },
    });
  }

  async function queueScan(scan, answer) {
    // Without a badge list the phone decided nothing: the server's answer will be the only one.
    const clientResult = answer.reason === "no_bundle" ? null : answer.result;
    await state.store.enqueue({ ...scan, client_result: clientResult });
    if (answer.result === "admitted") await rememberAdmission(answer);
    await showQueue();
  }

  async function scanToken(token) {
    const scannedAt = new Date();
    const scan = {
      token,
      checkpoint,
      nonce: crypto.randomUUID(),
      scanned_at: scannedAt.toISOString(),
    };
    if (reachable()) {
      try {
        const response = await postWithFreshToken(config.scanUrl, scan);
        if (response.ok) {
          const answer = await response.json();
          if (answer.result === "admitted") await rememberAdmission(answer);
          return answer;
        }
        if (!sessionEnded(response)) {
          // A refused request (e.g. a code far too long): nothing to queue, say what was wrong.
          const body = await response.json().catch(() => ({}));
          const message = (body.error && body.error.message) || t.messages.invalid;
          return { result: "invalid", reason: null, message, delegate: null };
        }
      } catch {
        // No answer in time: decide here; the queued nonce makes a late arrival harmless.
      }
    }
    const answer = await decideHere(token, scannedAt);
    await queueScan(scan, answer);
    return answer;
  }

  // --- showing the answer ----------------------------------------------------------------

  function showAnswer(answer) {
    const result = answer.result;
    ui.result.className = `scan-result result-${result.replace(/_/g, "-")}`;
    ui.result.dataset.result = result;
    ui.resultWord.textContent = t.results[result] || result;
    ui.resultMessage.textContent = messageFor(answer);
    ui.resultMessage.hidden = !ui.resultMessage.textContent;
    const delegate = answer.delegate;
    ui.resultName.textContent = delegate ? delegate.name : answer.not_in_bundle ? t.not_in_bundle : "";
    ui.resultDetails.replaceChildren();
    if (delegate) {
      for (const [label, value] of [
        [t.labels.country, delegate.country_name || delegate.country],
        [t.labels.category, delegate.category],
        [t.labels.organisation, delegate.organisation],
        [t.labels.badge_number, delegate.badge_number],
      ]) {
        if (!value) continue;
        const term = document.createElement("dt");
        term.textContent = label;
        const detail = document.createElement("dd");
        detail.textContent = value;
        ui.resultDetails.append(term, detail);
      }
    }
    const first = result === "already_admitted" && answer.first_admitted_at;
    ui.resultFirst.hidden = !first;
    ui.resultFirst.textContent = first
      ? fill(t.first_admitted, {
          time: clock(answer.first_admitted_at),
          checkpoint: answer.first_admitted_at_checkpoint || config.checkpointName,
        })
      : "";
    ui.resultSource.hidden = !answer.decided_offline;
    ui.resultSource.textContent = answer.decided_offline ? t.decided_offline : "";
    ui.result.hidden = false;
    state.showingResult = true;
    coverPage(true);
    ui.resultNext.focus({ preventScroll: true });
    signal(result);
    addRecent(answer);
    clearTimeout(state.resumeTimer);
    if (ui.rapid.checked) {
      const pause = result === "admitted" ? RESUME_AFTER_MS : RESUME_AFTER_REFUSAL_MS;
      state.resumeTimer = setTimeout(dismissAnswer, pause);
    }
  }

  // While the answer fills the screen, what it covers is inert: Tab and Shift+Tab stay on the
  // answer instead of reaching fields hidden under it, and a screen reader reads only the answer.
  function coverPage(covered) {
    for (let node = ui.result; node.parentElement && node !== document.body; node = node.parentElement) {
      for (const sibling of node.parentElement.children) {
        if (sibling !== node) sibling.inert = covered;
      }
    }
  }

  function dismissAnswer() {
    clearTimeout(state.resumeTimer);
    ui.result.hidden = true;
    state.showingResult = false;
    coverPage(false);
    if (document.activeElement === ui.resultNext || document.activeElement === document.body) {
      (state.scanning ? ui.cameraStop : ui.wedge).focus({ preventScroll: true });
    }
  }

  function addRecent(answer) {
    const item = document.createElement("li");
    item.dataset.result = answer.result;
    const word = document.createElement("strong");
    word.textContent = t.results[answer.result] || answer.result;
    const time = document.createElement("span");
    time.className = "muted";
    time.textContent = clock(answer.scanned_at || new Date().toISOString());
    item.append(time, " ", word, " ", (answer.delegate && answer.delegate.name) || "");
    ui.recent.prepend(item);
    while (ui.recent.children.length > RECENT_SCANS) ui.recent.lastElementChild.remove();
    ui.recent.closest("section").hidden = false;
  }

  // Sound and vibration: one high beep admitted, two middle beeps already admitted, a low buzz refused.
  const PATTERNS = {
    admitted: { tones: [[1046, 0.15]], wave: "sine", vibrate: [90] },
    already_admitted: { tones: [[660, 0.12], [0, 0.08], [660, 0.12]], wave: "sine", vibrate: [90, 70, 90] },
    refused: { tones: [[196, 0.45]], wave: "square", vibrate: [350, 120, 350] },
  };

  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!state.audio && Context) state.audio = new Context();
    if (state.audio && state.audio.state === "suspended") state.audio.resume();
  }

  function signal(result) {
    const pattern = PATTERNS[result] || PATTERNS.refused;
    if (navigator.vibrate) navigator.vibrate(pattern.vibrate);
    const audio = state.audio;
    if (!audio || audio.state !== "running") return;
    let at = audio.currentTime;
    for (const [frequency, length] of pattern.tones) {
      if (frequency) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.type = pattern.wave;
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.25, at);
        gain.gain.exponentialRampToValueAtTime(0.001, at + length);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(at);
        oscillator.stop(at + length);
      }
      at += length;
    }
  }

  // --- the one path every token takes ----------------------------------------------------

  let working = false;
  let typed = Promise.resolve();

  // source: "camera" (dropped while busy or while an answer shows), "keyboard" (a wedge scanner
  // or typed code: handled in turn, never dropped) or "search" (an explicit tap: always handled).
  function handleToken(raw, source) {
    const token = (raw || "").trim();
    if (!token) return;
    if (source === "camera") {
      if (working || state.showingResult || repeated(token)) return;
      process(token);
      return;
    }
    typed = typed.then(() => (source === "keyboard" && repeated(token) ? null : process(token)));
  }

  // The same badge read again within a few seconds (still in front of the camera, or a
  // hardware scanner firing twice) is one scan, not two.
  function repeated(token) {
    return token === state.lastToken && Date.now() - state.lastTokenAt < SAME_TOKEN_IGNORED_MS;
  }

  async function process(token) {
    state.lastToken = token;
    state.lastTokenAt = Date.now();
    working = true;
    root.setAttribute("aria-busy", "true");
    try {
      showAnswer(await scanToken(token));
    } catch {
      showAnswer({ result: "invalid", reason: "scanner_error", delegate: null, decided_offline: true });
    } finally {
      working = false;
      state.lastTokenAt = Date.now();
      root.removeAttribute("aria-busy");
    }
  }

  // --- camera ----------------------------------------------------------------------------

  async function startCamera() {
    unlockAudio();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      ui.cameraMessage.textContent = t.camera_unavailable;
      return;
    }
    ui.cameraMessage.textContent = t.camera_starting;
    try {
      state.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch {
      ui.cameraMessage.textContent = t.camera_refused;
      return;
    }
    ui.video.srcObject = state.stream;
    await ui.video.play().catch(() => {});
    state.scanning = true;
    root.classList.add("is-scanning");
    ui.cameraStart.hidden = true;
    ui.cameraStop.hidden = false;
    ui.cameraMessage.textContent = t.camera_hint;
    requestAnimationFrame(decodeLoop);
  }

  function stopCamera() {
    state.scanning = false;
    root.classList.remove("is-scanning");
    if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
    state.stream = null;
    ui.video.srcObject = null;
    ui.cameraStart.hidden = false;
    ui.cameraStop.hidden = true;
    ui.cameraMessage.textContent = "";
  }

  const context2d = ui.canvas.getContext("2d", { willReadFrequently: true });

  function decodeLoop(timestamp) {
    if (!state.scanning) return;
    requestAnimationFrame(decodeLoop);
    if (timestamp - state.lastDecodeAt < DECODE_EVERY_MS || state.showingResult || working) return;
    const video = ui.video;
    if (video.readyState < video.HAVE_CURRENT_DATA || !video.videoWidth || typeof window.jsQR !== "function") return;
    state.lastDecodeAt = timestamp;
    // A smaller frame decodes faster and a badge QR is large in the picture.
    const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
    const width = Math.round(video.videoWidth * scale);
    const height = Math.round(video.videoHeight * scale);
    if (ui.canvas.width !== width) ui.canvas.width = width;
    if (ui.canvas.height !== height) ui.canvas.height = height;
    context2d.drawImage(video, 0, 0, width, height);
    const frame = context2d.getImageData(0, 0, width, height);
    // "attemptBoth": glare in sunlight can invert a badge's contrast.
    const code = window.jsQR(frame.data, width, height, { inversionAttempts: "attemptBoth" });
    if (code && code.data) handleToken(code.data, "camera");
  }

  // --- manual search ---------------------------------------------------------------------

  const fold = (text) =>
    (text || "")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase();

  function searchHere(query) {
    if (!state.index) return [];
    const wanted = fold(query).replace(/\s+/g, " ").trim();
    const compactNumber = wanted.replace(/[^a-z0-9]/g, "");
    const found = [];
    for (const badge of state.index.badges.values()) {
      const number = fold(badge.number).replace(/[^a-z0-9]/g, "");
      if (fold(badge.name).includes(wanted) || (compactNumber.length >= 3 && number.includes(compactNumber))) {
        found.push({ ...badge, badge_id: Number(badge.id), token: state.tokens[badge.id] || null });
        if (found.length >= MAX_SEARCH_RESULTS) break;
      }
    }
    return found;
  }

  async function search(query) {
    if (reachable()) {
      try {
        const url = `${config.searchUrl}?${new URLSearchParams({ q: query, checkpoint })}`;
        const response = await request(url);
        if (response.ok) return (await response.json()).results;
      } catch {
        // Offline after all: search the bundle.
      }
    }
    return searchHere(query);
  }

  function showSearchResults(results, query) {
    ui.searchResults.replaceChildren();
    ui.searchStatus.textContent = results.length ? fill(t.search_found, { count: results.length }) : fill(t.search_none, { query });
    for (const holder of results) {
      const item = document.createElement("li");
      const text = document.createElement("div");
      const name = document.createElement("strong");
      name.textContent = holder.name;
      const details = document.createElement("span");
      details.className = "muted";
      details.textContent = [holder.badge_number || holder.number, holder.country_name, holder.category, holder.organisation]
        .filter(Boolean)
        .join(" · ");
      text.append(name, document.createElement("br"), details);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button primary";
      button.textContent = t.admit;
      button.setAttribute("aria-label", fill(t.admit_name, { name: holder.name }));
      const token = holder.token || state.tokens[holder.badge_id];
      button.disabled = !token;
      button.addEventListener("click", () => {
        unlockAudio();
        handleToken(token, "search");
      });
      item.append(text, button);
      ui.searchResults.append(item);
    }
  }

  let searchTimer = null;
  let searchSeq = 0;

  function scheduleSearch() {
    clearTimeout(searchTimer);
    const query = ui.search.value.trim();
    if (query.length < 2) {
      ui.searchResults.replaceChildren();
      ui.searchStatus.textContent = "";
      return;
    }
    searchTimer = setTimeout(async () => {
      const seq = ++searchSeq;
      const results = await search(query);
      if (seq === searchSeq) showSearchResults(results, query);
    }, SEARCH_DELAY_MS);
  }

  // --- wiring ----------------------------------------------------------------------------

  ui.cameraStart.addEventListener("click", startCamera);
  ui.cameraStop.addEventListener("click", stopCamera);
  ui.resultNext.addEventListener("click", dismissAnswer);
  ui.result.addEventListener("click", (event) => {
    if (event.target === ui.result) dismissAnswer();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.showingResult) dismissAnswer();
  });
  ui.rapid.checked = localStorage.getItem("kongres-scanner-rapid") !== "off";
  ui.rapid.addEventListener("change", () => {
    localStorage.setItem("kongres-scanner-rapid", ui.rapid.checked ? "on" : "off");
  });
  // A keyboard-wedge (USB/Bluetooth) scanner types the code and presses Enter.
  ui.wedgeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    unlockAudio();
    const token = ui.wedge.value;
    ui.wedge.value = "";
    handleToken(token, "keyboard");
  });
  ui.searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    scheduleSearch();
  });
  ui.search.addEventListener("input", scheduleSearch);
  window.addEventListener("online", () => {
    state.unreachableUntil = 0;
    showNetwork();
    uploadQueue().then(refreshBundle);
  });
  window.addEventListener("offline", showNetwork);

  async function boot() {
    showNetwork();
    state.store = await openStore();
    const today = dayIn(new Date(), config.timezone || "UTC");
    await state.store.pruneAdmissions(today);
    const cached = await state.store.loadBundle(checkpoint);
    if (cached) {
      state.tokens = cached.tokens || {};
      state.tokensFingerprint = cached.tokens_fingerprint || "";
      await useBundle(cached.bundle, cached.fetched_at);
    }
    else showBundleAge();
    await showQueue();
    if (!(await ed25519Supported())) notice(t.no_ed25519, "browser");
    await refreshBundle();
    await uploadQueue();
    setInterval(refreshBundle, BUNDLE_EVERY_MS);
    setInterval(uploadQueue, UPLOAD_EVERY_MS);
    root.dataset.ready = "true";
  }

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker
      .register(config.swUrl, { scope: config.swScope })
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => {
        // The page's own files, so that a reload without network still opens the scanner.
        const urls = [
          window.location.href,
          ...Array.from(document.querySelectorAll("script[src]"), (node) => node.src),
          ...Array.from(document.querySelectorAll('link[rel="stylesheet"], link[rel="manifest"], link[rel~="icon"], link[rel="apple-touch-icon"]'), (node) => node.href),
          ...JSON.parse(config.offlineAssets || "[]").map((path) => new URL(path, window.location.href).href),
        ];
        if (registration.active) registration.active.postMessage({ type: "precache", urls });
      })
      .catch(() => {
        // Without a service worker the page still scans; only an offline reload is lost.
      });
  }

  registerServiceWorker();
  boot();
}
