// A detection-as-code tree (a zip or tar of a Panther-style repository, or the files of a multipart
// upload) as the sources of one pack: each YAML or JSON analysis file, every document carrying the
// Python its Filename names under Body, so that what is stored loads on its own. Files of kinds Tripline
// does not keep (packs, policies, queries, lookup tables, correlation rules) are left out with a warning.
import { parseAllDocuments, type Document } from 'yaml';
import type { Diagnostic } from '../engine/diagnostics.js';
import { analysisTypeNotKept } from '../engine/panther/rule-file.js';

export interface TreeFile {
  path: string;
  data: Buffer;
}

/** One source of a pack, with the file it came from (errors name it). */
export interface PackSource {
  text: string;
  file?: string;
  format: 'yaml' | 'json';
}

const ANALYSIS_FILE = /\.(ya?ml|json)$/i;

/** What a tree's reader needs: analysis files and the Python beside them. */
export function isTreeFile(path: string): boolean {
  return ANALYSIS_FILE.test(path) || /\.py$/i.test(path);
}

export function packSourcesFromTree(files: readonly TreeFile[]): {
  sources: PackSource[];
  warnings: Diagnostic[];
} {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const sources: PackSource[] = [];
  const warnings: Diagnostic[] = [];
  const analysisFiles = files
    .filter(
      (file) => ANALYSIS_FILE.test(file.path) && !file.path.split('/').some((part) => part.startsWith('.')),
    )
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of analysisFiles) {
    const text = file.data.toString('utf8').replace(/^\uFEFF/, '');
    const format = /\.json$/i.test(file.path) ? 'json' : 'yaml';
    const documents = parseAllDocuments(text);
    const list: Document[] = Array.isArray(documents) ? documents : [];
    if (list.some((document) => document.errors.length > 0)) {
      sources.push({ text, file: file.path, format }); // the reader reports the syntax error with its line
      continue;
    }
    const notKept = analysisTypeNotKept(text);
    if (notKept !== undefined) {
      warnings.push({
        severity: 'warning',
        code: 'not_kept',
        message: `${file.path} is left out: AnalysisType ${notKept} is not something Tripline runs or keeps`,
        file: file.path,
        line: 1,
      });
      continue;
    }
    if (list.length === 0 && !/\.json$/i.test(file.path)) continue; // an empty YAML file
    const folder = file.path.includes('/') ? file.path.slice(0, file.path.lastIndexOf('/') + 1) : '';
    let changed = false;
    for (const document of list) {
      const filename = document.get('Filename');
      if (typeof filename !== 'string' || document.has('Body')) continue;
      const companion = byPath.get(`${folder}${filename}`);
      if (!companion) continue; // the reader says the source is missing, naming Filename's line
      document.set('Body', companion.data.toString('utf8'));
      changed = true;
    }
    sources.push(
      changed
        ? {
            text: joinDocuments(list.map((document) => document.toString())),
            file: file.path,
            format: 'yaml',
          }
        : { text, file: file.path, format },
    );
  }
  return { sources, warnings };
}

/** Documents as one stream again: each after the first starts with its own `---`. */
function joinDocuments(texts: readonly string[]): string {
  return texts.map((text, index) => (index === 0 || text.startsWith('---') ? text : `---\n${text}`)).join('');
}
