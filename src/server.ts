// Starts the HTTP server and stops it gracefully: on SIGTERM/SIGINT the node reports not
// ready, stops accepting connections, lets requests in flight finish (up to
// SHUTDOWN_TIMEOUT), then closes its pools. With METRICS_PORT a second server serves
// /metrics alone.
//
// No client may see a reset connection. Node's server.close() also closes idle keep-alive
// connections at once, and a client that is just then sending its next request on one
// sees it reset. So the listener alone is closed; from then on every response says
// `Connection: close`, and a connection still idle ends by the keep-alive timeout that
// each response announced (clients drop such a connection before it expires).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import type Koa from 'koa';
import { openControlSocket, type ControlSocket } from '#src/control-socket.ts';
import type { Keyhold } from '#src/keyhold.ts';

export interface RunningServer {
  server: Server;
  url: string;
  /** Where /metrics is served when METRICS_PORT is set. */
  metricsUrl?: string;
  /** The Unix socket the CLI reaches this server through (embedded database only). */
  controlSocket?: string;
  stop(): Promise<void>;
}

interface Serving {
  server: Server;
  url: string;
  /** Stops accepting connections; resolves when every open connection has ended. */
  drain(): Promise<void>;
}

async function serve(app: Koa, port: number, host: string): Promise<Serving> {
  const handle = app.callback();
  let draining = false;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (draining) response.setHeader('Connection', 'close');
    void handle(request, response);
  });
  // Slow clients must not hold sockets forever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const drain = () => {
    draining = true;
    // net.Server's close: stops listening, leaves the open connections to finish.
    return new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  };
  return { server, url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`, drain };
}

export async function listen(keyhold: Keyhold, port = keyhold.config.PORT, host = keyhold.config.HOST): Promise<RunningServer> {
  const { server, url, drain } = await serve(keyhold.app, port, host);
  let metrics: Serving | undefined;
  if (keyhold.metricsApp) {
    try {
      metrics = await serve(keyhold.metricsApp, keyhold.config.METRICS_PORT!, keyhold.config.METRICS_HOST);
    } catch (error) {
      server.close();
      throw error;
    }
  }

  // The embedded database is this process's alone: the CLI works through the server.
  let control: ControlSocket | undefined;
  if (keyhold.databaseKind === 'pglite') {
    try {
      control = await openControlSocket(keyhold);
    } catch (error) {
      server.close();
      metrics?.server.close();
      throw error;
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      keyhold.beginShutdown();
      await control?.close();
      const closed = drain();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, keyhold.config.SHUTDOWN_TIMEOUT * 1000).unref());
      await Promise.race([closed, deadline]);
      server.closeAllConnections();
      metrics?.server.closeAllConnections();
      metrics?.server.close();
      await keyhold.close();
    })());
  return { server, url, metricsUrl: metrics?.url, controlSocket: control?.path, stop };
}
