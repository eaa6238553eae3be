import type { Issue } from '../errors/fhir-error';
import { checkAttachment } from './attachment-rules';
import { checkExtensions, type ExtensionSite } from './extension-rules';
import { checkNarrativeLinks } from './narrative-rules';

/**
 * Rules on single elements that FHIRPath invariants do not express, run on
 * the invariants' walk (invariants.ts) so an instance is traversed once:
 * an Attachment's size and hash, a Narrative's fragment links, and every
 * element's extensions against their definitions.
 */

export interface ElementRuleEnv {
  resource: unknown;
  rootResource: unknown;
}

/** Whether a node of this model may need element rules even without extensions. */
export function hasElementRules(modelKey: string): boolean {
  return modelKey === 'Attachment' || modelKey === 'Narrative';
}

export function runElementRules(modelKey: string, node: Record<string, unknown>, expression: string, site: ExtensionSite, env: ElementRuleEnv, issues: Issue[]): void {
  if (modelKey === 'Attachment') checkAttachment(node, expression, issues);
  else if (modelKey === 'Narrative') checkNarrativeLinks(node, expression, env, issues);
  // An Extension's own nested extensions are its sub-extensions: extension-rules.ts checks them with their parent.
  if (modelKey !== 'Extension' && (node.extension !== undefined || node.modifierExtension !== undefined)) {
    checkExtensions(node, expression, site, env, issues);
  }
}
