// Uploads from the browser straight to object storage: presigned S3 URLs,
// or the app's own signed /blob/ URLs on the disk store. The app only sees
// small JSON calls (POST /api/v1/uploads, .../parts, .../complete); the
// bytes never pass through it. No framework and no bundler: one module,
// loaded by the file pages and by the page of an upload request, driving
// the tray that views/files_chrome.templ renders.
//
// Where the JSON calls go comes from the page: the closest element around
// the tray with data-upload-api names the base of the upload protocol
// (POST <base> initiates, GET/DELETE <base>/<id> reads or aborts, POST
// <base>/<id>/parts and /complete); without one, the account's
// /api/v1/uploads. The request page adds data-upload-anonymous: its
// uploader has no account, so the server picks the folder and renames
// taken names, folders dropped are flattened, finished uploads are
// recognised by their upload rather than their file, and resume records
// live under data-upload-records (never the link's token).
//
// The flow per file: initiate (the server reserves quota and returns the
// exact headers each PUT must send) → one PUT, or parts 4 at a time, each
// retried with exponential backoff → complete (the server checks the
// stored size, and the SHA-256 when we sent one). The upload id is kept in
// localStorage under the file's fingerprint, so after a reload or a lost
// connection the same file picked again continues from the parts the
// server says it holds.

const API = "/api/v1";
const MiB = 1024 * 1024;

// Parallel PUTs across all files. Four parts at once saturate most links
// without starving the page's own requests (browsers open about six
// connections per host).
const MAX_PUTS = 4;
// Files being prepared, initiated or completed at once.
const MAX_FILES = 4;
// Attempts per request before the item shows an error with "Retry".
const MAX_ATTEMPTS = 6;
// Files up to this size (and below the multipart threshold) get a SHA-256,
// which the server has the store enforce on the PUT and shows in the
// details panel. WebCrypto digests in one shot, so the file is read into
// memory and hashed before the upload can start. Measured in headless
// Chromium on the 2-core CI machine (busy, load ~11): read + digest runs
// at 30-60 MiB/s (8 MiB: 150-215 ms; 64 MiB: 1.0-2.2 s). At 16 MiB that is
// at most about half a second, under a tenth of the upload time on links
// up to ~200 Mbit/s, and other files keep uploading meanwhile; at 64 MiB
// it would add seconds, so larger files go without a client digest (the
// server still checks their size).
// Parts of multipart uploads are not hashed: their presigned URLs carry no
// digest (the server would need it before signing), so hashing a part
// would cost a read of it for nothing the store checks.
const HASH_LIMIT = 16 * MiB;
// localStorage key of the resume records, and how long the record of a
// finished upload is kept (so the same file dropped again is recognised).
const DONE_TTL_MS = 24 * 3600 * 1000;

const tray = document.getElementById("upload-tray");
const list = document.getElementById("upload-list");
const filesInput = document.getElementById("upload-files");
const folderInput = document.getElementById("upload-folder");
const overlay = document.getElementById("drop-overlay");

const page = tray?.closest("[data-upload-api]")?.dataset || {};
const UPLOADS = page.uploadApi || `${API}/uploads`;
const anonymous = "uploadAnonymous" in page;
const RECORDS_KEY = page.uploadRecords ? `weupload.uploads.v1:${page.uploadRecords}` : "weupload.uploads.v1";

// uploadPath is the protocol's path of an upload, plus what follows it.
const uploadPath = (id, rest = "") => `${UPLOADS}/${encodeURIComponent(id)}${rest}`;

const limits = {
  maxFileSize: Number(tray?.dataset.maxFileSize) || Infinity,
  multipartThreshold: Number(tray?.dataset.multipartThreshold) || 64 * MiB,
};

// ---- Formatting (the same units as the server's messages) ----------------

function formatBytes(n) {
  if (n < 1024) return `${n} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1).replace(/\.0$/, "")} ${units[i]}`;
}

function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 5) return "a few seconds";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  return `${h} h ${Math.round((seconds - h * 3600) / 60)} min`;
}

// ---- A pool of slots (parallel PUTs, active files) -----------------------

function pool(size) {
  let free = size;
  const waiting = [];
  return {
    async take() {
      if (free > 0) {
        free--;
        return;
      }
      await new Promise((resolve) => waiting.push(resolve));
    },
    give() {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

const putSlots = pool(MAX_PUTS);
const fileSlots = pool(MAX_FILES);

// ---- Errors ----------------------------------------------------------------

// UploadError carries what the tray needs: a message, whether trying again
// may help (transient), and the server's answer when there was one.
class UploadError extends Error {
  constructor(message, { status = 0, code = "", field = "", transient = false, retryAfter = 0, offline = false, final = false } = {}) {
    super(message);
    Object.assign(this, { status, code, field, transient, retryAfter, offline, final });
  }
}

const cancelled = new UploadError("cancelled");

function networkError() {
  return new UploadError("The connection was lost.", { transient: true, offline: !navigator.onLine });
}

// ---- JSON API --------------------------------------------------------------

// api sends one JSON call to path (absolute, on this site).
async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw networkError();
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (res.ok) return data;
  // Invalid input comes as a generic detail plus a message per field.
  const fields = data.errors || [];
  const detail = data.code === "invalid" && fields.length ? fields.map((f) => f.message).join(" ") : data.detail;
  throw new UploadError(detail || `The server answered ${res.status}.`, {
    status: res.status,
    code: data.code || "",
    field: fields[0]?.field || "",
    transient: res.status === 429 || res.status >= 500,
    retryAfter: Number(res.headers.get("Retry-After")) || 0,
  });
}

// ---- PUT to storage, with upload progress ----------------------------------

// put sends body to a presigned URL with exactly the headers the server
// returned, reports progress into item.inflight[key], and resolves with
// the response's ETag. XHR, because fetch cannot report upload progress.
function put(item, key, url, headers, body) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => item.inflight.set(key, e.loaded);
    const done = () => {
      item.requests.delete(xhr);
      item.inflight.delete(key);
    };
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader("ETag") || "");
      else reject(storageError(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => {
      done();
      reject(networkError());
    };
    xhr.onabort = () => {
      done();
      reject(item.cancelled ? cancelled : networkError());
    };
    item.requests.add(xhr);
    xhr.send(body);
  });
}

// storageError explains a refused PUT. S3 says 403 for an expired or
// refused signature, 412 when the object already exists (an earlier PUT
// whose answer was lost), 5xx/503 SlowDown when it wants us to retry.
function storageError(status, text) {
  if (status === 403) {
    const expired = /expired/i.test(text || "");
    return new UploadError(expired ? "The upload link expired." : "The storage refused the upload link.", { status, transient: true });
  }
  if (status === 412) return new UploadError("Already stored.", { status });
  if (status === 400 && /digest|checksum/i.test(text || "")) {
    return new UploadError("The file changed while it was being uploaded (its checksum no longer matches). Pick it again.", { status });
  }
  return new UploadError(`The storage answered ${status}.`, { status, transient: status === 429 || status >= 500 || status === 408 });
}

// ---- Retries -----------------------------------------------------------------

// retrying runs fn until it succeeds, for transient errors only: with
// exponential backoff and jitter (1 s, 2 s, 4 s, … up to 30 s, or what the
// server's Retry-After says), and without counting attempts while the
// browser is offline: it waits for the connection to come back instead.
async function retrying(item, fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (item.cancelled) throw cancelled;
      if (!err.transient) throw err;
      if (!navigator.onLine) {
        await waitOnline(item);
        attempt--;
        continue;
      }
      if (attempt >= MAX_ATTEMPTS) throw err;
      const base = err.retryAfter ? err.retryAfter * 1000 : Math.min(30000, 1000 * 2 ** (attempt - 1));
      await sleep(item, base * (0.75 + Math.random() * 0.5));
    }
  }
}

function sleep(item, ms) {
  item.retryAt = Date.now() + ms;
  render(item);
  return new Promise((resolve) => setTimeout(resolve, ms)).finally(() => {
    item.retryAt = 0;
  });
}

function waitOnline(item) {
  const was = item.state;
  setState(item, "paused");
  return new Promise((resolve) => window.addEventListener("online", resolve, { once: true })).then(() => {
    if (!item.cancelled) setState(item, was);
  });
}

// ---- Resume records in localStorage ---------------------------------------------

// A record maps a file's fingerprint (name, size, last modified, target
// folder) to its pending upload, or to the file a finished upload made.
function readRecords() {
  try {
    return JSON.parse(localStorage.getItem(RECORDS_KEY)) || {};
  } catch {
    return {};
  }
}

function writeRecords(records) {
  try {
    localStorage.setItem(RECORDS_KEY, JSON.stringify(records));
  } catch {
    // Private mode or full storage: uploads still work, resume does not.
  }
}

function fingerprint(file, folderId) {
  return JSON.stringify([file.name, file.size, file.lastModified, folderId]);
}

function remember(item, fields) {
  const records = readRecords();
  records[item.fp] = {
    name: item.name, size: item.size, folderId: item.folderId, folderName: item.folderName, path: item.path,
    lastModified: item.file?.lastModified ?? 0, savedAt: Date.now(), ...fields,
  };
  writeRecords(records);
}

// rememberPart records a part whose PUT this page saw succeed, with its
// ETag. Only such parts are skipped on resume: a PUT cut off by a reload
// may still be listed by a store that kept its partial body (versitygw
// does), and trusting the listing alone would assemble that part.
function rememberPart(item, n, etag) {
  const records = readRecords();
  const rec = records[item.fp];
  if (!rec) return;
  rec.parts = { ...rec.parts, [n]: etag };
  writeRecords(records);
}

// confirmedParts is the store's listing of an upload's parts, kept to
// those this browser saw stored with the same ETag (rememberPart).
function confirmedParts(rec, st) {
  const seen = rec.parts || {};
  return new Map((st.parts || []).filter((p) => seen[p.number] === p.etag).map((p) => [p.number, { etag: p.etag, size: p.size }]));
}

function forget(fp) {
  const records = readRecords();
  delete records[fp];
  writeRecords(records);
}

// pruneRecords drops finished uploads older than DONE_TTL_MS.
function pruneRecords() {
  const records = readRecords();
  for (const [fp, r] of Object.entries(records)) {
    if ((r.fileId || r.sentId) && Date.now() - r.savedAt > DONE_TTL_MS) delete records[fp];
  }
  writeRecords(records);
  return records;
}

// ---- Items --------------------------------------------------------------------------

// Every file in the tray is an item. States: queued, preparing (hashing,
// initiating), uploading, paused (offline), finishing (complete), done,
// error, interrupted (a pending upload from an earlier visit, waiting for
// its file to be picked again).
const items = new Map();
let nextKey = 1;

function newItem({ file = null, name, size, folderId, folderName, path = "" }) {
  const item = {
    key: String(nextKey++),
    file, name, size, folderId, folderName, path,
    fp: file ? fingerprint(file, folderId) : "",
    state: "queued",
    onConflict: "error",
    uploadId: "",
    mode: "",
    partSize: 0,
    single: null, // {url, headers, expires} of a single PUT
    urls: new Map(), // part number → {url, headers, expires}
    refreshing: null, // the URL request in flight
    stored: new Map(), // part number → {etag, size}, the parts the store holds
    inflight: new Map(), // request key → bytes sent so far
    requests: new Set(),
    cancelled: false,
    error: null,
    retryAt: 0,
    speed: 0,
    sample: { bytes: 0, time: 0 },
    el: null,
  };
  items.set(item.key, item);
  item.el = itemElement(item);
  list.prepend(item.el);
  return item;
}

// sent is how many bytes of the item the store holds or is receiving.
function sent(item) {
  let n = 0;
  for (const p of item.stored.values()) n += p.size;
  for (const b of item.inflight.values()) n += b;
  return Math.min(n, item.size);
}

function active(item) {
  return ["queued", "preparing", "uploading", "paused", "finishing"].includes(item.state);
}

function setState(item, state) {
  item.state = state;
  render(item);
  renderTray();
}

// ---- The tray: view ------------------------------------------------------------------

function itemElement(item) {
  const el = document.getElementById("upload-item").content.firstElementChild.cloneNode(true);
  el.dataset.key = item.key;
  el.querySelector("[data-name]").textContent = item.name;
  el.querySelector("[data-name]").title = item.path ? `${item.path}/${item.name}` : item.name;
  return el;
}

function actionButton(action, label) {
  const b = document.getElementById("upload-action").content.firstElementChild.cloneNode(true);
  b.dataset.action = action;
  b.textContent = label;
  return b;
}

// statusText is the line under an item's name.
function statusText(item) {
  const size = formatBytes(item.size);
  switch (item.state) {
    case "queued":
      return `${size} · Waiting`;
    case "preparing":
      return `${size} · Preparing`;
    case "paused":
      return `${formatBytes(sent(item))} of ${size} · Offline, continues when you reconnect`;
    case "finishing":
      return `${size} · Finishing`;
    case "done":
      if (anonymous) return item.already ? `${size} · Already sent` : `${size} · Sent to ${item.folderName}`;
      return item.already ? `${size} · Already uploaded` : `${size} · Uploaded to ${item.path || item.folderName}`;
    case "interrupted":
      return `${formatBytes(sent(item))} of ${size} uploaded · Interrupted`;
    case "error":
      return size;
  }
  const done = sent(item);
  if (item.retryAt) return `${formatBytes(done)} of ${size} · Retrying in ${Math.max(1, Math.round((item.retryAt - Date.now()) / 1000))} s`;
  const parts = [`${formatBytes(done)} of ${size}`];
  if (item.speed > 0) {
    parts.push(`${formatBytes(item.speed)}/s`);
    parts.push(`${formatDuration((item.size - done) / item.speed)} left`);
  }
  return parts.join(" · ");
}

// actionsFor lists the buttons under an item.
function actionsFor(item) {
  if (item.state === "interrupted") return [["resume", "Choose file to resume"], ["discard", "Discard"]];
  if (item.state !== "error") return [];
  if (item.error?.field === "name" && item.error.status === 409) return [["keep-both", "Keep both"], ["discard", "Skip"]];
  if (item.error?.status === 410 && !item.error.final) return [["restart", "Start again"]];
  if (item.error?.retryable) return [["retry", "Retry"]];
  return [];
}

function render(item) {
  const el = item.el;
  if (!el) return;
  el.dataset.state = item.state;
  el.querySelector("[data-status]").textContent = statusText(item);
  const bar = el.querySelector("[data-progress]");
  if (item.state === "preparing" || item.state === "queued") bar.removeAttribute("value");
  else bar.value = item.size ? sent(item) / item.size : item.state === "done" ? 1 : 0;
  el.querySelector("[data-error]").textContent = item.state === "error" ? item.error?.message || "" : "";
  const cancel = el.querySelector("[data-action=cancel]");
  cancel.setAttribute("aria-label", active(item) ? `Cancel upload of ${item.name}` : `Remove ${item.name} from the list`);
  const wanted = actionsFor(item);
  const box = el.querySelector("[data-actions]");
  if (box.dataset.shown !== JSON.stringify(wanted)) {
    box.replaceChildren(...wanted.map(([a, label]) => actionButton(a, label)));
    box.dataset.shown = JSON.stringify(wanted);
  }
}

// renderTray updates the header: counts, overall progress, speed, time
// left, and the "keep both for all" choice when several names clash.
function renderTray() {
  if (!tray) return;
  const all = [...items.values()];
  tray.hidden = all.length === 0;
  const running = all.filter(active);
  const failed = all.filter((i) => i.state === "error");
  const done = all.filter((i) => i.state === "done");
  const title = tray.querySelector("[data-tray-title]");
  if (running.length && running.every((i) => i.state === "paused")) title.textContent = "Paused: you are offline";
  else if (running.length) title.textContent = `Uploading ${running.length} ${running.length === 1 ? "file" : "files"}`;
  else if (failed.length) title.textContent = `${failed.length} ${failed.length === 1 ? "upload needs" : "uploads need"} attention`;
  else if (done.length) title.textContent = `Uploaded ${done.length} ${done.length === 1 ? "file" : "files"}`;
  else title.textContent = "Uploads";

  const counted = all.filter((i) => active(i) || i.state === "done");
  const total = counted.reduce((n, i) => n + i.size, 0);
  const have = counted.reduce((n, i) => n + (i.state === "done" ? i.size : sent(i)), 0);
  const speed = running.reduce((n, i) => n + i.speed, 0);
  const bar = tray.querySelector("[data-tray-progress]");
  bar.hidden = !running.length;
  bar.value = total ? have / total : 0;
  const summary = [];
  if (running.length) {
    summary.push(`${formatBytes(have)} of ${formatBytes(total)}`);
    if (speed > 0) summary.push(`${formatBytes(speed)}/s`, `${formatDuration((total - have) / speed)} left`);
  } else if (failed.length && done.length) {
    summary.push(`${done.length} uploaded`);
  }
  tray.querySelector("[data-tray-summary]").textContent = summary.join(" · ");
  tray.querySelector("[data-tray-close]").hidden = running.length > 0;

  const clashes = failed.filter((i) => i.error?.field === "name" && i.error.status === 409);
  const actions = tray.querySelector("[data-tray-actions]");
  const wanted = clashes.length > 1 ? `${clashes.length}` : "";
  if (actions.dataset.shown !== wanted) {
    actions.replaceChildren(...(wanted ? [actionButton("keep-both-all", `Keep both for all ${clashes.length}`)] : []));
    actions.dataset.shown = wanted;
    actions.hidden = !wanted;
  }
}

function announce(text) {
  const live = tray?.querySelector("[data-tray-announce]");
  if (live) live.textContent = text;
}

// A ticker refreshes speeds and progress twice a second while anything runs.
let ticker = 0;
function tick() {
  const now = performance.now();
  let running = 0;
  for (const item of items.values()) {
    if (!active(item)) continue;
    running++;
    const bytes = sent(item);
    const dt = (now - item.sample.time) / 1000;
    if (item.sample.time && dt > 0 && item.state === "uploading") {
      const rate = Math.max(0, (bytes - item.sample.bytes) / dt);
      item.speed = item.speed ? 0.8 * item.speed + 0.2 * rate : rate;
    }
    item.sample = { bytes, time: now };
    render(item);
  }
  renderTray();
  if (!running) {
    clearInterval(ticker);
    ticker = 0;
  }
}

function startTicker() {
  if (!ticker) ticker = setInterval(tick, 500);
}

// ---- Running one upload --------------------------------------------------------------------

async function run(item) {
  item.error = null;
  item.cancelled = false;
  setState(item, "queued");
  startTicker();
  if (item.size > limits.maxFileSize) {
    return fail(item, new UploadError(`${item.name} is too large: ${formatBytes(item.size)}, and files can be at most ${formatBytes(limits.maxFileSize)}.`, { final: true }));
  }
  await fileSlots.take();
  try {
    if (item.cancelled) return;
    setState(item, "preparing");
    if (await alreadyUploaded(item)) return;
    const resumed = await resume(item);
    if (resumed === "done") return;
    if (!resumed) await initiate(item);
    setState(item, "uploading");
    if (item.mode === "multipart") await sendParts(item);
    else await sendSingle(item);
    setState(item, "finishing");
    await complete(item);
  } catch (err) {
    if (!item.cancelled) fail(item, err);
  } finally {
    fileSlots.give();
  }
}

// alreadyUploaded recognises a file that finished on an earlier visit
// (dropped again with its folder after a reload) and skips it.
// An uploader without an account cannot see files: what it sent is known
// by the upload's state.
async function alreadyUploaded(item) {
  const rec = readRecords()[item.fp];
  if (!rec?.fileId && !rec?.sentId) return false;
  try {
    const f = rec.fileId ? await api("GET", `${API}/files/${encodeURIComponent(rec.fileId)}`) : await api("GET", uploadPath(rec.sentId));
    if (f.size === item.size && !f.trashed_at && (rec.fileId || f.state === "done")) {
      item.already = true;
      succeed(item);
      return true;
    }
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  forget(item.fp);
  return false;
}

// resume continues the pending upload recorded for this file: the parts
// the store already holds are skipped. It returns "resumed", "done" (the
// upload finished, its answer was lost) or "" when there is nothing to
// resume (no record, or the upload ended meanwhile).
async function resume(item) {
  const rec = readRecords()[item.fp];
  if (!rec?.uploadId) return "";
  let st;
  try {
    st = await retrying(item, () => api("GET", uploadPath(rec.uploadId)));
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  if (st?.state === "done" && (st.file_id || anonymous)) {
    item.uploadId = st.id;
    remember(item, anonymous ? { sentId: st.id } : { fileId: st.file_id });
    succeed(item);
    return "done";
  }
  if (st?.state !== "pending" || Date.parse(st.expires_at) <= Date.now()) {
    forget(item.fp);
    return "";
  }
  item.uploadId = st.id;
  item.mode = st.mode;
  item.partSize = st.part_size || 0;
  item.stored = confirmedParts(rec, st);
  return "resumed";
}

// initiate asks for a new upload. Small files send their SHA-256. An
// uploader without an account says nothing of where the file goes.
async function initiate(item) {
  const body = { name: item.name, size: item.size, content_type: item.file.type || "application/octet-stream" };
  if (!anonymous) Object.assign(body, { folder_id: item.folderId, on_conflict: item.onConflict });
  const digest = await sha256(item);
  if (digest) body.sha256 = digest;
  const res = await retrying(item, () => api("POST", UPLOADS, body));
  item.uploadId = res.id;
  item.mode = res.mode;
  item.partSize = res.part_size || 0;
  item.stored = new Map();
  takeURLs(item, res);
  remember(item, { uploadId: res.id });
}

async function sha256(item) {
  if (!crypto.subtle || item.size > HASH_LIMIT || item.size >= limits.multipartThreshold) return "";
  const digest = await crypto.subtle.digest("SHA-256", await item.file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// takeURLs stores the URLs of an initiate or parts answer.
function takeURLs(item, res) {
  const expires = Date.parse(res.expires_at) || 0;
  if (res.mode === "single") {
    item.single = { url: res.url, headers: res.headers, expires };
    return;
  }
  for (const p of res.parts || []) item.urls.set(p.number, { url: p.url, headers: p.headers, expires });
}

// fresh reports whether a URL will still be accepted by a PUT starting
// now (stores check the expiry when a request starts, not when it ends).
function fresh(u) {
  return Boolean(u) && u.expires - Date.now() > 5_000;
}

// freshURLs asks for new URLs: for a single upload, or for the next batch
// of parts from number n (expired, or beyond the first batch). Workers
// that need URLs at the same moment share one request.
async function freshURLs(item, n) {
  if (item.refreshing) return item.refreshing;
  const numbers = [];
  if (item.mode === "multipart") {
    const total = Math.ceil(item.size / item.partSize);
    for (let i = n; i <= total && numbers.length < 100; i++) if (!item.stored.has(i)) numbers.push(i);
  }
  item.refreshing = retrying(item, () => api("POST", uploadPath(item.uploadId, "/parts"), { numbers }))
    .then((res) => takeURLs(item, res))
    .finally(() => {
      item.refreshing = null;
    });
  return item.refreshing;
}

async function sendSingle(item) {
  await retrying(item, async () => {
    // The slot first: waiting for it can outlast a URL.
    await putSlots.take();
    try {
      if (!fresh(item.single)) await freshURLs(item, 0);
      await put(item, "single", item.single.url, item.single.headers, item.file);
    } catch (err) {
      if (err.status === 412) return; // an earlier PUT stored it; complete checks
      if (err.status === 403) item.single = null;
      throw err;
    } finally {
      putSlots.give();
    }
  });
  item.stored.set(1, { etag: "", size: item.size });
}

// sendParts uploads the parts the store does not hold yet, four workers
// pulling part numbers from one queue; the first error stops the others
// taking new parts (the parts stored so far count when the user retries).
async function sendParts(item) {
  const total = Math.ceil(item.size / item.partSize);
  const todo = [];
  for (let n = 1; n <= total; n++) if (!item.stored.has(n)) todo.push(n);
  let failure = null;
  const worker = async () => {
    while (todo.length && !failure && !item.cancelled) {
      const n = todo.shift();
      try {
        await sendPart(item, n);
      } catch (err) {
        failure = failure || err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PUTS, todo.length) }, worker));
  if (item.cancelled) throw cancelled;
  if (failure) throw failure;
}

async function sendPart(item, n) {
  const start = (n - 1) * item.partSize;
  const body = item.file.slice(start, Math.min(start + item.partSize, item.size));
  await retrying(item, async () => {
    // The slot first: waiting for it can outlast a URL.
    await putSlots.take();
    try {
      // A shared request may have been for later parts: ask again then.
      for (let i = 0; i < 3 && !fresh(item.urls.get(n)); i++) await freshURLs(item, n);
      if (!item.urls.has(n)) throw new UploadError(`No upload link for part ${n}.`, { transient: true });
      const { url, headers } = item.urls.get(n);
      const etag = await put(item, `part-${n}`, url, headers, body);
      if (!etag) throw new UploadError("The storage did not expose the part's ETag (check its CORS rule).");
      item.stored.set(n, { etag, size: body.size });
      rememberPart(item, n, etag);
    } catch (err) {
      if (err.status === 403) item.urls.delete(n);
      throw err;
    } finally {
      putSlots.give();
    }
  });
}

async function complete(item) {
  const body = {};
  if (item.mode === "multipart") {
    body.parts = [...item.stored.entries()].sort((a, b) => a[0] - b[0]).map(([number, p]) => ({ number, etag: p.etag }));
  }
  const file = await retrying(item, () => api("POST", uploadPath(item.uploadId, "/complete"), body));
  item.fileId = file.id;
  remember(item, anonymous ? { sentId: item.uploadId } : { fileId: file.id });
  succeed(item);
}

// succeed marks an item done and lets the listing refresh (it listens for
// files-changed, debounced, so a folder of small files refreshes a few
// times, not once per file).
function succeed(item) {
  item.stored = new Map([[0, { etag: "", size: item.size }]]);
  item.inflight.clear();
  setState(item, "done");
  announce(`${item.name} uploaded.`);
  document.body.dispatchEvent(new CustomEvent("files-changed"));
  if (![...items.values()].some(active)) announce("All uploads finished.");
}

// fail shows why an item stopped and what the user can do about it.
function fail(item, err) {
  const e = err instanceof UploadError ? err : new UploadError(String(err?.message || err));
  if (e.offline || (e.transient && e.status === 0)) {
    e.message = "Network lost. Check your connection, then retry: the upload continues where it stopped.";
  } else if (e.status === 403) {
    e.message = "The storage refused the upload link (it may have expired). Retry to get a new one.";
  } else if (e.status === 409 && e.field === "name") {
    e.message = `A file named “${item.name}” already exists in ${item.path || item.folderName}.`;
  } else if (e.status === 410 && anonymous) {
    e.final = true; // the link was closed or expired: the server says which
  } else if (e.status === 410) {
    e.message = "This upload expired before it finished.";
  } else if (e.status === 401 && anonymous) {
    e.message = `${e.message} Reload the page and type it again; the upload continues where it stopped.`;
    e.final = true;
  }
  // Not worth retrying: the server refused the file itself (size, quota, name).
  e.retryable = !e.final && (e.transient || e.status === 0 || e.status === 403 || (e.status === 409 && e.field !== "size" && e.field !== "name"));
  item.error = e;
  setState(item, "error");
  announce(`${item.name}: ${e.message}`);
  document.body.dispatchEvent(new CustomEvent("files-changed")); // the quota meter
}

// cancel stops an item's requests and, if the server knows it, aborts the
// upload so its reserved quota is released at once.
function cancel(item) {
  item.cancelled = true;
  for (const xhr of item.requests) xhr.abort();
  const pending = item.uploadId && item.state !== "done";
  if (pending) api("DELETE", uploadPath(item.uploadId)).catch(() => {});
  const fp = item.fp || item.recordFp;
  if (fp && item.state !== "done") forget(fp);
  if (pending) announce(`Upload of ${item.name} cancelled.`);
  remove(item);
  if (pending) document.body.dispatchEvent(new CustomEvent("files-changed"));
}

function remove(item) {
  items.delete(item.key);
  item.el?.remove();
  renderTray();
}

// ---- Adding files -----------------------------------------------------------------------

// target is where new uploads go: the folder on screen, else My files;
// for an uploader without an account, whoever asked (the server knows the
// folder).
function target() {
  if (anonymous) return { id: "", name: page.uploadTarget || "" };
  const view = document.querySelector("[data-view]");
  if (view?.dataset.view === "files") return { id: view.dataset.folderId || "", name: view.dataset.folderName || "My files" };
  return { id: "", name: "My files" };
}

// add queues files; each entry is {file, dirs} where dirs is the folder
// path inside the drop ([] for a loose file). Folders are made first.
async function add(entries, dest = target(), emptyDirs = []) {
  if (!entries.length && !emptyDirs.length) return;
  tray.hidden = false;
  // Without an account there are no folders to make: a dropped folder's
  // files all go where the request says.
  const ids = anonymous ? new Map() : await makeFolders(dest, [...entries.map((e) => e.dirs), ...emptyDirs]);
  for (const { file, dirs } of entries) {
    const path = anonymous ? "" : dirs.join("/");
    const item = newItem({ file, name: file.name, size: file.size, folderId: ids.get(path)?.id ?? dest.id, folderName: dest.name, path });
    if (ids.get(path)?.error) {
      fail(item, ids.get(path).error);
      continue;
    }
    dropInterrupted(item.fp);
    run(item);
  }
  renderTray();
}

// makeFolders creates the folders of a drop, parents first, and returns a
// map from path ("Photos/2024") to {id} or {error}. A folder whose name is
// taken is reused, so dropping a folder again (say, after a reload) merges
// into it: its finished files are recognised and skipped, the others
// resume, and a real name clash gets the usual keep-both choice.
async function makeFolders(dest, paths) {
  const ids = new Map([["", { id: dest.id }]]);
  const all = new Set();
  for (const dirs of paths) for (let i = 1; i <= dirs.length; i++) all.add(dirs.slice(0, i).join("/"));
  const sorted = [...all].sort((a, b) => a.split("/").length - b.split("/").length);
  if (sorted.length) tray.querySelector("[data-tray-summary]").textContent = `Creating ${sorted.length} ${sorted.length === 1 ? "folder" : "folders"}…`;
  for (const path of sorted) {
    const parts = path.split("/");
    const parent = ids.get(parts.slice(0, -1).join("/"));
    if (parent.error) {
      ids.set(path, parent);
      continue;
    }
    try {
      ids.set(path, { id: await folderIn(parent.id, parts.at(-1)) });
    } catch (err) {
      ids.set(path, { error: new UploadError(`The folder “${path}” could not be created: ${err.message}`, { status: err.status }) });
    }
  }
  return ids;
}

async function folderIn(parentId, name) {
  const probe = { cancelled: false, state: "", el: null };
  try {
    const f = await retrying(probe, () => api("POST", `${API}/folders`, { parent_id: parentId, name }));
    return f.id;
  } catch (err) {
    if (err.status !== 409) throw err;
  }
  // Taken: find the folder of that name among the parent's (folders are
  // listed first, by name).
  const want = name.normalize("NFC").trim();
  let cursor = "";
  for (;;) {
    const q = new URLSearchParams({ limit: "1000" });
    if (cursor) q.set("cursor", cursor);
    const listing = await api("GET", `${API}/folders/${parentId || "root"}/items?${q}`);
    const hit = listing.folders.find((f) => f.name === want);
    if (hit) return hit.id;
    if (!listing.next || listing.files.length) throw new UploadError(`a file named “${name}” is in the way.`);
    cursor = listing.next;
  }
}

// A drop holds files and, in Chromium, Firefox and Safari, directory
// entries we walk to keep the folder structure.
async function fromDataTransfer(dt) {
  const roots = [...(dt.items || [])].filter((i) => i.kind === "file").map((i) => ({ entry: i.webkitGetAsEntry?.(), file: i.getAsFile() }));
  const entries = [];
  const emptyDirs = [];
  for (const { entry, file } of roots) {
    if (entry?.isDirectory) await walk(entry, [entry.name], entries, emptyDirs);
    else if (file) entries.push({ file, dirs: [] });
  }
  if (!roots.length) for (const file of dt.files || []) entries.push({ file, dirs: [] });
  return { entries, emptyDirs };
}

async function walk(dir, dirs, entries, emptyDirs) {
  const reader = dir.createReader();
  let count = 0;
  for (;;) {
    // readEntries returns batches (of 100 in Chromium) until an empty one.
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    count += batch.length;
    for (const e of batch) {
      if (e.isDirectory) await walk(e, [...dirs, e.name], entries, emptyDirs);
      else entries.push({ file: await new Promise((resolve, reject) => e.file(resolve, reject)), dirs });
    }
  }
  if (!count) emptyDirs.push(dirs);
}

// fromInput turns a file input's files into entries; a folder picked with
// webkitdirectory gives each file its path in webkitRelativePath.
function fromInput(input) {
  return [...input.files].map((file) => {
    const parts = (file.webkitRelativePath || "").split("/").filter(Boolean);
    return { file, dirs: parts.slice(0, -1) };
  });
}

// ---- Interrupted uploads from an earlier visit ---------------------------------------------

let resumeFor = null; // the interrupted item whose file the picker is choosing

async function showInterrupted() {
  const records = pruneRecords();
  const pending = Object.entries(records).filter(([, r]) => r.uploadId).slice(0, 20);
  for (const [fp, rec] of pending) {
    let st;
    try {
      st = await api("GET", uploadPath(rec.uploadId));
    } catch (err) {
      if (err.status === 404) forget(fp);
      continue;
    }
    if (st.state !== "pending" || Date.parse(st.expires_at) <= Date.now()) {
      forget(fp);
      continue;
    }
    const item = newItem({ name: rec.name, size: rec.size, folderId: rec.folderId, folderName: rec.folderName, path: rec.path || "" });
    item.recordFp = fp;
    item.uploadId = rec.uploadId;
    item.stored = confirmedParts(rec, st);
    setState(item, "interrupted");
  }
}

function dropInterrupted(fp) {
  for (const item of items.values()) {
    if (item.state === "interrupted" && item.recordFp === fp) remove(item);
  }
}

// ---- Wiring ----------------------------------------------------------------------------------

document.addEventListener("click", (e) => {
  const pick = e.target.closest("[data-upload-pick]");
  if (pick) {
    resumeFor = null;
    (pick.dataset.uploadPick === "folder" ? folderInput : filesInput)?.click();
    pick.closest("details")?.removeAttribute("open");
  }
});

for (const input of [filesInput, folderInput]) {
  input?.addEventListener("change", () => {
    const entries = fromInput(input);
    input.value = ""; // so picking the same file again fires change
    if (resumeFor) {
      const it = resumeFor;
      resumeFor = null;
      add(entries, { id: it.folderId, name: it.folderName });
      return;
    }
    add(entries);
  });
}

tray?.addEventListener("click", (e) => {
  const btn = e.target.closest("[data-action]");
  if (btn) {
    const item = items.get(btn.closest("[data-key]")?.dataset.key);
    itemAction(btn.dataset.action, item);
    return;
  }
  if (e.target.closest("[data-tray-toggle]")) {
    const collapsed = tray.toggleAttribute("data-collapsed");
    const toggle = tray.querySelector("[data-tray-toggle]");
    toggle.setAttribute("aria-expanded", String(!collapsed));
    toggle.setAttribute("aria-label", collapsed ? "Expand uploads" : "Collapse uploads");
  } else if (e.target.closest("[data-tray-close]")) {
    for (const item of [...items.values()]) if (!active(item) && item.state !== "interrupted") remove(item);
    if (items.size) tray.setAttribute("data-collapsed", "");
  }
});

function itemAction(action, item) {
  switch (action) {
    case "keep-both-all":
      for (const it of items.values()) if (it.state === "error" && it.error?.field === "name") itemAction("keep-both", it);
      return;
    case "cancel":
    case "discard":
      if (item) cancel(item);
      return;
    case "keep-both":
      item.onConflict = "rename";
      run(item);
      return;
    case "restart":
      forget(item.fp);
      item.uploadId = "";
      item.stored = new Map();
      run(item);
      return;
    case "retry":
      run(item);
      return;
    case "resume":
      resumeFor = item;
      filesInput?.click();
      return;
  }
}

// readOnly: the folder on screen is shared with the user as a viewer, so
// it takes no uploads (the server would refuse each one anyway).
const readOnly = () => document.querySelector("[data-view][data-readonly]") !== null;

// Pasting files (a screenshot, files copied in a file manager) uploads them.
document.addEventListener("paste", (e) => {
  const files = [...(e.clipboardData?.files || [])];
  if (!files.length || readOnly()) return;
  e.preventDefault();
  add(files.map((file) => ({ file, dirs: [] })));
});

// Dragging files anywhere over the page shows the overlay; dropping uploads.
let dragDepth = 0;
const carriesFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");

window.addEventListener("dragenter", (e) => {
  if (!carriesFiles(e)) return;
  e.preventDefault();
  if (readOnly()) return;
  dragDepth++;
  overlay.querySelector("[data-drop-target]").textContent = target().name;
  overlay.hidden = false;
});
window.addEventListener("dragover", (e) => {
  if (!carriesFiles(e)) return;
  e.preventDefault();
  e.dataTransfer.dropEffect = readOnly() ? "none" : "copy";
});
window.addEventListener("dragleave", (e) => {
  if (!carriesFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) overlay.hidden = true;
});
window.addEventListener("drop", async (e) => {
  if (!carriesFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  overlay.hidden = true;
  if (readOnly()) return;
  const dest = target();
  const { entries, emptyDirs } = await fromDataTransfer(e.dataTransfer);
  add(entries, dest, emptyDirs);
});

// When the browser says the connection is gone, stop the PUTs in flight
// at once rather than wait for them to time out: they fail as network
// errors, and retrying() holds every upload until the "online" event.
window.addEventListener("offline", () => {
  for (const item of items.values()) for (const xhr of item.requests) xhr.abort();
});

// Leaving the page stops running uploads; ask first. (They can be resumed.)
window.addEventListener("beforeunload", (e) => {
  if ([...items.values()].some((i) => active(i))) e.preventDefault();
});

showInterrupted();
