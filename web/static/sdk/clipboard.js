// The browser's side of the session's clipboard (issue 18): what the page
// pastes or holds when it gets the focus goes to the app (clipboard::set),
// and what the app copies (clipboard::changed) goes to the page's
// clipboard. Part of the SDK: StreamstackClient.attachClipboard uses it.

// ClipboardSync ties a client to the browser's clipboard until detach().
// The async Clipboard API needs a focused page and, to read, the user's
// permission: where it is refused, the paste event still carries what
// the user pastes, and a copy the app made stays in client.clipboard.
export class ClipboardSync {
  constructor(client, options = {}) {
    this.client = client;
    // primary: an app's selection (X11 PRIMARY, what xterm copies on
    // select) goes to the page's clipboard too.
    this.o = { target: globalThis.window, primary: true, readOnFocus: true, ...options };
    this.lastSent = null;
    this.lastWritten = null;
    this._off = [];
    const on = (target, type, fn) => {
      if (!target?.addEventListener) return;
      target.addEventListener(type, fn);
      this._off.push(() => target.removeEventListener(type, fn));
    };
    on(this.o.target, "paste", (e) => this._send(e.clipboardData?.getData("text/plain")));
    if (this.o.readOnFocus) on(this.o.target, "focus", () => this.readClipboard());
    on(client, "clipboard", (e) => this._write(e.detail));
  }

  // readClipboard sends the page's clipboard text to the app, where the
  // browser lets the page read it; false where it does not.
  async readClipboard() {
    const cb = globalThis.navigator?.clipboard;
    if (!cb?.readText) return false;
    try {
      return this._send(await cb.readText());
    } catch {
      return false; // no permission, or the page is not focused
    }
  }

  _send(text) {
    // What the app itself copied comes back on focus: no echo.
    // An empty clipboard (what a page without permission often reads)
    // would only wipe the app's.
    if (typeof text !== "string" || text === "" || text === this.lastSent || text === this.lastWritten) return false;
    if (!this.client.setClipboard(text)) return false;
    this.lastSent = text;
    return true;
  }

  async _write({ text, selection, tooLarge }) {
    if (tooLarge || typeof text !== "string") return;
    if (selection === "primary" && !this.o.primary) return;
    this.lastWritten = text;
    try {
      await globalThis.navigator?.clipboard?.writeText(text);
    } catch {
      // Needs the focus (and in some browsers a user gesture): the text
      // stays in client.clipboard.
    }
  }

  detach() {
    for (const off of this._off) off();
    this._off = [];
  }
}
