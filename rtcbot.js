// rtcbot.js: the browser client of rtcbot (github.com/rtcbot-go/rtcbot), with
// the API of Python RTCBot's JavaScript client, so that a page written for
// RTCBot works unchanged. A robot serves this file at /rtcbot.js
// (rtcbot.JavaScriptHandler); no build step is needed.
//
// As a classic script it defines the global `rtcbot`:
//
//   <script src="/rtcbot.js"></script>
//   <script>
//     const conn = new rtcbot.RTCConnection();
//     conn.video.subscribe((stream) => (document.querySelector("video").srcObject = stream));
//     conn.connect("/connect");
//   </script>
//
// As an ES module, import the named exports from /rtcbot.mjs (a three-line
// module, served beside this file, that imports it):
//
//   import { RTCConnection, Keyboard } from "/rtcbot.mjs";
//
// What it holds: RTCConnection (one WebRTC connection to a robot: video,
// audio and JSON messages on the "default" data channel, signaled in one
// round trip with every ICE candidate in the description), Keyboard and
// Gamepad (producers of the browser's key and gamepad events), setGamepadRate,
// Queue (an async queue with asyncio.Queue's API) and Websocket (messages over
// a websocket). Where RTCBot's client has a flaw, this one fixes it and says so
// below.
(function (root) {
  "use strict";

  // Loaded twice (a classic <script> and the module, say), the client runs
  // once: one set of classes, one gamepad poller.
  if (root.rtcbot && root.rtcbot.RTCConnection && root.rtcbot._rtcbotjs) {
    return;
  }

  // RTCBot's default configuration: Google's public STUN server, so that a
  // robot behind a NAT can be reached. Pass {} for a robot on the same
  // network (no STUN requests, and gathering ends sooner).
  const defaultConfiguration = { iceServers: [{ urls: ["stun:stun.l.google.com:19302"] }] };

  // ICE gathering can wait long for an unreachable STUN server: after this
  // long the description goes with the candidates gathered so far.
  const iceGatheringTimeout = 5000; // ms

  // toCallback returns a function that delivers to s: s itself if it is a
  // function, else its put_nowait (an RTCConnection, a Queue, a Websocket).
  function toCallback(s) {
    if (typeof s === "function") {
      return s;
    }
    if (s && typeof s.put_nowait === "function") {
      return (value) => s.put_nowait(value);
    }
    throw new TypeError("rtcbot: subscribe needs a function or an object with put_nowait");
  }

  // Producer fans every value out to all its subscribers (RTCBot's client
  // keeps only the last one). subscribe returns what it was given, for
  // unsubscribe.
  class Producer {
    constructor() {
      this._subscribers = new Map();
    }
    subscribe(s) {
      this._subscribers.set(s, toCallback(s));
      return s;
    }
    unsubscribe(s) {
      this._subscribers.delete(s);
    }
    unsubscribeAll() {
      this._subscribers.clear();
    }
    _publish(value) {
      for (const deliver of this._subscribers.values()) {
        try {
          deliver(value);
        } catch (err) {
          console.error("rtcbot: a subscriber failed:", err);
        }
      }
    }
  }

  // Once is an event that fires once: callbacks added after it fired run at
  // once (RTCBot's ready handlers added late never run).
  class Once {
    constructor() {
      this.fired = false;
      this._callbacks = [];
    }
    add(cb) {
      if (this.fired) {
        queueMicrotask(cb);
      } else {
        this._callbacks.push(cb);
      }
    }
    fire() {
      if (this.fired) {
        return;
      }
      this.fired = true;
      for (const cb of this._callbacks.splice(0)) {
        try {
          cb();
        } catch (err) {
          console.error("rtcbot: a handler failed:", err);
        }
      }
    }
  }

  // Endpoint is a producer with RTCBot's ready and close events, each
  // firing once: a connection is ready when its default channel opens, a
  // channel or websocket when it opens; each closes when either side
  // closes it or it fails. Its put_nowait (a subclass's) is bound, so it can
  // be handed on as a callback (kb.subscribe(conn.put_nowait)), and also
  // called send.
  class Endpoint extends Producer {
    constructor() {
      super();
      this._ready = new Once();
      this._closed = new Once();
      this.put_nowait = this.put_nowait.bind(this);
      this.send = this.put_nowait;
    }
    get ready() {
      return this._ready.fired;
    }
    get closed() {
      return this._closed.fired;
    }
    // onReady calls cb once it is ready (at once if it is).
    onReady(cb) {
      this._ready.add(cb);
    }
    // onClose calls cb once it closes (at once if it has).
    onClose(cb) {
      this._closed.add(cb);
    }
  }

  // encode returns what a data channel or websocket sends for msg: strings
  // and binary data as they are, anything else JSON-encoded (RTCBot's rule).
  function encode(msg) {
    if (typeof msg === "string" || msg instanceof ArrayBuffer || ArrayBuffer.isView(msg) || (typeof Blob !== "undefined" && msg instanceof Blob)) {
      return msg;
    }
    return JSON.stringify(msg);
  }

  // Sender queues messages until its transport opens, then sends them in
  // order; messages put after it closed are dropped with one warning.
  class Sender {
    constructor(name) {
      this._name = name;
      this._queued = [];
      this._transport = null;
      this._warned = false;
    }
    attach(transport) {
      this._transport = transport;
    }
    put(msg) {
      const data = encode(msg);
      const t = this._transport;
      if (t && (t.readyState === "open" || t.readyState === 1) && this._queued.length === 0) {
        t.send(data);
      } else if (t && (t.readyState === "closed" || t.readyState === "closing" || t.readyState === 2 || t.readyState === 3)) {
        if (!this._warned) {
          console.warn("rtcbot: " + this._name + " is closed; messages put now are dropped");
          this._warned = true;
        }
      } else {
        this._queued.push(data);
      }
    }
    flush() {
      for (const data of this._queued.splice(0)) {
        this._transport.send(data);
      }
    }
  }

  // DataChannel is one data channel of a connection: a producer of the
  // messages it receives (strings as they came, binary as ArrayBuffer; not
  // JSON-decoded, as in RTCBot's client) and a consumer of messages to send.
  class DataChannel extends Endpoint {
    constructor(name) {
      super();
      this.name = name;
      this.channel = null; // the RTCDataChannel, once it exists
      this._sender = new Sender("data channel " + JSON.stringify(name));
    }
    _attach(channel) {
      this.channel = channel;
      channel.binaryType = "arraybuffer";
      this._sender.attach(channel);
      channel.addEventListener("message", (event) => this._publish(event.data));
      const opened = () => {
        this._sender.flush();
        this._ready.fire();
      };
      if (channel.readyState === "open") {
        opened();
      } else {
        channel.addEventListener("open", opened);
      }
      channel.addEventListener("close", () => this._closed.fire());
    }
    // put_nowait sends msg: strings and binary data as they are, anything
    // else as JSON text; queued until the channel opens. Also called send.
    put_nowait(msg) {
      this._sender.put(msg);
    }
    close() {
      if (this.channel) {
        this.channel.close();
      }
      this._closed.fire();
    }
  }

  // MediaHandler is conn.video or conn.audio: subscribe to receive the
  // robot's stream, putSubscription to send one of the browser's tracks.
  class MediaHandler extends Producer {
    constructor(conn, kind) {
      super();
      this._conn = conn;
      this._kind = kind;
      this._receive = false;
      this._senders = [];
      // The incoming and outgoing streams, as in RTCBot's client.
      this.incomingStream = null;
      this.outgoingStream = null;
    }
    // subscribe calls s with the incoming MediaStream once it arrives (at
    // once if it already has), and asks the robot for one.
    subscribe(s) {
      super.subscribe(s);
      this.offerToReceive();
      if (this.incomingStream) {
        const deliver = this._subscribers.get(s);
        const stream = this.incomingStream;
        queueMicrotask(() => deliver(stream));
      }
      return s;
    }
    // offerToReceive asks the robot to send this kind of media, without a
    // subscriber yet.
    offerToReceive() {
      this._receive = true;
    }
    // putSubscription sends a MediaStreamTrack (or the first track of this
    // kind of a MediaStream) to the robot: the browser's camera or
    // microphone from getUserMedia, a canvas's captureStream(). Call it
    // before the connection is made: there is no renegotiation.
    putSubscription(source) {
      let track = source;
      let stream = null;
      if (typeof MediaStream !== "undefined" && source instanceof MediaStream) {
        stream = source;
        track = this._kind === "video" ? source.getVideoTracks()[0] : source.getAudioTracks()[0];
        if (!track) {
          throw new Error("rtcbot: putSubscription: the stream has no " + this._kind + " track");
        }
      }
      if (!track || track.kind !== this._kind) {
        throw new TypeError("rtcbot: " + this._kind + ".putSubscription needs a " + this._kind + " MediaStreamTrack or a MediaStream");
      }
      if (this._conn._described) {
        throw new Error("rtcbot: putSubscription after the connection was made; add tracks before getLocalDescription (there is no renegotiation)");
      }
      // RTCBot's client adds the track without a stream, so the robot sees no
      // stream id (msid); give it one.
      stream = stream || new MediaStream([track]);
      this._senders.push(this._conn._rtc.addTrack(track, stream));
      this.outgoingStream = stream;
    }
    _offerTransceivers() {
      const sending = this._senders.length > 0;
      for (const sender of this._senders) {
        const t = this._conn._rtc.getTransceivers().find((x) => x.sender === sender);
        if (t) {
          t.direction = this._receive ? "sendrecv" : "sendonly";
        }
      }
      if (this._receive && !sending) {
        this._conn._rtc.addTransceiver(this._kind, { direction: "recvonly" });
      }
    }
    _onTrack(event) {
      // A track without a stream id still plays.
      const stream = event.streams[0] || new MediaStream([event.track]);
      this.incomingStream = stream;
      this._publish(stream);
    }
  }

  // RTCConnection is one WebRTC connection to a robot, RTCBot's
  // RTCConnection: getLocalDescription and setRemoteDescription exchange
  // the descriptions in one round trip (no trickle ICE); the offerer makes
  // the "default" data channel, whose messages the connection sends
  // (put_nowait) and delivers to its subscribers. It is ready (onReady) when
  // the default channel opens, and closes (onClose) when close is called,
  // the robot closes it, or it fails.
  class RTCConnection extends Endpoint {
    constructor(defaultOrdered = true, rtcConfiguration = defaultConfiguration) {
      super();
      this._defaultOrdered = defaultOrdered;
      this._rtc = new RTCPeerConnection(rtcConfiguration);
      this._described = false;
      this._hasRemoteDescription = false;
      this._channels = new Map();
      this._onDataChannel = new Producer();
      this._default = new DataChannel("default");
      this._default.subscribe((msg) => this._publish(msg));
      this._default.onReady(() => this._ready.fire());
      this._default.onClose(() => this.close());
      this._channels.set("default", this._default);
      this.video = new MediaHandler(this, "video");
      this.audio = new MediaHandler(this, "audio");

      this._rtc.addEventListener("track", (event) => {
        const handler = event.track.kind === "video" ? this.video : this.audio;
        handler._onTrack(event);
      });
      this._rtc.addEventListener("datachannel", (event) => this._adopt(event.channel));
      this._rtc.addEventListener("connectionstatechange", () => {
        const s = this._rtc.connectionState;
        if (s === "failed" || s === "closed") {
          this.close();
        }
      });
      // A page that goes away closes its connection, so the robot frees it
      // at once instead of waiting for the peer to time out.
      if (typeof window !== "undefined") {
        this._onPageHide = () => this.close();
        window.addEventListener("pagehide", this._onPageHide);
      }
    }

    // peerConnection is the underlying RTCPeerConnection (for getStats).
    get peerConnection() {
      return this._rtc;
    }

    _adopt(channel) {
      let dc = this._channels.get(channel.label);
      const known = Boolean(dc);
      if (!dc || dc.channel) {
        dc = new DataChannel(channel.label);
        this._channels.set(channel.label, dc);
      }
      dc._attach(channel);
      if (!known) {
        this._onDataChannel._publish(dc);
      }
    }

    async _waitForICECandidates() {
      const pc = this._rtc;
      if (pc.iceGatheringState === "complete") {
        return;
      }
      await new Promise((resolve) => {
        const timer = setTimeout(done, iceGatheringTimeout);
        function done() {
          clearTimeout(timer);
          pc.removeEventListener("icegatheringstatechange", check);
          resolve();
        }
        function check() {
          if (pc.iceGatheringState === "complete") {
            done();
          }
        }
        pc.addEventListener("icegatheringstatechange", check);
      });
    }

    // getLocalDescription returns {sdp, type} with every ICE candidate:
    // with no argument an offer, or, given the robot's offer (or after
    // setRemoteDescription), the answer to it.
    async getLocalDescription(description = null) {
      if (this._hasRemoteDescription || description != null) {
        if (!this._hasRemoteDescription) {
          await this.setRemoteDescription(description);
        }
        this._described = true;
        await this._rtc.setLocalDescription(await this._rtc.createAnswer());
      } else {
        this._described = true;
        this._default._attach(this._rtc.createDataChannel("default", { ordered: this._defaultOrdered }));
        for (const [name, dc] of this._channels) {
          if (name !== "default" && !dc.channel) {
            dc._attach(this._rtc.createDataChannel(name, { ordered: dc._ordered }));
          }
        }
        this.video._offerTransceivers();
        this.audio._offerTransceivers();
        await this._rtc.setLocalDescription(await this._rtc.createOffer());
      }
      await this._waitForICECandidates();
      // Exactly these two keys: Python RTCBot fails on any other.
      return { sdp: this._rtc.localDescription.sdp, type: this._rtc.localDescription.type };
    }

    // setRemoteDescription applies the robot's {sdp, type}.
    async setRemoteDescription(description) {
      await this._rtc.setRemoteDescription({ sdp: description.sdp, type: description.type });
      this._hasRemoteDescription = true;
    }

    // connect makes an offer, posts it to url (a robot's /connect) and
    // applies the answer: the whole of RTCBot's page-side signaling in one
    // call. options.token goes as "Authorization: Bearer <token>". A refusal
    // rejects with an Error saying why (the robot's reason) and closes the
    // connection.
    async connect(url = "/connect", options = {}) {
      const offer = await this.getLocalDescription();
      const headers = { "Content-Type": "text/plain" };
      if (options.token) {
        headers["Authorization"] = "Bearer " + options.token;
      }
      let response;
      try {
        response = await fetch(url, { method: "POST", cache: "no-cache", headers: headers, body: JSON.stringify(offer), signal: options.signal });
        if (!response.ok) {
          const reason = (await response.text()).trim();
          const hint = response.status === 401 ? " (open the URL the robot printed, with its token: .../?token=...)" : "";
          throw new Error("rtcbot: the robot refused the connection: " + response.status + " " + (reason || response.statusText) + hint);
        }
        await this.setRemoteDescription(await response.json());
      } catch (err) {
        this.close();
        throw err;
      }
      return this;
    }

    // put_nowait sends msg on the default channel: strings and binary data
    // as they are, anything else as JSON; queued until the channel opens.
    // Also called send.
    put_nowait(msg) {
      this._default.put_nowait(msg);
    }

    // addDataChannel makes another data channel (ordered unless told
    // otherwise), a producer and consumer of its own messages.
    addDataChannel(name, ordered = true) {
      if (this._channels.has(name)) {
        throw new Error("rtcbot: a data channel " + JSON.stringify(name) + " exists already");
      }
      const dc = new DataChannel(name);
      dc._ordered = ordered;
      this._channels.set(name, dc);
      if (this._described) {
        // Once the connection has its data transport, new channels need no
        // renegotiation.
        dc._attach(this._rtc.createDataChannel(name, { ordered: ordered }));
      }
      return dc;
    }

    // getDataChannel returns the data channel called name, or undefined.
    getDataChannel(name) {
      return this._channels.get(name);
    }

    // onDataChannel calls cb with each data channel the robot opens.
    onDataChannel(cb) {
      this._onDataChannel.subscribe(cb);
    }

    // close closes the channels and the connection; calling it again does
    // nothing.
    async close() {
      if (this._closed.fired) {
        return;
      }
      if (this._onPageHide) {
        window.removeEventListener("pagehide", this._onPageHide);
      }
      for (const dc of this._channels.values()) {
        if (dc.channel) {
          dc.channel.close();
        }
      }
      this._rtc.close();
      this._closed.fire();
    }
  }

  // timestamp returns the time of a DOM event in seconds since the Unix
  // epoch, as Python RTCBot's input events have it.
  function timestamp(event) {
    return (performance.timeOrigin + (event ? event.timeStamp : performance.now())) / 1000;
  }

  // scrollKeys are the keys whose default action moves the page: a
  // Keyboard keeps them from doing it, and leaves every other key's (F5,
  // Tab, Alt+Left) alone.
  const scrollKeys = new Set([" ", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "PageUp", "PageDown", "Home", "End"]);

  // editable is whether an event's target takes text, where keys belong to
  // the page.
  function editable(target) {
    return Boolean(target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName || "")));
  }

  // Keyboard produces the browser's key presses and releases as
  // {type: "keydown"|"keyup", altKey, shiftKey, ctrlKey, metaKey, keyCode,
  // key, code, timestamp}, RTCBot's shape plus ctrlKey, metaKey, code
  // (KeyboardEvent.code, the physical key) and timestamp (seconds since the
  // Unix epoch; RTCBot's is always missing). A held key's repeats are not
  // sent. Unlike RTCBot's, it leaves keys typed into text fields, and
  // shortcuts with Ctrl or Meta, to the page, and keeps only the keys that
  // would scroll it (arrows, Space, Page Up/Down, Home, End) from doing
  // so; when the window loses focus it releases every key still held, so a
  // robot does not drive on.
  class Keyboard extends Producer {
    constructor() {
      super();
      this._held = new Map(); // code or key -> the keydown event sent
      this._onKey = this._onKey.bind(this);
      this._onBlur = this._onBlur.bind(this);
      window.addEventListener("keydown", this._onKey);
      window.addEventListener("keyup", this._onKey);
      window.addEventListener("blur", this._onBlur);
    }
    _onKey(e) {
      if (editable(e.target) || (e.type === "keydown" && (e.ctrlKey || e.metaKey))) {
        return;
      }
      if (scrollKeys.has(e.key)) {
        e.preventDefault();
      }
      const id = e.code || e.key;
      if (e.type === "keydown") {
        if (e.repeat || this._held.has(id)) {
          return;
        }
      } else if (!this._held.has(id)) {
        return; // pressed before this Keyboard listened, or in a text field
      }
      const msg = {
        type: e.type,
        altKey: e.altKey,
        shiftKey: e.shiftKey,
        ctrlKey: e.ctrlKey,
        metaKey: e.metaKey,
        keyCode: e.keyCode,
        key: e.key,
        code: e.code,
        timestamp: timestamp(e),
      };
      if (e.type === "keydown") {
        this._held.set(id, msg);
      } else {
        this._held.delete(id);
      }
      this._publish(msg);
    }
    _onBlur() {
      for (const down of this._held.values()) {
        this._publish(Object.assign({}, down, { type: "keyup", timestamp: timestamp() }));
      }
      this._held.clear();
    }
    close() {
      window.removeEventListener("keydown", this._onKey);
      window.removeEventListener("keyup", this._onKey);
      window.removeEventListener("blur", this._onBlur);
      this._held.clear();
    }
  }

  // gamepads polls navigator.getGamepads() for every Gamepad, one timer for
  // all, at 10 Hz unless setGamepadRate says otherwise.
  const gamepads = {
    slots: [], // Gamepad objects by browser gamepad index; null where free
    interval: 100, // ms
    timer: null,
    add(pad) {
      const free = this.slots.indexOf(null);
      const index = free >= 0 ? free : this.slots.length;
      this.slots[index] = pad;
      this.restart();
      return index;
    },
    remove(pad) {
      const i = this.slots.indexOf(pad);
      if (i >= 0) {
        this.slots[i] = null;
      }
      this.restart();
    },
    restart() {
      if (this.timer !== null) {
        clearInterval(this.timer);
        this.timer = null;
      }
      if (this.slots.some((p) => p)) {
        this.timer = setInterval(() => this.poll(), this.interval);
      }
    },
    poll() {
      const current = navigator.getGamepads ? navigator.getGamepads() : [];
      this.slots.forEach((pad, i) => pad && pad._update(current[i] || null));
    },
  };

  // setGamepadRate sets how often gamepads are read, in Hz (default 10): a
  // higher rate is quicker, and sends more messages while a stick moves.
  function setGamepadRate(rate) {
    gamepads.interval = Math.max(1, Math.round(1000 / rate));
    gamepads.restart();
  }

  // Gamepad produces the changes of one of the browser's gamepads (the
  // first Gamepad made reads the first gamepad, and so on) as
  // {type: "btnN", value: true|false} and {type: "axisN", value: -1..1},
  // RTCBot's shape, with the Standard Gamepad's indices, plus timestamp
  // (seconds since the Unix epoch). Unlike RTCBot's, when the gamepad is
  // unplugged it sends every pressed button released and every axis 0, so a
  // robot does not drive on. state is the browser's latest Gamepad object.
  class Gamepad extends Producer {
    constructor() {
      super();
      this.state = null;
      this._previous = null;
      this._index = gamepads.add(this);
    }
    _update(pad) {
      const now = timestamp();
      const snapshot = pad ? { buttons: Array.from(pad.buttons, (b) => b.pressed), axes: Array.from(pad.axes) } : null;
      const before = this._previous;
      this.state = pad;
      this._previous = snapshot;
      if (!before) {
        return; // the first look at a gamepad: nothing has changed yet
      }
      const after = snapshot || { buttons: before.buttons.map(() => false), axes: before.axes.map(() => 0) };
      after.buttons.forEach((pressed, i) => {
        if (pressed !== before.buttons[i]) {
          this._publish({ type: "btn" + i, value: pressed, timestamp: now });
        }
      });
      after.axes.forEach((value, i) => {
        if (value !== before.axes[i]) {
          this._publish({ type: "axis" + i, value: value, timestamp: now });
        }
      });
    }
    close() {
      gamepads.remove(this);
    }
  }

  // Queue is an async queue with the API of Python's asyncio.Queue, to turn
  // callbacks into awaits: subscribe(queue), then `await queue.get()`.
  // maxsize > 0 bounds it: put_nowait on a full queue throws.
  class Queue {
    constructor(maxsize = 0) {
      this.maxsize = maxsize;
      this._items = [];
      this._waiting = [];
      this.put_nowait = this.put_nowait.bind(this);
    }
    put_nowait(item) {
      if (this._waiting.length > 0) {
        this._waiting.shift()(item);
        return;
      }
      if (this.maxsize > 0 && this._items.length >= this.maxsize) {
        throw new Error("rtcbot: Queue is full");
      }
      this._items.push(item);
    }
    // put is put_nowait, awaitable as asyncio's put is.
    async put(item) {
      this.put_nowait(item);
    }
    async get() {
      if (this._items.length > 0) {
        return this._items.shift();
      }
      return new Promise((resolve) => this._waiting.push(resolve));
    }
    qsize() {
      return this._items.length;
    }
    empty() {
      return this._items.length === 0;
    }
  }

  // Websocket sends and receives messages over a websocket, RTCBot's
  // Websocket (which fails at once: it calls WebSocket without new). url may
  // be relative to the page ("/ws"), with http(s) becoming ws(s). Messages
  // put before it opens are queued; received ones are delivered as they
  // came (strings, or ArrayBuffers).
  class Websocket extends Endpoint {
    constructor(url) {
      super();
      const u = new URL(url, typeof location !== "undefined" ? location.href : undefined);
      if (u.protocol === "http:" || u.protocol === "https:") {
        u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
      }
      this._ws = new WebSocket(u.href);
      this._ws.binaryType = "arraybuffer";
      this._sender = new Sender("websocket " + u.href);
      this._sender.attach(this._ws);
      this._ws.addEventListener("message", (event) => this._publish(event.data));
      this._ws.addEventListener("open", () => {
        this._sender.flush();
        this._ready.fire();
      });
      this._ws.addEventListener("close", () => this._closed.fire());
    }
    put_nowait(msg) {
      this._sender.put(msg);
    }
    close() {
      this._ws.close();
      this._closed.fire();
    }
  }

  root.rtcbot = { RTCConnection, DataChannel, Keyboard, Gamepad, setGamepadRate, Queue, Websocket, _rtcbotjs: true };
})(globalThis);
