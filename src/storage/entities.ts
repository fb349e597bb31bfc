// The one explicit entity list, shared by the application and the migration CLI.
import { RuleVersionEntity } from './entities/rule-version.entity.js';
import { RuleEntity } from './entities/rule.entity.js';

export const ENTITIES = [RuleEntity, RuleVersionEntity];

export { RuleEntity, RuleVersionEntity };
export type { RuleOrigin, RuleVersionMetadata } from './entities/rule-version.entity.js';
