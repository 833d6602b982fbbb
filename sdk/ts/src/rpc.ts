/**
 * JSON-RPC 2.0 over HTTP (`fetch`) and WebSocket, one transport per node.
 *
 * ```text
 *   request()      ── HTTP POST ─────────────▶ node     (one call, one body)
 *   wsRequest()    ─┐
 *   subscribe()    ─┼─ one WebSocket, opened ─▶ node     (many calls in flight,
 *   notifications ◀─┘  on first use                     answers matched by id)
 * ```
 *
 * The WebSocket constructor is an option (the browser's `WebSocket` by default;
 * in Node 20 pass `ws`'s, e.g. from `@ghostplane/client/node`), so that browser
 * bundles never pull in `ws`. Bounds: `timeoutMs` per call, `inFlightMax` calls
 * waiting on the socket. A subscription lives as long as its socket: when the
 * socket closes, each subscription's `onError` is told and the next call opens a
 * new socket (subscribe again there).
 */
import { TimeoutError, TransportError, rpcErrorFrom } from "./errors.js";

/** The part of the WebSocket API this transport uses (browser `WebSocket` and `ws` both have it). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
}

/** A WebSocket constructor (`globalThis.WebSocket`, or `ws`'s default export). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Transport options. */
export interface RpcOptions {
  /** The WebSocket constructor; default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** The WebSocket URL; default the HTTP URL with `ws:`/`wss:`. */
  wsUrl?: string;
  /** How long one call may take, ms (default 30,000). */
  timeoutMs?: number;
  /** Most calls waiting for an answer on the WebSocket (default 8,192). */
  inFlightMax?: number;
}

/** What a subscription call returns: call it to unsubscribe; `ready` settles once the node took it. */
export interface Unsubscribe {
  (): void;
  /** Resolves when the node accepted the subscription, rejects if it refused. */
  readonly ready: Promise<void>;
}

/** Subscription options. */
export interface SubscribeOptions {
  /** Told when the subscription fails or its socket closes. */
  onError?: (error: Error) => void;
}

interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Subscription {
  onItem: (item: unknown) => void;
  onError: ((error: Error) => void) | undefined;
}

const WS_OPEN = 1;
const TIMEOUT_MS_DEFAULT = 30_000;
const IN_FLIGHT_MAX_DEFAULT = 8_192;

/** A JSON-RPC connection to one node. */
export class RpcTransport {
  readonly url: string;
  readonly wsUrl: string;
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #timeoutMs: number;
  readonly #inFlightMax: number;
  #nextId = 1;
  #socket: WebSocketLike | undefined;
  #opening: Promise<WebSocketLike> | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #subscriptions = new Map<string, Subscription>();

  constructor(url: string, options: RpcOptions = {}) {
    this.url = url;
    this.wsUrl = options.wsUrl ?? url.replace(/^http(s?):/, "ws$1:");
    this.#WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.#timeoutMs = options.timeoutMs ?? TIMEOUT_MS_DEFAULT;
    this.#inFlightMax = options.inFlightMax ?? IN_FLIGHT_MAX_DEFAULT;
  }

  /** One call over HTTP. Throws {@link RpcError} for an error answer, {@link TransportError} otherwise. */
  async request<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const id = this.#nextId++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    let text: string;
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: controller.signal,
      });
      text = await response.text();
      if (!response.ok && text.length === 0) {
        throw new TransportError(`HTTP ${response.status} ${response.statusText}`, method);
      }
    } catch (e) {
      if (e instanceof TransportError) throw e;
      const why = controller.signal.aborted ? `no answer in ${this.#timeoutMs} ms` : String(e);
      throw new TransportError(`${this.url}: ${why}`, method, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    return answerOf<T>(method, text);
  }

  /** One call over the WebSocket (opened on first use). */
  async wsRequest<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const socket = await this.#open();
    return this.#send<T>(socket, method, params);
  }

  /**
   * Subscribes with `method(params)`; each notification's `result` goes to
   * `onItem`. The returned function unsubscribes with `unsubscribeMethod`.
   */
  subscribe<T>(
    method: string,
    params: unknown[],
    unsubscribeMethod: string,
    onItem: (item: T) => void,
    options: SubscribeOptions = {},
  ): Unsubscribe {
    let id: string | undefined;
    let wireId: unknown;
    let cancelled = false;
    const subscription: Subscription = { onItem: onItem as (item: unknown) => void, onError: options.onError };
    const ready = (async () => {
      const socket = await this.#open();
      const answer = await this.#send<string | number>(socket, method, params, (result) => {
        // Registered as the answer is read, before any notification that follows it.
        wireId = result;
        id = String(result);
        if (!cancelled) this.#subscriptions.set(id, subscription);
      });
      if (cancelled) await this.#send(socket, unsubscribeMethod, [answer]).catch(() => undefined);
    })();
    ready.catch((e: Error) => options.onError?.(e));
    const unsubscribe = () => {
      if (cancelled) return;
      cancelled = true;
      if (id === undefined || !this.#subscriptions.delete(id)) return;
      const socket = this.#socket;
      if (socket?.readyState === WS_OPEN) this.#send(socket, unsubscribeMethod, [wireId]).catch(() => undefined);
    };
    return Object.assign(unsubscribe, { ready });
  }

  /** Closes the WebSocket (pending calls fail with {@link TransportError}). */
  close(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#opening = undefined;
    socket?.close();
    this.#failAll(new TransportError("the client closed the connection", undefined));
  }

  #open(): Promise<WebSocketLike> {
    if (this.#socket?.readyState === WS_OPEN) return Promise.resolve(this.#socket);
    if (this.#opening !== undefined) return this.#opening;
    const WebSocketImpl = this.#WebSocket;
    if (WebSocketImpl === undefined) {
      return Promise.reject(
        new TransportError("no WebSocket: pass the `WebSocket` option (in Node 20: `ws`, or `@ghostplane/client/node`)", undefined),
      );
    }
    this.#opening = new Promise<WebSocketLike>((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = new WebSocketImpl(this.wsUrl);
      } catch (e) {
        this.#opening = undefined;
        reject(new TransportError(`${this.wsUrl}: ${String(e)}`, undefined, { cause: e }));
        return;
      }
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.#socket = socket;
        this.#opening = undefined;
        resolve(socket);
      };
      socket.onmessage = (event) => this.#onMessage(event.data);
      socket.onerror = () => {
        if (!opened) {
          this.#opening = undefined;
          reject(new TransportError(`${this.wsUrl}: cannot connect`, undefined));
        }
      };
      socket.onclose = (event) => {
        if (this.#socket === socket) this.#socket = undefined;
        if (!opened) {
          this.#opening = undefined;
          reject(new TransportError(`${this.wsUrl}: closed before it opened`, undefined));
          return;
        }
        this.#failAll(new TransportError(`${this.wsUrl}: connection closed (${event.code ?? "?"} ${event.reason ?? ""})`, undefined));
      };
    });
    return this.#opening;
  }

  #send<T>(socket: WebSocketLike, method: string, params: unknown[], onResult?: (result: unknown) => void): Promise<T> {
    if (this.#pending.size >= this.#inFlightMax) {
      return Promise.reject(new TransportError(`${this.#inFlightMax} calls already in flight on the WebSocket`, method));
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError(`${method}: no answer in ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#pending.set(id, {
        method,
        resolve: (value) => {
          onResult?.(value);
          resolve(value as T);
        },
        reject,
        timer,
      });
      try {
        socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new TransportError(String(e), method, { cause: e }));
      }
    });
  }

  #onMessage(data: unknown): void {
    let message: unknown;
    try {
      message = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data as Uint8Array));
    } catch {
      return; // Not JSON: nothing to match it to.
    }
    for (const m of Array.isArray(message) ? message : [message]) this.#dispatch(m as Record<string, unknown>);
  }

  #dispatch(m: Record<string, unknown>): void {
    if (typeof m.method === "string" && m.params !== null && typeof m.params === "object") {
      const { subscription, result, error } = m.params as { subscription?: unknown; result?: unknown; error?: unknown };
      const sub = this.#subscriptions.get(String(subscription));
      if (sub === undefined) return;
      if (error !== undefined) sub.onError?.(rpcErrorFrom(m.method, error as JsonRpcErrorObject));
      else sub.onItem(result);
      return;
    }
    if (typeof m.id !== "number") return;
    const pending = this.#pending.get(m.id);
    if (pending === undefined) return;
    this.#pending.delete(m.id);
    clearTimeout(pending.timer);
    if (m.error !== undefined && m.error !== null) pending.reject(rpcErrorFrom(pending.method, m.error as JsonRpcErrorObject));
    else pending.resolve(m.result);
  }

  #failAll(error: TransportError): void {
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new TransportError(error.message, pending.method));
    }
    this.#pending.clear();
    const subscriptions = [...this.#subscriptions.values()];
    this.#subscriptions.clear();
    for (const sub of subscriptions) sub.onError?.(error);
  }
}

/** The result of a JSON-RPC answer body, or its error as an {@link RpcError}. */
function answerOf<T>(method: string, text: string): T {
  let answer: { result?: unknown; error?: JsonRpcErrorObject };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new TransportError(`not a JSON-RPC answer: ${text.slice(0, 200)}`, method);
  }
  if (answer === null || typeof answer !== "object") {
    throw new TransportError(`not a JSON-RPC answer: ${text.slice(0, 200)}`, method);
  }
  if (answer.error !== undefined && answer.error !== null) throw rpcErrorFrom(method, answer.error);
  if (!("result" in answer)) throw new TransportError(`an answer with neither result nor error: ${text.slice(0, 200)}`, method);
  return answer.result as T;
}

/** What `L2Client` and `L1Client` share: one transport to their node, and `request` over it. */
export class RpcClient {
  readonly transport: RpcTransport;

  /** `url`: the node's HTTP URL; WebSocket on the same port unless `options.wsUrl` says otherwise. */
  constructor(url: string, options: RpcOptions = {}) {
    this.transport = new RpcTransport(url, options);
  }

  /** Any method, over HTTP. */
  request<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return this.transport.request<T>(method, params);
  }
}
