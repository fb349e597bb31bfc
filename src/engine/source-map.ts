// Positions of the keys and values of a parsed YAML/JSON document, so that every problem found in the
// plain JavaScript value can still name its line and column.
import { isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface NodePositions {
  /** Where the key of this entry is written (maps only). */
  key?: SourcePosition;
  /** Where the value starts. */
  value?: SourcePosition;
  /** For scalars: the quote character, so columns inside a string can be mapped back. */
  quoted?: boolean;
}

/** Document path → positions. Paths look like `Detection[1].Extra`, the same form the diagnostics use. */
export class SourceMap {
  private readonly positions = new Map<string, NodePositions>();

  constructor(
    readonly file: string | undefined,
    /** Added to every line: the document's first line inside a larger stream. */
    private readonly lineOffset = 0,
  ) {}

  static fromNode(root: Node | null, lineCounter: LineCounter, file: string | undefined): SourceMap {
    const map = new SourceMap(file);
    if (root) map.walk(root, '', lineCounter);
    return map;
  }

  /** A map that only knows its file (for sources without positions). */
  static empty(file: string | undefined): SourceMap {
    return new SourceMap(file);
  }

  get(path: string): NodePositions | undefined {
    return this.positions.get(path);
  }

  /** Best position for a problem at `path`: the key if the path names one, else the value, else the nearest parent. */
  locate(path: string): SourcePosition | undefined {
    let current = path;
    for (;;) {
      const found = this.positions.get(current);
      const position = found?.key ?? found?.value;
      if (position) return { line: position.line + this.lineOffset, column: position.column };
      if (current === '') return undefined;
      current = parentPath(current);
    }
  }

  private walk(node: Node, path: string, lineCounter: LineCounter): void {
    const at = (offset: number | undefined): SourcePosition | undefined => {
      if (offset === undefined) return undefined;
      const { line, col } = lineCounter.linePos(offset);
      return { line, column: col };
    };
    const entry: NodePositions = this.positions.get(path) ?? {};
    entry.value = at(node.range?.[0]);
    if (isScalar(node)) entry.quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    this.positions.set(path, entry);
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        const keyText = isScalar(keyNode) ? String(keyNode.value) : '?';
        const childPath = joinPath(path, keyText);
        const child: NodePositions = { key: at(keyNode?.range?.[0]) };
        this.positions.set(childPath, child);
        const valueNode = pair.value as Node | null;
        if (valueNode) this.walk(valueNode, childPath, lineCounter);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        if (item && typeof item === 'object') this.walk(item as Node, `${path}[${index}]`, lineCounter);
      });
    }
  }
}

export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function parentPath(path: string): string {
  const bracket = path.lastIndexOf('[');
  const dot = path.lastIndexOf('.');
  const cut = Math.max(bracket, dot);
  return cut <= 0 ? '' : path.slice(0, cut);
}
