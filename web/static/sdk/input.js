// Input for the streamstack SDK: Android key codes, mapping a point on a
// letterboxed <video> to the remote screen, and the forwarder that turns
// mouse, keyboard, touch and gamepad events into control messages. Part of
// the SDK; import it from streamstack.js, which re-exports what is public.

// Android key codes (android.view.KeyEvent) by KeyboardEvent.code.
export const KEY_CODES = Object.freeze(buildKeyCodes());

function buildKeyCodes() {
  const m = {};
  for (let i = 0; i <= 9; i++) {
    m["Digit" + i] = 7 + i; // KEYCODE_0..9
    m["Numpad" + i] = 144 + i; // KEYCODE_NUMPAD_0..9
  }
  for (let i = 0; i < 26; i++) m["Key" + String.fromCharCode(65 + i)] = 29 + i; // KEYCODE_A..Z
  for (let i = 1; i <= 12; i++) m["F" + i] = 130 + i; // KEYCODE_F1..F12
  Object.assign(m, {
    BrowserBack: 4, BrowserHome: 3, ArrowUp: 19, ArrowDown: 20, ArrowLeft: 21, ArrowRight: 22,
    AudioVolumeUp: 24, AudioVolumeDown: 25, Comma: 55, Period: 56, AltLeft: 57, AltRight: 58,
    ShiftLeft: 59, ShiftRight: 60, Tab: 61, Space: 62, Enter: 66, Backspace: 67, Backquote: 68,
    Minus: 69, Equal: 70, BracketLeft: 71, BracketRight: 72, Backslash: 73, Semicolon: 74,
    Quote: 75, Slash: 76, ContextMenu: 82, BrowserSearch: 84, MediaPlayPause: 85, MediaStop: 86,
    MediaTrackNext: 87, MediaTrackPrevious: 88, PageUp: 92, PageDown: 93, Escape: 111,
    Delete: 112, ControlLeft: 113, ControlRight: 114, CapsLock: 115, ScrollLock: 116,
    MetaLeft: 117, MetaRight: 118, PrintScreen: 120, Pause: 121, Home: 122, End: 123,
    Insert: 124, BrowserForward: 125, NumLock: 143, NumpadDivide: 154, NumpadMultiply: 155,
    NumpadSubtract: 156, NumpadAdd: 157, NumpadDecimal: 158, NumpadComma: 159,
    NumpadEnter: 160, NumpadEqual: 161, AudioVolumeMute: 164, IntlYen: 216, IntlRo: 217,
  });
  return m;
}

/** The Android key code of a KeyboardEvent.code, or 0 when it has none. */
export function keyCode(code) {
  return KEY_CODES[code] || 0;
}

/**
 * The protocol's button number of a PointerEvent.button, as the Anbox SDK
 * numbers them: left 1, right 2, middle 3, back 4, forward 5; 0 for none.
 */
export function mouseButton(button) {
  return { 0: 1, 1: 3, 2: 2, 3: 4, 4: 5 }[button] || 0;
}

/**
 * Maps a point in client (CSS pixel) coordinates to the remote screen, for a
 * video shown with object-fit: contain (centred, letterboxed or pillarboxed)
 * in box, the content box of the element on the page.
 * @param {number} clientX @param {number} clientY
 * @param {{left:number, top:number, width:number, height:number}} box
 * @param {{width:number, height:number}} video intrinsic size (videoWidth/Height)
 * @param {{width:number, height:number}} remote the remote screen
 * @returns {{x:number, y:number, inside:boolean, scale:number}} x, y clamped
 *   into the screen; inside tells whether the point was on the picture;
 *   scale is remote pixels per CSS pixel.
 */
export function mapToRemote(clientX, clientY, box, video, remote) {
  const vw = video.width || remote.width;
  const vh = video.height || remote.height;
  const fit = Math.min(box.width / vw, box.height / vh);
  const shownW = vw * fit;
  const shownH = vh * fit;
  const left = box.left + (box.width - shownW) / 2;
  const top = box.top + (box.height - shownH) / 2;
  const u = (clientX - left) / shownW;
  const v = (clientY - top) / shownH;
  const inside = u >= 0 && u < 1 && v >= 0 && v < 1;
  const clamp = (n, hi) => Math.min(Math.max(Math.floor(n), 0), hi - 1);
  return {
    x: clamp(u * remote.width, remote.width),
    y: clamp(v * remote.height, remote.height),
    inside,
    scale: shownW > 0 ? remote.width / shownW : 1,
  };
}

/** The content box of an element in client coordinates. */
export function contentBox(el) {
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  const px = (p) => parseFloat(cs.getPropertyValue(p)) || 0;
  const l = px("border-left-width") + px("padding-left");
  const t = px("border-top-width") + px("padding-top");
  const w = r.width - l - px("border-right-width") - px("padding-right");
  const h = r.height - t - px("border-bottom-width") - px("padding-bottom");
  return { left: r.left + l, top: r.top + t, width: Math.max(w, 0), height: Math.max(h, 0) };
}

const MAX_TOUCH_POINTS = 10; // Android's multi-touch slots
const MAX_GAMEPADS = 16;
const MAX_GAMEPAD_BUTTONS = 32;
const MAX_GAMEPAD_AXES = 16;
const MAX_RELATIVE = 1 << 14;

// Browser shortcuts the page keeps: reload, full screen, developer tools.
function browserShortcut(e) {
  return (
    e.code === "F5" || e.code === "F11" || e.code === "F12" ||
    ((e.ctrlKey || e.metaKey) && (e.code === "KeyR" || (e.shiftKey && e.code === "KeyI")))
  );
}

// Whether a key event belongs to a form control of the page (a token field,
// a focused button) rather than to the stream.
function editable(target) {
  if (!target || !target.tagName) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || tag === "BUTTON" || target.isContentEditable;
}

// InputForwarder turns DOM events on a video element into control messages.
export class InputForwarder {
  constructor(client, el, opts) {
    this.c = client;
    this.el = el;
    this.o = { mouse: true, keyboard: true, touch: true, gamepad: true, pointerLock: false, ime: true, ...opts };
    this.keyTarget = this.o.keyboardTarget || el;
    this.keys = new Set(); // Android codes held down
    this.buttons = new Set(); // protocol buttons held down
    this.touches = new Map(); // pointerId → slot
    this.cursor = null; // remote position under pointer lock
    this.pads = new Map(); // gamepad index → {buttons, axes}
    this.handlers = [];
    if (el.tabIndex < 0 && this.keyTarget === el) el.tabIndex = 0;
    if (el.style) el.style.touchAction = "none";
    const on = (target, type, fn, o) => {
      target.addEventListener(type, fn, o);
      this.handlers.push(() => target.removeEventListener(type, fn, o));
    };
    if (this.o.mouse || this.o.touch) {
      for (const t of ["pointerdown", "pointermove", "pointerup", "pointercancel"]) {
        on(el, t, (e) => this.pointer(e));
      }
      on(el, "contextmenu", (e) => e.preventDefault());
    }
    if (this.o.mouse) on(el, "wheel", (e) => this.wheel(e), { passive: false });
    if (this.o.keyboard) {
      on(this.keyTarget, "keydown", (e) => this.keyEvent(e, true));
      on(this.keyTarget, "keyup", (e) => this.keyEvent(e, false));
      if (this.o.ime) this.attachIME(on);
    }
    on(globalThis, "blur", () => this.releaseAll());
    if (this.o.gamepad && globalThis.navigator?.getGamepads) {
      on(globalThis, "gamepadconnected", () => this.pollPads());
      this.pollPads();
    }
  }

  detach() {
    this.releaseAll();
    for (const off of this.handlers) off();
    this.handlers = [];
    this.ime?.remove();
    this.ime = null;
    if (this.padFrame) cancelAnimationFrame(this.padFrame);
    this.padFrame = 0;
  }

  /** Lets go of every key, button and touch held, so none sticks. */
  releaseAll() {
    for (const code of this.keys) this.c.key(code, false);
    this.keys.clear();
    for (const b of this.buttons) this.c.mouseButton(b, false);
    this.buttons.clear();
    let n = this.touches.size;
    for (const slot of this.touches.values()) this.c.touchEnd(slot, --n === 0);
    this.touches.clear();
  }

  map(e) {
    const v = this.el;
    return mapToRemote(e.clientX, e.clientY, contentBox(v),
      { width: v.videoWidth, height: v.videoHeight }, this.c.screen);
  }

  pointer(e) {
    const touch = e.pointerType === "touch" || e.pointerType === "pen";
    if (touch ? !this.o.touch : !this.o.mouse) return;
    e.preventDefault();
    if (touch) return this.touch(e);
    const locked = this.o.pointerLock && document.pointerLockElement === this.el;
    if (e.type === "pointerdown") {
      if (this.ime) this.ime.focus({ preventScroll: true });
      else if (this.keyTarget === this.el) this.el.focus({ preventScroll: true });
      if (this.o.pointerLock && !locked) {
        this.el.requestPointerLock?.();
      }
    }
    const p = this.map(e);
    const scr = this.c.screen;
    const rel = (d) => Math.max(-MAX_RELATIVE, Math.min(MAX_RELATIVE, Math.round((d || 0) * p.scale)));
    if (locked) {
      const cur = this.cursor || { x: p.x, y: p.y };
      cur.x = Math.min(Math.max(cur.x + rel(e.movementX), 0), scr.width - 1);
      cur.y = Math.min(Math.max(cur.y + rel(e.movementY), 0), scr.height - 1);
      this.cursor = cur;
      p.x = cur.x;
      p.y = cur.y;
      p.inside = true;
    } else {
      this.cursor = null;
    }
    switch (e.type) {
      case "pointermove":
        if (p.inside || this.buttons.size > 0) this.c.mouseMove(p.x, p.y, rel(e.movementX), rel(e.movementY));
        break;
      case "pointerdown": {
        const b = mouseButton(e.button);
        if (!b || !p.inside) return;
        this.el.setPointerCapture?.(e.pointerId);
        this.c.mouseMove(p.x, p.y, 0, 0);
        this.buttons.add(b);
        this.c.mouseButton(b, true);
        break;
      }
      case "pointerup":
      case "pointercancel": {
        const b = mouseButton(e.button);
        if (!this.buttons.has(b)) {
          // pointercancel has no button: release them all.
          if (e.type === "pointercancel") this.releaseButtons();
          return;
        }
        this.buttons.delete(b);
        this.c.mouseButton(b, false);
        break;
      }
    }
  }

  releaseButtons() {
    for (const b of this.buttons) this.c.mouseButton(b, false);
    this.buttons.clear();
  }

  touch(e) {
    const p = this.map(e);
    switch (e.type) {
      case "pointerdown": {
        if (!p.inside || this.touches.has(e.pointerId)) return;
        const used = new Set(this.touches.values());
        let slot = 0;
        while (used.has(slot)) slot++;
        if (slot >= MAX_TOUCH_POINTS) return;
        this.touches.set(e.pointerId, slot);
        this.el.setPointerCapture?.(e.pointerId);
        this.c.touchStart(slot, p.x, p.y);
        break;
      }
      case "pointermove": {
        const slot = this.touches.get(e.pointerId);
        if (slot !== undefined) this.c.touchMove(slot, p.x, p.y);
        break;
      }
      default: {
        const slot = this.touches.get(e.pointerId);
        if (slot === undefined) return;
        this.touches.delete(e.pointerId);
        this.c.touchEnd(slot, this.touches.size === 0);
      }
    }
  }

  wheel(e) {
    const p = this.map(e);
    if (!p.inside) return;
    e.preventDefault();
    // Android scrolls up for a positive vertical axis; browsers scroll down
    // for a positive deltaY.
    const x = Math.sign(e.deltaX);
    const y = -Math.sign(e.deltaY);
    if (x || y) this.c.mouseWheel(x, y);
  }

  keyEvent(e, pressed) {
    if (this.keyTarget !== this.el && editable(e.target) && e.target !== this.ime) return;
    // A key the input method takes (composing, or "Process", 229) is its
    // own: what it commits comes as text (attachIME).
    if (e.isComposing || e.keyCode === 229) return;
    if (browserShortcut(e)) return;
    const code = keyCode(e.code);
    if (!code) return;
    e.preventDefault();
    if (pressed) this.keys.add(code);
    else if (!this.keys.delete(code)) return; // its keydown went elsewhere
    this.c.key(code, pressed);
  }

  /**
   * Text input beyond key codes (issue 18): a hidden textarea over the
   * video holds the focus while streaming, so the browser's input method
   * composes there (its candidate window beside the picture), and what it
   * commits goes as input::text. Keys with an Android code stay key
   * events: their keydown is cancelled, so they insert nothing here and
   * are never typed twice; a key without one (a layout's own letter)
   * inserts text, which goes as input::text too.
   */
  attachIME(on) {
    const doc = this.el.ownerDocument;
    if (!doc?.createElement) return;
    const t = doc.createElement("textarea");
    t.setAttribute("aria-label", "Text input to the streamed application");
    t.autocomplete = "off";
    t.spellcheck = false;
    t.setAttribute("autocapitalize", "off");
    t.setAttribute("autocorrect", "off");
    t.dataset.streamstackIme = "";
    // Invisible but focusable, and where the IME puts its candidates.
    Object.assign(t.style, {
      position: "absolute", left: "0", top: "0", width: "1px", height: "1px", padding: "0", border: "0",
      opacity: "0", resize: "none", overflow: "hidden", pointerEvents: "none", caretColor: "transparent",
    });
    (this.el.parentElement || doc.body).appendChild(t);
    this.ime = t;
    // The page focuses the video to give it the keys: the textarea takes
    // them instead.
    if (!this.el.hasAttribute?.("tabindex")) this.el.tabIndex = -1;
    on(this.el, "focus", () => t.focus({ preventScroll: true }));
    on(t, "compositionend", (e) => {
      if (e.data) this.c.text(e.data);
      t.value = "";
    });
    on(t, "beforeinput", (e) => {
      if (e.isComposing) return; // the composition's end sends it
      switch (e.inputType) {
        case "insertText":
        case "insertReplacementText":
          if (e.data) this.c.text(e.data);
          break;
        case "insertFromPaste":
        case "insertFromDrop":
          break; // the clipboard's and files' business, not typing
        case "insertLineBreak":
        case "insertParagraph":
          this.c.text("\n");
          break;
        case "deleteContentBackward":
          // A virtual keyboard's backspace (its keydown says 229).
          this.c.key(KEY_CODES.Backspace, true);
          this.c.key(KEY_CODES.Backspace, false);
          break;
        default:
          return;
      }
      e.preventDefault();
      t.value = "";
    });
  }

  pollPads() {
    if (this.padFrame) return;
    const step = () => {
      this.padFrame = 0;
      const pads = [...navigator.getGamepads()].filter(Boolean);
      for (const pad of pads) this.pad(pad);
      if (pads.length > 0 && this.handlers.length > 0) this.padFrame = requestAnimationFrame(step);
    };
    this.padFrame = requestAnimationFrame(step);
  }

  pad(pad) {
    if (pad.index >= MAX_GAMEPADS) return;
    let prev = this.pads.get(pad.index);
    if (!prev) {
      prev = { buttons: [], axes: [] };
      this.pads.set(pad.index, prev);
    }
    pad.buttons.slice(0, MAX_GAMEPAD_BUTTONS).forEach((b, i) => {
      if (!!prev.buttons[i] !== b.pressed) {
        prev.buttons[i] = b.pressed;
        this.c.gamepadButton(pad.index, i, b.pressed);
      }
    });
    pad.axes.slice(0, MAX_GAMEPAD_AXES).forEach((a, i) => {
      const v = Math.max(-1, Math.min(1, Math.round(a * 1000) / 1000));
      if (prev.axes[i] === undefined || Math.abs(prev.axes[i] - v) >= 0.01) {
        prev.axes[i] = v;
        this.c.gamepadAxis(pad.index, i, v);
      }
    });
  }
}
