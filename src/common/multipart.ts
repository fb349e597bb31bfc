// multipart/form-data, read from a body already in memory (a rule upload: a YAML file and its .py).
// Each part's name, file name and bytes; nothing is written to disk.

export interface FormPart {
  /** The form field's name. */
  name: string;
  /** The file name the client gave, when the part is a file. */
  filename?: string;
  data: Buffer;
}

export class MultipartError extends Error {}

/** The boundary a Content-Type header names, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return match?.[1] ?? match?.[2];
}

export function readMultipart(body: Buffer, boundary: string, maxParts: number): FormPart[] {
  if (boundary.length === 0 || boundary.length > 200)
    throw new MultipartError('the multipart boundary is empty or too long');
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new MultipartError('the body holds no part: its boundary never appears');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString('latin1') === '--') return parts; // the closing delimiter
    if (body.subarray(at, at + 2).toString('latin1') !== '\r\n')
      throw new MultipartError('a part delimiter is not followed by a line break');
    at += 2;
    const headersEnd = body.indexOf('\r\n\r\n', at, 'latin1');
    if (headersEnd < 0) throw new MultipartError('a part’s headers never end');
    const headers = body.toString('utf8', at, headersEnd).split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n', 'latin1'), delimiter]), headersEnd + 4);
    if (next < 0) throw new MultipartError('the body ends inside a part (no closing boundary)');
    const disposition = headers.find((line) => /^content-disposition:/i.test(line)) ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw new MultipartError('a part has no Content-Disposition name');
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    parts.push({
      name,
      ...(filename !== undefined ? { filename } : {}),
      data: body.subarray(headersEnd + 4, next),
    });
    if (parts.length > maxParts) throw new MultipartError(`the body holds more than ${maxParts} parts`);
    at = next + 2;
  }
}
