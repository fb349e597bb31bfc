// The floor of part 2: a bare node:http server that does the least an ingest server must do with a
// batch: read the whole body, split it into lines and JSON.parse each, then answer 200 with the count.
// No framework, no auth, no rules, no storage. Run as a child process; PORT says where to listen.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? '0');

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let received = 0;
    if (request.method === 'POST') {
      for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        const value: unknown = JSON.parse(line);
        if (value !== undefined) received += 1;
      }
    }
    const body = JSON.stringify({ received });
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
});
// Longer than any pause of the load client, so its keep-alive connections stay open.
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
