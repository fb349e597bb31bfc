// A change to the global helpers and data models is checked before it is stored: the changed ones must
// load, and every Python rule that runs (and every Python rule arriving with the change) must still pass
// its tests with them. Shared by uploads of one helper, deletes and imports of whole trees.
import { UnprocessableError } from '../common/errors.js';
import { PythonWorkerError } from '../engine/python/python-worker.js';
import type { PythonLibrary } from '../engine/python/python-library.js';
import type { PythonChecks } from '../rules/python-checks.js';
import type { RuleSetSnapshot } from '../rules/rule-set-snapshot.js';
import { testResultView } from '../rules/rule-views.js';
import type { LibraryKind } from '../storage/entities.js';
import { changedLibrary, LIBRARY_KIND_NAMES, type LibraryDocument } from './library-source.js';

export interface LibraryChange {
  documents: readonly LibraryDocument[];
  removed?: readonly { kind: LibraryKind; itemId: string }[];
  /** RuleIDs of rules replaced in the same change: their running versions need not pass any more. */
  replacedRules?: ReadonlySet<string>;
}

/**
 * Refuses (422) a change whose helpers or data models do not load, or that makes a running Python rule
 * fail its tests; returns the library after the change. Rules arriving with the change are the caller's
 * to test, against that library.
 */
export async function checkLibraryChange(
  checks: PythonChecks,
  active: RuleSetSnapshot,
  change: LibraryChange,
): Promise<PythonLibrary> {
  const running = [...active.versions.values()]
    .map(({ compiled }) => compiled.definition)
    .filter(
      (definition) =>
        definition.detection.language === 'python' && !change.replacedRules?.has(definition.ruleId),
    );
  const library = changedLibrary(active.library.python, change.documents, change.removed);
  let result;
  try {
    result = await checks.check(library, running);
  } catch (error) {
    if (!(error instanceof PythonWorkerError)) throw error;
    throw new UnprocessableError(
      'python_unavailable',
      `global helpers and data models are checked by running them, and Python cannot run here: ${error.message}`,
    );
  }
  const loadErrors = change.documents.flatMap((document) => {
    const message =
      document.kind === 'global'
        ? result.helperErrors[document.itemId]
        : result.dataModelErrors[document.itemId];
    return message === undefined ? [] : [{ kind: document.kind, id: document.itemId, message }];
  });
  if (loadErrors.length > 0) {
    const [first] = loadErrors;
    throw new UnprocessableError(
      'python_load_failed',
      `${LIBRARY_KIND_NAMES[first?.kind ?? 'global']} ${first?.id ?? ''} does not load: ${first?.message ?? ''}`,
      { loadErrors },
    );
  }
  const broken = running.filter((rule) => (result.tests.get(rule.ruleId) ?? []).some((test) => !test.passed));
  if (broken.length > 0) {
    throw new UnprocessableError(
      'running_rules_break',
      `${broken.length} running Python rule${broken.length === 1 ? '' : 's'} would fail their tests after this change (${broken.map((rule) => rule.ruleId).join(', ')}); nothing was changed; change them in the same import, or disable them first`,
      {
        rules: broken.map((rule) => ({
          ruleId: rule.ruleId,
          failedTests: (result.tests.get(rule.ruleId) ?? [])
            .filter((test) => !test.passed)
            .map(testResultView),
        })),
      },
    );
  }
  return library;
}
