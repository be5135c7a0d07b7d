// streamstack browser SDK: start or join a session on a streamstack gateway
// (or any gateway speaking the Anbox Cloud Stream Gateway protocol), play it
// in a <video>, and send input over the "control" data channel.
//
// Wire protocol, as the Anbox streaming SDK speaks it:
//   POST /1.0/sessions/ (Authorization: Macaroon root=<token>) → metadata.url
//   websocket to metadata.url; on open: create the peer connection, the
//   "control" data channel and the named ones, then send
//   {type:"discover"} → {type:"resp:discover", max_api_version, ...}
//   {type:"settings", api_version:2, data_channels, enable_speaker,
//     enable_microphone, enable_video, enable_camera,
//     video:{preferred_decoder_codecs}}
//   ← {type:"offer", sdp:base64}   → {type:"answer", sdp:base64}
//   ⇄ {type:"candidate", candidate:base64, sdpMid, sdpMLineIndex}
//   the websocket is closed once ICE connects.
// Input travels on "control" as {type:"input::…", data:{…}}; leaving sends
// {type:"stream::disconnect", data:{}}.
//
// Many peers in one session (docs/peers.md), beyond the Anbox protocol:
// settings carry "session_updates": true; in a session that lets viewers
// in the websocket then stays open after ICE connects and brings
// {type:"session::peers", you, role, owner, peers, requests} on every
// change, and carries {type:"session::control", action, peer} back. A share
// link's token joins with "Authorization: Bearer <share token>".
//
// No build step: plain ES modules (this one and input.js beside it).
// Types: streamstack.d.ts.

import { InputForwarder } from "./input.js";

export { KEY_CODES, keyCode, mouseButton, mapToRemote, contentBox } from "./input.js";
import { ClipboardSync } from "./clipboard.js";
export { ClipboardSync } from "./clipboard.js";

export const VERSION = "0.1.0";

/** The signaling API version this SDK speaks: the streamer makes the offer. */
export const API_VERSION = 2;

/** The data channel that carries input and control messages. */
export const CONTROL_CHANNEL = "control";

/**
 * The control message a streamer sends the first time a connection sends
 * input the session cannot serve: {type, data: {what, reason}}.
 */
export const STREAM_UNSUPPORTED = "stream::unsupported";

/** Signaling frame: who is in the session and who controls it (session_updates). */
export const SESSION_PEERS = "session::peers";

/** Signaling frame: request, grant, take or release control. */
export const SESSION_CONTROL = "session::control";

/** Control message types of the clipboard (issue 18): client to app, app to client. */
export const CLIPBOARD_SET = "clipboard::set";
export const CLIPBOARD_CHANGED = "clipboard::changed";

/** Peer roles: a controller's input is applied, a viewer's is ignored. */
export const Role = Object.freeze({ CONTROLLER: "controller", VIEWER: "viewer" });

/**
 * The session id and share token of a share link
 * (https://host/?session=<id>#share=<token>), or null when href is not one.
 * The token travels in the fragment, which browsers never send to a server.
 */
export function parseShareURL(href) {
  let u;
  try {
    u = new URL(href, globalThis.location?.href);
  } catch {
    return null;
  }
  const sessionId = u.searchParams.get("session") || "";
  const share = new URLSearchParams(u.hash.replace(/^#/, "")).get("share") || "";
  return sessionId && share ? { sessionId, share } : null;
}

/** Error codes of StreamstackError.code. */
export const ErrorCode = Object.freeze({
  INVALID_ARGUMENT: "invalid-argument",
  UNAUTHORIZED: "unauthorized",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "not-found",
  NO_CAPACITY: "no-capacity",
  SESSION_ENDED: "session-ended",
  SESSION_FAILED: "session-failed",
  SIGNALING_FAILED: "signaling-failed",
  STREAMER_ERROR: "streamer-error",
  ICE_FAILED: "ice-failed",
  CONNECTION_LOST: "connection-lost",
  TIMEOUT: "timeout",
});

/** An error with a code from ErrorCode and, where one helps, a hint. */
export class StreamstackError extends Error {
  constructor(code, message, extra = {}) {
    super(message, extra.cause ? { cause: extra.cause } : undefined);
    this.name = "StreamstackError";
    this.code = code;
    this.hint = extra.hint || "";
    this.status = extra.status || 0;
    this.reason = extra.reason || "";
    // The request never reached a gateway (refused, reset, DNS): another
    // gateway may serve it.
    this.unreachable = !!extra.unreachable;
  }
}

const ICE_HINT =
  "The browser could not reach the streamer over UDP. Behind a strict firewall or NAT the " +
  "gateway needs a TURN server, handed to clients in stun_servers.";

const ENDED_STATUSES = new Set(["error", "terminated", "terminating"]);

// Glass-to-glass (see _glassFrame). The report's type and limits are the
// streamer's (streamer/protocol/glass.go: StatsGlassToGlass,
// MaxGlassSamples, MaxGlassMillis).
const GLASS_TYPE = "stats::glass-to-glass";
const GLASS_REPORT_MAX = 240;
const GLASS_MAX_MS = 60000;
const GLASS_REPORT_MS = 1000;
const GLASS_WINDOW = 120; // frames: 4 s at 30 fps
const NTP_UNIX_MS = 2208988800000; // 1900 to 1970, the NTP epoch's lead
const MAX_TEXT_RUNES = 256; // protocol.MaxTextRunes: one input::text

// p50 and p95 of a window of milliseconds, and its size.
function glassSummary(window) {
  const sorted = [...window].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50Ms: at(0.5), p95Ms: at(0.95), frames: sorted.length };
}

function b64encode(s) {
  return btoa(s);
}

function b64decode(s) {
  return atob(s);
}

/**
 * A streaming session client. Events (addEventListener or on()), each a
 * CustomEvent with detail:
 *   state       {state}                  idle, creating, joining, signaling, connected, reconnecting, closed
 *   status      the session record        while connecting, each poll of GET /1.0/sessions/{id}
 *   ready       {stream, session}         media flows (again, after a reconnect)
 *   audio       {muted}                   whether the attached video plays muted (autoplay policy)
 *   firstframe  {sinceLoadMs, sinceConnectMs}
 *   stats       Stats                     every statsInterval ms
 *   message     {type, data}              a control message from the streamer
 *   unsupported {what, reason}            the session ignores input of type `what` (a gamepad
 *                                         without uinput on the streamer's host), once per type
 *   clipboard   {text, selection, tooLarge}
 *                                         the app copied text (selection "clipboard" or
 *                                         "primary"); also in client.clipboard. Only the
 *                                         controller gets it
 *   data        {channel, data}           a message on a named data channel
 *   peers       {you, role, owner, peers, requests}
 *                                         the session's peers changed (session_updates on,
 *                                         a session with viewers): role and control moved,
 *                                         someone joined, left or asked for control
 *   reconnecting {attempt}
 *   error       StreamstackError          an error after "ready" (a refused session::control)
 *                                         leaves the stream playing; "close" says when it ends
 *   close       {reason, sessionEnded, code, sessionReason}
 */
export class StreamstackClient extends EventTarget {
  constructor(options = {}) {
    super();
    if (!options.token && !options.share) {
      throw new StreamstackError(ErrorCode.INVALID_ARGUMENT, "token (an API token) or share (a share link's token) is required");
    }
    if (options.share && !options.sessionId) {
      throw new StreamstackError(ErrorCode.INVALID_ARGUMENT, "a share token joins the session it was made for: give sessionId too");
    }
    const base = (options.url || options.urls?.[0] || globalThis.location?.origin || "").replace(/\/+$/, "");
    // Every gateway of the cluster this client may go through: url first,
    // then urls. The record in NATS is a session's only state, so any of
    // them serves a join.
    const gateways = [base];
    for (const u of options.urls || []) {
      const g = String(u).replace(/\/+$/, "");
      if (!gateways.includes(g)) gateways.push(g);
    }
    for (const g of gateways) {
      if (!/^https?:\/\//.test(g)) {
        throw new StreamstackError(ErrorCode.INVALID_ARGUMENT, "url and urls must be gateways' http(s) base URLs");
      }
    }
    this.options = {
      app: "test-pattern",
      joinable: false,
      dataChannels: [],
      preferredCodecs: [],
      speaker: true,
      video: true,
      stunServers: [],
      statsInterval: 1000,
      resume: true,
      reconnect: true,
      reconnectBackoff: { initial: 250, max: 8000 },
      reconnectTimeout: 120000,
      connectTimeout: 30000,
      storageKey: "streamstack.session",
      allowViewers: false,
      sessionUpdates: true,
      ...options,
      url: base,
      urls: gateways,
    };
    this._gw = 0; // the index in urls of the gateway in use
    this.state = "idle";
    this.session = null;
    this.stream = null;
    this.stats = null;
    this.framesRendered = 0;
    this.firstFrame = null;
    /** Capture → presentation over the last GLASS_WINDOW frames, or null. */
    this.glassToGlass = null;
    this._glass = null;
    this.timing = {};
    this._pc = null;
    this._ws = null;
    this._control = null;
    this._channels = {};
    this._attempt = 0;
    this._closing = false;
    this._timers = new Set();
    this._onPageHide = () => this._pageHide();
    this._resetPeers();
  }

  /**
   * The joinable session a client for gateway url in this tab would resume
   * (kept in sessionStorage), or null.
   */
  static rememberedSession(url = globalThis.location?.origin, storageKey = "streamstack.session") {
    try {
      const kept = JSON.parse(sessionStorage.getItem(storageKey + ":" + url.replace(/\/+$/, "")) || "null");
      return kept && kept.id ? { id: kept.id, idleTimeMin: kept.idle, leftAt: kept.left } : null;
    } catch {
      return null;
    }
  }

  /** Adds a listener for event type; returns a function that removes it. */
  on(type, fn) {
    const h = (e) => fn(e.detail, e);
    this.addEventListener(type, h);
    return () => this.removeEventListener(type, h);
  }

  /** The gateway base URL in use: options.url, or the one of options.urls a failover moved to. */
  get gateway() {
    return this.options.urls[this._gw];
  }

  get sessionId() {
    return this.session?.id || "";
  }

  /** The remote screen the video shows. */
  get screen() {
    return this.session?.screen || { width: 1280, height: 720 };
  }

  /** The RTCPeerConnection, once signaling started. */
  get peerConnection() {
    return this._pc;
  }

  /**
   * Whether this client joined through a share link (options.share): it may
   * join the session and nothing else of the API.
   */
  get shared() {
    return !!this.options.share;
  }

  /**
   * Creates a session (or joins options.sessionId, or resumes a joinable
   * session this tab had) and connects to it. Resolves with the session
   * record once media flows; rejects with a StreamstackError (also emitted
   * as "error").
   */
  async connect() {
    if (this.state !== "idle" && this.state !== "closed") {
      throw new StreamstackError(ErrorCode.INVALID_ARGUMENT, `connect() while ${this.state}`);
    }
    this._closing = false;
    globalThis.addEventListener?.("pagehide", this._onPageHide);
    this._connectStart = performance.now();
    this.timing = { connect: this._connectStart };
    try {
      const info = await this._openSession();
      this._mark("session");
      this._adopt(info);
      try {
        await this._signal(info);
      } catch (e) {
        // Signaling that failed before media flowed (the gateway died
        // mid-signaling, ICE failed): join again, through the next gateway.
        if (this._closing) throw e;
        await this._retry(this._asError(e));
      }
      return this.session;
    } catch (e) {
      const err = this._asError(e);
      if (this._closing) throw err; // disconnect() or the page closing ended it
      this._teardown();
      this._setState("closed");
      this._emit("error", err);
      throw err;
    }
  }

  /**
   * Leaves the session: sends stream::disconnect on the control channel (an
   * ephemeral session then ends; a joinable one waits to be joined again)
   * and closes the connection.
   */
  disconnect() {
    this._forget();
    this._finish("disconnected", false);
  }

  /** Ends the session for everyone (DELETE /1.0/sessions/{id}), then disconnects. */
  async end() {
    if (!this.options.token) {
      throw new StreamstackError(ErrorCode.INVALID_ARGUMENT, "only the session's API token ends it: disconnect() leaves it");
    }
    const id = this.sessionId;
    this._forget();
    this._finish("ended", true);
    if (id) {
      try {
        await this._api("DELETE", `/1.0/sessions/${encodeURIComponent(id)}`);
      } catch (e) {
        if (e.code !== ErrorCode.NOT_FOUND && e.code !== ErrorCode.SESSION_ENDED) throw e;
      }
    }
  }

  /** Sends {type, data} on the control channel; false when it is not open. */
  sendControl(type, data = {}) {
    const ch = this._control;
    if (!ch || ch.readyState !== "open") return false;
    ch.send(JSON.stringify({ type, data }));
    return true;
  }

  /**
   * Makes text what the app pastes (its CLIPBOARD and PRIMARY); false when
   * the control channel is closed or the streamer does not list the
   * "clipboard" capability. Only the controller's reaches the app.
   */
  setClipboard(text) {
    if (!this.discover?.capabilities?.includes("clipboard")) return false;
    return this.sendControl(CLIPBOARD_SET, { text: String(text) });
  }

  /**
   * Ties the session's clipboard to the page's: a paste on options.target
   * (default window) and, on its focus, the page's clipboard (async
   * Clipboard API, where permitted) go to the app; what the app copies is
   * written to the page's clipboard (where permitted; options.primary
   * false: not the X11 selection). Returns the function that detaches it.
   */
  attachClipboard(options = {}) {
    const sync = new ClipboardSync(this, options);
    return () => sync.detach();
  }

  /**
   * Asks for the session's screen at width×height device pixels
   * (stream::resize); false when the control channel is closed or the
   * streamer does not list the "resize" capability. Sides are rounded
   * down to even numbers (4:2:0 video). The video changes size on the same
   * connection; a size the session cannot have is answered with an
   * "unsupported" event saying why. Only the controller's counts.
   */
  resize(width, height) {
    if (!this.discover?.capabilities?.includes("resize")) return false;
    const even = (v) => Math.max(16, Math.floor(Number(v) / 2) * 2);
    return this.sendControl("stream::resize", { width: even(width), height: even(height) });
  }

  /**
   * resize to element's size on the page in device pixels, the device
   * pixel ratio counted up to maxPixelRatio (default 1: CSS pixels, the
   * cheapest to encode).
   */
  resizeToElement(element, maxPixelRatio = 1) {
    const r = Math.min(globalThis.devicePixelRatio || 1, Math.max(1, maxPixelRatio));
    return this.resize(element.clientWidth * r, element.clientHeight * r);
  }

  /** Sends data on a named data channel from options.dataChannels. */
  sendData(channel, data) {
    const ch = this._channels[channel];
    if (!ch || ch.readyState !== "open") return false;
    ch.send(data);
    return true;
  }

  // Input, in remote screen coordinates.
  mouseMove(x, y, rx = 0, ry = 0) {
    return this.sendControl("input::mouse-move", { x, y, rx, ry });
  }
  mouseButton(button, pressed) {
    return this.sendControl("input::mouse-button", { button, pressed });
  }
  mouseWheel(x, y) {
    return this.sendControl("input::mouse-wheel", { x, y });
  }
  key(code, pressed) {
    return this.sendControl("input::key", { code, pressed });
  }
  /**
   * Types text (what an input method committed) into the app as Unicode;
   * false when the control channel is closed or the streamer does not
   * list the "ime" capability. Long text goes in pieces of at most
   * MAX_TEXT_RUNES runes, the streamer's limit for one message; line
   * breaks as newlines, other control characters left out.
   */
  text(text) {
    if (!this.discover?.capabilities?.includes("ime")) return false;
    // The streamer refuses control characters but tab and newline.
    const runes = [...text.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "")];
    for (let i = 0; i < runes.length; i += MAX_TEXT_RUNES) {
      if (!this.sendControl("input::text", { text: runes.slice(i, i + MAX_TEXT_RUNES).join("") })) return false;
    }
    return true;
  }
  touchStart(id, x, y) {
    return this.sendControl("input::touch-start", { id, x, y });
  }
  touchMove(id, x, y) {
    return this.sendControl("input::touch-move", { id, x, y });
  }
  touchEnd(id, last) {
    return this.sendControl("input::touch-end", { id, last });
  }
  gamepadButton(id, index, pressed) {
    return this.sendControl("input::gamepad-button", { id, index, pressed });
  }
  gamepadAxis(id, index, value) {
    return this.sendControl("input::gamepad-axes", { id, index, value });
  }

  // ---- control of a session with several peers (docs/peers.md) ----
  //
  // Each sends a session::control frame on the signaling websocket, which
  // stays open in a session with viewers; false when it is not open. The
  // answer is the next "peers" event, or an "error" event naming why the
  // streamer refused (the stream plays on).

  /** A viewer asks for control; it shows in everyone's controlRequests. */
  requestControl() {
    return this._sendControlAction("request");
  }

  /** The controller or an owner hands control to a connected peer. */
  grantControl(peerId) {
    if (typeof peerId !== "string" || !peerId) {
      throw new StreamstackError(ErrorCode.INVALID_ARGUMENT, "grantControl needs a peer id (from peers or controlRequests)");
    }
    return this._sendControlAction("grant", peerId);
  }

  /** An owner takes control back. */
  takeControl() {
    return this._sendControlAction("take");
  }

  /** The controller gives control up. */
  releaseControl() {
    return this._sendControlAction("release");
  }

  _sendControlAction(action, peer) {
    const msg = { type: SESSION_CONTROL, action };
    if (peer) msg.peer = peer;
    return this._send(msg);
  }

  _resetPeers() {
    /** This connection's peer id, from session::peers; "" until one came. */
    this.peerId = "";
    /** "controller" or "viewer"; "" until the session said. */
    this.role = "";
    /** Whether this connection may hand control over, take it and manage share links. */
    this.owner = false;
    /** The connected peers: [{id, role, owner, joined_at, codec}]. */
    this.peers = [];
    /** Peer ids that asked for control, oldest first. */
    this.controlRequests = [];
  }

  _onPeers(msg) {
    const str = (v) => (typeof v === "string" ? v : "");
    this.peerId = str(msg.you);
    this.role = str(msg.role);
    this.owner = msg.owner === true;
    this.peers = (Array.isArray(msg.peers) ? msg.peers : [])
      .filter((p) => p && typeof p.id === "string")
      .map((p) => ({ id: p.id, role: str(p.role), owner: p.owner === true, joined_at: str(p.joined_at), codec: str(p.codec) }));
    this.controlRequests = (Array.isArray(msg.requests) ? msg.requests : []).filter((r) => typeof r === "string");
    this._emit("peers", { you: this.peerId, role: this.role, owner: this.owner, peers: this.peers, requests: this.controlRequests });
  }

  // ---- share links (the owner's API token) ----

  /**
   * Makes a share link for this session (or options.sessionId): role
   * "viewer" (default) or "controller", expiresIn seconds (default the
   * gateway's --share-link-ttl), maxUses (0: unlimited). Resolves with
   * {id, role, expires_at, max_uses, uses, token, url}; the token is shown
   * this once.
   */
  async createShare({ role, expiresIn, maxUses, sessionId } = {}) {
    const body = {};
    if (role !== undefined) body.role = role;
    if (expiresIn !== undefined) body.expires_in = expiresIn;
    if (maxUses !== undefined) body.max_uses = maxUses;
    return this._api("POST", this._sharePath(sessionId), body);
  }

  /** The session's share links, without their tokens. */
  async listShares({ sessionId } = {}) {
    const list = await this._api("GET", this._sharePath(sessionId));
    return Array.isArray(list) ? list : [];
  }

  /** Revokes a share link by its id ("sh-…"): later joins through it are refused. */
  async revokeShare(shareId, { sessionId } = {}) {
    if (typeof shareId !== "string" || !shareId) {
      throw new StreamstackError(ErrorCode.INVALID_ARGUMENT, "revokeShare needs a share link's id");
    }
    await this._api("DELETE", this._sharePath(sessionId) + "/" + encodeURIComponent(shareId));
  }

  _sharePath(sessionId) {
    const id = sessionId || this.sessionId;
    if (!id) throw new StreamstackError(ErrorCode.INVALID_ARGUMENT, "no session yet: connect first or give sessionId");
    if (!this.options.token) {
      throw new StreamstackError(ErrorCode.UNAUTHORIZED, "share links need the session's API token, not a share token");
    }
    return `/1.0/sessions/${encodeURIComponent(id)}/share`;
  }

  /**
   * Plays the stream in a <video> element (now, or once media flows) and
   * counts its frames. Playing starts with sound where the browser allows
   * it, muted otherwise: the "audio" event says which, and unmute() from a
   * click turns the sound on.
   */
  attachVideo(video) {
    this._video = video;
    this._watchFrames();
    if (this.stream && this.state === "connected") this._play();
  }

  async _play() {
    const v = this._video;
    if (!v) return;
    if (v.srcObject !== this.stream) v.srcObject = this.stream;
    const muted = !(await this.unmute());
    this._emit("audio", { muted });
  }

  /** Tries to play with sound; false when the browser wants a user gesture first. */
  async unmute() {
    const v = this._video;
    if (!v) return false;
    v.muted = false;
    try {
      await v.play();
      return true;
    } catch (e) {
      v.muted = true;
      v.play().catch(() => {});
      return false;
    }
  }

  /**
   * Forwards mouse, keyboard, touch and gamepad input from element (the
   * <video>) to the streamer. Returns a function that stops it.
   * options: mouse, keyboard, touch, gamepad (default true), pointerLock
   * (default false), keyboardTarget (default element).
   */
  attachInput(element, options = {}) {
    const input = new InputForwarder(this, element, options);
    this._inputs = this._inputs || new Set();
    this._inputs.add(input);
    return () => {
      input.detach();
      this._inputs.delete(input);
    };
  }

  // ---- sessions over HTTP ----

  // Every call goes with the API token; a join through a share link goes
  // with the share token instead (auth "share"), which the gateway refuses
  // on every other call.
  async _api(method, path, body, auth = "token") {
    const credential = auth === "share" ? "Bearer " + this.options.share : "Macaroon root=" + this.options.token;
    const headers = { Accept: "application/json", Authorization: credential };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const doFetch = this.options.fetch || globalThis.fetch.bind(globalThis);
    let resp;
    try {
      resp = await doFetch(this.gateway + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new StreamstackError(ErrorCode.SESSION_FAILED, `cannot reach the gateway at ${this.gateway}`, {
        unreachable: true,
        hint: "Check the URL and the network. A page on another origin needs that origin in the gateway's --allowed-origins.",
        cause: e,
      });
    }
    let env = null;
    try {
      env = await resp.json();
    } catch {
      env = null;
    }
    if (resp.ok && env && env.status === "success") return env.metadata;
    if (resp.status === 204) return null;
    // Share links answer their object itself where it is not wrapped.
    if (resp.ok && env && typeof env === "object" && !("status" in env)) return env;
    const msg = env?.error || `HTTP ${resp.status}`;
    throw httpError(resp.status, msg, auth === "share");
  }

  async _openSession() {
    const o = this.options;
    if (o.sessionId) return this._join(o.sessionId);
    if (o.resume) {
      const kept = this._recall();
      if (kept) {
        try {
          return await this._join(kept.id);
        } catch (e) {
          if (e.code !== ErrorCode.NOT_FOUND && e.code !== ErrorCode.SESSION_ENDED) throw e;
          this._forget();
        }
      }
    }
    this._setState("creating");
    const req = { app: o.app, region: o.region || "", joinable: !!o.joinable };
    if (o.allowViewers) req.allow_viewers = true;
    if (o.screen) req.screen = { ...o.screen };
    if (o.idleTimeMin !== undefined) req.idle_time_min = o.idleTimeMin;
    if (o.appVersion !== undefined) req.app_version = o.appVersion;
    if (o.extraData !== undefined) req.extra_data = o.extraData;
    // A create that reached no gateway created nothing: the next may take it.
    for (let tried = 1; ; tried++) {
      try {
        return await this._api("POST", "/1.0/sessions/", req);
      } catch (e) {
        if (!e.unreachable || tried >= o.urls.length) throw e;
        this._nextGateway();
      }
    }
  }

  _nextGateway() {
    this._gw = (this._gw + 1) % this.options.urls.length;
  }

  async _join(id) {
    this._setState("joining");
    const screen = this.options.screen || this.session?.screen;
    const body = screen ? { screen: { width: screen.width, height: screen.height } } : {};
    // A share link joins with its own token, every time: its reconnects too.
    const info = await this._api("POST", `/1.0/sessions/${encodeURIComponent(id)}/join`, body,
      this.options.share ? "share" : "token");
    if (!info.id) info.id = id;
    return info;
  }

  _adopt(info) {
    this.session = info;
    this._remember();
  }

  // The session this tab may resume after a reload, in sessionStorage.
  _storageKey() {
    return this.options.storageKey + ":" + this.options.url;
  }

  _remember() {
    const s = this.session;
    // A share link's session is not this tab's to resume with the API token.
    if (!s || !s.joinable || !this.options.resume || this.options.share) return;
    try {
      sessionStorage.setItem(this._storageKey(), JSON.stringify({ id: s.id, idle: s.idle_time_min || 0, left: 0 }));
    } catch {
      /* storage disabled */
    }
  }

  _recall() {
    try {
      const kept = JSON.parse(sessionStorage.getItem(this._storageKey()) || "null");
      if (!kept || !kept.id) return null;
      // A joinable session waits idle_time_min for its client; past that it is gone.
      if (kept.idle > 0 && kept.left > 0 && Date.now() - kept.left > kept.idle * 60000) {
        this._forget();
        return null;
      }
      return kept;
    } catch {
      return null;
    }
  }

  _forget() {
    try {
      sessionStorage.removeItem(this._storageKey());
    } catch {
      /* storage disabled */
    }
  }

  _pageHide() {
    // The idle window starts now: note when this tab left.
    try {
      const kept = JSON.parse(sessionStorage.getItem(this._storageKey()) || "null");
      if (kept) sessionStorage.setItem(this._storageKey(), JSON.stringify({ ...kept, left: Date.now() }));
    } catch {
      /* storage disabled */
    }
    this._finish("page closed", false);
  }

  // ---- signaling ----

  // Opens the websocket and runs signaling until ICE connects and media
  // flows; rejects on any failure before that.
  _signal(info) {
    if (!info.url) {
      return Promise.reject(new StreamstackError(ErrorCode.SIGNALING_FAILED, "the gateway answered no websocket url"));
    }
    this._setState("signaling");
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject, done: false };
      this._pending = pending;
      this._connected = false;
      this._remoteSet = false;
      this._answerSent = false;
      this._remoteQueue = [];
      this._localQueue = [];
      this._watchSession();
      this._after(this.options.connectTimeout, () => {
        if (!this._connected) {
          this._failPending(new StreamstackError(ErrorCode.TIMEOUT, `no connection within ${this.options.connectTimeout / 1000} s`));
        }
      });

      let ws;
      try {
        ws = new WebSocket(info.url);
      } catch (e) {
        this._failPending(new StreamstackError(ErrorCode.SIGNALING_FAILED, "bad websocket url", { cause: e }));
        return;
      }
      this._ws = ws;
      ws.onopen = () => this._onWsOpen(info);
      ws.onmessage = (ev) => this._onSignal(ev.data);
      ws.onclose = (ev) => {
        if (this._ws === ws) this._ws = null;
        if (this._connected && this._keepSignaling() && !this._closing) {
          // The stream plays on; control actions answer false from now on.
          this._log("signaling closed after connect: no more session updates", ev.code, ev.reason);
        }
        if (this._connected || pending.done) return;
        // Closed before ICE connected: the session ended (no capacity, say)
        // or the gateway refused the socket. The record says which.
        this._explainEarlyClose(ev, pending);
      };
    });
  }

  _onWsOpen(info) {
    this._mark("websocket");
    const iceServers = [];
    for (const s of [...(info.stun_servers || []), ...this.options.stunServers]) {
      iceServers.push({ urls: s.urls, username: s.username || undefined, credential: s.password ?? s.credential });
    }
    const pc = new RTCPeerConnection({ iceServers });
    this._pc = pc;
    this.stream = new MediaStream();
    pc.ontrack = (ev) => this._onTrack(ev);
    pc.onicecandidate = (ev) => this._onLocalCandidate(ev.candidate);
    pc.oniceconnectionstatechange = () => this._onIceState(pc);
    pc.onconnectionstatechange = () => this._onIceState(pc);

    // The data channels exist before the offer, so it carries them.
    this._control = pc.createDataChannel(CONTROL_CHANNEL);
    this._control.onmessage = (ev) => this._onControlMessage(ev.data);
    this._control.onclose = () => {
      if (this._pc === pc) this._lost("control channel closed");
    };
    for (const name of this.options.dataChannels) {
      const ch = pc.createDataChannel(name);
      ch.onmessage = (ev) => this._emit("data", { channel: name, data: ev.data });
      this._channels[name] = ch;
    }
    this._send({ type: "discover" });
  }

  _send(msg) {
    const ws = this._ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  async _onSignal(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    const pc = this._pc;
    if (!pc) return;
    try {
      switch (msg.type) {
        case "resp:discover": {
          if (API_VERSION > (msg.max_api_version || 1)) {
            throw new StreamstackError(ErrorCode.SIGNALING_FAILED,
              `the streamer speaks signaling API ${msg.max_api_version}, this SDK needs ${API_VERSION}`);
          }
          this.discover = msg;
          const o = this.options;
          const settings = {
            type: "settings",
            api_version: API_VERSION,
            data_channels: [...o.dataChannels],
            enable_speaker: !!o.speaker,
            enable_microphone: false,
            enable_video: !!o.video,
            enable_camera: false,
          };
          // Not in the Anbox protocol: streamers that do not know it ignore it.
          if (o.sessionUpdates) settings.session_updates = true;
          if (o.preferredCodecs.length > 0) settings.video = { preferred_decoder_codecs: [...o.preferredCodecs] };
          this._send(settings);
          break;
        }
        case "offer": {
          await pc.setRemoteDescription({ type: "offer", sdp: b64decode(msg.sdp) });
          this._remoteSet = true;
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          this._send({ type: "answer", sdp: b64encode(pc.localDescription.sdp) });
          this._answerSent = true;
          for (const c of this._localQueue.splice(0)) this._sendCandidate(c);
          for (const c of this._remoteQueue.splice(0)) await this._addRemoteCandidate(c);
          break;
        }
        case "answer": // API version 1 only; never asked for
          break;
        case "candidate": {
          if (this._remoteSet) await this._addRemoteCandidate(msg);
          else this._remoteQueue.push(msg);
          break;
        }
        case SESSION_PEERS:
          this._onPeers(msg);
          break;
        case "error":
          // Before the stream plays it fails the connect; after, it is a
          // refused session::control: an "error" event, the stream plays on.
          throw new StreamstackError(ErrorCode.STREAMER_ERROR, `streamer: ${msg.message || "error"}`);
        default:
          break;
      }
    } catch (e) {
      this._failPending(e instanceof StreamstackError ? e
        : new StreamstackError(ErrorCode.SIGNALING_FAILED, `signaling: ${e.message || e}`, { cause: e }));
    }
  }

  async _addRemoteCandidate(msg) {
    const candidate = msg.candidate ? b64decode(msg.candidate) : "";
    if (!candidate || !this._pc) return;
    try {
      await this._pc.addIceCandidate({ candidate, sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex });
    } catch (e) {
      this._log("remote candidate refused", candidate, e);
    }
  }

  _onLocalCandidate(c) {
    if (!c || !c.candidate) return;
    if (!this._answerSent) this._localQueue.push(c);
    else this._sendCandidate(c);
  }

  _sendCandidate(c) {
    this._send({ type: "candidate", candidate: b64encode(c.candidate), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
  }

  _onTrack(ev) {
    if (!this.stream.getTracks().includes(ev.track)) this.stream.addTrack(ev.track);
    // Bound early, the element is ready to show the first frame at once.
    if (this._video && this._video.srcObject !== this.stream) this._video.srcObject = this.stream;
    this._maybeReady();
  }

  _onIceState(pc) {
    if (pc !== this._pc) return;
    const ice = pc.iceConnectionState;
    const conn = pc.connectionState;
    this._log("ice", ice, "connection", conn);
    if (ice === "connected" || ice === "completed") {
      this._clearTimer(this._disconnectTimer);
      if (!this._connected) {
        this._connected = true;
        this._mark("connected");
        // As the Anbox SDK does: signaling is over once ICE connects,
        // unless session updates come over it (a session with viewers).
        if (this._ws && !this._keepSignaling()) this._ws.close(1000, "ice connected");
        this._maybeReady();
      }
      return;
    }
    if (ice === "failed" || conn === "failed") {
      if (!this._connected) {
        this._failPending(new StreamstackError(ErrorCode.ICE_FAILED, "could not connect to the streamer (ICE failed)", { hint: ICE_HINT }));
      } else {
        this._lost("ICE failed");
      }
      return;
    }
    if (ice === "disconnected" && this._connected && !this._disconnectTimer) {
      // Often a blip: give ICE a moment to come back before rejoining.
      this._disconnectTimer = this._after(4000, () => {
        this._disconnectTimer = null;
        if (this._pc === pc && pc.iceConnectionState === "disconnected") this._lost("ICE disconnected");
      });
    }
  }

  // The websocket stays open after ICE connects where session::peers and
  // session::control travel on it: asked for, in a session that lets
  // viewers in or joined through a share link. A session of one peer
  // closes it as the Anbox SDK does.
  _keepSignaling() {
    return !!this.options.sessionUpdates && (!!this.session?.allow_viewers || !!this.options.share);
  }

  _maybeReady() {
    const pending = this._pending;
    if (!pending || pending.done || !this._connected) return;
    if (this.options.video && this.stream.getVideoTracks().length === 0) return;
    pending.done = true;
    this._attempt = 0;
    this._stopWatch();
    this._setState("connected");
    this._startStats();
    this._watchFrames();
    this._play();
    this._emit("ready", { stream: this.stream, session: this.session });
    pending.resolve(this.session);
  }

  _failPending(err) {
    const pending = this._pending;
    if (!pending || pending.done) {
      this._emit("error", err);
      return;
    }
    pending.done = true;
    pending.reject(err);
  }

  _onControlMessage(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    this._emit("message", { type: msg.type, data: msg.data });
    if (msg.type === STREAM_UNSUPPORTED && typeof msg.data?.what === "string") {
      this._emit("unsupported", { what: msg.data.what, reason: String(msg.data.reason || "") });
    }
    if (msg.type === CLIPBOARD_CHANGED && typeof msg.data?.selection === "string") {
      const c = { text: typeof msg.data.text === "string" ? msg.data.text : "", selection: msg.data.selection,
        tooLarge: !!msg.data.too_large };
      if (!c.tooLarge) this.clipboard = c;
      this._emit("clipboard", c);
    }
  }

  async _explainEarlyClose(ev, pending) {
    const rec = await this._fetchSession();
    // A later attempt may have begun meanwhile: this one is over.
    if (pending !== this._pending || pending.done) return;
    if (rec && ENDED_STATUSES.has(rec.status)) {
      this._failPending(endedError(rec));
      return;
    }
    let msg = "the signaling websocket closed";
    if (ev.code === 1006) msg = "the gateway refused the signaling websocket or the network dropped it";
    if (ev.reason) msg += ` (${ev.reason})`;
    this._failPending(new StreamstackError(ErrorCode.SIGNALING_FAILED, msg, {
      hint: "A page on another origin needs that origin in the gateway's --allowed-origins.",
    }));
  }

  async _fetchSession() {
    // A share token may only join: the record is not its to read.
    if (!this.sessionId || !this.options.token) return null;
    try {
      return await this._api("GET", `/1.0/sessions/${encodeURIComponent(this.sessionId)}`);
    } catch (e) {
      if (e.code === ErrorCode.NOT_FOUND) return { id: this.sessionId, status: "terminated", reason: "not found" };
      return null;
    }
  }

  // While connecting, poll the record: placement news, and the end of a
  // session that could not be placed ("no capacity").
  _watchSession() {
    this._stopWatch();
    if (!this.options.token) return; // a share token may not read the record
    const tick = async () => {
      const rec = await this._fetchSession();
      if (!this._watching) return;
      if (rec) {
        this._emit("status", rec);
        if (ENDED_STATUSES.has(rec.status)) {
          this._failPending(endedError(rec));
          return;
        }
      }
      this._watching = this._after(1000, tick);
    };
    this._watching = this._after(250, tick);
  }

  _stopWatch() {
    if (this._watching) this._clearTimer(this._watching);
    this._watching = null;
  }

  // ---- losing the connection, reconnecting, closing ----

  async _lost(why) {
    if (this._closing || this._lostBusy || !this._connected) return;
    this._lostBusy = true;
    try {
      this._log("connection lost:", why);
      const rec = await this._fetchSession();
      if (this._closing) return;
      if (rec && ENDED_STATUSES.has(rec.status)) {
        this._forget();
        const err = endedError(rec);
        this._finish(err.message, true, { code: err.code, sessionReason: rec.reason || "" });
        return;
      }
      try {
        await this._retry(new StreamstackError(ErrorCode.CONNECTION_LOST, `lost the connection to the streamer (${why})`, { hint: ICE_HINT }));
      } catch (e) {
        if (this._closing) return;
        const err = this._asError(e);
        const ended = err.code === ErrorCode.SESSION_ENDED || err.code === ErrorCode.NOT_FOUND;
        if (ended) this._forget();
        this._emit("error", err);
        this._finish(err.message, ended, { code: err.code, sessionEnded: ended, sessionReason: err.reason });
      }
    } finally {
      this._lostBusy = false;
    }
  }

  // Joins the session again, for every session kind, through the next
  // gateway of options.urls each time, after a jittered exponential wait
  // (options.reconnectBackoff), until a new connection streams. It gives up,
  // throwing the error that stops it, when the session has ended, on an
  // answer no retry changes, when options.reconnect is off, or when
  // options.reconnectTimeout passed since cause without a connection.
  async _retry(cause) {
    const o = this.options;
    const since = performance.now();
    let err = cause;
    for (let attempt = 1; ; attempt++) {
      if (this._closing) throw err;
      if (!o.reconnect || !o.urls.length || !this.sessionId || FINAL_CODES.has(err.code) ||
        performance.now() - since >= o.reconnectTimeout) {
        throw await this._whyEnded(err);
      }
      this._attempt = attempt;
      this._setState("reconnecting");
      this._teardownPeer();
      const wait = backoffWait(o.reconnectBackoff, attempt);
      this._nextGateway();
      this._log("reconnecting", attempt, "through", this.gateway, "in", wait, "ms after", err.message);
      this._emit("reconnecting", { attempt, gateway: this.gateway, error: err });
      await new Promise((r) => this._after(wait, r));
      if (this._closing) throw err;
      try {
        const info = await this._join(this.sessionId);
        this._adopt({ ...this.session, ...info });
        await this._signal(info);
        return;
      } catch (e) {
        err = this._asError(e);
      }
    }
  }

  // A join refused because the session ended says so; the record says why
  // (the streamer ends an ephemeral session whose only client's ICE
  // failed: that is an ICE failure to the person, not an ended session).
  async _whyEnded(err) {
    if (err.code !== ErrorCode.SESSION_ENDED && err.code !== ErrorCode.NOT_FOUND) return err;
    const rec = await this._fetchSession();
    return rec && ENDED_STATUSES.has(rec.status) ? endedError(rec) : err;
  }

  _finish(reason, sessionEnded, extra = {}) {
    if (this._closing) return;
    this._closing = true;
    this.sendControl("stream::disconnect", {});
    this._teardown();
    this._resetPeers();
    const was = this.state;
    this._setState("closed");
    if (was !== "idle") this._emit("close", { reason, sessionEnded, ...extra });
  }

  _teardownPeer() {
    this._stopWatch();
    this._stopStats();
    for (const t of this._timers) clearTimeout(t);
    this._timers.clear();
    this._disconnectTimer = null;
    this._connected = false;
    if (this._pending && !this._pending.done) {
      this._pending.done = true;
      this._pending.reject(new StreamstackError(ErrorCode.CONNECTION_LOST, "closed"));
    }
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(1000, "client leaving");
      } catch {
        /* already closed */
      }
    }
    const pc = this._pc;
    this._pc = null;
    if (this._control) this._control.onclose = null;
    this._control = null;
    this._channels = {};
    if (pc) {
      pc.ontrack = pc.onicecandidate = pc.oniceconnectionstatechange = pc.onconnectionstatechange = null;
      pc.close();
    }
  }

  _teardown() {
    globalThis.removeEventListener?.("pagehide", this._onPageHide);
    this._teardownPeer();
    if (this._inputs) for (const i of this._inputs) i.releaseAll();
  }

  // ---- frames and stats ----

  _watchFrames() {
    const v = this._video;
    if (!v || this._framesWatched === v) return;
    this._framesWatched = v;
    const first = () => {
      if (this.firstFrame) return;
      const now = performance.now();
      this.firstFrame = { sinceLoadMs: now, sinceConnectMs: now - (this._connectStart ?? now) };
      this._mark("firstFrame");
      this._emit("firstframe", this.firstFrame);
    };
    if (typeof v.requestVideoFrameCallback === "function") {
      const onFrame = (_now, meta) => {
        if (this._framesWatched !== v) return;
        this.framesRendered = meta.presentedFrames;
        first();
        this._glassFrame(meta);
        v.requestVideoFrameCallback(onFrame);
      };
      v.requestVideoFrameCallback(onFrame);
    } else {
      v.addEventListener("loadeddata", first, { once: true });
    }
  }

  // ---- glass-to-glass ----
  //
  // Each frame's capture → presentation. expectedDisplayTime says when the
  // compositor shows the frame. Its capture time is the abs-capture-time
  // the streamer puts on every video packet: Chromium hands it out as the
  // video receiver's synchronization source captureTimestamp (NTP
  // milliseconds on the streamer's clock) beside the rtpTimestamp of the
  // frame, which requestVideoFrameCallback's metadata names too. That reads
  // the streamer's wall clock against the page's: exact on one host, off by
  // the clocks' skew elsewhere (NTP keeps it to a few ms). Where Chromium
  // fills metadata.captureTime itself (it needs an RTCP round-trip time a
  // receive-only peer does not get from pion), that is used instead. A
  // rolling window gives p50/p95 for the stats; the frames since the last
  // report go to the streamer (at most once a second, at most
  // GLASS_REPORT_MAX of them) as stats::glass-to-glass, for the session's
  // stats and /metrics.

  _captureTime(meta) {
    if (typeof meta.captureTime === "number" && meta.captureTime > 0) return meta.captureTime;
    if (typeof meta.rtpTimestamp !== "number") return null;
    const g = this._glass;
    const r = this._pc?.getReceivers?.().find((x) => x.track?.kind === "video");
    for (const src of r?.getSynchronizationSources?.() || []) {
      if (src.captureTimestamp > 0 && !g.captures.has(src.rtpTimestamp)) {
        g.captures.set(src.rtpTimestamp, src.captureTimestamp - NTP_UNIX_MS - performance.timeOrigin);
        if (g.captures.size > 16) g.captures.delete(g.captures.keys().next().value);
      }
    }
    return g.captures.get(meta.rtpTimestamp) ?? null;
  }

  _glassFrame(meta) {
    const g = (this._glass ??= { window: [], pending: [], lastSent: 0, captures: new Map() });
    const capture = this._captureTime(meta);
    if (capture == null) return;
    const shown = meta.expectedDisplayTime ?? meta.presentationTime;
    // Clocks a hair apart can put capture after display: that is 0 ms.
    const ms = Math.min(Math.max(shown - capture, 0), GLASS_MAX_MS);
    if (!Number.isFinite(ms)) return;
    g.window.push(ms);
    if (g.window.length > GLASS_WINDOW) g.window.shift();
    g.pending.push(Math.round(ms * 10) / 10);
    if (g.pending.length > GLASS_REPORT_MAX) g.pending.shift();
    this.glassToGlass = glassSummary(g.window);
    const now = performance.now();
    if (now - g.lastSent >= GLASS_REPORT_MS &&
        this.sendControl(GLASS_TYPE, { ms: g.pending, p50_ms: this.glassToGlass.p50Ms, p95_ms: this.glassToGlass.p95Ms })) {
      g.pending = [];
      g.lastSent = now;
    }
  }

  _startStats() {
    this._stopStats();
    if (!this.options.statsInterval) return;
    this._prevStats = null;
    this._statsTimer = setInterval(() => this._collectStats(), this.options.statsInterval);
    this._collectStats();
  }

  _stopStats() {
    if (this._statsTimer) clearInterval(this._statsTimer);
    this._statsTimer = null;
  }

  /** Reads the peer connection's statistics once; also emitted as "stats". */
  async _collectStats() {
    const pc = this._pc;
    if (!pc) return null;
    const report = await pc.getStats();
    let video = null, audio = null, pair = null, transport = null;
    report.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") video = r;
      else if (r.type === "inbound-rtp" && r.kind === "audio") audio = r;
      else if (r.type === "transport") transport = r;
      else if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded" && !pair) pair = r;
    });
    if (transport?.selectedCandidatePairId) pair = report.get(transport.selectedCandidatePairId) || pair;
    const prev = this._prevStats;
    const s = {
      codec: "", width: 0, height: 0, fps: 0, bitrateKbps: 0, rttMs: null,
      packetsReceived: 0, packetsLost: 0, lossPercent: 0, jitterMs: 0,
      framesDecoded: 0, framesDropped: 0, framesRendered: this.framesRendered,
      firstFrameMs: this.firstFrame ? Math.round(this.firstFrame.sinceLoadMs) : null,
      glassToGlass: this.glassToGlass,
      audio: null, candidateType: "",
    };
    if (video) {
      const codec = video.codecId ? report.get(video.codecId) : null;
      s.codec = codec?.mimeType?.split("/")[1] || "";
      s.width = video.frameWidth || 0;
      s.height = video.frameHeight || 0;
      s.framesDecoded = video.framesDecoded || 0;
      s.framesDropped = video.framesDropped || 0;
      s.packetsReceived = video.packetsReceived || 0;
      s.packetsLost = Math.max(video.packetsLost || 0, 0);
      const total = s.packetsReceived + s.packetsLost;
      s.lossPercent = total > 0 ? (100 * s.packetsLost) / total : 0;
      s.jitterMs = (video.jitter || 0) * 1000;
      if (prev && video.timestamp > prev.ts) {
        const dt = (video.timestamp - prev.ts) / 1000;
        s.bitrateKbps = ((video.bytesReceived - prev.bytes) * 8) / 1000 / dt;
        s.fps = video.framesPerSecond ?? (s.framesDecoded - prev.frames) / dt;
      } else {
        s.fps = video.framesPerSecond || 0;
      }
      this._prevStats = { ts: video.timestamp, bytes: video.bytesReceived || 0, frames: s.framesDecoded };
    }
    if (audio) {
      const codec = audio.codecId ? report.get(audio.codecId) : null;
      s.audio = {
        codec: codec?.mimeType?.split("/")[1] || "",
        packetsReceived: audio.packetsReceived || 0,
        packetsLost: Math.max(audio.packetsLost || 0, 0),
        jitterMs: (audio.jitter || 0) * 1000,
        // What the browser plays: 0..1 now, and the energy summed since
        // the start (grows only while there is sound).
        level: audio.audioLevel || 0,
        totalEnergy: audio.totalAudioEnergy || 0,
      };
    }
    if (pair) {
      if (pair.currentRoundTripTime !== undefined) s.rttMs = pair.currentRoundTripTime * 1000;
      const local = report.get(pair.localCandidateId);
      s.candidateType = local?.candidateType || "";
    }
    this.stats = s;
    this._emit("stats", s);
    return s;
  }

  // ---- helpers ----

  _after(ms, fn) {
    const t = setTimeout(() => {
      this._timers.delete(t);
      fn();
    }, ms);
    this._timers.add(t);
    return t;
  }

  _clearTimer(t) {
    if (!t) return;
    clearTimeout(t);
    this._timers.delete(t);
  }

  // Notes when a step of the first connection happened, in ms since page load.
  _mark(step) {
    if (this.timing && this.timing[step] === undefined) this.timing[step] = performance.now();
  }

  _setState(state) {
    if (this.state === state) return;
    this.state = state;
    this._emit("state", { state });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  _asError(e) {
    if (e instanceof StreamstackError) return e;
    return new StreamstackError(ErrorCode.SESSION_FAILED, e?.message || String(e), { cause: e });
  }

  _log(...args) {
    if (this.options.debug) console.debug("[streamstack]", ...args);
  }
}

// Errors no retry changes: the session is gone or refused to this client.
const FINAL_CODES = new Set([ErrorCode.NOT_FOUND, ErrorCode.SESSION_ENDED, ErrorCode.NO_CAPACITY, ErrorCode.UNAUTHORIZED,
  ErrorCode.FORBIDDEN, ErrorCode.INVALID_ARGUMENT, ErrorCode.STREAMER_ERROR]);

// backoffWait is the wait before reconnect attempt n: initial doubling up
// to max, drawn between half and all of it so that the clients of a
// gateway that died do not all come back in the same instant.
function backoffWait({ initial = 250, max = 8000 } = {}, n) {
  const full = Math.min(initial * 2 ** (n - 1), max);
  return full / 2 + Math.random() * (full / 2);
}

function httpError(status, msg, share = false) {
  if (share && (status === 401 || status === 403)) {
    // The link expired, was revoked or used up (403 says which), or its
    // token is not one (401).
    return new StreamstackError(status === 401 ? ErrorCode.UNAUTHORIZED : ErrorCode.FORBIDDEN,
      `the share link cannot join (${status}): ${msg}`, { status, hint: "Ask the session's owner for a new link." });
  }
  switch (status) {
    case 401:
      return new StreamstackError(ErrorCode.UNAUTHORIZED, `the gateway refused the API token (401): ${msg}`, {
        status, hint: "Check the token: streamstack serve prints one at its first start; `streamstack token create NAME` makes more.",
      });
    case 403:
      return new StreamstackError(ErrorCode.FORBIDDEN, `this page may not use the gateway (403): ${msg}`, {
        status, hint: "Add this page's origin to the gateway's --allowed-origins.",
      });
    case 404:
      return new StreamstackError(ErrorCode.NOT_FOUND, `no such session (404): ${msg}`, { status });
    case 409:
      return new StreamstackError(ErrorCode.SESSION_ENDED, `the session has ended (409): ${msg}`, { status });
    case 503:
      if (/capacity/i.test(msg)) {
        return new StreamstackError(ErrorCode.NO_CAPACITY, `no capacity: ${msg}`, { status, hint: "Every streamer host is busy. Try again in a moment." });
      }
      return new StreamstackError(ErrorCode.SESSION_FAILED, `the gateway is unavailable (503): ${msg}`, { status });
    default:
      return new StreamstackError(ErrorCode.SESSION_FAILED, `the gateway answered ${status}: ${msg}`, { status });
  }
}

function endedError(rec) {
  const reason = rec.reason || rec.status_message || rec.status;
  if (rec.reason === "no capacity") {
    const why = rec.status_message ? ` (${rec.status_message})` : "";
    return new StreamstackError(ErrorCode.NO_CAPACITY, `no streamer host had room for this session${why}`,
      { reason: rec.reason, hint: "Every streamer host is busy. Try again in a moment." });
  }
  if (rec.reason === "ice failed") {
    return new StreamstackError(ErrorCode.ICE_FAILED, "could not connect to the streamer (ICE failed)", { reason: rec.reason, hint: ICE_HINT });
  }
  return new StreamstackError(ErrorCode.SESSION_ENDED, `the session has ended: ${reason}`, { reason: rec.reason || "" });
}
