import { describe, expect, it } from 'vitest';
import { multipartBoundary, MultipartError, readMultipart } from './multipart.js';

function body(boundary: string, parts: { name: string; filename?: string; content: string }[]): Buffer {
  return Buffer.from(
    parts
      .map(
        (part) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}\r\nContent-Type: application/octet-stream\r\n\r\n${part.content}\r\n`,
      )
      .join('') + `--${boundary}--\r\n`,
  );
}

describe('multipart/form-data', () => {
  it('reads each part’s name, file name and bytes, line breaks inside a file kept', () => {
    const boundary = '----tripline1234';
    expect(multipartBoundary(`multipart/form-data; boundary=${boundary}`)).toBe(boundary);
    expect(multipartBoundary(`multipart/form-data; boundary="${boundary}"`)).toBe(boundary);
    const parts = readMultipart(
      body(boundary, [
        { name: 'rule', filename: 'rule.yml', content: 'RuleID: A\r\nFilename: rule.py\n' },
        { name: 'python', filename: 'rule.py', content: 'def rule(event):\n    return True\n' },
        { name: 'note', content: 'plain field' },
      ]),
      boundary,
      10,
    );
    expect(parts.map((part) => [part.name, part.filename, part.data.toString()])).toEqual([
      ['rule', 'rule.yml', 'RuleID: A\r\nFilename: rule.py\n'],
      ['python', 'rule.py', 'def rule(event):\n    return True\n'],
      ['note', undefined, 'plain field'],
    ]);
  });

  it('refuses a body without its boundary, cut short, or with too many parts', () => {
    const boundary = 'b0undary';
    const whole = body(boundary, [{ name: 'a', filename: 'a.yml', content: 'x' }]);
    expect(() => readMultipart(Buffer.from('nothing here'), boundary, 10)).toThrow(/boundary never appears/);
    expect(() => readMultipart(whole.subarray(0, whole.length - 20), boundary, 10)).toThrow(MultipartError);
    const many = body(
      boundary,
      Array.from({ length: 3 }, (_, index) => ({ name: `p${index}`, content: 'x' })),
    );
    expect(() => readMultipart(many, boundary, 2)).toThrow(/more than 2 parts/);
  });
});
