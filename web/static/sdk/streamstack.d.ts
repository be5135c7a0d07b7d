// Types of the streamstack browser SDK, /sdk/streamstack.js.

export declare const VERSION: string;
/** The signaling API version the SDK speaks (2: the streamer offers). */
export declare const API_VERSION: 2;
/** Label of the data channel that carries input and control messages. */
export declare const CONTROL_CHANNEL: "control";
/** Control message type: the session ignores a kind of input (see the "unsupported" event). */
export declare const STREAM_UNSUPPORTED: "stream::unsupported";
/** Signaling frame: the session's peers, roles and control requests (docs/peers.md). */
export declare const SESSION_PEERS: "session::peers";
/** Signaling frame: request, grant, take or release control. */
export declare const SESSION_CONTROL: "session::control";

export declare const Role: Readonly<{ CONTROLLER: "controller"; VIEWER: "viewer" }>;
export type PeerRole = "controller" | "viewer";

/** One connected peer of a session, as session::peers and the record list them. */
export interface Peer {
  id: string;
  role: PeerRole | string;
  owner: boolean;
  joined_at: string;
  codec: string;
}

/** The "peers" event: a session::peers frame. */
export interface PeersUpdate {
  /** This connection's peer id. */
  you: string;
  role: PeerRole | string;
  owner: boolean;
  peers: Peer[];
  /** Peer ids that asked for control. */
  requests: string[];
}

/** A share link as the gateway answers it; token only at create. */
export interface ShareLink {
  id: string;
  role: PeerRole;
  expires_at: string;
  max_uses: number;
  uses: number;
  token?: string;
  url?: string;
  revoked_at?: string;
  [field: string]: unknown;
}

/** The session id and share token of a share link URL (?session=<id>#share=<token>), or null. */
export declare function parseShareURL(href: string): { sessionId: string; share: string } | null;

export declare const ErrorCode: Readonly<{
  INVALID_ARGUMENT: "invalid-argument";
  UNAUTHORIZED: "unauthorized";
  FORBIDDEN: "forbidden";
  NOT_FOUND: "not-found";
  NO_CAPACITY: "no-capacity";
  SESSION_ENDED: "session-ended";
  SESSION_FAILED: "session-failed";
  SIGNALING_FAILED: "signaling-failed";
  STREAMER_ERROR: "streamer-error";
  ICE_FAILED: "ice-failed";
  CONNECTION_LOST: "connection-lost";
  TIMEOUT: "timeout";
}>;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export declare class StreamstackError extends Error {
  readonly code: ErrorCodeValue;
  /** What the user can do about it, where something helps. */
  readonly hint: string;
  /** The HTTP status, for errors of an API call. */
  readonly status: number;
  /** The session's reason, for a session that ended ("no capacity", …). */
  readonly reason: string;
  /** The request reached no gateway (refused, reset): another may serve it. */
  readonly unreachable: boolean;
}

export interface Screen {
  width: number;
  height: number;
  fps?: number;
  density?: number;
}

export interface IceServer {
  urls: string[] | string;
  username?: string;
  password?: string;
}

/** A session as the gateway answers it (create, join, get). */
export interface Session {
  id: string;
  app: string;
  status: "created" | "active" | "error" | "terminating" | "terminated";
  status_message: string;
  joinable: boolean;
  idle_time_min: number;
  screen: Required<Screen>;
  reason?: string;
  codec?: string;
  /** Websocket URL for signaling (create and join only). */
  url?: string;
  stun_servers?: IceServer[];
  [field: string]: unknown;
}

export interface ClientOptions {
  /**
   * API token, sent as "Authorization: Macaroon root=<token>". Required
   * unless share is given.
   */
  token?: string;
  /**
   * A share link's token: joins sessionId (required with it) with
   * "Authorization: Bearer <share token>", reconnects too. It may do nothing
   * else: no record reads, no end(), no share links.
   */
  share?: string;
  /** Gateway base URL; default: this page's origin (or urls[0]). */
  url?: string;
  /**
   * Other gateways of the same cluster: when a connection fails before or
   * after it streams (the gateway died mid-signaling, ICE failed), the
   * session is joined again through the next one, in turn. A failed create
   * that reached no gateway goes to the next one too. They get the token.
   */
  urls?: string[];
  /** Application to start; default "test-pattern". */
  app?: string;
  appVersion?: number;
  region?: string;
  /** Join this running session instead of creating one. */
  sessionId?: string;
  /** Create a session that outlives its client and can be joined again. */
  joinable?: boolean;
  /** Create a session several peers stream at once (allow_viewers). Default false. */
  allowViewers?: boolean;
  /**
   * Ask for session::peers updates ("session_updates": true in settings).
   * In a session with viewers the signaling websocket then stays open after
   * ICE connects. Default true.
   */
  sessionUpdates?: boolean;
  /** Minutes a joinable session waits for a client before it ends. */
  idleTimeMin?: number;
  screen?: Screen;
  extraData?: unknown;
  /** Named data channels opened beside "control" (before the offer). */
  dataChannels?: string[];
  /** Video codecs to ask for, best first: "VP8", "H264", … */
  preferredCodecs?: string[];
  /** Receive audio (default true) and video (default true). */
  speaker?: boolean;
  video?: boolean;
  /** STUN/TURN servers besides the gateway's stun_servers. */
  stunServers?: IceServer[];
  /** Milliseconds between "stats" events; 0 turns them off. Default 1000. */
  statsInterval?: number;
  /**
   * Join again the joinable session this tab had (after a reload), kept in
   * sessionStorage, while its idle window lasts. Default true.
   */
  resume?: boolean;
  /**
   * Join the session again (every kind) when its connection fails or drops,
   * before or after media flowed. Default true.
   */
  reconnect?: boolean;
  /**
   * Milliseconds before reconnect attempt n: initial × 2^(n-1) up to max,
   * drawn between half and all of it. Default {initial: 250, max: 8000}.
   */
  reconnectBackoff?: { initial?: number; max?: number };
  /** Milliseconds of failed reconnect attempts before giving up. Default 120000. */
  reconnectTimeout?: number;
  /** Milliseconds from the websocket opening to ICE connected. Default 30000. */
  connectTimeout?: number;
  storageKey?: string;
  fetch?: typeof fetch;
  debug?: boolean;
}

export interface GlassToGlass {
  p50Ms: number;
  p95Ms: number;
  /** Frames in the window. */
  frames: number;
}

export interface Stats {
  codec: string;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  rttMs: number | null;
  packetsReceived: number;
  packetsLost: number;
  lossPercent: number;
  jitterMs: number;
  framesDecoded: number;
  framesDropped: number;
  framesRendered: number;
  /** Milliseconds from page load to the first frame shown, once shown. */
  firstFrameMs: number | null;
  /**
   * Capture → presentation of the last frames shown (requestVideoFrameCallback's
   * captureTime to expectedDisplayTime), null until the browser gives a captureTime.
   */
  glassToGlass: GlassToGlass | null;
  candidateType: string;
  audio: { codec: string; packetsReceived: number; packetsLost: number; jitterMs: number; level: number; totalEnergy: number } | null;
}

export interface ClientEvents {
  state: { state: ClientState };
  status: Session;
  ready: { stream: MediaStream; session: Session };
  audio: { muted: boolean };
  firstframe: { sinceLoadMs: number; sinceConnectMs: number };
  stats: Stats;
  message: { type: string; data: unknown };
  /** The session ignores input of type `what` ("input::gamepad-button", …); once per type and connection. */
  unsupported: { what: string; reason: string };
  /** The app copied text (controller only); tooLarge: over the streamer's --clipboard-max-bytes, no text. */
  clipboard: ClipboardChange;
  data: { channel: string; data: string | ArrayBuffer | Blob };
  /** The session's peers changed (sessionUpdates, a session with viewers). */
  peers: PeersUpdate;
  reconnecting: { attempt: number; gateway: string; error: StreamstackError };
  /** After "ready", an error (a refused session::control) leaves the stream playing. */
  error: StreamstackError;
  close: { reason: string; sessionEnded: boolean; code?: ErrorCodeValue; sessionReason?: string };
}

/** What the app copied: its X11 CLIPBOARD or PRIMARY selection. */
export interface ClipboardChange {
  text: string;
  selection: "clipboard" | "primary";
  tooLarge: boolean;
}

export interface ClipboardOptions {
  /** Where paste and focus are listened to; default window. */
  target?: EventTarget;
  /** Write the app's PRIMARY selection (what xterm copies on select) to the page's clipboard too; default true. */
  primary?: boolean;
  /** Read the page's clipboard on focus (async Clipboard API, where permitted); default true. */
  readOnFocus?: boolean;
}

export declare const CLIPBOARD_SET: "clipboard::set";
export declare const CLIPBOARD_CHANGED: "clipboard::changed";

export declare class ClipboardSync {
  constructor(client: StreamstackClient, options?: ClipboardOptions);
  /** Sends the page's clipboard to the app where the browser lets the page read it. */
  readClipboard(): Promise<boolean>;
  detach(): void;
}

export type ClientState = "idle" | "creating" | "joining" | "signaling" | "connected" | "reconnecting" | "closed";

export interface InputOptions {
  mouse?: boolean;
  keyboard?: boolean;
  touch?: boolean;
  gamepad?: boolean;
  /** Lock the pointer to the element on click and send relative motion. */
  pointerLock?: boolean;
  /** Where key events are read; default the element. */
  keyboardTarget?: EventTarget;
  /**
   * Text input beyond key codes (default true): a hidden textarea over the
   * element takes the focus, and what the browser's input method commits
   * goes as input::text (text()) where the streamer lists "ime".
   */
  ime?: boolean;
}

export declare class StreamstackClient extends EventTarget {
  constructor(options: ClientOptions);
  /** The joinable session a client for url would resume in this tab. */
  static rememberedSession(url?: string, storageKey?: string): { id: string; idleTimeMin: number; leftAt: number } | null;

  readonly options: Required<Pick<ClientOptions, "url">> & ClientOptions;
  readonly state: ClientState;
  readonly session: Session | null;
  readonly sessionId: string;
  /** The gateway base URL in use: url, or the one of urls a failover moved to. */
  readonly gateway: string;
  readonly screen: Screen;
  readonly stream: MediaStream | null;
  readonly stats: Stats | null;
  readonly framesRendered: number;
  readonly firstFrame: { sinceLoadMs: number; sinceConnectMs: number } | null;
  /** Capture → presentation of the last frames shown; null until known. */
  readonly glassToGlass: GlassToGlass | null;
  /**
   * When each step of the first connection happened, in ms since page load:
   * connect() called, session created or joined, websocket open, ICE
   * connected, first frame shown.
   */
  readonly timing: { connect?: number; session?: number; websocket?: number; connected?: number; firstFrame?: number };
  readonly peerConnection: RTCPeerConnection | null;
  /** Joined through a share link (options.share). */
  readonly shared: boolean;
  /** This connection's peer id; "" until a session::peers frame came. */
  readonly peerId: string;
  /** "controller" or "viewer"; "" until the session said. */
  readonly role: PeerRole | "";
  /** May hand control over, take it back and manage share links. */
  readonly owner: boolean;
  readonly peers: Peer[];
  /** Peer ids that asked for control. */
  readonly controlRequests: string[];

  on<K extends keyof ClientEvents>(type: K, listener: (detail: ClientEvents[K], event: CustomEvent<ClientEvents[K]>) => void): () => void;

  /** Creates, joins or resumes a session; resolves once media flows. */
  connect(): Promise<Session>;
  /** Sends stream::disconnect and closes the connection. */
  disconnect(): void;
  /** Ends the session for everyone (DELETE), then disconnects. Needs the API token. */
  end(): Promise<void>;

  /** A viewer asks for control. False when the signaling websocket is not open. */
  requestControl(): boolean;
  /** The controller or an owner hands control to peerId. */
  grantControl(peerId: string): boolean;
  /** An owner takes control. */
  takeControl(): boolean;
  /** The controller gives control up. */
  releaseControl(): boolean;

  /** Makes a share link (the session's API token); its token is in the answer only. */
  createShare(options?: { role?: PeerRole; expiresIn?: number; maxUses?: number; sessionId?: string }): Promise<ShareLink>;
  listShares(options?: { sessionId?: string }): Promise<ShareLink[]>;
  revokeShare(shareId: string, options?: { sessionId?: string }): Promise<void>;

  attachVideo(video: HTMLVideoElement): void;
  unmute(): Promise<boolean>;
  attachInput(element: HTMLVideoElement, options?: InputOptions): () => void;

  sendControl(type: string, data?: unknown): boolean;
  /** What the app last copied (clipboard::changed), if anything. */
  clipboard?: ClipboardChange;
  /** Makes text what the app pastes (clipboard::set); false without the "clipboard" capability. */
  setClipboard(text: string): boolean;
  /**
   * Asks for the session's screen at width×height device pixels (stream::resize, sides rounded down to
   * even); false without the "resize" capability. A refusal arrives as an "unsupported" event.
   */
  resize(width: number, height: number): boolean;
  /** resize to the element's size, the device pixel ratio counted up to maxPixelRatio (default 1). */
  resizeToElement(element: HTMLElement, maxPixelRatio?: number): boolean;
  /** Ties the page's clipboard to the app's; returns the function that detaches it. */
  attachClipboard(options?: ClipboardOptions): () => void;
  sendData(channel: string, data: string | ArrayBuffer | ArrayBufferView | Blob): boolean;
  mouseMove(x: number, y: number, rx?: number, ry?: number): boolean;
  mouseButton(button: number, pressed: boolean): boolean;
  mouseWheel(x: number, y: number): boolean;
  key(code: number, pressed: boolean): boolean;
  /** Types text into the app as Unicode (input::text); false without the "ime" capability. */
  text(text: string): boolean;
  touchStart(id: number, x: number, y: number): boolean;
  touchMove(id: number, x: number, y: number): boolean;
  touchEnd(id: number, last: boolean): boolean;
  gamepadButton(id: number, index: number, pressed: boolean): boolean;
  gamepadAxis(id: number, index: number, value: number): boolean;
}

/** Android key codes by KeyboardEvent.code. */
export declare const KEY_CODES: Readonly<Record<string, number>>;
export declare function keyCode(code: string): number;
export declare function mouseButton(button: number): number;
export declare function mapToRemote(
  clientX: number,
  clientY: number,
  box: { left: number; top: number; width: number; height: number },
  video: { width: number; height: number },
  remote: { width: number; height: number },
): { x: number; y: number; inside: boolean; scale: number };
export declare function contentBox(el: Element): { left: number; top: number; width: number; height: number };
