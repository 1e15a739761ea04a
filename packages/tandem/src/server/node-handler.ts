/**
 * `hub.node`'s type, described by the shape it needs of node:http's request and response rather
 * than by node:http's classes: the public `Hub` type then compiles without `@types/node` (a
 * `hub.fetch` app on a worker runtime), while `http.createServer(hub.node)`, `app.use(hub.node)`
 * and `hub.node(req, res)` accept Node's, Express's and Connect's objects as they are.
 */

/** What `hub.node` reads of a request: node:http's `IncomingMessage` is one. */
export interface NodeRequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}

/** What `hub.node` needs of a response: node:http's `ServerResponse` is one. */
export interface NodeResponseLike {
  readonly headersSent: boolean;
  writeHead(status: number, headers?: Record<string, string>): unknown;
  end(body?: string): unknown;
}

/** A node:http request handler; as Express/Connect middleware it passes other paths to `next`. */
export type NodeHandler = (
  req: NodeRequestLike,
  res: NodeResponseLike,
  next?: (error?: unknown) => void,
) => void;
