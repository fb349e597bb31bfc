// A request body as text, read chunk by chunk: gzip, deflate and brotli bodies are decompressed on the
// way, and both the bytes sent and the bytes they expand to are capped (a gzip bomb stops at the cap).
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { DomainError } from '../common/errors.js';

export interface BodyLimits {
  /** Bytes as sent (compressed, if it is). */
  maxBodyBytes: number;
  /** Bytes after decompression. */
  maxDecompressedBytes: number;
}

export const SUPPORTED_ENCODINGS = ['identity', 'gzip', 'x-gzip', 'deflate', 'br'];

function decompressor(encoding: string): NodeJS.ReadWriteStream | undefined {
  switch (encoding) {
    case '':
    case 'identity':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new DomainError(
        415,
        'unsupported_content_encoding',
        'Unsupported content encoding',
        `Content-Encoding ${JSON.stringify(encoding)} is not supported; use one of ${SUPPORTED_ENCODINGS.join(', ')}`,
      );
  }
}

function tooLarge(code: string, detail: string): DomainError {
  return new DomainError(413, code, 'Body too large', detail);
}

export class RequestBody {
  /** Only a request with an Idempotency-Key needs the digest of its bytes. */
  private readonly hash: Hash | undefined;
  private rawBytes = 0;
  private decodedBytes = 0;

  constructor(
    private readonly source: Readable,
    private readonly contentEncoding: string | undefined,
    private readonly limits: BodyLimits & { digest: boolean },
  ) {
    this.hash = limits.digest ? createHash('sha256') : undefined;
  }

  /** sha256 of the bytes as sent, once the text has been read to the end (asked for with `digest`). */
  digest(): string {
    if (!this.hash) throw new Error('the body was read without a digest');
    return this.hash.digest('hex');
  }

  get bytesReceived(): number {
    return this.rawBytes;
  }

  /** The body as UTF-8 text, chunk by chunk (invalid UTF-8 becomes U+FFFD and fails as JSON later). */
  async *text(): AsyncGenerator<string> {
    const inflater = decompressor((this.contentEncoding ?? '').trim().toLowerCase());
    // A plain body is read straight from the request: no stream in between, no extra hop per chunk.
    const raw = inflater ? Readable.from(this.countRaw()) : undefined;
    let chunks: AsyncIterable<Buffer | string> = this.source;
    if (raw && inflater) {
      raw.on('error', (error) => (inflater as unknown as Readable).destroy(error));
      chunks = raw.pipe(inflater);
    }
    const decoder = new TextDecoder('utf-8');
    try {
      for await (const received of chunks) {
        const chunk = raw ? (received as Buffer) : this.countRawChunk(received);
        this.decodedBytes += chunk.length;
        if (this.decodedBytes > this.limits.maxDecompressedBytes) {
          throw tooLarge(
            'decompressed_too_large',
            `the body expands to more than ${this.limits.maxDecompressedBytes} bytes`,
          );
        }
        const text = decoder.decode(chunk, { stream: true });
        if (text) yield text;
        // Chunks already received are read without a turn of the event loop, so a whole batch would be
        // decoded and evaluated (and the next request's after it) before any other request is read: a
        // turn between chunks lets a read of hits through beside ingest.
        await nextTurn();
      }
    } catch (error) {
      if (error instanceof DomainError) throw error;
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('Z_')) {
        throw new DomainError(
          400,
          'invalid_compressed_body',
          'Invalid compressed body',
          `the body is not valid ${this.contentEncoding ?? ''} data: ${(error as Error).message}`,
        );
      }
      throw error;
    } finally {
      raw?.destroy();
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }

  private async *countRaw(): AsyncGenerator<Buffer> {
    for await (const chunk of this.source as AsyncIterable<Buffer | string>) yield this.countRawChunk(chunk);
  }

  /** Counts (and digests) a chunk as sent; over the limit, the body is refused. */
  private countRawChunk(chunk: Buffer | string): Buffer {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.rawBytes += buffer.length;
    if (this.rawBytes > this.limits.maxBodyBytes)
      throw tooLarge('body_too_large', `the body is larger than ${this.limits.maxBodyBytes} bytes`);
    this.hash?.update(buffer);
    return buffer;
  }
}
