// Uploads `total` bytes in `chunk`-sized writes (with backpressure) to an echoing URL and reads the
// answer at the same time: what the streaming tests check is that everything came back unchanged
// and that answer bytes arrived while the upload was still running (nothing buffered whole).
import { createHash } from 'node:crypto';
import http from 'node:http';

export interface StreamedEcho {
  readonly status: number | undefined;
  readonly received: number;
  readonly sentSha256: string;
  readonly gotSha256: string;
  /** Answer bytes that arrived before the last upload chunk was written. */
  readonly receivedBeforeUploadDone: number;
}

export async function streamThrough(url: string, total: number, chunk: Buffer, headers: http.OutgoingHttpHeaders): Promise<StreamedEcho> {
  const sentHash = createHash('sha256');
  const gotHash = createHash('sha256');
  let status: number | undefined;
  let sent = 0;
  let received = 0;
  let receivedBeforeUploadDone = 0;
  await new Promise<void>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      status = res.statusCode;
      res.on('data', (c: Buffer) => {
        received += c.length;
        gotHash.update(c);
        if (sent < total) receivedBeforeUploadDone += c.length;
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        sentHash.update(chunk);
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
  return { status, received, sentSha256: sentHash.digest('hex'), gotSha256: gotHash.digest('hex'), receivedBeforeUploadDone };
}
