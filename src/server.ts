// Starts the HTTP server and stops it gracefully: on SIGTERM/SIGINT the node reports not
// ready, stops accepting connections, lets requests in flight finish (up to
// SHUTDOWN_TIMEOUT), then closes its pools. With METRICS_PORT a second server serves
// /metrics alone.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

async function serve(app: Koa, port: number, host: string): Promise<{ server: Server; url: string }> {
  const server = createServer(app.callback());
  // Slow clients must not hold sockets forever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` };
}

export async function listen(keyhold: Keyhold, port = keyhold.config.PORT, host = keyhold.config.HOST): Promise<RunningServer> {
  const { server, url } = await serve(keyhold.app, port, host);
  let metrics: { server: Server; url: string } | undefined;
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
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, keyhold.config.SHUTDOWN_TIMEOUT * 1000).unref());
      await Promise.race([closed, deadline]);
      server.closeAllConnections();
      metrics?.server.closeAllConnections();
      metrics?.server.close();
      await keyhold.close();
    })());
  return { server, url, metricsUrl: metrics?.url, controlSocket: control?.path, stop };
}
