// The streamstack web client, built on the SDK in /sdk/streamstack.js.
//
// URL parameters: token (kept in localStorage once the person confirms
// it, then removed from the address bar), session (join that session), app, autostart=1 (start at
// once), joinable=0|1, idle (minutes a joinable session waits for its
// client), codec (preferred video codec), width, height, fps, stats=0,
// pointerlock=1, viewers=1 (create the session with viewers allowed),
// debug=1 (the SDK logs to the console).
//
// A share link, /?session=<id>#share=<token>, joins that session with the
// link's token at once, no API token needed. The fragment is read and
// removed from the address bar; the token stays in this tab's
// sessionStorage so that a reload joins again.

import { StreamstackClient, ErrorCode } from "./sdk/streamstack.js";
import { qrSVG } from "./qr.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "streamstack.token";
const DEFAULT_APPS = ["test-pattern"];

const params = new URLSearchParams(location.search);
if (params.has("token")) {
  // A link can carry someone else's token: kept only when the person says
  // so, or anyone could send a link that logs them into another account
  // (and watches what they then do). Removed from the address bar either way.
  const offered = params.get("token");
  if (offered && offered !== localStorage.getItem(TOKEN_KEY) &&
      confirm("This link carries an API token. Use it and remember it in this browser?\n\n" +
        "Only say yes if you trust whoever gave you the link: sessions you start will belong to that token's owner.")) {
    localStorage.setItem(TOKEN_KEY, offered);
  }
  params.delete("token");
  const q = params.toString();
  history.replaceState(null, "", location.pathname + (q ? "?" + q : "") + location.hash);
}
const token = () => localStorage.getItem(TOKEN_KEY) || "";

// The share link this tab was opened with, {id, share}, or null.
const SHARE_KEY = "streamstack.share";
const shareLink = readShareLink();

function readShareLink() {
  const id = params.get("session") || "";
  const frag = new URLSearchParams(location.hash.replace(/^#/, ""));
  const offered = frag.get("share");
  if (frag.has("share")) {
    // Out of the address bar at once: out of bookmarks, history and
    // screenshots of the page.
    frag.delete("share");
    const rest = frag.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
    if (offered && id) {
      try {
        sessionStorage.setItem(SHARE_KEY, JSON.stringify({ id, share: offered }));
      } catch {
        return { id, share: offered }; // storage disabled: this load only
      }
    }
  }
  try {
    const kept = JSON.parse(sessionStorage.getItem(SHARE_KEY) || "null");
    return kept && kept.id && kept.id === id && typeof kept.share === "string" ? kept : null;
  } catch {
    return null;
  }
}

// The cluster's other gateways, to join the session through when this one
// fails: named by the operator (--web-gateways), who also lets this page
// reach them (its CSP), never by a link, since they get the API token.
const gateways = (document.querySelector('meta[name="streamstack-gateways"]')?.content || "")
  .split(/\s+/).filter(Boolean);

const video = $("video");
let client = null;
let stopInput = null;
let pointerLock = params.get("pointerlock") === "1";
let lastError = null;

// What tests, benchmarks and the console read.
window.streamstack = {
  get client() { return client; },
  get state() { return client ? client.state : "idle"; },
  get sessionId() { return client ? client.sessionId : ""; },
  get frames() { return client ? Math.max(client.framesRendered, client.stats?.framesDecoded || 0) : 0; },
  get firstFrameMs() { return client?.firstFrame ? client.firstFrame.sinceLoadMs : 0; },
  // Capture → presentation, {p50Ms, p95Ms, frames} of the last frames, or null.
  get glassToGlass() { return client ? client.glassToGlass : null; },
  get error() { return lastError ? { code: lastError.code, message: lastError.message } : null; },
  // A session with viewers: this page's role ("controller", "viewer", "" until
  // known), whether it is the owner, the peers and who asked for control.
  get role() { return client ? client.role : ""; },
  get owner() { return client ? client.owner : false; },
  get peers() { return client ? client.peers : []; },
  get requests() { return client ? client.controlRequests : []; },
};

function show(el, on = true) {
  el.hidden = !on;
}

// A notice that goes away by itself: what the session cannot do is worth
// saying once, not worth blocking the stream for.
let noticeTimer = 0;
function showNotice(text) {
  $("notice").textContent = text;
  show($("notice"));
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => show($("notice"), false), 8000);
}

function unsupportedText(what, reason) {
  const kind = what.startsWith("input::gamepad") ? "Gamepads are" : `"${what}" is`;
  return `${kind} not supported in this session${reason ? ": " + reason : ""}.`;
}

function setStatus(text) {
  $("status").textContent = text;
  show($("status"), !!text);
}

// ---- launcher ----

async function listApps() {
  // A later gateway lists its applications; until then, the test pattern.
  try {
    const resp = await fetch("/1.0/applications", {
      headers: { Accept: "application/json", Authorization: "Macaroon root=" + token() },
    });
    if (!resp.ok) return DEFAULT_APPS;
    const env = await resp.json();
    const list = (env.metadata || []).map((a) => (typeof a === "string" ? a : a?.name)).filter(Boolean);
    return list.length ? list : DEFAULT_APPS;
  } catch {
    return DEFAULT_APPS;
  }
}

async function showLauncher(note = "") {
  show($("error"), false);
  show($("toolbar"), false);
  show($("peers-bar"), false);
  setStatus("");
  $("token").value = token();
  $("launcher-note").textContent = note;
  show($("launcher-note"), !!note);
  $("joinable").checked = params.get("joinable") !== "0";
  $("allow-viewers").checked = params.get("viewers") === "1";
  show($("launcher"));
  const select = $("app");
  const apps = await listApps();
  select.replaceChildren(...apps.map((a) => new Option(a, a)));
  if (params.get("app") && apps.includes(params.get("app"))) select.value = params.get("app");
  (token() ? $("start") : $("token")).focus();
}

$("launcher").addEventListener("submit", (e) => {
  e.preventDefault();
  localStorage.setItem(TOKEN_KEY, $("token").value.trim());
  start({ app: $("app").value, joinable: $("joinable").checked, allowViewers: $("allow-viewers").checked, resume: false });
});

$("join").addEventListener("click", () => {
  const id = $("join-id").value.trim();
  if (!id) return;
  localStorage.setItem(TOKEN_KEY, $("token").value.trim());
  start({ sessionId: id });
});

// ---- errors ----

const TITLES = {
  [ErrorCode.UNAUTHORIZED]: "Wrong API token",
  [ErrorCode.FORBIDDEN]: "This page may not use the gateway",
  [ErrorCode.NO_CAPACITY]: "No capacity",
  [ErrorCode.SESSION_ENDED]: "Session ended",
  [ErrorCode.NOT_FOUND]: "Session not found",
  [ErrorCode.ICE_FAILED]: "Could not connect to the stream",
  [ErrorCode.CONNECTION_LOST]: "Connection lost",
  [ErrorCode.TIMEOUT]: "Connecting took too long",
  [ErrorCode.STREAMER_ERROR]: "The streamer reported an error",
};

function showError(err) {
  lastError = err;
  setStatus("");
  show($("launcher"), false);
  show($("toolbar"), false);
  show($("peers-bar"), false);
  const box = $("error");
  box.dataset.code = err.code || "error";
  $("error-title").textContent = TITLES[err.code] || "Something went wrong";
  $("error-message").textContent = capitalize(err.message || String(err));
  $("error-hint").textContent = err.hint || "";
  show($("error-hint"), !!err.hint);
  const tokenProblem = err.code === ErrorCode.UNAUTHORIZED || err.code === ErrorCode.FORBIDDEN;
  $("error-retry").textContent = shareLink ? "Join again" : tokenProblem ? "Change the token" : "Start a new session";
  show(box);
  document.title = "streamstack: " + $("error-title").textContent.toLowerCase();
}

function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

$("error-retry").addEventListener("click", () => {
  if (shareLink) {
    start({ sessionId: shareLink.id, share: shareLink.share });
    return;
  }
  if (lastError?.code === ErrorCode.UNAUTHORIZED || lastError?.code === ErrorCode.FORBIDDEN) {
    showLauncher();
    return;
  }
  start({ app: params.get("app") || $("app").value || DEFAULT_APPS[0], joinable: params.get("joinable") !== "0", resume: false });
});
$("error-settings").addEventListener("click", () => showLauncher());

// ---- streaming ----

function stop() {
  if (stopInput) stopInput();
  stopInput = null;
  if (client) client.disconnect();
  client = null;
}

function attachInput() {
  if (stopInput) stopInput();
  stopInput = client.attachInput(video, { keyboardTarget: window, pointerLock });
}

// The page's clipboard and the app's, both ways (issue 18).
let stopClipboard = null;
function attachClipboard() {
  if (stopClipboard) stopClipboard();
  stopClipboard = client.attachClipboard();
}

async function start(opts) {
  stop();
  lastError = null;
  show($("launcher"), false);
  show($("error"), false);
  show($("peers-bar"), false);
  setStatus("Starting…");
  shownRole = "";
  const joinable = opts.joinable ?? params.get("joinable") !== "0";
  const allowViewers = opts.allowViewers ?? params.get("viewers") === "1";
  const codec = params.get("codec");
  const screen = {};
  for (const k of ["width", "height", "fps"]) if (params.get(k)) screen[k] = Number(params.get(k));
  try {
    client = new StreamstackClient({
      url: location.origin,
      urls: gateways,
      // A share link joins with its own token alone.
      token: opts.share ? undefined : token(),
      share: opts.share,
      app: opts.app || params.get("app") || DEFAULT_APPS[0],
      sessionId: opts.sessionId,
      joinable,
      allowViewers,
      idleTimeMin: joinable ? Number(params.get("idle") || 5) : undefined,
      preferredCodecs: codec ? [codec] : [],
      screen: Object.keys(screen).length ? screen : undefined,
      resume: !opts.share && opts.resume !== false,
      debug: params.get("debug") === "1",
    });
  } catch (e) {
    showError(e);
    return;
  }
  const c = client;
  c.attachVideo(video);
  attachInput();
  attachClipboard(); // after attachInput: both follow the client
  c.on("state", ({ state }) => {
    const text = {
      creating: "Creating a session…",
      joining: "Joining the session…",
      signaling: "Connecting…",
      reconnecting: "Connection lost, reconnecting…",
    }[state];
    if (text) setStatus(text);
  });
  c.on("status", (rec) => {
    if (c.state === "signaling" && rec.status_message) setStatus(capitalize(rec.status_message) + "…");
  });
  c.on("ready", ({ session }) => {
    setStatus("");
    $("session-label").textContent = session.id;
    $("session-label").title = session.joinable
      ? "joinable session: open " + location.origin + "/?session=" + session.id + " to join it"
      : "session id";
    show($("toolbar"));
    // Only the API token ends the session; a share link's peer leaves it.
    show($("btn-end"), !c.shared);
    show($("btn-leave"), c.shared);
    show($("stats"), params.get("stats") !== "0" && $("btn-stats").getAttribute("aria-pressed") !== "false");
    document.title = "streamstack: " + (session.app || "stream");
    video.focus({ preventScroll: true });
  });
  c.on("audio", ({ muted }) => show($("btn-unmute"), muted));
  c.on("unsupported", ({ what, reason }) => {
    if (c.role === "viewer" && what.startsWith("input::")) {
      showNotice("You are watching: only the controller's input reaches the app. Request control to use it.");
    } else {
      showNotice(unsupportedText(what, reason));
    }
  });
  c.on("peers", () => {
    if (c === client) renderPeers(c);
  });
  c.on("stats", renderStats);
  c.on("error", (err) => {
    if (c !== client) return;
    // While the stream plays an error is a refused control action: said,
    // and the stream goes on.
    if (c.state === "connected") showNotice(capitalize(err.message || String(err)) + ".");
    else showError(err);
  });
  c.on("close", ({ reason, sessionEnded, code }) => {
    if (c !== client) return;
    if (reason === "ended") {
      showLauncher("The session has ended.");
    } else if (sessionEnded && code !== ErrorCode.NO_CAPACITY) {
      showError({ code: ErrorCode.SESSION_ENDED, message: reason });
    }
  });
  try {
    await c.connect();
  } catch {
    // shown by the error listener
  }
}

// ---- people in the session ----

// A peer's name on a button: its id's start is enough to tell people apart.
function peerName(id) {
  return id.length > 10 ? id.slice(0, 10) + "…" : id;
}

// The role the bar shows, to say when it changes.
let shownRole = "";

function renderPeers(c) {
  const viewer = c.role === "viewer";
  const controls = c.role === "controller" || c.owner;
  $("role-label").textContent = (c.role || "joining") + (c.owner ? " · owner" : "");
  $("role-label").dataset.role = c.role;
  const n = c.peers.length;
  $("watchers").textContent = `${n} ${n === 1 ? "person" : "people"} watching`;
  if (shownRole && c.role !== shownRole) {
    showNotice(c.role === "controller" ? "You have control: your input reaches the app." : "Control moved: you are watching now.");
  }
  shownRole = c.role;
  const asked = c.controlRequests.includes(c.peerId);
  // An owner takes control rather than asking for it.
  show($("btn-request"), viewer && !c.owner);
  $("btn-request").disabled = asked;
  $("btn-request").textContent = asked ? "Control requested" : "Request control";
  const grants = controls ? c.controlRequests.filter((id) => id !== c.peerId) : [];
  $("grants").replaceChildren(...grants.map((id) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "give";
    b.dataset.peer = id;
    b.textContent = "Give control to " + peerName(id);
    b.title = "hand control to " + id;
    b.addEventListener("click", () => sendControl(() => c.grantControl(id)));
    return b;
  }));
  show($("btn-take"), c.owner && c.role !== "controller");
  show($("btn-share"), c.owner && !c.shared);
  show($("peers-bar"));
}

function sendControl(send) {
  if (!send()) showNotice("Control cannot change now: the connection to the session's signaling closed.");
}

$("peers-bar").addEventListener("click", () => video.focus({ preventScroll: true }));
$("btn-request").addEventListener("click", () => client && sendControl(() => client.requestControl()));
$("btn-take").addEventListener("click", () => client && sendControl(() => client.takeControl()));

// ---- share links ----

$("btn-share").addEventListener("click", () => {
  show($("share-result"), false);
  show($("share-error"), false);
  $("share-dialog").showModal();
  listShares();
});

async function listShares() {
  const c = client;
  if (!c) return;
  let links = [];
  try {
    links = await c.listShares();
  } catch (e) {
    shareError(e);
    return;
  }
  const now = Date.now();
  $("share-list").replaceChildren(...links.filter((l) => Date.parse(l.expires_at) > now).map((l) => {
    const li = document.createElement("li");
    const uses = l.max_uses ? `${l.uses}/${l.max_uses} uses` : `${l.uses} uses`;
    const text = document.createElement("span");
    text.textContent = `${l.role}, ${uses}, until ${new Date(l.expires_at).toLocaleString()}` + (l.revoked_at ? " (revoked)" : "");
    li.append(text);
    if (!l.revoked_at) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary";
      b.textContent = "Revoke";
      b.dataset.share = l.id;
      b.addEventListener("click", async () => {
        try {
          await c.revokeShare(l.id);
        } catch (e) {
          shareError(e);
        }
        listShares();
      });
      li.append(b);
    }
    return li;
  }));
}

function shareError(e) {
  $("share-error").textContent = capitalize(e.message || String(e));
  show($("share-error"));
}

$("share-create").addEventListener("click", async () => {
  const c = client;
  if (!c) return;
  show($("share-error"), false);
  try {
    const link = await c.createShare({
      role: $("share-role").value,
      expiresIn: Number($("share-expiry").value),
      maxUses: Math.max(0, Math.floor(Number($("share-uses").value) || 0)),
    });
    $("share-url").value = link.url ||
      `${location.origin}/?session=${encodeURIComponent(c.sessionId)}#share=${encodeURIComponent(link.token)}`;
    $("share-copy").textContent = "Copy";
    try {
      $("share-qr").replaceChildren(qrSVG($("share-url").value, 160));
    } catch {
      $("share-qr").replaceChildren(); // a link too long for a QR code: the text is enough
    }
    show($("share-result"));
    $("share-url").select();
  } catch (e) {
    shareError(e);
  }
  listShares();
});

$("share-copy").addEventListener("click", async () => {
  $("share-url").select();
  try {
    await navigator.clipboard.writeText($("share-url").value);
    $("share-copy").textContent = "Copied";
  } catch {
    document.execCommand?.("copy");
  }
});

function renderStats(s) {
  const set = (k, v) => {
    const el = document.querySelector(`[data-stat="${k}"]`);
    if (el) el.textContent = v;
  };
  set("codec", s.codec || "–");
  set("resolution", s.width ? `${s.width}×${s.height}` : "–");
  set("fps", s.fps ? s.fps.toFixed(0) : "0");
  set("bitrate", s.bitrateKbps >= 1000 ? (s.bitrateKbps / 1000).toFixed(2) + " Mbit/s" : s.bitrateKbps.toFixed(0) + " kbit/s");
  set("rtt", s.rttMs == null ? "–" : s.rttMs.toFixed(1) + " ms");
  set("loss", `${s.packetsLost} (${s.lossPercent.toFixed(2)} %)`);
  set("jitter", s.jitterMs.toFixed(1) + " ms");
  set("first-frame", s.firstFrameMs == null ? "–" : s.firstFrameMs + " ms");
  const g = s.glassToGlass;
  set("glass", g ? `${g.p50Ms.toFixed(1)} / ${g.p95Ms.toFixed(1)} ms` : "–");
}

// ---- toolbar ----

// After a toolbar click, keys go to the stream again, not to the button.
$("toolbar").addEventListener("click", () => video.focus({ preventScroll: true }));

$("btn-stats").addEventListener("click", (e) => {
  const on = $("stats").hidden;
  show($("stats"), on);
  e.currentTarget.setAttribute("aria-pressed", String(on));
});

$("btn-fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else $("stage").requestFullscreen?.().catch(() => {});
});

$("btn-lock").addEventListener("click", () => {
  pointerLock = !pointerLock;
  $("btn-lock").setAttribute("aria-pressed", String(pointerLock));
  if (client) attachInput();
  if (pointerLock) video.requestPointerLock?.();
  else if (document.pointerLockElement) document.exitPointerLock();
});

$("btn-unmute").addEventListener("click", async () => {
  if (client && (await client.unmute())) show($("btn-unmute"), false);
});

// Any click on the stream may unmute where the browser wanted a gesture.
video.addEventListener("pointerdown", () => {
  if (client && video.muted) client.unmute().then((ok) => ok && show($("btn-unmute"), false));
});

$("btn-leave").addEventListener("click", () => {
  stop();
  show($("toolbar"), false);
  show($("peers-bar"), false);
  showError({ code: "left", message: "you left the session; it goes on for the others" });
  $("error-title").textContent = "You left";
});

$("btn-end").addEventListener("click", async () => {
  const c = client;
  if (!c) return;
  if (stopInput) stopInput();
  stopInput = null;
  try {
    await c.end();
  } catch (e) {
    showError(e);
    return;
  }
  client = null;
  showLauncher("The session has ended.");
});

// ---- first load ----

function boot() {
  if (shareLink) {
    start({ sessionId: shareLink.id, share: shareLink.share });
    return;
  }
  if (!token()) {
    showLauncher("Enter an API token to start.");
    return;
  }
  if (params.get("session")) {
    start({ sessionId: params.get("session") });
  } else if (params.get("autostart") === "1" || StreamstackClient.rememberedSession(location.origin)) {
    start({ app: params.get("app") || DEFAULT_APPS[0], resume: true });
  } else {
    showLauncher();
  }
}

boot();
