import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it). A race with another process is possible;
 *  `up` retries the whole start once if a component cannot bind. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}
