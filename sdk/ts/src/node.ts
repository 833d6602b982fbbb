/**
 * Node-only entry (`@ghostplane/client/node`): the `ws` WebSocket for Node 20,
 * which has no global `WebSocket`. Browser code imports `@ghostplane/client` only.
 *
 * ```ts
 * import { L2Client } from "@ghostplane/client";
 * import { WebSocket } from "@ghostplane/client/node";
 * const l2 = new L2Client("http://127.0.0.1:9090", { WebSocket });
 * ```
 */
import WebSocketImpl from "ws";

import type { WebSocketConstructor } from "./rpc.js";

/** `ws`'s WebSocket, typed as the constructor the clients take. */
export const WebSocket = WebSocketImpl as unknown as WebSocketConstructor;
